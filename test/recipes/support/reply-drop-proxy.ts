/**
 * A loopback TCP proxy that can swallow the server's replies while still
 * forwarding the client's requests: the "create succeeded but its reply
 * was lost" case that protected create exists for.
 */
import * as net from 'net';
import { resetSocket } from '../../harness';

export class ReplyDropProxy {
  /** When true, bytes from the server are discarded (requests still reach it). */
  dropReplies = false;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();

  private constructor(private readonly server: net.Server, private readonly targetPort: number) {}

  /** Listens on a free loopback port, forwarding to 127.0.0.1:targetPort. */
  static async start(targetPort: number): Promise<ReplyDropProxy> {
    const server = net.createServer();
    const proxy = new ReplyDropProxy(server, targetPort);
    server.on('connection', (c) => proxy.accept(c));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get hostPort(): string {
    return `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Resets every open connection. */
  cut(): void {
    for (const p of [...this.pairs]) {
      this.pairs.delete(p);
      for (const s of [p.client, p.upstream]) resetSocket(s);
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    const pair = { client, upstream };
    this.pairs.add(pair);
    client.on('data', (d) => {
      if (!upstream.destroyed) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!this.dropReplies && !client.destroyed) client.write(d);
    });
    const end = (): void => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('close', end);
      s.on('error', end);
    }
  }
}
