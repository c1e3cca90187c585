/**
 * A deliberately dumb client-port connection for the fuzz tests: it writes
 * whatever bytes it is given (valid, mutated or random) and reports what the
 * server did about them — the frames it sent back, and whether and when it
 * closed the connection. It never validates what it sends; that is the point.
 */
import * as net from 'net';
import { FrameDecoder, JuteReader, JuteWriter } from '../../src/jute';
import type { Record } from '../../src/jute';
import { ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader } from '../../src/proto';

/** One reply frame split into its header and the undecoded body. */
export interface RawReply {
  xid: number;
  zxid: bigint;
  err: number;
  body: Buffer;
}

/** The bytes of a ConnectRequest frame, as a well-behaved client sends it first. */
export function connectFrame(timeOut = 30_000, sessionId = 0n, passwd: Buffer = Buffer.alloc(16)): Buffer {
  const w = new JuteWriter();
  w.beginFrame();
  new ConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut, sessionId, passwd, readOnly: false }).serialize(w);
  w.endFrame();
  return w.toBuffer();
}

/** The bytes of one request frame: RequestHeader(xid, type) + body. */
export function requestFrame(xid: number, type: number, body?: Record): Buffer {
  const w = new JuteWriter();
  w.beginFrame();
  new RequestHeader({ xid, type }).serialize(w);
  body?.serialize(w);
  w.endFrame();
  return w.toBuffer();
}

/** A frame whose 4-byte length prefix says `declared` but carries `payload` (any length). */
export function frameWithLength(declared: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(declared | 0);
  return Buffer.concat([head, payload]);
}

export class RawConnection {
  private readonly socket: net.Socket;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private readonly frames: Buffer[] = [];
  private wake: (() => void) | null = null;
  private _closed = false;
  /** Set when the server's bytes could not even be split into frames. */
  streamError: Error | null = null;
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this._closed = true;
        this.notify();
        resolve();
      });
    });
    // ECONNRESET and EPIPE are how a server hanging up on garbage often looks; 'close' follows.
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.frames.push(...this.decoder.push(chunk));
      } catch (err) {
        this.streamError = err as Error;
        socket.destroy();
      }
      this.notify();
    });
  }

  static open(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        s.removeAllListeners('error');
        resolve(new RawConnection(s));
      });
      s.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
  }

  get isClosed(): boolean {
    return this._closed;
  }

  /** Writes raw bytes; a write to a connection the server already closed is ignored. */
  write(bytes: Buffer): void {
    if (!this._closed && !this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Half-closes our side: the server sees EOF and must close its side too. */
  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The next frame from the server, or null if it closes (or `timeoutMs` passes) first. */
  async nextFrame(timeoutMs: number): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.shift();
      if (f) return f;
      if (this._closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Sends a ConnectRequest and decodes the ConnectResponse (null if the server hangs up instead). */
  async handshake(timeoutMs = 5000, timeOut = 30_000): Promise<ConnectResponse | null> {
    this.write(connectFrame(timeOut));
    const f = await this.nextFrame(timeoutMs);
    return f ? new ConnectResponse().deserialize(new JuteReader(f)) : null;
  }

  /** The next reply (header + body), or null on close or timeout. */
  async nextReply(timeoutMs: number): Promise<RawReply | null> {
    const f = await this.nextFrame(timeoutMs);
    if (!f) return null;
    const r = new JuteReader(f);
    const h = new ReplyHeader().deserialize(r);
    return { xid: h.xid, zxid: h.zxid, err: h.err, body: f.subarray(16) };
  }

  /** The next reply with this xid, skipping notifications and others; null on close or timeout. */
  async replyTo(xid: number, timeoutMs: number): Promise<RawReply | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.nextReply(Math.max(0, deadline - Date.now()));
      if (!r || r.xid === xid) return r;
    }
  }

  /** Resolves true if the server closes the connection within `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    if (this._closed) return true;
    let t: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      t = setTimeout(() => resolve(false), timeoutMs);
    });
    const r = await Promise.race([this.closed.then(() => true), timedOut]);
    clearTimeout(t);
    return r;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
