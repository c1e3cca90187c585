/**
 * zookeeper-ts/testing's TestingServer, and what a client sees under each
 * of its faults: kill -9 and start (Disconnected, then SyncConnected with
 * the same session), expireSession (Expired, ephemerals gone),
 * dropConnection (Disconnected, then SyncConnected, same session), SIGSTOP
 * (the client's read timeout: Disconnected; SIGCONT: back), isolation from
 * clients (reset and refused; heal: back). Plus the kit's housekeeping:
 * loopback ports, a temp directory, a real child process, everything gone
 * after close(), bounded waits that fail with the server's log tail, and
 * the in-process variant.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CreateMode, ErrorCode, KeeperError, KeeperState, ZooKeeper } from '../../src';
import { isAlive } from '../../src/cli/zk-server';
import { StateLog, TestingServer, waitFor } from '../../src/testing';

jest.setTimeout(60_000);

function cmdline(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

let server: TestingServer;
const clients: ZooKeeper[] = [];

async function connect(options: { sessionTimeout?: number } = {}): Promise<ZooKeeper> {
  const zk = new ZooKeeper(server.connectString, { sessionTimeout: options.sessionTimeout ?? 10_000 });
  zk.on('error', () => undefined);
  clients.push(zk);
  await zk.connected();
  return zk;
}

beforeAll(async () => {
  server = await TestingServer.start();
});

afterAll(async () => {
  await Promise.all(clients.map((zk) => zk.close().catch(() => undefined)));
  await server?.close();
});

test('serves on loopback ports from a temp directory, as a child process running bin/zk-server', async () => {
  expect(server.connectString).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(server.directConnectString).toBe(`127.0.0.1:${server.clientPort}`);
  expect(server.connectString).not.toBe(server.directConnectString); // clients go through the kit's proxy
  const pid = server.pid()!;
  expect(pid).not.toBe(process.pid);
  expect(cmdline(pid)).toMatch(/bin\/zk-server start-foreground \S+\/zoo\.cfg/);
  expect(fs.readFileSync(`${server.dir}/zoo.cfg`, 'utf8')).toContain(`clientPort=${server.clientPort}\nclientPortAddress=127.0.0.1`);
  const zk = await connect();
  expect(await zk.create('/hello', 'world')).toBe('/hello');
});

test('kill -9 then start: the client sees Disconnected, then SyncConnected with the same session', async () => {
  const zk = await connect();
  await zk.create('/kept', 'x');
  const states = new StateLog(zk);
  const session = zk.sessionId;
  const pid = server.pid()!;
  await server.kill();
  expect(isAlive(pid)).toBe(false);
  await states.waitFor('Disconnected', 10_000);
  await server.start();
  expect(server.pid()).not.toBe(pid);
  await states.waitFor('SyncConnected', 20_000);
  expect(states.names()).toEqual(['Disconnected', 'SyncConnected']);
  expect(zk.sessionId).toBe(session);
  expect(String((await zk.getData('/kept')).data)).toBe('x');
});

test('expireSession: the client sees Expired, and its ephemerals are gone', async () => {
  const zk = await connect();
  const other = await connect();
  await zk.create('/ephemeral-of-expired', '', { mode: CreateMode.EPHEMERAL });
  await server.expireSession(zk);
  expect(zk.state).toBe(KeeperState.Expired);
  await expect(zk.getData('/ephemeral-of-expired')).rejects.toMatchObject({ code: ErrorCode.SESSIONEXPIRED });
  expect(await other.exists('/ephemeral-of-expired')).toBeNull();
});

test('dropConnection: Disconnected, then SyncConnected on the same session; its ephemeral stays', async () => {
  const zk = await connect();
  await zk.create('/ephemeral-of-dropped', '', { mode: CreateMode.EPHEMERAL });
  const states = new StateLog(zk);
  const session = zk.sessionId;
  const bystander = await connect();
  const bystanderStates = new StateLog(bystander);
  await server.dropConnection(zk);
  await states.waitFor('Disconnected', 5000);
  await states.waitFor('SyncConnected', 10_000);
  expect(zk.sessionId).toBe(session);
  expect(await zk.exists('/ephemeral-of-dropped')).not.toBeNull();
  expect(bystanderStates.states).toEqual([]); // only that client's connection was cut
});

test('pause (SIGSTOP): the client times out (Disconnected); resume (SIGCONT): SyncConnected, same session', async () => {
  const zk = await connect({ sessionTimeout: 6000 });
  const states = new StateLog(zk);
  const session = zk.sessionId;
  server.pause();
  try {
    // The signal lands a moment later: the process state turns T (stopped).
    await waitFor('the process to be stopped', async () => /\) T /.test(fs.readFileSync(`/proc/${server.pid()}/stat`, 'utf8')), 2000, 10);
    await states.waitFor('Disconnected', 10_000);
  } finally {
    server.resume();
  }
  await states.waitFor('SyncConnected', 10_000);
  expect(zk.sessionId).toBe(session);
});

test('isolateFromClients: the connection is reset and new ones refused; heal: the client is back', async () => {
  const zk = await connect();
  const states = new StateLog(zk);
  server.isolateFromClients();
  await states.waitFor('Disconnected', 5000);
  const late = new ZooKeeper(server.connectString, { connectTimeout: 1500 });
  late.on('error', () => undefined);
  await expect(late.connected()).rejects.toBeInstanceOf(KeeperError);
  await late.close();
  // The server itself is fine: a client that bypasses the proxy still gets in.
  const direct = new ZooKeeper(server.directConnectString);
  await direct.connected();
  await direct.close();
  server.heal();
  await states.waitFor('SyncConnected', 10_000);
});

test('a bounded wait fails with what it waited for and the server log tail', async () => {
  const zk = await connect();
  await expect(server.waitForState(zk, 'Expired', 300)).rejects.toThrow(/Expired not reached within 300 ms[\s\S]*member 1 \(standalone; running\)[\s\S]*serving on 127\.0\.0\.1:/);
});

test('a server that cannot start fails start() with its log tail and leaves nothing behind', async () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-testing-parent-'));
  try {
    await expect(TestingServer.start({ config: { maxClientCnxns: 'lots' }, tempDir: parent })).rejects.toThrow(
      /exited during start-up[\s\S]*server\.log[\s\S]*maxClientCnxns/,
    );
    expect(fs.readdirSync(parent)).toEqual([]);
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('close() kills the process and removes the temp directory', async () => {
  const other = await TestingServer.start();
  const pid = other.pid()!;
  const dir = other.dir;
  expect(fs.existsSync(dir)).toBe(true);
  await other.close();
  await other.close(); // idempotent
  expect(isAlive(pid)).toBe(false);
  expect(fs.existsSync(dir)).toBe(false);
});

test('inProcess: true runs the server in this process (kill is a close; pause is refused)', async () => {
  const inproc = await TestingServer.start({ inProcess: true });
  try {
    expect(inproc.pid()).toBe(process.pid);
    const zk = new ZooKeeper(inproc.connectString);
    const states = new StateLog(zk);
    await zk.connected();
    await zk.create('/in-process', 'y');
    await inproc.kill();
    await states.waitFor('Disconnected', 5000);
    await inproc.start();
    await states.waitFor('SyncConnected', 10_000);
    expect(String((await zk.getData('/in-process')).data)).toBe('y');
    expect(() => inproc.pause()).toThrow(/own process/);
    await zk.close();
  } finally {
    await inproc.close();
  }
});
