/**
 * The one apply path (issue 6 groundwork): a committed txn changes the tree
 * and the session table the same way whether it is live (the pipeline) or
 * replayed (recovery), and only live txns reach the snapshot hook.
 */
import { CloseSessionTxn, OpCode, TxnHeader } from '../../../src/proto';
import { TxnApplier } from '../../../src/server/request/txn-applier';
import { SessionTracker } from '../../../src/server/session/session-tracker';
import { DataTree } from '../../../src/server/tree/data-tree';
import { createEntry, createSessionEntry, encode, SESSION, T0 } from '../persist/persist-helpers';

function setUp() {
  const tree = new DataTree({ extendedTypesEnabled: false });
  const sessions = new SessionTracker(1000, Date.now, 1);
  const live: bigint[] = [];
  const applier = new TxnApplier({ tree, sessions, defaultSessionTimeout: 4000, onApplied: (h) => live.push(h.zxid) });
  return { tree, sessions, applier, live };
}

const closeSessionEntry = (zxid: bigint, paths: string[]) => ({
  header: new TxnHeader({ clientId: SESSION, cxid: 0, zxid, time: T0 + zxid, type: OpCode.closeSession }),
  body: encode(new CloseSessionTxn({ paths2Delete: paths })),
});

describe('TxnApplier', () => {
  test('replay and live give the same tree and sessions; only live txns reach the hook', () => {
    const entries = [createSessionEntry(1n, SESSION, 6000), createEntry(2n, '/a', 'x'), createSessionEntry(3n, SESSION + 1n, 9000)];
    const replayed = setUp();
    const live = setUp();
    for (const e of entries) replayed.applier.applyLogged(e, false);
    for (const e of entries) live.applier.applyLogged(e);
    expect(replayed.sessions.snapshot()).toEqual(new Map([[SESSION, 6000], [SESSION + 1n, 9000]]));
    expect(live.sessions.snapshot()).toEqual(replayed.sessions.snapshot());
    expect(live.tree.getNode('/a')?.data?.toString()).toBe('x');
    expect(replayed.tree.lastProcessedZxid).toBe(3n);
    expect(replayed.live).toEqual([]);
    expect(live.live).toEqual([1n, 2n, 3n]);
  });

  test('a committed createSession keeps a session created here as it is; closeSession removes it', () => {
    const { sessions, applier } = setUp();
    sessions.addSession(SESSION, 5000); // the leader/standalone added it when the handshake came in
    applier.applyLogged(createSessionEntry(1n, SESSION, 7000));
    expect(sessions.snapshot().get(SESSION)).toBe(5000);
    applier.applyLogged(closeSessionEntry(2n, []));
    expect(sessions.isActive(SESSION)).toBe(false);
    expect(sessions.snapshot().has(SESSION)).toBe(false);
  });

  test('an unexpected error while applying still counts the zxid, the session change and the snapshot hook, then reaches the caller', () => {
    const { tree, sessions, applier, live } = setUp();
    tree.processTxn = () => {
      throw new Error('boom');
    };
    expect(() => applier.applyLogged(createSessionEntry(7n, SESSION, 6000))).toThrow('boom');
    expect(tree.lastProcessedZxid).toBe(7n);
    expect(sessions.isActive(SESSION)).toBe(true);
    expect(live).toEqual([7n]); // logged, so it counts toward the next snapshot
  });
});
