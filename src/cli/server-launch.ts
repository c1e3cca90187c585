/**
 * Starts the embedded server from a parsed zoo.cfg and keeps it running in
 * this process until SIGTERM/SIGINT, then closes it cleanly (last fsync,
 * sockets closed) before exiting.
 *
 * The server module (src/server, `ZooKeeperServer.start`) is loaded at run
 * time so the CLI's argument and config handling can be used and tested on
 * its own.
 */
import type { ServerOptions } from '../server/zookeeper-server';
import type { QuorumPeerOptions } from '../server/quorum/quorum-peer';
import { MajorityQuorum, type QuorumServer } from '../server/quorum/quorum-verifier';
import { readNextConfig } from '../server/quorum/config-files';
import type { ZooCfg } from '../server/config';

/** The part of a running ZooKeeperServer the CLI uses. */
export interface RunningServer {
  readonly connectString: string;
  readonly clientPort: number;
  /** An ensemble member's role now (leader, follower, observer; standalone; 'looking' between terms). */
  role?(): string;
  close(): Promise<void>;
}

/** Starts a server from options; the default loads src/server's ZooKeeperServer.start. */
export type ServerStarter = (options: ServerOptions) => Promise<RunningServer>;

/** Loads `ZooKeeperServer.start` from the server module, with a clear error when it is not there. */
export function loadServerStarter(): ServerStarter {
  type ServerModule = { ZooKeeperServer?: { start?: (o: ServerOptions) => Promise<RunningServer> } };
  let mod: ServerModule | undefined;
  const problems: string[] = [];
  // The public entry (zookeeper-ts/server) first; the class's own file if the index is not there yet.
  for (const id of ['../server', '../server/zookeeper-server']) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(id) as ServerModule;
      if (typeof mod.ZooKeeperServer?.start === 'function') break;
      problems.push(`${id} does not export ZooKeeperServer.start`);
    } catch (e) {
      problems.push(`${id}: ${(e as Error).message.split('\n')[0]}`);
    }
    mod = undefined;
  }
  if (!mod) throw new Error(`cannot load the server: ${problems.join('; ')}`);
  const cls = mod.ZooKeeperServer!;
  return (options) => cls.start!.call(cls, options);
}

/** Starts one ensemble member (QuorumPeer) from a zoo.cfg with server.N lines. */
export async function startEnsembleMember(cfg: ZooCfg, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { QuorumPeer } = require('../server/quorum/quorum-peer') as typeof import('../server/quorum/quorum-peer');
  const peer = await QuorumPeer.start(toQuorumPeerOptions(cfg, extra));
  return {
    get connectString() {
      return peer.server.connectString;
    },
    get clientPort() {
      return peer.server.clientPort;
    },
    role: () => peer.server.role,
    close: () => peer.close(),
  };
}

export interface ForegroundOptions {
  starter?: ServerStarter;
  log?: (line: string) => void;
  /** Called once the server is closed after a signal; default process.exit. */
  exit?: (code: number) => void;
  /** Install the SIGTERM/SIGINT handlers (default true; embedding tests turn it off). */
  signals?: boolean;
}

/**
 * Runs the server in the foreground: starts it, prints where it listens and
 * installs SIGTERM/SIGINT handlers that close it and exit 0 (1 if close fails).
 * Resolves with the running server once it serves.
 */
export async function runForeground(cfg: ZooCfg, opts: ForegroundOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  for (const w of cfg.warnings) log(`WARN config: ${w}`);
  let srv: RunningServer;
  if (cfg.standalone) {
    const starter = opts.starter ?? loadServerStarter();
    srv = await starter(toServerOptions(cfg, { logger: log }));
    log(`ZooKeeper server (zookeeper-ts) serving on ${srv.connectString} (dataDir ${cfg.dataDir}, pid ${process.pid})`);
  } else {
    srv = await startEnsembleMember(cfg, { logger: log });
    const voters = cfg.servers.filter((s) => s.role === 'participant').length;
    log(
      `ZooKeeper server (zookeeper-ts) ensemble member ${cfg.serverId} (${cfg.peerType}; ${voters} voters, ${cfg.servers.length - voters} observers), ` +
        `client port ${srv.connectString} (dataDir ${cfg.dataDir}, pid ${process.pid})`,
    );
  }
  if (opts.signals !== false) installShutdown(srv, log, exit);
  return srv;
}

/**
 * Signals that arrive within this many ms of the first are the same request:
 * Ctrl-C under `npm start` reaches the server twice, once from the terminal
 * (the whole foreground process group) and once forwarded by npm.
 */
export const REPEATED_SIGNAL_GRACE_MS = 1000;

/** SIGTERM/SIGINT close the server once; another signal later than REPEATED_SIGNAL_GRACE_MS while closing forces exit. */
export function installShutdown(
  srv: RunningServer,
  log: (line: string) => void,
  exit: (code: number) => void,
  now: () => number = Date.now,
): void {
  let closingSince: number | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closingSince !== null) {
      if (now() - closingSince < REPEATED_SIGNAL_GRACE_MS) return;
      log(`${signal} again while shutting down; exiting now`);
      exit(1);
      return;
    }
    closingSince = now();
    log(`${signal} received; shutting down`);
    srv.close().then(
      () => {
        log('server closed');
        exit(0);
      },
      (e: unknown) => {
        log(`error while closing the server: ${(e as Error)?.message ?? e}`);
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * Maps a parsed zoo.cfg to `ZooKeeperServer.start` options (for an ensemble
 * member, its client-facing server's). Like Apache, a zoo.cfg without
 * clientPortAddress listens on every interface (the embedded server's own
 * default is loopback).
 */
export function toServerOptions(cfg: ZooCfg, extra: Partial<ServerOptions> = {}): ServerOptions {
  const sys = cfg.systemProperties;
  const sessionless = sys['zookeeper.nio.sessionlessCnxnTimeout'];
  const containerCheck = sys['znode.container.checkIntervalMs'];
  return {
    dataDir: cfg.dataDir,
    dataLogDir: cfg.dataLogDir,
    clientPort: cfg.clientPort,
    clientPortAddress: cfg.clientPort !== undefined ? (cfg.clientPortAddress ?? '0.0.0.0') : undefined,
    secureClientPort: cfg.secureClientPort,
    secureClientPortAddress: cfg.secureClientPort !== undefined ? (cfg.secureClientPortAddress ?? '0.0.0.0') : undefined,
    ssl: { ...cfg.ssl },
    tickTime: cfg.tickTime,
    minSessionTimeout: cfg.minSessionTimeout,
    maxSessionTimeout: cfg.maxSessionTimeout,
    maxClientCnxns: cfg.maxClientCnxns,
    snapCount: cfg.snapCount,
    snapshotSizeFactor: cfg.snapshotSizeFactor,
    juteMaxBuffer: cfg.juteMaxBuffer,
    globalOutstandingLimit: cfg.globalOutstandingLimit,
    extendedTypesEnabled: cfg.extendedTypesEnabled,
    reconfigEnabled: cfg.reconfigEnabled,
    enforceQuota: cfg.enforceQuota,
    superDigest: cfg.superDigest,
    jaasConfigFile: cfg.jaasConfigFile,
    fourLetterWordWhitelist: cfg.fourLetterWordWhitelist,
    preAllocSize: cfg.preAllocSize,
    forceSync: cfg.forceSync,
    autopurge: cfg.autopurge,
    serverId: cfg.serverId,
    clientPortListenBacklog: cfg.clientPortListenBacklog,
    readOnlyModeEnabled: cfg.readOnlyModeEnabled,
    superUser: sys['zookeeper.superUser'],
    x509SuperUser: sys['zookeeper.X509AuthenticationProvider.superUser'],
    sessionlessCnxnTimeout: sessionless !== undefined && /^\d+$/.test(sessionless.trim()) ? Number(sessionless.trim()) : undefined,
    containerCheckIntervalMs: containerCheck !== undefined && /^\d+$/.test(containerCheck.trim()) ? Number(containerCheck.trim()) : undefined,
    ...extra,
  };
}

/**
 * Maps a zoo.cfg with server.N lines to QuorumPeer options: the servers
 * (the first address of each; multi-address failover is not used), simple
 * majorities, initLimit/syncLimit, myid, and the client-facing server.
 */
export function toQuorumPeerOptions(cfg: ZooCfg, extra: Partial<ServerOptions> = {}): QuorumPeerOptions {
  const servers: QuorumServer[] = cfg.servers.map((s) => ({
    sid: BigInt(s.id),
    host: s.addresses[0].host,
    quorumPort: s.addresses[0].quorumPort,
    electionPort: s.addresses[0].electionPort,
    type: s.role,
    // Apache prints the client address only when the line had one (";port" reads as 0.0.0.0:port).
    clientAddress: s.clientPort !== undefined ? `${s.clientAddress}:${s.clientPort}` : undefined,
  }));
  return {
    myId: BigInt(cfg.serverId),
    verifier: new MajorityQuorum(servers, cfg.configVersion),
    reconfigEnabled: cfg.reconfigEnabled,
    configFile: cfg.configFile,
    // A reconfig proposed before a restart and maybe committed since: NEWLEADER completes it.
    lastSeenVerifier: cfg.reconfigEnabled && cfg.dynamicConfigFile !== undefined && cfg.configFile !== undefined ? readNextConfig(cfg.configFile) : undefined,
    initLimit: cfg.initLimit,
    syncLimit: cfg.syncLimit,
    server: { ...toServerOptions(cfg, extra), dataDir: cfg.dataDir },
    // The peer's own lines (election, roles, "syncing learner ... with DIFF|TRUNC|SNAP") go to the same log.
    logger: extra.logger,
  };
}
