//! # Validator set
//!
//! Who authors blocks and votes on finality. Candidates bond, governance (the council by
//! motion, or root) adds and removes them, and a validator may leave on its own. The set this
//! pallet keeps is *planned*: `pallet-session` asks for it at every session boundary (this
//! pallet is its [`pallet_session::SessionManager`]) and hands it, with the session keys each
//! validator set, to BABE and GRANDPA.
//!
//! ## From motion to authoring
//!
//! `pallet-session` queues the next session's keys one session ahead. A validator added (or
//! removed) during session `s` is therefore planned at the end of `s` and authors from the start
//! of session `s + 2` (or stops then). [`Event::ValidatorAdded`] and [`Event::ValidatorRemoved`]
//! name that session. A validator must have set its session keys (`session.set_keys`, with the
//! proof `author_rotateKeysWithOwner` returns) before it is added; new keys set later also take
//! effect two sessions on.
//!
//! ## Bonds
//!
//! A candidate bonds at least [`Config::MinimumBond`] (held under [`HoldReason::ValidatorBond`])
//! before governance may add it. The bond stays held while the account validates and for
//! [`Config::BondingDuration`] sessions after it stops being planned, so that it stays
//! answerable for what it did in the sessions it still authored. A candidate that was never
//! added withdraws at once.
//!
//! ## Never empty
//!
//! The set is bounded by [`Config::MaxValidators`] (the consensus engines' authority bound) and
//! is never empty: removing or leaving fails with [`Error::LastValidator`] unless another
//! validator with session keys stays. Only validators with session keys are planned. Keys go
//! with a withdrawn bond (nobody purges its own, see [`Config::SessionKeys`]); were no planned
//! validator left with keys all the same, a planned change would keep the current set. Root
//! can still purge current validators' keys (dispatching as them is not filtered) and so stop
//! the chain, as it can by other means.
//!
//! ## Offences
//!
//! An equivocation (two blocks for one BABE slot, two votes in one GRANDPA round) proven with
//! a session-historical key-ownership proof reaches this pallet as an
//! [`sp_staking::offence::OnOffenceHandler`] (through `pallet-offences`, which refuses a report
//! it already has). The offender is slashed [`Config::EquivocationSlash`] of its bond, or, when
//! several validators offend in the same slot, the offence's own fraction if greater (it grows
//! with their number); once per fraction: a later offence slashes only what a greater fraction
//! adds, so one misconfigured node equivocating in many slots is slashed once.
//! [`Config::ReporterShare`] of the slash goes to the reporters (for a report the consensus
//! engines submit, the author of the block that includes it), the rest to [`Config::Slashed`].
//! The offender is disabled in the session under way (and again at each session start while it
//! still authors), and taken out of the set like a removed validator: it stops authoring two
//! sessions on and its bond, what is left of it, is released [`Config::BondingDuration`]
//! sessions on. An offender that is the last validator with keys stays (slashed), so that the
//! chain does not stop.
//!
//! ## Session length
//!
//! A session is one BABE epoch, and BABE's epoch length must never change for a chain's life.
//! It is fixed per chain at genesis ([`SessionLength`], `sessionLength` in the chain spec; no
//! call changes it), so production chains use [`Config::DefaultSessionLength`] while local test
//! networks run short sessions with the same runtime.
//!
//! ## Code map
//!
//! - `types.rs`: a bond and its release;
//! - `impls.rs`: the session manager, bond holds and the pallet's invariants;
//! - `offences.rs`: slashing, disabling and removing offenders;
//! - `weights.rs`, `benchmarking.rs`: measured weights of the calls.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
mod offences;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

pub use pallet::*;
pub use types::{DisableValidator, SessionKeyRegistry, ValidatorBond};
pub use weights::WeightInfo;

use frame_support::traits::fungible;
use sp_staking::SessionIndex;

/// Balances of the currency bonds are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Slashed funds on their way to the reporters and [`Config::Slashed`].
pub type CreditOf<T> =
	fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;

/// The validator set's bound.
pub type ValidatorList<T> =
	frame_support::BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxValidators>;

/// Sessions from the one in which a change is made until it reaches the authority set:
/// `pallet-session` queues the next session's keys one session ahead.
pub const SESSIONS_UNTIL_ACTIVE: SessionIndex = 2;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::validators";

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, OnUnbalanced},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{Saturating, Zero},
		Perbill,
	};

	/// Defaults for [`Config`].
	pub mod config_preludes {
		use super::*;
		use frame_support::{derive_impl, traits::ConstU64};

		/// Defaults for tests and mocks.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type MaxValidators = ConstU32<8>;
			type BondingDuration = ConstU32<4>;
			type DefaultSessionLength = ConstU64<10>;
			type WeightInfo = ();
		}
	}

	/// Configuration of the validator set.
	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config {
		/// The overarching hold reason; bonds are held under [`HoldReason::ValidatorBond`].
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;

		/// The currency bonds are held in.
		#[pallet::no_default]
		type Currency: fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::BalancedHold<Self::AccountId>;

		/// Who adds and removes validators: the council by majority, or root.
		#[pallet::no_default]
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Who has set session keys: only they can be added, and only they are planned into a
		/// session. A withdrawn bond takes its account's keys with it, so that nobody needs to
		/// purge keys themselves: a validator that could would leave the authority set past
		/// [`Error::LastValidator`].
		#[pallet::no_default]
		type SessionKeys: SessionKeyRegistry<Self::AccountId>;

		/// The least a candidate bonds before it may be added. It prices a seat in consensus,
		/// so that a bought council majority cannot fill the set with free identities. This
		/// pallet holds it and slashes it for proven offences.
		#[pallet::constant]
		#[pallet::no_default]
		type MinimumBond: Get<BalanceOf<Self>>;

		/// The most validators: the consensus engines' bound on authorities.
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// Sessions a former validator's bond stays held after it stops being planned. At least
		/// the [`SESSIONS_UNTIL_ACTIVE`] sessions it still authors, plus one, so that it cannot
		/// walk away with its bond while its blocks can still be reported.
		#[pallet::constant]
		type BondingDuration: Get<SessionIndex>;

		/// The fraction of its bond an equivocating validator loses (a governance parameter in
		/// the runtime). Equivocating is how a validator tries to fork the chain or finalise two
		/// histories; the slash makes even a single attempt cost a real part of a seat's price.
		/// When several offend in one slot, the offence's own fraction,
		/// ((3 x offenders) / validators)^2, applies if greater: up to the whole bond for a
		/// coordinated attack.
		#[pallet::no_default]
		type EquivocationSlash: Get<Perbill>;

		/// Part of a slash paid to the offence's reporters (a governance parameter in the
		/// runtime), so that reporting pays; bounded well below the slash, as an offender that
		/// reported itself would get it back.
		#[pallet::no_default]
		type ReporterShare: Get<Perbill>;

		/// Receives slashed funds beyond the reporters' share (the treasury).
		#[pallet::no_default]
		type Slashed: OnUnbalanced<CreditOf<Self>>;

		/// Disables offenders in the session under way (`pallet-session` in the runtime).
		#[pallet::no_default]
		type Disabling: DisableValidator<Self::AccountId>;

		/// The session length (slots) of a chain whose genesis names none.
		#[pallet::constant]
		type DefaultSessionLength: Get<u64>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Sets an account's session keys for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// What the benchmarks need from the runtime.
	#[cfg(feature = "runtime-benchmarks")]
	pub trait BenchmarkHelper<AccountId> {
		/// Gives `who` session keys, as `session.set_keys` would.
		fn set_session_keys(who: &AccountId);
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A validator's or candidate's bond.
		#[codec(index = 0)]
		ValidatorBond,
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The planned validator set: what the next planned session will be given. It reaches the
	/// authority set [`SESSIONS_UNTIL_ACTIVE`] sessions after a change.
	#[pallet::storage]
	pub type Validators<T: Config> = StorageValue<_, ValidatorList<T>, ValueQuery>;

	/// Whether [`Validators`] changed since the last planned session.
	#[pallet::storage]
	pub type SetChanged<T> = StorageValue<_, bool, ValueQuery>;

	/// Bonds of candidates, validators and former validators, by account.
	#[pallet::storage]
	pub type Bonds<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ValidatorBond<BalanceOf<T>>>;

	/// The current session's index, as `pallet-session` last started it.
	#[pallet::storage]
	pub type CurrentSession<T> = StorageValue<_, SessionIndex, ValueQuery>;

	/// The greatest fraction an account's current bond has been slashed for offences; a later
	/// offence slashes only what a greater fraction adds. Removed with the bond.
	#[pallet::storage]
	pub type SlashedFraction<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Perbill>;

	/// Offenders that still author, with the session they stop in: each is disabled again at
	/// every session start until then (a change of the active set re-enables everyone).
	#[pallet::storage]
	pub type Offenders<T: Config> = StorageValue<
		_,
		BoundedVec<(T::AccountId, SessionIndex), <T as Config>::MaxValidators>,
		ValueQuery,
	>;

	/// Slots per session, which is BABE's epoch length. Fixed at genesis for the chain's life:
	/// no call changes it.
	#[pallet::storage]
	pub type SessionLength<T: Config> =
		StorageValue<_, u64, ValueQuery, <T as Config>::DefaultSessionLength>;

	/// The genesis validator set.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Validators and their bonds (at least [`Config::MinimumBond`] each). Their session
		/// keys go in `pallet-session`'s genesis.
		pub validators: alloc::vec::Vec<(T::AccountId, BalanceOf<T>)>,
		/// Slots per session; `0` means [`Config::DefaultSessionLength`].
		pub session_length: u64,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// Stored even when the default applies, so that a later change of the default
			// cannot change an existing chain's epoch length.
			let session_length = if self.session_length == 0 {
				T::DefaultSessionLength::get()
			} else {
				self.session_length
			};
			SessionLength::<T>::put(session_length);
			let mut set = ValidatorList::<T>::default();
			for (who, amount) in &self.validators {
				assert!(
					*amount >= T::MinimumBond::get(),
					"a genesis validator's bond is too small"
				);
				assert!(!set.contains(who), "a genesis validator is listed twice");
				Pallet::<T>::hold_bond(who, *amount)
					.expect("genesis validators are endowed with their bonds; qed");
				Bonds::<T>::insert(who, ValidatorBond { amount: *amount, release_at: None });
				set.try_push(who.clone())
					.expect("genesis names at most MaxValidators validators; qed");
			}
			Validators::<T>::put(set);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` bonded `amount` more; it now has `total` bonded.
		Bonded { who: T::AccountId, amount: BalanceOf<T>, total: BalanceOf<T> },
		/// `who` withdrew its whole bond.
		BondWithdrawn { who: T::AccountId, amount: BalanceOf<T> },
		/// Governance added `who`; it authors from session `active_from`.
		ValidatorAdded { who: T::AccountId, active_from: SessionIndex },
		/// Governance removed `who`; it authors until session `inactive_from` and may withdraw
		/// its bond from session `bond_release`.
		ValidatorRemoved {
			who: T::AccountId,
			inactive_from: SessionIndex,
			bond_release: SessionIndex,
		},
		/// `who` left the set on its own; it authors until session `inactive_from` and may
		/// withdraw its bond from session `bond_release`.
		ValidatorLeft { who: T::AccountId, inactive_from: SessionIndex, bond_release: SessionIndex },
		/// `who` was slashed `amount` of its bond for an offence in session `session`, bringing
		/// its slash to `fraction` of its bond; `reward` of it went to the reporters.
		OffenderSlashed {
			who: T::AccountId,
			session: SessionIndex,
			fraction: Perbill,
			amount: BalanceOf<T>,
			reward: BalanceOf<T>,
		},
		/// Offender `who` was taken out of the set; it authors until session `inactive_from`
		/// (disabled meanwhile) and may withdraw what is left of its bond from session
		/// `bond_release`.
		OffenderRemoved {
			who: T::AccountId,
			inactive_from: SessionIndex,
			bond_release: SessionIndex,
		},
		/// Session `session` was planned with `validators` validators.
		SessionPlanned { session: SessionIndex, validators: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// A bond of zero.
		ZeroBond,
		/// The bond would be below [`Config::MinimumBond`].
		BondBelowMinimum,
		/// The account has no bond.
		NotBonded,
		/// The account is already in the validator set.
		AlreadyValidator,
		/// The account is not in the validator set.
		NotValidator,
		/// The account has not set session keys (`session.set_keys`).
		NoSessionKeys,
		/// The set already holds [`Config::MaxValidators`] validators.
		TooManyValidators,
		/// No other validator with session keys would stay: the chain would stop.
		LastValidator,
		/// A validator's bond cannot be withdrawn; it must leave first.
		StillValidator,
		/// The bond stays held until the session named when the account left.
		BondStillHeld,
		/// The account left or was removed and its bond awaits release: it stands again only
		/// by withdrawing its bond and bonding anew.
		FormerValidator,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxValidators::get() > 0, "the set needs room for a validator");
			assert!(!T::MinimumBond::get().is_zero(), "validator seats must cost a bond");
			assert!(
				T::BondingDuration::get() > SESSIONS_UNTIL_ACTIVE,
				"bonds must stay held beyond the sessions a former validator still authors"
			);
			assert!(T::DefaultSessionLength::get() > 0, "sessions need slots");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Bonds `amount` more of the caller's funds as a validator bond.
		///
		/// Origin: any signed account. The first bond must reach `MinimumBond`; later ones add
		/// to it (a former validator's added funds are released with the rest).
		///
		/// Fails with `ZeroBond`, `BondBelowMinimum`, or the currency's error if the funds are
		/// not free.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::bond())]
		pub fn bond(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroBond);
			let mut bond = Bonds::<T>::get(&who).unwrap_or_default();
			bond.amount = bond.amount.saturating_add(amount);
			ensure!(bond.amount >= T::MinimumBond::get(), Error::<T>::BondBelowMinimum);
			Self::hold_bond(&who, amount)?;
			Bonds::<T>::insert(&who, &bond);
			Self::deposit_event(Event::Bonded { who, amount, total: bond.amount });
			Ok(())
		}

		/// Releases the caller's whole bond and removes its session keys (returning their
		/// deposit).
		///
		/// Origin: a bonded account that is not a validator: a candidate never added (at once)
		/// or a former validator (from the session named when it left or was removed).
		///
		/// Fails with `NotBonded`, `StillValidator` or `BondStillHeld`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::withdraw_bond())]
		pub fn withdraw_bond(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let bond = Bonds::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(!Validators::<T>::get().contains(&who), Error::<T>::StillValidator);
			if let Some(release_at) = bond.release_at {
				ensure!(CurrentSession::<T>::get() >= release_at, Error::<T>::BondStillHeld);
			}
			let amount = Self::release_bond(&who)?;
			Bonds::<T>::remove(&who);
			SlashedFraction::<T>::remove(&who);
			T::SessionKeys::remove_keys(&who);
			Self::deposit_event(Event::BondWithdrawn { who, amount });
			Ok(())
		}

		/// Adds `who` to the validator set; it authors from two sessions on.
		///
		/// Origin: [`Config::GovernanceOrigin`] (a council motion with more than half the
		/// council, or root). `who` must hold at least `MinimumBond` and have set session keys.
		/// A former validator is not added back while its bond awaits release: it stands again
		/// by withdrawing and bonding anew, so nobody can hold its bond or its seat against its
		/// will (a node it stopped after leaving would count against finality).
		///
		/// Fails with `NotBonded`, `BondBelowMinimum`, `NoSessionKeys`, `FormerValidator`,
		/// `AlreadyValidator` or `TooManyValidators`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::add_validator())]
		pub fn add_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			let bond = Bonds::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(bond.amount >= T::MinimumBond::get(), Error::<T>::BondBelowMinimum);
			ensure!(T::SessionKeys::has_keys(&who), Error::<T>::NoSessionKeys);
			let mut set = Validators::<T>::get();
			ensure!(!set.contains(&who), Error::<T>::AlreadyValidator);
			ensure!(bond.release_at.is_none(), Error::<T>::FormerValidator);
			set.try_push(who.clone()).map_err(|_| Error::<T>::TooManyValidators)?;
			Self::put_set(set);
			let active_from = Self::session_of_next_plan();
			Self::deposit_event(Event::ValidatorAdded { who, active_from });
			Ok(())
		}

		/// Removes `who` from the validator set; it authors for two more sessions at most, and
		/// its bond is released `BondingDuration` sessions from now.
		///
		/// Origin: [`Config::GovernanceOrigin`].
		///
		/// Fails with `NotValidator`, or `LastValidator` if `who` is the only one.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::remove_validator())]
		pub fn remove_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			let (inactive_from, bond_release) = Self::take_out(&who)?;
			Self::deposit_event(Event::ValidatorRemoved { who, inactive_from, bond_release });
			Ok(())
		}

		/// Leaves the validator set; the caller authors for two more sessions at most, and its
		/// bond is released `BondingDuration` sessions from now.
		///
		/// Origin: a validator.
		///
		/// Fails with `NotValidator`, or `LastValidator` if the caller is the only one.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::leave())]
		pub fn leave(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let (inactive_from, bond_release) = Self::take_out(&who)?;
			Self::deposit_event(Event::ValidatorLeft { who, inactive_from, bond_release });
			Ok(())
		}
	}
}
