/**
 * The snapshot a leader streams to a learner in a SNAP sync, as Apache 3.8's
 * LearnerHandler sends it right after QuorumPacket(SNAP, lastProcessedZxid):
 * the snapshot body (SerializeUtils.serializeSnapshot: sessions, ACL cache,
 * nodes, "/") and then the ustring "BenWasHere", which Learner.syncWithLeader
 * checks ("Missing signature"). No file header, seals or digest: those are
 * the snapshot file's, not the stream's.
 */
import { JuteReader, JuteWriter, TruncatedInputError } from '../../jute';
import { ACL } from '../../proto';
import { CorruptSnapshotError } from './errors';
import { decodeSnapshotNodeAfterPath, NODE_TAIL_BYTES, NodeOrderCheck, nodePaths, readSnapshotBody, ReadSnapshot, SnapshotNodeList, writeSnapshotBody } from './snapshot-file';
import type { SnapshotContents, SnapshotNodeSink } from './types';

export const SNAP_SIGNATURE = 'BenWasHere';
/** Bytes of a chunk taken at a time to complete an item cut by a chunk boundary while its lengths are not in yet. */
const MIN_TAKE = 256;
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
  // The stream has no digest (that is the file's), so none is computed; slices as for a file (the leader serves meanwhile).
  await writeSnapshotBody(w, contents, () => flush(), { digest: false });
  w.writeString(SNAP_SIGNATURE);
  await flush(true);
}

/**
 * Reads a SNAP payload from `r` (positioned after the SNAP packet). Throws
 * CorruptSnapshotError when the body is damaged or the signature is missing.
 */
export function readSnapSyncStream(r: JuteReader): SnapSyncBody {
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

/**
 * What a SNAP stream carries: sessions, the ACL cache and the nodes (no
 * digest, no seals); `built`: what a node sink built from the nodes as they
 * arrived (see SnapSyncStreamReaderOptions.nodeSink).
 */
export type SnapSyncBody = Pick<ReadSnapshot, 'sessions' | 'acls' | 'nodes' | 'rawBody'> & { built?: SnapshotNodeSink };

export type { SnapshotNodeSink } from './types';

/**
 * The largest length Apache accepts for one jute buffer or string when it
 * reads (BinaryInputArchive.checkLength): jute.maxbuffer (0xfffff) plus
 * zookeeper.jute.maxbuffer.extrasize, which defaults to jute.maxbuffer.
 */
export const JUTE_READ_LIMIT = 0xfffff * 2;

/**
 * Bytes received but not yet parsed. Chunks stay apart until a parser asks
 * for them as one Buffer, so an item that arrives in many small chunks is
 * copied once when it is complete, not once per chunk.
 */
export class PendingBytes {
  private chunks: Buffer[] = [];
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** Everything held, as one Buffer (which then stays the only chunk). */
  view(): Buffer {
    if (this.chunks.length === 0) return Buffer.alloc(0);
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.total)];
    return this.chunks[0];
  }

  /** Drops the first `n` bytes. */
  consume(n: number): void {
    const rest = this.view().subarray(n);
    this.chunks = rest.length === 0 ? [] : [rest];
    this.total = rest.length;
  }

  /** Takes everything held, leaving nothing. */
  drain(): Buffer {
    const all = this.view();
    this.chunks = [];
    this.total = 0;
    return all;
  }
}

type SnapPhase = 'sessionCount' | 'sessions' | 'aclCount' | 'acls' | 'nodes' | 'signature' | 'done';

export interface SnapSyncStreamReaderOptions {
  /** Bound on any one length in the stream (path, node data, ACL id); Apache's read limit unless given. */
  maxBuffer?: number;
  /**
   * Given the ACL cache once it is read, a sink for the nodes as they arrive:
   * a learner builds its new tree while the leader is still sending, instead
   * of after (for a big tree the two take about as long each). The body then
   * carries it as `built`.
   */
  nodeSink?: (acls: Map<bigint, ACL[]>) => SnapshotNodeSink;
}

/**
 * Reads a SNAP payload as it arrives off a socket, in chunks of any size
 * (readSnapSyncStream needs the whole thing in one Buffer). It parses every
 * complete item (a session, an ACL cache entry, a node) as soon as its last
 * byte is in, straight out of the chunk it arrived in: only an item cut by a
 * chunk boundary is copied, into a buffer of its own size, so a snapshot of
 * any size costs one pass and no copy of the stream. The chunks are kept as
 * they came (the body's bytes, which a learner writes as its snapshot file).
 * A node's declared path and data lengths are checked against `maxBuffer`
 * before waiting for them, and an unfinished item may not grow past what two
 * such lengths need, so a lying peer gets a CorruptSnapshotError rather than
 * a reader that buffers forever.
 *
 * Example: `const done = reader.push(chunk); if (done) use(done.body, done.rest);`
 */
export class SnapSyncStreamReader {
  private phase: SnapPhase = 'sessionCount';
  /** Sessions or ACL entries still to read in the current section. */
  private left = 0;
  private readonly sessions = new Map<bigint, number>();
  private readonly acls = new Map<bigint, ACL[]>();
  /** Parents before children (see NodeOrderCheck); a node sink checks that itself. */
  private readonly order = new NodeOrderCheck();
  private sawRoot = false;
  /** Every byte parsed so far, in the pieces it came in: the body's bytes. */
  private readonly raw: Buffer[] = [];
  private rawLength = 0;
  /** Offsets into the whole stream: where the nodes start, where their "/" end marker starts, and where it ends. */
  private nodesStart = -1;
  private nodesEnd = -1;
  private bodyEnd = -1;
  /** The unfinished item's bytes (from the end of earlier chunks); empty when the last chunk ended on an item boundary. */
  private readonly tail = new PendingBytes();
  /** Bytes the unfinished item needs in all (0: not known yet). */
  private need = 0;
  /** What followed the signature, when the snapshot ended in bytes that were held. */
  private afterEnd?: Buffer;
  /** While an item is read: the stream offset of the Buffer's byte 0, and where parsing in it began. */
  private base = 0;
  private from = 0;
  private readonly maxBuffer: number;
  private readonly maxItem: number;
  private readonly makeSink?: (acls: Map<bigint, ACL[]>) => SnapshotNodeSink;
  private sink?: SnapshotNodeSink;

  constructor(opts: SnapSyncStreamReaderOptions = {}) {
    this.maxBuffer = opts.maxBuffer ?? JUTE_READ_LIMIT;
    this.makeSink = opts.nodeSink;
    // The largest item is a node: two bounded lengths plus fixed fields.
    this.maxItem = 2 * this.maxBuffer + 8 + NODE_TAIL_BYTES;
  }

  /** True once the signature has been read. */
  get finished(): boolean {
    return this.phase === 'done';
  }

  /** Bytes held for the unfinished item. */
  get buffered(): number {
    return this.tail.length;
  }

  /**
   * Feeds the next bytes. Returns undefined while the snapshot is incomplete;
   * once the signature is in, the parsed body and the bytes that followed it
   * in the chunks given (the leader's next packets). Throws
   * CorruptSnapshotError on a damaged stream, and on any push after the end.
   */
  push(chunk: Buffer): { body: SnapSyncBody; rest: Buffer } | undefined {
    if (this.finished) throw new CorruptSnapshotError('SNAP sync: bytes pushed after the signature');
    if (chunk.length === 0) return undefined;
    try {
      let at = this.tail.length > 0 ? this.finishTail(chunk) : 0;
      if (at >= 0 && !this.finished) at = this.parse(chunk, at);
      if (at < 0 || !this.finished) return undefined;
      return { body: this.body(), rest: this.afterEnd ?? chunk.subarray(at) };
    } catch (e) {
      if (e instanceof CorruptSnapshotError) throw e;
      throw new CorruptSnapshotError(`SNAP sync: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Completes the item cut by the last chunk boundary with the first bytes of
   * `chunk`, copying just that item's bytes. Returns where in `chunk` the
   * bytes not parsed yet start, or -1 when `chunk` did not finish the item
   * (it is then held too). When the snapshot ended here, `afterEnd` holds
   * what followed it.
   */
  private finishTail(chunk: Buffer): number {
    let consumed = 0;
    for (;;) {
      const held = this.tail.length;
      const left = chunk.length - consumed;
      if (held + left < this.need) {
        this.tail.push(chunk.subarray(consumed));
        this.checkHeld();
        return -1;
      }
      // What the item's lengths say it needs, or a little more when they are not in yet.
      const take = Math.min(left, Math.max(this.need - held, MIN_TAKE));
      const item = Buffer.concat([this.tail.drain(), chunk.subarray(consumed, consumed + take)]);
      consumed += take;
      const r = new JuteReader(item);
      this.base = this.rawLength;
      this.from = 0;
      let boundary = 0;
      try {
        // Every item that starts in what was held (a section's end takes no bytes), up to the snapshot's end.
        while (!this.finished && boundary < held) {
          this.readItem(r, item);
          boundary = r.offset;
        }
      } catch (e) {
        if (!(e instanceof TruncatedInputError)) throw e;
        this.keep(item.subarray(0, boundary));
        this.tail.push(item.subarray(boundary));
        this.need = Math.max(this.tail.length + 1, this.itemSizeHint(item, boundary));
        continue;
      }
      this.keep(item.subarray(0, boundary));
      if (this.finished) {
        this.afterEnd = Buffer.concat([item.subarray(boundary), chunk.subarray(consumed)]);
        return chunk.length;
      }
      this.need = 0;
      // Past what was held, everything in `item` is the chunk's: parsing goes on in the chunk itself.
      return consumed - (item.length - boundary);
    }
  }

  /** Parses the items of `chunk` from `at` on; returns where the last whole one ends, or -1 when the chunk ends inside one (then held). */
  private parse(chunk: Buffer, at: number): number {
    const r = new JuteReader(chunk, at);
    this.base = this.rawLength - at;
    this.from = at;
    let boundary = at;
    try {
      while (!this.finished) {
        this.readItem(r, chunk);
        boundary = r.offset;
      }
    } catch (e) {
      if (!(e instanceof TruncatedInputError)) throw e;
      this.keep(chunk.subarray(at, boundary));
      this.tail.push(chunk.subarray(boundary));
      this.need = Math.max(this.tail.length + 1, this.itemSizeHint(chunk, boundary));
      this.checkHeld();
      return -1;
    }
    this.keep(chunk.subarray(at, boundary));
    return boundary;
  }

  private checkHeld(): void {
    if (this.tail.length > this.maxItem) {
      throw new CorruptSnapshotError(`SNAP sync: an item in the ${this.phase} section exceeds ${this.maxItem} bytes`);
    }
  }

  /** Adds parsed bytes to the kept stream. */
  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.raw.push(bytes);
    this.rawLength += bytes.length;
  }

  /** The finished snapshot. Its nodes are decoded from the kept bytes when iterated (a sink has taken them already). */
  private body(): SnapSyncBody {
    return {
      sessions: this.sessions,
      acls: this.acls,
      nodes: new SnapshotNodeList(this.raw, this.nodesStart, this.nodesEnd),
      rawBody: firstBytes(this.raw, this.bodyEnd),
      built: this.sink,
    };
  }

  /** Reads one item of the current phase, or throws TruncatedInputError with `r` part-way (the caller rewinds). */
  private readItem(r: JuteReader, buf: Buffer): void {
    switch (this.phase) {
      case 'sessionCount':
      case 'aclCount': {
        // Apache loops `while (count > 0)`: a negative count reads as none.
        this.left = Math.max(0, r.readInt());
        this.phase = this.phase === 'sessionCount' ? 'sessions' : 'acls';
        return;
      }
      case 'sessions': {
        if (this.left === 0) {
          this.phase = 'aclCount';
          return;
        }
        const id = r.readLong();
        this.sessions.set(id, r.readInt());
        this.left--;
        return;
      }
      case 'acls': {
        if (this.left === 0) {
          this.phase = 'nodes';
          this.nodesStart = this.base + r.offset;
          this.sink = this.makeSink?.(this.acls);
          return;
        }
        const ref = r.readLong();
        const list = r.readVector((rr) => ACL.decode(rr));
        if (list === null) throw new CorruptSnapshotError(`SNAP sync: ACL cache entry ${ref} has no ACL vector`);
        this.acls.set(ref, list);
        this.left--;
        return;
      }
      case 'nodes': {
        // Checked and skipped, not decoded, unless a sink takes the nodes: the bytes are kept either way
        // (a learner writes them as its snapshot file; without a sink the tree is built from them).
        const at = r.offset;
        const pathLen = this.checkedLength(buf, at, 'node path');
        const p = r.readString();
        if (p === null) throw new CorruptSnapshotError('SNAP sync: null node path');
        if (p === '/') {
          if (!this.sawRoot) throw new CorruptSnapshotError('SNAP sync: no root node');
          this.nodesEnd = this.base + at;
          this.bodyEnd = this.base + r.offset;
          this.phase = 'signature';
          return;
        }
        const dataAt = at + 4 + pathLen;
        const dataLen = this.checkedLength(buf, dataAt, 'node data');
        r.skip(4);
        if (dataLen > 0) r.skip(dataLen);
        r.skip(NODE_TAIL_BYTES);
        // The whole node is in: only now may it be checked and taken (a truncated node is read again).
        if (this.sink !== undefined) {
          // The sink refuses a node whose parent it has not got, the root included.
          if (p === '' && this.sawRoot) throw new CorruptSnapshotError('SNAP sync: a second root node');
          try {
            if (this.sink.addRecord) this.sink.addRecord(p, buf, dataAt);
            else this.sink.add(decodeSnapshotNodeAfterPath(new JuteReader(buf, dataAt, r.offset), p, buf));
          } catch (e) {
            throw new CorruptSnapshotError(`SNAP sync: node ${p}: ${(e as Error).message}`, { cause: e });
          }
        } else {
          const before = this.base + at;
          const earlier = () => nodePaths(Buffer.concat([...this.raw, buf.subarray(this.from, at)]), this.nodesStart, before);
          if (!this.order.admit(p, earlier)) throw new CorruptSnapshotError(`SNAP sync: node ${p} has no parent before it`);
        }
        if (p === '') this.sawRoot = true;
        return;
      }
      case 'signature': {
        const signature = r.readString();
        if (signature !== SNAP_SIGNATURE) throw new CorruptSnapshotError(`SNAP sync: missing signature (got ${JSON.stringify(signature)})`);
        this.phase = 'done';
        return;
      }
      case 'done':
        return;
    }
  }

  /**
   * The length at `at` when its 4 bytes are in (-1 = null is allowed here;
   * the caller decides), 0 when not yet. Throws on a length Apache would
   * refuse, before any of its bytes are waited for.
   */
  private checkedLength(buf: Buffer, at: number, what: string): number {
    if (buf.length < at + 4) return 0;
    const len = buf.readInt32BE(at);
    if (len < -1 || len > this.maxBuffer) throw new CorruptSnapshotError(`SNAP sync: ${what} length ${len} outside -1..${this.maxBuffer}`);
    return Math.max(0, len);
  }

  /** How many bytes the node starting at `at` takes, as far as its lengths are in; 0 when unknown. */
  private itemSizeHint(buf: Buffer, at: number): number {
    if (this.phase !== 'nodes' || buf.length < at + 4) return 0;
    const pathLen = Math.max(0, buf.readInt32BE(at));
    const dataAt = at + 4 + pathLen;
    if (buf.length < dataAt + 4) return 4 + pathLen + 4;
    return 4 + pathLen + 4 + Math.max(0, buf.readInt32BE(dataAt)) + NODE_TAIL_BYTES;
  }
}

/** The first `n` bytes of `pieces`, as pieces (no copy). */
function firstBytes(pieces: readonly Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let left = n;
  for (const p of pieces) {
    if (left <= 0) break;
    out.push(p.length <= left ? p : p.subarray(0, left));
    left -= p.length;
  }
  return out;
}
