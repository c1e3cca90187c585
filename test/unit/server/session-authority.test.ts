/**
 * The session authority (issue 6 groundwork): standalone (and a leader)
 * decides about sessions locally. Create commits a createSession txn,
 * revalidate and touch push expiry out on the injected clock, and expiry
 * commits closeSession txns and then tells the caller.
 */
import { MemoryTxnStore } from '../../../src/server/persist/memory-store';
import { RequestPipeline } from '../../../src/server/request/request-pipeline';
import { LocalSessionAuthority } from '../../../src/server/session/session-authority';
import { SessionTracker } from '../../../src/server/session/session-tracker';
import { DataTree } from '../../../src/server/tree/data-tree';

function setUp() {
  let clock = 1_000_000;
  const now = () => clock;
  const tree = new DataTree({ extendedTypesEnabled: false });
  const sessions = new SessionTracker(100, now, 3);
  const store = new MemoryTxnStore();
  const pipeline = new RequestPipeline({ tree, sessions, store, extendedTypesEnabled: false, now });
  const logs: string[] = [];
  const authority = new LocalSessionAuthority(sessions, pipeline, (m) => logs.push(m));
  return { sessions, pipeline, authority, logs, tree, advance: (ms: number) => (clock += ms), now };
}

describe('LocalSessionAuthority', () => {
  test('create commits a createSession txn; the id carries the server id in its top byte', async () => {
    const { authority, sessions, tree } = setUp();
    const { id, zxid } = await authority.create(4000);
    expect(id >> 56n).toBe(3n);
    expect(zxid).toBe(tree.lastProcessedZxid);
    expect(sessions.snapshot().get(id)).toBe(4000);
  });

  test('revalidate and touch keep a session alive on the injected clock; an unknown or closing one is refused', async () => {
    const { authority, advance, now } = setUp();
    const { id } = await authority.create(1000);
    advance(800);
    expect(await authority.revalidate(id, 1000)).toBe(true);
    advance(800);
    expect(authority.touch(id)).toBe(true);
    advance(800);
    expect(authority.expireDue(now(), () => undefined)).toEqual([]); // touched 800 ms ago, timeout 1000
    expect(await authority.revalidate(0x0300000000000099n, 1000)).toBe(false);
    expect(authority.touch(0x0300000000000099n)).toBe(false);
  });

  test('expiry commits closeSession txns, then reports each session closed; the session is then refused', async () => {
    const { authority, sessions, advance, now, logs, pipeline } = setUp();
    const a = (await authority.create(1000)).id;
    const b = (await authority.create(5000)).id;
    advance(1300);
    const closed: bigint[] = [];
    expect(authority.expireDue(now(), (id) => closed.push(id))).toEqual([a]);
    expect(authority.touch(a)).toBe(false); // closing already, before its txn is applied
    await pipeline.idle();
    await new Promise((r) => setImmediate(r));
    expect(closed).toEqual([a]);
    expect(sessions.snapshot().has(a)).toBe(false);
    expect(sessions.snapshot().has(b)).toBe(true);
    expect(logs.some((l) => l.includes(`expiring session 0x${a.toString(16)}`))).toBe(true);
  });
});
