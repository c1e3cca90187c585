/**
 * Reads Apache-format txn log files and finds where the good data ends.
 *
 * Apache's FileTxnIterator stops a file at the first entry that is empty
 * (zero length: the preallocated zero fill), incomplete or missing its 'B'
 * end-of-record byte, and moves on to the next file; a checksum mismatch is
 * fatal ("CRC check failed"). We read the same way, and in addition cut a
 * torn or corrupt tail off the file (truncate), so garbage never survives a
 * restart. A checksum mismatch that has a valid entry somewhere after it in
 * the same file is not a tail: it is reported (CorruptLogError), like Apache.
 */
import { promises as fsp } from 'fs';
import { JuteReader } from '../../jute';
import { FileHeader } from '../../proto';
import { adler32 } from './checksums';
import { BadLogHeaderError } from './errors';
import { END_OF_RECORD, TXN_HEADER_SIZE, decodeTxnPayload } from './txn-codec';
import type { TxnEntry } from './types';

/** 'ZKLG' as a big-endian int (FileTxnLog.TXNLOG_MAGIC). */
export const TXNLOG_MAGIC = 0x5a4b4c47;
export const TXNLOG_VERSION = 2;
export const FILE_HEADER_SIZE = 16;

/** How the readable part of a file ended. */
export type LogEnd =
  /** zero length where the next entry would be (preallocated fill), or exactly at EOF */
  | { kind: 'clean' }
  /** the last entry is cut short, runs past EOF, or lacks its 'B' */
  | { kind: 'torn'; detail: string }
  /** checksum mismatch, negative length or an unparsable header */
  | { kind: 'corrupt'; detail: string; followedByValidEntry: boolean };

export interface LogScan {
  file: string;
  /** 0 for an empty file (created, header never written). */
  size: number;
  /** False when the file is shorter than a FileHeader. */
  hasHeader: boolean;
  dbid: bigint;
  entries: TxnEntry[];
  /** Offset just past the last good entry (FILE_HEADER_SIZE when there is none). */
  validEnd: number;
  end: LogEnd;
}

/** The smallest possible entry: checksum, length, a bare TxnHeader, EOR. */
const MIN_ENTRY = 12 + TXN_HEADER_SIZE + 1;

/** A file read in growing chunks, so a 64 MB preallocated log full of zeros is not read whole. */
class FileWindow {
  buf: Buffer = Buffer.alloc(0);
  private loaded = 0;

  constructor(
    private readonly fh: fsp.FileHandle,
    readonly size: number,
  ) {}

  /** Makes bytes [0, end) available (clamped to the file size); returns how many are. */
  async ensure(end: number): Promise<number> {
    const want = Math.min(end, this.size);
    if (want <= this.loaded) return this.loaded;
    const target = Math.min(this.size, Math.max(want, this.loaded * 2, 1 << 20));
    const next = Buffer.alloc(target);
    this.buf.copy(next, 0, 0, this.loaded);
    let off = this.loaded;
    while (off < target) {
      const { bytesRead } = await this.fh.read(next, off, target - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    this.buf = next;
    this.loaded = off;
    return this.loaded;
  }
}

/** Looks for any complete, checksum-valid entry starting after `from` (the evidence that damage at `from` is not a tail). */
async function validEntryAfter(win: FileWindow, from: number): Promise<boolean> {
  const have = await win.ensure(win.size);
  const buf = win.buf;
  for (let pos = from + 1; pos + MIN_ENTRY <= have; pos++) {
    const len = buf.readInt32BE(pos + 8);
    if (len < TXN_HEADER_SIZE || pos + 12 + len + 1 > have) continue;
    if (buf[pos + 12 + len] !== END_OF_RECORD) continue;
    const crc = buf.readBigUInt64BE(pos);
    if (crc > 0xffffffffn) continue;
    if (Number(crc) === adler32(buf, pos + 12, pos + 12 + len)) return true;
  }
  return false;
}

/** Reads every good entry of one log file and says how (and where) the good data ends. */
export async function scanLogFile(file: string): Promise<LogScan> {
  const fh = await fsp.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const win = new FileWindow(fh, size);
    const scan: LogScan = { file, size, hasHeader: false, dbid: 0n, entries: [], validEnd: 0, end: { kind: 'clean' } };
    if (size < FILE_HEADER_SIZE) {
      scan.end = size === 0 ? { kind: 'clean' } : { kind: 'torn', detail: `file header cut short (${size} bytes)` };
      return scan;
    }
    await win.ensure(FILE_HEADER_SIZE);
    const header = FileHeader.decode(new JuteReader(win.buf, 0, FILE_HEADER_SIZE));
    if (header.magic !== TXNLOG_MAGIC) {
      throw new BadLogHeaderError(`${file}: bad magic 0x${(header.magic >>> 0).toString(16)}, expected 0x${TXNLOG_MAGIC.toString(16)} ('ZKLG')`);
    }
    if (header.version !== TXNLOG_VERSION) {
      throw new BadLogHeaderError(`${file}: txn log format version ${header.version}, expected ${TXNLOG_VERSION}`);
    }
    scan.hasHeader = true;
    scan.dbid = header.dbid;
    let pos = FILE_HEADER_SIZE;
    scan.validEnd = pos;
    for (;;) {
      const have = await win.ensure(pos + 12);
      if (have === pos) {
        scan.end = { kind: 'clean' };
        break;
      }
      if (have < pos + 12) {
        const rest = win.buf.subarray(pos, have);
        scan.end = rest.every((b) => b === 0) ? { kind: 'clean' } : { kind: 'torn', detail: 'entry prefix cut short' };
        break;
      }
      const crc = win.buf.readBigUInt64BE(pos);
      const len = win.buf.readInt32BE(pos + 8);
      if (len === 0) {
        // Apache: "Since we preallocate, we define EOF to be an empty transaction".
        scan.end = { kind: 'clean' };
        break;
      }
      if (len < 0) {
        scan.end = { kind: 'corrupt', detail: `negative length ${len}`, followedByValidEntry: await validEntryAfter(win, pos) };
        break;
      }
      const recordEnd = pos + 12 + len + 1;
      if ((await win.ensure(recordEnd)) < recordEnd) {
        scan.end = { kind: 'torn', detail: `entry of ${len} bytes runs past the end of the file (${size})` };
        break;
      }
      if (win.buf[recordEnd - 1] !== END_OF_RECORD) {
        scan.end = { kind: 'torn', detail: `missing end-of-record byte 'B' (found 0x${win.buf[recordEnd - 1].toString(16)})` };
        break;
      }
      const payload = win.buf.subarray(pos + 12, pos + 12 + len);
      const actual = adler32(payload);
      if (crc !== BigInt(actual)) {
        scan.end = {
          kind: 'corrupt',
          detail: `checksum mismatch: stored 0x${crc.toString(16)}, computed 0x${actual.toString(16)}`,
          followedByValidEntry: await validEntryAfter(win, pos),
        };
        break;
      }
      let entry: TxnEntry;
      try {
        entry = decodeTxnPayload(Buffer.from(payload));
      } catch (e) {
        scan.end = {
          kind: 'corrupt',
          detail: `unreadable txn: ${(e as Error).message}`,
          followedByValidEntry: await validEntryAfter(win, pos),
        };
        break;
      }
      scan.entries.push(entry);
      pos = recordEnd;
      scan.validEnd = pos;
    }
    return scan;
  } finally {
    await fh.close();
  }
}
