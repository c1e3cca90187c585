/**
 * Watch events go only to sessions that may READ the node when the watch
 * triggers (CVE-2024-23944; Apache ZooKeeper 3.8 as Debian ships it carries
 * the fix): for data, exist, child, persistent and persistent-recursive
 * watches; super users pass. A one-shot watch whose event was withheld is
 * consumed all the same (it does not fire later), as on Apache.
 *
 * "Received nothing" is decided without sleeping: after the writes whose
 * events must be withheld, the writer changes an open control node the
 * watcher also watches. Events on one connection leave in order, so once the
 * control event arrives, any withheld event would already have arrived.
 */
import { Cluster, digestOf, startTarget, targets } from '../harness';
import { AddWatchMode, ACL, CreateMode, EventType, Id, Ids, Perms, ZooKeeper } from '../../src';
import { Clients, EventLog, START_TIMEOUT, uniquePath } from './client-fixtures';

const OWNER = { user: 'owner', password: 'owner-pw' };
const SUPER_PASSWORD = 'super-pw';
const EVENT_NAMES = new Map<number, string>(Object.entries(EventType).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));

/** An ACL only the digest user OWNER may use. */
function ownerOnly(): ACL[] {
  return [new ACL({ perms: Perms.ALL, id: new Id({ scheme: 'digest', id: digestOf(OWNER.user, OWNER.password) }) })];
}

describe.each(targets())('watch events honour READ on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();
  let owner: ZooKeeper; // holds the digest auth: may do everything
  let outsider: ZooKeeper; // no auth: may not read owner-only nodes
  let insider: ZooKeeper; // the same digest auth as the owner: may read them
  let root: ZooKeeper; // super

  beforeAll(async () => {
    cluster = await startTarget(kind, { superDigest: digestOf('super', SUPER_PASSWORD) });
    owner = await clients.connect(cluster.connectString);
    await owner.addAuthInfo('digest', Buffer.from(`${OWNER.user}:${OWNER.password}`));
    outsider = await clients.connect(cluster.connectString);
    insider = await clients.connect(cluster.connectString);
    await insider.addAuthInfo('digest', Buffer.from(`${OWNER.user}:${OWNER.password}`));
    root = await clients.connect(cluster.connectString);
    await root.addAuthInfo('digest', Buffer.from(`super:${SUPER_PASSWORD}`));
  }, START_TIMEOUT);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  /** A control node each watcher watches last; its event proves every earlier event was delivered. */
  async function fence(watchers: Array<{ zk: ZooKeeper; log: EventLog }>): Promise<void> {
    const ctl = uniquePath('fence');
    await owner.create(ctl, null);
    for (const w of watchers) await w.zk.exists(ctl, w.log.watcher);
    await owner.setData(ctl, Buffer.from('x'));
    for (const w of watchers) await w.log.nextOf(EventType.NodeDataChanged, ctl, 10_000);
  }

  function typesOn(log: EventLog, prefix: string): string[] {
    return log.nodeEvents.filter((e) => e.path?.startsWith(prefix)).map((e) => `${EVENT_NAMES.get(e.type) ?? e.type} ${e.path}`);
  }

  test('data and exist watches: no NodeDataChanged or NodeDeleted after the ACL shuts the watcher out', async () => {
    const n = uniquePath('acl-data');
    await owner.create(n, Buffer.from('0'));
    const logs = { outsider: new EventLog(), insider: new EventLog(), root: new EventLog() };
    const existsLog = new EventLog();
    await outsider.exists(n, existsLog.watcher);
    await outsider.getData(n, logs.outsider.watcher);
    await insider.getData(n, logs.insider.watcher);
    await root.getData(n, logs.root.watcher);
    await owner.setACL(n, ownerOnly());
    await owner.setData(n, Buffer.from('1'));
    await owner.delete(n);
    await fence([
      { zk: outsider, log: logs.outsider },
      { zk: outsider, log: existsLog },
      { zk: insider, log: logs.insider },
      { zk: root, log: logs.root },
    ]);
    expect(typesOn(logs.outsider, n)).toEqual([]);
    expect(typesOn(existsLog, n)).toEqual([]);
    // Those who may read see the change (and, with a new watch, would see the delete).
    expect(typesOn(logs.insider, n)).toEqual([`NodeDataChanged ${n}`]);
    expect(typesOn(logs.root, n)).toEqual([`NodeDataChanged ${n}`]);
  });

  test('a withheld one-shot watch is consumed: it does not fire once the node is readable again', async () => {
    const n = uniquePath('acl-consumed');
    await owner.create(n, Buffer.from('0'));
    const log = new EventLog();
    await outsider.getData(n, log.watcher);
    await owner.setACL(n, ownerOnly());
    await owner.setData(n, Buffer.from('1')); // withheld, and the watch is used up
    await owner.setACL(n, Ids.OPEN_ACL_UNSAFE); // setACL fires no watch
    await owner.setData(n, Buffer.from('2'));
    await fence([{ zk: outsider, log }]);
    expect(typesOn(log, n)).toEqual([]);
  });

  test('child watches: no NodeChildrenChanged under a parent the watcher may not read', async () => {
    const p = uniquePath('acl-child');
    await owner.create(p, null);
    const out = new EventLog();
    const ins = new EventLog();
    await outsider.getChildren(p, out.watcher);
    await insider.getChildren(p, ins.watcher);
    await owner.setACL(p, ownerOnly());
    await owner.create(`${p}/c`, null, { acl: Ids.OPEN_ACL_UNSAFE });
    await fence([
      { zk: outsider, log: out },
      { zk: insider, log: ins },
    ]);
    expect(typesOn(out, p)).toEqual([]);
    expect(typesOn(ins, p)).toEqual([`NodeChildrenChanged ${p}`]);
  });

  test('persistent watches: withheld while unreadable, delivered again once readable', async () => {
    const n = uniquePath('acl-persistent');
    await owner.create(n, Buffer.from('0'));
    const log = new EventLog();
    await outsider.addWatch(n, log.watcher, AddWatchMode.PERSISTENT);
    await owner.setACL(n, ownerOnly());
    await owner.setData(n, Buffer.from('1'));
    await owner.setACL(n, Ids.OPEN_ACL_UNSAFE);
    await owner.setData(n, Buffer.from('2'));
    await fence([{ zk: outsider, log }]);
    expect(typesOn(log, n)).toEqual([`NodeDataChanged ${n}`]);
  });

  test('persistent-recursive watches do not reveal a child the watcher may not read (the CVE)', async () => {
    const top = uniquePath('acl-recursive');
    await owner.create(top, null);
    const out = new EventLog();
    const rootLog = new EventLog();
    await outsider.addWatch(top, out.watcher, AddWatchMode.PERSISTENT_RECURSIVE);
    await root.addWatch(top, rootLog.watcher, AddWatchMode.PERSISTENT_RECURSIVE);
    await owner.create(`${top}/secret`, Buffer.from('s'), { acl: ownerOnly() });
    await owner.create(`${top}/secret-eph`, null, { acl: ownerOnly(), mode: CreateMode.EPHEMERAL });
    await owner.setData(`${top}/secret`, Buffer.from('t'));
    await owner.delete(`${top}/secret`);
    await owner.create(`${top}/open`, null);
    await fence([
      { zk: outsider, log: out },
      { zk: root, log: rootLog },
    ]);
    expect(typesOn(out, top)).toEqual([`NodeCreated ${top}/open`]);
    expect(typesOn(rootLog, top)).toEqual([
      `NodeCreated ${top}/secret`,
      `NodeCreated ${top}/secret-eph`,
      `NodeDataChanged ${top}/secret`,
      `NodeDeleted ${top}/secret`,
      `NodeCreated ${top}/open`,
    ]);
  });
});
