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
		let temp = self.dir.join(format!(
			".incoming-{}-{}",
			std::process::id(),
			self.temp_counter.fetch_add(1, Ordering::Relaxed)
		));
		let write = || -> std::io::Result<()> {
			let mut file = fs::File::create(&temp)?;
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
