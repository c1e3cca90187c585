/**
 * Spawning and killing the server processes the tests start.
 *
 * Every child is recorded by PID and killed (SIGKILL) when this process
 * exits, however it exits; on Linux each child also gets a parent-death
 * signal through `setpriv --pdeathsig KILL`, so a jest worker killed with
 * SIGKILL does not leave a JVM behind either. Only PIDs we spawned are ever
 * signalled.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = process.platform === 'linux' && fs.existsSync(SETPRIV);

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

export interface SpawnedProcess {
  child: ChildProcess;
  /** Resolves when the process has exited (with its code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `command args` with stdout/stderr appended to `logFile`, tracked
 * for kill-on-exit. The PID is the command's own (setpriv execs it).
 */
export function spawnTracked(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile: string; pipeStdout?: boolean },
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
      detached: false,
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
