/**
 * An in-memory ElectionTransport: socket pairs that deliver writes in order
 * on the next turn of the event loop, and a network that can refuse
 * connections (no listener) and count connection attempts.
 */
import { EventEmitter } from 'events';
import type { ElectionTransport, LinkSocket } from '../../../src/server/quorum/election-links';
import type { HostPort } from '../../../src/server/quorum/election-wire';

export class MemSocket extends EventEmitter implements LinkSocket {
  peer?: MemSocket;
  closed = false;
  writableLength = 0;

  write(data: Buffer): boolean {
    if (this.closed) return false;
    const p = this.peer;
    const copy = Buffer.from(data);
    setImmediate(() => {
      if (p && !p.closed) p.emit('data', copy);
    });
    return true;
  }

  end(): void {
    this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => this.emit('close'));
    const p = this.peer;
    if (p) setImmediate(() => p.destroy());
  }
}

const key = (a: HostPort) => `${a.host}:${a.port}`;

export class MemNetwork implements ElectionTransport {
  private listeners = new Map<string, (s: LinkSocket) => void>();
  readonly attempts: { to: string; at: number }[] = [];

  listen(addr: HostPort, onConnection: (s: LinkSocket) => void): Promise<{ close(): Promise<void> }> {
    this.listeners.set(key(addr), onConnection);
    return Promise.resolve({ close: async () => void this.listeners.delete(key(addr)) });
  }

  connect(addr: HostPort): LinkSocket {
    this.attempts.push({ to: key(addr), at: Date.now() });
    const a = new MemSocket();
    setImmediate(() => {
      const l = this.listeners.get(key(addr));
      if (!l) {
        a.emit('error', new Error(`connect ECONNREFUSED ${key(addr)}`));
        a.destroy();
        return;
      }
      const b = new MemSocket();
      a.peer = b;
      b.peer = a;
      l(b);
      a.emit('connect');
    });
    return a;
  }

  /** A raw listener: every connection's bytes, for checking what a node sent. */
  rawListener(addr: HostPort): { sockets: MemSocket[]; bytes: (i: number) => Buffer } {
    const sockets: MemSocket[] = [];
    const chunks = new Map<MemSocket, Buffer[]>();
    this.listeners.set(key(addr), (s) => {
      const m = s as MemSocket;
      sockets.push(m);
      chunks.set(m, []);
      m.on('data', (d: Buffer) => chunks.get(m)!.push(d));
    });
    return { sockets, bytes: (i) => Buffer.concat(chunks.get(sockets[i]) ?? []) };
  }
}
