// The validator set on real node processes: the four validators of the local testnet (Alice,
// Bob, Charlie, Dave; sessions of ten 6-second slots) and a fifth node that joins as Eve's
// validator, as docs/validators.md walks an operator through it:
//
// 1. Eve bonds, her node creates session keys with a proof of ownership
//    (author_rotateKeysWithOwner) and she sets them (session.setKeys);
// 2. the council adds her by motion; the fifth node authors its first block no earlier than the
//    session the motion's event names (two sessions on) and within two sessions after it, and
//    every node keeps finalising;
// 3. Eve leaves; from the session her event names no block is hers, the set is back to four,
//    and finality goes on.
import { NodeProcess, UNITS, councilMotion, fail, keyring, send, sleep } from './lib.mjs';
import { u8aToHex } from '@polkadot/util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SESSION_SLOTS = 10;
const SLOT_SECONDS = 6;

// Any fixed network key will do for a local validator; each node gets its own.
const nodeKey = (index) => index.toString(16).padStart(64, '0');

// Follows new blocks on `api`: number, author (from the BABE pre-digest and the session's
// validators) and session index of each, in `blocks`.
async function followAuthors(api, blocks) {
  return api.derive.chain.subscribeNewHeads(async (header) => {
    const hash = header.hash;
    const session = (await (await api.at(hash)).query.session.currentIndex()).toNumber();
    blocks.push({ number: header.number.toNumber(), author: header.author?.toString(), session });
  });
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

export async function validatorsSuite(nodeBin, { say, check }) {
  const dir = mkdtempSync(join(tmpdir(), 'veritensor-validators-'));
  const nodes = [];
  let unsubscribe = () => {};
  try {
    const names = ['alice', 'bob', 'charlie', 'dave'];
    // No executor: these nodes only make blocks.
    const common = ['--chain', 'local', '--tmp', '--no-executor'];
    const alice = await new NodeProcess(nodeBin, 'alice',
      [...common, '--alice', '--node-key', nodeKey(1)], dir).start();
    nodes.push(alice);
    const bootnode = await alice.multiaddr();
    for (const [index, name] of names.slice(1).entries()) {
      nodes.push(await new NodeProcess(nodeBin, name,
        [...common, `--${name}`, '--node-key', nodeKey(index + 2), '--bootnodes', bootnode], dir).start());
    }
    const fifth = await new NodeProcess(nodeBin, 'eve-validator',
      [...common, '--validator', '--node-key', nodeKey(5), '--bootnodes', bootnode], dir).start();
    nodes.push(fifth);

    const api = await alice.connect();
    const fifthApi = await fifth.connect();
    const finalised = async (nodeApi) => (await nodeApi.rpc.chain.getHeader(
      await nodeApi.rpc.chain.getFinalizedHead())).number.toNumber();
    await waitFor(async () => (await finalised(api)) >= 2 && (await finalised(fifthApi)) >= 2,
      180_000, 'the four validators to finalise block #2 and the fifth node to follow');
    say('four local validators finalise; the fifth node follows the chain');

    const k = keyring();
    const [aliceKey, bobKey, eve] = ['//Alice', '//Bob', '//Eve'].map((suri) => k.addFromUri(suri));
    const blocks = [];
    unsubscribe = await followAuthors(api, blocks);

    // 1. Bond, session keys made on the fifth node with a proof for Eve's account, set.
    const minimumBond = api.consts.validators.minimumBond.toBigInt();
    await send(api, api.tx.validators.bond(minimumBond), eve);
    const generated = await fifth.rpc('author_rotateKeysWithOwner', [u8aToHex(eve.publicKey)]);
    await send(api, api.tx.session.setKeys(generated.keys, generated.proof), eve);
    const queuedKeys = (await api.query.session.nextKeys(eve.address)).unwrap().toHex();
    check(queuedKeys === generated.keys,
      `Eve bonded ${minimumBond / UNITS} VTN and set the keys her node made, with their proof`);

    // 2. The council adds her.
    const motionStarted = Date.now();
    const closed = await councilMotion(api, api.tx.validators.addValidator(eve.address),
      [aliceKey, bobKey], 'validators.addValidator(Eve)', say);
    const added = closed.events.find((e) => api.events.validators.ValidatorAdded.is(e));
    if (!added) fail('no ValidatorAdded event');
    const activeFrom = added.data.activeFrom.toNumber();
    const motionBlock = (await api.rpc.chain.getHeader(closed.blockHash)).number.toNumber();
    const motionSession = (await (await api.at(closed.blockHash)).query.session.currentIndex()).toNumber();
    say(`motion executed in block #${motionBlock} (session ${motionSession}): Eve authors from session ${activeFrom}`);
    check(activeFrom === motionSession + 2, 'the motion names the session after next');

    const eveBlocks = () => blocks.filter((block) => block.author === eve.address);
    const firstBlock = await waitFor(() => eveBlocks()[0],
      (activeFrom - motionSession + 3) * SESSION_SLOTS * SLOT_SECONDS * 1000 + 60_000,
      `a block authored by the fifth node (sessions ${activeFrom}..${activeFrom + 2})`);
    const seconds = Math.round((Date.now() - motionStarted) / 1000);
    check(firstBlock.session >= activeFrom && firstBlock.session <= activeFrom + 2,
      `the fifth node authored block #${firstBlock.number} in session ${firstBlock.session}, ` +
      `${firstBlock.number - motionBlock} blocks (~${seconds} s) after the motion`);
    const authorities = (await api.query.session.validators()).map(String);
    check(authorities.length === 5 && authorities.includes(eve.address), 'five validators in the session');

    const finalisedNow = await finalised(api);
    await waitFor(async () => (await finalised(fifthApi)) >= finalisedNow + 3, 120_000,
      'finality to go on with five validators');
    check(true, 'all five finalise together');

    // 3. Eve leaves.
    const { events } = await send(api, api.tx.validators.leave(), eve);
    const left = events.find((e) => api.events.validators.ValidatorLeft.is(e));
    if (!left) fail('no ValidatorLeft event');
    const inactiveFrom = left.data.inactiveFrom.toNumber();
    say(`Eve left: she stops authoring at session ${inactiveFrom}; her bond is released from session ${left.data.bondRelease}`);
    await waitFor(() => blocks.some((block) => block.session >= inactiveFrom + 1),
      (inactiveFrom - blocks.at(-1).session + 2) * SESSION_SLOTS * SLOT_SECONDS * 1000 + 60_000,
      `session ${inactiveFrom + 1}`);
    const late = eveBlocks().filter((block) => block.session >= inactiveFrom);
    const observed = blocks.filter((block) => block.session >= inactiveFrom).length;
    check(late.length === 0,
      `the fifth node authored none of the ${observed} blocks of session ${inactiveFrom} or later ` +
      `(${eveBlocks().length} blocks before)`);
    const after = (await api.query.session.validators()).map(String);
    check(after.length === 4 && !after.includes(eve.address), 'four validators in the session again');
    const finalisedAfter = await finalised(api);
    await waitFor(async () => (await finalised(api)) >= finalisedAfter + 3, 120_000,
      'finality to go on after Eve left');
    check(true, 'the four finalise on');
    return { motionToFirstBlockSeconds: seconds, firstBlockSession: firstBlock.session - motionSession };
  } catch (error) {
    for (const node of nodes) say(`${node.name}'s log: ${node.logPath}`);
    process.env.VERITENSOR_KEEP_E2E = '1';
    throw error;
  } finally {
    unsubscribe();
    for (const node of nodes) await node.stop();
    if (!process.env.VERITENSOR_KEEP_E2E) rmSync(dir, { recursive: true, force: true });
  }
}
