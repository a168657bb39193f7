//! Reads for the runtime API and for the calls' weights.

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use veritensor_primitives::{JobId, WorkerId};

impl<T: Config> Pallet<T> {
	/// The jobs assigned to `worker` and still open.
	pub fn open_assignments(worker: &WorkerId) -> Vec<JobId> {
		WorkerJobs::<T>::iter_key_prefix(worker).collect()
	}

	/// Bytes of inline tensor data in a payload: what hashing and storing it costs with.
	pub fn payload_bytes(payload: &Payload<T>) -> u32 {
		match payload {
			Payload::Inline(tensors) => {
				tensors.iter().map(|tensor| tensor.data.len() as u32).fold(0, u32::saturating_add)
			}
			Payload::Remote { .. } => 0,
		}
	}

	/// The most bytes of inline output data in one answer of a batch.
	pub fn largest_answer_bytes(answers: &[Submission<T>]) -> u32 {
		answers
			.iter()
			.map(|submission| match &submission.answer {
				Answer::Output { output, .. } => Self::payload_bytes(output),
				Answer::CannotExecute { .. } => 0,
			})
			.max()
			.unwrap_or(0)
	}
}
