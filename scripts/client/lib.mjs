// What the client check, the demo and the end-to-end tests share: starting and stopping node
// processes, sending transactions, council motions, operators and workers, and jobs with
// digit images.
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import {
  compactAddLength, compactToU8a, hexToU8a, stringToU8a, u8aConcat, u8aToHex,
} from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { appendFileSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UNITS = 10n ** 12n;
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO_MODELS = join(REPO, 'executor', 'demo-models');

export function fail(message) {
  throw new Error(message);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function keyring() {
  return new Keyring({ type: 'sr25519' });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function portOpen(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

// A node process with its own RPC and P2P ports and log file. `args` come after the ports.
export class NodeProcess {
  constructor(nodeBin, name, args, logDir) {
    this.nodeBin = nodeBin;
    this.name = name;
    this.args = args;
    this.logDir = logDir ?? mkdtempSync(join(tmpdir(), 'veritensor-node-'));
    this.starts = 0;
  }

  // Starts the process and waits for its RPC port (ports are kept across restarts).
  async start(timeoutMs = 120_000) {
    this.rpcPort ??= await freePort();
    this.p2pPort ??= await freePort();
    this.starts += 1;
    this.logPath = join(this.logDir, `${this.name}-${this.starts}.log`);
    const log = openSync(this.logPath, 'w');
    this.exited = false;
    this.proc = spawn(this.nodeBin, [
      '--rpc-port', String(this.rpcPort), '--port', String(this.p2pPort),
      // Prometheus only where a test reads it.
      ...(this.args.includes('--prometheus-port') ? [] : ['--no-prometheus']),
      '--no-telemetry', '--no-mdns', ...this.args,
    ], { stdio: ['ignore', log, log] });
    this.proc.on('exit', () => { this.exited = true; });
    recordPid(this.proc.pid);
    const deadline = Date.now() + timeoutMs;
    while (!(await portOpen(this.rpcPort))) {
      if (this.exited) fail(`${this.name} exited at start; log ${this.logPath}`);
      if (Date.now() > deadline) fail(`${this.name} opened no RPC port; log ${this.logPath}`);
      await sleep(250);
    }
    return this;
  }

  async connect() {
    const provider = new WsProvider(`ws://127.0.0.1:${this.rpcPort}`, false);
    await provider.connect();
    this.api = await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
    return this.api;
  }

  rpc(method, params) {
    return rawRpc(this.rpcPort, method, params);
  }

  log() {
    try { return readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  // The node's libp2p address, for others' --bootnodes.
  async multiaddr() {
    const peerId = await this.rpc('system_localPeerId', []);
    return `/ip4/127.0.0.1/tcp/${this.p2pPort}/p2p/${peerId}`;
  }

  // Kills the process at once (SIGKILL), as a crash or a power cut would.
  async kill() {
    if (this.api) { await this.api.disconnect().catch(() => {}); this.api = undefined; }
    if (!this.proc || this.exited) return;
    const exited = new Promise((resolve) => this.proc.on('exit', resolve));
    this.proc.kill('SIGKILL');
    await exited;
  }

  // Disconnects the client and stops the process with SIGINT (SIGKILL after 30 s).
  async stop() {
    if (this.api) { await this.api.disconnect().catch(() => {}); this.api = undefined; }
    if (!this.proc || this.exited) return;
    this.proc.kill('SIGINT');
    await new Promise((resolve) => {
      const force = setTimeout(() => { this.proc.kill('SIGKILL'); resolve(); }, 30_000);
      this.proc.on('exit', () => { clearTimeout(force); resolve(); });
    });
  }
}

// Appends a started process's PID and start time (field 22 of /proc/PID/stat) to
// $VERITENSOR_PID_FILE (set by scripts/test.sh), so that the test command can stop exactly the
// processes its tests started if a test dies before stopping them.
export function recordPid(pid) {
  const file = process.env.VERITENSOR_PID_FILE;
  if (!file || !pid) return;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    appendFileSync(file, `${pid} ${started}\n`);
  } catch { /* the process is already gone: nothing to stop later */ }
}

// The development chain spec with a market the tests control: the float demo model listed and
// no worker (the dev preset also lists the integer model and registers the dev node's worker,
// which a validator started with --no-executor would hold and never answer with). Written into
// `dir`; returns its path, for `--chain`.
export function testChainSpec(nodeBin, dir) {
  const result = spawnSync(nodeBin, ['build-spec', '--chain', 'dev'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) fail(`build-spec failed: ${result.stderr}`);
  const spec = JSON.parse(result.stdout);
  const patch = spec.genesis?.runtimeGenesis?.patch;
  if (!patch?.models || !patch?.workers) fail('the dev chain spec has no models or workers patch');
  patch.models.models = patch.models.models.filter(([, model]) => model.metadata.name === 'mlp_digits_f32');
  // The float model is not one the runtime runs: no artifact stays stored.
  patch.models.executables = [];
  patch.workers = { operators: [], workers: [] };
  const path = join(dir, 'test-chain-spec.json');
  writeFileSync(path, JSON.stringify(spec));
  return path;
}

// Inserts a worker key into a (stopped) node's keystore with the node's `key insert`.
export function insertWorkerKey(nodeBin, chainArgs, suri) {
  const result = spawnSync(nodeBin,
    ['key', 'insert', ...chainArgs, '--key-type', 'vtwk', '--scheme', 'sr25519', '--suri', suri],
    { encoding: 'utf8' });
  if (result.status !== 0) fail(`key insert failed: ${result.stderr}`);
}

export async function rawRpc(port, method, params) {
  const response = await fetch(`http://127.0.0.1:${port}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await response.json();
  if (body.error) fail(`${method}: ${body.error.message}`);
  return body.result;
}

// Signs and sends `tx` (with `options` such as a tip); resolves with its events and block hash
// once it is in a block, rejects with the module error's name (`section.Name`) if it failed.
export function send(api, tx, signer, options = {}) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, options, ({ status, events, dispatchError }) => {
      if (!status.isInBlock) return;
      if (dispatchError) {
        if (dispatchError.isModule) {
          const { section, name } = api.registry.findMetaError(dispatchError.asModule);
          reject(new Error(`${section}.${name}`));
        } else {
          reject(new Error(dispatchError.toString()));
        }
        return;
      }
      resolve({ events: events.map(({ event }) => event), blockHash: status.asInBlock });
    }).catch(reject);
  });
}

// `call` as a general transaction: no signer, no nonce, no fee; the call authorizes itself (a
// worker's answers). Version byte 0x45 (general, format 5), extension version 0, then each
// transaction extension's explicit data, in order, at its default (an immortal era, nonce 0,
// tip 0), as the client types them (extensions it does not know carry no data).
export function generalTransaction(api, call) {
  const extensions = Object.values(api.registry.getSignedExtensionTypes())
    .map((type) => api.registry.createTypeUnsafe(type, []).toU8a());
  return u8aToHex(compactAddLength(u8aConcat(
    new Uint8Array([0x45, 0]), ...extensions, call.method.toU8a())));
}

// Sends `call` as a general transaction (through the raw RPC: the client's own extrinsic type
// would re-encode it); resolves like `send` once a block includes it.
export async function sendGeneral(api, call, timeoutBlocks = 10) {
  const transaction = generalTransaction(api, call);
  const hash = u8aToHex(blake2AsU8a(hexToU8a(transaction), 256));
  let next = (await bestNumber(api)) + 1;
  const submitted = await api._rpcCore.provider.send('author_submitExtrinsic', [transaction]);
  if (submitted !== hash) fail(`the node names the transaction ${submitted}, not ${hash}`);
  const last = next + timeoutBlocks;
  while (next <= last) {
    const best = await bestNumber(api);
    for (; next <= Math.min(best, last); next += 1) {
      const blockHash = await api.rpc.chain.getBlockHash(next);
      const [block, records] = await Promise.all([
        api.rpc.chain.getBlock(blockHash), (await api.at(blockHash)).query.system.events()]);
      // Found by its call (the client's extrinsic type re-encodes a general transaction, so
      // its hash of it differs); a call carrying a fresh signature is unique.
      const method = call.method.toHex();
      const index = block.block.extrinsics.findIndex((x) => x.method.toHex() === method);
      if (index < 0) continue;
      const events = records.filter(({ phase }) => phase.isApplyExtrinsic &&
        phase.asApplyExtrinsic.toNumber() === index).map(({ event }) => event);
      const failed = events.find((e) => api.events.system.ExtrinsicFailed.is(e));
      if (failed) fail(failed.data.dispatchError.toString());
      return { events, blockHash };
    }
    await sleep(500);
  }
  return fail(`the general transaction ${hash} is in none of ${timeoutBlocks} blocks`);
}

// `workerPair`'s answers to jobs, as the call `jobs.submitResults(worker, answers, signature)`,
// the batch signed as the job market checks it: sr25519 over blake2-256 of
// SCALE("veritensor:answers:v1", genesis hash, worker, answers).
export function answersCall(api, workerPair, answers) {
  const unsigned = api.tx.jobs.submitResults(workerPair.publicKey, answers, new Uint8Array(64));
  const payload = u8aConcat(
    compactAddLength(stringToU8a('veritensor:answers:v1')), api.genesisHash.toU8a(),
    workerPair.publicKey, unsigned.method.args[1].toU8a());
  const signature = workerPair.sign(blake2AsU8a(payload, 256));
  return api.tx.jobs.submitResults(workerPair.publicKey, answers, signature);
}

export async function expectError(api, tx, signer, expected) {
  try {
    await send(api, tx, signer);
  } catch (error) {
    if (error.message === expected) return;
    throw error;
  }
  fail(`expected ${expected}`);
}

export async function bestNumber(api) {
  return (await api.rpc.chain.getHeader()).number.toNumber();
}

export async function waitForBlock(api, number) {
  while ((await bestNumber(api)) < number) await sleep(1_000);
}

// SCALE of a list of fixed-point tensors, as primitives/src/hashing.rs defines it.
export function encodeTensors(tensors) {
  const ELEMENT = { Bool: 0, U8: 1, I8: 2, I16: 3, I32: 4, I64: 5, F32: 6 };
  const parts = [compactToU8a(tensors.length)];
  for (const t of tensors) {
    const shape = new Uint8Array(4 * t.shape.length);
    t.shape.forEach((dim, i) => new DataView(shape.buffer).setUint32(4 * i, dim, true));
    parts.push(new Uint8Array([ELEMENT[t.elem]]), compactToU8a(t.shape.length), shape,
      new Uint8Array([t.fracBits]), compactToU8a(t.data.length), t.data);
  }
  return u8aConcat(...parts);
}

export function inline(tensors) {
  return { Inline: tensors.map((t) => ({ ...t, data: u8aToHex(t.data) })) };
}

export function demoModels() {
  return JSON.parse(readFileSync(join(DEMO_MODELS, 'models.json'), 'utf8')).models;
}

export function testVectors() {
  return JSON.parse(readFileSync(join(DEMO_MODELS, 'test_vectors.json'), 'utf8'));
}

// One digit image (64 pixels, 0..16) as the input tensor of a demo model.
export function digitInput(modelName, pixels) {
  if (modelName === 'mlp_digits_int') {
    return [{ elem: 'U8', shape: [1, 64], fracBits: 0, data: Uint8Array.from(pixels) }];
  }
  const data = new Uint8Array(4 * 64);
  pixels.forEach((p, i) => new DataView(data.buffer).setInt32(4 * i, p << 8, true));
  return [{ elem: 'F32', shape: [1, 64], fracBits: 8, data }];
}

// The predicted label of a demo model's output payload (its first tensor, I64).
export function predictedLabel(output) {
  const tensor = output.asInline[0];
  return Number(new DataView(tensor.data.toU8a(true).buffer).getBigInt64(0, true));
}

// The integer demo model's registry entry.
export function integerModelSpec() {
  const model = demoModels().mlp_digits_int;
  return {
    artifactHash: model.hash,
    artifactSize: model.bytes,
    format: 'Onnx',
    schema: {
      inputs: [{ name: 'pixels', elem: 'U8', shape: [1, 64], fracBits: 0 }],
      outputs: [
        { name: 'label', elem: 'I64', shape: [1], fracBits: 0 },
        { name: 'logits', elem: 'I32', shape: [1, 10], fracBits: 0 },
      ],
    },
    // The label must be the argmax of the worker's own logits; integer logits agree exactly.
    comparison: { PerOutput: [{ ArgMaxOf: 1 }, 'Exact'] },
    pricePerWorker: 10n * UNITS / 1000n,
    ownerRoyalty: UNITS / 1000n,
    uris: ['https://raw.githubusercontent.com/veritensor/veritensor/main/executor/demo-models/mlp_digits_int.onnx'],
    metadata: {
      name: 'mlp_digits_int',
      description: { Text: 'Integer-only handwritten digit classifier (64-64-10 MLP, int8 weights).' },
      licence: 'Apache-2.0',
    },
    supersedes: null,
  };
}

// `owner` proposes `spec`; council members pass a motion approving it: the first opens it,
// both vote aye, and the first closes it.
// `propose` is the owner's proposal: `models.propose(spec)` unless given (a model the runtime
// runs itself is proposed with `models.proposeExecutable`).
export async function listThroughCouncil(api, spec, owner, [opener, seconder], say = () => {},
  propose = api.tx.models.propose(spec)) {
  await send(api, propose, owner);
  say(`${spec.metadata.name}: proposed by its owner, deposit held`);
  const closed = await councilMotion(api, api.tx.models.approve(spec.artifactHash),
    [opener, seconder], `models.approve(${spec.artifactHash.slice(0, 10)}…)`, say);
  if (!closed.events.some((e) => api.events.models.Listed.is(e))) fail('no Listed event');
  say(`motion closed and executed: ${spec.metadata.name} listed`);
}

// Passes `call` through a council motion: `opener` proposes it with a threshold of two and
// votes aye, `seconder` votes aye (two of three members: a majority), `opener` closes it.
// Resolves with the closing transaction's events and block hash; fails unless the call ran.
export async function councilMotion(api, call, [opener, seconder], label, say = () => {}) {
  const length = call.method.encodedLength;
  const { events } = await send(api, api.tx.council.propose(2, call, length), opener);
  const proposed = events.find((e) => api.events.council.Proposed.is(e));
  if (!proposed) fail('no council Proposed event');
  const { proposalIndex, proposalHash } = proposed.data;
  say(`council motion #${proposalIndex} opened: ${label}`);
  await send(api, api.tx.council.vote(proposalHash, proposalIndex, true), opener);
  await send(api, api.tx.council.vote(proposalHash, proposalIndex, true), seconder);
  say('two ayes of three members: a majority');
  // The weight bound must cover what the call declares (for a model the runtime runs itself,
  // its largest check): read it from the node rather than guess.
  const { weight } = await call.paymentInfo(opener);
  const closed = await send(api,
    api.tx.council.close(proposalHash, proposalIndex, weight, length), opener);
  const executed = closed.events.find((e) => api.events.council.Executed.is(e));
  if (!executed || executed.data.result.isErr) fail(`the motion did not execute: ${executed?.data.result}`);
  return closed;
}

// `operator` bonds and registers the worker key the node at `rpcPort` holds (its first vtwk
// key) for `models`; resolves once the worker is eligible.
// Bonds `operator` and registers a worker key of `node` (the one given as `key`, a public key
// in hex, or its first) for `models`; waits until it is eligible.
export async function registerWorker(api, node, operator, { bond, models, capacity, key }, say = () => {}) {
  await send(api, api.tx.workers.bond(bond), operator);
  const proofs = await node.rpc('veritensor_workerKeyProofs', [operator.address]);
  if (proofs.length < 1) fail('the worker node holds no worker key');
  const picked = key ? proofs.find((p) => p.worker.toLowerCase() === key.toLowerCase()) : proofs[0];
  if (!picked) fail(`the worker node does not hold key ${key}`);
  const { worker, account, proof } = picked;
  const { events } = await send(api, api.tx.workers.register(worker, proof, models, capacity), operator);
  const registered = events.find((e) => api.events.workers.Registered.is(e));
  if (!registered) fail('no Registered event');
  const from = registered.data.from.toNumber();
  say(`operator bonded ${bond / UNITS} VTN and registered worker ${worker.slice(0, 10)}… ` +
    `(account ${account.slice(0, 8)}…), eligible from #${from}`);
  await waitForBlock(api, from);
  const info = (await api.call.workersApi.worker(worker)).unwrap();
  if (!info.eligible.isTrue) fail(`the worker is not eligible at #${from}`);
  return { worker, account };
}

// The fees and tips `events` (of one transaction) say were paid.
export function feesOf(api, events) {
  return events.filter((e) => api.events.transactionPayment.TransactionFeePaid.is(e))
    .reduce((sum, e) => sum + e.data.actualFee.toBigInt(), 0n); // the tip included
}

// The slashes in blocks `from` to `to`: worker key (hex), reason and amount, with the block.
export async function slashesBetween(api, from, to) {
  const slashes = [];
  for (let n = from; n <= to; n += 1) {
    const at = await api.at(await api.rpc.chain.getBlockHash(n));
    for (const { event } of await at.query.system.events()) {
      if (!api.events.workers.Slashed.is(event)) continue;
      slashes.push({ block: n, worker: event.data.worker.toHex(), reason: event.data.reason.toString(),
        amount: event.data.amount.toBigInt() });
    }
  }
  return slashes;
}

// The job-market events of blocks `from`… as they come, until `done(events)` holds; returns them
// (each with its block).
export async function jobEventsUntil(api, from, done, timeoutMs) {
  const events = [];
  const deadline = Date.now() + timeoutMs;
  let next = from;
  while (!done(events)) {
    if (Date.now() > deadline) fail(`the awaited events did not come within ${timeoutMs / 1000} s`);
    const best = await bestNumber(api);
    for (; next <= best && !done(events); next += 1) {
      const at = await api.at(await api.rpc.chain.getBlockHash(next));
      for (const { event } of await at.query.system.events()) {
        if (event.section === 'jobs' || event.section === 'workers') events.push({ block: next, event });
      }
    }
    await sleep(500);
  }
  return events;
}

// Submits one job per input in one utility.batchAll from `user` (tipping `tip`), each run by
// `replicas` workers (a job's own `replicas` overrides it), audited if the job says `audited`;
// returns the jobs with their submission block and time.
export async function submitJobs(api, user, jobs, deadline, tip = 0n, replicas = 1) {
  const calls = [];
  for (const job of jobs) {
    const terms = { replicas: job.replicas ?? replicas, audited: job.audited ?? false };
    const cost = (await api.call.jobsApi.quoteTerms(job.model, terms)).unwrap().toBigInt();
    calls.push(api.tx.jobs.submit(job.model, inline(job.input), terms, cost, deadline));
  }
  const sentAt = Date.now();
  const { events, blockHash } = await send(api, api.tx.utility.batchAll(calls), user, { tip });
  const block = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();
  const blockTime = (await (await api.at(blockHash)).query.timestamp.now()).toNumber();
  const submitted = events.filter((e) => api.events.jobs.Submitted.is(e));
  if (submitted.length !== jobs.length) fail(`${submitted.length} of ${jobs.length} jobs submitted`);
  return {
    fee: feesOf(api, events),
    jobs: submitted.map((e, i) => ({
      ...jobs[i],
      id: e.data.job.toNumber(),
      escrow: e.data.escrow.toBigInt(),
      cost: e.data.cost.toBigInt(),
      submittedBlock: block,
      submittedBlockTime: blockTime,
      sentAt,
    })),
  };
}

// Follows `jobs` block by block until each is settled or refunded (or `timeoutMs` passes),
// noting on each job its end: block, block timestamp, wall time, event, and for a settled job
// its output as stored in the block (events carry only its hash). `progress` is called once per
// new block.
export async function followJobs(api, jobs, timeoutMs, progress = () => {}) {
  const byId = new Map(jobs.map((job) => [job.id, job]));
  const ended = () => jobs.filter((job) => job.end).length;
  const deadline = Date.now() + timeoutMs;
  let next = Math.min(...jobs.map((job) => job.submittedBlock)) + 1;
  while (ended() < jobs.length) {
    if (Date.now() > deadline) {
      fail(`${jobs.length - ended()} jobs still open after ${timeoutMs / 1000} s`);
    }
    const best = await bestNumber(api);
    for (; next <= best; next += 1) {
      const at = await api.at(await api.rpc.chain.getBlockHash(next));
      const [events, blockTime] = await Promise.all([at.query.system.events(), at.query.timestamp.now()]);
      for (const { event } of events) {
        // Every job-market event naming a followed job, in order: the job's trail.
        if (event.section === 'jobs' && event.data.names?.includes('job')) {
          const followed = byId.get(event.data.job.toNumber());
          if (followed) (followed.trail ??= []).push({ block: next, method: event.method, data: event.data });
        }
        const settled = api.events.jobs.Settled.is(event);
        if (!settled && !api.events.jobs.Refunded.is(event)) continue;
        const job = byId.get(event.data.job.toNumber());
        if (!job) continue;
        if (job.end) fail(`job ${job.id} ended twice`);
        const output = settled ? (await at.query.jobs.results(job.id)).unwrap().output : undefined;
        job.end = { block: next, blockTime: blockTime.toNumber(), at: Date.now(), settled, event, output };
      }
      progress(next, ended(), jobs.length);
    }
    await sleep(500);
  }
}

// Waits until the provisional results of the settled `jobs` (one worker's word each) are final:
// their dispute window over, their earnings accrued. Returns the block it waited for.
export async function waitForFinal(api, jobs) {
  const until = Math.max(0, ...jobs.filter((job) => job.end?.settled)
    .map((job) => job.end.event.data.provisionalUntil)
    .filter((until) => until.isSome)
    .map((until) => until.unwrap().toNumber()));
  await waitForBlock(api, until);
  return until;
}

// Claimable earnings of each of `accounts`, keyed by account.
export async function claimable(api, accounts) {
  const result = {};
  for (const account of accounts) {
    const value = await api.query.jobs.claimable(account);
    result[account] = value.isSome ? value.unwrap().toBigInt() : 0n;
  }
  return result;
}

export function escrowHeld(holds) {
  return holds.filter((h) => h.id.toString().includes('JobEscrow'))
    .reduce((sum, h) => sum + h.amount.toBigInt(), 0n);
}

export function formatUnits(amount) {
  const whole = amount / UNITS;
  const fraction = (amount % UNITS).toString().padStart(12, '0').replace(/0+$/, '');
  return `${whole}${fraction ? '.' + fraction : ''} VTN`;
}
