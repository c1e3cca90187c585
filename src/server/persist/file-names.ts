/**
 * File naming and selection rules of Apache ZooKeeper's data directories
 * (persistence/Util.java, FileTxnLog.getLogFiles, FileSnap):
 * - `log.<zxid in lower-case hex, no padding>` holds txns starting at that zxid;
 * - `snapshot.<zxid hex>[.gz|.snappy]` is the tree as of that zxid;
 * - the zxid is the second dot-separated part, parsed as hex; a name whose
 *   prefix differs or whose zxid does not parse has zxid -1 (ignored).
 */
import * as path from 'path';

export const LOG_PREFIX = 'log';
export const SNAPSHOT_PREFIX = 'snapshot';
/** Apache keeps both kinds of file in a `version-2` subdirectory of dataDir / dataLogDir. */
export const VERSION_DIR = 'version-2';
/**
 * Snapshots are written under this prefix and renamed when complete. Apache
 * ignores it (prefix is not `snapshot.`), so a crash mid-write leaves nothing
 * Apache or we would mistake for a snapshot.
 */
export const SNAPSHOT_TEMP_PREFIX = 'tmp.snapshot';

/** `log.<hex zxid>` (Util.makeLogName). */
export function makeLogName(zxid: bigint): string {
  return `${LOG_PREFIX}.${zxid.toString(16)}`;
}

/** `snapshot.<hex zxid>` (Util.makeSnapshotName with the default, uncompressed stream mode). */
export function makeSnapshotName(zxid: bigint): string {
  return `${SNAPSHOT_PREFIX}.${zxid.toString(16)}`;
}

const HEX = /^[0-9a-fA-F]{1,16}$/;

/** The zxid in `name` for `prefix`, or -1n when the name is not one of those files (Util.getZxidFromName). */
export function zxidFromName(name: string, prefix: string): bigint {
  const parts = name.split('.');
  if (parts.length < 2 || parts[0] !== prefix || !HEX.test(parts[1])) return -1n;
  return BigInt.asIntN(64, BigInt('0x' + parts[1]));
}

export type SnapshotCompression = 'none' | 'gz' | 'snappy';

/** How a snapshot file is encoded, from its last extension (SnapStream.getStreamMode(fileName)). */
export function snapshotCompression(name: string): SnapshotCompression {
  const parts = name.split('.');
  const ext = parts.length > 1 ? parts[parts.length - 1].toLowerCase() : '';
  if (ext === 'gz') return 'gz';
  if (ext === 'snappy') return 'snappy';
  return 'none';
}

export interface ZxidFile {
  name: string;
  file: string;
  zxid: bigint;
}

/** The files of `names` with `prefix`, sorted by zxid (Util.sortDataDir). */
export function sortByZxid(dir: string, names: readonly string[], prefix: string, ascending: boolean): ZxidFile[] {
  const out: ZxidFile[] = [];
  for (const name of names) {
    const zxid = zxidFromName(name, prefix);
    if (zxid < 0n) continue;
    out.push({ name, file: path.join(dir, name), zxid });
  }
  out.sort((x, y) => (x.zxid < y.zxid ? -1 : x.zxid > y.zxid ? 1 : 0) * (ascending ? 1 : -1));
  return out;
}

/**
 * The log files needed to replay everything after `snapshotZxid`: the newest
 * one starting at or before it, and every later one (FileTxnLog.getLogFiles).
 * `logs` must be sorted ascending.
 */
export function logFilesFrom(logs: readonly ZxidFile[], snapshotZxid: bigint): ZxidFile[] {
  let start = 0n;
  for (const f of logs) {
    if (f.zxid > snapshotZxid) break;
    if (f.zxid > start) start = f.zxid;
  }
  return logs.filter((f) => f.zxid >= start);
}

/**
 * The log files a reader from `zxid` opens (FileTxnLog.FileTxnIterator.init):
 * the newest one starting strictly before `zxid`, and every one starting at
 * or after it. A file starting exactly at `zxid` so comes after the one
 * before it, whose last txn is the one a sync needs to see before `zxid`.
 * `logs` must be sorted ascending.
 */
export function logFilesReading(logs: readonly ZxidFile[], zxid: bigint): ZxidFile[] {
  let from = 0;
  for (let i = 0; i < logs.length && logs[i].zxid < zxid; i++) from = i;
  return logs.slice(from);
}
