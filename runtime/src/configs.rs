//! Pallet configurations and the chain's constants.

use crate::{
	parameters::{
		dynamic_params::{market, validators},
		RuntimeParameters, ValueOf,
	},
	AccountId, Babe, Balance, Balances, Block, BlockNumber, Hash, Historical, Nonce, Offences,
	OriginCaller, PalletInfo, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Session, System, Treasury, Validators, VERSION,
};
use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{
		tokens::{imbalance::ResolveTo, pay::PayFromAccount, UnityAssetBalanceConversion},
		AsEnsureOriginWithArg, ConstU128, ConstU32, ConstU64, ConstU8, EitherOfDiverse,
		VariantCountOf,
	},
	weights::{constants::WEIGHT_REF_TIME_PER_SECOND, IdentityFee, Weight},
	PalletId,
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	EnsureRoot, EnsureWithSuccess,
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_runtime::{
	traits::{IdentityLookup, One},
	transaction_validity::TransactionPriority,
	Perbill,
};

/// Money.
pub mod currency {
	use crate::Balance;

	/// One VTN, the chain's token, with 12 decimals.
	pub const UNITS: Balance = 1_000_000_000_000;
	/// A thousandth of a VTN.
	pub const MILLI_UNITS: Balance = UNITS / 1_000;
	/// A millionth of a VTN.
	pub const MICRO_UNITS: Balance = UNITS / 1_000_000;
	/// The least balance an account may hold.
	pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNITS;
}

/// Time.
pub mod time {
	use crate::BlockNumber;

	/// Target block time: one BABE slot.
	pub const MILLI_SECS_PER_BLOCK: u64 = 6_000;
	/// BABE slot duration.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
	/// Blocks in a minute.
	pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
	/// Blocks in an hour.
	pub const HOURS: BlockNumber = MINUTES * 60;
	/// Blocks in a day.
	pub const DAYS: BlockNumber = HOURS * 24;
	/// A production chain's session (and BABE epoch) length in slots: an hour. Validator set
	/// changes and new session keys take effect two sessions after they are made, so this is
	/// the pace of joining, leaving and rotating keys. Each chain fixes its length at genesis
	/// (see [`super::EpochDuration`]).
	pub const DEFAULT_SESSION_LENGTH: u64 = HOURS as u64;
	/// The development and local testnet chains' session length: ten slots (a minute), so that
	/// joining and leaving can be tried, and tested, in minutes.
	pub const SHORT_SESSION_LENGTH: u64 = 10;
	/// The probability that a slot has a primary (VRF-elected) author: 1/4. The other slots fall
	/// back to secondary VRF authors, so every block still carries a VRF output.
	pub const PRIMARY_PROBABILITY: (u64, u64) = (1, 4);
}

/// BABE configuration at genesis: primary and secondary VRF slots, so that every block, not only
/// primary ones, carries VRF randomness.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: time::PRIMARY_PROBABILITY,
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

/// Share of a block's weight and length that normal transactions may fill; the rest is kept for
/// operational ones and hooks.
pub const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Reference time a block may take to execute: 2 s of a 6 s slot, leaving time to import and
/// gossip it.
pub const MAXIMUM_BLOCK_WEIGHT: Weight =
	Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND.saturating_mul(2), u64::MAX);

/// Share of a block's weight set aside for the hooks' work at the start of a block when sizing
/// the largest transaction of each class, so that one such transaction still fits beside it.
pub const AVERAGE_ON_INITIALIZE_RATIO: Perbill = Perbill::from_percent(10);

/// Largest block, in bytes.
pub const MAXIMUM_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: sp_version::RuntimeVersion = VERSION;
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::builder()
		.base_block(crate::weights::BlockExecutionWeight::get())
		.for_class(DispatchClass::all(), |class| {
			class.base_extrinsic = crate::weights::ExtrinsicBaseWeight::get();
		})
		.for_class(DispatchClass::Normal, |class| {
			class.max_total = Some(NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_WEIGHT);
		})
		// Operational transactions (workers' answers, council business) may use the whole
		// block, and the share normal ones cannot take is kept for them.
		.for_class(DispatchClass::Operational, |class| {
			class.max_total = Some(MAXIMUM_BLOCK_WEIGHT);
			class.reserved =
				Some(MAXIMUM_BLOCK_WEIGHT.saturating_sub(NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_WEIGHT));
		})
		.avg_block_initialization(AVERAGE_ON_INITIALIZE_RATIO)
		.build()
		.expect("the normal share is below the whole block and every base weight below its class's total; qed");
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAXIMUM_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_LENGTH
		})
		.build();
	pub const SS58Prefix: u8 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = crate::weights::ParityDbWeight;
	// The checks every signed transaction passes, measured on this runtime (the default prices
	// their reads and writes as RocksDB's, which this node does not run).
	type ExtensionsWeightInfo = crate::weights::frame_system_extensions::WeightInfo<Runtime>;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type SystemWeightInfo = frame_system::weights::SubstrateWeight<Runtime>;
	type MaxConsumers = ConstU32<16>;
	type BaseCallFilter = AllowedCalls;
}

/// Every call but two kinds:
/// - `session.purge_keys`, which would let a validator drop out of the authority set without
///   leaving the validator set: past the check that keeps the last one, down to an empty set and
///   a halted chain. A withdrawn validator bond removes its account's keys instead (see
///   [`SessionKeyRegistry`]).
/// - the signed `babe.report_equivocation` and `grandpa.report_equivocation`: an offender's
///   second account would file them (they spread through the network, where the reports nodes
///   file on their own stay with the node that saw the equivocation) and win back the
///   reporters' share of its own slash. Reports come from the nodes, as bare transactions the
///   reporting node includes in its own block, and pay that block's author.
///
/// The filter applies to calls nested in batches too.
pub struct AllowedCalls;
impl frame_support::traits::Contains<RuntimeCall> for AllowedCalls {
	fn contains(call: &RuntimeCall) -> bool {
		!matches!(
			call,
			RuntimeCall::Session(pallet_session::Call::purge_keys { .. })
				| RuntimeCall::Babe(pallet_babe::Call::report_equivocation { .. })
				| RuntimeCall::Grandpa(pallet_grandpa::Call::report_equivocation { .. })
		)
	}
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Babe;
	type MinimumPeriod = ConstU64<{ time::SLOT_DURATION / 2 }>;
	type WeightInfo = pallet_timestamp::weights::SubstrateWeight<Runtime>;
}

/// BABE's epoch length, which is the session length: fixed per chain at genesis
/// (`validators.sessionLength`; [`time::DEFAULT_SESSION_LENGTH`] if the chain spec names none)
/// and never changed afterwards, as BABE requires. One runtime thus serves production chains
/// (hour-long sessions) and local test networks (short ones); a compile-time constant would
/// need a separate build for tests, and a governance parameter would let a vote break BABE.
pub struct EpochDuration;
impl frame_support::traits::Get<u64> for EpochDuration {
	fn get() -> u64 {
		pallet_validators::SessionLength::<Runtime>::get()
	}
}

parameter_types! {
	pub const ExpectedBlockTime: u64 = time::MILLI_SECS_PER_BLOCK;
}

/// Most BABE and GRANDPA authorities.
pub type MaxAuthorities = ConstU32<32>;

/// The weight of an equivocation report: the consensus pallets' own estimate of checking the
/// proofs and filing the offence, plus the measured weight of what `pallet-validators` does with
/// it (slash, pay, disable, remove), which their estimate does not know of.
pub struct EquivocationReportWeight;
impl EquivocationReportWeight {
	/// A report hands every offender of its slot to `pallet-validators` again, up to the whole
	/// set named in the key-ownership proof (at most `MaxAuthorities`).
	fn handling(validator_count: u32) -> Weight {
		<pallet_validators::weights::SubstrateWeight<Runtime> as pallet_validators::WeightInfo>::punish()
			.saturating_mul(validator_count.clamp(1, <MaxAuthorities as frame_support::traits::Get<u32>>::get()).into())
	}
}
impl pallet_babe::WeightInfo for EquivocationReportWeight {
	fn plan_config_change() -> Weight {
		<() as pallet_babe::WeightInfo>::plan_config_change()
	}
	fn report_equivocation(validator_count: u32, max_nominators_per_validator: u32) -> Weight {
		<() as pallet_babe::WeightInfo>::report_equivocation(
			validator_count,
			max_nominators_per_validator,
		)
		.saturating_add(Self::handling(validator_count))
	}
}
impl pallet_grandpa::WeightInfo for EquivocationReportWeight {
	fn report_equivocation(validator_count: u32, max_nominators_per_validator: u32) -> Weight {
		<() as pallet_grandpa::WeightInfo>::report_equivocation(
			validator_count,
			max_nominators_per_validator,
		)
		.saturating_add(Self::handling(validator_count))
	}
	fn note_stalled() -> Weight {
		<() as pallet_grandpa::WeightInfo>::note_stalled()
	}
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	// Sessions end epochs (`pallet-session` asks BABE when to end one, and hands it the next
	// authorities).
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = Session;
	type WeightInfo = EquivocationReportWeight;
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = ConstU32<0>;
	// Reports are checked and processed by the pallet's own unsigned-transaction validation
	// (only from the local node, one per offender and slot) and `EquivocationReportSystem`:
	// used as upstream wrote them.
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_babe::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = EquivocationReportWeight;
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = ConstU32<0>;
	// A new GRANDPA set starts at a session whose validators or keys changed, at most one a
	// session; a report needs the entries of its set and of the one before. Two more than the
	// history depth, so that the set-to-session record reaches as far back as key ownership can
	// be proven.
	type MaxSetIdSessionEntries = ConstU64<{ VALIDATOR_HISTORY_DEPTH as u64 + 2 }>;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_grandpa::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

/// How long (blocks) an equivocation report stays valid in the transaction pool: as long as the
/// key-ownership record it proves against, [`VALIDATOR_HISTORY_DEPTH`] sessions.
pub struct ReportLongevity;
impl frame_support::traits::Get<u64> for ReportLongevity {
	fn get() -> u64 {
		<EpochDuration as frame_support::traits::Get<u64>>::get()
			.saturating_mul(VALIDATOR_HISTORY_DEPTH as u64)
	}
}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = Validators;
}

/// Sessions the session-historical record of who held which keys is kept (a day of production
/// sessions): an equivocation can be proven, and so reported, for that long after its session.
pub const VALIDATOR_HISTORY_DEPTH: sp_staking::SessionIndex = 24;

/// Sessions from a validator's removal until its bond may be withdrawn: the two sessions it still
/// authors, then the history depth, so that nobody leaves with its bond while what it signed in
/// its last session can still be proven and slashed.
pub const VALIDATOR_BONDING_DURATION: sp_staking::SessionIndex =
	VALIDATOR_HISTORY_DEPTH + pallet_validators::SESSIONS_UNTIL_ACTIVE;

parameter_types! {
	/// What a validator seat costs: a council majority that admits free identities could fill
	/// the set with validators that have nothing to lose; what an equivocation is slashed from.
	pub const ValidatorMinimumBond: Balance = 100_000 * currency::UNITS;
	/// Held while an account has session keys registered, so that every key record is paid
	/// for; returned when the bond is withdrawn, which removes the keys.
	pub const SessionKeyDeposit: Balance = currency::UNITS;
}

/// Offenders disabled through `pallet-session` (BABE then refuses their blocks), up to its
/// limit of a third of the set.
pub struct SessionDisabling;
impl pallet_validators::DisableValidator<AccountId> for SessionDisabling {
	fn disable(who: &AccountId, severity: sp_runtime::Perbill) {
		pallet_session::Pallet::<Runtime>::report_offence(
			who.clone(),
			sp_staking::offence::OffenceSeverity(severity),
		);
	}
}

/// Session keys as `pallet-session` registers them.
pub struct SessionKeyRegistry;
impl pallet_validators::SessionKeyRegistry<AccountId> for SessionKeyRegistry {
	fn has_keys(who: &AccountId) -> bool {
		pallet_session::NextKeys::<Runtime>::contains_key(who)
	}

	fn remove_keys(who: &AccountId) {
		if !Self::has_keys(who) {
			return;
		}
		// Called directly, past the call filter that refuses `purge_keys` to everyone else.
		if let Err(error) =
			pallet_session::Pallet::<Runtime>::purge_keys(RuntimeOrigin::signed(who.clone()))
		{
			frame_support::defensive!(error, "an account with keys and their deposit held purges");
		}
	}
}

/// Who may set session keys: bonded accounts (candidates, validators, former validators) whose
/// keys are not in use, that is not among the current or the next session's validators. The
/// session-historical record, against which equivocations are proven, maps a current
/// validator to the keys it has registered, not to those it signs with: a validator that
/// changed keys while they were in use could equivocate with keys nobody can prove are its
/// own, and its old keys would stay recorded as its own for anyone holding them to sign with.
/// (Purging keys, only done with a released bond, does not ask.)
pub struct BondedValidatorId;
impl sp_runtime::traits::Convert<AccountId, Option<AccountId>> for BondedValidatorId {
	fn convert(who: AccountId) -> Option<AccountId> {
		let in_use = pallet_session::Validators::<Runtime>::get().contains(&who)
			|| pallet_session::QueuedKeys::<Runtime>::get()
				.iter()
				.any(|(queued, _)| *queued == who);
		(pallet_validators::Bonds::<Runtime>::contains_key(&who) && !in_use).then_some(who)
	}
}

/// A validator's identification in the session-historical record: its account alone.
pub struct ValidatorIdentity;
impl sp_runtime::traits::Convert<AccountId, Option<()>> for ValidatorIdentity {
	fn convert(_who: AccountId) -> Option<()> {
		Some(())
	}
}

/// The validator set as `pallet-session` sees it: the governed set of `pallet-validators`, with
/// the session-historical record pruned to [`VALIDATOR_HISTORY_DEPTH`] sessions.
pub struct ValidatorSessions;

impl pallet_session::SessionManager<AccountId> for ValidatorSessions {
	fn new_session(new_index: sp_staking::SessionIndex) -> Option<alloc::vec::Vec<AccountId>> {
		<Validators as pallet_session::SessionManager<AccountId>>::new_session(new_index)
	}
	fn new_session_genesis(
		new_index: sp_staking::SessionIndex,
	) -> Option<alloc::vec::Vec<AccountId>> {
		<Validators as pallet_session::SessionManager<AccountId>>::new_session_genesis(new_index)
	}
	fn start_session(start_index: sp_staking::SessionIndex) {
		pallet_session::historical::Pallet::<Runtime>::prune_up_to(
			start_index.saturating_sub(VALIDATOR_HISTORY_DEPTH),
		);
		<Validators as pallet_session::SessionManager<AccountId>>::start_session(start_index)
	}
	fn end_session(end_index: sp_staking::SessionIndex) {
		<Validators as pallet_session::SessionManager<AccountId>>::end_session(end_index)
	}
}

impl pallet_session::historical::SessionManager<AccountId, ()> for ValidatorSessions {
	fn new_session(
		new_index: sp_staking::SessionIndex,
	) -> Option<alloc::vec::Vec<(AccountId, ())>> {
		<Self as pallet_session::SessionManager<AccountId>>::new_session(new_index)
			.map(|set| set.into_iter().map(|who| (who, ())).collect())
	}
	fn new_session_genesis(
		new_index: sp_staking::SessionIndex,
	) -> Option<alloc::vec::Vec<(AccountId, ())>> {
		<Self as pallet_session::SessionManager<AccountId>>::new_session_genesis(new_index)
			.map(|set| set.into_iter().map(|who| (who, ())).collect())
	}
	fn start_session(start_index: sp_staking::SessionIndex) {
		<Self as pallet_session::SessionManager<AccountId>>::start_session(start_index)
	}
	fn end_session(end_index: sp_staking::SessionIndex) {
		<Self as pallet_session::SessionManager<AccountId>>::end_session(end_index)
	}
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = BondedValidatorId;
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	type SessionManager =
		pallet_session::historical::NoteHistoricalRoot<Runtime, ValidatorSessions>;
	type SessionHandler =
		<crate::SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = crate::SessionKeys;
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

impl pallet_authorship::Config for Runtime {
	// BABE names the author's index in the session's validators. Authorship comes after
	// Session in the runtime, so in a session's first block the index is read against the
	// new session's validators, the set BABE's new epoch draws from.
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Babe>;
	type EventHandler = ();
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = ValidatorIdentity;
}

impl pallet_validators::Config for Runtime {
	type RuntimeHoldReason = RuntimeHoldReason;
	type Currency = Balances;
	type GovernanceOrigin = CouncilMajorityOrRoot;
	type SessionKeys = SessionKeyRegistry;
	type MinimumBond = ValidatorMinimumBond;
	type MaxValidators = MaxAuthorities;
	type BondingDuration = ConstU32<VALIDATOR_BONDING_DURATION>;
	type DefaultSessionLength = ConstU64<{ time::DEFAULT_SESSION_LENGTH }>;
	type EquivocationSlash = ValueOf<validators::EquivocationSlash>;
	type ReporterShare = ValueOf<validators::ReporterShare>;
	type Slashed = ResolveTo<TreasuryAccount, Balances>;
	type Disabling = SessionDisabling;
	type WeightInfo = pallet_validators::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = SessionKeysForBenchmarks;
}

/// Generates session keys in the benchmark's keystore and sets them with their proof.
#[cfg(feature = "runtime-benchmarks")]
pub struct SessionKeysForBenchmarks;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_validators::BenchmarkHelper<AccountId> for SessionKeysForBenchmarks {
	fn set_session_keys(who: &AccountId) {
		use codec::Encode;
		use frame_support::traits::fungible::Mutate;
		let generated = crate::SessionKeys::generate(&who.encode(), None);
		let _ = Balances::mint_into(who, SessionKeyDeposit::get() * 2);
		pallet_session::Pallet::<Runtime>::set_keys(
			RuntimeOrigin::signed(who.clone()),
			generated.keys,
			generated.proof.encode(),
		)
		.expect("a bonded account sets fresh keys with their proof; qed");
	}
}

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type WeightInfo = crate::weights::pallet_balances::WeightInfo<Runtime>;
	type Balance = Balance;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<{ currency::EXISTENTIAL_DEPOSIT }>;
	type AccountStore = System;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxLocks = ConstU32<50>;
	// Veritensor's own pallets hold funds through `fungible` holds, never named reserves.
	type MaxReserves = ConstU32<0>;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub TreasuryAccount: AccountId = Treasury::account_id();
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	// The block author takes its share of the fee and the tip, the treasury the rest.
	type OnChargeTransaction = FungibleAdapter<Balances, crate::rewards::SplitFees>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	// A constant multiplier keeps job fees predictable for dApps; congestion is priced by the
	// job market itself.
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = crate::weights::pallet_transaction_payment::WeightInfo<Runtime>;
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = crate::weights::pallet_utility::WeightInfo<Runtime>;
}

/// The council's collective instance.
pub type CouncilCollective = pallet_collective::Instance1;

/// Root, or more than half of the council.
pub type CouncilMajorityOrRoot = EitherOfDiverse<
	EnsureRoot<AccountId>,
	pallet_collective::EnsureProportionMoreThan<AccountId, CouncilCollective, 1, 2>,
>;

parameter_types! {
	pub const CouncilMotionDuration: BlockNumber = time::DAYS;
	pub MaxCouncilProposalWeight: Weight = Perbill::from_percent(50) * RuntimeBlockWeights::get().max_block;
}

impl pallet_collective::Config<CouncilCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = CouncilMotionDuration;
	type MaxProposals = ConstU32<100>;
	type MaxMembers = ConstU32<32>;
	type DefaultVote = pallet_collective::PrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = MaxCouncilProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Consideration = ();
}

parameter_types! {
	pub const TreasuryPalletId: PalletId = PalletId(*b"py/trsry");
	pub const SpendPeriod: BlockNumber = time::DAYS;
	pub const PayoutPeriod: BlockNumber = 30 * time::DAYS;
	pub const MaxTreasurySpend: Balance = Balance::MAX;
}

impl pallet_treasury::Config for Runtime {
	type Currency = Balances;
	type RejectOrigin = CouncilMajorityOrRoot;
	type RuntimeEvent = RuntimeEvent;
	type SpendPeriod = SpendPeriod;
	type Burn = ();
	type PalletId = TreasuryPalletId;
	type BurnDestination = ();
	type WeightInfo = pallet_treasury::weights::SubstrateWeight<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = ConstU32<100>;
	type SpendOrigin = EnsureWithSuccess<EnsureRoot<AccountId>, AccountId, MaxTreasurySpend>;
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = IdentityLookup<AccountId>;
	type Paymaster = PayFromAccount<Balances, TreasuryAccount>;
	type BalanceConverter = UnityAssetBalanceConversion;
	type PayoutPeriod = PayoutPeriod;
	type BlockNumberProvider = System;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

impl pallet_parameters::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeParameters = RuntimeParameters;
	type AdminOrigin = AsEnsureOriginWithArg<CouncilMajorityOrRoot>;
	// Upstream's measured weights with RocksDB's costs (the crate exports no other): above what
	// ParityDB costs, for a call only the council makes.
	type WeightInfo = ();
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const ModelBaseDeposit: Balance = 10 * currency::UNITS;
	pub const ModelByteDeposit: Balance = 10 * currency::MILLI_UNITS;
	pub const ModelRejectionSlash: Perbill = Perbill::from_percent(10);
}

impl pallet_models::Config for Runtime {
	type RuntimeHoldReason = RuntimeHoldReason;
	type Currency = Balances;
	type ListingOrigin = CouncilMajorityOrRoot;
	type OnRejection = ResolveTo<TreasuryAccount, Balances>;
	type BaseDeposit = ModelBaseDeposit;
	type ByteDeposit = ModelByteDeposit;
	type RejectionSlash = ModelRejectionSlash;
	type MaxUris = ConstU32<4>;
	type MaxUriLen = ConstU32<256>;
	type MaxNameLen = ConstU32<64>;
	type MaxDescriptionLen = ConstU32<512>;
	// 16 MiB: large inputs travel by hash and URI, so the schema may describe big tensors.
	type MaxTensorBytes = ConstU32<{ 16 * 1024 * 1024 }>;
	type MaxExecutableBytes = MaxExecutableBytes;
	// The job market's inline bound: every job of an executable model carries its input on
	// chain, where a dispute can re-run it.
	type MaxExecutableTensorBytes = ConstU32<8192>;
	// Each vector is a run at approval: four keep the largest approval under a third of a block
	// (`EXECUTION_SHARE` each), well inside a council motion's weight bound.
	type MaxConformanceVectors = ConstU32<4>;
	type MaxExecutionCost = MaxExecutionCost;
	// 16 MiB: a run stays far inside the runtime's heap (the executor's default of 2048 extra
	// pages, 128 MiB), whose exhaustion would abort the block.
	type MaxExecutionMemory = ConstU32<{ 16 * 1024 * 1024 }>;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// 64 KiB: the largest artifact stored on chain for the runtime to run. It keeps what a
	/// proposal adds to the state small (and paid for by the byte deposit), and a parse cheap.
	pub const MaxExecutableBytes: u32 = 64 * 1024;
}

/// Share of a block's weight that one on-chain run of the largest executable model may take:
/// a dispute settled by re-execution never crowds out the block's other transactions, and a
/// block holds several such settlements.
pub const EXECUTION_SHARE: Perbill = Perbill::from_percent(8);

/// The highest interpreter cost of one on-chain run: the cost at which the measured weight of
/// running the largest artifact (`execute` in `pallet_models`'s weights, per cost unit and per
/// byte) reaches [`EXECUTION_SHARE`] of a block. Derived from the weights, so that it follows
/// them when they are measured again.
pub struct MaxExecutionCost;

impl frame_support::traits::Get<u64> for MaxExecutionCost {
	fn get() -> u64 {
		use pallet_models::WeightInfo;
		type Measured = pallet_models::weights::SubstrateWeight<Runtime>;
		let budget = EXECUTION_SHARE * RuntimeBlockWeights::get().max_block.ref_time();
		let bytes = MaxExecutableBytes::get();
		let base = Measured::execute(bytes, 0).ref_time();
		let per_million =
			Measured::execute(bytes, 1_000_000).ref_time().saturating_sub(base).max(1);
		let cost = u128::from(budget.saturating_sub(base)) * 1_000_000 / u128::from(per_million);
		u64::try_from(cost).unwrap_or(u64::MAX)
	}
}

parameter_types! {
	pub const MinOperatorBond: Balance = 1_000 * currency::UNITS;
	/// A wrong result costs a tenth of the minimum bond, so the minimum bond backs ten
	/// assignments at once.
	pub const MaxAssignmentSlash: Balance = MAX_ASSIGNMENT_SLASH;
	pub const WorkerReporterBounty: Perbill = Perbill::from_percent(10);
	pub const WorkerUnbondingPeriod: BlockNumber = 7 * time::DAYS;
	/// Job deadlines (at most 100 blocks, or 116 when the deadline's block is full), assignment,
	/// and room for a challenge window and the retention of results: a day.
	pub const SlashableWindow: BlockNumber = time::DAYS;
	/// Five blocks: longer than the job market's assignment delay of three blocks.
	pub const EligibilityDelay: BlockNumber = 5;
	/// An hour of answers per model: at a job a minute, enough for every worker of a busy model
	/// to reach the sample the check needs; an outage is forgotten within the next hour.
	pub const RefusalWindow: BlockNumber = time::HOURS;
	/// A worker may refuse 50 percentage points more often than its peers before it is chilled:
	/// a worker that refuses everything while its peers answer is caught after 20 answers, one
	/// whose peers refuse as often (a model that is down for everyone) never.
	pub const RefusalTolerance: Perbill = Perbill::from_percent(50);
}

impl pallet_workers::Config for Runtime {
	type RuntimeHoldReason = RuntimeHoldReason;
	type Currency = Balances;
	type Models = crate::Models;
	type KeyAccount = veritensor_primitives::worker_key::WorkerKeyAccount;
	type OnSlash = ResolveTo<TreasuryAccount, Balances>;
	type MinOperatorBond = MinOperatorBond;
	type MaxAssignmentSlash = MaxAssignmentSlash;
	type ReporterBounty = WorkerReporterBounty;
	type UnbondingPeriod = WorkerUnbondingPeriod;
	type SlashableWindow = SlashableWindow;
	type EligibilityDelay = EligibilityDelay;
	type MaxUnbondingChunks = ConstU32<32>;
	type MaxWorkersPerOperator = ConstU32<16>;
	type MaxModelsPerWorker = ConstU32<8>;
	type MaxWorkersPerModel = ConstU32<64>;
	// Filling a model's 64 seats takes 16 operators, each outranking everyone else who wants one.
	type MaxWorkersPerModelPerOperator = ConstU32<4>;
	type MaxCapacity = ConstU32<256>;
	type RefusalWindow = RefusalWindow;
	// Twenty answers by the worker and by its peers before a judgement. Simulated over 20,000
	// windows of 200 to 2,000 answers, a worker refusing exactly as often as its peers (10% to
	// 70% of jobs, judged at every refusal) was chilled in at most 5 in 100,000 windows; with 16
	// answers and 40 points, up to 360 in 100,000.
	type MinAnswersForRefusalCheck = ConstU32<20>;
	type RefusalTolerance = RefusalTolerance;
	type WeightInfo = pallet_workers::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ListModelForBenchmarks;
}

/// Lists models directly in the registry for worker staking's benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct ListModelForBenchmarks;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_workers::BenchmarkHelper for ListModelForBenchmarks {
	fn list_model(model: veritensor_primitives::ModelHash) {
		let owner: AccountId = frame_benchmarking::account("model owner", 0, 0);
		pallet_models::Pallet::<Runtime>::list_for_benchmarks(owner, model);
	}
}

/// The most one assignment can be slashed for.
pub const MAX_ASSIGNMENT_SLASH: Balance = 100 * currency::UNITS;

parameter_types! {
	pub const JobsPalletId: PalletId = PalletId(*b"vt/jobs_");
	/// The audit pool's account: premiums and referees' slash bounties in, auditors' and
	/// referees' pay out.
	pub const AuditPoolId: PalletId = PalletId(*b"vt/audit");
	/// The draw (3 blocks), two full attempts by the worker, and the two blocks it keeps to
	/// report a failure in time.
	pub const MinJobDeadline: BlockNumber = 7;
	/// Above anything a tip buys a normal transaction, below the equivocation reports of
	/// consensus (`TransactionPriority::MAX`).
	pub const AnswerPriority: TransactionPriority = TransactionPriority::MAX / 2;
	pub const MaxJobDeadline: BlockNumber = 100;
		/// Five blocks to commit after a quorum's draw: the draw seen, two attempts at the job,
	/// and the two blocks a worker keeps to commit "cannot execute" in time (an abstention)
	/// when both attempts fail; they also absorb a lost transaction or a restarted worker node.
	/// A member later than that is a no-show.
	pub const QuorumCommitWindow: u32 = 5;
	/// At least four blocks to reveal once reveals open, for the same reasons.
	pub const QuorumRevealWindow: u32 = 4;
	/// The draw (3), a commit window (5), a replacement's commit window (5), the reveal window
	/// (4), and an audit's decision (3, from the VRF outputs of the two blocks after the
	/// commitment, as the draw).
	pub const MinQuorumDeadline: BlockNumber = 20;
	/// Twenty blocks (two minutes) between a quorum's decision and its slashes: the decision
	/// and every revealed finding are in the chain's events and state meanwhile, for anyone
	/// to check before the slashes are final; a disputed job's submitter waits as long for
	/// the refund.
	pub const QuorumDisputeWindow: BlockNumber = 20;
	pub const ResultRetention: BlockNumber = time::DAYS;
}

impl pallet_jobs::Config for Runtime {
	type RuntimeHoldReason = RuntimeHoldReason;
	type Currency = Balances;
	type Models = crate::Models;
	type Workers = crate::Workers;
	type ParentVrf = pallet_babe::ParentBlockRandomness<Runtime>;
	type TreasuryAccount = TreasuryAccount;
	type PalletId = JobsPalletId;
	type AuditPoolId = AuditPoolId;
	// The economic numbers are the council's to set (see `parameters.rs` for what each defends
	// against and its bounds).
	type ProtocolFee = ValueOf<market::ProtocolFee>;
	type BlockAuthor = crate::rewards::BlockAuthor;
	type AuthorShare = crate::rewards::AuthorShare;
	type MinFee = ValueOf<market::MinJobFee>;
	type NoShowSlashFloor = ValueOf<market::NoShowSlashFloor>;
	type NoShowSlashMultiple = ValueOf<market::NoShowSlashMultiple>;
	type AuditRateFloor = ValueOf<market::AuditRateFloor>;
	type ResultBytePrice = ValueOf<market::ResultBytePrice>;
	type CommitWindow = QuorumCommitWindow;
	type RevealWindow = QuorumRevealWindow;
	type MinQuorumDeadline = MinQuorumDeadline;
	type DisputeWindow = QuorumDisputeWindow;
	// Each dispute end applies up to five slashes; more than this wait a block (see the
	// benchmark of `end_disputes`).
	type MaxDisputeEndsPerBlock = ConstU32<64>;
	// At most the workers' eligibility delay of five blocks, as the draw needs.
	type AssignmentDelay = ConstU32<3>;
	type MinDeadline = MinJobDeadline;
	type MaxDeadline = MaxJobDeadline;
	type ResultRetention = ResultRetention;
	type MaxWorkersPerJob = ConstU32<5>;
	type MaxInlineTensorBytes = ConstU32<8192>;
	type MaxUriLen = ConstU32<256>;
	type MaxJobsPerBlock = ConstU32<1024>;
	type MaxModelsPerBlock = ConstU32<16>;
	type MaxResultsPerCall = ConstU32<64>;
	// As many as the most jobs a block takes in, so that pruning keeps up under any load.
	type MaxPrunedPerBlock = ConstU32<1024>;
	type AnswerPriority = AnswerPriority;
	type WorkerRunBudget = ConstU64<{ time::MILLI_SECS_PER_BLOCK / 2 }>;
	type ExpectedBlockTime = ConstU64<{ time::MILLI_SECS_PER_BLOCK }>;
	type WeightInfo = pallet_jobs::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = JobsBenchmarkHelper;
}

/// Bonds `at_least` (or the minimum bond) for `operator`, funding it first.
#[cfg(feature = "runtime-benchmarks")]
fn bond_for_benchmarks(operator: &AccountId, at_least: Balance) {
	use frame_support::traits::fungible::Mutate;
	let bond = MinOperatorBond::get().max(at_least);
	Balances::set_balance(operator, bond * 2);
	pallet_workers::Pallet::<Runtime>::bond(RuntimeOrigin::signed(operator.clone()), bond)
		.expect("funded; qed");
}

/// Registers a new worker key of `operator` (kept in the keystore) for `models`.
#[cfg(feature = "runtime-benchmarks")]
fn register_for_benchmarks(
	operator: &AccountId,
	models: &[veritensor_primitives::ModelHash],
	capacity: u32,
) -> veritensor_primitives::WorkerId {
	use sp_runtime::RuntimeAppPublic;
	let key = veritensor_primitives::WorkerId::generate_pair(None);
	let genesis = System::block_hash(0);
	let proof = key
		.sign(&veritensor_primitives::possession_payload(operator, &genesis))
		.expect("the key is in the keystore; qed");
	let models = models.to_vec().try_into().expect("at most the models a worker serves; qed");
	pallet_workers::Pallet::<Runtime>::register(
		RuntimeOrigin::signed(operator.clone()),
		key.clone(),
		proof,
		models,
		capacity,
	)
	.expect("bonded for the capacity, and a seat is free; qed");
	key
}

/// Lists models and registers workers through the real pallets for the job market's
/// benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct JobsBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_jobs::BenchmarkHelper for JobsBenchmarkHelper {
	fn list_model(
		model: veritensor_primitives::ModelHash,
		schema: veritensor_primitives::IoSchema,
	) {
		// Each model its own owner, so that royalties accrue to distinct accounts.
		let owner: AccountId = frame_benchmarking::account("model owner", model[0] as u32, 0);
		pallet_models::Pallet::<Runtime>::list_for_benchmarks_with(owner, model, Some(schema));
	}

	fn add_worker(
		models: &[veritensor_primitives::ModelHash],
		index: u32,
		capacity: u32,
	) -> veritensor_primitives::WorkerId {
		use frame_support::traits::Get;
		let operator: AccountId = frame_benchmarking::account("operator", index, 0);
		bond_for_benchmarks(&operator, MaxAssignmentSlash::get() * capacity as Balance);
		// Past the seats, the set fills with evicted workers, still candidates until their
		// eviction takes effect.
		if index >= <Runtime as pallet_workers::Config>::MaxWorkersPerModel::get() {
			for model in models {
				pallet_workers::Pallet::<Runtime>::evict_for_benchmarks(model);
			}
		}
		register_for_benchmarks(&operator, models, capacity)
	}

	fn add_crowded_worker(
		model: veritensor_primitives::ModelHash,
		index: u32,
	) -> veritensor_primitives::WorkerId {
		use frame_support::traits::Get;
		let operator: AccountId = frame_benchmarking::account("crowded operator", index, 0);
		let workers = <Runtime as pallet_workers::Config>::MaxWorkersPerOperator::get();
		bond_for_benchmarks(&operator, MaxAssignmentSlash::get() * workers as Balance);
		let key = register_for_benchmarks(&operator, &[model], 1);
		// The operator's other workers fill other models' seats: `per_model` of them a model
		// (the per-operator cap), and as many operators a model as its seats allow.
		let per_model: u32 =
			<Runtime as pallet_workers::Config>::MaxWorkersPerModelPerOperator::get();
		let seats: u32 = <Runtime as pallet_workers::Config>::MaxWorkersPerModel::get();
		let group = index / (seats / per_model).max(1);
		for other in 1..workers {
			let mut filler = [0xf0u8; 32];
			filler[1..5].copy_from_slice(&group.to_le_bytes());
			filler[5..9].copy_from_slice(&((other - 1) / per_model).to_le_bytes());
			let filler = veritensor_primitives::ModelHash::from(filler);
			if pallet_models::Models::<Runtime>::get(filler).is_none() {
				let owner: AccountId = frame_benchmarking::account("model owner", 0, 0);
				pallet_models::Pallet::<Runtime>::list_for_benchmarks(owner, filler);
			}
			register_for_benchmarks(&operator, &[filler], 1);
		}
		key
	}

	fn max_models_per_worker() -> u32 {
		use frame_support::traits::Get;
		<Runtime as pallet_workers::Config>::MaxModelsPerWorker::get()
	}

	fn make_eligible() {
		System::set_block_number(System::block_number() + EligibilityDelay::get());
	}

	fn set_block_author() {
		use codec::Encode;
		use sp_consensus_babe::digests::{PreDigest, SecondaryPlainPreDigest};
		// The session's first validator claims a slot, as in a block it authored.
		let claim = PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
			authority_index: 0,
			slot: Default::default(),
		});
		System::deposit_log(sp_runtime::DigestItem::PreRuntime(
			sp_consensus_babe::BABE_ENGINE_ID,
			claim.encode(),
		));
	}
}
