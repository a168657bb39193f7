//! The node's JSON-RPC methods beyond Substrate's defaults (chain, state, author, system).

use jsonrpsee::RpcModule;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use std::sync::Arc;
use veritensor_runtime::{opaque::Block, AccountId, Balance, Nonce};

/// What the BABE RPC methods need.
pub struct BabeDeps {
	/// Answers questions about BABE epochs.
	pub worker_handle: sc_consensus_babe::BabeWorkerHandle<Block>,
	/// The node's keystore, to find its own slots.
	pub keystore: sp_keystore::KeystorePtr,
}

/// What the RPC methods need.
pub struct FullDeps<C, P, SC> {
	/// The client.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
	/// The chain selection rule.
	pub select_chain: SC,
	/// BABE.
	pub babe: BabeDeps,
	/// The keystore worker keys are in.
	pub keystore: sp_keystore::KeystorePtr,
}

/// The full node's extra RPC methods: `system_accountNextIndex`, `payment_queryInfo` and
/// friends, `babe_epochAuthorship` (a validator's slots in the current epoch), and
/// `veritensor_workerKeyProofs` (see [`crate::worker_keys`]).
pub fn create_full<C, P, SC>(
	deps: FullDeps<C, P, SC>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>
		+ pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>
		+ sp_consensus_babe::BabeApi<Block>
		+ BlockBuilder<Block>,
	P: TransactionPool + 'static,
	SC: sp_consensus::SelectChain<Block> + Clone + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use sc_consensus_babe_rpc::{Babe, BabeApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let FullDeps { client, pool, select_chain, babe, keystore } = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(crate::worker_keys::rpc_module(client.clone(), keystore))?;
	module.merge(Babe::new(client, babe.worker_handle, babe.keystore, select_chain).into_rpc())?;
	Ok(module)
}
