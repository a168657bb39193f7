// Load benchmark: one development node (authoring and answering, embedded executor) takes a
// flood of digit jobs and then a flood of balance transfers, and reports per block what it
// took, how long authoring took, and how fast jobs settled.
//
//   node bench-load.mjs <path to veritensor-node> [--workers 16] [--jobs 2000] [--accounts 20]
//                       [--transfers 3000] [--deadline 30] [--executor-max-tasks N]
//
// 1. A development chain with the float digits model listed and no worker; W worker keys made
//    in the node's keystore, each bonded and registered (capacity 256) by an operator of its own.
// 2. J jobs (one digit image each, one worker) signed ahead by A accounts and sent at once.
// 3. Once the jobs' results are final (their dispute window over, so that no job work is left
//    in the hooks), T balance transfers signed ahead by the same accounts and sent at once.
// Per block: transactions that failed in the block (by call and error), jobs submitted,
// assigned, settled (refunded), transfers, weight used per class (ms of reference time; answers
// are operational, hooks mandatory), the node's authoring time and why authoring ended (its
// "Prepared block" log line). Then the peak and the best five-block average of settled jobs,
// submit-to-settled latency in blocks from the block that included the submission (P50, P95,
// max) and transfers per block at their peak.
import {
  NodeProcess, UNITS, bestNumber, demoModels, digitInput, fail, inline, keyring, registerWorker,
  send, sleep, testChainSpec, testVectors,
} from './lib.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [nodeBin, ...rest] = process.argv.slice(2);
if (!nodeBin) {
  console.error('usage: node bench-load.mjs <path to veritensor-node> [--workers W] [--jobs J] ' +
    '[--accounts A] [--transfers T] [--deadline BLOCKS] [--executor-max-tasks N]');
  process.exit(2);
}
function option(name, fallback) {
  const at = rest.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(rest[at + 1]);
  if (!Number.isInteger(value) || value < 1) fail(`--${name} takes a positive integer`);
  return value;
}
const WORKERS = option('workers', 16);
const JOBS = option('jobs', 2000);
const ACCOUNTS = option('accounts', 20);
const TRANSFERS = option('transfers', 3000);
const DEADLINE = option('deadline', 30);
// The embedded executor's task table (the node's default unless given): smaller than the keys'
// capacity, it shows how the node behaves when the executor has no room for every open job.
const EXECUTOR_MAX_TASKS = option('executor-max-tasks', undefined);
const CAPACITY = 256;
// Covers the capacity's exposure (100 VTN of slash per assigned job) above the minimum bond.
const BOND = (1_000n + 100n * BigInt(CAPACITY)) * UNITS;
const say = (message) => console.log(message);

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : NaN;
}

// Signs `count` transactions made by `make(i)`, spread over `signers` with consecutive nonces.
async function signAhead(api, signers, count, make) {
  const nonces = await Promise.all(signers.map(async (s) =>
    (await api.rpc.system.accountNextIndex(s.address)).toNumber()));
  const signed = [];
  for (let i = 0; i < count; i += 1) {
    const who = i % signers.length;
    const tx = make(i);
    await tx.signAsync(signers[who], { nonce: nonces[who], era: 0 });
    nonces[who] += 1;
    signed.push(tx.toHex());
    if ((i + 1) % 500 === 0) say(`  signed ${i + 1} of ${count}`);
  }
  return signed;
}

// Sends signed transactions at once (many in flight); returns how many the pool refused.
async function flood(api, transactions) {
  let refused = 0;
  const provider = api._rpcCore.provider;
  for (let i = 0; i < transactions.length; i += 250) {
    const chunk = transactions.slice(i, i + 250);
    const results = await Promise.allSettled(chunk.map((tx) => provider.send('author_submitExtrinsic', [tx])));
    refused += results.filter((r) => r.status === 'rejected').length;
  }
  return refused;
}

// What block `number` holds: job and transfer counts, normal weight used, settled jobs' ids.
async function blockStats(api, number) {
  const hash = await api.rpc.chain.getBlockHash(number);
  const at = await api.at(hash);
  const [events, weight, block] = await Promise.all([
    at.query.system.events(), at.query.system.blockWeight(), api.rpc.chain.getBlock(hash)]);
  const ms = (weight) => weight.refTime.toBigInt() / 1_000_000_000n;
  const stats = { number, submitted: [], assigned: 0, settled: [], refunded: 0,
    transfers: 0, failed: [], provisionalUntil: 0, extrinsics: block.block.extrinsics.length,
    normalMs: ms(weight.normal), operationalMs: ms(weight.operational), mandatoryMs: ms(weight.mandatory) };
  for (const { event, phase } of events) {
    if (api.events.jobs.Submitted.is(event)) stats.submitted.push(event.data.job.toNumber());
    else if (api.events.jobs.Assigned.is(event)) stats.assigned += 1;
    else if (api.events.jobs.Settled.is(event)) {
      stats.settled.push(event.data.job.toNumber());
      const until = event.data.provisionalUntil;
      if (until.isSome) stats.provisionalUntil = Math.max(stats.provisionalUntil, until.unwrap().toNumber());
    } else if (api.events.jobs.Refunded.is(event)) stats.refunded += 1;
    else if (api.events.balances.Transfer.is(event)) stats.transfers += 1;
    else if (api.events.system.ExtrinsicFailed.is(event)) {
      // Named by the failed call and its error: `jobs.submit: jobs.AssignmentQueueFull`.
      const { method } = block.block.extrinsics[phase.asApplyExtrinsic.toNumber()];
      const error = event.data.dispatchError;
      let reason = error.type;
      if (error.isModule) {
        const { section, name } = api.registry.findMetaError(error.asModule);
        reason = `${section}.${name}`;
      }
      stats.failed.push(`${method.section}.${method.method}: ${reason}`);
    }
  }
  return stats;
}

// Authoring time and why authoring stopped (no more transactions, the deadline, the block's
// weight or size limit), by block number, from the node's log. The line names the block before
// its seal (its hash is not the imported block's), so the number is the key: with one author
// there is one proposal per number.
function authoringTimes(log) {
  const times = new Map();
  const prepared = /Prepared block for proposing at (\d+) \((\d+) ms\).*?end: (\w+)/g;
  for (const match of log.matchAll(prepared)) {
    times.set(Number(match[1]), { ms: Number(match[2]), end: match[3] });
  }
  return times;
}

// Where the off-chain worker's time went, from its debug lines in the node's log: each key's
// runs summed by step, and the runs after each block against their shared budget.
function workerTimes(log) {
  const steps = ['chain state', 'kept answers checked', 'executor', 'answers checked', 'signed, sent and recorded'];
  const run = /run took (\d+) ms for (\d+) open jobs \((\d+) due, (\d+) answers sent\): chain state (\d+) ms, kept answers checked (\d+) ms, executor (\d+) ms, answers checked (\d+) ms, signed, sent and recorded (\d+) ms/g;
  const totals = { runs: 0, ms: 0, answers: 0, steps: steps.map(() => 0) };
  for (const match of log.matchAll(run)) {
    totals.runs += 1;
    totals.ms += Number(match[1]);
    totals.answers += Number(match[4]);
    for (let i = 0; i < steps.length; i += 1) totals.steps[i] += Number(match[5 + i]);
  }
  const block = /after #(\d+): (\d+) worker keys with work, chosen in (\d+) ms; all runs took (\d+) ms \(budget (\d+) ms\)/g;
  const blocks = [...log.matchAll(block)].map((m) => ({ keys: Number(m[2]), choose: Number(m[3]), ms: Number(m[4]), budget: Number(m[5]) }));
  return { steps, totals, blocks, executor: executorTrouble(log) };
}

// What the executor made the off-chain worker do again: tasks it no longer knew (started
// again), starts it refused for want of room in its task table, and other passing failures
// retried in a later run. A node that falls behind shows here first.
function executorTrouble(log) {
  const count = (pattern) => [...log.matchAll(pattern)].length;
  const retried = count(/job \d+ not done yet, retrying: /g);
  // The detail names the error's kind, and the executor's message starts with it too.
  const refused = count(/job \d+ not done yet, retrying: (?:overloaded: )+all \d+ remembered tasks/g);
  return {
    lost: count(/job \d+'s task was lost by the executor; started again/g),
    refused,
    otherRetries: retried - refused,
  };
}

// Follows blocks from `from` until `done(all stats)` or `idleBlocks` blocks pass without
// anything of interest; returns every block's stats. Fails if that takes longer than
// `timeoutMs` (the node stopped making blocks).
async function follow(api, from, done, idleBlocks, timeoutMs) {
  const all = [];
  let next = from;
  let idle = 0;
  const deadline = Date.now() + timeoutMs;
  while (!done(all) && idle < idleBlocks) {
    if (Date.now() > deadline) fail(`no end of the phase within ${timeoutMs / 1000} s (at #${next})`);
    const best = await bestNumber(api);
    for (; next <= best; next += 1) {
      const stats = await blockStats(api, next);
      all.push(stats);
      say(`  #${next}: ${stats.submitted.length} submitted, ${stats.assigned} assigned, ` +
        `${stats.settled.length} settled, ${stats.refunded} refunded, ${stats.transfers} transfers`);
      const busy = stats.submitted.length + stats.assigned + stats.settled.length + stats.refunded + stats.transfers;
      idle = busy ? 0 : idle + 1;
    }
    await sleep(300);
  }
  return all;
}

function table(blocks, times) {
  say('  block  extr  failed  submitted  assigned  settled  refunded  transfers  normal ms  operational ms  mandatory ms  authoring ms  authoring ended');
  for (const b of blocks) {
    say(`  ${String(b.number).padStart(5)}  ${String(b.extrinsics).padStart(4)}  ` +
      `${String(b.failed.length).padStart(6)}  ${String(b.submitted.length).padStart(9)}  ${String(b.assigned).padStart(8)}  ` +
      `${String(b.settled.length).padStart(7)}  ${String(b.refunded).padStart(8)}  ` +
      `${String(b.transfers).padStart(9)}  ${String(b.normalMs).padStart(9)}  ` +
      `${String(b.operationalMs).padStart(14)}  ${String(b.mandatoryMs).padStart(12)}  ` +
      `${String(times.get(b.number)?.ms ?? '-').padStart(12)}  ${times.get(b.number)?.end ?? '-'}`);
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'veritensor-bench-load-'));
  const spec = testChainSpec(nodeBin, dir);
  const node = new NodeProcess(nodeBin, 'bench', ['--dev', '--chain', spec, '--base-path', join(dir, 'node'),
    // The pool keeps a tenth of these limits for transactions whose nonce comes after one it
    // has not seen yet, and a flood arrives out of order: that tenth must hold all of it, or the
    // pool drops some and the accounts' later transactions wait for ever (4 KB a transaction is
    // several times a digit job's).
    '--pool-limit', String(10 * (JOBS + TRANSFERS)), '--pool-kbytes', String(10 * 4 * (JOBS + TRANSFERS)),
    // The off-chain worker's timing lines (see the summary).
    '-l', 'runtime::jobs=debug',
    ...(EXECUTOR_MAX_TASKS ? ['--executor-max-tasks', String(EXECUTOR_MAX_TASKS)] : [])], dir);
  try {
    say(`▶ A development node (log ${join(dir, 'bench-1.log')})`);
    await node.start();
    const api = await node.connect();
    const keys = keyring();
    const alice = keys.addFromUri('//Alice');
    const operators = Array.from({ length: WORKERS }, (_, i) => keys.addFromUri(`//BenchOperator${i}`));
    const users = Array.from({ length: ACCOUNTS }, (_, i) => keys.addFromUri(`//BenchUser${i}`));
    const model = demoModels().mlp_digits_f32.hash;

    say(`▶ Funding ${WORKERS} operators and ${ACCOUNTS} accounts`);
    await send(api, api.tx.utility.batchAll([
      ...operators.map((o) => api.tx.balances.transferKeepAlive(o.address, BOND + 100n * UNITS)),
      ...users.map((u) => api.tx.balances.transferKeepAlive(u.address, 2_000n * UNITS)),
    ]), alice);

    say(`▶ ${WORKERS} worker keys, each registered by its own operator (capacity ${CAPACITY})`);
    const workerKeys = [];
    for (let i = 0; i < WORKERS; i += 1) {
      workerKeys.push((await node.rpc('veritensor_generateWorkerKey', [])).worker);
    }
    await Promise.all(operators.map((operator, i) => registerWorker(api, node, operator,
      { bond: BOND, models: [model], capacity: CAPACITY, key: workerKeys[i] })));

    const vectors = testVectors();
    const terms = { replicas: 1, audited: false };
    const cost = (await api.call.jobsApi.quoteTerms(model, terms)).unwrap().toBigInt();
    say(`▶ Signing ${JOBS} jobs from ${ACCOUNTS} accounts (cost ${cost} each, deadline ${DEADLINE} blocks)`);
    const jobs = await signAhead(api, users, JOBS, (i) => api.tx.jobs.submit(model,
      inline(digitInput('mlp_digits_f32', vectors.pixels[i % vectors.pixels.length])), terms, cost, DEADLINE));
    const jobsFrom = (await bestNumber(api)) + 1;
    say(`▶ Sending the ${JOBS} jobs at once (from block #${jobsFrom})`);
    const jobsRefused = await flood(api, jobs);
    // A refused transaction leaves a gap in its account's nonces: the account's later ones
    // would wait in the pool for ever.
    if (jobsRefused) fail(`the pool refused ${jobsRefused} of the jobs (VERITENSOR_KEEP_BENCH=1 keeps the node log)`);
    const phaseTimeout = (6 * DEADLINE + 120) * 6_000;
    const jobBlocks = await follow(api, jobsFrom, (all) => {
      const submitted = all.reduce((n, b) => n + b.submitted.length, 0);
      const ended = all.reduce((n, b) => n + b.settled.length + b.refunded, 0);
      return submitted >= JOBS && ended >= submitted;
    }, 2 * DEADLINE, phaseTimeout);
    const included = jobBlocks.reduce((n, b) => n + b.submitted.length, 0);
    if (included < JOBS) fail(`only ${included} of the ${JOBS} jobs the pool accepted reached a block`);

    // The settled results become final after their dispute window, in hooks: the transfers
    // come after that, so that their blocks carry no job work.
    const quiet = Math.max(0, ...jobBlocks.map((b) => b.provisionalUntil)) + 2;
    say(`▶ Waiting for the results to become final (#${quiet})`);
    while ((await bestNumber(api)) < quiet) await sleep(1_000);

    say(`▶ Signing ${TRANSFERS} balance transfers from the same accounts`);
    const transfers = await signAhead(api, users, TRANSFERS,
      () => api.tx.balances.transferKeepAlive(alice.address, UNITS / 100n));
    const transfersFrom = (await bestNumber(api)) + 1;
    say(`▶ Sending the ${TRANSFERS} transfers at once (from block #${transfersFrom})`);
    const transfersRefused = await flood(api, transfers);
    if (transfersRefused) fail(`the pool refused ${transfersRefused} of the transfers`);
    const transferBlocks = await follow(api, transfersFrom,
      (all) => all.reduce((n, b) => n + b.transfers, 0) >= TRANSFERS, 3, phaseTimeout);

    const times = authoringTimes(node.log());
    say('▶ Jobs, per block');
    table(jobBlocks, times);
    say('▶ Transfers, per block');
    table(transferBlocks, times);

    const submittedAt = new Map();
    for (const b of jobBlocks) for (const job of b.submitted) submittedAt.set(job, b.number);
    const latencies = jobBlocks.flatMap((b) => b.settled.filter((job) => submittedAt.has(job))
      .map((job) => b.number - submittedAt.get(job))).sort((a, b) => a - b);
    const settledPerBlock = jobBlocks.map((b) => b.settled.length);
    let sustained = settledPerBlock.length < 5 ? NaN : 0;
    for (let i = 0; i + 5 <= settledPerBlock.length; i += 1) {
      sustained = Math.max(sustained, settledPerBlock.slice(i, i + 5).reduce((a, b) => a + b, 0) / 5);
    }
    const submitted = jobBlocks.reduce((n, b) => n + b.submitted.length, 0);
    const refunded = jobBlocks.reduce((n, b) => n + b.refunded, 0);
    const failedIn = (blocks) => blocks.flatMap((b) => b.failed);
    const transferPeak = Math.max(0, ...transferBlocks.map((b) => b.transfers));
    const jobsPeak = Math.max(0, ...jobBlocks.map((b) => b.submitted.length));
    say('▶ Summary');
    say(`  jobs: ${submitted} submitted of ${JOBS} sent, ${latencies.length} settled, ${refunded} refunded`);
    for (const [phase, blocks] of [['job', jobBlocks], ['transfer', transferBlocks]]) {
      const failures = new Map();
      for (const failure of failedIn(blocks)) failures.set(failure, (failures.get(failure) ?? 0) + 1);
      say(`  transactions that failed in the ${phase} phase's blocks: ${failedIn(blocks).length}`);
      for (const [failure, count] of failures) say(`    ${count} × ${failure}`);
    }
    say(`  jobs submitted in one block, at most: ${jobsPeak}`);
    say(`  settled jobs per block: peak ${Math.max(0, ...settledPerBlock)}, best 5-block average ${sustained}`);
    say(`  submit-to-settled latency, blocks: P50 ${percentile(latencies, 0.5)}, ` +
      `P95 ${percentile(latencies, 0.95)}, max ${latencies.at(-1) ?? NaN}`);
    say(`  transfers per block, at most: ${transferPeak}; ` +
      `jobs submitted per block / transfers per block: ${(jobsPeak / Math.max(1, transferPeak)).toFixed(2)}`);
    const authoring = [...jobBlocks, ...transferBlocks].map((b) => times.get(b.number)?.ms).filter((t) => t !== undefined);
    say(`  authoring time, ms: max ${Math.max(0, ...authoring)}`);
    const worker = workerTimes(node.log());
    if (worker.totals.runs > 0) {
      const { totals, steps, blocks } = worker;
      say(`  off-chain worker: ${totals.runs} key runs took ${totals.ms} ms and sent ${totals.answers} answers; ` +
        `by step: ${steps.map((step, i) => `${step} ${totals.steps[i]} ms (${(100 * totals.steps[i] / Math.max(1, totals.ms)).toFixed(0)} %)`).join(', ')}`);
      const over = blocks.filter((b) => b.ms > b.budget).length;
      say(`  off-chain worker, after each block with work (${blocks.length}): all keys' runs took ` +
        `P50 ${percentile(blocks.map((b) => b.ms).sort((a, b) => a - b), 0.5)} ms, max ${Math.max(0, ...blocks.map((b) => b.ms))} ms ` +
        `(budget ${blocks[0]?.budget} ms, over it after ${over}); keys with work P50 ` +
        `${percentile(blocks.map((b) => b.keys).sort((a, b) => a - b), 0.5)}; choosing them took max ${Math.max(0, ...blocks.map((b) => b.choose))} ms`);
      const { lost, refused, otherRetries } = worker.executor;
      say(`  executor: ${lost} tasks lost and started again, ${refused} starts refused for want of room, ` +
        `${otherRetries} other failures retried`);
    }
  } finally {
    await node.stop();
    if (!process.env.VERITENSOR_KEEP_BENCH) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(`bench-load: ${error.stack ?? error}`);
  process.exit(1);
});
