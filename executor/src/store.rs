//! The content-addressed model store: every file is kept under its blake2-256 hash (the hash
//! the chain's registry names), is checked before it is stored, and again whenever it is read.

use crate::error::{Error, Result};
use sp_core::H256;
use sp_crypto_hashing::blake2_256;
use std::{
	fs,
	io::{ErrorKind, Write},
	path::{Path, PathBuf},
	sync::atomic::{AtomicU64, Ordering},
};

/// Prefix of the files a store writes before renaming them to their hash.
const INCOMING_PREFIX: &str = ".incoming-";

/// A partial file not written to for this long is a leftover whoever wrote it: a download
/// gives up after its fetch deadline (60 s by default), an upload when its request ends.
pub const LEFTOVER_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// The store's files live in `<root>/blake2-256/<hex hash>.onnx`.
pub struct ModelStore {
	dir: PathBuf,
	max_model_bytes: u64,
	temp_counter: AtomicU64,
}

/// `0x`-prefixed lowercase hex of a hash.
pub fn hash_hex(hash: &H256) -> String {
	const DIGITS: &[u8; 16] = b"0123456789abcdef";
	let mut text = String::with_capacity(66);
	text.push_str("0x");
	for byte in hash.as_bytes() {
		text.push(DIGITS[usize::from(byte >> 4)] as char);
		text.push(DIGITS[usize::from(byte & 0x0f)] as char);
	}
	text
}

/// Parses a 32-byte hash given as hex, with or without `0x`.
pub fn parse_hash(text: &str) -> Result<H256> {
	let digits = text.strip_prefix("0x").unwrap_or(text);
	let mut hash = H256::zero();
	hex::decode_to_slice(digits, hash.as_bytes_mut())
		.map_err(|_| Error::BadInput(format!("`{text}` is not a 32-byte hex hash")))?;
	Ok(hash)
}

fn storage(context: &str, path: &Path, error: std::io::Error) -> Error {
	Error::Storage(format!("{context} {}: {error}", path.display()))
}

impl ModelStore {
	/// Opens (creating if needed) a store under `root`; files above `max_model_bytes` are
	/// refused.
	pub fn open(root: &Path, max_model_bytes: u64) -> Result<Self> {
		let dir = root.join("blake2-256");
		fs::create_dir_all(&dir).map_err(|e| storage("creating", &dir, e))?;
		Ok(Self { dir, max_model_bytes, temp_counter: AtomicU64::new(0) })
	}

	/// Removes the partial files that processes which stopped mid-download or mid-upload
	/// left behind; returns how many. Call it at start, before this process writes: a file
	/// named after this process's id, or after one no longer running, or untouched for
	/// [`LEFTOVER_AGE`] is a leftover; a file another live process is writing (a store shared
	/// by two services) is not.
	pub fn remove_leftovers(&self) -> Result<usize> {
		let entries = fs::read_dir(&self.dir).map_err(|e| storage("listing", &self.dir, e))?;
		let mut removed = 0;
		for entry in entries.flatten() {
			let name = entry.file_name().to_string_lossy().into_owned();
			let Some(rest) = name.strip_prefix(INCOMING_PREFIX) else { continue };
			let writer = rest.split('-').next().and_then(|pid| pid.parse::<u32>().ok());
			let live_writer = writer.is_some_and(|pid| {
				pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists()
			});
			let stale = entry
				.metadata()
				.and_then(|m| m.modified())
				.ok()
				.and_then(|modified| modified.elapsed().ok())
				.is_some_and(|age| age >= LEFTOVER_AGE);
			if live_writer && !stale {
				continue;
			}
			match fs::remove_file(entry.path()) {
				Ok(()) => removed += 1,
				// Committed or removed by its writer meanwhile.
				Err(e) if e.kind() == ErrorKind::NotFound => {}
				Err(e) => return Err(storage("removing", &entry.path(), e)),
			}
		}
		Ok(removed)
	}

	/// A new partial file, created here and nowhere else: named after this process, a counter
	/// and the time, and opened only if it did not exist.
	fn create_temporary(&self) -> Result<(PathBuf, fs::File)> {
		let nanos = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map(|elapsed| elapsed.subsec_nanos())
			.unwrap_or_default();
		let path = self.dir.join(format!(
			"{INCOMING_PREFIX}{}-{}-{nanos}",
			std::process::id(),
			self.temp_counter.fetch_add(1, Ordering::Relaxed)
		));
		let file = fs::OpenOptions::new()
			.write(true)
			.create_new(true)
			.open(&path)
			.map_err(|e| storage("creating", &path, e))?;
		Ok((path, file))
	}

	/// Starts a file written piece by piece (a download): hashed as it is written, and only
	/// under its hash once [`Incoming::commit`] finds the hash expected. Blocking: call from a
	/// thread that may block.
	pub fn incoming(&self) -> Result<Incoming<'_>> {
		let (path, file) = self.create_temporary()?;
		let hasher = blake2b_simd::Params::new().hash_length(32).to_state();
		Ok(Incoming { store: self, path, file, hasher, size: 0, committed: false })
	}

	/// The largest model the store accepts, in bytes.
	pub fn max_model_bytes(&self) -> u64 {
		self.max_model_bytes
	}

	fn path(&self, hash: &H256) -> PathBuf {
		self.dir.join(format!("{}.onnx", hex::encode(hash.as_bytes())))
	}

	/// Refuses a size above the limit.
	pub fn check_size(&self, size: u64) -> Result<()> {
		if size > self.max_model_bytes {
			return Err(Error::ModelTooLarge { size, limit: self.max_model_bytes });
		}
		Ok(())
	}

	/// Stores `bytes` and returns their hash. With `expected`, bytes that hash differently are
	/// refused and nothing is written. Adding a model twice is harmless.
	pub fn add_bytes(&self, bytes: &[u8], expected: Option<H256>) -> Result<H256> {
		self.check_size(bytes.len() as u64)?;
		let hash = H256(blake2_256(bytes));
		if let Some(expected) = expected {
			if expected != hash {
				return Err(Error::HashMismatch {
					expected: hash_hex(&expected),
					actual: hash_hex(&hash),
				});
			}
		}
		let target = self.path(&hash);
		if self.read_verified(&hash).is_ok() {
			return Ok(hash);
		}
		// Written under a unique temporary name and renamed: readers never see half a file.
		let (temp, mut file) = self.create_temporary()?;
		let mut write = || -> std::io::Result<()> {
			file.write_all(bytes)?;
			file.sync_all()?;
			fs::rename(&temp, &target)
		};
		write().map_err(|e| {
			let _ = fs::remove_file(&temp);
			storage("writing", &target, e)
		})?;
		Ok(hash)
	}

	/// Stores the file at `path`; see [`Self::add_bytes`].
	pub fn add_file(&self, path: &Path, expected: Option<H256>) -> Result<H256> {
		let size = fs::metadata(path).map_err(|e| storage("reading", path, e))?.len();
		self.check_size(size)?;
		let bytes = fs::read(path).map_err(|e| storage("reading", path, e))?;
		self.add_bytes(&bytes, expected)
	}

	/// Whether a file for `hash` is present (not checked).
	pub fn contains(&self, hash: &H256) -> bool {
		self.path(hash).is_file()
	}

	/// The hashes of the models stored (partial files left out).
	pub fn hashes(&self) -> Result<Vec<H256>> {
		let entries = fs::read_dir(&self.dir).map_err(|e| storage("listing", &self.dir, e))?;
		let mut hashes: Vec<H256> = entries
			.flatten()
			.filter_map(|entry| {
				let name = entry.file_name().to_string_lossy().into_owned();
				let hash = parse_hash(name.strip_suffix(".onnx")?).ok()?;
				(name.len() == 64 + ".onnx".len()).then_some(hash)
			})
			.collect();
		hashes.sort();
		Ok(hashes)
	}

	/// Removes the model `hash`; returns whether it was there. A run that loaded it already
	/// keeps its copy; the next one that needs it fetches it again.
	pub fn remove(&self, hash: &H256) -> Result<bool> {
		let path = self.path(hash);
		match fs::remove_file(&path) {
			Ok(()) => Ok(true),
			Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
			Err(e) => Err(storage("removing", &path, e)),
		}
	}

	/// The size of the stored file, if present.
	pub fn size(&self, hash: &H256) -> Option<u64> {
		fs::metadata(self.path(hash)).ok().map(|m| m.len())
	}

	/// Reads a model and checks it still hashes to its name. A file that does not (damaged on
	/// disk or replaced behind the store's back) is deleted, so that it is fetched again, and
	/// reported as [`Error::CorruptModel`].
	pub fn read_verified(&self, hash: &H256) -> Result<Vec<u8>> {
		let path = self.path(hash);
		let bytes = match fs::read(&path) {
			Ok(bytes) => bytes,
			Err(e) if e.kind() == ErrorKind::NotFound => {
				return Err(Error::ModelNotFound(hash_hex(hash)))
			}
			Err(e) => return Err(storage("reading", &path, e)),
		};
		let actual = H256(blake2_256(&bytes));
		if actual != *hash {
			let _ = fs::remove_file(&path);
			return Err(Error::CorruptModel(format!(
				"the stored file for {} hashes to {}; it was removed",
				hash_hex(hash),
				hash_hex(&actual)
			)));
		}
		Ok(bytes)
	}
}

/// A model file being written: see [`ModelStore::incoming`]. Dropped without a commit, its
/// partial file is removed.
pub struct Incoming<'a> {
	store: &'a ModelStore,
	path: PathBuf,
	file: fs::File,
	hasher: blake2b_simd::State,
	size: u64,
	committed: bool,
}

impl Incoming<'_> {
	/// Appends `chunk`; refuses to grow past the store's size limit.
	pub fn write(&mut self, chunk: &[u8]) -> Result<()> {
		let size = self.size.saturating_add(chunk.len() as u64);
		self.store.check_size(size)?;
		self.file.write_all(chunk).map_err(|e| storage("writing", &self.path, e))?;
		self.hasher.update(chunk);
		self.size = size;
		Ok(())
	}

	/// Bytes written so far.
	pub fn size(&self) -> u64 {
		self.size
	}

	/// The hash of what was written so far.
	pub fn hash(&self) -> H256 {
		H256::from_slice(self.hasher.finalize().as_bytes())
	}

	/// The partial file, to read back what was written before committing it.
	pub fn path(&self) -> &Path {
		&self.path
	}

	/// Keeps the file under its hash if that is `expected`; otherwise removes it and fails
	/// with [`Error::HashMismatch`].
	pub fn commit(mut self, expected: H256) -> Result<H256> {
		let actual = self.hash();
		if actual != expected {
			return Err(Error::HashMismatch {
				expected: hash_hex(&expected),
				actual: hash_hex(&actual),
			});
		}
		let target = self.store.path(&actual);
		self.file.sync_all().map_err(|e| storage("writing", &self.path, e))?;
		fs::rename(&self.path, &target).map_err(|e| storage("writing", &target, e))?;
		self.committed = true;
		Ok(actual)
	}
}

impl Drop for Incoming<'_> {
	fn drop(&mut self) {
		if !self.committed {
			let _ = fs::remove_file(&self.path);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn partial_files_are_removed_and_models_kept() {
		let dir = tempfile::tempdir().unwrap();
		let store = ModelStore::open(dir.path(), 1 << 20).unwrap();
		let kept = store.add_bytes(b"a model", None).unwrap();
		let mut abandoned = store.incoming().unwrap();
		abandoned.write(b"half a download").unwrap();
		// A process that stopped mid-download never dropped its file.
		std::mem::forget(abandoned);
		// Left by a process that no longer runs (no process has this id).
		fs::write(store.dir.join(".incoming-4000000000-0-1"), b"left by another run").unwrap();
		// Being written by a live process (pid 1 always runs) sharing the store: kept, until
		// it has not changed for LEFTOVER_AGE.
		let live = store.dir.join(".incoming-1-0-1");
		fs::write(&live, b"a download in progress").unwrap();
		assert_eq!(store.remove_leftovers().unwrap(), 2);
		assert!(live.exists(), "another live process's download is left alone");
		let old = std::time::SystemTime::now() - LEFTOVER_AGE - std::time::Duration::from_secs(1);
		fs::File::options().write(true).open(&live).unwrap().set_modified(old).unwrap();
		assert_eq!(store.remove_leftovers().unwrap(), 1);
		assert_eq!(store.remove_leftovers().unwrap(), 0);
		assert_eq!(store.read_verified(&kept).unwrap(), b"a model");
	}

	#[test]
	fn a_download_is_kept_only_under_the_hash_it_was_expected_to_have() {
		let dir = tempfile::tempdir().unwrap();
		let store = ModelStore::open(dir.path(), 16).unwrap();
		let expected = H256(blake2_256(b"model bytes"));
		let mut incoming = store.incoming().unwrap();
		incoming.write(b"model ").unwrap();
		incoming.write(b"bytes").unwrap();
		assert_eq!(incoming.hash(), expected, "hashed as written, as blake2-256");
		assert_eq!(incoming.commit(expected).unwrap(), expected);
		assert_eq!(store.read_verified(&expected).unwrap(), b"model bytes");

		let mut wrong = store.incoming().unwrap();
		wrong.write(b"other bytes").unwrap();
		assert!(matches!(wrong.commit(expected), Err(Error::HashMismatch { .. })));
		let mut too_large = store.incoming().unwrap();
		assert!(matches!(too_large.write(&[0; 17]), Err(Error::ModelTooLarge { .. })));
		drop(too_large);
		assert_eq!(store.remove_leftovers().unwrap(), 0, "refused downloads leave nothing");
	}

	#[test]
	fn stored_models_are_listed_by_hash_and_removed_one_by_one() {
		let dir = tempfile::tempdir().unwrap();
		let store = ModelStore::open(dir.path(), 1 << 20).unwrap();
		let first = store.add_bytes(b"a model", None).unwrap();
		let second = store.add_bytes(b"another model", None).unwrap();
		// Neither a partial download nor a stray file is a model.
		std::mem::forget({
			let mut partial = store.incoming().unwrap();
			partial.write(b"half").unwrap();
			partial
		});
		fs::write(store.dir.join("notes.txt"), b"an operator's file").unwrap();
		let mut both = vec![first, second];
		both.sort();
		assert_eq!(store.hashes().unwrap(), both);
		assert!(store.remove(&first).unwrap());
		assert!(!store.remove(&first).unwrap(), "already gone");
		assert_eq!(store.hashes().unwrap(), vec![second]);
		assert!(!store.contains(&first));
	}
}
