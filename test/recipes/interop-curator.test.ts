/**
 * Interop with Apache Curator 5.4 (Debian libcurator-recipes-java, driven
 * by test/interop/curator/CuratorContender.java compiled with javac), on
 * our server and on Apache ZooKeeper 3.8: a TS Mutex and Curator's
 * InterProcessMutex on one path never hold at once; the same for the
 * read/write lock's write side, the semaphore's lease count, and a TS
 * LeaderLatch beside a Curator LeaderLatch (never two leaders). Both
 * sides report into one ExclusionRecord.
 */
import { ZooKeeper } from '../../src';
import { LeaderLatch, Mutex, ReadWriteLock, Semaphore } from '../../recipes';
import { Cluster, startTarget } from '../harness';
import { cleanupCurator, curatorAvailable, startCurator } from '../interop/curator/curator-runner';
import { ExclusionRecord } from './support/exclusion-record';
import { Handles, sleep, START_TIMEOUT, targets, uniquePath } from './support/recipe-fixtures';

const ROUNDS = 8;
const HOLD_MS = 20;
// test/setup/ensure-deps.sh installs Curator and a JDK: without them this fails, it never skips.
if (!curatorAvailable()) {
  throw new Error('interop-curator: libcurator-recipes-java or javac missing: apt-get install -y libcurator-recipes-java default-jdk-headless (or run bash test/setup/ensure-deps.sh)');
}

describe.each(targets())('Curator 5.4 interop on %s', (kind) => {
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
    cleanupCurator();
  });

  /** Runs two Curator contenders and two TS loops against one record; returns it. */
  async function contest(capacity: number, curatorKind: string, path: string, tsRound: (i: number, record: ExclusionRecord) => Promise<void>): Promise<ExclusionRecord> {
    const record = new ExclusionRecord(capacity);
    const javas = [0, 1].map((j) =>
      startCurator(cluster.connectString, curatorKind, path, ROUNDS, HOLD_MS, (line) => {
        if (line === 'HOLD') record.enter(`curator${j}`, BigInt(j + 1));
        else if (line === 'FREE') record.leave(`curator${j}`);
      }),
    );
    try {
      await Promise.all(javas.map((j) => j.ready));
      await Promise.all(
        [0, 1].map(async (i) => {
          for (let r = 0; r < ROUNDS; r++) await tsRound(i, record);
        }),
      );
      const codes = await Promise.all(javas.map((j) => j.done));
      expect({ codes, out: codes.some((c) => c !== 0) ? javas.map((j) => j.output.join('\n')) : [] }).toEqual({ codes: [0, 0], out: [] });
    } finally {
      for (const j of javas) if (j.proc.exitCode === null) j.proc.kill('SIGKILL');
    }
    expect(record.violations).toEqual([]);
    // Both sides took part: 2 Java x ROUNDS + 2 TS x ROUNDS.
    expect(record.total).toBe(4 * ROUNDS);
    return record;
  }

  test('TS Mutex and Curator InterProcessMutex never hold at once', async () => {
    const path = uniquePath('cur-mutex');
    const mutexes = [0, 1].map(() => new Mutex(zk, path));
    await contest(1, 'mutex', path, async (i, record) => {
      const hold = await mutexes[i].acquire({ timeout: 60_000 });
      record.enter(`ts${i}`, 0n);
      await sleep(HOLD_MS);
      record.leave(`ts${i}`);
      await hold.release();
    });
  }, 120_000);

  test('TS write lock and Curator write lock never hold at once', async () => {
    const path = uniquePath('cur-rw');
    const zk2 = await handles.connect(cluster.connectString);
    const locks = [new ReadWriteLock(zk, path), new ReadWriteLock(zk2, path)];
    await contest(1, 'write', path, async (i, record) => {
      const hold = await locks[i].writeLock.acquire({ timeout: 60_000 });
      record.enter(`ts${i}`, 0n);
      await sleep(HOLD_MS);
      record.leave(`ts${i}`);
      await hold.release();
    });
  }, 120_000);

  test('TS Semaphore and Curator InterProcessSemaphoreV2 share one lease count (2)', async () => {
    const path = uniquePath('cur-sem');
    const zk2 = await handles.connect(cluster.connectString);
    const sems = [new Semaphore(zk, path, 2), new Semaphore(zk2, path, 2)];
    const record = await contest(2, 'semaphore:2', path, async (i, rec) => {
      const lease = await sems[i].acquire({ timeout: 60_000 });
      rec.enter(`ts${i}`, 0n);
      await sleep(HOLD_MS);
      rec.leave(`ts${i}`);
      await lease.close();
    });
    expect(record.maxConcurrent).toBeLessThanOrEqual(2);
  }, 120_000);

  test('TS LeaderLatch beside Curator LeaderLatch: never two leaders', async () => {
    const path = uniquePath('cur-latch');
    const zk2 = await handles.connect(cluster.connectString);
    const zks = [zk, zk2];
    await contest(1, 'latch', path, async (i, record) => {
      const latch = new LeaderLatch(zks[i], path, { id: `ts${i}` });
      await latch.start();
      await latch.await({ timeout: 60_000 });
      record.enter(`ts${i}`, 0n);
      await sleep(HOLD_MS);
      record.leave(`ts${i}`);
      await latch.close();
    });
  }, 120_000);
});
