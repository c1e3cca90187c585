/**
 * The commit seam (issue 6 groundwork): the pipeline answers a write only
 * once its commit path says the txn is committed, takes zxids from an
 * injected source (epoch << 32 | counter), and when leadership is lost with
 * txns in flight abandons them (callers rejected, clients' connections
 * dropped, nothing applied) and keeps serving in the next role.
 */
import { Ids } from '../../../src';
import { CreateRequest, OpCode } from '../../../src/proto';
import { MemoryTxnStore } from '../../../src/server/persist/memory-store';
import type { TxnEntry } from '../../../src/server/persist/types';
import { CommitPath, LeadershipLostError, ZxidRolloverError, ZxidSource } from '../../../src/server/request/commit-path';
import { ClientHandle, QueuedRequest, RequestPipeline } from '../../../src/server/request/request-pipeline';
import { SessionTracker } from '../../../src/server/session/session-tracker';
import { DataTree } from '../../../src/server/tree/data-tree';
import { encode } from '../persist/persist-helpers';

/** A commit path that holds every batch until the test commits or fails it, as a quorum would. */
class HeldCommits implements CommitPath {
  readonly batches: Array<{ entries: TxnEntry[]; resolve: () => void; reject: (e: unknown) => void }> = [];
  commit(entries: TxnEntry[]): Promise<void> {
    return new Promise((resolve, reject) => this.batches.push({ entries, resolve, reject }));
  }
  get zxids(): bigint[] {
    return this.batches.flatMap((b) => b.entries.map((e) => e.header.zxid));
  }
  commitAll(): void {
    for (const b of this.batches.splice(0)) b.resolve();
  }
  failAll(err: unknown): void {
    for (const b of this.batches.splice(0)) b.reject(err);
  }
}

/** A client connection as the pipeline sees it, recording replies and whether it was dropped. */
function fakeClient(sessionId: bigint): ClientHandle & { replies: Array<{ xid: number; zxid: bigint; err: number }>; dropped: boolean } {
  const h = {
    sessionId,
    authInfo: [],
    queue: [] as QueuedRequest[],
    pumped: 0,
    replies: [] as Array<{ xid: number; zxid: bigint; err: number }>,
    dropped: false,
    sendResponse(xid: number, zxid: bigint, err: number) {
      h.replies.push({ xid, zxid, err });
    },
    onQueueShrunk() {},
    onSessionClosed() {},
    close() {
      h.dropped = true;
    },
    process() {},
  };
  return h;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const createSession = (sessionId: bigint) => ({ sessionId, cxid: 0, type: OpCode.createSession, record: null, authInfo: [], timeout: 4000 });
const createRequest = (xid: number, path: string): QueuedRequest => ({
  xid,
  type: OpCode.create,
  body: encode(new CreateRequest({ path, data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 })),
  submitted: false,
  receivedAt: 0,
});

function setUp() {
  const tree = new DataTree({ extendedTypesEnabled: false });
  const sessions = new SessionTracker(1000, Date.now, 1);
  const commits = new HeldCommits();
  const zxids = new ZxidSource();
  zxids.startEpoch(5n);
  const fatal: unknown[] = [];
  const pipeline = new RequestPipeline({ tree, sessions, store: new MemoryTxnStore(), commit: commits, zxids, extendedTypesEnabled: false, onFatal: (e) => fatal.push(e) });
  return { tree, sessions, commits, zxids, pipeline, fatal };
}

describe('ZxidSource', () => {
  test('counts on from a start; a leader epoch starts at counter 1 and refuses to roll into the epoch bits', () => {
    const s = new ZxidSource(41n);
    expect(s.peek()).toBe(42n);
    expect(s.peek()).toBe(42n); // peek takes nothing
    s.take(42n);
    expect(s.lastZxid).toBe(42n);
    s.startEpoch(3n);
    expect(s.peek()).toBe((3n << 32n) | 1n);
    s.take((3n << 32n) | 0xffffffffn);
    expect(() => s.peek()).toThrow(ZxidRolloverError);
    s.reset(0xffffffffn); // standalone numbering is not bounded by epochs
    expect(s.peek()).toBe(0x100000000n);
  });
});

describe('RequestPipeline with an injected commit path', () => {
  test('a write is applied and answered only once committed, with the epoch zxid', async () => {
    const { tree, sessions, commits, pipeline } = setUp();
    const session = pipeline.submitInternal(createSession(0x77n));
    await turn();
    expect(commits.zxids).toEqual([(5n << 32n) | 1n]);
    commits.commitAll();
    await session;
    const client = fakeClient(0x77n);
    client.queue.push(createRequest(1, '/a'));
    pipeline.pump(client);
    await turn();
    expect(commits.zxids).toEqual([(5n << 32n) | 2n]);
    expect(client.replies).toEqual([]); // proposed, not committed: no answer, not in the tree
    expect(tree.getNode('/a')).toBeUndefined();
    commits.commitAll();
    await turn();
    expect(client.replies).toEqual([{ xid: 1, zxid: (5n << 32n) | 2n, err: 0 }]);
    expect(tree.getNode('/a')).toBeDefined();
    expect(sessions.isActive(0x77n)).toBe(true);
  });

  test('the last zxid of an epoch is used, the next write asks the leader to step down instead of rolling over', async () => {
    const exhausted: number[] = [];
    const tree = new DataTree({ extendedTypesEnabled: false });
    const sessions = new SessionTracker(1000, Date.now, 1);
    const commits = new HeldCommits();
    const zxids = new ZxidSource();
    zxids.startEpoch(5n);
    zxids.take((5n << 32n) | 0xfffffffen);
    const pipeline = new RequestPipeline({ tree, sessions, store: new MemoryTxnStore(), commit: commits, zxids, extendedTypesEnabled: false, onZxidExhausted: () => exhausted.push(1) });
    const last = pipeline.submitInternal(createSession(0x78n));
    await turn();
    expect(commits.zxids).toEqual([(5n << 32n) | 0xffffffffn]);
    await expect(pipeline.submitInternal(createSession(0x79n))).rejects.toThrow(ZxidRolloverError);
    expect(exhausted).toEqual([1]);
    expect(commits.zxids).toEqual([(5n << 32n) | 0xffffffffn]); // nothing was proposed with a rolled-over zxid
    commits.commitAll();
    await last;
  });

  test('leadership lost: in-flight txns are abandoned, their clients dropped, nothing applied; the next epoch serves', async () => {
    const { tree, commits, zxids, pipeline, fatal } = setUp();
    const s = pipeline.submitInternal(createSession(0x88n));
    await turn();
    commits.commitAll();
    await s;
    const client = fakeClient(0x88n);
    client.queue.push(createRequest(1, '/lost'), createRequest(2, '/lost2'));
    pipeline.pump(client);
    const internal = pipeline.submitInternal(createSession(0x99n));
    await turn();
    expect(pipeline.inFlight).toBe(3);
    commits.failAll(new LeadershipLostError('quorum gone'));
    await expect(internal).rejects.toBeInstanceOf(LeadershipLostError);
    await pipeline.idle(); // settled, not hung
    expect(client.dropped).toBe(true);
    expect(client.replies).toEqual([]);
    expect(tree.getNode('/lost')).toBeUndefined();
    expect(pipeline.prep.outstandingCount).toBe(0);
    expect(fatal).toEqual([]); // not a store failure

    // Leading again in a new epoch: the abandoned paths are free, numbering restarts.
    zxids.startEpoch(6n);
    const again = fakeClient(0x88n);
    again.queue.push(createRequest(3, '/lost'));
    pipeline.pump(again);
    await turn();
    expect(commits.zxids).toEqual([(6n << 32n) | 1n]);
    commits.commitAll();
    await turn();
    expect(again.replies).toEqual([{ xid: 3, zxid: (6n << 32n) | 1n, err: 0 }]);
  });

  test('any other commit failure is a store failure: fatal, and later writes are refused', async () => {
    const { commits, pipeline, fatal } = setUp();
    const s = pipeline.submitInternal(createSession(0x55n));
    await turn();
    commits.failAll(new Error('disk gone'));
    await expect(s).rejects.toThrow(/disk gone/);
    expect(fatal).toHaveLength(1);
    await expect(pipeline.submitInternal(createSession(0x56n))).rejects.toThrow(/disk gone/);
  });
});
