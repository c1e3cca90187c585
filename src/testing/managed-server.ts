/**
 * One server process a test controls (our server's Node process, or for
 * test/harness an Apache JVM): start, kill -9, SIGTERM, SIGSTOP/SIGCONT,
 * restart on the same ports and data, readiness via four-letter words.
 * The launch command is supplied by the caller, so one class serves every
 * kind of server; why a process at all: only a real process gives a real
 * kill -9 (no clean close, unflushed state lost) and a real pause.
 */
import * as path from 'path';
import { SpawnedProcess, isRunning, spawnTracked, terminate } from './child-processes';
import { SERVING_MODES, fourLetterWord, serverMode } from './four-letter-words';
import { tailFile } from './temp-dirs';
import { StopWaiting, waitFor } from './wait';

/** How to wait in start(). */
export interface StartOptions {
  /**
   * 'serving' (default) waits until srvr reports a serving mode (standalone,
   * leader, follower, observer, or read-only where enabled); 'process' only
   * waits until the client port answers four-letter words, for a member
   * restarted while its ensemble has no quorum.
   */
  waitFor?: 'serving' | 'process';
}

/** A server a test can break and bring back, whatever runs it. */
export interface ServerHandle {
  /** myid (1-based); 1 for standalone. */
  id: number;
  /** The server's client port. */
  clientPort: number;
  /** Its TLS client port, when TLS is on. */
  secureClientPort?: number;
  /** "127.0.0.1:<clientPort>" */
  hostPort: string;
  /** "127.0.0.1:<secureClientPort>" when TLS is on. */
  secureHostPort?: string;
  /** Its dataDir (kept across kill and start). */
  dataDir: string;
  /** Directory holding this server's config and log files. */
  dir: string;
  /** The OS process id while running. */
  pid(): number | undefined;
  /** True while the process runs (also while paused). */
  running(): boolean;
  /** SIGKILL, then wait for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM (clean shutdown), then wait for the process to be gone. */
  stop(): Promise<void>;
  /** Starts the server again on the same ports and data dir. */
  start(opts?: StartOptions): Promise<void>;
  /** stop() then start(). */
  restart(opts?: StartOptions): Promise<void>;
  /** srvr's Mode (standalone/leader/follower/observer/read-only), undefined when not serving. */
  mode(): Promise<string | undefined>;
  /** The last `lines` lines of the server's log, for failure messages. */
  logTail(lines?: number): string;
}

/** The command a ManagedServer runs. */
export interface LaunchSpec {
  /** The executable (e.g. process.execPath). */
  command: string;
  /** Its arguments. */
  args: string[];
  /** Its environment (default this process's). */
  env?: NodeJS.ProcessEnv;
  /** Start it in a process group of its own (out of reach of a terminal's Ctrl-C). */
  ownProcessGroup?: boolean;
}

/** What a ManagedServer needs to know about its server. */
export interface ManagedServerSpec {
  /** myid (1-based); 1 for standalone. */
  id: number;
  /** The client port the server is configured with (readiness is checked there). */
  clientPort: number;
  /** The TLS client port, when configured. */
  secureClientPort?: number;
  /** The server's dataDir. */
  dataDir: string;
  /** The server's working directory (config and logs). */
  dir: string;
  /** Log file(s) to show when start-up fails; the first also receives stdout/stderr. */
  logFiles: string[];
  /** The command to run, asked at every start. */
  launch: () => LaunchSpec;
  /** How long a start may take to become ready, in ms. */
  startTimeoutMs: number;
  /**
   * Readiness check replacing the default (ruok / srvr Mode) one, for a
   * server that reports readiness another way; `pid` is the launched process.
   */
  readyProbe?: (what: 'serving' | 'process', pid: number) => Promise<boolean>;
}

/**
 * The default readiness check on a loopback client port: 'process' = the
 * port answers `ruok` with imok, 'serving' = srvr reports a serving mode.
 */
export async function answersAs(clientPort: number, what: 'serving' | 'process'): Promise<boolean> {
  if (what === 'process') return (await fourLetterWord('127.0.0.1', clientPort, 'ruok', 1000)) === 'imok';
  const mode = await serverMode('127.0.0.1', clientPort, 1000);
  return mode !== undefined && SERVING_MODES.includes(mode);
}

/** The last lines of each log file, headed by its name. */
export function logTails(files: string[], lines: number): string {
  return files.map((f) => `[${path.basename(f)}]\n${tailFile(f, lines)}`).join('\n');
}

/**
 * One server in a child process.
 * Example:
 *   const s = new ManagedServer({ id: 1, clientPort, dataDir, dir, logFiles: [log], startTimeoutMs: 60_000,
 *                                 launch: () => ({ command: process.execPath, args: [zkServer, 'start-foreground', cfg] }) });
 *   await s.start(); await s.kill(); await s.start();
 */
export class ManagedServer implements ServerHandle {
  readonly id: number;
  readonly clientPort: number;
  readonly secureClientPort?: number;
  readonly hostPort: string;
  readonly secureHostPort?: string;
  readonly dataDir: string;
  readonly dir: string;
  private proc?: SpawnedProcess;
  private stopped = false;

  constructor(private readonly spec: ManagedServerSpec) {
    this.id = spec.id;
    this.clientPort = spec.clientPort;
    this.secureClientPort = spec.secureClientPort;
    this.hostPort = `127.0.0.1:${spec.clientPort}`;
    this.secureHostPort = spec.secureClientPort ? `127.0.0.1:${spec.secureClientPort}` : undefined;
    this.dataDir = spec.dataDir;
    this.dir = spec.dir;
  }

  pid(): number | undefined {
    return this.proc && isRunning(this.proc) ? this.proc.child.pid : undefined;
  }

  running(): boolean {
    return this.proc !== undefined && isRunning(this.proc);
  }

  /** True between pause() and resume() (the process is stopped by SIGSTOP). */
  get paused(): boolean {
    return this.stopped && this.running();
  }

  /** Spawns the process without waiting for it to serve. */
  launch(): void {
    if (this.running()) throw new Error(`server ${this.id} (${this.hostPort}) is already running`);
    const l = this.spec.launch();
    this.stopped = false;
    this.proc = spawnTracked(l.command, l.args, { cwd: this.dir, env: l.env, logFile: this.spec.logFiles[0], ownProcessGroup: l.ownProcessGroup });
  }

  async start(opts: StartOptions = {}): Promise<void> {
    this.launch();
    await this.waitReady(opts.waitFor ?? 'serving', this.spec.startTimeoutMs);
  }

  /** Waits for the process to answer 4lw (and to serve, for 'serving'); fails fast if it exits. */
  async waitReady(what: 'serving' | 'process', timeoutMs: number): Promise<void> {
    const proc = this.proc;
    if (!proc) throw new Error(`server ${this.id} was never started`);
    try {
      await waitFor(`server ${this.id} on ${this.hostPort} to be ${what}`, async () => {
        if (!isRunning(proc)) {
          const { code, signal } = await proc.exited;
          throw new StopWaiting(`exited during start-up (code ${code}, signal ${signal})`);
        }
        if (this.spec.readyProbe) return this.spec.readyProbe(what, proc.child.pid!);
        return answersAs(this.clientPort, what);
      }, timeoutMs, 100);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- log tail (${this.dir}) ---\n${this.logTail(40)}`);
    }
  }

  async kill(): Promise<void> {
    if (this.proc) await terminate(this.proc, 'SIGKILL');
  }

  async stop(): Promise<void> {
    if (!this.proc) return;
    // A stopped process cannot act on SIGTERM until it runs again.
    if (this.paused) this.resume();
    await terminate(this.proc, 'SIGTERM');
  }

  async restart(opts?: StartOptions): Promise<void> {
    await this.stop();
    await this.start(opts);
  }

  /** SIGSTOP: the process stays, its sockets stay open, nothing is answered. */
  pause(): void {
    if (!this.proc || !this.running()) throw new Error(`server ${this.id} is not running`);
    this.proc.child.kill('SIGSTOP');
    this.stopped = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (!this.proc || !this.running()) throw new Error(`server ${this.id} is not running`);
    this.proc.child.kill('SIGCONT');
    this.stopped = false;
  }

  async mode(): Promise<string | undefined> {
    if (!this.running() || this.paused) return undefined;
    try {
      return await serverMode('127.0.0.1', this.clientPort, 1000);
    } catch {
      return undefined;
    }
  }

  logTail(lines = 40): string {
    return logTails(this.spec.logFiles, lines);
  }
}
