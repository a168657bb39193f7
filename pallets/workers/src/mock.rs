//! A test runtime: System, Balances and worker staking, with a model registry double.

use crate::{self as pallet_workers, ServedModels};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{tokens::imbalance::ResolveTo, ConstU128, ConstU64},
};
use sp_core::{sr25519, Pair};
use sp_runtime::{traits::Convert, BuildStorage, DispatchResult};
use veritensor_primitives::{
	possession_payload,
	traits::{ModelRegistry, ModelTerms},
	ComparisonRule, IoSchema, ModelHash, WorkerId, WorkerSignature,
};

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type Workers = pallet_workers;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const OPERATOR: AccountId = 1;
pub const OTHER_OPERATOR: AccountId = 2;
pub const REPORTER: AccountId = 3;
pub const POOR: AccountId = 4;
pub const TREASURY: AccountId = 99;
pub const ENDOWMENT: Balance = 1_000_000;
pub const EXISTENTIAL_DEPOSIT: Balance = 5;
pub const MIN_BOND: Balance = 1_000;
pub const MAX_SLASH: Balance = 100;
pub const DELAY: u64 = 5;
pub const UNBONDING: u64 = 50;
pub const REFUSAL_WINDOW: u64 = 100;
/// Endowed accounts for tests that need many operators.
pub const MORE_OPERATORS: core::ops::Range<AccountId> = 10..40;

parameter_types! {
	pub const TreasuryAccount: AccountId = TREASURY;
}

thread_local! {
	static LISTED: RefCell<Vec<ModelHash>> = RefCell::new(vec![model(1), model(2), model(3)]);
}

/// The registry double: models 1 to 3 are listed; [`delist`] takes one away.
pub struct RegistryDouble;

impl ModelRegistry<AccountId, Balance> for RegistryDouble {
	fn terms_for_new_job(model: &ModelHash) -> Option<ModelTerms<AccountId, Balance>> {
		LISTED.with(|listed| listed.borrow().contains(model)).then(|| ModelTerms {
			owner: 0,
			price_per_worker: 10,
			owner_royalty: 1,
			schema: IoSchema { inputs: Default::default(), outputs: Default::default() },
			comparison: ComparisonRule::PerOutput(Default::default()),
		})
	}
	fn schema(_: &ModelHash) -> Option<IoSchema> {
		None
	}
	fn acquire(_: &ModelHash) -> DispatchResult {
		Ok(())
	}
	fn release(_: &ModelHash) {}
	fn open_jobs(_: &ModelHash) -> Option<u32> {
		None
	}
	fn uris(_: &ModelHash) -> Vec<Vec<u8>> {
		Vec::new()
	}
	fn comparison(_: &ModelHash) -> Option<ComparisonRule> {
		None
	}
}

pub fn delist(model: ModelHash) {
	LISTED.with(|listed| listed.borrow_mut().retain(|listed| *listed != model));
}

/// The account of a worker key: its first eight bytes.
pub struct KeyAccount;

impl Convert<WorkerId, AccountId> for KeyAccount {
	fn convert(key: WorkerId) -> AccountId {
		let raw: sr25519::Public = key.into();
		u64::from_le_bytes(raw.0[..8].try_into().expect("eight of 32 bytes; qed"))
	}
}

#[derive_impl(pallet_workers::config_preludes::TestDefaultConfig)]
impl pallet_workers::Config for Test {
	type Currency = Balances;
	type Models = RegistryDouble;
	type KeyAccount = KeyAccount;
	type OnSlash = ResolveTo<TreasuryAccount, Balances>;
	type MinOperatorBond = ConstU128<MIN_BOND>;
	type MaxAssignmentSlash = ConstU128<MAX_SLASH>;
	type UnbondingPeriod = ConstU64<UNBONDING>;
	type SlashableWindow = ConstU64<40>;
	type EligibilityDelay = ConstU64<DELAY>;
	type RefusalWindow = ConstU64<REFUSAL_WINDOW>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistryDouble;
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_workers::BenchmarkHelper for RegistryDouble {
	fn list_model(model: ModelHash) {
		LISTED.with(|listed| listed.borrow_mut().push(model));
	}
}

pub fn model(seed: u8) -> ModelHash {
	ModelHash::repeat_byte(seed)
}

pub fn models(seeds: &[u8]) -> ServedModels<Test> {
	seeds.iter().map(|seed| model(*seed)).collect::<Vec<_>>().try_into().expect("few models")
}

/// The key pair of worker `seed`.
pub fn worker_pair(seed: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[seed; 32])
}

pub fn worker(seed: u8) -> WorkerId {
	worker_pair(seed).public().into()
}

/// The proof that worker `seed`'s key is held by whoever registers it for `operator`.
pub fn proof(seed: u8, operator: AccountId) -> WorkerSignature {
	let genesis = System::block_hash(0);
	worker_pair(seed).sign(&possession_payload(&operator, &genesis)).into()
}

pub fn run_to_block(n: u64) {
	System::set_block_number(n);
}

/// Builds test externalities with endowed accounts.
#[derive(Default)]
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		self.build_with(Default::default())
	}

	/// [`Self::build`] with `workers` bonded and registered at genesis.
	pub fn build_with(
		self,
		workers: pallet_workers::GenesisConfig<Test>,
	) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(OPERATOR, ENDOWMENT),
				(OTHER_OPERATOR, ENDOWMENT),
				(REPORTER, ENDOWMENT),
				(POOR, 500),
				(TREASURY, EXISTENTIAL_DEPOSIT),
			]
			.into_iter()
			.chain(MORE_OPERATORS.map(|operator| (operator, ENDOWMENT)))
			.collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		workers.assimilate_storage(&mut storage).unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		// Benchmarks sign with keys from a keystore, as the benchmark CLI provides one.
		ext.register_extension(sp_keystore::KeystoreExt::new(
			sp_keystore::testing::MemoryKeystore::new(),
		));
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test` at block 1, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Workers::do_try_state().expect("worker staking's invariants hold");
		});
	}
}
