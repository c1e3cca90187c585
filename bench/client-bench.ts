/**
 * Client benchmark: zookeeper-ts against node-zookeeper-client, same
 * workloads, same Apache ZooKeeper 3.8 standalone server (fsync on), in one
 * run.
 *
 *   npm run bench:client
 *   BENCH_ROUNDS=9 BENCH_SCALE=2 npm run bench:client   # longer, steadier
 *
 * A third side, the raw socket floor (hand-encoded frames, no library),
 * shows what the kernel and Node's socket layer cost per op by themselves.
 * With BENCH_BASELINE_SRC=<another checkout>/src a fourth side runs our
 * client from that checkout, so a change is measured before and after in
 * the same alternating rounds (the report adds a before/after table).
 *
 * Each client library runs in its own child process (bench/lib/load-worker.ts)
 * so process.cpuUsage() there counts that library alone; the server is a
 * separate JVM. Runs alternate between the sides and the report takes
 * medians. stderr shows progress; stdout ends with markdown tables.
 */
import {
  alternate,
  makePlan,
  medianOf,
  progress,
  RoundPlan,
  rangesOverlap,
  selectPlans,
  SideOutcome,
  verdict,
  warmAll,
  withSpread,
} from './lib/alternating-rounds';
import { baselineSource, CLIENT_LABELS, ClientImpl } from './lib/bench-clients';
import { LoadProcess } from './lib/load-process';
import { loadAverage, machineSummary } from './lib/machine';
import { fmt, markdownTable, ratio } from './lib/markdown-table';
import { BenchServer, startApacheForBench } from './lib/servers';
import { positiveInt, positiveNumber } from './lib/env-knobs';
import { RunResult, RunSpec, throughputUnit } from './lib/workloads';

const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
/** Scales every op count and time budget (1 keeps the whole run under 3 minutes). */
const SCALE = positiveNumber('BENCH_SCALE', 1);
const PAYLOAD_BYTES = 128;
/** Hard ceiling on the whole run, whatever hangs. */
const OVERALL_LIMIT_MS = 10 * 60_000;

const ALL_PLANS: RoundPlan[] = [
  makePlan(ROUNDS, SCALE, 'sequential getData (1 in flight)', 'get-seq', 4000, 1, 2500),
  makePlan(ROUNDS, SCALE, 'pipelined getData (1000 in flight)', 'get-pipelined', 100_000, 1000, 2000),
  makePlan(ROUNDS, SCALE, 'pipelined setData (1000 in flight)', 'set-pipelined', 60_000, 1000, 2000),
  makePlan(ROUNDS, SCALE, 'create+delete pairs (100 pairs in flight)', 'create-delete', 20_000, 100, 2000),
];

/** BENCH_WORKLOADS=get-seq,create-delete runs only those (e.g. while profiling one path). */
const PLANS = selectPlans(ALL_PLANS, process.env.BENCH_WORKLOADS);

interface Row {
  plan: RoundPlan;
  ours: SideOutcome<RunResult>;
  theirs: SideOutcome<RunResult>;
  floor: SideOutcome<RunResult>;
  /** Our client from BENCH_BASELINE_SRC, when given. */
  base?: SideOutcome<RunResult>;
}

/** The before/after table: the baseline checkout and this one, each against node-zookeeper-client in the same rounds. */
function baselineTable(rows: Row[]): string | null {
  const withBase = rows.filter((r) => r.base !== undefined);
  if (withBase.length === 0) return null;
  const cpu = (o: SideOutcome<RunResult>) => medianOf(o, (m) => m.cpuUsPerOp);
  return markdownTable(
    ['workload', 'baseline CPU µs/op', 'this CPU µs/op', 'this / baseline', 'nzc CPU µs/op', 'baseline / nzc', 'this / nzc'],
    withBase.map(({ plan: p, ours: o, theirs: t, base: b }) => [
      p.title,
      fmt(cpu(b!)),
      fmt(cpu(o)),
      ratio(cpu(o), cpu(b!)),
      fmt(cpu(t)),
      ratio(cpu(b!), cpu(t)),
      ratio(cpu(o), cpu(t)),
    ]),
  );
}

function report(rows: Row[], failures: string[], startLoad: string): string {
  const ours = CLIENT_LABELS.ours;
  const theirs = CLIENT_LABELS.nzc;
  const main = markdownTable(
    ['workload', `${ours} throughput`, `${theirs} throughput`, 'ratio', `${ours} CPU µs/op`, `${theirs} CPU µs/op`, 'ratio'],
    rows.map(({ plan: p, ours: o, theirs: t }) => [
      `${p.title} [${throughputUnit(p.spec.kind)}]`,
      fmt(medianOf(o, (m) => m.opsPerSec)),
      fmt(medianOf(t, (m) => m.opsPerSec)),
      ratio(medianOf(o, (m) => m.opsPerSec), medianOf(t, (m) => m.opsPerSec)),
      fmt(medianOf(o, (m) => m.cpuUsPerOp)),
      fmt(medianOf(t, (m) => m.cpuUsPerOp)),
      ratio(medianOf(o, (m) => m.cpuUsPerOp), medianOf(t, (m) => m.cpuUsPerOp)),
    ]),
  );
  const seq = rows.filter((r) => r.plan.spec.window === 1);
  const latency = seq.length === 0 ? '' : markdownTable(
    ['workload', `${ours} p50 µs`, `${theirs} p50 µs`, 'ratio', `${ours} p99 µs`, `${theirs} p99 µs`, 'ratio'],
    seq.map(({ plan: p, ours: o, theirs: t }) => [
      p.title,
      fmt(medianOf(o, (m) => m.p50Us)),
      fmt(medianOf(t, (m) => m.p50Us)),
      ratio(medianOf(o, (m) => m.p50Us), medianOf(t, (m) => m.p50Us)),
      fmt(medianOf(o, (m) => m.p99Us)),
      fmt(medianOf(t, (m) => m.p99Us)),
      ratio(medianOf(o, (m) => m.p99Us), medianOf(t, (m) => m.p99Us)),
    ]),
  );
  const spread = markdownTable(
    ['workload', `${ours} throughput`, `${theirs} throughput`, `${ours} CPU µs/op`, `${theirs} CPU µs/op`],
    rows.map(({ plan: p, ours: o, theirs: t }) => [
      p.title,
      withSpread(o, (m) => m.opsPerSec),
      withSpread(t, (m) => m.opsPerSec),
      withSpread(o, (m) => m.cpuUsPerOp),
      withSpread(t, (m) => m.cpuUsPerOp),
    ]),
  );
  const split = markdownTable(
    ['workload', `${ours} user`, `${ours} kernel`, `${theirs} user`, `${theirs} kernel`, 'user ratio'],
    rows.map(({ plan: p, ours: o, theirs: t }) => [
      p.title,
      fmt(medianOf(o, (m) => m.cpuUserUsPerOp)),
      fmt(medianOf(o, (m) => m.cpuSysUsPerOp)),
      fmt(medianOf(t, (m) => m.cpuUserUsPerOp)),
      fmt(medianOf(t, (m) => m.cpuSysUsPerOp)),
      ratio(medianOf(o, (m) => m.cpuUserUsPerOp), medianOf(t, (m) => m.cpuUserUsPerOp)),
    ]),
  );

  // What each library costs above the raw socket floor: the part a client library controls.
  const above = (o: SideOutcome<RunResult>, f: SideOutcome<RunResult>) =>
    medianOf(o, (m) => m.cpuUsPerOp) - medianOf(f, (m) => m.cpuUsPerOp);
  // Medians of separate runs can put a library a hair under the floor: that reads "at the floor".
  const atFloor = (v: number) => (v <= 0 ? 'at floor' : fmt(v));
  const floorTable = markdownTable(
    ['workload', 'floor throughput', 'floor CPU µs/op', `${ours} above floor`, `${theirs} above floor`, 'ratio'],
    rows.map(({ plan: p, ours: o, theirs: t, floor: f }) => [
      p.title,
      fmt(medianOf(f, (m) => m.opsPerSec)),
      fmt(medianOf(f, (m) => m.cpuUsPerOp)),
      atFloor(above(o, f)),
      atFloor(above(t, f)),
      above(o, f) > 0 && above(t, f) > 0 ? ratio(above(o, f), above(t, f)) : 'n/a',
    ]),
  );

  const verdicts: string[] = [];
  for (const { plan: p, ours: o, theirs: t } of rows) {
    const tp = medianOf(o, (m) => m.opsPerSec) / medianOf(t, (m) => m.opsPerSec);
    const cpu = medianOf(o, (m) => m.cpuUsPerOp) / medianOf(t, (m) => m.cpuUsPerOp);
    if (Number.isNaN(tp) || Number.isNaN(cpu)) {
      verdicts.push(`- ${p.title}: not measured (${o.error ? `${ours} failed` : `${theirs} failed`})`);
      continue;
    }
    verdicts.push(
      `- ${p.title}: throughput ${tp.toFixed(2)}x ` +
        `(goal >= 1.00: ${verdict(tp >= 1, rangesOverlap(o, t, (m) => m.opsPerSec))}), ` +
        `CPU per op ${cpu.toFixed(2)}x (goal <= 0.50: ${cpu <= 0.5 ? 'met' : 'NOT met'})`,
    );
  }

  return [
    '## Client benchmark: zookeeper-ts vs node-zookeeper-client',
    '',
    ...[
      machineSummary().replace(/load average at start.*/, `load average at start (1/5/15 min): ${startLoad}`),
      `load average at end (1/5/15 min): ${loadAverage()}`,
      `server: Apache ZooKeeper 3.8 standalone, forceSync=yes, one session per client; payload ${PAYLOAD_BYTES} bytes`,
      `rounds: ${ROUNDS} per client, alternating, after one warm-up each; medians shown; scale ${SCALE}`,
    ]
      .join('\n')
      .split('\n')
      .map((l) => `- ${l}`),
    '',
    'Throughput and client CPU per operation (ratio = zookeeper-ts / node-zookeeper-client):',
    '',
    main,
    '',
    ...(latency
      ? [
          'Sequential latency (ratio < 1 means zookeeper-ts is faster):',
          '',
          latency,
          '',
        ]
      : []),
    'Median with the range across rounds:',
    '',
    spread,
    '',
    'The raw socket floor: hand-encoded frames on a plain socket, one write per tick, replies read only to the',
    'header (bench/lib/bench-clients.ts connectRaw). CPU above the floor is what each library adds:',
    '',
    floorTable,
    '',
    'Client CPU µs/op split into user and system time, as getrusage accounts them (on this VM much of the',
    "socket send path shows up as user time, so read the split with care):",
    '',
    split,
    '',
    ...(baselineTable(rows)
      ? [
          `Before/after in the same rounds: our client from ${baselineSource()} (baseline) and from this checkout:`,
          '',
          baselineTable(rows)!,
          '',
        ]
      : []),
    'Goals (issue 2: at least node-zookeeper-client\'s throughput, at most half its client CPU per op):',
    '',
    ...verdicts,
    ...(failures.length ? ['', 'Failures:', '', ...failures.map((f) => '```\n' + f + '\n```')] : []),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const startLoad = loadAverage();
  const failures: string[] = [];
  let server: BenchServer | undefined;
  const loads: Partial<Record<ClientImpl, LoadProcess>> = {};
  const overall = setTimeout(() => {
    progress(`client bench: over the ${OVERALL_LIMIT_MS / 1000} s ceiling, giving up`);
    process.exit(3);
  }, OVERALL_LIMIT_MS);
  overall.unref();
  try {
    progress(machineSummary());
    progress('starting Apache ZooKeeper 3.8 (standalone, forceSync=yes)...');
    server = await startApacheForBench();
    progress(`  serving on ${server.connectString} (pid ${server.pid})`);

    const impls: ClientImpl[] = baselineSource() ? ['ours', 'nzc', 'raw', 'base'] : ['ours', 'nzc', 'raw'];
    for (const impl of impls) {
      try {
        loads[impl] = await LoadProcess.start({
          impl,
          connectString: server.connectString,
          sessions: 1,
          payloadBytes: PAYLOAD_BYTES,
          label: impl,
        });
      } catch (err) {
        const msg = `${CLIENT_LABELS[impl]} could not start: ${(err as Error).message}`;
        failures.push(msg);
        progress(msg);
      }
    }

    const sideFor = (impl: ClientImpl) => ({
      name: CLIENT_LABELS[impl],
      run: (spec: RunSpec) => {
        const lp = loads[impl];
        return lp ? lp.run(spec) : Promise.reject(new Error('not started (see Failures)'));
      },
    });
    const describe = (m: RunResult) =>
      `${fmt(m.opsPerSec).padStart(8)} ${throughputUnit(m.kind)}, ${fmt(m.cpuUsPerOp).padStart(6)} µs CPU/op` +
      (m.p50Us !== undefined ? `, p50 ${fmt(m.p50Us)} µs, p99 ${fmt(m.p99Us)} µs` : '') +
      ` (${m.ops} in ${(m.elapsedMs / 1000).toFixed(2)} s)`;

    const sides = impls.map(sideFor);
    await warmAll(sides, PLANS);
    const rows: Row[] = [];
    for (const p of PLANS) {
      const [ours, theirs, floor, base] = await alternate(sides, p, describe);
      rows.push({ plan: p, ours, theirs, floor, base });
      for (const [impl, o] of [['ours', ours], ['nzc', theirs], ['raw', floor], ['base', base]] as const) {
        if (o?.error && loads[impl]) failures.push(`${CLIENT_LABELS[impl]}, ${p.title}: ${o.error}`);
      }
    }
    process.stdout.write(`\n${report(rows, failures, startLoad)}`);
  } finally {
    await Promise.all(Object.values(loads).map((lp) => lp?.stop()));
    await server?.stop();
    clearTimeout(overall);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
