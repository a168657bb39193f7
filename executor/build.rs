//! Reads the version of tract that this build links from the workspace's `Cargo.lock`, so that
//! the executor reports (and matches pinned models against) the engine version it really runs.

use std::{env, fs, path::PathBuf};

fn main() {
	let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
	let lock = manifest_dir
		.ancestors()
		.map(|dir| dir.join("Cargo.lock"))
		.find(|path| path.is_file())
		.expect("the executor is built inside its workspace, next to a Cargo.lock");
	println!("cargo:rerun-if-changed={}", lock.display());
	let text = fs::read_to_string(&lock).expect("Cargo.lock is readable");
	let versions: Vec<&str> = text
		.split("[[package]]")
		.filter(|block| block.lines().any(|line| line.trim() == "name = \"tract-onnx\""))
		.filter_map(|block| {
			block.lines().find_map(|line| {
				line.trim().strip_prefix("version = \"").and_then(|rest| rest.strip_suffix('"'))
			})
		})
		.collect();
	match versions.as_slice() {
		[version] => println!("cargo:rustc-env=VERITENSOR_TRACT_VERSION={version}"),
		other => panic!("Cargo.lock must hold exactly one tract-onnx, found {other:?}"),
	}
}
