/**
 * The servers the benchmarks measure, each a separate OS process whose PID
 * we know (for /proc CPU accounting), both fsyncing every write:
 *
 * - Apache ZooKeeper 3.8 standalone, launched the way zkServer.sh launches
 *   it (QuorumPeerMain zoo.cfg) with the JVM's default JIT and GC and
 *   upstream zkEnv.sh's default heap (-Xmx1000m). The test harness's
 *   startApache() is tuned for quick start-up instead (C1 only, serial GC,
 *   forceSync=no), which would handicap Apache here, so only its process
 *   plumbing (ManagedServer, free ports, temp dirs) is reused.
 * - Our server through the harness's run-our-server.ts (ZooKeeperServer.start
 *   in its own Node process, which reports its PID when listening), loaded
 *   through TRANSPILE_HOOK (no ts-node per-event overhead, as compiled JS
 *   would run); fsync on.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ourServerAvailable } from '../../test/harness';
import { readyFileProbe } from '../../test/harness/our-cluster';
import { JAVA, ZOOKEEPER_JAR, apacheAvailable, log4jProperties } from '../../test/harness/apache-cluster';
import type { Cluster } from '../../test/harness/cluster-types';
import { ManagedServer, makeCluster } from '../../test/harness/managed-server';
import { freePort } from '../../test/harness/ports';
import { makeTempDir, removeTempDir } from '../../test/harness/temp-dirs';
import { TRANSPILE_HOOK } from './load-process';

export { ourServerAvailable, apacheAvailable };

/** The same tickTime for both servers (zoo.cfg's customary 2000 ms). */
const TICK_TIME_MS = 2000;
const RUN_OUR_SERVER = path.resolve(__dirname, '..', '..', 'test', 'harness', 'run-our-server.ts');
const LOGGING_JARS = ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];

export interface BenchServer {
  kind: 'apache' | 'ours';
  connectString: string;
  /** PID of the server process itself (the JVM, or our Node process); throws while it is not running. */
  readonly pid: number;
  /** Where its config, data and logs live. */
  dir: string;
  /** The one member's process handle: stop() and start() it again on the same dataDir (the scale bench's restarts). */
  handle: ManagedServer;
  /** Changes snapCount for the next start (rewrites zoo.cfg / our launch.json); the running process is not touched. */
  setSnapCount(snapCount: number): void;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** What the scale bench varies; the other benches start both servers with neither. */
export interface BenchServerOptions {
  /** Txns between snapshots (zoo.cfg snapCount, which Apache reads as zookeeper.snapCount); each server's default (100,000) when unset. */
  snapCount?: number;
  /** Ours only: run Node with --expose-gc, so that SIGUSR2 makes run-our-server.ts report the heap after a full GC (the harness's heapAfterGc). */
  exposeGc?: boolean;
}

function fromCluster(c: Cluster, s: ManagedServer, setSnapCount: (n: number) => void): BenchServer {
  if (s.pid() === undefined) throw new Error(`${c.kind} server is not running`);
  return {
    kind: c.kind,
    connectString: c.connectString,
    get pid(): number {
      const pid = s.pid();
      if (pid === undefined) throw new Error(`${c.kind} server is not running`);
      return pid;
    },
    dir: c.dir,
    handle: s,
    setSnapCount,
    logTail: (lines) => s.logTail(lines),
    // SIGTERM first: a clean exit flushes the server's own output (e.g. a --cpu-prof profile).
    stop: async () => {
      await s.stop();
      await c.stop();
    },
  };
}

/** Apache ZooKeeper 3.8 standalone on a free loopback port, fsync on, as shipped. */
export async function startApacheForBench(opts: BenchServerOptions = {}): Promise<BenchServer> {
  if (!apacheAvailable()) throw new Error(`Apache ZooKeeper not installed (${ZOOKEEPER_JAR} or ${JAVA} missing)`);
  const root = makeTempDir('zk-bench-apache-');
  const dir = path.join(root, 'server-1');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const clientPort = await freePort();
  const cfg: Record<string, string> = {
    tickTime: String(TICK_TIME_MS),
    initLimit: '10',
    syncLimit: '5',
    dataDir,
    clientPort: String(clientPort),
    clientPortAddress: '127.0.0.1',
    maxClientCnxns: '0',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    forceSync: 'yes',
  };
  if (opts.snapCount !== undefined) cfg.snapCount = String(opts.snapCount);
  const cfgFile = path.join(dir, 'zoo.cfg');
  const writeCfg = () => fs.writeFileSync(cfgFile, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  writeCfg();
  const logFile = path.join(dir, 'zookeeper.log');
  fs.writeFileSync(
    path.join(dir, 'log4j.properties'),
    log4jProperties(logFile),
  );
  const args = [
    '-Xmx1000m',
    `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`,
    `-Dzookeeper.log.dir=${dir}`,
    '-Dzookeeper.jmx.log4j.disable=true',
    '-cp', [dir, ZOOKEEPER_JAR, ...LOGGING_JARS].join(':'),
    'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile,
  ];
  const server = new ManagedServer({
    id: 1,
    clientPort,
    dataDir,
    dir,
    logFiles: [path.join(dir, 'stdout.log'), logFile],
    launch: () => ({ command: JAVA, args }),
    startTimeoutMs: 60_000,
  });
  try {
    await server.start();
  } catch (err) {
    await server.kill();
    removeTempDir(root);
    throw err;
  }
  return fromCluster(makeCluster('apache', [server], root), server, (n) => {
    cfg.snapCount = String(n);
    writeCfg();
  });
}

/** Our server in its own Node process on a free loopback port, fsync on. */
export async function startOursForBench(opts: BenchServerOptions = {}): Promise<BenchServer> {
  const root = makeTempDir('zk-bench-ours-');
  const dir = path.join(root, 'server-1');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const clientPort = await freePort();
  const launchFile = path.join(dir, 'launch.json');
  const readyFile = path.join(dir, 'ready.json');
  // ZooKeeperServer.start options (src/server/zookeeper-server.ts ServerOptions), matching Apache's zoo.cfg above.
  const options: Record<string, unknown> = {
    clientPort,
    clientPortAddress: '127.0.0.1',
    dataDir,
    tickTime: TICK_TIME_MS,
    maxClientCnxns: 0,
    forceSync: true,
    fourLetterWordWhitelist: '*',
  };
  if (opts.snapCount !== undefined) options.snapCount = opts.snapCount;
  const writeLaunch = () => fs.writeFileSync(launchFile, JSON.stringify({ options, readyFile }, null, 2));
  writeLaunch();
  const server = new ManagedServer({
    id: 1,
    clientPort,
    dataDir,
    dir,
    logFiles: [path.join(dir, 'server.log')],
    launch: () => {
      fs.rmSync(readyFile, { force: true });
      // BENCH_SERVER_CPU_PROF_DIR=<dir>: V8 CPU profile of our server for the whole run, written at
      // shutdown (summarise with `npx ts-node bench/profile-top.ts <file>`).
      const profDir = process.env.BENCH_SERVER_CPU_PROF_DIR;
      const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profDir)}`, '--cpu-prof-name=our-server.cpuprofile'] : [];
      const gc = opts.exposeGc ? ['--expose-gc'] : [];
      return { command: process.execPath, args: [...prof, ...gc, '-r', TRANSPILE_HOOK, RUN_OUR_SERVER, launchFile] };
    },
    readyProbe: readyFileProbe(readyFile),
    startTimeoutMs: 60_000,
  });
  try {
    await server.start();
  } catch (err) {
    await server.kill();
    removeTempDir(root);
    throw err;
  }
  return fromCluster(makeCluster('ours', [server], root), server, (n) => {
    options.snapCount = n;
    writeLaunch();
  });
}
