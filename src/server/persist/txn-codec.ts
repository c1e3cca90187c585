/**
 * One txn log entry, byte for byte as Apache's FileTxnLog writes it:
 *
 *   long   checksum   Adler32 of `payload` (zero-extended to 64 bits)
 *   int    length     payload length
 *   byte[] payload    TxnHeader, then the txn record (CreateTxn, ...), then
 *                     an optional TxnDigest (3.6+, zookeeper.digest.enabled)
 *   byte   0x42 'B'   end of record
 *
 * A reader tells "end of data" from a torn or corrupt entry by that shape:
 * zero checksum and zero length (the preallocated zero fill) is the end.
 */
import { JuteReader, JuteWriter } from '../../jute';
import type { Record as JuteRecord } from '../../jute/record';
import {
  CheckVersionTxn,
  CloseSessionTxn,
  CreateContainerTxn,
  CreateSessionTxn,
  CreateTTLTxn,
  CreateTxn,
  DeleteTxn,
  ErrorTxn,
  MultiTxn,
  OpCode,
  SetACLTxn,
  SetDataTxn,
  TxnDigest,
  TxnHeader,
} from '../../proto';
import { adler32 } from './checksums';
import type { TxnEntry } from './types';

/** 'B', written after every entry (Util.writeTxnBytes). */
export const END_OF_RECORD = 0x42;
/** checksum (8) + length (4) + EOR (1): the bytes an entry adds around its payload. */
export const ENTRY_OVERHEAD = 13;
/** TxnHeader is fixed-size: long clientId, int cxid, long zxid, long time, int type. */
export const TXN_HEADER_SIZE = 32;
/** TxnDigest {int version, long treeDigest}. */
export const TXN_DIGEST_SIZE = 12;

/** The payload Apache checksums: header + body + digest (Util.marshallTxnEntry). */
export function encodeTxnPayload(entry: TxnEntry, w = new JuteWriter(TXN_HEADER_SIZE + entry.body.length + TXN_DIGEST_SIZE)): Buffer {
  w.reset();
  entry.header.serialize(w);
  w.writeRaw(entry.body);
  if (entry.digest != null) entry.digest.serialize(w);
  return w.toBuffer();
}

/**
 * Appends one complete log record (checksum, length, payload, EOR) for `entry` to `w`.
 * The payload is serialized in place and the checksum and length patched in
 * afterwards, so a record costs no allocation of its own (the log writer
 * encodes every append this way into one reused buffer). If serializing
 * throws, `w` is left holding a partial record; TxnLogWriter cuts it off.
 */
export function writeLogRecord(w: JuteWriter, entry: TxnEntry): void {
  const start = w.length;
  // checksum (long) + length (int), patched below once the payload is there.
  w.writeInt(0).writeInt(0).writeInt(0);
  entry.header.serialize(w);
  w.writeRaw(entry.body);
  if (entry.digest != null) entry.digest.serialize(w);
  const end = w.length;
  const buf = w.view();
  const payloadStart = start + 12;
  // Adler32 is a 32-bit value written as a Java long: high word zero.
  buf.writeUInt32BE(adler32(buf, payloadStart, end), start + 4);
  buf.writeInt32BE(end - payloadStart, start + 8);
  w.writeByte(END_OF_RECORD);
}

/**
 * The txn record that follows a header of each type, as Apache's
 * SerializeUtils.deserializeTxn (3.8) reads it; `check` occurs only inside a
 * multi. The one table both for finding where a logged body ends and for
 * decoding bodies to apply.
 */
const TXN_RECORDS = new Map<number, (r: JuteReader) => JuteRecord>([
  [OpCode.createSession, (r) => CreateSessionTxn.decode(r)],
  [OpCode.closeSession, (r) => CloseSessionTxn.decode(r)],
  [OpCode.error, (r) => ErrorTxn.decode(r)],
  [OpCode.create, (r) => CreateTxn.decode(r)],
  [OpCode.create2, (r) => CreateTxn.decode(r)],
  [OpCode.createTTL, (r) => CreateTTLTxn.decode(r)],
  [OpCode.createContainer, (r) => CreateContainerTxn.decode(r)],
  [OpCode.delete, (r) => DeleteTxn.decode(r)],
  [OpCode.deleteContainer, (r) => DeleteTxn.decode(r)],
  [OpCode.setData, (r) => SetDataTxn.decode(r)],
  [OpCode.reconfig, (r) => SetDataTxn.decode(r)],
  [OpCode.setACL, (r) => SetACLTxn.decode(r)],
  [OpCode.check, (r) => CheckVersionTxn.decode(r)],
  [OpCode.multi, (r) => MultiTxn.decode(r)],
]);

/**
 * Decodes a txn body by its header type. Null for a type with no record and
 * for the empty body of a createSession/closeSession (older servers, and
 * zookeeper.closeSessionTxn.enabled=false, log none).
 */
export function decodeTxnBody(type: number, body: Buffer): JuteRecord | null {
  if (body.length === 0 && (type === OpCode.createSession || type === OpCode.closeSession)) return null;
  const decode = TXN_RECORDS.get(type);
  return decode === undefined ? null : decode(new JuteReader(body));
}

/**
 * Splits a checksummed payload into header, txn body and digest.
 *
 * Apache decides whether a digest is present by trying to read one after the
 * txn record (SerializeUtils.deserializeTxn: a TxnDigest if bytes remain,
 * none on EOF). We do the same: parse the body with the record its type
 * names to find where it ends; 12 or more bytes left over are a TxnDigest.
 * When the body does not parse as that record (a pre-3.x CreateTxnV0, a
 * closeSession written with zookeeper.closeSessionTxn.enabled=false, a type
 * we do not know), the whole remainder is the body and there is no digest,
 * which is what Apache concludes for those too.
 */
export function decodeTxnPayload(payload: Buffer): TxnEntry {
  const r = new JuteReader(payload);
  const header = TxnHeader.decode(r);
  const bodyStart = r.offset;
  const parse = TXN_RECORDS.get(header.type);
  let bodyEnd = payload.length;
  if (parse !== undefined) {
    try {
      parse(r);
      bodyEnd = r.offset;
    } catch {
      bodyEnd = payload.length;
    }
  }
  let digest: TxnDigest | null = null;
  if (payload.length - bodyEnd >= TXN_DIGEST_SIZE) {
    digest = TxnDigest.decode(new JuteReader(payload, bodyEnd));
  } else {
    bodyEnd = payload.length;
  }
  return { header, body: Buffer.from(payload.subarray(bodyStart, bodyEnd)), digest };
}
