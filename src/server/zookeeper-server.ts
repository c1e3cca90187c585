/**
 * The standalone ZooKeeper server: wires the data tree, the session tracker,
 * the request pipeline, the txn store and the client-port listeners together.
 *
 *   const srv = await ZooKeeperServer.start({ clientPort: 0 });
 *   console.log(srv.connectString); // 127.0.0.1:<port>
 *   await srv.close();
 *
 * Without a dataDir it keeps its log in memory; with one it uses the file
 * store (Apache's on-disk format) and recovers the tree and sessions on start.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { AuthPacket, ConnectRequest, DeleteRequest, GetSASLRequest, SetSASLResponse } from '../proto/generated/proto';
import { ErrorCode, OpCode } from '../proto/constants';
import { Id } from '../proto/generated/data';
import { TxnHeader } from '../proto/generated/txn';
import { DEFAULT_MAX_BUFFER } from '../jute/framer';
import { MemoryTxnStore } from './persist/memory-store';
import { DEFAULT_SNAPSHOT_SIZE_FACTOR, FileTxnStore } from './persist/file-store';
import type { TxnLogStats } from './persist/txn-log-writer';
import type { TxnStore } from './persist/types';
import { ClientConnection, type ConnectionHost } from './net/client-connection';
import { ServerStats, elapsedMs } from './net/server-stats';
import { serverTlsOptions, tlsClientProblem, x509SubjectName, type SslOptions } from './net/tls-options';
import { TxnApplier } from './request/txn-applier';
import { LearnerSessionAuthority, LocalSessionAuthority, NO_SESSION_AUTHORITY, ReadOnlySessionAuthority, type LeaderSessionLink, type SessionAuthority } from './session/session-authority';
import { RequestPipeline, type QueuedRequest, type WriteForwarder } from './request/request-pipeline';
import type { ReconfigContext } from './request/prep-request-processor';
import { LeadershipLostError, NOT_SERVING, type CommitPath } from './request/commit-path';
import type { SnapSyncBody } from './persist/snap-sync';
import type { SnapshotContents, TxnEntry } from './persist/types';
import { ExpiryQueue } from './session/expiry-queue';
import { SessionTracker } from './session/session-tracker';
import { checkPassword, generatePassword } from './session/session-password';
import { DigestMd5Server, type SaslUsers } from './session/sasl-digest-md5';
import { loadJaasUsers } from './session/jaas-config';
import { generateDigest } from './tree/acl-check';
import { CONFIG_ZOOKEEPER, DataTree, SnapshotLoad } from './tree/data-tree';
import { FuzzyTreeSnapshot, SnapshotAbortedError } from './tree/fuzzy-snapshot';
import { makeZxid } from './zxid';
import { ttlOf } from './tree/ephemeral-type';
import * as fourLetter from './net/four-letter-words';

export type { SslOptions } from './net/tls-options';

/**
 * How {@link ZooKeeperServer.start} sets a server up; every field is
 * optional. The names follow zoo.cfg's keys (and the Java system
 * properties where zoo.cfg has none).
 */
export interface ServerOptions {
  /**
   * Where snapshots (and the txn logs, unless dataLogDir) live, in Apache's
   * on-disk format; the tree and sessions are recovered from it on start.
   * Unset: everything is kept in memory and lost at close.
   */
  dataDir?: string;
  /** Where the txn logs live (a disk of their own is Apache's advice); default dataDir. */
  dataLogDir?: string;
  /** 0 = any free port. Omit (with secureClientPort set) for a TLS-only server. */
  clientPort?: number;
  /** Default 127.0.0.1 (an embedded server should not listen on every interface unless asked). */
  clientPortAddress?: string;
  /** A TLS client port (0 = any free port); needs `ssl`. */
  secureClientPort?: number;
  /** The address the TLS port listens on; default clientPortAddress. */
  secureClientPortAddress?: string;
  /** TLS settings for secureClientPort (Apache's ssl.* keys). */
  ssl?: SslOptions;
  /** The basic time unit in ms (default 3000): session timeouts default to [2, 20] ticks, and sessions expire on tick boundaries. */
  tickTime?: number;
  /** Default 2 x tickTime; -1 also means the default (zoo.cfg convention). */
  minSessionTimeout?: number;
  /** Default 20 x tickTime; -1 also means the default. */
  maxSessionTimeout?: number;
  /** Connections per client IP; 0 = unlimited. Default 60. */
  maxClientCnxns?: number;
  /** listen() backlog (clientPortListenBacklog); -1 or unset = the platform default. */
  clientPortListenBacklog?: number;
  /** Txns between snapshots; each roll is randomized to snapCount/2 + random(snapCount/2), like Apache. Default 100000. */
  snapCount?: number;
  /**
   * zookeeper.snapshotSizeFactor (default 0.33): as a leader, sync a learner
   * older than the committed log from the txn log on disk while the log to
   * read is at most this times the newest snapshot's size; < 0: never (SNAP).
   */
  snapshotSizeFactor?: number;
  /** jute.* settings. */
  jute?: {
    /** jute.maxbuffer: the largest request packet accepted, in bytes (default 0xfffff); a larger one closes the connection. */
    maxbuffer?: number;
  };
  /** Same as jute.maxbuffer (config/zoo-cfg.ts's name). */
  juteMaxBuffer?: number;
  /** Requests one connection may have outstanding before its socket stops being read. Default 1000. */
  globalOutstandingLimit?: number;
  /** zookeeper.extendedTypesEnabled: allow TTL nodes (without it a TTL create fails with Unimplemented). Default false. */
  extendedTypesEnabled?: boolean;
  /** zoo.cfg reconfigEnabled: a standalone server answers reconfig with Unimplemented instead of ReconfigDisabled, as Apache 3.8. */
  reconfigEnabled?: boolean;
  /** zookeeper.enforceQuota: writes over a hard /zookeeper/quota limit fail with QuotaExceeded (-125). */
  enforceQuota?: boolean;
  /** zookeeper.DigestAuthenticationProvider.superDigest: "super:<base64 sha1>". */
  superDigest?: string;
  /** zookeeper.superUser: the SASL user that is also a super user. */
  superUser?: string;
  /** zookeeper.X509AuthenticationProvider.superUser: the client certificate DN that is a super user. */
  x509SuperUser?: string;
  /** readonlymode.enabled: accepted; a standalone server is never read-only (Apache ignores it there too). */
  readOnlyModeEnabled?: boolean;
  /** A JAAS file with a `Server { ... DigestLoginModule ... user_<name>="<password>"; }` section. */
  jaasConfigFile?: string;
  /** Four-letter words allowed (Apache's 4lw.commands.whitelist); default only srvr, '*' for all. */
  fourLetterWordWhitelist?: Set<string> | string[] | '*';
  /** How often the container/TTL reaper runs (znode.container.checkIntervalMs). Default 60000. */
  containerCheckIntervalMs?: number;
  /** zookeeper.nio.sessionlessCnxnTimeout: a connection without a session is closed after this idle time. Default 10000. */
  sessionlessCnxnTimeout?: number;
  /** zookeeper.preAllocSize: txn log files grow in steps of this many bytes (default 64 MB, Apache's). */
  preAllocSize?: number;
  /** forceSync (default true): fsync the txn log before a write is acknowledged; false trades durability for speed. */
  forceSync?: boolean;
  /** autopurge.snapRetainCount (at least 3) and autopurge.purgeInterval in hours (0 = off; fractions allowed). */
  autopurge?: {
    /** How many snapshots (and the logs they need) to keep; at least 3. */
    snapRetainCount: number;
    /** Hours between purges; 0 turns the purge off. */
    purgeIntervalHours: number;
  };
  /** The server id (myid); it is the top byte of the session ids the server creates. Default 1. */
  serverId?: number;
  /** Use this store instead of a memory or file store (tests). */
  store?: TxnStore;
  /**
   * The server's one clock (ms since the epoch): txn time (ctime/mtime),
   * session expiry, idle-connection expiry and the container/TTL reaper all
   * read it. Default Date.now; tests inject one to drive time.
   */
  now?: () => number;
  /** Where diagnostics go; default: silent. */
  logger?: (msg: string) => void;
  /**
   * An ensemble member: the server starts without serving clients (4lw
   * answer, handshakes are refused) until its quorum peer gives it a role
   * (serveAsLeader / serveAsLearner). For the quorum peer (bin/zk-server
   * with a zoo.cfg that lists servers), not for embedding.
   */
  ensembleMember?: boolean;
}

/**
 * The owner a leader's own clients' sessions carry (Apache's ServerCnxn.me); learners' are their sids.
 * @internal
 */
export const LEADER_OWNER = 'leader';

/**
 * An ensemble member's part of the four-letter words: its quorum settings, and the leader's learner figures.
 * @internal
 */
export interface QuorumReport {
  conf: NonNullable<fourLetter.FourLetterConf['quorum']>;
  leader?: () => NonNullable<fourLetter.FourLetterMonitor['leader']> | undefined;
}

/**
 * The server's role, as `srvr` reports it: 'standalone' for a server of its
 * own; 'leader', 'follower', 'observer' or 'read-only' for an ensemble
 * member; 'looking' while an ensemble member has no role (it then answers
 * "not currently serving").
 */
export type ServerRole = fourLetter.ServerMode | 'looking';

const DEFAULT_TICK = 3000;
/** The longest a handshake is held while an ensemble member has no role (at most 2 ticks). */
const PARK_MS = 2000;
const DEFAULT_SESSIONLESS_CNXN_TIMEOUT = 10000;

/** Durability counters: the store's group commit and the snapshots taken (for tests, mntr and benchmarks). */
export interface DurabilityStats {
  /** Txn log counters when the store is a file store, with entries per fsync (null for memory stores). */
  log:
    | (TxnLogStats & {
        /** Entries made durable per fsync, on average (the group commit's gain). */
        entriesPerFsync: number;
      })
    | null;
  /** Snapshots written since start. */
  snapshotsTaken: number;
  /** Snapshots that failed to write (the server carries on; the log still holds everything). */
  snapshotsFailed: number;
  /** Snapshots that came due while the previous one was still being written, and were skipped. */
  snapshotsSkipped: number;
  /** The zxid of the newest snapshot written by this process (-1n = none yet). */
  lastSnapshotZxid: bigint;
  /** Purges run (autopurge or purgeNow). */
  purgeRuns: number;
}

/**
 * A ZooKeeper server in this process, speaking Apache ZooKeeper's client
 * protocol (any ZooKeeper client, in any language, can connect): a
 * standalone server with an in-memory or on-disk (Apache's format) txn log
 * and snapshots, TLS, SASL DIGEST-MD5, ACLs, quotas, containers, TTL nodes
 * and the four-letter words. (Ensemble members run it too, driven by the
 * quorum peer of `bin/zk-server`; that part is not a public API.)
 *
 * Start one with {@link ZooKeeperServer.start}; stop it with close().
 * Without a dataDir it keeps its log in memory; with one it uses the file
 * store and recovers the tree and sessions on start.
 *
 * @example
 *   import { ZooKeeperServer } from 'zookeeper-ts/server';
 *   const srv = await ZooKeeperServer.start({ clientPort: 0 });   // any free port
 *   const zk = new ZooKeeper(srv.connectString);
 *   // ...
 *   await zk.close();
 *   await srv.close();
 */
export class ZooKeeperServer implements ConnectionHost {
  /**
   * The znode tree, for inspection (tests, tools). Change it through a
   * client: a change made here directly is not logged, replicated or
   * watched the way a request's is.
   */
  readonly tree: DataTree;
  /** @internal */
  readonly sessions: SessionTracker;
  /** @internal */
  readonly pipeline: RequestPipeline;
  private readonly applier: TxnApplier;
  private sessionAuthority: SessionAuthority;
  private role_: ServerRole;
  /** An ensemble's membership text for /zookeeper/config (QuorumVerifier.toString), set again after every load. */
  private quorumConfig: { text: string; version: bigint } | null = null;
  /**
   * Set by a quorum peer: the leader's zxid counter ran out, its term must end.
   * @internal
   */
  onZxidExhausted?: () => void;
  /** What an ensemble member adds to `conf` and (leading) to `mntr`/`stat`; set by its quorum peer. */
  private quorumReport: QuorumReport | null = null;
  /** The txns recovery read after the newest snapshot (a new leader's committed log starts from them). */
  private recovered: { lastZxid: bigint; txns: TxnEntry[] } = { lastZxid: 0n, txns: [] };
  /** Where txns and snapshots go: the `store` option, a file store for a dataDir, else a MemoryTxnStore. */
  readonly store: TxnStore;
  /** The tick in ms (option tickTime). */
  readonly tickTime: number;
  /** The smallest session timeout granted, in ms (a smaller request is raised to it). */
  readonly minSessionTimeout: number;
  /** The largest session timeout granted, in ms (a larger request is lowered to it). */
  readonly maxSessionTimeout: number;
  /** jute.maxbuffer in bytes: the largest request packet accepted. */
  readonly maxBuffer: number;
  /** Requests one connection may have outstanding before its socket stops being read (globalOutstandingLimit). */
  readonly maxOutstanding: number;
  /** Connections allowed per client IP; 0 = unlimited. */
  readonly maxClientCnxns: number;
  /** Txns between snapshots, on average (each roll is randomized between snapCount/2 and snapCount). */
  readonly snapCount: number;
  /** See ServerOptions.snapshotSizeFactor. */
  readonly snapshotSizeFactor: number;
  /** @internal */
  readonly serverStats = new ServerStats();
  private readonly now: () => number;
  private readonly superDigest?: string;
  private readonly saslUsers: SaslUsers | null;
  private readonly whitelist: Set<string> | '*';
  private readonly log_: (msg: string) => void;
  private readonly sessionlessCnxnTimeout: number;
  /** NIOServerCnxnFactory's cnxnExpiryQueue: idle connections are closed (and `dump` lists them). */
  private readonly cnxnExpiry: ExpiryQueue<ClientConnection>;
  private servers: net.Server[] = [];
  private connections = new Set<ClientConnection>();
  private bySession = new Map<bigint, ClientConnection>();
  private perIp = new Map<string, number>();
  private sasl = new Map<ClientConnection, DigestMd5Server>();
  private expiryTimer: NodeJS.Timeout | null = null;
  private cnxnTimer: NodeJS.Timeout | null = null;
  private reaperTimer: NodeJS.Timeout | null = null;
  private purgeTimer: NodeJS.Timeout | null = null;
  private purging: Promise<void> | null = null;
  private txnsSinceSnapshot = 0;
  private nextSnapshotAt: number;
  private snapshotInFlight: Promise<void> | null = null;
  /** The fuzzy walk of the snapshot being written, so close() can stop it. */
  private snapshotWalk: FuzzyTreeSnapshot | null = null;
  private durability = { snapshotsTaken: 0, snapshotsFailed: 0, snapshotsSkipped: 0, lastSnapshotZxid: -1n, purgeRuns: 0 };
  private closed = false;
  /**
   * Handshakes that arrived while this ensemble member had no role, held
   * until it gets one (or PARK_MS passes): a client that reached us during
   * an election is served as soon as the election ends, instead of being
   * dropped and backing off (Apache drops it).
   */
  private parked = new Map<ClientConnection, { req: ConnectRequest; hasReadOnly: boolean; receivedAt: number; timer: NodeJS.Timeout }>();
  private fatal: unknown = null;
  private readonly startedAt = Date.now();
  /** The plain client port the server listens on (the actual one when 0 was asked for); -1 for none. */
  clientPort = -1;
  /** The TLS client port; -1 for none. */
  secureClientPort = -1;
  private host = '127.0.0.1';

  private constructor(private readonly opts: ServerOptions) {
    this.tickTime = opts.tickTime ?? DEFAULT_TICK;
    this.minSessionTimeout = opts.minSessionTimeout !== undefined && opts.minSessionTimeout > 0 ? opts.minSessionTimeout : 2 * this.tickTime;
    this.maxSessionTimeout = opts.maxSessionTimeout !== undefined && opts.maxSessionTimeout > 0 ? opts.maxSessionTimeout : 20 * this.tickTime;
    this.maxBuffer = opts.jute?.maxbuffer ?? opts.juteMaxBuffer ?? DEFAULT_MAX_BUFFER;
    this.maxOutstanding = opts.globalOutstandingLimit ?? 1000;
    this.maxClientCnxns = opts.maxClientCnxns ?? 60;
    this.snapCount = Math.max(2, opts.snapCount ?? 100000);
    this.snapshotSizeFactor = opts.snapshotSizeFactor ?? DEFAULT_SNAPSHOT_SIZE_FACTOR;
    this.nextSnapshotAt = this.randomSnapRoll();
    this.now = opts.now ?? Date.now;
    this.superDigest = opts.superDigest;
    this.log_ = opts.logger ?? (() => undefined);
    this.sessionlessCnxnTimeout = opts.sessionlessCnxnTimeout ?? DEFAULT_SESSIONLESS_CNXN_TIMEOUT;
    this.cnxnExpiry = new ExpiryQueue(this.sessionlessCnxnTimeout, this.now());
    const wl = opts.fourLetterWordWhitelist;
    this.whitelist = wl === '*' ? '*' : wl instanceof Set ? wl : new Set(wl ?? ['srvr']);
    this.saslUsers = opts.jaasConfigFile ? loadJaasUsers(opts.jaasConfigFile) : null;
    this.tree = new DataTree({ extendedTypesEnabled: opts.extendedTypesEnabled ?? false });
    // Apache's standalone server creates its session ids with server id 1 in the top byte.
    this.sessions = new SessionTracker(this.tickTime, this.now, opts.serverId || 1);
    this.store =
      opts.store ??
      (opts.dataDir
        ? new FileTxnStore({ dataDir: opts.dataDir, dataLogDir: opts.dataLogDir, preAllocSize: opts.preAllocSize, fsync: opts.forceSync })
        : new MemoryTxnStore());
    this.applier = new TxnApplier({
      tree: this.tree,
      sessions: this.sessions,
      defaultSessionTimeout: this.minSessionTimeout,
      onApplied: (h) => this.onCommitted(h),
    });
    this.pipeline = new RequestPipeline({
      tree: this.tree,
      sessions: this.sessions,
      store: this.store,
      extendedTypesEnabled: opts.extendedTypesEnabled ?? false,
      reconfigEnabled: opts.reconfigEnabled,
      enforceQuota: opts.enforceQuota,
      applier: this.applier,
      onFatal: (err) => this.onFatal(err),
      onZxidExhausted: () => this.onZxidExhausted?.(),
      log: (msg) => this.log(msg),
      now: this.now,
    });
    this.sessionAuthority = new LocalSessionAuthority(this.sessions, this.pipeline, (m) => this.log(m));
    this.role_ = opts.ensembleMember ? 'looking' : 'standalone';
    // Between roles an ensemble member commits nothing and expires no session: only its leader may.
    if (opts.ensembleMember) this.enterLooking();
  }

  private enterLooking(): void {
    this.role_ = 'looking';
    this.sessionAuthority = NO_SESSION_AUTHORITY;
    this.pipeline.commitThrough(NOT_SERVING);
    this.pipeline.localOwner = undefined;
    this.pipeline.readOnly = null;
  }

  /**
   * Starts a server: recovers the tree and sessions from the store (dataDir),
   * then opens the client port(s). Resolves once clients can connect.
   * Rejects when the data directory is held by another server
   * (DataDirLockedError), is unreadable or corrupt, the TLS settings are
   * wrong, or a port cannot be bound; nothing is left running then.
   */
  static async start(opts: ServerOptions = {}): Promise<ZooKeeperServer> {
    const srv = new ZooKeeperServer(opts);
    try {
      await srv.recover();
      await srv.listen();
    } catch (e) {
      await srv.close().catch(() => undefined);
      throw e;
    }
    srv.scheduleExpiry();
    srv.scheduleConnectionExpiry();
    srv.scheduleReaper();
    srv.schedulePurge();
    return srv;
  }

  /** `host:port` of the plain client port (of the TLS port when there is no plain one), for a client's connect string. */
  get connectString(): string {
    return `${this.host}:${this.clientPort >= 0 ? this.clientPort : this.secureClientPort}`;
  }

  /** `host:port` of the TLS client port; null without one. */
  get secureConnectString(): string | null {
    return this.secureClientPort >= 0 ? `${this.host}:${this.secureClientPort}` : null;
  }

  /** Writes a line to the logger option (nothing without one). */
  log(msg: string): void {
    this.log_(msg);
  }

  // ---- start-up ----

  /**
   * FileTxnSnapLog.restore + ZooKeeperServer.loadData: the newest snapshot,
   * then the log after it. A snapshot Apache wrote is fuzzy (it may already
   * hold some of the txns replayed after it); the tree tolerates those the
   * way Apache's does (NodeExists/NoNode ignored, parent cversion adjusted).
   */
  private async recover(): Promise<void> {
    this.sessions.clear();
    const state = await this.store.load();
    this.recovered = { lastZxid: state.lastZxid, txns: state.txns };
    if (state.snapshot) {
      this.tree.loadSnapshot(state.snapshot, state.snapshot.zxid);
      for (const [id, timeout] of state.snapshot.sessions) this.sessions.addSession(id, timeout);
    }
    for (const entry of state.txns) this.applier.applyLogged(entry, false);
    if (state.lastZxid > this.tree.lastProcessedZxid) this.tree.lastProcessedZxid = state.lastZxid;
    this.writeConfigNode();
    this.pipeline.resetZxid(this.tree.lastProcessedZxid);
    if (!state.snapshot && state.txns.length === 0) {
      // Apache writes snapshot.0 on first start, before any txn is logged: a dataDir with logs but no snapshot is refused on load.
      await this.store.snapshot(0n, this.tree.snapshotContents(this.sessions.snapshot()));
    }
  }

  // ---- ensemble roles (the quorum peer drives these) ----

  /** What the server is now: 'standalone' unless it is an ensemble member. */
  get role(): ServerRole {
    return this.role_;
  }

  /**
   * The last zxid on disk and the log after the newest snapshot, as the last (re)load read them.
   * @internal
   */
  get recoveredState(): { lastZxid: bigint; txns: readonly TxnEntry[] } {
    return this.recovered;
  }

  /**
   * The ensemble's membership, served in /zookeeper/config as Apache's
   * ZKDatabase.initConfigInZKDatabase writes it (version -1, mzxid = the
   * config's version), now and after every reload.
   * @internal
   */
  setQuorumConfig(text: string, version: bigint): void {
    this.quorumConfig = { text, version };
    this.writeConfigNode();
  }

  private writeConfigNode(): void {
    if (!this.quorumConfig) return;
    this.tree.setData(CONFIG_ZOOKEEPER, Buffer.from(this.quorumConfig.text), -1, this.quorumConfig.version, BigInt(this.now()));
  }

  /**
   * The quorum peer's figures for the four-letter words.
   * @internal
   */
  setQuorumReport(report: QuorumReport): void {
    this.quorumReport = report;
  }

  /**
   * Leader of `epoch`: writes are prepped here and commit through `commit` (a quorum of acks).
   * @internal
   */
  serveAsLeader(commit: CommitPath, epoch: bigint, reconfig: ReconfigContext | null = null): void {
    this.pipeline.commitThrough(commit);
    this.pipeline.prep.reconfig = reconfig;
    this.pipeline.zxidSource.startEpoch(epoch);
    // Leader.startZkServer: the tree's last zxid becomes (epoch, 0), what srvr, mntr and replies show until the first txn.
    const epochStart = makeZxid(epoch, 0n);
    if (this.tree.lastProcessedZxid < epochStart) this.tree.lastProcessedZxid = epochStart;
    this.pipeline.localOwner = LEADER_OWNER;
    this.sessionAuthority = new LocalSessionAuthority(this.sessions, this.pipeline, (m) => this.log(m), LEADER_OWNER);
    // The leader owns every session now: each gets a full timeout from here (Apache's leader re-adds them).
    for (const [id, timeout] of this.sessions.snapshot()) this.sessions.addSession(id, timeout);
    this.role_ = 'leader';
    this.resumeParked();
  }

  /** A role began: the handshakes held during the election go ahead. */
  private resumeParked(): void {
    const held = [...this.parked];
    this.parked.clear();
    for (const [conn, h] of held) {
      clearTimeout(h.timer);
      if (!conn.isClosed) this.handleConnect(conn, h.req, h.hasReadOnly, h.receivedAt);
    }
  }

  /**
   * Follower or observer: writes and session creates go to the leader; commits come back through applyCommitted.
   * @internal
   */
  serveAsLearner(forwarder: WriteForwarder, leader: LeaderSessionLink, observer: boolean): LearnerSessionAuthority {
    this.pipeline.forwardWritesTo(forwarder);
    this.pipeline.prep.reconfig = null;
    const authority = new LearnerSessionAuthority(this.sessions, this.pipeline, leader);
    this.sessionAuthority = authority;
    this.role_ = observer ? 'observer' : 'follower';
    this.resumeParked();
    return authority;
  }

  /**
   * No quorum for a while, and readonlymode.enabled: serve reads to clients
   * that accept a read-only server, with sessions local to this server
   * (Apache's ReadOnlyZooKeeperServer). Ends with stopServing().
   * @internal
   */
  serveReadOnly(): void {
    if (this.role_ !== 'looking') return;
    const authority = new ReadOnlySessionAuthority(this.sessions, () => this.tree.lastProcessedZxid);
    this.sessionAuthority = authority;
    this.pipeline.readOnly = { closeLocally: (id) => authority.close(id) };
    this.role_ = 'read-only';
    this.log('no quorum: serving read-only clients');
    this.resumeParked();
  }

  /**
   * The role ended (leadership or the leader lost): in-flight writes are
   * abandoned and every client connection is closed, as Apache's server
   * does when it goes back to LOOKING; clients reconnect elsewhere.
   * @internal
   */
  stopServing(reason: string): void {
    if (this.role_ === 'looking') return;
    this.log(`not serving any more: ${reason}`);
    this.pipeline.prep.reconfig = null;
    if (this.sessionAuthority instanceof ReadOnlySessionAuthority) this.sessionAuthority.dropAll();
    this.enterLooking();
    this.pipeline.abandonInFlight(new LeadershipLostError(reason));
    for (const c of [...this.connections]) if (!c.isFourLetterWord) c.close();
  }

  /**
   * Closes this server's connection of `sessionId`, if it has one (its session was closed elsewhere).
   * @internal
   */
  closeConnectionOf(sessionId: bigint): void {
    this.bySession.get(sessionId)?.close();
  }

  /**
   * A learner applies a committed txn (and answers its client, or closes the connection of a session the leader closed).
   * @internal
   */
  applyCommitted(entry: TxnEntry): void {
    this.pipeline.applyCommitted(entry);
    if (entry.header.type === OpCode.closeSession) this.closeConnectionOf(entry.header.clientId);
  }

  /**
   * After a term ended, when the tree is known to hold exactly what is on
   * disk up to its last zxid: apply the txns logged after it (proposals
   * that were durable but never committed here), as Apache's
   * fastForwardDataBase does, instead of reading everything again. Sessions
   * left half-closed by abandoned closeSession txns expire again later.
   * @internal
   */
  fastForward(logged: readonly TxnEntry[]): void {
    for (const e of logged) if (e.header.zxid > this.tree.lastProcessedZxid) this.applier.applyLogged(e, false);
    for (const s of this.sessions.sessions.values()) s.closing = false;
    this.pipeline.resetZxid(this.tree.lastProcessedZxid);
  }

  /**
   * Reads the state on disk again (after a role ended, or a TRUNC), replacing the tree and sessions.
   * @internal
   */
  async reload(): Promise<void> {
    if (this.snapshotInFlight) await this.snapshotInFlight;
    await this.recover();
  }

  /**
   * A learner's SNAP: the leader's tree and sessions replace ours (written to disk at NEWLEADER).
   * @internal
   */
  loadSyncSnapshot(body: SnapSyncBody, zxid: bigint): void {
    if (body.built instanceof SnapshotLoad) {
      this.tree.install(body.built, zxid);
      body.built = undefined; // the tree's now
    } else this.tree.loadSnapshot(body, zxid);
    this.sessions.clear();
    for (const [id, timeout] of body.sessions) this.sessions.addSession(id, timeout);
    this.pipeline.resetZxid(zxid);
  }

  /**
   * The tree for a SNAP to a learner, as Apache's LearnerHandler sends it:
   * fuzzy from `zxid` on. The live tree is walked while the stream is
   * written (no copy, no pause on a big tree) and commits go on meanwhile;
   * the learner replays every txn after `zxid` over it, which the leader
   * sends after the snapshot, exactly as a server replays its log over a
   * fuzzy snapshot file (see fuzzy-snapshot.ts for why that is exact).
   * @internal
   */
  captureForSync(): { zxid: bigint; contents: SnapshotContents } {
    const contents = new FuzzyTreeSnapshot(this.tree, this.sessions.snapshot());
    return { zxid: contents.zxid, contents };
  }

  /**
   * Writes a snapshot now and fails if it fails (a learner's sync depends on it, unlike the periodic ones).
   * `received`: the SNAP the tree was loaded from, written as it came (no second serialization).
   * Resolves with which way the file was written.
   * @internal
   */
  async writeSnapshotNow(received?: { zxid: bigint; body: SnapSyncBody }): Promise<'received bytes' | 'tree walk'> {
    if (this.snapshotInFlight) await this.snapshotInFlight;
    let how: 'received bytes' | 'tree walk';
    if (received?.body.rawBody !== undefined && this.tree.lastProcessedZxid === received.zxid) {
      // A learner's SNAP, nothing applied since: the leader's bytes become the file as they are (the
      // tree was loaded from them). Commits applied before NEWLEADER (not logged, as in Apache) need the walk.
      await this.store.snapshot(received.zxid, { ...received.body }, { urgent: true });
      this.noteSnapshotWritten(received.zxid);
      how = 'received bytes';
    } else {
      // The live tree, walked without a copy: a learner calls this mid-sync, when its serial effect
      // queue applies nothing, so the walk sees the tree at `zxid` (exact, with its digest). Were a txn
      // applied meanwhile, the file would still be a valid fuzzy snapshot (the log after `zxid` replays).
      await this.writeWalk(new FuzzyTreeSnapshot(this.tree, this.sessions.snapshot()), true);
      how = 'tree walk';
    }
    this.txnsSinceSnapshot = 0;
    return how;
  }

  /** Writes a fuzzy walk of the tree to the store; close() can stop it meanwhile (see snapshotWalk). */
  private async writeWalk(contents: FuzzyTreeSnapshot, urgent: boolean): Promise<void> {
    this.snapshotWalk = contents;
    try {
      await this.store.snapshot(contents.zxid, contents, { urgent });
    } finally {
      if (this.snapshotWalk === contents) this.snapshotWalk = null;
    }
    this.noteSnapshotWritten(contents.zxid);
  }

  private noteSnapshotWritten(zxid: bigint): void {
    this.durability.snapshotsTaken++;
    this.durability.lastSnapshotZxid = zxid;
  }

  private async listen(): Promise<void> {
    this.host = this.opts.clientPortAddress ?? '127.0.0.1';
    const wantPlain = this.opts.clientPort !== undefined || this.opts.secureClientPort === undefined;
    if (wantPlain) {
      const srv = net.createServer((s) => this.accept(s, false));
      this.clientPort = await this.bind(srv, this.opts.clientPort ?? 0, this.host);
    }
    if (this.opts.secureClientPort !== undefined) {
      const srv = tls.createServer(serverTlsOptions(this.opts.ssl ?? {}), (s) => this.accept(s, true));
      srv.on('tlsClientError', (err) => this.log(`TLS handshake failed: ${err.message}`));
      this.secureClientPort = await this.bind(srv, this.opts.secureClientPort, this.opts.secureClientPortAddress ?? this.host);
    }
  }

  private bind(srv: net.Server, port: number, host: string): Promise<number> {
    this.servers.push(srv);
    const backlog = this.opts.clientPortListenBacklog;
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      const done = (): void => {
        srv.off('error', reject);
        srv.on('error', (e) => this.log(`listener error: ${e.message}`));
        resolve((srv.address() as net.AddressInfo).port);
      };
      if (backlog !== undefined && backlog > 0) srv.listen(port, host, backlog, done);
      else srv.listen(port, host, done);
    });
  }

  // ---- connections ----

  private accept(socket: net.Socket, secure: boolean): void {
    try {
      if (this.closed) {
        socket.destroy();
        return;
      }
      if (secure) {
        const problem = tlsClientProblem(socket as tls.TLSSocket, this.opts.ssl ?? {});
        if (problem !== null) {
          this.log(`refusing TLS client ${socket.remoteAddress}: ${problem}`);
          socket.destroy();
          return;
        }
      }
      const ip = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      const n = this.perIp.get(ip) ?? 0;
      if (this.maxClientCnxns > 0 && n >= this.maxClientCnxns) {
        this.log(`too many connections from ${ip} - max is ${this.maxClientCnxns}`);
        socket.destroy();
        return;
      }
      this.perIp.set(ip, n + 1);
      const conn = new ClientConnection(socket, this, secure);
      (conn as { ipKey?: string }).ipKey = ip;
      this.connections.add(conn);
      this.touchConnection(conn);
      if (secure) this.addX509Identity(conn, socket as tls.TLSSocket);
    } catch (e) {
      this.log(`accept failed: ${(e as Error).message}`);
      socket.destroy();
    }
  }

  /** Apache's X509AuthenticationProvider: a verified client certificate's subject DN becomes an x509 id. */
  private addX509Identity(conn: ClientConnection, socket: tls.TLSSocket): void {
    if (!socket.authorized) return;
    const cert = socket.getPeerCertificate();
    if (!cert || !cert.raw) return;
    let dn: string;
    try {
      dn = x509SubjectName(cert.raw);
    } catch (e) {
      this.log(`cannot read the client certificate's subject: ${(e as Error).message}`);
      return;
    }
    addId(conn.authInfo, new Id({ scheme: 'x509', id: dn }));
    if (this.opts.x509SuperUser !== undefined && this.opts.x509SuperUser === dn) addId(conn.authInfo, new Id({ scheme: 'super', id: dn }));
  }

  /** @internal */
  connectionClosed(conn: ClientConnection): void {
    const held = this.parked.get(conn);
    if (held) {
      clearTimeout(held.timer);
      this.parked.delete(conn);
    }
    if (!this.connections.delete(conn)) return;
    this.cnxnExpiry.remove(conn);
    const ip = (conn as { ipKey?: string }).ipKey ?? conn.remoteAddress;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
    if (this.bySession.get(conn.sessionId) === conn) this.bySession.delete(conn.sessionId);
    this.sasl.delete(conn);
    this.tree.removeWatcherEverywhere(conn);
  }

  /** @internal */
  touchConnection(conn: ClientConnection): void {
    if (conn.isClosed) return;
    this.cnxnExpiry.update(conn, conn.sessionTimeout > 0 ? conn.sessionTimeout : this.sessionlessCnxnTimeout, this.now());
  }

  /** @internal */
  isFourLetterWord(first4: Buffer): string | null {
    return fourLetter.fourLetterWordFromHeader(first4);
  }

  /** @internal */
  fourLetterWord(word: string, _conn: ClientConnection): string | null {
    return fourLetter.runFourLetterWord(word, this.fourLetterContext(), this.whitelist);
  }

  /** @internal */
  handleConnect(conn: ClientConnection, req: ConnectRequest, hasReadOnly: boolean, receivedAt: number = elapsedMs()): void {
    if (this.closed) {
      conn.close();
      return;
    }
    if (this.role_ === 'looking') {
      const timer = setTimeout(() => {
        // Still no role: as Apache ("ZooKeeperServer not running"), the client tries another server.
        this.parked.delete(conn);
        conn.close();
      }, Math.min(PARK_MS, 2 * this.tickTime));
      timer.unref();
      this.parked.set(conn, { req, hasReadOnly, receivedAt, timer });
      return;
    }
    if (this.role_ === 'read-only' && !req.readOnly) {
      // Apache: "Refusing session request for not-read-only client".
      this.log(`refusing session request from a client that does not accept a read-only server (${conn.remoteAddress})`);
      conn.close();
      return;
    }
    const readOnly = this.role_ === 'read-only';
    if (req.lastZxidSeen > this.tree.lastProcessedZxid) {
      // The client has seen a newer state than ours (it was talking to a server ahead of us): refuse, as Apache does.
      this.log(`refusing session request: client lastZxid 0x${req.lastZxidSeen.toString(16)} > server 0x${this.tree.lastProcessedZxid.toString(16)}`);
      conn.close();
      return;
    }
    let timeout = req.timeOut;
    if (timeout < this.minSessionTimeout) timeout = this.minSessionTimeout;
    if (timeout > this.maxSessionTimeout) timeout = this.maxSessionTimeout;
    if (req.sessionId === 0n) {
      this.sessionAuthority
        .create(timeout)
        .then((rc) => {
          const id = rc.id;
          if (conn.isClosed) return;
          this.bySession.set(id, conn);
          conn.finishSessionInit(true, id, timeout, generatePassword(id), readOnly);
          // FinalRequestProcessor counts the createSession request (lop=SESS, cxid 0) like any other.
          const now = elapsedMs();
          conn.stats.updateForResponse(0, rc.zxid, 'SESS', receivedAt, now);
          this.serverStats.latency.add(now - receivedAt);
          this.touchConnection(conn);
        })
        .catch((e) => {
          // The store failed (or prep threw): no session exists, so the handshake must not be left waiting.
          this.log(`createSession failed: ${(e as Error).message}`);
          conn.close();
        });
      return;
    }
    const id = req.sessionId;
    // Any server can check the password (it derives from the id); whether the session lives is the authority's call.
    const revalidated = checkPassword(id, req.passwd) ? this.sessionAuthority.revalidate(id, timeout) : Promise.resolve(false);
    revalidated
      .then((valid) => {
        if (conn.isClosed) return;
        if (valid) {
          // The session moves to this connection; the old one (if still open) is dropped.
          const old = this.bySession.get(id);
          if (old && old !== conn) old.close();
          this.bySession.set(id, conn);
        }
        conn.finishSessionInit(valid, id, timeout, generatePassword(id), readOnly);
        if (valid) this.touchConnection(conn);
      })
      .catch((e) => {
        this.log(`revalidating session 0x${id.toString(16)} failed: ${(e as Error).message}`);
        conn.close();
      });
  }

  /** @internal */
  handleRequest(conn: ClientConnection, req: QueuedRequest): void {
    // Apache's touch() in submitRequest: a request of a closing or expired session is dropped unanswered.
    if (!this.sessionAuthority.touch(conn.sessionId)) {
      this.log(`dropping request xid ${req.xid} type ${req.type} of closing or expired session 0x${conn.sessionId.toString(16)}`);
      return;
    }
    // Unknown opcodes are queued too: the pipeline answers them UNIMPLEMENTED in session order and,
    // unlike Apache, keeps the connection open (a product decision; see RequestPipeline.answerRead).
    conn.queue.push(req);
    this.pipeline.pump(conn);
  }

  /** @internal */
  handleAuth(conn: ClientConnection, xid: number, packet: AuthPacket): void {
    this.sessionAuthority.touch(conn.sessionId);
    let ok = false;
    const auth = packet.auth ?? Buffer.alloc(0);
    if (packet.scheme === 'digest') {
      const digest = generateDigest(auth.toString('utf8'));
      if (this.superDigest !== undefined && digest === this.superDigest) addId(conn.authInfo, new Id({ scheme: 'super', id: '' }));
      addId(conn.authInfo, new Id({ scheme: 'digest', id: digest }));
      ok = true;
    } else if (packet.scheme === 'ip') {
      addId(conn.authInfo, new Id({ scheme: 'ip', id: conn.remoteAddress }));
      ok = true;
    }
    if (ok) {
      conn.sendResponse(xid, 0n, ErrorCode.OK, null);
      return;
    }
    // Unknown scheme (or sasl/x509 through addAuth): AuthFailed, then Apache closes the connection.
    this.serverStats.authFailedCount++;
    conn.sendResponse(xid, 0n, ErrorCode.AUTHFAILED, null);
    conn.closeSoon();
  }

  /** @internal */
  handleSasl(conn: ClientConnection, xid: number, req: GetSASLRequest): void {
    this.sessionAuthority.touch(conn.sessionId);
    if (!this.saslUsers) {
      this.serverStats.authFailedCount++;
      conn.sendResponse(xid, 0n, ErrorCode.AUTHFAILED, new SetSASLResponse({ token: null }));
      conn.closeSoon();
      return;
    }
    let server = this.sasl.get(conn);
    if (!server) this.sasl.set(conn, (server = new DigestMd5Server(this.saslUsers)));
    try {
      const token = server.evaluateResponse(req.token ?? Buffer.alloc(0));
      if (server.isComplete) {
        const authz = server.authorizationId!;
        addId(conn.authInfo, new Id({ scheme: 'sasl', id: authz }));
        // SaslServerCallbackHandler: the user named by zookeeper.superUser is also a super user.
        if (this.opts.superUser !== undefined && this.opts.superUser === authz) addId(conn.authInfo, new Id({ scheme: 'super', id: '' }));
      }
      conn.sendResponse(xid, 0n, ErrorCode.OK, new SetSASLResponse({ token }));
    } catch (e) {
      this.log(`SASL authentication failed: ${(e as Error).message}`);
      this.serverStats.authFailedCount++;
      conn.sendResponse(xid, 0n, ErrorCode.AUTHFAILED, new SetSASLResponse({ token: null }));
      conn.closeSoon();
    }
  }

  // ---- sessions and idle connections ----

  private scheduleExpiry(): void {
    if (this.closed) return;
    const delay = Math.max(1, this.sessions.nextExpirationTime - this.now());
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      this.expireSessions();
      this.scheduleExpiry();
    }, Math.min(delay, this.tickTime));
    this.expiryTimer.unref();
  }

  /**
   * Expires every session whose bucket is due at `now` (ms, the server's
   * clock) and returns their ids; the server runs this every tick by itself,
   * tests with an injected clock (option `now`) call it to drive expiry.
   */
  expireSessions(now: number = this.now()): bigint[] {
    return this.sessionAuthority.expireDue(now, (id) => this.bySession.get(id)?.close());
  }

  private scheduleConnectionExpiry(): void {
    if (this.closed) return;
    const delay = Math.max(1, this.cnxnExpiry.nextExpirationTime - this.now());
    this.cnxnTimer = setTimeout(() => {
      this.cnxnTimer = null;
      for (const conn of this.cnxnExpiry.poll(this.now())) {
        this.log(`closing idle connection from ${conn.remoteAddress}:${conn.remotePort} (session 0x${conn.sessionId.toString(16)})`);
        conn.close();
      }
      this.scheduleConnectionExpiry();
    }, delay);
    this.cnxnTimer.unref();
  }

  // ---- containers and TTL nodes ----

  private scheduleReaper(): void {
    const interval = this.opts.containerCheckIntervalMs ?? 60000;
    this.reaperTimer = setInterval(() => this.reapContainers(), interval);
    this.reaperTimer.unref();
  }

  /**
   * Deletes the empty containers (that once had children) and the expired
   * TTL nodes, as Apache's ContainerManager does every
   * containerCheckIntervalMs; returns the paths it asked to delete. Only a
   * standalone server or a leader reaps; tests call it to skip the wait.
   */
  reapContainers(now: number = this.now()): string[] {
    // Only the leader (or a standalone server) reaps: its deletes are txns everyone applies.
    if (this.closed || (this.role_ !== 'standalone' && this.role_ !== 'leader')) return [];
    const candidates: string[] = [];
    for (const path of this.tree.containers) {
      const node = this.tree.getNode(path);
      if (node && node.children.size === 0 && node.stat.cversion > 0) candidates.push(path);
    }
    for (const path of this.tree.ttls) {
      const node = this.tree.getNode(path);
      if (!node || node.children.size > 0) continue;
      const ttl = ttlOf(node.stat.ephemeralOwner);
      if (ttl !== 0n && BigInt(now) - node.stat.mtime > ttl) candidates.push(path);
    }
    for (const path of candidates) {
      // Apache's ContainerManager submits these as session 0, cxid 0 requests.
      const record = new DeleteRequest({ path, version: -1 });
      this.pipeline.submitInternal({ sessionId: 0n, cxid: 0, type: OpCode.deleteContainer, record, authInfo: [] }).catch(() => undefined);
    }
    return candidates;
  }

  // ---- snapshots and purge ----

  /** SyncRequestProcessor: the next snapshot comes after snapCount/2 + random(snapCount/2) txns, so ensemble members do not snapshot in step. */
  private randomSnapRoll(): number {
    const half = Math.floor(this.snapCount / 2);
    return half + Math.floor(Math.random() * Math.max(1, half));
  }

  private onCommitted(_h: TxnHeader): void {
    if (++this.txnsSinceSnapshot < this.nextSnapshotAt) return;
    this.txnsSinceSnapshot = 0;
    this.nextSnapshotAt = this.randomSnapRoll();
    if (this.snapshotInFlight) {
      // SyncRequestProcessor: "Too busy to snap, skipping". The count starts over like Apache's, so a slow
      // disk does not get a full-tree copy and another snapshot the moment the previous one lands.
      this.durability.snapshotsSkipped++;
      this.log(`too busy to snapshot at 0x${this.tree.lastProcessedZxid.toString(16)}, skipping`);
      return;
    }
    void this.takeSnapshot();
  }

  /**
   * Writes a fuzzy snapshot named after lastProcessedZxid (Z0), as Apache
   * does: no copy of the tree is taken; the live tree is walked and written
   * in time slices while appends, txns and replies carry on between them
   * (src/server/tree/fuzzy-snapshot.ts). Sessions are copied at Z0, and the
   * log replayed from Z0 + 1 over the file gives the tree back exactly. The
   * file carries the zxid digest only when no txn was applied during the walk.
   */
  takeSnapshot(): Promise<void> {
    if (this.snapshotInFlight) return this.snapshotInFlight;
    const started = Date.now();
    const contents = new FuzzyTreeSnapshot(this.tree, this.sessions.snapshot());
    const zxid = contents.zxid;
    // Apache logs every snapshot at INFO ("Snapshotting: 0x.. to .."): a stalled one is otherwise invisible.
    this.log(`snapshotting at 0x${zxid.toString(16)} (${this.tree.nodeCount} nodes, ${contents.sessions.size} sessions)`);
    const p = this.writeWalk(contents, false)
      .then(
        () => {
          const s = contents.stats;
          const fuzzy = contents.fuzzy.exact() ? 'exact, with digest' : `fuzzy to 0x${(s.endZxid ?? zxid).toString(16)}, no digest`;
          this.log(`snapshot at 0x${zxid.toString(16)} written in ${Date.now() - started} ms (${s.written} nodes, ${fuzzy})`);
        },
        (e) => {
          if (e instanceof SnapshotAbortedError) {
            this.log(`snapshot at 0x${zxid.toString(16)} abandoned: ${e.message}`);
            return;
          }
          this.durability.snapshotsFailed++;
          this.log(`snapshot at 0x${zxid.toString(16)} failed: ${(e as Error).message}`);
        },
      )
      .finally(() => {
        this.snapshotInFlight = null;
      });
    this.snapshotInFlight = p;
    return p;
  }

  /**
   * DatadirCleanupManager: purges once at start-up and then every
   * purgeInterval hours, keeping snapRetainCount (at least 3) snapshots.
   */
  private schedulePurge(): void {
    const ap = this.opts.autopurge;
    if (!ap || !(ap.purgeIntervalHours > 0)) return;
    void this.purgeNow();
    this.purgeTimer = setInterval(() => void this.purgeNow(), Math.max(1, Math.round(ap.purgeIntervalHours * 3600_000)));
    this.purgeTimer.unref();
  }

  /**
   * Runs one purge now: deletes old snapshots and logs, keeping the newest
   * `retain` snapshots (at least 3; default autopurge.snapRetainCount, else
   * 3) and the logs they need. One at a time: a call during a purge gets
   * that purge's promise. A failure is logged, never thrown.
   */
  purgeNow(retain: number = this.opts.autopurge?.snapRetainCount ?? 3): Promise<void> {
    if (this.purging) return this.purging;
    if (this.closed) return Promise.resolve();
    const p = this.store
      .purge(Math.max(3, retain))
      .then(() => {
        this.durability.purgeRuns++;
      })
      .catch((e) => this.log(`purge failed: ${(e as Error).message}`))
      .finally(() => {
        this.purging = null;
      });
    this.purging = p;
    return p;
  }

  /** Group-commit and snapshot counters (what mntr's fsync and snapshot lines come from). */
  durabilityStats(): DurabilityStats {
    const withStats = this.store as TxnStore & { stats?: () => TxnLogStats & { entriesPerFsync: number } };
    return { log: typeof withStats.stats === 'function' ? withStats.stats() : null, ...this.durability };
  }

  private onFatal(err: unknown): void {
    this.fatal = err;
    this.log(`txn log failure, shutting down: ${(err as Error)?.message ?? err}`);
    void this.close();
  }

  // ---- shutdown ----

  /**
   * Graceful stop: no new connections, in-flight txns finish (fsynced),
   * sockets closed, store closed. Sessions stay in the store: a server
   * restarted on the same dataDir recovers them. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.expiryTimer, this.cnxnTimer, this.reaperTimer, this.purgeTimer]) if (t) clearTimeout(t);
    const closing = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    // Settles when in-flight txns are applied, or at once when the store failed (their replies are abandoned).
    await this.pipeline.idle();
    for (const c of [...this.connections]) c.close();
    await Promise.all(closing);
    // A snapshot being written is given up (its temp file removed): the log holds everything it would.
    this.snapshotWalk?.fuzzy.abort('server closing');
    if (this.snapshotInFlight) await this.snapshotInFlight;
    if (this.purging) await this.purging;
    await this.store.close();
  }

  // ---- four-letter words ----

  /** @internal */
  fourLetterContext(): fourLetter.FourLetterContext {
    const conns = (): ClientConnection[] => [...this.connections];
    const outstanding = (): number => conns().reduce((n, c) => n + c.queue.length, 0);
    return {
      version: fourLetter.SERVER_VERSION,
      isServing: () => !this.closed && this.role_ !== 'looking',
      mode: () => (this.role_ === 'looking' ? 'standalone' : this.role_),
      stats: () => ({
        minLatency: this.serverStats.latency.minOrZero,
        avgLatency: this.serverStats.latency.average,
        maxLatency: this.serverStats.latency.max,
        packetsReceived: this.serverStats.packetsReceived,
        packetsSent: this.serverStats.packetsSent,
        outstandingRequests: outstanding(),
        // Apache counts every open client-port connection, the one asking included.
        aliveConnections: this.connections.size,
        lastProcessedZxid: this.tree.lastProcessedZxid,
        nodeCount: this.tree.nodeCount,
      }),
      monitor: () => ({
        ephemeralsCount: [...this.tree.ephemerals.values()].reduce((n, s) => n + s.size, 0),
        approximateDataSize: this.tree.approximateDataSize(),
        watchCount: this.tree.dataWatches.size + this.tree.childWatches.size,
        globalSessions: this.sessions.sessions.size,
        localSessions: 0,
        authFailedCount: this.serverStats.authFailedCount,
        lastClientResponseSize: this.serverStats.lastClientResponseSize,
        minClientResponseSize: this.serverStats.minClientResponseSize,
        maxClientResponseSize: this.serverStats.maxClientResponseSize,
        uptimeMs: Date.now() - this.startedAt,
        ...fileDescriptorCounts(),
        extra: this.mntrExtra(),
        leader: this.role_ === 'leader' ? this.quorumReport?.leader?.() : undefined,
      }),
      connections: () =>
        conns().map((c) => ({
          remoteAddress: c.remoteAddress,
          remotePort: c.remotePort,
          // The 4lw connection is not selecting for reads while its word runs (Apache prints [0]).
          interestOps: c.isFourLetterWord || c.readingPaused ? 0 : 1,
          outstandingRequests: c.queue.length,
          packetsReceived: c.stats.packetsReceived,
          packetsSent: c.stats.packetsSent,
          sessionId: c.sessionId,
          lastOperation: c.stats.lastOp,
          established: c.established,
          sessionTimeout: c.sessionTimeout,
          lastCxid: c.stats.lastCxid,
          lastZxid: c.stats.lastZxid,
          lastResponseTime: c.stats.lastResponseTime,
          lastLatency: c.stats.lastLatency,
          minLatency: c.stats.latency.minOrZero,
          avgLatency: c.stats.latency.integerAverage,
          maxLatency: c.stats.latency.max,
        })),
      dataWatchesBySession: () => {
        const out = new Map<bigint, string[]>();
        for (const [w, paths] of this.tree.dataWatches.byWatcherMap()) {
          const id = (w as ClientConnection).sessionId ?? 0n;
          out.set(id, [...(out.get(id) ?? []), ...paths]);
        }
        return out;
      },
      conf: () => ({
        clientPort: this.clientPort,
        secureClientPort: this.secureClientPort,
        dataDir: this.opts.dataDir ? path.join(this.opts.dataDir, 'version-2') : '',
        dataLogDir: this.opts.dataLogDir || this.opts.dataDir ? path.join(this.opts.dataLogDir ?? this.opts.dataDir!, 'version-2') : '',
        tickTime: this.tickTime,
        maxClientCnxns: this.maxClientCnxns,
        minSessionTimeout: this.minSessionTimeout,
        maxSessionTimeout: this.maxSessionTimeout,
        clientPortListenBacklog: this.opts.clientPortListenBacklog ?? -1,
        serverId: this.opts.serverId ?? 0,
        quorum: this.quorumReport?.conf,
      }),
      dirSizes: () => ({
        dataDir: this.opts.dataDir ? dirSize(path.join(this.opts.dataDir, 'version-2')) : 0,
        logDir: this.opts.dataLogDir || this.opts.dataDir ? dirSize(path.join(this.opts.dataLogDir ?? this.opts.dataDir!, 'version-2')) : 0,
      }),
      environment: () => fourLetter.defaultEnvironment(),
      sessionExpiry: () => this.sessions.expiryBuckets(),
      ephemerals: () => new Map([...this.tree.ephemerals].map(([id, s]) => [id, [...s]])),
      connectionExpiry: () =>
        this.cnxnExpiry.buckets().map((b) => ({
          expiresAt: b.expiresAt,
          items: b.items.map((c) => ({ remoteAddress: c.remoteAddress, remotePort: c.remotePort, sessionId: c.sessionId })),
        })),
      resetConnectionStats: () => {
        for (const c of this.connections) c.stats.reset();
      },
      resetServerStats: () => this.serverStats.reset(),
    };
  }

  /** mntr lines beyond the core set: Apache's fsync and sync-processor summaries, from the txn log's counters. */
  private mntrExtra(): Array<[string, number | string]> {
    const log = this.durabilityStats().log;
    if (!log) return [];
    const fsyncs = log.fsyncs;
    return [
      ...fourLetter.summaryMetrics('fsynctime', {
        count: fsyncs,
        sum: Math.round(log.fsyncTimeTotalMs),
        min: Math.round(log.fsyncTimeMinMs),
        max: Math.round(log.fsyncTimeMaxMs),
      }),
      ...fourLetter.summaryMetrics('sync_processor_batch_size', {
        count: log.batches,
        sum: log.entries,
        min: log.batches > 0 ? 1 : 0,
        max: log.maxBatchEntries,
      }),
      ['snap_count', this.durability.snapshotsTaken],
    ];
  }

  /** Client connections currently open (four-letter-word connections included while they last). */
  get connectionCount(): number {
    return this.connections.size;
  }
}

function addId(list: Id[], id: Id): void {
  if (!list.some((x) => x.scheme === id.scheme && x.id === id.id)) list.push(id);
}

/** Bytes under a directory, recursively (ZooKeeperServer.getDirSize); 0 when it is missing. */
function dirSize(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    try {
      total += e.isDirectory() ? dirSize(p) : fs.statSync(p).size;
    } catch {
      // Removed meanwhile (a purge): not part of the size.
    }
  }
  return total;
}

/** Open and maximum file descriptors, as Apache's mntr prints them on Unix (omitted where /proc is missing). */
function fileDescriptorCounts(): { openFileDescriptorCount?: number; maxFileDescriptorCount?: number } {
  try {
    const open = fs.readdirSync('/proc/self/fd').length;
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    const max = m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
    return { openFileDescriptorCount: open, maxFileDescriptorCount: max };
  } catch {
    return {};
  }
}
