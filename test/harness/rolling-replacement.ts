/**
 * Rolling replacement (issue 8), the steps shared by the jest test
 * (test/interop/rolling-replacement.test.ts) and the script a user runs
 * (`npm run rolling-replacement`, test/interop/run-rolling-replacement.ts):
 * a 3-voter Apache ZooKeeper 3.8 ensemble under client load (several writer
 * sessions creating nodes, one session holding an ephemeral) is replaced
 * member by member with ours (stop it, start ours on its zoo.cfg, myid and
 * dataDir), then back to Apache, as an operator would: in each pass the
 * followers first and the leader last.
 *
 * Checked after every step: the leader moved only if it was the member
 * replaced; the returning member, read on its own port after a sync, has
 * every write acknowledged so far; no session expired; writes go on. At the
 * end every acknowledged write and the ephemeral must be readable on every
 * member. Violations are collected, not thrown, so a script can print them
 * and a test can assert them.
 */
import { randomBytes } from 'crypto';
import { CreateMode, KeeperState, type ZooKeeper } from '../../src';
import { StateLog } from '../../src/testing/client-states';
import { Clients } from '../integration/client-fixtures';
import { AckedWriter, SyncWatch } from '../integration/ensemble-checks';
import { waitFor } from './four-letter-words';
import { MemberKind, MixedCluster, MixedOptions, startMixed } from './mixed-cluster';

export interface RollingOptions {
  /** Writer sessions, each creating nodes under its own parent (default 3). */
  writers?: number;
  /** Concurrent create loops per writer session (default 2). */
  loopsPerWriter?: number;
  /** Pause after each create of a loop, ms (default 5). */
  pauseMs?: number;
  /** After a step, at least this many more creates must be acknowledged (default 50)... */
  writesPerStep?: number;
  /** ...and the load runs at least this long before the next step, ms (default 0). */
  loadMsPerStep?: number;
  /** The sessions' timeout (default 30 s; the ensemble's maxSessionTimeout must allow it). */
  sessionTimeoutMs?: number;
  /** Budget for the ensemble to be healthy again after a step (default 90 s). */
  healthyTimeoutMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** One replacement. */
export interface RollingStep {
  /** 1-based, in order. */
  index: number;
  sid: number;
  from: MemberKind;
  to: MemberKind;
  /** Whether the member replaced was the leader. */
  wasLeader: boolean;
  leaderBefore?: number;
  leaderAfter?: number;
  /** How the leader synced the returning member ("syncing learner 1 with DIFF 0x..."); not read when it was the leader. */
  sync: string[];
  /** Creates acknowledged in all, when the step began and once load had run after it. */
  ackedBefore: number;
  ackedAfter: number;
  /** Creates whose outcome is unknown (ConnectionLoss while a member went away), in all so far. */
  unknown: number;
  /** Acknowledged writes the returning member lacked (first 10 per writer), e.g. "w0/n17". */
  lost: string[];
  /** Sessions that expired, in all so far. */
  expired: string[];
  violations: string[];
}

/** One member at the end. */
export interface RollingMemberCheck {
  sid: number;
  kind: MemberKind;
  /** Acknowledged creates missing there (first 10 per writer). */
  lost: string[];
  /** The ephemeral held all along is there. */
  held: boolean;
}

export interface RollingReport {
  steps: RollingStep[];
  members: RollingMemberCheck[];
  acked: number;
  unknown: number;
  /** Every violation of the run, steps' and final checks'; empty when the run passed. */
  violations: string[];
}

/** The 3-voter Apache ensemble a rolling replacement starts from (sessions of up to 60 s allowed). */
export function startApacheForRolling(opts: Pick<MixedOptions, 'onServer' | 'startTimeoutMs'> = {}): Promise<MixedCluster> {
  return startMixed([{ kind: 'apache' }, { kind: 'apache' }, { kind: 'apache' }], { maxSessionTimeout: 60_000, ...opts });
}

/** The sid of the member that says it leads. */
export async function leaderSid(cluster: MixedCluster): Promise<number | undefined> {
  for (const m of cluster.members) if ((await m.server.mode()) === 'leader') return m.sid;
  return undefined;
}

/** The next member to replace with `to`: a follower not yet of that kind, else the leader. */
async function nextToReplace(cluster: MixedCluster, to: MemberKind): Promise<number | undefined> {
  const pending = cluster.members.filter((m) => m.kind !== to).map((m) => m.sid);
  if (pending.length === 0) return undefined;
  const leader = await leaderSid(cluster);
  return pending.find((sid) => sid !== leader) ?? pending[0];
}

/** Acknowledged creates of each writer missing from what `zk` reads (after a sync), as "w<k>/n<i>". */
async function missingOn(zk: ZooKeeper, base: string, writers: AckedWriter[]): Promise<string[]> {
  const lost: string[] = [];
  for (let k = 0; k < writers.length; k++) {
    const dir = `${base}/w${k}`;
    const upTo = writers[k].acked.length;
    await zk.sync(dir);
    const children = await zk.getChildren(dir);
    lost.push(...writers[k].lostFrom(children, upTo).map((i) => `w${k}/n${i}`));
  }
  return lost;
}

/**
 * Replaces every member of `cluster` with ours, then with Apache's again
 * (see the file comment), under load; resolves with what was seen. Throws
 * only when the ensemble cannot be driven at all (a member does not start,
 * no healthy ensemble within the budget).
 */
export async function rollingReplacement(cluster: MixedCluster, opts: RollingOptions = {}): Promise<RollingReport> {
  const log = opts.log ?? (() => undefined);
  const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
  const healthyTimeout = opts.healthyTimeoutMs ?? 90_000;
  const writesPerStep = opts.writesPerStep ?? 50;
  const clients = new Clients();
  const base = `/rolling-${randomBytes(3).toString('hex')}`;
  const writers: AckedWriter[] = [];
  const sessions: Array<{ name: string; states: StateLog }> = [];
  const violations: string[] = [];
  const steps: RollingStep[] = [];
  const acked = () => writers.reduce((n, w) => n + w.acked.length, 0);
  const unknown = () => writers.reduce((n, w) => n + w.unknown, 0);
  const expired = () => sessions.filter((s) => s.states.states.includes(KeeperState.Expired)).map((s) => s.name);
  const failedWriters = () => writers.flatMap((w, k) => (w.error !== undefined ? [`writer w${k} stopped: ${String(w.error)}`] : []));
  try {
    const connect = async (name: string): Promise<ZooKeeper> => {
      const zk = await clients.connect(cluster.connectString, { sessionTimeout, connectTimeout: 30_000 });
      sessions.push({ name, states: new StateLog(zk) });
      return zk;
    };
    const holder = await connect('holder');
    await holder.create(base, null);
    await holder.create(`${base}/held`, Buffer.from('all along'), { mode: CreateMode.EPHEMERAL });
    const n = opts.writers ?? 3;
    for (let k = 0; k < n; k++) {
      const zk = await connect(`writer w${k}`);
      await zk.create(`${base}/w${k}`, null);
      writers.push(new AckedWriter(zk, `${base}/w${k}`, { loops: opts.loopsPerWriter ?? 2, max: 1_000_000, maxMs: 3_600_000, pauseMs: opts.pauseMs ?? 5 }));
    }
    // Stops the load, then reads every member; also where a run that cannot go on ends.
    const finish = async (): Promise<RollingReport> => {
      await Promise.all(writers.map((w) => w.stop().catch(() => undefined)));
      const members: RollingMemberCheck[] = [];
      for (const m of cluster.members) {
        const zk = await clients.connect(m.server.hostPort, { sessionTimeout: 10_000, connectTimeout: 30_000 });
        const lost = await missingOn(zk, base, writers);
        await zk.sync(base);
        const held = (await zk.getChildren(base)).includes('held');
        await zk.close();
        members.push({ sid: m.sid, kind: m.kind, lost, held });
        if (lost.length) violations.push(`final check: sid ${m.sid} (${m.kind}) lacks acknowledged writes: ${lost.join(', ')}`);
        if (!held) violations.push(`final check: sid ${m.sid} (${m.kind}) lacks the ephemeral ${base}/held`);
        log(`verify sid ${m.sid} (${m.kind}): ${lost.length ? `LOST ${lost.join(', ')}` : `all ${acked()} acknowledged writes readable`}, ephemeral ${held ? 'present' : 'MISSING'}`);
      }
      const exp = expired();
      if (exp.length && !steps.some((st) => st.expired.length)) violations.push(`session(s) expired: ${exp.join(', ')}`);
      return { steps, members, acked: acked(), unknown: unknown(), violations };
    };

    log(`load: ${n} writer sessions x ${opts.loopsPerWriter ?? 2} create loops under ${base}, one session holding ${base}/held (ephemeral)`);

    for (const to of ['ours', 'apache'] as MemberKind[]) {
      for (let sid = await nextToReplace(cluster, to); sid !== undefined; sid = await nextToReplace(cluster, to)) {
        const before = await leaderSid(cluster);
        const replaced = cluster.member(sid);
        const from = replaced.kind;
        const wasLeader = sid === before;
        const leaderMember = before !== undefined ? cluster.member(before) : undefined;
        // The sync the returning member gets, read where SyncWatch reads it (not when the leader itself goes).
        const watch = leaderMember && !wasLeader ? new SyncWatch(leaderMember.kind, leaderMember.server, to, replaced.server) : undefined;
        const ackedBefore = acked();
        const index = steps.length + 1;
        log(`step ${index}: replacing sid ${sid} (${from}, ${wasLeader ? 'leader' : 'follower'}) with ${to}; leader sid ${before ?? 'none'}, ${ackedBefore} writes acknowledged`);
        const next = await cluster.replace(sid, to);
        await cluster.waitHealthy(healthyTimeout);
        const after = await leaderSid(cluster);
        const stepViolations: string[] = [];
        if (!wasLeader && after !== before) stepViolations.push(`the leader moved from sid ${before} to sid ${after} although follower sid ${sid} was replaced`);
        // The returning member, on its own port: every write acknowledged so far (it loaded the other kind's disk).
        const own = await clients.connect(next.server.hostPort, { sessionTimeout: 10_000, connectTimeout: 30_000 });
        const lost = await missingOn(own, base, writers);
        await own.close();
        if (lost.length) stepViolations.push(`sid ${sid} (${to}) lacks acknowledged writes: ${lost.join(', ')}`);
        const t0 = Date.now();
        try {
          await waitFor('writes to go on after the step', async () => failedWriters().length > 0 || (acked() >= ackedBefore + writesPerStep && Date.now() - t0 >= (opts.loadMsPerStep ?? 0)), 60_000 + (opts.loadMsPerStep ?? 0));
        } catch {
          stepViolations.push(`fewer than ${writesPerStep} writes acknowledged within 60 s after the step`);
        }
        stepViolations.push(...failedWriters());
        const exp = expired();
        if (exp.length) stepViolations.push(`session(s) expired: ${exp.join(', ')}`);
        const step: RollingStep = {
          index, sid, from, to, wasLeader, leaderBefore: before, leaderAfter: after, sync: watch?.lines() ?? [],
          ackedBefore, ackedAfter: acked(), unknown: unknown(), lost, expired: exp, violations: stepViolations,
        };
        steps.push(step);
        violations.push(...stepViolations.map((v) => `step ${index} (sid ${sid} ${from} -> ${to}): ${v}`));
        log(`step ${index}: ${describeStep(step)}`);
        // A writer that died, or a member that cannot be driven on: no point in going further.
        if (failedWriters().length) return await finish();
      }
    }
    return await finish();
  } finally {
    await Promise.all(writers.map((w) => w.stop().catch(() => undefined)));
    await clients.closeAll();
  }
}

/** One line for a step: "sid 1 apache -> ours (follower): leader 3 -> 3, syncing learner 1 with DIFF 0x...; ..." */
export function describeStep(s: RollingStep): string {
  return (
    `sid ${s.sid} ${s.from} -> ${s.to} (${s.wasLeader ? 'was leader' : 'follower'}): leader sid ${s.leaderBefore ?? 'none'} -> ${s.leaderAfter ?? 'none'}` +
    `${s.sync.length ? `, ${s.sync.join('; ')}` : ''}; writes acknowledged ${s.ackedAfter} (+${s.ackedAfter - s.ackedBefore}), unknown outcomes ${s.unknown}; ` +
    `lost ${s.lost.length ? s.lost.join(', ') : 'none'}; expired sessions ${s.expired.length ? s.expired.join(', ') : 'none'}` +
    (s.violations.length ? ` -- VIOLATION: ${s.violations.join('; ')}` : ' -- ok')
  );
}
