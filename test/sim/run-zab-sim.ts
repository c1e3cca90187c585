/**
 * Runs the ZAB simulation over many seeds (the jest test runs a couple of hundred).
 *   npx ts-node --transpile-only test/sim/run-zab-sim.ts --seeds 5000 [--start 1000000] [--voters 3,5]
 *   npx ts-node --transpile-only test/sim/run-zab-sim.ts --trace --seed 4 --voters 3   (one seed, whole trace)
 * Prints a summary and every failing seed with its replay command; exits 1 on any failure.
 */
import { runZabSim, ZabSimStats } from './zab-sim-world';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

if (process.argv.includes('--trace')) {
  // One seed with its whole trace: --trace --seed <n> --voters <3|5>
  const r = runZabSim({ seed: Number(arg('seed', '1')), voters: Number(arg('voters', '3')), observers: 1, trace: true });
  console.log(r.trace.join('\n'));
  console.log(r.violations.join('\n') || 'no violations');
  process.exit(r.violations.length > 0 ? 1 : 0);
}

const seeds = Number(arg('seeds', '2000'));
const start = Number(arg('start', String(1_000_000)));
const sizes = arg('voters', '3,5').split(',').map(Number);
const t0 = Date.now();
let failed = 0;
let runs = 0;
const totals: Partial<Record<keyof ZabSimStats, number>> = {};
for (const voters of sizes) {
  for (let seed = start; seed < start + seeds; seed++) {
    const r = runZabSim({ seed, voters, observers: 1 });
    runs++;
    for (const [k, v] of Object.entries(r.stats) as [keyof ZabSimStats, number][]) totals[k] = (totals[k] ?? 0) + v;
    if (r.violations.length > 0) {
      failed++;
      console.log(`FAIL seed ${seed} voters ${voters}: ${r.violations[0].slice(0, 500)}`);
      console.log(`  replay: ZK_SIM_SEED=${seed} ZK_SIM_VOTERS=${voters} ZK_SIM_TRACE=1 npx jest test/sim/zab-sim.test.ts`);
    }
  }
}
console.log(`${runs} runs (${seeds} seeds x ${sizes.join('/')} voters + 1 observer) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${failed} failed`);
console.log(`totals: ${JSON.stringify(totals)}`);
process.exit(failed > 0 ? 1 : 0);
