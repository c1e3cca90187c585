/**
 * Every basic operation against a real server: create in each mode, read,
 * write, delete, children, ACLs, sync, the errors each can end in, paths
 * (non-ASCII ones that work, and the ones Apache refuses), a payload just
 * under jute.maxbuffer, and the 3.6+ calls (getEphemerals,
 * getAllChildrenNumber, whoAmI, getConfig).
 */
import { Cluster, TcpProxy, digestOf, startTarget, targets } from '../harness';
import { ACL, CreateMode, ErrorCode, EventType, Ids, NoNodeError, Op, Perms, ZooKeeper } from '../../src';
import { Clients, EventLog, START_TIMEOUT, hex, keeperError, keeperErrorOf, uniquePath } from './client-fixtures';

describe.each(targets())('operations on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();
  let zk: ZooKeeper;

  beforeAll(async () => {
    cluster = await startTarget(kind, {});
    zk = await clients.connect(cluster.connectString);
  }, START_TIMEOUT);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('create, exists, getData, setData, delete with versions and stats', async () => {
    const p = uniquePath('crud');
    expect(await zk.exists(p)).toBeNull();
    expect(await zk.create(p, Buffer.from('v0'))).toBe(p);
    const st = await zk.exists(p);
    expect(st).not.toBeNull();
    expect(st!.version).toBe(0);
    expect(st!.dataLength).toBe(2);
    expect(st!.numChildren).toBe(0);
    expect(hex(st!.ephemeralOwner)).toBe('0x0');
    expect(hex(st!.czxid)).toBe(hex(st!.mzxid));
    expect(st!.czxid > 0n).toBe(true);

    const got = await zk.getData(p);
    expect(got.data!.toString()).toBe('v0');
    expect(got.stat.version).toBe(0);

    const st1 = await zk.setData(p, Buffer.from('v1'), 0);
    expect(st1.version).toBe(1);
    expect(st1.mzxid > st1.czxid).toBe(true);
    expect(st1.mtime >= st1.ctime).toBe(true);
    const st2 = await zk.setData(p, Buffer.from('v2'), -1);
    expect(st2.version).toBe(2);
    expect((await zk.getData(p)).data!.toString()).toBe('v2');

    const bad = await keeperError(zk.setData(p, Buffer.from('x'), 1));
    expect(bad.code).toBe(ErrorCode.BADVERSION);
    const badDel = await keeperError(zk.delete(p, 7));
    expect(badDel.code).toBe(ErrorCode.BADVERSION);
    expect(badDel.path).toBe(p);

    await zk.delete(p, 2);
    expect(await zk.exists(p)).toBeNull();
  });

  test('empty and null data read back as an empty buffer', async () => {
    const p = uniquePath('empty');
    await zk.create(p, Buffer.alloc(0));
    const { data, stat } = await zk.getData(p);
    expect(data === null || data.length === 0).toBe(true);
    expect(stat.dataLength).toBe(0);
  });

  test('create returns the stat of the new node (create2)', async () => {
    const p = uniquePath('create2');
    const r = await zk.create2(p, Buffer.from('abc'));
    expect(r.path).toBe(p);
    expect(r.stat.dataLength).toBe(3);
    expect(r.stat.version).toBe(0);
    expect(r.stat).toEqual(await zk.exists(p));
  });

  test('sequential nodes get a 10-digit suffix from the parent counter', async () => {
    const parent = uniquePath('seq');
    await zk.create(parent, null);
    const a = await zk.create(`${parent}/n-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
    const b = await zk.create(`${parent}/n-`, null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    await zk.create(`${parent}/plain`, null);
    const c = await zk.create(`${parent}/n-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
    expect(a).toBe(`${parent}/n-0000000000`);
    expect(b).toBe(`${parent}/n-0000000001`);
    expect(c).toBe(`${parent}/n-0000000003`);
    expect(hex((await zk.exists(b))!.ephemeralOwner)).toBe(hex(zk.sessionId));
  });

  test('ephemeral nodes: owned by the session, no children, gone after close', async () => {
    const p = uniquePath('eph');
    const other = await clients.connect(cluster.connectString);
    await other.create(p, Buffer.from('e'), { mode: CreateMode.EPHEMERAL });
    const st = await zk.exists(p);
    expect(hex(st!.ephemeralOwner)).toBe(hex(other.sessionId));
    expect(hex(st!.ephemeralOwner)).not.toBe('0x0');
    const err = await keeperError(other.create(`${p}/child`, null));
    expect(err.code).toBe(ErrorCode.NOCHILDRENFOREPHEMERALS);
    expect(await zk.getEphemerals('/')).not.toContain(p);
    expect(await other.getEphemerals('/')).toContain(p);
    await other.close();
    expect(await zk.exists(p)).toBeNull();
  });

  test('NodeExists, NoNode and NotEmpty', async () => {
    const p = uniquePath('errs');
    await zk.create(p, null);
    const exists = await keeperError(zk.create(p, null));
    expect(exists.code).toBe(ErrorCode.NODEEXISTS);
    expect(exists.path).toBe(p);
    expect(exists.retriable).toBe(false);
    expect((await keeperError(zk.create(`${p}/missing/child`, null))).code).toBe(ErrorCode.NONODE);
    expect((await keeperError(zk.getData(`${p}/missing`))).code).toBe(ErrorCode.NONODE);
    expect((await keeperError(zk.setData(`${p}/missing`, null, -1))).code).toBe(ErrorCode.NONODE);
    expect((await keeperError(zk.delete(`${p}/missing`))).code).toBe(ErrorCode.NONODE);
    expect((await keeperError(zk.getChildren(`${p}/missing`))).code).toBe(ErrorCode.NONODE);
    await zk.create(`${p}/kid`, null);
    const notEmpty = await keeperError(zk.delete(p));
    expect(notEmpty.code).toBe(ErrorCode.NOTEMPTY);
    expect(await zk.exists(p)).not.toBeNull();
  });

  test('getChildren lists names; with stat it also returns the parent stat', async () => {
    const p = uniquePath('kids');
    await zk.create(p, null);
    for (const k of ['b', 'a', 'c']) await zk.create(`${p}/${k}`, null);
    expect((await zk.getChildren(p)).sort()).toEqual(['a', 'b', 'c']);
    const r = await zk.getChildren2(p);
    expect(r.children.sort()).toEqual(['a', 'b', 'c']);
    expect(r.stat.numChildren).toBe(3);
    expect(r.stat.cversion).toBe(3);
    expect(await zk.getAllChildrenNumber(p)).toBe(3);
    await zk.create(`${p}/a/deep`, null);
    expect(await zk.getAllChildrenNumber(p)).toBe(4);
  });

  test('getACL/setACL and NoAuth on a read-only ACL', async () => {
    const p = uniquePath('acl');
    await zk.create(p, Buffer.from('x'), { acl: Ids.READ_ACL_UNSAFE });
    const { acl, stat } = await zk.getACL(p);
    expect(acl).toHaveLength(1);
    expect(acl[0].perms).toBe(Perms.READ);
    expect(acl[0].id.scheme).toBe('world');
    expect(acl[0].id.id).toBe('anyone');
    expect(stat.aversion).toBe(0);
    expect((await zk.getData(p)).data!.toString()).toBe('x');
    const denied = await keeperError(zk.setData(p, Buffer.from('y'), -1));
    expect(denied.code).toBe(ErrorCode.NOAUTH);
    expect((await keeperError(zk.create(`${p}/c`, null))).code).toBe(ErrorCode.NOAUTH);
    // ADMIN is missing too: setACL is refused.
    expect((await keeperError(zk.setACL(p, Ids.OPEN_ACL_UNSAFE, -1))).code).toBe(ErrorCode.NOAUTH);

    const q = uniquePath('acl2');
    await zk.create(q, null);
    const st = await zk.setACL(q, [new ACL({ perms: Perms.READ | Perms.ADMIN, id: Ids.ANYONE_ID_UNSAFE })], 0);
    expect(st.aversion).toBe(1);
    expect((await keeperError(zk.setACL(q, Ids.OPEN_ACL_UNSAFE, 0))).code).toBe(ErrorCode.BADVERSION);
    expect((await keeperError(zk.setData(q, null, -1))).code).toBe(ErrorCode.NOAUTH);
    expect((await zk.setACL(q, Ids.OPEN_ACL_UNSAFE, 1)).aversion).toBe(2);
    await zk.setData(q, Buffer.from('ok'), -1);
  });

  test('digest auth: creator ACL admits the same identity only', async () => {
    const p = uniquePath('digest');
    const alice = await clients.connect(cluster.connectString);
    await alice.addAuthInfo('digest', Buffer.from('alice:secret'));
    await alice.create(p, Buffer.from('private'), { acl: Ids.CREATOR_ALL_ACL });
    const { acl } = await alice.getACL(p);
    expect(acl[0].id.scheme).toBe('digest');
    expect(acl[0].id.id).toBe(digestOf('alice', 'secret'));
    expect((await alice.getData(p)).data!.toString()).toBe('private');
    expect((await keeperError(zk.getData(p))).code).toBe(ErrorCode.NOAUTH);
    const mallory = await clients.connect(cluster.connectString);
    await mallory.addAuthInfo('digest', Buffer.from('alice:wrong'));
    expect((await keeperError(mallory.getData(p))).code).toBe(ErrorCode.NOAUTH);
    const alice2 = await clients.connect(cluster.connectString);
    await alice2.addAuthInfo('digest', Buffer.from('alice:secret'));
    expect((await alice2.getData(p)).data!.toString()).toBe('private');
    const who = await alice2.whoAmI();
    expect(who).toEqual(expect.arrayContaining([expect.objectContaining({ authScheme: 'digest', user: 'alice' })]));
    // CREATOR_ALL_ACL without any auth is an invalid ACL.
    expect((await keeperError(zk.create(uniquePath('noauth'), null, { acl: Ids.CREATOR_ALL_ACL }))).code)
      .toBe(ErrorCode.INVALIDACL);
  });

  test('whoAmI reports the ip identity of an unauthenticated client', async () => {
    const who = await zk.whoAmI();
    expect(who).toEqual(expect.arrayContaining([expect.objectContaining({ authScheme: 'ip', user: '127.0.0.1' })]));
  });

  test('sync resolves and later reads see earlier writes of another client', async () => {
    const p = uniquePath('sync');
    const other = await clients.connect(cluster.connectString);
    await other.create(p, Buffer.from('1'));
    await zk.sync(p);
    expect((await zk.getData(p)).data!.toString()).toBe('1');
  });

  test('getConfig returns the config node (not chroot-prefixed)', async () => {
    const { data, stat } = await zk.getConfig();
    expect(stat).toBeDefined();
    const text = data ? data.toString() : '';
    if (cluster.servers.length > 1) expect(text).toMatch(/^server\.1=/m);
    // Standalone: present but may be empty; in both cases a chrooted client reads the same.
    const chrooted = await clients.connect(`${cluster.connectString}/nowhere-${Date.now()}`);
    expect((await chrooted.getConfig()).data?.toString() ?? '').toBe(text);
  });

  test('non-ASCII paths round-trip', async () => {
    const base = uniquePath('utf');
    const p = `${base}-ünïcödé`;
    await zk.create(p, Buffer.from('ü'));
    await zk.create(`${p}/日本`, Buffer.from('日本語'));
    expect(await zk.getChildren(p)).toEqual(['日本']);
    expect((await zk.getData(`${p}/日本`)).data!.toString()).toBe('日本語');
    expect(await zk.exists(`${p}/日本`)).not.toBeNull();
    await zk.delete(`${p}/日本`);
    await zk.delete(p);
  });

  // [name, path, also invalid as a sequential prefix?] Apache validates a
  // sequential create's path with the suffix appended, so '/a/' is fine there.
  test.each([
    ['emoji (surrogate pair)', '/emoji-😀', true],
    ['lone surrogate', '/bad-\ud800', true],
    ['private use', '/bad-\ue000', true],
    ['control character', '/bad-\u0001', true],
    ['double slash', '/a//b', true],
    ['trailing slash', '/a/', false],
    ['dot segment', '/./', true],
    ['dot-dot segment', '/a/../b', true],
    ['relative', 'a/b', true],
    ['empty', '', true],
  ])('refuses a bad path (%s) with BadArguments before the wire', async (_name, bad, badAsSequential) => {
    // Through a paused proxy: a request that reached the wire would hang
    // there, so a prompt BadArguments proves the client refused it itself.
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const viaProxy = await clients.connect(proxy.hostPort);
      proxy.pause();
      for (const call of [
        () => viaProxy.create(bad, null),
        ...(badAsSequential ? [() => viaProxy.create(bad, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL })] : []),
        () => viaProxy.getData(bad),
        () => viaProxy.exists(bad),
        () => viaProxy.setData(bad, null, -1),
        () => viaProxy.delete(bad),
        () => viaProxy.getChildren(bad),
        () => viaProxy.multi([Op.check('/', -1), Op.create(bad, null)]),
      ]) {
        // The timer is cleared so no test leaves one behind to hold the jest worker open.
        let timer: NodeJS.Timeout | undefined;
        const sent = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`call with ${JSON.stringify(bad)} was sent to the server`)), 1000);
        });
        try {
          const err = await Promise.race([keeperErrorOf(call), sent]);
          expect(err.code).toBe(ErrorCode.BADARGUMENTS);
        } finally {
          clearTimeout(timer);
        }
      }
      proxy.resume();
      // The session is intact: nothing bad reached the server.
      expect(await viaProxy.exists('/')).not.toBeNull();
      await viaProxy.close();
    } finally {
      await proxy.close();
    }
  });

  test('errors carry code, path, retriable and a stack through the caller', async () => {
    const p = uniquePath('stack');
    async function callerOfGetData(): Promise<unknown> {
      return await zk.getData(`${p}/missing`);
    }
    const err = await keeperError(callerOfGetData());
    expect(err).toBeInstanceOf(NoNodeError);
    expect(err.code).toBe(-101);
    expect(err.path).toBe(`${p}/missing`);
    expect(err.retriable).toBe(false);
    expect(err.stack).toMatch(/callerOfGetData/);
  });

  test('exists on an existing node sets a data watch', async () => {
    const p = uniquePath('existswatch');
    await zk.create(p, null);
    const log = new EventLog();
    expect(await zk.exists(p, log.watcher)).not.toBeNull();
    const other = await clients.connect(cluster.connectString);
    await other.setData(p, Buffer.from('1'), -1);
    expect((await log.nextOf(EventType.NodeDataChanged, p)).path).toBe(p);
  });

  test('a payload just under jute.maxbuffer (1 MB) round-trips', async () => {
    const p = uniquePath('big');
    const size = 1024 * 1024 - 1024;
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff;
    await zk.create(p, payload);
    const { data, stat } = await zk.getData(p);
    expect(stat.dataLength).toBe(size);
    expect(data!.equals(payload)).toBe(true);
    await zk.delete(p);
  });

  test('getEphemerals lists this session\'s ephemerals under a prefix', async () => {
    const p = uniquePath('ephs');
    const owner = await clients.connect(cluster.connectString);
    await owner.create(p, null);
    await owner.create(`${p}/e1`, null, { mode: CreateMode.EPHEMERAL });
    await owner.create(`${p}/e2`, null, { mode: CreateMode.EPHEMERAL });
    await owner.create(`${p}/p`, null);
    expect((await owner.getEphemerals(p)).sort()).toEqual([`${p}/e1`, `${p}/e2`]);
    expect(await zk.getEphemerals(p)).toEqual([]);
  });
});
