/**
 * The wire side of a session: one socket at a time, the handshake, framing,
 * the FIFO of requests awaiting replies, pings, timeouts, and failover
 * across the ensemble. The ZooKeeper handle (zookeeper.ts) owns one
 * Connection and gives it a SessionHandler to decode replies and to hear
 * about events and state changes.
 *
 * Session rules (the Java client's ClientCnxn):
 *  - ConnectRequest asks for `sessionTimeout`; the server answers with the
 *    negotiated timeout T (<= 0: the session expired). readTimeout = 2T/3:
 *    nothing heard for that long drops the connection; a ping goes out when
 *    nothing was sent for readTimeout/2 (at most every 10 s).
 *  - Connect timeout per attempt (TCP + TLS + handshake): T / hosts, or
 *    sessionTimeout / hosts before the first handshake.
 *  - Hosts are shuffled once and tried round-robin; after a whole failed
 *    pass the next pass waits a growing back-off (host-provider.ts).
 *  - A reconnect sends the session id, password and the last zxid seen,
 *    then (after SASL, when configured) the auth packets again, then the
 *    watches (SetWatches, or SetWatches2 when persistent watches exist,
 *    each packet's paths adding up to at most 128 KB), then the requests
 *    that waited for the connection.
 *  - A drop fails every sent request with ConnectionLoss. Requests not yet
 *    sent wait for the next connection, at most `connectTimeout`.
 *  - Nobody reachable: every `connectTimeout` without a connection the
 *    handle reports an error (error event, connected() rejects, waiting
 *    requests fail with ConnectionLoss) and keeps trying; disconnected
 *    longer than the negotiated session timeout, the session is declared
 *    expired locally (as Curator does), since the ensemble has expired it.
 *  - Anything malformed from the server (bad frame, oversized frame, reply
 *    for an unexpected xid, undecodable body) drops the connection like a
 *    network error: pending requests get ConnectionLoss, then reconnect.
 *    Nothing thrown while handling input escapes the socket callbacks.
 *  - Read-only mode (canBeReadOnly, ClientCnxn.pingRwServer): while
 *    connected to a read-only server, ask the other hosts `isro` one at a
 *    time on a separate short-lived socket, waiting 100 ms before the first
 *    probe and doubling the wait after each up to 60 s. The first that
 *    answers `rw` wins: the read-only connection is dropped like a network
 *    failure (Disconnected, sent requests get ConnectionLoss) and the next
 *    attempt goes to that server. The session goes along only if a r/w
 *    server has seen it before; a session born on a read-only server is
 *    local to it, so the r/w server is asked for a new one (Java sends
 *    session id 0 unless seenRwServerBefore).
 *  - requestTimeout > 0 (zookeeper.request.timeout): a request without a
 *    reply that long after it was issued fails with RequestTimeout, and, if
 *    it had been sent, the connection is dropped as Java's submitRequest
 *    does (cleanAndNotifyState): the other sent requests get
 *    ConnectionLoss, Disconnected is raised, and the client reconnects.
 *    A request still waiting for a connection only fails itself.
 */
import * as net from 'net';
import * as tls from 'tls';
// Codec and records from their defining modules, not the index files: their
// `export *` re-exports compile to getters, paid on every use in the hot path.
import { FrameDecoder } from '../jute/framer';
import { JuteReader } from '../jute/reader';
import type { Record } from '../jute/record';
import { JuteWriter } from '../jute/writer';
import { ErrorCode, KeeperState, OpCode, PROTOCOL_VERSION, Xid } from '../proto/constants';
import {
  AuthPacket,
  GetSASLRequest,
  SetWatches,
  SetWatches2,
  WatcherEvent,
} from '../proto/generated/proto';
import type { HostAddress } from './connect-string';
import { AuthFailedError, ConnectionLossError, KeeperError, MarshallingError, PayloadTooLargeError, RequestTimeoutError, SessionExpiredError } from './errors';
import { Fifo } from './fifo';
import { askFourLetterWord, FourLetterWordProbe } from './four-letter-word';
import { HostProvider } from './host-provider';
import { DigestMd5Client } from './sasl/digest-md5';
import { Watcher, WatchKind, WatchManager } from './watch-manager';

/** One request on its way: what to send, and how to settle its promise. */
export class Request {
  xid = 0;
  resolve!: (value: any) => void;
  reject!: (err: any) => void;
  /** Settle at once even if events are queued (issued from inside a handler; see event-queue.ts). */
  bypass = false;
  /** The watcher the reply registers (see operations.ts), with its kind. */
  watcher: Watcher | null = null;
  watchKind: WatchKind = WatchKind.Data;
  /** Free slot for the operation (multi ops, removal args...). */
  extra: unknown = null;
  /** Date.now() after which the request fails with RequestTimeout; 0 = never (requestTimeout off). */
  deadline = 0;

  constructor(
    /** The opcode. */
    readonly type: number,
    /** The request body, or null when there is none (whoAmI, closeSession). */
    public record: Record | null,
    /** The client path, for errors. */
    readonly path: string | undefined,
    /** The server path (chroot added), for watch registration. */
    readonly serverPath: string | undefined,
    /** How the reply decodes (operations.ts); opaque to the connection. */
    readonly op: unknown = null,
  ) {}
}

/** What the connection needs from its handle. */
export interface SessionHandler {
  /** Decodes a reply and settles the request (throwing on an undecodable body). */
  complete(req: Request, err: number, r: JuteReader): void;
  /** Settles a request with an error, in event order. */
  fail(req: Request, err: KeeperError): void;
  /** A watch event from the server (server path). */
  onWatchEvent(ev: WatcherEvent): void;
  /** A state change; `cause` explains Disconnected/Expired/AuthFailed. */
  onState(state: KeeperState, cause?: Error): void;
  /** Nobody was reachable within connectTimeout. */
  onUnreachable(err: KeeperError): void;
}

export interface AuthInfo {
  scheme: string;
  auth: Buffer;
  /** addAuthInfo() promises waiting for this packet's reply. */
  waiters: { resolve: () => void; reject: (e: Error) => void }[];
}

/** SASL credentials for the ZooKeeper option `sasl` (the server needs a JAAS `Server` section with this user). */
export interface SaslOptions {
  /** The SASL mechanism; only DIGEST-MD5. */
  mechanism: 'DIGEST-MD5';
  /** The user name, as in the server's `user_<name>` JAAS entry. */
  username: string;
  /** The user's password. */
  password: string;
  /** SASL service (default "zookeeper"). */
  service?: string;
  /** Server name in digest-uri (default "zk-sasl-md5", what Apache's client uses). */
  host?: string;
}

export interface ConnectionOptions {
  sessionTimeout: number;
  connectTimeout: number;
  canBeReadOnly: boolean;
  sessionId: bigint;
  sessionPassword: Buffer | null;
  maxBufferSize: number;
  tls: tls.ConnectionOptions | null;
  sasl: SaslOptions | null;
  localSessionExpiry: boolean;
  /** Fail a request after this many ms without a reply and reconnect; 0 = never. */
  requestTimeout: number;
  /** Wait before the first `isro` probe while read-only (Java: 100 ms); doubles after each probe. */
  rwProbeMinInterval: number;
  /** Cap of the probe wait (Java: 60 s). */
  rwProbeMaxInterval: number;
}

/** Java's pingRwServer: 100 ms, doubling up to 60 s. */
export const RW_PROBE_MIN_INTERVAL = 100;
export const RW_PROBE_MAX_INTERVAL = 60_000;
/** How long one `isro` probe may take (Java's probe socket has a 1 s read timeout). */
const RW_PROBE_TIMEOUT = 1000;

/** The wire's limit on the paths of one SetWatches packet (ClientCnxn.SET_WATCHES_MAX_LENGTH). */
export const SET_WATCHES_MAX_BYTES = 128 * 1024;

/** Headroom over jute.maxbuffer for reply headers and Stat, like the server's extraMaxBufferSize. */
const FRAME_HEADROOM = 1024;
/**
 * With this many requests awaiting replies, batched requests go out on the
 * next timer tick (~1 ms) instead of at the end of the current one. A deep
 * pipeline otherwise splits into many small waves that bounce between
 * client and server, each costing a write syscall (the largest single cost
 * in CPU profiles of pipelined getData/setData); waiting for the replies of
 * the next reads to add their follow-up requests cuts writes about 5x. The
 * extra millisecond is small next to the queueing delay of hundreds of
 * requests in flight, and a shallow pipeline or a lone call is not delayed.
 */
const COALESCE_WHEN_PENDING = 256;
/** Settled once; flushes are scheduled as reactions on it. */
const RESOLVED = Promise.resolve();

/** The Java client pings at least this often whatever the timeout. */
const MAX_PING_INTERVAL = 10_000;

// A ping is always the same 12 bytes: length 8, xid -2, type 11.
const PING_FRAME = (() => {
  const w = new JuteWriter(12);
  w.beginFrame().writeInt(Xid.ping).writeInt(OpCode.ping).endFrame();
  return w.toBuffer();
})();

type Phase = 'connecting' | 'handshake' | 'connected' | 'dead';

export class Connection {
  readonly hosts: HostProvider;
  sessionId: bigint;
  sessionPassword: Buffer;
  negotiatedTimeout = 0;
  lastZxid = 0n;
  readOnly = false;
  /** Host of the current (or last) connection. */
  currentHost: HostAddress | null = null;

  private phase: Phase = 'connecting';
  private socket: net.Socket | null = null;
  private decoder: FrameDecoder;
  private readonly maxFrame: number;
  private readonly pending = new Fifo<Request>(256);
  private readonly outgoing = new Fifo<Request>(16);
  private readonly authReplies = new Fifo<AuthInfo | null>(4);
  private out = new JuteWriter(16 * 1024);
  private flushScheduled = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private xid = 1;
  private seenRwServer = false;
  private sasl: DigestMd5Client | null = null;
  private saslInProgress = false;
  private lastRecv = 0;
  private lastSend = 0;
  private readTimeout = 0;
  private pingInterval = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private attemptTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private windowTimer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private lastError: Error | null = null;
  private closeWaiter: (() => void) | null = null;
  private readonly flushBound = () => this.flush();
  private readonly tickBound = () => this.tick();
  // Request timeout: one timer for the oldest request's deadline.
  private requestTimer: NodeJS.Timeout | null = null;
  private readonly requestTimerBound = () => this.onRequestTimer();
  // Looking for a read/write server while on a read-only one.
  private rwProbeInterval: number;
  private lastRwProbe = 0;
  private rwProbeTimer: NodeJS.Timeout | null = null;
  private rwProbe: FourLetterWordProbe | null = null;
  private rwProbeCursor = -1;
  /** A read/write server a probe found: the next connection attempt goes there. */
  private rwServer: HostAddress | null = null;

  constructor(
    hosts: HostProvider,
    private readonly opts: ConnectionOptions,
    private readonly handler: SessionHandler,
    private readonly watches: WatchManager,
    private readonly authInfo: AuthInfo[],
  ) {
    this.hosts = hosts;
    this.sessionId = opts.sessionId;
    this.sessionPassword = opts.sessionPassword ?? Buffer.alloc(16);
    // A handle given an existing session re-attaches to it like a reconnect.
    this.seenRwServer = opts.sessionId !== 0n;
    this.maxFrame = opts.maxBufferSize + FRAME_HEADROOM;
    this.decoder = new FrameDecoder(this.maxFrame);
    this.rwProbeInterval = opts.rwProbeMinInterval;
  }

  get isAlive(): boolean {
    return this.phase !== 'dead';
  }

  /** True once the handshake (and SASL) is done and requests flow. */
  get isReady(): boolean {
    return this.phase === 'connected' && !this.saslInProgress;
  }

  start(): void {
    this.armWindow();
    this.connectNext();
  }

  // ---- requests ---------------------------------------------------------

  /** Sends a request now, or queues it until the connection is ready. */
  submit(req: Request): void {
    if (this.phase === 'dead') {
      this.handler.fail(req, this.deadError(req.path));
      return;
    }
    if (this.opts.requestTimeout > 0) {
      req.deadline = Date.now() + this.opts.requestTimeout;
      if (this.requestTimer === null) this.armRequestTimer(req.deadline);
    }
    if (this.phase === 'connected' && !this.saslInProgress) {
      this.write(req);
      return;
    }
    // Not sent yet: refuse an oversized request now rather than after the next handshake.
    const size = this.packetSize(req);
    if (size > this.opts.maxBufferSize) {
      this.handler.fail(req, new PayloadTooLargeError(size, this.opts.maxBufferSize, req.path));
      return;
    }
    this.outgoing.push(req);
  }

  /** The size of a request's packet after its length prefix (0 when it cannot be encoded: write() reports that). */
  private packetSize(req: Request): number {
    const w = new JuteWriter(256);
    try {
      w.writeInt(0).writeInt(req.type);
      if (req.record !== null) req.record.serialize(w);
    } catch {
      return 0;
    }
    return w.length;
  }

  /** Queues an auth packet (addAuthInfo) on a ready connection. */
  sendAuth(info: AuthInfo): void {
    if (!this.isReady) return; // sent with the others after the next handshake
    this.writeAuth(info);
  }

  private write(req: Request): void {
    const w = this.out;
    const start = w.length;
    req.xid = this.nextXid();
    try {
      w.beginFrame();
      w.writeInt(req.xid);
      w.writeInt(req.type);
      if (req.record !== null) req.record.serialize(w);
      w.endFrame();
    } catch (err) {
      this.unwrite(start);
      this.handler.fail(req, new MarshallingError(`cannot encode request: ${(err as Error).message}`, req.path, { cause: err }));
      return;
    }
    const size = w.length - start - 4;
    if (size > this.opts.maxBufferSize) {
      // The server would refuse the packet and drop the connection (and every
      // request on it): refuse it here, with the limit in the message.
      this.unwrite(start);
      this.handler.fail(req, new PayloadTooLargeError(size, this.opts.maxBufferSize, req.path));
      return;
    }
    this.pending.push(req);
    this.scheduleFlush();
  }

  /** Drops what was written after `start` (a frame that must not go out), keeping the frames batched before it. */
  private unwrite(start: number): void {
    const w = this.out;
    const keep = Buffer.from(w.view().subarray(0, start));
    w.reset();
    w.writeRaw(keep);
  }

  private writeAuth(info: AuthInfo): void {
    this.out.beginFrame();
    this.out.writeInt(Xid.auth);
    this.out.writeInt(OpCode.auth);
    new AuthPacket({ type: 0, scheme: info.scheme, auth: info.auth }).serialize(this.out);
    this.out.endFrame();
    this.authReplies.push(info);
    this.scheduleFlush();
  }

  private writeSpecial(xid: number, type: number, record: Record): void {
    this.out.beginFrame();
    this.out.writeInt(xid);
    this.out.writeInt(type);
    record.serialize(this.out);
    this.out.endFrame();
    this.scheduleFlush();
  }

  private nextXid(): number {
    const x = this.xid;
    this.xid = x >= 0x7fffffff ? 1 : x + 1;
    return x;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (this.pending.length >= COALESCE_WHEN_PENDING) {
      // One Timeout, re-armed: a new one per flush (and clearing it after it
      // fired) cost ~5% of the CPU of deep pipelines in timer bookkeeping.
      if (this.flushTimer === null) this.flushTimer = setTimeout(this.flushBound, 0);
      else this.flushTimer.refresh();
    } else {
      // Not queueMicrotask: Node wraps each callback in a new AsyncResource
      // (seen in profiles of sequential calls, one flush per call); a reaction
      // on a settled promise runs at the same point for a fraction of the cost.
      RESOLVED.then(this.flushBound);
    }
  }

  /** Writes everything batched in this tick (or, under deep pipelining, this timer tick) with one socket write. */
  private flush(): void {
    this.flushScheduled = false;
    // A flush runs either from its timer (which has fired and is kept for
    // re-arming) or from a promise reaction (no timer armed): nothing to cancel.
    const w = this.out;
    if (w.length === 0 || this.socket === null) {
      w.reset();
      return;
    }
    this.socket.write(w.toBuffer());
    // Do not keep a huge buffer around after one big request.
    if (w.length > 1 << 20) this.out = new JuteWriter(16 * 1024);
    else w.reset();
    this.lastSend = Date.now();
  }

  // ---- connecting -------------------------------------------------------

  private connectNext(): void {
    if (this.phase === 'dead') return;
    this.phase = 'connecting';
    const rw = this.rwServer;
    if (rw !== null) {
      // A probe found this server read/write: go there now, outside the round-robin.
      this.rwServer = null;
      this.dial(rw);
      return;
    }
    const { host, delay } = this.hosts.next();
    if (delay > 0) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.dial(host);
      }, delay);
    } else {
      this.dial(host);
    }
  }

  private dial(host: HostAddress): void {
    if (this.phase === 'dead') return;
    this.currentHost = host;
    const perHost = Math.max(1, Math.floor((this.negotiatedTimeout > 0 ? this.negotiatedTimeout : this.opts.sessionTimeout) / this.hosts.size));
    let sock: net.Socket;
    try {
      if (this.opts.tls) {
        const servername = this.opts.tls.servername ?? (net.isIP(host.host) ? undefined : host.host);
        sock = tls.connect({ ...this.opts.tls, host: host.host, port: host.port, servername });
      } else {
        sock = net.connect({ host: host.host, port: host.port });
      }
    } catch (err) {
      this.lastError = err as Error;
      this.hosts.onFailure();
      setImmediate(() => this.connectNext());
      return;
    }
    this.socket = sock;
    sock.setNoDelay(true);
    this.attemptTimer = setTimeout(() => {
      this.attemptTimer = null;
      this.drop(sock, new Error(`connect to ${host.host}:${host.port} timed out after ${perHost} ms`));
    }, perHost);
    sock.once(this.opts.tls ? 'secureConnect' : 'connect', () => this.onOpen(sock));
    sock.on('data', (chunk: Buffer) => this.onData(sock, chunk));
    sock.on('error', (err) => this.drop(sock, err));
    sock.on('close', () => this.drop(sock, new Error('connection closed by the server')));
  }

  private onOpen(sock: net.Socket): void {
    if (sock !== this.socket) return;
    this.phase = 'handshake';
    this.decoder.reset();
    const w = new JuteWriter(64);
    w.beginFrame();
    w.writeInt(PROTOCOL_VERSION);
    w.writeLong(this.lastZxid);
    w.writeInt(this.opts.sessionTimeout);
    w.writeLong(this.seenRwServer ? this.sessionId : 0n);
    w.writeBuffer(this.seenRwServer ? this.sessionPassword : Buffer.alloc(16));
    w.writeBool(this.opts.canBeReadOnly);
    w.endFrame();
    sock.write(w.toBuffer());
    this.lastSend = Date.now();
  }

  private onData(sock: net.Socket, chunk: Buffer): void {
    if (sock !== this.socket) return;
    this.lastRecv = Date.now();
    try {
      if (this.phase === 'connected' && this.decoder.pending === 0) {
        // Hot path: read the replies where they lie in the chunk (no per-frame
        // Buffer view, no frame array). Whatever is left, a partial frame or
        // a length to refuse, goes to the decoder, which keeps or rejects it.
        const n = chunk.length;
        let pos = 0;
        while (n - pos >= 4) {
          const len = chunk.readInt32BE(pos);
          if (len < 0 || len > this.maxFrame || n - pos - 4 < len) break;
          this.onFrame(new JuteReader(chunk, pos + 4, pos + 4 + len));
          pos += 4 + len;
          if (sock !== this.socket) return; // that frame ended the connection
        }
        if (pos === n) return;
        if (pos > 0) chunk = chunk.subarray(pos);
      }
      const frames = this.decoder.push(chunk);
      for (let i = 0; i < frames.length; i++) {
        if (sock !== this.socket) return; // a frame before this one ended the connection
        if (this.phase === 'handshake') this.onHandshake(frames[i]);
        else this.onFrame(new JuteReader(frames[i]));
      }
    } catch (err) {
      this.drop(sock, err as Error);
    }
  }

  private onHandshake(frame: Buffer): void {
    if (frame.length === 16) {
      // Not a ConnectResponse but a ReplyHeader{xid, zxid, err}: a read-only
      // Apache server refusing a global session (it only grants local ones,
      // with localSessionsEnabled=true) answers NOTREADONLY this way.
      const err = frame.readInt32BE(12);
      throw KeeperError.create(err, undefined, `server refused the session: ${KeeperError.codeName(err)}` +
        (err === ErrorCode.NOTREADONLY ? ' (a read-only server grants only local sessions: localSessionsEnabled=true)' : ''));
    }
    const r = new JuteReader(frame);
    r.readInt(); // protocolVersion
    const timeOut = r.readInt();
    const sessionId = r.readLong();
    const passwd = r.readBuffer();
    // 3.4-era servers omit readOnly: accept both shapes.
    const readOnly = r.remaining > 0 ? r.readBool() : false;
    if (timeOut <= 0) {
      this.die('expired', new SessionExpiredError(`session 0x${this.sessionId.toString(16)} expired (the server refused to re-attach it)`));
      return;
    }
    if (this.attemptTimer) clearTimeout(this.attemptTimer);
    this.attemptTimer = null;
    this.clearDisconnectTimers();
    this.hosts.onConnected();
    this.lastError = null;
    this.negotiatedTimeout = timeOut;
    this.readTimeout = Math.floor((timeOut * 2) / 3);
    this.pingInterval = Math.min(Math.floor(this.readTimeout / 2), MAX_PING_INTERVAL);
    this.sessionId = sessionId;
    this.sessionPassword = passwd ?? Buffer.alloc(16);
    this.readOnly = readOnly;
    if (!readOnly) this.seenRwServer = true;
    this.phase = 'connected';
    this.armTick();
    if (readOnly && this.opts.canBeReadOnly) this.armRwProbe();
    else if (!readOnly) this.rwProbeInterval = this.opts.rwProbeMinInterval;
    this.handler.onState(readOnly ? KeeperState.ConnectedReadOnly : KeeperState.SyncConnected);
    if (this.opts.sasl) {
      this.saslInProgress = true;
      this.sasl = new DigestMd5Client({
        username: this.opts.sasl.username,
        password: this.opts.sasl.password,
        service: this.opts.sasl.service,
        host: this.opts.sasl.host,
      });
      this.sendSasl(this.sasl.initialResponse());
    } else {
      this.afterAuthentication();
    }
  }

  private sendSasl(token: Buffer): void {
    this.writeSpecial(this.nextXid(), OpCode.sasl, new GetSASLRequest({ token }));
  }

  private onSaslReply(err: number, r: JuteReader): void {
    if (err !== ErrorCode.OK) {
      this.die('authfailed', new AuthFailedError(`SASL authentication failed (server error ${KeeperError.codeName(err)})`));
      return;
    }
    const token = r.readBuffer() ?? Buffer.alloc(0);
    let next: Buffer | null;
    try {
      next = this.sasl!.evaluateChallenge(token);
    } catch (e) {
      this.die('authfailed', new AuthFailedError(`SASL authentication failed: ${(e as Error).message}`, undefined, { cause: e }));
      return;
    }
    if (next !== null) this.sendSasl(next);
    if (this.sasl!.isComplete) {
      this.saslInProgress = false;
      this.handler.onState(KeeperState.SaslAuthenticated);
      this.afterAuthentication();
    }
  }

  /** After the handshake (and SASL): auth packets, watches, then the waiting requests. */
  private afterAuthentication(): void {
    for (const info of this.authInfo) this.writeAuth(info);
    this.sendSetWatches();
    for (let req = this.outgoing.shift(); req !== undefined; req = this.outgoing.shift()) this.write(req);
  }

  private sendSetWatches(): void {
    if (this.watches.isEmpty) return;
    const lists: [string[], number][] = [
      [[...this.watches.data.keys()], 0],
      [[...this.watches.exist.keys()], 1],
      [[...this.watches.child.keys()], 2],
      [[...this.watches.persistent.keys()], 3],
      [[...this.watches.persistentRecursive.keys()], 4],
    ];
    for (const batch of batchSetWatches(lists)) {
      if (batch[3].length === 0 && batch[4].length === 0) {
        this.writeSpecial(
          Xid.setWatches,
          OpCode.setWatches,
          new SetWatches({ relativeZxid: this.lastZxid, dataWatches: batch[0], existWatches: batch[1], childWatches: batch[2] }),
        );
      } else {
        this.writeSpecial(
          Xid.setWatches,
          OpCode.setWatches2,
          new SetWatches2({
            relativeZxid: this.lastZxid,
            dataWatches: batch[0],
            existWatches: batch[1],
            childWatches: batch[2],
            persistentWatches: batch[3],
            persistentRecursiveWatches: batch[4],
          }),
        );
      }
    }
  }

  // ---- frames -----------------------------------------------------------

  private onFrame(r: JuteReader): void {
    const xid = r.readInt();
    const zxid = r.readLong();
    const err = r.readInt();
    switch (xid) {
      case Xid.ping:
        return;
      case Xid.notification:
        this.handler.onWatchEvent(WatcherEvent.decode(r));
        return;
      case Xid.auth: {
        const info = this.authReplies.shift();
        if (err === ErrorCode.AUTHFAILED) {
          this.die('authfailed', new AuthFailedError(`authentication failed for scheme ${info?.scheme ?? '?'}`));
          return;
        }
        if (info) {
          const waiters = info.waiters.splice(0);
          for (const w of waiters) {
            if (err === ErrorCode.OK) w.resolve();
            else w.reject(KeeperError.create(err));
          }
        }
        return;
      }
      case Xid.setWatches:
        return; // no body; a failure would show up as missing events, as in Java (which only logs it)
      default:
        break;
    }
    if (this.saslInProgress) {
      this.onSaslReply(err, r);
      return;
    }
    const req = this.pending.shift();
    if (req === undefined || req.xid !== xid) {
      if (req !== undefined) this.handler.fail(req, new ConnectionLossError(`reply xid ${xid} out of order (expected ${req.xid})`, req.path));
      throw new MarshallingError(`unexpected reply xid ${xid}${req ? ` (expected ${req.xid})` : ' (nothing pending)'}`);
    }
    try {
      this.handler.complete(req, err, r);
    } catch (e) {
      this.handler.fail(req, new ConnectionLossError(`undecodable reply: ${(e as Error).message}`, req.path, { cause: e }));
      throw e;
    }
    // Only a reply that decoded counts: a garbage zxid must not make every server refuse us as "ahead".
    if (zxid > 0n) this.lastZxid = zxid;
    if (req.type === OpCode.closeSession && this.closeWaiter) this.closeWaiter();
  }

  // ---- timers -----------------------------------------------------------

  private armTick(): void {
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.lastRecv = this.lastSend = Date.now();
    this.tickTimer = setTimeout(this.tickBound, this.pingInterval);
  }

  /** Drops a silent connection and pings an idle one. */
  private tick(): void {
    this.tickTimer = null;
    const sock = this.socket;
    if (this.phase !== 'connected' || sock === null) return;
    const now = Date.now();
    if (now - this.lastRecv >= this.readTimeout) {
      this.drop(sock, new Error(`no reply from ${this.currentHost?.host}:${this.currentHost?.port} for ${now - this.lastRecv} ms (read timeout ${this.readTimeout} ms)`));
      return;
    }
    if (now - this.lastSend >= this.pingInterval) {
      sock.write(PING_FRAME);
      this.lastSend = now;
    }
    const next = Math.max(1, Math.min(this.lastSend + this.pingInterval, this.lastRecv + this.readTimeout) - now);
    this.tickTimer = setTimeout(this.tickBound, next);
  }

  /** The connect window: connectTimeout without a connection is reported, then again every connectTimeout. */
  private armWindow(): void {
    if (this.windowTimer) return;
    this.windowTimer = setInterval(() => this.onWindowElapsed(), this.opts.connectTimeout);
    this.windowTimer.unref();
  }

  private onWindowElapsed(): void {
    if (this.phase === 'dead' || this.isReady) return;
    const hosts = this.hosts.hosts.map((h) => `${h.host}:${h.port}`).join(',');
    const err = new ConnectionLossError(
      `could not connect to ZooKeeper at ${hosts} within ${this.opts.connectTimeout} ms` +
        (this.lastError ? `: ${this.lastError.message}` : ''),
      undefined,
      this.lastError ? { cause: this.lastError } : undefined,
    );
    for (let req = this.outgoing.shift(); req !== undefined; req = this.outgoing.shift()) {
      this.handler.fail(req, new ConnectionLossError(err.message, req.path, { cause: this.lastError ?? undefined }));
    }
    this.handler.onUnreachable(err);
  }

  private clearDisconnectTimers(): void {
    if (this.windowTimer) clearInterval(this.windowTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.windowTimer = this.expiryTimer = null;
  }

  // ---- request timeout ----------------------------------------------------

  private armRequestTimer(deadline: number): void {
    this.requestTimer = setTimeout(this.requestTimerBound, Math.max(1, deadline - Date.now()));
    this.requestTimer.unref();
  }

  /**
   * Fails the requests whose deadline passed. Deadlines grow with
   * submission order and both queues keep that order, so only their heads
   * need looking at: one timer serves every request.
   */
  private onRequestTimer(): void {
    this.requestTimer = null;
    if (this.phase === 'dead') return;
    const now = Date.now();
    const timeout = this.opts.requestTimeout;
    let sentExpired = 0;
    for (let req = this.pending.peek(); req !== undefined && req.deadline <= now; req = this.pending.peek()) {
      this.pending.shift();
      sentExpired++;
      this.handler.fail(req, new RequestTimeoutError(`no reply within the request timeout (${timeout} ms)`, req.path));
    }
    for (let req = this.outgoing.peek(); req !== undefined && req.deadline <= now; req = this.outgoing.peek()) {
      this.outgoing.shift();
      this.handler.fail(req, new RequestTimeoutError(`not sent within the request timeout (${timeout} ms): no connection`, req.path));
    }
    if (sentExpired > 0 && this.socket !== null) {
      // The replies still owed on this connection can no longer be matched to
      // requests in order: start over on a fresh connection, as Java does.
      this.drop(this.socket, new Error(`${sentExpired} request(s) got no reply within the request timeout (${timeout} ms)`));
    }
    const a = this.pending.peek();
    const b = this.outgoing.peek();
    const next = a === undefined ? b?.deadline : b === undefined ? a.deadline : Math.min(a.deadline, b.deadline);
    if (next !== undefined && this.requestTimer === null) this.armRequestTimer(next);
  }

  // ---- read-only mode: looking for a read/write server ----------------------

  /** Schedules the next `isro` probe, `rwProbeInterval` after the previous one (Java keeps that clock across reconnects). */
  private armRwProbe(): void {
    if (this.rwProbeTimer !== null || this.rwProbe !== null) return;
    if (!this.hasOtherHosts()) return;
    const now = Date.now();
    if (this.lastRwProbe === 0) this.lastRwProbe = now;
    const delay = Math.max(0, this.lastRwProbe + this.rwProbeInterval - now);
    this.rwProbeTimer = setTimeout(() => {
      this.rwProbeTimer = null;
      this.probeRw();
    }, delay);
    this.rwProbeTimer.unref();
  }

  private hasOtherHosts(): boolean {
    const cur = this.currentHost;
    return this.hosts.hosts.some((h) => cur === null || h.host !== cur.host || h.port !== cur.port);
  }

  /** The next host after the last probed one, skipping the one we are on. */
  private nextProbeHost(): HostAddress | null {
    const list = this.hosts.hosts;
    const cur = this.currentHost;
    for (let i = 0; i < list.length; i++) {
      this.rwProbeCursor = (this.rwProbeCursor + 1) % list.length;
      const h = list[this.rwProbeCursor];
      if (cur === null || h.host !== cur.host || h.port !== cur.port) return h;
    }
    return null;
  }

  private probeRw(): void {
    const sock = this.socket;
    if (this.phase !== 'connected' || !this.readOnly || sock === null) return;
    const host = this.nextProbeHost();
    if (host === null) return;
    this.lastRwProbe = Date.now();
    this.rwProbeInterval = Math.min(2 * this.rwProbeInterval, this.opts.rwProbeMaxInterval);
    const probe = askFourLetterWord(host, 'isro', RW_PROBE_TIMEOUT, this.opts.tls);
    this.rwProbe = probe;
    probe.answer.then((answer) => {
      if (this.rwProbe !== probe) return; // cancelled: the connection changed meanwhile
      this.rwProbe = null;
      if (sock !== this.socket || this.phase !== 'connected' || !this.readOnly) return;
      if (answer !== null && answer.trim() === 'rw') {
        this.rwProbeInterval = this.opts.rwProbeMinInterval;
        this.rwServer = host;
        this.drop(sock, new Error(`read/write server found at ${host.host}:${host.port}`));
        return;
      }
      this.armRwProbe();
    });
  }

  private stopRwProbe(): void {
    if (this.rwProbeTimer !== null) clearTimeout(this.rwProbeTimer);
    this.rwProbeTimer = null;
    const probe = this.rwProbe;
    this.rwProbe = null;
    probe?.cancel();
  }

  // ---- losing the connection ------------------------------------------

  /** Ends one socket (error, close, timeout, bad input) and moves on to the next host. */
  private drop(sock: net.Socket, cause: Error): void {
    if (sock !== this.socket) return;
    this.socket = null;
    sock.removeAllListeners('data');
    sock.on('error', () => {}); // late errors of a socket we left
    sock.destroy();
    if (this.attemptTimer) clearTimeout(this.attemptTimer);
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.attemptTimer = this.tickTimer = null;
    this.stopRwProbe();
    this.lastError = cause;
    const wasConnected = this.phase === 'connected';
    this.saslInProgress = false;
    this.sasl = null;
    this.decoder.reset();
    this.out.reset();
    this.flushScheduled = false;
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.failSent(cause);
    if (this.phase === 'dead') return;
    if (this.closeWaiter) {
      this.closeWaiter();
      return;
    }
    if (wasConnected) {
      this.handler.onState(KeeperState.Disconnected, cause);
      this.armWindow();
      if (this.opts.localSessionExpiry && this.negotiatedTimeout > 0 && !this.expiryTimer) {
        this.expiryTimer = setTimeout(() => {
          this.expiryTimer = null;
          if (!this.isReady && this.phase !== 'dead') {
            this.die('expired', new SessionExpiredError(`no server reachable for the session timeout (${this.negotiatedTimeout} ms): session expired`));
          }
        }, this.negotiatedTimeout);
        this.expiryTimer.unref();
      }
    } else {
      this.hosts.onFailure();
    }
    this.connectNext();
  }

  /** Fails the requests that were sent on the lost connection. */
  private failSent(cause: Error): void {
    for (let req = this.pending.shift(); req !== undefined; req = this.pending.shift()) {
      this.handler.fail(req, new ConnectionLossError(`connection lost: ${cause.message}`, req.path, { cause }));
    }
    for (let a = this.authReplies.shift(); a !== undefined; a = this.authReplies.shift()) {
      if (a) for (const w of a.waiters.splice(0)) w.reject(new ConnectionLossError(`connection lost: ${cause.message}`, undefined, { cause }));
    }
  }

  /** Ends the session for good: Expired, AuthFailed or Closed. */
  die(kind: 'expired' | 'authfailed' | 'closed', cause: KeeperError): void {
    if (this.phase === 'dead') return;
    this.phase = 'dead';
    this.deathError = cause;
    const sock = this.socket;
    this.socket = null;
    if (sock) {
      sock.removeAllListeners('data');
      sock.on('error', () => {});
      if (kind === 'closed') sock.end();
      else sock.destroy();
    }
    for (const t of [this.attemptTimer, this.tickTimer, this.retryTimer, this.expiryTimer, this.requestTimer]) if (t) clearTimeout(t);
    if (this.windowTimer) clearInterval(this.windowTimer);
    this.attemptTimer = this.tickTimer = this.retryTimer = this.expiryTimer = this.windowTimer = this.requestTimer = null;
    this.stopRwProbe();
    this.rwServer = null;
    // Frames batched but not yet flushed will never be sent.
    this.out.reset();
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    for (let req = this.pending.shift(); req !== undefined; req = this.pending.shift()) this.handler.fail(req, this.deadError(req.path));
    for (let req = this.outgoing.shift(); req !== undefined; req = this.outgoing.shift()) this.handler.fail(req, this.deadError(req.path));
    for (let a = this.authReplies.shift(); a !== undefined; a = this.authReplies.shift()) {
      if (a) for (const w of a.waiters.splice(0)) w.reject(this.deadError());
    }
    for (const info of this.authInfo) for (const w of info.waiters.splice(0)) w.reject(this.deadError());
    this.handler.onState(kind === 'expired' ? KeeperState.Expired : kind === 'authfailed' ? KeeperState.AuthFailed : KeeperState.Closed, cause);
  }

  private deathError: KeeperError | null = null;

  /** The error every request on a dead handle gets (Java: SessionExpired after close or expiry, AuthFailed after an auth failure). */
  deadError(path?: string): KeeperError {
    const d = this.deathError;
    if (d !== null && d.code === ErrorCode.AUTHFAILED) return new AuthFailedError(d.message, path, { cause: d });
    return new SessionExpiredError(d?.message ?? 'the handle is closed', path, d ? { cause: d } : undefined);
  }

  /**
   * Closes the session: closeSession if connected (waiting at most
   * `timeout` ms for its reply), then the socket.
   */
  async close(closeRequest: Request, timeout: number): Promise<void> {
    if (this.phase === 'dead') return;
    if (this.isReady) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeout);
        this.closeWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
        this.submit(closeRequest);
      });
    }
    this.closeWaiter = null;
    this.die('closed', new SessionExpiredError('the handle is closed'));
  }

  /** Test hook and harness aid: drop the current connection as if the network failed. */
  dropConnection(reason = 'connection dropped on request'): void {
    if (this.socket) this.drop(this.socket, new Error(reason));
  }
}

/**
 * Splits watch paths into SetWatches batches whose paths total at most
 * 128 KB (UTF-8 bytes). `lists` holds [paths, slot] with slots 0..4 = data,
 * exist, child, persistent, persistentRecursive; each batch is 5 arrays.
 */
export function batchSetWatches(lists: [string[], number][], maxBytes = SET_WATCHES_MAX_BYTES): string[][][] {
  const batches: string[][][] = [];
  let cur: string[][] = [[], [], [], [], []];
  let size = 0;
  let count = 0;
  for (const [paths, slot] of lists) {
    for (const p of paths) {
      const len = Buffer.byteLength(p, 'utf8');
      if (count > 0 && size + len > maxBytes) {
        batches.push(cur);
        cur = [[], [], [], [], []];
        size = 0;
        count = 0;
      }
      cur[slot].push(p);
      size += len;
      count++;
    }
  }
  if (count > 0) batches.push(cur);
  return batches;
}
