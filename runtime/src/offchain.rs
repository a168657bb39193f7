//! Transactions off-chain workers sign with keys from the node's keystore: the runtime side of
//! `frame_system::offchain`. A worker node's off-chain worker signs its result transactions
//! with its worker key (`vtwk`), from that key's account.

use crate::{
	configs::BlockHashCount, AccountId, Nonce, Runtime, RuntimeCall, Signature, SignedPayload,
	System, TxExtension, UncheckedExtrinsic,
};
use codec::Encode;
use sp_runtime::{
	generic::Era, traits::Verify, MultiAddress, MultiSignature, MultiSigner, SaturatedConversion,
};
use veritensor_primitives::worker_key;

/// Signs transactions with a worker key from the keystore.
pub struct WorkerKeySigner;

impl frame_system::offchain::AppCrypto<MultiSigner, MultiSignature> for WorkerKeySigner {
	type RuntimeAppPublic = worker_key::app::Public;
	type GenericPublic = sp_core::sr25519::Public;
	type GenericSignature = sp_core::sr25519::Signature;
}

impl frame_system::offchain::SigningTypes for Runtime {
	type Public = <Signature as Verify>::Signer;
	type Signature = Signature;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

/// How long an off-chain worker's transaction stays valid, in blocks (a power of two, as
/// mortal eras are): long enough to wait out a busy pool, short enough that a lost one is known
/// lost, and its jobs answered again, well before their deadlines.
pub const OFFCHAIN_TRANSACTION_LIFETIME: u64 = 16;

impl<C> frame_system::offchain::CreateSignedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_signed_transaction<
		S: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>,
	>(
		call: RuntimeCall,
		public: MultiSigner,
		account: AccountId,
		nonce: Nonce,
	) -> Option<UncheckedExtrinsic> {
		let period = OFFCHAIN_TRANSACTION_LIFETIME.min(u64::from(BlockHashCount::get()));
		// Born at the parent block, whose hash every node already has.
		let birth = System::block_number().saturated_into::<u64>().saturating_sub(1);
		let extension: TxExtension = (
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(Era::mortal(period, birth)),
			frame_system::CheckNonce::<Runtime>::from(nonce),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_system::WeightReclaim::<Runtime>::new(),
		);
		// Fails only when the era's birth block is unknown, which the parent never is.
		let payload = SignedPayload::new(call, extension).ok()?;
		let signature = payload.using_encoded(|bytes| S::sign(bytes, public))?;
		let (call, extension, _) = payload.deconstruct();
		Some(UncheckedExtrinsic::new_signed(call, MultiAddress::Id(account), signature, extension))
	}
}
