//! BABE equivocations seen on import, reported with the block's seal.
//!
//! `sc-consensus-babe` checks every imported block for a second block of the same author and
//! slot, but at block import the header it compares has had its seal moved out (into the
//! block's post-digests), so the proof it builds carries no signature and the runtime refuses
//! it. This block import, placed in front of BABE's in the import queue, sees each network
//! block with its seal, keeps the sealed headers of recent slots, and files the report through
//! the same runtime calls BABE uses: a key-ownership proof, then a bare transaction into the
//! local pool, which this node includes in the next block it authors.

use sc_client_api::HeaderBackend;
use sc_consensus::{BlockCheckParams, BlockImport, BlockImportParams, ImportResult};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_consensus::BlockOrigin;
use sp_consensus_babe::{
	digests::{CompatibleDigestItem, PreDigest},
	AuthorityId, BabeApi, EquivocationProof, Slot,
};
use sp_runtime::traits::{Block as BlockT, Header as HeaderT};
use std::{
	collections::BTreeMap,
	sync::{Arc, Mutex},
};
use veritensor_runtime::opaque::Block;

type Header = <Block as BlockT>::Header;
type Hash = <Block as BlockT>::Hash;

const LOG_TARGET: &str = "equivocation";

/// Slots whose sealed headers are kept: an hour of 6-second slots. Older equivocations are
/// not reported from here (a node that missed them was not there to see them either).
const KEPT_SLOTS: u64 = 600;

/// Blocks of one slot kept at most: more are an author flooding the slot, already reported.
const HEADERS_PER_SLOT: usize = 8;

/// Sealed headers of recent slots, each with the authority index its pre-digest claims.
#[derive(Default)]
struct RecentSlots(BTreeMap<Slot, Vec<(u32, Header)>>);

impl RecentSlots {
	/// Notes `sealed` as authority `index`'s header for `slot`; returns an earlier, different
	/// header the same authority sealed for the same slot.
	fn note(&mut self, slot: Slot, index: u32, sealed: Header) -> Option<Header> {
		let newest = self.0.last_key_value().map_or(slot, |(newest, _)| (*newest).max(slot));
		if *slot + KEPT_SLOTS < *newest {
			return None;
		}
		while let Some(oldest) = self.0.first_key_value().map(|(oldest, _)| *oldest) {
			if *oldest + KEPT_SLOTS >= *newest {
				break;
			}
			self.0.remove(&oldest);
		}
		let headers = self.0.entry(slot).or_default();
		let hash = sealed.hash();
		if headers.iter().any(|(_, header)| header.hash() == hash) {
			return None;
		}
		let earlier =
			headers.iter().find(|(other, _)| *other == index).map(|(_, header)| header.clone());
		if headers.len() < HEADERS_PER_SLOT {
			headers.push((index, sealed));
		}
		earlier
	}
}

/// `block`'s header with its BABE seal put back, with the slot and authority index it claims.
fn sealed_header(block: &BlockImportParams<Block>) -> Option<(Slot, u32, Header)> {
	let seal = block.post_digests.last()?;
	seal.as_babe_seal()?;
	let claim: PreDigest =
		block.header.digest().logs().iter().find_map(|log| log.as_babe_pre_digest())?;
	let mut sealed = block.header.clone();
	sealed.digest_mut().push(seal.clone());
	Some((claim.slot(), claim.authority_index(), sealed))
}

/// Wraps BABE's block import; see the module docs.
pub struct EquivocationReporter<I, C> {
	inner: I,
	client: Arc<C>,
	pool: OffchainTransactionPoolFactory<Block>,
	recent: Mutex<RecentSlots>,
}

impl<I, C> EquivocationReporter<I, C> {
	pub fn new(inner: I, client: Arc<C>, pool: OffchainTransactionPoolFactory<Block>) -> Self {
		Self { inner, client, pool, recent: Mutex::new(RecentSlots::default()) }
	}
}

impl<I, C> EquivocationReporter<I, C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block>,
	C::Api: BabeApi<Block>,
{
	/// Notes `block`'s sealed header; returns the two headers of an equivocation if the same
	/// authority sealed another header for the same slot.
	fn note(&self, block: &BlockImportParams<Block>) -> Option<(Slot, u32, Header, Header)> {
		let (slot, index, sealed) = sealed_header(block)?;
		let mut recent = self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let earlier = recent.note(slot, index, sealed.clone())?;
		Some((slot, index, earlier, sealed))
	}

	/// The authority that holds index `index` in the epoch of `slot`, as the chain at `at`
	/// knows it (the current or the next epoch).
	fn authority(&self, at: Hash, slot: Slot, index: u32) -> Option<AuthorityId> {
		let api = self.client.runtime_api();
		let current = api.current_epoch(at).ok()?;
		let epoch = if slot >= current.start_slot && *slot < *current.start_slot + current.duration
		{
			current
		} else {
			api.next_epoch(at).ok()?
		};
		epoch.authorities.get(index as usize).map(|(key, _)| key.clone())
	}

	/// Files a report of `offender` sealing `first` and `second` for `slot`.
	fn report(&self, slot: Slot, index: u32, first: Header, second: Header) {
		let parent = *second.parent_hash();
		let Some(offender) = self.authority(parent, slot, index) else {
			log::debug!(target: LOG_TARGET, "no authority {index} for slot {slot}");
			return;
		};
		log::info!(
			target: LOG_TARGET,
			"authority {offender:?} sealed two blocks for slot {slot}: {:?} and {:?}",
			first.hash(),
			second.hash(),
		);
		let best = self.client.info().best_hash;
		let api = self.client.runtime_api();
		// A proof of the session the slot is in: at the second block's parent, or, if the slot
		// opened a new session, at the best block.
		let ownership = [parent, best].into_iter().find_map(|at| {
			api.generate_key_ownership_proof(at, slot, offender.clone()).ok().flatten()
		});
		let Some(ownership) = ownership else {
			log::warn!(target: LOG_TARGET, "no key-ownership proof for {offender:?} at slot {slot}");
			return;
		};
		let proof =
			EquivocationProof { offender, slot, first_header: first, second_header: second };
		let mut api = self.client.runtime_api();
		api.register_extension(self.pool.offchain_transaction_pool(best));
		match api.submit_report_equivocation_unsigned_extrinsic(best, proof, ownership) {
			Ok(Some(())) => log::info!(target: LOG_TARGET, "equivocation report submitted"),
			Ok(None) => {
				log::warn!(target: LOG_TARGET, "the runtime refused the equivocation report")
			}
			Err(error) => log::warn!(target: LOG_TARGET, "equivocation report failed: {error}"),
		}
	}
}

#[async_trait::async_trait]
impl<I, C> BlockImport<Block> for EquivocationReporter<I, C>
where
	I: BlockImport<Block> + Send + Sync,
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync,
	C::Api: BabeApi<Block>,
{
	type Error = I::Error;

	async fn check_block(
		&self,
		block: BlockCheckParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		self.inner.check_block(block).await
	}

	async fn import_block(
		&self,
		block: BlockImportParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		// Blocks of an initial sync are old: their slots' reports, if any, are long filed.
		if block.origin != BlockOrigin::NetworkInitialSync {
			if let Some((slot, index, first, second)) = self.note(&block) {
				self.report(slot, index, first, second);
			}
		}
		self.inner.import_block(block).await
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_consensus_babe::digests::SecondaryPlainPreDigest;
	use sp_runtime::{Digest, DigestItem};

	fn block(slot: u64, index: u32, state: u8) -> BlockImportParams<Block> {
		let claim = PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
			authority_index: index,
			slot: slot.into(),
		});
		let header = Header::new(
			1,
			Default::default(),
			sp_core::H256::repeat_byte(state),
			Default::default(),
			Digest { logs: vec![<DigestItem as CompatibleDigestItem>::babe_pre_digest(claim)] },
		);
		let mut block = BlockImportParams::new(BlockOrigin::NetworkBroadcast, header);
		let signature = sp_core::sr25519::Signature::from_raw([state; 64]);
		block.post_digests.push(<DigestItem as CompatibleDigestItem>::babe_seal(signature.into()));
		block
	}

	fn note(recent: &mut RecentSlots, block: &BlockImportParams<Block>) -> Option<Header> {
		let (slot, index, sealed) = sealed_header(block).expect("a sealed BABE block");
		recent.note(slot, index, sealed)
	}

	#[test]
	fn the_sealed_header_is_the_block_as_its_author_signed_it() {
		let block = block(7, 2, 1);
		let (slot, index, sealed) = sealed_header(&block).unwrap();
		assert_eq!((*slot, index), (7, 2));
		assert_eq!(sealed.hash(), block.post_hash());
		assert!(sealed.digest().logs().last().unwrap().as_babe_seal().is_some());
		let mut unsealed = block;
		unsealed.post_digests.clear();
		assert!(sealed_header(&unsealed).is_none());
	}

	#[test]
	fn a_second_header_of_one_author_and_slot_is_an_equivocation() {
		let mut recent = RecentSlots::default();
		let first = block(7, 2, 1);
		assert!(note(&mut recent, &first).is_none());
		// The same block again (a re-import) is none.
		assert!(note(&mut recent, &first).is_none());
		// Another author's block for the slot is none.
		assert!(note(&mut recent, &block(7, 3, 2)).is_none());
		// The same author's other block for the slot is.
		let earlier = note(&mut recent, &block(7, 2, 3)).expect("an equivocation");
		assert_eq!(earlier.hash(), first.post_hash());
		// Another slot is none.
		assert!(note(&mut recent, &block(8, 2, 4)).is_none());
	}

	#[test]
	fn old_slots_are_forgotten_and_a_slot_keeps_a_few_headers() {
		let mut recent = RecentSlots::default();
		assert!(note(&mut recent, &block(1, 0, 1)).is_none());
		assert!(note(&mut recent, &block(1 + KEPT_SLOTS + 1, 0, 2)).is_none());
		assert!(!recent.0.contains_key(&Slot::from(1)));
		// A header for a forgotten slot is not kept either.
		assert!(note(&mut recent, &block(1, 0, 3)).is_none());
		for state in 0..2 * HEADERS_PER_SLOT as u8 {
			note(&mut recent, &block(900, 1 + state as u32, 10 + state));
		}
		assert_eq!(recent.0[&Slot::from(900)].len(), HEADERS_PER_SLOT);
	}
}
