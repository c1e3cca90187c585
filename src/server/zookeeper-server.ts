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
import * as tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { AuthPacket, ConnectRequest, DeleteRequest, ErrorCode, GetSASLRequest, Id, OpCode, SetSASLResponse, TxnHeader } from '../proto';
import { DEFAULT_MAX_BUFFER } from '../jute';
import { MemoryTxnStore } from './persist/memory-store';
import type { TxnStore } from './persist/types';
import { ClientConnection, type ConnectionHost } from './net/client-connection';
import { RequestPipeline, type QueuedRequest } from './request/request-pipeline';
import { isValidOp } from './request/request-records';
import { SessionTracker } from './session/session-tracker';
import { checkPassword, generatePassword } from './session/session-password';
import { DigestMd5Server, type SaslUsers } from './session/sasl-digest-md5';
import { loadJaasUsers } from './session/jaas-config';
import { generateDigest } from './tree/acl-check';
import { DataTree, decodeTxnBody } from './tree/data-tree';
import { ttlOf } from './tree/ephemeral-type';
import * as fourLetter from './net/four-letter-words';

/** TLS settings, in the vocabulary of Apache's ssl.* keys. */
export interface SslOptions {
  keyStoreLocation?: string;
  keyStorePassword?: string;
  /** 'PEM' | 'PKCS12' (guessed from the extension when unset; JKS is not supported). */
  keyStoreType?: string;
  trustStoreLocation?: string;
  trustStorePassword?: string;
  trustStoreType?: string;
  /** 'need' (default, as Apache), 'want' or 'none'. */
  clientAuth?: 'need' | 'want' | 'none';
  enabledProtocols?: string[];
  ciphersuites?: string[];
}

export interface ServerOptions {
  dataDir?: string;
  dataLogDir?: string;
  /** 0 = any free port. Omit (with secureClientPort set) for a TLS-only server. */
  clientPort?: number;
  /** Default 127.0.0.1 (an embedded server should not listen on every interface unless asked). */
  clientPortAddress?: string;
  secureClientPort?: number;
  secureClientPortAddress?: string;
  ssl?: SslOptions;
  tickTime?: number;
  /** Default 2 x tickTime; -1 also means the default (zoo.cfg convention). */
  minSessionTimeout?: number;
  /** Default 20 x tickTime; -1 also means the default. */
  maxSessionTimeout?: number;
  /** Connections per client IP; 0 = unlimited. Default 60. */
  maxClientCnxns?: number;
  /** Txns between snapshots (Apache randomizes the first at snapCount/2..snapCount). Default 100000. */
  snapCount?: number;
  jute?: { maxbuffer?: number };
  /** Same as jute.maxbuffer (config.ts's name). */
  juteMaxBuffer?: number;
  /** Requests one connection may have outstanding before its socket stops being read. Default 1000. */
  globalOutstandingLimit?: number;
  extendedTypesEnabled?: boolean;
  /** zookeeper.DigestAuthenticationProvider.superDigest: "super:<base64 sha1>". */
  superDigest?: string;
  /** A JAAS file with a `Server { ... DigestLoginModule ... user_<name>="<password>"; }` section. */
  jaasConfigFile?: string;
  /** Four-letter words allowed (Apache's 4lw.commands.whitelist); default only srvr, '*' for all. */
  fourLetterWordWhitelist?: Set<string> | string[] | '*';
  /** How often the container/TTL reaper runs (znode.container.checkIntervalMs). Default 60000. */
  containerCheckIntervalMs?: number;
  preAllocSize?: number;
  forceSync?: boolean;
  autopurge?: { snapRetainCount: number; purgeIntervalHours: number };
  serverId?: number;
  /** Use this store instead of a memory or file store (tests). */
  store?: TxnStore;
  /** Injected clock for session expiry (tests). */
  now?: () => number;
  /** Where diagnostics go; default: silent. */
  logger?: (msg: string) => void;
}

const DEFAULT_TICK = 3000;

interface FileStoreModule {
  FileTxnStore: new (opts: { dataDir: string; dataLogDir?: string; preAllocSize?: number; fsync?: boolean }) => TxnStore;
}

function loadFileStore(opts: ServerOptions): TxnStore {
  // Resolved at run time so the server works before (and without) the file store being present.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require('./persist/file-store') as FileStoreModule;
  return new mod.FileTxnStore({ dataDir: opts.dataDir!, dataLogDir: opts.dataLogDir, preAllocSize: opts.preAllocSize, fsync: opts.forceSync });
}

export class ZooKeeperServer implements ConnectionHost {
  readonly tree: DataTree;
  readonly sessions: SessionTracker;
  readonly pipeline: RequestPipeline;
  readonly store: TxnStore;
  readonly tickTime: number;
  readonly minSessionTimeout: number;
  readonly maxSessionTimeout: number;
  readonly maxBuffer: number;
  readonly maxOutstanding: number;
  readonly maxClientCnxns: number;
  readonly snapCount: number;
  private readonly now: () => number;
  private readonly superDigest?: string;
  private readonly saslUsers: SaslUsers | null;
  private readonly whitelist: Set<string> | '*';
  private readonly log_: (msg: string) => void;
  private servers: net.Server[] = [];
  private connections = new Set<ClientConnection>();
  private bySession = new Map<bigint, ClientConnection>();
  private perIp = new Map<string, number>();
  private sasl = new Map<ClientConnection, DigestMd5Server>();
  private expiryTimer: NodeJS.Timeout | null = null;
  private reaperTimer: NodeJS.Timeout | null = null;
  private purgeTimer: NodeJS.Timeout | null = null;
  private txnsSinceSnapshot = 0;
  private nextSnapshotAt: number;
  private snapshotInFlight: Promise<void> | null = null;
  private closed = false;
  private fatal: unknown = null;
  private readonly startedAt = Date.now();
  private authFailedCount = 0;
  private latency = { min: Number.MAX_SAFE_INTEGER, max: 0, total: 0, count: 0 };
  clientPort = -1;
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
    // Apache randomizes the first roll so that ensemble members do not all snapshot at once.
    this.nextSnapshotAt = Math.floor(this.snapCount / 2) + Math.floor(Math.random() * (this.snapCount / 2));
    this.now = opts.now ?? Date.now;
    this.superDigest = opts.superDigest;
    this.log_ = opts.logger ?? (() => undefined);
    const wl = opts.fourLetterWordWhitelist;
    this.whitelist = wl === '*' ? '*' : wl instanceof Set ? wl : new Set(wl ?? ['srvr']);
    this.saslUsers = opts.jaasConfigFile ? loadJaasUsers(opts.jaasConfigFile) : null;
    this.tree = new DataTree({ extendedTypesEnabled: opts.extendedTypesEnabled ?? false });
    // Apache's standalone server creates its session ids with server id 1 in the top byte.
    this.sessions = new SessionTracker(this.tickTime, this.now, opts.serverId || 1);
    this.store = opts.store ?? (opts.dataDir ? loadFileStore(opts) : new MemoryTxnStore());
    this.pipeline = new RequestPipeline({
      tree: this.tree,
      sessions: this.sessions,
      store: this.store,
      extendedTypesEnabled: opts.extendedTypesEnabled ?? false,
      onCommitted: (h) => this.onCommitted(h),
      onFatal: (err) => this.onFatal(err),
    });
  }

  /** Starts a server: recovers from the store, then opens the client port(s). */
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
    srv.scheduleReaper();
    srv.schedulePurge();
    return srv;
  }

  get connectString(): string {
    return `${this.host}:${this.clientPort >= 0 ? this.clientPort : this.secureClientPort}`;
  }

  get secureConnectString(): string | null {
    return this.secureClientPort >= 0 ? `${this.host}:${this.secureClientPort}` : null;
  }

  log(msg: string): void {
    this.log_(msg);
  }

  // ---- start-up ----

  private async recover(): Promise<void> {
    const state = await this.store.load();
    if (state.snapshot) {
      this.tree.loadSnapshot(state.snapshot, state.snapshot.zxid);
      for (const [id, timeout] of state.snapshot.sessions) this.sessions.addSession(id, timeout);
    }
    for (const entry of state.txns) {
      const h = entry.header;
      if (h.type === OpCode.createSession) {
        const body = decodeTxnBody(h.type, entry.body) as { timeOut: number } | null;
        this.sessions.addSession(h.clientId, body?.timeOut ?? this.minSessionTimeout);
      } else if (h.type === OpCode.closeSession) {
        this.sessions.removeSession(h.clientId);
      }
      // A fuzzy (Apache) snapshot may already hold some of these; the tree tolerates NodeExists/NoNode as Apache does.
      this.tree.applyTxn(h, entry.body);
    }
    if (state.lastZxid > this.tree.lastProcessedZxid) this.tree.lastProcessedZxid = state.lastZxid;
    this.pipeline.resetZxid(this.tree.lastProcessedZxid);
    if (!state.snapshot && state.txns.length === 0) {
      // Apache writes snapshot.0 on first start; a dataDir with logs but no snapshot is refused on load.
      await this.store.snapshot(0n, this.tree.snapshotContents(this.sessions.snapshot()));
    }
  }

  private async listen(): Promise<void> {
    this.host = this.opts.clientPortAddress ?? '127.0.0.1';
    const wantPlain = this.opts.clientPort !== undefined || this.opts.secureClientPort === undefined;
    if (wantPlain) {
      const srv = net.createServer((s) => this.accept(s, false));
      this.clientPort = await this.bind(srv, this.opts.clientPort ?? 0, this.host);
    }
    if (this.opts.secureClientPort !== undefined) {
      const srv = tls.createServer(this.tlsOptions(), (s) => this.accept(s, true));
      srv.on('tlsClientError', (err) => this.log(`TLS handshake failed: ${err.message}`));
      this.secureClientPort = await this.bind(srv, this.opts.secureClientPort, this.opts.secureClientPortAddress ?? this.host);
    }
  }

  private bind(srv: net.Server, port: number, host: string): Promise<number> {
    this.servers.push(srv);
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.off('error', reject);
        srv.on('error', (e) => this.log(`listener error: ${e.message}`));
        resolve((srv.address() as net.AddressInfo).port);
      });
    });
  }

  private tlsOptions(): tls.TlsOptions {
    const ssl = this.opts.ssl ?? {};
    const out: tls.TlsOptions = {};
    const storeType = (loc: string, type?: string): string => {
      if (type) return type.toUpperCase();
      return /\.(p12|pfx|pkcs12)$/i.test(loc) ? 'PKCS12' : /\.jks$/i.test(loc) ? 'JKS' : 'PEM';
    };
    if (ssl.keyStoreLocation) {
      const t = storeType(ssl.keyStoreLocation, ssl.keyStoreType);
      const data = fs.readFileSync(ssl.keyStoreLocation);
      if (t === 'PKCS12') {
        out.pfx = data;
        out.passphrase = ssl.keyStorePassword;
      } else if (t === 'PEM') {
        // Apache's PEM keystore: the private key and its certificate chain in one file.
        out.key = data;
        out.cert = data;
        if (ssl.keyStorePassword) out.passphrase = ssl.keyStorePassword;
      } else {
        throw new Error(`ssl.keyStore.type ${t} is not supported (use PEM or PKCS12)`);
      }
    }
    if (ssl.trustStoreLocation) {
      const t = storeType(ssl.trustStoreLocation, ssl.trustStoreType);
      if (t === 'PEM') out.ca = fs.readFileSync(ssl.trustStoreLocation);
      else if (t === 'PKCS12') out.ca = pkcs12Certificates(ssl.trustStoreLocation, ssl.trustStorePassword ?? '');
      else throw new Error(`ssl.trustStore.type ${t} is not supported (use PEM or PKCS12)`);
    }
    const clientAuth = ssl.clientAuth ?? 'need';
    out.requestCert = clientAuth !== 'none';
    out.rejectUnauthorized = clientAuth === 'need';
    if (ssl.enabledProtocols?.length) {
      const sorted = [...ssl.enabledProtocols].sort();
      out.minVersion = sorted[0] as tls.SecureVersion;
      out.maxVersion = sorted[sorted.length - 1] as tls.SecureVersion;
    }
    if (ssl.ciphersuites?.length) out.ciphers = ssl.ciphersuites.join(':');
    return out;
  }

  // ---- connections ----

  private accept(socket: net.Socket, secure: boolean): void {
    try {
      if (this.closed) {
        socket.destroy();
        return;
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
      if (secure) {
        const cert = (socket as tls.TLSSocket).getPeerCertificate?.();
        // Apache's X509AuthenticationProvider gives a client certificate's subject DN as an x509 id.
        if (cert && cert.subject) conn.authInfo.push(new Id({ scheme: 'x509', id: x509Name(cert.subject) }));
      }
    } catch (e) {
      this.log(`accept failed: ${(e as Error).message}`);
      socket.destroy();
    }
  }

  connectionClosed(conn: ClientConnection): void {
    if (!this.connections.delete(conn)) return;
    const ip = (conn as { ipKey?: string }).ipKey ?? conn.remoteAddress;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
    if (this.bySession.get(conn.sessionId) === conn) this.bySession.delete(conn.sessionId);
    this.sasl.delete(conn);
    this.tree.removeWatcherEverywhere(conn);
  }

  isFourLetterWord(first4: Buffer): string | null {
    return fourLetter.fourLetterWordFromHeader(first4);
  }

  fourLetterWord(word: string, _conn: ClientConnection): string | null {
    return fourLetter.runFourLetterWord(word, this.fourLetterContext(), this.whitelist);
  }

  handleConnect(conn: ClientConnection, req: ConnectRequest): void {
    if (this.closed) {
      conn.close();
      return;
    }
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
      const id = this.sessions.newSessionId();
      this.pipeline
        .submitInternal({ sessionId: id, cxid: 0, type: OpCode.createSession, record: null, authInfo: [], timeout })
        .then(() => {
          if (conn.isClosed) return;
          this.bySession.set(id, conn);
          conn.finishSessionInit(true, id, timeout, generatePassword(id));
        })
        .catch((e) => this.log(`createSession failed: ${(e as Error).message}`));
      return;
    }
    const id = req.sessionId;
    const valid = checkPassword(id, req.passwd) && this.sessions.touchSession(id, timeout);
    if (valid) {
      // The session moves to this connection; the old one (if still open) is dropped.
      const old = this.bySession.get(id);
      if (old && old !== conn) old.close();
      this.bySession.set(id, conn);
    }
    conn.finishSessionInit(valid, id, timeout, generatePassword(id));
  }

  handleRequest(conn: ClientConnection, req: QueuedRequest): void {
    this.sessions.touchSession(conn.sessionId);
    if (!isValidOp(req.type)) {
      // Apache's UnimplementedRequestProcessor answers UNIMPLEMENTED with zxid -1 and then closes the
      // connection; we keep the connection (a client probing for a newer opcode can carry on).
      conn.sendResponse(req.xid, -1n, ErrorCode.UNIMPLEMENTED, null);
      return;
    }
    conn.queue.push(req);
    this.pipeline.pump(conn);
  }

  handleAuth(conn: ClientConnection, xid: number, packet: AuthPacket): void {
    this.sessions.touchSession(conn.sessionId);
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
    // Unknown scheme (or sasl through addAuth): AuthFailed, then Apache closes the connection.
    this.authFailedCount++;
    conn.sendResponse(xid, 0n, ErrorCode.AUTHFAILED, null);
    conn.closeSoon();
  }

  handleSasl(conn: ClientConnection, xid: number, req: GetSASLRequest): void {
    this.sessions.touchSession(conn.sessionId);
    if (!this.saslUsers) {
      this.authFailedCount++;
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
        if (process.env['zookeeper.superUser'] === authz) addId(conn.authInfo, new Id({ scheme: 'super', id: '' }));
      }
      conn.sendResponse(xid, 0n, ErrorCode.OK, new SetSASLResponse({ token }));
    } catch (e) {
      this.log(`SASL authentication failed: ${(e as Error).message}`);
      this.authFailedCount++;
      conn.sendResponse(xid, 0n, ErrorCode.AUTHFAILED, new SetSASLResponse({ token: null }));
      conn.closeSoon();
    }
  }

  // ---- sessions ----

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

  /** Expires every session whose bucket is due (public so tests with an injected clock can drive it). */
  expireSessions(now: number = this.now()): bigint[] {
    const due = this.sessions.expireDue(now);
    for (const s of due) {
      this.log(`expiring session 0x${s.id.toString(16)}, timeout of ${s.timeout}ms exceeded`);
      this.closeSessionTxn(s.id);
    }
    return due.map((s) => s.id);
  }

  private closeSessionTxn(id: bigint): void {
    this.pipeline
      .submitInternal({ sessionId: id, cxid: 0, type: OpCode.closeSession, record: null, authInfo: [] })
      .then(() => {
        const conn = this.bySession.get(id);
        if (conn) conn.close();
      })
      .catch(() => undefined);
  }

  // ---- containers and TTL nodes ----

  private scheduleReaper(): void {
    const interval = this.opts.containerCheckIntervalMs ?? 60000;
    this.reaperTimer = setInterval(() => this.reapContainers(), interval);
    this.reaperTimer.unref();
  }

  /** ContainerManager.getCandidates + deleteContainer txns. Returns the paths it asked to delete. */
  reapContainers(now: number = Date.now()): string[] {
    if (this.closed) return [];
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

  private onCommitted(_h: TxnHeader): void {
    if (++this.txnsSinceSnapshot < this.nextSnapshotAt) return;
    if (this.snapshotInFlight) return;
    this.txnsSinceSnapshot = 0;
    this.nextSnapshotAt = Math.floor(this.snapCount / 2) + Math.floor(Math.random() * (this.snapCount / 2));
    this.takeSnapshot();
  }

  /** Writes a snapshot of the tree as it is now, in the background. */
  takeSnapshot(): Promise<void> {
    if (this.snapshotInFlight) return this.snapshotInFlight;
    const zxid = this.tree.lastProcessedZxid;
    const contents = this.tree.snapshotContents(this.sessions.snapshot());
    const p = this.store
      .snapshot(zxid, contents)
      .catch((e) => this.log(`snapshot at 0x${zxid.toString(16)} failed: ${(e as Error).message}`))
      .finally(() => {
        this.snapshotInFlight = null;
      });
    this.snapshotInFlight = p;
    return p;
  }

  private schedulePurge(): void {
    const ap = this.opts.autopurge;
    if (!ap || ap.purgeIntervalHours <= 0) return;
    this.purgeTimer = setInterval(() => {
      this.store.purge(Math.max(3, ap.snapRetainCount)).catch((e) => this.log(`purge failed: ${(e as Error).message}`));
    }, ap.purgeIntervalHours * 3600_000);
    this.purgeTimer.unref();
  }

  private onFatal(err: unknown): void {
    this.fatal = err;
    this.log(`txn log failure, shutting down: ${(err as Error)?.message ?? err}`);
    void this.close();
  }

  // ---- shutdown ----

  /** Graceful stop: no new connections, in-flight txns finish (fsynced), sockets closed, store closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.expiryTimer, this.reaperTimer, this.purgeTimer]) if (t) clearTimeout(t);
    const closing = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    if (!this.fatal) await this.pipeline.idle();
    for (const c of [...this.connections]) c.close();
    await Promise.all(closing);
    if (this.snapshotInFlight) await this.snapshotInFlight;
    await this.store.close();
  }

  // ---- four-letter words ----

  fourLetterContext(): fourLetter.FourLetterContext {
    const avg = this.latency.count ? this.latency.total / this.latency.count : 0;
    const conns = [...this.connections];
    return {
      version: fourLetter.SERVER_VERSION,
      isServing: () => !this.closed,
      mode: () => 'standalone',
      stats: () => ({
        minLatency: this.latency.count ? this.latency.min : 0,
        avgLatency: avg,
        maxLatency: this.latency.max,
        packetsReceived: conns.reduce((n, c) => n + c.stats.packetsReceived, 0),
        packetsSent: conns.reduce((n, c) => n + c.stats.packetsSent, 0),
        outstandingRequests: conns.reduce((n, c) => n + c.queue.length, 0),
        aliveConnections: this.connections.size + 1,
        lastProcessedZxid: this.tree.lastProcessedZxid,
        nodeCount: this.tree.nodeCount,
      }),
      monitor: () => ({
        ephemeralsCount: [...this.tree.ephemerals.values()].reduce((n, s) => n + s.size, 0),
        approximateDataSize: this.tree.approximateDataSize(),
        watchCount: this.tree.dataWatches.size + this.tree.childWatches.size,
        globalSessions: this.sessions.sessions.size,
        localSessions: 0,
        authFailedCount: this.authFailedCount,
        lastClientResponseSize: -1,
        minClientResponseSize: -1,
        maxClientResponseSize: -1,
        uptimeMs: Date.now() - this.startedAt,
      }),
      connections: () =>
        conns.map((c) => ({
          remoteAddress: c.remoteAddress,
          remotePort: c.remotePort,
          interestOps: c.readingPaused ? 0 : 1,
          outstandingRequests: c.queue.length,
          packetsReceived: c.stats.packetsReceived,
          packetsSent: c.stats.packetsSent,
          sessionId: c.sessionId,
          lastOperation: 'NA',
          established: c.established,
          sessionTimeout: c.sessionTimeout,
          lastCxid: c.stats.lastCxid,
          lastZxid: c.stats.lastZxid,
          lastResponseTime: c.stats.lastResponseTime,
          lastLatency: 0,
          minLatency: 0,
          avgLatency: 0,
          maxLatency: 0,
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
        dataDir: this.opts.dataDir ? `${this.opts.dataDir}/version-2` : '',
        dataLogDir: this.opts.dataLogDir || this.opts.dataDir ? `${this.opts.dataLogDir ?? this.opts.dataDir}/version-2` : '',
        tickTime: this.tickTime,
        maxClientCnxns: this.maxClientCnxns,
        minSessionTimeout: this.minSessionTimeout,
        maxSessionTimeout: this.maxSessionTimeout,
        clientPortListenBacklog: -1,
        serverId: this.opts.serverId ?? 0,
      }),
      dirSizes: () => ({ dataDir: 0, logDir: 0 }),
      environment: () => fourLetter.defaultEnvironment(),
      sessionExpiry: () => {
        const buckets = new Map<number, bigint[]>();
        for (const id of this.sessions.sessions.keys()) {
          const at = this.sessions.expiryOf(id);
          if (at === undefined) continue;
          buckets.set(at, [...(buckets.get(at) ?? []), id]);
        }
        return [...buckets].sort((a, b) => a[0] - b[0]).map(([expiresAt, items]) => ({ expiresAt, items }));
      },
      ephemerals: () => new Map([...this.tree.ephemerals].map(([id, s]) => [id, [...s]])),
      connectionExpiry: () => [],
      resetConnectionStats: () => {
        for (const c of this.connections) c.stats = { packetsReceived: 0, packetsSent: 0, lastCxid: -1, lastZxid: -1n, lastOp: 'NA', lastResponseTime: 0 };
      },
      resetServerStats: () => {
        this.latency = { min: Number.MAX_SAFE_INTEGER, max: 0, total: 0, count: 0 };
      },
    };
  }

  /** Connections currently open (for tests and 4lw). */
  get connectionCount(): number {
    return this.connections.size;
  }
}

function addId(list: Id[], id: Id): void {
  if (!list.some((x) => x.scheme === id.scheme && x.id === id.id)) list.push(id);
}

/** The CA/trusted certificates of a PKCS12 truststore as PEM (Node cannot read key-less PKCS12 itself). */
function pkcs12Certificates(file: string, password: string): Buffer {
  return execFileSync('openssl', ['pkcs12', '-in', file, '-nokeys', '-passin', `pass:${password}`], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function x509Name(subject: tls.PeerCertificate['subject']): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject)) parts.push(`${k}=${Array.isArray(v) ? v.join('+') : v}`);
  return parts.reverse().join(',');
}
