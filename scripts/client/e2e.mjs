// End-to-end tests on real node processes through @polkadot/api:
//
// 1. the demo: predictions equal the models' recorded ones (so the batch scores the models'
//    accuracy on it), the escrow is released, every account moves by exactly its price;
// 2. a validator and a separate worker node (not a validator, its own embedded executor):
//    - faults: a listed model whose stored file is corrupt, a model pinned to an engine version
//      the worker's executor does not run, an input the chain refuses, a remote input that
//      does not hash right, next to a good remote and a good inline input: clear errors and
//      refunds, good jobs settle, the chain keeps producing and finalising;
//    - the worker node is stopped with jobs on their way to it: at the deadline the submitter
//      is refunded in full and the worker slashed for a no-show; restarted on the same
//      database, it answers new jobs; stopped the moment it has sent answers and restarted,
//      those jobs settle once; no answer transaction of its key ever fails; its key's account
//      holds nothing (answers are fee-free general transactions);
//    - an attacker fills every block's normal length with a tipped remark: the jobs assigned to
//      the worker meanwhile still settle before their deadlines, and nobody is slashed.
//
// 3. quorums of three on a validator and three worker nodes of three operators, one of them
//    byzantine behind a proxy that changes its executor's labels (see quorum.mjs): honest
//    answers settle, the byzantine worker is slashed on each job, the honest ones are paid
//    exactly; a worker node killed between commitment and reveal reveals in time; audits and
//    challenges catch it, and a challenge of its wrong answer on the integer model (listed as
//    one the runtime runs itself) is settled by the runtime's own run in the challenge's block.
//
// 4. the validator set on five node processes of the local testnet (see validators.mjs): a fifth
//    node bonds, sets keys with a proof, is added by council motion and authors from the session
//    the motion names; it leaves and authors nothing from the session its leaving names; one of
//    four validators down, finality goes on; two down, it stalls; both restarted on their
//    databases, it resumes with no block lost and all nodes agreeing; a second node with one
//    validator's keys equivocates and the chain reports, slashes and disables that validator.
//
//   node e2e.mjs <path to veritensor-node> [demo | workers | quorum | validators | attack]
//   (all but attack by default; attack runs the block-filling attack alone on nodes of its own)
//
// Set VERITENSOR_KEEP_E2E (and VERITENSOR_KEEP_DEMO) to keep the nodes' directories and logs.
import {
  DEMO_MODELS, NodeProcess, UNITS, bestNumber, demoModels, digitInput, encodeTensors, escrowHeld,
  expectError, fail, followJobs, freePort, inline, insertWorkerKey, keyring, registerWorker, send,
  sleep, submitJobs, testChainSpec, testVectors, waitForBlock,
} from './lib.mjs';
import { moneyChecks, runDemo } from './demo.mjs';
import { quorumSuite } from './quorum.mjs';
import { validatorsSuite } from './validators.mjs';
import { blake2AsHex } from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const nodeBin = process.argv[2];
if (!nodeBin) {
  console.error('usage: node e2e.mjs <path to veritensor-node> [demo | workers | quorum | validators | attack]');
  process.exit(2);
}

const say = (message) => console.log(`  ${message}`);

function check(condition, message) {
  if (!condition) fail(message);
  say(`✓ ${message}`);
}

async function demoFlow() {
  console.log('e2e: the demo flow (dev node, embedded executor)');
  const result = await runDemo(nodeBin, { say: (m) => say(`│ ${m}`) });
  const rows = result.rows;
  check(rows.every((row) => row.predicted === row.expected),
    `all ${rows.length} predictions equal ONNX Runtime's recorded ones`);
  const scored = rows.filter((row) => row.expected === row.label).length;
  check(result.correct === scored && scored < rows.length,
    `${result.correct}/${rows.length} correct: the models' recorded accuracy on this batch`);
  for (const [holds, statement] of moneyChecks(result)) check(holds, statement);
}

// Serves `routes` (path -> bytes) on a loopback port, counting the requests for each path.
async function dataHost(routes) {
  const hits = {};
  const server = createServer((request, response) => {
    hits[request.url] = (hits[request.url] ?? 0) + 1;
    const body = routes[request.url];
    response.writeHead(body ? 200 : 404);
    response.end(body ? Buffer.from(body) : undefined);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, hits, base: `http://127.0.0.1:${server.address().port}` };
}

// The float demo model with a different doc string appended (ONNX's ModelProto field 6, a
// string: the last one read wins), so a valid model under a hash no store has yet.
function anotherFloatModel() {
  const doc = new TextEncoder().encode('a copy for the prefetch test');
  const bytes = readFileSync(join(DEMO_MODELS, 'mlp_digits_f32.onnx'));
  return Uint8Array.from([...bytes, 0x32, doc.length, ...doc]);
}

function inputHash(tensors) {
  return blake2AsHex(u8aConcat(stringToU8a('veritensor:input:v1'), encodeTensors(tensors)));
}

async function workerNodes(dir) {
  const spec = testChainSpec(nodeBin, dir);
  const validator = new NodeProcess(nodeBin, 'validator',
    ['--dev', '--chain', spec, '--base-path', join(dir, 'validator'), '--no-executor',
      // The pool counts a transaction until its block is final: with finality a few blocks
      // behind, the default 20 MiB holds only five of the block-filling attack's 3.9 MB
      // remarks, and a sixth would be dropped, leaving a block unattacked.
      '--pool-kbytes', String(80 * 1024)], dir);
  await validator.start();
  const api = await validator.connect();
  const workerBase = join(dir, 'worker');
  insertWorkerKey(nodeBin, ['--chain', spec, '--base-path', workerBase], '//E2eWorker');
  const prometheusPort = await freePort();
  const worker = new NodeProcess(nodeBin, 'worker', [
    '--chain', spec, '--base-path', workerBase, '--prometheus-port', String(prometheusPort),
    // Not a --dev node: it runs models only when asked to.
    '--executor', 'embedded', '--executor-store', join(dir, 'store'),
    // The test's model and input hosts are on loopback, which the default policies refuse.
    '--executor-fetch-private', '--executor-fetch-private-inputs',
    '--bootnodes', await validator.multiaddr(),
  ], dir);
  await worker.start();
  worker.prometheusPort = prometheusPort;
  return { validator, worker, api };
}

// Every block, an attacker sends a remark that fills the block's normal length, tipped so that
// it beats a transaction without a tip. Jobs assigned to the worker while the attack lasts must
// still settle before their deadlines, and the worker must not be slashed.
async function blockFillingAttack(api, { workerKey, model, user }) {
  const attacker = keyring().addFromUri('//Eve');
  const normalLength = api.consts.system.blockLength.max.normal.toNumber();
  const tip = 10n ** 6n;
  let nonce = (await api.rpc.system.accountNextIndex(attacker.address)).toNumber();
  // The largest remark the pool takes (the block's header counts against the length too),
  // less room for what a built block adds, leaves less room than one answer needs. Probes go in
  // under a nonce far ahead, never to be included: the pool checks their size, then drops
  // them (the pool's limit for transactions waiting on earlier nonces is small) or keeps them
  // aside until their era ends.
  let size = normalLength;
  for (;;) {
    size -= 64;
    const probe = api.tx.system.remark(u8aToHex(new Uint8Array(size).fill(0x5a)));
    try {
      await probe.signAndSend(attacker, { tip, nonce: nonce + 1_000_000 });
      break;
    } catch (error) {
      if (!/exhaust the block limits/.test(error.message)) break;
    }
  }
  // A built block's header carries BABE's pre-digest (~110 bytes) and its timestamp inherent.
  size -= 192;
  const remark = u8aToHex(new Uint8Array(size).fill(0x5a));
  let sent = 0;
  let sending = Promise.resolve();
  // One remark after another under nonces counted here (the pool may not list the previous
  // one yet); after a refusal, counting starts again from the chain's.
  const sendRemark = () => {
    sending = sending.then(() => api.tx.system.remark(remark)
      .signAndSend(attacker, { tip, nonce })
      .then(() => { sent += 1; nonce += 1; })
      .catch(async () => {
        nonce = (await api.rpc.system.accountNextIndex(attacker.address)).toNumber();
      }));
    return sending;
  };
  // Two in the pool ahead of each block, so that every block has one ready to take.
  await sendRemark();
  await sendRemark();
  const unsubscribe = await api.rpc.chain.subscribeNewHeads(() => { sendRemark().catch(() => {}); });
  const vectors = testVectors();
  try {
    const startedAt = await bestNumber(api);
    const attacked = await submitJobs(api, user, [10, 11, 12, 13, 14, 15].map((image) => ({
      model, input: digitInput('mlp_digits_f32', vectors.pixels[image]),
    })), 12, tip * 1000n);
    say(`a block-filling remark (${size} bytes of ${normalLength}, tip ${tip}) goes out every block; ` +
      `jobs ${attacked.jobs.map((job) => job.id).join(', ')} submitted`);
    await followJobs(api, attacked.jobs, 240_000);
    const end = Math.max(...attacked.jobs.map((job) => job.end.block));
    let filled = 0;
    let blocks = 0;
    let answered = 0;
    let answeredFilled = 0;
    // A block that starts a session carries no normal transaction: the session pallet charges
    // the whole block's weight for the rotation, so the remark cannot land there (answers, an
    // operational class, still can, in the weight reserved for that class).
    const sessionStarts = new Set();
    const slashes = [];
    for (let n = attacked.jobs[0].submittedBlock + 1; n <= end; n += 1) {
      const hash = await api.rpc.chain.getBlockHash(n);
      const [block, events] = await Promise.all([
        api.rpc.chain.getBlock(hash), (await api.at(hash)).query.system.events()]);
      for (const { event } of events) {
        if (api.events.workers.Slashed.is(event) && event.data.worker.toHex() === workerKey) {
          slashes.push(event);
        }
      }
      const signed = block.block.extrinsics.filter((x) => x.isSigned);
      if (events.some(({ event }) => api.events.session.NewSession.is(event))) {
        check(signed.length === 0, `the session start #${n} carried no signed transaction (${signed.length})`);
        sessionStarts.add(n);
        continue;
      }
      blocks += 1;
      const remark = signed.some((x) => x.signer.toString() === attacker.address &&
        x.method.method === 'remark');
      if (remark) filled += 1;
      if (block.block.extrinsics.some((x) => x.method.method === 'submitResults')) {
        answered += 1;
        if (remark) answeredFilled += 1;
      }
    }
    say(`the attacker's remark filled ${filled} of the ${blocks} blocks after the submission ` +
      `that had room for transactions (${sent} remarks sent since #${startedAt}; ` +
      `session starts skipped: ${sessionStarts.size ? [...sessionStarts].map((n) => `#${n}`).join(', ') : 'none'})`);
    const ends = attacked.jobs.map((job) => (job.end.settled ? 'settled' : job.end.event.data.reason.toString()));
    say(`jobs ended: ${ends.join(', ')}; slashes of the worker: ${slashes.length}`);
    // The remark leaves less room than one answer needs, so an answer and the remark never
    // share a block: where the answers land they have taken the block ahead of the remark.
    check(filled + answered - answeredFilled === blocks,
      `the attack was in effect: every block after the submission carried the attacker's remark ` +
      `(${filled}) or, ahead of it, the worker's answers (${answered - answeredFilled})`);
    const drawn = attacked.jobs[0].submittedBlock + 3;
    check(attacked.jobs.every((job) => job.end.block === drawn + 1),
      `every job settled in the first block after its draw (#${drawn + 1})`);
    check(attacked.jobs.every((job) => job.end.settled && job.end.block <= job.submittedBlock + 12),
      `every job settled before its deadline under the attack (${ends.join(', ')})`);
    check(slashes.length === 0, `the worker was not slashed (${slashes.length} slashes)`);
  } finally {
    await unsubscribe();
    await sending.catch(() => {});
  }
  // Let the attacker's remarks still in the pool drain before anything else runs.
  const pending = async () => (await api.rpc.system.accountNextIndex(attacker.address)).toNumber();
  const drainUntil = Date.now() + 120_000;
  while ((await api.query.system.account(attacker.address)).nonce.toNumber() < await pending()) {
    if (Date.now() > drainUntil) fail('the attacker\'s remarks never left the pool');
    await sleep(1_000);
  }
}

async function faultsAndRestart() {
  console.log('e2e: a validator and a worker node');
  const dir = mkdtempSync(join(tmpdir(), 'veritensor-e2e-'));
  const { validator, worker, api } = await workerNodes(dir);
  let host;
  let modelHost;
  try {
    const keys = keyring();
    const [alice, bob, dave, ferdie] =
      ['//Alice', '//Bob', '//Dave', '//Ferdie'].map((uri) => keys.addFromUri(uri));
    const models = demoModels();
    const floatModel = models.mlp_digits_f32.hash;

    // A listed model whose file, in the worker's store under the right hash, is no ONNX model.
    const corrupt = new TextEncoder().encode('not an ONNX model '.repeat(64));
    const corruptHash = blake2AsHex(corrupt, 256);
    mkdirSync(join(dir, 'store', 'blake2-256'), { recursive: true });
    writeFileSync(join(dir, 'store', 'blake2-256', `${corruptHash.slice(2)}.onnx`), corrupt);
    const floatSpec = (await api.query.models.models(floatModel)).unwrap().spec.toJSON();
    const corruptSpec = {
      ...floatSpec,
      artifactHash: corruptHash,
      artifactSize: corrupt.length,
      uris: ['https://models.invalid/corrupt.onnx'],
      metadata: { name: 'corrupt', description: { Text: 'a corrupt file' }, licence: 'MIT' },
      supersedes: null,
    };
    await send(api, api.tx.models.propose(corruptSpec), ferdie);
    await send(api, api.tx.sudo.sudo(api.tx.models.approve(corruptHash)), alice);
    say('a model whose stored file is corrupt is listed (sudo)');

    // A listed model compared by exact hash, pinned to a tract version no executor runs.
    const pinnedHash = blake2AsHex(new TextEncoder().encode('pinned to an absent engine'), 256);
    const pinnedSpec = {
      ...corruptSpec,
      artifactHash: pinnedHash,
      uris: ['https://models.invalid/pinned.onnx'],
      comparison: { ExactHash: { engine: 'Tract', version: '0.0.0-absent' } },
      metadata: { name: 'pinned', description: { Text: 'pinned to tract 0.0.0-absent' }, licence: 'MIT' },
    };
    await send(api, api.tx.models.propose(pinnedSpec), ferdie);
    await send(api, api.tx.sudo.sudo(api.tx.models.approve(pinnedHash)), alice);
    say('a model pinned to tract 0.0.0-absent is listed (sudo)');

    // A listed model no store has, on a model host the test counts requests on.
    const prefetched = anotherFloatModel();
    const prefetchedHash = blake2AsHex(prefetched, 256);
    modelHost = await dataHost({ '/prefetched.onnx': prefetched });
    const prefetchedSpec = {
      ...floatSpec,
      artifactHash: prefetchedHash,
      artifactSize: prefetched.length,
      uris: [`${modelHost.base}/prefetched.onnx`],
      metadata: { name: 'prefetched', description: { Text: 'fetched before its first job' }, licence: 'MIT' },
      supersedes: null,
    };
    await send(api, api.tx.models.propose(prefetchedSpec), ferdie);
    await send(api, api.tx.sudo.sudo(api.tx.models.approve(prefetchedHash)), alice);
    say('another float model, served from a loopback host, is listed (sudo)');

    const { worker: workerKey, account: workerAccount } = await registerWorker(api, worker, dave,
      { bond: 5_000n * UNITS, models: [floatModel, corruptHash, pinnedHash, prefetchedHash], capacity: 8 }, say);
    // Without any job of that model, the worker node has its executor fetch it, once.
    const storedAt = join(dir, 'store', 'blake2-256', `${prefetchedHash.slice(2)}.onnx`);
    const prefetchUntil = Date.now() + 60_000;
    while (!existsSync(storedAt) && Date.now() < prefetchUntil) await sleep(500);
    await waitForBlock(api, (await bestNumber(api)) + 2);
    check(existsSync(storedAt) && modelHost.hits['/prefetched.onnx'] === 1,
      `the worker node fetched the model its worker serves before any job, once ` +
      `(${modelHost.hits['/prefetched.onnx'] ?? 0} download(s))`);
    check((await api.query.system.account(workerAccount)).data.free.toBigInt() === 0n,
      'the worker key\'s account holds nothing: answers need no fees');

    // Inputs: the chain refuses a tensor of the wrong shape outright.
    const vectors = testVectors();
    const pixels = digitInput('mlp_digits_f32', vectors.pixels[7]);
    const cost = (await api.call.jobsApi.quote(floatModel, 1)).unwrap().toBigInt();
    const wrongShape = [{ ...pixels[0], shape: [1, 32], data: pixels[0].data.slice(0, 128) }];
    const heldBefore = escrowHeld(await api.query.balances.holds(bob.address));
    await expectError(api, api.tx.jobs.submit(floatModel, inline(wrongShape), { replicas: 1 }, cost, 10), bob,
      'jobs.InputShapeMismatch');
    check(escrowHeld(await api.query.balances.holds(bob.address)) === heldBefore,
      'an input of the wrong shape is refused (jobs.InputShapeMismatch) and nothing is held');

    host = await dataHost({
      '/good.bin': encodeTensors(pixels),
      '/tampered.bin': encodeTensors(digitInput('mlp_digits_f32', vectors.pixels[8])),
    });
    const remote = (path) => ({ Remote: { hash: inputHash(pixels), uri: `${host.base}${path}` } });
    const faultJobs = [
      { what: 'corrupt model', model: corruptHash, input: pixels },
      { what: 'tampered remote input', model: floatModel, payload: remote('/tampered.bin') },
      { what: 'good remote input', model: floatModel, payload: remote('/good.bin') },
      { what: 'good inline input', model: floatModel, input: pixels },
      { what: 'pinned to an absent engine version', model: pinnedHash, input: pixels },
    ];
    const calls = faultJobs.map((job) => api.tx.jobs.submit(job.model,
      job.payload ?? inline(job.input), { replicas: 1 }, cost, 15));
    const { events, blockHash } = await send(api, api.tx.utility.batchAll(calls), bob);
    const block = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();
    const submitted = events.filter((e) => api.events.jobs.Submitted.is(e));
    submitted.forEach((e, i) => Object.assign(faultJobs[i],
      { id: e.data.job.toNumber(), submittedBlock: block, sentAt: Date.now() }));
    await followJobs(api, faultJobs, 180_000);
    const reason = (job) => job.end.settled ? 'settled' : job.end.event.data.reason.toString();
    const ends = faultJobs.map(reason);
    check(ends[0] === '{"cannotExecute":"ModelUnsupported"}',
      `corrupt model: refunded as cannot-execute (${ends[0]})`);
    check(ends[1] === '{"cannotExecute":"InputUnavailable"}',
      `tampered remote input: refunded, input unavailable (${ends[1]})`);
    check(faultJobs[2].end.settled && faultJobs[3].end.settled,
      'the good remote and inline inputs settled');
    check(ends[4] === '{"cannotExecute":"EngineUnavailable"}',
      `a model pinned to an engine version the worker lacks: refunded, engine unavailable (${ends[4]})`);
    check(/cannot execute \(EngineUnavailable\): engine_mismatch/.test(worker.log()),
      'the worker node logged the executor\'s engine_mismatch refusal');
    const predicted = faultJobs.slice(2, 4).map((job) => job.end.output.asInline[0].data.toHex());
    check(predicted[0] === predicted[1], 'the remote input ran exactly like the same inline one');
    check(escrowHeld(await api.query.balances.holds(bob.address)) === heldBefore,
      'every escrow of these jobs is released');
    check(/cannot execute \(ModelUnsupported\): corrupt_model/.test(worker.log()),
      'the worker node logged the executor\'s corrupt_model error');
    // The worker node's Prometheus endpoint: its executor's series and its worker key's.
    const metrics = await (await fetch(`http://127.0.0.1:${worker.prometheusPort}/metrics`)).text();
    // One line of a series: its name, every label fragment given, and a value of at least 1.
    const series = (name, ...labels) => metrics.split('\n').some((line) =>
      line.startsWith(`${name}{`) && labels.every((label) => line.includes(label)) &&
      Number(line.slice(line.lastIndexOf(' ') + 1)) >= 1);
    const keyLabel = `worker="${workerKey}"`;
    check(series('veritensor_worker_answers_total', 'answer="output"', keyLabel) &&
      series('veritensor_worker_answers_total', 'answer="ModelUnsupported"', keyLabel) &&
      series('veritensor_executor_requests_total', 'endpoint="submit_tasks"') &&
      series('veritensor_executor_requests_total', 'endpoint="poll_tasks"') &&
      metrics.includes('veritensor_worker_pending_answers{'),
      'the worker node\'s /metrics shows its executor\'s requests and its worker key\'s answers by kind');
    const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
    await waitForBlock(api, (await bestNumber(api)) + 2);
    const later = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
    check(later > finalized, `the chain keeps producing and finalising (#${finalized} → #${later})`);

    // The worker node stops with jobs on their way to it.
    const bobBefore = (await api.query.system.account(bob.address)).data;
    const stopped = await submitJobs(api, bob, [0, 1].map((image) => ({
      model: floatModel, input: digitInput('mlp_digits_f32', vectors.pixels[image]),
    })), 7);
    await worker.stop();
    say(`jobs ${stopped.jobs.map((j) => j.id).join(', ')} submitted; the worker node is stopped`);
    await followJobs(api, stopped.jobs, 180_000);
    check(stopped.jobs.every((job) => !job.end.settled &&
      job.end.event.data.reason.toString() === 'Expired'), 'at the deadline both jobs expired');
    const bobAfter = (await api.query.system.account(bob.address)).data;
    const paid = bobBefore.free.toBigInt() - bobAfter.free.toBigInt();
    check(paid === stopped.fee, 'the submitter got its escrow back in full (only the fee is gone)');
    const slashes = [];
    for (let n = stopped.jobs[0].submittedBlock; n <= stopped.jobs[0].end.block; n += 1) {
      const at = await api.at(await api.rpc.chain.getBlockHash(n));
      for (const { event } of await at.query.system.events()) {
        if (api.events.workers.Slashed.is(event)) slashes.push(event);
      }
    }
    check(slashes.length === 2 && slashes.every((e) => e.data.reason.toString() === 'NoShow' &&
      e.data.worker.toHex() === workerKey), 'the worker was slashed once per missed job (NoShow)');

    await worker.start();
    say('the worker node restarted on its database');
    const resumed = await submitJobs(api, bob, [2, 3].map((image) => ({
      model: floatModel, input: digitInput('mlp_digits_f32', vectors.pixels[image]),
    })), 12);
    await followJobs(api, resumed.jobs, 180_000);
    check(resumed.jobs.every((job) => job.end.settled), 'after the restart new jobs settle');

    // Stopped the moment it has given its answers to the pool, and restarted at once: the
    // answers land once, whether the old transaction or its replacement carries them.
    const interrupted = await submitJobs(api, bob, [4, 5].map((image) => ({
      model: floatModel, input: digitInput('mlp_digits_f32', vectors.pixels[image]),
    })), 12);
    const ids = interrupted.jobs.map((job) => job.id).join(', ');
    const answered = `answered jobs [${ids}]`;
    const waitUntil = Date.now() + 60_000;
    while (!worker.log().includes(answered)) {
      if (Date.now() > waitUntil) fail(`the worker node never logged "${answered}"`);
      await sleep(50);
    }
    await worker.stop();
    const stoppedAt = await bestNumber(api);
    await worker.start();
    say(`the worker node was stopped right after answering jobs ${ids} (best block ` +
      `#${stoppedAt}) and restarted`);
    await followJobs(api, interrupted.jobs, 180_000);
    check(interrupted.jobs.every((job) => job.end.settled), `jobs ${ids} settled, each once`);
    // Every answer transaction of the worker key, from the first block on, succeeded: general
    // transactions, no signer.
    let failures = 0;
    let results = 0;
    const last = await bestNumber(api);
    for (let n = 1; n <= last; n += 1) {
      const hash = await api.rpc.chain.getBlockHash(n);
      const [block, events] = await Promise.all([
        api.rpc.chain.getBlock(hash), (await api.at(hash)).query.system.events()]);
      block.block.extrinsics.forEach((extrinsic, index) => {
        if (extrinsic.method.method !== 'submitResults') return;
        if (extrinsic.method.args[0].toHex() !== workerKey || extrinsic.isSigned) return;
        results += 1;
        if (events.some(({ phase, event }) => phase.isApplyExtrinsic &&
          phase.asApplyExtrinsic.toNumber() === index && api.events.system.ExtrinsicFailed.is(event))) {
          failures += 1;
        }
      });
    }
    check(results > 0 && failures === 0,
      `${results} answer transactions of the worker key, none failed: nothing answered twice`);

    await blockFillingAttack(api, { workerKey, model: floatModel, user: bob });
  } finally {
    host?.server.close();
    modelHost?.server.close();
    await worker.stop();
    await validator.stop();
    if (!process.env.VERITENSOR_KEEP_E2E) rmSync(dir, { recursive: true, force: true });
  }
}

// The block-filling attack alone, on a validator and worker node of its own.
async function attackOnly() {
  console.log('e2e: a block-filling attack on a worker\'s answers');
  const dir = mkdtempSync(join(tmpdir(), 'veritensor-e2e-'));
  const { validator, worker, api } = await workerNodes(dir);
  try {
    const [alice, bob, dave] = ['//Alice', '//Bob', '//Dave'].map((uri) => keyring().addFromUri(uri));
    const model = demoModels().mlp_digits_f32.hash;
    const { worker: workerKey, account } = await registerWorker(api, worker, dave,
      { bond: 5_000n * UNITS, models: [model], capacity: 8 }, say);
    // Funds for a worker node whose answers pay fees (as before answers were fee-free), so
    // that the attack alone decides the outcome on any version of the node.
    await send(api, api.tx.balances.transferKeepAlive(account, 100n * UNITS), alice);
    await blockFillingAttack(api, { workerKey, model, user: bob });
  } finally {
    await worker.stop();
    await validator.stop();
    if (!process.env.VERITENSOR_KEEP_E2E) rmSync(dir, { recursive: true, force: true });
  }
}

async function quorum() {
  console.log('e2e: quorums and audits with a byzantine worker (a validator and three worker nodes)');
  const latency = await quorumSuite(nodeBin, { say, check });
  const line = (name, l) => (l.count > 0
    ? `${name} P50 ${l.p50}, P95 ${l.p95} (max ${l.max}, ${l.count} jobs)`
    : `${name} none`);
  say(`submit-to-settled latency in blocks: ${line('k=1', latency.singleLatency)}; ` +
    `${line('k=3', latency.quorumLatency)}; ${line('audited, not audited', latency.unauditedLatency)}; ` +
    `${line('audited', latency.auditedLatency)}, of which ` +
    `${line('passed', latency.passedLatency)} and ` +
    `${line('escalated to referees', latency.escalatedLatency)}`);
}

async function validators() {
  console.log('e2e: the validator set, faults and an equivocation (four local validators, a fifth ' +
    'node that joins and leaves, a second node with Dave\'s keys)');
  const result = await validatorsSuite(nodeBin, { say, check });
  say(`from the motion to the fifth node's first block: ${result.motionToFirstBlockSeconds} s ` +
    `(session ${result.firstBlockSession} after the motion's)`);
  say(`finality stalled (watched ${result.stallSeconds} s) and resumed ${result.recoverySeconds} s ` +
    `after the restarts; the equivocation was slashed ${result.equivocationToSlashSeconds} s after ` +
    `the second node started (${result.slashedUnits} VTN, ${result.reporterRewardUnits} VTN to the reporter)`);
}

const only = process.argv[3];
const started = Date.now();
try {
  if (!only || only === 'demo') await demoFlow();
  if (!only || only === 'workers') await faultsAndRestart();
  if (!only || only === 'quorum') await quorum();
  if (!only || only === 'validators') await validators();
  if (only === 'attack') await attackOnly();
  console.log(`e2e: passed in ${Math.round((Date.now() - started) / 1000)} s`);
  process.exit(0);
} catch (error) {
  console.error(`e2e: FAILED: ${error.stack ?? error.message}`);
  process.exit(1);
}
