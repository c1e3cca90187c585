/**
 * The append side of the txn log, with group commit.
 *
 * append() encodes its entries at once (so callers may reuse their objects)
 * into the batch that is forming, one reused buffer for all of them. At most
 * one batch is being made durable at a time:
 *
 * - when nothing is in flight, the batch is flushed as soon as the current
 *   macrotask's synchronous work is done (a microtask: the appends of one
 *   event-loop callback still share a batch, but an idle log adds no wait);
 * - a flush copies the batch into the page cache with one synchronous
 *   write() at the end of the current log file (a memcpy into the kernel:
 *   cheaper than a thread-pool round trip) and sends only the fdatasync to
 *   libuv's thread pool;
 * - appends that arrive while that fdatasync runs form the next batch, which
 *   is written and handed to the disk the moment the previous one is durable,
 *   before that one's callers are answered.
 *
 * An append's promise resolves only after an fdatasync that started after its
 * bytes were written has returned. This is Apache's SyncRequestProcessor
 * (batch while the queue has more, then FileTxnLog.commit: flush the buffered
 * stream, FileChannel.force(false)), with the fdatasync on libuv's thread
 * instead of Apache's SyncThread.
 *
 * Two alternatives, measured with test/unit/persist/store-bench.ts and the
 * server benchmark on our 2-core VM, neither a clear win there, so both are
 * options rather than the default:
 * - 'dsync' opens the log with O_DSYNC and makes each batch durable with one
 *   pooled write() (the same single thread-pool round trip as above, with
 *   the copy into the kernel done on the pool thread);
 * - 'inline' calls fdatasync synchronously on the event loop, batching until
 *   the loop's check phase. It saves the round trip (about 20 µs at the
 *   median, far more in the tail on a loaded machine), but the whole server
 *   stands still for every fsync, however slow the disk is that moment, and
 *   no batch forms while one is being synced.
 *
 * Files follow FileTxnLog: a new file is created for the first entry after
 * start-up or after roll() (the store rolls before each snapshot), named
 * log.<zxid of its first entry>, starting with FileHeader{'ZKLG', 2, dbid},
 * and grown ahead of the data in preAllocSize steps of zeros
 * (FilePadding.calculateFileSizeWithPadding), so a reader finds a zero length
 * after the last entry. Growing is an ftruncate (a sparse extension, like
 * Apache's one-byte write at the new end): once per preAllocSize of log.
 */
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { JuteWriter } from '../../jute';
import { FileHeader } from '../../proto';
import { PersistError, StoreStateError, ZxidOrderError } from './errors';
import { makeLogName } from './file-names';
import { fsyncDir } from './snapshot-file';
import { writeLogRecord } from './txn-codec';
import { FILE_HEADER_SIZE, TXNLOG_MAGIC, TXNLOG_VERSION, scanLogFile } from './txn-log-reader';
import type { TxnEntry } from './types';

const openFd = promisify(fs.open);
const closeFd = promisify(fs.close);
const writeFd = promisify(fs.write);

/** Apache's default zookeeper.preAllocSize: 64 MB. */
export const DEFAULT_PREALLOC_SIZE = 64 * 1024 * 1024;

/** A batch buffer larger than this is dropped after its flush rather than kept for reuse. */
const MAX_KEPT_BUFFER = 4 * 1024 * 1024;

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

/**
 * How a batch is made durable when fsync is on:
 * - 'fdatasync': synchronous write() into the page cache, then fdatasync on the thread pool (default);
 * - 'dsync': the file is opened O_DSYNC and the batch is written by one pooled write();
 * - 'inline': write and fdatasync both synchronously on the event loop, batches
 *   collected until the loop's check phase (no thread hand-off at all, but the
 *   loop stands still for each fdatasync).
 */
export type TxnLogSyncMethod = 'fdatasync' | 'dsync' | 'inline';

export interface TxnLogWriterOptions {
  dir: string;
  preAllocSize: number;
  fsync: boolean;
  /** Default 'fdatasync'. Ignored when fsync is off. */
  syncMethod?: TxnLogSyncMethod;
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
  /** fdatasync calls on log files, or durable O_DSYNC writes (0 when fsync is off). */
  fsyncs: number;
  /** log files created. */
  filesCreated: number;
  /** Time spent in fdatasync, in ms: total and the longest one (mntr's fsynctime). */
  fsyncTimeTotalMs: number;
  /** The shortest fdatasync (0 until the first). */
  fsyncTimeMinMs: number;
  /** The longest fdatasync. */
  fsyncTimeMaxMs: number;
  /** The most entries one batch (one write + fsync) carried. */
  maxBatchEntries: number;
}

/** Counters of a log that has written nothing yet. */
export function emptyTxnLogStats(): TxnLogStats {
  return { appends: 0, entries: 0, batches: 0, fsyncs: 0, filesCreated: 0, fsyncTimeTotalMs: 0, fsyncTimeMinMs: 0, fsyncTimeMaxMs: 0, maxBatchEntries: 0 };
}

/** The appends of one batch: their callers and how much they carried. */
interface BatchWaiters {
  resolve: Array<() => void>;
  reject: Array<(e: unknown) => void>;
  entries: number;
}

function emptyWaiters(): BatchWaiters {
  return { resolve: [], reject: [], entries: 0 };
}

/** write() until all of buf is at `position` (a regular file rarely writes short, but may). */
function writeFullySync(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off, position + off);
}

export class TxnLogWriter {
  private readonly dir: string;
  private readonly preAllocSize: number;
  private readonly fsync: boolean;
  private readonly dsync: boolean;
  private readonly inline: boolean;
  private readonly dbid: bigint;
  /** Records of the batch that is forming. */
  private batch = new JuteWriter(64 * 1024);
  /** The 'dsync' method's second buffer: the batch being written while the next one forms. */
  private spare: JuteWriter | null;
  private waiters: BatchWaiters = emptyWaiters();
  /** zxid of the forming batch's first entry (names the file when the batch opens one). */
  private batchFirstZxid = 0n;
  /** A file open, write or fsync is in flight. */
  private busy = false;
  private kickQueued = false;
  private idleWaiters: Array<() => void> = [];
  private fd: number | null = null;
  private fileName: string | null = null;
  /** End of the data written to the current file. */
  private position = 0;
  /** Current (preallocated) size of the current file. */
  private allocated = 0;
  private rollPending = false;
  private lastQueuedZxid: bigint;
  private failure: unknown = null;
  private closed = false;
  readonly stats: TxnLogStats = emptyTxnLogStats();

  constructor(opts: TxnLogWriterOptions) {
    this.dir = opts.dir;
    this.preAllocSize = opts.preAllocSize;
    this.fsync = opts.fsync;
    this.dsync = opts.fsync && opts.syncMethod === 'dsync';
    this.inline = opts.fsync && opts.syncMethod === 'inline';
    this.spare = this.dsync ? new JuteWriter(64 * 1024) : null;
    this.dbid = opts.dbid ?? 0n;
    this.lastQueuedZxid = opts.lastZxid;
  }

  /** The zxid of the last entry appended (queued or durable), or the one given at construction. */
  get lastZxid(): bigint {
    return this.lastQueuedZxid;
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
    for (const e of entries) {
      if (e.header.zxid <= last) {
        return Promise.reject(new ZxidOrderError(`zxid 0x${e.header.zxid.toString(16)} is not after 0x${last.toString(16)}; the log must grow in zxid order`));
      }
      last = e.header.zxid;
    }
    const w = this.batch;
    const before = w.length;
    try {
      for (const e of entries) writeLogRecord(w, e);
    } catch (e) {
      // A record that does not serialize (a caller's bug) must not leave half a record in the batch.
      const good = Buffer.from(w.view().subarray(0, before));
      w.reset().writeRaw(good);
      return Promise.reject(e);
    }
    this.lastQueuedZxid = last;
    const waiters = this.waiters;
    if (waiters.resolve.length === 0) this.batchFirstZxid = entries[0].header.zxid;
    waiters.entries += entries.length;
    return new Promise<void>((resolve, reject) => {
      waiters.resolve.push(resolve);
      waiters.reject.push(reject);
      if (!this.busy && !this.kickQueued) {
        this.kickQueued = true;
        if (this.inline) setImmediate(this.kick);
        else queueMicrotask(this.kick);
      }
    });
  }

  /** Makes the next batch start a new log file (FileTxnLog.rollLog). */
  roll(): void {
    if (this.fileName !== null) this.rollPending = true;
  }

  /** Waits until everything queued is durable. */
  async sync(): Promise<void> {
    if (this.idle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    await this.closeFile();
  }

  private idle(): boolean {
    return !this.busy && !this.kickQueued && this.waiters.resolve.length === 0;
  }

  /** Starts flushing the forming batch when nothing is in flight. */
  private readonly kick = (): void => {
    this.kickQueued = false;
    if (this.busy) return;
    if (this.waiters.resolve.length === 0) {
      this.notifyIdle();
      return;
    }
    this.busy = true;
    if (this.fd === null || this.rollPending) void this.openThenFlush();
    else this.flush();
  };

  private async openThenFlush(): Promise<void> {
    try {
      await this.closeFile();
      await this.openFile(this.batchFirstZxid);
    } catch (e) {
      this.fail(e, this.takeWaiters());
      return;
    }
    this.flush();
  }

  /** Takes the forming batch's callers; the batch's bytes are taken by the caller. */
  private takeWaiters(): BatchWaiters {
    const w = this.waiters;
    this.waiters = emptyWaiters();
    return w;
  }

  /** Writes the forming batch and starts making it durable. Called with busy set and a non-empty batch. */
  private flush(): void {
    const fd = this.fd!;
    const waiters = this.takeWaiters();
    const data = this.batch;
    const len = data.length;
    const position = this.position;
    try {
      // Pad the way FilePadding.padFile does before each append, with the batch as one append.
      const size = paddedFileSize(Math.max(position, FILE_HEADER_SIZE), this.allocated, this.preAllocSize);
      if (size > this.allocated) {
        fs.ftruncateSync(fd, size);
        this.allocated = size;
      }
      if (!this.dsync) writeFullySync(fd, data.view(), position);
    } catch (e) {
      data.reset();
      this.fail(e, waiters);
      return;
    }
    const end = position + len;
    this.position = end;
    if (end > this.allocated) this.allocated = end;
    this.countBatch(waiters);
    if (!this.fsync) {
      this.recycle(data);
      this.busy = false;
      this.finish(waiters);
      if (this.idle()) this.notifyIdle();
      return;
    }
    const started = performance.now();
    if (this.dsync) {
      // The next batch forms in the spare buffer while this one is written by the pool.
      this.batch = this.spare!;
      this.spare = data;
      this.writeDurable(fd, data.view(), 0, position, started, waiters);
      return;
    }
    this.recycle(data);
    if (this.inline) {
      let err: NodeJS.ErrnoException | null = null;
      try {
        fs.fdatasyncSync(fd);
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
      this.synced(err, started, waiters);
      return;
    }
    fs.fdatasync(fd, (err) => this.synced(err, started, waiters));
  }

  /** The 'dsync' method: one pooled write per batch, continued if it writes short. */
  private writeDurable(fd: number, buf: Buffer, off: number, position: number, started: number, waiters: BatchWaiters): void {
    fs.write(fd, buf, off, buf.length - off, position + off, (err, n) => {
      if (err === null && off + n < buf.length) {
        this.writeDurable(fd, buf, off + n, position, started, waiters);
        return;
      }
      this.recycle(this.spare!);
      this.synced(err, started, waiters);
    });
  }

  /** The batch in `waiters` is durable (or failed): start the next one, then answer this one. */
  private synced(err: NodeJS.ErrnoException | null, started: number, waiters: BatchWaiters): void {
    if (err !== null) {
      this.fail(err, waiters);
      return;
    }
    const took = performance.now() - started;
    const st = this.stats;
    st.fsyncs++;
    st.fsyncTimeTotalMs += took;
    if (took > st.fsyncTimeMaxMs) st.fsyncTimeMaxMs = took;
    if (st.fsyncs === 1 || took < st.fsyncTimeMinMs) st.fsyncTimeMinMs = took;
    this.busy = false;
    // The disk starts on the next batch while the callers of this one apply and reply.
    if (this.waiters.resolve.length > 0) this.kick();
    this.finish(waiters);
    if (this.idle()) this.notifyIdle();
  }

  private countBatch(waiters: BatchWaiters): void {
    this.stats.batches++;
    if (waiters.entries > this.stats.maxBatchEntries) this.stats.maxBatchEntries = waiters.entries;
  }

  private finish(waiters: BatchWaiters): void {
    this.stats.appends += waiters.resolve.length;
    this.stats.entries += waiters.entries;
    for (const r of waiters.resolve) r();
  }

  /** Empties a written batch buffer for reuse, or replaces it when one huge batch grew it. */
  private recycle(w: JuteWriter): void {
    if (w.length <= MAX_KEPT_BUFFER) {
      w.reset();
      return;
    }
    const fresh = new JuteWriter(64 * 1024);
    if (this.batch === w) this.batch = fresh;
    else this.spare = fresh;
  }

  /**
   * After a failed write or fsync the file's contents are unknown: refuse
   * everything from now on, like Apache, which stops on a log failure. The
   * failed batch gets the error itself; the batch forming behind it is refused too.
   */
  private fail(err: unknown, failed: BatchWaiters): void {
    this.failure = err;
    this.busy = false;
    for (const r of failed.reject) r(err);
    const behind = this.takeWaiters();
    this.batch.reset();
    const refused = new PersistError('txn log is unusable after an earlier write failure', { cause: err });
    for (const r of behind.reject) r(refused);
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async openFile(firstZxid: bigint): Promise<void> {
    const name = makeLogName(firstZxid);
    const file = path.join(this.dir, name);
    const base = fs.constants.O_WRONLY | fs.constants.O_CREAT | (this.dsync ? fs.constants.O_DSYNC : 0);
    let fd: number;
    try {
      fd = await openFd(file, base | fs.constants.O_EXCL, 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // Only a file without a single entry (e.g. cut back to its header after a
      // torn first write) may be replaced; anything else means zxids went back.
      const scan = await scanLogFile(file);
      if (scan.entries.length > 0) {
        throw new ZxidOrderError(`${name} already holds txns; refusing to overwrite it with zxid 0x${firstZxid.toString(16)}`);
      }
      fd = await openFd(file, base | fs.constants.O_TRUNC, 0o644);
    }
    this.fd = fd;
    this.fileName = file;
    this.rollPending = false;
    this.stats.filesCreated++;
    try {
      // The first batch's fdatasync makes the header durable together with its entries.
      const hw = new JuteWriter(FILE_HEADER_SIZE);
      new FileHeader({ magic: TXNLOG_MAGIC, version: TXNLOG_VERSION, dbid: this.dbid }).serialize(hw);
      const header = hw.view();
      let off = 0;
      while (off < header.length) off += (await writeFd(fd, header, off, header.length - off, off)).bytesWritten;
    } catch (e) {
      await this.closeFile();
      throw e;
    }
    this.position = FILE_HEADER_SIZE;
    // Apache counts the header as the file's starting size, so files come out
    // 16 + k * preAllocSize bytes long, like its own.
    this.allocated = FILE_HEADER_SIZE;
    // The new directory entry must survive a crash along with the data in it.
    if (this.fsync) await fsyncDir(this.dir);
  }

  /**
   * Closes the current file. Every batch written to it was already made
   * durable before its callers were answered (when fsync is on), so there is
   * nothing left to sync.
   */
  private async closeFile(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    if (fd === null) return;
    await closeFd(fd);
  }
}
