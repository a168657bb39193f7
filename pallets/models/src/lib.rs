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
pub mod execution;
#[cfg(any(feature = "runtime-benchmarks", test))]
pub mod fixtures;
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

pub use execution::ExecutionError;
pub use queries::{ModelPage, MAX_PAGE};
pub use status::{ModelStatus, StatusKind};
pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		dispatch::WithPostDispatchInfo,
		pallet_prelude::*,
		traits::{fungible, OnUnbalanced},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{MaybeSerializeDeserialize, Saturating, Zero},
		Perbill, SaturatedConversion,
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
		use frame_support::{derive_impl, parameter_types, traits::ConstU64};

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
			type MaxExecutableBytes = ConstU32<65_536>;
			type MaxExecutableTensorBytes = ConstU32<8192>;
			type MaxConformanceVectors = ConstU32<4>;
			type MaxExecutionCost = ConstU64<2_000_000>;
			type MaxExecutionMemory = ConstU32<{ 16 * 1024 * 1024 }>;
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

		/// Largest artifact of a model the runtime runs itself, stored on chain under the byte
		/// deposit. Bounds what approving or re-executing one parses, and the chain's growth by
		/// anyone's proposal.
		#[pallet::constant]
		type MaxExecutableBytes: Get<u32>;

		/// Largest tensor an executable model's schema may declare, in bytes on the wire: at most
		/// the job market's inline tensor bound, so that every job of such a model carries its
		/// input on chain, where the runtime can re-run it.
		#[pallet::constant]
		type MaxExecutableTensorBytes: Get<u32>;

		/// Most conformance vectors an executable proposal carries: each is run at approval, so
		/// this bounds the approval's weight (a run each, of at most `MaxExecutionCost`).
		#[pallet::constant]
		type MaxConformanceVectors: Get<u32>;

		/// Highest interpreter cost of one run the runtime accepts (see `docs/interpreter.md`):
		/// in the runtime, the cost whose measured weight is a bounded share of a block, so that
		/// settling a dispute by re-execution cannot crowd out a block.
		#[pallet::constant]
		type MaxExecutionCost: Get<u64>;

		/// Most bytes of tensor data one run may hold (`Model::memory`): keeps a run far inside
		/// the runtime's heap, whose exhaustion would abort the block.
		#[pallet::constant]
		type MaxExecutionMemory: Get<u32>;

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

	/// The artifacts of models proposed or listed for the runtime to run itself, by artifact
	/// hash. Removed with the proposal, or when a delisted model's deposit is returned.
	#[pallet::storage]
	pub type Artifacts<T: Config> = StorageMap<_, Blake2_128Concat, ModelHash, Artifact<T>>;

	/// The conformance vectors of an executable proposal, run at approval and kept with the
	/// artifact as the listing's evidence.
	#[pallet::storage]
	pub type Vectors<T: Config> = StorageMap<_, Blake2_128Concat, ModelHash, ConformanceVectors<T>>;

	/// Bytes an executable model stores besides its record (artifact and vectors), which its
	/// deposit covers at the byte price.
	#[pallet::storage]
	pub type StoredBytes<T: Config> = StorageMap<_, Blake2_128Concat, ModelHash, u32>;

	/// Listed models the runtime runs itself (`OnChainExecutable`), with the cost and memory
	/// of a run measured at listing.
	#[pallet::storage]
	pub type Executables<T: Config> = StorageMap<_, Blake2_128Concat, ModelHash, Executable>;

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
		/// A proposal stored its artifact and conformance vectors on chain (`bytes` of them,
		/// under the deposit), for the runtime to run the model itself once listed.
		ArtifactStored { model: ModelHash, bytes: u32 },
		/// A listed model passed the listing check: the runtime runs it itself at `cost` per run
		/// (interpreter cost units), holding at most `memory` bytes of tensor data, and settles
		/// its disputes by re-execution.
		ExecutableListed { model: ModelHash, cost: u64, memory: u64 },
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
		/// The artifact's blake2-256 hash or size is not the spec's.
		ArtifactMismatch,
		/// An executable model's comparison rule must be `ExactHash` with the runtime's own
		/// interpreter and version (`Pallet::interpreter_rule`).
		NotPinnedToInterpreter,
		/// A tensor of an executable model's schema is above `MaxExecutableTensorBytes`.
		ExecutableTensorTooLarge,
		/// An executable proposal carries no conformance vector.
		NoConformanceVectors,
		/// A conformance vector's inputs do not match the schema.
		BadConformanceVector,
		/// The artifact is not an ONNX graph inside the interpreter's subset (integer tensors,
		/// static shapes, supported ops; see `docs/interpreter.md`).
		OutsideInterpreterSubset,
		/// The artifact's inputs or outputs are not the schema's (types and shapes, in order).
		ArtifactSchemaMismatch,
		/// A run costs more than `MaxExecutionCost`.
		ExecutionTooCostly,
		/// A run holds more than `MaxExecutionMemory` bytes.
		ExecutionNeedsTooMuchMemory,
		/// A conformance vector's run failed (an integer division by zero).
		ConformanceRunFailed,
		/// A conformance vector's outputs do not hash to the claimed hash.
		ConformanceMismatch,
	}

	/// Models listed at genesis, without a deposit (the development chain's demo models).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Owners and the specs of their models, listed in this order.
		pub models: alloc::vec::Vec<(T::AccountId, ModelSpec<T>)>,
		/// Artifacts of listed models the runtime runs itself (each a model above, identified
		/// by its hash), checked as an approval checks them, without conformance vectors.
		#[serde(default)]
		pub executables: alloc::vec::Vec<sp_core::Bytes>,
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
			for bytes in &self.executables {
				let model = ModelHash::from(sp_io::hashing::blake2_256(bytes));
				let Some(record) = Models::<T>::get(model) else {
					panic!("genesis executable {model:?} is not a genesis model");
				};
				let artifact: Artifact<T> = bytes
					.0
					.clone()
					.try_into()
					.unwrap_or_else(|_| panic!("genesis executable {model:?} is too large"));
				if let Err(error) = Pallet::<T>::check_executable_proposal(
					&record.spec,
					&artifact,
					&Default::default(),
				)
				.or_else(|error| match error {
					// Genesis is trusted to have run its models: it carries no vectors.
					Error::<T>::NoConformanceVectors => Ok(()),
					error => Err(error),
				}) {
					panic!("genesis executable {model:?} is malformed: {error:?}");
				}
				let executable = Pallet::<T>::check_listing(&record.spec, &artifact, &[])
					.unwrap_or_else(|error| {
						panic!("genesis executable {model:?} cannot be run: {error:?}")
					});
				StoredBytes::<T>::insert(
					model,
					Pallet::<T>::stored_bytes(&artifact, &Default::default()),
				);
				Artifacts::<T>::insert(model, artifact);
				Executables::<T>::insert(model, executable);
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
			assert!(T::MaxExecutableBytes::get() > 0, "an executable artifact needs bytes");
			assert!(
				T::MaxExecutableTensorBytes::get() <= T::MaxTensorBytes::get(),
				"an executable model's tensors are tensors of the schema"
			);
			assert!(
				T::MaxConformanceVectors::get() > 0,
				"an executable proposal must carry at least one conformance vector"
			);
			assert!(
				T::MaxExecutionCost::get() >= u64::from(execution::MAX_BENCHMARKED_COST),
				"the benchmarks' largest model must be listable"
			);
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
			Self::do_propose(owner, *spec, None)
		}

		/// Lists a proposed model: it serves jobs from now on. A model proposed with its artifact
		/// (`propose_executable`) is checked first: the artifact must parse inside the
		/// interpreter's subset, declare the schema's tensors, cost at most `MaxExecutionCost` and
		/// hold at most `MaxExecutionMemory` per run, and compute the claimed output hash for
		/// every conformance vector; it is then listed as executable by the runtime.
		///
		/// Origin: [`Config::ListingOrigin`].
		///
		/// Fails with `UnknownModel`, `NotProposed` if the model is not waiting for a decision,
		/// or, for an executable proposal, `OutsideInterpreterSubset`, `ArtifactSchemaMismatch`,
		/// `ExecutionTooCostly`, `ExecutionNeedsTooMuchMemory`, `ConformanceRunFailed` or
		/// `ConformanceMismatch` (the model stays proposed, for the origin to reject).
		#[pallet::call_index(1)]
		#[pallet::weight(Pallet::<T>::largest_approval_weight())]
		pub fn approve(origin: OriginFor<T>, model: ModelHash) -> DispatchResultWithPostInfo {
			// Refusals before the listing check cost what a plain approval costs, not the
			// declared bound: the motion's closer is refunded the rest.
			let refused = |error: Error<T>| error.with_weight(T::WeightInfo::approve());
			T::ListingOrigin::ensure_origin(origin)
				.map_err(|error| error.with_weight(T::WeightInfo::approve()))?;
			let mut record = Models::<T>::get(model).ok_or_else(|| refused(Error::UnknownModel))?;
			let now = frame_system::Pallet::<T>::block_number();
			record.status = record.status.list(now).ok_or_else(|| refused(Error::NotProposed))?;
			let executable = match Artifacts::<T>::get(model) {
				Some(artifact) => Some(Self::check_listing(
					&record.spec,
					&artifact,
					&Vectors::<T>::get(model).unwrap_or_default(),
				)?),
				None => None,
			};
			Models::<T>::insert(model, record);
			let Some(executable) = executable else {
				Self::deposit_event(Event::Listed { model });
				return Ok(Some(T::WeightInfo::approve()).into());
			};
			Executables::<T>::insert(model, executable);
			Self::deposit_event(Event::Listed { model });
			Self::deposit_event(Event::ExecutableListed {
				model,
				cost: executable.cost,
				memory: executable.memory,
			});
			Ok(Some(T::WeightInfo::approve_executable(
				executable.bytes,
				executable.cost.saturated_into(),
			))
			.into())
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
			Self::remove_executable(&model);

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
			Self::remove_executable(&model);
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

		/// Proposes a model the runtime can run itself (`OnChainExecutable` once listed): the
		/// spec, as `propose` takes it, with the artifact's bytes and conformance vectors, all
		/// stored on chain under the deposit (the byte price covers the artifact and vectors
		/// too). The spec's rule must be `ExactHash` with the runtime's interpreter and version
		/// (`Pallet::interpreter_rule`), and every tensor of its schema at most
		/// `MaxExecutableTensorBytes`, so that every job carries its input on chain. The
		/// artifact is run only at approval.
		///
		/// Origin: any signed account, which becomes the model's owner.
		///
		/// Fails as `propose` does, and with `ArtifactMismatch` if the artifact's hash or size is
		/// not the spec's, `NotPinnedToInterpreter`, `ExecutableTensorTooLarge`,
		/// `NoConformanceVectors`, or `BadConformanceVector` if a vector's inputs do not match
		/// the schema.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::propose_executable(
			artifact.len() as u32,
			vectors.len() as u32,
		))]
		pub fn propose_executable(
			origin: OriginFor<T>,
			spec: alloc::boxed::Box<ModelSpec<T>>,
			artifact: Artifact<T>,
			vectors: ConformanceVectors<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::check_executable_proposal(&spec, &artifact, &vectors)?;
			Self::do_propose(owner, *spec, Some((artifact, vectors)))
		}
	}

	impl<T: Config> Pallet<T> {
		/// Stores a checked proposal and holds its deposit, with an executable proposal's
		/// artifact and vectors.
		fn do_propose(
			owner: T::AccountId,
			spec: ModelSpec<T>,
			executable: Option<(Artifact<T>, ConformanceVectors<T>)>,
		) -> DispatchResult {
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
			let stored = executable.map(|(artifact, vectors)| {
				let bytes = Self::stored_bytes(&artifact, &vectors);
				Artifacts::<T>::insert(model, artifact);
				Vectors::<T>::insert(model, vectors);
				StoredBytes::<T>::insert(model, bytes);
				bytes
			});
			let deposit = Self::deposit_for(&record);
			Self::hold_deposit(&owner, deposit)?;
			record.deposit = deposit;
			Models::<T>::insert(model, record);

			Self::deposit_event(Event::Proposed { model, owner, deposit });
			if let Some(bytes) = stored {
				Self::deposit_event(Event::ArtifactStored { model, bytes });
			}
			Ok(())
		}

		/// The weight `approve` declares: a plain listing's, or the largest executable
		/// listing's (the largest artifact at the highest cost, every vector run).
		pub fn largest_approval_weight() -> Weight {
			T::WeightInfo::approve().max(T::WeightInfo::approve_executable(
				T::MaxExecutableBytes::get(),
				T::MaxExecutionCost::get().try_into().unwrap_or(u32::MAX),
			))
		}

		/// Returns a delisted model's deposit and records that it is gone: at `delist` when no
		/// job is open, otherwise when its last open job ends.
		pub(crate) fn return_delisted_deposit(model: ModelHash) {
			// No job can need the artifact any more.
			Self::remove_executable(&model);
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
