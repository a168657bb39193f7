// Starts a Veritensor dev node (on the dev chain spec without its genesis worker), connects
// @polkadot/api to it over WebSocket, reads the runtime metadata and some genesis state, and
// checks what a dApp would rely on. Then it walks through
// an operator's first steps on the real chain: the node signs a proof of possession for its
// worker key, Alice lists a model (sudo approves), bonds, and registers the worker, which
// becomes eligible after the eligibility delay; Bob cannot register Alice's key. Exits non-zero
// on any failure and always stops the node it started.
//
//   node check.mjs <path to veritensor-node>
import { blake2AsU8a } from '@polkadot/util-crypto';
import { hexToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NodeProcess, answersCall, encodeTensors, expectError, fail, keyring, rawRpc, testChainSpec,
  send as sendWithBlock, sendGeneral, waitForBlock,
} from './lib.mjs';

const TIMEOUT_MS = 180_000;
const nodeBin = process.argv[2];
if (!nodeBin) {
  console.error('usage: node check.mjs <path to veritensor-node>');
  process.exit(2);
}

// The events of `tx` once it is in a block.
async function send(api, tx, signer) {
  return (await sendWithBlock(api, tx, signer)).events;
}

async function operatorFlow(api, port) {
  const keys = keyring();
  const alice = keys.addFromUri('//Alice');
  const bob = keys.addFromUri('//Bob');
  const UNITS = 10n ** 12n;

  // The dev node holds Alice's worker key; it signs the proof of possession for Alice.
  const proofs = await rawRpc(port, 'veritensor_workerKeyProofs', [alice.address]);
  if (proofs.length !== 1) fail(`the dev keystore has ${proofs.length} worker keys`);
  const { worker, account, proof } = proofs[0];
  console.log(`  worker key ${worker.slice(0, 10)}… (account ${account}) with its proof`);

  const model = '0x' + '42'.repeat(32);
  const spec = {
    artifactHash: model,
    artifactSize: 12_345,
    format: 'Onnx',
    schema: {
      inputs: [{ name: 'input', elem: 'F32', shape: [1, 64], fracBits: 16 }],
      outputs: [{ name: 'label', elem: 'I64', shape: [1], fracBits: 0 }],
    },
        comparison: { PerOutput: ['Exact'] },
    pricePerWorker: UNITS,
    ownerRoyalty: UNITS / 10n,
    uris: ['https://models.example/digits.onnx'],
    metadata: { name: 'digits', description: { Text: 'client check' }, licence: 'MIT' },
    supersedes: null,
  };
  await send(api, api.tx.models.propose(spec), alice);
  await send(api, api.tx.sudo.sudo(api.tx.models.approve(model)), alice);
  await send(api, api.tx.workers.bond(5_000n * UNITS), alice);
  await send(api, api.tx.workers.bond(2_000n * UNITS), bob);
  console.log('  model listed by sudo; Alice bonded 5,000 VTN, Bob 2,000 VTN');

  // A proof made out to Alice is worthless to Bob.
  await expectError(api, api.tx.workers.register(worker, proof, [model], 1), bob,
    'workers.BadPossessionProof');
  const events = await send(api, api.tx.workers.register(worker, proof, [model], 10), alice);
  const registered = events.find((e) => api.events.workers.Registered.is(e));
  if (!registered) fail('no Registered event');
  const from = registered.data.from.toNumber();
  // Once registered, the key is Alice's worker, whatever proof Bob brings.
  const bobsProof = (await rawRpc(port, 'veritensor_workerKeyProofs', [bob.address]))[0].proof;
  await expectError(api, api.tx.workers.register(worker, bobsProof, [model], 1), bob,
    'workers.AlreadyRegistered');
  console.log(`  Alice registered the worker (eligible from #${from}); Bob could not take the key`);

  const early = (await api.call.workersApi.worker(worker)).unwrap();
  if ((await api.rpc.chain.getHeader()).number.toNumber() < from && early.eligible.isTrue) {
    fail('the worker is eligible before the delay');
  }
  await waitForBlock(api, from);
  const info = (await api.call.workersApi.worker(worker)).unwrap();
  if (!info.eligible.isTrue) fail(`the worker is not eligible at #${from}`);
  if (info.capacity.toNumber() !== 10) fail(`capacity ${info.capacity}`);
  const candidates = await api.call.workersApi.candidates(model);
  if (candidates.length !== 1 || candidates[0].operator.toString() !== alice.address) {
    fail(`candidates: ${JSON.stringify(candidates.toHuman())}`);
  }
  console.log(`  at #${from} the worker is eligible: the only candidate for the model, ` +
    `stake ${candidates[0].stake.toBigInt() / UNITS} VTN`);
  return { worker, model };
}

// Bob submits a job; the dev worker (Alice's key, which this script also derives from //Alice)
// answers with a signed receipt; the chain settles it.
async function jobFlow(api, worker, model) {
  const keys = keyring();
  const alice = keys.addFromUri('//Alice');
  const bob = keys.addFromUri('//Bob');

  const cost = (await api.call.jobsApi.quote(model, 1)).unwrap().toBigInt();
  const pixels = new Uint8Array(256);
  for (let i = 0; i < 64; i++) new DataView(pixels.buffer).setInt32(4 * i, (i % 17) << 16, true);
  const input = [{ elem: 'F32', shape: [1, 64], fracBits: 16, data: pixels }];
  const submitted = (await send(api,
    api.tx.jobs.submit(model, { Inline: input.map((t) => ({ ...t, data: u8aToHex(t.data) })) },
      { replicas: 1, audited: false }, cost, 20), bob)).find((e) => api.events.jobs.Submitted.is(e));
  if (!submitted) fail('no Submitted event');
  const job = submitted.data.job.toNumber();
  const assignAt = submitted.data.assignAt.toNumber();
  console.log(`  Bob submitted job ${job} for ${cost} (quote), drawn at #${assignAt}`);

  await waitForBlock(api, assignAt);
  const record = (await api.call.jobsApi.job(job)).unwrap();
  if (!record.state.isAssigned) fail(`job ${job} is not assigned: ${record.state.type}`);
  const assigned = record.state.asAssigned.workers.map((w) => w.toHex());
  if (assigned.length !== 1 || assigned[0] !== worker) fail(`assigned to ${assigned}`);
  const open = (await api.call.jobsApi.openAssignments(worker)).map((j) => j.toNumber());
  if (!open.includes(job)) fail('the assignment is missing from openAssignments');

  const label = new Uint8Array(8);
  new DataView(label.buffer).setBigInt64(0, 7n, true);
  const output = [{ elem: 'I64', shape: [1], fracBits: 0, data: label }];
  const outputHash = blake2AsU8a(u8aConcat(stringToU8a('veritensor:output:v1'), encodeTensors(output)));
  const jobId = new Uint8Array(8);
  new DataView(jobId.buffer).setBigUint64(0, BigInt(job), true);
  const receipt = u8aConcat(
    stringToU8a('veritensor:receipt:v1'), api.genesisHash.toU8a(), jobId, hexToU8a(model),
    record.inputHash.toU8a(), outputHash, hexToU8a(worker));
  const signature = u8aToHex(alice.sign(receipt));
  const answer = {
    job,
    answer: { Output: { output: { Inline: output.map((t) => ({ ...t, data: u8aToHex(t.data) })) }, signature } },
  };
  // The worker's answers travel as a general transaction, signed inside by the worker key.
  const settled = (await sendGeneral(api, answersCall(api, alice, [answer])))
    .events.find((e) => api.events.jobs.Settled.is(e));
  if (!settled) fail('no Settled event');
  if (settled.data.outputHash.toHex() !== u8aToHex(outputHash)) fail('output hash differs');
  if (settled.data.cost.toBigInt() !== cost) fail(`settled for ${settled.data.cost}, quoted ${cost}`);

  const holds = await api.query.balances.holds(bob.address);
  if (holds.some((h) => h.id.toString().includes('JobEscrow') && !h.amount.isZero())) {
    fail('escrow still held after settlement');
  }
  const result = (await api.call.jobsApi.result(job)).unwrap();
  if (!result.singleWorker.isTrue) fail('the result is not marked single-worker');
  // One worker's word: provisional, its earnings held until the dispute window ends.
  const status = (await api.call.jobsApi.resultStatus(job)).unwrap();
  if (!status.isProvisional) fail(`the result is ${status.type}, not provisional`);
  if ((await api.query.jobs.claimable(alice.address)).isSome) fail('earnings accrued at once');
  const until = status.asProvisional.until.toNumber();
  if (settled.data.provisionalUntil.unwrap().toNumber() !== until) fail('the window differs');
  console.log(`  job ${job} settled at cost ${cost}: label 7 signed by the worker, ` +
    `escrow released, provisional until #${until} with its earnings held`);
}

// The dev chain without its genesis worker: this check registers the node's key itself.
const specDir = mkdtempSync(join(tmpdir(), 'veritensor-check-'));
const node = new NodeProcess(nodeBin, 'check', ['--dev', '--chain', testChainSpec(nodeBin, specDir), '--tmp']);
const deadline = setTimeout(() => {
  console.error(`client check: timed out after ${TIMEOUT_MS / 1000} s; node log: ${node.logPath}`);
  node.proc?.kill('SIGKILL');
  process.exit(1);
}, TIMEOUT_MS);

let ok = false;
try {
  await node.start(TIMEOUT_MS);
  console.log(`client check: dev node on ws://127.0.0.1:${node.rpcPort}, log ${node.logPath}`);
  const api = await node.connect();
  const rpcPort = node.rpcPort;

  const version = api.runtimeVersion;
  if (version.specName.toString() !== 'veritensor') fail(`specName is ${version.specName}`);
  console.log(`  runtime ${version.specName} v${version.specVersion.toNumber()}, ` +
    `metadata v${api.runtimeMetadata.version}`);

  const pallets = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
  for (const name of ['System', 'Timestamp', 'Babe', 'Grandpa', 'Balances', 'TransactionPayment',
    'Utility', 'Council', 'Treasury', 'Sudo', 'Models', 'Workers']) {
    if (!pallets.includes(name)) fail(`pallet ${name} missing from metadata: ${pallets.join(', ')}`);
  }
  console.log(`  pallets: ${pallets.join(', ')}`);

  const members = (await api.query.council.members()).map((m) => m.toString());
  if (members.length !== 3) fail(`council has ${members.length} members`);
  const alice = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
  if (!members.includes(alice)) fail('Alice is not on the council');
  const sudoKey = (await api.query.sudo.key()).toString();
  if (sudoKey !== alice) fail(`sudo key is ${sudoKey}`);
  const { data } = await api.query.system.account(alice);
  if (data.free.isZero()) fail('Alice has no balance');
  console.log(`  council: ${members.length} members; Alice free balance ${data.free.toString()}`);

  const props = await api.rpc.system.properties();
  if (props.tokenSymbol.unwrap()[0].toString() !== 'VTN') fail('token symbol is not VTN');

  const header = await new Promise((resolve) => {
    let unsubscribe;
    api.rpc.chain.subscribeNewHeads((h) => {
      if (h.number.toNumber() >= 1) { unsubscribe?.(); resolve(h); }
    }).then((u) => { unsubscribe = u; });
  });
  console.log(`  new head #${header.number.toNumber()} received over the subscription`);

  const { worker, model } = await operatorFlow(api, rpcPort);
  await jobFlow(api, worker, model);
  ok = true;
} catch (error) {
  console.error(`client check failed: ${error.message}`);
  console.error(node.log().split('\n').slice(-20).join('\n'));
} finally {
  clearTimeout(deadline);
  await node.stop();
}
if (ok) rmSync(node.logDir, { recursive: true, force: true });
rmSync(specDir, { recursive: true, force: true });
console.log(ok ? 'client check: passed' : `client check: FAILED (node log kept in ${node.logPath})`);
process.exit(ok ? 0 : 1);
