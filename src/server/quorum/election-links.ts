/**
 * The election port's connections (Apache's `QuorumCnxManager`), carrying
 * FLE notifications between servers. The transport is injected (TCP by
 * default) and the election state machine never sees it.
 *
 * Rules, as Apache 3.8 applies them:
 * - One link per pair, and only the connection from the higher sid to the
 *   lower survives. Whoever connects sends the initial message first; a
 *   lower-sid initiator then closes (the peer connects back); a receiver
 *   that sees a lower sid closes and connects back itself.
 * - After the initial message, frames are `int length` + payload, length
 *   1..524288. A frame that is not a notification, an oversized or empty
 *   frame, garbage in place of the initial message, our own sid, an
 *   unknown sid without an address, or an unknown protocol version closes
 *   that link with a log line; nothing else is affected and no throw
 *   leaves a socket handler. A sid our config does not list (a server
 *   joining by reconfig) is kept, reached at its initial message's address.
 * - The send queue per peer is bounded (Apache keeps 1 message, newest
 *   wins: every notification supersedes the previous one); on a new link
 *   with nothing queued, the last message sent is sent again.
 * - Reconnects back off exponentially per peer (reset by a working link).
 */
import * as net from 'net';
import {
  ElectionStreamDecoder,
  ElectionWireError,
  HostPort,
  Notification,
  decodeNotification,
  encodeInitialMessage,
  encodeNotification,
  frameElectionMessage,
} from './election-wire';
import type { QuorumVerifier } from './quorum-verifier';

/** The part of a stream socket the links use (net.Socket satisfies it). */
export interface LinkSocket {
  write(data: Buffer): boolean;
  end(): void;
  destroy(): void;
  readonly writableLength: number;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  once(event: 'connect', listener: () => void): this;
}

/** How links reach and accept peers; TCP unless a test injects something else. */
export interface ElectionTransport {
  listen(addr: HostPort, onConnection: (socket: LinkSocket) => void): Promise<{ close(): Promise<void> }>;
  connect(addr: HostPort): LinkSocket;
}

/** Plain TCP with Nagle off (notifications are small and latency-bound). */
export const tcpTransport: ElectionTransport = {
  listen(addr, onConnection) {
    return new Promise((resolve, reject) => {
      const server = net.createServer((sock) => {
        sock.setNoDelay(true);
        onConnection(sock);
      });
      server.once('error', reject);
      server.listen(addr.port, addr.host, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        resolve({ close: () => new Promise<void>((r) => server.close(() => r())) });
      });
    });
  },
  connect(addr) {
    const sock = net.connect({ host: addr.host, port: addr.port });
    sock.setNoDelay(true);
    return sock;
  },
};

export interface ElectionLinksOptions {
  myId: bigint;
  verifier: QuorumVerifier;
  /** Called for every notification from a peer whose link is up. */
  onNotification: (from: bigint, n: Notification) => void;
  transport?: ElectionTransport;
  logger?: (msg: string) => void;
  /** Apache's zookeeper.cnxTimeout: 5000 ms. */
  connectTimeoutMs?: number;
  /** How long an inbound connection may take to send its initial message (Apache: tickTime * syncLimit). */
  handshakeTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Messages kept per peer while it is unreachable (Apache: 1). */
  sendQueueCapacity?: number;
  /** A link with more unsent bytes than this is treated as a stuck peer and closed. */
  maxBufferedBytes?: number;
  /** Inbound connections allowed to be waiting for their initial message at once. */
  maxPendingHandshakes?: number;
}

interface Link {
  socket: LinkSocket;
  decoder: ElectionStreamDecoder;
}

interface PeerState {
  sid: bigint;
  address: HostPort;
  link?: Link;
  queue: Buffer[];
  lastSent?: Buffer;
  connecting: boolean;
  backoffMs: number;
  nextAttemptAt: number;
  retryTimer?: NodeJS.Timeout;
  everSent: boolean;
}

/** The election port's links for one server; see the file header. */
export class ElectionLinks {
  private readonly myId: bigint;
  private readonly myAddress: HostPort;
  private readonly transport: ElectionTransport;
  private readonly log: (msg: string) => void;
  private readonly peers = new Map<bigint, PeerState>();
  private readonly pending = new Set<LinkSocket>();
  private listener?: { close(): Promise<void> };
  private closed = false;
  private readonly o: Required<Omit<ElectionLinksOptions, 'transport' | 'logger' | 'onNotification' | 'verifier' | 'myId'>>;

  constructor(private readonly opts: ElectionLinksOptions) {
    this.myId = opts.myId;
    const me = opts.verifier.servers.get(opts.myId);
    if (!me) throw new RangeError(`my id ${opts.myId} is not in the quorum config`);
    this.myAddress = { host: me.host, port: me.electionPort };
    this.transport = opts.transport ?? tcpTransport;
    this.log = opts.logger ?? (() => undefined);
    this.o = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 5000,
      reconnectMinMs: opts.reconnectMinMs ?? 100,
      reconnectMaxMs: opts.reconnectMaxMs ?? 5000,
      sendQueueCapacity: opts.sendQueueCapacity ?? 1,
      maxBufferedBytes: opts.maxBufferedBytes ?? 1 << 20,
      maxPendingHandshakes: opts.maxPendingHandshakes ?? 64,
    };
    for (const s of opts.verifier.servers.values()) {
      if (s.sid !== this.myId) this.peers.set(s.sid, this.newPeer(s.sid, { host: s.host, port: s.electionPort }));
    }
  }

  private newPeer(sid: bigint, address: HostPort): PeerState {
    return { sid, address, queue: [], connecting: false, backoffMs: 0, nextAttemptAt: 0, everSent: false };
  }

  /**
   * Members a new config adds (QuorumPeer.connectNewPeers): known from now
   * on, so notifications to them and from them are no longer refused.
   * Members it drops keep their entry (a link may still be useful until the
   * election settles; Apache keeps them too).
   */
  addPeers(qv: QuorumVerifier): void {
    for (const s of qv.servers.values()) {
      if (s.sid === this.myId) continue;
      const known = this.peers.get(s.sid);
      if (known) {
        known.address = { host: s.host, port: s.electionPort };
        continue;
      }
      this.peers.set(s.sid, this.newPeer(s.sid, { host: s.host, port: s.electionPort }));
    }
  }

  /** Starts accepting peers on our election address. */
  async start(): Promise<void> {
    this.listener = await this.transport.listen(this.myAddress, (s) => this.accept(s));
  }

  /** Sids with a live link. */
  connectedPeers(): bigint[] {
    return [...this.peers.values()].filter((p) => p.link).map((p) => p.sid);
  }

  /** Queues `n` for `to`, connecting if needed; a message to an unknown sid is dropped. */
  send(to: bigint, n: Notification): void {
    if (this.closed) return;
    const peer = this.peers.get(to);
    if (!peer) {
      this.log(`election: not sending to unknown sid ${to}`);
      return;
    }
    peer.everSent = true;
    const frame = frameElectionMessage(encodeNotification(n));
    if (peer.link) {
      this.write(peer, frame);
      return;
    }
    peer.queue.push(frame);
    while (peer.queue.length > this.o.sendQueueCapacity) peer.queue.shift();
    this.connectOne(peer);
  }

  /** Tries every peer we have ever sent to and are not linked with (Apache's connectAll). */
  connectAll(): void {
    for (const p of this.peers.values()) if (p.everSent && !p.link) this.connectOne(p);
  }

  /** Closes every link and the listener. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.peers.values()) {
      if (p.retryTimer) clearTimeout(p.retryTimer);
      p.link?.socket.destroy();
      p.link = undefined;
    }
    for (const s of this.pending) s.destroy();
    this.pending.clear();
    await this.listener?.close();
  }

  private write(peer: PeerState, frame: Buffer): void {
    const link = peer.link!;
    if (link.socket.writableLength > this.o.maxBufferedBytes) {
      this.log(`election: sid ${peer.sid} is not reading (${link.socket.writableLength} bytes unsent): closing its link`);
      this.drop(peer, link);
      peer.queue = [frame];
      this.connectOne(peer);
      return;
    }
    link.socket.write(frame);
    peer.lastSent = frame;
  }

  private scheduleRetry(peer: PeerState): void {
    if (peer.retryTimer || this.closed) return;
    const wait = Math.max(0, peer.nextAttemptAt - Date.now());
    peer.retryTimer = setTimeout(() => {
      peer.retryTimer = undefined;
      if (!peer.link && (peer.queue.length > 0 || peer.lastSent)) this.connectOne(peer);
    }, wait);
    peer.retryTimer.unref?.();
  }

  private failedAttempt(peer: PeerState): void {
    peer.backoffMs = Math.min(Math.max(peer.backoffMs * 2, this.o.reconnectMinMs), this.o.reconnectMaxMs);
    peer.nextAttemptAt = Date.now() + peer.backoffMs;
    if (peer.queue.length > 0) this.scheduleRetry(peer);
  }

  private connectOne(peer: PeerState): void {
    if (this.closed || peer.link || peer.connecting) return;
    if (Date.now() < peer.nextAttemptAt) {
      this.scheduleRetry(peer);
      return;
    }
    peer.connecting = true;
    let sock: LinkSocket;
    try {
      sock = this.transport.connect(peer.address);
    } catch (err) {
      peer.connecting = false;
      this.log(`election: cannot connect to sid ${peer.sid}: ${(err as Error).message}`);
      this.failedAttempt(peer);
      return;
    }
    let connected = false;
    const timer = setTimeout(() => {
      if (!connected) {
        this.log(`election: connect to sid ${peer.sid} timed out`);
        sock.destroy();
      }
    }, this.o.connectTimeoutMs);
    timer.unref?.();
    sock.on('error', (err) => {
      if (!connected) this.log(`election: cannot connect to sid ${peer.sid} at ${peer.address.host}:${peer.address.port}: ${err.message}`);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      if (!connected) {
        peer.connecting = false;
        this.failedAttempt(peer);
      }
    });
    sock.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      peer.connecting = false;
      if (this.closed) {
        sock.destroy();
        return;
      }
      // One write: Apache reads the address with a single read().
      sock.write(encodeInitialMessage(this.myId, [this.myAddress]));
      if (this.myId < peer.sid) {
        // Only the higher sid's connection survives: the peer will connect back.
        sock.end();
        peer.nextAttemptAt = Date.now() + Math.max(peer.backoffMs, this.o.reconnectMinMs);
        peer.backoffMs = Math.min(Math.max(peer.backoffMs * 2, this.o.reconnectMinMs), this.o.reconnectMaxMs);
        // If it never connects back, try again later while we still have something to say.
        if (peer.queue.length > 0) this.scheduleRetry(peer);
        return;
      }
      this.attach(peer, sock, new ElectionStreamDecoder({ expectInitialMessage: false }));
    });
  }

  private accept(sock: LinkSocket): void {
    if (this.closed) {
      sock.destroy();
      return;
    }
    if (this.pending.size >= this.o.maxPendingHandshakes) {
      this.log('election: too many connections waiting for their initial message: refusing one');
      sock.destroy();
      return;
    }
    this.pending.add(sock);
    const decoder = new ElectionStreamDecoder({ expectInitialMessage: true });
    let settled = false;
    const timer = setTimeout(() => {
      if (!settled) {
        this.log(`election: no initial message within ${this.o.handshakeTimeoutMs} ms: closing`);
        sock.destroy();
      }
    }, this.o.handshakeTimeoutMs);
    timer.unref?.();
    const onData = (chunk: Buffer) => {
      if (settled) return;
      let ev;
      try {
        ev = decoder.push(chunk);
      } catch (err) {
        settled = true;
        this.log(`election: bad initial message: ${(err as Error).message}: closing`);
        sock.destroy();
        return;
      }
      if (!ev.initial) return;
      settled = true;
      clearTimeout(timer);
      this.pending.delete(sock);
      const sid = ev.initial.sid;
      let peer = this.peers.get(sid);
      if (sid === this.myId) {
        this.log(`election: a connection claims our own sid ${sid}: closing`);
        sock.destroy();
        return;
      }
      if (!peer) {
        // Apache's QuorumCnxManager takes a server its config does not list (one joining by
        // reconfig) and reaches it at the address its initial message gives.
        const address = ev.initial.addresses[0];
        if (!address) {
          this.log(`election: connection from unknown sid ${sid} without an address: closing`);
          sock.destroy();
          return;
        }
        this.log(`election: connection from sid ${sid}, not in our config, at ${address.host}:${address.port}`);
        peer = this.newPeer(sid, address);
        this.peers.set(sid, peer);
      }
      if (sid < this.myId) {
        // Their connection loses: close it and connect to them ourselves.
        sock.destroy();
        peer.nextAttemptAt = 0;
        this.connectOne(peer);
        return;
      }
      this.attach(peer, sock, decoder, true);
    };
    sock.on('data', onData);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      this.pending.delete(sock);
    });
  }

  private attach(peer: PeerState, sock: LinkSocket, decoder: ElectionStreamDecoder, bytesHeld = false): void {
    if (peer.link) {
      // A new connection replaces the old one (Apache replaces the SendWorker).
      const old = peer.link;
      peer.link = undefined;
      old.socket.destroy();
    }
    const link: Link = { socket: sock, decoder };
    peer.link = link;
    peer.backoffMs = 0;
    peer.nextAttemptAt = 0;
    if (peer.retryTimer) {
      clearTimeout(peer.retryTimer);
      peer.retryTimer = undefined;
    }
    const onData = (chunk: Buffer) => {
      if (peer.link !== link) return;
      let frames: Buffer[];
      try {
        frames = decoder.push(chunk).frames;
      } catch (err) {
        this.log(`election: bad frame from sid ${peer.sid}: ${(err as Error).message}: closing its link`);
        this.drop(peer, link);
        return;
      }
      this.deliver(peer, link, frames);
    };
    sock.on('data', onData);
    sock.on('error', (err) => {
      if (peer.link === link) this.log(`election: link to sid ${peer.sid} failed: ${err.message}`);
    });
    sock.on('close', () => {
      if (peer.link === link) peer.link = undefined;
    });
    const queued = peer.queue;
    peer.queue = [];
    if (queued.length === 0 && peer.lastSent) queued.push(peer.lastSent);
    for (const f of queued) if (peer.link === link) this.write(peer, f);
    // Frames that arrived in the same chunk as the initial message.
    if (bytesHeld) onData(Buffer.alloc(0));
  }

  private deliver(peer: PeerState, link: Link, frames: Buffer[]): void {
    for (const f of frames) {
      if (peer.link !== link) return;
      let n: Notification;
      try {
        n = decodeNotification(f);
      } catch (err) {
        const why = err instanceof ElectionWireError ? err.message : String(err);
        this.log(`election: bad notification from sid ${peer.sid}: ${why}: closing its link`);
        this.drop(peer, link);
        return;
      }
      try {
        this.opts.onNotification(peer.sid, n);
      } catch (err) {
        this.log(`election: notification handler failed for sid ${peer.sid}: ${(err as Error).stack ?? err}`);
      }
    }
  }

  private drop(peer: PeerState, link: Link): void {
    if (peer.link === link) peer.link = undefined;
    link.socket.destroy();
  }
}
