// End-to-end test of quorum jobs on real processes: a validator and three worker nodes of three
// operators, one of them byzantine. The byzantine node's executor sits behind a small HTTP proxy
// that changes every label the executor computes and recomputes the output hash, so the node's
// own checks pass and its worker key signs a wrong answer.
//
// 1. k = 3 jobs on both demo models, submitted over several blocks: each settles with the
//    honest answer (the recorded prediction), the byzantine member's answer is judged wrong
//    (its label is not the argmax of its own scores) and slashed when the dispute window ends,
//    when the honest members are paid exactly their price;
// 2. k = 1 jobs on the same chain, for the latency comparison (and to show what one worker's
//    word is worth with a byzantine worker among three);
// 3. an honest worker node killed (SIGKILL) the moment it has sent its commitments and
//    restarted: it reveals what it committed to, in time, and is paid;
// 4. audited jobs, once two more operators register a worker key each on the honest nodes (an
//    audit's worker, its auditor and three referees are five operators): 30 at the rate from
//    the slash (almost never audited), and 30 with the audit-rate floor at 100 % (every one
//    audited). Every audit the byzantine worker takes part in, as the worker or as the
//    auditor, is escalated to referees, who slash it; a user whose job it answered gets the
//    referees' honest answer for nothing; audits without it pass;
// 5. challenges of provisional k = 1 results: one against a wrong float result of the byzantine
//    worker wins (the referees overturn it, the worker is slashed with the bounty to the
//    challenger, the user is refunded and gets the honest answer), one against an honest
//    worker's float result loses (the result becomes final, the deposit pays the referees), and
//    one against a wrong result on the integer model, which the runtime runs itself, is
//    settled in its own block by the runtime's run: the worker slashed, the user refunded with
//    the exact answer, the challenger paying no fee.
//
// The integer demo model is listed through the council as one the runtime runs itself (its file
// and four conformance vectors on chain, pinned to the interpreter).
//
// Reports submit-to-settled latency in blocks (P50/P95) for k = 1, k = 3, and audited jobs
// (not audited, audited).
import {
  NodeProcess, UNITS, bestNumber, claimable, demoModels, digitInput, encodeTensors, fail, inline,
    followJobs, insertWorkerKey, integerModelSpec, keyring, listThroughCouncil, recordPid,
  registerWorker, send, sleep, slashesBetween, submitJobs, testVectors, waitForBlock, freePort,
  DEMO_MODELS, jobEventsUntil, testChainSpec,
} from './lib.mjs';
import { blake2AsHex } from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// SCALE-packed elements of an executor JSON output tensor.
function pack(tensor) {
  const width = { Bool: 1, U8: 1, I8: 1, I16: 2, I32: 4, I64: 8, F32: 4 }[tensor.elem];
  const data = new Uint8Array(width * tensor.values.length);
  const view = new DataView(data.buffer);
  tensor.values.forEach((value, i) => {
    if (width === 8) view.setBigInt64(8 * i, BigInt(value), true);
    else if (width === 4) view.setInt32(4 * i, Number(value), true);
    else if (width === 2) view.setInt16(2 * i, Number(value), true);
    else view.setUint8(i, Number(value) & 0xff);
  });
  return { elem: tensor.elem, shape: tensor.shape, fracBits: tensor.frac_bits, data };
}

// The canonical output hash (primitives/src/hashing.rs) of executor JSON outputs.
function outputHash(outputs) {
  return blake2AsHex(u8aConcat(stringToU8a('veritensor:output:v1'), encodeTensors(outputs.map(pack))));
}

// The integer demo model as one the runtime runs itself: pinned to the interpreter, proposed
// with its file and four conformance vectors (images 0-3 and the outputs ONNX Runtime recorded
// for them). Returns its spec and the owner's proposal.
function executableIntegerModel(api, vectors) {
  const spec = { ...integerModelSpec(), comparison: { ExactHash: { engine: 'Interpreter', version: '0.1.0' } } };
  // As hex: raw bytes given as a Uint8Array would be read as SCALE-encoded (length first).
  const artifact = u8aToHex(readFileSync(join(DEMO_MODELS, demoModels().mlp_digits_int.file)));
  const recorded = vectors.mlp_digits_int;
  const claims = [0, 1, 2, 3].map((i) => ({
    inputs: inline(digitInput('mlp_digits_int', vectors.pixels[i])).Inline,
    outputHash: outputHash([
      { elem: 'I64', shape: [1], frac_bits: 0, values: [recorded.labels[i]] },
      { elem: 'I32', shape: [1, 10], frac_bits: 0, values: recorded.logits[i] },
    ]),
  }));
  return { spec, propose: api.tx.models.proposeExecutable(spec, artifact, claims) };
}

// An HTTP proxy in front of the executor at `target` that turns every finished task's label
// into the next class and recomputes the output hash.
async function byzantineProxy(target) {
  const stats = { tampered: 0 };
  const server = createServer(async (request, response) => {
    try {
      const chunks = [];
      for await (const chunk of request) chunks.push(chunk);
      const headers = {};
      for (const name of ['content-type', 'authorization']) {
        if (request.headers[name]) headers[name] = request.headers[name];
      }
      const upstream = await fetch(`${target}${request.url}`, {
        method: request.method,
        headers,
        body: request.method === 'GET' ? undefined : Buffer.concat(chunks),
      });
      let text = await upstream.text();
      if (request.url.startsWith('/v1/tasks') && upstream.ok) {
        // One task's answer, or a batch's (`{"tasks": [...]}`) of many.
        const answer = JSON.parse(text);
        const tasks = Array.isArray(answer.tasks) ? answer.tasks : [answer];
        for (const task of tasks) {
          if (task.state === 'done' && task.result) {
            const label = task.result.outputs[0];
            label.values[0] = (Number(label.values[0]) + 1) % 10;
            task.result.output_hash = outputHash(task.result.outputs);
            stats.tampered += 1;
          }
        }
        text = JSON.stringify(answer);
      }
      response.writeHead(upstream.status, { 'content-type': 'application/json' });
      response.end(text);
    } catch (error) {
      response.writeHead(502);
      response.end(String(error));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}`, stats };
}

// A standalone executor (the workspace's `veritensor-executor serve`) with the demo models in
// its store.
async function standaloneExecutor(nodeBin, dir) {
  const store = join(dir, 'byzantine-store');
  mkdirSync(join(store, 'blake2-256'), { recursive: true });
  for (const model of Object.values(demoModels())) {
    copyFileSync(join(DEMO_MODELS, model.file), join(store, 'blake2-256', `${model.hash.slice(2)}.onnx`));
  }
  const port = await freePort();
  const proc = spawn(join(dirname(nodeBin), 'veritensor-executor'),
        ['serve', '--store', store, '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
  recordPid(proc.pid);
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      const health = await fetch(`${url}/health`);
      if (health.status < 500) break;
    } catch { /* not up yet */ }
    if (Date.now() > until) fail('the standalone executor did not start');
    await sleep(200);
  }
  return { proc, url };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function latencies(jobs) {
  if (jobs.length === 0) return { count: 0 };
  const blocks = jobs.map((job) => job.end.block - job.submittedBlock);
  return { p50: percentile(blocks, 50), p95: percentile(blocks, 95), max: Math.max(...blocks), count: blocks.length };
}

// Submits `count` jobs of `replicas` workers, alternating the two demo models, a few per block
// over consecutive blocks; returns them.
async function submitSpread(api, user, { replicas, count, perBlock, deadline, firstImage, models, audited }) {
  const vectors = testVectors();
  const jobs = [];
  for (let start = 0; start < count; start += perBlock) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + perBlock); i += 1) {
      const name = i % 2 === 0 ? 'mlp_digits_f32' : 'mlp_digits_int';
      const image = firstImage + i;
      batch.push({ model: models[name], name, image, audited, input: digitInput(name, vectors.pixels[image]) });
    }
    const submitted = await submitJobs(api, user, batch, deadline, 0n, replicas);
    jobs.push(...submitted.jobs);
  }
  return jobs;
}

function labelOf(output) {
  const tensor = output.asInline[0];
  return Number(new DataView(tensor.data.toU8a(true).buffer).getBigInt64(0, true));
}

export async function quorumSuite(nodeBin, { say, check }) {
  const dir = mkdtempSync(join(tmpdir(), 'veritensor-quorum-'));
  const started = [];
  let proxy;
  let executor;
  try {
    const spec = testChainSpec(nodeBin, dir);
    const validator = new NodeProcess(nodeBin, 'validator',
      ['--dev', '--chain', spec, '--base-path', join(dir, 'validator'), '--no-executor'], dir);
    started.push(validator);
    await validator.start();
    const api = await validator.connect();
    executor = await standaloneExecutor(nodeBin, dir);
    proxy = await byzantineProxy(executor.url);
    const bootnode = await validator.multiaddr();
    const workers = [];
    const keys = keyring();
    // The honest nodes hold a second key each, registered by two more operators for audits.
    const auditKeys = ['//AuditWorker0', '//AuditWorker1'];
    for (const [index, name] of ['honest-a', 'honest-b', 'byzantine'].entries()) {
      const base = join(dir, name);
      insertWorkerKey(nodeBin, ['--chain', spec, '--base-path', base], `//QuorumWorker${index}`);
      if (index < 2) insertWorkerKey(nodeBin, ['--chain', spec, '--base-path', base], auditKeys[index]);
      const executorArgs = name === 'byzantine'
        ? ['--executor-url', proxy.url]
        : ['--executor', 'embedded', '--executor-store', join(dir, `${name}-store`)];
      const node = new NodeProcess(nodeBin, name,
        ['--chain', spec, '--base-path', base, ...executorArgs, '--bootnodes', bootnode], dir);
      started.push(node);
      workers.push(node);
    }
    await Promise.all(workers.map((node) => node.start()));
    say(`a validator and three worker nodes; the byzantine one's executor is behind a proxy ` +
      `that changes every label and recomputes the output hash`);

    const [alice, bob, charlie, dave, eve, ferdie] =
      ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'].map((uri) => keys.addFromUri(uri));
    const models = demoModels();
    const floatModel = models.mlp_digits_f32.hash;
    const intModel = models.mlp_digits_int.hash;
    const executable = executableIntegerModel(api, testVectors());
    await listThroughCouncil(api, executable.spec, charlie, [alice, bob], () => {}, executable.propose);
    const stored = (await api.query.models.executables(intModel)).unwrap();
    check(stored.cost.toNumber() === 10_006,
      `the integer demo model is listed through the council as one the runtime runs itself ` +
      `(its vectors re-run at approval, cost ${stored.cost})`);

    // The byzantine operator bonds enough to stay drawn after every slash this test deals.
    const operators = [dave, ferdie, eve];
    const bonds = [5_000n * UNITS, 5_000n * UNITS, 12_000n * UNITS];
    const quorumKey = (i) => keys.addFromUri(`//QuorumWorker${i}`).publicKey;
    const hex = (bytes) => `0x${Buffer.from(bytes).toString('hex')}`;
    const registered = await Promise.all(workers.map((node, i) => registerWorker(api, node,
      operators[i], { bond: bonds[i], models: [floatModel, intModel], capacity: 40, key: hex(quorumKey(i)) })));
    const [honestA, honestB, byzantine] = registered.map((r) => r.worker);
    say(`three operators registered their workers (the byzantine one bonded ${bonds[2] / UNITS} VTN)`);
    const payees = [dave.address, ferdie.address, eve.address];
    const vectors = testVectors();
    const expected = (job) => vectors[job.name].labels[job.image];
    const perWorker = (await api.query.models.models(floatModel)).unwrap().spec.pricePerWorker.toBigInt();
    const intPerWorker = (await api.query.models.models(intModel)).unwrap().spec.pricePerWorker.toBigInt();
    if (perWorker !== intPerWorker) fail('the demo models are expected to pay workers alike');

    // 1. Quorums of three.
    const earnedBefore = await claimable(api, payees);
    const quorumJobs = await submitSpread(api, bob, {
      replicas: 3, count: 30, perBlock: 3, deadline: 30, firstImage: 0,
      models: { mlp_digits_f32: floatModel, mlp_digits_int: intModel },
    });
    say(`30 k=3 jobs submitted over ${new Set(quorumJobs.map((j) => j.submittedBlock)).size} blocks`);
    await followJobs(api, quorumJobs, 300_000);
    check(quorumJobs.every((job) => job.end.settled), 'every k=3 job settled');
    check(quorumJobs.every((job) => labelOf(job.end.output) === expected(job)),
      'every k=3 result is the honest answer (the recorded prediction)');
    const decisions = await Promise.all(quorumJobs.map(async (job) =>
      (await api.call.jobsApi.decision(job.id)).unwrap()));
    const verdictOf = (decision, worker) =>
      decision.verdicts.find(([w]) => w.toHex() === worker)[1].toString();
    check(decisions.every((d) => verdictOf(d, byzantine) === 'Wrong' &&
      verdictOf(d, honestA) === 'Agreed' && verdictOf(d, honestB) === 'Agreed'),
    'every decision: the honest members agreed, the byzantine one was wrong');
    check(proxy.stats.tampered >= 30, `the proxy changed ${proxy.stats.tampered} labels`);
    const disputeEnd = Math.max(...decisions.map((d) => d.disputeEnd.toNumber()));
    const quorumLatency = latencies(quorumJobs);

    // 2. Single workers, meanwhile (the dispute window runs).
    const singleJobs = await submitSpread(api, bob, {
      replicas: 1, count: 30, perBlock: 3, deadline: 20, firstImage: 100,
      models: { mlp_digits_f32: floatModel, mlp_digits_int: intModel },
    });
    await followJobs(api, singleJobs, 300_000);
    check(singleJobs.every((job) => job.end.settled), 'every k=1 job settled');
    const wrongSingles = singleJobs.filter((job) => labelOf(job.end.output) !== expected(job)).length;
    say(`k=1: ${wrongSingles} of 30 results carry the byzantine worker's wrong label, settled ` +
      `provisionally on its word (open to challenge for the dispute window)`);
    const singleLatency = latencies(singleJobs);

    // The slashes land when the dispute window ends, and the earnings held for the slashed
    // member's appeal accrue (the single-worker jobs above settled later: theirs are still held).
    await waitForBlock(api, disputeEnd + 1);
    const atDisputeEnd = await api.at(await api.rpc.chain.getBlockHash(disputeEnd));
    const earnedAfter = await claimable(atDisputeEnd, payees);
    const earned = payees.map((who) => earnedAfter[who] - earnedBefore[who]);
    check(earned[0] === 30n * perWorker && earned[1] === 30n * perWorker,
      `each honest operator earned exactly 30 × ${perWorker} when the windows ended (${earned[0]}, ${earned[1]})`);
    check(earned[2] === 0n, 'the byzantine operator earned nothing');
    const slashes = [];
    for (let n = quorumJobs[0].submittedBlock; n <= disputeEnd + 1; n += 1) {
      const at = await api.at(await api.rpc.chain.getBlockHash(n));
      for (const { event } of await at.query.system.events()) {
        if (api.events.workers.Slashed.is(event)) slashes.push({ block: n, event });
      }
    }
    const wrongResults = slashes.filter(({ event }) => event.data.worker.toHex() === byzantine &&
      event.data.reason.toString() === 'WrongResult');
    check(wrongResults.length === 30 && slashes.length === 30,
      `the byzantine worker was slashed once per k=3 job (${wrongResults.length}), nobody else`);
    check(wrongResults.every(({ block }) => block >= Math.min(...decisions.map((d) => d.disputeEnd.toNumber()))),
      'each slash was applied when its dispute window ended, not before');

    // 3. An honest worker node killed the moment it has sent its commitments, and restarted.
    const restartJobs = await submitSpread(api, bob, {
      replicas: 3, count: 2, perBlock: 2, deadline: 30, firstImage: 200,
      models: { mlp_digits_f32: floatModel, mlp_digits_int: intModel },
    });
    const node = workers[0];
    const ids = restartJobs.map((job) => job.id).join(', ');
    const until = Date.now() + 90_000;
    while (!node.log().includes(`committed jobs [${ids}]`)) {
      if (Date.now() > until) fail(`the worker node never logged "committed jobs [${ids}]"`);
      await sleep(50);
    }
    node.proc.kill('SIGKILL');
    await new Promise((resolve) => (node.exited ? resolve() : node.proc.once('exit', resolve)));
    const killedAt = await bestNumber(api);
    await node.start();
    say(`a worker node was killed (SIGKILL) right after committing to jobs ${ids} at #${killedAt}, ` +
      'and restarted on its database');
    await followJobs(api, restartJobs, 180_000);
    const restartDecisions = await Promise.all(restartJobs.map(async (job) =>
      (await api.call.jobsApi.decision(job.id)).unwrap()));
    check(restartJobs.every((job) => job.end.settled && labelOf(job.end.output) === expected(job)),
      `jobs ${ids} settled with the honest answer`);
    check(restartDecisions.every((d) => verdictOf(d, honestA) === 'Agreed'),
      'the restarted worker revealed what it had committed to, in time, and was paid');
    check(/revealed jobs/.test(node.log()), 'the restarted node logged its reveals');

    // 4. Audited jobs.
    const auditOperators = ['//AuditOperator0', '//AuditOperator1'].map((uri) => keys.addFromUri(uri));
    for (const operator of auditOperators) {
      await send(api, api.tx.balances.transferKeepAlive(operator.address, 20_000n * UNITS), alice);
    }
    await Promise.all(auditOperators.map((operator, i) => registerWorker(api, workers[i], operator, {
      bond: 5_000n * UNITS, models: [floatModel, intModel], capacity: 40,
      key: hex(keys.addFromUri(auditKeys[i]).publicKey),
    })));
    // More stake for the byzantine operator: it is drawn as the audited worker most of the time.
    await send(api, api.tx.workers.bondExtra(40_000n * UNITS), eve);
    say('two more operators registered a worker key each on the honest nodes; the byzantine ' +
      'operator bonded 40,000 VTN more');
    const setFloor = (parts) => send(api, api.tx.sudo.sudo(api.tx.parameters.setParameter(
      { Market: { AuditRateFloor: [null, parts] } })), alice);
    const rateOf = async () => (await api.call.jobsApi.auditRate(floatModel)).unwrap().toNumber();
    const naturalRate = await rateOf();
    const auditsFrom = await bestNumber(api);
    const unaudited = await submitSpread(api, bob, {
      replicas: 1, audited: true, count: 30, perBlock: 6, deadline: 40, firstImage: 300,
      models: { mlp_digits_f32: floatModel, mlp_digits_int: intModel },
    });
    await setFloor(1_000_000_000);
    if (await rateOf() !== 1_000_000_000) fail('the audit-rate floor did not take effect');
    const audited = await submitSpread(api, bob, {
      replicas: 1, audited: true, count: 30, perBlock: 6, deadline: 40, firstImage: 400,
      models: { mlp_digits_f32: floatModel, mlp_digits_int: intModel },
    });
    await setFloor(20_000_000);
    say(`60 audited jobs submitted: 30 at the rate from the slash (${naturalRate / 1e7} %), ` +
      '30 with the floor at 100 %');
    await followJobs(api, [...unaudited, ...audited], 600_000);
    const named = (job, method) => (job.trail ?? []).filter((e) => e.method === method);
    const decided = (job) => named(job, 'AuditDecided')[0]?.data;
    check(audited.every((job) => decided(job)?.audited.isTrue),
      'every job submitted with the floor at 100 % was audited');
    const skipped = unaudited.filter((job) => decided(job)?.audited.isFalse).length;
    say(`${skipped} of 30 jobs at the rate from the slash were not audited`);
    check(audited.every((job) => job.end.settled && labelOf(job.end.output) === expected(job)),
      'every audited job settled with the honest answer (the recorded prediction)');
    // The audited job's worker and its auditor, from the draw and the audit's decision.
    const partiesOf = (job) => [named(job, 'Assigned')[0].data.workers[0].toHex(),
      decided(job).auditor.unwrap().toHex()];
    const involved = audited.filter((job) => partiesOf(job).includes(byzantine));
    const asWorker = involved.filter((job) => partiesOf(job)[0] === byzantine);
    const refereed = (job) => named(job, 'Refereed')[0]?.data.outcome;
    check(asWorker.length > 0, `the byzantine worker answered ${asWorker.length} audited jobs`);
    check(involved.every((job) => named(job, 'Escalated').length === 1 && refereed(job)?.isDecided),
      `each of the ${involved.length} audits it took part in was escalated and decided by referees`);
    check(asWorker.every((job) => refereed(job).asDecided.upheld.isFalse &&
      job.end.event.data.cost.toBigInt() === 0n),
    'each job it answered was overturned: its user got the referees\' answer and paid nothing');
    check(audited.filter((job) => !involved.includes(job)).every((job) =>
      named(job, 'Escalated').length === 0 && named(job, 'AuditEnded')[0]?.data.checked.isTrue),
    'every audit without it passed without escalation');
    // Both batches: a job at the rate from the slash may be audited too.
    const all = [...unaudited, ...audited];
    const everyInvolved = all.filter((job) => decided(job)?.auditor.isSome &&
      partiesOf(job).includes(byzantine));
    // Each referee decision names whom it slashed; the chain's slashes say nobody else lost
    // anything for a wrong result meanwhile (the quorums' slashes above may still land: the
    // byzantine worker's).
    const slashedBy = (job) => (named(job, 'Refereed')[0]?.data.slashed ?? []).map(([w]) => w.toHex());
    check(everyInvolved.every((job) => slashedBy(job).length === 1 && slashedBy(job)[0] === byzantine) &&
      all.filter((job) => !everyInvolved.includes(job)).every((job) => named(job, 'Refereed').length === 0),
    `each of the ${everyInvolved.length} audits it took part in slashed it, and only it`);
    const auditSlashes = await slashesBetween(api, auditsFrom, Math.max(...all.map((j) => j.end.block)));
    const wrong = auditSlashes.filter((s) => s.reason === 'WrongResult');
    check(wrong.length >= everyInvolved.length && wrong.every((s) => s.worker === byzantine),
      `${wrong.length} WrongResult slashes meanwhile, all of the byzantine worker`);

    // 5. Challenges of provisional results.
    const challenged = await submitSpread(api, bob, {
      replicas: 1, count: 16, perBlock: 8, deadline: 20, firstImage: 430,
      models: { mlp_digits_f32: floatModel, mlp_digits_int: intModel },
    });
    await followJobs(api, challenged, 180_000);
    const workerOf = (job) => job.end.event.data.worker.toHex();
    const wrongOf = (name) => challenged.find((job) => job.name === name && job.end.settled &&
      workerOf(job) === byzantine && labelOf(job.end.output) !== expected(job));
    const wrongOne = wrongOf('mlp_digits_f32');
    const wrongInt = wrongOf('mlp_digits_int');
    const rightOne = challenged.find((job) => job.name === 'mlp_digits_f32' && job.end.settled &&
      workerOf(job) !== byzantine && labelOf(job.end.output) === expected(job));
    if (!wrongOne) fail('no float k=1 job was answered wrong by the byzantine worker');
    if (!wrongInt) fail('no integer k=1 job was answered wrong by the byzantine worker');
    const targets = [wrongOne, rightOne].filter(Boolean);
    const statusOf = async (job) => (await api.call.jobsApi.resultStatus(job.id)).unwrap();
    for (const job of targets) {
      const status = await statusOf(job);
      if (!status.isProvisional) fail(`job ${job.id}'s result is ${status.type}, not provisional`);
    }
    const claim = (job) => blake2AsHex(`the recorded prediction of image ${job.image}: ${expected(job)}`);
    const challengedAt = (await send(api, api.tx.utility.batchAll(targets.map((job) =>
      api.tx.jobs.challenge(job.id, claim(job)))), charlie)).blockHash;
    const challengeBlock = (await api.rpc.chain.getHeader(challengedAt)).number.toNumber();
    say(`charlie challenged job ${wrongOne.id} (the byzantine worker's wrong label)` +
      (rightOne ? ` and job ${rightOne.id} (an honest worker's right label)` : '') +
      ` at #${challengeBlock}, inside their dispute windows`);

    // A wrong result on the model the runtime runs itself: settled in the challenge's block.
    if (!(await statusOf(wrongInt)).isProvisional) fail(`job ${wrongInt.id}'s result is not provisional`);
    const recomputedIn = await send(api, api.tx.jobs.challenge(wrongInt.id, claim(wrongInt)), charlie);
    const recomputedBlock = (await api.rpc.chain.getHeader(recomputedIn.blockHash)).number.toNumber();
    const inBlock = (kind) => recomputedIn.events.filter((event) => kind.is(event) &&
      (event.data.job === undefined || event.data.job.toNumber() === wrongInt.id)).map((event) => event.data);
    const recomputed = inBlock(api.events.jobs.Recomputed)[0];
    const recomputedEnd = inBlock(api.events.jobs.ChallengeEnded)[0];
    const recomputedOverturn = inBlock(api.events.jobs.Overturned)[0];
    const intSlash = recomputedIn.events.find((event) => api.events.workers.Slashed.is(event) &&
      event.data.worker.toHex() === byzantine && event.data.reason.toString() === 'WrongResult');
    const fee = inBlock(api.events.transactionPayment.TransactionFeePaid)
      .find((paid) => paid.who.toString() === charlie.address);
    const intResult = (await api.call.jobsApi.result(wrongInt.id)).unwrap();
    check(recomputed?.upheld.isFalse && recomputedEnd?.won.isTrue && intSlash &&
      recomputedOverturn?.refunded.toBigInt() === wrongInt.end.event.data.cost.toBigInt() &&
      (await statusOf(wrongInt)).isRecomputed && labelOf(intResult.output) === expected(wrongInt) &&
      intResult.outputHash.toHex() === recomputed.outputHash.toHex(),
    `the challenge of job ${wrongInt.id} (integer model, the byzantine worker's wrong label) was ` +
      `settled in its own block #${recomputedBlock} by the runtime's run: the worker slashed ` +
      `${intSlash?.data.amount}, the user refunded all ${recomputedOverturn?.refunded} with the exact answer`);
    check(fee?.actualFee.toBigInt() === 0n && recomputedEnd.reward.toBigInt() === intSlash.data.reporterBounty.toBigInt(),
      `the challenger paid no fee for the run (${fee?.actualFee}) and earned the whole bounty ` +
      `(${recomputedEnd?.reward})`);
    const ended = (events, job) => events.find(({ event }) => api.events.jobs.ChallengeEnded.is(event) &&
      event.data.job.toNumber() === job.id);
    const events = await jobEventsUntil(api, challengeBlock,
      (seen) => targets.every((job) => ended(seen, job)), 180_000);
    const ofJob = (job, kind) => events.filter(({ event }) => kind.is(event) &&
      event.data.job?.toNumber() === job.id).map(({ event }) => event.data);
    const won = ended(events, wrongOne).event.data;
    const overturned = ofJob(wrongOne, api.events.jobs.Overturned)[0];
    // The slash lands with the referees' decision, in the block the challenge ends.
    const slash = events.find(({ event, block }) => api.events.workers.Slashed.is(event) &&
      block === ended(events, wrongOne).block && event.data.worker.toHex() === byzantine &&
      event.data.reason.toString() === 'WrongResult');
    const result = (await api.call.jobsApi.result(wrongOne.id)).unwrap();
    check(won.won.isTrue && overturned?.worker.toHex() === byzantine &&
      overturned.refunded.toBigInt() === wrongOne.end.event.data.cost.toBigInt() &&
      (await statusOf(wrongOne)).isOverturned && labelOf(result.output) === expected(wrongOne),
    `the challenge against the byzantine worker won: the result was overturned, the user got ` +
      `the honest label and all ${wrongOne.end.event.data.cost} it paid back`);
    const deposit = ofJob(wrongOne, api.events.jobs.Challenged)[0]?.deposit.toBigInt();
    check(slash && slash.event.data.reporterBounty.toBigInt() > 0n &&
      won.returned.toBigInt() === deposit && won.reward.toBigInt() > 0n &&
      won.reward.toBigInt() < slash.event.data.reporterBounty.toBigInt(),
    `the byzantine worker was slashed ${slash?.event.data.amount}; its bounty of ` +
      `${slash?.event.data.reporterBounty} paid the referees and rewarded the challenger ` +
      `${won.reward}, whose deposit of ${won.returned} came back whole`);
    if (rightOne) {
      const lost = ended(events, rightOne).event.data;
      check(lost.won.isFalse && lost.returned.toBigInt() === 0n &&
        (await statusOf(rightOne)).isFinal &&
        ofJob(rightOne, api.events.jobs.Finalized).length === 1,
      'the challenge against the honest worker lost: its result is final and the deposit paid ' +
        'the referees and the audit pool');
    } else {
      say('every k=1 job went to the byzantine worker: no honest result to challenge this run');
    }
    const unauditedLatency = latencies(unaudited.filter((job) => decided(job)?.audited.isFalse));
    const auditedLatency = latencies(audited);
    const passedLatency = latencies(audited.filter((job) => !involved.includes(job)));
    const escalatedLatency = latencies(involved);

    return {
      quorumLatency, singleLatency, wrongSingles, unauditedLatency, auditedLatency, passedLatency,
      escalatedLatency,
    };
  } finally {
    for (const node of started) await node.stop();
    proxy?.server.close();
    executor?.proc.kill('SIGINT');
    if (!process.env.VERITENSOR_KEEP_E2E) rmSync(dir, { recursive: true, force: true });
  }
}
