//! A test runtime: System, Balances and the registry, with root as the listing origin.

use crate::{self as pallet_models, Description, ModelMetadata, ModelSpec};
use frame_support::{
	derive_impl, parameter_types,
	traits::{tokens::imbalance::ResolveTo, ConstU128},
};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;
use veritensor_primitives::{
	tensor::{ElementType, TensorSpec},
	ComparisonRule, IoSchema, ModelFormat, ModelHash, OutputRule,
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
	pub type Models = pallet_models;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<1>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const POOR: AccountId = 3;
pub const TREASURY: AccountId = 99;
pub const BASE_DEPOSIT: Balance = 1_000;
pub const BYTE_DEPOSIT: Balance = 2;
pub const ENDOWMENT: Balance = 1_000_000;

parameter_types! {
	pub const TreasuryAccount: AccountId = TREASURY;
}

parameter_types! {
	/// Tests lower these to see a listing refused, or a bound lowered after a listing.
	pub static MaxExecutionCost: u64 = 2_000_000;
	pub static MaxExecutionMemory: u32 = 16 * 1024 * 1024;
}

#[derive_impl(pallet_models::config_preludes::TestDefaultConfig)]
impl pallet_models::Config for Test {
	type Currency = Balances;
	type ListingOrigin = EnsureRoot<AccountId>;
	type OnRejection = ResolveTo<TreasuryAccount, Balances>;
	type BaseDeposit = ConstU128<BASE_DEPOSIT>;
	type ByteDeposit = ConstU128<BYTE_DEPOSIT>;
	type MaxExecutionCost = MaxExecutionCost;
	type MaxExecutionMemory = MaxExecutionMemory;
}

/// A well-formed spec for artifact `seed`: the digits classifier's shapes.
pub fn spec(seed: u8) -> ModelSpec<Test> {
	let tensor = |name: &str, elem, shape: &[u32], frac_bits| TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
	};
	ModelSpec {
		artifact_hash: ModelHash::repeat_byte(seed),
		artifact_size: 12_345,
		format: ModelFormat::Onnx,
		schema: IoSchema {
			inputs: vec![tensor("input", ElementType::F32, &[1, 64], 0)].try_into().unwrap(),
			outputs: vec![tensor("label", ElementType::I64, &[1], 0)].try_into().unwrap(),
		},
		comparison: ComparisonRule::PerOutput(vec![OutputRule::Exact].try_into().unwrap()),
		price_per_worker: 100,
		owner_royalty: 10,
		uris: vec![b"https://models.example/digits.onnx".to_vec().try_into().unwrap()]
			.try_into()
			.unwrap(),
		metadata: ModelMetadata {
			name: b"digits".to_vec().try_into().unwrap(),
			description: Description::Text(b"8x8 digit classifier".to_vec().try_into().unwrap()),
			licence: b"Apache-2.0".to_vec().try_into().unwrap(),
		},
		supersedes: None,
	}
}

/// Builds test externalities with endowed accounts and optional genesis models.
#[derive(Default)]
pub struct ExtBuilder {
	genesis_models: Vec<(AccountId, ModelSpec<Test>)>,
	genesis_executables: Vec<Vec<u8>>,
}

impl ExtBuilder {
	/// Lists `artifact` as executable at genesis (its spec must be a genesis model too).
	pub fn with_genesis_executable(mut self, artifact: Vec<u8>) -> Self {
		self.genesis_executables.push(artifact);
		self
	}

	pub fn with_genesis_model(mut self, owner: AccountId, spec: ModelSpec<Test>) -> Self {
		self.genesis_models.push((owner, spec));
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![(ALICE, ENDOWMENT), (BOB, ENDOWMENT), (POOR, 10), (TREASURY, 1)],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_models::GenesisConfig::<Test> {
			models: self.genesis_models,
			executables: self.genesis_executables.into_iter().map(Into::into).collect(),
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test` at block 1, then checks the registry's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Models::do_try_state().expect("the registry's invariants hold");
		});
	}
}
