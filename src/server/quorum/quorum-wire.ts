/**
 * The quorum port's wire format (learner <-> leader), as Apache ZooKeeper
 * 3.8 speaks it (`Leader`, `LearnerHandler`, `Learner`): pure functions over
 * Buffers and a stream decoder, no socket. Facts: /work/shared/QUORUM-WIRE.md
 * section 3.
 *
 * The stream is back-to-back jute QuorumPacket records with no length
 * prefix and no initial header:
 *
 *   int type; long zxid; buffer data (-1 = null); vector<Id{ustring scheme; ustring id}> authinfo (-1 = null)
 *
 * with one exception: after a SNAP packet the leader writes the snapshot
 * body and the ustring "BenWasHere" raw, outside any packet (snap-sync.ts).
 *
 * Nulls are kept as null rather than folded into empty values, because
 * Apache writes -1 for most of its packets (LEADERINFO's authinfo, PING's
 * data and authinfo, ...) and a learner echoes a PING's authinfo as it came:
 * encoding what we decoded gives back the same bytes.
 */
import { JuteWriter } from '../../jute';
import type { IdFields } from '../../proto';
import { JUTE_READ_LIMIT, PendingBytes, SnapSyncBody, SnapSyncStreamReader, SnapSyncStreamReaderOptions } from '../persist/snap-sync';
import { decodeTxnPayload, encodeTxnPayload } from '../persist/txn-codec';
import type { TxnEntry } from '../persist/types';

/** `Leader`'s packet type constants. */
export enum QuorumPacketType {
  REQUEST = 1,
  PROPOSAL = 2,
  ACK = 3,
  COMMIT = 4,
  PING = 5,
  REVALIDATE = 6,
  SYNC = 7,
  INFORM = 8,
  COMMITANDACTIVATE = 9,
  NEWLEADER = 10,
  FOLLOWERINFO = 11,
  UPTODATE = 12,
  DIFF = 13,
  TRUNC = 14,
  SNAP = 15,
  OBSERVERINFO = 16,
  LEADERINFO = 17,
  ACKEPOCH = 18,
  INFORMANDACTIVATE = 19,
}

/** The Zab protocol version a 3.4+ peer announces in LearnerInfo and LEADERINFO (Zab 1.0). */
export const ZAB_PROTOCOL_VERSION = 0x10000;
/** ACKEPOCH's epoch when the learner had already accepted the new epoch: the leader must not count it. */
export const ACKEPOCH_ALREADY_ACCEPTED = -1n;
/**
 * Default bound on a packet's `data` and on every string in its authinfo:
 * Apache's own read limit (jute.maxbuffer 0xfffff + extrasize, which
 * defaults to jute.maxbuffer), so anything an Apache peer accepts we accept.
 */
export const DEFAULT_MAX_QUORUM_BUFFER = JUTE_READ_LIMIT;
/**
 * Default bound on a packet's authinfo count. Apache has none; the ids are a
 * client connection's auth (a handful), so this only stops a garbage count.
 */
export const DEFAULT_MAX_AUTHINFO = 1024;

/** One QuorumPacket. `type` stays a plain number: Apache logs and skips types it does not know. */
export interface QuorumPacketData {
  type: QuorumPacketType | number;
  zxid: bigint;
  /** null is -1 on the wire (what Apache sends for "no data"). */
  data: Buffer | null;
  /** null is -1 on the wire (what Apache sends for "no authinfo"). */
  authinfo: IdFields[] | null;
}

/** Something on the quorum port that cannot be right; the connection must be closed. */
export class QuorumWireError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A packet with no data and no authinfo, as Apache builds ACK, COMMIT, UPTODATE, PING, ... */
export function quorumPacket(type: QuorumPacketType | number, zxid: bigint, data: Buffer | null = null, authinfo: IdFields[] | null = null): QuorumPacketData {
  return { type, zxid, data, authinfo };
}

/** Encodes one packet (the stream has no framing of its own: write the bytes as they are). */
export function encodeQuorumPacket(p: QuorumPacketData): Buffer {
  const w = new JuteWriter(16 + (p.data?.length ?? 0) + 4);
  w.writeInt(p.type);
  w.writeLong(p.zxid);
  w.writeBuffer(p.data);
  w.writeVector(p.authinfo, (ww, id) => {
    ww.writeString(id.scheme);
    ww.writeString(id.id);
  });
  return w.toBuffer();
}

export interface QuorumDecoderOptions {
  /** Bound on `data` and on authinfo strings; DEFAULT_MAX_QUORUM_BUFFER unless given. */
  maxBuffer?: number;
  /** Bound on the authinfo count; DEFAULT_MAX_AUTHINFO unless given. */
  maxAuthInfo?: number;
  /**
   * Whether a SNAP packet is followed by a raw snapshot (true, the default:
   * the stream a learner reads from its leader). A leader's decoder of a
   * learner's stream sets false: a learner never sends SNAP, and Apache's
   * LearnerHandler only logs an unexpected type.
   */
  snapshotAfterSnap?: boolean;
  /** Passed to the SnapSyncStreamReader of each SNAP (see its nodeSink). */
  nodeSink?: SnapSyncStreamReaderOptions['nodeSink'];
}

/** One thing a quorum stream yielded, in stream order. */
export type QuorumStreamEvent =
  | { kind: 'packet'; packet: QuorumPacketData }
  /** The snapshot that followed the SNAP packet just before it (`zxid` = that packet's). */
  | { kind: 'snapshot'; zxid: bigint; snapshot: SnapSyncBody };

/** Parses one packet at `pos`: the packet and its end, or the bytes it needs (at least) when incomplete. */
function parsePacket(buf: Buffer, pos: number, maxBuffer: number, maxAuthInfo: number): { packet: QuorumPacketData; end: number } | { need: number } {
  const avail = buf.length - pos;
  if (avail < 16) return { need: 16 };
  const type = buf.readInt32BE(pos);
  const zxid = buf.readBigInt64BE(pos + 4);
  const dataLen = buf.readInt32BE(pos + 12);
  if (dataLen < -1 || dataLen > maxBuffer) {
    throw new QuorumWireError(`quorum packet type ${type}: data length ${dataLen} outside -1..${maxBuffer}`);
  }
  let at = 16 + Math.max(0, dataLen);
  if (avail < at + 4) return { need: at + 4 };
  const count = buf.readInt32BE(pos + at);
  if (count < -1 || count > maxAuthInfo) {
    throw new QuorumWireError(`quorum packet type ${type}: authinfo count ${count} outside -1..${maxAuthInfo}`);
  }
  at += 4;
  let authinfo: IdFields[] | null = null;
  if (count >= 0) {
    authinfo = [];
    for (let i = 0; i < count; i++) {
      const scheme = readString(buf, pos, at, maxBuffer, type);
      if (typeof scheme === 'number') return { need: scheme };
      at = scheme.end;
      const id = readString(buf, pos, at, maxBuffer, type);
      if (typeof id === 'number') return { need: id };
      at = id.end;
      // Jute's Id strings may be null on the wire; Apache's records hold them as null too.
      authinfo.push({ scheme: scheme.value as string, id: id.value as string });
    }
  }
  // Copied, so a packet kept for long (a pending proposal) does not pin the chunk it came in.
  const data = dataLen === -1 ? null : Buffer.from(buf.subarray(pos + 16, pos + 16 + dataLen));
  return { packet: { type, zxid, data, authinfo }, end: pos + at };
}

/** A ustring at pos+at: its value and end (relative to pos), or the bytes needed (relative to pos). */
function readString(buf: Buffer, pos: number, at: number, maxBuffer: number, type: number): { value: string | null; end: number } | number {
  if (buf.length - pos < at + 4) return at + 4;
  const len = buf.readInt32BE(pos + at);
  if (len < -1 || len > maxBuffer) throw new QuorumWireError(`quorum packet type ${type}: authinfo string length ${len} outside -1..${maxBuffer}`);
  if (len === -1) return { value: null, end: at + 4 };
  if (buf.length - pos < at + 4 + len) return at + 4 + len;
  return { value: buf.toString('utf8', pos + at + 4, pos + at + 4 + len), end: at + 4 + len };
}

/**
 * Splits a quorum-port byte stream into packets, and after a SNAP packet
 * (on a learner's stream) into the snapshot that follows it, then packets
 * again. Takes chunks of any size and keeps only the unfinished item's
 * bytes: a large packet or snapshot arriving in small chunks is copied once,
 * not once per chunk, and never re-parsed from its start.
 *
 * Every length is checked before its bytes are waited for (data -1..maxBuffer,
 * authinfo count -1..maxAuthInfo, strings -1..maxBuffer; the snapshot's own
 * bounds in SnapSyncStreamReader), so a bogus length fails at once instead
 * of holding the stream. Any bad input throws QuorumWireError; the stream
 * cannot be trusted after that and every later push throws too.
 *
 * Example: `for (const ev of decoder.push(chunk)) if (ev.kind === 'packet') handle(ev.packet);`
 */
export class QuorumStreamDecoder {
  private readonly held = new PendingBytes();
  private snap?: { zxid: bigint; reader: SnapSyncStreamReader };
  private need = 0;
  private failed?: QuorumWireError;
  private readonly maxBuffer: number;
  private readonly maxAuthInfo: number;
  private readonly snapshotAfterSnap: boolean;
  private readonly nodeSink: QuorumDecoderOptions['nodeSink'];

  constructor(opts: QuorumDecoderOptions = {}) {
    this.nodeSink = opts.nodeSink;
    this.maxBuffer = opts.maxBuffer ?? DEFAULT_MAX_QUORUM_BUFFER;
    this.maxAuthInfo = opts.maxAuthInfo ?? DEFAULT_MAX_AUTHINFO;
    this.snapshotAfterSnap = opts.snapshotAfterSnap ?? true;
  }

  /** Bytes held waiting for the rest of a packet or snapshot item. */
  get pending(): number {
    return this.held.length + (this.snap?.reader.buffered ?? 0);
  }

  /** True while the bytes being read are a snapshot's (after SNAP, before "BenWasHere"). */
  get inSnapshot(): boolean {
    return this.snap !== undefined;
  }

  push(chunk: Buffer): QuorumStreamEvent[] {
    if (this.failed) throw this.failed;
    try {
      const events: QuorumStreamEvent[] = [];
      let input = chunk;
      for (;;) {
        if (this.snap) {
          const done = this.snap.reader.push(input);
          if (!done) return events;
          events.push({ kind: 'snapshot', zxid: this.snap.zxid, snapshot: done.body });
          this.snap = undefined;
          input = done.rest;
        }
        this.held.push(input);
        if (this.held.length < this.need) return events;
        const after = this.readPackets(events);
        if (after === undefined) return events;
        // A SNAP ended the packets: what followed it is the snapshot.
        input = after;
      }
    } catch (e) {
      this.failed = e instanceof QuorumWireError ? e : new QuorumWireError(`quorum stream: ${(e as Error).message}`, { cause: e });
      throw this.failed;
    }
  }

  /** Parses whole packets from the pending bytes; returns the bytes after a SNAP packet, or undefined when it needs more. */
  private readPackets(events: QuorumStreamEvent[]): Buffer | undefined {
    const buf = this.held.view();
    let pos = 0;
    for (;;) {
      const r = parsePacket(buf, pos, this.maxBuffer, this.maxAuthInfo);
      if ('need' in r) {
        this.held.consume(pos);
        this.need = r.need;
        return undefined;
      }
      events.push({ kind: 'packet', packet: r.packet });
      pos = r.end;
      if (r.packet.type === QuorumPacketType.SNAP && this.snapshotAfterSnap) {
        this.snap = { zxid: r.packet.zxid, reader: new SnapSyncStreamReader({ maxBuffer: this.maxBuffer, nodeSink: this.nodeSink }) };
        this.held.consume(pos);
        this.need = 0;
        return this.held.drain();
      }
    }
  }
}

// Payloads, by packet. Every decoder takes a packet's `data` and throws
// QuorumWireError when it cannot be that payload.

function requireData(data: Buffer | null, min: number, what: string): Buffer {
  if (data === null) throw new QuorumWireError(`${what}: no data`);
  if (data.length < min) throw new QuorumWireError(`${what}: ${data.length} bytes, need ${min}`);
  return data;
}

/** FOLLOWERINFO / OBSERVERINFO payload. */
export interface LearnerInfoData {
  sid: bigint;
  /** ZAB_PROTOCOL_VERSION for 3.4+; 0 when the learner sent only its sid (pre-1.0). */
  protocolVersion: number;
  /** The learner's QuorumVerifier version; null when it sent none (pre-3.5). */
  configVersion: bigint | null;
}

/** LearnerInfo{long sid; int protocolVersion; long configVersion}: 20 bytes. */
export function encodeLearnerInfo(info: { sid: bigint; protocolVersion?: number; configVersion: bigint }): Buffer {
  const out = Buffer.allocUnsafe(20);
  out.writeBigInt64BE(info.sid, 0);
  out.writeInt32BE(info.protocolVersion ?? ZAB_PROTOCOL_VERSION, 8);
  out.writeBigInt64BE(info.configVersion, 12);
  return out;
}

/**
 * Reads LearnerInfo as LearnerHandler.run does: the sid from 8 bytes, the
 * protocol version from 12, the config version from 20. Apache numbers a
 * learner with no data itself (getAndDecrementFollowerCounter); we refuse it.
 */
export function decodeLearnerInfo(data: Buffer | null): LearnerInfoData {
  const b = requireData(data, 8, 'LearnerInfo');
  return {
    sid: b.readBigInt64BE(0),
    protocolVersion: b.length >= 12 ? b.readInt32BE(8) : 0,
    configVersion: b.length >= 20 ? b.readBigInt64BE(12) : null,
  };
}

/** LEADERINFO payload: int protocol version. */
export function encodeLeaderInfoData(protocolVersion = ZAB_PROTOCOL_VERSION): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeInt32BE(protocolVersion, 0);
  return out;
}

export function decodeLeaderInfoData(data: Buffer | null): number {
  return requireData(data, 4, 'LEADERINFO').readInt32BE(0);
}

/**
 * ACKEPOCH payload: int currentEpoch, or ACKEPOCH_ALREADY_ACCEPTED. Java
 * casts the long epoch to int, so an epoch past 2^31 wraps as it does there.
 */
export function encodeAckEpochData(currentEpoch: bigint): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeInt32BE(Number(BigInt.asIntN(32, currentEpoch)), 0);
  return out;
}

/** The epoch as the leader reads it (int widened to long): -1n means "already accepted, do not count". */
export function decodeAckEpochData(data: Buffer | null): bigint {
  return BigInt(requireData(data, 4, 'ACKEPOCH').readInt32BE(0));
}

/** PROPOSAL and INFORM payload: TxnHeader, txn record, optional TxnDigest (as in a txn log entry). */
export function encodeProposalData(txn: TxnEntry): Buffer {
  return encodeTxnPayload(txn);
}

export function decodeProposalData(data: Buffer | null): TxnEntry {
  const b = requireData(data, 32, 'PROPOSAL');
  try {
    return decodeTxnPayload(b);
  } catch (e) {
    throw new QuorumWireError(`PROPOSAL: ${(e as Error).message}`, { cause: e });
  }
}

/** A client request a learner forwards: the RequestHeader's session, xid and type, then the request record's bytes. */
export interface ForwardedRequest {
  sessionId: bigint;
  cxid: number;
  type: number;
  /** The request record after the RequestHeader (CreateRequest, ...); empty for none. */
  body: Buffer;
}

export function encodeRequestData(req: ForwardedRequest): Buffer {
  const out = Buffer.allocUnsafe(16 + req.body.length);
  out.writeBigInt64BE(req.sessionId, 0);
  out.writeInt32BE(req.cxid, 8);
  out.writeInt32BE(req.type, 12);
  req.body.copy(out, 16);
  return out;
}

export function decodeRequestData(data: Buffer | null): ForwardedRequest {
  const b = requireData(data, 16, 'REQUEST');
  return { sessionId: b.readBigInt64BE(0), cxid: b.readInt32BE(8), type: b.readInt32BE(12), body: Buffer.from(b.subarray(16)) };
}

/** REVALIDATE, learner -> leader: long sessionId, int timeout. */
export function encodeRevalidateRequest(r: { sessionId: bigint; timeout: number }): Buffer {
  const out = Buffer.allocUnsafe(12);
  out.writeBigInt64BE(r.sessionId, 0);
  out.writeInt32BE(r.timeout, 8);
  return out;
}

export function decodeRevalidateRequest(data: Buffer | null): { sessionId: bigint; timeout: number } {
  const b = requireData(data, 12, 'REVALIDATE request');
  return { sessionId: b.readBigInt64BE(0), timeout: b.readInt32BE(8) };
}

/** REVALIDATE, leader -> learner: long sessionId, boolean valid (DataOutputStream: one byte 1/0). */
export function encodeRevalidateReply(r: { sessionId: bigint; valid: boolean }): Buffer {
  const out = Buffer.allocUnsafe(9);
  out.writeBigInt64BE(r.sessionId, 0);
  out.writeUInt8(r.valid ? 1 : 0, 8);
  return out;
}

export function decodeRevalidateReply(data: Buffer | null): { sessionId: bigint; valid: boolean } {
  const b = requireData(data, 9, 'REVALIDATE reply');
  return { sessionId: b.readBigInt64BE(0), valid: b[8] !== 0 };
}

/** One session a learner's clients kept alive since its last PING reply. */
export interface SessionTouch {
  sessionId: bigint;
  timeout: number;
}

/**
 * A learner's PING reply data: (long sessionId, int timeout) per touched
 * session, possibly none. Never null: the leader wraps it in a stream
 * without a null check.
 */
export function encodePingData(touches: readonly SessionTouch[]): Buffer {
  const out = Buffer.allocUnsafe(12 * touches.length);
  touches.forEach((t, i) => {
    out.writeBigInt64BE(t.sessionId, 12 * i);
    out.writeInt32BE(t.timeout, 12 * i + 8);
  });
  return out;
}

/**
 * The touches in a PING reply; [] for the leader's own PING (null data).
 * A length that is not a multiple of 12 is an error (Apache's leader hits
 * EOF reading it and drops the learner).
 */
export function decodePingData(data: Buffer | null): SessionTouch[] {
  if (data === null) return [];
  if (data.length % 12 !== 0) throw new QuorumWireError(`PING: ${data.length} bytes is not a list of (long, int) pairs`);
  const out: SessionTouch[] = [];
  for (let at = 0; at < data.length; at += 12) out.push({ sessionId: data.readBigInt64BE(at), timeout: data.readInt32BE(at + 8) });
  return out;
}

/** COMMITANDACTIVATE payload: long designated leader (the sid to lead after the reconfig). */
export function encodeCommitAndActivateData(designatedLeader: bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64BE(designatedLeader, 0);
  return out;
}

export function decodeCommitAndActivateData(data: Buffer | null): bigint {
  return requireData(data, 8, 'COMMITANDACTIVATE').readBigInt64BE(0);
}

/** INFORMANDACTIVATE payload: long designated leader, then the PROPOSAL data (a reconfig's SetDataTxn). */
export function encodeInformAndActivateData(m: { designatedLeader: bigint; txn: TxnEntry }): Buffer {
  return Buffer.concat([encodeCommitAndActivateData(m.designatedLeader), encodeTxnPayload(m.txn)]);
}

export function decodeInformAndActivateData(data: Buffer | null): { designatedLeader: bigint; txn: TxnEntry } {
  const b = requireData(data, 8 + 32, 'INFORMANDACTIVATE');
  return { designatedLeader: b.readBigInt64BE(0), txn: decodeProposalData(b.subarray(8)) };
}

/** NEWLEADER payload: the leader's QuorumVerifier text (QuorumVerifier.toString), UTF-8. */
export function encodeNewLeaderData(config: string): Buffer {
  return Buffer.from(config, 'utf8');
}

/**
 * The config text, or null when there is none. A Java learner uses it only
 * when it is longer than one byte, and a pre-1.0 leader sends null.
 */
export function decodeNewLeaderData(data: Buffer | null): string | null {
  return data === null || data.length <= 1 ? null : data.toString('utf8');
}
