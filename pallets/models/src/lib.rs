//! # Model registry
//!
//! Users must know exactly which model a job runs, and governance decides which models the
//! network serves. Owners propose models, identified by the blake2-256 hash of their artifact
//! file; the listing origin (in the runtime: a council majority, or root) lists or rejects them.
//!
//! ## Life of a model
//!
//! ```text
//!  propose ──► Proposed ──approve──► Listed ──deprecate──► Deprecated
//!                 │                    │                      │
//!                 ├─reject (slash)     └───────delist─────────┴──► Delisted
//!                 └─withdraw_proposal
//! ```
//!
//! - A proposal holds a deposit from the owner: a base plus a price per byte of the record.
//! - `reject` slashes [`Config::RejectionSlash`] of the deposit to [`Config::OnRejection`] (the
//!   treasury) and returns the rest; `withdraw_proposal` keeps the same part, so that a proposal
//!   made only to block an artifact's real owner (squatting) costs its proposer as much whether
//!   it is withdrawn or rejected. Both remove the record, so the artifact can be proposed again.
//! - An owner whose artifact hash was proposed by someone else asks the council to reject that
//!   proposal, then proposes it itself; each squat costs the squatter the rejection slash.
//! - A listed model serves jobs. Deprecated models take no new jobs, but open jobs finish.
//! - A delisted model is out of service; its record stays, so that finished jobs keep naming what
//!   they ran, and its deposit is returned once no open job refers to it.
//! - The artifact hash never changes. A new version is a new proposal that names the version it
//!   supersedes (which must belong to the same owner).
//!
//! The job market reaches the registry through
//! [`veritensor_primitives::traits::ModelRegistry`], which this pallet implements: it hands out
//! the terms of listed models and counts open jobs, so a model with open jobs cannot vanish.
//!
//! Genesis lists models from plain JSON: `(owner, spec)` pairs, with text as strings and hashes
//! as `0x` hex, each checked like a proposal.
//!
//! Storage stays at version 0, without migrations, because no chain has launched yet.
//!
//! ## Code layout
//!
//! - [`status`]: a model's status and the transitions between statuses;
//! - [`types`]: the spec an owner submits and the record the registry keeps;
//! - `checks`: what a spec must satisfy;
//! - `asset`: deposits, the only code that calls the currency;
//! - `registry`: the [`ModelRegistry`](veritensor_primitives::traits::ModelRegistry) the job
//!   market uses;
//! - [`queries`] and [`runtime_api`]: reads for wallets, explorers and the node;
//! - `invariants`: what `try_state` checks.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

mod asset;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod checks;
#[cfg(any(feature = "try-runtime", test))]
mod invariants;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod queries;
mod registry;
pub mod runtime_api;
pub mod status;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use queries::{ModelPage, MAX_PAGE};
pub use status::{ModelStatus, StatusKind};
pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, OnUnbalanced},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{MaybeSerializeDeserialize, Saturating, Zero},
		Perbill,
	};
	use veritensor_primitives::ModelHash;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Defaults for the configuration items that do not depend on the currency.
	pub mod config_preludes {
		use super::*;
		use frame_support::{derive_impl, parameter_types};

		parameter_types! {
			pub const RejectionSlash: Perbill = Perbill::from_percent(10);
		}

		/// Defaults for tests and mocks.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type RejectionSlash = RejectionSlash;
			type MaxUris = ConstU32<4>;
			type MaxUriLen = ConstU32<256>;
			type MaxNameLen = ConstU32<64>;
			type MaxDescriptionLen = ConstU32<512>;
			type MaxTensorBytes = ConstU32<65_536>;
			type WeightInfo = ();
		}
	}

	/// Configuration of the model registry.
	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config {
		/// The overarching hold reason; deposits are held under [`HoldReason::ModelDeposit`].
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;

		/// The currency deposits are held in. Its balances must be serde because model specs,
		/// which hold prices, appear as JSON in the genesis config.
		#[pallet::no_default]
		type Currency: fungible::Inspect<Self::AccountId, Balance: MaybeSerializeDeserialize>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::BalancedHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// Lists, rejects and delists models (in the runtime: a council majority, or root).
		#[pallet::no_default]
		type ListingOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Receives the part of a rejected proposal's deposit that is slashed (the treasury).
		#[pallet::no_default]
		type OnRejection: OnUnbalanced<CreditOf<Self>>;

		/// Deposit held for every proposal, whatever its size.
		#[pallet::constant]
		#[pallet::no_default]
		type BaseDeposit: Get<BalanceOf<Self>>;

		/// Deposit held per byte of the encoded model record.
		#[pallet::constant]
		#[pallet::no_default]
		type ByteDeposit: Get<BalanceOf<Self>>;

		/// Part of the deposit slashed when a proposal is rejected or withdrawn: what squatting an
		/// artifact's hash (proposing it to block or pre-empt its owner) costs at least.
		#[pallet::constant]
		type RejectionSlash: Get<Perbill>;

		/// Most fetch URIs per model.
		#[pallet::constant]
		type MaxUris: Get<u32>;

		/// Longest fetch URI, in bytes.
		#[pallet::constant]
		type MaxUriLen: Get<u32>;

		/// Longest model name, in bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest inline description, in bytes.
		#[pallet::constant]
		type MaxDescriptionLen: Get<u32>;

		/// Largest tensor a schema may declare, in bytes on the wire.
		#[pallet::constant]
		type MaxTensorBytes: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A model owner's deposit for a model record.
		#[codec(index = 0)]
		ModelDeposit,
	}

	/// Every model ever proposed and not rejected or withdrawn, by artifact hash.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Blake2_128Concat, ModelHash, ModelRecord<T>>;

	/// Events of the registry.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was proposed and its deposit held.
		Proposed { model: ModelHash, owner: T::AccountId, deposit: BalanceOf<T> },
		/// A proposed model was listed: it now serves jobs.
		Listed { model: ModelHash },
		/// A proposed model was rejected: part of its deposit was slashed, the rest returned.
		Rejected {
			model: ModelHash,
			owner: T::AccountId,
			slashed: BalanceOf<T>,
			returned: BalanceOf<T>,
		},
		/// A proposal was withdrawn by its owner: `kept` of the deposit went to
		/// [`Config::OnRejection`], `returned` back to the owner.
		ProposalWithdrawn {
			model: ModelHash,
			owner: T::AccountId,
			kept: BalanceOf<T>,
			returned: BalanceOf<T>,
		},
		/// A listed model was deprecated: no new jobs, open jobs finish.
		Deprecated { model: ModelHash, by_owner: bool },
		/// A model was taken out of service.
		Delisted { model: ModelHash, open_jobs: u32 },
		/// A delisted model's deposit was returned to its owner.
		DepositReturned { model: ModelHash, owner: T::AccountId, amount: BalanceOf<T> },
		/// The owner changed a model's prices; jobs already submitted keep their price.
		PriceSet { model: ModelHash, price_per_worker: BalanceOf<T>, owner_royalty: BalanceOf<T> },
		/// The owner replaced a model's fetch URIs; the deposit followed the record's new size.
		UrisSet { model: ModelHash, uris: u32, deposit: BalanceOf<T> },
	}

	/// Errors of the registry.
	#[pallet::error]
	pub enum Error<T> {
		/// A model with this artifact hash is already proposed or registered.
		AlreadyRegistered,
		/// No model has this artifact hash.
		UnknownModel,
		/// Only the model's owner may do this.
		NotOwner,
		/// The model is not waiting for a decision.
		NotProposed,
		/// The model is not listed.
		NotListed,
		/// The model is already delisted.
		AlreadyDelisted,
		/// The owner cannot cover the deposit.
		InsufficientDeposit,
		/// The artifact size is zero.
		EmptyArtifact,
		/// The schema has no input or no output tensor.
		SchemaWithoutTensors,
		/// A tensor in the schema has no dimension.
		SchemaEmptyShape,
		/// A tensor in the schema has a zero dimension.
		SchemaZeroDimension,
		/// A tensor in the schema is larger than `MaxTensorBytes`.
		SchemaTensorTooLarge,
		/// Two tensors on one side of the schema share a name.
		SchemaDuplicateName,
		/// A tensor in the schema has an empty name.
		SchemaEmptyName,
		/// A tensor's fraction bits do not suit its element type.
		SchemaBadFracBits,
		/// An exact-hash comparison rule names no engine version.
		InvalidComparisonRule,
		/// A per-output comparison rule does not have one rule per output tensor.
		ComparisonRuleCountMismatch,
		/// A tolerance's `agree` is above its `slash`.
		ToleranceAgreeAboveSlash,
		/// A label rule (`ArgMaxOf`) names itself, a missing tensor or another label, or its
		/// label is not an integer tensor with one element per row of the source tensor.
		BadLabelRule,
		/// The model has no fetch URI.
		NoUris,
		/// A fetch URI is empty.
		EmptyUri,
		/// The model's name is empty.
		EmptyName,
		/// The superseded model does not exist.
		UnknownSupersededModel,
		/// The superseded model belongs to someone else.
		SupersededModelNotOwned,
		/// The model takes no new jobs.
		NotUsable,
		/// The open-job counter would overflow.
		TooManyOpenJobs,
		/// A tensor name in the schema is not UTF-8 text.
		SchemaNameNotUtf8,
	}

	/// Models listed at genesis, without a deposit (the development chain's demo models).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Owners and the specs of their models, listed in this order.
		pub models: alloc::vec::Vec<(T::AccountId, ModelSpec<T>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// A bad chain spec must stop the chain from starting, so genesis fails loudly here.
			for (owner, spec) in &self.models {
				let model = spec.artifact_hash;
				if let Err(error) = Pallet::<T>::check_spec(owner, spec) {
					panic!("genesis model {model:?} is malformed: {error:?}");
				}
				assert!(
					!Models::<T>::contains_key(model),
					"genesis model {model:?} is listed twice"
				);
				Models::<T>::insert(
					model,
					ModelRecord::listed_at_genesis(owner.clone(), spec.clone()),
				);
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxUris::get() > 0, "a model needs room for at least one URI");
			assert!(T::MaxUriLen::get() > 0, "URIs need at least one byte");
			assert!(T::MaxNameLen::get() > 0, "names need at least one byte");
			assert!(T::MaxTensorBytes::get() > 0, "tensors need at least one byte");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Proposes a model for listing and holds its deposit.
		///
		/// Origin: any signed account, which becomes the model's owner.
		///
		/// Fails with `AlreadyRegistered` if the artifact hash is proposed or registered,
		/// `EmptyArtifact`, a `Schema*` error for a malformed schema, `InvalidComparisonRule`,
		/// `NoUris`/`EmptyUri`, `EmptyName`, `UnknownSupersededModel`/`SupersededModelNotOwned`,
		/// or `InsufficientDeposit` if the owner cannot cover the deposit.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::propose())]
		pub fn propose(
			origin: OriginFor<T>,
			spec: alloc::boxed::Box<ModelSpec<T>>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let spec = *spec;
			let model = spec.artifact_hash;
			ensure!(!Models::<T>::contains_key(model), Error::<T>::AlreadyRegistered);
			Self::check_spec(&owner, &spec)?;

			let now = frame_system::Pallet::<T>::block_number();
			let mut record = ModelRecord {
				owner: owner.clone(),
				spec,
				status: ModelStatus::Proposed { at: now },
				deposit: Zero::zero(),
				open_jobs: 0,
			};
			let deposit = Self::deposit_for(&record);
			Self::hold_deposit(&owner, deposit)?;
			record.deposit = deposit;
			Models::<T>::insert(model, record);

			Self::deposit_event(Event::Proposed { model, owner, deposit });
			Ok(())
		}

		/// Lists a proposed model: it serves jobs from now on.
		///
		/// Origin: [`Config::ListingOrigin`].
		///
		/// Fails with `UnknownModel`, or `NotProposed` if the model is not waiting for a decision.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::approve())]
		pub fn approve(origin: OriginFor<T>, model: ModelHash) -> DispatchResult {
			T::ListingOrigin::ensure_origin(origin)?;
			Models::<T>::try_mutate(model, |record| -> DispatchResult {
				let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
				let now = frame_system::Pallet::<T>::block_number();
				record.status = record.status.list(now).ok_or(Error::<T>::NotProposed)?;
				Ok(())
			})?;
			Self::deposit_event(Event::Listed { model });
			Ok(())
		}

		/// Rejects a proposed model: [`Config::RejectionSlash`] of its deposit goes to
		/// [`Config::OnRejection`], the rest back to the owner, and the record is removed.
		///
		/// Origin: [`Config::ListingOrigin`].
		///
		/// Fails with `UnknownModel`, or `NotProposed` if the model is not waiting for a decision.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::reject())]
		pub fn reject(origin: OriginFor<T>, model: ModelHash) -> DispatchResult {
			T::ListingOrigin::ensure_origin(origin)?;
			let record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(record.status.kind() == StatusKind::Proposed, Error::<T>::NotProposed);

			let slashed =
				Self::slash_deposit(&record.owner, T::RejectionSlash::get() * record.deposit);
			let returned =
				Self::release_deposit(&record.owner, record.deposit.saturating_sub(slashed));
			Models::<T>::remove(model);

			Self::deposit_event(Event::Rejected { model, owner: record.owner, slashed, returned });
			Ok(())
		}

		/// Deprecates a listed model: it takes no new jobs, and open jobs finish.
		///
		/// Origin: the model's owner, or [`Config::ListingOrigin`].
		///
		/// Fails with `UnknownModel`, `NotOwner` for any other signed account, or `NotListed`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::deprecate())]
		pub fn deprecate(origin: OriginFor<T>, model: ModelHash) -> DispatchResult {
			let by_owner = match T::ListingOrigin::try_origin(origin) {
				Ok(_) => None,
				Err(origin) => Some(ensure_signed(origin)?),
			};
			Models::<T>::try_mutate(model, |record| -> DispatchResult {
				let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
				if let Some(who) = &by_owner {
					ensure!(*who == record.owner, Error::<T>::NotOwner);
				}
				let now = frame_system::Pallet::<T>::block_number();
				record.status = record.status.deprecate(now).ok_or(Error::<T>::NotListed)?;
				Ok(())
			})?;
			Self::deposit_event(Event::Deprecated { model, by_owner: by_owner.is_some() });
			Ok(())
		}

		/// Takes a listed or deprecated model out of service. Its deposit is returned now if no
		/// open job refers to it, otherwise when the last one ends.
		///
		/// Origin: [`Config::ListingOrigin`].
		///
		/// Fails with `UnknownModel`, `NotListed` for a model still proposed (reject it instead),
		/// or `AlreadyDelisted`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::delist())]
		pub fn delist(origin: OriginFor<T>, model: ModelHash) -> DispatchResult {
			T::ListingOrigin::ensure_origin(origin)?;
			let open_jobs =
				Models::<T>::try_mutate(model, |record| -> Result<u32, DispatchError> {
					let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
					let now = frame_system::Pallet::<T>::block_number();
					record.status =
						record.status.delist(now).ok_or(match record.status.kind() {
							StatusKind::Delisted => Error::<T>::AlreadyDelisted,
							_ => Error::<T>::NotListed,
						})?;
					Ok(record.open_jobs)
				})?;
			Self::deposit_event(Event::Delisted { model, open_jobs });
			if open_jobs == 0 {
				Self::return_delisted_deposit(model);
			}
			Ok(())
		}

		/// Withdraws a proposal before the decision. [`Config::RejectionSlash`] of the deposit goes
		/// to [`Config::OnRejection`], as a rejection's would, and the rest comes back: withdrawing
		/// just before the council rejects saves a squatter nothing.
		///
		/// Origin: the model's owner.
		///
		/// Fails with `UnknownModel`, `NotOwner`, or `NotProposed` once decided.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::withdraw_proposal())]
		pub fn withdraw_proposal(origin: OriginFor<T>, model: ModelHash) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(record.owner == who, Error::<T>::NotOwner);
			ensure!(record.status.kind() == StatusKind::Proposed, Error::<T>::NotProposed);
			let kept = Self::slash_deposit(&who, T::RejectionSlash::get() * record.deposit);
			let returned = Self::release_deposit(&who, record.deposit.saturating_sub(kept));
			Models::<T>::remove(model);
			Self::deposit_event(Event::ProposalWithdrawn { model, owner: who, kept, returned });
			Ok(())
		}

		/// Sets the price per worker and the owner's royalty of future jobs; jobs already
		/// submitted keep the price they were submitted at.
		///
		/// Origin: the model's owner.
		///
		/// Fails with `UnknownModel`, `NotOwner`, or `AlreadyDelisted`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_price())]
		pub fn set_price(
			origin: OriginFor<T>,
			model: ModelHash,
			price_per_worker: BalanceOf<T>,
			owner_royalty: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Models::<T>::try_mutate(model, |record| -> DispatchResult {
				let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
				ensure!(record.owner == who, Error::<T>::NotOwner);
				ensure!(record.status.kind() != StatusKind::Delisted, Error::<T>::AlreadyDelisted);
				record.spec.price_per_worker = price_per_worker;
				record.spec.owner_royalty = owner_royalty;
				Ok(())
			})?;
			Self::deposit_event(Event::PriceSet { model, price_per_worker, owner_royalty });
			Ok(())
		}

		/// Replaces a model's fetch URIs. The deposit follows the record's new size: more is
		/// held, or the difference returned.
		///
		/// Origin: the model's owner.
		///
		/// Fails with `UnknownModel`, `NotOwner`, `AlreadyDelisted`, `NoUris`, `EmptyUri`, or
		/// `InsufficientDeposit` if a larger record's deposit cannot be held.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::set_uris())]
		pub fn set_uris(origin: OriginFor<T>, model: ModelHash, uris: Uris<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::check_uris(&uris)?;
			let count = uris.len() as u32;
			let deposit = Models::<T>::try_mutate(model, |record| -> Result<_, DispatchError> {
				let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
				ensure!(record.owner == who, Error::<T>::NotOwner);
				ensure!(record.status.kind() != StatusKind::Delisted, Error::<T>::AlreadyDelisted);
				record.spec.uris = uris;
				let wanted = Self::deposit_for(record);
				if wanted > record.deposit {
					Self::hold_deposit(&who, wanted.saturating_sub(record.deposit))?;
				} else {
					Self::release_deposit(&who, record.deposit.saturating_sub(wanted));
				}
				record.deposit = wanted;
				Ok(wanted)
			})?;
			Self::deposit_event(Event::UrisSet { model, uris: count, deposit });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Returns a delisted model's deposit and records that it is gone: at `delist` when no
		/// job is open, otherwise when its last open job ends.
		pub(crate) fn return_delisted_deposit(model: ModelHash) {
			let Some((owner, deposit)) = Models::<T>::mutate(model, |record| {
				record.as_mut().map(|record| {
					let deposit = core::mem::take(&mut record.deposit);
					(record.owner.clone(), deposit)
				})
			}) else {
				return;
			};
			if deposit.is_zero() {
				return;
			}
			let amount = Self::release_deposit(&owner, deposit);
			Self::deposit_event(Event::DepositReturned { model, owner, amount });
		}
	}
}
