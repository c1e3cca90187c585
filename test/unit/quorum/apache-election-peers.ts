/**
 * Real Apache ZooKeeper 3.8 servers as members of an ensemble whose other
 * members are ours (an FLE peer of ours, or a raw listener capturing bytes).
 * The harness's startApache writes its own server lines and waits for the
 * whole ensemble to serve; here we need chosen sids, foreign members in the
 * config and no wait, so this builds the same launch (zoo.cfg, myid, log4j
 * file logging, QuorumPeerMain) around ManagedServer. No jest globals.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { JAVA, ZOOKEEPER_JAR, apacheAvailable, log4jProperties } from '../../harness/apache-cluster';
import { ManagedServer } from '../../harness/managed-server';
import { freePorts } from '../../harness/ports';
import { makeTempDir, removeTempDir } from '../../harness/temp-dirs';
import type { QuorumServer } from '../../../src/server/quorum/quorum-verifier';

const LOGGING_JARS = ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];

export { apacheAvailable };

export interface EnsemblePlan {
  /** Every member, ours and Apache's, with its ports (client ports in clientAddress). */
  servers: QuorumServer[];
  /** Client port per sid (ours too, even if nothing listens there). */
  clientPorts: Map<bigint, number>;
}

/** Allocates loopback ports for `sids` (participants unless listed in `observers`). */
export async function planEnsemble(sids: bigint[], observers: bigint[] = []): Promise<EnsemblePlan> {
  const ports = await freePorts(sids.length * 3);
  const servers: QuorumServer[] = [];
  const clientPorts = new Map<bigint, number>();
  sids.forEach((sid, i) => {
    const [client, quorum, election] = ports.slice(i * 3, i * 3 + 3);
    clientPorts.set(sid, client);
    servers.push({
      sid,
      host: '127.0.0.1',
      quorumPort: quorum,
      electionPort: election,
      type: observers.includes(sid) ? 'observer' : 'participant',
      clientAddress: `127.0.0.1:${client}`,
    });
  });
  return { servers, clientPorts };
}

export interface ApachePeers {
  servers: Map<bigint, ManagedServer>;
  root: string;
  /** SIGKILLs every JVM and removes the temp dir. */
  stop(): Promise<void>;
}

export interface ApacheLaunchOptions {
  /** ms; 500 unless given. */
  tickTime?: number;
  /** Ticks a follower waits for its leader during discovery and sync; 10 unless given. */
  initLimit?: number;
}

/** Writes configs for the Apache members `apacheSids` of `plan` and launches them (no readiness wait). */
export function launchApachePeers(plan: EnsemblePlan, apacheSids: bigint[], opts: ApacheLaunchOptions = {}): ApachePeers {
  const tickTime = opts.tickTime ?? 500;
  const root = makeTempDir('zk-fle-apache-');
  const servers = new Map<bigint, ManagedServer>();
  for (const sid of apacheSids) {
    const me = plan.servers.find((s) => s.sid === sid)!;
    const dir = path.join(root, `server-${sid}`);
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'myid'), `${sid}\n`);
    const cfg: Record<string, string> = {
      tickTime: String(tickTime),
      initLimit: String(opts.initLimit ?? 10),
      syncLimit: '5',
      dataDir,
      clientPort: String(plan.clientPorts.get(sid)),
      clientPortAddress: '127.0.0.1',
      '4lw.commands.whitelist': '*',
      'admin.enableServer': 'false',
      forceSync: 'no',
    };
    if (me.type === 'observer') cfg.peerType = 'observer';
    for (const s of plan.servers) {
      cfg[`server.${s.sid}`] = `${s.host}:${s.quorumPort}:${s.electionPort}:${s.type};${s.clientAddress}`;
    }
    const cfgFile = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(cfgFile, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const logFile = path.join(dir, 'zookeeper.log');
    fs.writeFileSync(path.join(dir, 'log4j.properties'), log4jProperties(logFile));
    const args = [
      '-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xss512k',
      `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`,
      `-Dzookeeper.log.dir=${dir}`,
      '-Dzookeeper.admin.enableServer=false',
      '-Dzookeeper.jmx.log4j.disable=true',
      '-cp', [dir, ZOOKEEPER_JAR, ...LOGGING_JARS].join(':'),
      'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile,
    ];
    const server = new ManagedServer({
      id: Number(sid),
      clientPort: plan.clientPorts.get(sid)!,
      dataDir,
      dir,
      logFiles: [path.join(dir, 'stdout.log'), logFile],
      launch: () => ({ command: JAVA, args }),
      startTimeoutMs: 60_000,
    });
    server.launch();
    servers.set(sid, server);
  }
  return {
    servers,
    root,
    async stop() {
      await Promise.all([...servers.values()].map((s) => s.kill()));
      removeTempDir(root);
    },
  };
}

/** The FOLLOWERINFO packet type (QuorumPacket.type, see /work/shared/QUORUM-WIRE.md). */
const FOLLOWERINFO = 11;

export interface LearnerHold {
  /** Sids whose first packet on our quorum port was a FOLLOWERINFO, in arrival order (repeats kept). */
  followers: bigint[];
  close(): Promise<void>;
}

/**
 * A stand-in for our peer's quorum port until ZAB exists: it accepts
 * learners, records the sid in each one's FOLLOWERINFO and then says
 * nothing. An Apache server that decided to follow our peer therefore
 * connects here (proof of which leader it chose) and stays FOLLOWING, blocked
 * waiting for LEADERINFO, for initLimit * tickTime; with nothing listening it
 * would give up within about half a second and start a new election.
 */
export async function holdLearners(port: number): Promise<LearnerHold> {
  const followers: bigint[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    let buf = Buffer.alloc(0);
    let done = false;
    sock.on('data', (chunk) => {
      if (done) return;
      buf = Buffer.concat([buf, chunk]);
      // QuorumPacket: int type, long zxid, buffer data (int length + bytes); LearnerInfo starts with long sid.
      if (buf.length < 24) return;
      done = true;
      if (buf.readInt32BE(0) === FOLLOWERINFO && buf.readInt32BE(12) >= 8) followers.push(buf.readBigInt64BE(16));
    });
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    followers,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
