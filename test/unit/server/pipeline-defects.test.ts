/**
 * Regression tests for defects found by a read of the standalone server's
 * request pipeline: store failures that left promises (a handshake, close())
 * unsettled, unexpected apply errors escaping as unhandled rejections, zxid
 * holes after a prep error, and requests executed on a closing session.
 */
import { Ids } from '../../../src';
import { CreateRequest, ExistsRequest, OpCode } from '../../../src/proto';
import { ErrorCode } from '../../../src/proto/constants';
import { ZooKeeperServer } from '../../../src/server';
import { MemoryTxnStore } from '../../../src/server/persist/memory-store';
import type { LoadedState, SnapshotContents, TxnEntry, TxnStore } from '../../../src/server/persist/types';
import { RequestPipeline } from '../../../src/server/request/request-pipeline';
import { encodeMultiRequest } from '../../../src/server/request/request-records';
import { SessionTracker } from '../../../src/server/session/session-tracker';
import { DataTree } from '../../../src/server/tree/data-tree';
import { RawClient } from './raw-client';
import { eventually } from './tree-dump';

jest.setTimeout(20_000);

/** A memory store whose appends can be held (to keep txns in flight) or made to fail. */
class ControlledStore implements TxnStore {
  readonly inner = new MemoryTxnStore();
  /** Every entry handed to append, held or not. */
  readonly appended: TxnEntry[] = [];
  private holding = false;
  private held: Array<{ resolve: () => void; reject: (e: unknown) => void; entries: TxnEntry[] }> = [];
  private failWith: Error | null = null;

  load(): Promise<LoadedState> {
    return this.inner.load();
  }
  snapshot(zxid: bigint, contents: SnapshotContents): Promise<void> {
    return this.inner.snapshot(zxid, contents);
  }
  purge(retain: number): Promise<void> {
    return this.inner.purge(retain);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  append(entries: TxnEntry[]): Promise<void> {
    this.appended.push(...entries);
    if (this.failWith) return Promise.reject(this.failWith);
    if (!this.holding) return this.inner.append(entries);
    return new Promise((resolve, reject) => this.held.push({ resolve, reject, entries }));
  }
  get heldCount(): number {
    return this.held.length;
  }
  hold(): void {
    this.holding = true;
  }
  release(): void {
    this.holding = false;
    for (const h of this.held.splice(0)) this.inner.append(h.entries).then(h.resolve, h.reject);
  }
  /** Fails every later append, and the held ones. */
  fail(err: Error): void {
    this.failWith = err;
    for (const h of this.held.splice(0)) h.reject(err);
  }
}

/** Rejects when `p` has not settled within `ms` (a bounded wait, never an assertion of speed). */
function within<T>(p: Promise<T>, ms = 3000, what = 'promise'): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function pipelineWith(store: TxnStore, log?: (m: string) => void): { pipeline: RequestPipeline; tree: DataTree; sessions: SessionTracker } {
  const tree = new DataTree({ extendedTypesEnabled: false });
  const sessions = new SessionTracker(1000, Date.now, 1);
  const pipeline = new RequestPipeline({ tree, sessions, store, extendedTypesEnabled: false, log });
  return { pipeline, tree, sessions };
}

const createSession = (sessionId: bigint) => ({ sessionId, cxid: 0, type: OpCode.createSession, record: null, authInfo: [], timeout: 4000 });
const createReq = (path: string) => new CreateRequest({ path, data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 });

// Unhandled rejections are recorded (and so do not crash the worker) and every test asserts there were none.
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => process.off('unhandledRejection', onUnhandled));
beforeEach(() => {
  unhandled.length = 0;
});
afterEach(async () => {
  await turn();
  expect(unhandled).toEqual([]);
});

describe('1. store failure settles submitInternal', () => {
  it('rejects a pending and a later submitInternal with the store error', async () => {
    const store = new ControlledStore();
    const { pipeline } = pipelineWith(store);
    store.fail(new Error('disk on fire'));
    await expect(within(pipeline.submitInternal(createSession(101n)), 3000, 'submitInternal')).rejects.toThrow(/disk on fire/);
    await expect(within(pipeline.submitInternal(createSession(102n)), 3000, 'submitInternal after failure')).rejects.toThrow(/disk on fire/);
  });

  it('a handshake whose createSession cannot be logged ends with the connection closed', async () => {
    const store = new ControlledStore();
    const logs: string[] = [];
    const srv = await ZooKeeperServer.start({ clientPort: 0, store, logger: (m) => logs.push(m) });
    try {
      store.fail(new Error('disk on fire'));
      const c = await RawClient.open(srv.clientPort);
      c.sendConnect();
      await c.waitFor(() => c.closed, 5000);
      expect(c.connectResponse).toBeNull();
      expect(logs.some((l) => /createSession failed: .*disk on fire/.test(l))).toBe(true);
    } finally {
      await within(srv.close(), 5000, 'close');
    }
  });
});

describe('2. an unexpected error while applying a txn', () => {
  it('is logged and answered MarshallingError, with no unhandled rejection, and the session carries on', async () => {
    const logs: string[] = [];
    const srv = await ZooKeeperServer.start({ clientPort: 0, logger: (m) => logs.push(m) });
    const c = await RawClient.connect(srv.clientPort);
    try {
      const orig = srv.tree.processTxn.bind(srv.tree);
      jest.spyOn(srv.tree, 'processTxn').mockImplementation((header, txn, isSub) => {
        if (header.type === OpCode.create && (txn as { path?: string }).path === '/boom') throw new TypeError('tree bug');
        return orig(header, txn, isSub);
      });
      const bad = await c.call(OpCode.create, createReq('/boom'));
      expect(bad.header.err).toBe(ErrorCode.MARSHALLINGERROR);
      expect(logs.some((l) => /failed to apply txn .*TypeError: tree bug/.test(l))).toBe(true);
      const ok = await c.call(OpCode.create, createReq('/fine'));
      expect(ok.header.err).toBe(0);
      expect(ok.header.zxid).toBe(bad.header.zxid + 1n);
    } finally {
      c.close();
      await within(srv.close(), 5000, 'close');
    }
  });
});

describe('3. a prep error takes no zxid', () => {
  it('leaves the logged zxids contiguous and no change record of the failed request behind', async () => {
    const store = new ControlledStore();
    const logs: string[] = [];
    const srv = await ZooKeeperServer.start({ clientPort: 0, store, logger: (m) => logs.push(m) });
    const a = await RawClient.connect(srv.clientPort);
    const b = await RawClient.connect(srv.clientPort);
    try {
      // The second op's session check throws a non-KeeperError after the first op added its change records.
      const orig = srv.sessions.checkSession.bind(srv.sessions);
      let calls = 0;
      jest.spyOn(srv.sessions, 'checkSession').mockImplementation((id) => {
        if (++calls === 2) throw new TypeError('prep bug');
        orig(id);
      });
      const multi = encodeMultiRequest([
        { type: OpCode.create, record: createReq('/m1') },
        { type: OpCode.create, record: createReq('/m2') },
      ]);
      a.send(OpCode.multi, multi);
      await a.waitFor(() => a.closed, 5000);
      const r = await b.call(OpCode.create, createReq('/m1'));
      expect(r.header.err).toBe(0); // NodeExists would mean the failed multi's change record survived
      const zxids = store.appended.map((e) => e.header.zxid);
      expect(zxids).toEqual(zxids.map((_, i) => zxids[0] + BigInt(i)));
      expect(r.header.zxid).toBe(zxids[zxids.length - 1]);
      expect(logs.some((l) => /cannot process request .*TypeError: prep bug/.test(l))).toBe(true);
    } finally {
      a.close();
      b.close();
      await within(srv.close(), 5000, 'close');
    }
  });
});

describe('4. requests of a closing or expired session are dropped', () => {
  it('executes nothing sent after closeSession', async () => {
    const store = new ControlledStore();
    const srv = await ZooKeeperServer.start({ clientPort: 0, store });
    const c = await RawClient.connect(srv.clientPort);
    try {
      const sid = c.connectResponse!.sessionId;
      store.hold(); // keeps closeSession in flight until the later requests have been read
      const received = srv.serverStats.packetsReceived;
      const closeXid = c.send(OpCode.closeSession, null);
      const createXid = c.send(OpCode.create, createReq('/after-close'));
      const existsXid = c.send(OpCode.exists, new ExistsRequest({ path: '/', watch: false }));
      await eventually(() => srv.serverStats.packetsReceived >= received + 3, 5000, 'the server to read all three requests');
      await turn();
      expect(store.appended.filter((e) => e.header.clientId === sid && e.header.cxid === createXid)).toEqual([]);
      store.release();
      expect((await c.reply(closeXid)).header.err).toBe(0);
      await c.waitFor(() => c.closed, 5000);
      expect(c.drain().filter((f) => f.header.xid === createXid || f.header.xid === existsXid)).toEqual([]);
      expect(srv.tree.getNode('/after-close')).toBeUndefined();
      // Not even an ErrorTxn was logged for it.
      expect(store.appended.filter((e) => e.header.clientId === sid && e.header.cxid === createXid)).toEqual([]);
    } finally {
      store.release();
      c.close();
      await within(srv.close(), 5000, 'close');
    }
  });

  it('neither answers nor logs requests that arrive once the session expired', async () => {
    const store = new ControlledStore();
    let now = Date.now();
    const srv = await ZooKeeperServer.start({ clientPort: 0, store, tickTime: 100, now: () => now });
    const c = await RawClient.connect(srv.clientPort, { timeOut: 1000 });
    try {
      const sid = c.connectResponse!.sessionId;
      store.hold(); // keeps the expiry's closeSession in flight, so the connection stays open meanwhile
      now += 60_000;
      expect(srv.expireSessions(now)).toEqual([sid]);
      const received = srv.serverStats.packetsReceived;
      const sent = srv.serverStats.packetsSent;
      const existsXid = c.send(OpCode.exists, new ExistsRequest({ path: '/', watch: false }));
      const createXid = c.send(OpCode.create, createReq('/after-expiry'));
      await eventually(() => srv.serverStats.packetsReceived >= received + 2, 5000, 'the server to read both requests');
      await turn(); // lets the append of a submitted write (there must be none) reach the store
      expect(srv.serverStats.packetsSent).toBe(sent);
      expect(store.appended.filter((e) => e.header.clientId === sid && e.header.cxid === createXid)).toEqual([]);
      store.release();
      await c.waitFor(() => c.closed, 5000);
      expect(c.drain().filter((f) => f.header.xid === existsXid || f.header.xid === createXid)).toEqual([]);
      expect(srv.tree.getNode('/after-expiry')).toBeUndefined();
    } finally {
      store.release();
      c.close();
      await within(srv.close(), 5000, 'close');
    }
  });
});

describe('5. close() waits on a promise, not a poll', () => {
  it('idle() schedules no timer while txns are in flight, and settles when they are applied', async () => {
    const store = new ControlledStore();
    const { pipeline } = pipelineWith(store);
    store.hold();
    const applied = pipeline.submitInternal(createSession(201n));
    await turn();
    expect(store.heldCount).toBe(1);
    const timers = jest.spyOn(global, 'setTimeout');
    let settled = false;
    const idle = pipeline.idle().then(() => {
      settled = true;
    });
    await turn();
    await turn();
    expect(settled).toBe(false);
    expect(timers).not.toHaveBeenCalled();
    timers.mockRestore();
    store.release();
    await within(idle, 3000, 'idle');
    await expect(applied).resolves.toMatchObject({ err: 0 });
  });

  it('idle() settles when an apply in the middle of a batch throws', async () => {
    const logs: string[] = [];
    const { pipeline, tree } = pipelineWith(new MemoryTxnStore(), (m) => logs.push(m));
    const orig = tree.processTxn.bind(tree);
    jest.spyOn(tree, 'processTxn').mockImplementation((header, txn, isSub) => {
      if (header.clientId === 301n) throw new TypeError('tree bug');
      return orig(header, txn, isSub);
    });
    // Same turn: one append batch, so the second txn depends on draining past the first.
    const first = pipeline.submitInternal(createSession(301n));
    const second = pipeline.submitInternal(createSession(302n));
    await expect(within(first, 3000, 'first')).rejects.toThrow(/tree bug/);
    await expect(within(second, 3000, 'second')).resolves.toMatchObject({ err: 0 });
    await within(pipeline.idle(), 3000, 'idle');
    expect(pipeline.inFlight).toBe(0);
  });

  it('close() settles when the store fails while it waits for in-flight writes', async () => {
    const store = new ControlledStore();
    const srv = await ZooKeeperServer.start({ clientPort: 0, store });
    const c = await RawClient.connect(srv.clientPort);
    try {
      store.hold();
      c.send(OpCode.create, createReq('/never'));
      await eventually(() => store.heldCount === 1, 5000, 'the append to be held');
      const closing = srv.close();
      store.fail(new Error('disk on fire'));
      await within(closing, 5000, 'close');
      await c.waitFor(() => c.closed, 5000);
      // And a second close() after the failure returns too.
      await within(srv.close(), 5000, 'second close');
    } finally {
      c.close();
    }
  });
});
