/**
 * Leader latch and leader election, one behaviour at a time, on Apache
 * ZooKeeper 3.8 and our server: Curator/kazoo node names, one leader in
 * node order, hand-over on close, await with timeout, leadership given up
 * on SUSPENDED and regained on RECONNECTED, election callbacks that run
 * one at a time and requeue, and errors for bad use.
 */
import { ConnectionLossError, CreateMode, SessionMovedError, ZooKeeper } from '../../src';
import { AcquireTimeoutError, LeaderElection, LeaderLatch, RecipeArgumentError, RecipeClosedError } from '../../recipes';
import { Cluster, startTarget } from '../harness';
import { ExclusionRecord } from './support/exclusion-record';
import { childrenOrNone, Handles, proxied, START_TIMEOUT, targets, uniquePath, waitUntil, sleep } from './support/recipe-fixtures';

const LATCH = /^_c_[0-9a-f-]{36}-latch-\d{10}$/;

describe.each(targets())('leader recipes on %s', (kind) => {
  let cluster: Cluster;
  const handles = new Handles();
  let zks: ZooKeeper[];

  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: 500 });
    zks = await Promise.all([0, 1, 2].map(() => handles.connect(cluster.connectString)));
  }, START_TIMEOUT);
  afterAll(async () => {
    await handles.closeAll();
    await cluster?.stop();
  });

  test('latch: Curator node name with the id as data; one leader; close hands over in node order', async () => {
    const path = uniquePath('latch');
    const latches = zks.map((zk, i) => new LeaderLatch(zk, path, { id: `p${i}` }));
    for (const l of latches) await l.start(); // start in order: p0 is first
    await latches[0].await({ timeout: 10_000 });
    const children = await zks[0].getChildren(path);
    expect(children).toHaveLength(3);
    for (const c of children) expect(c).toMatch(LATCH);
    const parts = await latches[1].participants();
    expect(parts.map((p) => p.id)).toEqual(['p0', 'p1', 'p2']);
    expect(latches.map((l) => l.hasLeadership())).toEqual([true, false, false]);

    const lost: string[] = [];
    latches[0].on('notLeader', () => lost.push('p0'));
    await latches[0].close();
    expect(lost).toEqual(['p0']);
    await latches[1].await({ timeout: 10_000 });
    expect(latches.map((l) => l.hasLeadership())).toEqual([false, true, false]);
    await latches[1].close();
    await latches[2].await({ timeout: 10_000 });
    await latches[2].close();
    expect(await childrenOrNone(zks[0], path)).toEqual([]);
  });

  test('latch: await() times out for a follower; rejects after close; start twice is an error', async () => {
    const path = uniquePath('latch-wait');
    const leader = new LeaderLatch(zks[0], path);
    await leader.start();
    await leader.await({ timeout: 10_000 });
    const follower = new LeaderLatch(zks[1], path);
    await follower.start();
    await expect(follower.await({ timeout: 200 })).rejects.toBeInstanceOf(AcquireTimeoutError);
    const pending = expect(follower.await()).rejects.toBeInstanceOf(RecipeClosedError);
    await follower.close();
    await pending;
    await expect(follower.start()).rejects.toBeInstanceOf(RecipeClosedError);
    await expect(follower.await()).rejects.toBeInstanceOf(RecipeClosedError);
    await leader.close();
    await leader.close(); // idempotent
  });

  test('latch: leadership is given up on SUSPENDED and regained on RECONNECTED with the same node', async () => {
    const path = uniquePath('latch-susp');
    const { zk, drop } = await proxied(handles, cluster);
    const latch = new LeaderLatch(zk, path, { id: 'x' });
    const events: string[] = [];
    latch.on('isLeader', () => events.push('isLeader'));
    latch.on('notLeader', () => events.push('notLeader'));
    await latch.start();
    await latch.await({ timeout: 10_000 });
    const node = latch.nodePath;
    drop();
    await waitUntil(() => events.length >= 3, 'leadership lost and regained', 20_000);
    expect(events.slice(0, 3)).toEqual(['isLeader', 'notLeader', 'isLeader']);
    expect(latch.nodePath).toBe(node);
    await latch.close();
  });

  test('latch: a retriable error while setting the predecessor watch (no reconnect follows) does not silence the follower', async () => {
    // SessionMoved / a request timeout fail a call while the connection stays
    // up: no RECONNECTED comes to trigger another look, so the latch itself must retry.
    const path = uniquePath('latch-retry');
    const leader = new LeaderLatch(zks[0], path, { id: 'a' });
    await leader.start();
    await leader.await({ timeout: 10_000 });
    const zk = await handles.connect(cluster.connectString);
    const realGetData = zk.getData.bind(zk);
    let failed = 0;
    (zk as any).getData = (p: string, w?: unknown) => {
      if (w !== undefined && failed === 0) {
        failed++;
        return Promise.reject(new SessionMovedError(undefined, p));
      }
      return realGetData(p, w as any);
    };
    const follower = new LeaderLatch(zk, path, { id: 'b' });
    follower.on('error', () => undefined);
    await follower.start();
    await waitUntil(() => failed === 1, 'the watch call failed once');
    await leader.close();
    await follower.await({ timeout: 20_000 });
    expect(follower.hasLeadership()).toBe(true);
    expect((await follower.participants()).map((p) => p.id)).toEqual(['b']);
    await follower.close();
  });

  test('latch: ConnectionLoss from the first getChildren and from the ownership exists() is retried; exactly one node, and it leads', async () => {
    const path = uniquePath('latch-cl');
    const zk = await handles.connect(cluster.connectString);
    const realGetChildren = zk.getChildren.bind(zk);
    const realExists = zk.exists.bind(zk);
    let children = 0;
    let exists = 0;
    (zk as any).getChildren = (p: string, ...rest: unknown[]) => {
      if (p === path && children++ === 0) return Promise.reject(new ConnectionLossError(undefined, p));
      return (realGetChildren as any)(p, ...rest);
    };
    (zk as any).exists = (p: string, ...rest: unknown[]) => {
      if (p.startsWith(path + '/') && exists++ === 0) return Promise.reject(new ConnectionLossError(undefined, p));
      return (realExists as any)(p, ...rest);
    };
    const latch = new LeaderLatch(zk, path, { id: 'solo' });
    await latch.start();
    await latch.await({ timeout: 20_000 });
    expect(children).toBeGreaterThanOrEqual(2);
    expect(exists).toBeGreaterThanOrEqual(2);
    expect(await zks[0].getChildren(path)).toHaveLength(1);
    await latch.close();
  });

  test('latch: a stray node of this latch (a lost create reply) is removed instead of blocking the latch', async () => {
    const path = uniquePath('latch-stray');
    const zk = await handles.connect(cluster.connectString);
    const latch = new LeaderLatch(zk, path, { id: 's' });
    await latch.start();
    await latch.await({ timeout: 10_000 });
    const other = new LeaderLatch(zks[1], path, { id: 'o' });
    await other.start();
    // Make a second node with our own protected prefix, ahead of the other latch, as a lost create reply would.
    const mine = latch.nodePath!.split('/').pop()!;
    const prefix = mine.slice(0, mine.lastIndexOf('latch-') + 'latch-'.length);
    await zk.create(`${path}/${prefix}`, Buffer.from('s'), { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    await latch.close(); // close removes our node and the stray: the other latch leads
    await other.await({ timeout: 20_000 });
    expect((await other.participants()).map((p) => p.id)).toEqual(['o']);
    await other.close();
  });

  test('latch: bad use', async () => {
    expect(() => new LeaderLatch(zks[0], 'relative')).toThrow(RecipeArgumentError);
    expect(() => new LeaderLatch(zks[0], '/ok', { id: 5 as any })).toThrow(RecipeArgumentError);
    const dead = await handles.connect(cluster.connectString);
    await dead.close();
    await expect(new LeaderLatch(dead, '/x').start()).rejects.toBeInstanceOf(RecipeClosedError);
    expect(() => new LeaderElection(dead, '/x', () => undefined).start()).toThrow(RecipeClosedError);
    expect(() => new LeaderElection(zks[0], '/x', 'nope' as any)).toThrow(RecipeArgumentError);
  });

  for (const layout of ['curator', 'kazoo'] as const) {
    test(`election (${layout} layout): callbacks run one at a time, each participant leads, requeue runs again`, async () => {
      const path = uniquePath(`elect-${layout}`);
      const record = new ExclusionRecord(1);
      const terms: string[] = [];
      const elections = zks.map(
        (zk, i) =>
          new LeaderElection(
            zk,
            path,
            async (signal) => {
              record.enter(`p${i}`, zk.sessionId);
              terms.push(`p${i}`);
              await sleep(30);
              record.leave(`p${i}`);
              expect(signal.aborted).toBe(false);
            },
            { id: `p${i}`, layout },
          ),
      );
      // 'notLeader' is emitted once a term is over for the user, so requeue() below is allowed
      // whichever participant led last (p0 may be third to create its node).
      let termsOver = 0;
      elections.forEach((e) => e.on('notLeader', () => termsOver++));
      elections.forEach((e) => e.start());
      await waitUntil(() => termsOver === 3, 'each participant led once');
      expect(terms.length).toBe(3);
      expect(new Set(terms).size).toBe(3);
      expect(record.violations).toEqual([]);
      if (layout === 'kazoo') {
        await waitUntil(async () => (await childrenOrNone(zks[0], path)).length === 0, 'nodes released');
      }
      expect(elections[0].requeue()).toBe(true);
      await waitUntil(() => terms.length === 4, 'requeued participant led again');
      expect(terms[3]).toBe('p0');
      await Promise.all(elections.map((e) => e.close()));
    });
  }

  test('election: kazoo layout node names and ids; autoRequeue; close aborts the running term', async () => {
    const path = uniquePath('elect-k');
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let abortedWith: unknown = null;
    const e = new LeaderElection(
      zks[0],
      path,
      (signal) =>
        new Promise<void>((resolve) => {
          started();
          signal.addEventListener('abort', () => {
            abortedWith = signal.reason;
            resolve();
          });
        }),
      { id: 'kz', layout: 'kazoo', autoRequeue: true },
    );
    e.start();
    await running;
    expect(e.hasLeadership()).toBe(true);
    const [child] = await zks[1].getChildren(path);
    expect(child).toMatch(/^[0-9a-f]{32}__lock__\d{10}$/);
    expect((await e.participants()).map((p) => p.id)).toEqual(['kz']);
    await e.close();
    expect(abortedWith).toBeInstanceOf(RecipeClosedError);
    expect(e.hasLeadership()).toBe(false);
    expect(await childrenOrNone(zks[1], path)).toEqual([]);
  });

  test('election: SUSPENDED aborts the leader callback at once', async () => {
    const path = uniquePath('elect-susp');
    const { zk, drop } = await proxied(handles, cluster);
    let reason: unknown = null;
    let leading!: () => void;
    const isLeading = new Promise<void>((r) => (leading = r));
    const e = new LeaderElection(zk, path, (signal) => new Promise<void>((resolve) => {
      leading();
      signal.addEventListener('abort', () => {
        reason = signal.reason;
        resolve();
      });
    }));
    e.start();
    await isLeading;
    drop();
    await waitUntil(() => reason !== null, 'callback aborted');
    expect(String(reason)).toMatch(/SUSPENDED/);
    await e.close();
  });
});
