/**
 * Ensemble benchmark: a 3-voter ensemble of our TypeScript server against a
 * 3-voter Apache ZooKeeper 3.8 ensemble, both fsyncing every write, tickTime
 * 2000, side by side in one run.
 *
 *   npm run bench:ensemble
 *   BENCH_ROUNDS=9 npm run bench:ensemble
 *   BENCH_PARTS=failover npm run bench:ensemble          # failover only (idle), no throughput
 *   BENCH_PARTS=failover-mixed npm run bench:ensemble    # failover of mixed ensembles next to a pure Apache one
 *   BENCH_ROUNDS=1 BENCH_SCALE=0.2 npm run bench:ensemble   # a quick check that it works
 *
 * Part 1, failover: a client connected to all three members writes in a loop
 * (one setData at a time); the leader is killed with SIGKILL; measured are
 * the time from the kill to the first write issued after it that succeeds,
 * and the time until a survivor's `srvr` says `Mode: leader`. The killed
 * member is restarted and the ensemble waited healthy before the next round,
 * and every member's copy of the written node is checked (an acknowledged
 * write must survive). Rounds alternate between the two ensembles. A second
 * variant kills the leader right after ~10 s of pipelined writes.
 *
 * Part 1b, failover-mixed (issue 8): the same idle failover round on three
 * more 3-voter ensembles started by test/harness/mixed-cluster.ts, rounds
 * alternating between them: pure Apache, our leader with two Apache
 * followers, an Apache leader with two of ours. Before each round the
 * intended member is made leader again (the current leader is restarted
 * until it is); the table says which kind led after the kill.
 *
 * Part 2, throughput: pipelined getData with sessions on the followers only,
 * pipelined setData, create+delete pairs and sequential setData (p50/p99)
 * with sessions spread over the three members; the same load generator
 * (bench/lib/load-worker.ts, our client by default) for both; server CPU per
 * op = utime+stime of all three members from /proc.
 */
import { performance } from 'perf_hooks';
import {
  alternate,
  makePlan,
  medianOf,
  progress,
  RoundPlan,
  selectPlans,
  SideOutcome,
  warmAll,
  withSpread,
} from './lib/alternating-rounds';
import { CLIENT_LABELS, ClientImpl } from './lib/bench-clients';
import {
  ENSEMBLE_TICK_TIME_MS,
  ensembleCpuMicros,
  memberPids,
  startApacheEnsembleForBench,
  startOursEnsembleForBench,
  stopEnsemble,
} from './lib/ensembles';
import { positiveInt, positiveNumber } from './lib/env-knobs';
import { checkWrites, FailoverWriter, firstLeaderAmong } from './lib/failover';
import { LoadProcess } from './lib/load-process';
import { loadAverage, machineSummary } from './lib/machine';
import { fmt, markdownTable, ratio } from './lib/markdown-table';
import { RunResult, RunSpec, throughputUnit } from './lib/workloads';
import type { Cluster, ServerHandle } from '../test/harness/cluster-types';
import { MemberKind, MixedCluster, startMixed } from '../test/harness/mixed-cluster';

const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const SCALE = positiveNumber('BENCH_SCALE', 1);
const SESSIONS = positiveInt('BENCH_SESSIONS', 6);
const LOAD_CLIENT = loadClient();
const PAYLOAD_BYTES = 128;
/** Pipelined writes before the "after load" kill. */
const LOAD_MS = Math.round(positiveNumber('BENCH_LOAD_SECONDS', 10 * SCALE) * 1000);
const LOAD_OPS = Math.max(1000, Math.round(LOAD_MS * 200));
/** Goals from the issue. */
const FAILOVER_GOAL_MS = 300;
const THROUGHPUT_GOAL = 2;

const FAILOVER_TIMEOUT_MS = 30_000;
const HEALTHY_TIMEOUT_MS = 60_000;
const WRITER_SESSION_TIMEOUT_MS = 20_000;
const WRITER_CONNECT_TIMEOUT_MS = 20_000;
/** Writes flowing before the kill: at least this many successes, then SETTLE_MS more. */
const WARM_WRITES = 10;
const SETTLE_MS = 1000;
const CHECK_TIMEOUT_MS = 15_000;

type Part = 'throughput' | 'failover' | 'failover-load' | 'failover-mixed';
const PARTS = parts();
/** Start-up, plus per round: ~20 s of throughput runs per scale unit, two idle failovers, two loaded ones. */
const OVERALL_LIMIT_MS = 6 * 60_000 + ROUNDS * Math.max(1, SCALE) * 4 * 60_000 + (ROUNDS * 2 * LOAD_MS);

function loadClient(): ClientImpl {
  const v = process.env.BENCH_LOAD_CLIENT ?? 'ours';
  if (v !== 'ours' && v !== 'nzc' && v !== 'raw') throw new Error(`BENCH_LOAD_CLIENT must be 'ours', 'nzc' or 'raw', got '${v}'`);
  return v;
}

function parts(): Part[] {
  const all: Part[] = ['throughput', 'failover', 'failover-load', 'failover-mixed'];
  const v = process.env.BENCH_PARTS;
  if (!v || !v.trim()) return all;
  const want = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = want.filter((w) => !all.includes(w as Part));
  if (bad.length) throw new Error(`BENCH_PARTS: unknown ${bad.join(', ')} (known: ${all.join(', ')})`);
  return all.filter((p) => want.includes(p));
}

const ALL_PLANS: RoundPlan[] = [
  makePlan(ROUNDS, SCALE, 'pipelined getData via followers (1000 in flight)', 'get-pipelined', 150_000, 1000, 2500),
  makePlan(ROUNDS, SCALE, 'pipelined setData (1000 in flight)', 'set-pipelined', 100_000, 1000, 2500),
  makePlan(ROUNDS, SCALE, 'create+delete pairs (100 pairs in flight)', 'create-delete', 40_000, 100, 2500),
  makePlan(ROUNDS, SCALE, 'sequential setData (1 in flight)', 'set-seq', 3000, 1, 2500),
];
const PLANS = PARTS.includes('throughput') ? selectPlans(ALL_PLANS, process.env.BENCH_WORKLOADS) : [];

type Which = 'ours' | 'apache' | 'mixed-apache' | 'mixed-ours-leads' | 'mixed-apache-leads';
const NAMES: Record<Which, string> = {
  ours: 'ours',
  apache: 'Apache ZooKeeper',
  'mixed-apache': 'pure Apache (3 Apache)',
  'mixed-ours-leads': 'our leader + 2 Apache',
  'mixed-apache-leads': 'Apache leader + 2 ours',
};
/** The failover-mixed ensembles, member kinds in sid order: the last (highest sid) is started first and leads. */
const MIXED_SPECS: Array<[Which, MemberKind[]]> = [
  ['mixed-apache', ['apache', 'apache', 'apache']],
  ['mixed-ours-leads', ['apache', 'apache', 'ours']],
  ['mixed-apache-leads', ['ours', 'ours', 'apache']],
];

/** A load run plus the ensemble's CPU over it. */
interface EnsembleRun extends RunResult {
  serverCpuUsPerOp: number;
}

/** One failover round. */
interface FailoverRun {
  /** Kill -> completion of the first write issued after the kill that succeeded. */
  writeMs: number;
  /** Kill -> first srvr reply `Mode: leader` from a survivor. */
  leaderMs: number;
  /** Whether the writer's session was on the killed leader (undefined: not connected at that instant). */
  onLeader?: boolean;
  failedWrites: number;
  /** Restart of the killed member until the ensemble is healthy (srvr on all three, one leader). */
  restartMs: number;
  killedId: number;
  newLeaderId: number;
  /** failover-mixed: the kind of the member that led after the kill. */
  newLeaderKind?: MemberKind;
  /** After-load variant: the pipelined writes' throughput just before the kill. */
  loadOpsPerSec?: number;
}

type Variant = 'idle' | 'load';
const VARIANT_TITLES: Record<Variant, string> = {
  idle: 'leader killed, steady sequential writes',
  load: `leader killed right after ${(LOAD_MS / 1000).toFixed(LOAD_MS % 1000 ? 1 : 0)} s of pipelined writes`,
};

interface SideState {
  which: Which;
  cluster?: Cluster;
  spreadLp?: LoadProcess;
  followerLp?: LoadProcess;
  failoverLp?: LoadProcess;
  writer?: FailoverWriter;
  /** Set when the ensemble could not be brought back: later rounds of this side are skipped. */
  broken?: string;
  /** failover-mixed: the ensemble as a mixed cluster (member kinds), and the sid meant to lead before each kill. */
  mixed?: MixedCluster;
  leadSid?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function tails(servers: readonly ServerHandle[], lines = 25): string {
  return servers.map((s) => `--- member ${s.id} (${s.running() ? `pid ${s.pid()}` : 'not running'}) log tail ---\n${s.logTail(lines)}`).join('\n');
}

/** Restarts every member that is down and waits until the ensemble is healthy. */
async function recover(cluster: Cluster): Promise<void> {
  for (const s of cluster.servers) if (!s.running()) await s.start();
  await cluster.waitHealthy(HEALTHY_TIMEOUT_MS);
}

/**
 * Makes member `sid` lead again: the current leader is restarted (SIGTERM,
 * start) until it does. With equal zxids Fast Leader Election picks the
 * highest sid among the voters, and `sid` is the highest, so one restart
 * of another leader is normally enough.
 */
async function steerLeader(cluster: MixedCluster, sid: number): Promise<void> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const leader = await cluster.leader();
    if (leader?.id === sid) return;
    if (leader) {
      await leader.stop();
      await cluster.waitHealthy(HEALTHY_TIMEOUT_MS);
      await leader.start();
    }
    await cluster.waitHealthy(HEALTHY_TIMEOUT_MS);
  }
  throw new Error(`could not make sid ${sid} lead again: ${await cluster.describe()}`);
}

/**
 * One failover round on one ensemble (see the file comment). Throws when the
 * ensemble does not recover within FAILOVER_TIMEOUT_MS; `problems` receives
 * what the write check found.
 */
async function failoverRound(st: SideState, variant: Variant, problems: string[]): Promise<FailoverRun> {
  const cluster = st.cluster!;
  const writer = st.writer!;
  await cluster.waitHealthy(HEALTHY_TIMEOUT_MS);
  if (st.mixed && st.leadSid !== undefined) await steerLeader(st.mixed, st.leadSid);
  let loadOpsPerSec: number | undefined;
  let leader: ServerHandle | undefined;
  let tKill = 0;
  let firstWriteAt = 0;
  let newLeader: { at: number; id: number } | undefined;
  let onLeader: boolean | undefined;
  let failedWrites = 0;
  writer.start();
  try {
    await writer.waitForSuccesses(WARM_WRITES, 20_000);
    await sleep(SETTLE_MS);
    leader = await cluster.leader();
    if (!leader) throw new Error('no member says it leads');
    if (variant === 'load') {
      const r = await st.failoverLp!.run({ kind: 'set-pipelined', ops: LOAD_OPS, window: 1000, maxMs: LOAD_MS });
      loadOpsPerSec = r.opsPerSec;
    }
    const survivors = cluster.servers.filter((s) => s !== leader);
    const port = writer.currentPort();
    onLeader = port === undefined ? undefined : port === leader.clientPort;
    let cancelled = false;
    tKill = performance.now();
    const firstWrite = writer.firstSuccessIssuedAfter(tKill);
    const killed = leader.kill();
    const leaderSeen = firstLeaderAmong(survivors, () => cancelled);
    try {
      [firstWriteAt, newLeader] = await within(
        Promise.all([firstWrite, leaderSeen]),
        FAILOVER_TIMEOUT_MS,
        `${NAMES[st.which]}: a successful write and a new leader after killing leader ${leader.id}`,
      );
    } catch (err) {
      const modes = await Promise.all(survivors.map(async (s) => `member ${s.id}: ${(await s.mode()) ?? 'not serving'}`));
      throw new Error(
        `${(err as Error).message} (writes after the kill: ${writer.okCount} ok in all, ${writer.failedSinceKill()} failed; ` +
          `${writer.errorSummary()}; survivors now ${modes.join(', ')})\n${tails(survivors)}`,
      );
    } finally {
      cancelled = true;
      await killed;
    }
    failedWrites = writer.failedSinceKill();
  } finally {
    await writer.stop(5000);
  }
  if (!newLeader) throw new Error('the srvr poll ended without a leader');
  const t0 = performance.now();
  await recover(cluster);
  const restartMs = performance.now() - t0;
  const found = await checkWrites(cluster, writer, CHECK_TIMEOUT_MS);
  for (const f of found) problems.push(`${NAMES[st.which]}, ${VARIANT_TITLES[variant]}, after killing leader ${leader.id}: ${f}`);
  return {
    writeMs: firstWriteAt - tKill,
    leaderMs: newLeader.at - tKill,
    onLeader,
    failedWrites,
    restartMs,
    killedId: leader.id,
    newLeaderId: newLeader.id,
    newLeaderKind: st.mixed?.member(newLeader.id).kind,
    loadOpsPerSec,
  };
}

function describeFailover(m: FailoverRun): string {
  return (
    `first write ${fmt(m.writeMs)} ms, new leader ${fmt(m.leaderMs)} ms (killed ${m.killedId}, now ${m.newLeaderId}; ` +
    `writer was on ${m.onLeader === undefined ? '?' : m.onLeader ? 'the leader' : 'a follower'}; ${m.failedWrites} writes failed; ` +
    `back healthy ${fmt(m.restartMs)} ms after restart` +
    (m.loadOpsPerSec !== undefined ? `; load ${fmt(m.loadOpsPerSec)} ops/s` : '') +
    ')'
  );
}

/** Rounds of one variant, alternating which ensemble goes first. */
async function failoverRounds(sides: SideState[], variant: Variant, failures: string[]): Promise<SideOutcome<FailoverRun>[]> {
  const out: SideOutcome<FailoverRun>[] = sides.map(() => ({ runs: [] }));
  progress(`failover: ${VARIANT_TITLES[variant]}`);
  for (let r = 0; r < ROUNDS; r++) {
    const order = sides.map((_, i) => (i + r) % sides.length);
    for (const i of order) {
      const st = sides[i];
      const label = `round ${r + 1}`.padEnd(8);
      if (!st.cluster || !st.writer || (variant === 'load' && !st.failoverLp)) {
        out[i].error ??= 'not started (see Failures)';
        continue;
      }
      if (st.broken) continue;
      try {
        const m = await failoverRound(st, variant, failures);
        out[i].runs.push(m);
        progress(`  ${label} ${NAMES[st.which].padEnd(17)} ${describeFailover(m)}`);
      } catch (err) {
        const msg = (err as Error).message;
        out[i].error ??= msg;
        failures.push(`${NAMES[st.which]}, failover (${VARIANT_TITLES[variant]}), round ${r + 1}: ${msg}`);
        progress(`  ${label} ${NAMES[st.which].padEnd(17)} FAILED: ${msg.split('\n')[0]}`);
        try {
          await recover(st.cluster);
        } catch (e) {
          st.broken = `could not bring the ensemble back: ${(e as Error).message}`;
          failures.push(`${NAMES[st.which]}: ${st.broken}\n${tails(st.cluster.servers)}`);
          progress(`  ${NAMES[st.which]}: ${st.broken.split('\n')[0]}; its remaining rounds are skipped`);
        }
      }
    }
  }
  return out;
}

// --- report ---------------------------------------------------------------------

function goalLine(met: boolean, note = ''): string {
  return met ? 'met' : `NOT met${note}`;
}

/** "1,234 ms (1,100-1,300)" or the failure. */
function spreadOf(o: SideOutcome<FailoverRun>, pick: (m: FailoverRun) => number | undefined): string {
  return withSpread(o, pick);
}

function failoverReport(rows: { variant: Variant; ours: SideOutcome<FailoverRun>; apache: SideOutcome<FailoverRun> }[]): string[] {
  if (rows.length === 0) return [];
  const main = markdownTable(
    ['scenario', 'ours first write ms', 'Apache first write ms', 'ratio', 'ours new leader ms', 'Apache new leader ms', 'ratio'],
    rows.map(({ variant, ours: o, apache: a }) => [
      VARIANT_TITLES[variant],
      fmt(medianOf(o, (m) => m.writeMs)),
      fmt(medianOf(a, (m) => m.writeMs)),
      ratio(medianOf(o, (m) => m.writeMs), medianOf(a, (m) => m.writeMs)),
      fmt(medianOf(o, (m) => m.leaderMs)),
      fmt(medianOf(a, (m) => m.leaderMs)),
      ratio(medianOf(o, (m) => m.leaderMs), medianOf(a, (m) => m.leaderMs)),
    ]),
  );
  const spread = markdownTable(
    ['scenario', 'side', 'first write ms', 'new leader ms', 'writes failed', 'writer on the killed leader', 'restart to healthy ms', 'load before the kill ops/s'],
    rows.flatMap(({ variant, ours: o, apache: a }) =>
      ([['ours', o], ['Apache', a]] as const).map(([name, s]) => [
        VARIANT_TITLES[variant],
        name,
        spreadOf(s, (m) => m.writeMs),
        spreadOf(s, (m) => m.leaderMs),
        spreadOf(s, (m) => m.failedWrites),
        `${s.runs.filter((m) => m.onLeader).length} of ${s.runs.length}`,
        spreadOf(s, (m) => m.restartMs),
        variant === 'load' ? spreadOf(s, (m) => m.loadOpsPerSec) : '',
      ]),
    ),
  );
  const verdicts = rows.map(({ variant, ours: o, apache: a }) => {
    const ow = medianOf(o, (m) => m.writeMs);
    const aw = medianOf(a, (m) => m.writeMs);
    if (Number.isNaN(ow)) return `- ${VARIANT_TITLES[variant]}: ours not measured (see Failures)`;
    const under = goalLine(ow < FAILOVER_GOAL_MS);
    if (Number.isNaN(aw)) return `- ${VARIANT_TITLES[variant]}: ours ${fmt(ow)} ms (goal < ${FAILOVER_GOAL_MS} ms: ${under}); Apache not measured`;
    const overlap =
      o.runs.length > 0 && a.runs.length > 0 &&
      Math.min(...o.runs.map((m) => m.writeMs)) <= Math.max(...a.runs.map((m) => m.writeMs)) &&
      Math.min(...a.runs.map((m) => m.writeMs)) <= Math.max(...o.runs.map((m) => m.writeMs));
    const below = goalLine(ow < aw, overlap ? ', within round-to-round noise' : '');
    return `- ${VARIANT_TITLES[variant]}: ours ${fmt(ow)} ms median to the first write (goal < ${FAILOVER_GOAL_MS} ms: ${under}); ${(ow / aw).toFixed(2)}x Apache's ${fmt(aw)} ms (goal below Apache: ${below})`;
  });
  return [
    'Failover: kill -9 of the leader of a 3-voter ensemble while one client (zookeeper-ts, connected to all three',
    'members) writes one setData at a time. "first write" = kill to the reply of the first write issued after the',
    'kill that succeeds (includes the client noticing the loss and reconnecting); "new leader" = kill to the first',
    `srvr on a survivor answering Mode: leader (polled every 10 ms). Medians over rounds; ratio = ours / Apache, < 1 is faster:`,
    '',
    main,
    '',
    'Median with the range across rounds:',
    '',
    spread,
    '',
    `Goal (failover: median under ${FAILOVER_GOAL_MS} ms and below Apache's):`,
    '',
    ...verdicts,
    '',
  ];
}

/** Who led after the kill, e.g. "Apache 3, ours 2". */
function leaderKinds(o: SideOutcome<FailoverRun>): string {
  const counts = new Map<string, number>();
  for (const m of o.runs) if (m.newLeaderKind) counts.set(m.newLeaderKind, (counts.get(m.newLeaderKind) ?? 0) + 1);
  return [...counts.entries()].map(([k, n]) => `${k === 'ours' ? 'ours' : 'Apache'} ${n}`).join(', ') || 'n/a';
}

function failoverMixedReport(rows: { which: Which; outcome: SideOutcome<FailoverRun> }[]): string[] {
  if (rows.length === 0) return [];
  const pure = rows.find((r) => r.which === 'mixed-apache')?.outcome;
  const vsPure = (o: SideOutcome<FailoverRun>, pick: (m: FailoverRun) => number) => (pure && o !== pure ? ratio(medianOf(o, pick), medianOf(pure, pick)) : '');
  const table = markdownTable(
    ['ensemble (leader before the kill first)', 'first write ms', 'vs pure Apache', 'new leader ms', 'vs pure Apache', 'writes failed', 'led after the kill', 'restart to healthy ms'],
    rows.map(({ which, outcome: o }) => [
      NAMES[which],
      withSpread(o, (m) => m.writeMs),
      vsPure(o, (m) => m.writeMs),
      withSpread(o, (m) => m.leaderMs),
      vsPure(o, (m) => m.leaderMs),
      withSpread(o, (m) => m.failedWrites),
      leaderKinds(o),
      withSpread(o, (m) => m.restartMs),
    ]),
  );
  return [
    'Failover in mixed ensembles (issue 8): the idle failover round (kill -9 of the leader while one zookeeper-ts',
    'session writes one setData at a time) on three ensembles started by test/harness/mixed-cluster.ts, rounds',
    'alternating between them; before each round the intended member leads again. Median (range) over rounds;',
    '"vs pure Apache" = this ensemble / pure Apache, < 1 is faster:',
    '',
    table,
    '',
  ];
}

function throughputReport(rows: { plan: RoundPlan; ours: SideOutcome<EnsembleRun>; apache: SideOutcome<EnsembleRun> }[]): string[] {
  if (rows.length === 0) return [];
  const main = markdownTable(
    ['workload', 'ours throughput', 'Apache throughput', 'ratio', 'ours ensemble CPU µs/op', 'Apache ensemble CPU µs/op', 'ratio'],
    rows.map(({ plan: p, ours: o, apache: a }) => [
      `${p.title} [${throughputUnit(p.spec.kind)}]`,
      fmt(medianOf(o, (m) => m.opsPerSec)),
      fmt(medianOf(a, (m) => m.opsPerSec)),
      ratio(medianOf(o, (m) => m.opsPerSec), medianOf(a, (m) => m.opsPerSec)),
      fmt(medianOf(o, (m) => m.serverCpuUsPerOp)),
      fmt(medianOf(a, (m) => m.serverCpuUsPerOp)),
      ratio(medianOf(o, (m) => m.serverCpuUsPerOp), medianOf(a, (m) => m.serverCpuUsPerOp)),
    ]),
  );
  const seq = rows.filter((r) => r.plan.spec.window === 1);
  const latency = markdownTable(
    ['workload', 'ours p50 µs', 'Apache p50 µs', 'ratio', 'ours p99 µs', 'Apache p99 µs', 'ratio'],
    seq.map(({ plan: p, ours: o, apache: a }) => [
      p.title,
      fmt(medianOf(o, (m) => m.p50Us)),
      fmt(medianOf(a, (m) => m.p50Us)),
      ratio(medianOf(o, (m) => m.p50Us), medianOf(a, (m) => m.p50Us)),
      fmt(medianOf(o, (m) => m.p99Us)),
      fmt(medianOf(a, (m) => m.p99Us)),
      ratio(medianOf(o, (m) => m.p99Us), medianOf(a, (m) => m.p99Us)),
    ]),
  );
  const spread = markdownTable(
    ['workload', 'ours throughput', 'Apache throughput', 'ours ensemble CPU µs/op', 'Apache ensemble CPU µs/op', 'load-gen CPU µs/op (ours / Apache)'],
    rows.map(({ plan: p, ours: o, apache: a }) => [
      p.title,
      withSpread(o, (m) => m.opsPerSec),
      withSpread(a, (m) => m.opsPerSec),
      withSpread(o, (m) => m.serverCpuUsPerOp),
      withSpread(a, (m) => m.serverCpuUsPerOp),
      `${fmt(medianOf(o, (m) => m.cpuUsPerOp))} / ${fmt(medianOf(a, (m) => m.cpuUsPerOp))}`,
    ]),
  );
  const verdicts = rows.map(({ plan: p, ours: o, apache: a }) => {
    const tp = medianOf(o, (m) => m.opsPerSec) / medianOf(a, (m) => m.opsPerSec);
    if (Number.isNaN(tp)) return `- ${p.title}: not measured (${o.error ? 'our ensemble failed' : 'Apache failed'})`;
    // Within noise: some round of ours reaches THROUGHPUT_GOAL x some round of Apache.
    const ov = o.runs.map((m) => m.opsPerSec);
    const av = a.runs.map((m) => m.opsPerSec * THROUGHPUT_GOAL);
    const overlap = Math.min(...ov) <= Math.max(...av) && Math.min(...av) <= Math.max(...ov);
    return `- ${p.title}: throughput ${tp.toFixed(2)}x Apache (goal >= ${THROUGHPUT_GOAL.toFixed(2)}: ${goalLine(tp >= THROUGHPUT_GOAL, overlap ? ', within round-to-round noise' : '')})`;
  });
  return [
    'Throughput and ensemble CPU per operation (ratio = ours / Apache; ensemble CPU = utime+stime of all three members):',
    '',
    main,
    '',
    ...(seq.length
      ? ['Sequential write latency (each write goes through the leader and is fsynced by a quorum; ratio < 1 means ours is faster):', '', latency, '']
      : []),
    'Median with the range across rounds:',
    '',
    spread,
    '',
    `Goal (ensemble throughput at least ${THROUGHPUT_GOAL.toFixed(2)}x Apache ZooKeeper's on every workload):`,
    '',
    ...verdicts,
    '',
  ];
}

// --- main -------------------------------------------------------------------------

async function main(): Promise<void> {
  const startLoad = loadAverage();
  const failures: string[] = [];
  const sides: SideState[] = [{ which: 'ours' }, { which: 'apache' }];
  const mixedSides: SideState[] = [];
  const mixedRows: { which: Which; outcome: SideOutcome<FailoverRun> }[] = [];
  const overall = setTimeout(() => {
    progress(`ensemble bench: over the ${Math.round(OVERALL_LIMIT_MS / 1000)} s ceiling, giving up`);
    process.exit(3);
  }, OVERALL_LIMIT_MS);
  overall.unref();

  const startLoadProcess = async (st: SideState, kind: string, connectStrings: string[] | undefined): Promise<LoadProcess | undefined> => {
    try {
      return await LoadProcess.start({
        impl: LOAD_CLIENT,
        connectString: connectStrings ? connectStrings.join(',') : st.cluster!.connectString,
        connectStrings,
        sessions: SESSIONS,
        payloadBytes: PAYLOAD_BYTES,
        label: `${st.which}-${kind}`,
      });
    } catch (err) {
      const msg = `${CLIENT_LABELS[LOAD_CLIENT]} load (${kind}) on ${NAMES[st.which]}: ${(err as Error).message}`;
      failures.push(msg);
      progress(msg);
      return undefined;
    }
  };

  const throughputRows: { plan: RoundPlan; ours: SideOutcome<EnsembleRun>; apache: SideOutcome<EnsembleRun> }[] = [];
  const failoverRows: { variant: Variant; ours: SideOutcome<FailoverRun>; apache: SideOutcome<FailoverRun> }[] = [];
  try {
    progress(machineSummary());
    // Only failover-mixed asked for: the two ensembles of the other parts are not needed.
    const standard = PARTS.some((p) => p !== 'failover-mixed') ? [sides[1], sides[0]] : [];
    for (const st of standard) {
      progress(`starting ${NAMES[st.which]}: 3 voters, forceSync=yes, tickTime ${ENSEMBLE_TICK_TIME_MS}...`);
      try {
        st.cluster = st.which === 'apache' ? await startApacheEnsembleForBench() : await startOursEnsembleForBench();
        const leader = await st.cluster.leader();
        progress(`  serving on ${st.cluster.connectString} (pids ${memberPids(st.cluster).join(', ')}; leader ${leader?.id ?? '?'})`);
      } catch (err) {
        failures.push(`${NAMES[st.which]} ensemble could not start: ${(err as Error).message}`);
        progress(failures[failures.length - 1].split('\n')[0]);
      }
    }

    // --- part 2 first, on the fresh ensembles: throughput (no member is killed here) ---
    if (PLANS.length > 0) {
      for (const st of sides) {
        if (!st.cluster) continue;
        const leader = await st.cluster.leader();
        const followers = st.cluster.servers.filter((s) => s !== leader).map((s) => s.hostPort);
        if (PLANS.some((p) => p.spec.kind === 'get-pipelined')) st.followerLp = await startLoadProcess(st, 'followers', followers);
        if (PLANS.some((p) => p.spec.kind !== 'get-pipelined')) st.spreadLp = await startLoadProcess(st, 'spread', st.cluster.servers.map((s) => s.hostPort));
      }
      const sideFor = (st: SideState) => ({
        name: NAMES[st.which],
        run: async (spec: RunSpec): Promise<EnsembleRun> => {
          const lp = spec.kind === 'get-pipelined' ? st.followerLp : st.spreadLp;
          if (!st.cluster || !lp) throw new Error('not started (see Failures)');
          const pids = memberPids(st.cluster);
          if (pids.length !== 3) throw new Error(`only ${pids.length} of 3 members are running`);
          const before = ensembleCpuMicros(pids);
          const r = await lp.run(spec);
          const after = ensembleCpuMicros(pids);
          return { ...r, serverCpuUsPerOp: (after - before) / Math.max(1, r.ops) };
        },
      });
      const describe = (m: EnsembleRun) =>
        `${fmt(m.opsPerSec).padStart(8)} ${throughputUnit(m.kind)}, ensemble ${fmt(m.serverCpuUsPerOp).padStart(6)} µs CPU/op` +
        (m.p50Us !== undefined ? `, p50 ${fmt(m.p50Us)} µs, p99 ${fmt(m.p99Us)} µs` : '') +
        ` (${m.ops} in ${(m.elapsedMs / 1000).toFixed(2)} s)`;
      const tSides = sides.map(sideFor);
      await warmAll(tSides, PLANS);
      for (const p of PLANS) {
        const [ours, apache] = await alternate(tSides, p, describe);
        throughputRows.push({ plan: p, ours, apache });
        if (ours.error && sides[0].cluster) failures.push(`ours, ${p.title}: ${ours.error}\n${tails(sides[0].cluster.servers)}`);
        if (apache.error && sides[1].cluster) failures.push(`Apache, ${p.title}: ${apache.error}`);
      }
      // Sessions pinned to one member each must not be around when members are killed.
      for (const st of sides) {
        await Promise.all([st.followerLp?.stop(), st.spreadLp?.stop()]);
        st.followerLp = st.spreadLp = undefined;
      }
    }

    // --- part 1: failover ---
    const variants: Variant[] = [];
    if (PARTS.includes('failover')) variants.push('idle');
    if (PARTS.includes('failover-load')) variants.push('load');
    if (variants.length > 0) {
      for (const st of sides) {
        if (!st.cluster) continue;
        try {
          st.writer = await FailoverWriter.open(st.cluster, st.which, WRITER_SESSION_TIMEOUT_MS, WRITER_CONNECT_TIMEOUT_MS);
        } catch (err) {
          failures.push(`failover writer on ${NAMES[st.which]}: ${(err as Error).message}`);
          progress(failures[failures.length - 1]);
        }
      }
      for (const variant of variants) {
        if (variant === 'load') {
          // All members in one connect string: a session on the killed leader moves to a survivor.
          for (const st of sides) if (st.cluster) st.failoverLp = await startLoadProcess(st, 'failover-load', undefined);
        }
        const [ours, apache] = await failoverRounds(sides, variant, failures);
        failoverRows.push({ variant, ours, apache });
        for (const st of sides) {
          await st.failoverLp?.stop();
          st.failoverLp = undefined;
        }
      }
    }

    // --- part 1b: failover in mixed ensembles, next to a pure Apache one ---
    if (PARTS.includes('failover-mixed')) {
      for (const [which, kinds] of MIXED_SPECS) {
        const st: SideState = { which, leadSid: kinds.length };
        mixedSides.push(st);
        progress(`starting ${NAMES[which]}: sids 1-3 ${kinds.join(', ')}, forceSync=yes, tickTime ${ENSEMBLE_TICK_TIME_MS}...`);
        try {
          st.mixed = await startMixed(kinds.map((kind) => ({ kind })), { tickTime: ENSEMBLE_TICK_TIME_MS, forceSync: true });
          st.cluster = st.mixed;
          progress(`  ${await st.mixed.describe()}`);
          st.writer = await FailoverWriter.open(st.cluster, which, WRITER_SESSION_TIMEOUT_MS, WRITER_CONNECT_TIMEOUT_MS);
        } catch (err) {
          failures.push(`${NAMES[which]}: could not start: ${(err as Error).message}`);
          progress(failures[failures.length - 1].split('\n')[0]);
        }
      }
      const outcomes = await failoverRounds(mixedSides, 'idle', failures);
      mixedSides.forEach((st, i) => mixedRows.push({ which: st.which, outcome: outcomes[i] }));
    }

    // What the ensembles of the throughput and failover parts are (not started when only failover-mixed runs).
    const standardHeader = [
      `ensembles: 3 voters each on 127.0.0.1, forceSync=yes, tickTime ${ENSEMBLE_TICK_TIME_MS}, initLimit 10, syncLimit 5; Apache with upstream zkEnv.sh's -Xmx1000m and JVM defaults; ours via zk-server start-foreground`,
      `both ensembles run side by side; runs and failover rounds alternate between them (order rotating each round)`,
      `throughput load: ${CLIENT_LABELS[LOAD_CLIENT]} in one child process per ensemble and kind, ${SESSIONS} sessions pinned round-robin to the members (reads: to the two followers only), payload ${PAYLOAD_BYTES} bytes`,
      `failover writer: zookeeper-ts, one session on all three members, sequential setData of ${PAYLOAD_BYTES} bytes; after-load variant: ${CLIENT_LABELS[LOAD_CLIENT]}, ${SESSIONS} sessions, pipelined setData (1000 in flight) for ${LOAD_MS / 1000} s just before the kill`,
      `rounds: ${ROUNDS} per ensemble and workload/scenario, alternating; throughput after one warm-up each, failover without warm-up; medians shown; scale ${SCALE}`,
    ];
    const header = [
      machineSummary().replace(/load average at start.*/, `load average at start (1/5/15 min): ${startLoad}`),
      `load average at end (1/5/15 min): ${loadAverage()}`,
      ...(standard.length ? standardHeader : []),
      ...(mixedRows.length
        ? [`failover-mixed ensembles: test/harness/mixed-cluster.ts, 3 voters each, forceSync=yes, tickTime ${ENSEMBLE_TICK_TIME_MS}; the Apache JVMs of every kind as the harness starts them (-Xmx256m, serial GC, C1 only), ours via the harness's transpiled-source launcher; all three ensembles up at once; ${ROUNDS} rounds each, alternating (order rotating each round), no warm-up`]
        : []),
    ];
    const report = [
      '## Ensemble benchmark: zookeeper-ts vs Apache ZooKeeper 3.8, 3 voters each',
      '',
      ...header.join('\n').split('\n').map((l) => `- ${l}`),
      '',
      ...failoverReport(failoverRows),
      ...failoverMixedReport(mixedRows),
      ...throughputReport(throughputRows),
      ...(failures.length ? ['Failures:', '', ...failures.map((f) => '```\n' + f + '\n```'), ''] : []),
    ].join('\n');
    process.stdout.write(`\n${report}`);
  } finally {
    for (const st of [...sides, ...mixedSides]) {
      await st.writer?.close();
      await Promise.all([st.followerLp?.stop(), st.spreadLp?.stop(), st.failoverLp?.stop()]);
    }
    await Promise.all([...sides, ...mixedSides].map((st) => (st.cluster ? stopEnsemble(st.cluster).catch(() => undefined) : undefined)));
    clearTimeout(overall);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
