//! A test runtime: System, Balances and the validator set, with session keys as a set of
//! accounts and root as governance.

pub use crate::SESSIONS_UNTIL_ACTIVE as UNTIL_ACTIVE;
use crate::{self as pallet_validators};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{tokens::imbalance::ResolveTo, ConstU128, Get},
};
use pallet_session::SessionManager;
use sp_runtime::BuildStorage;
use sp_runtime::Perbill;
use sp_staking::SessionIndex;
use std::collections::BTreeSet;

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
	pub type Validators = pallet_validators;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

pub const EXISTENTIAL_DEPOSIT: Balance = 1;

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// The minimum bond.
pub const MINIMUM_BOND: Balance = 1_000;
/// What every test account starts with.
pub const ENDOWMENT: Balance = 10_000;
/// The genesis validators.
pub const GENESIS: [AccountId; 2] = [1, 2];
/// Candidates: endowed, without a bond.
pub const CANDIDATE: AccountId = 10;
pub const OTHER_CANDIDATE: AccountId = 11;
/// An account that reports offences.
pub const REPORTER: AccountId = 30;
/// Endowed with less than the minimum bond.
pub const POOR: AccountId = 20;

/// Receives slashed funds beyond the reporters' share.
pub const TREASURY: AccountId = 99;

thread_local! {
	static KEYS: RefCell<BTreeSet<AccountId>> = const { RefCell::new(BTreeSet::new()) };
	static DISABLED: RefCell<Vec<(AccountId, Perbill)>> = const { RefCell::new(Vec::new()) };
	static EQUIVOCATION_SLASH: RefCell<Perbill> = const { RefCell::new(Perbill::from_percent(10)) };
}

/// Accounts disabled so far, in order, with the severity given.
pub fn disabled() -> Vec<(AccountId, Perbill)> {
	DISABLED.with(|disabled| disabled.borrow().clone())
}

/// Forgets who was disabled, as a new active set does.
pub fn clear_disabled() {
	DISABLED.with(|disabled| disabled.borrow_mut().clear());
}

/// Records disabled offenders.
pub struct RecordDisabled;
impl crate::DisableValidator<AccountId> for RecordDisabled {
	fn disable(who: &AccountId, severity: Perbill) {
		DISABLED.with(|disabled| disabled.borrow_mut().push((*who, severity)));
	}
}

/// The equivocation slash, changeable as the runtime's parameter is.
pub struct EquivocationSlash;
impl Get<Perbill> for EquivocationSlash {
	fn get() -> Perbill {
		EQUIVOCATION_SLASH.with(|slash| *slash.borrow())
	}
}

/// Sets the equivocation slash.
pub fn set_equivocation_slash(slash: Perbill) {
	EQUIVOCATION_SLASH.with(|value| *value.borrow_mut() = slash);
}

parameter_types! {
	pub const ReporterShare: Perbill = Perbill::from_percent(10);
	pub const Treasury: AccountId = TREASURY;
}

/// Accounts with session keys, as `session.set_keys` records them.
pub struct KeyedAccounts;
impl crate::SessionKeyRegistry<AccountId> for KeyedAccounts {
	fn has_keys(who: &AccountId) -> bool {
		KEYS.with(|keys| keys.borrow().contains(who))
	}

	fn remove_keys(who: &AccountId) {
		purge_keys(*who);
	}
}

/// `who` sets its session keys.
pub fn set_keys(who: AccountId) {
	KEYS.with(|keys| keys.borrow_mut().insert(who));
}

/// `who` purges its session keys.
pub fn purge_keys(who: AccountId) {
	KEYS.with(|keys| keys.borrow_mut().remove(&who));
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for KeyedAccounts {
	fn set_session_keys(who: &AccountId) {
		set_keys(*who);
	}
}

#[derive_impl(pallet_validators::config_preludes::TestDefaultConfig)]
impl pallet_validators::Config for Test {
	type Currency = Balances;
	type GovernanceOrigin = frame_system::EnsureRoot<AccountId>;
	type SessionKeys = KeyedAccounts;
	type MinimumBond = ConstU128<MINIMUM_BOND>;
	type EquivocationSlash = EquivocationSlash;
	type ReporterShare = ReporterShare;
	type Slashed = ResolveTo<Treasury, Balances>;
	type Disabling = RecordDisabled;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = KeyedAccounts;
}

/// Ends the current session as `pallet-session` does: the manager plans the session after next
/// (returned, if the set changed) and the next one starts.
pub fn rotate_session() -> Option<Vec<AccountId>> {
	let current = pallet_validators::CurrentSession::<Test>::get();
	<Validators as SessionManager<AccountId>>::end_session(current);
	<Validators as SessionManager<AccountId>>::start_session(current + 1);
	<Validators as SessionManager<AccountId>>::new_session(current + 1 + 1)
}

/// A small model of `pallet-session`'s queue: the authorities of each session as the manager's
/// plans make them, starting from the genesis set.
pub struct SessionQueue {
	/// The current session's authorities.
	pub active: Vec<AccountId>,
	/// The next session's authorities.
	pub queued: Vec<AccountId>,
}

impl SessionQueue {
	pub fn at_genesis() -> Self {
		let genesis = <Validators as SessionManager<AccountId>>::new_session_genesis(0)
			.expect("the genesis set is not empty");
		Self { active: genesis.clone(), queued: genesis }
	}

	/// Rotates once; returns the new session's index.
	pub fn rotate(&mut self) -> SessionIndex {
		let planned = rotate_session();
		self.active = core::mem::replace(&mut self.queued, planned.unwrap_or(self.active.clone()));
		pallet_validators::CurrentSession::<Test>::get()
	}
}

pub fn held(who: AccountId) -> Balance {
	use frame_support::traits::fungible::InspectHold;
	Balances::balance_on_hold(
		&RuntimeHoldReason::Validators(pallet_validators::HoldReason::ValidatorBond),
		&who,
	)
}

/// Test externalities: `GENESIS` validators bonded with the minimum and with keys, every test
/// account endowed.
#[derive(Default)]
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		KEYS.with(|keys| *keys.borrow_mut() = GENESIS.into_iter().collect());
		clear_disabled();
		set_equivocation_slash(Perbill::from_percent(10));
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: GENESIS
				.into_iter()
				.chain([CANDIDATE, OTHER_CANDIDATE, TREASURY, REPORTER])
				.map(|who| (who, ENDOWMENT))
				.chain([(POOR, MINIMUM_BOND / 2)])
				.collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_validators::GenesisConfig::<Test> {
			validators: GENESIS.into_iter().map(|who| (who, MINIMUM_BOND)).collect(),
			session_length: 0,
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test` at block 1, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Validators::do_try_state().expect("the validator set's invariants hold");
		});
	}
}
