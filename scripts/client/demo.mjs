// The Veritensor demo: a development node (embedded executor, off-chain workers on) runs real
// digit images through both demo models, from an operator's registration to settlement.
//
//   node demo.mjs <path to veritensor-node> [--images N]   (N up to 64; 60 by default)
//
// The node's directory (database, log) is removed at the end unless VERITENSOR_KEEP_DEMO is set.
//
// 1. starts `veritensor-node --dev` on free ports, state in a temporary directory; its genesis
//    lists both demo models and registers the dev node's worker key (`//Alice`) under Eve, so it
//    answers jobs at once; the demo adds a second worker key (`//DemoWorker`) to the keystore;
// 2. (the market at genesis is shown: both models, Eve's worker);
// 3. Dave bonds 10,000 VTN and registers the second worker key for both models, as any operator
//    would, and waits until it is eligible;
// 4. Bob submits N test images (half per model) as jobs in one batch;
// 5. follows them block by block until they settle, then prints each prediction against its
//    label, the fees, submit-to-settled latency, the executor's time per inference; the results
//    are provisional (open to challenge, earnings held) for the dispute window, and once they are
//    final it checks that the money moved exactly as the prices say;
// 6. Charlie calls `jobs.claim` for every account that earned something: each balance moves by
//    exactly its earnings.
// The council's listing of a model is shown in docs/governance.md and run by the quorum tests.
import {
  NodeProcess, UNITS, claimable, demoModels, digitInput, escrowHeld, fail, followJobs,
  feesOf, formatUnits, insertWorkerKey, keyring, predictedLabel, registerWorker, send,
  submitJobs, testVectors, waitForFinal,
} from './lib.mjs';
import { u8aToHex } from '@polkadot/util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const JOB_DEADLINE = 20;
const DEMO_WORKER_SEED = '//DemoWorker';
// The authors' share of fees the demo sets (25 %, in parts per billion), so that its money
// checks know it whatever the runtime's default.
const AUTHOR_SHARE_PARTS = 250_000_000n;
const PERBILL = 1_000_000_000n;
// Enough test images to meet a few the models get wrong (38, 43 and 58), within one result
// transaction of the worker (64 answers).
export const DEFAULT_IMAGES = 60;
export const MAX_IMAGES = 64;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// The embedded executor's mean time per inference, from its metrics.
async function executorTimes(node) {
  const match = node.log().match(/Embedded executor listening on (http:\/\/[0-9.:]+)/);
  if (!match) return null;
  const text = await (await fetch(`${match[1]}/metrics`)).text();
  const sum = (name) => text.split('\n')
    .filter((line) => line.startsWith(`veritensor_executor_inference_seconds_${name}`))
    .reduce((total, line) => total + Number(line.split(' ').pop()), 0);
  const count = sum('count');
  return count ? { count, meanMicros: (sum('sum') / count) * 1e6 } : null;
}

// Runs the demo against a fresh dev node; returns what it measured and checked.
export async function runDemo(nodeBin, { images = DEFAULT_IMAGES, say = console.log } = {}) {
  const base = mkdtempSync(join(tmpdir(), 'veritensor-demo-'));
  const node = new NodeProcess(nodeBin, 'dev', ['--dev', '--base-path', base], base);
  try {
    insertWorkerKey(nodeBin, ['--chain', 'dev', '--base-path', base], DEMO_WORKER_SEED);
    say('▶ Starting a development node (embedded executor, off-chain workers on)…');
    await node.start();
    const api = await node.connect();
    say(`  node on ws://127.0.0.1:${node.rpcPort}, log ${node.logPath}`);
    const keys = keyring();
    const [alice, bob, charlie, dave, eve, ferdie] = ['//Alice', '//Bob', '//Charlie', '//Dave',
      '//Eve', '//Ferdie'].map((uri) => keys.addFromUri(uri));
    const models = demoModels();
    const floatModel = models.mlp_digits_f32.hash;
    const intModel = models.mlp_digits_int.hash;

    say('▶ The market at genesis');
    for (const hash of [floatModel, intModel]) {
      const record = (await api.query.models.models(hash)).unwrap();
      say(`  ${record.spec.metadata.name.toUtf8()} (${hash.slice(0, 10)}…): ${record.status.type}, ` +
        `owner ${record.owner.toString().slice(0, 8)}…`);
    }
    // `--dev` puts the worker key of the seed //Alice into the keystore.
    const genesisWorker = u8aToHex(keys.addFromUri('//Alice').publicKey);
    const genesisInfo = (await api.call.workersApi.worker(genesisWorker)).unwrap();
    if (genesisInfo.operator.toString() !== eve.address) fail('the dev worker is not Eve\'s');
    say(`  worker ${genesisWorker.slice(0, 10)}… (the dev node's) under Eve, ` +
      `eligible: ${genesisInfo.eligible.isTrue}, capacity ${genesisInfo.capacity}`);

    say('▶ Bonding an operator and registering a second worker key of the dev node');
    const demoWorker = u8aToHex(keys.addFromUri(DEMO_WORKER_SEED).publicKey);
    await registerWorker(api, node, dave, {
      bond: 10_000n * UNITS, models: [floatModel, intModel], capacity: MAX_IMAGES, key: demoWorker,
    }, (m) => say(`  ${m}`));
    // Each job's price per worker goes to the operator of the worker that answered it.
    const operatorOf = { [genesisWorker]: eve.address, [demoWorker]: dave.address };

    // The dev chain's only validator authors every block: it earns the authors' share of the
    // protocol fees and of the transaction fees, which the council sets (sudo here).
    const validators = (await api.query.session.validators()).map(String);
    if (validators.length !== 1) fail(`the dev chain has ${validators.length} validators`);
    const author = validators[0];
    await send(api, api.tx.sudo.sudo(api.tx.parameters.setParameter(
      { Rewards: { AuthorShare: [null, Number(AUTHOR_SHARE_PARTS)] } })), alice);
    const authorPart = (amount) => amount * AUTHOR_SHARE_PARTS / PERBILL;
    say(`▶ The block author (${author.slice(0, 8)}…, the dev chain's validator) earns ` +
      `${Number(AUTHOR_SHARE_PARTS) / 1e7} % of every protocol and transaction fee`);

    const vectors = testVectors();
    const jobs = Array.from({ length: images }, (_, image) => {
      const name = image % 2 === 0 ? 'mlp_digits_int' : 'mlp_digits_f32';
      return {
        image,
        name,
        model: models[name].hash,
        input: digitInput(name, vectors.pixels[image]),
        label: vectors.labels[image],
        expected: vectors[name].labels[image],
      };
    });
    const treasury = api.consts.jobs.treasuryAccount.toString();
    const owners = { [floatModel]: alice.address, [intModel]: ferdie.address };
    // The workers' earnings go to their operators, Eve and Dave.
    const watched = [...new Set([eve.address, dave.address, alice.address, ferdie.address, treasury,
      author])];
    const before = await claimable(api, watched);
    const userBefore = (await api.query.system.account(bob.address)).data;

    say(`▶ Bob submits ${images} digit images as jobs (one batch, deadline ${JOB_DEADLINE} blocks)`);
    const { jobs: submitted, fee } = await submitJobs(api, bob, jobs, JOB_DEADLINE);
    const first = submitted[0];
    say(`  jobs ${first.id}…${submitted.at(-1).id} in block #${first.submittedBlock}, ` +
      `transaction fee ${formatUnits(fee)}`);
    const prices = {};
    for (const job of submitted) {
      prices[job.id] = (await api.query.jobs.jobs(job.id)).unwrap().price;
    }

    say('▶ Waiting for the worker to run them and the chain to settle them');
    let lastLine = '';
    await followJobs(api, submitted, 300_000, (block, ended, total) => {
      const line = `  #${block}: ${ended}/${total} settled`;
      if (line !== lastLine) say(line);
      lastLine = line;
    });

    say('▶ Results');
    say('  job  model           image  label  predicted        cost  blocks  seconds (chain / wall)');
    const rows = [];
    for (const job of submitted) {
      const { event, settled, block, blockTime, at } = job.end;
      if (!settled) fail(`job ${job.id} was refunded: ${event.data.reason}`);
      const predicted = predictedLabel(job.end.output);
      const row = {
        ...job,
        predicted,
        cost: event.data.cost.toBigInt(),
        blocks: block - job.submittedBlock,
        seconds: (blockTime - job.submittedBlockTime) / 1000,
        wallSeconds: (at - job.sentAt) / 1000,
      };
      rows.push(row);
      say(`  ${String(job.id).padStart(3)}  ${job.name.padEnd(14)}  ${String(job.image).padStart(5)}` +
        `  ${String(job.label).padStart(5)}  ${String(predicted).padStart(5)} ${predicted === job.label ? '✓' : '✗'}` +
        `  ${formatUnits(row.cost).padStart(14)}  ${String(row.blocks).padStart(6)}  ${row.seconds.toFixed(1).padStart(7)} / ${row.wallSeconds.toFixed(1)}`);
    }

    // One worker's word: each result is provisional, open to challenge with its earnings held,
    // for the dispute window.
    const provisional = await api.call.jobsApi.resultStatus(first.id);
    if (!provisional.isSome || !provisional.unwrap().isProvisional) fail('a result is not provisional');
    const heldAt = await claimable(api, watched);
    if (heldAt[dave.address] !== before[dave.address]) fail('earnings accrued before the window ended');
    say(`▶ The results are provisional (open to challenge, the worker's earnings held) until ` +
      `#${provisional.unwrap().asProvisional.until}; waiting for them to become final`);
    const finalAt = await waitForFinal(api, submitted);
    for (const job of submitted) {
      const status = await api.call.jobsApi.resultStatus(job.id);
      if (!status.isSome || !status.unwrap().isFinal) fail(`job ${job.id}'s result is not final at #${finalAt}`);
    }
    say(`  final at #${finalAt}`);
    const after = await claimable(api, watched);
    const userAfter = (await api.query.system.account(bob.address)).data;
    const holds = await api.query.balances.holds(bob.address);
    const expected = Object.fromEntries(watched.map((account) => [account, 0n]));
    let costs = 0n;
    for (const row of rows) {
      const price = prices[row.id];
      const operator = operatorOf[row.end.event.data.worker.toHex()];
      if (!operator) fail(`job ${row.id} was answered by an unknown worker`);
      expected[operator] += price.perWorker.toBigInt();
      expected[owners[row.model]] += price.royalty.toBigInt();
      const protocol = price.protocol.toBigInt();
      expected[author] += authorPart(protocol);
      expected[treasury] += protocol - authorPart(protocol) + price.storage.toBigInt();
      costs += row.cost;
    }
    const moved = Object.fromEntries(watched.map((account) => [account, after[account] - before[account]]));
    const userPaid = userBefore.free.toBigInt() + userBefore.reserved.toBigInt() -
      userAfter.free.toBigInt() - userAfter.reserved.toBigInt();
    const executor = await executorTimes(node);

    const correct = rows.filter((row) => row.predicted === row.label).length;
    const asRecorded = rows.filter((row) => row.predicted === row.expected).length;
    say('▶ Summary');
    say(`  accuracy: ${correct}/${rows.length} predictions equal their labels; ` +
      `${asRecorded}/${rows.length} equal ONNX Runtime's recorded predictions`);
    for (const name of ['mlp_digits_int', 'mlp_digits_f32']) {
      const own = rows.filter((row) => row.name === name);
      const right = own.filter((row) => row.predicted === row.label).length;
      say(`    ${name}: ${right}/${own.length} (its accuracy on all ${vectors.labels.length} ` +
        `test images: ${(models[name].accuracy * 100).toFixed(2)} %)`);
    }
    say(`  fees: ${formatUnits(costs)} for the jobs + ${formatUnits(fee)} transaction fee = ` +
      `${formatUnits(userPaid)} paid by Bob; escrow still held: ${formatUnits(escrowHeld(holds))}`);
    const names = {
      [treasury]: 'the treasury (protocol fee less the author\'s share, and result storage)',
      [eve.address]: 'Eve (the dev worker\'s operator)',
      [dave.address]: 'Dave (the second worker\'s operator)',
      [ferdie.address]: 'Ferdie (royalty, integer model)',
      [alice.address]: `Alice (royalty, float model${author === alice.address ? '; author\'s share' : ''})`,
    };
    for (const account of watched) {
      const ok = moved[account] === expected[account] ? '✓' : '✗';
      say(`  earned by ${names[account]}: ${formatUnits(moved[account])}, priced ` +
        `${formatUnits(expected[account])} ${ok}`);
    }
    const blocks = rows.map((row) => row.blocks);
    const seconds = rows.map((row) => row.seconds);
    const wall = rows.map((row) => row.wallSeconds);
    say(`  submit-to-settled: ${Math.min(...blocks)}–${Math.max(...blocks)} blocks ` +
      `(median ${median(blocks)}); ${Math.min(...seconds).toFixed(1)}–${Math.max(...seconds).toFixed(1)} s ` +
      `between the blocks' timestamps (median ${median(seconds).toFixed(1)} s); ` +
      `${median(wall).toFixed(1)} s median from sending the batch to seeing the settlement`);
    if (executor) {
      say(`  executor: ${executor.count} inferences, ${executor.meanMicros.toFixed(0)} µs each on average`);
    }

    say('▶ Paying out: Charlie calls jobs.claim for every account that earned something');
    const payees = watched.filter((account) => after[account] > 0n);
    const claim = await send(api, api.tx.utility.batchAll(payees.map((a) => api.tx.jobs.claim(a))), charlie);
    const claimFee = feesOf(api, claim.events);
    const header = await api.rpc.chain.getHeader(claim.blockHash);
    const [atParent, atClaim] = await Promise.all([api.at(header.parentHash), api.at(claim.blockHash)]);
    const paidOut = {};
    const due = {};
    for (const account of payees) {
      const [was, is] = await Promise.all([atParent.query.system.account(account),
        atClaim.query.system.account(account)]);
      paidOut[account] = is.data.free.toBigInt() - was.data.free.toBigInt();
      // The claim transaction's fee is split between the block's author and the treasury.
      const feeShare = account === treasury ? claimFee - authorPart(claimFee)
        : account === author ? authorPart(claimFee) : 0n;
      due[account] = after[account] + feeShare;
      const ok = paidOut[account] === due[account] ? '✓' : '✗';
      say(`  ${names[account]}: balance +${formatUnits(paidOut[account])} ${ok}` +
        (feeShare > 0n ? ` (${formatUnits(feeShare)} of it from the claim's fee)` : ''));
    }
    const left = await claimable(api, payees);
    return {
      rows, correct, asRecorded, costs, fee, userPaid, escrow: escrowHeld(holds), moved, expected,
      executor, paidOut, due, left,
    };
  } catch (error) {
    say(`demo failed: ${error.message}; node log ${node.logPath}`);
    throw error;
  } finally {
    await node.stop();
    if (!process.env.VERITENSOR_KEEP_DEMO) rmSync(base, { recursive: true, force: true });
  }
}

// What the demo promises about money, as [holds, statement] pairs.
export function moneyChecks(result) {
  const checks = [
    [result.escrow === 0n, 'the escrow is fully released'],
    [result.userPaid === result.costs + result.fee,
      'the submitter paid exactly the jobs\' costs and the transaction fee'],
  ];
  for (const account of Object.keys(result.expected)) {
    checks.push([result.moved[account] === result.expected[account],
      `${account.slice(0, 8)}… earned exactly its prices (${result.expected[account]})`]);
  }
  for (const account of Object.keys(result.paidOut)) {
    const due = result.due[account];
    checks.push([result.paidOut[account] === due && result.left[account] === 0n,
      `${account.slice(0, 8)}…'s balance grew by exactly its claim and its share of the claim's fee (${due})`]);
  }
  return checks;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const nodeBin = process.argv[2];
  const imagesFlag = process.argv.indexOf('--images');
  const images = imagesFlag > 0 ? Number(process.argv[imagesFlag + 1]) : DEFAULT_IMAGES;
  if (!nodeBin || !(Number.isInteger(images) && images >= 1 && images <= MAX_IMAGES)) {
    console.error(`usage: node demo.mjs <path to veritensor-node> [--images N (1..${MAX_IMAGES})]`);
    process.exit(2);
  }
  try {
    const failed = moneyChecks(await runDemo(nodeBin, { images })).filter(([holds]) => !holds);
    for (const [, statement] of failed) console.log(`✗ not so: ${statement}`);
    console.log(failed.length === 0
      ? '✓ every payment moved exactly as priced; the escrow is fully released'
      : '✗ payments differ from the prices (see above)');
    process.exit(failed.length === 0 ? 0 : 1);
  } catch {
    process.exit(1);
  }
}
