/**
 * A loopback TCP proxy in front of one server, for failure tests the
 * server itself cannot stage: cut every connection at once (a dropped
 * connection), refuse new ones (a dead host), or black-hole traffic while
 * sockets stay open (a network partition: the client only notices through
 * its read timeout).
 *
 *   const proxy = await TcpProxy.start(server.clientPort);
 *   const zk = new ZooKeeper(proxy.hostPort);
 *   proxy.cut();          // both sides see their connection reset
 *   proxy.pause();        // bytes stop flowing; resume() lets them through
 */
import * as net from 'net';
import { freePort } from './ports';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private refusing = false;
  private paused = false;
  /** Bytes held back while paused, delivered in order on resume(). */
  private readonly held: Array<{ to: net.Socket; data: Buffer }> = [];
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private targetPort: number,
    private readonly targetHost: string,
  ) {}

  /** Starts a proxy on a free loopback port forwarding to `targetHost:targetPort`. */
  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const port = await freePort();
    const server = net.createServer();
    const proxy = new TcpProxy(server, port, targetPort, targetHost);
    server.on('connection', (c) => proxy.accept(c));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

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
    this.held.length = 0;
  }

  /** Closes each new connection on accept, as a host with nothing listening would. */
  refuse(): void {
    this.refusing = true;
  }

  /** Accept and forward new connections again (undoes refuse()). */
  allow(): void {
    this.refusing = false;
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
    if (this.refusing) {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const forward = (to: net.Socket) => (data: Buffer) => {
      if (this.paused) this.held.push({ to, data });
      else if (!to.destroyed) to.write(data);
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    const end = () => this.drop(pair);
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    for (const s of [pair.client, pair.upstream]) resetSocket(s);
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
