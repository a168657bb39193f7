//! Storage migrations of worker staking, one module per storage version.

pub mod v1;
