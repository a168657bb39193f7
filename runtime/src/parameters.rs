//! The economic numbers of the job market and of validators' pay, set by the council through
//! `pallet-parameters` (`parameters.set_parameter`, origin: more than half of the council, or root).
//!
//! Every value has bounds, checked when it is set: a value outside them cannot be decoded, so a
//! `set_parameter` carrying one is refused before it runs, whatever its origin (a council motion
//! proposing it fails at `propose`). A stored value that a later runtime's bounds exclude reads
//! as the default. Time constants (delays, windows, unbonding) stay runtime constants; their
//! reasons are next to them in `configs.rs`.
//!
//! What each number defends against:
//! - `ProtocolFee` (5 %, at most 30 %): funds the treasury from every settled job; the cap keeps
//!   the council from pricing the market out.
//! - `MinJobFee` (0.01 VTN, 0.001 to 1 VTN): no job is free, not even one cancelled or answered
//!   "cannot execute" (made to fail, say by an input server that refuses), so taking the 16
//!   model places of a block's draw costs at least 16 times it a block (0.16 VTN, 2,304 VTN a
//!   day), and its 1,024 job places 1,024 times it.
//! - `NoShowSlashFloor` (1 VTN, 0.001 to 100 VTN, the most one assignment may be slashed) and
//!   `NoShowSlashMultiple` (10, 1 to 1,000): a worker that takes a job and does not answer loses
//!   ten times what answering would have earned (up to the cap), and at least the floor, so that
//!   holding assignments to delay users does not pay; the cap is the exposure every assignment
//!   is backed by, so a cheap job never risks more than the bond set aside for it. A job's slash
//!   is fixed when it is submitted.
//! - `ResultBytePrice` (0.00001 VTN a byte, at most 0.001): a job pays for keeping its largest
//!   possible result in state for a day, so large results cannot bloat state for free (the
//!   largest inline result, 64 KiB, costs 0.66 VTN; a one-label result, 183 bytes, 0.0018 VTN).
//! - `AuditRateFloor` (2 %, 0 to 100 %): an audited job is audited with probability
//!   max(floor, price / (price + slash)); the second term makes skipping the work lose in
//!   expectation, the floor covers a cheater that gains V outside the job from a wrong answer,
//!   who needs p >= V / (V + slash): at 2 % and the 100 VTN slash, a gain of up to 2 VTN. Set
//!   to 100 %, every audited job is audited (a test chain's setting).
//! - `AuthorShare` (20 %, at most 50 %): pays validators for running nodes, from every
//!   transaction fee and protocol fee their blocks collect (see `rewards.rs`); the cap keeps the
//!   treasury funded and keeps a validator's own jobs from becoming much cheaper for it than
//!   for anyone else: it gets back its share of their protocol fee (the minimum fee's top-up
//!   included) when the fee accrues in a block it authors, so its cheapest jobs cost it at
//!   least half of `MinJobFee` at the cap, 80 % of it at the default.
//! - `EquivocationSlash` (10 %, 1 % to 100 %): what an equivocating validator (two blocks for
//!   one slot, two finality votes in one round) loses of its bond, 10,000 VTN of the 100,000 VTN
//!   minimum: trying to fork the chain or to finalise two histories costs a real part of a seat
//!   even once, while an operator who ran its keys on two nodes by mistake survives it. When
//!   several validators offend in one slot, the offence's own fraction,
//!   ((3 x offenders) / validators)^2, applies if greater, so a third of the set equivocating
//!   together loses everything.
//! - `ReporterShare` (10 %, at most 50 %): pays the author of the block that includes a report
//!   (nodes file reports on their own and include them in their own blocks; signed reports
//!   are refused), so that reports get included; an offender gets nothing for including its
//!   own, and the cap keeps a validator that colludes with an offender from turning most of
//!   the slash back.

use crate::{currency, Balance, Runtime};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::marker::PhantomData;
use frame_support::{
	dynamic_params::{dynamic_pallet_params, dynamic_params},
	traits::{dynamic_params::Key, Get},
};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// The bounds of a parameter's value.
pub trait Bounds<V> {
	/// The least value allowed.
	const MIN: V;
	/// The greatest value allowed.
	const MAX: V;
}

/// A parameter's value, decodable only within the bounds `B`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, MaxEncodedLen, TypeInfo)]
#[scale_info(skip_type_params(B))]
#[codec(mel_bound(V: MaxEncodedLen))]
pub struct Bounded<V, B>(V, PhantomData<B>);

impl<V: PartialOrd, B: Bounds<V>> Bounded<V, B> {
	/// `value` if it is within the bounds.
	pub fn new(value: V) -> Option<Self> {
		(B::MIN <= value && value <= B::MAX).then_some(Self(value, PhantomData))
	}

	/// The value.
	pub fn get(self) -> V {
		self.0
	}
}

impl<V: Decode + PartialOrd, B: Bounds<V>> Decode for Bounded<V, B> {
	fn decode<I: codec::Input>(input: &mut I) -> Result<Self, codec::Error> {
		Self::new(V::decode(input)?).ok_or_else(|| "parameter value out of its bounds".into())
	}
}

impl<V: DecodeWithMemTracking + PartialOrd, B: Bounds<V>> DecodeWithMemTracking for Bounded<V, B> {}

/// A value with bounds, as the pallets see it: the plain value.
pub trait Unbound {
	/// The plain value's type.
	type Plain;
	/// The plain value.
	fn plain(self) -> Self::Plain;
}

impl<V, B> Unbound for Bounded<V, B> {
	type Plain = V;
	fn plain(self) -> V {
		self.0
	}
}

/// The plain value of a bounded parameter `P`, for the pallets' `Get`s.
pub struct ValueOf<P>(PhantomData<P>);

impl<P> Get<<P::Value as Unbound>::Plain> for ValueOf<P>
where
	P: Key + Get<P::Value>,
	P::Value: Unbound,
{
	fn get() -> <P::Value as Unbound>::Plain {
		P::get().plain()
	}
}

macro_rules! bounds {
	($name:ident: $value:ty = $min:expr, $max:expr) => {
		#[doc = concat!("The bounds of `", stringify!($name), "`.")]
		#[derive(Clone, Copy, PartialEq, Eq, Debug)]
		pub struct $name;
		impl Bounds<$value> for $name {
			const MIN: $value = $min;
			const MAX: $value = $max;
		}
	};
}

bounds!(ProtocolFeeBounds: Perbill = Perbill::zero(), Perbill::from_percent(30));
bounds!(MinJobFeeBounds: Balance = currency::MILLI_UNITS, currency::UNITS);
bounds!(NoShowSlashFloorBounds: Balance = currency::MILLI_UNITS, crate::configs::MAX_ASSIGNMENT_SLASH);
bounds!(NoShowSlashMultipleBounds: u32 = 1, 1_000);
bounds!(ResultBytePriceBounds: Balance = 0, currency::MILLI_UNITS);
bounds!(AuditRateFloorBounds: Perbill = Perbill::zero(), Perbill::one());
bounds!(AuthorShareBounds: Perbill = Perbill::zero(), Perbill::from_percent(50));
bounds!(EquivocationSlashBounds: Perbill = Perbill::from_percent(1), Perbill::one());
bounds!(ReporterShareBounds: Perbill = Perbill::zero(), Perbill::from_percent(50));

/// A bounded value known to be within its bounds.
const fn within<V, B>(value: V) -> Bounded<V, B> {
	Bounded(value, PhantomData)
}

#[dynamic_params(RuntimeParameters, pallet_parameters::Parameters::<Runtime>)]
pub mod dynamic_params {
	use super::*;

	/// The job market's economic numbers.
	#[dynamic_pallet_params]
	#[codec(index = 0)]
	pub mod market {
		/// The treasury's share of a job, on top of the workers' price and the royalty.
		#[codec(index = 0)]
		pub static ProtocolFee: Bounded<Perbill, ProtocolFeeBounds> =
			within(Perbill::from_percent(5));

		/// The least a job costs; a cancelled job keeps it.
		#[codec(index = 1)]
		pub static MinJobFee: Bounded<Balance, MinJobFeeBounds> =
			within(10 * currency::MILLI_UNITS);

		/// The least a no-show is slashed.
		#[codec(index = 2)]
		pub static NoShowSlashFloor: Bounded<Balance, NoShowSlashFloorBounds> =
			within(currency::UNITS);

		/// A no-show is slashed this many times the worker's price for the job.
		#[codec(index = 3)]
		pub static NoShowSlashMultiple: Bounded<u32, NoShowSlashMultipleBounds> = within(10);

		/// What a job pays per byte of its largest possible result, kept for a day.
		#[codec(index = 4)]
		pub static ResultBytePrice: Bounded<Balance, ResultBytePriceBounds> =
			within(10 * currency::MICRO_UNITS);

		/// The least probability with which an audited job is audited.
		#[codec(index = 5)]
		pub static AuditRateFloor: Bounded<Perbill, AuditRateFloorBounds> =
			within(Perbill::from_percent(2));
	}

	/// Validators' pay.
	#[dynamic_pallet_params]
	#[codec(index = 1)]
	pub mod rewards {
		/// The block author's share of each transaction fee and of each protocol fee.
		#[codec(index = 0)]
		pub static AuthorShare: Bounded<Perbill, AuthorShareBounds> =
			within(Perbill::from_percent(20));
	}

	/// What validators' offences cost them.
	#[dynamic_pallet_params]
	#[codec(index = 2)]
	pub mod validators {
		/// The least fraction of its bond an equivocating validator is slashed.
		#[codec(index = 0)]
		pub static EquivocationSlash: Bounded<Perbill, EquivocationSlashBounds> =
			within(Perbill::from_percent(10));

		/// The reporters' part of a validator's slash.
		#[codec(index = 1)]
		pub static ReporterShare: Bounded<Perbill, ReporterShareBounds> =
			within(Perbill::from_percent(10));
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl Default for RuntimeParameters {
	fn default() -> Self {
		RuntimeParameters::Market(dynamic_params::market::Parameters::ProtocolFee(
			dynamic_params::market::ProtocolFee,
			Some(within(Perbill::from_percent(5))),
		))
	}
}
