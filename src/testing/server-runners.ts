/**
 * How the testing kit runs one of our servers from its zoo.cfg: in a child
 * process (the default) or inside the test process (`inProcess: true`).
 *
 * Child process: `node <package>/bin/zk-server start-foreground zoo.cfg`,
 * exactly what a user runs, so kill -9 and SIGSTOP are real. bin/zk-server
 * runs the compiled code in dist/ (an installed package has nothing else);
 * in a checkout whose dist/ is older than the sources it runs the
 * TypeScript sources (see bin/compiled-or-source.js; from the sources the
 * kit preloads the checkout's transpile cache for that), so the kit works
 * the same under ts-jest in this repository and from node_modules elsewhere.
 *
 * In process: the same config loaded and started by the same code
 * (src/cli/server-launch.ts), without a process per member: cheaper to
 * start, but "kill" is a close and pause is impossible.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runForeground } from '../cli/server-launch';
import { packageRoot } from '../cli/zk-server';
import { loadZooCfg } from '../server/config';
import { parentWatchdogArgs, parentWatchdogEnv } from './child-processes';
import { serverMode } from './four-letter-words';
import { answersAs, LaunchSpec, logTails, ManagedServer, StartOptions } from './managed-server';
import { StopWaiting, waitFor } from './wait';

/** A server the kit can start, break and start again (a child process or in-process). */
export interface ServerRunner {
  readonly clientPort: number;
  /** Starts without waiting for it to serve. */
  launch(): void;
  /** Waits until it answers ('process') or serves ('serving'), failing with its log tail. */
  waitReady(what: 'serving' | 'process', timeoutMs: number): Promise<void>;
  start(opts?: StartOptions): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  running(): boolean;
  pid(): number | undefined;
  mode(): Promise<string | undefined>;
  logTail(lines?: number): string;
}

/** Where a member's files are and how to run it. */
export interface RunnerSpec {
  id: number;
  clientPort: number;
  dataDir: string;
  dir: string;
  cfgFile: string;
  logFile: string;
  systemProperties: Record<string, string>;
  startTimeoutMs: number;
  /** Run the member in a process group of its own (npm start: Ctrl-C reaches the parent, which stops members in order). */
  ownProcessGroup?: boolean;
}

/**
 * Node flags for a child that runs this package's code. From the
 * TypeScript sources (this file is .ts: ts-jest or ts-node in a checkout)
 * the checkout's transpile-once cache is preloaded, so a child whose dist/
 * is stale starts in a fraction of a second instead of ts-node's seconds.
 */
function sourceLoaderArgs(root: string): string[] {
  const hook = path.join(root, 'bin', 'transpile-cache-register.js');
  return __filename.endsWith('.ts') && fs.existsSync(hook) ? ['-r', hook] : [];
}

/**
 * `node bin/zk-server [-Dk=v ...] start-foreground <cfgFile>`, with the
 * parent watchdog preloaded (the child dies with the test process even
 * without setpriv).
 */
export function zkServerLaunch(cfgFile: string, systemProperties: Record<string, string> = {}): LaunchSpec {
  const root = packageRoot();
  const flags = Object.entries(systemProperties).map(([k, v]) => `-D${k}=${v}`);
  return {
    command: process.execPath,
    args: [...sourceLoaderArgs(root), ...parentWatchdogArgs(), path.join(root, 'bin', 'zk-server'), ...flags, 'start-foreground', cfgFile],
    env: { ...process.env, ...parentWatchdogEnv() },
  };
}

/** A member in a child process: a ManagedServer running bin/zk-server. */
export function childRunner(spec: RunnerSpec): ServerRunner {
  return new ManagedServer({
    id: spec.id,
    clientPort: spec.clientPort,
    dataDir: spec.dataDir,
    dir: spec.dir,
    logFiles: [spec.logFile],
    launch: () => ({ ...zkServerLaunch(spec.cfgFile, spec.systemProperties), ownProcessGroup: spec.ownProcessGroup }),
    startTimeoutMs: spec.startTimeoutMs,
  });
}

interface Running {
  close(): Promise<void>;
}

/** A member inside this process, started from its zoo.cfg by src/cli/server-launch's runForeground. */
export class InProcessRunner implements ServerRunner {
  readonly clientPort: number;
  readonly paused = false;
  private starting?: Promise<Running>;
  private server?: Running;

  constructor(private readonly spec: RunnerSpec) {
    this.clientPort = spec.clientPort;
  }

  launch(): void {
    if (this.starting) throw new Error(`server ${this.spec.id} (127.0.0.1:${this.clientPort}) is already running`);
    const append = (line: string) => fs.appendFileSync(this.spec.logFile, `${new Date().toISOString()} ${line}\n`);
    const starting: Promise<Running> = this.startFromConfig(append).then((srv) => {
      if (this.starting === starting) this.server = srv;
      return srv;
    });
    this.starting = starting;
    starting.catch((e: unknown) => {
      append(`failed to start: ${(e as Error)?.stack ?? e}`);
      if (this.starting === starting) this.starting = undefined;
    });
  }

  private async startFromConfig(log: (line: string) => void): Promise<Running> {
    const cfg = loadZooCfg(this.spec.cfgFile, { systemProperties: this.spec.systemProperties });
    return runForeground(cfg, { signals: false, log, exit: () => undefined });
  }

  async waitReady(what: 'serving' | 'process', timeoutMs: number): Promise<void> {
    const starting = this.starting;
    if (!starting) throw new Error(`server ${this.spec.id} was never started`);
    const tail = () => `--- log tail (${this.spec.dir}) ---\n${this.logTail(40)}`;
    let failed: unknown;
    starting.catch((e: unknown) => (failed = e));
    await waitFor(`server ${this.spec.id} on 127.0.0.1:${this.clientPort} to be ${what}`, async () => {
      if (failed !== undefined) throw new StopWaiting(`start-up failed: ${(failed as Error)?.message ?? failed}`);
      return this.server !== undefined && answersAs(this.clientPort, what);
    }, timeoutMs, 100, tail);
  }

  async start(opts: StartOptions = {}): Promise<void> {
    this.launch();
    await this.waitReady(opts.waitFor ?? 'serving', this.spec.startTimeoutMs);
  }

  /** In process there is no kill -9: the server is closed (as stop()). */
  async kill(): Promise<void> {
    await this.stop();
  }

  async stop(): Promise<void> {
    const starting = this.starting;
    if (!starting) return;
    this.starting = undefined;
    this.server = undefined;
    const srv = await starting.catch(() => undefined);
    await srv?.close();
  }

  pause(): void {
    throw new Error('pause() needs the member in its own process (start without inProcess: true)');
  }

  resume(): void {
    this.pause();
  }

  running(): boolean {
    return this.starting !== undefined;
  }

  pid(): number | undefined {
    return this.running() ? process.pid : undefined;
  }

  async mode(): Promise<string | undefined> {
    if (!this.server) return undefined;
    return serverMode('127.0.0.1', this.clientPort, 1000).catch(() => undefined);
  }

  logTail(lines = 40): string {
    return logTails([this.spec.logFile], lines);
  }
}
