//! The runtime APIs: what the node, the off-chain worker and clients call into the runtime for.

use crate::{
	configs::{EpochDuration, BABE_GENESIS_EPOCH_CONFIG},
	genesis_config_presets, AccountId, Babe, Balance, Block, Executive, Grandpa, Historical,
	InherentDataExt, Nonce, Runtime, RuntimeCall, RuntimeGenesisConfig, SessionKeys, System,
	TransactionPayment, VERSION,
};
use alloc::vec::Vec;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	weights::Weight,
};
use sp_api::impl_runtime_apis;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult,
};
use sp_version::RuntimeVersion;

/// The encoded proof that a current validator holds `key` of type `key_type`, against the
/// session-historical record: what BABE and GRANDPA reports carry.
fn key_ownership_proof(
	key_type: sp_core::crypto::KeyTypeId,
	key: impl AsRef<[u8]>,
) -> Option<Vec<u8>> {
	use codec::Encode;
	use frame_support::traits::KeyOwnerProofSystem;
	Historical::prove((key_type, key)).map(|proof| proof.encode())
}

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(
			owner: Vec<u8>,
			seed: Option<Vec<u8>>,
		) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl sp_consensus_babe::BabeApi<Block> for Runtime {
		fn configuration() -> sp_consensus_babe::BabeConfiguration {
			let epoch_config = Babe::epoch_config().unwrap_or(BABE_GENESIS_EPOCH_CONFIG);
			sp_consensus_babe::BabeConfiguration {
				slot_duration: Babe::slot_duration(),
				epoch_length: <EpochDuration as frame_support::traits::Get<u64>>::get(),
				c: epoch_config.c,
				authorities: Babe::authorities().to_vec(),
				randomness: Babe::randomness(),
				allowed_slots: epoch_config.allowed_slots,
			}
		}

		fn current_epoch_start() -> sp_consensus_babe::Slot {
			Babe::current_epoch_start()
		}

		fn current_epoch() -> sp_consensus_babe::Epoch {
			Babe::current_epoch()
		}

		fn next_epoch() -> sp_consensus_babe::Epoch {
			Babe::next_epoch()
		}

		fn generate_key_ownership_proof(
			slot: sp_consensus_babe::Slot,
			authority_id: sp_consensus_babe::AuthorityId,
		) -> Option<sp_consensus_babe::OpaqueKeyOwnershipProof> {
			// The proof is of the current session: for a slot of another epoch it would be
			// refused, and a node asking at an equivocating header's parent, still in the
			// previous epoch, asks again at its best block when it gets none.
			let epoch = Babe::current_epoch();
			let start = *epoch.start_slot;
			if *slot < start || *slot >= start.saturating_add(epoch.duration) {
				return None;
			}
			key_ownership_proof(sp_consensus_babe::KEY_TYPE, authority_id)
				.map(sp_consensus_babe::OpaqueKeyOwnershipProof::new)
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: sp_consensus_babe::EquivocationProof<<Block as BlockT>::Header>,
			key_owner_proof: sp_consensus_babe::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			// Only proofs that would be accepted go into the pool: a report the pallet refuses
			// still takes block space (`sc-consensus-babe`'s own reports, built from headers
			// without their seals, are such).
			if !sp_consensus_babe::check_equivocation_proof(equivocation_proof.clone()) {
				return None;
			}
			let key_owner_proof = key_owner_proof.decode()?;
			Babe::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			let key_owner_proof = key_owner_proof.decode()?;
			Grandpa::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			authority_id: sp_consensus_grandpa::AuthorityId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			key_ownership_proof(sp_consensus_grandpa::KEY_TYPE, authority_id)
				.map(sp_consensus_grandpa::OpaqueKeyOwnershipProof::new)
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}

		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}

		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	#[api_version(4)]
	impl pallet_jobs::runtime_api::JobsApi<
		Block,
		Balance,
		pallet_jobs::Job<Runtime>,
		pallet_jobs::JobResult<Runtime>,
		pallet_jobs::Payload<Runtime>,
		pallet_jobs::QuorumProgress<crate::BlockNumber>,
		pallet_jobs::QuorumDecision<Runtime>,
		pallet_jobs::ResultStatus<crate::BlockNumber>,
	> for Runtime {
		fn quote(model: veritensor_primitives::ModelHash, k: u32) -> Option<Balance> {
			let terms = veritensor_primitives::VerificationTerms::quorum(k);
			crate::Jobs::quote(&model, &terms).map(|(_, cost)| cost)
		}

		fn quote_terms(
			model: veritensor_primitives::ModelHash,
			terms: veritensor_primitives::VerificationTerms,
		) -> Option<Balance> {
			crate::Jobs::quote(&model, &terms).map(|(_, cost)| cost)
		}

		fn audit_rate(model: veritensor_primitives::ModelHash) -> Option<sp_runtime::Perbill> {
			crate::Jobs::audit_rate(&model)
		}

		fn job(job: veritensor_primitives::JobId) -> Option<pallet_jobs::Job<Runtime>> {
			pallet_jobs::Jobs::<Runtime>::get(job)
		}

		fn input(job: veritensor_primitives::JobId) -> Option<pallet_jobs::Payload<Runtime>> {
			pallet_jobs::Inputs::<Runtime>::get(job)
		}

		fn result(job: veritensor_primitives::JobId) -> Option<pallet_jobs::JobResult<Runtime>> {
			pallet_jobs::Results::<Runtime>::get(job)
		}

		fn result_status(
			job: veritensor_primitives::JobId,
		) -> Option<pallet_jobs::ResultStatus<crate::BlockNumber>> {
			crate::Jobs::result_status(job)
		}

		fn open_assignments(
			worker: veritensor_primitives::WorkerId,
		) -> Vec<veritensor_primitives::JobId> {
			crate::Jobs::open_assignments(&worker)
		}

		fn quorum(
			job: veritensor_primitives::JobId,
		) -> Option<pallet_jobs::QuorumProgress<crate::BlockNumber>> {
			crate::Jobs::quorum_progress(job)
		}

		fn decision(
			job: veritensor_primitives::JobId,
		) -> Option<pallet_jobs::QuorumDecision<Runtime>> {
			pallet_jobs::Decisions::<Runtime>::get(job)
		}
	}

	impl pallet_workers::runtime_api::WorkersApi<Block, AccountId, Balance, crate::BlockNumber> for Runtime {
		fn worker(
			worker: veritensor_primitives::WorkerId,
		) -> Option<pallet_workers::WorkerInfo<AccountId, Balance, crate::BlockNumber>> {
			crate::Workers::worker_info(&worker)
		}

		fn candidates(
			model: veritensor_primitives::ModelHash,
		) -> Vec<veritensor_primitives::traits::Candidate<AccountId, Balance>> {
			crate::Workers::eligible_workers(&model).into_inner()
		}
	}

	impl pallet_models::runtime_api::ModelsApi<Block, pallet_models::ModelRecord<Runtime>> for Runtime {
		fn model(model: veritensor_primitives::ModelHash) -> Option<pallet_models::ModelRecord<Runtime>> {
			crate::Models::model(model)
		}

		fn models(
			status: Option<pallet_models::StatusKind>,
			start_after: Option<veritensor_primitives::ModelHash>,
			limit: u32,
		) -> pallet_models::ModelPage {
			crate::Models::models_page(status, start_after, limit)
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			genesis_config_presets::preset_names()
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::BenchmarkList;
			use frame_support::traits::StorageInfoTrait;
			use frame_benchmarking::baseline::Pallet as BaselineBench;
			use frame_system_benchmarking::{
				extensions::Pallet as SystemExtensionsBench, Pallet as SystemBench,
			};
			use crate::{
				Balances, Council, Jobs, Models, Parameters, Sudo, Timestamp, TransactionPayment,
				Treasury, Utility, Validators, Workers,
			};

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);
			let storage_info = crate::AllPalletsWithSystem::storage_info();
			(list, storage_info)
		}

		#[allow(non_local_definitions)]
		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig,
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::BenchmarkBatch;
			use frame_support::traits::TrackedStorageKey;
			use frame_benchmarking::baseline::Pallet as BaselineBench;
			use frame_system_benchmarking::{
				extensions::Pallet as SystemExtensionsBench, Pallet as SystemBench,
			};
			use crate::{
				Balances, Council, Jobs, Models, Parameters, Sudo, Timestamp, TransactionPayment,
				Treasury, Utility, Validators, Workers,
			};

			impl frame_benchmarking::baseline::Config for Runtime {}

			impl frame_system_benchmarking::Config for Runtime {}

			impl pallet_transaction_payment::BenchmarkConfig for Runtime {
				/// A block's fees go partly to its author: the fee payment is measured in a block
				/// with one, as every authored block has.
				fn setup_benchmark_environment() {
					use codec::Encode;
					use sp_consensus_babe::{
						digests::{PreDigest, SecondaryPlainPreDigest},
						BABE_ENGINE_ID,
					};
					let pre_digest = PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
						authority_index: 0,
						slot: Default::default(),
					});
					frame_system::Pallet::<Runtime>::deposit_log(
						sp_runtime::DigestItem::PreRuntime(BABE_ENGINE_ID, pre_digest.encode()),
					);
				}
			}

			let whitelist: Vec<TrackedStorageKey> =
				<crate::AllPalletsWithSystem as frame_support::traits::WhitelistedStorageKeys>::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	#[cfg(feature = "try-runtime")]
	impl frame_try_runtime::TryRuntime<Block> for Runtime {
		fn on_runtime_upgrade(
			checks: frame_try_runtime::UpgradeCheckSelect,
		) -> (Weight, Weight) {
			let weight = Executive::try_runtime_upgrade(checks)
				.expect("try-runtime only runs off-chain, where a failed check must stop; qed");
			(weight, crate::configs::RuntimeBlockWeights::get().max_block)
		}

		fn execute_block(
			block: <Block as BlockT>::LazyBlock,
			state_root_check: bool,
			signature_check: bool,
			select: frame_try_runtime::TryStateSelect,
		) -> Weight {
			Executive::try_execute_block(block, state_root_check, signature_check, select)
				.expect("try-runtime only runs off-chain, where a failed check must stop; qed")
		}
	}
}
