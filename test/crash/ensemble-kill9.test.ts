/**
 * Nothing acknowledged is lost when ensemble members are killed (-9): a
 * client streams pipelined creates at a 3-server ensemble (fsync on) while,
 * at seeded moments, the leader or a random member is killed and restarted
 * on its data dir. Afterwards every member, asked on its own client port
 * after a sync, has every node whose create was acknowledged, with its data;
 * and all members agree on the tree below the test path. Apache's ensemble
 * runs the same schedule as the control. ZK_CRASH_SEED=<n> replays a run.
 */
import { Cluster, ServerHandle, startTarget, targetsWith } from '../harness';
import { KeeperState, ZooKeeper } from '../../src';
import { seededRandom } from '../harness/seeded-random';

const SEED = process.env.ZK_CRASH_SEED ? Number(process.env.ZK_CRASH_SEED) : 4242;
const CYCLES = 3;
const WINDOW = 16;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(targetsWith('ensemble'))('kill -9 in a 3-server %s ensemble', (kind) => {
  let cluster: Cluster;
  const open: ZooKeeper[] = [];

  beforeAll(async () => {
    cluster = await startTarget(kind, { servers: 3, tickTime: 200, forceSync: true });
  }, 120_000);
  afterAll(async () => {
    for (const zk of open) await zk.close().catch(() => undefined);
    await cluster?.stop();
  });

  async function client(connectString: string): Promise<ZooKeeper> {
    const zk = new ZooKeeper(connectString, { sessionTimeout: 15_000, connectTimeout: 60_000 });
    zk.on('error', () => undefined);
    open.push(zk);
    await zk.connected();
    return zk;
  }

  test(`every acknowledged create survives ${CYCLES} kills (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const base = `/k9-${kind}`;
    const writer = await client(cluster.connectString);
    await writer.create(base, null);
    const acked = new Set<number>();
    let next = 0;
    let stop = false;
    let failures = 0;
    // A window of pipelined creates; a failed one (connection lost: outcome unknown) is not acknowledged.
    // Bounded by count (60,000 names stay well under jute.maxbuffer in one getChildren) and by the kill cycles.
    const pump = async (): Promise<void> => {
      while (!stop && next < 60_000) {
        const i = next++;
        try {
          await writer.create(`${base}/n${i}`, Buffer.from(`v${i}`));
          acked.add(i);
        } catch {
          failures++;
          if (writer.state === KeeperState.Expired || writer.state === KeeperState.Closed) return;
          await sleep(20);
        }
      }
    };
    const pumps = Array.from({ length: WINDOW }, () => pump());
    const victims: string[] = [];
    for (let c = 0; c < CYCLES; c++) {
      const before = acked.size;
      await sleep(300 + random() * 700);
      // Kill only while writes are being acknowledged, so the kill lands mid-stream.
      expect({ cycle: c, acknowledging: acked.size > before }).toEqual({ cycle: c, acknowledging: true });
      const leader = await cluster.leader();
      const victim: ServerHandle = random() < 0.6 && leader ? leader : cluster.servers[Math.floor(random() * cluster.servers.length)];
      victims.push(`${victim.id}${victim === leader ? ' (leader)' : ''}`);
      await victim.kill();
      await sleep(200 + random() * 500);
      await victim.start();
      await cluster.waitHealthy(60_000);
    }
    await sleep(500);
    stop = true;
    await Promise.all(pumps);
    expect(writer.state).toBe(KeeperState.SyncConnected);
    expect(acked.size).toBeGreaterThan(100);

    // Every member on its own: the acknowledged nodes, and one shared tree.
    const trees: string[][] = [];
    for (const s of cluster.servers) {
      const zk = await client(s.hostPort);
      await zk.sync(base);
      const names = (await zk.getChildren(base)).sort();
      const have = new Set(names);
      const missing = [...acked].filter((i) => !have.has(`n${i}`));
      expect({ server: s.id, victims, seed: SEED, missing: missing.slice(0, 10), missingCount: missing.length }).toEqual({
        server: s.id,
        victims,
        seed: SEED,
        missing: [],
        missingCount: 0,
      });
      for (const i of [...acked].slice(0, 50)) expect((await zk.getData(`${base}/n${i}`)).data?.toString()).toBe(`v${i}`);
      trees.push(names);
    }
    expect(trees[1]).toEqual(trees[0]);
    expect(trees[2]).toEqual(trees[0]);
    process.stdout.write(`[${kind}] ensemble kill -9: ${acked.size} acknowledged, ${trees[0].length} present, ${failures} unknown outcomes, victims ${victims.join(', ')}\n`);
  }, 240_000);
});
