/**
 * The long differential soak: many seeds, many steps each, against Apache
 * ZooKeeper 3.8 and our server (see random-ops.ts). Prints each seed as it
 * runs and stops at the first difference with the command that replays it.
 *
 *   npx ts-node --transpile-only test/differential/run-differential.ts [seeds=20] [steps=3000] [firstSeed=1]
 */
import { isDeepStrictEqual } from 'util';
import { startApache, startOurs } from '../harness';
import { DIFF_SERVER_OPTIONS, firstDifference, generateSteps, play } from './random-ops';

async function main(): Promise<void> {
  const [seeds = 20, steps = 3000, firstSeed = 1] = process.argv.slice(2).map(Number);
  const [apache, ours] = await Promise.all([startApache(DIFF_SERVER_OPTIONS), startOurs(DIFF_SERVER_OPTIONS)]);
  let failed = false;
  try {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const started = Date.now();
      const list = generateSteps(seed, steps);
      const [theirs, mine] = await Promise.all([play(apache.connectString, list, seed), play(ours.connectString, list, seed)]);
      const diff =
        firstDifference(theirs, mine) ??
        (isDeepStrictEqual(theirs.events, mine.events) ? null : `watch events differ:\n  apache: ${JSON.stringify(theirs.events)}\n  ours:   ${JSON.stringify(mine.events)}`) ??
        (isDeepStrictEqual(theirs.tree, mine.tree) ? null : `final trees differ:\n  apache: ${JSON.stringify(theirs.tree)}\n  ours:   ${JSON.stringify(mine.tree)}`);
      const events = theirs.events.A.length + theirs.events.B.length;
      console.log(`seed ${seed}: ${steps} steps, ${events} events, ${diff ? 'DIFFERENT' : 'identical'} (${Date.now() - started} ms)`);
      if (diff) {
        console.log(`${diff}\nreplay: ZK_DIFF_SEED=${seed} ZK_DIFF_OPS=${steps} npx jest test/differential`);
        failed = true;
        break;
      }
    }
  } finally {
    await Promise.all([apache.stop(), ours.stop()]);
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
