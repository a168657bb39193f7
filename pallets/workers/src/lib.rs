//! # Worker staking
//!
//! Workers put money at stake so that cheating costs more than it pays. An *operator* bonds funds
//! (held under [`HoldReason::OperatorBond`]) and registers *workers*: worker keys that its nodes'
//! off-chain workers sign results with. The job market draws workers for jobs among the eligible
//! ones and slashes the operator behind a worker that misbehaves.
//!
//! ## Bonds
//!
//! - `bond` opens a ledger with at least [`Config::MinOperatorBond`]; `bond_extra` adds to it.
//! - `unbond` moves funds into an unbonding chunk that `withdraw_unbonded` releases after
//!   [`Config::UnbondingPeriod`]; `rebond` moves unbonding funds back. Unbonding funds stay held
//!   and slashable until withdrawn.
//! - The active bond must always cover what the workers could be given: for every worker, its
//!   capacity times [`Config::MaxAssignmentSlash`] (the most one assignment can be slashed for),
//!   and never less than what its open assignments could be slashed for. So nobody escapes a
//!   slash by unbonding first.
//!
//! ## Workers
//!
//! `register` names a worker key with a proof of possession (the key's signature over
//! [`veritensor_primitives::possession_payload`] of the operator and the genesis hash), the listed
//! models it serves and its capacity (assignments held at once). Results come from the key's own
//! account ([`Config::KeyAccount`]). `update`, `chill`, `resume` change what a worker offers;
//! `unregister` removes a chilled worker without open assignments.
//!
//! ## Eligibility, with a delay
//!
//! The job market draws workers with randomness that becomes known block by block. So that
//! nobody can react to it, every change an operator makes to eligibility (registering, serving a
//! model, capacity, chilling, resuming, and the stake that weighs the draw) takes effect only
//! [`Config::EligibilityDelay`] blocks later. Slashes apply at once.
//!
//! A worker is eligible for a job of a model when, at the current block, it is in the model's set
//! (seated for at least the delay, or evicted less than the delay ago), its settings serve the
//! model, it is not chilled, it holds fewer assignments than its capacity, and its operator's
//! stake is at least the minimum. Each model keeps a bounded set of the workers that serve it or
//! are scheduled to, so finding the candidates for a job reads a bounded number of records.
//!
//! ## Seats are ranked by stake
//!
//! A model's set has [`Config::MaxWorkersPerModel`] seats, and one operator holds at most
//! [`Config::MaxWorkersPerModelPerOperator`] of them. A worker takes a seat when a call asks for
//! the model and holds it until it no longer serves the model or is evicted; a seat reaches the
//! draw only after the delay. A worker that asks to serve a model whose seats are all taken takes
//! the seat of the seated worker with the lowest operator stake, if its own operator's stake is
//! strictly higher; otherwise the call fails with `ModelFull`. Stake here
//! is the delayed stake the draw weighs, never the active bond, so nobody can outrank others in
//! reaction to randomness already known. The evicted worker is told by an [`Event::Evicted`],
//! keeps its open assignments and its settings, and keeps being drawn for the model until the
//! newcomer can be, so an eviction changes no draw before the delay either. Filling a
//! model's seats therefore takes more stake than anyone who wants to serve it, spread over at
//! least `MaxWorkersPerModel / MaxWorkersPerModelPerOperator` operators.
//!
//! ## Refusing work has a cost
//!
//! A worker that answers "cannot execute" far more often than the other workers of the same
//! model is chilled at once ([`Event::ChilledForRefusals`]). Answers are counted per model over
//! windows of [`Config::RefusalWindow`] blocks; a worker is judged once it and its peers have
//! [`Config::MinAnswersForRefusalCheck`] answers each in the window, and chilled when its refusal
//! rate exceeds its peers' by more than [`Config::RefusalTolerance`]. Measured against peers, a
//! model whose file is unavailable to everyone punishes nobody. Refusals earn nothing.
//!
//! ## Slashing
//!
//! The job market slashes through [`veritensor_primitives::traits::WorkerStaking::slash`]: from
//! the active bond first, then from unbonding chunks (the latest to unlock first).
//! [`Config::ReporterBounty`] of the slash goes to a reporter if there is one, the rest to
//! [`Config::OnSlash`] (the treasury). When a slash leaves the bond below the minimum or short of
//! what the workers' capacities need, all of the operator's workers are chilled at once.
//!
//! ## Code map
//!
//! - `ledger.rs`: the operator ledger, the only writer of [`Operators`]: `OperatorLedger::get`
//!   reads one, `update` writes it and sets the bond hold to what it records, `close` removes an
//!   empty one;
//! - `asset.rs`: every call into the currency (the bond hold, slashes, their payout);
//! - `registration.rs`: proofs of possession, checks on settings, scheduled settings changes;
//! - `eligibility.rs`: the delay, the bond a capacity needs, candidates and worker views;
//! - `model_sets.rs`: the bounded per-model sets of workers, their seats and evictions;
//! - `refusals.rs`: counting answers and refusals, and chilling workers that refuse too often;
//! - `slashing.rs`: slashes and the chilling they cause;
//! - `staking_interface.rs`: the [`veritensor_primitives::traits::WorkerStaking`] implementation;
//! - `invariants.rs`: the checks of `try_state`;
//! - `migrations/`: one module per storage version (version 1: set entries that record
//!   evictions, and the seat cap applied to sets filled before it).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

/// The target of this pallet's log lines.
pub(crate) const LOG_TARGET: &str = "runtime::workers";

/// Logs at `$level` under [`LOG_TARGET`]: `log!(info, "operator {:?} ...", operator)`.
macro_rules! log {
	($level:ident, $($arg:tt)+) => {
		::log::$level!(target: $crate::LOG_TARGET, $($arg)+)
	};
}

pub use pallet::*;

mod asset;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod eligibility;
#[cfg(any(test, feature = "try-runtime"))]
mod invariants;
mod ledger;
pub mod migrations;
#[cfg(test)]
mod mock;
mod model_sets;
mod refusals;
mod registration;
pub mod runtime_api;
mod slashing;
mod staking_interface;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, OnUnbalanced},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{Convert, Saturating, Zero},
		Perbill,
	};
	use veritensor_primitives::{traits::ModelRegistry, ModelHash, WorkerId, WorkerSignature};

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Defaults for the configuration items that depend neither on the currency nor on the
	/// block number.
	pub mod config_preludes {
		use super::*;
		use frame_support::{derive_impl, parameter_types};

		parameter_types! {
			pub const ReporterBounty: Perbill = Perbill::from_percent(10);
			pub const RefusalTolerance: Perbill = Perbill::from_percent(50);
		}

		/// Defaults for tests and mocks.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type ReporterBounty = ReporterBounty;
			type MaxUnbondingChunks = ConstU32<8>;
			type MaxWorkersPerOperator = ConstU32<8>;
			type MaxModelsPerWorker = ConstU32<4>;
			type MaxWorkersPerModel = ConstU32<16>;
			type MaxWorkersPerModelPerOperator = ConstU32<4>;
			type MaxCapacity = ConstU32<64>;
			type MinAnswersForRefusalCheck = ConstU32<20>;
			type RefusalTolerance = RefusalTolerance;
			type WeightInfo = ();
		}
	}

	/// Configuration of worker staking.
	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config<Hash = sp_core::H256> {
		/// The overarching hold reason; bonds are held under [`HoldReason::OperatorBond`].
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;

		/// The currency bonds are held in.
		#[pallet::no_default]
		type Currency: fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::BalancedHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::Balanced<Self::AccountId>;

		/// The model registry: workers may only serve models that take jobs.
		#[pallet::no_default]
		type Models: ModelRegistry<Self::AccountId, BalanceOf<Self>>;

		/// The account a worker key submits its results from.
		#[pallet::no_default]
		type KeyAccount: Convert<WorkerId, Self::AccountId>;

		/// Receives slashed funds beyond the reporter's bounty (the treasury).
		#[pallet::no_default]
		type OnSlash: OnUnbalanced<CreditOf<Self>>;

		/// The smallest active bond an operator may hold, and below which its workers are not
		/// eligible.
		#[pallet::constant]
		#[pallet::no_default]
		type MinOperatorBond: Get<BalanceOf<Self>>;

		/// The most a single assignment may be slashed for. Each unit of a worker's capacity
		/// needs this much active bond.
		#[pallet::constant]
		#[pallet::no_default]
		type MaxAssignmentSlash: Get<BalanceOf<Self>>;

		/// Part of a slash paid to whoever reported the offence.
		#[pallet::constant]
		type ReporterBounty: Get<Perbill>;

		/// Blocks from `unbond` until the funds can be withdrawn.
		#[pallet::constant]
		#[pallet::no_default]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// The longest an assignment's outcome can still lead to a slash, counted from the
		/// assignment: the longest job lifetime plus any challenge window. The unbonding period
		/// must be longer.
		#[pallet::constant]
		#[pallet::no_default]
		type SlashableWindow: Get<BlockNumberFor<Self>>;

		/// Blocks before a change to a worker's eligibility or an operator's stake takes effect.
		/// Must be at least the job market's assignment delay.
		#[pallet::constant]
		#[pallet::no_default]
		type EligibilityDelay: Get<BlockNumberFor<Self>>;

		/// Most unbonding chunks per operator; `unbond` fails when they are all in use until
		/// some are withdrawn.
		#[pallet::constant]
		type MaxUnbondingChunks: Get<u32>;

		/// Most workers per operator.
		#[pallet::constant]
		type MaxWorkersPerOperator: Get<u32>;

		/// Most models one worker serves.
		#[pallet::constant]
		type MaxModelsPerWorker: Get<u32>;

		/// Seats in one model's set: most workers serving one model, or scheduled to, besides those
		/// evicted in the last `EligibilityDelay` blocks (the set stores twice this). It bounds the
		/// work of finding the candidates for a job; when the seats are taken, a worker whose
		/// operator has more stake than the lowest seated one takes that one's seat.
		#[pallet::constant]
		type MaxWorkersPerModel: Get<u32>;

		/// Most seats of one model's set that one operator's workers hold. Without it one
		/// operator could fill every seat of a model with its own workers and take all its jobs;
		/// with it, filling a model takes `MaxWorkersPerModel / MaxWorkersPerModelPerOperator`
		/// operators, each outranking everyone who wants a seat.
		#[pallet::constant]
		type MaxWorkersPerModelPerOperator: Get<u32>;

		/// Blocks over which workers' answers and refusals are counted, per model, to compare a
		/// worker's refusal rate with its peers'. Long enough to collect a fair sample, short
		/// enough that a worker's record of an old outage fades.
		#[pallet::constant]
		#[pallet::no_default]
		type RefusalWindow: Get<BlockNumberFor<Self>>;

		/// Answers a worker, and its peers together, must have given on a model within the
		/// window before the worker can be chilled for refusing: a few refusals by bad luck
		/// chill nobody.
		#[pallet::constant]
		type MinAnswersForRefusalCheck: Get<u32>;

		/// How much higher than its peers' a worker's refusal rate on a model may be before it is
		/// chilled. It defends the model's users from a worker that takes assignments only to
		/// refuse them (censorship), while an honest worker's refusals, which its peers share,
		/// stay far below it.
		#[pallet::constant]
		type RefusalTolerance: Get<Perbill>;

		/// Largest capacity of one worker.
		#[pallet::constant]
		type MaxCapacity: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Lists models for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: BenchmarkHelper;
	}

	/// What the benchmarks need from the runtime.
	#[cfg(feature = "runtime-benchmarks")]
	pub trait BenchmarkHelper {
		/// Makes `model` a model that takes new jobs.
		fn list_model(model: ModelHash);
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// An operator's bond, active or unbonding.
		#[codec(index = 0)]
		OperatorBond,
	}

	/// Operators' bonds and workers, by operator account.
	#[pallet::storage]
	pub type Operators<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, OperatorLedger<T>>;

	/// Where an operator's workers' earnings go, if not to the operator itself.
	#[pallet::storage]
	pub type Payees<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, T::AccountId>;

	/// Registered workers, by worker key.
	#[pallet::storage]
	pub type Workers<T: Config> = StorageMap<_, Blake2_128Concat, WorkerId, WorkerRecord<T>>;

	/// The workers that serve a model now or are scheduled to, by model: at most
	/// `MaxWorkersPerModel` seated, and evicted workers, which the draw still sees until their
	/// eviction takes effect. Entries of workers that no longer serve the model are dropped when
	/// the set is next changed.
	#[pallet::storage]
	pub type ModelWorkers<T: Config> =
		StorageMap<_, Blake2_128Concat, ModelHash, ModelSet<T>, ValueQuery>;

	/// A worker's answers and refusals on a model in the current refusal window, by model and
	/// worker. Kept only for models the worker serves or is scheduled to serve.
	#[pallet::storage]
	pub type WorkerTallies<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		ModelHash,
		Blake2_128Concat,
		WorkerId,
		AnswerTally<BlockNumberFor<T>>,
	>;

	/// All workers' answers and refusals on a model in the current refusal window, by model.
	#[pallet::storage]
	pub type ModelTallies<T: Config> =
		StorageMap<_, Blake2_128Concat, ModelHash, AnswerTally<BlockNumberFor<T>>, ValueQuery>;

	/// Events of worker staking.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An operator bonded funds, opening its ledger or adding to it.
		Bonded { operator: T::AccountId, amount: BalanceOf<T> },
		/// An operator started unbonding funds; they can be withdrawn from `unlock_at`.
		Unbonded { operator: T::AccountId, amount: BalanceOf<T>, unlock_at: BlockNumberFor<T> },
		/// An operator moved unbonding funds back into its active bond.
		Rebonded { operator: T::AccountId, amount: BalanceOf<T> },
		/// Unbonded funds were released to the operator.
		Withdrawn { operator: T::AccountId, amount: BalanceOf<T> },
		/// An operator's ledger was closed: nothing bonded, nothing unbonding, no workers.
		LedgerClosed { operator: T::AccountId },
		/// A worker was registered; it becomes eligible from block `from`.
		Registered {
			worker: WorkerId,
			operator: T::AccountId,
			account: T::AccountId,
			from: BlockNumberFor<T>,
		},
		/// A worker's models and capacity were changed, in effect from block `from`.
		Updated { worker: WorkerId, models: u32, capacity: u32, from: BlockNumberFor<T> },
		/// A worker takes no new assignments from block `from`.
		Chilled { worker: WorkerId, from: BlockNumberFor<T> },
		/// A chilled worker takes assignments again from block `from`.
		Resumed { worker: WorkerId, from: BlockNumberFor<T> },
		/// A worker was removed.
		Unregistered { worker: WorkerId, operator: T::AccountId },
		/// A worker lost its seat in `model`'s set to `by`, whose operator has more stake (none:
		/// its operator held more seats of the model than it may, at the upgrade that set the
		/// cap). It keeps its open assignments and is drawn for the model until block `from`.
		Evicted {
			worker: WorkerId,
			model: ModelHash,
			by: Option<WorkerId>,
			from: BlockNumberFor<T>,
		},
		/// A worker was chilled at once for refusing `model`'s jobs far more often than its
		/// peers: `refused` of its `answered` assignments in the window, against `peers_refused`
		/// of `peers_answered` for the model's other workers.
		ChilledForRefusals {
			worker: WorkerId,
			model: ModelHash,
			refused: u32,
			answered: u32,
			peers_refused: u32,
			peers_answered: u32,
		},
		/// An operator chose where its workers' earnings go from now on.
		PayeeSet { operator: T::AccountId, payee: T::AccountId },
		/// An operator was slashed for a worker's offence; `reporter_bounty` of `amount` went to
		/// the reporter, the rest to the treasury.
		Slashed {
			operator: T::AccountId,
			worker: WorkerId,
			amount: BalanceOf<T>,
			reason: veritensor_primitives::traits::SlashReason,
			reporter_bounty: BalanceOf<T>,
		},
	}

	/// Errors of worker staking.
	#[pallet::error]
	pub enum Error<T> {
		/// The account already has a bond; use `bond_extra`.
		AlreadyBonded,
		/// The account has no bond.
		NotBonded,
		/// The bond would be below `MinOperatorBond` (and not zero).
		BondBelowMinimum,
		/// The account cannot cover the amount.
		InsufficientBalance,
		/// The amount is zero.
		ZeroAmount,
		/// More than the active bond.
		InsufficientBond,
		/// More than the funds being unbonded.
		InsufficientUnbonding,
		/// The bond would no longer cover the workers' capacities times `MaxAssignmentSlash`, or
		/// what their open assignments could be slashed for.
		BondBelowCommitments,
		/// Every unbonding chunk is in use; withdraw unlocked funds first.
		TooManyUnbondingChunks,
		/// No unbonding funds are unlocked yet.
		NothingToWithdraw,
		/// This worker key is already registered.
		AlreadyRegistered,
		/// The proof of possession is not the key's signature over the operator and genesis hash.
		BadPossessionProof,
		/// No worker has this key.
		UnknownWorker,
		/// Only the worker's operator may do this.
		NotOperator,
		/// The operator has `MaxWorkersPerOperator` workers.
		TooManyWorkers,
		/// A worker must serve at least one model.
		NoModels,
		/// A model appears twice.
		DuplicateModel,
		/// A model is not listed for new jobs.
		ModelNotListed,
		/// Every seat of a model's set is taken by workers whose operators have at least as much
		/// stake as this worker's operator (the stake the draw weighs, which follows a bond only
		/// after `EligibilityDelay`).
		ModelFull,
		/// Capacity must be at least one.
		ZeroCapacity,
		/// Capacity above `MaxCapacity`.
		CapacityTooHigh,
		/// The worker is already chilled (or scheduled to be).
		AlreadyChilled,
		/// The worker is not chilled (nor scheduled to be).
		NotChilled,
		/// The worker is not chilled yet, or a change to it is still scheduled; chill it and wait
		/// for the chill to take effect.
		ChillNotInEffect,
		/// The worker still holds assignments.
		OpenAssignments,
		/// The worker holds no free slot, is chilled, or serves no such model now.
		NotEligible,
		/// An assignment's exposure above `MaxAssignmentSlash`.
		ExposureTooHigh,
		/// A counter would overflow.
		Overflow,
		/// The operator's workers already hold `MaxWorkersPerModelPerOperator` seats of a model
		/// (a worker on its way out holds its seat until it has left).
		OperatorSeatsFull,
		/// The worker was evicted from a model it asks for, and the eviction has not taken effect
		/// yet (see `Evicted`'s `from`): ask again from that block on.
		EvictionPending,
	}

	/// Operators bonded and workers registered at genesis (the development chain's worker, so
	/// that a fresh chain answers jobs at once). Genesis is trusted: no proof of possession is
	/// asked, and the bonds and workers count from block 0, without the eligibility delay (no
	/// randomness exists yet to react to).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Operators and their bonds (each at least `MinOperatorBond`, held from their balance).
		pub operators: alloc::vec::Vec<(T::AccountId, BalanceOf<T>)>,
		/// Worker keys, each with its operator (bonded above), the models it serves (listed at
		/// genesis) and its capacity; the operator's bond must cover the capacity.
		pub workers: alloc::vec::Vec<(WorkerId, T::AccountId, alloc::vec::Vec<ModelHash>, u32)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// A bad chain spec must stop the chain from starting, so genesis fails loudly here.
			for (operator, bond) in &self.operators {
				assert!(
					!OperatorLedger::<T>::exists(operator),
					"genesis operator {operator:?} is bonded twice"
				);
				assert!(
					*bond >= T::MinOperatorBond::get(),
					"genesis operator {operator:?} bonds less than the minimum"
				);
				if let Err(error) =
					OperatorLedger::<T>::open_from(operator.clone(), *bond, Zero::zero()).update()
				{
					panic!("genesis operator {operator:?} cannot hold its bond: {error:?}");
				}
			}
			for (worker, operator, models, capacity) in &self.workers {
				let Ok(ledger) = OperatorLedger::<T>::get(operator) else {
					panic!("genesis worker {worker:?}'s operator {operator:?} is not bonded");
				};
				assert!(
					!Workers::<T>::contains_key(worker),
					"genesis worker {worker:?} is listed twice"
				);
				let Ok(served) = ServedModels::<T>::try_from(models.clone()) else {
					panic!("genesis worker {worker:?} serves more than MaxModelsPerWorker models");
				};
				if let Err(error) =
					Pallet::<T>::enrol(operator, ledger, worker, served, *capacity, Zero::zero())
				{
					panic!("genesis worker {worker:?} cannot be registered: {error:?}");
				}
				Pallet::<T>::seat_at_genesis(worker, models);
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::UnbondingPeriod::get() > T::SlashableWindow::get(),
				"funds must stay slashable for longer than any assignment can lead to a slash"
			);
			assert!(!T::MinOperatorBond::get().is_zero(), "the minimum bond must not be zero");
			assert!(!T::MaxAssignmentSlash::get().is_zero(), "assignments must be slashable");
			assert!(!T::EligibilityDelay::get().is_zero(), "eligibility changes need a delay");
			assert!(T::MaxUnbondingChunks::get() > 0, "unbonding needs at least one chunk");
			assert!(T::MaxWorkersPerOperator::get() > 0, "operators need room for a worker");
			assert!(T::MaxModelsPerWorker::get() > 0, "workers need room for a model");
			assert!(T::MaxWorkersPerModel::get() > 0, "models need room for a worker");
			assert!(
				T::MaxWorkersPerModelPerOperator::get() > 0
					&& T::MaxWorkersPerModelPerOperator::get() < T::MaxWorkersPerModel::get(),
				"one operator must not be able to hold every seat of a model"
			);
			assert!(!T::RefusalWindow::get().is_zero(), "refusals are counted over a window");
			assert!(T::MinAnswersForRefusalCheck::get() > 0, "a judgement needs a sample");
			assert!(T::MaxCapacity::get() > 0, "workers need room for an assignment");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens an operator ledger and holds `value` as its bond.
		///
		/// Origin: the operator, a signed account without a bond.
		///
		/// Fails with `AlreadyBonded`, `BondBelowMinimum` if `value` is below
		/// `MinOperatorBond`, or `InsufficientBalance`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::bond())]
		pub fn bond(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			ensure!(!OperatorLedger::<T>::exists(&operator), Error::<T>::AlreadyBonded);
			ensure!(value >= T::MinOperatorBond::get(), Error::<T>::BondBelowMinimum);
			OperatorLedger::<T>::open(operator.clone(), value).update()?;
			Self::deposit_event(Event::Bonded { operator, amount: value });
			Ok(())
		}

		/// Adds `value` to the operator's active bond. The draw weighs the new stake after
		/// `EligibilityDelay`; slashes can reach it at once.
		///
		/// Origin: a bonded operator.
		///
		/// Fails with `ZeroAmount`, `NotBonded`, `BondBelowMinimum` if a bond emptied by
		/// unbonding would stay below the minimum, or `InsufficientBalance`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
			let mut ledger = OperatorLedger::<T>::get(&operator)?;
			let active = ledger.active.saturating_add(value);
			ensure!(active >= T::MinOperatorBond::get(), Error::<T>::BondBelowMinimum);
			ledger.active = active;
			ledger.schedule_stake();
			ledger.update()?;
			Self::deposit_event(Event::Bonded { operator, amount: value });
			Ok(())
		}

		/// Starts unbonding `value` of the active bond: it stays held and slashable, and can be
		/// withdrawn after `UnbondingPeriod`.
		///
		/// Origin: a bonded operator.
		///
		/// Fails with `ZeroAmount`, `NotBonded`, `InsufficientBond` for more than the active
		/// bond, `BondBelowMinimum` if a non-zero rest would be below the minimum,
		/// `BondBelowCommitments` if the rest would not cover the workers' capacities and open
		/// assignments (chill or shrink workers first), or `TooManyUnbondingChunks`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
			let mut ledger = OperatorLedger::<T>::get(&operator)?;
			ensure!(value <= ledger.active, Error::<T>::InsufficientBond);
			let rest = ledger.active.saturating_sub(value);
			ensure!(
				rest.is_zero() || rest >= T::MinOperatorBond::get(),
				Error::<T>::BondBelowMinimum
			);
			ensure!(rest >= Self::required_bond(&ledger), Error::<T>::BondBelowCommitments);

			let unlock_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
			match ledger.unbonding.last_mut() {
				Some(chunk) if chunk.unlock_at == unlock_at => {
					chunk.value = chunk.value.saturating_add(value)
				}
				_ => ledger
					.unbonding
					.try_push(UnlockChunk { value, unlock_at })
					.map_err(|_| Error::<T>::TooManyUnbondingChunks)?,
			}
			ledger.active = rest;
			ledger.schedule_stake();
			ledger.update()?;
			Self::deposit_event(Event::Unbonded { operator, amount: value, unlock_at });
			Ok(())
		}

		/// Releases every unbonding chunk that has unlocked. Closes the ledger when nothing is
		/// left bonded or unbonding and no worker is registered.
		///
		/// Origin: a bonded operator.
		///
		/// Fails with `NotBonded`, or `NothingToWithdraw` if no chunk has unlocked.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			let mut ledger = OperatorLedger::<T>::get(&operator)?;
			let now = frame_system::Pallet::<T>::block_number();
			let mut amount = BalanceOf::<T>::zero();
			ledger.unbonding.retain(|chunk| {
				let unlocked = chunk.unlock_at <= now;
				if unlocked {
					amount = amount.saturating_add(chunk.value);
				}
				!unlocked
			});
			ensure!(!amount.is_zero(), Error::<T>::NothingToWithdraw);
			// Writing the smaller ledger releases the unlocked funds.
			let closed = ledger.is_empty();
			if closed {
				ledger.close()?;
			} else {
				ledger.update()?;
			}
			Self::deposit_event(Event::Withdrawn { operator: operator.clone(), amount });
			if closed {
				Self::deposit_event(Event::LedgerClosed { operator });
			}
			Ok(())
		}

		/// Moves `value` of the unbonding funds, the latest to unlock first, back into the
		/// active bond.
		///
		/// Origin: a bonded operator.
		///
		/// Fails with `ZeroAmount`, `NotBonded`, `InsufficientUnbonding`, or `BondBelowMinimum`
		/// if the active bond would still be below the minimum.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::rebond())]
		pub fn rebond(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
			let mut ledger = OperatorLedger::<T>::get(&operator)?;
			ensure!(value <= ledger.unbonding_total(), Error::<T>::InsufficientUnbonding);
			let active = ledger.active.saturating_add(value);
			ensure!(active >= T::MinOperatorBond::get(), Error::<T>::BondBelowMinimum);
			ledger.take_from_unbonding(value);
			ledger.active = active;
			ledger.schedule_stake();
			ledger.update()?;
			Self::deposit_event(Event::Rebonded { operator, amount: value });
			Ok(())
		}

		/// Registers a worker key under the calling operator, serving `models` with `capacity`
		/// assignments at once, eligible from `EligibilityDelay` blocks on.
		///
		/// `proof` is the key's signature over `possession_payload(operator, genesis hash)`.
		///
		/// Origin: a bonded operator.
		///
		/// In a model whose seats are all taken, the worker takes the seat of the seated worker
		/// with the lowest operator stake if its own operator's stake is higher (see the pallet's
		/// docs); the evicted worker is told by `Evicted`.
		///
		/// Fails with `NotBonded`, `BondBelowMinimum` (an operator slashed below the minimum bond
		/// adds no worker until it bonds more), `AlreadyRegistered`, `BadPossessionProof`,
		/// `TooManyWorkers`, `NoModels`, `DuplicateModel`, `ModelNotListed`, `ModelFull`,
		/// `OperatorSeatsFull`, `ZeroCapacity`, `CapacityTooHigh`, or `BondBelowCommitments` if
		/// the bond cannot cover the capacity.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::register())]
		pub fn register(
			origin: OriginFor<T>,
			worker: WorkerId,
			proof: WorkerSignature,
			models: ServedModels<T>,
			capacity: u32,
		) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			let ledger = OperatorLedger::<T>::get(&operator)?;
			ensure!(ledger.active >= T::MinOperatorBond::get(), Error::<T>::BondBelowMinimum);
			ensure!(!Workers::<T>::contains_key(&worker), Error::<T>::AlreadyRegistered);
			Self::check_possession(&operator, &worker, &proof)?;
			let from = Self::effective_from();
			Self::enrol(&operator, ledger, &worker, models, capacity, from)?;
			let account = T::KeyAccount::convert(worker.clone());
			Self::deposit_event(Event::Registered { worker, operator, account, from });
			Ok(())
		}

		/// Replaces the models a worker serves and its capacity, from `EligibilityDelay` blocks
		/// on. Until then the current settings stay in effect; a later change replaces this one.
		/// Each model the worker holds no seat in (new, or evicted from) needs one, as in
		/// `register`.
		///
		/// Origin: the worker's operator.
		///
		/// Fails with `UnknownWorker`, `NotOperator`, `NoModels`, `DuplicateModel`,
		/// `ModelNotListed`, `ModelFull`, `OperatorSeatsFull`, `ZeroCapacity`, `CapacityTooHigh`,
		/// or `BondBelowCommitments` if the bond cannot cover a larger capacity.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::update())]
		pub fn update(
			origin: OriginFor<T>,
			worker: WorkerId,
			models: ServedModels<T>,
			capacity: u32,
		) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			Self::check_settings(&models, capacity)?;
			let models_count = models.len() as u32;
			let from = Self::change_settings(&operator, &worker, true, |settings| {
				settings.models = models;
				settings.capacity = capacity;
				Ok(())
			})?;
			Self::deposit_event(Event::Updated { worker, models: models_count, capacity, from });
			Ok(())
		}

		/// Stops a worker taking new assignments, from `EligibilityDelay` blocks on. Open
		/// assignments stay the worker's to finish.
		///
		/// Origin: the worker's operator.
		///
		/// Fails with `UnknownWorker`, `NotOperator`, or `AlreadyChilled`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::chill())]
		pub fn chill(origin: OriginFor<T>, worker: WorkerId) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			let from = Self::change_settings(&operator, &worker, false, |settings| {
				ensure!(!settings.chilled, Error::<T>::AlreadyChilled);
				settings.chilled = true;
				Ok(())
			})?;
			Self::deposit_event(Event::Chilled { worker, from });
			Ok(())
		}

		/// Lets a chilled worker take assignments again, from `EligibilityDelay` blocks on. A
		/// worker whose chill has taken effect holds no seat: it needs one again in each of its
		/// models, as in `register`.
		///
		/// Origin: the worker's operator.
		///
		/// Fails with `UnknownWorker`, `NotOperator`, `NotChilled`, `BondBelowMinimum` if a
		/// slash left the bond below the minimum, `ModelFull`, `OperatorSeatsFull`, or
		/// `BondBelowCommitments` if the bond does not cover the worker's capacity.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::resume())]
		pub fn resume(origin: OriginFor<T>, worker: WorkerId) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			let from = Self::change_settings(&operator, &worker, true, |settings| {
				ensure!(settings.chilled, Error::<T>::NotChilled);
				settings.chilled = false;
				Ok(())
			})?;
			Self::deposit_event(Event::Resumed { worker, from });
			Ok(())
		}

		/// Removes a worker whose chill is in effect and that holds no assignment. Its key can be
		/// registered again afterwards.
		///
		/// Origin: the worker's operator.
		///
		/// Fails with `UnknownWorker`, `NotOperator`, `ChillNotInEffect`, or `OpenAssignments`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::unregister())]
		pub fn unregister(origin: OriginFor<T>, worker: WorkerId) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			let record = Workers::<T>::get(&worker).ok_or(Error::<T>::UnknownWorker)?;
			ensure!(record.operator == operator, Error::<T>::NotOperator);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				record.settings.at(now).chilled && record.settings.latest().chilled,
				Error::<T>::ChillNotInEffect
			);
			ensure!(record.open_assignments == 0, Error::<T>::OpenAssignments);

			let mut ledger = OperatorLedger::<T>::of_registered(&operator)?;
			ledger.workers.retain(|registered| *registered != worker);
			Self::sync_model_sets(&worker, Some(&record), None)?;
			Workers::<T>::remove(&worker);
			ledger.update()?;
			Self::deposit_event(Event::Unregistered { worker, operator });
			Ok(())
		}

		/// Sends the earnings of the calling operator's workers to `payee` from now on (the
		/// operator itself by default; setting the operator clears the choice). Earnings do not
		/// go to a worker key's own account unless the operator names it here: a key lives on a
		/// worker's machine, where a thief would find it, and needs no funds to answer.
		///
		/// Origin: a bonded operator.
		///
		/// Fails with `NotBonded`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::set_payee())]
		pub fn set_payee(origin: OriginFor<T>, payee: T::AccountId) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			ensure!(OperatorLedger::<T>::exists(&operator), Error::<T>::NotBonded);
			if payee == operator {
				Payees::<T>::remove(&operator);
			} else {
				Payees::<T>::insert(&operator, &payee);
			}
			Self::deposit_event(Event::PayeeSet { operator, payee });
			Ok(())
		}
	}
}
