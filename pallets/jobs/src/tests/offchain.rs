//! The off-chain worker: assignments run as executor tasks within a time budget, answered in
//! general transactions the worker key signs; every answer signed once, kept, and sent again
//! unchanged while its job stays open; failures answered as "cannot execute" or retried. Runs
//! against the off-chain test externalities: scripted HTTP answers, an in-memory keystore and
//! an inspected pool.

use super::*;
use crate::{
	executor_client::{infer_request, remote_infer_request},
	offchain::{journal_key, run, Journal, SignedAnswer, Step, Task, RESEND_AFTER},
	Answer, Call, CannotExecuteReason, Event, Payload, Refund, Submission,
};
use codec::{Decode, Encode};
use frame_support::assert_ok;
use parking_lot::RwLock;
use serde_json::{json, Value};
use sp_core::offchain::{
	self,
	testing::{self, OffchainState, PoolState},
	OffchainDbExt, OffchainWorkerExt, StorageKind, TransactionPoolExt,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::generic::Preamble;
use std::sync::Arc;
use veritensor_primitives::WorkerId;
use veritensor_primitives::{
	hashing::{input_hash, output_hash},
	offchain::{ExecutorEndpoint, WorkerMetrics, EXECUTOR_ENDPOINT_KEY, WORKER_METRICS_PREFIX},
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
	/// The (job, worker key) of every task start scripted so far.
	started: std::cell::RefCell<Vec<(u64, WorkerId)>>,
	/// How many requests each wait for answers covered, in order.
	waits: Arc<RwLock<Vec<usize>>>,
	/// The batches sent to the executor.
	batches: Arc<RwLock<Batches>>,
}

/// The scripted HTTP, recording how many requests each wait for answers covers: requests in
/// flight together are waited for together.
///
/// The executor's batches (`POST /v1/tasks/batch`, `POST /v1/tasks/poll`) are answered as the
/// executor answers them: each task as its own request would be (`POST /v1/tasks`,
/// `GET /v1/tasks/{id}`), from the script, in order; so that tests script tasks, whichever
/// way the worker sends them. With `Batches::refused`, an executor without batches: 405, as
/// its route for one task's id refuses a `POST`.
#[derive(Clone)]
struct RecordingHttp {
	http: testing::TestOffchainExt,
	waits: Arc<RwLock<Vec<usize>>>,
	batches: Arc<RwLock<Batches>>,
}

/// Batch requests in flight, and what was batched.
#[derive(Default)]
struct Batches {
	/// By request id: the path, the body so far, and once sent the status and answer.
	open: std::collections::BTreeMap<u16, BatchRequest>,
	/// Every batch sent: its path and how many tasks it carried.
	sent: Vec<(String, usize)>,
	/// Whether the executor refuses batches (405), as one that predates them does.
	refused: bool,
}

#[derive(Default)]
struct BatchRequest {
	uri: String,
	body: Vec<u8>,
	answer: Option<(u16, Vec<u8>)>,
	read: usize,
}

/// Request ids of batches: far above the scripted requests'.
const FIRST_BATCH_ID: u16 = 50_000;

impl RecordingHttp {
	/// One request to the scripted executor, whole: its answer.
	fn exchange(
		&mut self,
		method: &str,
		uri: &str,
		headers: &[(&str, String)],
		body: &[u8],
	) -> Vec<u8> {
		use offchain::Externalities;
		let id = self.http.http_request_start(method, uri, &[]).expect("a request");
		for (name, value) in headers {
			self.http.http_request_add_header(id, name, value).expect("a header");
		}
		if !body.is_empty() {
			self.http.http_request_write_body(id, body, None).expect("a body");
		}
		self.http.http_request_write_body(id, &[], None).expect("sent");
		self.http.http_response_wait(&[id], None);
		let mut answer = Vec::new();
		let mut buffer = [0u8; 4096];
		loop {
			let read = self.http.http_response_read_body(id, &mut buffer, None).expect("a body");
			if read == 0 {
				break answer;
			}
			answer.extend_from_slice(&buffer[..read]);
		}
	}

	/// Answers a batch, each task from the script as its own request.
	fn answer_batch(&mut self, uri: &str, body: &[u8]) -> (u16, Vec<u8>) {
		if self.batches.read().refused {
			return (405, Vec::new());
		}
		let batch: Value = serde_json::from_slice(body).expect("a batch is JSON");
		let mut answers = Vec::new();
		if let Some(base) = uri.strip_suffix("/batch") {
			let tasks = batch["tasks"].as_array().expect("tasks");
			self.batches.write().sent.push(("/v1/tasks/batch".into(), tasks.len()));
			for task in tasks {
				let headers = [
					("Content-Type", "application/json".to_string()),
					("X-Veritensor-Job", task["job"].as_str().expect("a job").to_string()),
					("Idempotency-Key", task["key"].as_str().expect("a key").to_string()),
					("X-Veritensor-Timeout-Ms", task["timeout_ms"].to_string()),
				];
				let request = serde_json::to_vec(&task["request"]).expect("JSON");
				answers.push(self.exchange("POST", base, &headers, &request));
			}
		} else {
			let base = uri.strip_suffix("/poll").expect("a poll batch");
			let ids = batch["ids"].as_array().expect("ids");
			self.batches.write().sent.push(("/v1/tasks/poll".into(), ids.len()));
			for id in ids {
				let path = format!("{base}/{}", id.as_str().expect("an id"));
				answers.push(self.exchange("GET", &path, &[], &[]));
			}
		}
		let answers: Vec<Value> =
			answers.iter().map(|answer| serde_json::from_slice(answer).expect("JSON")).collect();
		(200, json!({ "tasks": answers }).to_string().into_bytes())
	}
}

impl offchain::Externalities for RecordingHttp {
	fn is_validator(&self) -> bool {
		self.http.is_validator()
	}

	fn network_state(&self) -> Result<offchain::OpaqueNetworkState, ()> {
		self.http.network_state()
	}

	fn timestamp(&mut self) -> offchain::Timestamp {
		self.http.timestamp()
	}

	fn sleep_until(&mut self, deadline: offchain::Timestamp) {
		self.http.sleep_until(deadline)
	}

	fn random_seed(&mut self) -> [u8; 32] {
		self.http.random_seed()
	}

	fn http_request_start(
		&mut self,
		method: &str,
		uri: &str,
		meta: &[u8],
	) -> Result<offchain::HttpRequestId, ()> {
		if method == "POST" && (uri.ends_with("/v1/tasks/batch") || uri.ends_with("/v1/tasks/poll"))
		{
			let mut batches = self.batches.write();
			let id = FIRST_BATCH_ID + batches.open.len() as u16;
			batches.open.insert(id, BatchRequest { uri: uri.into(), ..Default::default() });
			return Ok(offchain::HttpRequestId(id));
		}
		self.http.http_request_start(method, uri, meta)
	}

	fn http_request_add_header(
		&mut self,
		request_id: offchain::HttpRequestId,
		name: &str,
		value: &str,
	) -> Result<(), ()> {
		if request_id.0 >= FIRST_BATCH_ID {
			return Ok(());
		}
		self.http.http_request_add_header(request_id, name, value)
	}

	fn http_request_write_body(
		&mut self,
		request_id: offchain::HttpRequestId,
		chunk: &[u8],
		deadline: Option<offchain::Timestamp>,
	) -> Result<(), offchain::HttpError> {
		if request_id.0 >= FIRST_BATCH_ID {
			let (uri, body) = {
				let mut batches = self.batches.write();
				let batch =
					batches.open.get_mut(&request_id.0).ok_or(offchain::HttpError::Invalid)?;
				batch.body.extend_from_slice(chunk);
				if !chunk.is_empty() {
					return Ok(());
				}
				(batch.uri.clone(), batch.body.clone())
			};
			// Sent: answered now, as scripted requests are.
			let answer = self.answer_batch(&uri, &body);
			if let Some(batch) = self.batches.write().open.get_mut(&request_id.0) {
				batch.answer = Some(answer);
			}
			return Ok(());
		}
		self.http.http_request_write_body(request_id, chunk, deadline)
	}

	fn http_response_wait(
		&mut self,
		ids: &[offchain::HttpRequestId],
		deadline: Option<offchain::Timestamp>,
	) -> Vec<offchain::HttpRequestStatus> {
		self.waits.write().push(ids.len());
		let scripted: Vec<_> = ids.iter().copied().filter(|id| id.0 < FIRST_BATCH_ID).collect();
		let mut statuses = self.http.http_response_wait(&scripted, deadline).into_iter();
		let batches = self.batches.read();
		ids.iter()
			.map(|id| match batches.open.get(&id.0) {
				Some(BatchRequest { answer: Some((status, _)), .. }) => {
					offchain::HttpRequestStatus::Finished(*status)
				}
				Some(_) => offchain::HttpRequestStatus::Invalid,
				None => statuses.next().unwrap_or(offchain::HttpRequestStatus::Invalid),
			})
			.collect()
	}

	fn http_response_headers(
		&mut self,
		request_id: offchain::HttpRequestId,
	) -> Vec<(Vec<u8>, Vec<u8>)> {
		if request_id.0 >= FIRST_BATCH_ID {
			return Vec::new();
		}
		self.http.http_response_headers(request_id)
	}

	fn http_response_read_body(
		&mut self,
		request_id: offchain::HttpRequestId,
		buffer: &mut [u8],
		deadline: Option<offchain::Timestamp>,
	) -> Result<usize, offchain::HttpError> {
		if request_id.0 >= FIRST_BATCH_ID {
			let mut batches = self.batches.write();
			let batch = batches.open.get_mut(&request_id.0).ok_or(offchain::HttpError::Invalid)?;
			let (_, answer) = batch.answer.as_ref().ok_or(offchain::HttpError::Invalid)?;
			let read = (answer.len() - batch.read).min(buffer.len());
			buffer[..read].copy_from_slice(&answer[batch.read..batch.read + read]);
			batch.read += read;
			return Ok(read);
		}
		self.http.http_response_read_body(request_id, buffer, deadline)
	}

	fn set_authorized_nodes(&mut self, nodes: Vec<sp_core::OpaquePeerId>, authorized_only: bool) {
		self.http.set_authorized_nodes(nodes, authorized_only)
	}
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
	let waits = Arc::new(RwLock::new(Vec::new()));
	let batches = Arc::new(RwLock::new(Batches::default()));
	let recording =
		RecordingHttp { http: offchain.clone(), waits: waits.clone(), batches: batches.clone() };
	ext.register_extension(OffchainWorkerExt::new(recording));
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
	});
	let node = Node { http, pool: pool_state, started: Default::default(), waits, batches };
	WorkerNode { ext, node }
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
	/// Scripts the executor's answer to the next request: a poll, or with `job` the start of
	/// that job's task.
	fn expect(&self, method: &str, path: &str, job: Option<u64>, body: Vec<u8>, answer: Value) {
		let mut headers = Vec::new();
		if method == "POST" {
			headers.push(("Content-Type".into(), "application/json".into()));
		}
		if let Some(job) = job {
			let (key, timeout_ms) = self.task_terms(job);
			headers.push(("X-Veritensor-Job".into(), job.to_string()));
			headers.push(("Idempotency-Key".into(), key));
			headers.push(("X-Veritensor-Timeout-Ms".into(), timeout_ms.to_string()));
		}
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
		self.expect_task(job, task_request(job), running);
	}

	/// Scripts the executor's answer to the start of `job`'s task with `body`.
	fn expect_task(&self, job: u64, body: Vec<u8>, answer: Value) {
		self.expect("POST", "/v1/tasks", Some(job), body, answer);
	}

	fn expect_poll(&self, task: &str, answer: Value) {
		self.expect("GET", &format!("/v1/tasks/{task}"), None, vec![], answer);
	}

	/// The idempotency key and the timeout of `job`'s next task start in a run after the
	/// current block: by the first of the node's keys assigned the job that has not started it
	/// yet (else the first, starting it again). The key hashes the chain, the job, the worker
	/// key and the input; the timeout is the time to the job's give-up point (two blocks before
	/// its last block), at least a block, at the mock's 1 s a block.
	fn task_terms(&self, job: u64) -> (String, u64) {
		let assigned: Vec<WorkerId> = <WorkerId as sp_runtime::RuntimeAppPublic>::all()
			.into_iter()
			.filter(|key| crate::WorkerJobs::<Test>::contains_key(key, job))
			.collect();
		let mut started = self.started.borrow_mut();
		let worker = assigned
			.iter()
			.find(|key| !started.contains(&(job, (*key).clone())))
			.or(assigned.first())
			.expect("a key of the node assigned the job")
			.clone();
		started.push((job, worker.clone()));
		let record = crate::Jobs::<Test>::get(job).expect("the job");
		let key = sp_io::hashing::blake2_256(
			&(System::block_hash(0), job, &worker, record.model, record.input_hash).encode(),
		);
		let last = match crate::Quorums::<Test>::get(job) {
			Some(quorum) if !quorum.reveals_open => (quorum.commit_end - 1).min(record.deadline),
			_ => record.deadline,
		};
		let blocks = last.saturating_sub(2).saturating_sub(System::block_number()).max(1);
		(hex(&key), blocks * 1_000)
	}

	/// Scripts the cancellation of `task`, which the executor forgets.
	fn expect_cancel(&self, task: &str) {
		let forgotten = json!({ "id": task, "state": "forgotten" });
		self.expect("DELETE", &format!("/v1/tasks/{task}"), None, vec![], forgotten);
	}

	/// Scripts `polls` answers "still running" for `task`.
	fn expect_running(&self, task: &str, polls: usize) {
		for _ in 0..polls {
			self.expect_poll(task, json!({ "id": task, "state": "running" }));
		}
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

/// Polls of a task still running in one run of the mock's 500 ms budget: at 0, 10, 30, 70, 150
/// and 310 ms (the next pause, 200 ms, would end past the budget).
const POLLS_PER_RUN: usize = 6;

/// A transaction's worker and answers; checks that it is a general transaction, that the
/// worker key signed the batch, and that the pool takes it.
fn opened(transaction: &Transaction) -> (WorkerId, Vec<Submission<Test>>) {
	assert!(matches!(transaction.preamble, Preamble::General(..)), "a general transaction");
	let RuntimeCall::Jobs(call) = &transaction.function else { panic!("a job market call") };
	let Call::submit_results { worker, answers, signature } = call else {
		panic!("a submit_results call")
	};
	let payload = crate::answers::answers_payload::<Test>(worker, answers);
	assert!(
		sp_runtime::RuntimeAppPublic::verify(worker, &payload, signature),
		"the batch signed by the worker key"
	);
	assert!(in_pool(call).is_ok(), "the pool takes it");
	(worker.clone(), answers.to_vec())
}

/// Lands `transaction` in a block.
fn land_tx(transaction: &Transaction) -> sp_runtime::DispatchResult {
	opened(transaction);
	let RuntimeCall::Jobs(call) = transaction.function.clone() else { unreachable!() };
	land(call).expect("the block takes it").map(|_| ()).map_err(|error| error.error)
}

/// Takes what the run gave the pool, checks that its first answer is the label `value`, and
/// lands it.
fn land_sent_output(node: &Node, value: i64) {
	let sent = node.take_sent();
	let (_, answers) = opened(&sent[0]);
	assert!(matches!(&answers[0].answer, Answer::Output { output, .. } if *output == label(value)));
	assert_ok!(land_tx(&sent[0]));
}

/// What worker key `seed`'s runs recorded for the node's metrics.
fn metrics(seed: u8) -> WorkerMetrics {
	let key = [WORKER_METRICS_PREFIX, worker(seed).as_ref()].concat();
	sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, &key)
		.map(|bytes| WorkerMetrics::decode(&mut &bytes[..]).expect("readable metrics"))
		.unwrap_or_default()
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
	assert_ok!(Jobs::submit(
		RuntimeOrigin::signed(USER),
		digits(),
		image(fill),
		VerificationTerms::quorum(1),
		200,
		deadline
	));
	id
}

#[test]
fn assigned_jobs_run_on_the_executor_and_are_answered_in_one_general_transaction() {
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
		let (signer, answers) = opened(&sent[0]);
		assert_eq!(signer, worker(1));
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
		let kept = journal(1);
		assert_eq!(
			kept.answers.iter().map(|a| (a.job, a.sent_at)).collect::<Vec<_>>(),
			vec![(first, Some(4)), (second, Some(4))]
		);
		assert!(kept.tasks.is_empty());

		// The worker key's account holds nothing: answers need no fee.
		assert_eq!(Balances::free_balance(account_of(&worker(1))), 0);
		assert_ok!(land_tx(&sent[0]));
		System::assert_has_event(
			Event::Settled {
				job: second,
				worker: worker(1),
				output_hash: output_hash(&[label_tensor(4)]),
				single_worker: true,
				cost: COST,
				refunded: 200 - COST,
				provisional_until: Some(System::block_number() + DISPUTE_WINDOW),
			}
			.into(),
		);
		// The result keeps the output and the receipt signature.
		assert_eq!(crate::Results::<Test>::get(second).unwrap().output, label(4));
		let result = crate::Results::<Test>::get(first).unwrap();
		let Answer::Output { signature, .. } = &answers[0].answer else { unreachable!() };
		assert_eq!(result.signature, signature.clone().into());
		// Nothing left to do: no request, no transaction, nothing kept.
		run_at(System::block_number() + 1);
		assert!(node.take_sent().is_empty());
		assert_eq!(journal(1), Journal::default());
	});
}

/// `count` jobs for worker 1, drawn, each scripted to start as task `t{job}` and to be done
/// when first polled, with its own label.
fn drawn_with_tasks_done_at_first_poll(node: &Node, count: u8) -> Vec<u64> {
	add_worker(1, 100, 5_000, 4);
	let jobs: Vec<u64> = (0..count).map(|fill| submit(USER, fill, 200)).collect();
	run_to_block(1 + DELAY as u64);
	for job in &jobs {
		node.expect_start(*job, &format!("t{job}"));
	}
	for job in &jobs {
		node.expect_poll(&format!("t{job}"), done(&format!("t{job}"), *job as i64));
	}
	jobs
}

#[test]
fn a_run_sends_its_starts_in_one_batch_and_its_polls_in_another() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		let jobs = drawn_with_tasks_done_at_first_poll(node, 4);
		node.waits.write().clear();
		run::<Test>(System::block_number());
		// One request for the four starts, one for the four polls.
		assert_eq!(*node.waits.read(), vec![1, 1]);
		let batches = node.batches.read().sent.clone();
		assert_eq!(batches, [("/v1/tasks/batch".into(), 4), ("/v1/tasks/poll".into(), 4)]);
		let sent = node.take_sent();
		assert_eq!(sent.len(), 1);
		let (_, answers) = opened(&sent[0]);
		assert_eq!(answers.iter().map(|a| a.job).collect::<Vec<_>>(), jobs);
		assert_ok!(land_tx(&sent[0]));
		for job in &jobs {
			let result = crate::Results::<Test>::get(job).expect("settled");
			assert_eq!(result.output, label(*job as i64));
		}
	});
}

#[test]
fn an_executor_without_batches_gets_each_start_and_poll_as_its_own_request() {
	let mut node = worker_node(&[1]);
	node.node.batches.write().refused = true;
	node.execute(|node| {
		let jobs = drawn_with_tasks_done_at_first_poll(node, 3);
		node.waits.write().clear();
		run::<Test>(System::block_number());
		// The batch refused, then the three starts together; the same for the polls.
		assert_eq!(*node.waits.read(), vec![1, 3, 1, 3]);
		let sent = node.take_sent();
		assert_eq!(sent.len(), 1);
		assert_ok!(land_tx(&sent[0]));
		assert!(jobs.iter().all(crate::Results::<Test>::contains_key));
	});
}

#[test]
fn an_answer_not_on_chain_two_blocks_later_is_sent_again_unchanged_never_recomputed() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let job = submit(USER, 3, 200);
		run_to_block(1 + DELAY as u64);
		node.expect_start(job, "t1");
		node.expect_poll("t1", done("t1", 7));
		run::<Test>(4);
		let first = node.take_sent();
		assert_eq!(first.len(), 1);

		// A block later it may still be on its way: nothing is sent, nothing asked.
		run_at(5);
		assert!(node.take_sent().is_empty());
		// Lost from the pool (a restart, an eviction): two blocks after it was sent, the same
		// answer goes again, without asking the executor (only the batch signature is new).
		run_at(4 + RESEND_AFTER);
		let again = node.take_sent();
		assert_eq!(again.len(), 1);
		assert_eq!(opened(&again[0]).1, opened(&first[0]).1, "the same answer, receipt and all");
		assert_eq!(journal(1).answers[0].sent_at, Some(4 + RESEND_AFTER));
		// Whichever copy lands, the other is stale.
		assert_ok!(land_tx(&again[0]));
		let RuntimeCall::Jobs(call) = &first[0].function else { unreachable!() };
		assert_eq!(
			in_pool(call),
			Err(sp_runtime::transaction_validity::InvalidTransaction::Stale.into())
		);
		run_at(4 + RESEND_AFTER + 1);
		assert!(node.take_sent().is_empty());
		assert_eq!(journal(1), Journal::default());
	});
}

#[test]
fn a_task_longer_than_a_block_is_collected_in_a_later_run_and_a_run_keeps_to_its_budget() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let job = submit(USER, 3, 200);
		run_to_block(4);
		node.expect_start(job, "slow");
		node.expect_running("slow", POLLS_PER_RUN);
		let started = sp_io::offchain::timestamp();
		run::<Test>(4);
		let spent = sp_io::offchain::timestamp().diff(&started).millis();
		let budget =
			<<Test as crate::Config>::WorkerRunBudget as frame_support::traits::Get<u64>>::get();
		assert!(spent <= budget, "the run took {spent} ms of a {budget} ms budget");
		assert!(node.take_sent().is_empty());
		let input_hash = crate::Jobs::<Test>::get(job).unwrap().input_hash.0;
		assert_eq!(journal(1).tasks, vec![Task { job, input_hash, id: b"slow".to_vec() }]);

		// The next run polls the same task, starting nothing new.
		node.expect_poll("slow", done("slow", 1));
		run_at(5);
		let sent = node.take_sent();
		assert_ok!(land_tx(&sent[0]));
		assert!(crate::Results::<Test>::get(job).is_some());
	});
}

#[test]
fn a_task_the_executor_lost_in_a_restart_is_started_again_in_the_same_run() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let job = submit(USER, 3, 200);
		run_to_block(4);
		node.expect_start(job, "t1");
		node.expect_running("t1", POLLS_PER_RUN);
		run::<Test>(4);
		assert!(node.take_sent().is_empty());

		// The executor restarted: it no longer knows t1.
		run_to_block(5);
		node.expect_poll("t1", error("unknown_task"));
		node.expect_start(job, "t2");
		node.expect_poll("t2", done("t2", 5));
		run::<Test>(5);
		land_sent_output(node, 5);
	});
}

#[test]
fn a_start_refused_for_want_of_room_ends_the_run_s_starts_and_leaves_its_time_to_polls() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 80);
		// More jobs than one window of starts (64 in flight), four a block (the mock's draw).
		let mut jobs = Vec::new();
		for fill in 0..65u8 {
			jobs.push(submit_with_deadline(fill, 60));
			if jobs.len() % 4 == 0 {
				run_to_block(System::block_number() + 1);
			}
		}
		let now = System::block_number() + DELAY as u64;
		run_to_block(now);
		assert_eq!(crate::WorkerJobs::<Test>::iter_key_prefix(worker(1)).count(), 65);

		// The executor's task table is full: the first window is refused, and the run starts
		// nothing more (a start of the 65th job would be a request nobody scripted).
		for job in &jobs[..64] {
			node.expect_task(*job, task_request(*job), error("overloaded"));
		}
		run::<Test>(now);
		assert!(node.take_sent().is_empty());
		assert!(journal(1).tasks.is_empty());

		// With room again, the next run starts every job and answers them all.
		run_to_block(now + 1);
		for job in &jobs {
			node.expect_start(*job, &format!("t{job}"));
		}
		for job in &jobs {
			node.expect_poll(&format!("t{job}"), done(&format!("t{job}"), *job as i64));
		}
		run::<Test>(now + 1);
		let answered: usize = node.take_sent().iter().map(|tx| opened(tx).1.len()).sum();
		assert_eq!(answered, 65);
	});
}

#[test]
fn a_minimum_deadline_job_whose_first_attempt_fails_transiently_still_settles() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let job = submit_with_deadline(3, MIN_DEADLINE);
		run_to_block(1 + DELAY as u64);
		// The first attempt, right after the draw: the executor is overloaded.
		node.expect_task(job, task_request(job), error("overloaded"));
		run::<Test>(4);
		assert!(node.take_sent().is_empty(), "a passing failure is retried, not reported");
		// The second, a block later, runs.
		run_to_block(5);
		node.expect_start(job, "t1");
		node.expect_poll("t1", done("t1", 2));
		run::<Test>(5);
		let sent = node.take_sent();
		assert_ok!(land_tx(&sent[0]));
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
		node.expect_task(refused, task_request(refused), error("bad_input"));
		node.expect_start(unsupported, "t3");
		// Each failed task is withdrawn from the executor, once the polls sent together have
		// their answers.
		node.expect_poll("t1", failed("t1", "corrupt_model"));
		node.expect_poll("t3", failed("t3", "unsupported_operator"));
		node.expect_cancel("t1");
		node.expect_cancel("t3");
		run::<Test>(4);
		let sent = node.take_sent();
		let (_, answers) = opened(&sent[0]);
		let reasons: Vec<_> = answers
			.iter()
			.map(|answer| match answer.answer {
				Answer::CannotExecute { reason } => (answer.job, reason),
				_ => panic!("cannot execute"),
			})
			.collect();
		// In deadline order (all equal), then by job.
		assert_eq!(
			reasons,
			vec![
				(corrupt, CannotExecuteReason::ModelUnsupported),
				(refused, CannotExecuteReason::BadInput),
				(unsupported, CannotExecuteReason::ModelUnsupported),
			]
		);
		assert_ok!(land_tx(&sent[0]));
		System::assert_has_event(
			Event::Refunded {
				job: refused,
				submitter: USER,
				amount: 200 - MIN_FEE,
				kept: MIN_FEE,
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
		node.expect_task(job, pinned, json!({ "id": "t1", "state": "running" }));
		node.expect_poll("t1", failed("t1", "engine_mismatch"));
		node.expect_cancel("t1");
		run::<Test>(4);

		let sent = node.take_sent();
		let (_, answers) = opened(&sent[0]);
		assert_eq!(answers.len(), 1);
		assert_eq!(
			answers[0].answer,
			Answer::CannotExecute { reason: CannotExecuteReason::EngineUnavailable },
			"answered at once, with a reason that names the engine, not the job"
		);
		assert_ok!(land_tx(&sent[0]));
		System::assert_has_event(
			Event::Refunded {
				job,
				submitter: USER,
				amount: 200 - MIN_FEE,
				kept: MIN_FEE,
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
		node.expect_task(job, task_request(job), error("overloaded"));
		run::<Test>(4);
		run_to_block(5);
		node.expect_start(job, "t1");
		node.expect_poll("t1", failed("t1", "timeout"));
		// Withdrawn, so that the executor lets go of its key before the next start.
		node.expect_cancel("t1");
		run::<Test>(5);
		run_to_block(6);
		node.expect_task(job, task_request(job), error("fetch_failed"));
		run::<Test>(6);
		assert!(node.take_sent().is_empty(), "no answer while retrying");

		// Two blocks before the deadline the failure is reported.
		let give_up = deadline - crate::offchain::GIVE_UP_MARGIN as u64;
		run_to_block(give_up - 1);
		node.expect_task(job, task_request(job), error("fetch_failed"));
		run::<Test>(give_up - 1);
		assert!(node.take_sent().is_empty());
		run_to_block(give_up);
		node.expect_task(job, task_request(job), error("fetch_failed"));
		run::<Test>(give_up);
		let sent = node.take_sent();
		let (_, answers) = opened(&sent[0]);
		assert_eq!(
			answers[0].answer,
			Answer::CannotExecute { reason: CannotExecuteReason::ModelUnavailable }
		);
		assert_ok!(land_tx(&sent[0]));
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
				VerificationTerms::quorum(1),
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
		for (job, path, task) in
			[(good, "good", "t1"), (tampered, "tampered", "t2"), (unreachable, "unreachable", "t3")]
		{
			node.expect_task(job, request(path), json!({ "id": task, "state": "running" }));
		}
		node.expect_poll("t1", done("t1", 6));
		node.expect_poll("t2", failed("t2", "bad_remote_input"));
		node.expect_poll("t3", failed("t3", "input_unavailable"));
		node.expect_cancel("t2");
		node.expect_cancel("t3");
		run::<Test>(4);

		// The output is answered; both input failures wait, the tampered one too although no
		// retry cures it: answered at once, it would tell the submitter that this worker
		// reached the URI.
		let sent = node.take_sent();
		let (_, answers) = opened(&sent[0]);
		assert_eq!(answers.len(), 1);
		assert!(matches!(&answers[0].answer, Answer::Output { output, .. } if *output == label(6)));
		assert_ok!(land_tx(&sent[0]));
		assert!(crate::Results::<Test>::get(good).is_some());
		assert!(crate::Jobs::<Test>::get(tampered).is_some());
		assert!(crate::Jobs::<Test>::get(unreachable).is_some());
		let counted = metrics(1);
		assert_eq!((counted.outputs, counted.cannot_execute.len()), (1, 0));
		assert_eq!(counted.pending_answers, 1, "sent, not seen on chain by the run's end");

		// At the give-up point both are answered in the same call and with the same reason,
		// refused by this executor's policy or not: nothing tells one failure from another.
		let deadline = crate::Jobs::<Test>::get(tampered).unwrap().deadline;
		let give_up = deadline - crate::offchain::GIVE_UP_MARGIN as u64;
		run_to_block(give_up);
		for (job, path, kind) in [
			(tampered, "tampered", "bad_remote_input"),
			(unreachable, "unreachable", "remote_input_refused"),
		] {
			node.expect_task(job, request(path), error(kind));
		}
		run_at(give_up);
		let sent = node.take_sent();
		assert_eq!(sent.len(), 1);
		let (_, answers) = opened(&sent[0]);
		let reasons: Vec<_> = answers.iter().map(|a| (a.job, a.answer.clone())).collect();
		let cannot = |reason| Answer::CannotExecute { reason };
		assert_eq!(
			reasons,
			vec![
				(tampered, cannot(CannotExecuteReason::InputUnavailable)),
				(unreachable, cannot(CannotExecuteReason::InputUnavailable)),
			]
		);
		assert_ok!(land_tx(&sent[0]));
		assert!(crate::Jobs::<Test>::get(tampered).is_none());
		assert!(crate::Jobs::<Test>::get(unreachable).is_none());
		// Counted once each, by reason, and not again when the next run finds them on chain.
		let expected = WorkerMetrics {
			outputs: 1,
			cannot_execute: vec![(CannotExecuteReason::InputUnavailable, 2)],
			pool_refusals: 0,
			pending_answers: 2,
			running_tasks: 0,
		};
		assert_eq!(metrics(1), expected);
		run_at(give_up + 1);
		assert_eq!(metrics(1), WorkerMetrics { pending_answers: 0, ..expected });
	});
}

#[test]
fn more_answers_than_one_transaction_carries_go_in_several() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 8);
		let jobs: Vec<u64> = (0..4).map(|fill| submit(USER, fill, 200)).collect();
		run_to_block(2);
		let more: Vec<u64> = (4..6).map(|fill| submit(USER, fill, 200)).collect();
		run_to_block(5);
		for (index, job) in jobs.iter().chain(&more).enumerate() {
			node.expect_task(*job, task_request(*job), error("bad_input"));
			let _ = index;
		}
		run::<Test>(5);
		let sent = node.take_sent();
		// At most four answers a call in the mock.
		let sizes: Vec<usize> = sent.iter().map(|tx| opened(tx).1.len()).collect();
		assert_eq!(sizes, vec![4, 2]);
		for transaction in &sent {
			assert_ok!(land_tx(transaction));
		}
		assert_eq!(escrow_held(USER), 0);
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
fn the_journal_keeps_one_signed_answer_per_job_until_the_job_leaves() {
	let mut journal = Journal::default();
	journal.set_task(1, [1; 32], b"t1".to_vec());
	journal.set_task(2, [2; 32], b"t2".to_vec());
	journal.set_task(3, [3; 32], b"t3".to_vec());
	journal.note_answer(1, [1; 32], vec![7], Some(([5; 32], 30)));
	assert_eq!(journal.task(1), None, "an answered job's task is done with");
	let kept = SignedAnswer {
		job: 1,
		input_hash: [1; 32],
		answer: vec![7],
		salt: Some([5; 32]),
		keep_until: 30,
		sent_at: None,
		sent_step: Step::Answer,
	};
	assert_eq!(journal.answer(1), Some(&kept));
	journal.note_sent(1, 9, Step::Reveal);
	assert_eq!(journal.answer(1).unwrap().sent_at, Some(9));
	assert_eq!(journal.answer(1).unwrap().sent_step, Step::Reveal);
	// Job 1 ended; job 3's id now names another job (a re-org): its task ran another input,
	// and is handed back for the executor to drop.
	let closed = journal.keep_open(&[(2, [2; 32]), (3, [9; 32])], 30);
	assert_eq!(closed, vec![Task { job: 3, input_hash: [3; 32], id: b"t3".to_vec() }]);
	assert!(journal.answer(1).is_some(), "a quorum answer is kept until its deadline");
	assert!(journal.keep_open(&[(2, [2; 32]), (3, [9; 32])], 31).is_empty());
	assert_eq!(journal.answer(1), None);
	assert_eq!(journal.task(2), Some(&b"t2"[..]));
	assert_eq!(journal.task(3), None);
	// A kept quorum answer whose id comes back naming another job (another input) is dropped,
	// never sent for it.
	journal.note_answer(4, [4; 32], vec![8], Some(([5; 32], 40)));
	journal.keep_open(&[(4, [9; 32])], 32);
	assert_eq!(journal.answer(4), None);
}

#[test]
fn a_task_whose_job_ended_is_withdrawn_from_the_executor() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let job = submit_with_deadline(3, MIN_DEADLINE);
		run_to_block(4);
		node.expect_start(job, "t1");
		node.expect_running("t1", POLLS_PER_RUN);
		run::<Test>(4);
		assert_eq!(journal(1).tasks.len(), 1);
		// The node's off-chain worker did not run again until the job had expired: the task
		// it left on the executor is withdrawn, so that it never takes a slot from live work.
		let deadline = crate::Jobs::<Test>::get(job).unwrap().deadline;
		run_to_block(deadline + 1);
		assert!(crate::Jobs::<Test>::get(job).is_none());
		node.expect_cancel("t1");
		run::<Test>(deadline + 1);
		assert!(journal(1).tasks.is_empty());
	});
}

#[test]
fn a_key_with_long_tasks_leaves_the_node_s_other_keys_their_share_of_the_budget() {
	let mut node = worker_node(&[1, 2]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 1);
		add_worker(2, 200, 5_000, 1);
		let jobs = [submit(USER, 3, 200), submit(USER, 4, 200)];
		run_to_block(4);
		let job_of = |key: &WorkerId| {
			*jobs.iter().find(|job| crate::WorkerJobs::<Test>::contains_key(key, **job)).unwrap()
		};
		// Key 1's task runs long; key 2's is quick. Whichever the node runs first, key 2
		// answers in this run.
		let order: Vec<WorkerId> = <WorkerId as sp_runtime::RuntimeAppPublic>::all();
		let slow_first = order.iter().position(|key| *key == worker(1))
			< order.iter().position(|key| *key == worker(2));
		for key in &order {
			if *key == worker(1) {
				node.expect_start(job_of(key), "slow");
				// Half the budget (250 ms: polls at 0, 10, 30, 70 and 150 ms), or all of it.
				node.expect_running("slow", if slow_first { 5 } else { POLLS_PER_RUN });
			} else {
				node.expect_start(job_of(key), "quick");
				node.expect_poll("quick", done("quick", 1));
			}
		}
		run::<Test>(4);
		let sent = node.take_sent();
		assert_eq!(sent.len(), 1);
		assert_eq!(opened(&sent[0]).0, worker(2));
	});
}

#[test]
fn a_kept_answer_the_chain_would_refuse_is_computed_again_not_resent() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let job = submit(USER, 3, 200);
		run_to_block(4);
		node.expect_start(job, "t1");
		node.expect_poll("t1", done("t1", 7));
		run::<Test>(4);
		assert_eq!(node.take_sent().len(), 1);
		// The kept answer is damaged (its receipt no longer matches): it would never land.
		let mut journal = journal(1);
		let mut answer = Answer::<Test>::decode(&mut &journal.answers[0].answer[..]).unwrap();
		if let Answer::Output { output, .. } = &mut answer {
			*output = label(8);
		}
		journal.answers[0].answer = answer.encode();
		sp_io::offchain::local_storage_set(
			StorageKind::PERSISTENT,
			&journal_key(&worker(1)),
			&journal.encode(),
		);
		// When it is due again it is dropped and the job runs again.
		run_to_block(4 + RESEND_AFTER);
		node.expect_start(job, "t2");
		node.expect_poll("t2", done("t2", 7));
		run::<Test>(4 + RESEND_AFTER);
		land_sent_output(node, 7);
	});
}

#[test]
fn at_the_last_chance_a_job_without_an_answer_is_given_up_even_with_no_time_left() {
	let mut node = worker_node(&[1]);
	node.execute(|node| {
		add_worker(1, 100, 5_000, 4);
		let running = submit_with_deadline(3, MIN_DEADLINE);
		let unstarted = submit_with_deadline(4, MIN_DEADLINE);
		run_to_block(1 + MIN_DEADLINE - crate::offchain::GIVE_UP_MARGIN as u64);
		// One job's task is running; the other was never started (a hung executor took the
		// earlier runs' time). This run has no time left at all: it asks the executor nothing,
		// not even to drop the running task (which ends at its own deadline, the give-up point).
		let input_hash = crate::Jobs::<Test>::get(running).unwrap().input_hash.0;
		let mut journal = Journal::default();
		journal.set_task(running, input_hash, b"slow".to_vec());
		let due: Vec<_> = [running, unstarted]
			.into_iter()
			.map(|id| (id, crate::Jobs::<Test>::get(id).unwrap()))
			.collect();
		let endpoint = ExecutorEndpoint { url: EXECUTOR.as_bytes().to_vec(), token: vec![] };
		let out_of_time = crate::offchain::WorkerRun::<Test> {
			key: worker(1),
			endpoint: &endpoint,
			now: System::block_number(),
			run_deadline: sp_io::offchain::timestamp(),
			pool_refusals: Default::default(),
		};
		out_of_time.answer(&mut journal, &due);
		// Both are answered "cannot execute", in time for the deadline.
		for job in [running, unstarted] {
			let kept = journal.answer(job).expect("answered");
			assert_eq!(
				Answer::<Test>::decode(&mut &kept.answer[..]).unwrap(),
				Answer::CannotExecute { reason: CannotExecuteReason::ExecutionFailed }
			);
		}
		assert!(journal.tasks.is_empty());
		assert!(node.take_sent().is_empty());
	});
}

#[test]
fn quorum_members_commit_then_reveal_the_kept_answer_with_its_salt() {
	let mut node = worker_node(&[1, 2, 3]);
	node.execute(|node| {
		for seed in 1..=3 {
			add_worker(seed, 100 * seed as u64, 5_000, 4);
		}
		let job = crate::NextJobId::<Test>::get();
		assert_ok!(Jobs::submit(
			RuntimeOrigin::signed(USER),
			digits(),
			image(3),
			VerificationTerms::quorum(3),
			2_000,
			MIN_QUORUM_DEADLINE
		));
		run_to_block(1 + DELAY as u64);
		for _ in 0..3 {
			node.expect_start(job, "t1");
			node.expect_poll("t1", done("t1", 7));
		}
		run::<Test>(System::block_number());
		// Each member commits; nothing of its answer is public yet.
		let commits = node.take_sent();
		assert_eq!(commits.len(), 3);
		for transaction in &commits {
			let (_, answers) = opened(transaction);
			assert!(matches!(answers[0].answer, Answer::Commit { .. }));
		}
		let salts: Vec<_> = (1..=3).map(|seed| journal(seed).answers[0].salt).collect();
		// From the node's randomness (fixed in the test externalities).
		assert!(salts.iter().all(Option::is_some));
		// Two commitments land; the third is still on its way: reveals stay closed and nothing
		// is sent (the third is resent only two blocks later).
		assert_ok!(land_tx(&commits[0]));
		assert_ok!(land_tx(&commits[1]));
		run_at(System::block_number() + 1);
		assert!(node.take_sent().is_empty());
		assert_ok!(land_tx(&commits[2]));
		// Reveals open: each member reveals the answer it kept, with its salt, at once: the
		// journal in persistent storage is all a restarted node has, and all it needs.
		run_at(System::block_number() + 1);
		let reveals = node.take_sent();
		assert_eq!(reveals.len(), 3);
		for transaction in &reveals {
			let (worker, answers) = opened(transaction);
			let seed = (1..=3).find(|seed| self::worker(*seed) == worker).unwrap();
			let Answer::Reveal { salt, .. } = &answers[0].answer else { panic!("a reveal") };
			assert_eq!(Some(*salt), salts[seed as usize - 1]);
		}
		for transaction in &reveals {
			assert_ok!(land_tx(transaction));
		}
		assert!(crate::Results::<Test>::contains_key(job));
		assert_eq!(crate::Results::<Test>::get(job).unwrap().output, label(7));
		for seed in 1..=3u64 {
			assert_eq!(crate::Claimable::<Test>::get(100 * seed), Some(PRICE));
		}
		run_at(System::block_number() + 1);
		assert!(node.take_sent().is_empty());
		// Kept until the deadline, in case a re-org brings back a fork where the reveal is still
		// due; then forgotten.
		assert_eq!(journal(1).answers.len(), 1);
		run_at(1 + MIN_QUORUM_DEADLINE + 1);
		assert!(node.take_sent().is_empty());
		for seed in 1..=3 {
			assert_eq!(journal(seed), Journal::default());
		}
	});
}

#[test]
fn an_audited_worker_reveals_only_after_its_auditor_committed_blind() {
	// Five operators: an audit needs room for three referees.
	let mut node = worker_node(&[1, 2, 3, 4, 5]);
	node.execute(|node| {
		AuditRateFloor::set(sp_runtime::Perbill::one());
		for seed in 1..=5 {
			add_worker(seed, 100 * seed as u64, 5_000, 4);
		}
		let job = crate::NextJobId::<Test>::get();
		assert_ok!(Jobs::submit(
			RuntimeOrigin::signed(USER),
			digits(),
			image(3),
			VerificationTerms::audited(),
			2_000,
			MIN_QUORUM_DEADLINE
		));
		run_to_block(1 + DELAY as u64);
		let original = super::quorum::members(job)[0];
		node.expect_start(job, "t1");
		node.expect_poll("t1", done("t1", 7));
		run::<Test>(System::block_number());
		// The worker commits; nothing of its answer is public.
		let commits = node.take_sent();
		assert_eq!(commits.len(), 1);
		assert_eq!(opened(&commits[0]).0, worker(original));
		assert!(matches!(opened(&commits[0]).1[0].answer, Answer::Commit { .. }));
		assert_ok!(land_tx(&commits[0]));
		// The next blocks: the audit is not decided yet, so there is nothing to reveal.
		for _ in 1..DELAY {
			run_at(System::block_number() + 1);
			assert!(node.take_sent().is_empty());
		}
		// The audit is decided: the auditor's node runs the job and commits; the worker still
		// waits.
		run_to_block(System::block_number() + 1);
		node.expect_start(job, "t2");
		node.expect_poll("t2", done("t2", 7));
		run::<Test>(System::block_number());
		let auditor = super::quorum::members(job)[1];
		assert_ne!(auditor, original);
		let sent = node.take_sent();
		assert_eq!(sent.len(), 1);
		assert_eq!(opened(&sent[0]).0, worker(auditor));
		assert!(matches!(opened(&sent[0]).1[0].answer, Answer::Commit { .. }));
		assert_ok!(land_tx(&sent[0]));
		// Both reveal; the audit passes and both are paid.
		run_at(System::block_number() + 1);
		let reveals = node.take_sent();
		assert_eq!(reveals.len(), 2);
		for transaction in &reveals {
			assert!(matches!(opened(transaction).1[0].answer, Answer::Reveal { .. }));
			assert_ok!(land_tx(transaction));
		}
		assert_eq!(crate::Results::<Test>::get(job).unwrap().worker, worker(original));
		run_at(System::block_number() + DISPUTE_WINDOW);
		for seed in [original, auditor] {
			assert_eq!(crate::Claimable::<Test>::get(100 * seed as u64), Some(PRICE));
		}
	});
}
