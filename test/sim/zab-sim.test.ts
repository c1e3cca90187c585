/**
 * Seeded ZAB simulation (see zab-sim-world.ts for the model and the
 * invariants): 3 and 5 voters plus an observer, with crashes at random
 * points (writes in flight lost), broken links, partitions, slow fsyncs and
 * slow messages; then everything heals and one leader must sync everyone
 * and commit a new txn. A failure prints its seed; replay one with
 *   ZK_SIM_SEED=<seed> [ZK_SIM_VOTERS=3|5] [ZK_SIM_TRACE=1] npx jest test/sim/zab-sim.test.ts
 * Thousands of seeds: npm run soak:zab (test/sim/run-zab-sim.ts).
 */
import { runZabSim, ZabSimResult } from './zab-sim-world';

const SEEDS_PER_SIZE = Number(process.env.ZK_SIM_SEEDS ?? 120);
const replaySeed = process.env.ZK_SIM_SEED !== undefined ? Number(process.env.ZK_SIM_SEED) : undefined;
const replayVoters = process.env.ZK_SIM_VOTERS !== undefined ? [Number(process.env.ZK_SIM_VOTERS)] : [3, 5];

jest.setTimeout(300_000);

export function failureReport(r: ZabSimResult): string {
  const replay = `ZK_SIM_SEED=${r.seed} ZK_SIM_VOTERS=${r.voters} ZK_SIM_TRACE=1 npx jest test/sim/zab-sim.test.ts`;
  return `seed ${r.seed} (${r.voters} voters + 1 observer) failed; replay: ${replay}\nfaults: ${JSON.stringify(r.faults)}\n${r.violations.slice(0, 8).join('\n')}` +
    (r.trace.length ? `\n--- trace (last 250 events) ---\n${r.trace.slice(-250).join('\n')}` : '');
}

for (const voters of replayVoters) {
  test(`ZAB, ${voters} voters + 1 observer: ${replaySeed !== undefined ? `seed ${replaySeed}` : `${SEEDS_PER_SIZE} seeds`}`, () => {
    const seeds = replaySeed !== undefined ? [replaySeed] : Array.from({ length: SEEDS_PER_SIZE }, (_, i) => 1 + i + (voters === 5 ? 100_000 : 0));
    const totals = { crashes: 0, established: 0, acknowledged: 0, snaps: 0, truncs: 0, diffs: 0, lateJoins: 0, syncs: 0 };
    const failures: string[] = [];
    for (const seed of seeds) {
      const r = runZabSim({ seed, voters, observers: 1, trace: process.env.ZK_SIM_TRACE === '1' });
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
      if (r.violations.length > 0) {
        failures.push(failureReport(r));
        if (failures.length >= 3) break;
      }
    }
    if (failures.length > 0) throw new Error(failures.join('\n\n'));
    // The runs must have exercised the machines: crashes, new epochs, every sync kind, commits.
    if (replaySeed === undefined) {
      expect(totals.crashes).toBeGreaterThan(0);
      expect(totals.established).toBeGreaterThan(seeds.length);
      expect(totals.acknowledged).toBeGreaterThan(seeds.length);
      expect(totals.snaps).toBeGreaterThan(0);
      expect(totals.truncs).toBeGreaterThan(0);
      expect(totals.diffs).toBeGreaterThan(0);
      expect(totals.syncs).toBeGreaterThan(0);
    }
  });
}
