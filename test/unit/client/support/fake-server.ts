/**
 * A scripted ZooKeeper server on a real loopback socket, for testing how the
 * client handles what a real server never sends (malformed or oversized
 * frames, replies out of order) and connection loss at chosen moments.
 * Each accepted connection is exposed as a FakeConnection: the test reads
 * the client's frames and writes whatever bytes it wants back. A connection
 * that opens with a four-letter word (`isro`, `ruok`...) is answered from
 * `fourLetterWords` and closed, like a real server's, and only logged.
 */
import * as net from 'net';
import { FrameDecoder, JuteReader, JuteWriter } from '../../../../src/jute';

export interface ClientFrame {
  /** The ConnectRequest (first frame), decoded. */
  connect?: { lastZxidSeen: bigint; timeOut: number; sessionId: bigint; passwd: Buffer | null; readOnly: boolean };
  xid: number;
  type: number;
  /** The body after the RequestHeader. */
  body: JuteReader;
}

export class FakeConnection {
  private frames: ClientFrame[] = [];
  private waiters: ((f: ClientFrame) => void)[] = [];
  private readonly decoder = new FrameDecoder(16 << 20);
  private first = true;
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket, initial?: Buffer) {
    const onData = (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) {
        const r = new JuteReader(frame);
        let f: ClientFrame;
        if (this.first) {
          this.first = false;
          r.readInt();
          const connect = { lastZxidSeen: r.readLong(), timeOut: r.readInt(), sessionId: r.readLong(), passwd: r.readBuffer(), readOnly: r.remaining > 0 ? r.readBool() : false };
          f = { connect, xid: 0, type: -10, body: r };
        } else {
          f = { xid: r.readInt(), type: r.readInt(), body: r };
        }
        const w = this.waiters.shift();
        if (w) w(f);
        else this.frames.push(f);
      }
    };
    socket.on('data', onData);
    if (initial) onData(initial);
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** The next frame from the client, skipping pings unless asked for. */
  async next(opts: { pings?: boolean } = {}): Promise<ClientFrame> {
    for (;;) {
      const f = this.frames.shift() ?? (await new Promise<ClientFrame>((r) => this.waiters.push(r)));
      if (f.xid === -2 && !opts.pings) continue;
      return f;
    }
  }

  /** Answers the handshake. */
  accept(sessionId = 0x1234n, timeOut = 10_000, passwd = Buffer.alloc(16, 7), readOnly = false): void {
    const w = new JuteWriter();
    w.beginFrame().writeInt(0).writeInt(timeOut).writeLong(sessionId).writeBuffer(passwd).writeBool(readOnly).endFrame();
    this.socket.write(w.toBuffer());
  }

  /** Writes a reply: header, then whatever `body` writes. */
  reply(xid: number, zxid: bigint, err: number, body?: (w: JuteWriter) => void): void {
    this.socket.write(replyFrame(xid, zxid, err, body));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function replyFrame(xid: number, zxid: bigint, err: number, body?: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  w.beginFrame().writeInt(xid).writeLong(zxid).writeInt(err);
  body?.(w);
  w.endFrame();
  return w.toBuffer();
}

/** One four-letter word a client asked, and when. */
export interface FourLetterWordAsked {
  word: string;
  at: number;
}

export class FakeServer {
  private conns: FakeConnection[] = [];
  private waiters: ((c: FakeConnection) => void)[] = [];
  readonly all: FakeConnection[] = [];
  private readonly sockets = new Set<net.Socket>();
  /** Answers to four-letter words (e.g. `{ isro: 'rw' }`); a word not listed gets an empty answer. Tests may change it at any time. */
  fourLetterWords: Record<string, string> = {};
  /** Every four-letter word asked, in order. */
  readonly asked: FourLetterWordAsked[] = [];

  private constructor(private readonly server: net.Server, readonly port: number) {
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
      s.on('error', () => {});
      // Decide from the first 4 bytes: a four-letter word, or a client session.
      let head = Buffer.alloc(0);
      const classify = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        if (head.length < 4) return;
        s.removeListener('data', classify);
        const word = head.subarray(0, 4).toString('latin1');
        if (/^[a-z]{4}$/.test(word)) {
          this.asked.push({ word, at: Date.now() });
          s.end(this.fourLetterWords[word] ?? '');
          return;
        }
        const c = new FakeConnection(s, head);
        this.all.push(c);
        const w = this.waiters.shift();
        if (w) w(c);
        else this.conns.push(c);
      };
      s.on('data', classify);
    });
  }

  /** The four-letter words asked so far (just the words). */
  askedWords(): string[] {
    return this.asked.map((a) => a.word);
  }

  static async start(): Promise<FakeServer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakeServer(server, (server.address() as net.AddressInfo).port);
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The next connection the client opens. */
  connection(): Promise<FakeConnection> {
    const c = this.conns.shift();
    return c ? Promise.resolve(c) : new Promise((r) => this.waiters.push(r));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A loopback port with nothing listening on it. */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
