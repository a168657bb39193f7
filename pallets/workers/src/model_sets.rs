//! The bounded per-model sets of workers ([`ModelWorkers`]): which workers a model's draw looks
//! at, who holds its seats, and evictions by stake, kept in step with every change of a worker's
//! record.
//!
//! A worker's settings say which models it asks to serve. It *holds a seat* in a model's set from
//! the call that asks for the model until it no longer serves it (its change away, or its chill,
//! has taken effect), unless it is evicted first. A seat reaches the draw only after the
//! eligibility delay ([`SetEntry::drawn_from`]), and an eviction only after it too
//! ([`SetEntry::evicted_from`]): the evicted worker is drawn as its settings say until then, and
//! its settings stay as they are, asking for a seat again if they keep the model. The set's
//! storage bound leaves room for as many evicted workers as there are seats; when even that is
//! used up, the one whose eviction takes effect soonest is dropped early.

use crate::{pallet::*, types::*};
use alloc::{collections::BTreeMap, vec::Vec};
use core::cmp::Reverse;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Zero;
use veritensor_primitives::{ModelHash, WorkerId};

/// A set's entry with the worker's record, as a change to the set reads them.
type Member<T> = (SetEntry<BlockNumberFor<T>>, WorkerRecord<T>);

impl<T: Config> Pallet<T> {
	/// Whether `entry`'s worker (whose record is `record`) still belongs in the set of `model` at
	/// block `now`: its eviction, if any, is not in effect yet, and it serves the model now or
	/// after its scheduled change, not chilled in both.
	pub(crate) fn belongs_in_set(
		entry: &SetEntry<BlockNumberFor<T>>,
		record: &WorkerRecord<T>,
		model: &ModelHash,
		now: BlockNumberFor<T>,
	) -> bool {
		!entry.gone_at(now)
			&& [record.settings.at(now), record.settings.latest()]
				.into_iter()
				.any(|settings| !settings.chilled && settings.models.contains(model))
	}

	/// Whether `entry`'s worker (whose record is `record`) holds a seat in `model`'s set at
	/// `now`: it was not evicted, and it asks for the model or still serves it.
	pub(crate) fn holds_seat(
		entry: &SetEntry<BlockNumberFor<T>>,
		record: &WorkerRecord<T>,
		model: &ModelHash,
		now: BlockNumberFor<T>,
	) -> bool {
		entry.evicted_from.is_none() && Self::belongs_in_set(entry, record, model, now)
	}

	/// Whether `worker` is in `model`'s set, seated or evicted.
	pub fn in_model_set(model: &ModelHash, worker: &WorkerId) -> bool {
		ModelWorkers::<T>::get(model).iter().any(|entry| entry.worker == *worker)
	}

	/// The stake that ranks `operator`'s workers for seats: the delayed stake the draw weighs at
	/// `now`, never the active bond, which changes at once. `stakes` caches it per operator.
	fn ranking_stake(
		operator: &T::AccountId,
		now: BlockNumberFor<T>,
		stakes: &mut BTreeMap<T::AccountId, BalanceOf<T>>,
	) -> BalanceOf<T> {
		*stakes.entry(operator.clone()).or_insert_with(|| {
			OperatorLedger::<T>::get(operator)
				.map(|ledger| *ledger.stake.at(now))
				.unwrap_or_else(|_| Zero::zero())
		})
	}

	/// Takes `worker` out of the sets of the models `before` lists and `after` does not
	/// (`None`: not registered), and forgets its answers there.
	fn leave_sets(worker: &WorkerId, before: &WorkerRecord<T>, after: Option<&WorkerRecord<T>>) {
		for model in before.listed_under() {
			if after.is_some_and(|after| after.listed_under().any(|kept| kept == model)) {
				continue;
			}
			ModelWorkers::<T>::mutate(model, |set| set.retain(|entry| entry.worker != *worker));
			Self::forget_tally(model, worker);
		}
	}

	/// Lets the draw see `worker`'s seats in `models` from block 0: a worker registered at
	/// genesis is drawn from the first block.
	pub(crate) fn seat_at_genesis(worker: &WorkerId, models: &[ModelHash]) {
		for model in models {
			ModelWorkers::<T>::mutate(model, |set| {
				for entry in set.iter_mut().filter(|entry| entry.worker == *worker) {
					entry.drawn_from = Zero::zero();
				}
			});
		}
	}

	/// Moves `worker` between per-model sets as its record goes from `before` to `after`
	/// (`None`: not registered). A worker that asks for a model without holding a seat in it
	/// takes a free one, or evicts the seated worker with the lowest operator stake if its own
	/// operator's is higher.
	///
	/// Fails with `ModelFull` or `OperatorSeatsFull` if a wanted seat cannot be had.
	pub(crate) fn sync_model_sets(
		worker: &WorkerId,
		before: Option<&WorkerRecord<T>>,
		after: Option<&WorkerRecord<T>>,
	) -> DispatchResult {
		if let Some(before) = before {
			Self::leave_sets(worker, before, after);
		}
		let Some(after) = after else { return Ok(()) };
		let now = frame_system::Pallet::<T>::block_number();
		let mut stakes = BTreeMap::new();
		for model in after.listed_under() {
			if !after.settings.latest().seeks_seat(model) {
				continue;
			}
			let mut set = ModelWorkers::<T>::get(model);
			let had_seat = before.is_some_and(|before| {
				set.iter().any(|entry| {
					entry.worker == *worker && Self::holds_seat(entry, before, model, now)
				})
			});
			if had_seat {
				continue;
			}
			Self::seat(worker, after, model, &mut set, now, &mut stakes)?;
			ModelWorkers::<T>::insert(model, set);
		}
		Ok(())
	}

	/// Gives `worker` (about to be stored as `record`) a seat in `set`, the set of `model`.
	fn seat(
		worker: &WorkerId,
		record: &WorkerRecord<T>,
		model: &ModelHash,
		set: &mut ModelSet<T>,
		now: BlockNumberFor<T>,
		stakes: &mut BTreeMap<T::AccountId, BalanceOf<T>>,
	) -> DispatchResult {
		// A seat reaches the draw only after the delay, whatever the settings say already. A
		// worker still in the set keeps its place in the draw: evicted in this very block (no
		// draw has seen the eviction), or not evicted at all (its settings decide). One whose
		// eviction is pending waits for it, so that asking again cannot stretch its last draws.
		let drawn_from = match set.iter().find(|entry| entry.worker == *worker) {
			Some(entry) if entry.evicted_from.is_none() => entry.drawn_from,
			Some(entry) if entry.evicted_from == Some(Self::effective_from()) => entry.drawn_from,
			Some(entry) if !entry.gone_at(now) => return Err(Error::<T>::EvictionPending.into()),
			_ => Self::effective_from(),
		};
		let mut members: Vec<Member<T>> = set
			.iter()
			.filter(|entry| entry.worker != *worker)
			.filter_map(|entry| {
				Workers::<T>::get(&entry.worker).map(|found| (entry.clone(), found))
			})
			.filter(|(entry, found)| Self::belongs_in_set(entry, found, model, now))
			.collect();

		// Every member left belongs in the set: those not evicted hold its seats.
		let holders: Vec<usize> = members
			.iter()
			.enumerate()
			.filter(|(_, (entry, _))| entry.evicted_from.is_none())
			.map(|(index, _)| index)
			.collect();
		let own =
			holders.iter().filter(|index| members[**index].1.operator == record.operator).count();
		ensure!(
			(own as u32) < T::MaxWorkersPerModelPerOperator::get(),
			Error::<T>::OperatorSeatsFull
		);

		let mut evicted = None;
		if holders.len() as u32 >= T::MaxWorkersPerModel::get() {
			let own_stake = Self::ranking_stake(&record.operator, now, stakes);
			// The lowest stake goes first; among equals, the latest to register, so that
			// standing is not lost to a tie.
			let lowest = holders
				.iter()
				.copied()
				.min_by_key(|index| {
					let (_, found) = &members[*index];
					let stake = Self::ranking_stake(&found.operator, now, stakes);
					(stake, Reverse(found.registered_at), Reverse(*index))
				})
				.ok_or(Error::<T>::ModelFull)?;
			let lowest_stake = Self::ranking_stake(&members[lowest].1.operator, now, stakes);
			ensure!(own_stake > lowest_stake, Error::<T>::ModelFull);
			members[lowest].0 = Self::evict(members[lowest].0.clone(), model, Some(worker));
			evicted = Some(lowest);
		}

		if members.len() as u32 >= SetCapacity::<T>::get() {
			// Only evicted workers are over the seats: the one whose eviction takes effect
			// soonest goes, never the one just evicted.
			let soonest = members
				.iter()
				.enumerate()
				.filter(|(index, (entry, _))| {
					entry.evicted_from.is_some() && Some(*index) != evicted
				})
				.min_by_key(|(_, (entry, _))| entry.evicted_from)
				.map(|(index, _)| index)
				.ok_or(Error::<T>::ModelFull)?;
			members.remove(soonest);
		}
		let entry = SetEntry { worker: worker.clone(), drawn_from, evicted_from: None };
		members.push((entry, record.clone()));
		*set =
			BoundedVec::try_from(members.into_iter().map(|(entry, _)| entry).collect::<Vec<_>>())
				.map_err(|_| Error::<T>::ModelFull)?;
		Ok(())
	}

	/// Marks `entry` evicted from `model`'s set by `by` (none: at the upgrade that set the seat
	/// cap). It holds no seat from now on, and is drawn for the model as its settings say until
	/// the evicting worker can be, `EligibilityDelay` blocks on. Its settings stay as they are.
	pub(crate) fn evict(
		entry: SetEntry<BlockNumberFor<T>>,
		model: &ModelHash,
		by: Option<&WorkerId>,
	) -> SetEntry<BlockNumberFor<T>> {
		let from = Self::effective_from();
		Self::deposit_event(Event::Evicted {
			worker: entry.worker.clone(),
			model: *model,
			by: by.cloned(),
			from,
		});
		SetEntry { evicted_from: Some(from), ..entry }
	}
}

/// States the benchmarks need that only long sequences of calls reach.
#[cfg(feature = "runtime-benchmarks")]
impl<T: Config> Pallet<T> {
	/// Lets `worker`'s latest settings, and its seats, be in effect now, as if its delay had
	/// passed.
	pub fn serve_now_for_benchmarks(worker: &WorkerId) {
		let Some(mut record) = Workers::<T>::get(worker) else { return };
		record.settings = Delayed::new(record.settings.latest().clone());
		let now = frame_system::Pallet::<T>::block_number();
		for model in record.listed_under() {
			ModelWorkers::<T>::mutate(model, |set| {
				for entry in set.iter_mut().filter(|entry| entry.worker == *worker) {
					entry.drawn_from = now;
				}
			});
		}
		Workers::<T>::insert(worker, record);
	}

	/// Evicts the first worker holding a seat in `model`'s set, to be drawn (as its settings
	/// say) until a block no benchmark reaches. A set so holds as many candidates as its storage
	/// bound allows, as it does while seats change hands.
	pub fn evict_for_benchmarks(model: &ModelHash) {
		let now = frame_system::Pallet::<T>::block_number();
		ModelWorkers::<T>::mutate(model, |set| {
			let seated = set.iter_mut().find(|entry| {
				Workers::<T>::get(&entry.worker)
					.is_some_and(|record| Self::holds_seat(entry, &record, model, now))
			});
			if let Some(entry) = seated {
				entry.evicted_from = Some(sp_runtime::traits::Bounded::max_value());
			}
		});
	}
}
