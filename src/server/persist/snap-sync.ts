/**
 * The snapshot a leader streams to a learner in a SNAP sync, as Apache 3.8's
 * LearnerHandler sends it right after QuorumPacket(SNAP, lastProcessedZxid):
 * the snapshot body (SerializeUtils.serializeSnapshot: sessions, ACL cache,
 * nodes, "/") and then the ustring "BenWasHere", which Learner.syncWithLeader
 * checks ("Missing signature"). No file header, seals or digest: those are
 * the snapshot file's, not the stream's.
 */
import { JuteReader, JuteWriter } from '../../jute';
import { CorruptSnapshotError } from './errors';
import { readSnapshotBody, ReadSnapshot, writeSnapshotBody } from './snapshot-file';
import type { SnapshotContents } from './types';

export const SNAP_SIGNATURE = 'BenWasHere';
/** Bytes handed to `out` at a time. */
const CHUNK = 1 << 20;

/** Writes the SNAP payload for `contents` to `out` in chunks of about 1 MB (awaiting `out`, for back-pressure). */
export async function writeSnapSyncStream(contents: SnapshotContents, out: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  const w = new JuteWriter(CHUNK + (64 << 10));
  const flush = async (force = false): Promise<void> => {
    if (w.length === 0 || (!force && w.length < CHUNK)) return;
    const chunk = Buffer.from(w.view());
    w.reset();
    await out(chunk);
  };
  await writeSnapshotBody(w, contents, () => flush());
  w.writeString(SNAP_SIGNATURE);
  await flush(true);
}

/**
 * Reads a SNAP payload from `r` (positioned after the SNAP packet). Throws
 * CorruptSnapshotError when the body is damaged or the signature is missing.
 */
export function readSnapSyncStream(r: JuteReader): Pick<ReadSnapshot, 'sessions' | 'acls' | 'nodes'> {
  try {
    const body = readSnapshotBody(r, 'SNAP sync');
    const signature = r.readString();
    if (signature !== SNAP_SIGNATURE) throw new CorruptSnapshotError(`SNAP sync: missing signature (got ${JSON.stringify(signature)})`);
    return body;
  } catch (e) {
    if (e instanceof CorruptSnapshotError) throw e;
    throw new CorruptSnapshotError(`SNAP sync: ${(e as Error).message}`, { cause: e });
  }
}
