/**
 * The two epoch files of a quorum member, as Apache ZooKeeper 3.8's
 * QuorumPeer keeps them in the snapshot directory (<dataDir>/version-2):
 *
 *   acceptedEpoch  the newest epoch this server agreed to follow (written
 *                  before it answers ACKEPOCH)
 *   currentEpoch   the epoch whose history this server holds (written only
 *                  after the synced txns are on disk, then NEWLEADER is acked)
 *
 * Each is the decimal value with no newline, replaced atomically: written to
 * `<name>.tmp`, fsynced, renamed over the old file (writeLongToFile with
 * AtomicFileWritingIdiom). Start-up checks follow QuorumPeer.loadDataBase:
 * a missing file takes the epoch of the last zxid and is written; a
 * currentEpoch older than the last zxid's epoch is an error unless a
 * `currentEpoch.tmp` shows the update was under way (its value is then
 * taken); acceptedEpoch below currentEpoch is an error.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { PersistError } from './errors';
import { epochOf } from '../zxid';
import { fsyncDir } from './snapshot-file';

export const ACCEPTED_EPOCH_FILE = 'acceptedEpoch';
export const CURRENT_EPOCH_FILE = 'currentEpoch';
const TMP_SUFFIX = '.tmp';

/** The epoch files contradict the log, or hold something that is not a number. */
export class EpochFileError extends PersistError {}

/** Reads `<snapDir>/<name>`: null when absent; EpochFileError when it is not a decimal number. */
export async function readEpochFile(snapDir: string, name: string): Promise<bigint | null> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(snapDir, name), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  // Apache reads the first line and parses it as a long.
  const line = text.split(/\r?\n/)[0].trim();
  if (!/^\d+$/.test(line)) throw new EpochFileError(`${path.join(snapDir, name)} holds "${line}", not an epoch`);
  return BigInt(line);
}

/** Replaces `<snapDir>/<name>` with `value`: .tmp, fsync, rename, fsync of the directory. */
export async function writeEpochFile(snapDir: string, name: string, value: bigint, opts: { fsync?: boolean } = {}): Promise<void> {
  if (value < 0n) throw new EpochFileError(`epoch ${value} is negative`);
  const fsync = opts.fsync ?? true;
  const file = path.join(snapDir, name);
  const tmp = file + TMP_SUFFIX;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(String(value));
    if (fsync) await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
  if (fsync) await fsyncDir(snapDir);
}

export interface Epochs {
  acceptedEpoch: bigint;
  currentEpoch: bigint;
}

/**
 * The epochs at start-up, given the last zxid on disk, with Apache's checks
 * and repairs (see the module comment). Writes a missing file.
 */
export async function loadEpochs(snapDir: string, lastZxid: bigint, opts: { fsync?: boolean } = {}): Promise<Epochs> {
  const zxidEpoch = epochOf(lastZxid);
  let currentEpoch = await readEpochFile(snapDir, CURRENT_EPOCH_FILE);
  if (currentEpoch === null) {
    currentEpoch = zxidEpoch;
    await writeEpochFile(snapDir, CURRENT_EPOCH_FILE, currentEpoch, opts);
  }
  if (zxidEpoch > currentEpoch) {
    const pending = await readEpochFile(snapDir, CURRENT_EPOCH_FILE + TMP_SUFFIX);
    if (pending === null) {
      throw new EpochFileError(`the current epoch ${currentEpoch} is older than the last zxid's epoch ${zxidEpoch} (zxid 0x${lastZxid.toString(16)})`);
    }
    // The crash came between writing currentEpoch.tmp and renaming it: the update is complete on disk.
    currentEpoch = pending;
    await writeEpochFile(snapDir, CURRENT_EPOCH_FILE, currentEpoch, opts);
  }
  let acceptedEpoch = await readEpochFile(snapDir, ACCEPTED_EPOCH_FILE);
  if (acceptedEpoch === null) {
    acceptedEpoch = zxidEpoch;
    await writeEpochFile(snapDir, ACCEPTED_EPOCH_FILE, acceptedEpoch, opts);
  }
  if (acceptedEpoch < currentEpoch) {
    throw new EpochFileError(`the accepted epoch ${acceptedEpoch} is less than the current epoch ${currentEpoch}`);
  }
  return { acceptedEpoch, currentEpoch };
}
