/**
 * The seed loop of the simulations' soak scripts (run-election-sim.ts,
 * run-zab-sim.ts, run-ensemble-sim.ts): `--seeds N [--start S] [--voters 3,5]`,
 * every failing seed printed with its replay command, a summary, exit 1 on
 * any failure.
 */

/** `--name value` from the command line; the last one wins, so `npm run soak:x -- --seeds 500` overrides the script's. */
export function arg(name: string, dflt: string): string {
  const i = process.argv.lastIndexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

export interface SoakRun {
  violations: string[];
  stats: Record<string, number>;
}

export function soak(opts: {
  run: (seed: number, voters: number) => SoakRun;
  replay: (seed: number, voters: number) => string;
  /** How a stat adds up over the runs (default: sum). */
  combine?: (key: string, total: number, value: number) => number;
}): never {
  const seeds = Number(arg('seeds', '2000'));
  const start = Number(arg('start', String(1_000_000)));
  const sizes = arg('voters', '3,5').split(',').map(Number);
  const combine = opts.combine ?? ((_k, total, v) => total + v);
  const t0 = Date.now();
  let failed = 0;
  let runs = 0;
  const totals: Record<string, number> = {};
  for (const voters of sizes) {
    for (let seed = start; seed < start + seeds; seed++) {
      const r = opts.run(seed, voters);
      runs++;
      for (const [k, v] of Object.entries(r.stats)) totals[k] = k in totals ? combine(k, totals[k], v) : v;
      if (r.violations.length > 0) {
        failed++;
        console.log(`FAIL seed ${seed} voters ${voters}: ${r.violations[0].slice(0, 500)}`);
        console.log(`  replay: ${opts.replay(seed, voters)}`);
      }
    }
  }
  console.log(`${runs} runs (${seeds} seeds x ${sizes.join('/')} voters + 1 observer) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${failed} failed`);
  console.log(`totals: ${JSON.stringify(totals)}`);
  process.exit(failed > 0 ? 1 : 0);
}
