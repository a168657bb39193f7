//! What the executor's benches share: the ONNX Runtime library, the demo models and their
//! test images, the `--seconds` argument and the median of rounds.

use serde_json::Value;
use std::path::PathBuf;

/// The ONNX Runtime library: `VERITENSOR_ONNXRUNTIME_LIB`, or where
/// scripts/setup-onnxruntime.sh puts it. Panics with the fix when it is missing.
pub fn library() -> PathBuf {
	let library =
		std::env::var_os("VERITENSOR_ONNXRUNTIME_LIB").map(PathBuf::from).unwrap_or_else(|| {
			PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
				.join(".cache/veritensor-onnxruntime/1.31.1/libonnxruntime.so.1.31.1")
		});
	assert!(
		library.is_file(),
		"no ONNX Runtime at {}: run scripts/setup-onnxruntime.sh",
		library.display()
	);
	library
}

/// The demo models' directory.
pub fn demo_dir() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo-models")
}

/// The demo test vectors' images, as 0..=16 pixel values.
pub fn images() -> Vec<Vec<i64>> {
	let text = std::fs::read_to_string(demo_dir().join("test_vectors.json")).expect("test vectors");
	let vectors: Value = serde_json::from_str(&text).expect("JSON");
	vectors["pixels"]
		.as_array()
		.expect("pixels")
		.iter()
		.map(|row| row.as_array().expect("row").iter().map(|v| v.as_i64().expect("int")).collect())
		.collect()
}

/// The bench's `--seconds` argument, or `default`.
pub fn seconds_argument(default: f64) -> f64 {
	std::env::args()
		.skip_while(|a| a != "--seconds")
		.nth(1)
		.and_then(|s| s.parse().ok())
		.unwrap_or(default)
}

/// The median of `values` (the upper one of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
	values.sort_by(|a, b| a.total_cmp(b));
	values[values.len() / 2]
}
