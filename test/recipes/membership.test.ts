/**
 * GroupMember on both targets: members as ephemeral nodes with data, a
 * live member list with join/update/leave events, a member whose session
 * expires leaves the others' lists and (with a handle factory) joins again
 * in a new session; duplicate ids and bad use are refused.
 */
import { Cluster, startTarget } from '../harness';
import { expireSession } from '../harness/session-tools';
import { ZooKeeper } from '../../src';
import { GroupMember } from '../../recipes/membership';
import { RecipeStateError } from '../../recipes/cache/support/recipe-errors';
import { RecipeArgumentError, RecipeClosedError } from '../../recipes/util/errors';
import { Handles, START_TIMEOUT, targets, uniquePath, waitUntil } from './support/recipe-fixtures';

const names = (m: GroupMember): string[] => [...m.getCurrentMembers().keys()].sort();

describe.each(targets())('group membership on %s', (kind) => {
  let cluster: Cluster;
  const handles = new Handles();
  let zk: ZooKeeper;

  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: 500 });
    zk = await handles.connect(cluster.connectString, { sessionTimeout: 8000 });
  }, START_TIMEOUT);
  afterAll(async () => {
    await handles.closeAll();
    await cluster?.stop();
  });

  test('members join with data, see each other, update and leave', async () => {
    const path = `${uniquePath('group')}/workers`;
    const a = new GroupMember(await handles.connect(cluster.connectString), path, 'a', 'addr-a');
    await a.start();
    expect(names(a)).toEqual(['a']);
    const { data, stat } = await zk.getData(`${path}/a`);
    expect(data!.toString()).toBe('addr-a');
    expect(stat.ephemeralOwner).not.toBe(0n); // Curator's GroupMember layout: an ephemeral <path>/<id>

    const joined: string[] = [];
    const left: string[] = [];
    const updated: string[] = [];
    a.on('join', (id: string) => joined.push(id));
    a.on('leave', (id: string) => left.push(id));
    a.on('update', (id: string, d: Buffer | null) => updated.push(`${id}=${d?.toString()}`));
    const b = new GroupMember(await handles.connect(cluster.connectString), path, 'b', 'addr-b');
    const c = new GroupMember(await handles.connect(cluster.connectString), path, 'c');
    await Promise.all([b.start(), c.start()]);
    await waitUntil(() => names(a).length === 3, 'a sees b and c');
    expect(names(b)).toEqual(['a', 'b', 'c']);
    expect(a.getCurrentMembers().get('b')!.toString()).toBe('addr-b');
    expect(a.getCurrentMembers().get('c')).toBeNull();
    expect(joined.sort()).toEqual(['b', 'c']);

    await c.setData('addr-c');
    await waitUntil(() => updated.includes('c=addr-c'), 'a sees c update');
    await b.close();
    await waitUntil(() => left.includes('b'), 'a sees b leave');
    expect(names(a)).toEqual(['a', 'c']);
    expect(await zk.exists(`${path}/b`)).toBeNull();
    expect(() => b.getCurrentMembers()).toThrow(RecipeClosedError);
    await Promise.all([a.close(), c.close()]);
  });

  test('an expired member leaves the others\' lists and, with a handle factory, joins again in a new session', async () => {
    const path = uniquePath('group-expiry');
    const watcher = new GroupMember(await handles.connect(cluster.connectString), path, 'watcher');
    await watcher.start();
    const left: string[] = [];
    watcher.on('leave', (id: string) => left.push(id));
    const made: ZooKeeper[] = [];
    const m = new GroupMember(() => {
      const h = handles.create(cluster.connectString, { sessionTimeout: 4000 });
      made.push(h);
      return h;
    }, path, 'phoenix', 'v1');
    await m.start();
    await waitUntil(() => names(watcher).includes('phoenix'), 'watcher sees phoenix');
    const firstSession = made[0].sessionId;
    await expireSession(cluster.connectString, made[0].sessionId, made[0].sessionPassword);
    await waitUntil(() => made.length === 2, 'a new handle was asked for', 20_000);
    await waitUntil(async () => {
      const s = await zk.exists(`${path}/phoenix`);
      return s !== null && s.ephemeralOwner === made[1].sessionId;
    }, 'phoenix joined again in the new session', 20_000);
    expect(made[1].sessionId).not.toBe(firstSession);
    expect(left).toContain('phoenix'); // the old node went with the old session
    await waitUntil(() => names(watcher).includes('phoenix') && names(m).includes('watcher'), 'lists agree again', 20_000);
    await Promise.all([m.close(), watcher.close()]);
  }, 60_000);

  test('a member id held by another live session is refused; bad ids and paths are refused', async () => {
    const path = uniquePath('group-dup');
    const firstZk = await handles.connect(cluster.connectString);
    const first = new GroupMember(firstZk, path, 'same');
    await first.start();
    const dup = new GroupMember(await handles.connect(cluster.connectString, { sessionTimeout: 2000 }), path, 'same');
    await expect(dup.start()).rejects.toBeInstanceOf(RecipeStateError);
    await dup.close();
    expect((await zk.exists(`${path}/same`))!.ephemeralOwner.toString(16)).toBe(firstZk.sessionId.toString(16)); // still the first's
    expect(() => new GroupMember(zk, path, 'a/b')).toThrow(RecipeArgumentError);
    expect(() => new GroupMember(zk, path, '')).toThrow(RecipeArgumentError);
    expect(() => new GroupMember(zk, 'rel', 'x')).toThrow(RecipeArgumentError);
    expect(() => new GroupMember(zk, path, 'x', 5 as never)).toThrow(RecipeArgumentError);
    await first.close();
    // Once it left, the id is free again.
    const again = new GroupMember(zk, path, 'same');
    await again.start();
    expect(names(again)).toEqual(['same']);
    await again.close();
    await expect(again.start()).rejects.toBeInstanceOf(RecipeClosedError);
    const closed = await handles.connect(cluster.connectString);
    await closed.close();
    await expect(new GroupMember(closed, path, 'late').start()).rejects.toBeInstanceOf(RecipeClosedError);
  }, 60_000);
});
