// The validator set on real node processes: the four validators of the local testnet (Alice,
// Bob, Charlie, Dave; sessions of ten 6-second slots) and a fifth node that joins as Eve's
// validator, as docs/validators.md walks an operator through it:
//
// 1. Eve bonds, her node creates session keys with a proof of ownership
//    (author_rotateKeysWithOwner) and she sets them (session.setKeys);
// 2. the council adds her by motion; the fifth node authors its first block no earlier than the
//    session the motion's event names (two sessions on) and within two sessions after it;
//    with Dave's node stopped, finality needs four of the five votes and goes on: Eve's counts;
// 3. Eve leaves; from the session her event names no block is hers, the set is back to four,
//    and with her node stopped too, three of the four (Alice, Bob, Charlie) finalise on;
// 4. faults: Charlie's node is killed as well (two of four down): Alice and Bob keep authoring but
//    nothing more is finalised; Charlie and Dave restart on their databases: finality resumes,
//    the blocks authored during the stall are the ones finalised, and all four nodes agree on
//    the finalised block and its state;
// 5. equivocation: a second node runs with Dave's keys next to Dave's own; the two author
//    different blocks for Dave's slots, a node that sees both files a report, and the chain
//    slashes Dave's bond, pays the reporting block's author, disables Dave (no block of his is
//    accepted any more), takes him out of the planned set, and finalises on.
//
// Authors are read from every finalised block of the canonical chain: the authority index in the
// block's BABE pre-digest, looked up in the epoch's authorities and mapped to the validator
// account that set that key.
import { NodeProcess, UNITS, bestNumber, councilMotion, fail, keyring, send, sleep } from './lib.mjs';
import { stringToU8a, u8aToHex } from '@polkadot/util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SESSION_SLOTS = 10;
const SLOT_SECONDS = 6;
const BABE_KEY_TYPE = u8aToHex(stringToU8a('babe'));

// Any fixed network key will do for a local validator; each node gets its own.
const nodeKey = (index) => index.toString(16).padStart(64, '0');

// The account whose BABE key authored the block `hash`. Read in the block's own state: the
// first block of an epoch enacts that epoch's authorities before anyone reads them.
async function blockAuthor(api, hash) {
  const header = await api.rpc.chain.getHeader(hash);
  const preDigest = header.digest.logs.find(
    (log) => log.isPreRuntime && log.asPreRuntime[0].toString() === 'BABE');
  if (!preDigest) fail(`block #${header.number} has no BABE pre-digest`);
  const digest = api.registry.createType('RawBabePreDigest', preDigest.asPreRuntime[1].toU8a(true));
  const slotClaim = digest.isPrimary ? digest.asPrimary
    : digest.isSecondaryPlain ? digest.asSecondaryPlain : digest.asSecondaryVRF;
  const index = slotClaim.authorityIndex.toNumber();
  const at = await api.at(hash);
  const authorities = await at.query.babe.authorities();
  if (index >= authorities.length) {
    fail(`block #${header.number} names authority ${index} of ${authorities.length}`);
  }
  const owner = await at.query.session.keyOwner([BABE_KEY_TYPE, authorities[index][0].toHex()]);
  if (owner.isNone) fail(`block #${header.number}: no validator owns BABE key ${authorities[index][0]}`);
  return {
    number: header.number.toNumber(),
    author: owner.unwrap().toString(),
    session: (await at.query.session.currentIndex()).toNumber(),
    moment: (await at.query.timestamp.now()).toNumber(),
  };
}

// Every finalised block from `from` on, in order, with its author and session.
function finalisedChain(api, from) {
  const blocks = [];
  let next = from;
  return {
    blocks,
    async catchUp() {
      const head = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
      for (; next <= head; next += 1) blocks.push(await blockAuthor(api, await api.rpc.chain.getBlockHash(next)));
      return blocks;
    },
  };
}

async function waitFor(condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await condition();
    if (value) return value;
    await sleep(1_000);
  }
  fail(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
}

// The GRANDPA voters of the finalised head's state: the set that finalises what comes next.
async function grandpaVoters(api) {
  const at = await api.at(await api.rpc.chain.getFinalizedHead());
  return (await at.call.grandpaApi.grandpaAuthorities()).map(([key]) => key.toHex());
}

const finalisedNumber = async (api) =>
  (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();

// Waits for `api`'s node to finalise `count` blocks past what it has finalised now; returns how
// many it finalised (at least `count`) and how long that took.
async function finalityGoesOn(api, count, timeoutMs, what) {
  const before = await finalisedNumber(api);
  const started = Date.now();
  const after = await waitFor(async () => {
    const now = await finalisedNumber(api);
    return now >= before + count ? now : 0;
  }, timeoutMs, what);
  return { blocks: after - before, seconds: Math.round((Date.now() - started) / 1000) };
}

// Two of four validators down stall finality; restarted on their databases, it resumes. Dave's
// node is down already; Charlie's is killed (SIGKILL, as a crash would).
async function faultsAndRecovery(api, { alice, bob, charlie, dave }, say, check) {
  const charlieApi = await charlie.connect();
  const charlieBest = await bestNumber(charlieApi);
  await charlie.kill();
  // Votes already cast may still finalise a block or two: settle first, then watch.
  await sleep(2 * SLOT_SECONDS * 1000);
  const stalledAt = await finalisedNumber(api);
  const bestBefore = await bestNumber(api);
  const watchedSeconds = 6 * SLOT_SECONDS;
  await sleep(watchedSeconds * 1000);
  const finalisedDuring = await finalisedNumber(api);
  const bestDuring = await bestNumber(api);
  check(finalisedDuring === stalledAt && bestDuring > bestBefore,
    `Charlie's node killed too (two of four down): Alice and Bob authored ${bestDuring - bestBefore} ` +
    `blocks in ${watchedSeconds} s, none finalised (finality stalled at #${stalledAt})`);
  // The blocks of the stall, as Alice's node has them now.
  const stallBlocks = [];
  for (let number = stalledAt + 1; number <= bestDuring; number += 1) {
    stallBlocks.push((await api.rpc.chain.getBlockHash(number)).toHex());
  }

  const restarted = Date.now();
  await Promise.all([charlie.start(), dave.start()]);
  const charlieAgain = await charlie.connect();
  const charlieResumedAt = await bestNumber(charlieAgain);
  check(charlieResumedAt >= charlieBest,
    `Charlie's node restarted on its database at #${charlieResumedAt} (it had #${charlieBest} when killed)`);
  await waitFor(async () => (await finalisedNumber(api)) > stalledAt, 180_000,
    'finality to resume after Charlie and Dave restarted');
  const recoverySeconds = Math.round((Date.now() - restarted) / 1000);
  await waitFor(async () => (await finalisedNumber(api)) >= bestDuring, 120_000,
    `finality to reach #${bestDuring}, the last block authored during the stall`);
  // The stall's last block may be one of two that slot had (two authors can win one slot):
  // every block below it must be the one finalised.
  const settled = stallBlocks.slice(0, -1);
  const finalisedStall = [];
  for (let number = stalledAt + 1; number < bestDuring; number += 1) {
    finalisedStall.push((await api.rpc.chain.getBlockHash(number)).toHex());
  }
  check(settled.length > 0 && finalisedStall.every((hash, i) => hash === settled[i]),
    `Charlie and Dave restarted on their databases: finality resumed ${recoverySeconds} s later and ` +
    `finalised the blocks authored during the stall (${settled.length} checked), none lost or replaced`);

  // Every node on the same finalised block and state.
  const apis = [api, await bob.connect(), charlieAgain, await dave.connect()];
  const target = await finalisedNumber(api);
  await waitFor(async () => {
    for (const other of apis) if ((await finalisedNumber(other)) < target) return false;
    return true;
  }, 120_000, `all four nodes to finalise #${target}`);
  const views = await Promise.all(apis.map(async (other) => {
    const hash = await other.rpc.chain.getBlockHash(target);
    const header = await other.rpc.chain.getHeader(hash);
    return `${hash.toHex()} ${header.stateRoot.toHex()}`;
  }));
  check(views.every((view) => view === views[0]),
    `all four nodes agree on finalised block #${target} and its state root`);
  for (const other of apis.slice(1)) await other.disconnect().catch(() => {});
  return { stallSeconds: watchedSeconds, recoverySeconds };
}

// What each validator earned as a block author in blocks #1..#`head`: its share of every fee
// (AuthorShare, 20 % by default, which this suite keeps) and the tips, and the reporters' share
// of slashes its blocks included.
async function validatorEarnings(api, head) {
  const earned = new Map();
  const add = (who, amount) => earned.set(who, (earned.get(who) ?? 0n) + amount);
  for (let number = 1; number <= head; number += 1) {
    const hash = await api.rpc.chain.getBlockHash(number);
    const { author } = await blockAuthor(api, hash);
    for (const event of await eventsAt(api, hash)) {
      if (api.events.transactionPayment.TransactionFeePaid.is(event)) {
        const fee = event.data.actualFee.toBigInt();
        const tip = event.data.tip.toBigInt();
        add(author, ((fee - tip) * 20n) / 100n + tip);
      } else if (api.events.validators.OffenderSlashed.is(event)) {
        add(author, event.data.reward.toBigInt());
      }
    }
  }
  const names = new Map(['Alice', 'Bob', 'Charlie', 'Dave', 'Eve'].map((name) =>
    [keyring().addFromUri(`//${name}`).address, name]));
  const lines = [...earned].map(([who, amount]) =>
    `${names.get(who) ?? who} ${(Number(amount) / Number(UNITS)).toFixed(6)} VTN`);
  return { blocks: head, lines };
}

// The events of block `hash`.
async function eventsAt(api, hash) {
  return (await (await api.at(hash)).query.system.events()).map((record) => record.event);
}

// A second node with Dave's keys equivocates; the chain reports, slashes and disables him.
async function equivocationIsPunished(api, twin, say, check) {
  const dave = keyring().addFromUri('//Dave').address;
  const bondBefore = (await api.query.validators.bonds(dave)).unwrap().amount.toBigInt();
  const from = (await finalisedNumber(api)) + 1;
  await twin.start();
  const started = Date.now();
  say('a second node runs with Dave\'s keys');

  // Follow finalised blocks until one carries Dave's slash and one a BABE equivocation offence
  // (the second node also votes with Dave's GRANDPA key, and a GRANDPA report may come first).
  const kindOf = (event) => Buffer.from(event.data.kind.toU8a()).toString();
  let next = from;
  let slashed;
  let babeOffence;
  await waitFor(async () => {
    const head = await finalisedNumber(api);
    for (; next <= head && !(slashed && babeOffence); next += 1) {
      const hash = await api.rpc.chain.getBlockHash(next);
      for (const event of await eventsAt(api, hash)) {
        if (!slashed && api.events.validators.OffenderSlashed.is(event) &&
          event.data.who.toString() === dave) slashed = { hash, number: next, event };
        if (!babeOffence && api.events.offences.Offence.is(event) &&
          kindOf(event) === 'babe:equivocatio') babeOffence = next;
      }
    }
    return slashed && babeOffence;
  }, 300_000, 'finalised blocks slashing Dave and recording his BABE equivocation');
  const seconds = Math.round((Date.now() - started) / 1000);
  const { session, fraction, amount, reward } = slashed.event.data;
  const events = await eventsAt(api, slashed.hash);
  const offences = events.filter((e) => api.events.offences.Offence.is(e)).map(kindOf);
  const including = await blockAuthor(api, slashed.hash);
  const bondAfter = (await api.query.validators.bonds(dave)).unwrap().amount.toBigInt();
  say(`offences in block #${slashed.number}: ${offences.join(', ')}; the BABE offence in block #${babeOffence}`);
  check(offences.length > 0 && bondAfter === bondBefore - amount.toBigInt() && amount.toBigInt() > 0n,
    `Dave equivocated and was reported ${seconds} s after the second node started; slashed ` +
    `${Number(amount.toBigInt() / UNITS)} VTN (${fraction.toHuman()} of his bond) for session ${session}, ` +
    'once for all his reported offences');
  // The reporters' share is 10 % by default.
  const expectedReward = amount.toBigInt() / 10n;
  const rewardOff = reward.toBigInt() - expectedReward;
  check(including.author !== dave && reward.toBigInt() > 0n && rewardOff >= -1n && rewardOff <= 1n,
    `the author of the block including the report (${including.author}) was paid ` +
    `${Number(reward.toBigInt()) / Number(UNITS)} VTN for it`);
  const disabled = events.some((e) => api.events.session.ValidatorDisabled.is(e) &&
    e.data.validator.toString() === dave);
  const removed = events.find((e) => api.events.validators.OffenderRemoved.is(e) &&
    e.data.who.toString() === dave);
  const planned = (await api.query.validators.validators()).map(String);
  check(disabled && removed && !planned.includes(dave),
    'Dave disabled in the session under way and out of the planned validator set');

  // Until he is out of the authorities, his slots stay his and stay empty: none of the blocks
  // finalised meanwhile is his, and finality goes on.
  const inactiveFrom = removed.data.inactiveFrom.toNumber();
  const chain = finalisedChain(api, slashed.number + 1);
  await waitFor(async () => {
    await chain.catchUp();
    return chain.blocks.length > 0 && chain.blocks.at(-1).session >= inactiveFrom;
  }, 3 * SESSION_SLOTS * SLOT_SECONDS * 1000 + 60_000, `a finalised block of session ${inactiveFrom}`);
  const whileAuthority = chain.blocks.filter((block) => block.session < inactiveFrom);
  check(whileAuthority.length >= 3 && whileAuthority.every((block) => block.author !== dave),
    `the chain finalised ${whileAuthority.length} blocks while Dave was still a disabled authority, ` +
    `none of them his; from session ${inactiveFrom} he is out of the authorities`);
  const earnings = await validatorEarnings(api, await finalisedNumber(api));
  say(`earned as block authors over the test (${earnings.blocks} finalised blocks): ` +
    earnings.lines.join('; '));
  return {
    equivocationToSlashSeconds: seconds,
    slashedUnits: Number(amount.toBigInt() / UNITS),
    reporterRewardUnits: Number(reward.toBigInt()) / Number(UNITS),
  };
}

export async function validatorsSuite(nodeBin, { say, check }) {
  const dir = mkdtempSync(join(tmpdir(), 'veritensor-validators-'));
  const nodes = [];
  try {
    const names = ['alice', 'bob', 'charlie', 'dave'];
    // No executor: these nodes only make blocks. Each keeps its database in its own directory,
    // so that it can be restarted on it.
    const common = (name) => ['--chain', 'local', '--base-path', join(dir, name), '--no-executor'];
    const alice = await new NodeProcess(nodeBin, 'alice',
      [...common('alice'), '--alice', '--node-key', nodeKey(1)], dir).start();
    nodes.push(alice);
    const bootnode = await alice.multiaddr();
    for (const [index, name] of names.slice(1).entries()) {
      nodes.push(await new NodeProcess(nodeBin, name,
        [...common(name), `--${name}`, '--node-key', nodeKey(index + 2), '--bootnodes', bootnode], dir).start());
    }
    const [, bob, charlie, dave] = nodes;
    const fifth = await new NodeProcess(nodeBin, 'eve-validator',
      [...common('eve-validator'), '--validator', '--node-key', nodeKey(5), '--bootnodes', bootnode], dir).start();
    nodes.push(fifth);

    const api = await alice.connect();
    const fifthApi = await fifth.connect();
    await waitFor(async () => (await finalisedNumber(api)) >= 2 && (await finalisedNumber(fifthApi)) >= 2,
      180_000, 'the four validators to finalise block #2 and the fifth node to follow');
    say('four local validators finalise; the fifth node follows the chain');

    const k = keyring();
    const [aliceKey, bobKey, eve] = ['//Alice', '//Bob', '//Eve'].map((suri) => k.addFromUri(suri));

    // 1. Bond, session keys made on the fifth node with a proof for Eve's account, set.
    const minimumBond = api.consts.validators.minimumBond.toBigInt();
    await send(api, api.tx.validators.bond(minimumBond), eve);
    const generated = await fifth.rpc('author_rotateKeysWithOwner', [u8aToHex(eve.publicKey)]);
    await send(api, api.tx.session.setKeys(generated.keys, generated.proof), eve);
    const queuedKeys = (await api.query.session.nextKeys(eve.address)).unwrap();
    const eveGrandpaKey = queuedKeys.grandpa.toHex();
    check(queuedKeys.toHex() === generated.keys,
      `Eve bonded ${minimumBond / UNITS} VTN and set the keys her node made, with their proof`);

    // 2. The council adds her.
    const closed = await councilMotion(api, api.tx.validators.addValidator(eve.address),
      [aliceKey, bobKey], 'validators.addValidator(Eve)', say);
    const added = closed.events.find((e) => api.events.validators.ValidatorAdded.is(e));
    if (!added) fail('no ValidatorAdded event');
    const activeFrom = added.data.activeFrom.toNumber();
    const motion = await blockAuthor(api, closed.blockHash);
    say(`motion executed in block #${motion.number} (session ${motion.session}): Eve authors from session ${activeFrom}`);
    check(activeFrom === motion.session + 2, 'the motion names the session after next');

    const chain = finalisedChain(api, motion.number);
    const eveBlocks = () => chain.blocks.filter((block) => block.author === eve.address);
    const firstBlock = await waitFor(async () => { await chain.catchUp(); return eveBlocks()[0]; },
      (activeFrom - motion.session + 3) * SESSION_SLOTS * SLOT_SECONDS * 1000 + 60_000,
      `a finalised block authored by the fifth node (sessions ${activeFrom}..${activeFrom + 2})`);
    const seconds = Math.round((firstBlock.moment - motion.moment) / 1000);
    check(firstBlock.session >= activeFrom && firstBlock.session <= activeFrom + 2,
      `the fifth node authored block #${firstBlock.number} in session ${firstBlock.session}, ` +
      `${firstBlock.number - motion.number} blocks (${seconds} s of chain time) after the motion`);
    const authorities = (await api.query.session.validators()).map(String);
    const babeAuthorities = await api.query.babe.authorities();
    const voters = await grandpaVoters(api);
    check(authorities.length === 5 && authorities.includes(eve.address) && babeAuthorities.length === 5 &&
      voters.length === 5 && voters.includes(eveGrandpaKey),
      'five validators in the session, five BABE authorities and five GRANDPA voters, Eve among them');

    // GRANDPA's threshold for five voters is four: with Dave's node stopped, Eve's vote is needed.
    await dave.stop();
    const withoutDave = await finalityGoesOn(api, 3, 120_000, 'finality with Dave stopped');
    check(withoutDave.blocks >= 3,
      `Dave's node stopped: Alice, Bob, Charlie and Eve finalised ${withoutDave.blocks} blocks in ` +
      `${withoutDave.seconds} s (four of five votes, Eve's among them)`);

    // 3. Eve leaves.
    const { events } = await send(api, api.tx.validators.leave(), eve);
    const left = events.find((e) => api.events.validators.ValidatorLeft.is(e));
    if (!left) fail('no ValidatorLeft event');
    const inactiveFrom = left.data.inactiveFrom.toNumber();
    say(`Eve left: she stops authoring at session ${inactiveFrom}; her bond is released from session ${left.data.bondRelease}`);
    const lastSession = () => chain.blocks.at(-1).session;
    await waitFor(async () => { await chain.catchUp(); return lastSession() >= inactiveFrom + 1; },
      (inactiveFrom - lastSession() + 2) * SESSION_SLOTS * SLOT_SECONDS * 1000 + 60_000,
      `a finalised block of session ${inactiveFrom + 1}`);
    const late = eveBlocks().filter((block) => block.session >= inactiveFrom);
    const observed = chain.blocks.filter((block) => block.session >= inactiveFrom).length;
    check(late.length === 0,
      `the fifth node authored none of the ${observed} finalised blocks of session ${inactiveFrom} or later ` +
      `(${eveBlocks().length} of ${chain.blocks.length - observed} before)`);
    const after = (await api.query.session.validators()).map(String);
    const votersAfter = await grandpaVoters(api);
    check(after.length === 4 && !after.includes(eve.address) &&
      (await api.query.babe.authorities()).length === 4 &&
      votersAfter.length === 4 && !votersAfter.includes(eveGrandpaKey),
      'four validators in the session, four BABE authorities and four GRANDPA voters again');

    // GRANDPA's threshold for four voters is three: Eve's node is no longer needed.
    await fifth.stop();
    const withoutEve = await finalityGoesOn(api, 3, 120_000, 'finality with Dave and Eve stopped');
    check(withoutEve.blocks >= 3,
      `Eve's node stopped too: Alice, Bob and Charlie finalised ${withoutEve.blocks} blocks in ` +
      `${withoutEve.seconds} s (three of four votes)`);
    const faults = await faultsAndRecovery(api, { alice, bob, charlie, dave }, say, check);
    const twin = new NodeProcess(nodeBin, 'dave-twin',
      [...common('dave-twin'), '--dave', '--node-key', nodeKey(6), '--bootnodes', bootnode], dir);
    nodes.push(twin);
    const equivocation = await equivocationIsPunished(api, twin, say, check);
    return {
      motionToFirstBlockSeconds: seconds,
      firstBlockSession: firstBlock.session - motion.session,
      ...faults,
      ...equivocation,
    };
  } catch (error) {
    for (const node of nodes) say(`${node.name}'s log: ${node.logPath}`);
    process.env.VERITENSOR_KEEP_E2E = '1';
    throw error;
  } finally {
    for (const node of nodes) await node.stop();
    if (!process.env.VERITENSOR_KEEP_E2E) rmSync(dir, { recursive: true, force: true });
  }
}
