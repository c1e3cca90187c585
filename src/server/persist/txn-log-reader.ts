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

/**
 * A file read in chunks as a sliding window: bytes [base, loaded) are in
 * memory, and a reader that is done with a prefix releases it, so a large
 * log streams through a buffer of about one chunk (and a 64 MB preallocated
 * log full of zeros is never read whole).
 */
class FileWindow {
  private buf: Buffer = Buffer.alloc(0);
  private base = 0;
  private loaded = 0;

  constructor(
    private readonly fh: fsp.FileHandle,
    readonly size: number,
  ) {}

  /** Makes bytes [base, end) available (clamped to the file size); returns the offset up to which they are. */
  async ensure(end: number): Promise<number> {
    const want = Math.min(end, this.size);
    if (want <= this.loaded) return this.loaded;
    const keep = this.loaded - this.base;
    const target = Math.min(this.size, Math.max(want, this.base + keep * 2, this.loaded + (1 << 20)));
    const next = Buffer.alloc(target - this.base);
    this.buf.copy(next, 0, 0, keep);
    let off = this.loaded;
    while (off < target) {
      const { bytesRead } = await this.fh.read(next, off - this.base, target - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    this.buf = next;
    this.loaded = off;
    return this.loaded;
  }

  /** The loaded bytes [from, to) (file offsets, from >= base). */
  bytes(from: number, to: number): Buffer {
    return this.buf.subarray(from - this.base, to - this.base);
  }

  /** Forgets the bytes before `offset`: the next read that grows the window drops them. */
  release(offset: number): void {
    if (offset <= this.base) return;
    this.buf = this.buf.subarray(offset - this.base);
    this.base = offset;
  }
}

/** Looks for any complete, checksum-valid entry starting after `from` (the evidence that damage at `from` is not a tail). */
async function validEntryAfter(win: FileWindow, from: number): Promise<boolean> {
  const have = await win.ensure(win.size);
  const buf = win.bytes(from, have);
  for (let pos = 1; pos + MIN_ENTRY <= buf.length; pos++) {
    const len = buf.readInt32BE(pos + 8);
    if (len < TXN_HEADER_SIZE || pos + 12 + len + 1 > buf.length) continue;
    if (buf[pos + 12 + len] !== END_OF_RECORD) continue;
    const crc = buf.readBigUInt64BE(pos);
    if (crc > 0xffffffffn) continue;
    if (Number(crc) === adler32(buf, pos + 12, pos + 12 + len)) return true;
  }
  return false;
}

/**
 * One log file read entry by entry (Apache's FileTxnIterator over a single
 * file), holding only a window of it. After next() returns null, `end` says
 * how the good data ended and `validEnd` where.
 */
export class LogFileReader {
  readonly hasHeader: boolean;
  readonly dbid: bigint;
  validEnd: number;
  end: LogEnd = { kind: 'clean' };
  private done: boolean;

  private constructor(
    readonly file: string,
    private readonly fh: fsp.FileHandle,
    private readonly win: FileWindow,
    header: FileHeader | null,
  ) {
    this.hasHeader = header !== null;
    this.dbid = header?.dbid ?? 0n;
    this.validEnd = header === null ? 0 : FILE_HEADER_SIZE;
    this.done = header === null;
    if (header === null && win.size > 0) this.end = { kind: 'torn', detail: `file header cut short (${win.size} bytes)` };
  }

  /** Opens `file` and checks its header (BadLogHeaderError for a file that is not a version-2 txn log). */
  static async open(file: string): Promise<LogFileReader> {
    const fh = await fsp.open(file, 'r');
    try {
      const size = (await fh.stat()).size;
      const win = new FileWindow(fh, size);
      if (size < FILE_HEADER_SIZE) return new LogFileReader(file, fh, win, null);
      await win.ensure(FILE_HEADER_SIZE);
      const header = FileHeader.decode(new JuteReader(win.bytes(0, FILE_HEADER_SIZE), 0, FILE_HEADER_SIZE));
      if (header.magic !== TXNLOG_MAGIC) {
        throw new BadLogHeaderError(`${file}: bad magic 0x${(header.magic >>> 0).toString(16)}, expected 0x${TXNLOG_MAGIC.toString(16)} ('ZKLG')`);
      }
      if (header.version !== TXNLOG_VERSION) {
        throw new BadLogHeaderError(`${file}: txn log format version ${header.version}, expected ${TXNLOG_VERSION}`);
      }
      return new LogFileReader(file, fh, win, header);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  get size(): number {
    return this.win.size;
  }

  /** The next good entry, or null once the good data ended (see `end`). */
  async next(): Promise<TxnEntry | null> {
    if (this.done) return null;
    const entry = await this.read();
    if (entry === null) this.done = true;
    return entry;
  }

  close(): Promise<void> {
    return this.fh.close();
  }

  private async read(): Promise<TxnEntry | null> {
    const win = this.win;
    const pos = this.validEnd;
    win.release(pos);
    const have = await win.ensure(pos + 12);
    if (have === pos) return null;
    if (have < pos + 12) {
      if (!win.bytes(pos, have).every((b) => b === 0)) this.end = { kind: 'torn', detail: 'entry prefix cut short' };
      return null;
    }
    const prefix = win.bytes(pos, pos + 12);
    const crc = prefix.readBigUInt64BE(0);
    const len = prefix.readInt32BE(8);
    // Apache: "Since we preallocate, we define EOF to be an empty transaction".
    if (len === 0) return null;
    if (len < 0) {
      this.end = { kind: 'corrupt', detail: `negative length ${len}`, followedByValidEntry: await validEntryAfter(win, pos) };
      return null;
    }
    const recordEnd = pos + 12 + len + 1;
    if ((await win.ensure(recordEnd)) < recordEnd) {
      this.end = { kind: 'torn', detail: `entry of ${len} bytes runs past the end of the file (${win.size})` };
      return null;
    }
    const eor = win.bytes(recordEnd - 1, recordEnd)[0];
    if (eor !== END_OF_RECORD) {
      this.end = { kind: 'torn', detail: `missing end-of-record byte 'B' (found 0x${eor.toString(16)})` };
      return null;
    }
    const payload = win.bytes(pos + 12, recordEnd - 1);
    const actual = adler32(payload);
    if (crc !== BigInt(actual)) {
      this.end = {
        kind: 'corrupt',
        detail: `checksum mismatch: stored 0x${crc.toString(16)}, computed 0x${actual.toString(16)}`,
        followedByValidEntry: await validEntryAfter(win, pos),
      };
      return null;
    }
    let entry: TxnEntry;
    try {
      entry = decodeTxnPayload(Buffer.from(payload));
    } catch (e) {
      this.end = { kind: 'corrupt', detail: `unreadable txn: ${(e as Error).message}`, followedByValidEntry: await validEntryAfter(win, pos) };
      return null;
    }
    this.validEnd = recordEnd;
    return entry;
  }
}

/** Reads every good entry of one log file and says how (and where) the good data ends. */
export async function scanLogFile(file: string): Promise<LogScan> {
  const r = await LogFileReader.open(file);
  try {
    const entries: TxnEntry[] = [];
    for (let e = await r.next(); e !== null; e = await r.next()) entries.push(e);
    return { file, size: r.size, hasHeader: r.hasHeader, dbid: r.dbid, entries, validEnd: r.validEnd, end: r.end };
  } finally {
    await r.close();
  }
}
