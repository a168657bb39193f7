//! Models the runtime runs itself: proposals with their artifact and conformance vectors, the
//! listing check at approval, the deposit for the bytes stored, on-chain runs, and genesis.

use super::*;
use crate::{
	execution::ExecutionError,
	fixtures::{fixture, Fixture},
	Artifact, Artifacts, ConformanceVector, ConformanceVectors, Error, Event, Executables,
	ModelSpec, StatusKind, StoredBytes, Vectors,
};
use codec::Encode;
use frame_support::{assert_noop, assert_ok, traits::Get};
use veritensor_interpreter::{writer, ElemType, Model};
use veritensor_primitives::{
	model::Engine, output_hash, traits::ModelRegistry, ComparisonRule, ElementType, Tensor,
};

type Bytes = <Test as crate::Config>::MaxExecutableTensorBytes;

/// The executable spec of `fixture`: the test spec with its artifact, schema and the
/// interpreter's rule.
fn executable_spec(fixture: &Fixture) -> ModelSpec<Test> {
	let mut spec = spec(0);
	spec.artifact_hash = ModelHash::from(sp_io::hashing::blake2_256(&fixture.artifact));
	spec.artifact_size = fixture.artifact.len() as u64;
	spec.schema = fixture.schema.clone();
	spec.comparison = Models::interpreter_rule();
	spec
}

fn artifact(fixture: &Fixture) -> Artifact<Test> {
	fixture.artifact.clone().try_into().unwrap()
}

fn vectors(fixture: &Fixture, count: u32) -> ConformanceVectors<Test> {
	fixture.vectors::<Test>(count).try_into().unwrap()
}

/// Proposes `fixture` as ALICE with two true vectors; returns its hash.
fn propose_executable(fixture: &Fixture) -> ModelHash {
	let spec = executable_spec(fixture);
	let model = spec.artifact_hash;
	assert_ok!(Models::propose_executable(
		RuntimeOrigin::signed(ALICE),
		Box::new(spec),
		artifact(fixture),
		vectors(fixture, 2),
	));
	model
}

/// A small fixture: about 1 KiB, a few thousand cost units.
fn small() -> Fixture {
	fixture(1024, 5_000)
}

#[test]
fn approval_runs_the_vectors_and_records_the_cost() {
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		let model = propose_executable(&small);
		assert_eq!(Models::execution_cost(&model), None, "not executable before approval");

		assert_ok!(Models::approve(RuntimeOrigin::root(), model));

		let parsed = Model::parse(&small.artifact).unwrap();
		let executable = Executables::<Test>::get(model).expect("listed as executable");
		assert_eq!(executable.cost, parsed.cost());
		assert_eq!(executable.cost, small.cost);
		assert_eq!(executable.memory, parsed.memory());
		assert_eq!(executable.bytes as usize, small.artifact.len());
		assert_eq!(Artifacts::<Test>::get(model).unwrap().into_inner(), small.artifact);
		assert_eq!(
			last_event(),
			Event::ExecutableListed { model, cost: parsed.cost(), memory: parsed.memory() }.into()
		);
		assert_eq!(ModelsStorage::<Test>::get(model).unwrap().status.kind(), StatusKind::Listed);
	});
}

#[test]
fn the_deposit_covers_the_artifact_and_vectors() {
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		let model = propose_executable(&small);
		let record = ModelsStorage::<Test>::get(model).unwrap();
		let stored = artifact(&small).encoded_size() + vectors(&small, 2).encoded_size();
		assert_eq!(StoredBytes::<Test>::get(model), Some(stored as u32));
		let expected = BASE_DEPOSIT + BYTE_DEPOSIT * (record.encoded_size() + stored) as Balance;
		assert_eq!(record.deposit, expected);
		assert_eq!(held(ALICE), expected);
		assert!(System::events()
			.iter()
			.any(|record| record.event
				== Event::ArtifactStored { model, bytes: stored as u32 }.into()));

		// A new URI list keeps the stored bytes in the deposit.
		let uris = vec![b"https://elsewhere.example/m.onnx".to_vec().try_into().unwrap()]
			.try_into()
			.unwrap();
		assert_ok!(Models::set_uris(RuntimeOrigin::signed(ALICE), model, uris));
		let record = ModelsStorage::<Test>::get(model).unwrap();
		assert_eq!(
			record.deposit,
			BASE_DEPOSIT + BYTE_DEPOSIT * (record.encoded_size() + stored) as Balance
		);
	});
}

#[test]
fn a_delisted_models_artifact_goes_with_its_deposit_once_no_job_needs_it() {
	ExtBuilder::default().build_and_execute(|| {
		let model = propose_executable(&small());
		assert_ok!(Models::approve(RuntimeOrigin::root(), model));
		assert_ok!(<Models as ModelRegistry<_, _>>::acquire(&model));

		assert_ok!(Models::delist(RuntimeOrigin::root(), model));
		assert!(Artifacts::<Test>::contains_key(model), "an open job may still be disputed");
		assert!(held(ALICE) > 0);

		<Models as ModelRegistry<_, _>>::release(&model);
		assert_eq!(held(ALICE), 0);
		assert!(!Artifacts::<Test>::contains_key(model));
		assert!(!Vectors::<Test>::contains_key(model));
		assert!(!StoredBytes::<Test>::contains_key(model));
		assert!(!Executables::<Test>::contains_key(model));
		assert_eq!(
			Models::execute::<Bytes>(&model, &small().schema, &small().inputs(1)),
			Err(ExecutionError::NotExecutable)
		);
	});
}

#[test]
fn a_rejected_or_withdrawn_proposal_takes_its_artifact_along() {
	ExtBuilder::default().build_and_execute(|| {
		let model = propose_executable(&small());
		assert_ok!(Models::reject(RuntimeOrigin::root(), model));
		assert!(!Artifacts::<Test>::contains_key(model));
		assert!(!Vectors::<Test>::contains_key(model));
		assert_eq!(held(ALICE), 0);

		let model = propose_executable(&small());
		assert_ok!(Models::withdraw_proposal(RuntimeOrigin::signed(ALICE), model));
		assert!(!Artifacts::<Test>::contains_key(model));
		assert!(!StoredBytes::<Test>::contains_key(model));
	});
}

#[test]
fn an_artifact_outside_the_subset_is_refused_at_approval() {
	ExtBuilder::default().build_and_execute(|| {
		// Softmax is not in the interpreter's subset.
		let mut outside = small();
		outside.artifact = writer::model(
			14,
			&[writer::node("Softmax", &["divisors"], &["label"], &[])],
			&[],
			&[writer::declared("divisors", ElemType::I32, &[1, 1])],
			&[writer::declared("label", ElemType::I32, &[1, 1])],
		);
		let spec = executable_spec(&outside);
		let model = spec.artifact_hash;
		assert_ok!(Models::propose_executable(
			RuntimeOrigin::signed(ALICE),
			Box::new(spec),
			artifact(&outside),
			vectors(&small(), 1),
		));
		assert_noop!(
			Models::approve(RuntimeOrigin::root(), model),
			Error::<Test>::OutsideInterpreterSubset
		);
		// It stays proposed, for the council to reject.
		assert_eq!(ModelsStorage::<Test>::get(model).unwrap().status.kind(), StatusKind::Proposed);
		assert_ok!(Models::reject(RuntimeOrigin::root(), model));
	});
}

#[test]
fn an_artifact_whose_tensors_are_not_the_schemas_is_refused_at_approval() {
	ExtBuilder::default().build_and_execute(|| {
		// The schema of a model with twice the rows.
		let (small, other) = (small(), fixture(1024, 10_000));
		assert_ne!(small.schema, other.schema);
		let mut spec = executable_spec(&small);
		spec.schema = other.schema.clone();
		let model = spec.artifact_hash;
		assert_ok!(Models::propose_executable(
			RuntimeOrigin::signed(ALICE),
			Box::new(spec),
			artifact(&small),
			vectors(&other, 1),
		));
		assert_noop!(
			Models::approve(RuntimeOrigin::root(), model),
			Error::<Test>::ArtifactSchemaMismatch
		);
	});
}

#[test]
fn a_model_above_the_cost_or_memory_bound_is_refused_at_approval() {
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		let model = propose_executable(&small);
		MaxExecutionCost::set(small.cost - 1);
		assert_noop!(
			Models::approve(RuntimeOrigin::root(), model),
			Error::<Test>::ExecutionTooCostly
		);
		MaxExecutionCost::set(small.cost);
		let memory = Model::parse(&small.artifact).unwrap().memory();
		MaxExecutionMemory::set(memory as u32 - 1);
		assert_noop!(
			Models::approve(RuntimeOrigin::root(), model),
			Error::<Test>::ExecutionNeedsTooMuchMemory
		);
		MaxExecutionMemory::set(memory as u32);
		assert_ok!(Models::approve(RuntimeOrigin::root(), model));
	});
	MaxExecutionCost::set(2_000_000);
	MaxExecutionMemory::set(16 * 1024 * 1024);
}

#[test]
fn the_largest_benchmarked_model_fits_the_default_bounds() {
	ExtBuilder::default().build_and_execute(|| {
		// The benchmarks' largest model must be approvable where the bounds are the defaults.
		let largest = fixture(<Test as crate::Config>::MaxExecutableBytes::get(), 1_000_000);
		let parsed = Model::parse(&largest.artifact).unwrap();
		assert!(
			largest.artifact.len() as u32 <= <Test as crate::Config>::MaxExecutableBytes::get()
		);
		assert!(parsed.memory() <= 16 * 1024 * 1024, "memory {}", parsed.memory());
		assert!(largest.cost <= 2_000_000, "cost {}", largest.cost);
		let model = propose_executable(&largest);
		assert_ok!(Models::approve(RuntimeOrigin::root(), model));
	});
}

#[test]
fn a_wrong_conformance_claim_is_refused_at_approval() {
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		let spec = executable_spec(&small);
		let model = spec.artifact_hash;
		let mut claims = small.vectors::<Test>(3);
		// The owner claims another output for the last vector.
		claims[2].output_hash = small.output_hash(&small.inputs::<Bytes>(7));
		assert_ne!(claims[2].output_hash, small.vectors::<Test>(3)[2].output_hash);
		assert_ok!(Models::propose_executable(
			RuntimeOrigin::signed(ALICE),
			Box::new(spec),
			artifact(&small),
			claims.try_into().unwrap(),
		));
		assert_noop!(
			Models::approve(RuntimeOrigin::root(), model),
			Error::<Test>::ConformanceMismatch
		);
	});
}

#[test]
fn a_vector_whose_run_fails_is_refused_at_approval() {
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		let spec = executable_spec(&small);
		let model = spec.artifact_hash;
		let mut inputs = small.inputs::<Bytes>(0);
		// A zero divisor: the run divides by zero.
		inputs[0].data = vec![0; inputs[0].data.len()].try_into().unwrap();
		let vector = ConformanceVector::<Test> {
			inputs: inputs.try_into().unwrap(),
			output_hash: Default::default(),
		};
		assert_ok!(Models::propose_executable(
			RuntimeOrigin::signed(ALICE),
			Box::new(spec),
			artifact(&small),
			vec![vector].try_into().unwrap(),
		));
		assert_noop!(
			Models::approve(RuntimeOrigin::root(), model),
			Error::<Test>::ConformanceRunFailed
		);
	});
}

#[test]
fn a_proposal_must_carry_the_artifact_it_names() {
	ExtBuilder::default().build_and_execute(|| {
		// Squatting a hash with other bytes: refused, nothing held.
		let small = small();
		let mut spec = executable_spec(&small);
		spec.artifact_hash = ModelHash::repeat_byte(9);
		assert_noop!(
			Models::propose_executable(
				RuntimeOrigin::signed(ALICE),
				Box::new(spec),
				artifact(&small),
				vectors(&small, 1),
			),
			Error::<Test>::ArtifactMismatch
		);
		let mut spec = executable_spec(&small);
		spec.artifact_size += 1;
		assert_noop!(
			Models::propose_executable(
				RuntimeOrigin::signed(ALICE),
				Box::new(spec),
				artifact(&small),
				vectors(&small, 1),
			),
			Error::<Test>::ArtifactMismatch
		);
		// An artifact above the bound cannot even be passed.
		let bound: u32 = <Test as crate::Config>::MaxExecutableBytes::get();
		let bound = bound as usize;
		assert!(Artifact::<Test>::try_from(vec![0u8; bound + 1]).is_err());
	});
}

#[test]
fn an_executable_model_pins_the_runtimes_interpreter() {
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		let wrong_rules = [
			spec(0).comparison,
			ComparisonRule::ExactHash {
				engine: Engine::OnnxRuntime,
				version: veritensor_interpreter::VERSION.as_bytes().to_vec().try_into().unwrap(),
			},
			ComparisonRule::ExactHash {
				engine: Engine::Interpreter,
				version: b"0.0.1-other".to_vec().try_into().unwrap(),
			},
		];
		for rule in wrong_rules {
			let mut spec = executable_spec(&small);
			spec.comparison = rule;
			assert_noop!(
				Models::propose_executable(
					RuntimeOrigin::signed(ALICE),
					Box::new(spec),
					artifact(&small),
					vectors(&small, 1),
				),
				Error::<Test>::NotPinnedToInterpreter
			);
		}
	});
}

#[test]
fn an_executable_models_tensors_fit_a_jobs_inline_input() {
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		let mut spec = executable_spec(&small);
		let limit: u32 = <Test as crate::Config>::MaxExecutableTensorBytes::get();
		// One element more than an inline tensor holds.
		spec.schema.inputs[1].shape = vec![1, limit / 4 + 1].try_into().unwrap();
		assert_noop!(
			Models::propose_executable(
				RuntimeOrigin::signed(ALICE),
				Box::new(spec),
				artifact(&small),
				vectors(&small, 1),
			),
			Error::<Test>::ExecutableTensorTooLarge
		);
	});
}

#[test]
fn vectors_are_required_and_must_match_the_schema() {
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		assert_noop!(
			Models::propose_executable(
				RuntimeOrigin::signed(ALICE),
				Box::new(executable_spec(&small)),
				artifact(&small),
				Default::default(),
			),
			Error::<Test>::NoConformanceVectors
		);
		let mut bad = small.vectors::<Test>(1);
		let _ = bad[0].inputs.pop();
		assert_noop!(
			Models::propose_executable(
				RuntimeOrigin::signed(ALICE),
				Box::new(executable_spec(&small)),
				artifact(&small),
				bad.try_into().unwrap(),
			),
			Error::<Test>::BadConformanceVector
		);
		let mut bad = small.vectors::<Test>(1);
		bad[0].inputs[2].elem = ElementType::I64;
		bad[0].inputs[2].data = vec![0; 8].try_into().unwrap();
		assert_noop!(
			Models::propose_executable(
				RuntimeOrigin::signed(ALICE),
				Box::new(executable_spec(&small)),
				artifact(&small),
				bad.try_into().unwrap(),
			),
			Error::<Test>::BadConformanceVector
		);
	});
}

#[test]
fn the_runtime_runs_a_listed_model_as_the_interpreter_does() {
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		let model = propose_executable(&small);
		assert_ok!(Models::approve(RuntimeOrigin::root(), model));
		for seed in 10..14 {
			let inputs = small.inputs::<Bytes>(seed);
			let outputs = Models::execute::<Bytes>(&model, &small.schema, &inputs).unwrap();
			assert_eq!(output_hash(&outputs), small.output_hash(&inputs));
			assert_eq!(outputs.len(), 2);
			assert_eq!(outputs[0].elem, ElementType::I64);
		}
		// Inputs that do not match the schema, and inputs the model divides by zero.
		let mut wrong = small.inputs::<Bytes>(1);
		wrong.pop();
		assert_eq!(
			Models::execute::<Bytes>(&model, &small.schema, &wrong),
			Err(ExecutionError::BadInput)
		);
		let mut zero = small.inputs::<Bytes>(1);
		zero[0].data = vec![0; zero[0].data.len()].try_into().unwrap();
		assert_eq!(
			Models::execute::<Bytes>(&model, &small.schema, &zero),
			Err(ExecutionError::Failed)
		);
		// A bound lowered after the listing: the runtime no longer runs it.
		MaxExecutionCost::set(small.cost - 1);
		assert_eq!(
			Models::execute::<Bytes>(&model, &small.schema, &small.inputs(1)),
			Err(ExecutionError::TooCostly)
		);
		MaxExecutionCost::set(2_000_000);
		// A model proposed with its artifact but not listed is not run.
		let other = fixture(2048, 5_000);
		let proposed = propose_executable(&other);
		assert_eq!(
			Models::execute::<Bytes>(&proposed, &other.schema, &other.inputs(1)),
			Err(ExecutionError::NotExecutable)
		);
	});
}

#[test]
fn genesis_lists_an_executable_model() {
	let small = small();
	let spec = executable_spec(&small);
	let model = spec.artifact_hash;
	ExtBuilder::default()
		.with_genesis_model(BOB, spec)
		.with_genesis_executable(small.artifact.clone())
		.build_and_execute(|| {
			assert_eq!(Executables::<Test>::get(model).map(|e| e.cost), Some(small.cost));
			let inputs = small.inputs::<Bytes>(3);
			let outputs = Models::execute::<Bytes>(&model, &small.schema, &inputs).unwrap();
			assert_eq!(output_hash(&outputs), small.output_hash(&inputs));
		});
}

#[test]
#[should_panic(expected = "is not a genesis model")]
fn genesis_refuses_an_executable_without_its_model() {
	ExtBuilder::default().with_genesis_executable(small().artifact).build();
}

#[test]
fn an_approval_is_charged_its_listing_within_the_declared_bound() {
	use crate::WeightInfo;
	use frame_support::dispatch::GetDispatchInfo;
	use sp_runtime::traits::Dispatchable;
	ExtBuilder::default().build_and_execute(|| {
		let largest = fixture(<Test as crate::Config>::MaxExecutableBytes::get(), 1_000_000);
		let model = propose_executable(&largest);
		let approve = RuntimeCall::Models(crate::Call::approve { model });
		let declared = approve.get_dispatch_info().call_weight;

		let charged = approve.dispatch(RuntimeOrigin::root()).unwrap().actual_weight.unwrap();

		let listing = <Test as crate::Config>::WeightInfo::approve_executable(
			largest.artifact.len() as u32,
			largest.cost as u32,
		);
		assert_eq!(charged, listing);
		assert!(declared.all_gte(charged), "declared {declared:?}, charged {charged:?}");
		// A refusal before the listing check is charged a plain approval, not the bound.
		let plain = <Test as crate::Config>::WeightInfo::approve();
		let refused = RuntimeCall::Models(crate::Call::approve { model: hash(9) })
			.dispatch(RuntimeOrigin::root())
			.unwrap_err();
		assert_eq!(refused.error, Error::<Test>::UnknownModel.into());
		assert_eq!(refused.post_info.actual_weight, Some(plain));
		assert!(plain.any_lt(declared));
	});
}

#[test]
fn tensors_cross_to_the_wire_exactly() {
	// Negative values of every width survive the trip through the interpreter.
	let model = writer::model(
		14,
		&[writer::node("Identity", &["x"], &["y"], &[])],
		&[],
		&[writer::declared("x", ElemType::I16, &[3])],
		&[writer::declared("y", ElemType::I16, &[3])],
	);
	let parsed = Model::parse(&model).unwrap();
	let data: Vec<u8> = [-2i16, 300, -32768].iter().flat_map(|v| v.to_le_bytes()).collect();
	let input = Tensor::<Bytes> {
		elem: ElementType::I16,
		shape: vec![3].try_into().unwrap(),
		frac_bits: 0,
		data: data.clone().try_into().unwrap(),
	};
	let outputs = crate::execution::run_model(&parsed, &[input]).unwrap();
	assert_eq!(outputs[0].data.to_vec(), data);
}

#[test]
fn the_job_market_sees_an_executable_models_run_and_its_weight() {
	use crate::WeightInfo;
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		let model = propose_executable(&small);
		type Registry = Models;
		assert_eq!(<Registry as ModelRegistry<_, _>>::execution_weight(&model), None);
		assert_eq!(
			<Registry as ModelRegistry<_, _>>::execute::<Bytes>(&model, &small.inputs(0)),
			Err(ExecutionError::NotExecutable),
			"not run before its approval"
		);
		assert_ok!(Models::approve(RuntimeOrigin::root(), model));

		// The weight of its run is the measured one, for its size and cost, and within the bound
		// a challenge declares.
		let executable = Executables::<Test>::get(model).unwrap();
		let weight = <Registry as ModelRegistry<_, _>>::execution_weight(&model).unwrap();
		assert_eq!(weight, <() as WeightInfo>::execute(executable.bytes, executable.cost as u32));
		assert!(<Registry as ModelRegistry<_, _>>::max_execution_weight().all_gte(weight));
		// Its run through the registry is the pallet's, with the schema it was listed with.
		for index in 0..3 {
			let inputs = small.inputs(index);
			let outputs = <Registry as ModelRegistry<_, _>>::execute::<Bytes>(&model, &inputs);
			assert_eq!(outputs, Models::execute::<Bytes>(&model, &small.schema, &inputs));
			assert!(outputs.is_ok());
		}
		// A listed model the runtime does not run has neither.
		list(BOB, 7);
		assert_eq!(<Registry as ModelRegistry<_, _>>::execution_weight(&hash(7)), None);
	});
}

#[test]
fn a_model_pinned_to_another_interpreter_version_is_not_run_for_the_job_market() {
	ExtBuilder::default().build_and_execute(|| {
		let small = small();
		let model = propose_executable(&small);
		assert_ok!(Models::approve(RuntimeOrigin::root(), model));
		// As if an upgrade changed the interpreter after the listing: its honest workers run the
		// version it pins, which may compute otherwise than this runtime's.
		ModelsStorage::<Test>::mutate(model, |record| {
			record.as_mut().unwrap().spec.comparison = ComparisonRule::ExactHash {
				engine: Engine::Interpreter,
				version: b"0.0.9".to_vec().try_into().unwrap(),
			}
		});
		type Registry = Models;
		assert_eq!(<Registry as ModelRegistry<_, _>>::execution_weight(&model), None);
		assert_eq!(
			<Registry as ModelRegistry<_, _>>::execute::<Bytes>(&model, &small.inputs(0)),
			Err(ExecutionError::NotExecutable)
		);
	});
}
