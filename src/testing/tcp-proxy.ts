/**
 * A loopback TCP proxy in front of one port, for the network failures a
 * server cannot stage by itself: cut every connection at once (a dropped
 * connection), refuse new ones (a dead host), hold bytes while sockets stay
 * open (a stall), or swallow them (a black hole: a partition the peers only
 * notice through their timeouts). The testing kit puts one in front of each
 * member's client port and one on each directed member-to-member link, which
 * is what makes its partitions real TCP failures rather than a mock.
 *
 *   const proxy = await TcpProxy.start(server.clientPort);
 *   const zk = new ZooKeeper(proxy.hostPort);
 *   proxy.cut();          // both sides see their connection reset
 *   proxy.pause();        // bytes stop flowing; resume() lets them through
 *   proxy.blackhole();    // bytes vanish, new connections hang; allow() ends it
 */
import * as net from 'net';
import { freePort } from './ports';

interface Pair {
  client: net.Socket;
  /** Null until the target accepted (while a refused connect is retried). */
  upstream: net.Socket | null;
  /** What the client sent before the target accepted. */
  early: Buffer[];
}

/** Options of TcpProxy.start. */
export interface TcpProxyOptions {
  /**
   * For how long a connection the target refuses is retried (every 25 ms)
   * before the client is reset; default 0: reset at once. Why: the proxy
   * accepts a connection before it knows whether the target does, so a
   * client that would have been refused sees "connected, then reset"
   * instead. A server that starts listening a moment after its peers try
   * it (a new leader's quorum port) would turn that into a lost round;
   * with a retry window the connect just looks slow, as a SYN retry does.
   */
  retryRefusedMs?: number;
}

/** One proxied connection, as `cutWhere` sees it. */
export interface ProxiedConnection {
  /** The port the connecting side used (its socket's local port). */
  readonly clientPort: number | undefined;
  /** The proxy's port towards the target, which the target sees as the peer's port. */
  readonly upstreamPort: number | undefined;
}

/** A loopback proxy in front of one port (see the module comment). Example: `const p = await TcpProxy.start(2181); p.cut();` */
export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private refusing = false;
  private paused = false;
  private swallowing = false;
  /** Connections accepted while black-holed: held open, never forwarded. */
  private readonly hung = new Set<net.Socket>();
  /** Bytes held back while paused, delivered in order on resume(). */
  private readonly held: Array<{ to: net.Socket; data: Buffer }> = [];
  private constructor(
    private readonly server: net.Server,
    /** The proxy's own listening port on 127.0.0.1. */
    readonly port: number,
    private targetPort: number,
    private readonly targetHost: string,
    private readonly retryRefusedMs: number,
  ) {}

  /** Starts a proxy on a free loopback port forwarding to `targetHost:targetPort`. */
  static async start(targetPort: number, targetHost = '127.0.0.1', options: TcpProxyOptions = {}): Promise<TcpProxy> {
    const port = await freePort();
    const server = net.createServer();
    const proxy = new TcpProxy(server, port, targetPort, targetHost, options.retryRefusedMs ?? 0);
    server.on('connection', (c) => proxy.accept(c));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** "127.0.0.1:<port>", for a connect string. */
  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Number of client connections currently proxied. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Forward new connections to another port (e.g. a restarted server). */
  retarget(port: number): void {
    this.targetPort = port;
  }

  /** Resets every open connection (both ends see it close). New ones are still accepted. */
  cut(): void {
    for (const p of [...this.pairs]) this.drop(p);
    for (const s of [...this.hung]) resetSocket(s);
    this.hung.clear();
    this.held.length = 0;
  }

  /** Resets the connections `pick` selects; returns how many. */
  cutWhere(pick: (c: ProxiedConnection) => boolean): number {
    let n = 0;
    for (const p of [...this.pairs]) {
      if (pick({ clientPort: p.client.remotePort, upstreamPort: p.upstream?.localPort })) {
        this.drop(p);
        n++;
      }
    }
    return n;
  }

  /** Closes each new connection on accept, as a host with nothing listening would. */
  refuse(): void {
    this.refusing = true;
  }

  /**
   * Swallows every byte in both directions and holds new connections open
   * without forwarding them: a partition that peers notice only through
   * their own timeouts. allow() ends it (and resets what was black-holed:
   * those streams lost bytes and cannot be resumed).
   */
  blackhole(): void {
    this.swallowing = true;
  }

  /** Accept and forward new connections again (undoes refuse() and blackhole()). */
  allow(): void {
    this.refusing = false;
    if (this.swallowing) {
      this.swallowing = false;
      this.cut();
    }
  }

  /** Stops forwarding bytes in both directions; sockets stay open. */
  pause(): void {
    this.paused = true;
  }

  /** Delivers held bytes, then forwards normally again. */
  resume(): void {
    this.paused = false;
    for (const { to, data } of this.held.splice(0)) if (!to.destroyed) to.write(data);
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    if (this.swallowing) {
      this.hung.add(client);
      client.on('data', () => undefined);
      client.on('close', () => this.hung.delete(client));
      return;
    }
    const pair: Pair = { client, upstream: null, early: [] };
    this.pairs.add(pair);
    client.setNoDelay(true);
    const end = () => this.drop(pair);
    client.on('data', (data: Buffer) => {
      if (pair.upstream) this.forward(pair.upstream, data);
      else if (!this.swallowing) pair.early.push(data);
    });
    client.on('close', end);
    client.on('error', end);
    this.connectUpstream(pair, Date.now() + this.retryRefusedMs);
  }

  private connectUpstream(pair: Pair, retryUntil: number): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    upstream.setNoDelay(true);
    upstream.once('connect', () => {
      if (!this.pairs.has(pair)) {
        upstream.destroy();
        return;
      }
      pair.upstream = upstream;
      for (const data of pair.early.splice(0)) this.forward(upstream, data);
      upstream.on('data', (data: Buffer) => this.forward(pair.client, data));
      upstream.on('close', () => this.drop(pair));
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (pair.upstream === upstream || !this.pairs.has(pair)) {
        this.drop(pair);
      } else if (err.code === 'ECONNREFUSED' && Date.now() < retryUntil) {
        setTimeout(() => {
          if (this.pairs.has(pair)) this.connectUpstream(pair, retryUntil);
        }, 25);
      } else {
        this.drop(pair);
      }
    });
  }

  private forward(to: net.Socket, data: Buffer): void {
    if (this.swallowing) return;
    if (this.paused) this.held.push({ to, data });
    else if (!to.destroyed) to.write(data);
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    resetSocket(pair.client);
    if (pair.upstream) resetSocket(pair.upstream);
  }
}

/**
 * Closes a socket with a reset, not a FIN, so the peer sees a broken
 * connection as when a host dies. Not once our side has begun its own FIN
 * (end(), e.g. after the peer's FIN): libuv refuses the reset then (EINVAL),
 * Node leaves the handle open, and the process spins forever at exit
 * (FreeEnvironment -> CleanupHandles). Such a socket, or one still
 * connecting, is simply destroyed.
 */
export function resetSocket(s: net.Socket): void {
  if (s.destroyed) return;
  if (s.connecting || s.writableEnded) s.destroy();
  else s.resetAndDestroy();
}
