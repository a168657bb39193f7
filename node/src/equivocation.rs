//! BABE equivocations seen on import, reported with the block's seal.
//!
//! `sc-consensus-babe` checks every imported block for a second block of the same author and
//! slot, but at block import the header it compares has had its seal moved out (into the
//! block's post-digests), so the proof it builds carries no signature and the runtime refuses
//! it. This block import, placed in front of BABE's in the import queue, sees each network
//! block with its seal, keeps the sealed headers of recent slots, and files the report through
//! the same runtime calls BABE uses: a key-ownership proof, then a bare transaction into the
//! local pool, which this node includes in the next block it authors.

use codec::Encode;
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

/// The largest header kept (encoded): real ones are well under 2 KiB; headers are kept before
/// their blocks are executed, so an author could otherwise fill memory with padded ones.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// One slot's sealed headers, each with the authority index its pre-digest claims, and the
/// authority indices already reported for it.
#[derive(Default)]
struct SlotHeaders {
	headers: Vec<(u32, Header)>,
	reported: Vec<u32>,
}

/// Sealed headers of recent slots.
#[derive(Default)]
struct RecentSlots(BTreeMap<Slot, SlotHeaders>);

impl RecentSlots {
	/// Notes `sealed` as authority `index`'s header for `slot`; returns the earlier, different
	/// headers claiming the same authority and slot, unless that pair was reported already.
	fn note(&mut self, slot: Slot, index: u32, sealed: Header) -> Vec<Header> {
		let newest = self.0.last_key_value().map_or(slot, |(newest, _)| (*newest).max(slot));
		if *slot + KEPT_SLOTS < *newest || sealed.encoded_size() > MAX_HEADER_BYTES {
			return Vec::new();
		}
		while let Some(oldest) = self.0.first_key_value().map(|(oldest, _)| *oldest) {
			if *oldest + KEPT_SLOTS >= *newest {
				break;
			}
			self.0.remove(&oldest);
		}
		let kept = self.0.entry(slot).or_default();
		let hash = sealed.hash();
		if kept.reported.contains(&index) || kept.headers.iter().any(|(_, h)| h.hash() == hash) {
			return Vec::new();
		}
		let earlier: Vec<Header> = kept
			.headers
			.iter()
			.filter(|(other, _)| *other == index)
			.map(|(_, header)| header.clone())
			.collect();
		if kept.headers.len() < HEADERS_PER_SLOT {
			kept.headers.push((index, sealed));
		}
		earlier
	}

	/// Notes that authority `index`'s equivocation in `slot` was reported.
	fn reported(&mut self, slot: Slot, index: u32) {
		if let Some(kept) = self.0.get_mut(&slot) {
			kept.reported.push(index);
		}
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

/// Two headers of one slot claiming one authority, waiting for the second one's import.
struct Suspect {
	slot: Slot,
	index: u32,
	earlier: Vec<Header>,
	second: Header,
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

	fn recent(&self) -> std::sync::MutexGuard<'_, RecentSlots> {
		self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}
}

impl<I, C> EquivocationReporter<I, C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block>,
	C::Api: BabeApi<Block>,
{
	/// Notes `block`'s sealed header; returns a suspect if the same authority index sealed
	/// other headers for the same slot.
	fn note(&self, block: &BlockImportParams<Block>) -> Option<Suspect> {
		let (slot, index, second) = sealed_header(block)?;
		let earlier = self.recent().note(slot, index, second.clone());
		(!earlier.is_empty()).then_some(Suspect { slot, index, earlier, second })
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

	/// Reports the suspect if one of the earlier headers and the second make a valid proof
	/// (an index may name different keys on different forks). The key-ownership proof is of
	/// the slot's session: made at the second block's parent, at the second block itself when
	/// the slot opened a new session, or at the best block.
	fn report(&self, suspect: Suspect, imported: Option<Hash>) {
		let Suspect { slot, index, earlier, second } = suspect;
		let parent = *second.parent_hash();
		let Some(offender) = self.authority(parent, slot, index) else {
			log::debug!(target: LOG_TARGET, "no authority {index} for slot {slot}");
			return;
		};
		let Some(proof) = earlier.into_iter().find_map(|first| {
			let proof = EquivocationProof {
				offender: offender.clone(),
				slot,
				first_header: first,
				second_header: second.clone(),
			};
			sp_consensus_babe::check_equivocation_proof(proof.clone()).then_some(proof)
		}) else {
			log::debug!(target: LOG_TARGET, "no valid equivocation proof for slot {slot}");
			return;
		};
		log::info!(
			target: LOG_TARGET,
			"authority {offender:?} sealed two blocks for slot {slot}: {:?} and {:?}",
			proof.first_header.hash(),
			proof.second_header.hash(),
		);
		let best = self.client.info().best_hash;
		// A runtime-API handle serves one block: a fresh one for each.
		let ownership = [Some(parent), imported, Some(best)].into_iter().flatten().find_map(|at| {
			self.client
				.runtime_api()
				.generate_key_ownership_proof(at, slot, offender.clone())
				.ok()
				.flatten()
		});
		let Some(ownership) = ownership else {
			log::warn!(target: LOG_TARGET, "no key-ownership proof for {offender:?} at slot {slot}");
			return;
		};
		let mut api = self.client.runtime_api();
		api.register_extension(self.pool.offchain_transaction_pool(best));
		match api.submit_report_equivocation_unsigned_extrinsic(best, proof, ownership) {
			Ok(Some(())) => {
				self.recent().reported(slot, index);
				log::info!(target: LOG_TARGET, "equivocation report submitted")
			}
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
		let suspect =
			(block.origin != BlockOrigin::NetworkInitialSync).then(|| self.note(&block)).flatten();
		let hash = block.post_hash();
		let result = self.inner.import_block(block).await;
		if let Some(suspect) = suspect {
			let imported = matches!(result, Ok(ImportResult::Imported(_))).then_some(hash);
			self.report(suspect, imported);
		}
		result
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
		recent.note(slot, index, sealed).pop()
	}

	#[test]
	fn the_sealed_header_is_the_block_as_its_author_signed_it() {
		let block = block(7, 2, 1);
		let (slot, index, sealed) = sealed_header(&block).unwrap();
		assert_eq!((*slot, index), (7, 2));
		assert_eq!(sealed, block.post_header());
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
		// Once reported, a third header of the pair is not reported again.
		recent.reported(Slot::from(7), 2);
		assert!(note(&mut recent, &block(7, 2, 5)).is_none());
		assert!(note(&mut recent, &block(7, 3, 6)).is_some());
	}

	#[test]
	fn oversized_headers_are_not_kept() {
		let mut recent = RecentSlots::default();
		let mut padded = block(7, 2, 1);
		padded.header.digest_mut().push(DigestItem::Other(vec![0; MAX_HEADER_BYTES]));
		assert!(note(&mut recent, &padded).is_none());
		assert!(note(&mut recent, &block(7, 2, 2)).is_none());
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
		assert_eq!(recent.0[&Slot::from(900)].headers.len(), HEADERS_PER_SLOT);
	}
}
