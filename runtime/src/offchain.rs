//! Transactions the runtime creates from a node: the runtime side of `frame_system::offchain`. A worker
//! node's off-chain worker sends its answers as general transactions that the job market
//! authorizes itself (`#[pallet::authorize]` on `submit_results`): signed inside the call by the
//! worker key, with no account, nonce or fee.

use crate::{Runtime, RuntimeCall, TxExtension, UncheckedExtrinsic};

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

/// Bare (unsigned) transactions: the equivocation reports BABE and GRANDPA file from the node
/// that saw the equivocation, validated by those pallets' own unsigned validation.
impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}

impl<C> frame_system::offchain::CreateTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extension = TxExtension;

	fn create_transaction(call: RuntimeCall, extension: TxExtension) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_transaction(call, extension)
	}
}

impl<C> frame_system::offchain::CreateAuthorizedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	/// The extensions of an authorized transaction: immortal (the call's authorization bounds
	/// its life: an answer's ends at its job's deadline), no nonce and no tip, as no account is
	/// involved.
	fn create_extension() -> TxExtension {
		(
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(sp_runtime::generic::Era::Immortal),
			frame_system::CheckNonce::<Runtime>::from(0),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_system::WeightReclaim::<Runtime>::new(),
		)
	}
}
