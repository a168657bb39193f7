//! Storage migrations of the model registry, one module per storage version.

pub mod v1;
