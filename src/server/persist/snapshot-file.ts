/**
 * Snapshot files in Apache ZooKeeper 3.8's format (FileSnap, SnapStream,
 * SerializeUtils.serializeSnapshot, DataTree.serialize,
 * ReferenceCountedACLCache.serialize):
 *
 *   FileHeader        int magic 'ZKSN', int version 2, long dbid (-1)
 *   sessions          int count, then count x (long id, int timeout)
 *   ACL cache         int count, then count x (long ref, vector<ACL>)
 *   nodes             count x (ustring path, DataNode{buffer data, long acl,
 *                     StatPersisted stat}), depth-first, parents first,
 *                     starting with the root spelled "" (children "/a", "/a/b")
 *   end of nodes      ustring "/"
 *   seal              long Adler32 of every byte so far, ustring "/"
 *   zxid digest       long zxid, int digestVersion, long digest (3.6+)
 *   seal              long Adler32 of every byte so far, ustring "/"
 *                     (these two are left out by a fuzzy snapshot that saw
 *                     txns while it was written: see writeSnapshotFile)
 *
 * The checksum is over the uncompressed stream (Apache wraps the compressor
 * in a CheckedOutputStream). Apache validates a plain snapshot cheaply by its
 * last five bytes (int 1, '/'), then fully by the first seal.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { JuteReader, JuteWriter } from '../../jute';
import { ACL, FileHeader, StatPersisted } from '../../proto';
import { Adler32, adler32 } from './checksums';
import { DIGEST_VERSION, addDigest, nodeDigest } from './digest';
import { CorruptSnapshotError, PersistError, UnsupportedSnapshotCompressionError } from './errors';
import { SNAPSHOT_TEMP_PREFIX, makeSnapshotName, snapshotCompression } from './file-names';
import type { SnapshotContents, SnapshotDigest, SnapshotNode, SnapshotNodeSink, SnapshotNodeSource, SnapshotStat } from './types';

/** 'ZKSN' as a big-endian int (FileSnap.SNAP_MAGIC). */
export const SNAP_MAGIC = 0x5a4b534e;
export const SNAP_VERSION = 2;
/** FileSnap writes dbid -1. */
export const SNAP_DBID = -1n;
/** Snapshot bytes are handed to the file in chunks of about this size, yielding to the event loop between them. */
const CHUNK = 1 << 20;

export interface ReadSnapshot {
  sessions: Map<bigint, number>;
  acls: Map<bigint, ACL[]>;
  nodes: SnapshotNodeSource;
  /** The body's bytes (sessions through the nodes' "/" end marker), in one Buffer or in the pieces they arrived in; set for a SNAP stream only. */
  rawBody?: Buffer | readonly Buffer[];
  /** The zxid digest after the first seal, or null when the file has none (pre-3.6 or digests disabled). */
  digest: SnapshotDigest | null;
}

function parentOf(p: string): string | null {
  const slash = p.lastIndexOf('/');
  return slash === -1 ? null : p.substring(0, slash);
}

/** Adler32 + file writes for a stream produced in pieces. */
class ChunkedSink {
  readonly w = new JuteWriter(CHUNK + (64 << 10));
  readonly sum = new Adler32();
  written = 0;
  private syncedTo = 0;

  /** `syncEvery` > 0: datasync whenever that many bytes were written since the last one (see SNAPSHOT_SYNC_EVERY). */
  constructor(
    private readonly fh: fsp.FileHandle,
    private readonly syncEvery = 0,
  ) {}

  async flushIfFull(): Promise<void> {
    if (this.w.length >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    const view = this.w.view();
    if (view.length === 0) return;
    await this.writeOut(view);
    this.w.reset();
  }

  /** Bytes that are already serialized (a snapshot body received from a leader), in writes of at most CHUNK bytes. */
  async writeRaw(bytes: Buffer | readonly Buffer[]): Promise<void> {
    await this.flush();
    for (const piece of Buffer.isBuffer(bytes) ? [bytes] : bytes) {
      for (let off = 0; off < piece.length; off += CHUNK) await this.writeOut(piece.subarray(off, Math.min(piece.length, off + CHUNK)));
    }
  }

  /** Checksums and appends `bytes`, with a datasync every `syncEvery` bytes. */
  private async writeOut(bytes: Buffer): Promise<void> {
    this.sum.update(bytes);
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off, this.written + off);
      off += bytesWritten;
    }
    this.written += bytes.length;
    if (this.syncEvery > 0 && this.written - this.syncedTo >= this.syncEvery) {
      this.syncedTo = this.written;
      await this.fh.datasync();
    }
  }

  /** Writes the seal: the checksum of everything so far, then "/" (SnapStream.sealStream). */
  async seal(): Promise<void> {
    await this.flush();
    this.w.writeLong(BigInt(this.sum.value()));
    this.w.writeString('/');
    await this.flush();
  }
}

/**
 * While a snapshot is written with fsync on, its file is datasynced every
 * this many bytes. Otherwise the whole file sits dirty in the page cache
 * until the final datasync, and the txn log's next fdatasync waits behind
 * writing all of it (ext4's ordered journal commit): measured here, a 24 MB
 * burst held a log fdatasync for 24 ms. Small steps keep that wait short.
 */
export const SNAPSHOT_SYNC_EVERY = 1 << 20;

/** Serialization work done between two yields to the event loop (ms), so requests keep being served during a snapshot. */
export const SNAPSHOT_SLICE_MS = 0.1;
/** The writer hands its buffer to `flush` at least this often (bytes). */
const FLUSH_AT = CHUNK;

/** How a snapshot body is cut into slices. */
export interface SnapshotSliceOptions {
  /** Serialize for about this long before yielding (default SNAPSHOT_SLICE_MS). */
  sliceMs?: number;
  /** Compute the tree digest of the nodes written (default true; a SNAP stream carries none). */
  digest?: boolean;
  /** Also yield after this many nodes (default: no node limit). */
  sliceNodes?: number;
  /**
   * What runs between slices; default: yield to the event loop (setImmediate),
   * so I/O callbacks, timers and requests run. Tests pass their own to apply
   * txns between slices.
   */
  pause?: () => Promise<void>;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The snapshot body as Apache's SerializeUtils.serializeSnapshot writes it
 * (a snapshot file between its header and first seal, and a leader's SNAP
 * sync): sessions, the ACL cache, the nodes parents first from the root "",
 * then the "/" end marker. The nodes are serialized in time slices: after
 * about `sliceMs` of work the writer hands its bytes to `flush` and yields to
 * the event loop, so a big tree never stalls it for long, and at most about a
 * slice's bytes plus one chunk are held. Returns the tree digest of the nodes
 * written. A fuzzy source's order is trusted (it is parents first by
 * construction); other sources are checked, which keeps a set of their paths.
 */
export async function writeSnapshotBody(w: JuteWriter, contents: SnapshotContents, flush: () => Promise<void>, opts: SnapshotSliceOptions = {}): Promise<bigint> {
  const sliceMs = opts.sliceMs ?? SNAPSHOT_SLICE_MS;
  const sliceNodes = opts.sliceNodes ?? Number.POSITIVE_INFINITY;
  const pause = opts.pause ?? yieldToEventLoop;
  w.writeInt(contents.sessions.size);
  for (const [id, timeout] of contents.sessions) {
    w.writeLong(id);
    w.writeInt(timeout);
  }
  w.writeInt(contents.acls.size);
  for (const [ref, list] of contents.acls) {
    w.writeLong(ref);
    w.writeVector(list, (ww, acl) => acl.serialize(ww));
    await flush();
  }
  let digest = 0n;
  let keepDigest = opts.digest ?? true;
  const written = contents.fuzzy === undefined ? new Set<string>() : null;
  let first = true;
  let sliceStart = performance.now();
  let inSlice = 0;
  for (const node of contents.nodes) {
    // The root is "" in Apache's snapshots; accept "/" from callers and write it Apache's way.
    const p = first && node.path === '/' ? '' : node.path;
    if (first && p !== '') throw new PersistError(`snapshot nodes must start with the root "" (got ${JSON.stringify(node.path)})`);
    if (written !== null) {
      if (!first) {
        const parent = parentOf(p);
        if (parent === null || !written.has(parent)) {
          throw new PersistError(`snapshot node ${JSON.stringify(p)} comes before its parent; Apache loads parents first`);
        }
      }
      written.add(p);
    }
    first = false;
    w.writeString(p);
    w.writeBuffer(node.data);
    w.writeLong(node.aclRef);
    writeStat(w, node.stat);
    // A fuzzy snapshot that saw a txn gets no digest (see writeSnapshotFile): stop paying for it.
    if (keepDigest && (contents.fuzzy === undefined || !contents.fuzzy.changed())) digest = addDigest(digest, nodeDigest(p, node.data, node.stat));
    else keepDigest = false;
    inSlice++;
    if (inSlice >= sliceNodes || ((inSlice & 7) === 0 && performance.now() - sliceStart >= sliceMs)) {
      await flush();
      await pause();
      sliceStart = performance.now();
      inSlice = 0;
    } else if (w.length >= FLUSH_AT) {
      await flush();
    }
  }
  if (first) throw new PersistError('snapshot has no nodes: the root "" is required');
  w.writeString('/');
  return digest;
}

/** A StatPersisted record (jute field order) from any holder of its fields, without building one. */
function writeStat(w: JuteWriter, s: SnapshotStat): void {
  w.writeLong(s.czxid);
  w.writeLong(s.mzxid);
  w.writeLong(s.ctime);
  w.writeLong(s.mtime);
  w.writeInt(s.version);
  w.writeInt(s.cversion);
  w.writeInt(s.aversion);
  w.writeLong(s.ephemeralOwner);
  w.writeLong(s.pzxid);
}

export interface WriteSnapshotOptions extends SnapshotSliceOptions {
  fsync: boolean;
  /** With fsync: datasync every this many bytes (default SNAPSHOT_SYNC_EVERY; 0 = only at the end). */
  syncEvery?: number;
}

/**
 * Writes `snapshot.<zxid>` into `dir` atomically: a temp file, fsync, rename,
 * fsync of the directory. A crash at any point leaves either no snapshot or a
 * complete one, and so does a failure or an aborted fuzzy walk (the temp file
 * is removed). Returns the final path.
 *
 * The zxid digest after the first seal: a copy taken at `zxid`, or a fuzzy
 * walk during which no txn was applied, gets (zxid, digest of the nodes
 * written) as Apache writes it. A fuzzy walk that saw txns gets none: the
 * nodes written are then no tree at any one zxid, and Apache's rule (a digest
 * at the zxid its walk ended with) would need the tree's digest at that
 * moment, which our tree does not keep. The file then ends after its first
 * seal, as a pre-3.6 snapshot does: Apache reads EOF there as "no digest"
 * (DataTree.deserializeZxidDigest) and simply skips the check, and so do we.
 */
export async function writeSnapshotFile(dir: string, zxid: bigint, contents: SnapshotContents, opts: WriteSnapshotOptions): Promise<string> {
  const finalPath = path.join(dir, makeSnapshotName(zxid));
  const tempPath = path.join(dir, `${SNAPSHOT_TEMP_PREFIX}.${zxid.toString(16)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`);
  const fh = await fsp.open(tempPath, 'wx');
  let renamed = false;
  try {
    const sink = new ChunkedSink(fh, opts.fsync ? (opts.syncEvery ?? SNAPSHOT_SYNC_EVERY) : 0);
    const w = sink.w;
    new FileHeader({ magic: SNAP_MAGIC, version: SNAP_VERSION, dbid: SNAP_DBID }).serialize(w);
    if (contents.rawBody !== undefined) {
      // A body received as it stands (a learner's SNAP): copied, not serialized again. It carries no digest.
      await sink.writeRaw(contents.rawBody);
      await sink.seal();
    } else {
      await writeNodesAndDigest(sink, zxid, contents, opts);
    }
    if (opts.fsync) await fh.datasync();
    await fh.close();
    await fsp.rename(tempPath, finalPath);
    renamed = true;
    if (opts.fsync) await fsyncDir(dir);
    return finalPath;
  } finally {
    if (!renamed) {
      await fh.close().catch(() => undefined);
      await fsp.rm(tempPath, { force: true }).catch(() => undefined);
    }
  }
}

/** The serialized body, the first seal, and the zxid digest with its seal when the nodes are the tree at `zxid`. */
async function writeNodesAndDigest(sink: ChunkedSink, zxid: bigint, contents: SnapshotContents, opts: WriteSnapshotOptions): Promise<void> {
  const w = sink.w;
  const digest = await writeSnapshotBody(w, contents, () => sink.flushIfFull(), opts);
  await sink.seal();
  if (contents.fuzzy === undefined || contents.fuzzy.exact()) {
    // Apache writes an empty ZxidDigest (0, version, 0) when it has processed no
    // txn yet (the initial snapshot.0); readers ignore a digest at zxid 0.
    w.writeLong(zxid);
    w.writeInt(DIGEST_VERSION);
    w.writeLong(zxid === 0n ? 0n : digest);
    await sink.seal();
  }
}

/** Makes a rename or unlink in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const dh = await fsp.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** The uncompressed snapshot stream of `file`, following its extension like SnapStream.getInputStream. */
export async function readSnapshotStream(file: string): Promise<Buffer> {
  const raw = await fsp.readFile(file);
  switch (snapshotCompression(path.basename(file))) {
    case 'gz':
      try {
        return zlib.gunzipSync(raw);
      } catch (e) {
        throw new CorruptSnapshotError(`${file}: bad gzip stream: ${(e as Error).message}`);
      }
    case 'snappy':
      throw new UnsupportedSnapshotCompressionError(
        `${file} is snappy-compressed (zookeeper.snapshot.compression.method=snappy), which this server cannot read; ` +
          'convert it with Apache ZooKeeper or restart Apache with the default method so it writes a plain snapshot',
      );
    default:
      return raw;
  }
}

/** SnapStream.isValidSnapshot's cheap test for a plain snapshot: at least 10 bytes, ending in int 1 + '/'. */
export function looksComplete(stream: Buffer): boolean {
  return stream.length >= 10 && stream.readInt32BE(stream.length - 5) === 1 && stream[stream.length - 1] === 0x2f;
}

/** Parses an uncompressed snapshot stream, checking its seals. Throws CorruptSnapshotError on any damage. */
export function parseSnapshot(stream: Buffer, name: string): ReadSnapshot {
  const r = new JuteReader(stream);
  try {
    const header = FileHeader.decode(r);
    if (header.magic !== SNAP_MAGIC) throw new CorruptSnapshotError(`${name}: bad magic 0x${(header.magic >>> 0).toString(16)}`);
    const { sessions, acls, nodes } = readSnapshotBody(r, name);
    checkSeal(stream, r, name);
    let digest: SnapshotDigest | null = null;
    // Apache reads the digest if it is there (EOF = none), then a second seal.
    if (r.remaining >= 20) {
      const zxid = r.readLong();
      const version = r.readInt();
      const value = r.readLong();
      digest = { zxid, version, digest: value };
      checkSeal(stream, r, name);
    }
    return { sessions, acls, nodes, digest };
  } catch (e) {
    if (e instanceof CorruptSnapshotError) throw e;
    throw new CorruptSnapshotError(`${name}: ${(e as Error).message}`, { cause: e });
  }
}

/** Reads a snapshot body (see writeSnapshotBody) from `r`; CorruptSnapshotError names `name` on damage it can tell. */
export function readSnapshotBody(r: JuteReader, name: string): Pick<ReadSnapshot, 'sessions' | 'acls' | 'nodes' | 'rawBody'> {
  const bodyStart = r.offset;
  const sessions = new Map<bigint, number>();
  for (let n = r.readInt(); n > 0; n--) {
    const id = r.readLong();
    sessions.set(id, r.readInt());
  }
  const acls = new Map<bigint, ACL[]>();
  for (let n = r.readInt(); n > 0; n--) {
    const ref = r.readLong();
    const list = r.readVector((rr) => ACL.decode(rr));
    if (list === null) throw new CorruptSnapshotError(`${name}: ACL cache entry ${ref} has no ACL vector`);
    acls.set(ref, list);
  }
  const start = r.offset;
  const end = checkNodeOrder(r, name);
  return { sessions, acls, nodes: new SnapshotNodeList(r.buffer, start, end), rawBody: r.buffer.subarray(bodyStart, r.offset) };
}

/**
 * Walks the node records without keeping them, checking that each node's
 * parent came before it; leaves `r` after the "/" end marker and returns
 * where that marker starts.
 */
function checkNodeOrder(r: JuteReader, name: string): number {
  const start = r.offset;
  const order = new NodeOrderCheck();
  for (;;) {
    const at = r.offset;
    const p = r.readString();
    if (p === '/') {
      if (!order.sawRoot) throw new CorruptSnapshotError(`${name}: no root node`);
      return at;
    }
    if (p === null) throw new CorruptSnapshotError(`${name}: null node path`);
    const dataLen = r.readInt();
    if (dataLen > 0) r.skip(dataLen);
    else if (dataLen < -1) throw new CorruptSnapshotError(`${name}: negative data length ${dataLen} for ${p}`);
    r.skip(NODE_TAIL_BYTES);
    if (!order.admit(p, () => nodePaths(r.buffer, start, at))) throw new CorruptSnapshotError(`${name}: node ${p} has no parent before it`);
  }
}

/**
 * Parent-before-child checking for a stream of node paths without a set of
 * every path: every writer we know (Apache's DataTree.serializeNode, ours)
 * emits depth-first preorder, where a node's parent is on the stack of its
 * ancestors. Apache's reader accepts any parents-first order, so on the
 * first node that is not in preorder the paths so far are read again
 * (`earlier`) into a set, which then checks the rest.
 */
export class NodeOrderCheck {
  private readonly ancestors: string[] = [];
  private seen: Set<string> | null = null;
  /** Whether the root ("") has been admitted. */
  sawRoot = false;

  /** Admits node `p` if its parent came before it; `earlier` yields every path admitted so far. */
  admit(p: string, earlier: () => Iterable<string>): boolean {
    const slash = p.lastIndexOf('/');
    if (slash === -1) {
      // Only the root has no parent, and it comes first.
      if (p !== '' || this.sawRoot) return false;
      this.sawRoot = true;
      this.ancestors.push(p);
      return true;
    }
    const parent = p.substring(0, slash);
    if (this.seen === null) {
      const stack = this.ancestors;
      let i = stack.length - 1;
      while (i >= 0 && stack[i] !== parent) i--;
      if (i >= 0) {
        stack.length = i + 1;
        stack.push(p);
        return true;
      }
      this.seen = new Set(earlier());
    }
    if (!this.seen.has(parent)) return false;
    this.seen.add(p);
    return true;
  }
}

/** The paths of the node records in `buf[start, end)` (data and stat skipped). */
export function* nodePaths(buf: Buffer, start: number, end: number): Generator<string> {
  const r = new JuteReader(buf, start, end);
  while (r.remaining > 0) {
    yield r.readString() ?? '';
    const dataLen = r.readInt();
    if (dataLen > 0) r.skip(dataLen);
    r.skip(NODE_TAIL_BYTES);
  }
}

/** A node record after its data: long aclRef, then StatPersisted (czxid, mzxid, ctime, mtime, three ints, ephemeralOwner, pzxid). */
export const NODE_TAIL_BYTES = 8 + 6 * 8 + 3 * 4;

/**
 * A snapshot's nodes, decoded from the snapshot's bytes each time they are
 * iterated: loading a million-node snapshot builds the tree node by node
 * instead of holding a million records first (which doubled start-up's peak
 * memory). The bytes were checked by checkNodeOrder and the seal. A node's
 * `data` is a view into those bytes: whoever keeps it copies it.
 */
export class SnapshotNodeList implements SnapshotNodeSource {
  /** `stream`: the bytes in one Buffer, or in pieces (joined into one when first iterated). */
  constructor(
    private stream: Buffer | readonly Buffer[],
    private readonly start: number,
    private readonly end: number,
  ) {}

  *[Symbol.iterator](): Iterator<SnapshotNode> {
    const stream = this.joined();
    const r = new JuteReader(stream, this.start, this.end);
    while (r.remaining > 0) yield decodeSnapshotNode(r, stream);
  }

  /**
   * Hands every node to `sink`, as records (addRecord: no SnapshotNode, no
   * bigint per field) when it takes them so. The records were checked whole
   * when the snapshot was read.
   */
  feed(sink: SnapshotNodeSink): void {
    if (!sink.addRecord) {
      for (const n of this) sink.add(n);
      return;
    }
    const stream = this.joined();
    let at = this.start;
    while (at < this.end) {
      const pathLen = stream.readInt32BE(at);
      const path = stream.toString('utf8', at + 4, at + 4 + pathLen);
      at = sink.addRecord(path, stream, at + 4 + pathLen);
    }
  }

  private joined(): Buffer {
    if (!Buffer.isBuffer(this.stream)) this.stream = Buffer.concat(this.stream);
    return this.stream;
  }
}

/**
 * One node record at `r`'s position in `stream` (the Buffer `r` reads).
 * Its data is a view into `stream`, not a copy (the tree copies what it
 * keeps; copy to keep it elsewhere).
 */
export function decodeSnapshotNode(r: JuteReader, stream: Buffer): SnapshotNode {
  return decodeSnapshotNodeAfterPath(r, r.readString()!, stream);
}

/** decodeSnapshotNode for a reader whose path was read already: `r` is at the node's data. */
export function decodeSnapshotNodeAfterPath(r: JuteReader, path: string, stream: Buffer): SnapshotNode {
  const len = r.readInt();
  const data = len < 0 ? null : stream.subarray(r.offset, r.offset + len);
  if (len > 0) r.skip(len);
  const aclRef = r.readLong();
  const stat = StatPersisted.decode(r);
  return { path, data, aclRef, stat };
}


function checkSeal(stream: Buffer, r: JuteReader, name: string): void {
  const expected = adler32(stream, 0, r.offset);
  const stored = r.readLong();
  const slash = r.readString();
  if (stored !== BigInt(expected)) {
    throw new CorruptSnapshotError(`${name}: checksum mismatch at offset ${r.offset - 13}: stored 0x${stored.toString(16)}, computed 0x${expected.toString(16)}`);
  }
  if (slash !== '/') throw new CorruptSnapshotError(`${name}: seal not followed by "/"`);
}

/** Reads and verifies one snapshot file. */
export async function readSnapshotFile(file: string): Promise<ReadSnapshot> {
  const stream = await readSnapshotStream(file);
  if (snapshotCompression(path.basename(file)) === 'none' && !looksComplete(stream)) {
    throw new CorruptSnapshotError(`${file}: incomplete (does not end with the "/" seal)`);
  }
  return parseSnapshot(stream, file);
}
