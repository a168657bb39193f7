//! The migrations to storage versions 2, 3 and 4.

use super::*;
use crate::{
	migrations::v2::{v1, MigrateV1ToV2},
	AssignmentModels, Jobs as JobsMap, PruneChunks, PruneQueue, PruneQueueRange, Results,
};
use codec::Encode;
use frame_support::{
	assert_ok,
	traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	BoundedVec,
};

/// Rewrites open job `job` as version 1 stored it (a price without the storage charge).
fn store_as_v1(job: u64) {
	let record = JobsMap::<Test>::get(job).unwrap();
	let old = v1::Job::<Test> {
		submitter: record.submitter,
		model: record.model,
		input_hash: record.input_hash,
		k: record.k,
		price: v1::Price {
			per_worker: record.price.per_worker,
			owner: record.price.owner,
			royalty: record.price.royalty,
			protocol: record.price.protocol,
		},
		escrow: record.escrow,
		submitted_at: record.submitted_at,
		deadline: record.deadline,
		state: record.state,
	};
	frame_support::storage::unhashed::put_raw(&JobsMap::<Test>::hashed_key_for(job), &old.encode());
}

#[test]
fn version_1_storage_is_rewritten_and_every_result_queued_for_pruning() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 4);
		let (old, young) = (submit(USER, 1, 200), submit(USER, 2, 200));
		run_to_block(1 + DELAY as u64);
		assert_ok!(answer(1, vec![output_answer(1, old, 7)]));
		run_to_block(6);
		assert_ok!(answer(1, vec![output_answer(1, young, 8)]));
		let queued = [submit(USER, 3, 200), submit(USER, 4, 200)];

		// Version 1: open jobs without a storage charge, a draw's models without counts, a
		// prune cursor and no prune queue; the first result from before receipts were kept.
		for job in queued {
			store_as_v1(job);
		}
		let draw = 6 + DELAY as u64;
		AssignmentModels::<Test>::remove(draw);
		// A model whose jobs in the draw were all cancelled stayed listed in version 1.
		let emptied = veritensor_primitives::ModelHash::repeat_byte(9);
		v1::AssignmentModels::<Test>::insert(
			draw,
			BoundedVec::truncate_from(vec![emptied, digits()]),
		);
		let _ = PruneQueue::<Test>::clear(u32::MAX, None);
		PruneQueueRange::<Test>::kill();
		let _ = PruneChunks::<Test>::clear(u32::MAX, None);
		crate::PruneChunkCursor::<Test>::kill();
		v1::PruneCursor::<Test>::put(0);
		let result = Results::<Test>::get(old).unwrap();
		let version_0 = (
			result.model,
			result.worker,
			result.output,
			result.output_hash,
			result.single_worker,
			result.settled_at,
		);
		frame_support::storage::unhashed::put_raw(
			&Results::<Test>::hashed_key_for(old),
			&version_0.encode(),
		);
		assert!(Results::<Test>::get(old).is_none(), "unreadable as a version 1 result");
		StorageVersion::new(1).put::<Jobs>();

		MigrateV1ToV2::<Test>::on_runtime_upgrade();

		assert_eq!(Jobs::on_chain_storage_version(), 2);
		for job in queued {
			assert_eq!(JobsMap::<Test>::get(job).unwrap().price.storage, 0);
		}
		assert_eq!(AssignmentModels::<Test>::get(draw).into_inner(), vec![(digits(), 2)]);
		assert!(!v1::PruneCursor::<Test>::exists());
		// Every result, readable or not, is queued as if settled at the upgrade, unread.
		let mut queued = Jobs::prune_queue_entries().unwrap();
		queued.sort();
		assert_eq!(queued, [(old, 6), (young, 6)]);
		Jobs::do_try_state().unwrap();

		run_to_block(6 + RETENTION - 1);
		assert!(Results::<Test>::get(young).is_some());
		run_to_block(6 + RETENTION);
		assert!(!Results::<Test>::contains_key(old));
		assert!(!Results::<Test>::contains_key(young));
	});
}

#[test]
fn version_3_endows_the_audit_pool_once() {
	ExtBuilder.build_and_execute(|| {
		use frame_support::traits::fungible::{Inspect, Mutate};
		// A chain from before audits: no pool account.
		Balances::set_balance(&Jobs::audit_pool(), 0);
		assert_eq!(Balances::balance(&Jobs::audit_pool()), 0);
		StorageVersion::new(2).put::<Jobs>();

		crate::migrations::v3::MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(Jobs::on_chain_storage_version(), 3);
		assert_eq!(Balances::balance(&Jobs::audit_pool()), EXISTENTIAL_DEPOSIT);
		// Run again (a later runtime keeping it in its list): nothing more is minted.
		crate::migrations::v3::MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(Balances::balance(&Jobs::audit_pool()), EXISTENTIAL_DEPOSIT);
	});
}

#[test]
fn version_4_names_a_provisional_results_one_worker_as_its_earner() {
	ExtBuilder.build_and_execute(|| {
		use crate::{migrations::v4, Earner, Provisionals};
		add_worker(1, 100, 5_000, 4);
		let job = super::submit(USER, 1, 10_000);
		run_to_block(System::block_number() + DELAY as u64);
		assert_ok!(answer(1, vec![output_answer(1, job, 3)]));
		let stored = Provisionals::<Test>::get(job).unwrap();
		// As version 3 stored it: one payee, no list.
		let old = v4::v3::Provisional::<Test> {
			job: stored.job.clone(),
			worker: stored.worker.clone(),
			operator: 100,
			payee: 100,
			premium: stored.premium,
			until: stored.until,
			challenge: None,
		};
		frame_support::storage::unhashed::put_raw(
			&Provisionals::<Test>::hashed_key_for(job),
			&old.encode(),
		);
		StorageVersion::new(3).put::<Jobs>();

		v4::MigrateV3ToV4::<Test>::on_runtime_upgrade();
		assert_eq!(Jobs::on_chain_storage_version(), 4);
		let migrated = Provisionals::<Test>::get(job).expect("decodes as version 4");
		assert_eq!(
			migrated.earners.into_inner(),
			vec![Earner { worker: worker(1), operator: 100, payee: 100 }]
		);
		assert_eq!((migrated.job, migrated.until), (stored.job, stored.until));
		// It becomes final as any other: its earnings to the payee.
		run_to_block(stored.until);
		assert_eq!(crate::Claimable::<Test>::get(100), Some(PRICE));
	});
}
