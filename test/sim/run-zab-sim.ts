/**
 * Runs the ZAB simulation over many seeds (the jest test runs a couple of hundred).
 *   npx ts-node --transpile-only test/sim/run-zab-sim.ts --seeds 5000 [--start 1000000] [--voters 3,5] [--reconfig [--membership]]
 *   npx ts-node --transpile-only test/sim/run-zab-sim.ts --trace --seed 4 --voters 3 [--reconfig [--membership]]   (one seed, whole trace)
 * --reconfig runs the reconfigEnabled variant (the first leader versions the
 * config, ZOOKEEPER-1783; NEWLEADER needs a quorum of both configs);
 * --membership adds a joiner and reconfigs that change who votes, during
 * the faults (`npm run soak:reconfig` runs both).
 * Prints a summary and every failing seed with its replay command; exits 1 on any failure.
 */
import { arg, soak } from './soak';
import { replayCommand, runZabSim } from './zab-sim-world';

const membership = process.argv.includes('--membership');
const reconfigEnabled = membership || process.argv.includes('--reconfig');

if (process.argv.includes('--trace')) {
  // One seed with its whole trace: --trace --seed <n> --voters <3|5>
  const r = runZabSim({ seed: Number(arg('seed', '1')), voters: Number(arg('voters', '3')), observers: 1, trace: true, reconfigEnabled, membership });
  console.log(r.trace.join('\n'));
  console.log(r.violations.join('\n') || 'no violations');
  process.exit(r.violations.length > 0 ? 1 : 0);
}

if (reconfigEnabled) console.log(`variant: reconfigEnabled${membership ? ', membership changes (a joiner; voters added, removed, the leader too; observers promoted and back)' : ''}`);
soak({
  run: (seed, voters) => {
    const r = runZabSim({ seed, voters, observers: 1, reconfigEnabled, membership });
    return { violations: r.violations, stats: { ...r.stats } };
  },
  replay: (seed, voters) => replayCommand(seed, voters, reconfigEnabled, membership),
});
