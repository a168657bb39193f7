//! Counting workers' answers and refusals per model, and chilling a worker whose refusal rate
//! stands out against its peers' on the same model.

use crate::{pallet::*, types::*};
use frame_support::traits::Get;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill,
};
use veritensor_primitives::{ModelHash, WorkerId};

impl<T: Config> Pallet<T> {
	/// The first block of the refusal window that `now` falls in.
	fn refusal_window(now: BlockNumberFor<T>) -> BlockNumberFor<T> {
		let length = T::RefusalWindow::get();
		if length.is_zero() {
			return Zero::zero();
		}
		now.saturating_sub(now % length)
	}

	/// Counts an answer of `worker` to a job of `model`, a refusal if `refused`, and chills the
	/// worker at once if its refusals on the model stand out against its peers'. A worker's own
	/// counts are kept only while it lists the model.
	pub(crate) fn tally_answer(worker: &WorkerId, model: &ModelHash, refused: bool) {
		let now = frame_system::Pallet::<T>::block_number();
		let window = Self::refusal_window(now);
		let mut all = ModelTallies::<T>::get(model).in_window(window);
		all.count(refused);
		ModelTallies::<T>::insert(model, all);
		let Some(mut record) = Workers::<T>::get(worker) else { return };
		if !record.listed_under().any(|listed| listed == model) {
			return;
		}
		let mut own = WorkerTallies::<T>::get(model, worker).unwrap_or_default().in_window(window);
		own.count(refused);
		WorkerTallies::<T>::insert(model, worker, own);
		let already_chilled = record.settings.always(now, |settings| settings.chilled);
		if !refused || already_chilled || !Self::refuses_too_often(&own, &all) {
			return;
		}
		record.settings.apply_now(|settings| settings.chilled = true);
		Workers::<T>::insert(worker, record);
		// A worker that is resumed starts a fresh sample, and its past refusals do not become
		// its peers'.
		Self::forget_tally(model, worker);
		log!(info, "worker {:?} refuses {:?} too often: chilled", worker, model);
		Self::deposit_event(Event::ChilledForRefusals {
			worker: worker.clone(),
			model: *model,
			refused: own.refused,
			answered: own.answered,
			peers_refused: all.refused.saturating_sub(own.refused),
			peers_answered: all.answered.saturating_sub(own.answered),
		});
	}

	/// Forgets `worker`'s answers on `model`, in its own counts and in the model's.
	pub(crate) fn forget_tally(model: &ModelHash, worker: &WorkerId) {
		let Some(own) = WorkerTallies::<T>::take(model, worker) else { return };
		ModelTallies::<T>::mutate(model, |all| {
			if all.window == own.window {
				all.answered = all.answered.saturating_sub(own.answered);
				all.refused = all.refused.saturating_sub(own.refused);
			}
		});
	}

	/// Whether a worker with the counts `own`, on a model with the counts `all` (its own
	/// included), refuses so much more often than its peers that it should be chilled.
	fn refuses_too_often(
		own: &AnswerTally<BlockNumberFor<T>>,
		all: &AnswerTally<BlockNumberFor<T>>,
	) -> bool {
		let least = T::MinAnswersForRefusalCheck::get();
		let peers_answered = all.answered.saturating_sub(own.answered);
		let peers_refused = all.refused.saturating_sub(own.refused);
		if own.answered < least || peers_answered < least {
			return false;
		}
		let own_rate = Perbill::from_rational(own.refused, own.answered);
		let peers_rate = Perbill::from_rational(peers_refused, peers_answered);
		own_rate > peers_rate.saturating_add(T::RefusalTolerance::get())
	}
}
