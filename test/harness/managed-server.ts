/**
 * One server process the harness controls (Apache's JVM or our server's
 * Node process): start, kill -9, SIGTERM, restart, readiness via
 * four-letter words. The launch command is supplied by the target.
 */
import * as path from 'path';
import { SpawnedProcess, isRunning, spawnTracked, terminate } from './child-processes';
import type { Cluster, ServerHandle, StartOptions, TargetKind } from './cluster-types';
import { fourLetterWord, serverMode, waitFor } from './four-letter-words';
import { removeTempDir, tailFile } from './temp-dirs';

export const SERVING_MODES = ['standalone', 'leader', 'follower', 'observer', 'read-only'];

export interface LaunchSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface ManagedServerSpec {
  id: number;
  clientPort: number;
  secureClientPort?: number;
  dataDir: string;
  dir: string;
  /** Log file(s) to show when start-up fails; the first also receives stdout/stderr. */
  logFiles: string[];
  launch: () => LaunchSpec;
  startTimeoutMs: number;
  /**
   * Readiness check replacing the default (ruok / srvr Mode) one, for a
   * server that reports readiness another way; `pid` is the launched process.
   */
  readyProbe?: (what: 'serving' | 'process', pid: number) => Promise<boolean>;
}

export class ManagedServer implements ServerHandle {
  readonly id: number;
  readonly clientPort: number;
  readonly secureClientPort?: number;
  readonly hostPort: string;
  readonly secureHostPort?: string;
  readonly dataDir: string;
  readonly dir: string;
  private proc?: SpawnedProcess;

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

  /** Spawns the process without waiting for it to serve. */
  launch(): void {
    if (this.running()) throw new Error(`server ${this.id} (${this.hostPort}) is already running`);
    const l = this.spec.launch();
    this.proc = spawnTracked(l.command, l.args, { cwd: this.dir, env: l.env, logFile: this.spec.logFiles[0] });
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
          throw new ExitedEarly(`exited during start-up (code ${code}, signal ${signal})`);
        }
        if (this.spec.readyProbe) return this.spec.readyProbe(what, proc.child.pid!);
        if (what === 'process') return (await fourLetterWord('127.0.0.1', this.clientPort, 'ruok', 1000)) === 'imok';
        const mode = await serverMode('127.0.0.1', this.clientPort, 1000);
        return mode !== undefined && SERVING_MODES.includes(mode);
      }, timeoutMs, 100);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- log tail (${this.dir}) ---\n${this.logTail(40)}`);
    }
  }

  async kill(): Promise<void> {
    if (this.proc) await terminate(this.proc, 'SIGKILL');
  }

  async stop(): Promise<void> {
    if (this.proc) await terminate(this.proc, 'SIGTERM');
  }

  async restart(opts?: StartOptions): Promise<void> {
    await this.stop();
    await this.start(opts);
  }

  async mode(): Promise<string | undefined> {
    if (!this.running()) return undefined;
    try {
      return await serverMode('127.0.0.1', this.clientPort, 1000);
    } catch {
      return undefined;
    }
  }

  logTail(lines = 40): string {
    return this.spec.logFiles
      .map((f) => `[${path.basename(f)}]\n${tailFile(f, lines)}`)
      .join('\n');
  }
}

class ExitedEarly extends Error {}

/** Builds the Cluster object shared by both targets around started servers. */
export function makeCluster(
  kind: TargetKind,
  servers: ManagedServer[],
  dir: string,
  extras: Pick<Cluster, 'tls'> = {},
): Cluster {
  let stopped = false;
  const cluster: Cluster = {
    kind,
    servers,
    dir,
    tls: extras.tls,
    connectString: servers.map((s) => s.hostPort).join(','),
    secureConnectString: servers.every((s) => s.secureHostPort)
      ? servers.map((s) => s.secureHostPort).join(',')
      : undefined,
    async leader() {
      for (const s of servers) {
        const m = await s.mode();
        if (m === 'leader' || m === 'standalone') return s;
      }
      return undefined;
    },
    async waitHealthy(timeoutMs = 30_000) {
      await waitFor(`${kind} cluster to be healthy`, async () => {
        const modes = await Promise.all(servers.filter((s) => s.running()).map((s) => s.mode()));
        if (modes.length === 0 || modes.some((m) => m === undefined || !SERVING_MODES.includes(m))) return false;
        if (servers.length === 1) return true;
        return modes.filter((m) => m === 'leader').length === 1 && !modes.includes('read-only');
      }, timeoutMs, 150);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // The data is thrown away, so there is nothing to shut down cleanly.
      await Promise.all(servers.map((s) => s.kill()));
      removeTempDir(dir);
    },
  };
  return cluster;
}
