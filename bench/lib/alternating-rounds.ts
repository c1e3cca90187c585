/**
 * Runs the same workload on several sides (clients, or servers) in rounds
 * whose order rotates (A B / B A / A B ... for two; A B C / B C A / C A B
 * for three), after one warm-up each, so that drift in machine load (this
 * box is shared) hits every side alike; the summary takes medians across
 * rounds.
 */
import { fmt } from './markdown-table';
import { median } from './stats';
import type { RunSpec, WorkloadKind } from './workloads';

export interface Side<M> {
  name: string;
  run(spec: RunSpec): Promise<M>;
}

export interface SideOutcome<M> {
  runs: M[];
  /** The first failure; the side is not run again for this workload once it has failed. */
  error?: string;
}

export interface RoundPlan {
  title: string;
  spec: RunSpec;
  warmup: RunSpec;
  rounds: number;
}

/**
 * A workload's plan: `ops` and `maxMs` scaled by `scale`; the warm-up has
 * the same shape at a third of the size, so the JITs (V8's and the JVM's)
 * have compiled the path before it is measured.
 */
export function makePlan(rounds: number, scale: number, title: string, kind: WorkloadKind, ops: number, window: number, maxMs: number): RoundPlan {
  const spec: RunSpec = { kind, ops: Math.round(ops * scale), window, maxMs: Math.round(maxMs * scale) };
  const warmup: RunSpec = { kind, ops: Math.ceil(spec.ops / 3), window, maxMs: Math.ceil(spec.maxMs / 3) };
  return { title, spec, warmup, rounds };
}

/** Prints one progress line per run to stderr (stdout carries the report). */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

export async function alternate<M>(
  sides: readonly Side<M>[],
  plan: RoundPlan,
  describe: (m: M) => string,
): Promise<SideOutcome<M>[]> {
  const out: SideOutcome<M>[] = sides.map(() => ({ runs: [] }));
  const attempt = async (i: number, spec: RunSpec, label: string): Promise<M | undefined> => {
    if (out[i].error) return undefined;
    try {
      const m = await sides[i].run(spec);
      progress(`  ${label.padEnd(8)} ${sides[i].name.padEnd(22)} ${describe(m)}`);
      return m;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      out[i].error = msg;
      progress(`  ${label.padEnd(8)} ${sides[i].name.padEnd(22)} FAILED: ${msg.split('\n')[0]}`);
      return undefined;
    }
  };
  progress(`${plan.title}`);
  for (let i = 0; i < sides.length; i++) await attempt(i, plan.warmup, 'warm-up');
  for (let r = 0; r < plan.rounds; r++) {
    const order = sides.map((_, i) => (i + r) % sides.length);
    for (const i of order) {
      const m = await attempt(i, plan.spec, `round ${r + 1}`);
      if (m !== undefined) out[i].runs.push(m);
    }
  }
  return out;
}

/** Median of a field across a side's runs (NaN when it has none). */
export function medianOf<M>(o: SideOutcome<M>, pick: (m: M) => number | undefined): number {
  return median(o.runs.map(pick).filter((v): v is number => v !== undefined && !Number.isNaN(v)));
}

/** "1,234 (1,100-1,300)": the median with the rounds' range, to show the noise. */
export function withSpread<M>(o: SideOutcome<M>, pick: (m: M) => number | undefined): string {
  const vs = o.runs.map(pick).filter((v): v is number => v !== undefined && !Number.isNaN(v));
  if (vs.length === 0) return o.error ? 'FAILED' : 'n/a';
  if (vs.length === 1) return fmt(vs[0]);
  return `${fmt(median(vs))} (${fmt(Math.min(...vs))}-${fmt(Math.max(...vs))})`;
}

/** The plans whose workload kind is in the comma list `only` (all when unset). */
export function selectPlans(plans: RoundPlan[], only: string | undefined): RoundPlan[] {
  if (!only || !only.trim()) return plans;
  const kinds = only.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kinds.filter((k) => !plans.some((p) => p.spec.kind === k));
  if (unknown.length) {
    throw new Error(`BENCH_WORKLOADS: unknown ${unknown.join(', ')} (known: ${plans.map((p) => p.spec.kind).join(', ')})`);
  }
  return plans.filter((p) => kinds.includes(p.spec.kind));
}

/**
 * One pass of every plan's warm-up on every side before anything is
 * measured, so that a JIT (the JVM's above all) has compiled the paths of
 * all workloads, not only of the first. Failures here are left for the
 * measured rounds to report.
 */
export async function warmAll<M>(sides: readonly Side<M>[], plans: readonly RoundPlan[]): Promise<void> {
  progress('warming up: every workload once on each side');
  for (const p of plans) {
    for (const side of sides) {
      try {
        await side.run(p.warmup);
      } catch {
        /* reported by the measured rounds */
      }
    }
  }
}

/**
 * Whether two sides' per-round values overlap: a goal missed by less than
 * the round-to-round spread is a tie on this machine, and the verdict says so.
 */
export function rangesOverlap<M>(a: SideOutcome<M>, b: SideOutcome<M>, pick: (m: M) => number): boolean {
  if (a.runs.length === 0 || b.runs.length === 0) return false;
  const av = a.runs.map(pick);
  const bv = b.runs.map(pick);
  return Math.min(...av) <= Math.max(...bv) && Math.min(...bv) <= Math.max(...av);
}

/** "met", or "NOT met", with a note when the rounds of the two sides overlap. */
export function verdict(met: boolean, overlap: boolean): string {
  if (met) return 'met';
  return overlap ? 'NOT met, within round-to-round noise' : 'NOT met';
}
