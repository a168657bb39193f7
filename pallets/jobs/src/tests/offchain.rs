//! The off-chain worker: assignments run as executor tasks, answered in one signed
//! transaction per block under its own nonces, never twice while a transaction may land;
//! failures answered as "cannot execute" or retried. Runs against the off-chain test
//! externalities: scripted HTTP answers, an in-memory keystore and an inspected pool.

use super::*;
use crate::{
	executor_client::{infer_request, remote_infer_request},
	offchain::{journal_key, run, Journal, SentBatch},
	Answer, Call, CannotExecuteReason, Event, Payload, Refund, Submission,
};
use codec::{Decode, Encode};
use frame_support::assert_ok;
use parking_lot::RwLock;
use serde_json::{json, Value};
use sp_core::{
	offchain::{
		testing::{self, OffchainState, PoolState},
		OffchainDbExt, OffchainWorkerExt, StorageKind, TransactionPoolExt,
	},
	sr25519, Pair,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::generic::Preamble;
use std::sync::Arc;
use veritensor_primitives::{
	hashing::{input_hash, output_hash},
	offchain::{ExecutorEndpoint, EXECUTOR_ENDPOINT_KEY, NODE_START_KEY},
	traits::ModelRegistry,
	worker_key::WORKER_KEY_TYPE,
	Receipt, Tensor,
};

const EXECUTOR: &str = "http://executor.test";

struct WorkerNode {
	ext: sp_io::TestExternalities,
	node: Node,
}

/// The node's HTTP (scripted executor answers) and transaction pool. Requests scripted but
/// never made fail the test when it ends.
struct Node {
	http: Arc<RwLock<OffchainState>>,
	pool: Arc<RwLock<PoolState>>,
}

/// A worker node holding the keys of workers `seeds`, its executor at [`EXECUTOR`].
fn worker_node(seeds: &[u8]) -> WorkerNode {
	let mut ext = ExtBuilder.build();
	let (offchain, http) = testing::TestOffchainExt::new();
	let (pool, pool_state) = testing::TestTransactionPoolExt::new();
	let keystore = MemoryKeystore::new();
	for seed in seeds {
		let suri = format!("0x{}", hex(&[*seed; 32]));
		keystore.sr25519_generate_new(WORKER_KEY_TYPE, Some(&suri)).unwrap();
	}
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	ext.execute_with(|| {
		let endpoint = ExecutorEndpoint { url: EXECUTOR.as_bytes().to_vec(), token: vec![] };
		sp_io::offchain::local_storage_set(
			StorageKind::PERSISTENT,
			EXECUTOR_ENDPOINT_KEY,
			&endpoint.encode(),
		);
		restart_node(1);
	});
	WorkerNode { ext, node: Node { http, pool: pool_state } }
}

impl WorkerNode {
	/// Runs `test`, then checks the pallet's invariants.
	fn execute(&mut self, test: impl FnOnce(&Node)) {
		let node = &self.node;
		self.ext.execute_with(|| {
			test(node);
			Jobs::do_try_state().expect("the job market's invariants hold");
		});
	}
}

impl Node {
	/// Scripts the executor's answer to the next request.
	fn expect(&self, method: &str, path: &str, body: Vec<u8>, answer: Value) {
		let headers = if method == "POST" {
			vec![("Content-Type".into(), "application/json".into())]
		} else {
			vec![]
		};
		self.http.write().expect_request(testing::PendingRequest {
			method: method.into(),
			uri: format!("{EXECUTOR}{path}"),
			headers,
			body,
			response: Some(answer.to_string().into_bytes()),
			sent: true,
			..Default::default()
		});
	}

	/// Scripts a task started for `job` as `task`.
	fn expect_start(&self, job: u64, task: &str) {
		let running = json!({ "id": task, "state": "running" });
		self.expect("POST", "/v1/tasks", task_request(job), running);
	}

	fn expect_poll(&self, task: &str, answer: Value) {
		self.expect("GET", &format!("/v1/tasks/{task}"), vec![], answer);
	}

	/// The transactions given to the pool so far, and forgets them.
	fn take_sent(&self) -> Vec<Transaction> {
		std::mem::take(&mut self.pool.write().transactions)
			.into_iter()
			.map(|bytes| Transaction::decode(&mut &bytes[..]).expect("a transaction of the mock"))
			.collect()
	}
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Notes a (re)start of the node at time `started`.
fn restart_node(started: u64) {
	sp_io::offchain::local_storage_set(StorageKind::PERSISTENT, NODE_START_KEY, &started.encode());
}

fn task_request(job: u64) -> Vec<u8> {
	let Some(Payload::Inline(tensors)) = crate::Inputs::<Test>::get(job) else {
		panic!("an inline input")
	};
	infer_request(&digits(), &tensors, &schema(), None, &[model_uri(&digits())])
}

fn label_tensor(value: i64) -> Tensor<frame_support::traits::ConstU32<4096>> {
	let Payload::Inline(tensors) = label(value) else { unreachable!() };
	tensors[0].clone()
}

fn done(task: &str, value: i64) -> Value {
	json!({
		"id": task,
		"state": "done",
		"result": {
			"outputs": [{ "name": "label", "elem": "I64", "shape": [1], "frac_bits": 0, "values": [value] }],
			"output_hash": format!("0x{}", hex(&output_hash(&[label_tensor(value)]).0)),
		},
	})
}

fn failed(task: &str, kind: &str) -> Value {
	json!({ "id": task, "state": "failed", "error": { "kind": kind, "message": "why" } })
}

fn error(kind: &str) -> Value {
	json!({ "error": { "kind": kind, "message": "why" } })
}

/// A transaction's signer, nonce and answers; checks its signature over (call, nonce).
fn opened(transaction: &Transaction) -> (AccountId, u32, Vec<Submission<Test>>) {
	let Preamble::Signed(account, signature, nonce) = &transaction.preamble else {
		panic!("a signed transaction")
	};
	let RuntimeCall::Jobs(Call::submit_results { answers }) = &transaction.function else {
		panic!("a submit_results call")
	};
	let signer = answers[0].worker.clone();
	let raw: sr25519::Public = signer.into();
	assert!(
		sr25519::Pair::verify(signature, (&transaction.function, nonce.0).encode(), &raw),
		"signed by the worker key"
	);
	(*account, nonce.0, answers.to_vec())
}

/// Lands `transaction` in a block: its nonce is used and its call dispatched.
fn land(transaction: &Transaction) -> sp_runtime::DispatchResult {
	let (account, _, answers) = opened(transaction);
	frame_system::Pallet::<Test>::inc_account_nonce(account);
	Jobs::submit_results(RuntimeOrigin::signed(account), answers.try_into().unwrap())
}

fn journal(seed: u8) -> Journal {
	let key = journal_key(&worker(seed));
	sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, &key)
		.map(|bytes| Journal::decode(&mut &bytes[..]).unwrap())
		.unwrap_or_default()
}

fn run_at(block: u64) {
	run_to_block(block);
	run::<Test>(block);
}

fn submit_with_deadline(fill: u8, deadline: u64) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit(RuntimeOrigin::signed(USER), digits(), image(fill), 1, 200, deadline));
	id
}

#[test]
fn assigned_jobs_run_on_the_executor_and_are_answered_in_one_signed_transaction() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		// Without assignments a run asks nothing and writes nothing.
		run::<Test>(1);
		let key = journal_key(&worker(1));
		assert_eq!(sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, &key), None);
		let first = submit(USER, 3, 200);
		let second = submit(OTHER_USER, 9, 200);
		run_to_block(1 + DELAY as u64);
		node.expect_start(first, "t1");
		node.expect_start(second, "t2");
		node.expect_poll("t1", done("t1", 7));
		node.expect_poll("t2", done("t2", 4));
		run::<Test>(System::block_number());

		let sent = node.take_sent();
		assert_eq!(sent.len(), 1, "one transaction for all ready answers");
		let (account, nonce, answers) = opened(&sent[0]);
		assert_eq!((account, nonce), (account_of(&worker(1)), 0));
		assert_eq!(answers.iter().map(|a| a.job).collect::<Vec<_>>(), vec![first, second]);
		for (answer, value) in answers.iter().zip([7, 4]) {
			let Answer::Output { output, signature } = &answer.answer else { panic!("an output") };
			assert_eq!(*output, label(value));
			let record = crate::Jobs::<Test>::get(answer.job).unwrap();
			let receipt = Receipt {
				genesis_hash: System::block_hash(0),
				job_id: answer.job,
				model: digits(),
				input_hash: record.input_hash,
				output_hash: output_hash(&[label_tensor(value)]),
				worker: worker(1),
			};
			assert!(receipt.verify(signature), "a receipt signed by the worker key");
		}
		assert_eq!(journal(1).sent.len(), 1);
		assert!(journal(1).tasks.is_empty());

		assert_ok!(land(&sent[0]));
		System::assert_has_event(
			Event::Settled {
				job: second,
				worker: worker(1),
				output_hash: output_hash(&[label_tensor(4)]),
				output: label(4),
				single_worker: true,
				cost: COST,
				refunded: 200 - COST,
			}
			.into(),
		);
		assert!(crate::Results::<Test>::get(first).is_some());
		// Nothing left to do: no request, no transaction.
		run_at(System::block_number() + 1);
		assert!(node.take_sent().is_empty());
		assert!(journal(1).sent.is_empty(), "a landed transaction is forgotten");
	});
}

#[test]
fn an_answer_that_may_still_land_is_never_sent_again_and_new_ones_take_the_next_nonce() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let first = submit(USER, 3, 200);
		run_to_block(1 + DELAY as u64);
		node.expect_start(first, "t1");
		node.expect_poll("t1", done("t1", 7));
		run::<Test>(4);
		let pending = node.take_sent();
		assert_eq!(opened(&pending[0]).1, 0);

		// Still in the pool a block later: no request, no transaction.
		run_at(5);
		assert!(node.take_sent().is_empty());

		// A new job takes the next nonce; the first is not answered again.
		let second = submit(USER, 5, 200);
		run_to_block(5 + DELAY as u64);
		node.expect_start(second, "t2");
		node.expect_poll("t2", done("t2", 2));
		run::<Test>(8);
		let next = node.take_sent();
		let (_, nonce, answers) = opened(&next[0]);
		assert_eq!((nonce, answers.len(), answers[0].job), (1, 1, second));

		// Both land in order; nothing is left.
		assert_ok!(land(&pending[0]));
		assert_ok!(land(&next[0]));
		run_at(9);
		assert!(node.take_sent().is_empty());
		assert!(journal(1).sent.is_empty());
	});
}

#[test]
fn a_transaction_lost_with_a_restart_is_replaced_under_its_own_nonce() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let job = submit(USER, 3, 200);
		run_to_block(4);
		node.expect_start(job, "t1");
		node.expect_poll("t1", done("t1", 7));
		run::<Test>(4);
		let lost = node.take_sent();

		// The node restarts: its pool is empty, the journal survives.
		restart_node(2);
		node.expect_start(job, "t9");
		node.expect_poll("t9", done("t9", 7));
		run_at(5);
		let replacement = node.take_sent();
		assert_eq!(opened(&replacement[0]).1, 0, "the lost transaction's nonce");
		let outputs = |transaction| {
			let (_, _, answers) = opened(transaction);
			answers
				.into_iter()
				.map(|answer| match answer.answer {
					Answer::Output { output, .. } => (answer.job, output),
					_ => panic!("an output"),
				})
				.collect::<Vec<_>>()
		};
		assert_eq!(outputs(&replacement[0]), outputs(&lost[0]), "the same answer");
		// Whichever lands, the other cannot: they share the nonce.
		assert_ok!(land(&replacement[0]));
		run_at(6);
		assert!(node.take_sent().is_empty());
	});
}

#[test]
fn an_expired_transaction_is_replaced_and_a_failed_one_answered_again() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let job = submit_with_deadline(3, 40);
		run_to_block(4);
		node.expect_start(job, "t1");
		node.expect_poll("t1", done("t1", 7));
		run::<Test>(4);
		assert_eq!(node.take_sent().len(), 1);

		// Its era lets it land until block 4 + TX_LIFETIME − 2; until then it is waited for.
		let expires = 4 + TX_LIFETIME as u64 - 2;
		assert_eq!(journal(1).sent[0].expires, expires);
		run_at(expires);
		assert!(node.take_sent().is_empty());
		node.expect_start(job, "t2");
		node.expect_poll("t2", done("t2", 7));
		run_at(expires + 1);
		let replacement = node.take_sent();
		assert_eq!(opened(&replacement[0]).1, 0);

		// It lands but fails (here: its nonce is used and nothing dispatched): answered again
		// under the next nonce.
		frame_system::Pallet::<Test>::inc_account_nonce(account_of(&worker(1)));
		node.expect_start(job, "t3");
		node.expect_poll("t3", done("t3", 7));
		run_at(expires + 2);
		let again = node.take_sent();
		assert_eq!(opened(&again[0]).1, 1);
		assert_ok!(land(&again[0]));
	});
}

#[test]
fn a_task_longer_than_a_block_is_collected_in_a_later_run() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let job = submit(USER, 3, 200);
		run_to_block(4);
		node.expect_start(job, "slow");
		for _ in 0..6 {
			node.expect_poll("slow", json!({ "id": "slow", "state": "running" }));
		}
		run::<Test>(4);
		assert!(node.take_sent().is_empty());
		assert_eq!(journal(1).tasks, vec![(job, b"slow".to_vec())]);

		// The next run polls the same task, starting nothing new.
		node.expect_poll("slow", done("slow", 1));
		run_at(5);
		let sent = node.take_sent();
		assert_ok!(land(&sent[0]));
		assert!(crate::Results::<Test>::get(job).is_some());
	});
}

#[test]
fn errors_no_retry_can_cure_are_answered_as_cannot_execute() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let corrupt = submit(USER, 3, 200);
		let refused = submit(USER, 4, 200);
		let unsupported = submit(USER, 5, 200);
		run_to_block(4);
		node.expect_start(corrupt, "t1");
		node.expect("POST", "/v1/tasks", task_request(refused), error("bad_input"));
		node.expect_start(unsupported, "t3");
		node.expect_poll("t1", failed("t1", "corrupt_model"));
		node.expect_poll("t3", failed("t3", "unsupported_operator"));
		run::<Test>(4);
		let sent = node.take_sent();
		let (_, _, answers) = opened(&sent[0]);
		let reasons: Vec<_> = answers
			.iter()
			.map(|answer| match answer.answer {
				Answer::CannotExecute { reason } => (answer.job, reason),
				_ => panic!("cannot execute"),
			})
			.collect();
		assert_eq!(
			reasons,
			vec![
				(refused, CannotExecuteReason::BadInput),
				(corrupt, CannotExecuteReason::ModelUnsupported),
				(unsupported, CannotExecuteReason::ModelUnsupported),
			]
		);
		assert_ok!(land(&sent[0]));
		System::assert_has_event(
			Event::Refunded {
				job: refused,
				submitter: USER,
				amount: 200,
				reason: Refund::CannotExecute(CannotExecuteReason::BadInput),
			}
			.into(),
		);
		assert_eq!(escrow_held(USER), 0);
	});
}

#[test]
fn a_model_pinned_to_an_engine_version_the_executor_lacks_is_answered_as_cannot_execute() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		crate::mock::pin(digits(), veritensor_primitives::Engine::Tract, "9.9.9");
		add_worker(1, 100, 5_000, 4);
		let job = submit(USER, 3, 200);
		run_to_block(4);
		let Some(Payload::Inline(tensors)) = crate::Inputs::<Test>::get(job) else {
			panic!("an inline input")
		};
		let rule = <Test as crate::Config>::Models::comparison(&digits()).unwrap();
		let pinned =
			infer_request(&digits(), &tensors, &schema(), Some(&rule), &[model_uri(&digits())]);
		let body: Value = serde_json::from_slice(&pinned).unwrap();
		assert_eq!(
			(body["engine"].as_str(), body["engine_version"].as_str()),
			(Some("tract"), Some("9.9.9"))
		);
		node.expect("POST", "/v1/tasks", pinned, json!({ "id": "t1", "state": "running" }));
		node.expect_poll("t1", failed("t1", "engine_mismatch"));
		run::<Test>(4);

		let sent = node.take_sent();
		let (_, _, answers) = opened(&sent[0]);
		assert_eq!(answers.len(), 1);
		assert_eq!(
			answers[0].answer,
			Answer::CannotExecute { reason: CannotExecuteReason::EngineUnavailable },
			"answered at once, with a reason that names the engine, not the job"
		);
		assert_ok!(land(&sent[0]));
		System::assert_has_event(
			Event::Refunded {
				job,
				submitter: USER,
				amount: 200,
				reason: Refund::CannotExecute(CannotExecuteReason::EngineUnavailable),
			}
			.into(),
		);
	});
}

#[test]
fn passing_failures_are_retried_until_the_deadline_nears() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let job = submit(USER, 3, 200);
		let deadline = crate::Jobs::<Test>::get(job).unwrap().deadline;
		run_to_block(4);
		// Overloaded, then a failed task, then a model the executor has not fetched yet.
		node.expect("POST", "/v1/tasks", task_request(job), error("overloaded"));
		run::<Test>(4);
		node.expect_start(job, "t1");
		node.expect_poll("t1", failed("t1", "timeout"));
		run_at(5);
		node.expect("POST", "/v1/tasks", task_request(job), error("fetch_failed"));
		run_at(6);
		assert!(node.take_sent().is_empty(), "no answer while retrying");

		// Two blocks before the deadline the failure is reported.
		let give_up = deadline - crate::offchain::GIVE_UP_MARGIN as u64;
		run_to_block(give_up - 1);
		node.expect("POST", "/v1/tasks", task_request(job), error("fetch_failed"));
		run::<Test>(give_up - 1);
		assert!(node.take_sent().is_empty());
		node.expect("POST", "/v1/tasks", task_request(job), error("fetch_failed"));
		run_at(give_up);
		let sent = node.take_sent();
		let (_, _, answers) = opened(&sent[0]);
		assert_eq!(
			answers[0].answer,
			Answer::CannotExecute { reason: CannotExecuteReason::ModelUnavailable }
		);
		assert_ok!(land(&sent[0]));
		assert_eq!(escrow_held(USER), 0);
	});
}

#[test]
fn remote_inputs_go_to_the_executor_with_their_uri_and_hash() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let Payload::Inline(pixels) = image(6) else { unreachable!() };
		let hash = input_hash(&pixels);
		let remote = |path: &str| Payload::Remote {
			hash,
			uri: format!("https://data.test/{path}").into_bytes().try_into().unwrap(),
		};
		let submit_remote = |path: &str| {
			let id = crate::NextJobId::<Test>::get();
			assert_ok!(Jobs::submit(
				RuntimeOrigin::signed(USER),
				digits(),
				remote(path),
				1,
				200,
				DEADLINE
			));
			id
		};
		let good = submit_remote("good");
		let tampered = submit_remote("tampered");
		let unreachable = submit_remote("unreachable");
		run_to_block(4);

		let request = |path: &str| {
			let uri = format!("https://data.test/{path}");
			remote_infer_request(
				&digits(),
				uri.as_bytes(),
				&hash,
				&schema(),
				None,
				&[model_uri(&digits())],
			)
		};
		let body: Value = serde_json::from_slice(&request("good")).unwrap();
		assert_eq!(body["inputs"], json!([]));
		assert_eq!(body["input_from"]["uri"], "https://data.test/good");
		assert_eq!(body["input_from"]["hash"], format!("0x{}", hex(&hash.0)));
		node.expect(
			"POST",
			"/v1/tasks",
			request("good"),
			json!({ "id": "t1", "state": "running" }),
		);
		node.expect(
			"POST",
			"/v1/tasks",
			request("tampered"),
			json!({ "id": "t2", "state": "running" }),
		);
		node.expect(
			"POST",
			"/v1/tasks",
			request("unreachable"),
			json!({ "id": "t3", "state": "running" }),
		);
		node.expect_poll("t1", done("t1", 6));
		node.expect_poll("t2", failed("t2", "bad_remote_input"));
		node.expect_poll("t3", failed("t3", "input_unavailable"));
		run::<Test>(4);

		// Outputs and input errors no retry can cure are answered; the unreachable one waits.
		let sent = node.take_sent();
		let (_, _, answers) = opened(&sent[0]);
		assert_eq!(answers.len(), 2);
		assert!(matches!(&answers[0].answer, Answer::Output { output, .. } if *output == label(6)));
		assert_eq!(
			(answers[1].job, answers[1].answer.clone()),
			(tampered, Answer::CannotExecute { reason: CannotExecuteReason::InputUnavailable })
		);
		assert_ok!(land(&sent[0]));
		assert!(crate::Results::<Test>::get(good).is_some());
		assert!(crate::Jobs::<Test>::get(unreachable).is_some());
	});
}

#[test]
fn nothing_runs_without_an_executor_or_for_keys_that_are_not_registered_workers() {
	// A key in the keystore that no operator registered.
	let mut node = worker_node(&[2]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		submit(USER, 3, 200);
		run_at(4);
		assert!(node.take_sent().is_empty());
	});
	// A registered key, but the node runs no executor.
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		sp_io::offchain::local_storage_clear(StorageKind::PERSISTENT, EXECUTOR_ENDPOINT_KEY);
		add_worker(1, 100, 5_000, 4);
		submit(USER, 3, 200);
		run_at(4);
		assert!(node.take_sent().is_empty());
	});
}

#[test]
fn the_journal_keeps_nonces_of_transactions_that_may_land() {
	let batch =
		|nonce, expires, node_start| SentBatch { nonce, expires, node_start, jobs: vec![nonce] };
	let mut journal =
		Journal { tasks: vec![], sent: vec![batch(3, 20, 1), batch(4, 20, 1), batch(6, 20, 1)] };
	assert_eq!(journal.next_nonce(3), 5, "the gap first");
	assert_eq!(journal.next_nonce(7), 7);
	assert!(journal.in_flight(4) && !journal.in_flight(5));
	// Landed (nonce below the chain's), expired and lost ones are forgotten.
	let mut landed = journal.clone();
	landed.forget_settled(4, 10, 1);
	assert_eq!(landed.sent.iter().map(|b| b.nonce).collect::<Vec<_>>(), vec![4, 6]);
	let mut expired = journal.clone();
	expired.forget_settled(3, 21, 1);
	assert!(expired.sent.is_empty());
	journal.forget_settled(3, 10, 2);
	assert!(journal.sent.is_empty(), "lost with the restart");
	assert_eq!(journal.next_nonce(3), 3, "a lost transaction's nonce is used again");
}
