//! A test runtime: System, Balances and the job market, with doubles of the model registry,
//! worker staking and the VRF randomness.

use crate::{self as pallet_jobs, InlineTensors, Payload};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, Get, Hooks, Randomness},
	weights::Weight,
	BoundedVec, PalletId,
};
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{BuildStorage, DispatchError, DispatchResult, Perbill};
use std::collections::BTreeMap;
use veritensor_primitives::{
	tensor::{ElementType, TensorSpec},
	traits::{
		Candidate, ExecutionError, ModelRegistry, ModelTerms, Outcome, SlashAmount, SlashReason,
		WorkerStaking,
	},
	ComparisonRule, IoSchema, ModelHash, OutputRule, Receipt, Tensor, WorkerId, WorkerSignature,
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
	pub type Jobs = pallet_jobs;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
	// Non-zero, so the weights the pallet adds per storage access are seen by the tests.
	type DbWeight = frame_support::weights::constants::ParityDbWeight;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const USER: AccountId = 1;
pub const OTHER_USER: AccountId = 2;
pub const OWNER: AccountId = 10;
pub const POOR: AccountId = 4;
pub const TREASURY: AccountId = 99;
/// Where the staking double takes slashes' reporter bounties from.
pub const SLASHED_BONDS: AccountId = 98;
pub const ENDOWMENT: Balance = 1_000_000;
pub const EXISTENTIAL_DEPOSIT: Balance = 5;
pub const PRICE: Balance = 100;
pub const ROYALTY: Balance = 20;
/// 100 + 20, plus 5 % of it.
pub const COST: Balance = 126;
pub const NO_SHOW_SLASH: Balance = 10;
pub const MIN_FEE: Balance = 50;
pub const EXPOSURE: Balance = 100;
pub const DELAY: u32 = 3;
pub const DEADLINE: u64 = 10;
pub const MIN_DEADLINE: u64 = 7;
pub const RETENTION: u64 = 80;
pub const COMMIT_WINDOW: u32 = 5;
pub const REVEAL_WINDOW: u32 = 3;
pub const MIN_QUORUM_DEADLINE: u64 = 19;
pub const DISPUTE_WINDOW: u64 = 20;
/// The reporter's share of a slash.
pub const REPORTER_BOUNTY: Perbill = Perbill::from_percent(10);

parameter_types! {
	pub const TreasuryAccount: AccountId = TREASURY;
	pub const JobsPalletId: PalletId = PalletId(*b"vt/jobs_");
	pub const AuditPoolId: PalletId = PalletId(*b"vt/audit");
	pub const ProtocolFee: Perbill = Perbill::from_percent(5);
	/// No block author unless a test names one.
	pub static BlockAuthor: Option<AccountId> = None;
	pub const AuthorShare: Perbill = Perbill::from_percent(20);
	/// No-shows cost the floor unless a test sets a multiple of the price.
	pub static NoShowSlashMultiple: u32 = 0;
	/// Results are free to store unless a test sets a price.
	pub static ResultBytePrice: Balance = 0;
	/// Every model's price per worker.
	pub static ModelPrice: Balance = PRICE;
	/// Audits happen at the rate from the slash unless a test sets a floor.
	pub static AuditRateFloor: Perbill = Perbill::zero();
}

/// The digits model: 64 pixels in, one label out.
pub fn digits() -> ModelHash {
	ModelHash::repeat_byte(1)
}

pub fn schema() -> IoSchema {
	let spec = |name: &str, elem, shape: &[u32]| TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits: 0,
	};
	IoSchema {
		inputs: vec![spec("input", ElementType::U8, &[1, 64])].try_into().unwrap(),
		outputs: vec![spec("label", ElementType::I64, &[1])].try_into().unwrap(),
	}
}

thread_local! {
	static LISTED: RefCell<BTreeMap<ModelHash, IoSchema>> = const { RefCell::new(BTreeMap::new()) };
	static SLASHES: RefCell<Vec<(WorkerId, Balance, SlashReason)>> = const { RefCell::new(Vec::new()) };
	static OUTCOMES: RefCell<Vec<(WorkerId, Outcome)>> = const { RefCell::new(Vec::new()) };
	static ANSWERS: RefCell<Vec<(WorkerId, bool)>> = const { RefCell::new(Vec::new()) };
	static VRF: RefCell<Option<H256>> = const { RefCell::new(Some(H256::repeat_byte(7))) };
	static PINNED: RefCell<BTreeMap<ModelHash, ComparisonRule>> =
		const { RefCell::new(BTreeMap::new()) };
	static EXECUTABLE: RefCell<BTreeMap<ModelHash, Execution>> =
		const { RefCell::new(BTreeMap::new()) };
}

/// How the registry double runs an executable model: labelling a digit image (`None`), with
/// fixed outputs, or failing.
type Execution = Result<Option<InlineTensors<Test>>, ExecutionError>;

/// What the registry double says one on-chain run of an executable model weighs.
pub const EXECUTION_WEIGHT: Weight = Weight::from_parts(40_000_000_000, 0);
/// The registry double's bound on [`EXECUTION_WEIGHT`].
pub const MAX_EXECUTION_WEIGHT: Weight = Weight::from_parts(160_000_000_000, 0);

/// Makes `model` one the runtime runs itself, pinned to the interpreter as such a model is.
/// The double's run labels a digit image with its first pixel's value modulo 10.
pub fn make_executable(model: ModelHash) {
	pin(model, veritensor_primitives::Engine::Interpreter, "0.1.0");
	EXECUTABLE.with(|executable| executable.borrow_mut().insert(model, Ok(None)));
}

/// Makes `model` one the runtime runs itself, whose every run computes `outputs`.
pub fn make_executable_with(model: ModelHash, outputs: InlineTensors<Test>) {
	pin(model, veritensor_primitives::Engine::Interpreter, "0.1.0");
	EXECUTABLE.with(|executable| executable.borrow_mut().insert(model, Ok(Some(outputs))));
}

/// Makes every on-chain run of the executable `model` fail with `error`.
pub fn fail_executions(model: ModelHash, error: ExecutionError) {
	EXECUTABLE.with(|executable| executable.borrow_mut().insert(model, Err(error)));
}

/// The output the registry double's run computes for a digit image of value `fill`.
pub fn executed_label(fill: u8) -> i64 {
	i64::from(fill % 10)
}

/// The comparison rule of `model` in the registry double: exact on every output unless [`pin`]
/// or [`set_rule`] set one.
fn comparison_of(model: &ModelHash) -> ComparisonRule {
	PINNED.with(|pinned| pinned.borrow().get(model).cloned()).unwrap_or_else(|| {
		let outputs = RegistryDouble::schema(model).map(|schema| schema.outputs.len()).unwrap_or(1);
		ComparisonRule::PerOutput(vec![OutputRule::Exact; outputs].try_into().unwrap())
	})
}

/// Sets `model`'s comparison rule.
pub fn set_rule(model: ModelHash, rule: ComparisonRule) {
	PINNED.with(|pinned| pinned.borrow_mut().insert(model, rule));
}

/// Pins `model` to `engine` at `version` (an exact-hash comparison rule).
pub fn pin(model: ModelHash, engine: veritensor_primitives::Engine, version: &str) {
	let version = version.as_bytes().to_vec().try_into().expect("a short version fits");
	PINNED.with(|pinned| {
		pinned.borrow_mut().insert(model, ComparisonRule::ExactHash { engine, version })
	});
}

/// The registry double: the digits model is listed; [`delist`] takes it away.
pub struct RegistryDouble;

impl ModelRegistry<AccountId, Balance> for RegistryDouble {
	fn terms_for_new_job(model: &ModelHash) -> Option<ModelTerms<AccountId, Balance>> {
		LISTED.with(|listed| listed.borrow().get(model).cloned()).map(|schema| ModelTerms {
			owner: OWNER,
			price_per_worker: ModelPrice::get(),
			owner_royalty: ROYALTY,
			schema,
			comparison: comparison_of(model),
		})
	}
	fn comparison(model: &ModelHash) -> Option<ComparisonRule> {
		Self::schema(model).map(|_| comparison_of(model))
	}
	fn schema(model: &ModelHash) -> Option<IoSchema> {
		(*model == digits())
			.then(schema)
			.or_else(|| LISTED.with(|l| l.borrow().get(model).cloned()))
	}
	fn acquire(model: &ModelHash) -> DispatchResult {
		with_open_jobs(|open| *open.entry(*model).or_default() += 1);
		Ok(())
	}
	fn release(model: &ModelHash) {
		with_open_jobs(|open| *open.entry(*model).or_default() -= 1);
	}
	fn open_jobs(model: &ModelHash) -> Option<u32> {
		Self::schema(model).map(|_| open_jobs(*model))
	}
	fn uris(model: &ModelHash) -> Vec<Vec<u8>> {
		if LISTED.with(|listed| listed.borrow().contains_key(model)) {
			vec![model_uri(model)]
		} else {
			Vec::new()
		}
	}
	fn execution_weight(model: &ModelHash) -> Option<Weight> {
		EXECUTABLE
			.with(|executable| executable.borrow().contains_key(model))
			.then_some(EXECUTION_WEIGHT)
	}
	fn max_execution_weight() -> Weight {
		MAX_EXECUTION_WEIGHT
	}
	fn execute<B: Get<u32>>(
		model: &ModelHash,
		inputs: &[Tensor<B>],
	) -> Result<Vec<Tensor<B>>, ExecutionError> {
		let fixed = EXECUTABLE
			.with(|executable| executable.borrow().get(model).cloned())
			.unwrap_or(Err(ExecutionError::NotExecutable))?;
		if let Some(outputs) = fixed {
			return Ok(outputs
				.iter()
				.map(|tensor| Tensor {
					elem: tensor.elem,
					shape: tensor.shape.clone(),
					frac_bits: tensor.frac_bits,
					data: tensor.data.to_vec().try_into().unwrap(),
				})
				.collect());
		}
		let fill =
			inputs.first().and_then(|input| input.data.first()).ok_or(ExecutionError::BadInput)?;
		Ok(vec![Tensor {
			elem: ElementType::I64,
			shape: vec![1].try_into().unwrap(),
			frac_bits: 0,
			data: executed_label(*fill).to_le_bytes().to_vec().try_into().unwrap(),
		}])
	}
}

/// Where the registry double says a listed model's file is.
pub fn model_uri(model: &ModelHash) -> Vec<u8> {
	format!("https://models.test/{model:?}.onnx").into_bytes()
}

/// Lists `model` with `schema` in the registry double.
pub fn list(model: ModelHash, schema: IoSchema) {
	LISTED.with(|listed| listed.borrow_mut().insert(model, schema));
}

pub fn delist(model: ModelHash) {
	LISTED.with(|listed| listed.borrow_mut().remove(&model));
}

/// The registry double's count of open jobs by model, kept in storage so that it rolls back
/// with a failed call, as the real registry's does.
const OPEN_JOBS_KEY: &[u8] = b":test:open-jobs-double";

fn with_open_jobs<R>(f: impl FnOnce(&mut BTreeMap<ModelHash, u32>) -> R) -> R {
	let mut open: BTreeMap<ModelHash, u32> =
		frame_support::storage::unhashed::get(OPEN_JOBS_KEY).unwrap_or_default();
	let result = f(&mut open);
	frame_support::storage::unhashed::put(OPEN_JOBS_KEY, &open);
	result
}

pub fn open_jobs(model: ModelHash) -> u32 {
	with_open_jobs(|open| open.get(&model).copied().unwrap_or_default())
}

/// The staking double keeps its workers in storage, so that they roll back with it (the
/// benchmark tests rely on that).
const WORKERS_KEY: &[u8] = b":test:workers-double";

struct WorkersStore;

impl WorkersStore {
	fn with<R>(f: impl FnOnce(&mut BTreeMap<WorkerId, WorkerDouble>) -> R) -> R {
		let mut workers: BTreeMap<WorkerId, WorkerDouble> =
			frame_support::storage::unhashed::get(WORKERS_KEY).unwrap_or_default();
		let result = f(&mut workers);
		frame_support::storage::unhashed::put(WORKERS_KEY, &workers);
		result
	}
}

/// A worker as the staking double keeps it.
#[derive(Clone, codec::Encode, codec::Decode)]
pub struct WorkerDouble {
	pub models: Vec<ModelHash>,
	pub operator: AccountId,
	pub stake: Balance,
	pub capacity: u32,
	pub open: u32,
}

/// The worker staking double: workers added with [`add_worker`] serve the digits model.
pub struct StakingDouble;

impl WorkerStaking<AccountId, Balance> for StakingDouble {
	type MaxCandidates = ConstU32<16>;

	fn max_exposure() -> Balance {
		EXPOSURE
	}

	fn eligibility_delay() -> u32 {
		DELAY + 2
	}

	fn slashable_window() -> u32 {
		200
	}

	fn candidates(
		model: &ModelHash,
		exposure: Balance,
	) -> BoundedVec<Candidate<AccountId, Balance>, Self::MaxCandidates> {
		if exposure > EXPOSURE {
			return BoundedVec::new();
		}
		let candidates: Vec<_> = WorkersStore::with(|workers| {
			workers
				.iter()
				.filter(|(_, w)| w.open < w.capacity && w.models.contains(model))
				.map(|(key, w)| Candidate {
					worker: key.clone(),
					operator: w.operator,
					stake: w.stake,
					free_slots: w.capacity - w.open,
				})
				.collect()
		});
		BoundedVec::truncate_from(candidates)
	}

	fn worker_account(worker: &WorkerId) -> Option<AccountId> {
		WorkersStore::with(|workers| workers.contains_key(worker)).then(|| account_of(worker))
	}

	fn operator(worker: &WorkerId) -> Option<AccountId> {
		WorkersStore::with(|workers| workers.get(worker).map(|record| record.operator))
	}

	fn payee(worker: &WorkerId) -> Option<AccountId> {
		Self::operator(worker)
	}

	fn open_assignments(worker: &WorkerId) -> Option<u32> {
		WorkersStore::with(|workers| workers.get(worker).map(|record| record.open))
	}

	fn note_assigned(worker: &WorkerId, _exposure: Balance) -> DispatchResult {
		WorkersStore::with(|workers| {
			let record = workers.get_mut(worker).ok_or(DispatchError::Other("unknown"))?;
			if record.open >= record.capacity {
				return Err(DispatchError::Other("full"));
			}
			record.open += 1;
			Ok(())
		})
	}

	fn note_released(worker: &WorkerId, _exposure: Balance, outcome: Outcome) {
		WorkersStore::with(|workers| {
			if let Some(record) = workers.get_mut(worker) {
				record.open -= 1;
			}
		});
		OUTCOMES.with(|outcomes| outcomes.borrow_mut().push((worker.clone(), outcome)));
	}

	fn note_answer(worker: &WorkerId, _model: &ModelHash, refused: bool) {
		ANSWERS.with(|answers| answers.borrow_mut().push((worker.clone(), refused)));
	}

	fn slash(
		worker: &WorkerId,
		amount: SlashAmount<Balance>,
		reason: SlashReason,
		reporter: Option<AccountId>,
	) -> Result<Balance, DispatchError> {
		// As worker staking does: an unregistered key cannot be slashed by its key.
		let operator = Self::operator(worker).ok_or(DispatchError::Other("unknown worker"))?;
		Self::slash_operator(&operator, worker, amount, reason, reporter)
	}

	fn slash_operator(
		_operator: &AccountId,
		worker: &WorkerId,
		amount: SlashAmount<Balance>,
		reason: SlashReason,
		reporter: Option<AccountId>,
	) -> Result<Balance, DispatchError> {
		let SlashAmount::Fixed(amount) = amount else { panic!("the job market slashes fixed") };
		SLASHES.with(|slashes| slashes.borrow_mut().push((worker.clone(), amount, reason)));
		// As worker staking does: the reporter gets a tenth of the slash (here from the
		// account standing for slashed bonds).
		if let Some(reporter) = reporter {
			use frame_support::traits::{fungible::Mutate, tokens::Preservation};
			let bounty = REPORTER_BOUNTY.mul_floor(amount);
			Balances::transfer(&SLASHED_BONDS, &reporter, bounty, Preservation::Preserve)?;
		}
		Ok(amount)
	}
}

pub fn worker_pair(seed: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[seed; 32])
}

pub fn worker(seed: u8) -> WorkerId {
	worker_pair(seed).public().into()
}

/// The account a worker key answers from: its first eight bytes.
pub fn account_of(key: &WorkerId) -> AccountId {
	let raw: sr25519::Public = key.clone().into();
	u64::from_le_bytes(raw.0[..8].try_into().unwrap())
}

/// Adds worker `seed` of `operator` with `stake` and `capacity`, and endows its account.
pub fn add_worker(seed: u8, operator: AccountId, stake: Balance, capacity: u32) {
	WorkersStore::with(|workers| {
		workers.insert(
			worker(seed),
			WorkerDouble { models: vec![digits()], operator, stake, capacity, open: 0 },
		)
	});
}

/// Worker `seed` serves `model` too.
pub fn serve(seed: u8, model: ModelHash) {
	WorkersStore::with(|workers| {
		if let Some(record) = workers.get_mut(&worker(seed)) {
			record.models.push(model);
		}
	});
}

pub fn remove_worker(seed: u8) {
	WorkersStore::with(|workers| workers.remove(&worker(seed)));
}

pub fn worker_open(seed: u8) -> u32 {
	WorkersStore::with(|workers| workers.get(&worker(seed)).map_or(0, |w| w.open))
}

pub fn slashes() -> Vec<(WorkerId, Balance, SlashReason)> {
	SLASHES.with(|slashes| slashes.borrow().clone())
}

pub fn outcomes() -> Vec<(WorkerId, Outcome)> {
	OUTCOMES.with(|outcomes| outcomes.borrow().clone())
}

/// The answers counted towards workers' refusal rates: the worker, and whether it refused.
pub fn counted_answers() -> Vec<(WorkerId, bool)> {
	ANSWERS.with(|answers| answers.borrow().clone())
}

pub fn set_vrf(output: Option<H256>) {
	VRF.with(|vrf| *vrf.borrow_mut() = output);
}

/// The randomness double: a settable parent VRF output.
pub struct VrfDouble;

impl Randomness<Option<H256>, u64> for VrfDouble {
	fn random(_subject: &[u8]) -> (Option<H256>, u64) {
		(VRF.with(|vrf| *vrf.borrow()), System::block_number().saturating_sub(1))
	}
}

impl pallet_jobs::Config for Test {
	type RuntimeHoldReason = RuntimeHoldReason;
	type Currency = Balances;
	type Models = RegistryDouble;
	type Workers = StakingDouble;
	type ParentVrf = VrfDouble;
	type TreasuryAccount = TreasuryAccount;
	type PalletId = JobsPalletId;
	type AuditPoolId = AuditPoolId;
	type ProtocolFee = ProtocolFee;
	type BlockAuthor = BlockAuthor;
	type AuthorShare = AuthorShare;
	type MinFee = ConstU128<MIN_FEE>;
	type NoShowSlashFloor = ConstU128<NO_SHOW_SLASH>;
	type NoShowSlashMultiple = NoShowSlashMultiple;
	type AuditRateFloor = AuditRateFloor;
	type ResultBytePrice = ResultBytePrice;
	type CommitWindow = ConstU32<COMMIT_WINDOW>;
	type RevealWindow = ConstU32<REVEAL_WINDOW>;
	type MinQuorumDeadline = ConstU64<MIN_QUORUM_DEADLINE>;
	type DisputeWindow = ConstU64<DISPUTE_WINDOW>;
	type MaxDisputeEndsPerBlock = ConstU32<8>;
	type AssignmentDelay = ConstU32<DELAY>;
	type MinDeadline = ConstU64<MIN_DEADLINE>;
	type MaxDeadline = ConstU64<100>;
	type ResultRetention = ConstU64<RETENTION>;
	type MaxWorkersPerJob = ConstU32<5>;
	type MaxInlineTensorBytes = ConstU32<4096>;
	type MaxUriLen = ConstU32<128>;
	type MaxJobsPerBlock = ConstU32<4>;
	type MaxModelsPerBlock = ConstU32<2>;
	type MaxResultsPerCall = ConstU32<4>;
	type MaxPrunedPerBlock = ConstU32<8>;
	type AnswerPriority = ConstU64<ANSWER_PRIORITY>;
	type WorkerRunBudget = ConstU64<500>;
	type ExpectedBlockTime = ConstU64<1_000>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistryDouble;
}

/// The pool priority of valid answers.
pub const ANSWER_PRIORITY: u64 = 1 << 40;

/// A transaction of the mock: general, its call authorizing itself.
pub type Transaction = sp_runtime::generic::UncheckedExtrinsic<
	AccountId,
	RuntimeCall,
	sr25519::Signature,
	frame_system::AuthorizeCall<Test>,
>;

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = Transaction;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extension = frame_system::AuthorizeCall<Test>;

	fn create_transaction(call: RuntimeCall, extension: Self::Extension) -> Transaction {
		Transaction::new_transaction(call, extension)
	}
}

impl<C> frame_system::offchain::CreateAuthorizedTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_extension() -> Self::Extension {
		frame_system::AuthorizeCall::new()
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_jobs::BenchmarkHelper for RegistryDouble {
	fn list_model(model: ModelHash, schema: IoSchema) {
		// Element by element, as the runtime's benchmark models are compared.
		let rules = vec![OutputRule::Tolerance { agree: 0, slash: 0 }; schema.outputs.len()];
		set_rule(model, ComparisonRule::PerOutput(rules.try_into().unwrap()));
		LISTED.with(|listed| listed.borrow_mut().insert(model, schema));
	}
	fn add_worker(models: &[ModelHash], index: u32, capacity: u32) -> WorkerId {
		use sp_runtime::RuntimeAppPublic;
		let key = WorkerId::generate_pair(None);
		let double = WorkerDouble {
			models: models.to_vec(),
			operator: 1_000 + index as AccountId,
			stake: 1_000,
			capacity,
			open: 0,
		};
		WorkersStore::with(|workers| workers.insert(key.clone(), double));
		key
	}
	fn add_crowded_worker(model: ModelHash, index: u32) -> WorkerId {
		<Self as pallet_jobs::BenchmarkHelper>::add_worker(&[model], index, 1)
	}
	fn max_models_per_worker() -> u32 {
		8
	}
	fn make_eligible() {}

	fn set_block_author() {
		// An account no test uses.
		BlockAuthor::set(Some(0xa0));
	}
}

/// A digit image: 64 pixels of value `fill`.
pub fn image(fill: u8) -> Payload<Test> {
	let tensor = Tensor {
		elem: ElementType::U8,
		shape: vec![1, 64].try_into().unwrap(),
		frac_bits: 0,
		data: vec![fill; 64].try_into().unwrap(),
	};
	Payload::Inline(InlineTensors::<Test>::truncate_from(vec![tensor]))
}

/// A predicted label.
pub fn label(value: i64) -> Payload<Test> {
	let tensor = Tensor {
		elem: ElementType::I64,
		shape: vec![1].try_into().unwrap(),
		frac_bits: 0,
		data: value.to_le_bytes().to_vec().try_into().unwrap(),
	};
	Payload::Inline(InlineTensors::<Test>::truncate_from(vec![tensor]))
}

/// Worker `seed`'s receipt signature over `output` for `job`.
pub fn sign(seed: u8, job: u64, output: &Payload<Test>) -> WorkerSignature {
	let output_hash = match output {
		Payload::Inline(tensors) => veritensor_primitives::output_hash(tensors),
		Payload::Remote { hash, .. } => *hash,
	};
	let record = pallet_jobs::Jobs::<Test>::get(job).expect("the job is open");
	let receipt = Receipt {
		genesis_hash: System::block_hash(0),
		job_id: job,
		model: record.model,
		input_hash: record.input_hash,
		output_hash,
		worker: worker(seed),
	};
	worker_pair(seed).sign(&receipt.signing_payload()).into()
}

/// Runs the job market's hooks up to block `n`.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		<Jobs as Hooks<u64>>::on_initialize(next);
	}
}

/// Builds test externalities with endowed accounts.
#[derive(Default)]
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		LISTED.with(|listed| *listed.borrow_mut() = BTreeMap::from([(digits(), schema())]));
		PINNED.with(|pinned| pinned.borrow_mut().clear());
		EXECUTABLE.with(|executable| executable.borrow_mut().clear());
		SLASHES.with(|slashes| slashes.borrow_mut().clear());
		OUTCOMES.with(|outcomes| outcomes.borrow_mut().clear());
		ANSWERS.with(|answers| answers.borrow_mut().clear());
		set_vrf(Some(H256::repeat_byte(7)));
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(USER, ENDOWMENT),
				(OTHER_USER, ENDOWMENT),
				(POOR, 100),
				(TREASURY, EXISTENTIAL_DEPOSIT),
				(SLASHED_BONDS, ENDOWMENT),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_jobs::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
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
			Jobs::do_try_state().expect("the job market's invariants hold");
		});
	}
}
