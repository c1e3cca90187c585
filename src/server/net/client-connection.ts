/**
 * One client-port connection: framing, the handshake, four-letter words,
 * reply/event writing and back-pressure. Everything that decides *what* to
 * answer lives in the server (handshake, auth) and the request pipeline; this
 * class only moves bytes and keeps the per-connection queue.
 *
 * No exception escapes a socket callback: bad bytes close this connection
 * only (Apache does the same), and the other sessions carry on.
 */
import type { Socket } from 'node:net';
import { FrameDecoder } from '../../jute/framer';
import { JuteReader } from '../../jute/reader';
import { JuteWriter } from '../../jute/writer';
import { type Record as JuteRecord } from '../../jute/record';
import { AuthPacket, ConnectRequest, GetSASLRequest, RequestHeader } from '../../proto/generated/proto';
import { type ACL, Id } from '../../proto/generated/data';
import { OpCode, Perms } from '../../proto/constants';
import type { ClientHandle, QueuedRequest } from '../request/request-pipeline';
import type { WatchedEvent } from '../tree/watch-manager';
import { hasPermission, ipIdFor } from '../tree/acl-check';
import { lastOpAbbreviation } from './four-letter-words';
import { ConnectionStats, elapsedMs, type ServerStats } from './server-stats';

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly maxBuffer: number;
  /** Requests a connection may have outstanding before we stop reading its socket. */
  readonly maxOutstanding: number;
  /** Server-wide packet and latency counters this connection adds to. */
  readonly serverStats: ServerStats;
  /** First 4 bytes of a connection named a four-letter word: the reply text (null = not a word, treat as a frame). */
  fourLetterWord(word: string, conn: ClientConnection): string | null;
  isFourLetterWord(first4: Buffer): string | null;
  /** `receivedAt` is elapsedMs() when the ConnectRequest was read (for the SESS latency). */
  handleConnect(conn: ClientConnection, req: ConnectRequest, hasReadOnly: boolean, receivedAt: number): void;
  handleAuth(conn: ClientConnection, xid: number, packet: AuthPacket): void;
  handleSasl(conn: ClientConnection, xid: number, req: GetSASLRequest): void;
  /** A request arrived on an established session (touch it, queue it). */
  handleRequest(conn: ClientConnection, req: QueuedRequest): void;
  connectionClosed(conn: ClientConnection): void;
  /** There was I/O on the connection: push its idle expiry out (NIOServerCnxnFactory.touchCnxn). */
  touchConnection(conn: ClientConnection): void;
  log(msg: string): void;
}

/** What a reply answers, for the latency and last-operation figures (absent for replies outside the request path, e.g. auth). */
export interface AnsweredRequest {
  type: number;
  /** elapsedMs() when the request was read. */
  receivedAt: number;
}

type State = 'new' | 'handshake' | 'established' | 'closed';

/** The output buffer's starting size; it is replaced after a turn that grew it past OUT_KEEP. */
const OUT_INITIAL = 4096;
const OUT_KEEP = 1 << 20;

let nextConnectionId = 1;

export class ClientConnection implements ClientHandle {
  readonly id = nextConnectionId++;
  readonly queue: QueuedRequest[] = [];
  pumped = 0;
  readonly authInfo: Id[] = [];
  sessionId = 0n;
  sessionTimeout = 0;
  /** Whether the client's ConnectRequest carried the trailing readOnly flag (old clients omit it, and get no flag back). */
  clientSentReadOnly = true;
  readonly established = Date.now();
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly stats = new ConnectionStats();
  /** The connection carried a four-letter word (cons shows it with interest ops 0). */
  isFourLetterWord = false;
  private state: State = 'new';
  /** Frames encoded this event-loop turn, back to back, sent as one socket write (see frameDone()). */
  private out = new JuteWriter(OUT_INITIAL);
  private flushQueued = false;
  private decoder: FrameDecoder;
  /** The first bytes of a connection, while fewer than the 4 that tell a four-letter word from a handshake. */
  private held: Buffer[] | null = null;
  private readPaused = false;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
    readonly secure = false,
  ) {
    this.remoteAddress = ipIdFor(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    this.decoder = new FrameDecoder(host.maxBuffer);
    // Apache gives every connection its peer address as an "ip" id.
    this.authInfo.push(new Id({ scheme: 'ip', id: this.remoteAddress }));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('end', () => this.close());
  }

  get isEstablished(): boolean {
    return this.state === 'established';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get readingPaused(): boolean {
    return this.readPaused;
  }

  /**
   * The one guard around client bytes: every decode (frames from onData, the
   * handshake, frames queued in the inbox and handled on resume or after the
   * handshake) runs inside it. A throw, a malformed frame above all, closes
   * this connection only, with a log line naming the peer and the reason.
   * Returns false when the connection was closed.
   */
  private guard(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      const err = e as Error;
      this.host.log(`closing connection from ${this.remoteAddress}:${this.remotePort} (session 0x${this.sessionId.toString(16)}): ${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`);
      this.close();
      return false;
    }
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    if (this.state === 'new') {
      // The first 4 bytes decide: a four-letter word, or the length of a ConnectRequest.
      const all = this.held === null ? chunk : Buffer.concat([...this.held, chunk]);
      if (all.length < 4) {
        this.held = [all];
        return;
      }
      this.held = null;
      const word = this.host.isFourLetterWord(all.subarray(0, 4));
      if (word !== null) {
        // Apache counts the word as a packet received before running it, and its reply as one sent.
        this.isFourLetterWord = true;
        this.countReceived();
        const reply = this.host.fourLetterWord(word, this);
        if (reply !== null) {
          this.host.serverStats.packetsSent++;
          this.state = 'closed';
          this.socket.end(reply);
          this.host.connectionClosed(this);
          return;
        }
        this.isFourLetterWord = false;
      }
      this.state = 'handshake';
      chunk = all;
    }
    this.host.touchConnection(this);
    for (const f of this.decoder.push(chunk)) this.inbox.push(f);
    this.processInbox();
  }

  /**
   * Handles decoded frames while the connection may take more: one chunk can
   * hold many frames, so pausing the socket alone would not bound the queue.
   * Frames left here wait for the queue to drain (or for the handshake).
   */
  private processInbox(): void {
    while (this.inbox.length > 0) {
      if ((this.state as State) === 'closed') return;
      if (this.state === 'handshake' && !this.connectSeen) {
        this.connectSeen = true;
        const frame = this.takeFrame();
        if (!this.guard(() => this.onConnectFrame(frame))) return;
        continue;
      }
      // Requests sent before the handshake finished wait for it (Apache stops reading meanwhile).
      if (this.state !== 'established') return;
      if (this.queue.length >= this.host.maxOutstanding) {
        this.pauseReading();
        return;
      }
      const frame = this.takeFrame();
      if (!this.guard(() => this.onRequestFrame(frame))) return;
    }
  }

  /**
   * The next frame of the inbox. The last one leaves a fresh empty array behind: an
   * idle connection (of thousands) then holds no grown 17-slot backing store.
   */
  private takeFrame(): Buffer {
    if (this.inbox.length !== 1) return this.inbox.shift()!;
    const frame = this.inbox[0];
    this.inbox = [];
    return frame;
  }

  private inbox: Buffer[] = [];

  private connectSeen = false;

  private countReceived(): void {
    this.stats.packetsReceived++;
    this.host.serverStats.packetsReceived++;
  }

  private onConnectFrame(frame: Buffer): void {
    const receivedAt = elapsedMs();
    this.countReceived();
    const r = new JuteReader(frame);
    const req = new ConnectRequest();
    req.protocolVersion = r.readInt();
    req.lastZxidSeen = r.readLong();
    req.timeOut = r.readInt();
    req.sessionId = r.readLong();
    req.passwd = r.readBuffer();
    // 3.x clients append readOnly; older ones do not, and must not get it back.
    this.clientSentReadOnly = r.remaining >= 1;
    req.readOnly = this.clientSentReadOnly ? r.readBool() : false;
    this.pauseReading();
    this.host.handleConnect(this, req, this.clientSentReadOnly, receivedAt);
  }

  /** Sends the ConnectResponse (readOnly: this server is read-only); on failure (expired / bad password) closes after it. */
  finishSessionInit(valid: boolean, sessionId: bigint, timeout: number, passwd: Buffer, readOnly = false): void {
    if (this.state === 'closed') return;
    const w = this.out.beginFrame();
    w.writeInt(0);
    w.writeInt(valid ? timeout : 0);
    w.writeLong(valid ? sessionId : 0n);
    w.writeBuffer(valid ? passwd : Buffer.alloc(16));
    if (this.clientSentReadOnly) w.writeBool(readOnly);
    w.endFrame();
    this.frameDone();
    if (!valid) {
      this.closeSoon();
      return;
    }
    this.sessionId = sessionId;
    this.sessionTimeout = timeout;
    this.state = 'established';
    this.processInbox();
    this.maybeResume();
  }

  private onRequestFrame(frame: Buffer): void {
    const r = new JuteReader(frame);
    const h = new RequestHeader().deserialize(r);
    const body = frame.subarray(r.offset);
    this.countReceived();
    if (h.type === OpCode.auth) {
      this.host.handleAuth(this, h.xid, new AuthPacket().deserialize(new JuteReader(body)));
      return;
    }
    if (h.type === OpCode.sasl) {
      this.host.handleSasl(this, h.xid, new GetSASLRequest().deserialize(new JuteReader(body)));
      return;
    }
    // The frame is a view into a chunk the decoder owns; the request keeps a view of it (no copy: the decoder never reuses chunks).
    this.host.handleRequest(this, { xid: h.xid, type: h.type, body, submitted: false, receivedAt: elapsedMs() });
    if (this.queue.length >= this.host.maxOutstanding) this.pauseReading();
  }

  private pauseReading(): void {
    if (this.readPaused) return;
    this.readPaused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.readPaused || this.state !== 'established') return;
    if (this.queue.length > this.host.maxOutstanding / 2) return;
    this.processInbox();
    if (this.queue.length >= this.host.maxOutstanding || this.state !== 'established') return;
    this.readPaused = false;
    this.socket.resume();
  }

  onQueueShrunk(): void {
    this.maybeResume();
  }

  onSessionClosed(): void {
    this.closeSoon();
  }

  /**
   * A watch fired: the event goes out now, ahead of the reply of the write that
   * fired it, but only to a session that may READ the node (CVE-2024-23944).
   */
  process(event: WatchedEvent, acl?: readonly ACL[]): void {
    if (this.state !== 'established' || this.socket.destroyed) return;
    if (acl !== undefined && !hasPermission(acl, Perms.READ, this.authInfo)) return;
    // ReplyHeader {xid -1, zxid -1, err 0} + WatcherEvent {type, state, path}.
    const w = this.out.beginFrame();
    w.writeInt(-1);
    w.writeLong(-1n);
    w.writeInt(0);
    w.writeInt(event.type);
    w.writeInt(event.state);
    w.writeString(event.path);
    w.endFrame();
    this.frameDone();
  }

  sendResponse(xid: number, zxid: bigint, err: number, body: JuteRecord | null, answered?: AnsweredRequest): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    // Encoded straight into this turn's output buffer: no per-reply allocation or copy.
    const w = this.out;
    const start = w.length;
    w.beginFrame();
    w.writeInt(xid);
    w.writeLong(zxid);
    w.writeInt(err);
    if (err === 0 && body) body.serialize(w);
    w.endFrame();
    const size = w.length - start - 4;
    this.frameDone();
    if (answered) {
      // FinalRequestProcessor.updateStats + ServerStats.updateLatency (+ the response size, except for pings).
      const now = elapsedMs();
      this.stats.updateForResponse(xid, zxid, lastOpAbbreviation(answered.type), answered.receivedAt, now);
      const server = this.host.serverStats;
      server.latency.add(now - answered.receivedAt);
      if (answered.type !== OpCode.ping) server.updateClientResponseSize(size);
    }
  }

  /**
   * Counts a frame just encoded into `out` and makes sure it is sent: every
   * frame of one event-loop turn (a read burst's replies, a group commit's
   * replies, their watch events) goes out in a single socket write.
   */
  private frameDone(): void {
    this.stats.packetsSent++;
    this.host.serverStats.packetsSent++;
    if (!this.flushQueued) {
      this.flushQueued = true;
      process.nextTick(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    const w = this.out;
    if (w.length === 0) return;
    if (!this.socket.destroyed) this.socket.write(w.toBuffer());
    if (w.length > OUT_KEEP) this.out = new JuteWriter(OUT_INITIAL);
    else w.reset();
    if (this.state !== 'closed') this.host.touchConnection(this);
  };

  /** Ends the connection after what was written so far has been flushed. */
  closeSoon(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.flush();
    this.socket.end();
    // A peer that never reads would keep the socket half-open forever.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.host.connectionClosed(this);
  }

  close(): void {
    // Already closing: closeSoon's end() is flushing, and its timer destroys a peer that lingers.
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.socket.destroy();
    this.host.connectionClosed(this);
  }
}
