/**
 * The append side of the txn log, with group commit.
 *
 * append() encodes its entries at once (so callers may reuse their objects)
 * and queues them. One flush at a time takes everything queued, writes it
 * with a single write() at the end of the current log file, then one
 * fdatasync, and only then resolves every append in that batch. Appends that
 * arrive while a flush is in flight form the next batch, so under load each
 * fsync carries many txns (Apache's SyncRequestProcessor batches the same way).
 *
 * Files follow FileTxnLog: a new file is created for the first entry after
 * start-up or after roll() (the store rolls before each snapshot), named
 * log.<zxid of its first entry>, starting with FileHeader{'ZKLG', 2, dbid},
 * and grown ahead of the data in preAllocSize steps of zeros
 * (FilePadding.calculateFileSizeWithPadding), so a reader finds a zero length
 * after the last entry.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { JuteWriter } from '../../jute';
import { FileHeader } from '../../proto';
import { PersistError, StoreStateError, ZxidOrderError } from './errors';
import { makeLogName } from './file-names';
import { fsyncDir } from './snapshot-file';
import { writeLogRecord } from './txn-codec';
import { FILE_HEADER_SIZE, TXNLOG_MAGIC, TXNLOG_VERSION, scanLogFile } from './txn-log-reader';
import type { TxnEntry } from './types';

/** Apache's default zookeeper.preAllocSize: 64 MB. */
export const DEFAULT_PREALLOC_SIZE = 64 * 1024 * 1024;

/**
 * The file size to preallocate to before writing at `position`
 * (FilePadding.calculateFileSizeWithPadding): grow by one preAllocSize step
 * when within 4 KB of the end; jump past `position` when already beyond it.
 */
export function paddedFileSize(position: number, fileSize: number, preAllocSize: number): number {
  if (preAllocSize > 0 && position + 4096 >= fileSize) {
    if (position > fileSize) {
      fileSize = position + preAllocSize;
      fileSize -= fileSize % preAllocSize;
    } else {
      fileSize += preAllocSize;
    }
  }
  return fileSize;
}

export interface TxnLogWriterOptions {
  dir: string;
  preAllocSize: number;
  fsync: boolean;
  /** FileHeader.dbid; Apache writes 0. */
  dbid?: bigint;
  /** The last zxid already on disk; appends must be greater. */
  lastZxid: bigint;
}

/** Counters for observing group commit. */
export interface TxnLogStats {
  /** append() calls that completed. */
  appends: number;
  /** entries written. */
  entries: number;
  /** write+fdatasync rounds (one per batch). */
  batches: number;
  /** fdatasync calls on log files (0 when fsync is off). */
  fsyncs: number;
  /** log files created. */
  filesCreated: number;
  /** Time spent in fdatasync, in ms: total and the longest one (mntr's fsynctime). */
  fsyncTimeTotalMs: number;
  /** The shortest fdatasync (0 until the first). */
  fsyncTimeMinMs: number;
  fsyncTimeMaxMs: number;
  /** The most entries one batch (one write + fsync) carried. */
  maxBatchEntries: number;
}

interface Pending {
  bytes: Buffer;
  entries: number;
  firstZxid: bigint;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class TxnLogWriter {
  private readonly dir: string;
  private readonly preAllocSize: number;
  private readonly fsync: boolean;
  private readonly dbid: bigint;
  private queue: Pending[] = [];
  private flushing = false;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];
  private fh: fsp.FileHandle | null = null;
  private fileName: string | null = null;
  /** End of the data written to the current file. */
  private position = 0;
  /** Current (preallocated) size of the current file. */
  private allocated = 0;
  private rollPending = false;
  private lastQueuedZxid: bigint;
  private failure: unknown = null;
  private closed = false;
  readonly stats: TxnLogStats = {
    appends: 0,
    entries: 0,
    batches: 0,
    fsyncs: 0,
    filesCreated: 0,
    fsyncTimeTotalMs: 0,
    fsyncTimeMinMs: 0,
    fsyncTimeMaxMs: 0,
    maxBatchEntries: 0,
  };

  constructor(opts: TxnLogWriterOptions) {
    this.dir = opts.dir;
    this.preAllocSize = opts.preAllocSize;
    this.fsync = opts.fsync;
    this.dbid = opts.dbid ?? 0n;
    this.lastQueuedZxid = opts.lastZxid;
  }

  /** The file entries are currently appended to (null before the first append or after a roll). */
  get currentFile(): string | null {
    return this.rollPending ? null : this.fileName;
  }

  /** Queues entries; resolves once they are written and (if fsync is on) fdatasync'ed. */
  append(entries: readonly TxnEntry[]): Promise<void> {
    if (this.closed) return Promise.reject(new StoreStateError('txn log is closed'));
    if (this.failure !== null) return Promise.reject(new PersistError('txn log is unusable after an earlier write failure', { cause: this.failure }));
    if (entries.length === 0) return Promise.resolve();
    let last = this.lastQueuedZxid;
    const w = new JuteWriter(256 * entries.length);
    for (const e of entries) {
      if (e.header.zxid <= last) {
        return Promise.reject(new ZxidOrderError(`zxid 0x${e.header.zxid.toString(16)} is not after 0x${last.toString(16)}; the log must grow in zxid order`));
      }
      last = e.header.zxid;
      writeLogRecord(w, e);
    }
    this.lastQueuedZxid = last;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes: w.toBuffer(), entries: entries.length, firstZxid: entries[0].header.zxid, resolve, reject });
      this.schedule();
    });
  }

  /** Makes the next batch start a new log file (FileTxnLog.rollLog). */
  roll(): void {
    if (this.fileName !== null) this.rollPending = true;
  }

  /** Waits until everything queued is durable. */
  async sync(): Promise<void> {
    if (!this.flushing && !this.scheduled && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    await this.closeFile();
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not a microtask: appends issued by other I/O callbacks of
    // the same event-loop turn join this batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        if (this.failure !== null) {
          for (const p of batch) p.reject(new PersistError('txn log is unusable after an earlier write failure', { cause: this.failure }));
          continue;
        }
        try {
          await this.writeBatch(batch);
        } catch (e) {
          // After a failed write or fsync the file's contents are unknown: refuse
          // everything from now on, like Apache, which stops on a log failure.
          this.failure = e;
          for (const p of batch) p.reject(e);
          continue;
        }
        for (const p of batch) {
          this.stats.appends++;
          this.stats.entries += p.entries;
          p.resolve();
        }
      }
    } finally {
      this.flushing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    if (this.fh === null || this.rollPending) {
      await this.closeFile();
      await this.openFile(batch[0].firstZxid);
    }
    const fh = this.fh!;
    const parts: Buffer[] = [];
    if (this.position === 0) {
      const hw = new JuteWriter(FILE_HEADER_SIZE);
      new FileHeader({ magic: TXNLOG_MAGIC, version: TXNLOG_VERSION, dbid: this.dbid }).serialize(hw);
      parts.push(hw.toBuffer());
    }
    for (const p of batch) parts.push(p.bytes);
    const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    const end = this.position + buf.length;
    // Pad the way FilePadding.padFile does before each append, with the batch as one append.
    const size = paddedFileSize(Math.max(this.position, FILE_HEADER_SIZE), this.allocated, this.preAllocSize);
    if (size > this.allocated) {
      await fh.truncate(size);
      this.allocated = size;
    }
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await fh.write(buf, off, buf.length - off, this.position + off);
      off += bytesWritten;
    }
    this.position = end;
    if (end > this.allocated) this.allocated = end;
    if (this.fsync) {
      const started = performance.now();
      await fh.datasync();
      const took = performance.now() - started;
      this.stats.fsyncs++;
      this.stats.fsyncTimeTotalMs += took;
      if (took > this.stats.fsyncTimeMaxMs) this.stats.fsyncTimeMaxMs = took;
      if (this.stats.fsyncs === 1 || took < this.stats.fsyncTimeMinMs) this.stats.fsyncTimeMinMs = took;
    }
    this.stats.batches++;
    let entries = 0;
    for (const p of batch) entries += p.entries;
    if (entries > this.stats.maxBatchEntries) this.stats.maxBatchEntries = entries;
  }

  private async openFile(firstZxid: bigint): Promise<void> {
    const name = makeLogName(firstZxid);
    const file = path.join(this.dir, name);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // Only a file without a single entry (e.g. cut back to its header after a
      // torn first write) may be replaced; anything else means zxids went back.
      const scan = await scanLogFile(file);
      if (scan.entries.length > 0) {
        throw new ZxidOrderError(`${name} already holds txns; refusing to overwrite it with zxid 0x${firstZxid.toString(16)}`);
      }
      fh = await fsp.open(file, 'w');
    }
    this.fh = fh;
    this.fileName = file;
    this.position = 0;
    // Apache counts the header as the file's starting size, so files come out
    // 16 + k * preAllocSize bytes long, like its own.
    this.allocated = FILE_HEADER_SIZE;
    this.rollPending = false;
    this.stats.filesCreated++;
    // The new directory entry must survive a crash along with the data in it.
    if (this.fsync) await fsyncDir(this.dir);
  }

  private async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh === null) return;
    try {
      if (this.fsync) await fh.datasync();
    } finally {
      await fh.close();
    }
  }
}
