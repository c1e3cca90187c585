/**
 * Invariants under faults, asserted from a shared record of what each
 * contender claimed: never two mutex holders, never more semaphore holders
 * than leases, never two leaders (latch and election). Contenders x rounds
 * with random connection drops (each contender has its own proxies),
 * session expiries (the expired contender comes back on a new handle) and
 * a server kill: each target as a 3-node ensemble (kill -9 one member,
 * restart it on its dataDir).
 *
 * A claim ends at release, at SUSPENDED/LOST (the recipes' contract: the
 * hold is in doubt / gone), or when the test expires the session (it tells
 * the record before expiring). The schedule is seeded: RECIPES_SEED=<n>
 * replays one (the seed is in every failure message).
 */
import { ZooKeeper } from '../../src';
import { LeaderElection, LeaderLatch, Mutex, Semaphore } from '../../recipes';
import { Cluster, startTarget, supports } from '../harness';
import { expireSession } from '../harness/session-tools';
import { ExclusionRecord } from './support/exclusion-record';
import { Handles, proxied, seededRandom, sleep, START_TIMEOUT, targets, testSeed, uniquePath, waitUntil } from './support/recipe-fixtures';

const CONTENDERS = 4;
const ROUNDS = 40; // acquisitions wanted per scenario (bounded also by TIME_BUDGET)
const TIME_BUDGET = 25_000;
const MIN_DURATION = 8000; // long enough for the scheduled faults (kill, expiries, drops) to land mid-run
const SESSION_TIMEOUT = 6000;

interface Contender {
  name: string;
  zk: ZooKeeper;
  drop: () => void;
  close: () => Promise<void>;
}

describe.each(targets())('recipe invariants under faults on %s', (kind) => {
  let cluster: Cluster;
  const handles = new Handles();
  const seed = testSeed();
  const random = seededRandom(seed);
  const ensemble = supports(kind, 'ensemble');

  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: 500, servers: ensemble ? 3 : 1 });
  }, START_TIMEOUT * 2);
  afterAll(async () => {
    await handles.closeAll();
    await cluster?.stop();
  });

  async function contender(name: string): Promise<Contender> {
    const p = await proxied(handles, cluster, { sessionTimeout: SESSION_TIMEOUT });
    return { name, zk: p.zk, drop: p.drop, close: p.close };
  }

  /** Runs faults until `stop()` says so: drops, expiries (through `onExpire`), one server kill. */
  async function faults(all: Contender[], records: ExclusionRecord[], stop: () => boolean, onExpire: (c: Contender) => Promise<void>): Promise<{ drops: number; expiries: number; kills: number }> {
    const stats = { drops: 0, expiries: 0, kills: 0 };
    const started = Date.now();
    while (!stop()) {
      await sleep(150 + random() * 250);
      if (stop()) break;
      const c = all[Math.floor(random() * all.length)];
      const r = random();
      const n = stats.drops + stats.expiries + stats.kills;
      if (stats.kills === 0 && Date.now() - started > 1500) {
        stats.kills++;
        const victim = ensemble ? cluster.servers[Math.floor(random() * 3)] : cluster.servers[0];
        await victim.kill();
        await sleep(500);
        await victim.start();
        await cluster.waitHealthy(60_000);
      } else if ((n % 5 === 4 || r < 0.1) && stats.expiries < 2) {
        stats.expiries++;
        for (const r of records) r.sessionEnded(c.zk.sessionId);
        await expireSession(cluster.connectString, c.zk.sessionId, c.zk.sessionPassword).catch(() => undefined);
        await onExpire(c);
      } else {
        stats.drops++;
        c.drop();
      }
    }
    return stats;
  }

  test(
    'mutex: never two holders',
    async () => {
      const path = uniquePath('inv-mutex');
      const record = new ExclusionRecord(1);
      const all = await Promise.all(Array.from({ length: CONTENDERS }, (_, i) => contender(`c${i}`)));
      const deadline = Date.now() + TIME_BUDGET;
      const minEnd = Date.now() + MIN_DURATION;
      const stop = (): boolean => (record.total >= ROUNDS && Date.now() > minEnd) || Date.now() > deadline;
      const errors: unknown[] = [];
      const loops = all.map(async (c, i) => {
        while (!stop()) {
          const me = all[i];
          // The claim is under this handle's session, even if an expiry swaps in a fresh handle meanwhile.
          const zk = me.zk;
          const m = new Mutex(zk, path);
          const leave = (): void => record.leave(me.name);
          m.on('suspended', leave);
          m.on('lost', leave);
          try {
            const hold = await m.acquire({ timeout: 10_000 });
            if (m.isHeldAndConnected()) {
              record.enter(me.name, zk.sessionId);
              await sleep(5 + random() * 25);
              record.leave(me.name);
            }
            await hold.release();
          } catch (err) {
            // Timeouts, lost sessions and closed handles are expected under faults; a fresh handle replaces an expired one.
            if (!/timed out|session|closed|expired|lost/i.test(String(err))) errors.push(err);
            await sleep(50);
          }
        }
      });
      const stats = await faults(all, [record], stop, async (c) => {
        await waitUntil(() => c.zk.state !== 3, 'expired handle noticed', 20_000).catch(() => undefined);
        const fresh = await contender(c.name);
        Object.assign(c, fresh);
      });
      await Promise.all(loops);
      const report = `seed ${seed}: ${record.total} holds (${record.lateClaims} late claims under an ended session), faults ${JSON.stringify(stats)}, violations ${JSON.stringify(record.violations)}`;
      expect({ report, violations: record.violations.length }).toEqual({ report, violations: 0 });
      expect(record.total).toBeGreaterThanOrEqual(10);
      expect(errors).toEqual([]);
      expect(stats.kills).toBe(1);
      expect(stats.expiries).toBeGreaterThanOrEqual(1);
      console.log(`[${kind}] mutex invariants: ${report}`);
      await Promise.all(all.map((c) => c.close()));
    },
    180_000,
  );

  test(
    'semaphore (2 leases) and leader latch: never more holders than leases, never two leaders',
    async () => {
      const semPath = uniquePath('inv-sem');
      const latchPath = uniquePath('inv-latch');
      const leases = new ExclusionRecord(2);
      const leaders = new ExclusionRecord(1);
      const all = await Promise.all(Array.from({ length: CONTENDERS }, (_, i) => contender(`c${i}`)));
      const deadline = Date.now() + TIME_BUDGET;
      const minEnd = Date.now() + MIN_DURATION;
      const stop = (): boolean => (leases.total >= ROUNDS && Date.now() > minEnd) || Date.now() > deadline;
      const latches = new Map<string, LeaderLatch>();
      const startLatch = async (c: Contender): Promise<void> => {
        const zk = c.zk;
        const latch = new LeaderLatch(zk, latchPath, { id: c.name });
        latch.on('isLeader', () => leaders.enter(c.name, zk.sessionId));
        latch.on('notLeader', () => leaders.leave(c.name));
        latch.on('error', () => undefined);
        latches.set(c.name, latch);
        await latch.start().catch(() => undefined);
      };
      for (const c of all) await startLatch(c);
      const loops = all.map(async (c, i) => {
        while (!stop()) {
          const me = all[i];
          const zk = me.zk;
          const sem = new Semaphore(zk, semPath, 2);
          const leave = (): void => leases.leave(me.name);
          sem.on('suspended', leave);
          sem.on('lost', leave);
          try {
            const lease = await sem.acquire({ timeout: 10_000 });
            if (lease.isValid()) {
              leases.enter(me.name, zk.sessionId);
              await sleep(5 + random() * 25);
              leases.leave(me.name);
            }
            await lease.close();
          } catch {
            await sleep(50);
          }
          // Now and then the leader steps down and joins again.
          const latch = latches.get(me.name);
          if (latch?.hasLeadership() && random() < 0.3) {
            await latch.close();
            await startLatch(me);
          }
        }
      });
      const stats = await faults(
        all,
        [leases, leaders],
        stop,
        async (c) => {
          await waitUntil(() => c.zk.state !== 3, 'expired handle noticed', 20_000).catch(() => undefined);
          await latches.get(c.name)?.close();
          Object.assign(c, await contender(c.name));
          await startLatch(c);
        },
      );
      await Promise.all(loops);
      // After the faults, exactly one leader emerges.
      await waitUntil(() => [...latches.values()].filter((l) => l.hasLeadership()).length === 1, 'one leader after the faults', 30_000);
      const report = `seed ${seed}: ${leases.total} leases (max at once ${leases.maxConcurrent}), ${leaders.total} leaderships, faults ${JSON.stringify(stats)}`;
      expect({ report, leaseViolations: leases.violations, leaderViolations: leaders.violations }).toEqual({ report, leaseViolations: [], leaderViolations: [] });
      expect(leases.total).toBeGreaterThanOrEqual(10);
      expect(leaders.total).toBeGreaterThanOrEqual(2);
      expect(stats.kills).toBe(1);
      console.log(`[${kind}] semaphore/latch invariants: ${report}`);
      for (const l of latches.values()) await l.close();
      await Promise.all(all.map((c) => c.close()));
    },
    180_000,
  );

  test(
    'leader election (autoRequeue): never two leaders under connection drops',
    async () => {
      const path = uniquePath('inv-elect');
      const record = new ExclusionRecord(1);
      const all = await Promise.all(Array.from({ length: CONTENDERS }, (_, i) => contender(`c${i}`)));
      const elections = all.map(
        (c) =>
          new LeaderElection(
            c.zk,
            path,
            async (signal) => {
              record.enter(c.name, c.zk.sessionId);
              const onAbort = (): void => record.leave(c.name);
              signal.addEventListener('abort', onAbort);
              await sleep(10 + random() * 30);
              signal.removeEventListener('abort', onAbort);
              record.leave(c.name);
            },
            { id: c.name, autoRequeue: true },
          ),
      );
      for (const e of elections) e.on('error', () => undefined);
      elections.forEach((e) => e.start());
      const deadline = Date.now() + 10_000;
      let drops = 0;
      while (record.total < ROUNDS && Date.now() < deadline) {
        await sleep(100 + random() * 200);
        all[Math.floor(random() * all.length)].drop();
        drops++;
      }
      await Promise.all(elections.map((e) => e.close()));
      const report = `seed ${seed}: ${record.total} terms, ${drops} drops`;
      expect({ report, violations: record.violations }).toEqual({ report, violations: [] });
      expect(record.total).toBeGreaterThanOrEqual(CONTENDERS);
      console.log(`[${kind}] election invariants: ${report}`);
      await Promise.all(all.map((c) => c.close()));
    },
    60_000,
  );
});
