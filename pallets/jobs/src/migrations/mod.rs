//! Storage migrations of the job market, one module per storage version.

pub mod v1;
