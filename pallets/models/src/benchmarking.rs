//! Benchmarks of every call, each in its worst case: the largest record the bounds allow.

use super::*;
use alloc::{boxed::Box, vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_runtime::traits::Bounded;
use veritensor_primitives::{
	model::{Engine, MAX_ENGINE_VERSION_LEN},
	tensor::{ElementType, TensorSpec, MAX_TENSORS, MAX_TENSOR_NAME_LEN, MAX_TENSOR_RANK},
	ComparisonRule, IoSchema, ModelFormat, ModelHash, Tensor,
};

fn bytes<S: Get<u32>>(fill: u8) -> BoundedVec<u8, S> {
	vec![fill; S::get() as usize].try_into().expect("exactly the bound; qed")
}

/// The largest schema: every side full of tensors of full rank with the longest names, each of
/// one element so it stays within any tensor size limit.
fn largest_schema() -> IoSchema {
	let side = |prefix: u8| -> BoundedVec<TensorSpec, _> {
		(0..MAX_TENSORS)
			.map(|index| TensorSpec {
				name: {
					let mut name = vec![prefix; MAX_TENSOR_NAME_LEN as usize];
					name[0] = b'a' + index as u8;
					name.try_into().expect("exactly the bound; qed")
				},
				elem: ElementType::F32,
				shape: vec![1; MAX_TENSOR_RANK as usize]
					.try_into()
					.expect("exactly the bound; qed"),
				frac_bits: 16,
			})
			.collect::<Vec<_>>()
			.try_into()
			.expect("exactly the bound; qed")
	};
	IoSchema { inputs: side(b'i'), outputs: side(b'o') }
}

fn largest_uris<T: Config>() -> Uris<T> {
	(0..T::MaxUris::get())
		.map(|index| bytes::<T::MaxUriLen>(b'a' + (index % 26) as u8))
		.collect::<Vec<_>>()
		.try_into()
		.expect("exactly the bound; qed")
}

/// The largest spec for artifact `seed`, superseding `supersedes`.
fn largest_spec<T: Config>(seed: u8, supersedes: Option<ModelHash>) -> ModelSpec<T> {
	ModelSpec {
		artifact_hash: ModelHash::repeat_byte(seed),
		artifact_size: u64::MAX,
		format: ModelFormat::Onnx,
		schema: largest_schema(),
		comparison: ComparisonRule::ExactHash {
			engine: Engine::OnnxRuntime,
			version: bytes::<frame_support::traits::ConstU32<MAX_ENGINE_VERSION_LEN>>(b'1'),
		},
		price_per_worker: 1_000u32.into(),
		owner_royalty: 100u32.into(),
		uris: largest_uris::<T>(),
		metadata: ModelMetadata {
			name: bytes::<T::MaxNameLen>(b'n'),
			description: Description::Text(bytes::<T::MaxDescriptionLen>(b'd')),
			licence: bytes::<MaxLicenceLen>(b'l'),
		},
		supersedes,
	}
}

fn funded_owner<T: Config>() -> T::AccountId {
	let owner: T::AccountId = account("owner", 0, 0);
	T::Currency::set_balance(&owner, BalanceOf::<T>::max_value() / 4u32.into());
	owner
}

/// The listing origin, as the runtime configures it.
fn listing_origin<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
	T::ListingOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
}

/// Proposes the largest model `seed` for `owner` and, if asked, lists it through `approve`.
fn registered<T: Config>(
	owner: &T::AccountId,
	seed: u8,
	listed: bool,
) -> Result<ModelHash, BenchmarkError> {
	let spec = largest_spec::<T>(seed, None);
	let model = spec.artifact_hash;
	Pallet::<T>::propose(RawOrigin::Signed(owner.clone()).into(), Box::new(spec))?;
	if listed {
		Pallet::<T>::approve(listing_origin::<T>()?, model).map_err(|error| error.error)?;
	}
	Ok(model)
}

/// The smallest artifact the executable benchmarks measure: about the smallest fixture's.
const MIN_ARTIFACT_BYTES: u32 = 1024;
/// The least cost the executable benchmarks measure: one row of the fixture's division block.
const MIN_COST: u32 = 1_100;
use crate::execution::MAX_BENCHMARKED_COST;

/// The largest schema an executable model may have: every input as large as an inline tensor,
/// which makes the largest conformance vectors.
fn largest_executable_schema<T: Config>() -> IoSchema {
	let elements = T::MaxExecutableTensorBytes::get() / ElementType::I32.wire_width();
	let input = |index: u32| TensorSpec {
		name: vec![b'a' + index as u8].try_into().expect("one byte; qed"),
		elem: ElementType::I32,
		shape: vec![elements].try_into().expect("rank one; qed"),
		frac_bits: 0,
	};
	IoSchema {
		inputs: (0..MAX_TENSORS).map(input).collect::<Vec<_>>().try_into().expect("the bound; qed"),
		outputs: vec![input(0)].try_into().expect("one output; qed"),
	}
}

/// An executable spec for `artifact`: the largest metadata, the interpreter's rule.
fn executable_spec<T: Config>(artifact: &[u8], schema: IoSchema) -> ModelSpec<T> {
	let mut spec = largest_spec::<T>(0, None);
	spec.artifact_hash = ModelHash::from(sp_io::hashing::blake2_256(artifact));
	spec.artifact_size = artifact.len() as u64;
	spec.schema = schema;
	spec.comparison = Pallet::<T>::interpreter_rule();
	spec
}

/// Proposes the fixture of about `bytes` bytes and `cost`, with every conformance vector.
fn executable_proposal<T: Config>(
	owner: &T::AccountId,
	bytes: u32,
	cost: u32,
) -> Result<(ModelHash, crate::fixtures::Fixture), BenchmarkError> {
	let fixture = crate::fixtures::fixture(bytes, cost);
	let spec = executable_spec::<T>(&fixture.artifact, fixture.schema.clone());
	let model = spec.artifact_hash;
	let vectors = fixture.vectors::<T>(T::MaxConformanceVectors::get());
	Pallet::<T>::propose_executable(
		RawOrigin::Signed(owner.clone()).into(),
		Box::new(spec),
		fixture.artifact.clone().try_into().map_err(|_| BenchmarkError::Weightless)?,
		vectors.try_into().map_err(|_| BenchmarkError::Weightless)?,
	)?;
	Ok((model, fixture))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn propose() -> Result<(), BenchmarkError> {
		let owner = funded_owner::<T>();
		// Worst case: the proposal supersedes an earlier version, which is read and checked.
		let earlier = registered::<T>(&owner, 1, true)?;
		let spec = largest_spec::<T>(2, Some(earlier));

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), Box::new(spec));

		assert_eq!(
			Models::<T>::get(ModelHash::repeat_byte(2)).map(|r| r.status.kind()),
			Some(StatusKind::Proposed)
		);
		Ok(())
	}

	#[benchmark]
	fn approve() -> Result<(), BenchmarkError> {
		let owner = funded_owner::<T>();
		let model = registered::<T>(&owner, 1, false)?;
		let origin = listing_origin::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model);

		assert_eq!(Models::<T>::get(model).map(|r| r.status.kind()), Some(StatusKind::Listed));
		Ok(())
	}

	#[benchmark]
	fn reject() -> Result<(), BenchmarkError> {
		let owner = funded_owner::<T>();
		let model = registered::<T>(&owner, 1, false)?;
		let origin = listing_origin::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model);

		assert!(Models::<T>::get(model).is_none());
		Ok(())
	}

	#[benchmark]
	fn deprecate() -> Result<(), BenchmarkError> {
		let owner = funded_owner::<T>();
		let model = registered::<T>(&owner, 1, true)?;
		let origin = listing_origin::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model);

		assert_eq!(Models::<T>::get(model).map(|r| r.status.kind()), Some(StatusKind::Deprecated));
		Ok(())
	}

	#[benchmark]
	fn delist() -> Result<(), BenchmarkError> {
		// Worst case: no open job, so the deposit is released too.
		let owner = funded_owner::<T>();
		let model = registered::<T>(&owner, 1, true)?;
		let origin = listing_origin::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model);

		let record = Models::<T>::get(model).expect("delisted records stay; qed");
		assert_eq!(record.status.kind(), StatusKind::Delisted);
		assert!(sp_runtime::traits::Zero::is_zero(&record.deposit));
		Ok(())
	}

	#[benchmark]
	fn withdraw_proposal() -> Result<(), BenchmarkError> {
		let owner = funded_owner::<T>();
		let model = registered::<T>(&owner, 1, false)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model);

		assert!(Models::<T>::get(model).is_none());
		Ok(())
	}

	#[benchmark]
	fn set_price() -> Result<(), BenchmarkError> {
		let owner = funded_owner::<T>();
		let model = registered::<T>(&owner, 1, true)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model, 7u32.into(), 3u32.into());

		assert_eq!(Models::<T>::get(model).map(|r| r.spec.price_per_worker), Some(7u32.into()));
		Ok(())
	}

	#[benchmark]
	fn set_uris() {
		// Worst case: the record grows from one short URI to the largest list, so more is held.
		let owner = funded_owner::<T>();
		let mut spec = largest_spec::<T>(1, None);
		spec.uris =
			vec![BoundedVec::truncate_from(vec![b'u'])].try_into().expect("one URI fits; qed");
		let model = spec.artifact_hash;
		Pallet::<T>::propose(RawOrigin::Signed(owner.clone()).into(), Box::new(spec))
			.expect("a funded owner proposes a well-formed model; qed");
		let uris = largest_uris::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model, uris.clone());

		assert_eq!(Models::<T>::get(model).map(|r| r.spec.uris), Some(uris));
	}

	#[benchmark]
	fn propose_executable(
		a: Linear<MIN_ARTIFACT_BYTES, { T::MaxExecutableBytes::get() }>,
		v: Linear<1, { T::MaxConformanceVectors::get() }>,
	) -> Result<(), BenchmarkError> {
		// Worst case: the largest vectors, and an earlier version read and checked. The
		// artifact is only hashed here, so any bytes do.
		let owner = funded_owner::<T>();
		let earlier = registered::<T>(&owner, 1, true)?;
		let artifact: Vec<u8> = (0..a).map(|index| (index % 251) as u8).collect();
		let mut spec = executable_spec::<T>(&artifact, largest_executable_schema::<T>());
		spec.supersedes = Some(earlier);
		let model = spec.artifact_hash;
		let vector = ConformanceVector::<T> {
			inputs: spec
				.schema
				.inputs
				.iter()
				.map(|input| Tensor {
					elem: input.elem,
					shape: input.shape.clone(),
					frac_bits: 0,
					data: bytes::<T::MaxExecutableTensorBytes>(7),
				})
				.collect::<Vec<_>>()
				.try_into()
				.expect("one per input; qed"),
			output_hash: Default::default(),
		};
		let vectors: ConformanceVectors<T> =
			vec![vector; v as usize].try_into().expect("within the bound; qed");
		let artifact: Artifact<T> = artifact.try_into().expect("within the bound; qed");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), Box::new(spec), artifact, vectors);

		assert!(Artifacts::<T>::contains_key(model));
		Ok(())
	}

	#[benchmark]
	fn approve_executable(
		a: Linear<MIN_ARTIFACT_BYTES, { T::MaxExecutableBytes::get() }>,
		c: Linear<MIN_COST, MAX_BENCHMARKED_COST>,
	) -> Result<(), BenchmarkError> {
		// Every conformance vector is run.
		let owner = funded_owner::<T>();
		let (model, _) = executable_proposal::<T>(&owner, a, c)?;
		let origin = listing_origin::<T>()?;

		#[extrinsic_call]
		approve(origin as T::RuntimeOrigin, model);

		assert!(Executables::<T>::contains_key(model));
		Ok(())
	}

	#[benchmark]
	fn execute(
		a: Linear<MIN_ARTIFACT_BYTES, { T::MaxExecutableBytes::get() }>,
		c: Linear<MIN_COST, MAX_BENCHMARKED_COST>,
	) -> Result<(), BenchmarkError> {
		// One run as a referee: the artifact read and parsed, the inputs checked and converted.
		let owner = funded_owner::<T>();
		let (model, fixture) = executable_proposal::<T>(&owner, a, c)?;
		Pallet::<T>::approve(listing_origin::<T>()?, model).map_err(|error| error.error)?;
		let inputs = fixture.inputs::<T::MaxExecutableTensorBytes>(9);
		let outputs;

		#[block]
		{
			outputs = Pallet::<T>::execute(&model, &fixture.schema, &inputs);
		}

		let expected = fixture.output_hash(&inputs);
		assert_eq!(
			outputs.map(|outputs| veritensor_primitives::output_hash(&outputs)),
			Ok(expected)
		);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
