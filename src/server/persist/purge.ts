/**
 * Removing old snapshots and logs with Apache's PurgeTxnLog rules, so
 * autopurge (snapRetainCount / purgeInterval) leaves the same files Apache's
 * would:
 * - keep the newest `retain` snapshots that look valid (at least 3);
 * - delete every snapshot and log whose name zxid is below the oldest kept
 *   snapshot's, EXCEPT the log file that starts at or just before it (it may
 *   hold txns after that snapshot) and every later log.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { LOG_PREFIX, SNAPSHOT_PREFIX, ZxidFile, logFilesFrom, snapshotCompression, sortByZxid } from './file-names';

/** PurgeTxnLog refuses fewer than 3; DatadirCleanupManager raises snapRetainCount to 3. */
export const MIN_SNAPSHOTS_RETAINED = 3;

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** SnappyCodec.MAGIC_HEADER of snappy-java's framed stream. */
const SNAPPY_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

async function readAt(file: string, position: number, length: number): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** SnapStream.isValidSnapshot: a cheap check of the file's ends, not a full parse. */
export async function snapshotLooksValid(f: ZxidFile): Promise<boolean> {
  try {
    switch (snapshotCompression(f.name)) {
      case 'gz':
        return (await readAt(f.file, 0, 2)).equals(GZIP_MAGIC);
      case 'snappy':
        return (await readAt(f.file, 0, SNAPPY_MAGIC.length)).equals(SNAPPY_MAGIC);
      default: {
        const size = (await fsp.stat(f.file)).size;
        if (size < 10) return false;
        const tail = await readAt(f.file, size - 5, 5);
        return tail.length === 5 && tail.readInt32BE(0) === 1 && tail[4] === 0x2f;
      }
    }
  } catch {
    return false;
  }
}

export interface PurgeResult {
  deleted: string[];
  retainedSnapshots: string[];
}

/** Deletes what PurgeTxnLog.purge(logDir, snapDir, retain) would. Directories are the version-2 ones. */
export async function purgeDataDirs(logDir: string, snapDir: string, retain: number): Promise<PurgeResult> {
  const keep = Math.max(MIN_SNAPSHOTS_RETAINED, Math.floor(retain));
  const snaps = sortByZxid(snapDir, await fsp.readdir(snapDir), SNAPSHOT_PREFIX, false);
  const kept: ZxidFile[] = [];
  for (const s of snaps) {
    if (kept.length === keep) break;
    if (await snapshotLooksValid(s)) kept.push(s);
  }
  if (kept.length === 0) return { deleted: [], retainedSnapshots: [] };
  const least = kept[kept.length - 1].zxid;
  const logs = sortByZxid(logDir, await fsp.readdir(logDir), LOG_PREFIX, true);
  const retainedLogs = new Set(logFilesFrom(logs, least).map((f) => f.file));
  const doomed = [
    ...logs.filter((f) => f.zxid < least && !retainedLogs.has(f.file)),
    ...snaps.filter((f) => f.zxid < least),
  ];
  const deleted: string[] = [];
  for (const f of doomed) {
    await fsp.rm(f.file, { force: true });
    deleted.push(path.basename(f.file));
  }
  return { deleted, retainedSnapshots: kept.map((k) => k.name) };
}
