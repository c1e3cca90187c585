/**
 * Rolling replacement of an Apache ZooKeeper 3.8 ensemble by ours and back,
 * under client load (issue 8), as a script a user runs:
 *   npm run rolling-replacement
 *   npm run rolling-replacement -- --writers 5 --step-seconds 10
 * Starts 3 Apache voters on free loopback ports in a temp dir, puts load on
 * them (our client: several writer sessions creating nodes, one holding an
 * ephemeral), replaces each member with ours (followers first, leader last),
 * then back to Apache, printing every step: who leads, writes acknowledged,
 * any lost acknowledged write, any expired session. At the end every
 * acknowledged write must be readable on every member. Exits 1 on any
 * violation; every process and temp dir is removed at the end, also on
 * Ctrl-C / SIGTERM (exit 130 / 143). The steps are
 * test/harness/rolling-replacement.ts, shared with the jest test.
 */
import type { ManagedServer } from '../harness/managed-server';
import type { MixedCluster } from '../harness/mixed-cluster';
import { rollingReplacement, startApacheForRolling } from '../harness/rolling-replacement';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number, got ${process.argv[i + 1]}`);
  return v;
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const launched: ManagedServer[] = [];
let cluster: MixedCluster | undefined;
let stopping = false;

/** Kills every server process this run started and removes the temp dir. */
async function cleanUp(): Promise<void> {
  await Promise.all(launched.map((s) => s.kill().catch(() => undefined)));
  await cluster?.stop().catch(() => undefined);
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    out(`${signal}: stopping every server and removing ${cluster?.dir ?? 'the temp dir'}`);
    // Temp dirs still registered are removed by the exit hook, once the processes are gone.
    void cleanUp().finally(() => process.exit(code));
  });
}

async function main(): Promise<number> {
  const writers = arg('writers', 3);
  const stepSeconds = arg('step-seconds', 5);
  out('starting 3 Apache ZooKeeper voters on 127.0.0.1...');
  cluster = await startApacheForRolling({ onServer: (s) => launched.push(s) });
  out(`ensemble in ${cluster.dir}: ${await cluster.describe()}; pids ${cluster.members.map((m) => m.server.pid()).join(', ')}`);
  const report = await rollingReplacement(cluster, { writers, writesPerStep: 50, loadMsPerStep: stepSeconds * 1000, log: out });
  const leaderSteps = report.steps.filter((s) => s.wasLeader).length;
  if (report.violations.length === 0) {
    out(`RESULT: ok: ${report.steps.length} replacements, ${report.acked} writes acknowledged (${report.unknown} unknown outcomes), none lost; ` +
      `no session expired; the leader was replaced ${leaderSteps} times and moved at no other step`);
    return 0;
  }
  out(`RESULT: FAILED (${report.violations.length} violations):\n  ${report.violations.join('\n  ')}`);
  return 1;
}

main()
  .catch((err: unknown) => {
    out(`RESULT: FAILED: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    return 1;
  })
  .then(async (code) => {
    if (stopping) return;
    stopping = true;
    await cleanUp();
    process.exit(code);
  });
