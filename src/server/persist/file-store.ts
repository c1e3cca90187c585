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
  StoreStateError,
  TruncateError,
} from './errors';
import { LOG_PREFIX, SNAPSHOT_PREFIX, SNAPSHOT_TEMP_PREFIX, VERSION_DIR, ZxidFile, logFilesFrom, sortByZxid } from './file-names';
import { PurgeResult, purgeDataDirs } from './purge';
import { fsyncDir, readSnapshotFile, writeSnapshotFile } from './snapshot-file';
import { FILE_HEADER_SIZE, LogScan, scanLogFile } from './txn-log-reader';
import { DEFAULT_PREALLOC_SIZE, emptyTxnLogStats, TxnLogStats, TxnLogSyncMethod, TxnLogWriter } from './txn-log-writer';
import { DataDirLock } from './data-dir-lock';
import { ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE, Epochs, loadEpochs, writeEpochFile } from './epoch-files';
import { ENTRY_OVERHEAD, TXN_DIGEST_SIZE, TXN_HEADER_SIZE } from './txn-codec';
import type { LoadedState, SnapshotContents, TxnEntry, TxnStore } from './types';

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
   * The logged txns after `zxid`, in zxid order: what a leader sends a
   * learner as a DIFF. Null when the logs may not reach back to `zxid` (no
   * log file starts at or before it: purged, or never written here), so the
   * caller must send a snapshot instead. Every acknowledged append is included.
   */
  async readFrom(zxid: bigint): Promise<TxnEntry[] | null> {
    const writer = this.requireWriter('readFrom()');
    if (zxid >= writer.lastZxid) return [];
    await writer.sync();
    const logs = sortByZxid(this.logDir, await fsp.readdir(this.logDir), LOG_PREFIX, true);
    if (logs.length === 0 || logs[0].zxid > zxid) return null;
    const out: TxnEntry[] = [];
    for (const f of logFilesFrom(logs, zxid)) {
      for (const e of (await scanLogFile(f.file)).entries) {
        if (e.header.zxid > zxid && (out.length === 0 || e.header.zxid > out[out.length - 1].header.zxid)) out.push(e);
      }
    }
    return out;
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

/** Makes a truncation of `file` durable. */
async function datasyncFile(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
