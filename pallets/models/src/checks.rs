//! What a spec must satisfy before it is stored: the checks behind `propose`, `set_uris` and the
//! models listed at genesis, each failing with the error that names the problem.

use crate::{Config, Error, ModelSpec, Models, Pallet, Uris};
use frame_support::{ensure, traits::Get};
use veritensor_primitives::{model::RuleError, SchemaError};

impl<T: Config> Pallet<T> {
	/// Checks that there is at least one URI and none is empty.
	pub(crate) fn check_uris(uris: &Uris<T>) -> Result<(), Error<T>> {
		ensure!(!uris.is_empty(), Error::<T>::NoUris);
		ensure!(uris.iter().all(|uri| !uri.is_empty()), Error::<T>::EmptyUri);
		Ok(())
	}

	/// Checks everything about a spec that does not depend on the registry's state, and
	/// that a superseded model exists and belongs to `owner`.
	pub(crate) fn check_spec(owner: &T::AccountId, spec: &ModelSpec<T>) -> Result<(), Error<T>> {
		ensure!(spec.artifact_size > 0, Error::<T>::EmptyArtifact);
		spec.schema.validate(T::MaxTensorBytes::get()).map_err(|error| match error {
			SchemaError::NoTensors => Error::<T>::SchemaWithoutTensors,
			SchemaError::EmptyShape => Error::<T>::SchemaEmptyShape,
			SchemaError::ZeroDimension => Error::<T>::SchemaZeroDimension,
			SchemaError::TensorTooLarge => Error::<T>::SchemaTensorTooLarge,
			SchemaError::DuplicateName => Error::<T>::SchemaDuplicateName,
			SchemaError::EmptyName => Error::<T>::SchemaEmptyName,
			SchemaError::BadFracBits => Error::<T>::SchemaBadFracBits,
			SchemaError::NameNotUtf8 => Error::<T>::SchemaNameNotUtf8,
		})?;
		spec.comparison.check(&spec.schema.outputs).map_err(|error| match error {
			RuleError::NoEngineVersion => Error::<T>::InvalidComparisonRule,
			RuleError::RuleCountMismatch => Error::<T>::ComparisonRuleCountMismatch,
			RuleError::AgreeAboveSlash => Error::<T>::ToleranceAgreeAboveSlash,
			RuleError::BadLabelSource | RuleError::BadLabelShape => Error::<T>::BadLabelRule,
		})?;
		Self::check_uris(&spec.uris)?;
		ensure!(!spec.metadata.name.is_empty(), Error::<T>::EmptyName);
		if let Some(earlier) = spec.supersedes {
			let earlier = Models::<T>::get(earlier).ok_or(Error::<T>::UnknownSupersededModel)?;
			ensure!(earlier.owner == *owner, Error::<T>::SupersededModelNotOwned);
		}
		Ok(())
	}
}
