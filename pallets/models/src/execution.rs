//! Models the runtime runs itself: the checks of an executable proposal, the listing check that
//! parses the artifact, bounds its cost and memory and re-runs the owner's conformance vectors,
//! and [`Pallet::execute`], which the job market uses to settle disputes by re-execution.
//!
//! Tensors cross between the wire form (`veritensor_primitives::Tensor`, packed little-endian)
//! and the interpreter's (one `i64` an element) only here.

use crate::{
	Artifact, Artifacts, Config, ConformanceVector, ConformanceVectors, Error, Executable,
	Executables, ModelSpec, Pallet, StoredBytes, Vectors,
};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{ensure, traits::Get, BoundedVec};
use veritensor_interpreter::{ElemType, Model, Tensor as RunTensor};
pub use veritensor_primitives::traits::ExecutionError;
use veritensor_primitives::{
	output_hash, ComparisonRule, ElementType, Engine, IoSchema, ModelHash, Tensor,
};

/// The highest cost the benchmarks of on-chain runs measure: about the most the fixture's
/// division block reaches within 16 MiB. Weights above it extrapolate the division's slope, the
/// dearest per cost unit, so they stay bounds; a runtime's `MaxExecutionCost` must be at least
/// this, or the benchmarks' largest model could not be listed.
pub const MAX_BENCHMARKED_COST: u32 = 1_000_000;

/// The interpreter's type of a wire element type; `None` for `F32`, which it does not run.
fn run_type(elem: ElementType) -> Option<ElemType> {
	Some(match elem {
		ElementType::Bool => ElemType::Bool,
		ElementType::U8 => ElemType::U8,
		ElementType::I8 => ElemType::I8,
		ElementType::I16 => ElemType::I16,
		ElementType::I32 => ElemType::I32,
		ElementType::I64 => ElemType::I64,
		ElementType::F32 => return None,
	})
}

/// The wire type of an interpreter type; `None` for the unsigned 16- and 32-bit types, which the
/// wire does not carry.
fn wire_type(elem: ElemType) -> Option<ElementType> {
	Some(match elem {
		ElemType::Bool => ElementType::Bool,
		ElemType::U8 => ElementType::U8,
		ElemType::I8 => ElementType::I8,
		ElemType::I16 => ElementType::I16,
		ElemType::I32 => ElementType::I32,
		ElemType::I64 => ElementType::I64,
		ElemType::U16 | ElemType::U32 => return None,
	})
}

/// A wire tensor as the interpreter takes it; `None` if it is malformed or a float.
fn to_run<B: Get<u32>>(tensor: &Tensor<B>) -> Option<RunTensor> {
	tensor.check().ok()?;
	let elem = run_type(tensor.elem)?;
	let count = tensor.element_count()? as usize;
	let data = (0..count).map(|index| tensor.raw_element(index)).collect::<Option<Vec<_>>>()?;
	let shape = tensor.shape.iter().map(|dim| *dim as usize).collect();
	RunTensor::new(elem, shape, data).ok()
}

/// An interpreter output in wire form; `None` if its type has no wire form or it is too large.
fn to_wire<B: Get<u32>>(tensor: RunTensor) -> Option<Tensor<B>> {
	let elem = wire_type(tensor.elem)?;
	let shape = tensor
		.shape
		.iter()
		.map(|dim| u32::try_from(*dim).ok())
		.collect::<Option<Vec<_>>>()?
		.try_into()
		.ok()?;
	// Every value already holds its type (the interpreter wraps each result), so the low bytes
	// are the value.
	let width = elem.wire_width() as usize;
	let mut data = Vec::with_capacity(tensor.data.len().saturating_mul(width));
	for value in &tensor.data {
		data.extend_from_slice(&value.to_le_bytes()[..width]);
	}
	Some(Tensor { elem, shape, frac_bits: 0, data: BoundedVec::try_from(data).ok()? })
}

/// Whether the interpreter's declared tensors are the schema's, in order.
fn matches_schema<'a>(
	declared: impl ExactSizeIterator<Item = (&'a str, ElemType, &'a [usize])>,
	schema: &[veritensor_primitives::TensorSpec],
) -> bool {
	declared.len() == schema.len()
		&& declared.zip(schema).all(|((_, elem, shape), spec)| {
			run_type(spec.elem) == Some(elem)
				&& spec.frac_bits == 0
				&& shape.len() == spec.shape.len()
				&& shape.iter().zip(spec.shape.iter()).all(|(a, b)| *a as u64 == *b as u64)
		})
}

/// Runs a parsed model on wire inputs, within its own cost.
pub(crate) fn run_model<B: Get<u32>>(
	model: &Model,
	inputs: &[Tensor<B>],
) -> Result<Vec<Tensor<B>>, ExecutionError> {
	let inputs =
		inputs.iter().map(to_run).collect::<Option<Vec<_>>>().ok_or(ExecutionError::BadInput)?;
	let outputs = model.run(&inputs, model.cost()).map_err(|error| match error {
		veritensor_interpreter::Error::Input { .. } => ExecutionError::BadInput,
		_ => ExecutionError::Failed,
	})?;
	// The listing check proved that every output has a wire form within the bound.
	outputs.into_iter().map(to_wire).collect::<Option<Vec<_>>>().ok_or(ExecutionError::Failed)
}

impl<T: Config> Pallet<T> {
	/// The comparison rule every executable model carries: exact, run by this runtime's
	/// interpreter, so that honest workers compute what the runtime computes.
	pub fn interpreter_rule() -> ComparisonRule {
		ComparisonRule::ExactHash {
			engine: Engine::Interpreter,
			version: veritensor_interpreter::VERSION
				.as_bytes()
				.to_vec()
				.try_into()
				.expect("the interpreter's version is a short semantic version; qed"),
		}
	}

	/// Checks an executable proposal before anything is stored: the artifact is the one the
	/// spec names, the rule pins the interpreter, every tensor fits a job's inline input, and
	/// there is at least one vector, each matching the schema's inputs.
	pub(crate) fn check_executable_proposal(
		spec: &ModelSpec<T>,
		artifact: &Artifact<T>,
		vectors: &ConformanceVectors<T>,
	) -> Result<(), Error<T>> {
		ensure!(
			sp_io::hashing::blake2_256(artifact) == spec.artifact_hash.0
				&& artifact.len() as u64 == spec.artifact_size,
			Error::<T>::ArtifactMismatch
		);
		ensure!(spec.comparison == Self::interpreter_rule(), Error::<T>::NotPinnedToInterpreter);
		let limit = T::MaxExecutableTensorBytes::get();
		ensure!(
			spec.schema
				.inputs
				.iter()
				.chain(spec.schema.outputs.iter())
				.all(|tensor| tensor.wire_size().is_some_and(|size| size <= limit)),
			Error::<T>::ExecutableTensorTooLarge
		);
		ensure!(!vectors.is_empty(), Error::<T>::NoConformanceVectors);
		for vector in vectors {
			Self::check_inputs(&spec.schema, &vector.inputs)
				.map_err(|_| Error::<T>::BadConformanceVector)?;
		}
		Ok(())
	}

	/// Checks that `inputs` are what the schema declares, one tensor per input.
	fn check_inputs<B: Get<u32>>(schema: &IoSchema, inputs: &[Tensor<B>]) -> Result<(), ()> {
		if inputs.len() != schema.inputs.len() {
			return Err(());
		}
		for (tensor, spec) in inputs.iter().zip(schema.inputs.iter()) {
			tensor.check_against(spec).map_err(|_| ())?;
		}
		Ok(())
	}

	/// Bytes an executable proposal stores on chain besides its record, under the deposit.
	pub(crate) fn stored_bytes(artifact: &Artifact<T>, vectors: &ConformanceVectors<T>) -> u32 {
		(artifact.encoded_size() as u32).saturating_add(vectors.encoded_size() as u32)
	}

	/// The listing check of an executable model: the artifact parses inside the interpreter's
	/// subset, declares the schema's tensors, fits today's cost and memory bounds, and computes
	/// the claimed output for every conformance vector. Returns what the runtime records.
	pub(crate) fn check_listing(
		spec: &ModelSpec<T>,
		artifact: &[u8],
		vectors: &[ConformanceVector<T>],
	) -> Result<Executable, Error<T>> {
		let model = Model::parse(artifact).map_err(|_| Error::<T>::OutsideInterpreterSubset)?;
		ensure!(
			matches_schema(model.inputs(), &spec.schema.inputs)
				&& matches_schema(model.outputs(), &spec.schema.outputs),
			Error::<T>::ArtifactSchemaMismatch
		);
		ensure!(model.cost() <= T::MaxExecutionCost::get(), Error::<T>::ExecutionTooCostly);
		ensure!(
			model.memory() <= T::MaxExecutionMemory::get() as u64,
			Error::<T>::ExecutionNeedsTooMuchMemory
		);
		for vector in vectors {
			let outputs = run_model::<T::MaxExecutableTensorBytes>(&model, &vector.inputs)
				.map_err(|_| Error::<T>::ConformanceRunFailed)?;
			ensure!(output_hash(&outputs) == vector.output_hash, Error::<T>::ConformanceMismatch);
		}
		Ok(Executable { cost: model.cost(), memory: model.memory(), bytes: artifact.len() as u32 })
	}

	/// Runs an executable model on `inputs` (checked against its schema), as a referee: the
	/// outputs any honest worker computes. The caller charges the weight of
	/// [`Self::execution_cost`] first.
	pub fn execute<B: Get<u32>>(
		model: &ModelHash,
		schema: &IoSchema,
		inputs: &[Tensor<B>],
	) -> Result<Vec<Tensor<B>>, ExecutionError> {
		let executable = Executables::<T>::get(model).ok_or(ExecutionError::NotExecutable)?;
		ensure!(
			executable.cost <= T::MaxExecutionCost::get()
				&& executable.memory <= u64::from(T::MaxExecutionMemory::get()),
			ExecutionError::TooCostly
		);
		Self::check_inputs(schema, inputs).map_err(|_| ExecutionError::BadInput)?;
		let artifact = Artifacts::<T>::get(model).ok_or(ExecutionError::NotExecutable)?;
		// Parsing is deterministic: the model parsed at listing parses again, to the same cost.
		let parsed = Model::parse(&artifact).map_err(|_| ExecutionError::NotExecutable)?;
		ensure!(parsed.cost() == executable.cost, ExecutionError::NotExecutable);
		run_model(&parsed, inputs)
	}

	/// What a run of `model` on chain involves: its artifact's size and its cost; `None` if the
	/// runtime cannot run it.
	pub fn execution_cost(model: &ModelHash) -> Option<Executable> {
		Executables::<T>::get(model)
	}

	/// Forgets everything stored for an executable model: when its proposal ends without a
	/// listing, or its deposit is returned after delisting.
	pub(crate) fn remove_executable(model: &ModelHash) {
		Artifacts::<T>::remove(model);
		Vectors::<T>::remove(model);
		StoredBytes::<T>::remove(model);
		Executables::<T>::remove(model);
	}
}
