/**
 * Scale benchmark (issue 11): our server and Apache ZooKeeper 3.8 side by
 * side in one run, at N znodes, S sessions and W watches, reported as
 * ratios.
 *
 *   npm run bench:scale
 *   ZK_SCALE_NODES=20000 ZK_SCALE_SESSIONS=200 ZK_SCALE_WATCHES=2000 npm run bench:scale   # a quick look
 *   ZK_SCALE_ONLY=memory,startup npm run bench:scale
 *
 * Per server, one after the other (never both at once: 2 cores), standalone:
 *   1. start on an empty dataDir; restart once, timed (start-up floor);
 *   2. fill the tree (N leaves of ZK_SCALE_DATA_BYTES under /scale/p<k>/),
 *      pipelined from 4 sessions: create rate, and memory (RSS, heap after a
 *      full GC) before and after: bytes per znode = delta / N;
 *   3. kill -9 and restart with snapCount = ZK_SCALE_SNAP_COUNT, timed: the
 *      start-up from a txn log of N creates (no snapshot of the tree yet);
 *   4. sequential setData from one session while the server snapshots the
 *      big tree every snapCount/2..snapCount txns: p50/p99 of the requests
 *      that overlap a snapshot vs the ones that do not;
 *   5. kill -9 and restart, timed: the start-up from a snapshot + log tail;
 *   6. S sessions, then W watches, memory after each; the herd (all S
 *      sessions watch one znode, one setData) delivery time.
 * Then 3-voter ensembles, one kind after the other: fill N, kill one
 * follower, wipe its dataDir (myid kept), restart it, time until srvr on it
 * reports the leader's zxid (a SNAP sync of the whole tree).
 *
 * The bench talks to the servers only over the network, 4lw, /proc, jcmd
 * and signals; the load is our client, the same code on both sides.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ZooKeeper } from '../src';
import type { Cluster, ServerHandle } from '../test/harness/cluster-types';
import { memberPids, startApacheEnsembleForBench, startOursEnsembleForBench, stopEnsemble } from './lib/ensembles';
import { positiveInt } from './lib/env-knobs';
import { loadAverage, machineSummary } from './lib/machine';
import { fmt, markdownTable } from './lib/markdown-table';
import { closeAll, connect, connectMany, fillTree, herd, nodePath, sequentialSets, setWatches, TimedSample, TREE_ROOT } from './lib/scale-load';
import { jcmdPath, MemorySample, sampleMemory, SnapshotSeen, SnapshotWatcher, srvrZxid, timeRestartUntilRead } from './lib/scale-probes';
import { BenchServer, apacheAvailable, ourServerAvailable, startApacheForBench, startOursForBench } from './lib/servers';
import { percentileSorted } from './lib/stats';

const NODES = positiveInt('ZK_SCALE_NODES', 200_000);
const SESSIONS = positiveInt('ZK_SCALE_SESSIONS', 2_000);
const WATCHES = positiveInt('ZK_SCALE_WATCHES', 20_000);
const DATA_BYTES = positiveInt('ZK_SCALE_DATA_BYTES', 32);
const SNAP_COUNT = positiveInt('ZK_SCALE_SNAP_COUNT', 4_000);
const SNAP_WRITES = positiveInt('ZK_SCALE_SNAP_WRITES', 12_000);
/** Sessions the tree is filled from, and in-flight creates over them. */
const FILL_SESSIONS = 4;
const FILL_IN_FLIGHT = 1000;
/** Watch-setting sessions (the W watches are spread over these, not over the S sessions, so the two memory deltas stay apart). */
const WATCH_SESSIONS = 4;
/** snapCount while filling: no snapshot of a half-built tree, so step 3 replays a pure log. */
const NO_SNAPSHOTS = 1_000_000_000;
const SECTIONS = ['memory', 'startup', 'snapshot', 'sessions', 'sync'] as const;
type Section = (typeof SECTIONS)[number];
type Kind = 'ours' | 'apache';
const ONLY = pickSections(process.env.ZK_SCALE_ONLY);
const KINDS = pickKinds(process.env.ZK_SCALE_SERVERS);
/** Per-phase ceilings (a phase over its ceiling fails and is reported), and one for the whole run. */
const FILL_LIMIT_MS = 5 * 60_000;
const PHASE_LIMIT_MS = 2 * 60_000;
const START_LIMIT_MS = 3 * 60_000;
const OVERALL_LIMIT_MS = 45 * 60_000;

function pickSections(v: string | undefined): Set<Section> {
  if (!v) return new Set(SECTIONS);
  const picked = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = picked.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (bad.length) throw new Error(`ZK_SCALE_ONLY: unknown section(s) ${bad.join(', ')}; pick from ${SECTIONS.join(', ')}`);
  return new Set(picked as Section[]);
}

function pickKinds(v: string | undefined): Kind[] {
  if (!v) return ['ours', 'apache'];
  const picked = v.split(',').map((s) => s.trim());
  if (!picked.every((k) => k === 'ours' || k === 'apache')) throw new Error(`ZK_SCALE_SERVERS must list ours and/or apache, got '${v}'`);
  return picked as Kind[];
}

function progress(msg: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// --- the report's rows ---------------------------------------------------------

interface RowDef {
  section: Section;
  label: string;
  /** Which way is better; the ratio is always ours / Apache. */
  better: 'lower' | 'higher' | 'info';
}

/** Row id -> definition, in report order. */
const ROWS = {
  createRate: { section: 'memory', label: `create throughput, ${FILL_SESSIONS} sessions, ${FILL_IN_FLIGHT} in flight [znodes/s]`, better: 'higher' },
  rssPerZnode: { section: 'memory', label: `RSS per znode (${DATA_BYTES}-byte data) [bytes]`, better: 'lower' },
  heapPerZnode: { section: 'memory', label: 'heap after GC per znode (V8 / Java) [bytes]', better: 'lower' },
  rssAtN: { section: 'memory', label: `RSS with ${NODES.toLocaleString('en-US')} znodes [MiB]`, better: 'lower' },
  heapAtN: { section: 'memory', label: `heap after GC with ${NODES.toLocaleString('en-US')} znodes [MiB]`, better: 'lower' },
  startEmpty: { section: 'startup', label: 'start-up, empty dataDir (process start floor) [ms]', better: 'lower' },
  startLog: { section: 'startup', label: `start-up, ${NODES.toLocaleString('en-US')} znodes from the txn log only [ms]`, better: 'lower' },
  startSnap: { section: 'startup', label: `start-up, ${NODES.toLocaleString('en-US')} znodes from snapshot + log tail [ms]`, better: 'lower' },
  snapCountSeen: { section: 'snapshot', label: 'snapshots of the tree during the write phase', better: 'info' },
  snapBytes: { section: 'snapshot', label: 'snapshot file size [MiB]', better: 'lower' },
  snapWriteMs: { section: 'snapshot', label: 'snapshot file write time, median (file first seen to last growth) [ms]', better: 'lower' },
  p50Quiet: { section: 'snapshot', label: 'sequential setData p50, no snapshot running [µs]', better: 'lower' },
  p50Snap: { section: 'snapshot', label: 'sequential setData p50, during a snapshot [µs]', better: 'lower' },
  p99Quiet: { section: 'snapshot', label: 'sequential setData p99, no snapshot running [µs]', better: 'lower' },
  p99Snap: { section: 'snapshot', label: 'sequential setData p99, during a snapshot [µs]', better: 'lower' },
  maxSnap: { section: 'snapshot', label: 'sequential setData max, during a snapshot [µs]', better: 'lower' },
  snapSamples: { section: 'snapshot', label: 'setData samples during a snapshot / total', better: 'info' },
  sessionRate: { section: 'sessions', label: `session connect rate, ${SESSIONS.toLocaleString('en-US')} sessions, 100 handshakes in flight [sessions/s]`, better: 'higher' },
  rssPerSession: { section: 'sessions', label: 'RSS per session [bytes]', better: 'lower' },
  heapPerSession: { section: 'sessions', label: 'heap after GC per session [bytes]', better: 'lower' },
  rssPerWatch: { section: 'sessions', label: `RSS per watch (${WATCHES.toLocaleString('en-US')} watches${WATCHES <= NODES ? ' on distinct znodes' : ''}) [bytes]`, better: 'lower' },
  heapPerWatch: { section: 'sessions', label: 'heap after GC per watch [bytes]', better: 'lower' },
  herdMedian: { section: 'sessions', label: `herd: ${SESSIONS.toLocaleString('en-US')} watchers of one znode, median delivery after setData [ms]`, better: 'lower' },
  herdLast: { section: 'sessions', label: `herd: ${SESSIONS.toLocaleString('en-US')} watchers of one znode, last delivery after setData [ms]`, better: 'lower' },
  ensembleCreateRate: { section: 'sync', label: `3-voter ensemble create throughput via the leader [znodes/s]`, better: 'higher' },
  syncMode: { section: 'sync', label: "sync the leader chose for the wiped follower (from the leader's log)", better: 'info' },
  snapSync: { section: 'sync', label: `learner SNAP sync of ${NODES.toLocaleString('en-US')} znodes: wiped follower restart to leader's zxid [ms]`, better: 'lower' },
} satisfies Record<string, RowDef>;
type RowId = keyof typeof ROWS;

type Results = Partial<Record<RowId, Partial<Record<Kind, number | string>>>>;

function put(results: Results, row: RowId, kind: Kind, value: number | string): void {
  (results[row] ??= {})[kind] = value;
}

function cell(v: number | string | undefined): string {
  return typeof v === 'string' ? v : fmt(v);
}

function render(results: Results): string {
  const rows: string[][] = [];
  for (const [id, def] of Object.entries(ROWS) as [RowId, RowDef][]) {
    if (!ONLY.has(def.section)) continue;
    const r = results[id] ?? {};
    const o = r.ours;
    const a = r.apache;
    let ratioText = 'n/a';
    let verdict = '';
    if (typeof o === 'number' && typeof a === 'number' && a !== 0 && !Number.isNaN(o) && !Number.isNaN(a)) {
      const q = o / a;
      ratioText = `${q.toFixed(2)}x`;
      if (def.better !== 'info') {
        const oursBetter = def.better === 'lower' ? q < 1 : q > 1;
        verdict = Math.abs(q - 1) < 0.05 ? 'even' : oursBetter ? 'ours' : 'Apache';
      }
    }
    rows.push([def.label, cell(o), cell(a), ratioText, def.better === 'info' ? '' : def.better, verdict]);
  }
  return markdownTable(['metric', 'ours', 'Apache', 'ratio ours/Apache', 'better is', 'better'], rows);
}

// --- measurements ----------------------------------------------------------------

const MIB = 2 ** 20;

function perItem(before: MemorySample, after: MemorySample, n: number, which: 'rss' | 'heap'): number | string {
  const b = before[which];
  const a = after[which];
  if (a === undefined || b === undefined) return `n/a (${after.heapError ?? before.heapError ?? 'not read'})`;
  return (a - b) / n;
}

function describeMem(m: MemorySample): string {
  return `RSS ${(m.rss / MIB).toFixed(1)} MiB, heap ${m.heap === undefined ? `n/a (${m.heapError})` : `${(m.heap / MIB).toFixed(1)} MiB`}`;
}

/** Splits the write phase's samples by whether they overlap a snapshot's window. */
function snapshotSplit(samples: TimedSample[], snaps: SnapshotSeen[], pollMs: number) {
  const windows = snaps.map((s) => {
    // A snapshot begins when the txn it is named after commits (our server copies the tree then, before
    // its file exists): start the window at the request that produced that zxid, if we sent it.
    const trigger = samples.find((x) => x.zxid >= s.zxid);
    const start = Math.min(s.firstSeen - pollMs, trigger ? trigger.t0 : Infinity);
    return { start, end: s.lastChange + pollMs };
  });
  const during: number[] = [];
  const quiet: number[] = [];
  for (const x of samples) {
    const us = (x.t1 - x.t0) * 1000;
    if (windows.some((w) => x.t0 <= w.end && x.t1 >= w.start)) during.push(us);
    else quiet.push(us);
  }
  during.sort((a, b) => a - b);
  quiet.sort((a, b) => a - b);
  return { during, quiet };
}

/** ManagedServer's launch() is what the restart timing needs (a start() would wait on its own probe). */
type Launchable = ServerHandle & { launch(): void };

function launchable(h: ServerHandle): Launchable {
  if (typeof (h as Partial<Launchable>).launch !== 'function') throw new Error('server handle cannot be launched by itself');
  return h as Launchable;
}

async function runStandalone(kind: Kind, results: Results, failures: string[]): Promise<void> {
  const name = kind === 'ours' ? 'our server' : 'Apache ZooKeeper';
  const wants = (s: Section) => ONLY.has(s);
  const fail = (what: string, err: unknown, srv?: BenchServer) => {
    const msg = `${name}, ${what}: ${(err as Error).message}` + (srv && kind === 'ours' ? `\n--- server log tail ---\n${srv.logTail(20)}` : '');
    failures.push(msg);
    progress(msg);
  };
  progress(`${name}: starting standalone (forceSync=yes, snapCount ${NO_SNAPSHOTS} while filling)...`);
  let srv: BenchServer;
  try {
    srv = kind === 'ours' ? await startOursForBench({ snapCount: NO_SNAPSHOTS, exposeGc: true }) : await startApacheForBench({ snapCount: NO_SNAPSHOTS });
  } catch (err) {
    fail('start', err);
    return;
  }
  const handle = launchable(srv.handle);
  const clients: ZooKeeper[] = [];
  const data = Buffer.alloc(DATA_BYTES, 0x61);
  try {
    if (wants('startup')) {
      await handle.kill();
      const ms = await timeRestartUntilRead(handle, '/', START_LIMIT_MS);
      put(results, 'startEmpty', kind, ms);
      progress(`  start-up, empty dataDir: ${ms.toFixed(0)} ms`);
    }

    // --- fill ---
    for (let i = 0; i < FILL_SESSIONS; i++) clients.push(await connect(srv.connectString));
    const m0 = await sampleMemory(kind, handle);
    progress(`  before the tree: ${describeMem(m0)}`);
    const fill = await fillTree(clients, NODES, data, FILL_IN_FLIGHT, FILL_LIMIT_MS);
    put(results, 'createRate', kind, fill.perSec);
    progress(`  created ${fill.created} znodes in ${(fill.elapsedMs / 1000).toFixed(1)} s (${fill.perSec.toFixed(0)}/s)`);
    if (wants('memory')) {
      const m1 = await sampleMemory(kind, handle);
      progress(`  with the tree: ${describeMem(m1)}`);
      put(results, 'rssPerZnode', kind, perItem(m0, m1, NODES, 'rss'));
      put(results, 'heapPerZnode', kind, perItem(m0, m1, NODES, 'heap'));
      put(results, 'rssAtN', kind, m1.rss / MIB);
      if (m1.heap !== undefined) put(results, 'heapAtN', kind, m1.heap / MIB);
    }
    await closeAll(clients.splice(0), 10_000);

    // --- restart from the log, then write through snapshots ---
    const needSnapshots = wants('snapshot') || wants('startup');
    await handle.kill();
    srv.setSnapCount(SNAP_COUNT);
    const tLog = await timeRestartUntilRead(handle, nodePath(NODES - 1), START_LIMIT_MS);
    if (wants('startup')) put(results, 'startLog', kind, tLog);
    progress(`  start-up from the txn log (${NODES} creates): ${tLog.toFixed(0)} ms`);

    if (needSnapshots) {
      const writer = await connect(srv.connectString);
      clients.push(writer);
      // Warm the write path (JIT) before anything is measured.
      await sequentialSets(writer, nodePath(0), data, 300, 10_000);
      const pollMs = 10;
      const watcher = new SnapshotWatcher(srv.handle.dataDir, pollMs);
      watcher.start();
      const samples = await sequentialSets(writer, nodePath(0), data, SNAP_WRITES, PHASE_LIMIT_MS);
      // A snapshot still being written when the writes stop: let it finish so its window is whole.
      await new Promise((r) => setTimeout(r, 1500));
      const snaps = watcher.stop().filter((s) => s.firstSeen <= samples[samples.length - 1].t1);
      const { during, quiet } = snapshotSplit(samples, snaps, pollMs);
      const writeTimes = snaps.map((s) => s.lastChange - s.firstSeen).sort((a, b) => a - b);
      progress(
        `  ${samples.length} setData, ${snaps.length} snapshots (${snaps.map((s) => `0x${s.zxid.toString(16)} ${(s.bytes / MIB).toFixed(1)} MiB ${(s.lastChange - s.firstSeen).toFixed(0)} ms`).join('; ')}); ` +
          `quiet p50/p99 ${fmt(percentileSorted(quiet, 50))}/${fmt(percentileSorted(quiet, 99))} µs, during ${fmt(percentileSorted(during, 50))}/${fmt(percentileSorted(during, 99))} µs (${during.length} samples)`,
      );
      if (wants('snapshot')) {
        put(results, 'snapCountSeen', kind, snaps.length);
        if (snaps.length) {
          put(results, 'snapBytes', kind, Math.max(...snaps.map((s) => s.bytes)) / MIB);
          put(results, 'snapWriteMs', kind, percentileSorted(writeTimes, 50));
        }
        put(results, 'p50Quiet', kind, percentileSorted(quiet, 50));
        put(results, 'p99Quiet', kind, percentileSorted(quiet, 99));
        if (during.length) {
          put(results, 'p50Snap', kind, percentileSorted(during, 50));
          put(results, 'p99Snap', kind, percentileSorted(during, 99));
          put(results, 'maxSnap', kind, during[during.length - 1]);
        }
        put(results, 'snapSamples', kind, `${during.length} / ${samples.length}`);
      }
      await closeAll(clients.splice(0), 10_000);

      // --- restart from the newest snapshot + the log after it ---
      await handle.kill();
      const tSnap = await timeRestartUntilRead(handle, nodePath(NODES - 1), START_LIMIT_MS);
      if (wants('startup')) put(results, 'startSnap', kind, tSnap);
      progress(`  start-up from snapshot + log tail: ${tSnap.toFixed(0)} ms`);
    }

    if (wants('sessions')) {
      const helper = await connect(srv.connectString);
      clients.push(helper);
      const s0 = await sampleMemory(kind, handle);
      progress(`  before ${SESSIONS} sessions: ${describeMem(s0)}`);
      const { sessions, elapsedMs } = await connectMany(srv.connectString, SESSIONS, 100, PHASE_LIMIT_MS);
      try {
        put(results, 'sessionRate', kind, SESSIONS / (elapsedMs / 1000));
        const s1 = await sampleMemory(kind, handle);
        progress(`  with ${SESSIONS} sessions (${(elapsedMs / 1000).toFixed(1)} s to connect): ${describeMem(s1)}`);
        put(results, 'rssPerSession', kind, perItem(s0, s1, SESSIONS, 'rss'));
        put(results, 'heapPerSession', kind, perItem(s0, s1, SESSIONS, 'heap'));
        const watchers: ZooKeeper[] = [];
        for (let i = 0; i < WATCH_SESSIONS; i++) watchers.push(await connect(srv.connectString));
        clients.push(...watchers);
        const s1b = await sampleMemory(kind, handle);
        const w = await setWatches(watchers, WATCHES, NODES, PHASE_LIMIT_MS);
        const s2 = await sampleMemory(kind, handle);
        progress(`  with ${WATCHES} watches (${(w.elapsedMs / 1000).toFixed(1)} s to set): ${describeMem(s2)}`);
        put(results, 'rssPerWatch', kind, perItem(s1b, s2, WATCHES, 'rss'));
        put(results, 'heapPerWatch', kind, perItem(s1b, s2, WATCHES, 'heap'));
        const h = await herd(sessions, helper, `${TREE_ROOT}/herd`, PHASE_LIMIT_MS);
        progress(`  herd of ${h.watchers}: first ${h.firstMs.toFixed(1)} ms, median ${h.medianMs.toFixed(1)} ms, last ${h.lastMs.toFixed(1)} ms (setData reply ${h.writeMs.toFixed(1)} ms)`);
        put(results, 'herdMedian', kind, h.medianMs);
        put(results, 'herdLast', kind, h.lastMs);
      } finally {
        await closeAll(sessions, 60_000);
      }
    }
  } catch (err) {
    fail('standalone run', err, srv);
  } finally {
    await closeAll(clients, 10_000);
    await srv.stop().catch(() => undefined);
  }
}

/** Everything in a member's dataDir but myid goes: the member must come back with nothing and take a SNAP. */
function wipeDataDir(dataDir: string): void {
  for (const f of fs.readdirSync(dataDir)) if (f !== 'myid') fs.rmSync(path.join(dataDir, f), { recursive: true, force: true });
}

/**
 * How the leader synced the follower, from its log: ours logs "syncing learner <id> with SNAP|DIFF|TRUNC";
 * Apache logs "Sending snapshot last zxid of peer is ..." at INFO only for a SNAP.
 */
function syncMode(kind: Kind, leaderLog: string, followerId: number): string {
  if (kind === 'ours') {
    const all = [...leaderLog.matchAll(new RegExp(`syncing learner ${followerId} with (SNAP|DIFF|TRUNC)`, 'g'))];
    return all.length ? all[all.length - 1][1] : 'unknown';
  }
  return /Sending snapshot last zxid of peer is 0x0\b/.test(leaderLog) ? 'SNAP' : /Synchronizing with Learner sid: /.test(leaderLog) ? 'not SNAP (DIFF?)' : 'unknown';
}

async function runEnsemble(kind: Kind, results: Results, failures: string[]): Promise<void> {
  const name = kind === 'ours' ? 'our ensemble' : 'Apache ensemble';
  progress(`${name}: starting 3 voters (forceSync=yes)...`);
  let cluster: Cluster;
  try {
    cluster = kind === 'ours' ? await startOursEnsembleForBench() : await startApacheEnsembleForBench();
  } catch (err) {
    failures.push(`${name}, start: ${(err as Error).message}`);
    progress(failures[failures.length - 1]);
    return;
  }
  const clients: ZooKeeper[] = [];
  try {
    const leader = await cluster.leader();
    if (!leader) throw new Error('no leader');
    for (let i = 0; i < FILL_SESSIONS; i++) clients.push(await connect(leader.hostPort));
    const fill = await fillTree(clients, NODES, Buffer.alloc(DATA_BYTES, 0x61), FILL_IN_FLIGHT, FILL_LIMIT_MS);
    put(results, 'ensembleCreateRate', kind, fill.perSec);
    progress(`  created ${fill.created} znodes in ${(fill.elapsedMs / 1000).toFixed(1)} s (${fill.perSec.toFixed(0)}/s), members ${memberPids(cluster).join(' ')}`);
    await closeAll(clients.splice(0), 10_000);
    const follower = cluster.servers.find((s) => s !== leader);
    if (!follower) throw new Error('no follower');
    // The zxid every member must reach: the leader's, once the closeSessions above are through.
    await new Promise((r) => setTimeout(r, 500));
    const target = await srvrZxid(leader.clientPort);
    if (!target) throw new Error('leader does not answer srvr');
    await follower.kill();
    wipeDataDir(follower.dataDir);
    const m = launchable(follower);
    const t0 = performance.now();
    m.launch();
    let seen: { mode: string; zxid: bigint } | undefined;
    for (;;) {
      seen = await srvrZxid(follower.clientPort);
      if (seen && seen.mode === 'follower' && seen.zxid >= target.zxid) break;
      if (!follower.running()) throw new Error(`the restarted follower exited:\n${follower.logTail(30)}`);
      if (performance.now() - t0 > START_LIMIT_MS) throw new Error(`follower not at 0x${target.zxid.toString(16)} within ${START_LIMIT_MS} ms (srvr: ${seen?.mode} 0x${seen?.zxid.toString(16)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = performance.now() - t0;
    put(results, 'snapSync', kind, ms);
    const mode = syncMode(kind, leader.logTail(400), follower.id);
    put(results, 'syncMode', kind, mode);
    progress(`  wiped follower ${follower.id} at the leader's zxid 0x${target.zxid.toString(16)} after ${ms.toFixed(0)} ms (${mode})`);
    // ZK_SCALE_DEBUG=1: the members' own account of the sync, to see where the time went.
    if (process.env.ZK_SCALE_DEBUG) progress(`--- follower ---\n${follower.logTail(40)}\n--- leader ---\n${leader.logTail(20)}`);
  } catch (err) {
    failures.push(`${name}: ${(err as Error).message}`);
    progress(failures[failures.length - 1]);
  } finally {
    await closeAll(clients, 10_000);
    await stopEnsemble(cluster).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const startLoad = loadAverage();
  const overall = setTimeout(() => {
    progress(`scale bench: over the ${OVERALL_LIMIT_MS / 60_000} min ceiling, giving up`);
    process.exit(3);
  }, OVERALL_LIMIT_MS);
  overall.unref();
  progress(machineSummary());
  progress(`N=${NODES} znodes, S=${SESSIONS} sessions, W=${WATCHES} watches, sections ${[...ONLY].join(',')}, servers ${KINDS.join(',')}`);
  const results: Results = {};
  const failures: string[] = [];
  const available: Record<Kind, () => boolean> = { ours: ourServerAvailable, apache: apacheAvailable };
  const kinds = KINDS.filter((k) => {
    if (available[k]()) return true;
    failures.push(`${k === 'ours' ? 'our server' : 'Apache ZooKeeper'} is not available here; its column is empty`);
    return false;
  });
  const standalone = ['memory', 'startup', 'snapshot', 'sessions'].some((s) => ONLY.has(s as Section));
  const t0 = performance.now();
  if (standalone) for (const k of kinds) await runStandalone(k, results, failures);
  if (ONLY.has('sync')) for (const k of kinds) await runEnsemble(k, results, failures);
  const minutes = (performance.now() - t0) / 60_000;

  const jcmd = jcmdPath();
  const out = [
    '## Scale benchmark: zookeeper-ts server vs Apache ZooKeeper 3.8',
    '',
    ...[
      machineSummary().replace(/load average at start.*/, `load average at start (1/5/15 min): ${startLoad}`),
      `load average at end (1/5/15 min): ${loadAverage()}`,
      `run time: ${minutes.toFixed(1)} min`,
      `sizes: N=${NODES.toLocaleString('en-US')} znodes (${DATA_BYTES}-byte data, 1000 per parent), S=${SESSIONS.toLocaleString('en-US')} sessions, W=${WATCHES.toLocaleString('en-US')} watches`,
      `servers: forceSync=yes, tickTime 2000; Apache with upstream zkEnv.sh's -Xmx1000m and JVM defaults; snapshot phase snapCount=${SNAP_COUNT}, ${SNAP_WRITES.toLocaleString('en-US')} sequential setData`,
      `heap: ours = V8 heapUsed after a full GC (--expose-gc, SIGUSR2); Apache = ${jcmd ? 'jcmd GC.run then GC.heap_info used' : 'n/a (no jcmd)'}`,
      `load: zookeeper-ts client in the orchestrating process, the same code for both servers`,
    ].join('\n').split('\n').map((l) => `- ${l}`),
    '',
    render(results),
    ...(failures.length ? ['', 'Failures:', '', ...failures.map((f) => '```\n' + f + '\n```')] : []),
    '',
  ].join('\n');
  process.stdout.write(`\n${out}`);
  clearTimeout(overall);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
