/**
 * FileTxnStore: the TxnStore that keeps the txn log and snapshots on disk in
 * Apache ZooKeeper 3.8's layout and formats, so Apache can start on a dataDir
 * we wrote and we can start on one Apache wrote:
 *
 *   <dataDir>/version-2/snapshot.<zxid hex>     (snapshot-file.ts)
 *   <dataLogDir or dataDir>/version-2/log.<zxid hex>   (txn-log-*.ts)
 *
 * Behaviour follows FileTxnSnapLog: load the newest snapshot that verifies
 * (skipping damaged ones), replay the logs from the one that starts at or
 * before it; after start-up the first append opens a new log file named after
 * its zxid; each snapshot rolls the log first. Unlike Apache, a torn or
 * corrupt log tail is cut off (truncated) during load rather than left on disk.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import {
  BadLogHeaderError,
  CorruptLogError,
  CorruptSnapshotError,
  DataDirLayoutError,
  MissingSnapshotError,
  NoValidSnapshotError,
  PersistError,
  StoreStateError,
  TruncateError,
} from './errors';
import { LOG_PREFIX, SNAPSHOT_PREFIX, SNAPSHOT_TEMP_PREFIX, VERSION_DIR, ZxidFile, logFilesFrom, logFilesReading, snapshotCompression, sortByZxid } from './file-names';
import { PurgeResult, purgeDataDirs } from './purge';
import { fsyncDir, looksComplete, readSnapshotFile, writeSnapshotFile } from './snapshot-file';
import { FILE_HEADER_SIZE, LogFileReader, LogScan, scanLogFile } from './txn-log-reader';
import { DEFAULT_PREALLOC_SIZE, emptyTxnLogStats, TxnLogStats, TxnLogSyncMethod, TxnLogWriter } from './txn-log-writer';
import { DataDirLock } from './data-dir-lock';
import { ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE, Epochs, loadEpochs, writeEpochFile } from './epoch-files';
import { ENTRY_OVERHEAD, TXN_DIGEST_SIZE, TXN_HEADER_SIZE } from './txn-codec';
import type { LoadedState, SnapshotContents, TxnEntry, TxnLogPosition, TxnStore } from './types';

export interface FileTxnStoreOptions {
  /** Snapshots go to <dataDir>/version-2 (and logs too, unless dataLogDir is set). */
  dataDir: string;
  /** Txn logs go to <dataLogDir>/version-2 when set (zoo.cfg dataLogDir). */
  dataLogDir?: string;
  /** Log preallocation step in bytes; Apache's default (zookeeper.preAllocSize) is 64 MB. */
  preAllocSize?: number;
  /** fdatasync each batch before acknowledging it (zookeeper.forceSync); default true. */
  fsync?: boolean;
  /**
   * How a batch is made durable when fsync is on: 'fdatasync' (default: write
   * into the page cache, fdatasync on the thread pool), 'dsync' (the log is
   * opened O_DSYNC; one pooled write per batch) or 'inline' (fdatasync on the
   * event loop itself: no thread hand-off, but the loop blocks for each
   * fsync). See txn-log-writer.ts for the trade-offs.
   */
  syncMethod?: TxnLogSyncMethod;
  /** Start even when logs exist without any snapshot (zookeeper.snapshot.trust.empty); default false, like Apache. */
  trustEmptySnapshot?: boolean;
  /**
   * Cut the log at a corrupt entry even when valid entries follow it, and drop
   * the later log files (a learner about to resync from its leader can do
   * that safely). Default false: load() throws CorruptLogError instead.
   */
  truncateCorruptLog?: boolean;
}

/** What load() noticed and repaired; for logs and tests. */
export interface LoadReport {
  snapshotFile: string | null;
  /** Snapshots skipped because they did not verify, with the reason. */
  skippedSnapshots: Array<{ file: string; reason: string }>;
  logFilesRead: string[];
  /** Files cut back to their last good entry: file, new length, old length, why. */
  truncated: Array<{ file: string; at: number; size: number; reason: string }>;
  /** Files removed: empty tail files, or files after a cut corruption. */
  removed: string[];
}

/** ZKDatabase's default zookeeper.snapshotSizeFactor (see txnLogSizeLimit). */
export const DEFAULT_SNAPSHOT_SIZE_FACTOR = 0.33;

/** How many snapshots load() tries before giving up (FileSnap.deserialize reads up to 100). */
const MAX_SNAPSHOTS_TRIED = 100;

/** An urgent snapshot still yields now and then (timers, the quorum link's pings), just rarely. */
const URGENT_SLICE_MS = 50;

export class FileTxnStore implements TxnStore {
  /** <dataDir>/version-2 */
  readonly snapDir: string;
  /** <dataLogDir or dataDir>/version-2 */
  readonly logDir: string;
  private readonly preAllocSize: number;
  private readonly fsync: boolean;
  private readonly syncMethod: TxnLogSyncMethod;
  private readonly trustEmptySnapshot: boolean;
  private readonly truncateCorruptLog: boolean;
  private writer: TxnLogWriter | null = null;
  private snapshotChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Held from load() to close(): no second server may write these directories (see data-dir-lock.ts). */
  private dirLock: DataDirLock | null = null;
  /** Filled by load(). */
  lastLoadReport: LoadReport | null = null;

  constructor(opts: FileTxnStoreOptions) {
    this.snapDir = path.join(opts.dataDir, VERSION_DIR);
    this.logDir = path.join(opts.dataLogDir ?? opts.dataDir, VERSION_DIR);
    this.preAllocSize = opts.preAllocSize ?? DEFAULT_PREALLOC_SIZE;
    this.fsync = opts.fsync ?? true;
    this.syncMethod = opts.syncMethod ?? 'fdatasync';
    this.trustEmptySnapshot = opts.trustEmptySnapshot ?? false;
    this.truncateCorruptLog = opts.truncateCorruptLog ?? false;
  }

  async load(): Promise<LoadedState> {
    if (this.closed) throw new StoreStateError('store is closed');
    this.dirLock ??= DataDirLock.acquire([path.dirname(this.snapDir), path.dirname(this.logDir)]);
    try {
      return await this.loadLocked();
    } catch (e) {
      // A store that failed to load is not used (and often not closed): leave the directories free.
      this.dirLock.release();
      this.dirLock = null;
      throw e;
    }
  }

  private async loadLocked(): Promise<LoadedState> {
    if (this.writer !== null) await this.writer.close();
    await fsp.mkdir(this.snapDir, { recursive: true });
    await fsp.mkdir(this.logDir, { recursive: true });
    const report: LoadReport = { snapshotFile: null, skippedSnapshots: [], logFilesRead: [], truncated: [], removed: [] };

    let snapNames = await fsp.readdir(this.snapDir);
    let logNames = this.logDir === this.snapDir ? snapNames : await fsp.readdir(this.logDir);
    if (this.logDir !== this.snapDir) {
      // FileTxnSnapLog's ZOOKEEPER-2967 check: mixed-up dirs would load the wrong data.
      if (logNames.some((n) => n.startsWith(`${SNAPSHOT_PREFIX}.`))) {
        throw new DataDirLayoutError(`log directory ${this.logDir} has snapshot files; check dataDir and dataLogDir`);
      }
      if (snapNames.some((n) => n.startsWith(`${LOG_PREFIX}.`))) {
        throw new DataDirLayoutError(`snapshot directory ${this.snapDir} has log files; check dataDir and dataLogDir`);
      }
    }
    // A snapshot interrupted by a crash: never renamed, so nobody ever trusted it.
    for (const n of snapNames.filter((x) => x.startsWith(`${SNAPSHOT_TEMP_PREFIX}.`))) {
      await fsp.rm(path.join(this.snapDir, n), { force: true });
    }
    snapNames = snapNames.filter((x) => !x.startsWith(`${SNAPSHOT_TEMP_PREFIX}.`));
    if (this.logDir === this.snapDir) logNames = snapNames;

    const snapshot = await this.loadNewestSnapshot(sortByZxid(this.snapDir, snapNames, SNAPSHOT_PREFIX, false), report);
    const snapZxid = snapshot?.zxid ?? 0n;
    const logs = sortByZxid(this.logDir, logNames, LOG_PREFIX, true);
    const toRead = logFilesFrom(logs, snapZxid);

    const txns: TxnEntry[] = [];
    let lastZxid = snapZxid;
    for (let i = 0; i < toRead.length; i++) {
      const f = toRead[i];
      const isLast = i === toRead.length - 1;
      const scan = await scanLogFile(f.file);
      report.logFilesRead.push(f.name);
      const stop = await this.repairTail(scan, f, isLast, toRead.slice(i + 1), report);
      for (const e of scan.entries) {
        const z = e.header.zxid;
        if (z > lastZxid) lastZxid = z;
        if (z > snapZxid && (txns.length === 0 || z > txns[txns.length - 1].header.zxid)) txns.push(e);
      }
      if (stop) break;
    }
    if (snapshot === null && txns.length > 0 && !this.trustEmptySnapshot) {
      throw new MissingSnapshotError(
        `no snapshot in ${this.snapDir} but the txn logs hold ${txns.length} txns: something is broken ` +
          '(Apache refuses this too; set trustEmptySnapshot to replay from an empty tree)',
      );
    }
    if (this.fsync && (report.truncated.length > 0 || report.removed.length > 0)) await fsyncDir(this.logDir);

    this.writer = new TxnLogWriter({ dir: this.logDir, preAllocSize: this.preAllocSize, fsync: this.fsync, syncMethod: this.syncMethod, lastZxid });
    this.lastLoadReport = report;
    return { snapshot, txns, lastZxid };
  }

  private async loadNewestSnapshot(snaps: ZxidFile[], report: LoadReport): Promise<LoadedState['snapshot']> {
    for (const s of snaps.slice(0, MAX_SNAPSHOTS_TRIED)) {
      try {
        const read = await readSnapshotFile(s.file);
        report.snapshotFile = s.name;
        return { zxid: s.zxid, sessions: read.sessions, acls: read.acls, nodes: read.nodes, digest: read.digest };
      } catch (e) {
        if (!(e instanceof CorruptSnapshotError)) throw e;
        report.skippedSnapshots.push({ file: s.name, reason: e.message });
      }
    }
    if (snaps.length > 0) {
      throw new NoValidSnapshotError(`no valid snapshot in ${this.snapDir}: ${report.skippedSnapshots.map((x) => x.reason).join('; ')}`);
    }
    return null;
  }

  /**
   * Cuts what must not stay after the good entries of one file. Returns true
   * when reading must stop here (a corruption was cut together with the files
   * after it).
   */
  private async repairTail(scan: LogScan, f: ZxidFile, isLast: boolean, later: ZxidFile[], report: LoadReport): Promise<boolean> {
    if (!scan.hasHeader) {
      // Created but the header never made it to disk: only possible for the file being written at a crash.
      if (!isLast) throw new BadLogHeaderError(`${f.file}: ${scan.size} bytes, shorter than a file header, and later log files exist`);
      await fsp.rm(f.file, { force: true });
      report.removed.push(f.name);
      return false;
    }
    const end = scan.end;
    let reason: string | null = null;
    let stop = false;
    switch (end.kind) {
      case 'clean':
        // The last file's preallocated zeros (and anything a power loss left past them) go too:
        // we never append to it again, and the reader stops there anyway.
        if (isLast && scan.size > scan.validEnd) reason = 'trailing preallocation after the last entry';
        break;
      case 'torn':
        reason = `torn tail: ${end.detail}`;
        break;
      case 'corrupt':
        if (end.followedByValidEntry) {
          if (!this.truncateCorruptLog) throw new CorruptLogError(f.file, scan.validEnd, `${end.detail}, and valid entries follow it`);
          stop = true;
        }
        reason = `corrupt entry: ${end.detail}`;
        break;
    }
    if (reason !== null) {
      await fsp.truncate(f.file, scan.validEnd);
      report.truncated.push({ file: f.name, at: scan.validEnd, size: scan.size, reason });
      if (this.fsync) await datasyncFile(f.file);
    }
    if (stop) {
      for (const l of later) {
        await fsp.rm(l.file, { force: true });
        report.removed.push(l.name);
      }
    }
    return stop;
  }

  append(entries: TxnEntry[]): Promise<void> {
    if (this.writer === null) return Promise.reject(new StoreStateError(this.closed ? 'store is closed' : 'append() before load()'));
    return this.writer.append(entries);
  }

  /**
   * Rolls the log (the next append starts log.<its zxid>), then writes
   * snapshot.<zxid> in the background of appends: they keep flowing while the
   * snapshot is serialized in chunks. Snapshots are written one at a time.
   */
  snapshot(zxid: bigint, contents: SnapshotContents, opts: { urgent?: boolean } = {}): Promise<void> {
    if (this.writer === null) return Promise.reject(new StoreStateError(this.closed ? 'store is closed' : 'snapshot() before load()'));
    this.writer.roll();
    const pacing = opts.urgent ? { sliceMs: URGENT_SLICE_MS, syncEvery: 0 } : {};
    const run = this.snapshotChain.then(() => writeSnapshotFile(this.snapDir, zxid, contents, { fsync: this.fsync, ...pacing }));
    this.snapshotChain = run.catch(() => undefined);
    return run.then(() => undefined);
  }

  /**
   * The logged txns after `zxid`, in zxid order. Null when the logs may not
   * reach back to `zxid` (no log file starts at or before it: purged, or
   * never written here). Every acknowledged append is included. All in
   * memory: a leader streams a DIFF with logEntries() instead.
   */
  async readFrom(zxid: bigint): Promise<TxnEntry[] | null> {
    const writer = this.requireWriter('readFrom()');
    if (zxid >= writer.lastZxid) return [];
    await writer.sync();
    const logs = await this.logFiles();
    if (logs.length === 0 || logs[0].zxid > zxid) return null;
    const out: TxnEntry[] = [];
    for await (const e of entriesAfter(logFilesFrom(logs, zxid), zxid)) out.push(e);
    return out;
  }

  /**
   * ZKDatabase.calculateTxnLogSizeLimit: how many bytes of txn log a leader
   * may send a learner instead of a snapshot, `factor` (Apache's
   * zookeeper.snapshotSizeFactor) times the size of the newest snapshot that
   * looks complete; 0 (no limit, as Apache) when there is none.
   */
  async txnLogSizeLimit(factor: number): Promise<number> {
    for (const s of sortByZxid(this.snapDir, await fsp.readdir(this.snapDir), SNAPSHOT_PREFIX, false)) {
      const size = await snapshotSizeIfComplete(s.file);
      if (size !== null) return Math.floor(size * factor);
    }
    return 0;
  }

  /**
   * Where `zxid` sits in the txn log, for a leader to sync a learner at
   * `zxid` from it (ZKDatabase.getProposalsFromTxnLog with FileTxnIterator
   * started at `zxid`, not fast-forwarded). The files read are the one
   * starting before `zxid` (strictly, as FileTxnIterator.init picks it) and
   * every later one. Null, as Apache's empty iterator, when the first txn
   * they hold is after `zxid` (the logs do not reach back to it), or when
   * `sizeLimit` > 0 and the files after the first one are larger than it
   * (their length on disk, preallocation included, as File.length()).
   *
   * Also null, unlike Apache, when the log from `zxid` to `through` (which
   * must be durable) is not one history: `through` is not logged, or a
   * snapshot lies strictly between two consecutive txns. That hole is where
   * this server once got a SNAP and kept its older log; the txns in between
   * are only in the snapshot, and Apache's iterator walks over them into a
   * DIFF that lacks them.
   */
  async findInLog(zxid: bigint, through: bigint, sizeLimit: number): Promise<TxnLogPosition | null> {
    this.requireWriter('findInLog()');
    const files = logFilesReading(await this.logFiles(), zxid);
    if (files.length === 0) return null;
    if (sizeLimit > 0) {
      let size = 0;
      for (const f of files.slice(1)) size += (await fsp.stat(f.file)).size;
      if (size > sizeLimit) return null;
    }
    const walk = new TxnLogWalk(zxid, through, sortByZxid(this.snapDir, await fsp.readdir(this.snapDir), SNAPSHOT_PREFIX, true).map((f) => f.zxid));
    for await (const e of entriesAfter(files, -1n)) {
      const answer = walk.next(e.header.zxid);
      if (answer !== undefined) return answer;
    }
    return null; // the log ends before `through`
  }

  /**
   * Whether the txn `zxid` is in this dataDir's current history past its
   * newest snapshot: logged, and after that snapshot. Older log files stay
   * behind a SNAP from another history, so a txn logged before a snapshot
   * proves nothing. A peer asks this of the reconfig behind its last seen
   * config (.next), written before that txn was durable and kept through
   * a TRUNC or a SNAP that took the txn away.
   */
  async loggedSinceSnapshot(zxid: bigint): Promise<boolean> {
    this.requireWriter('loggedSinceSnapshot()');
    const snaps = sortByZxid(this.snapDir, await fsp.readdir(this.snapDir), SNAPSHOT_PREFIX, false);
    if (snaps.length > 0 && snaps[0].zxid >= zxid) return false;
    for await (const e of entriesAfter(logFilesReading(await this.logFiles(), zxid), -1n)) {
      if (e.header.zxid >= zxid) return e.header.zxid === zxid;
    }
    return false;
  }

  /**
   * Streams the logged txns in (after, through], in zxid order, reading one
   * window of one file at a time: a leader's DIFF from disk. Every txn up to
   * `through` must be durable (its append settled). Throws when the log
   * does not hold `through` (a file purged meanwhile, or damaged).
   */
  async *logEntries(after: bigint, through: bigint): AsyncGenerator<TxnEntry> {
    this.requireWriter('logEntries()');
    let last = after;
    for await (const e of entriesAfter(logFilesFrom(await this.logFiles(), after), after)) {
      if (e.header.zxid > through) break;
      yield e;
      last = e.header.zxid;
      if (last === through) return;
    }
    throw new PersistError(`the txn log in ${this.logDir} ends at 0x${last.toString(16)}, before 0x${through.toString(16)}`);
  }

  private async logFiles(): Promise<ZxidFile[]> {
    return sortByZxid(this.logDir, await fsp.readdir(this.logDir), LOG_PREFIX, true);
  }

  /**
   * Cuts the history back so that nothing after `zxid` stays on disk: what a
   * learner does when its leader sends TRUNC (FileTxnLog.truncate). The
   * entries after `zxid` in its log file and every later log file go, and so
   * do snapshots newer than `zxid` (Apache leaves those, and its next load
   * brings the cut txns back). Throws TruncateError, changing nothing, when
   * no snapshot at or before `zxid` exists (the leader must send a SNAP).
   * Call with no append in flight; the next append continues after `zxid`.
   */
  async truncateTo(zxid: bigint): Promise<void> {
    const writer = this.requireWriter('truncateTo()');
    await this.snapshotChain;
    const snaps = sortByZxid(this.snapDir, await fsp.readdir(this.snapDir), SNAPSHOT_PREFIX, true);
    if (!snaps.some((s) => s.zxid <= zxid)) {
      throw new TruncateError(`cannot truncate to 0x${zxid.toString(16)}: no snapshot at or before it in ${this.snapDir}`);
    }
    this.writer = null;
    await writer.close();
    const logs = sortByZxid(this.logDir, await fsp.readdir(this.logDir), LOG_PREFIX, true);
    const keep = logs.filter((f) => f.zxid <= zxid);
    for (const f of logs.filter((x) => x.zxid > zxid)) await fsp.rm(f.file, { force: true });
    const cutFile = keep[keep.length - 1];
    if (cutFile !== undefined) {
      // Offset just past the last entry at or before zxid; entries are re-measured from their decoded parts.
      let end = FILE_HEADER_SIZE;
      for (const e of (await scanLogFile(cutFile.file)).entries) {
        if (e.header.zxid > zxid) break;
        end += ENTRY_OVERHEAD + TXN_HEADER_SIZE + e.body.length + (e.digest != null ? TXN_DIGEST_SIZE : 0);
      }
      await fsp.truncate(cutFile.file, end);
      if (this.fsync) await datasyncFile(cutFile.file);
    }
    for (const s of snaps.filter((x) => x.zxid > zxid)) await fsp.rm(s.file, { force: true });
    if (this.fsync) {
      await fsyncDir(this.logDir);
      if (this.snapDir !== this.logDir) await fsyncDir(this.snapDir);
    }
    const lastZxid = zxid < writer.lastZxid ? zxid : writer.lastZxid; // a zxid past our end cuts nothing
    this.writer = new TxnLogWriter({ dir: this.logDir, preAllocSize: this.preAllocSize, fsync: this.fsync, syncMethod: this.syncMethod, lastZxid });
  }

  /** The epoch files, checked and repaired against `lastZxid` as Apache does at start-up (epoch-files.ts). */
  loadEpochs(lastZxid: bigint): Promise<Epochs> {
    return loadEpochs(this.snapDir, lastZxid, { fsync: this.fsync });
  }

  /** Persists acceptedEpoch (a learner, before it answers ACKEPOCH). */
  setAcceptedEpoch(epoch: bigint): Promise<void> {
    return writeEpochFile(this.snapDir, ACCEPTED_EPOCH_FILE, epoch, { fsync: this.fsync });
  }

  /** Persists currentEpoch (only once the synced txns are durable, before NEWLEADER is acked). */
  setCurrentEpoch(epoch: bigint): Promise<void> {
    return writeEpochFile(this.snapDir, CURRENT_EPOCH_FILE, epoch, { fsync: this.fsync });
  }

  private requireWriter(what: string): TxnLogWriter {
    if (this.writer === null) throw new StoreStateError(this.closed ? 'store is closed' : `${what} before load()`);
    return this.writer;
  }

  /** PurgeTxnLog: keep the newest max(3, retain) snapshots and the logs needed after the oldest of them. */
  async purge(retain: number): Promise<void> {
    await this.purgeWithReport(retain);
  }

  /** purge(), also saying what was deleted. */
  async purgeWithReport(retain: number): Promise<PurgeResult> {
    await this.snapshotChain;
    return purgeDataDirs(this.logDir, this.snapDir, retain);
  }

  /** Group-commit counters of the current log writer. */
  stats(): TxnLogStats & { entriesPerFsync: number } {
    const s = this.writer?.stats ?? emptyTxnLogStats();
    return { ...s, entriesPerFsync: s.fsyncs === 0 ? 0 : s.entries / s.fsyncs };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.snapshotChain;
    const w = this.writer;
    this.writer = null;
    try {
      if (w !== null) await w.close();
    } finally {
      this.dirLock?.release();
      this.dirLock = null;
    }
  }
}

/**
 * The entries of `files` (in order) with zxid > `after`, ascending (a txn a
 * later file repeats is skipped), one file open at a time; a file whose
 * entries end in damage rather than at its end (or its preallocated
 * zeros) throws CorruptLogError there.
 */
async function* entriesAfter(files: readonly ZxidFile[], after: bigint): AsyncGenerator<TxnEntry> {
  let last = after;
  for (const f of files) {
    const r = await LogFileReader.open(f.file);
    try {
      for (let e = await r.next(); e !== null; e = await r.next()) {
        if (e.header.zxid <= last) continue;
        last = e.header.zxid;
        yield e;
      }
      // Going on with the next file would leave a hole in what the caller gets (FileTxnIterator throws too).
      if (r.end.kind !== 'clean') throw new CorruptLogError(f.file, r.validEnd, r.end.detail);
    } finally {
      await r.close();
    }
  }
}

/**
 * findInLog's walk over the logged zxids (ascending), one at a time: where
 * `zxid` sits, and whether the log after it reaches `through` without a
 * hole (a snapshot strictly between two consecutive txns). Synchronous, so
 * a simulated disk walks it too.
 */
export class TxnLogWalk {
  private readonly at: TxnLogPosition = { found: false, before: -1n };
  private prev: bigint | undefined;
  private snap = 0;

  /** `snapshots`: the zxids of the snapshots on disk, ascending. */
  constructor(
    private readonly zxid: bigint,
    private readonly through: bigint,
    private readonly snapshots: readonly bigint[],
  ) {}

  /** Takes the next logged zxid; the answer once it is known, undefined while the walk needs more. */
  next(z: bigint): TxnLogPosition | null | undefined {
    const { at, zxid, snapshots } = this;
    if (this.prev === undefined && z > zxid) return null;
    if (z < zxid) at.before = z;
    else if (z === zxid) at.found = true;
    else {
      at.after ??= z;
      while (this.snap < snapshots.length && snapshots[this.snap] <= this.prev!) this.snap++;
      if (this.snap < snapshots.length && snapshots[this.snap] < z) return null;
    }
    if (z >= this.through) return z === this.through ? at : null;
    this.prev = z;
    return undefined;
  }
}

/** A snapshot file's size when it looks complete (FileSnap.findNValidSnapshots' SnapStream.isValidSnapshot); null otherwise. */
async function snapshotSizeIfComplete(file: string): Promise<number | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch {
    return null; // purged meanwhile
  }
  try {
    const size = (await fh.stat()).size;
    // A compressed snapshot's tail is only visible decompressed: taken as it is (we write none).
    if (snapshotCompression(path.basename(file)) !== 'none') return size;
    if (size < 10) return null;
    const tail = Buffer.alloc(10);
    await fh.read(tail, 0, 10, size - 10);
    return looksComplete(tail) ? size : null;
  } finally {
    await fh.close();
  }
}

/** Makes a truncation of `file` durable. */
async function datasyncFile(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
