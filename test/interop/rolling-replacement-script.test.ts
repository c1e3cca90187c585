/**
 * `npm run rolling-replacement` (test/interop/run-rolling-replacement.ts)
 * end to end, as a user runs it, with a short load per step: it passes,
 * prints every step and the result, and leaves no server process or temp
 * dir behind; interrupted with SIGTERM mid-run it still cleans up. The
 * replacement's own checks are asserted in rolling-replacement.test.ts.
 */
import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { spawnTracked } from '../../src/testing/child-processes';
import { makeTempDir } from '../harness/temp-dirs';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'test', 'interop', 'run-rolling-replacement.ts');
const REGISTER = path.join(ROOT, 'test', 'harness', 'transpile-cache-register.js');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runScript(args: string[]): Run {
  const logFile = path.join(makeTempDir('zk-rolling-script-'), 'out.log');
  // The script's own temp dirs must go away: keep-dirs would keep them.
  const env = { ...process.env, ZK_TEST_KEEP_DIRS: '0' };
  const p = spawnTracked(process.execPath, ['-r', REGISTER, SCRIPT, ...args], { cwd: ROOT, env, logFile });
  return { child: p.child, output: () => fs.readFileSync(logFile, 'utf8'), exited: p.exited };
}

async function waitForOutput(run: Run, re: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(run.output())) {
    if (Date.now() > deadline) throw new Error(`no ${re} in the script's output within ${timeoutMs} ms:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The temp dir and the first PIDs the script printed ("ensemble in <dir>: ...; pids 1, 2, 3"). */
function startedWith(out: string): { dir: string; pids: number[] } {
  const m = /^ensemble in (\S+): .*; pids ([\d, ]+)$/m.exec(out);
  if (!m) throw new Error(`the script did not print its ensemble:\n${out}`);
  return { dir: m[1], pids: m[2].split(', ').map(Number) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('runs to the end: six steps, every write readable everywhere, exit 0, nothing left behind', async () => {
  const run = runScript(['--writers', '2', '--step-seconds', '1']);
  const { code } = await run.exited;
  const out = run.output();
  expect({ code, result: /^RESULT: .*/m.exec(out)?.[0] }).toEqual({ code: 0, result: expect.stringMatching(/^RESULT: ok: 6 replacements/) });
  expect(out.match(/^step \d: sid \d (apache|ours) -> (apache|ours) .* -- ok$/gm)).toHaveLength(6);
  expect(out.match(/^verify sid \d \(apache\): all \d+ acknowledged writes readable, ephemeral present$/gm)).toHaveLength(3);
  const { dir, pids } = startedWith(out);
  expect({ dirExists: fs.existsSync(dir), alive: pids.filter(alive) }).toEqual({ dirExists: false, alive: [] });
});

test('SIGTERM mid-run: exit 143, every server stopped, the temp dir removed', async () => {
  const run = runScript(['--writers', '2', '--step-seconds', '1']);
  await waitForOutput(run, /^step 1: replacing/m, 120_000);
  const { dir, pids } = startedWith(run.output());
  run.child.kill('SIGTERM');
  const { code } = await run.exited;
  expect({ code, dirExists: fs.existsSync(dir), alive: pids.filter(alive) }).toEqual({ code: 143, dirExists: false, alive: [] });
});
