/**
 * The election port's wire format, as Apache ZooKeeper 3.8 speaks it
 * (`QuorumCnxManager` + `FastLeaderElection`): the initial message a
 * connecting peer sends, the `int length` framing after it, and the
 * Notification a frame carries. Pure functions over Buffers: no socket.
 *
 * Initial message: `long protocolVersion` (-65536 = V1, one "host:port";
 * -65535 = V2, "h1:p1|h2:p2"), `long sid`, `int len` (1..2048), `len` bytes
 * of UTF-8 address. A first long >= 0 is a pre-3.5 peer's bare sid.
 *
 * Notification (big-endian): int state, long leader, long zxid, long
 * electionEpoch, long peerEpoch, int version (2), int configLength, config.
 * Older peers send 28 bytes (no peerEpoch) or 40 bytes (no version); Apache
 * reads those too, and so do we.
 */
import { epochOf } from '../zxid';

/** Apache's default initial-message version (multiAddress.enabled=false). */
export const PROTOCOL_VERSION_V1 = -65536n;
/** Sent only with multiAddress.enabled=true: the address is "h1:p1|h2:p2". */
export const PROTOCOL_VERSION_V2 = -65535n;
/** Apache's bound on the initial message's address string (`maxBuffer`). */
export const MAX_INITIAL_ADDRESS_BYTES = 2048;
/** Apache's bound on one election frame (`QuorumCnxManager.PACKETMAXSIZE`). */
export const MAX_ELECTION_FRAME = 524288;
/** `Notification.CURRENTVERSION`: the version carrying the config text. */
export const NOTIFICATION_VERSION = 2;
/** `QuorumPeer.OBSERVER_ID`: an old observer with no id of its own. */
export const OBSERVER_ID = 0x7fffffffffffffffn;

/** `QuorumPeer.ServerState` ordinals, as the notification carries them. */
export enum ServerState {
  LOOKING = 0,
  FOLLOWING = 1,
  LEADING = 2,
  OBSERVING = 3,
}

/** Something a peer sent on the election port that cannot be right; the link must be closed. */
export class ElectionWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** What a connecting peer says about itself before any notification. */
export interface InitialMessage {
  /** V1, V2, or the sid itself (>= 0) for a pre-3.5 peer that sends a bare sid. */
  protocolVersion: bigint;
  sid: bigint;
  /** Election addresses the peer can be reached on; empty for the bare-sid form or wildcard addresses. */
  addresses: HostPort[];
}

export interface HostPort {
  host: string;
  port: number;
}

/** One election notification. `state` stays a raw int: Apache drops unknown states rather than failing the link. */
export interface Notification {
  state: number;
  leader: bigint;
  zxid: bigint;
  electionEpoch: bigint;
  peerEpoch: bigint;
  /** 0 for the 28- and 40-byte legacy forms, otherwise as sent (2 today). */
  version: number;
  /** The sender's QuorumVerifier text (version > 1), decoded as UTF-8; undefined when absent. */
  config?: string;
}

/** Formats an address the way `NetUtils.formatInetAddr` does ("[::1]:p" for IPv6). */
export function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Encodes the initial message in one Buffer, to be sent in ONE write: Apache
 * reads the address with a single `read()`, so a split write can fail it.
 * Example: `encodeInitialMessage(3n, [{ host: '127.0.0.1', port: 3888 }])`
 */
export function encodeInitialMessage(sid: bigint, addresses: HostPort[], version = PROTOCOL_VERSION_V1): Buffer {
  if (version !== PROTOCOL_VERSION_V1 && version !== PROTOCOL_VERSION_V2) {
    throw new RangeError(`unknown election protocol version ${version}`);
  }
  if (addresses.length === 0) throw new RangeError('the initial message needs an address');
  if (version === PROTOCOL_VERSION_V1 && addresses.length > 1) {
    throw new RangeError('protocol V1 carries exactly one address');
  }
  const addr = Buffer.from(addresses.map(formatHostPort).join('|'), 'utf8');
  if (addr.length > MAX_INITIAL_ADDRESS_BYTES) throw new RangeError(`address string of ${addr.length} bytes exceeds ${MAX_INITIAL_ADDRESS_BYTES}`);
  const out = Buffer.allocUnsafe(20 + addr.length);
  out.writeBigInt64BE(version, 0);
  out.writeBigInt64BE(sid, 8);
  out.writeInt32BE(addr.length, 16);
  addr.copy(out, 20);
  return out;
}

/** Splits "host:port" or "[v6]:port" like `ConfigUtils.getHostAndPort`; throws on a bad form. */
function parseHostPort(s: string): HostPort {
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') throw new ElectionWireError(`badly formed address: ${JSON.stringify(s)}`);
    host = s.slice(1, close);
    portText = s.slice(close + 2);
  } else {
    const parts = s.split(':');
    if (parts.length !== 2) throw new ElectionWireError(`badly formed address: ${JSON.stringify(s)}`);
    [host, portText] = parts;
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new ElectionWireError(`bad port number in ${JSON.stringify(s)}`);
  return { host, port: Number(portText) };
}

const WILDCARDS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

/**
 * Parses an initial message from the start of `buf`. Returns undefined when
 * more bytes are needed, otherwise the message and how many bytes it took.
 * Throws ElectionWireError on an unknown negative version, a length outside
 * 1..2048, or a badly formed address (Apache closes the socket in each case).
 */
export function parseInitialMessage(buf: Buffer): { message: InitialMessage; consumed: number } | undefined {
  if (buf.length < 8) return undefined;
  const first = buf.readBigInt64BE(0);
  if (first >= 0n) {
    // A pre-3.5 peer sends only its sid.
    return { message: { protocolVersion: first, sid: first, addresses: [] }, consumed: 8 };
  }
  if (first !== PROTOCOL_VERSION_V1 && first !== PROTOCOL_VERSION_V2) {
    throw new ElectionWireError(`unrecognized election protocol version ${first}`);
  }
  if (buf.length < 20) return undefined;
  const sid = buf.readBigInt64BE(8);
  const len = buf.readInt32BE(16);
  if (len <= 0 || len > MAX_INITIAL_ADDRESS_BYTES) {
    throw new ElectionWireError(`unreasonable initial message length ${len} from sid ${sid}`);
  }
  if (buf.length < 20 + len) return undefined;
  const text = buf.toString('utf8', 20, 20 + len);
  const addresses: HostPort[] = [];
  for (const part of text.split('|')) {
    const a = parseHostPort(part);
    if (!WILDCARDS.has(a.host)) addresses.push(a);
  }
  return { message: { protocolVersion: first, sid, addresses }, consumed: 20 + len };
}

/** Encodes a version-2 notification (the only form Apache 3.8 sends). */
export function encodeNotification(n: Omit<Notification, 'version'> & { version?: number }): Buffer {
  const cfg = Buffer.from(n.config ?? '', 'utf8');
  const out = Buffer.allocUnsafe(44 + cfg.length);
  out.writeInt32BE(n.state, 0);
  out.writeBigInt64BE(n.leader, 4);
  out.writeBigInt64BE(n.zxid, 12);
  out.writeBigInt64BE(n.electionEpoch, 20);
  out.writeBigInt64BE(n.peerEpoch, 28);
  out.writeInt32BE(n.version ?? NOTIFICATION_VERSION, 36);
  out.writeInt32BE(cfg.length, 40);
  cfg.copy(out, 44);
  return out;
}


/**
 * Decodes one notification frame payload as `WorkerReceiver.run` does:
 * 28 bytes = legacy (peerEpoch from the zxid), 40 bytes = no version, else
 * versioned, with the config text when version > 1. Apache silently skips a
 * short message; we throw ElectionWireError so the link layer can log it and
 * close the link, as it does for any frame that cannot be right (short,
 * truncated config, negative config length, trailing bytes).
 */
export function decodeNotification(buf: Buffer): Notification {
  if (buf.length < 28) throw new ElectionWireError(`notification of ${buf.length} bytes is shorter than 28`);
  const state = buf.readInt32BE(0);
  const leader = buf.readBigInt64BE(4);
  const zxid = buf.readBigInt64BE(12);
  const electionEpoch = buf.readBigInt64BE(20);
  if (buf.length === 28) return { state, leader, zxid, electionEpoch, peerEpoch: epochOf(zxid), version: 0 };
  if (buf.length < 36) throw new ElectionWireError(`notification of ${buf.length} bytes: truncated peerEpoch`);
  const peerEpoch = buf.readBigInt64BE(28);
  if (buf.length === 40) return { state, leader, zxid, electionEpoch, peerEpoch, version: 0 };
  if (buf.length < 40) throw new ElectionWireError(`notification of ${buf.length} bytes: truncated version`);
  const version = buf.readInt32BE(36);
  if (version <= 1) {
    // Version 1 (3.4.6+) ends at the version; Apache ignores anything after it.
    return { state, leader, zxid, electionEpoch, peerEpoch, version };
  }
  if (buf.length < 44) throw new ElectionWireError(`notification v${version} of ${buf.length} bytes: no config length`);
  const configLength = buf.readInt32BE(40);
  if (configLength < 0 || configLength > buf.length - 44) {
    throw new ElectionWireError(`notification config length ${configLength} does not fit in ${buf.length - 44} bytes`);
  }
  const config = buf.toString('utf8', 44, 44 + configLength);
  return { state, leader, zxid, electionEpoch, peerEpoch, version, config };
}

/** The `version=<hex>` line of a QuorumVerifier text, or undefined when missing or malformed. */
export function configVersionOf(config: string): bigint | undefined {
  const m = /(?:^|\n)version=([0-9a-fA-F]{1,16})\s*$/.exec(config);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/** What one chunk of an inbound election stream yielded. */
export interface ElectionStreamEvents {
  /** Set once, when the initial message completes (inbound links only). */
  initial?: InitialMessage;
  /** Complete frame payloads, in order. */
  frames: Buffer[];
}

/**
 * Splits an election-port byte stream: optionally the initial message, then
 * `int length` frames of 1..524288 bytes (`RecvWorker.run` drops the link on
 * anything else). Takes chunks of any size; throws ElectionWireError on bad
 * input, after which the stream cannot be trusted and the link must close.
 * The push that completes the initial message returns only it.
 */
export class ElectionStreamDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private needInitial: boolean;

  constructor(opts: { expectInitialMessage: boolean; maxFrame?: number }) {
    this.needInitial = opts.expectInitialMessage;
    this.maxFrame = opts.maxFrame ?? MAX_ELECTION_FRAME;
  }

  private readonly maxFrame: number;

  /** Bytes held waiting for the rest of a message. */
  get pending(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): ElectionStreamEvents {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const events: ElectionStreamEvents = { frames: [] };
    if (this.needInitial) {
      const init = parseInitialMessage(this.buf);
      if (!init) return events;
      this.needInitial = false;
      events.initial = init.message;
      this.buf = this.buf.subarray(init.consumed);
      // Stop here: the caller decides whether to accept this peer before any
      // frame is parsed; `push(Buffer.alloc(0))` then yields what followed.
      return events;
    }
    let pos = 0;
    while (this.buf.length - pos >= 4) {
      const len = this.buf.readInt32BE(pos);
      if (len <= 0 || len > this.maxFrame) {
        throw new ElectionWireError(`election frame length ${len} outside 1..${this.maxFrame}`);
      }
      if (this.buf.length - pos - 4 < len) break;
      events.frames.push(this.buf.subarray(pos + 4, pos + 4 + len));
      pos += 4 + len;
    }
    this.buf = this.buf.subarray(pos);
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
    return events;
  }
}

/** Prefixes a payload with its `int length`, as `SendWorker.send` does. */
export function frameElectionMessage(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}
