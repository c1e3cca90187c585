/**
 * The helpers: mkdirs (every missing component, idempotent, container
 * mode), deleteRecursive (children first, missing is fine), Namespace
 * (paths inside a base), path checks, and Curator's sequence ordering.
 */
import { CreateMode, ZooKeeper } from '../../src';
import { deleteRecursive, mkdirs, Namespace, RecipeArgumentError } from '../../recipes';
import { sequenceKey, sortBySequence, sortKazooContenders } from '../../recipes/util/sequence-sort';
import { curatorProtectedPrefix, findProtected } from '../../recipes/util/protected-create';
import { Cluster, startTarget } from '../harness';
import { Handles, START_TIMEOUT, targets, uniquePath } from './support/recipe-fixtures';

describe('sequence ordering (no server)', () => {
  test('Curator orders by the text after the last lock name; foreign names sort by their whole name', () => {
    const a = '_c_ffffffff-0000-0000-0000-000000000000-lock-0000000002';
    const b = '_c_00000000-0000-0000-0000-000000000000-lock-0000000003';
    const c = '_c_88888888-0000-0000-0000-000000000000-lock-0000000001';
    expect(sortBySequence([a, b, c], ['lock-'])).toEqual([c, a, b]);
    expect(sequenceKey('x-__READ__0000000007', ['__READ__', '__WRIT__'])).toBe('0000000007');
    expect(sequenceKey('x-__WRIT__0000000008', ['__READ__', '__WRIT__'])).toBe('0000000008');
    const kazoo = '0123456789abcdef0123456789abcdef__lock__0000000000';
    expect(sortBySequence([kazoo, a], ['lock-'])).toEqual([a, kazoo]);
  });

  test('kazoo orders its contenders by the 10-digit sequence and ignores the rest', () => {
    const k1 = 'ffff__lock__0000000005';
    const k2 = '0000__lock__0000000009';
    const r = 'aaaa__rlock__0000000001';
    const curator = '_c_x-lock-0000000000';
    expect(sortKazooContenders([k2, k1, r, curator], ['__lock__'])).toEqual([k1, k2]);
    expect(sortKazooContenders([k2, k1, r], ['__lock__', '__rlock__'])).toEqual([r, k1, k2]);
  });
});

describe.each(targets())('helpers on %s', (kind) => {
  let cluster: Cluster;
  const handles = new Handles();
  let zk: ZooKeeper;

  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: 500 });
    zk = await handles.connect(cluster.connectString);
  }, START_TIMEOUT);
  afterAll(async () => {
    await handles.closeAll();
    await cluster?.stop();
  });

  test('mkdirs creates every missing component, is idempotent, and puts data on the last', async () => {
    const base = uniquePath('mk');
    await mkdirs(zk, `${base}/a/b/c`, { data: 'leaf' });
    expect((await zk.getData(`${base}/a/b/c`)).data!.toString()).toBe('leaf');
    expect((await zk.getData(`${base}/a`)).data?.length ?? 0).toBe(0);
    await mkdirs(zk, `${base}/a/b/c`);
    await mkdirs(zk, `${base}/a/b/d`, { mode: CreateMode.CONTAINER });
    expect((await zk.getChildren(`${base}/a/b`)).sort()).toEqual(['c', 'd']);
    await expect(mkdirs(zk, 'rel/path')).rejects.toBeInstanceOf(RecipeArgumentError);
    await expect(mkdirs(zk, '/x', { mode: CreateMode.EPHEMERAL as any })).rejects.toBeInstanceOf(RecipeArgumentError);
    await deleteRecursive(zk, base);
  });

  test('deleteRecursive removes a tree children first; a missing node is fine; the root is refused', async () => {
    const base = uniquePath('rm');
    for (const p of ['/x/y/z', '/x/w', '/v']) await mkdirs(zk, base + p);
    await zk.create(`${base}/x/e`, null, { mode: CreateMode.EPHEMERAL });
    await deleteRecursive(zk, base);
    expect(await zk.exists(base)).toBeNull();
    await deleteRecursive(zk, base);
    await expect(deleteRecursive(zk, '/')).rejects.toBeInstanceOf(RecipeArgumentError);
  });

  test('findProtected: syncs the parent before listing, adopts only this session\'s node, NoNode parent is null', async () => {
    const base = uniquePath('prot');
    await mkdirs(zk, base);
    const other = await handles.connect(cluster.connectString);
    const prefix = curatorProtectedPrefix() + 'lock-';
    // Another session's node with the same prefix (an older session's leftover) is not ours.
    await other.create(`${base}/${prefix}`, null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    expect(await findProtected(zk, base, prefix, true)).toBeNull();
    // Created through the other handle, read through ours: the lookup must see it (sync first).
    const mine = await zk.create(`${base}/${prefix}`, null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    const calls: string[] = [];
    // findProtected uses these four members of the handle; the wrapper records the order of calls.
    const spy = {
      sync: (p: string) => (calls.push(`sync ${p}`), zk.sync(p)),
      getChildren: (p: string) => (calls.push(`getChildren ${p}`), zk.getChildren(p)),
      exists: (p: string) => zk.exists(p),
      get sessionId() {
        return zk.sessionId;
      },
    } as unknown as ZooKeeper;
    expect(await findProtected(spy, base, prefix, true)).toBe(mine);
    expect(calls.slice(0, 2)).toEqual([`sync ${base}`, `getChildren ${base}`]);
    // A persistent (non-ephemeral) lookup takes the first match whoever made it.
    expect(await findProtected(zk, base, prefix, false)).not.toBeNull();
    expect(await findProtected(zk, `${base}/missing`, prefix, true)).toBeNull();
    await other.close();
    await deleteRecursive(zk, base);
  });

  test('Namespace maps paths into its base and back', async () => {
    const base = uniquePath('ns');
    const ns = new Namespace(zk, `${base}/app`);
    expect(ns.resolve('/config')).toBe(`${base}/app/config`);
    expect(ns.resolve('/')).toBe(`${base}/app`);
    expect(await ns.create('/config', Buffer.from('v1'))).toBe('/config');
    expect((await zk.getData(`${base}/app/config`)).data!.toString()).toBe('v1');
    await ns.setData('/config', 'v2');
    expect((await ns.getData('/config')).data!.toString()).toBe('v2');
    expect(await ns.create('/job-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toMatch(/^\/job-\d{10}$/);
    expect((await ns.getChildren('/')).length).toBe(2);
    expect(await ns.exists('/nope')).toBeNull();
    const child = ns.child('/sub');
    await child.mkdirs('/deep/er');
    expect(await zk.exists(`${base}/app/sub/deep/er`)).not.toBeNull();
    expect(ns.unresolve(`${base}/app/sub`)).toBe('/sub');
    expect(() => ns.unresolve('/elsewhere')).toThrow(RecipeArgumentError);
    expect(() => new Namespace(zk, 'bad')).toThrow(RecipeArgumentError);
    expect(() => ns.resolve('no-slash')).toThrow(RecipeArgumentError);
    await ns.delete('/config');
    await ns.deleteRecursive('/');
    expect(await zk.exists(`${base}/app`)).toBeNull();
    await deleteRecursive(zk, base);
  });
});
