/**
 * The kit's servers do not outlive the test process that started them,
 * even when it dies by SIGKILL (no exit hooks run): on Linux through
 * setpriv's parent-death signal, and where setpriv is missing through the
 * watchdog preloaded into every member (a Node child that finds itself
 * re-parented kills itself). Each case runs a holder process that starts
 * something, prints the pids, and is then killed with SIGKILL.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isAlive } from '../../src/cli/zk-server';
import { hasSetpriv, waitFor } from '../../src/testing';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const HOOK = path.join(ROOT, 'bin', 'transpile-cache-register.js');

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-testing-lifetime-'));
});
afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

/** Runs `source` (TypeScript) as a holder; resolves with the JSON line it prints, and the holder. */
async function holder(source: string): Promise<{ info: Record<string, unknown>; proc: ChildProcess }> {
  const file = path.join(work, `holder-${Date.now()}.ts`);
  fs.writeFileSync(file, source);
  const proc = spawn(process.execPath, ['-r', HOOK, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    proc.once('exit', (code) => reject(new Error(`holder exited early (${code}): ${out}`)));
  });
  return { info, proc };
}

test('a TestingServer dies with the test process killed by SIGKILL', async () => {
  const { info, proc } = await holder(`
    import { TestingServer } from ${JSON.stringify(path.join(ROOT, 'src', 'testing'))};
    TestingServer.start().then((s) => { console.log(JSON.stringify({ pid: s.pid(), dir: s.dir })); setInterval(() => undefined, 1000); });
  `);
  const pid = info.pid as number;
  expect(isAlive(pid)).toBe(true);
  proc.kill('SIGKILL');
  await waitFor(`server ${pid} to die with its test process`, async () => !isAlive(pid), 10_000);
  // Its temp directory stays (no exit hook ran): that is ours to remove here.
  fs.rmSync(path.dirname(info.dir as string), { recursive: true, force: true });
});

test('without setpriv: the preloaded watchdog kills a Node child whose parent is gone', async () => {
  const { info, proc } = await holder(`
    import { spawn } from 'child_process';
    import { parentWatchdogArgs, parentWatchdogEnv } from ${JSON.stringify(path.join(ROOT, 'src', 'testing'))};
    // Plain spawn, no setpriv: only the watchdog can end this child.
    const child = spawn(process.execPath, [...parentWatchdogArgs(), '-e', 'setInterval(() => undefined, 1000)'], {
      env: { ...process.env, ...parentWatchdogEnv() }, stdio: 'ignore',
    });
    setTimeout(() => console.log(JSON.stringify({ pid: child.pid })), 300);
    setInterval(() => undefined, 1000);
  `);
  const pid = info.pid as number;
  expect(isAlive(pid)).toBe(true);
  proc.kill('SIGKILL');
  await waitFor(`child ${pid} to notice its parent is gone`, async () => !isAlive(pid), 5000);
});

test('setpriv is used where it exists', () => {
  expect(hasSetpriv).toBe(process.platform === 'linux' && fs.existsSync('/usr/bin/setpriv'));
});
