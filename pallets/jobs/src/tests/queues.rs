//! The chunked queues of results to prune and to make final, and the queues of one entry per
//! job an upgraded chain still holds.

use super::*;
use crate::{
	challenge::Finalization,
	hooks::PruneQueueOf,
	queue::{Taking, CHUNK},
	FinalizeChunks, FinalizeQueue, FinalizeQueueRange, Provisionals, PruneChunkCursor, PruneChunks,
	PruneQueue, PruneQueueRange, Results,
};
use frame_support::assert_ok;

#[test]
fn a_chunked_queue_keeps_its_order_across_chunks_and_stops_at_the_first_entry_not_due() {
	ExtBuilder.build_and_execute(|| {
		let count = 2 * CHUNK as u64 + 22;
		for job in 0..count {
			PruneQueueOf::<Test>::push((job, job / 10));
		}
		assert_eq!(PruneChunks::<Test>::iter_keys().count(), 3);

		// Due: everything settled by block 5, the first 60 entries; the limit is not reached.
		let mut seen = Vec::new();
		let taken = PruneQueueOf::<Test>::take_due(70, |(job, settled)| {
			if settled > 5 {
				return Taking::NotDue;
			}
			seen.push(job);
			Taking::Taken
		});
		assert_eq!(taken, 60);
		assert_eq!(seen, (0..60).collect::<Vec<_>>());
		assert!(PruneChunks::<Test>::contains_key(0), "the first chunk still has entries");

		// The limit ends the work; the first chunk, all taken, is removed.
		let taken = PruneQueueOf::<Test>::take_due(10, |_| Taking::Taken);
		assert_eq!(taken, 10);
		assert!(!PruneChunks::<Test>::contains_key(0));
		let left: Vec<u64> =
			PruneQueueOf::<Test>::entries().unwrap().into_iter().map(|(job, _)| job).collect();
		assert_eq!(left, (70..count).collect::<Vec<_>>());
		let cursor = PruneChunkCursor::<Test>::get();
		assert_eq!((cursor.head, cursor.taken), (1, 70 - CHUNK));
		// What the test left in the queue names no job: empty it for the invariants.
		assert_eq!(PruneQueueOf::<Test>::take_due(u32::MAX, |_| Taking::Taken), count as u32 - 70);
	});
}

#[test]
fn an_entry_appended_while_the_queue_is_taken_from_is_kept_and_an_emptied_queue_starts_again() {
	ExtBuilder.build_and_execute(|| {
		for job in 0..CHUNK as u64 {
			PruneQueueOf::<Test>::push((job, 0));
		}
		// Taking the last entry of the full chunk appends another: the cursor's tail moves past
		// the head's work, and neither half overwrites the other.
		let taken = PruneQueueOf::<Test>::take_due(u32::MAX, |(job, _)| {
			if job == CHUNK as u64 - 1 {
				PruneQueueOf::<Test>::push((1_000, 0));
			}
			Taking::Taken
		});
		assert_eq!(taken, CHUNK + 1, "the entry appended meanwhile is taken too");
		assert!(PruneQueueOf::<Test>::entries().unwrap().is_empty());
		assert_eq!(PruneChunks::<Test>::iter_keys().count(), 1, "the new tail chunk");

		// Taking the last entry of a chunk not full yet appends another to that same chunk: it
		// is taken too.
		assert_eq!(PruneQueueOf::<Test>::take_due(u32::MAX, |_| Taking::Taken), 0);
		PruneQueueOf::<Test>::push((2_000, 0));
		let taken = PruneQueueOf::<Test>::take_due(u32::MAX, |(job, _)| {
			if job == 2_000 {
				PruneQueueOf::<Test>::push((2_001, 0));
			}
			Taking::Taken
		});
		assert_eq!(taken, 2);
		assert!(PruneQueueOf::<Test>::entries().unwrap().is_empty());
		let cursor = PruneChunkCursor::<Test>::get();
		assert_eq!((cursor.head, cursor.taken, cursor.tail, cursor.tail_len), (1, 3, 1, 3));

		// Emptied exactly at a chunk's end: no chunk is left, and the next entry starts one.
		for job in 3..CHUNK as u64 {
			PruneQueueOf::<Test>::push((job, 0));
		}
		assert_eq!(PruneQueueOf::<Test>::take_due(u32::MAX, |_| Taking::Taken), CHUNK - 3);
		assert_eq!(PruneChunks::<Test>::iter_keys().count(), 0);
		PruneQueueOf::<Test>::push((7, 0));
		assert_eq!(PruneQueueOf::<Test>::entries().unwrap(), vec![(7, 0)]);
		// What the test left in the queue names no job: empty it for the invariants.
		assert_eq!(PruneQueueOf::<Test>::take_due(u32::MAX, |_| Taking::Taken), 1);
	});
}

/// Moves everything queued in chunks to the queues of one entry per job, as a chain upgraded
/// with results still queued that way holds them.
fn queue_as_before_chunks() {
	let pruned = Jobs::prune_queue_entries().unwrap();
	let finalized = Jobs::finalize_queue_entries().unwrap();
	let _ = PruneChunks::<Test>::clear(u32::MAX, None);
	let _ = FinalizeChunks::<Test>::clear(u32::MAX, None);
	crate::PruneChunkCursor::<Test>::kill();
	crate::FinalizeChunkCursor::<Test>::kill();
	for (position, entry) in pruned.iter().enumerate() {
		PruneQueue::<Test>::insert(position as u64, entry);
	}
	PruneQueueRange::<Test>::put((0, pruned.len() as u64));
	for (position, entry) in finalized.iter().enumerate() {
		FinalizeQueue::<Test>::insert(position as u64, entry);
	}
	FinalizeQueueRange::<Test>::put((0, finalized.len() as u64));
}

#[test]
fn results_queued_one_entry_per_job_before_an_upgrade_are_made_final_and_pruned_first() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 8);
		let (old, new) = (submit(USER, 1, 200), submit(USER, 2, 200));
		run_to_block(1 + DELAY as u64);
		assert_ok!(answer(1, vec![output_answer(1, old, 7)]));
		queue_as_before_chunks();
		run_to_block(2 + DELAY as u64);
		assert_ok!(answer(1, vec![output_answer(1, new, 8)]));
		Jobs::do_try_state().unwrap();

		// The old result's window ends first: it is taken from the old queue, the new one
		// waits in its chunk.
		run_to_block(1 + DELAY as u64 + DISPUTE_WINDOW - 1);
		let now = System::block_number() + 1;
		System::set_block_number(now);
		let finalized = Jobs::finalize_due(now);
		assert_eq!(
			finalized,
			Finalization { taken: 1, quorums: 0, models: 1, accounts: 2, unchunked: 1 }
		);
		assert!(!Provisionals::<Test>::contains_key(old));
		assert!(Provisionals::<Test>::contains_key(new));
		assert_eq!(FinalizeQueueRange::<Test>::get(), (1, 1));
		let finalized = Jobs::finalize_due(now + 1);
		assert_eq!(
			finalized,
			Finalization { taken: 1, quorums: 0, models: 1, accounts: 2, unchunked: 0 }
		);
		assert!(!Provisionals::<Test>::contains_key(new));

		run_to_block(1 + DELAY as u64 + RETENTION);
		assert!(!Results::<Test>::contains_key(old));
		assert!(Results::<Test>::contains_key(new));
		assert_eq!(PruneQueueRange::<Test>::get(), (1, 1));
		run_to_block(2 + DELAY as u64 + RETENTION);
		assert!(!Results::<Test>::contains_key(new));
		assert!(Jobs::prune_queue_entries().unwrap().is_empty());
	});
}

#[test]
fn a_block_s_finalisation_counts_the_models_and_accounts_it_wrote_once_each() {
	ExtBuilder.build_and_execute(|| {
		let other = veritensor_primitives::ModelHash::repeat_byte(0x42);
		list(other, schema());
		add_worker(1, 100, 5_000, 8);
		serve(1, other);
		let mut jobs: Vec<u64> = (1..=3).map(|fill| submit(USER, fill, 200)).collect();
		jobs.push(crate::NextJobId::<Test>::get());
		assert_ok!(Jobs::submit(
			RuntimeOrigin::signed(USER),
			other,
			image(4),
			VerificationTerms::quorum(1),
			200,
			DEADLINE,
		));
		run_to_block(1 + DELAY as u64);
		let answers = jobs.iter().map(|job| output_answer(1, *job, 1)).collect();
		assert_ok!(answer(1, answers));

		let until = System::block_number() + DISPUTE_WINDOW;
		run_to_block(until - 1);
		System::set_block_number(until);
		let finalized = Jobs::finalize_due(until);
		assert_eq!(
			finalized,
			Finalization { taken: 4, quorums: 0, models: 2, accounts: 2, unchunked: 0 }
		);
		assert!(jobs.iter().all(|job| !Provisionals::<Test>::contains_key(job)));
	});
}
