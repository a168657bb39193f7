//! Records of operators and workers.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::*, traits::fungible, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound,
	PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use veritensor_primitives::{ModelHash, WorkerId};

/// The balance type of the bonding currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Slashed funds on their way to the reporter and the treasury.
pub type CreditOf<T> =
	fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;

/// The models a worker serves.
pub type ServedModels<T> = BoundedVec<ModelHash, <T as Config>::MaxModelsPerWorker>;

/// The storage bound of a model's set: its [`Config::MaxWorkersPerModel`] seats, and as many
/// entries again for evicted workers, which the draw still sees until their eviction takes
/// effect.
pub struct SetCapacity<T>(core::marker::PhantomData<T>);

impl<T: Config> Get<u32> for SetCapacity<T> {
	fn get() -> u32 {
		T::MaxWorkersPerModel::get().saturating_mul(2)
	}
}

/// A worker in a model's set.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct SetEntry<BlockNumber> {
	/// The worker key.
	pub worker: WorkerId,
	/// The block from which the worker may be drawn for the model (with its settings in effect
	/// then): a seat taken now reaches the draw only after the eligibility delay, even for a
	/// worker whose settings already serve the model (one evicted earlier, say).
	pub drawn_from: BlockNumber,
	/// For a worker evicted from the model: the block from which it is no longer drawn for it.
	pub evicted_from: Option<BlockNumber>,
}

impl<BlockNumber: PartialOrd + Copy> SetEntry<BlockNumber> {
	/// Whether the worker was evicted and its eviction is in effect at `now`.
	pub fn gone_at(&self, now: BlockNumber) -> bool {
		self.evicted_from.is_some_and(|from| from <= now)
	}

	/// Whether the entry lets its worker be drawn at `now` (if its settings serve the model).
	pub fn drawn_at(&self, now: BlockNumber) -> bool {
		self.drawn_from <= now && !self.gone_at(now)
	}
}

/// The workers in one model's set (see `model_sets.rs`).
pub type ModelSet<T> = BoundedVec<SetEntry<BlockNumberFor<T>>, SetCapacity<T>>;

/// Answers and refusals ("cannot execute") counted over one refusal window.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct AnswerTally<BlockNumber> {
	/// The first block of the window the counts belong to.
	pub window: BlockNumber,
	/// Assignments answered in the window, with a result or a refusal.
	pub answered: u32,
	/// Of those, the refusals.
	pub refused: u32,
}

impl<BlockNumber: PartialEq + Copy + Default> AnswerTally<BlockNumber> {
	/// The counts for the window starting at `window`: these ones if they belong to it, else
	/// none yet.
	pub fn in_window(self, window: BlockNumber) -> Self {
		if self.window == window {
			self
		} else {
			Self { window, ..Default::default() }
		}
	}

	/// Counts one more answer.
	pub fn count(&mut self, refused: bool) {
		self.answered = self.answered.saturating_add(1);
		if refused {
			self.refused = self.refused.saturating_add(1);
		}
	}
}

/// A value whose changes take effect only after a delay.
///
/// Eligibility for assignment must not react to randomness that is already known, so every change
/// an operator makes to it is scheduled [`Config::EligibilityDelay`] blocks ahead. The scheduled
/// value replaces the current one lazily: readers ask for the value [`Delayed::at`] a block, and
/// writers call [`Delayed::promote`] first. A new change replaces a scheduled one and restarts the
/// delay.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Delayed<Value, BlockNumber> {
	/// The value in effect until the scheduled one matures.
	pub current: Value,
	/// A value and the block from which it is in effect.
	pub scheduled: Option<(BlockNumber, Value)>,
}

impl<Value, BlockNumber: PartialOrd + Copy> Delayed<Value, BlockNumber> {
	/// A value in effect from now on, with nothing scheduled.
	pub fn new(current: Value) -> Self {
		Self { current, scheduled: None }
	}

	/// The value in effect at block `now`.
	pub fn at(&self, now: BlockNumber) -> &Value {
		match &self.scheduled {
			Some((from, value)) if *from <= now => value,
			_ => &self.current,
		}
	}

	/// Moves a matured scheduled value into place.
	pub fn promote(&mut self, now: BlockNumber) {
		if matches!(&self.scheduled, Some((from, _)) if *from <= now) {
			if let Some((_, value)) = self.scheduled.take() {
				self.current = value;
			}
		}
	}

	/// Schedules `value` to take effect at block `from`, replacing anything scheduled.
	pub fn schedule(&mut self, from: BlockNumber, value: Value) {
		self.scheduled = Some((from, value));
	}

	/// The value the latest change asked for: the scheduled one, or else the current one.
	pub fn latest(&self) -> &Value {
		self.scheduled.as_ref().map_or(&self.current, |(_, value)| value)
	}

	/// Applies `change` at once to the current and the scheduled value (used for slashes, which
	/// nobody chooses the timing of).
	pub fn apply_now(&mut self, mut change: impl FnMut(&mut Value)) {
		change(&mut self.current);
		if let Some((_, value)) = self.scheduled.as_mut() {
			change(value);
		}
	}

	/// Whether every value in effect at `now` or after it satisfies `check`.
	pub fn always(&self, now: BlockNumber, check: impl Fn(&Value) -> bool) -> bool {
		self.live(now).all(check)
	}

	/// The values in effect at block `now` or after it: the one in effect and, if it has not
	/// matured yet, the scheduled one.
	pub fn live(&self, now: BlockNumber) -> impl Iterator<Item = &Value> {
		let pending = matches!(&self.scheduled, Some((from, _)) if *from > now);
		core::iter::once(self.at(now))
			.chain(self.scheduled.as_ref().filter(|_| pending).map(|(_, value)| value))
	}
}

/// Bonded funds on their way out: still held, still slashable, withdrawable from `unlock_at`.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct UnlockChunk<Balance, BlockNumber> {
	/// The amount.
	pub value: Balance,
	/// The first block at which `withdraw_unbonded` releases it.
	pub unlock_at: BlockNumber,
}

/// An operator's bond and workers.
///
/// Read it with [`OperatorLedger::get`] and write it back with [`OperatorLedger::update`], which
/// sets the operator's bond hold to what the ledger records in the same step (see `ledger.rs`):
/// nothing else writes [`crate::Operators`].
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct OperatorLedger<T: Config> {
	/// The operator this ledger belongs to: the storage key, filled in when the ledger is read
	/// or opened, never stored.
	#[codec(skip)]
	pub(crate) operator: Option<T::AccountId>,
	/// Bonded funds that back assignments.
	pub active: BalanceOf<T>,
	/// Funds being unbonded, oldest first.
	pub unbonding: BoundedVec<UnlockChunk<BalanceOf<T>, BlockNumberFor<T>>, T::MaxUnbondingChunks>,
	/// The stake that weighs the operator's workers in the assignment draw: the active bond as it
	/// was [`Config::EligibilityDelay`] blocks ago (slashes apply at once).
	pub stake: Delayed<BalanceOf<T>, BlockNumberFor<T>>,
	/// The operator's workers.
	pub workers: BoundedVec<WorkerId, T::MaxWorkersPerOperator>,
	/// Everything ever slashed from this operator.
	pub slashed: BalanceOf<T>,
}

/// What a worker offers: the models it serves, how many jobs it runs at once, and whether it
/// takes new jobs at all.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct ServeSettings<T: Config> {
	/// The listed models the worker serves.
	pub models: ServedModels<T>,
	/// Most assignments the worker holds at once.
	pub capacity: u32,
	/// A chilled worker takes no new assignments.
	pub chilled: bool,
}

impl<T: Config> ServeSettings<T> {
	/// Settings that take no work: how a worker starts before its registration takes effect.
	pub fn idle() -> Self {
		Self { models: Default::default(), capacity: 0, chilled: true }
	}

	/// Whether these settings let the worker take a job of `model`.
	pub fn serves(&self, model: &ModelHash) -> bool {
		!self.chilled && self.capacity > 0 && self.models.contains(model)
	}

	/// Whether these settings ask to serve `model`, which takes a seat in its set.
	pub fn seeks_seat(&self, model: &ModelHash) -> bool {
		!self.chilled && self.models.contains(model)
	}
}

/// What users can read about a worker's record of service.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct WorkerStats<Balance> {
	/// Assignments answered with an accepted result.
	pub completed: u32,
	/// Assignments answered with "cannot execute".
	pub failed: u32,
	/// Assignments left unanswered past their deadline.
	pub missed: u32,
	/// Slashes suffered.
	pub slashed: u32,
	/// The total those slashes took from the operator.
	pub slashed_amount: Balance,
}

/// A registered worker key.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct WorkerRecord<T: Config> {
	/// The operator whose bond backs the worker.
	pub operator: T::AccountId,
	/// What the worker offers, with changes delayed by [`Config::EligibilityDelay`].
	pub settings: Delayed<ServeSettings<T>, BlockNumberFor<T>>,
	/// Assignments the worker holds now.
	pub open_assignments: u32,
	/// What the open assignments could be slashed for, together.
	pub exposure: BalanceOf<T>,
	/// The worker's record of service.
	pub stats: WorkerStats<BalanceOf<T>>,
	/// The block the worker was registered in.
	pub registered_at: BlockNumberFor<T>,
}

impl<T: Config> WorkerRecord<T> {
	/// The most assignments the worker could be given under its settings in effect at `now` or
	/// scheduled (nothing while chilled in both): what its operator's bond must cover.
	pub fn committed_capacity(&self, now: BlockNumberFor<T>) -> u32 {
		self.settings
			.live(now)
			.filter(|settings| !settings.chilled)
			.map(|settings| settings.capacity)
			.max()
			.unwrap_or(0)
	}

	/// Every model the worker serves now or is scheduled to serve: the per-model sets it sits in.
	pub fn listed_under(&self) -> impl Iterator<Item = &ModelHash> {
		let scheduled = self.settings.scheduled.as_ref().map(|(_, settings)| &settings.models);
		self.settings.current.models.iter().chain(
			scheduled
				.into_iter()
				.flat_map(|models| models.iter())
				.filter(|model| !self.settings.current.models.contains(model)),
		)
	}
}

/// A worker's record together with its key, for queries.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct WorkerInfo<AccountId, Balance, BlockNumber> {
	/// The worker key.
	pub worker: WorkerId,
	/// The operator.
	pub operator: AccountId,
	/// Whether the worker can take a new job now: not chilled, a free slot, its operator's stake
	/// in effect, and drawn for one of its models (a seat, or an eviction, the draw sees now).
	pub eligible: bool,
	/// Models served now.
	pub models: alloc::vec::Vec<ModelHash>,
	/// Capacity now.
	pub capacity: u32,
	/// A settings change waiting to take effect, from the given block.
	pub change_at: Option<BlockNumber>,
	/// Assignments held now.
	pub open_assignments: u32,
	/// The worker's record of service.
	pub stats: WorkerStats<Balance>,
}
