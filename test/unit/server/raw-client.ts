/**
 * A minimal ZooKeeper client over raw jute frames, for byte-level server
 * tests: it does the handshake, sends requests, and hands back every frame
 * the server sends (replies and watch events) in arrival order, undecoded
 * except for the ReplyHeader.
 */
import * as net from 'node:net';
import { FrameDecoder, JuteReader, JuteWriter, type Record as JuteRecord } from '../../../src/jute';
import { ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, WatcherEvent } from '../../../src/proto';

export interface Frame {
  header: ReplyHeader;
  /** The bytes after the ReplyHeader. */
  body: Buffer;
  /** The whole payload (header + body), without the length prefix. */
  raw: Buffer;
}

export class RawClient {
  private decoder = new FrameDecoder(64 * 1024 * 1024);
  private frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  private closedFlag = false;
  connectResponse: ConnectResponse | null = null;
  connectRaw: Buffer | null = null;
  private xid = 1;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      for (const f of this.decoder.push(chunk)) {
        const payload = Buffer.from(f);
        if (!this.connectRaw) {
          this.connectRaw = payload;
          this.connectResponse = new ConnectResponse();
          const r = new JuteReader(payload);
          this.connectResponse.protocolVersion = r.readInt();
          this.connectResponse.timeOut = r.readInt();
          this.connectResponse.sessionId = r.readLong();
          this.connectResponse.passwd = r.readBuffer();
          this.connectResponse.readOnly = r.remaining > 0 ? r.readBool() : false;
        } else {
          const r = new JuteReader(payload);
          const header = new ReplyHeader().deserialize(r);
          this.frames.push({ header, body: payload.subarray(r.offset), raw: payload });
        }
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closedFlag = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const s = net.connect(port, host);
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('error', rej);
    });
    return new RawClient(s);
  }

  /** Opens and completes a handshake; resolves with the client once the ConnectResponse arrived. */
  static async connect(port: number, opts: Partial<ConnectRequest> & { omitReadOnly?: boolean } = {}): Promise<RawClient> {
    const c = await RawClient.open(port);
    c.sendConnect(opts);
    await c.waitFor(() => c.connectRaw !== null || c.closed);
    return c;
  }

  sendConnect(opts: Partial<ConnectRequest> & { omitReadOnly?: boolean } = {}): void {
    const w = new JuteWriter().beginFrame();
    w.writeInt(0);
    w.writeLong(opts.lastZxidSeen ?? 0n);
    w.writeInt(opts.timeOut ?? 30000);
    w.writeLong(opts.sessionId ?? 0n);
    w.writeBuffer(opts.passwd ?? Buffer.alloc(16));
    if (!opts.omitReadOnly) w.writeBool(opts.readOnly ?? false);
    w.endFrame();
    this.socket.write(w.toBuffer());
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Sends a request; returns its xid. */
  send(type: number, body: JuteRecord | Buffer | null, xid = this.xid++): number {
    const w = new JuteWriter().beginFrame();
    new RequestHeader({ xid, type }).serialize(w);
    if (Buffer.isBuffer(body)) w.writeRaw(body);
    else if (body) body.serialize(w);
    w.endFrame();
    this.socket.write(w.toBuffer());
    return xid;
  }

  writeRaw(b: Buffer): void {
    this.socket.write(b);
  }

  async waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the server');
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 50);
      });
    }
  }

  /** Waits for the reply with this xid; earlier frames (events, other replies) stay queued. */
  async reply(xid: number, timeoutMs = 5000): Promise<Frame> {
    let found: Frame | undefined;
    await this.waitFor(() => {
      const i = this.frames.findIndex((f) => f.header.xid === xid);
      if (i < 0) return false;
      found = this.frames.splice(i, 1)[0];
      return true;
    }, timeoutMs);
    return found!;
  }

  /** Sends and awaits the reply. */
  async call(type: number, body: JuteRecord | Buffer | null): Promise<Frame> {
    return this.reply(this.send(type, body));
  }

  /** All frames received and not yet taken, in order. */
  drain(): Frame[] {
    const f = this.frames;
    this.frames = [];
    return f;
  }

  peek(): readonly Frame[] {
    return this.frames;
  }

  /** The header of the last event returned by event(). */
  lastEventHeader: ReplyHeader | null = null;

  async event(timeoutMs = 5000): Promise<WatcherEvent> {
    let found: Frame | undefined;
    await this.waitFor(() => {
      const i = this.frames.findIndex((f) => f.header.xid === -1);
      if (i < 0) return false;
      found = this.frames.splice(i, 1)[0];
      return true;
    }, timeoutMs);
    this.lastEventHeader = found!.header;
    return new WatcherEvent().deserialize(new JuteReader(found!.body));
  }

  close(): void {
    this.socket.destroy();
  }
}

export function decode<T extends JuteRecord>(Ctor: new () => T, body: Buffer): T {
  return new Ctor().deserialize(new JuteReader(body));
}
