/**
 * A scripted learner on a real leader's quorum port, built only from
 * quorum-wire.ts: it sends what the test tells it to, hands the test every
 * packet and snapshot the leader sends in order, and answers the leader's
 * PINGs by itself once synced (as Learner.ping does, at any moment after
 * UPTODATE: a test awaiting a client call must not let the leader's
 * syncLimit run out). A PING during the sync is not answered, as Apache's
 * syncWithLeader skips it: Apache's LearnerHandler reads the packet after
 * NEWLEADER as its ACK and drops a learner that sends a PING there. No jest
 * globals.
 */
import * as net from 'net';
import {
  QuorumPacketData,
  QuorumPacketType,
  QuorumStreamDecoder,
  QuorumStreamEvent,
  SessionTouch,
  encodePingData,
  encodeQuorumPacket,
  quorumPacket,
} from '../../../src/server/quorum/quorum-wire';

export interface AnsweredPing {
  ping: QuorumPacketData;
  reply: QuorumPacketData;
}

export class ScriptedLearner {
  /** Every PING the leader sent and the reply we wrote. */
  readonly pings: AnsweredPing[] = [];
  /** Every event decoded, PINGs included, in stream order. */
  readonly decoded: QuorumStreamEvent[] = [];
  /** The sessions each PING reply touches (Learner.ping's touch table); none unless set. */
  touches: () => SessionTouch[] = () => [];
  private readonly decoder = new QuorumStreamDecoder();
  private readonly queue: QuorumStreamEvent[] = [];
  private readonly raw: Buffer[] = [];
  private waiter?: () => void;
  /** UPTODATE seen on this connection: PINGs are answered from then on. */
  private upToDate = false;
  private ended?: Error;

  private constructor(
    private readonly sock: net.Socket,
    private readonly log: (m: string) => void,
  ) {
    sock.on('data', (chunk) => {
      if (this.ended) return;
      this.raw.push(chunk);
      let events: QuorumStreamEvent[];
      try {
        events = this.decoder.push(chunk);
      } catch (e) {
        this.end(e as Error);
        sock.destroy();
        return;
      }
      this.decoded.push(...events);
      for (const ev of events) {
        if (ev.kind === 'packet' && ev.packet.type === QuorumPacketType.UPTODATE) this.upToDate = true;
        if (ev.kind === 'packet' && ev.packet.type === QuorumPacketType.PING && this.upToDate) {
          const reply = quorumPacket(QuorumPacketType.PING, ev.packet.zxid, encodePingData(this.touches()), ev.packet.authinfo);
          this.pings.push({ ping: ev.packet, reply });
          sock.write(encodeQuorumPacket(reply));
        } else {
          this.queue.push(ev);
        }
      }
      this.wake();
    });
    sock.on('error', (e) => this.end(e));
    sock.on('close', () => this.end(new Error('the leader closed the quorum connection')));
  }

  static connect(host: string, port: number, log: (m: string) => void, timeoutMs = 10_000): Promise<ScriptedLearner> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.setNoDelay(true);
        log(`learner: connected to ${host}:${port}`);
        resolve(new ScriptedLearner(sock, log));
      });
    });
  }

  send(p: QuorumPacketData): void {
    this.log(`learner: -> ${QuorumPacketType[p.type] ?? p.type} 0x${BigInt.asUintN(64, p.zxid).toString(16)}`);
    this.sock.write(encodeQuorumPacket(p));
  }

  /** The next non-PING event, waiting up to `timeoutMs`. */
  async next(timeoutMs = 10_000): Promise<QuorumStreamEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.ended) throw this.ended;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no packet from the leader within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const ev = this.queue.shift()!;
    this.log(`learner: <- ${ev.kind === 'packet' ? `${QuorumPacketType[ev.packet.type] ?? ev.packet.type} 0x${BigInt.asUintN(64, ev.packet.zxid).toString(16)}` : `snapshot of ${[...ev.snapshot.nodes].length} nodes`}`);
    return ev;
  }

  /** The next non-PING event, which must be a packet of `type`. */
  async expect(type: QuorumPacketType, timeoutMs = 10_000): Promise<QuorumPacketData> {
    const ev = await this.next(timeoutMs);
    if (ev.kind !== 'packet' || ev.packet.type !== type) {
      const got = ev.kind === 'packet' ? `${QuorumPacketType[ev.packet.type] ?? ev.packet.type}` : 'a snapshot';
      throw new Error(`expected ${QuorumPacketType[type]} from the leader, got ${got}`);
    }
    return ev.packet;
  }

  /** Waits until `ms` pass with no non-PING event; throws if one arrives. */
  async expectQuiet(ms: number): Promise<void> {
    try {
      const ev = await this.next(ms);
      throw new Error(`expected nothing but PINGs for ${ms} ms, got ${JSON.stringify(ev, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
    } catch (e) {
      if (!/no packet from the leader/.test((e as Error).message)) throw e;
    }
  }

  /** Every byte the leader sent on this connection. */
  get receivedBytes(): Buffer {
    return Buffer.concat(this.raw);
  }

  /** Received bytes not yet decoded (the start of a packet still arriving). */
  get undecoded(): number {
    return this.decoder.pending;
  }

  get closed(): boolean {
    return this.ended !== undefined;
  }

  close(): Promise<void> {
    if (this.sock.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.sock.once('close', () => resolve());
      this.sock.destroy();
    });
  }

  private end(e: Error): void {
    if (!this.ended) {
      this.ended = e;
      this.log(`learner: ended: ${e.message}`);
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
