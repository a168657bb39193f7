//! First-in first-out queues kept in chunks of [`CHUNK`] entries.
//!
//! Every settled job joins two queues (to be pruned, and, if provisional, to be made final).
//! One storage entry per queued job made each answer pay two more writes and each hook step a
//! read and a write more; in chunks, a batch of answers appends to one or two chunks, and a
//! hook reads a chunk for every [`CHUNK`] entries it takes.
//!
//! A queue is a map of chunks by position and a [`ChunkCursor`]: entries are appended to the
//! chunk at `tail` until it is full, then to the next; they are taken from the chunk at `head`,
//! from its entry `taken` on, and a chunk is removed once every one of its entries is taken.
//! Appending writes only the tail's half of the cursor and taking only the head's, and the head
//! chunk is read again once its entries read before are taken, so that work done while an
//! entry is taken may append to the same queue.

use codec::{Decode, DecodeWithMemTracking, Encode, FullCodec, MaxEncodedLen};
use core::marker::PhantomData;
use frame_support::{
	defensive,
	storage::{IterableStorageMap, StorageMap, StorageValue, TryAppendMap},
	BoundedVec,
};
use scale_info::TypeInfo;
use sp_core::ConstU32;

/// The most entries one chunk holds: a batch of answers (at most 64) touches at most two.
pub const CHUNK: u32 = 64;

/// One chunk of a queue.
pub type Chunk<E> = BoundedVec<E, ConstU32<CHUNK>>;

/// Where a chunked queue's entries are.
#[derive(
	Clone,
	Copy,
	Default,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct ChunkCursor {
	/// The position of the chunk the next entry is taken from.
	pub head: u64,
	/// How many of the head chunk's entries were taken already.
	pub taken: u32,
	/// The position of the chunk the next entry is appended to (unless it is full).
	pub tail: u64,
	/// How many entries the tail chunk holds.
	pub tail_len: u32,
}

impl ChunkCursor {
	/// Whether every entry appended was taken.
	pub fn is_empty(&self) -> bool {
		self.head > self.tail || (self.head == self.tail && self.taken >= self.tail_len)
	}
}

/// What the visitor of an entry due to be taken says.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Taking {
	/// The entry was dealt with: take it and go on.
	Taken,
	/// The entry is not due yet: leave it, and the ones after it, where they are.
	NotDue,
}

/// A chunked queue of `E` in the map `Chunks` with its cursor in `Cursor`.
pub struct ChunkedQueue<Chunks, Cursor, E>(PhantomData<(Chunks, Cursor, E)>);

impl<Chunks, Cursor, E> ChunkedQueue<Chunks, Cursor, E>
where
	E: FullCodec + Clone,
	Chunks: StorageMap<u64, Chunk<E>, Query = Option<Chunk<E>>> + TryAppendMap<u64, Chunk<E>, E>,
	Cursor: StorageValue<ChunkCursor, Query = ChunkCursor>,
{
	/// Appends `entry` at the end of the queue.
	pub fn push(entry: E) {
		let mut cursor = Cursor::get();
		if cursor.tail_len >= CHUNK {
			cursor.tail = cursor.tail.saturating_add(1);
			cursor.tail_len = 0;
		}
		if Chunks::try_append(cursor.tail, entry.clone()).is_err() {
			// The cursor counts the tail chunk's entries, and a full one is never appended to;
			// were the count wrong, the entry goes to a chunk of its own rather than be lost.
			defensive!("the tail chunk has room");
			cursor.tail = cursor.tail.saturating_add(1);
			cursor.tail_len = 0;
			if Chunks::try_append(cursor.tail, entry).is_err() {
				defensive!("a chunk past the tail is empty");
				return;
			}
		}
		cursor.tail_len = cursor.tail_len.saturating_add(1);
		Cursor::mutate(|stored| {
			stored.tail = cursor.tail;
			stored.tail_len = cursor.tail_len;
		});
	}

	/// Takes at most `limit` entries from the front of the queue, each shown to `visit` first;
	/// stops at the first one `visit` finds not due. Returns how many were taken.
	pub fn take_due(limit: u32, mut visit: impl FnMut(E) -> Taking) -> u32 {
		let start = Cursor::get();
		let (mut head, mut taken) = (start.head, start.taken);
		let mut chunk: Option<Chunk<E>> = None;
		let mut done = 0u32;
		while done < limit {
			// The tail may have moved while entries were dealt with: read it again.
			let cursor = ChunkCursor { head, taken, ..Cursor::get() };
			if cursor.is_empty() {
				break;
			}
			// Read again once its entries read before are all taken: the head chunk may be the
			// tail, which work done meanwhile may have appended to.
			if chunk.as_ref().is_none_or(|entries| taken as usize >= entries.len()) {
				chunk = Chunks::get(head);
			}
			let Some(entry) = chunk.as_ref().and_then(|entries| entries.get(taken as usize)) else {
				// Never: a chunk is removed only once every entry in it is taken. Were one
				// missing, the queue skips it rather than stop there for good.
				defensive!("every entry between the head and the tail is stored");
				Chunks::remove(head);
				if head == cursor.tail {
					// Appends go past it too.
					Cursor::mutate(|stored| {
						stored.tail = head.saturating_add(1);
						stored.tail_len = 0;
					});
				}
				head = head.saturating_add(1);
				taken = 0;
				chunk = None;
				continue;
			};
			if visit(entry.clone()) == Taking::NotDue {
				break;
			}
			done = done.saturating_add(1);
			taken = taken.saturating_add(1);
			if taken >= CHUNK {
				Chunks::remove(head);
				head = head.saturating_add(1);
				taken = 0;
				chunk = None;
			}
		}
		if (head, taken) != (start.head, start.taken) {
			Cursor::mutate(|stored| {
				stored.head = head;
				stored.taken = taken;
			});
		}
		done
	}

	/// Every entry still queued, first to last, once the chunks are checked against the
	/// cursor: for checks, never in a block.
	pub fn entries() -> Result<alloc::vec::Vec<E>, &'static str>
	where
		Chunks: IterableStorageMap<u64, Chunk<E>>,
	{
		let cursor = Cursor::get();
		// Full chunks from the head to the tail, and the tail once something was appended to
		// it; none once the head passed the tail.
		let stored = match cursor.tail.checked_sub(cursor.head) {
			Some(before_tail) => before_tail.saturating_add((cursor.tail_len > 0) as u64),
			None => 0,
		};
		if Chunks::iter_keys().count() as u64 != stored {
			return Err("chunks stored outside the cursor's range");
		}
		let taken_in_bounds = match cursor.head.cmp(&cursor.tail) {
			core::cmp::Ordering::Less => cursor.taken < CHUNK,
			core::cmp::Ordering::Equal => cursor.taken <= cursor.tail_len,
			// The head passed the tail only by taking the whole of a full tail chunk.
			core::cmp::Ordering::Greater => {
				cursor.head == cursor.tail.saturating_add(1)
					&& cursor.taken == 0
					&& cursor.tail_len == CHUNK
			}
		};
		if cursor.tail_len > CHUNK || !taken_in_bounds {
			return Err("a cursor out of its bounds");
		}
		let mut entries = alloc::vec::Vec::new();
		if cursor.is_empty() {
			return Ok(entries);
		}
		for position in cursor.head..=cursor.tail {
			let chunk = Chunks::get(position).ok_or("a chunk missing between head and tail")?;
			let expected = if position == cursor.tail { cursor.tail_len } else { CHUNK };
			if chunk.len() as u32 != expected {
				return Err("a chunk's length differs from its cursor's count");
			}
			let from = if position == cursor.head { cursor.taken as usize } else { 0 };
			entries.extend(chunk.into_iter().skip(from));
		}
		Ok(entries)
	}
}

/// A queue of one storage entry per position, `Entries`, its positions in use in `Range` (the
/// first, and the next free one): how queues were kept before chunks. An upgraded chain may
/// still hold entries there, older than any in chunks: they are taken first, and nothing is
/// added to such a queue any more.
pub struct PositionQueue<Entries, Range, E>(PhantomData<(Entries, Range, E)>);

impl<Entries, Range, E> PositionQueue<Entries, Range, E>
where
	E: FullCodec,
	Entries: StorageMap<u64, E, Query = Option<E>>,
	Range: StorageValue<(u64, u64), Query = (u64, u64)>,
{
	/// Whether every entry was taken.
	pub fn is_empty() -> bool {
		let (first, next) = Range::get();
		first >= next
	}

	/// Takes at most `limit` entries from the front, as [`ChunkedQueue::take_due`] does.
	pub fn take_due(limit: u32, mut visit: impl FnMut(E) -> Taking) -> u32 {
		let (mut first, next) = Range::get();
		let mut done = 0u32;
		while done < limit && first < next {
			match Entries::get(first) {
				Some(entry) => {
					if visit(entry) == Taking::NotDue {
						break;
					}
					Entries::remove(first);
				}
				None => {
					defensive!("every position of the queue's range is filled");
				}
			}
			first = first.saturating_add(1);
			done = done.saturating_add(1);
		}
		if done > 0 {
			Range::put((first, next));
		}
		done
	}

	/// Every entry still queued, first to last, once the positions are checked against the
	/// range: for checks, never in a block.
	pub fn entries() -> Result<alloc::vec::Vec<E>, &'static str>
	where
		Entries: IterableStorageMap<u64, E>,
	{
		let (first, next) = Range::get();
		if first > next {
			return Err("a queue's range is reversed");
		}
		let entries = (first..next)
			.map(|position| Entries::get(position).ok_or("a gap in a queue"))
			.collect::<Result<alloc::vec::Vec<_>, _>>()?;
		if Entries::iter_keys().count() as u64 != next - first {
			return Err("a queue holds entries outside its range");
		}
		Ok(entries)
	}
}
