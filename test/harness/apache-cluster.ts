/**
 * Real Apache ZooKeeper 3.8 (Debian `zookeeper` package) as a test target:
 * standalone or a 3-node ensemble on free loopback ports, each server in its
 * own temp dir with zoo.cfg, myid, a log4j config writing to a file there,
 * and optional TLS, SASL DIGEST-MD5, super digest, TTL nodes, read-only mode.
 *
 * The launch mirrors /usr/share/zookeeper/bin/zkServer.sh: `java -cp
 * <conf dir>:/usr/share/java/zookeeper.jar <JVM flags> QuorumPeerMain
 * zoo.cfg`. zookeeper.jar's manifest Class-Path already lists its Debian
 * dependencies (netty, jute, slf4j-api, ...); we add the slf4j->log4j 1.2
 * binding so the server logs to our file instead of nowhere.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Cluster, ClusterOptions } from './cluster-types';
import { ManagedServer, makeCluster } from './managed-server';
import { freePorts } from './ports';
import { makeTempDir, removeTempDir } from './temp-dirs';
import { generateTlsFixtures, TlsFixtures } from './tls-fixtures';

export const JAVA = process.env.JAVA ?? '/usr/bin/java';
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
const LOGGING_JARS = ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];
// Needed by NettyServerCnxnFactory (TLS) but missing from zookeeper.jar's manifest Class-Path.
const NETTY_EXTRA_JARS = ['netty-codec', 'netty-resolver', 'netty-transport-native-unix-common'].map(
  (j) => `/usr/share/java/${j}.jar`,
);

/** True when the Debian zookeeper package and a JVM are installed. */
export function apacheAvailable(): boolean {
  return fs.existsSync(JAVA) && fs.existsSync(ZOOKEEPER_JAR);
}

/** A log4j 1.2 config that sends Apache's log to one file. */
export function log4jProperties(logFile: string): string {
  return [
    'log4j.rootLogger=INFO, FILE',
    'log4j.appender.FILE=org.apache.log4j.FileAppender',
    `log4j.appender.FILE.File=${logFile}`,
    'log4j.appender.FILE.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n',
    '',
  ].join('\n');
}

/** JAAS login config with the Server section Apache's SASL provider reads (DIGEST-MD5 users). */
function jaasConfig(users: Record<string, string>): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const lines = Object.entries(users).map(([u, pw]) => `  user_${u}="${esc(pw)}"`);
  return `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n${lines.join('\n')};\n};\n`;
}

interface PortSet {
  client: number;
  secure?: number;
  quorum: number;
  election: number;
}

/**
 * The JVM command line of one Apache server (zkServer.sh's, trimmed): `dir`
 * holds its log4j.properties, `sysProps` become -D flags.
 */
export function apacheJvmArgs(dir: string, cfgFile: string, sysProps: Record<string, string>, heapMb = 256): string[] {
  const classpath = [dir, ZOOKEEPER_JAR, ...LOGGING_JARS, ...NETTY_EXTRA_JARS].join(':');
  return [
    // A small, quickly started JVM: tests care about start-up and CPU, not peak throughput.
    `-Xmx${heapMb}m`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xss512k',
    ...Object.entries(sysProps).map(([k, v]) => `-D${k}=${v}`),
    '-cp', classpath,
    'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile,
  ];
}

/** Starts Apache ZooKeeper; resolves once every server serves (and an ensemble has a leader). */
export async function startApache(opts: ClusterOptions = {}): Promise<Cluster> {
  if (!apacheAvailable()) {
    throw new Error(`Apache ZooKeeper not installed (${ZOOKEEPER_JAR} or ${JAVA} missing): run bash test/setup/ensure-deps.sh`);
  }
  const n = opts.servers ?? 1;
  const root = makeTempDir('zk-apache-');
  const servers: ManagedServer[] = [];
  try {
    const tls: TlsFixtures | undefined = opts.tls ? generateTlsFixtures(path.join(root, 'tls')) : undefined;
    const perServer = opts.tls ? 4 : 3;
    const all = await freePorts(n * perServer);
    const ports: PortSet[] = Array.from({ length: n }, (_, i) => {
      const p = all.slice(i * perServer, (i + 1) * perServer);
      return { client: p[0], quorum: p[1], election: p[2], secure: opts.tls ? p[3] : undefined };
    });

    let jaasFile: string | undefined;
    if (opts.sasl) {
      jaasFile = path.join(root, 'jaas.conf');
      fs.writeFileSync(jaasFile, jaasConfig(opts.sasl.users));
    }

    const tickTime = opts.tickTime ?? 500;
    for (let i = 0; i < n; i++) {
      const id = i + 1;
      const dir = path.join(root, `server-${id}`);
      const dataDir = path.join(dir, 'data');
      fs.mkdirSync(dataDir, { recursive: true });
      const cfg: Record<string, string> = {
        tickTime: String(tickTime),
        initLimit: '10',
        syncLimit: '5',
        dataDir,
        clientPort: String(ports[i].client),
        clientPortAddress: '127.0.0.1',
        '4lw.commands.whitelist': '*',
        'admin.enableServer': 'false',
        maxClientCnxns: String(opts.maxClientCnxns ?? 0),
        // Keep fsync from dominating a 2-core test machine's time budget.
        forceSync: opts.forceSync ? 'yes' : 'no',
      };
      if (opts.minSessionTimeout !== undefined) cfg.minSessionTimeout = String(opts.minSessionTimeout);
      if (opts.maxSessionTimeout !== undefined) cfg.maxSessionTimeout = String(opts.maxSessionTimeout);
      if (tls) {
        cfg.secureClientPort = String(ports[i].secure);
        cfg.secureClientPortAddress = '127.0.0.1';
        cfg['ssl.keyStore.location'] = tls.files.serverKeyStore;
        cfg['ssl.keyStore.password'] = tls.storePassword;
        cfg['ssl.keyStore.type'] = 'PKCS12';
        cfg['ssl.trustStore.location'] = tls.files.trustStore;
        cfg['ssl.trustStore.password'] = tls.storePassword;
        cfg['ssl.trustStore.type'] = 'PKCS12';
        cfg['ssl.clientAuth'] = 'need';
      }
      if (opts.readOnlyMode) {
        // A read-only server only grants local sessions (its ReadOnlyRequestProcessor
        // refuses a global createSession with NOTREADONLY); upgrading lets a
        // session that creates an ephemeral become global once a quorum is back.
        cfg.localSessionsEnabled = 'true';
        cfg.localSessionsUpgradingEnabled = 'true';
      }
      if (opts.sasl) cfg['authProvider.1'] = 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider';
      if (n > 1) {
        ports.forEach((p, j) => {
          cfg[`server.${j + 1}`] = `127.0.0.1:${p.quorum}:${p.election}:participant;127.0.0.1:${p.client}`;
        });
        fs.writeFileSync(path.join(dataDir, 'myid'), `${id}\n`);
      }
      Object.assign(cfg, opts.extraConfig ?? {});
      const cfgFile = path.join(dir, 'zoo.cfg');
      fs.writeFileSync(cfgFile, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
      const logFile = path.join(dir, 'zookeeper.log');
      fs.writeFileSync(path.join(dir, 'log4j.properties'), log4jProperties(logFile));

      const sysProps: Record<string, string> = {
        'log4j.configuration': `file:${path.join(dir, 'log4j.properties')}`,
        'zookeeper.log.dir': dir,
        'zookeeper.admin.enableServer': 'false',
        'zookeeper.jmx.log4j.disable': 'true',
        'znode.container.checkIntervalMs': String(opts.containerCheckIntervalMs ?? 1000),
      };
      if (tls) sysProps['zookeeper.serverCnxnFactory'] = 'org.apache.zookeeper.server.NettyServerCnxnFactory';
      if (jaasFile) sysProps['java.security.auth.login.config'] = jaasFile;
      if (opts.superDigest) sysProps['zookeeper.DigestAuthenticationProvider.superDigest'] = opts.superDigest;
      if (opts.extendedTypes) sysProps['zookeeper.extendedTypesEnabled'] = 'true';
      if (opts.readOnlyMode) sysProps['readonlymode.enabled'] = 'true';
      if (opts.juteMaxBuffer !== undefined) sysProps['jute.maxbuffer'] = String(opts.juteMaxBuffer);
      Object.assign(sysProps, opts.systemProperties ?? {});

      const args = apacheJvmArgs(dir, cfgFile, sysProps, opts.javaHeapMb);
      servers.push(new ManagedServer({
        id,
        clientPort: ports[i].client,
        secureClientPort: ports[i].secure,
        dataDir,
        dir,
        logFiles: [path.join(dir, 'stdout.log'), logFile],
        launch: () => ({ command: JAVA, args }),
        startTimeoutMs: opts.startTimeoutMs ?? (n > 1 ? 60_000 : 30_000),
      }));
    }

    // Launch all members at once: an ensemble member only serves once a quorum is up.
    for (const s of servers) s.launch();
    await Promise.all(servers.map((s) => s.waitReady('serving', opts.startTimeoutMs ?? (n > 1 ? 60_000 : 30_000))));
    const cluster = makeCluster('apache', servers, root, { tls });
    await cluster.waitHealthy(opts.startTimeoutMs ?? 30_000);
    return cluster;
  } catch (err) {
    await Promise.all(servers.map((s) => s.kill()));
    removeTempDir(root);
    throw err;
  }
}
