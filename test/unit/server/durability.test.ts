/**
 * Durability of our server on a real dataDir: restart cycles that recover
 * the tree and the sessions, snapCount-driven snapshots, autopurge,
 * dataLogDir, snapshot.0 on an empty dataDir, acknowledgement only after the
 * log is on disk, and replay over a fuzzy snapshot.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateMode, Ids, Op } from '../../../src';
import { CreateRequest, OpCode } from '../../../src/proto';
import { ZooKeeperServer, type ServerOptions } from '../../../src/server';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import { MemoryTxnStore } from '../../../src/server/persist/memory-store';
import type { LoadedState, SnapshotContents, TxnEntry, TxnStore } from '../../../src/server/persist/types';
import { RawClient } from './raw-client';
import { connectClient, dumpTree, eventually } from './tree-dump';

jest.setTimeout(60_000);

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-durability-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const files = (dir: string, prefix: string): string[] =>
  fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(`${prefix}.`)).sort() : [];
const zxidOf = (name: string): bigint => BigInt('0x' + name.slice(name.indexOf('.') + 1));

/** A session that creates an ephemeral and then vanishes without closing (its socket is destroyed). */
async function abandonedSessionWithEphemeral(port: number, nodePath: string, timeOut: number): Promise<{ id: bigint; passwd: Buffer }> {
  const c = await RawClient.connect(port, { timeOut });
  const r = await c.call(OpCode.create, new CreateRequest({ path: nodePath, data: Buffer.from('e'), acl: Ids.OPEN_ACL_UNSAFE, flags: CreateMode.EPHEMERAL }));
  expect(r.header.err).toBe(0);
  const res = { id: c.connectResponse!.sessionId, passwd: c.connectResponse!.passwd! };
  c.close();
  return res;
}

describe('restart cycles on a dataDir', () => {
  it('recovers the tree and sessions each time: a returning session re-attaches, an abandoned one expires later', async () => {
    const dataDir = tmpDir();
    const opts: ServerOptions = { dataDir, clientPort: 0, tickTime: 100, snapCount: 16 };
    let expected: Awaited<ReturnType<typeof dumpTree>> | null = null;
    let returning: { id: bigint; passwd: Buffer } | null = null;
    for (let cycle = 0; cycle < 3; cycle++) {
      const srv = await ZooKeeperServer.start(opts);
      try {
        const zk = await connectClient(srv.connectString);
        if (expected) {
          // Everything acknowledged before the restart is there, stats and ACLs included.
          expect(await dumpTree(zk)).toEqual(expected);
          // The returning session re-attaches with its id and password and still owns its ephemeral.
          const back = await connectClient(srv.connectString, { sessionId: returning!.id, sessionPassword: returning!.passwd });
          expect(back.sessionId).toBe(returning!.id);
          expect((await back.exists(`/keep${cycle - 1}`))!.ephemeralOwner).toBe(returning!.id);
          await back.close();
          expect(await zk.exists(`/keep${cycle - 1}`)).toBeNull();
          // The abandoned session was recovered too, and expires on its own.
          await eventually(async () => (await zk.exists(`/gone${cycle - 1}`)) === null, 5000, 'the abandoned session to expire');
        } else {
          await zk.create('/counter', '0');
        }
        await zk.create(`/c${cycle}`, `cycle ${cycle}`, { acl: [...Ids.OPEN_ACL_UNSAFE] });
        for (let i = 0; i < 20; i++) await zk.setData('/counter', `${cycle}:${i}`);
        for (let i = 0; i < 5; i++) await zk.create(`/c${cycle}/s-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
        await zk.multi([Op.create(`/c${cycle}/m`, 'multi'), Op.setData(`/c${cycle}`, 'after multi'), Op.delete(`/c${cycle}/s-0000000000`)]);
        returning = await abandonedSessionWithEphemeral(srv.clientPort, `/keep${cycle}`, 2000);
        await abandonedSessionWithEphemeral(srv.clientPort, `/gone${cycle}`, 2000);
        expected = await dumpTree(zk);
        await zk.close();
        // snapCount 16 over ~35 txns a cycle: snapshots were taken (and the log rolled) while serving.
        expect(srv.durabilityStats().snapshotsTaken).toBeGreaterThanOrEqual(1);
        expect(srv.durabilityStats().log!.fsyncs).toBeGreaterThan(0);
      } finally {
        await srv.close();
      }
    }
    const v2 = path.join(dataDir, 'version-2');
    expect(files(v2, 'snapshot').length).toBeGreaterThan(3);
    expect(files(v2, 'log').length).toBeGreaterThan(3);
  });
});

describe('snapshots', () => {
  it('writes snapshot.0 into an empty dataDir before the first log entry', async () => {
    const dataDir = tmpDir();
    const srv = await ZooKeeperServer.start({ dataDir, clientPort: 0 });
    const v2 = path.join(dataDir, 'version-2');
    try {
      expect(files(v2, 'snapshot')).toEqual(['snapshot.0']);
      expect(files(v2, 'log')).toEqual([]);
      const zk = await connectClient(srv.connectString);
      await zk.create('/first', 'x');
      await zk.close();
      // The createSession txn (zxid 1) opened the first log file.
      expect(files(v2, 'log')).toEqual(['log.1']);
    } finally {
      await srv.close();
    }
  });

  it('rolls every snapCount/2 + random(snapCount/2) txns, in the background', async () => {
    const dataDir = tmpDir();
    const srv = await ZooKeeperServer.start({ dataDir, clientPort: 0, snapCount: 20 });
    try {
      const zk = await connectClient(srv.connectString);
      await zk.create('/s', '');
      for (let i = 0; i < 200; i++) await zk.setData('/s', String(i));
      // Pipelined: snapshots are taken while appends are in flight (a roll due while one is written waits for it, as Apache skips it).
      await Promise.all(Array.from({ length: 100 }, (_, i) => zk.setData('/s', String(200 + i))));
      await zk.close();
      await srv.takeSnapshot();
    } finally {
      await srv.close();
    }
    const snaps = files(path.join(dataDir, 'version-2'), 'snapshot')
      .map(zxidOf)
      .sort((x, y) => (x < y ? -1 : 1));
    expect(snaps.length).toBeGreaterThan(6);
    const gaps = snaps.slice(1, -1).map((z, i) => Number(z - snaps[i]));
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(10);
    // Randomized rolls: not every gap is the same.
    expect(new Set(gaps).size).toBeGreaterThan(1);
    // And every snapshot file loads into the same tree as the log replay.
    const srv2 = await ZooKeeperServer.start({ dataDir, clientPort: 0 });
    try {
      const zk = await connectClient(srv2.connectString);
      expect((await zk.getData('/s')).data!.toString()).toBe('299');
      await zk.close();
    } finally {
      await srv2.close();
    }
  });

  it('autopurge keeps snapRetainCount snapshots and the logs they need, and runs on schedule', async () => {
    const dataDir = tmpDir();
    const dataLogDir = tmpDir();
    const opts: ServerOptions = {
      dataDir,
      dataLogDir,
      clientPort: 0,
      snapCount: 10,
      // purgeInterval is in hours; a fraction makes the test quick (0.2 s).
      autopurge: { snapRetainCount: 3, purgeIntervalHours: 0.2 / 3600 },
    };
    const srv = await ZooKeeperServer.start(opts);
    const snapDir = path.join(dataDir, 'version-2');
    const logDir = path.join(dataLogDir, 'version-2');
    try {
      const zk = await connectClient(srv.connectString);
      await zk.create('/p', '');
      for (let i = 0; i < 120; i++) await zk.setData('/p', String(i));
      expect(srv.durabilityStats().snapshotsTaken).toBeGreaterThan(5);
      await eventually(() => files(snapDir, 'snapshot').length === 3, 5000, 'purge to leave 3 snapshots');
      expect(srv.durabilityStats().purgeRuns).toBeGreaterThan(1);
      // No log older than the one covering the oldest retained snapshot.
      const oldestSnap = files(snapDir, 'snapshot').map(zxidOf).reduce((m, z) => (z < m ? z : m));
      const logs = files(logDir, 'log').map(zxidOf);
      expect(logs.filter((z) => z <= oldestSnap).length).toBeLessThanOrEqual(1);
      await zk.close();
    } finally {
      await srv.close();
    }
    const srv2 = await ZooKeeperServer.start({ ...opts, autopurge: undefined });
    try {
      const zk = await connectClient(srv2.connectString);
      expect((await zk.getData('/p')).data!.toString()).toBe('119');
      await zk.close();
    } finally {
      await srv2.close();
    }
  });

  it('honours dataLogDir: logs there, snapshots in dataDir, and conf/dirs report both', async () => {
    const dataDir = tmpDir();
    const dataLogDir = tmpDir();
    const opts: ServerOptions = { dataDir, dataLogDir, clientPort: 0, fourLetterWordWhitelist: '*' };
    const srv = await ZooKeeperServer.start(opts);
    try {
      const zk = await connectClient(srv.connectString);
      await zk.create('/l', 'logged');
      await zk.close();
      const ctx = srv.fourLetterContext();
      expect(ctx.conf().dataLogDir).toBe(path.join(dataLogDir, 'version-2'));
      expect(ctx.dirSizes().logDir).toBeGreaterThan(0);
      expect(ctx.dirSizes().dataDir).toBeGreaterThan(0);
    } finally {
      await srv.close();
    }
    expect(files(path.join(dataLogDir, 'version-2'), 'log').length).toBe(1);
    expect(files(path.join(dataLogDir, 'version-2'), 'snapshot')).toEqual([]);
    expect(files(path.join(dataDir, 'version-2'), 'log')).toEqual([]);
    expect(files(path.join(dataDir, 'version-2'), 'snapshot')).toEqual(['snapshot.0']);
    const srv2 = await ZooKeeperServer.start(opts);
    try {
      const zk = await connectClient(srv2.connectString);
      expect((await zk.getData('/l')).data!.toString()).toBe('logged');
      await zk.close();
    } finally {
      await srv2.close();
    }
  });
});

/** A file store whose appends wait for the test to open a gate (to observe when replies are sent). */
class GatedStore implements TxnStore {
  private gateOpen = true;
  private waiting: Array<() => void> = [];
  appendsResolved = 0;
  constructor(private readonly inner: TxnStore) {}
  close(): Promise<void> {
    return this.inner.close();
  }
  load(): Promise<LoadedState> {
    return this.inner.load();
  }
  purge(retain: number): Promise<void> {
    return this.inner.purge(retain);
  }
  snapshot(zxid: bigint, contents: SnapshotContents): Promise<void> {
    return this.inner.snapshot(zxid, contents);
  }
  async append(entries: TxnEntry[]): Promise<void> {
    await this.inner.append(entries);
    if (!this.gateOpen) await new Promise<void>((r) => this.waiting.push(r));
    this.appendsResolved++;
  }
  hold(): void {
    this.gateOpen = false;
  }
  release(): void {
    this.gateOpen = true;
    for (const w of this.waiting.splice(0)) w();
  }
}

describe('acknowledgement', () => {
  it('replies to a write only after the store says its log entry is on disk', async () => {
    const dataDir = tmpDir();
    const store = new GatedStore(new FileTxnStore({ dataDir }));
    const srv = await ZooKeeperServer.start({ clientPort: 0, store });
    try {
      const c = await RawClient.connect(srv.clientPort);
      store.hold();
      const xid = c.send(OpCode.create, new CreateRequest({ path: '/acked', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 }));
      await new Promise((r) => setTimeout(r, 300));
      expect(c.peek().length).toBe(0);
      const before = store.appendsResolved;
      store.release();
      const reply = await c.reply(xid);
      expect(reply.header.err).toBe(0);
      expect(store.appendsResolved).toBe(before + 1);
      c.close();
    } finally {
      store.release();
      await srv.close();
    }
  });
});

/** A store that loads a snapshot labelled with an earlier zxid than the state it holds, like Apache's fuzzy snapshots. */
class FuzzyStore implements TxnStore {
  constructor(private readonly state: LoadedState) {}
  async load(): Promise<LoadedState> {
    return this.state;
  }
  async append(): Promise<void> {}
  async snapshot(): Promise<void> {}
  async purge(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('fuzzy snapshot replay', () => {
  it('replays txns the snapshot already reflects without changing the result', async () => {
    const mem = new MemoryTxnStore();
    const a = await ZooKeeperServer.start({ clientPort: 0, store: mem });
    let expected: Awaited<ReturnType<typeof dumpTree>>;
    let fuzzy: LoadedState;
    try {
      const zk = await connectClient(a.connectString);
      await zk.create('/f', 'v0');
      const z0 = a.tree.lastProcessedZxid;
      await zk.create('/f/a', 'a1');
      await zk.create('/f/q-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      await zk.setData('/f', 'v1');
      await zk.delete('/f/a');
      await zk.create('/f/a', 'a2');
      await zk.create('/f/e', 'eph', { mode: CreateMode.EPHEMERAL });
      await zk.multi([Op.create('/f/m', ''), Op.setData('/f', 'v2'), Op.create('/f/q-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL })]);
      await zk.setACL('/f/m', [...Ids.READ_ACL_UNSAFE]);
      // Closing the session deletes /f/e: the replay has a closeSession to apply over a tree that no longer has it.
      await zk.close();
      const reader = await connectClient(a.connectString);
      expected = await dumpTree(reader);
      // The snapshot holds the final tree but claims to be at z0: every later txn is replayed over it.
      const contents = a.tree.snapshotContents(a.sessions.snapshot());
      const txns = mem.entries.filter((e) => e.header.zxid > z0);
      fuzzy = { snapshot: { ...contents, zxid: z0 }, txns: [...txns], lastZxid: a.tree.lastProcessedZxid };
      await reader.close();
    } finally {
      await a.close();
    }
    const b = await ZooKeeperServer.start({ clientPort: 0, store: new FuzzyStore(fuzzy!) });
    try {
      const zk = await connectClient(b.connectString);
      expect(await dumpTree(zk)).toEqual(expected!);
      await zk.close();
    } finally {
      await b.close();
    }
  });
});
