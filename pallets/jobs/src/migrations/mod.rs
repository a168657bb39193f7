//! Storage migrations of the job market, one module per storage version.

pub mod v1;
pub mod v2;
pub mod v3;
pub mod v4;
