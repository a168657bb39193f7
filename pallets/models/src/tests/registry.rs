use super::*;
use crate::{Error, ModelStatus, StatusKind, MAX_PAGE};
use frame_support::{assert_noop, assert_ok};
use veritensor_primitives::traits::ModelRegistry;

#[test]
fn only_listed_models_offer_terms_for_new_jobs() {
	ExtBuilder::default().build_and_execute(|| {
		assert!(Models::terms_for_new_job(&hash(1)).is_none());
		propose(ALICE, 1);
		assert!(Models::terms_for_new_job(&hash(1)).is_none());
		assert_noop!(Models::acquire(&hash(1)), Error::<Test>::NotUsable);
		assert_ok!(Models::approve(RuntimeOrigin::root(), hash(1)));
		let terms = Models::terms_for_new_job(&hash(1)).unwrap();
		assert_eq!(terms.owner, ALICE);
		assert_eq!(terms.price_per_worker, 100);
		assert_eq!(terms.owner_royalty, 10);
		assert_eq!(terms.schema, spec(1).schema);
		assert_eq!(terms.comparison, spec(1).comparison);
	});
}

#[test]
fn acquire_and_release_count_open_jobs() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Models::acquire(&hash(1)), Error::<Test>::UnknownModel);
		list(ALICE, 1);
		assert_ok!(Models::acquire(&hash(1)));
		assert_ok!(Models::acquire(&hash(1)));
		assert_eq!(record(1).open_jobs, 2);
		Models::release(&hash(1));
		assert_eq!(record(1).open_jobs, 1);
	});
}

#[test]
fn genesis_models_are_listed_without_deposit() {
	ExtBuilder::default().with_genesis_model(BOB, spec(4)).build_and_execute(|| {
		let record = record(4);
		assert_eq!(record.owner, BOB);
		assert_eq!(record.status, ModelStatus::Listed { proposed: 0, listed: 0 });
		assert_eq!(record.deposit, 0);
		assert!(Models::terms_for_new_job(&hash(4)).is_some());
		assert_eq!(held(BOB), 0);
	});
}

#[test]
fn pages_filter_by_status_and_continue() {
	ExtBuilder::default().build_and_execute(|| {
		for seed in 1..=6 {
			propose(ALICE, seed);
		}
		for seed in [2, 4, 6] {
			assert_ok!(Models::approve(RuntimeOrigin::root(), hash(seed)));
		}
		let all = Models::models_page(None, None, 100);
		assert_eq!(all.models.len(), 6);
		assert_eq!(all.next, None);

		let mut listed = Vec::new();
		let mut start_after = None;
		loop {
			let page = Models::models_page(Some(StatusKind::Listed), start_after, 1);
			assert!(page.models.len() <= 1);
			listed.extend(page.models.iter().map(|(hash, _)| *hash));
			match page.next {
				Some(next) => start_after = Some(next),
				None => break,
			}
		}
		listed.sort();
		assert_eq!(listed, vec![hash(2), hash(4), hash(6)]);

		let capped = Models::models_page(None, None, u32::MAX);
		assert!(capped.models.len() as u32 <= MAX_PAGE);
	});
}

#[test]
fn model_returns_the_record() {
	ExtBuilder::default().build_and_execute(|| {
		assert!(Models::model(hash(1)).is_none());
		propose(ALICE, 1);
		assert_eq!(Models::model(hash(1)), Some(record(1)));
	});
}

#[test]
fn the_registry_passes_its_integrity_test() {
	ExtBuilder::default().build_and_execute(|| {
		use frame_support::traits::Hooks;
		<crate::Pallet<Test> as Hooks<u64>>::integrity_test();
	});
}

#[test]
fn the_open_job_counter_never_overflows() {
	ExtBuilder::default().build_and_execute(|| {
		list(ALICE, 1);
		ModelsStorage::<Test>::mutate(hash(1), |record| {
			record.as_mut().unwrap().open_jobs = u32::MAX;
		});
		assert_noop!(Models::acquire(&hash(1)), Error::<Test>::TooManyOpenJobs);
		ModelsStorage::<Test>::mutate(hash(1), |record| {
			record.as_mut().unwrap().open_jobs = 0;
		});
	});
}
