/**
 * Snapshots, log rolls and the request pipeline on a real dataDir, with the
 * store's timing under the test's control: a snapshot that does not finish,
 * and appends that are held (a disk whose fsync stalls). This pins what the
 * kill -9 crash test relies on after a restart:
 *
 *  - a read is never held up by the txn log or by a snapshot: it waits only
 *    for the earlier writes of its own session (session order), and is
 *    answered right after their replies;
 *  - writes keep being logged and acknowledged while a snapshot is being
 *    written, across log rolls (the new file starts after the snapshot's zxid);
 *  - a snapshot that comes due while the previous one is still being written
 *    is skipped and the count starts over (Apache's "Too busy to snap"), so a
 *    slow disk does not get back-to-back full-tree snapshots.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateMode, Ids } from '../../../src';
import { CreateRequest, ExistsRequest, GetChildren2Request, GetChildren2Response, GetDataRequest, OpCode, SetDataRequest } from '../../../src/proto';
import { ZooKeeperServer } from '../../../src/server';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import type { LoadedState, SnapshotContents, TxnEntry, TxnStore } from '../../../src/server/persist/types';
import { RawClient, decode } from './raw-client';

jest.setTimeout(30_000);

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-snapshot-roll-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Gate {
  promise: Promise<void>;
  open(): void;
}
function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/**
 * A FileTxnStore whose snapshots and appends finish only when the test says
 * so. snapshot() rolls the log at once (the real store's roll) and writes the
 * file, but its promise waits for the snapshot gate; held appends are written
 * only once released, as if fsync stalled.
 */
class GatedStore implements TxnStore {
  readonly inner: FileTxnStore;
  snapshotGate: Gate | null = null;
  appendGate: Gate | null = null;
  snapshotCalls: bigint[] = [];
  /** Snapshot calls that have settled. */
  snapshotsDone = 0;
  /** Appends issued while the append gate was closed. */
  heldAppends = 0;

  constructor(dataDir: string) {
    this.inner = new FileTxnStore({ dataDir, fsync: false, preAllocSize: 64 * 1024 });
  }

  load(): Promise<LoadedState> {
    return this.inner.load();
  }

  async append(entries: TxnEntry[]): Promise<void> {
    const g = this.appendGate;
    if (g) {
      this.heldAppends++;
      await g.promise;
    }
    return this.inner.append(entries);
  }

  async snapshot(zxid: bigint, contents: SnapshotContents): Promise<void> {
    this.snapshotCalls.push(zxid);
    const written = this.inner.snapshot(zxid, contents);
    const g = this.snapshotGate;
    try {
      if (g) await g.promise;
      await written;
    } finally {
      this.snapshotsDone++;
    }
  }

  /** Opens both gates (for clean-up after a failure). */
  releaseAll(): void {
    this.snapshotGate?.open();
    this.appendGate?.open();
    this.snapshotGate = null;
    this.appendGate = null;
  }

  purge(retain: number): Promise<void> {
    return this.inner.purge(retain);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const logFiles = (dataDir: string): string[] => fs.readdirSync(path.join(dataDir, 'version-2')).filter((n) => n.startsWith('log.')).sort();
const create = (p: string) => new CreateRequest({ path: p, data: Buffer.from(p), acl: Ids.OPEN_ACL_UNSAFE, flags: CreateMode.PERSISTENT });

/** Waits until `cond` holds, polling; fails with `what` after `ms`. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('snapshots and log rolls under a slow disk', () => {
  let randomSpy: jest.SpyInstance | null = null;
  afterEach(() => {
    randomSpy?.mockRestore();
    randomSpy = null;
  });

  it('reads are answered while a snapshot is stuck and appends are held; a read behind its own session\'s write waits only for that write', async () => {
    const dataDir = tmpDir();
    const store = new GatedStore(dataDir);
    // snapCount 2: a snapshot comes due on every commit, so every write below rolls the log.
    const srv = await ZooKeeperServer.start({ store, clientPort: 0, snapCount: 2 });
    const writer = await RawClient.connect(srv.clientPort);
    const reader = await RawClient.connect(srv.clientPort);
    try {
      expect((await writer.call(OpCode.create, create('/p'))).header.err).toBe(0);

      // The snapshot that create came due for is written in the background: let it land first, or
      // (on a loaded machine) it is still in flight and every snapshot below is skipped, none stuck.
      await until(() => store.snapshotsDone === store.snapshotCalls.length, 'earlier snapshots to finish');

      // 1. A snapshot that never finishes (until released): writes go on, each in a new log file.
      store.snapshotGate = gate();
      const first = store.snapshotCalls.length;
      for (let i = 0; i < 5; i++) expect((await writer.call(OpCode.create, create(`/p/a${i}`))).header.err).toBe(0);
      expect(store.snapshotCalls.length).toBe(first + 1); // one stuck; the others came due and were skipped
      expect(srv.durabilityStats().snapshotsSkipped).toBeGreaterThanOrEqual(4);
      const children = decode(GetChildren2Response, (await reader.call(OpCode.getChildren2, new GetChildren2Request({ path: '/p', watch: false }))).body);
      expect(children.children.sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);

      // 2. Appends held too (fsync stalls): the writer pipelines a write and a read of its own session;
      // the other session's reads are answered at once all the same.
      store.appendGate = gate();
      const wXid = writer.send(OpCode.setData, new SetDataRequest({ path: '/p', data: Buffer.from('held'), version: -1 }));
      const rXid = writer.send(OpCode.getData, new GetDataRequest({ path: '/p', watch: false }));
      await until(() => store.heldAppends > 0, 'the setData append to be held');
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const r = await reader.call(OpCode.exists, new ExistsRequest({ path: '/p', watch: false }));
        expect(r.header.err).toBe(0);
        expect(Date.now() - t0).toBeLessThan(2000);
      }
      const g2 = decode(GetChildren2Response, (await reader.call(OpCode.getChildren2, new GetChildren2Request({ path: '/p', watch: false }))).body);
      expect(g2.children).toHaveLength(5);
      // The writer's read waits behind its own write (session order): nothing for it yet.
      expect(writer.peek().filter((f) => f.header.xid === wXid || f.header.xid === rXid)).toEqual([]);

      // 3. Releasing the log answers the write, then the read behind it, in order, with the new data.
      store.appendGate.open();
      store.appendGate = null;
      await writer.waitFor(() => writer.peek().some((f) => f.header.xid === rXid));
      const order = writer.peek().map((f) => f.header.xid).filter((x) => x === wXid || x === rXid);
      expect(order).toEqual([wXid, rXid]);
      expect((await writer.reply(wXid)).header.err).toBe(0);
      const read = await writer.reply(rXid);
      expect(read.header.err).toBe(0);
      expect(read.body.includes(Buffer.from('held'))).toBe(true);

      // 4. The stuck snapshot finishing changes nothing for the clients; the log rolled while it was stuck.
      const takenBefore = srv.durabilityStats().snapshotsTaken;
      store.snapshotGate.open();
      store.snapshotGate = null;
      await until(() => srv.durabilityStats().snapshotsTaken === takenBefore + 1, 'the stuck snapshot to be written');
      expect(logFiles(dataDir).length).toBeGreaterThanOrEqual(2);
      expect((await reader.call(OpCode.exists, new ExistsRequest({ path: '/p/a4', watch: false }))).header.err).toBe(0);
    } finally {
      // A failed expectation must not leave close() waiting on a gate.
      store.releaseAll();
      writer.close();
      reader.close();
      await srv.close();
    }

    // Everything acknowledged is there after a restart from what the gated store wrote.
    const again = await ZooKeeperServer.start({ dataDir, clientPort: 0 });
    try {
      const c = await RawClient.connect(again.clientPort);
      const r = await c.call(OpCode.getData, new GetDataRequest({ path: '/p', watch: false }));
      expect(r.header.err).toBe(0);
      expect(r.body.includes(Buffer.from('held'))).toBe(true);
      const kids = decode(GetChildren2Response, (await c.call(OpCode.getChildren2, new GetChildren2Request({ path: '/p', watch: false }))).body);
      expect(kids.children).toHaveLength(5);
      c.close();
    } finally {
      await again.close();
    }
  });

  it('a snapshot that comes due while one is being written is skipped and the count starts over (no snapshot right after it lands)', async () => {
    // Math.random() = 0: every snapshot comes due after exactly snapCount / 2 txns.
    randomSpy = jest.spyOn(Math, 'random').mockReturnValue(0);
    const dataDir = tmpDir();
    const store = new GatedStore(dataDir);
    const srv = await ZooKeeperServer.start({ store, clientPort: 0, snapCount: 20 });
    // snapshot.0 of the empty dataDir was written at start-up, before any txn.
    expect(store.snapshotCalls).toEqual([0n]);
    const c = await RawClient.connect(srv.clientPort); // txn 1 (createSession)
    try {
      store.snapshotGate = gate();
      for (let i = 2; i <= 10; i++) expect((await c.call(OpCode.create, create(`/n${i}`))).header.err).toBe(0);
      // Txn 10 made the first snapshot come due; it is stuck.
      expect(store.snapshotCalls).toHaveLength(2);
      for (let i = 11; i <= 25; i++) expect((await c.call(OpCode.create, create(`/n${i}`))).header.err).toBe(0);
      // Txn 20 came due while it was stuck: skipped, and the count started over (5 since).
      expect(srv.durabilityStats().snapshotsSkipped).toBe(1);
      expect(store.snapshotCalls).toHaveLength(2);
      store.snapshotGate.open();
      store.snapshotGate = null;
      await until(() => srv.durabilityStats().snapshotsTaken === 1, 'the first snapshot');
      // One more txn after it landed: 6 since the skip, below 10, so no snapshot yet.
      expect((await c.call(OpCode.create, create('/n26'))).header.err).toBe(0);
      expect(store.snapshotCalls).toHaveLength(2);
      for (let i = 27; i <= 30; i++) expect((await c.call(OpCode.create, create(`/n${i}`))).header.err).toBe(0);
      // Txn 30 is 10 since the skip: the next snapshot.
      await until(() => store.snapshotCalls.length === 3, 'the second snapshot to come due');
    } finally {
      store.releaseAll();
      c.close();
      await srv.close();
    }
  });
});
