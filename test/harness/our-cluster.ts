/**
 * The in-repo TypeScript server (src/server) as a test target. Each server
 * runs in its own Node process (run-our-server.ts, loaded through
 * transpile-cache-register.js), so kill()
 * is a real SIGKILL and restart() reloads the data dir from disk, exactly as
 * with Apache.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Cluster, ClusterOptions, ServerHandle } from './cluster-types';
import { ManagedServer, makeCluster } from './managed-server';
import { freePorts } from './ports';
import { makeTempDir, removeTempDir } from './temp-dirs';
import { generateTlsFixtures, TlsFixtures } from './tls-fixtures';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const OUR_SERVER_MODULE = path.join(REPO_ROOT, 'src', 'server', 'index.ts');

/**
 * Readiness of our server run by run-our-server.ts: it writes `{ pid }` to the
 * ready file once it serves, so a stale file from an earlier process never counts.
 */
export function readyFileProbe(readyFile: string): (what: 'serving' | 'process', pid: number) => Promise<boolean> {
  return async (_what, pid) => {
    try {
      return (JSON.parse(fs.readFileSync(readyFile, 'utf8')) as { pid: number }).pid === pid;
    } catch {
      return false;
    }
  };
}

/** True once src/server/index.ts exists and exports ZooKeeperServer. */
export function ourServerAvailable(): boolean {
  try {
    return /export\s[^;]*\bZooKeeperServer\b/.test(fs.readFileSync(OUR_SERVER_MODULE, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The options handed to ZooKeeperServer.start (src/server's ServerOptions),
 * built from the same ClusterOptions that become zoo.cfg lines and -D flags
 * for Apache.
 */
function serverOptions(
  opts: ClusterOptions,
  dataDir: string,
  clientPort: number,
  securePort: number | undefined,
  tls: TlsFixtures | undefined,
  jaasFile: string | undefined,
): Record<string, unknown> {
  // The zoo.cfg keys and system properties that have a server option; anything else is refused, not silently dropped.
  const cfgKeys: Record<string, (v: string, o: Record<string, unknown>) => void> = {
    reconfigEnabled: (v, o) => (o.reconfigEnabled = v === 'true'),
  };
  const sysKeys: Record<string, (v: string, o: Record<string, unknown>) => void> = {
    'zookeeper.enforceQuota': (v, o) => (o.enforceQuota = v === 'true'),
    'java.security.auth.login.config': (v, o) => (o.jaasConfigFile = v),
  };
  const unsupported = Object.keys(opts.extraConfig ?? {}).filter((k) => !cfgKeys[k])
    .concat(Object.keys(opts.systemProperties ?? {}).filter((k) => !sysKeys[k]));
  if (unsupported.length > 0) throw new Error(`startOurs: extraConfig/systemProperties are not mapped yet: ${unsupported.join(', ')}`);
  if (opts.readOnlyMode) throw new Error('startOurs: read-only mode needs an ensemble, which our server does not have yet');
  const o: Record<string, unknown> = {
    dataDir,
    clientPort,
    clientPortAddress: '127.0.0.1',
    tickTime: opts.tickTime ?? 500,
    maxClientCnxns: opts.maxClientCnxns ?? 0,
    fourLetterWordWhitelist: '*',
    containerCheckIntervalMs: opts.containerCheckIntervalMs ?? 1000,
    // As with Apache in the harness (forceSync=no unless asked): the data is thrown away.
    forceSync: opts.forceSync ?? false,
  };
  if (opts.minSessionTimeout !== undefined) o.minSessionTimeout = opts.minSessionTimeout;
  if (opts.maxSessionTimeout !== undefined) o.maxSessionTimeout = opts.maxSessionTimeout;
  if (tls && securePort) {
    o.secureClientPort = securePort;
    o.secureClientPortAddress = '127.0.0.1';
    o.ssl = {
      keyStoreLocation: tls.files.serverKeyStore,
      keyStorePassword: tls.storePassword,
      keyStoreType: 'PKCS12',
      trustStoreLocation: tls.files.trustStore,
      trustStorePassword: tls.storePassword,
      trustStoreType: 'PKCS12',
      clientAuth: 'need',
    };
  }
  if (jaasFile) o.jaasConfigFile = jaasFile;
  if (opts.superDigest) o.superDigest = opts.superDigest;
  if (opts.extendedTypes) o.extendedTypesEnabled = true;
  if (opts.juteMaxBuffer !== undefined) o.juteMaxBuffer = opts.juteMaxBuffer;
  for (const [k, v] of Object.entries(opts.extraConfig ?? {})) cfgKeys[k](v, o);
  for (const [k, v] of Object.entries(opts.systemProperties ?? {})) sysKeys[k](v, o);
  return o;
}

/** The server's memory right after a full collection. */
export interface HeapReport {
  heapUsed: number;
  rss: number;
  external: number;
  arrayBuffers: number;
}

/**
 * Asks one of our server processes for a full GC and its memory after it
 * (SIGUSR2, answered by run-our-server.ts in `<dir>/heap.json`).
 */
export async function heapAfterGc(server: ServerHandle, timeoutMs = 10_000): Promise<HeapReport> {
  const file = path.join(server.dir, 'heap.json');
  fs.rmSync(file, { force: true });
  const pid = server.pid();
  if (pid === undefined) throw new Error('heapAfterGc: the server is not running');
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`heapAfterGc: no ${file} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as HeapReport;
}

/**
 * Our servers as an ensemble, the way a user runs one: a zoo.cfg and a myid
 * per member, each started with `bin/zk-server start-foreground zoo.cfg` in
 * its own process (so kill() is a real SIGKILL); resolves once one leads and
 * every other member follows.
 */
async function startOurEnsemble(opts: ClusterOptions): Promise<Cluster> {
  const n = opts.servers ?? 3;
  if (opts.tls || opts.sasl || opts.extraConfig) {
    throw new Error('startOurs: an ensemble of ours runs without TLS, SASL or extra zoo.cfg settings so far');
  }
  const root = makeTempDir('zk-ours-ensemble-');
  const servers: ManagedServer[] = [];
  try {
    const ports = await freePorts(3 * n);
    const lines = Array.from({ length: n }, (_, i) => `server.${i + 1}=127.0.0.1:${ports[3 * i + 1]}:${ports[3 * i + 2]}:participant;127.0.0.1:${ports[3 * i]}`);
    for (let i = 0; i < n; i++) {
      const id = i + 1;
      const { dir, dataDir, cfgFile } = writeMemberFiles(root, id, ports[3 * i], [
        ...(opts.minSessionTimeout !== undefined ? [`minSessionTimeout=${opts.minSessionTimeout}`] : []),
        ...(opts.maxSessionTimeout !== undefined ? [`maxSessionTimeout=${opts.maxSessionTimeout}`] : []),
        ...lines,
      ], opts);
      // zkServer.sh's JVMFLAGS carry -D system properties, for us too.
      const jvmFlags = [
        `-Dznode.container.checkIntervalMs=${opts.containerCheckIntervalMs ?? 1000}`,
        ...(opts.readOnlyMode ? ['-Dreadonlymode.enabled=true'] : []),
        ...Object.entries(opts.systemProperties ?? {}).map(([k, v]) => `-D${k}=${v}`),
      ];
      servers.push(ourEnsembleMember(id, dir, dataDir, cfgFile, ports[3 * i], opts.startTimeoutMs ?? 60_000, jvmFlags));
    }
    for (const s of servers) s.launch();
    await Promise.all(servers.map((s) => s.waitReady('serving', opts.startTimeoutMs ?? 60_000)));
    const cluster = makeCluster('ours', servers, root);
    await cluster.waitHealthy(opts.startTimeoutMs ?? 30_000);
    return cluster;
  } catch (err) {
    await Promise.all(servers.map((s) => s.kill()));
    removeTempDir(root);
    throw err;
  }
}

/**
 * One ensemble member's files under `root`: server-<id>/data with its myid,
 * and server-<id>/zoo.cfg with the keys every harness ensemble shares (the
 * same lines are read by Apache and by us) followed by `extra` (server.N
 * lines, peerType, timeouts).
 */
export function writeMemberFiles(
  root: string,
  id: number,
  clientPort: number,
  extra: string[],
  opts: Pick<ClusterOptions, 'tickTime' | 'maxClientCnxns' | 'forceSync'> = {},
): { dir: string; dataDir: string; cfgFile: string } {
  const dir = path.join(root, `server-${id}`);
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'myid'), `${id}\n`);
  const cfg = [
    `tickTime=${opts.tickTime ?? 500}`,
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${dataDir}`,
    `clientPort=${clientPort}`,
    'clientPortAddress=127.0.0.1',
    '4lw.commands.whitelist=*',
    'admin.enableServer=false',
    `maxClientCnxns=${opts.maxClientCnxns ?? 0}`,
    `forceSync=${opts.forceSync ? 'yes' : 'no'}`,
    ...extra,
  ];
  const cfgFile = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(cfgFile, cfg.join('\n') + '\n');
  return { dir, dataDir, cfgFile };
}

/** Our server as an ensemble member: `zk-server start-foreground zoo.cfg`, `jvmFlags` as zkServer.sh's JVMFLAGS. */
export function ourEnsembleMember(id: number, dir: string, dataDir: string, cfgFile: string, clientPort: number, startTimeoutMs: number, jvmFlags: string[] = []): ManagedServer {
  return new ManagedServer({
    id,
    clientPort,
    dataDir,
    dir,
    logFiles: [path.join(dir, 'server.log')],
    launch: () => ({
      command: process.execPath,
      args: [path.join(REPO_ROOT, 'bin', 'zk-server'), 'start-foreground', cfgFile],
      env: { ...process.env, ...(jvmFlags.length ? { JVMFLAGS: jvmFlags.join(' ') } : {}) },
    }),
    startTimeoutMs,
  });
}

/** Starts our server (standalone, or an ensemble with `servers: 3`); resolves once it serves. */
export async function startOurs(opts: ClusterOptions = {}): Promise<Cluster> {
  if (!ourServerAvailable()) throw new Error(`our server is not there yet (${OUR_SERVER_MODULE} does not export ZooKeeperServer)`);
  if ((opts.servers ?? 1) !== 1) return startOurEnsemble(opts);
  const root = makeTempDir('zk-ours-');
  const servers: ManagedServer[] = [];
  try {
    const tls = opts.tls ? generateTlsFixtures(path.join(root, 'tls')) : undefined;
    const [clientPort, securePort] = await freePorts(opts.tls ? 2 : 1);
    let jaasFile: string | undefined;
    if (opts.sasl) {
      jaasFile = path.join(root, 'jaas.conf');
      const users = Object.entries(opts.sasl.users).map(([u, pw]) => `  user_${u}="${pw.replace(/(["\\])/g, '\\$1')}"`);
      fs.writeFileSync(jaasFile, `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n${users.join('\n')};\n};\n`);
    }
    const dir = path.join(root, 'server-1');
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const launchFile = path.join(dir, 'launch.json');
    const readyFile = path.join(dir, 'ready.json');
    fs.writeFileSync(launchFile, JSON.stringify({
      options: serverOptions(opts, dataDir, clientPort, opts.tls ? securePort : undefined, tls, jaasFile),
      readyFile,
    }, null, 2));
    const register = path.join(__dirname, 'transpile-cache-register.js');
    const server = new ManagedServer({
      id: 1,
      clientPort,
      secureClientPort: opts.tls ? securePort : undefined,
      dataDir,
      dir,
      logFiles: [path.join(dir, 'server.log')],
      launch: () => {
        fs.rmSync(readyFile, { force: true });
        return {
          command: process.execPath,
          // --expose-gc: heapAfterGc() can ask for a full collection before reading the heap.
          args: ['--expose-gc', '-r', register, path.join(__dirname, 'run-our-server.ts'), launchFile],
          env: process.env,
        };
      },
      readyProbe: readyFileProbe(readyFile),
      // The first start of a run transpiles the server (~10 s on a busy machine); later ones hit the cache.
      startTimeoutMs: opts.startTimeoutMs ?? 60_000,
    });
    servers.push(server);
    await server.start();
    return makeCluster('ours', servers, root, { tls });
  } catch (err) {
    await Promise.all(servers.map((s) => s.kill()));
    removeTempDir(root);
    throw err;
  }
}
