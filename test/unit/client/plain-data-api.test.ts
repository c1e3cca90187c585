/**
 * Issue 12, client part: the API forgives plain data and is pleasant to log.
 * Plain-object ACLs everywhere a record is taken, the ACL helpers, JSON of
 * Stats, multi results and events, names of states and event types, the
 * request size limit, connect-string refusal, and the public surface.
 * The wire parts run against real Apache ZooKeeper 3.8.
 */
import { inspect } from 'util';
import {
  ZooKeeper,
  CreateMode,
  EventType,
  KeeperState,
  WatcherType,
  AddWatchMode,
  Perms,
  Op,
  Ids,
  ACL,
  Stat,
  OPEN_ACL_UNSAFE,
  CREATOR_ALL_ACL,
  READ_ACL_UNSAFE,
  makeAcl,
  makeDigestAcl,
  digestId,
  combinePerms,
  permsFromString,
  permsToString,
  stateName,
  eventTypeName,
  BadArgumentsError,
  PayloadTooLargeError,
  NoAuthError,
  InvalidACLError,
  WatchedEvent,
  AclEntry,
} from '../../../src';
import * as api from '../../../src';
import { Cluster, startApache, apacheAvailable, digestOf } from '../../harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('names, JSON and helpers (no server)', () => {
  it('KeeperState[s] and EventType[t] give names; enumeration still lists each name once', () => {
    expect(KeeperState[KeeperState.SyncConnected]).toBe('SyncConnected');
    expect(KeeperState[-112]).toBe('Expired');
    expect(EventType[EventType.NodeDataChanged]).toBe('NodeDataChanged');
    expect(EventType[-1]).toBe('None');
    expect(WatcherType[WatcherType.PersistentRecursive]).toBe('PersistentRecursive');
    expect(CreateMode[CreateMode.EPHEMERAL_SEQUENTIAL]).toBe('EPHEMERAL_SEQUENTIAL');
    expect(AddWatchMode[1]).toBe('PERSISTENT_RECURSIVE');
    // Numeric values and enumeration are unchanged.
    expect(KeeperState.SyncConnected).toBe(3);
    expect(Object.keys(KeeperState)).toEqual(['Disconnected', 'SyncConnected', 'AuthFailed', 'ConnectedReadOnly', 'SaslAuthenticated', 'Expired', 'Closed']);
    expect(Object.values(EventType)).toEqual([-1, 1, 2, 3, 4, 5, 6, 7]);
    expect(stateName(5)).toBe('ConnectedReadOnly');
    expect(stateName(99)).toBe('Unknown(99)');
    expect(eventTypeName(4)).toBe('NodeChildrenChanged');
  });

  it('a Stat has a JSON form (longs as strings) and Date views of ctime/mtime', () => {
    const stat = new Stat({ czxid: 0x100000001n, mzxid: 2n, ctime: 1_700_000_000_123n, mtime: 1_700_000_001_000n, version: 4, ephemeralOwner: 0x7fffffffffffffffn, pzxid: 3n });
    const json = JSON.parse(JSON.stringify(stat));
    expect(json).toEqual({
      czxid: '4294967297',
      mzxid: '2',
      ctime: '1700000000123',
      mtime: '1700000001000',
      version: 4,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: '9223372036854775807',
      dataLength: 0,
      numChildren: 0,
      pzxid: '3',
    });
    expect(stat.ctimeDate).toEqual(new Date(1_700_000_000_123));
    expect(stat.mtimeDate.toISOString()).toBe(new Date(1_700_000_001_000).toISOString());
    // The views stay out of equality and enumeration.
    expect(Object.keys(stat)).not.toContain('ctimeDate');
  });

  it('ACL helpers: standard lists, digest ACLs as kazoo makes them, permission combinations', () => {
    expect(OPEN_ACL_UNSAFE).toEqual([{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
    expect(CREATOR_ALL_ACL).toEqual([{ perms: 31, id: { scheme: 'auth', id: '' } }]);
    expect(READ_ACL_UNSAFE).toEqual([{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    expect(Object.isFrozen(OPEN_ACL_UNSAFE) && Object.isFrozen(OPEN_ACL_UNSAFE[0])).toBe(true);
    // kazoo: make_digest_acl_credential('user', 'pass') == 'user:' + b64(sha1('user:pass'))
    expect(digestId('bob', 'bobpw')).toBe(digestOf('bob', 'bobpw'));
    expect(digestId('user', 'password')).toBe('user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=');
    expect(makeDigestAcl('bob', 'bobpw', { read: true, write: true })).toEqual({ perms: 3, id: { scheme: 'digest', id: digestOf('bob', 'bobpw') } });
    expect(makeDigestAcl('bob', 'bobpw', { all: true }).perms).toBe(Perms.ALL);
    expect(makeAcl('ip', '127.0.0.1', Perms.READ | Perms.ADMIN)).toEqual({ perms: 17, id: { scheme: 'ip', id: '127.0.0.1' } });
    expect(combinePerms(Perms.READ, Perms.WRITE, Perms.CREATE)).toBe(7);
    expect(permsFromString('cdrwa')).toBe(Perms.ALL);
    expect(permsFromString('rw')).toBe(3);
    expect(() => permsFromString('rx')).toThrow(/unknown permission letter "x"/);
    expect(permsToString(Perms.ALL)).toBe('cdrwa');
    expect(permsToString(Perms.READ | Perms.ADMIN)).toBe('ra');
  });

  it("refuses a connect string that is not a host list ('not a host string!!') in the constructor", () => {
    for (const bad of ['not a host string!!', 'host name:2181', 'a!b:1', '127.0.0.1:2181,bad host', '[zz::1]:2181']) {
      expect(() => new ZooKeeper(bad)).toThrow(BadArgumentsError);
    }
  });

  it('refuses bad options before connecting', () => {
    expect(() => new ZooKeeper('127.0.0.1:1', { maxBufferSize: 0 })).toThrow(BadArgumentsError);
    expect(() => new ZooKeeper('127.0.0.1:1', { maxBufferSize: 1.5 })).toThrow(BadArgumentsError);
  });

  it('exposes only the public surface: no SessionHandler methods, no dropConnection, no SASL internals', async () => {
    const zk = new ZooKeeper('127.0.0.1:1', { connectTimeout: 60_000 });
    try {
      for (const name of ['complete', 'fail', 'onWatchEvent', 'onState', 'onUnreachable', 'dropConnection', 'connection', 'watches', 'queue']) {
        expect(name in zk).toBe(false);
      }
      // Type-level: these are compile errors (checked by `tsc --noEmit` over the tests).
      // @ts-expect-error not public
      void zk.complete;
      // @ts-expect-error not public
      void zk.dropConnection;
      // @ts-expect-error not public
      void zk.onState;
      expect('DigestMd5Client' in api).toBe(false);
      expect('digestMd5Response' in api).toBe(false);
    } finally {
      await zk.close();
    }
  });
});

const describeApache = apacheAvailable() ? describe : describe.skip;

describeApache('plain data against Apache ZooKeeper 3.8', () => {
  let cluster: Cluster;
  const handles: ZooKeeper[] = [];
  let n = 0;
  async function open(opts: ConstructorParameters<typeof ZooKeeper>[1] = {}): Promise<ZooKeeper> {
    const zk = new ZooKeeper(cluster.connectString, { sessionTimeout: 6000, ...opts });
    handles.push(zk);
    await zk.connected();
    return zk;
  }

  beforeAll(async () => {
    cluster = await startApache({});
  }, 60_000);
  afterEach(async () => {
    for (const zk of handles.splice(0)) await zk.close().catch(() => {});
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('accepts plain-object ACLs in create, setACL, multi ops, transaction() and addAuthInfo', async () => {
    const root = `/plain${n++}`;
    const zk = await open();
    const plainOpen: AclEntry[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
    await zk.create(root, 'r', { acl: plainOpen });
    await zk.create(`${root}/c`, 'c', { acl: OPEN_ACL_UNSAFE });
    expect((await zk.getACL(`${root}/c`)).acl).toEqual(OPEN_ACL_UNSAFE);

    // setACL: a digest ACL as plain data; the owner authenticates with a plain auth object.
    await zk.addAuthInfo({ scheme: 'digest', auth: 'bob:bobpw' });
    const mine = [makeDigestAcl('bob', 'bobpw', Perms.ALL), ...READ_ACL_UNSAFE];
    await zk.setACL(`${root}/c`, mine);
    const { acl } = await zk.getACL(`${root}/c`);
    expect(acl).toEqual(mine);
    expect(acl[0]).toBeInstanceOf(ACL);

    // Another session may read but not write; with bob's credentials it may write.
    const other = await open();
    expect((await other.getData(`${root}/c`)).data!.toString()).toBe('c');
    await expect(other.setData(`${root}/c`, 'x')).rejects.toBeInstanceOf(NoAuthError);
    await other.addAuthInfo('digest', 'bob:bobpw');
    await other.setData(`${root}/c`, 'x');

    // multi ops and transaction() with plain ACLs (CREATOR_ALL_ACL needs the auth added above).
    const results = await zk.multi([
      Op.create(`${root}/m1`, 'a', { acl: [{ perms: Perms.READ | Perms.WRITE, id: { scheme: 'world', id: 'anyone' } }] }),
      Op.create(`${root}/m2`, 'b', { acl: CREATOR_ALL_ACL }),
    ]);
    expect(results.map((r) => r.type)).toEqual(['create', 'create']);
    expect((await zk.getACL(`${root}/m1`)).acl).toEqual([{ perms: 3, id: { scheme: 'world', id: 'anyone' } }]);
    expect((await zk.getACL(`${root}/m2`)).acl).toEqual([{ perms: 31, id: { scheme: 'digest', id: digestOf('bob', 'bobpw') } }]);
    await zk
      .transaction()
      .create(`${root}/t`, 't', { acl: [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }], mode: CreateMode.PERSISTENT })
      .commit();
    expect((await zk.getACL(`${root}/t`)).acl).toEqual(OPEN_ACL_UNSAFE);
    // Ids (records) still work as before.
    await zk.create(`${root}/ids`, null, { acl: Ids.OPEN_ACL_UNSAFE });
  });

  it('still refuses a malformed plain ACL with InvalidACL before sending', async () => {
    const zk = await open();
    await expect(zk.create('/bad-acl', null, { acl: [{ perms: 31, id: { scheme: 'world' } } as unknown as AclEntry] })).rejects.toBeInstanceOf(InvalidACLError);
    await expect(zk.create('/bad-acl', null, { acl: [] })).rejects.toBeInstanceOf(InvalidACLError);
    expect(await zk.exists('/bad-acl')).toBeNull();
  });

  it('JSON.stringify works on a Stat, a multi result and an event; events print their names', async () => {
    const root = `/json${n++}`;
    const zk = await open();
    const events: WatchedEvent[] = [];
    const states: string[] = [];
    zk.on('state', (_s, e) => void states.push(String(e)));
    await zk.create(root, 'v');
    const { stat } = await zk.getData(root, (e) => void events.push(e));
    const json = JSON.parse(JSON.stringify(stat));
    expect(json.czxid).toBe(stat.czxid.toString());
    expect(typeof json.mtime).toBe('string');
    expect(Math.abs(stat.ctimeDate.getTime() - Date.now())).toBeLessThan(10 * 60_000);

    const results = await zk.multi([Op.setData(root, 'w'), Op.check(root, 1)]);
    const parsed = JSON.parse(JSON.stringify(results));
    expect(parsed[0].type).toBe('setData');
    expect(parsed[0].stat.mzxid).toBe((results[0] as { stat: Stat }).stat.mzxid.toString());

    await until(() => events.length === 1);
    const ev = events[0];
    expect(ev).toEqual({ type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: root });
    expect(JSON.parse(JSON.stringify(ev))).toEqual({ type: 3, typeName: 'NodeDataChanged', state: 3, stateName: 'SyncConnected', path: root });
    expect(String(ev)).toBe(`WatchedEvent NodeDataChanged ${root} (SyncConnected)`);
    expect(inspect(ev)).toContain('NodeDataChanged');
    expect(inspect(ev)).toContain('SyncConnected');
    await zk.close();
    await until(() => states.length >= 1);
    expect(states[states.length - 1]).toBe('WatchedEvent None (Closed)');
  });

  it('a request over jute.maxbuffer fails at once with PayloadTooLargeError naming the limit; the connection stays up', async () => {
    const zk = await open();
    const dropped: number[] = [];
    zk.on('state', (s) => void (s === KeeperState.Disconnected && dropped.push(s)));
    const session = zk.sessionId;
    const big = Buffer.alloc(0xfffff, 1);
    const err = await zk.create(`/big${n++}`, big).catch((e) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(err).toBeInstanceOf(BadArgumentsError);
    expect(err.retriable).toBe(false);
    expect(err.limit).toBe(0xfffff);
    expect(err.size).toBeGreaterThan(0xfffff);
    expect(err.message).toMatch(/jute\.maxbuffer limit of 1048575 bytes/);
    // The same connection still serves, nothing was dropped.
    await zk.create(`/small${n++}`, Buffer.alloc(1000));
    expect(zk.sessionId).toBe(session);
    expect(dropped).toEqual([]);
    // setData and multi are checked too; a lower limit is an option.
    await expect(zk.setData('/', big)).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(zk.multi([Op.create(`/m${n++}`, big)])).rejects.toBeInstanceOf(PayloadTooLargeError);
    const small = await open({ maxBufferSize: 4096 });
    const e2 = await small.setData('/', Buffer.alloc(5000)).catch((e) => e);
    expect(e2).toBeInstanceOf(PayloadTooLargeError);
    expect(e2.limit).toBe(4096);
    // Just under Apache's limit goes through.
    const path = `/edge${n++}`;
    await zk.create(path, null);
    const fits = Buffer.alloc(0xfffff - 4 - 4 - (4 + Buffer.byteLength(path)) - 4 - 4, 2);
    await zk.setData(path, fits);
    expect((await zk.exists(path))!.dataLength).toBe(fits.length);
  });

  it('a request over the limit queued while disconnected fails at once too', async () => {
    const zk = new ZooKeeper('127.0.0.1:1', { connectTimeout: 60_000 });
    handles.push(zk);
    const started = Date.now();
    await expect(zk.setData('/x', Buffer.alloc(0x100000))).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('persistent watches and exists(): the event and state names print in logs', async () => {
    const root = `/names${n++}`;
    const zk = await open();
    const seen: string[] = [];
    await zk.addWatch(root, (e) => void seen.push(`${EventType[e.type]}@${KeeperState[e.state]}`), AddWatchMode.PERSISTENT);
    expect(await zk.exists(root)).toBeNull();
    await zk.create(root, null);
    await zk.delete(root);
    await until(() => seen.length === 2);
    expect(seen).toEqual(['NodeCreated@SyncConnected', 'NodeDeleted@SyncConnected']);
  });
});
