use crate::{ModelStatus, StatusKind};

type Status = ModelStatus<u64>;

#[test]
fn each_transition_starts_from_one_status_and_keeps_the_earlier_blocks() {
	let proposed = Status::Proposed { at: 1 };
	let listed = proposed.list(2).unwrap();
	assert_eq!(listed, Status::Listed { proposed: 1, listed: 2 });
	let deprecated = listed.deprecate(3).unwrap();
	assert_eq!(deprecated, Status::Deprecated { proposed: 1, listed: 2, deprecated: 3 });
	assert_eq!(
		deprecated.delist(4),
		Some(Status::Delisted { proposed: 1, listed: 2, deprecated: Some(3), delisted: 4 })
	);
	assert_eq!(
		listed.delist(5),
		Some(Status::Delisted { proposed: 1, listed: 2, deprecated: None, delisted: 5 })
	);
}

#[test]
fn transitions_from_any_other_status_are_refused() {
	let proposed = Status::Proposed { at: 1 };
	let listed = proposed.list(2).unwrap();
	let deprecated = listed.deprecate(3).unwrap();
	let delisted = deprecated.delist(4).unwrap();
	for status in [listed, deprecated, delisted] {
		assert_eq!(status.list(9), None, "{status:?}");
	}
	for status in [proposed, deprecated, delisted] {
		assert_eq!(status.deprecate(9), None, "{status:?}");
	}
	for status in [proposed, delisted] {
		assert_eq!(status.delist(9), None, "{status:?}");
	}
}

#[test]
fn kinds_name_the_variants() {
	let proposed = Status::Proposed { at: 1 };
	let listed = proposed.list(2).unwrap();
	let deprecated = listed.deprecate(3).unwrap();
	let delisted = deprecated.delist(4).unwrap();
	assert_eq!(
		[proposed, listed, deprecated, delisted].map(|status| status.kind()),
		[StatusKind::Proposed, StatusKind::Listed, StatusKind::Deprecated, StatusKind::Delisted]
	);
}
