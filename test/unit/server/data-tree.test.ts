import { ACL, CreateTxn, DeleteTxn, ErrorCode, EventType, Ids, MultiTxn, OpCode, SetDataTxn, Txn, TxnHeader, ErrorTxn } from '../../../src/proto';
import { encodeRecord } from '../../../src/jute';
import { AclCache, OPEN_UNSAFE_ACL_ID } from '../../../src/server/tree/acl-cache';
import { DataTree } from '../../../src/server/tree/data-tree';
import { CONTAINER_EPHEMERAL_OWNER, ephemeralKind, ttlToEphemeralOwner } from '../../../src/server/tree/ephemeral-type';
import type { WatchedEvent, Watcher } from '../../../src/server/tree/watch-manager';

const hdr = (zxid: number, type: number, clientId = 5n): TxnHeader => new TxnHeader({ clientId, cxid: 1, zxid: BigInt(zxid), time: BigInt(1000 + zxid), type });
const create = (path: string, parentCVersion: number, ephemeral = false): CreateTxn =>
  new CreateTxn({ path, data: Buffer.from('d'), acl: Ids.OPEN_ACL_UNSAFE, ephemeral, parentCVersion });

class Recorder implements Watcher {
  events: WatchedEvent[] = [];
  process(e: WatchedEvent): void {
    this.events.push(e);
  }
}

describe('DataTree', () => {
  it('starts with /, /zookeeper, /zookeeper/quota and /zookeeper/config as Apache does', () => {
    const t = new DataTree();
    expect([...t.nodes.keys()].sort()).toEqual(['/', '/zookeeper', '/zookeeper/config', '/zookeeper/quota']);
    // Built-in nodes have zeroed stats, so the root reports cversion 2*0 - 1 = -1.
    expect(t.statOf(t.getNode('/')!).cversion).toBe(-1);
    expect(t.statOf(t.getNode('/zookeeper')!).cversion).toBe(-2);
    expect(t.getACL('/zookeeper/config').acl).toEqual(Ids.READ_ACL_UNSAFE);
    expect(t.getNode('/zookeeper/config')!.stat.aversion).toBe(-1);
  });

  it('keeps the create counter as the persisted cversion and reports 2*counter - children', () => {
    const t = new DataTree();
    t.processTxn(hdr(1, OpCode.create), create('/a', 1));
    t.processTxn(hdr(2, OpCode.create), create('/a/x', 1));
    t.processTxn(hdr(3, OpCode.create), create('/a/y', 2));
    t.processTxn(hdr(4, OpCode.delete), new DeleteTxn({ path: '/a/x' }));
    const a = t.getNode('/a')!;
    expect(a.stat.cversion).toBe(2); // deletes do not move the counter
    expect(a.stat.pzxid).toBe(4n); // but they do move pzxid
    const s = t.statOf(a);
    expect(s.cversion).toBe(3);
    expect(s.numChildren).toBe(1);
    expect(t.lastProcessedZxid).toBe(4n);
  });

  it('fills Stat like DataNode.copyStat and hides container/TTL owners from clients', () => {
    const t = new DataTree({ extendedTypesEnabled: true });
    t.processTxn(hdr(1, OpCode.create2), create('/e', 1, true));
    const s = t.statNode('/e');
    expect(s).toMatchObject({ czxid: 1n, mzxid: 1n, pzxid: 1n, ctime: 1001n, mtime: 1001n, version: 0, dataLength: 1, ephemeralOwner: 5n });
    t.createNode('/c', null, null, CONTAINER_EPHEMERAL_OWNER, -1, 2n, 0n, false);
    t.createNode('/t', null, null, ttlToEphemeralOwner(500n), -1, 3n, 0n, false);
    expect(t.statNode('/c').ephemeralOwner).toBe(0n);
    expect(t.statNode('/t').ephemeralOwner).toBe(0n);
    expect(t.containers.has('/c')).toBe(true);
    expect(t.ttls.has('/t')).toBe(true);
    expect(t.getEphemerals(5n)).toEqual(new Set(['/e']));
  });

  it('classifies ephemeral owners as Apache EphemeralType does', () => {
    expect(ephemeralKind(0n, true)).toBe('VOID');
    expect(ephemeralKind(CONTAINER_EPHEMERAL_OWNER, false)).toBe('CONTAINER');
    expect(ephemeralKind(ttlToEphemeralOwner(1000n), true)).toBe('TTL');
    expect(ephemeralKind(ttlToEphemeralOwner(1000n), false)).toBe('NORMAL');
    expect(ttlToEphemeralOwner(1000n)).toBe(BigInt.asIntN(64, 0xff000000000003e8n));
  });

  it('reports a failed multi as errors: OK before the failure, its code, RUNTIMEINCONSISTENCY after', () => {
    const t = new DataTree();
    const multi = new MultiTxn({
      txns: [
        new Txn({ type: OpCode.create, data: encodeRecord(create('/m', 1)) }),
        new Txn({ type: OpCode.error, data: encodeRecord(new ErrorTxn({ err: ErrorCode.BADVERSION })) }),
        new Txn({ type: OpCode.error, data: encodeRecord(new ErrorTxn({ err: ErrorCode.RUNTIMEINCONSISTENCY })) }),
      ],
    });
    const rc = t.processTxn(hdr(1, OpCode.multi), multi);
    expect(rc.multiResult!.map((r) => [r.type, r.err])).toEqual([
      [OpCode.error, 0],
      [OpCode.error, ErrorCode.BADVERSION],
      [OpCode.error, ErrorCode.RUNTIMEINCONSISTENCY],
    ]);
    expect(t.getNode('/m')).toBeUndefined();
    expect(t.lastProcessedZxid).toBe(1n);
  });

  it('fires one-shot watches once, persistent ones every time, and never NodeChildrenChanged to recursive watches', () => {
    const t = new DataTree();
    const oneShot = new Recorder();
    const persistent = new Recorder();
    const recursive = new Recorder();
    expect(() => t.statNode('/a', oneShot)).toThrow();
    t.addWatch('/a', 0, persistent);
    t.addWatch('/', 1, recursive);
    t.processTxn(hdr(1, OpCode.create), create('/a', 1));
    t.processTxn(hdr(2, OpCode.setData), new SetDataTxn({ path: '/a', data: null, version: 1 }));
    t.processTxn(hdr(3, OpCode.create), create('/a/b', 1));
    expect(oneShot.events.map((e) => e.type)).toEqual([EventType.NodeCreated]);
    expect(persistent.events.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeCreated, '/a'],
      [EventType.NodeDataChanged, '/a'],
      [EventType.NodeChildrenChanged, '/a'],
    ]);
    expect(recursive.events.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeCreated, '/a'],
      [EventType.NodeDataChanged, '/a'],
      [EventType.NodeCreated, '/a/b'],
    ]);
  });

  it('notifies a watcher once when a node it watches both ways is deleted', () => {
    const t = new DataTree();
    t.processTxn(hdr(1, OpCode.create), create('/a', 1));
    const w = new Recorder();
    t.getData('/a', w);
    t.getChildren('/a', w);
    t.processTxn(hdr(2, OpCode.delete), new DeleteTxn({ path: '/a' }));
    expect(w.events.map((e) => e.type)).toEqual([EventType.NodeDeleted]);
  });

  it('setWatches fires what changed after relativeZxid and re-registers the rest', () => {
    const t = new DataTree();
    t.processTxn(hdr(1, OpCode.create), create('/old', 1));
    t.processTxn(hdr(5, OpCode.create), create('/new', 2));
    const w = new Recorder();
    t.setWatches(3n, { data: ['/old', '/new', '/gone'], exist: ['/new', '/absent'], child: ['/old', '/'] }, w);
    expect(w.events.map((e) => `${e.type}${e.path}`).sort()).toEqual(['1/new', '2/gone', '3/new', '4/'].sort());
    expect(t.dataWatches.containsWatcher('/old', w)).toBe(true);
    expect(t.dataWatches.containsWatcher('/absent', w)).toBe(true);
    expect(t.childWatches.containsWatcher('/old', w)).toBe(true);
  });

  it('kills a session: deletes its ephemerals, listed or not', () => {
    const t = new DataTree();
    t.processTxn(hdr(1, OpCode.create), create('/e1', 1, true));
    t.processTxn(hdr(2, OpCode.create), create('/e2', 2, true));
    t.killSession(5n, 3n, ['/e1']);
    expect(t.getNode('/e1')).toBeUndefined();
    expect(t.getNode('/e2')).toBeUndefined();
    expect(t.ephemerals.has(5n)).toBe(false);
  });

  it('round-trips through snapshot contents, parents first with the root as ""', () => {
    const t = new DataTree();
    t.processTxn(hdr(1, OpCode.create), create('/a', 1, true));
    t.processTxn(hdr(2, OpCode.create), new CreateTxn({ path: '/b', data: null, acl: Ids.READ_ACL_UNSAFE, ephemeral: false, parentCVersion: 2 }));
    const snap = t.snapshotContents(new Map([[5n, 4000]]));
    expect(snap.nodes[0].path).toBe('');
    const seen = new Set<string>(['']);
    for (const n of snap.nodes.slice(1)) {
      const parent = n.path.slice(0, n.path.lastIndexOf('/'));
      expect(seen.has(parent)).toBe(true);
      seen.add(n.path);
    }
    const u = new DataTree();
    u.loadSnapshot(snap, 2n);
    expect([...u.nodes.keys()].sort()).toEqual([...t.nodes.keys()].sort());
    expect(u.statNode('/a')).toEqual(t.statNode('/a'));
    expect(u.getACL('/b').acl).toEqual(Ids.READ_ACL_UNSAFE);
    expect(u.getEphemerals(5n)).toEqual(new Set(['/a']));
    expect(u.lastProcessedZxid).toBe(2n);
  });
});

describe('AclCache (ReferenceCountedACLCache)', () => {
  it('numbers lists from 1, counts references and frees unused lists', () => {
    const c = new AclCache();
    const a = c.convertAcls(Ids.OPEN_ACL_UNSAFE);
    const b = c.convertAcls(Ids.READ_ACL_UNSAFE);
    expect([a, b]).toEqual([1n, 2n]);
    expect(c.convertAcls(Ids.OPEN_ACL_UNSAFE)).toBe(1n);
    expect(c.referenceCount(1n)).toBe(2);
    c.removeUsage(1n);
    c.removeUsage(1n);
    expect(c.size).toBe(1);
    expect(() => c.convertLong(1n)).toThrow();
    expect(c.convertAcls(null)).toBe(OPEN_UNSAFE_ACL_ID);
    expect(c.convertLong(OPEN_UNSAFE_ACL_ID)).toEqual(Ids.OPEN_ACL_UNSAFE);
    expect(c.convertAcls([new ACL({ perms: 1, id: Ids.ANYONE_ID_UNSAFE })])).toBe(2n);
  });
});
