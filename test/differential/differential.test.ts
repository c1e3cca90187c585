/**
 * Differential run: the same seeded random sequence of operations by two
 * sessions (creates in every mode, deletes and sets with right and wrong
 * versions, reads with watches, multi with failing ops, multiRead, setACL and
 * getACL, sync, persistent and recursive watches, removeWatches,
 * getEphemerals), played against Apache ZooKeeper 3.8 and against our
 * server. Every result, every watch event each session received, and the
 * final tree must be identical (see random-ops.ts for how zxids, session ids
 * and times are normalized).
 *
 * Reproduce or extend: ZK_DIFF_SEED=<n> ZK_DIFF_OPS=<n>; for many seeds,
 * `npx ts-node --transpile-only test/differential/run-differential.ts`.
 */
import { apacheAvailable, Cluster, startApache, startOurs } from '../harness';
import { DIFF_SERVER_OPTIONS, firstDifference, generateSteps, play } from './random-ops';

const SEEDS = process.env.ZK_DIFF_SEED ? [Number(process.env.ZK_DIFF_SEED)] : [20_261_203, 7, 1_000_003];
const OPS = process.env.ZK_DIFF_OPS ? Number(process.env.ZK_DIFF_OPS) : 1000;

describe('differential: one seeded sequence against Apache ZooKeeper 3.8 and ours', () => {
  let apache: Cluster;
  let ours: Cluster;

  beforeAll(async () => {
    if (!apacheAvailable()) throw new Error('Apache ZooKeeper is not installed: run bash test/setup/ensure-deps.sh');
    [apache, ours] = await Promise.all([startApache(DIFF_SERVER_OPTIONS), startOurs(DIFF_SERVER_OPTIONS)]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([apache?.stop(), ours?.stop()]);
  });

  test.each(SEEDS)(`seed %d, ${OPS} steps: identical results, watch events and final tree`, async (seed) => {
    const steps = generateSteps(seed, OPS);
    // Each seed gets a fresh root on both servers: a clean slate without restarting them.
    const [theirs, mine] = await Promise.all([play(apache.connectString, steps, seed), play(ours.connectString, steps, seed)]);
    const where = `seed ${seed} (reproduce: ZK_DIFF_SEED=${seed} ZK_DIFF_OPS=${OPS})`;
    expect({ where, firstDifference: firstDifference(theirs, mine) }).toEqual({ where, firstDifference: null });
    expect({ where, events: mine.events }).toEqual({ where, events: theirs.events });
    expect({ where, tree: mine.tree }).toEqual({ where, tree: theirs.tree });
    // The run exercised the server, not only its error paths.
    const ok = theirs.results.filter((r) => !(r as { out?: { error?: number } }).out?.error).length;
    const failed = theirs.results.length - ok;
    expect({ ok: ok > OPS / 4, failed: failed > OPS / 10, events: theirs.events.A.length + theirs.events.B.length > 10 }).toEqual({ ok: true, failed: true, events: true });
  }, 240_000);
});
