/**
 * Spawning and killing the server processes that tests start (the testing
 * kit's members, and test/harness's Apache JVMs and our servers).
 *
 * Why so careful: a test process that dies (a jest worker killed on a
 * timeout, Ctrl-C, an OOM) must not leave servers behind holding ports and
 * CPU on a 2-core machine. So:
 * - every child is recorded by PID and killed (SIGKILL) when this process
 *   exits, however it exits normally;
 * - on Linux each child also gets a parent-death signal through
 *   `setpriv --pdeathsig KILL`, which covers this process being SIGKILLed;
 * - where setpriv is missing (macOS, a minimal image), a Node child can be
 *   given `parentWatchdogArgs()`: a preloaded script that SIGKILLs the child
 *   itself once it is re-parented, i.e. once its parent is gone.
 * Only PIDs we spawned are ever signalled.
 */
import { ChildProcess, spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

const SETPRIV = '/usr/bin/setpriv';

/** True when children get `setpriv --pdeathsig KILL` (Linux with util-linux's setpriv). */
export const hasSetpriv = process.platform === 'linux' && fs.existsSync(SETPRIV);

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  });
}

/** Kills `child` (SIGKILL) when this process exits, if it is still running then (what spawnTracked does for its own children). */
export function killOnExit(child: ChildProcess): void {
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** A child started by spawnTracked. */
export interface SpawnedProcess {
  /** Node's handle of the child. */
  child: ChildProcess;
  /** Resolves when the process has exited (with its code or signal). */
  exited: Promise<{
    /** The exit code; null when a signal ended it. */
    code: number | null;
    /** The signal that ended it; null for a normal exit. */
    signal: NodeJS.Signals | null;
  }>;
}

/**
 * Starts `command args` with stdout/stderr appended to `logFile`, tracked
 * for kill-on-exit. The PID is the command's own (setpriv execs it).
 * Example: `const p = spawnTracked(process.execPath, ['server.js'], { logFile: '/tmp/x/server.log' })`
 */
export function spawnTracked(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile: string; pipeStdout?: boolean; ownProcessGroup?: boolean },
): SpawnedProcess {
  installExitHook();
  const out = fs.openSync(opts.logFile, 'a');
  const [cmd, argv] = hasSetpriv ? [SETPRIV, ['--pdeathsig', 'KILL', command, ...args]] : [command, args];
  let child: ChildProcess;
  try {
    child = spawn(cmd, argv, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', opts.pipeStdout ? 'pipe' : out, out],
      // Its own process group: a terminal's Ctrl-C then reaches only us, and we stop it in our order.
      detached: opts.ownProcessGroup ?? false,
    });
  } finally {
    fs.closeSync(out);
  }
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  return { child, exited };
}

/** True while the child has neither exited nor been reaped. */
export function isRunning(p: SpawnedProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null && p.child.pid !== undefined;
}

/**
 * Sends `signal` to the child and waits for it to exit; escalates to
 * SIGKILL after `graceMs`.
 */
export async function terminate(p: SpawnedProcess, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (!isRunning(p)) {
    await p.exited;
    return;
  }
  p.child.kill(signal);
  if (signal === 'SIGKILL') {
    await p.exited;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const escalated = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (isRunning(p)) p.child.kill('SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([p.exited, escalated]);
  clearTimeout(timer);
  await p.exited;
}

/** The environment variable naming the parent a watched child belongs to. */
export const PARENT_PID_ENV = 'ZK_TESTING_PARENT_PID';

/**
 * Preloaded into a Node child (`node -r parent-watchdog.js ...`): every
 * 250 ms it compares its parent pid with the one it was started under, and
 * SIGKILLs itself once they differ (the parent died; the child was
 * re-parented). A stopped (SIGSTOP) child cannot run it: that case is left
 * to setpriv and to the exit hook.
 */
const WATCHDOG_SOURCE = `'use strict';
const parent = Number(process.env.${PARENT_PID_ENV});
delete process.env.${PARENT_PID_ENV};
if (parent > 0) {
  const check = () => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); };
  check();
  setInterval(check, 250).unref();
}
`;

let watchdogFile: string | undefined;

/**
 * Node arguments (`['-r', <file>]`) that make a Node child die with its
 * parent even where setpriv is missing; pass `parentWatchdogEnv()` in its
 * environment. The script is written once, named by its content hash, to
 * `<tmp>/zookeeper-ts-testing/` (shared by every process, never removed:
 * it is a few hundred bytes, and a child may still be reading it).
 * Example: `spawnTracked(process.execPath, [...parentWatchdogArgs(), 'server.js'], { env: { ...process.env, ...parentWatchdogEnv() }, logFile })`
 */
export function parentWatchdogArgs(): string[] {
  if (watchdogFile === undefined || !fs.existsSync(watchdogFile)) {
    const hash = createHash('sha1').update(WATCHDOG_SOURCE).digest('hex').slice(0, 16);
    const dir = path.join(os.tmpdir(), 'zookeeper-ts-testing');
    const file = path.join(dir, `parent-watchdog-${hash}.js`);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, WATCHDOG_SOURCE);
      fs.renameSync(tmp, file);
    }
    watchdogFile = file;
  }
  return ['-r', watchdogFile];
}

/** The environment entry parentWatchdogArgs()'s script reads: this process's pid. */
export function parentWatchdogEnv(): Record<string, string> {
  return { [PARENT_PID_ENV]: String(process.pid) };
}
