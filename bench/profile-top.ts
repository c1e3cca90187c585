/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, or BENCH_CPU_PROF_DIR
 * in the benchmarks): the functions with the most self time, with
 * file:line, and the same grouped by file.
 *
 *   npx ts-node bench/profile-top.ts <file.cpuprofile> [top=25] [--callers=<function>]
 *
 * --callers=writeBuffer adds where that function's self time comes from:
 * the nearest repository frames (src/, bench/, test/) above it.
 */
import * as fs from 'fs';
import * as path from 'path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(cf: CallFrame): string {
  if (!cf.url) return '(native)';
  const file = cf.url.replace(/^file:\/\//, '');
  const rel = file.startsWith(process.cwd()) ? path.relative(process.cwd(), file) : file;
  return `${rel}:${cf.lineNumber + 1}`;
}

function main(): void {
  const args = process.argv.slice(2);
  const callersOf = args.find((a) => a.startsWith('--callers='))?.slice('--callers='.length);
  const [file, topArg] = args.filter((a) => !a.startsWith('--'));
  const top = Number(topArg ?? 25);
  if (!file) throw new Error('usage: profile-top.ts <file.cpuprofile> [top]');
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  // The benchmark's own profiler calls (inspector Session.post, e.g. Profiler.stop
  // serialising the profile) show up as `dispatch`: not the code under test.
  const overheadIds = new Set<number>();
  const mark = (id: number) => {
    overheadIds.add(id);
    for (const c of byId.get(id)?.children ?? []) mark(c);
  };
  for (const n of prof.nodes) if (n.callFrame.url === 'node:inspector') mark(n.id);
  // Self time per node: each sample's delta belongs to the node sampled.
  const self = new Map<number, number>();
  let total = 0;
  let overhead = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    if (overheadIds.has(id)) overhead += dt;
    else self.set(id, (self.get(id) ?? 0) + dt);
  });
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const key = `${cf.functionName || '(anonymous)'}  ${where(cf)}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const f = cf.url ? where(cf).replace(/:\d+$/, '') : cf.functionName || '(native)';
    byFile.set(f, (byFile.get(f) ?? 0) + us);
  }
  const idle = [...byFn].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
  const busy = total - idle - overhead;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  console.log(
    `${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (percentages of that), ` +
      `${(overhead / 1e6).toFixed(2)} s profiler overhead left out`,
  );
  console.log('\nself time by function:');
  for (const [k, us] of [...byFn].filter(([k2]) => !k2.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(us)}  ${k}`);
  }
  console.log('\nself time by file:');
  for (const [k, us] of [...byFile].filter(([k2]) => k2 !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(us)}  ${k}`);
  }
  if (callersOf) {
    const parent = new Map<number, number>();
    for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const chains = new Map<string, number>();
    for (const [id, us] of self) {
      if (byId.get(id)!.callFrame.functionName !== callersOf) continue;
      const chain: string[] = [];
      for (let p = parent.get(id); p !== undefined && chain.length < 3; p = parent.get(p)) {
        const cf = byId.get(p)!.callFrame;
        if (/\/(src|bench|test)\//.test(cf.url)) chain.push(`${cf.functionName || '(anonymous)'} ${where(cf)}`);
      }
      const key = chain.join('  <-  ') || '(no repository frame)';
      chains.set(key, (chains.get(key) ?? 0) + us);
    }
    console.log(`\nwhere ${callersOf}'s self time comes from (nearest repository frames):`);
    for (const [k, us] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`${pct(us)}  ${k}`);
  }
}

main();
