/**
 * 3-voter ensembles for the ensemble benchmark, both fsyncing every write,
 * tickTime 2000 (zoo.cfg's customary value), each member a real process on
 * 127.0.0.1 whose PID we know (for kill -9 and /proc CPU accounting):
 *
 * - Apache ZooKeeper 3.8 launched as shipped (QuorumPeerMain zoo.cfg with
 *   upstream zkEnv.sh's -Xmx1000m and the JVM's default JIT and GC), as in
 *   servers.ts. The test harness's startApache({ servers: 3 }) runs a C1-only,
 *   serial-GC, 256 MB JVM tuned for fast start-up, which would handicap
 *   Apache here; only its process plumbing (ManagedServer, makeCluster, free
 *   ports, temp dirs) is reused.
 * - Ours the way a user runs an ensemble member (`zk-server start-foreground
 *   zoo.cfg` with server.N lines and a myid, as the harness's startOurs does),
 *   but src/cli/zk-server.ts is loaded through TRANSPILE_HOOK, not
 *   bin/zk-server: in a checkout whose dist/ is stale the launcher falls back
 *   to ts-node, whose per-event overhead compiled JavaScript does not pay.
 *
 * Both return the harness's Cluster: `leader()`, `waitHealthy()`, and per
 * member `kill()` (SIGKILL), `start()`, `pid()`, `mode()`, `logTail()`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { JAVA, ZOOKEEPER_JAR, apacheAvailable, log4jProperties } from '../../test/harness/apache-cluster';
import type { Cluster } from '../../test/harness/cluster-types';
import { ManagedServer, makeCluster } from '../../test/harness/managed-server';
import { ourServerAvailable } from '../../test/harness/our-cluster';
import { freePorts } from '../../test/harness/ports';
import { makeTempDir, removeTempDir } from '../../test/harness/temp-dirs';
import { TRANSPILE_HOOK } from './load-process';
import { processCpuMicros } from './proc-cpu';

export { apacheAvailable, ourServerAvailable };

/** The same tickTime for both ensembles (zoo.cfg's customary 2000 ms, as in servers.ts). */
export const ENSEMBLE_TICK_TIME_MS = 2000;
const MEMBERS = 3;
const START_TIMEOUT_MS = 90_000;
const LOGGING_JARS = ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];
const ZK_SERVER_CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'zk-server.ts');

interface MemberPorts {
  client: number;
  quorum: number;
  election: number;
}

/** zoo.cfg lines shared by both ensembles (Apache ignores nothing here; ours warns about what it does not implement). */
function zooCfg(dataDir: string, ports: MemberPorts[], i: number): string {
  const cfg: string[] = [
    `tickTime=${ENSEMBLE_TICK_TIME_MS}`,
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${dataDir}`,
    `clientPort=${ports[i].client}`,
    'clientPortAddress=127.0.0.1',
    'maxClientCnxns=0',
    '4lw.commands.whitelist=*',
    'admin.enableServer=false',
    'forceSync=yes',
    ...ports.map((p, j) => `server.${j + 1}=127.0.0.1:${p.quorum}:${p.election}:participant;127.0.0.1:${p.client}`),
  ];
  return cfg.join('\n') + '\n';
}

async function startEnsemble(
  kind: 'apache' | 'ours',
  launchFor: (dir: string, cfgFile: string, id: number) => { command: string; args: string[]; env?: NodeJS.ProcessEnv },
  logFilesFor: (dir: string) => string[],
): Promise<Cluster> {
  const root = makeTempDir(`zk-bench-ensemble-${kind}-`);
  const servers: ManagedServer[] = [];
  try {
    const all = await freePorts(3 * MEMBERS);
    const ports: MemberPorts[] = Array.from({ length: MEMBERS }, (_, i) => ({ client: all[3 * i], quorum: all[3 * i + 1], election: all[3 * i + 2] }));
    for (let i = 0; i < MEMBERS; i++) {
      const id = i + 1;
      const dir = path.join(root, `server-${id}`);
      const dataDir = path.join(dir, 'data');
      fs.mkdirSync(dataDir, { recursive: true });
      fs.writeFileSync(path.join(dataDir, 'myid'), `${id}\n`);
      const cfgFile = path.join(dir, 'zoo.cfg');
      fs.writeFileSync(cfgFile, zooCfg(dataDir, ports, i));
      servers.push(
        new ManagedServer({
          id,
          clientPort: ports[i].client,
          dataDir,
          dir,
          logFiles: logFilesFor(dir),
          launch: () => launchFor(dir, cfgFile, id),
          startTimeoutMs: START_TIMEOUT_MS,
        }),
      );
    }
    // All at once: a member only serves once a quorum is up.
    for (const s of servers) s.launch();
    await Promise.all(servers.map((s) => s.waitReady('serving', START_TIMEOUT_MS)));
    const cluster = makeCluster(kind, servers, root);
    await cluster.waitHealthy(START_TIMEOUT_MS);
    return cluster;
  } catch (err) {
    await Promise.all(servers.map((s) => s.kill()));
    removeTempDir(root);
    throw err;
  }
}

/** Apache ZooKeeper 3.8, 3 voters on loopback, forceSync=yes, tickTime 2000, JVM as shipped. */
export async function startApacheEnsembleForBench(): Promise<Cluster> {
  if (!apacheAvailable()) throw new Error(`Apache ZooKeeper not installed (${ZOOKEEPER_JAR} or ${JAVA} missing)`);
  return startEnsemble(
    'apache',
    (dir, cfgFile) => {
      const logFile = path.join(dir, 'zookeeper.log');
      fs.writeFileSync(path.join(dir, 'log4j.properties'), log4jProperties(logFile));
      return {
        command: JAVA,
        args: [
          '-Xmx1000m',
          `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`,
          `-Dzookeeper.log.dir=${dir}`,
          '-Dzookeeper.jmx.log4j.disable=true',
          '-cp', [dir, ZOOKEEPER_JAR, ...LOGGING_JARS].join(':'),
          'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile,
        ],
      };
    },
    (dir) => [path.join(dir, 'stdout.log'), path.join(dir, 'zookeeper.log')],
  );
}

/** Our server, 3 voters on loopback via `zk-server start-foreground zoo.cfg`, forceSync=yes, tickTime 2000. */
export async function startOursEnsembleForBench(): Promise<Cluster> {
  if (!ourServerAvailable()) throw new Error('our server is missing: src/server/index.ts does not export ZooKeeperServer');
  return startEnsemble(
    'ours',
    (_dir, cfgFile, id) => {
      // BENCH_SERVER_CPU_PROF_DIR=<dir>: a V8 CPU profile per member process, written when it is stopped
      // cleanly (not for a member killed with SIGKILL).
      const profDir = process.env.BENCH_SERVER_CPU_PROF_DIR;
      const prof = profDir
        ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profDir)}`, `--cpu-prof-name=our-member-${id}-${Date.now()}.cpuprofile`]
        : [];
      return { command: process.execPath, args: [...prof, '-r', TRANSPILE_HOOK, ZK_SERVER_CLI, 'start-foreground', cfgFile] };
    },
    (dir) => [path.join(dir, 'server.log')],
  );
}

/** PIDs of the members that are running now. */
export function memberPids(cluster: Cluster): number[] {
  return cluster.servers.map((s) => s.pid()).filter((p): p is number => p !== undefined);
}

/** Sum of utime+stime of all running members (µs); read before and after a run with the same members up. */
export function ensembleCpuMicros(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuMicros(pid), 0);
}

/** Stops every member: SIGTERM first (a clean exit writes a --cpu-prof profile), then the cluster's kill and cleanup. */
export async function stopEnsemble(cluster: Cluster): Promise<void> {
  await Promise.all(cluster.servers.map((s) => s.stop().catch(() => undefined)));
  await cluster.stop();
}
