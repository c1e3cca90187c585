/**
 * Interop: kazoo (Debian python3-kazoo 2.8, run with /usr/bin/python3)
 * against our server, with Apache ZooKeeper 3.8 running the very same
 * scripts as the control: a failure on 'ours' that also fails on 'apache'
 * is a bug in the test, not the server.
 *
 * The scripts in ./kazoo print observations as JSON; the verdicts are here.
 */
import { randomBytes } from 'crypto';
import { apacheAvailable, Cluster, ourServerAvailable, startApache, startOurs } from '../harness';
import { kazooAvailable, runKazoo } from './kazoo-runner';

if (!kazooAvailable()) throw new Error('/usr/bin/python3 cannot import kazoo: install the Debian package python3-kazoo');

const kinds = (['ours', 'apache'] as const).filter((k) => (k === 'ours' ? ourServerAvailable() : apacheAvailable()));

describe.each(kinds)('kazoo against %s', (kind) => {
  let cluster: Cluster;
  const run = (script: string) => runKazoo(script, cluster.connectString, `/kz-${script}-${randomBytes(3).toString('hex')}`);

  beforeAll(async () => {
    cluster = kind === 'ours' ? await startOurs() : await startApache();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  test('CRUD: create/makepath/sequence, get, versioned set and delete, children, errors', async () => {
    const r = await run('crud');
    expect(r.create_seq.map((p: string) => p.slice(-11))).toEqual(['-0000000001', '-0000000002', '-0000000003']);
    expect(r.create_existing).toBe('NodeExistsError');
    expect(r.create_no_parent).toBe('NoNodeError');
    expect(r.get.data).toBe('v0');
    expect(r.get.stat).toMatchObject({ version: 0, dataLength: 2, numChildren: 4, cversion: 4, ephemeralOwner: 0, aversion: 0 });
    expect(r.get.stat.mzxid).toBe(r.get.stat.czxid);
    expect(r.set).toMatchObject({ version: 1, czxid: r.get.stat.czxid });
    expect(r.set.mzxid).toBeGreaterThan(r.get.stat.mzxid);
    expect(r.set_bad_version).toBe('BadVersionError');
    expect(r.get_after_set).toBe('v1');
    expect(r.exists).toEqual(r.set);
    expect(r.exists_missing).toBeNull();
    expect(r.get_missing).toBe('NoNodeError');
    expect(r.children).toEqual(['a', 's-0000000001', 's-0000000002', 's-0000000003']);
    expect(r.children_stat).toEqual(r.set);
    expect(r.delete_not_empty).toBe('NotEmptyError');
    expect(r.delete_bad_version).toBe('BadVersionError');
    expect(r.delete_leaf).toBe('ok');
    expect(r.delete_recursive).toBe('ok');
    expect(r.children_after_delete).toEqual(['s-0000000001', 's-0000000002', 's-0000000003']);
    expect(r.big_value_len).toBe(500_000);
    expect(r.unicode).toBe('h\u00e9llo');
    expect(r.gone).toBe(true);
    expect(r.get_gone).toBe('NoNodeError');
  }, 60_000);

  test("watches: data, child, exists and delete events fire once; DataWatch/ChildrenWatch follow changes", async () => {
    const r = await run('watches');
    const one = (type: string, path: string) => [{ type, state: 'CONNECTED', path }];
    const base = r.data_changed[0]?.path;
    expect(base).toMatch(/^\/kz-watches-/);
    expect(r.data_changed).toEqual(one('CHANGED', base));
    expect(r.exists_created).toEqual(one('CREATED', `${base}/later`));
    expect(r.child_changed).toEqual(one('CHILD', base));
    expect(r.one_shot_counts).toEqual([1, 1, 1]);
    expect(r.data_deleted).toEqual(one('DELETED', `${base}/later`));
    // DataWatch starts from the current value and must end on the last one; it may skip
    // intermediate values (it re-reads after each event), never reorder them.
    expect(r.datawatch_values[0]).toBe('2');
    expect(r.datawatch_values[r.datawatch_values.length - 1]).toBe('5');
    expect([...r.datawatch_values].sort()).toEqual(r.datawatch_values);
    expect(r.childrenwatch_last).toEqual(['again', 'k1', 'k2']);
  }, 60_000);

  test('ephemerals: owned by the creating session, removed (with a DELETED event) when it closes', async () => {
    const r = await run('ephemerals');
    expect(r.owner_session).not.toBe(0);
    expect(r.owners).toEqual([r.owner_session, r.owner_session]);
    expect(r.paths[1]).toMatch(/\/es-\d{10}$/);
    expect(r.child_of_ephemeral).toBe('NoChildrenForEphemeralsError');
    expect(r.deleted_event).toEqual([{ type: 'DELETED', path: r.paths[0] }]);
    expect(r.after_close).toEqual([true, true]);
    expect(r.children_after_close).toEqual([]);
  }, 60_000);

  test('transaction: check/create/set/delete commit together, or not at all with per-op errors', async () => {
    const r = await run('transaction');
    expect(r.ok_results).toEqual([{ value: true }, { value: expect.stringMatching(/\/made$/) }, { stat_version: 1 }, { value: true }]);
    expect(r.ok_state).toEqual({ made: 'new', checked: 'c2', checked_version: 1, doomed_exists: false });
    expect(r.fail_results).toEqual([
      { error: 'RolledBackError' },
      { error: 'BadVersionError' },
      { error: 'RuntimeInconsistency' },
      { error: 'RuntimeInconsistency' },
    ]);
    expect(r.fail_state).toEqual({ phantom_exists: false, made: 'new', parent_unchanged: true });
    expect(r.fail_mid_results).toEqual([{ error: 'RolledBackError' }, { error: 'NodeExistsError' }, { error: 'RuntimeInconsistency' }]);
    expect(r.fail_mid_state).toEqual({ made: 'new', checked_exists: true });
  }, 60_000);

  test('digest ACLs: add_auth + make_digest_acl; other clients get NoAuth until they authenticate', async () => {
    const r = await run('acl');
    expect(r.acl).toEqual([{ perms: 31, scheme: 'digest', id: r.expected_id }]);
    expect(r.owner_get).toBe('secret');
    expect(r.owner_set).toBe('ok');
    expect(r.other_get).toBe('NoAuthError');
    expect(r.other_set).toBe('NoAuthError');
    expect(r.other_create_child).toBe('NoAuthError');
    expect(r.other_get_acls).toBe('NoAuthError');
    expect(r.other_exists).toBe(true);
    expect(r.other_read_readable).toBe('pub');
    expect(r.other_write_readable).toBe('NoAuthError');
    expect(r.wrong_password_get).toBe('NoAuthError');
    expect(r.right_password_get).toBe('secret2');
    expect(r.unknown_scheme).toBe('AuthFailedError');
    expect(r.other_set_acls).toBe('NoAuthError');
    expect(r.aversion_after_set_acls).toBe(1);
    expect(r.plain_get_after_open).toBe('secret2');
  }, 60_000);

  test("Lock recipe: three contending clients never overlap; a closed holder's lock passes on", async () => {
    const r = await run('lock');
    expect(r.errors).toEqual([]);
    expect(r.max_occupancy).toBe(1);
    expect(r.acquisitions).toBe(15);
    // Unversioned read-modify-write under the lock: any overlap would lose an increment.
    expect(r.counter).toBe(15);
    expect(r.distinct_holders).toEqual([0, 1, 2]);
    expect(r.contenders_seen_max).toBeGreaterThanOrEqual(1);
    expect(r.lock_children_after).toEqual([]);
    expect(r.holder_acquired).toBe(true);
    expect(r.waiter_blocked).toBe('LockTimeout');
    expect(r.waiter_acquired_after_holder_closed).toBe(true);
  }, 90_000);

  test("Election recipe: one leader at a time; when the leader's client closes another takes over", async () => {
    const r = await run('election');
    expect(r.first_leaders).toHaveLength(1);
    expect(r.max_simultaneous_leaders).toBe(1);
    expect(r.contenders).toHaveLength(3);
    expect(r.contenders[0]).toBe(`candidate-${r.first_leaders[0]}`);
    expect(r.after_failover).toHaveLength(2);
    expect(r.leader_log).toHaveLength(3);
    expect(new Set(r.leader_log).size).toBe(3);
    // Only the closed leader's own release may fail (its client is gone).
    expect(r.errors.every((e: string) => e === `${r.first_leaders[0]} ConnectionClosedError`)).toBe(true);
  }, 90_000);
});
