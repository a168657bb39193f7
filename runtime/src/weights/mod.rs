//! The chain's base weights, measured by the node's own benchmarks on the reference machine
//! (a release build; see docs/performance.md for the machine, the commands and the figures):
//!
//! - [`BlockExecutionWeight`]: executing an empty block;
//! - [`ExtrinsicBaseWeight`]: the fixed cost of any transaction, measured on a block full of
//!   signed `System::remark`s;
//! - [`ParityDbWeight`]: one read and one write of the node's database.
//!
//! The pallets' weights count their reads and writes and are priced through
//! `frame_system::Config::DbWeight`, so a new storage measurement reprices every call without
//! regenerating them.
//!
//! Every signed transaction passes the same checks and pays its fee the same way: those weights,
//! and the balances and utility calls wallets use most, are measured on this runtime
//! (`scripts/benchmark-pallet.sh <pallet> runtime/src/weights/<pallet>.rs`) rather than taken
//! from upstream's reference runtime, whose fee payment touches one account where this one's
//! pays the block author and the treasury too.

pub mod block_weights;
pub mod extrinsic_weights;
pub mod frame_system_extensions;
pub mod pallet_balances;
pub mod pallet_transaction_payment;
pub mod pallet_utility;
pub mod paritydb_weights;

pub use block_weights::BlockExecutionWeight;
pub use extrinsic_weights::ExtrinsicBaseWeight;
pub use paritydb_weights::constants::ParityDbWeight;
