// Starts a Veritensor dev node, connects @polkadot/api to it over WebSocket, reads the runtime
// metadata and some genesis state, and checks what a dApp would rely on. Exits non-zero on any
// failure and always stops the node it started.
//
//   node check.mjs <path to veritensor-node>
import { ApiPromise, WsProvider } from '@polkadot/api';
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TIMEOUT_MS = 120_000;
const nodeBin = process.argv[2];
if (!nodeBin) {
  console.error('usage: node check.mjs <path to veritensor-node>');
  process.exit(2);
}

function freePort() {
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

// Resolves once something accepts TCP connections on the port, so that the client's first
// connection succeeds instead of logging retries.
async function waitForPort(port, deadline) {
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (nodeExited) fail('the node exited before opening its RPC port');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  fail(`nothing listens on port ${port}`);
}

function fail(message) {
  throw new Error(message);
}

const rpcPort = await freePort();
const p2pPort = await freePort();
const logDir = mkdtempSync(join(tmpdir(), 'veritensor-client-check-'));
const logPath = join(logDir, 'node.log');
const log = openSync(logPath, 'w');
const node = spawn(
  nodeBin,
  ['--dev', '--tmp', '--rpc-port', String(rpcPort), '--port', String(p2pPort),
   '--no-prometheus', '--no-telemetry', '--no-mdns'],
  { stdio: ['ignore', log, log] },
);
let nodeExited = false;
node.on('exit', () => { nodeExited = true; });

const deadline = setTimeout(() => {
  console.error(`client check: timed out after ${TIMEOUT_MS / 1000} s; node log: ${logPath}`);
  node.kill('SIGKILL');
  process.exit(1);
}, TIMEOUT_MS);

let api;
let ok = false;
try {
  console.log(`client check: dev node on ws://127.0.0.1:${rpcPort}, log ${logPath}`);
  await waitForPort(rpcPort, Date.now() + TIMEOUT_MS);
  const provider = new WsProvider(`ws://127.0.0.1:${rpcPort}`, false);
  await provider.connect();
  api = await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });

  const version = api.runtimeVersion;
  if (version.specName.toString() !== 'veritensor') fail(`specName is ${version.specName}`);
  console.log(`  runtime ${version.specName} v${version.specVersion.toNumber()}, ` +
    `metadata v${api.runtimeMetadata.version}`);

  const pallets = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
  for (const name of ['System', 'Timestamp', 'Babe', 'Grandpa', 'Balances', 'TransactionPayment',
    'Utility', 'Council', 'Treasury', 'Sudo']) {
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
  ok = true;
} catch (error) {
  console.error(`client check failed: ${error.message}`);
  try { console.error(readFileSync(logPath, 'utf8').split('\n').slice(-20).join('\n')); } catch {}
} finally {
  clearTimeout(deadline);
  if (api) await api.disconnect().catch(() => {});
  if (!nodeExited) {
    node.kill('SIGINT');
    await new Promise((resolve) => {
      const force = setTimeout(() => { node.kill('SIGKILL'); resolve(); }, 30_000);
      node.on('exit', () => { clearTimeout(force); resolve(); });
    });
  }
}
if (ok) rmSync(logDir, { recursive: true, force: true });
console.log(ok ? 'client check: passed' : `client check: FAILED (node log kept in ${logPath})`);
process.exit(ok ? 0 : 1);
