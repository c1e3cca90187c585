/**
 * One znode, laid out for a tree of a million of them.
 *
 * The obvious layout (a StatPersisted object of six bigints per node, a Set
 * of children per node, the data as a Buffer) costs about 1 KB per small
 * znode in V8: every bigint is a heap object, every empty Set a hash table,
 * and a small Buffer is a view object that pins a slice of an 8 KB pool slab
 * shared with short-lived request buffers. Apache's JVM needs about half.
 * So a node keeps:
 * - its Stat in a {@link StatSlab}: typed-array pages shared by the whole
 *   tree, 60 bytes a node (6 longs, 3 ints), read and written through
 *   accessors, so `node.stat.version++` still reads as before;
 * - its data as a latin1 string when small (one compact heap string, no pool
 *   slab pinned), as an exact-size unpooled Buffer when large;
 * - a children Set only while it has children;
 * - its ACL reference as a number (refs are small counters).
 *
 * `node.stat` is the node itself (it has the nine StatPersisted fields), so
 * code that reads `node.stat.czxid` or copies `node.stat` keeps working.
 */
import type { StatPersisted } from '../../proto/generated/data';

/** The nine persisted Stat fields (what a node stores; a StatPersisted has them). */
export type StatFields = Pick<StatPersisted, 'czxid' | 'mzxid' | 'pzxid' | 'ctime' | 'mtime' | 'version' | 'cversion' | 'aversion' | 'ephemeralOwner'>;

const CZXID = 0;
const MZXID = 1;
const PZXID = 2;
const CTIME = 3;
const MTIME = 4;
const OWNER = 5;
const LONGS = 6;
const VERSION = 0;
const CVERSION = 1;
const AVERSION = 2;
const INTS = 3;

const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;

/**
 * Stat storage for many nodes: pages of PAGE_SIZE slots, each slot six
 * 64-bit and three 32-bit fields. Pages (rather than one growing array)
 * keep growth cheap and slack under one page; freed slots are reused.
 */
export class StatSlab implements StatStore {
  private readonly longs: BigInt64Array[] = [];
  /** The same pages as `longs`, for writing a long as two 32-bit halves (no bigint made). */
  private readonly longViews: DataView[] = [];
  private readonly ints: Int32Array[] = [];
  private readonly free: number[] = [];
  private next = 0;

  private take(): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.next++;
      if ((slot & PAGE_MASK) === 0) {
        const page = new BigInt64Array(PAGE_SIZE * LONGS);
        this.longs.push(page);
        this.longViews.push(new DataView(page.buffer));
        this.ints.push(new Int32Array(PAGE_SIZE * INTS));
      }
    }
    return slot;
  }

  /**
   * A slot holding the StatPersisted record that jute wrote at `buf[at]`
   * (czxid, mzxid, ctime, mtime, version, cversion, aversion,
   * ephemeralOwner, pzxid; big-endian), copied without a bigint per field:
   * loading a million-node snapshot would otherwise make six million.
   */
  allocEncoded(buf: Buffer, at: number): number {
    const slot = this.take();
    const v = this.longViews[slot >>> PAGE_BITS];
    const lo = (slot & PAGE_MASK) * LONGS * 8;
    copyLong(buf, at, v, lo + CZXID * 8);
    copyLong(buf, at + 8, v, lo + MZXID * 8);
    copyLong(buf, at + 16, v, lo + CTIME * 8);
    copyLong(buf, at + 24, v, lo + MTIME * 8);
    const i = this.ints[slot >>> PAGE_BITS];
    const io = (slot & PAGE_MASK) * INTS;
    i[io + VERSION] = buf.readInt32BE(at + 32);
    i[io + CVERSION] = buf.readInt32BE(at + 36);
    i[io + AVERSION] = buf.readInt32BE(at + 40);
    copyLong(buf, at + 44, v, lo + OWNER * 8);
    copyLong(buf, at + 52, v, lo + PZXID * 8);
    return slot;
  }

  /** A slot holding `stat`'s values. */
  alloc(stat: StatFields): number {
    const slot = this.take();
    const l = this.longs[slot >>> PAGE_BITS];
    const lo = (slot & PAGE_MASK) * LONGS;
    l[lo + CZXID] = stat.czxid;
    l[lo + MZXID] = stat.mzxid;
    l[lo + PZXID] = stat.pzxid;
    l[lo + CTIME] = stat.ctime;
    l[lo + MTIME] = stat.mtime;
    l[lo + OWNER] = stat.ephemeralOwner;
    const i = this.ints[slot >>> PAGE_BITS];
    const io = (slot & PAGE_MASK) * INTS;
    i[io + VERSION] = stat.version;
    i[io + CVERSION] = stat.cversion;
    i[io + AVERSION] = stat.aversion;
    return slot;
  }

  /** Returns a slot for reuse (its node was deleted or detached). */
  release(slot: number): void {
    this.free.push(slot);
  }

  getLong(slot: number, field: number): bigint {
    return this.longs[slot >>> PAGE_BITS][(slot & PAGE_MASK) * LONGS + field];
  }

  setLong(slot: number, field: number, v: bigint): void {
    this.longs[slot >>> PAGE_BITS][(slot & PAGE_MASK) * LONGS + field] = v;
  }

  getInt(slot: number, field: number): number {
    return this.ints[slot >>> PAGE_BITS][(slot & PAGE_MASK) * INTS + field];
  }

  setInt(slot: number, field: number, v: number): void {
    this.ints[slot >>> PAGE_BITS][(slot & PAGE_MASK) * INTS + field] = v;
  }
}

/** The typed arrays hold longs in the platform's byte order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies the big-endian long at `buf[at]` into `view` at byte `to`, in the platform's order, as two 32-bit halves. */
function copyLong(buf: Buffer, at: number, view: DataView, to: number): void {
  const hi = buf.readUInt32BE(at);
  const lo = buf.readUInt32BE(at + 4);
  if (LITTLE_ENDIAN) {
    view.setUint32(to, lo, true);
    view.setUint32(to + 4, hi, true);
  } else {
    view.setUint32(to, hi, false);
    view.setUint32(to + 4, lo, false);
  }
}

/** Where a node's Stat fields are read and written: the tree's slab, or a detached node's own copy. */
interface StatStore {
  getLong(slot: number, field: number): bigint;
  setLong(slot: number, field: number, v: bigint): void;
  getInt(slot: number, field: number): number;
  setInt(slot: number, field: number, v: number): void;
  release(slot: number): void;
}

/**
 * A deleted node's Stat, copied out of the slab (one small object: deletes
 * are frequent, so this must cost less than a slab page).
 */
class OwnStat implements StatStore {
  private readonly longs: bigint[];
  private readonly ints: number[];

  constructor(s: StatFields) {
    this.longs = [s.czxid, s.mzxid, s.pzxid, s.ctime, s.mtime, s.ephemeralOwner];
    this.ints = [s.version, s.cversion, s.aversion];
  }

  getLong(_slot: number, field: number): bigint {
    return this.longs[field];
  }

  setLong(_slot: number, field: number, v: bigint): void {
    this.longs[field] = BigInt.asIntN(64, v);
  }

  getInt(_slot: number, field: number): number {
    return this.ints[field];
  }

  setInt(_slot: number, field: number, v: number): void {
    this.ints[field] = v | 0;
  }

  release(): void {
    // Nothing to give back.
  }
}

/** Data up to this many bytes is kept as a latin1 string (no Buffer object, no pinned pool slab). */
const INLINE_DATA_MAX = 1024;

/**
 * A node's children as its readers see them: the names (iteration, size,
 * has), the way a Set of names reads. Quota code and tests hand in plain
 * Sets, which read the same.
 */
export interface ChildNames extends Iterable<string> {
  readonly size: number;
  has(name: string): boolean;
  /** The names (as Set.values() gives them). */
  values(): IterableIterator<string>;
}

/**
 * The children of a node that has any: name -> child node. The tree finds a
 * node by its path in one big Map; a walk over the whole tree (snapshots, a
 * leader's SNAP) takes each child from here instead, which spares it building
 * every path and looking it up among a million others (about 1 µs a node).
 */
class ChildMap implements ChildNames {
  readonly map = new Map<string, DataNode>();
  get size(): number {
    return this.map.size;
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  values(): IterableIterator<string> {
    return this.map.keys();
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this.map.keys();
  }
}

/** What a childless node answers: nothing, and nothing can be added through it. */
const NO_CHILDREN: ChildNames = Object.freeze({
  size: 0,
  has: () => false,
  values: () => [][Symbol.iterator](),
  [Symbol.iterator]: () => [][Symbol.iterator](),
});
const NO_CHILD_NODES: ReadonlyMap<string, DataNode> = new Map();

function storeData(data: Buffer | string | null): string | Buffer | null {
  if (data === null || typeof data === 'string') return data;
  if (data.length <= INLINE_DATA_MAX) return data.toString('latin1');
  // A slice of a pool slab or of a bigger frame would pin all of it: keep an exact copy.
  if (data.byteOffset === 0 && data.buffer.byteLength === data.length) return data;
  const own = Buffer.allocUnsafeSlow(data.length);
  data.copy(own);
  return own;
}

/**
 * The `len` bytes of data at `buf[start]` as a node keeps them (null for
 * -1): small data becomes its latin1 string straight from `buf`, with no
 * Buffer made for it on the way.
 */
export function storedDataAt(buf: Buffer, start: number, len: number): string | Buffer | null {
  if (len < 0) return null;
  if (len <= INLINE_DATA_MAX) return buf.toString('latin1', start, start + len);
  return storeData(buf.subarray(start, start + len));
}

/**
 * A znode: data, ACL reference, children names and Stat (Apache's DataNode).
 * Created and changed only by its {@link DataTree}.
 */
export class DataNode implements StatFields {
  private payload: string | Buffer | null;
  private aclRef: number | bigint;
  private kids: ChildMap | null = null;
  private slab: StatStore;
  private slot: number;

  /**
   * @internal `data`: a string is data kept as {@link storedDataAt} made it;
   * `stat`: the values, or the slot in `slab` that holds them already.
   */
  constructor(slab: StatSlab, data: Buffer | string | null, acl: bigint | number, stat: StatFields | number) {
    this.slab = slab;
    this.slot = typeof stat === 'number' ? stat : slab.alloc(stat);
    this.payload = storeData(data);
    this.aclRef = 0;
    if (typeof acl === 'number') this.aclRef = acl;
    else this.acl = acl;
  }

  /** The node's Stat fields (the node itself: reads and writes go to its slot). */
  get stat(): StatFields {
    return this;
  }

  /** The node's data (a fresh Buffer for small data: changing it changes nothing); null for none. */
  get data(): Buffer | null {
    const p = this.payload;
    if (p === null || typeof p !== 'string') return p;
    return Buffer.from(p, 'latin1');
  }

  set data(data: Buffer | null) {
    this.payload = storeData(data);
  }

  /** Length of the data in bytes (0 for none), without materializing it. */
  get dataLength(): number {
    return this.payload === null ? 0 : this.payload.length;
  }

  /** The ACL reference into the tree's AclCache. */
  get acl(): bigint {
    const a = this.aclRef;
    return typeof a === 'bigint' ? a : BigInt(a);
  }

  set acl(ref: bigint) {
    // Refs are small counters (or -1): a number costs nothing per node; anything else stays a bigint.
    this.aclRef = ref >= -(2n ** 31n) && ref < 2n ** 31n ? Number(ref) : ref;
  }

  /** The children's names (a read-only view). */
  get children(): ChildNames {
    return this.kids ?? NO_CHILDREN;
  }

  /** The children by name, nodes included (a read-only view, live: a walk sees later changes). */
  get childNodes(): ReadonlyMap<string, DataNode> {
    return this.kids?.map ?? NO_CHILD_NODES;
  }

  /** @internal */
  addChild(name: string, node: DataNode): void {
    (this.kids ??= new ChildMap()).map.set(name, node);
  }

  /** @internal */
  removeChild(name: string): void {
    const k = this.kids;
    if (k === null) return;
    k.map.delete(name);
    // A node whose children all went (a drained queue, a released lock) gives its Map back.
    if (k.map.size === 0) this.kids = null;
  }

  /**
   * Moves the Stat out of the tree's slab into one of its own and frees the
   * slot: a deleted node may still be held (a change record, a reaper
   * candidate) and must not see the slot's next owner.
   * @internal
   */
  detach(): void {
    const own = new OwnStat(this);
    this.slab.release(this.slot);
    this.slab = own;
    this.slot = 0;
  }

  get czxid(): bigint {
    return this.slab.getLong(this.slot, CZXID);
  }
  set czxid(v: bigint) {
    this.slab.setLong(this.slot, CZXID, v);
  }
  get mzxid(): bigint {
    return this.slab.getLong(this.slot, MZXID);
  }
  set mzxid(v: bigint) {
    this.slab.setLong(this.slot, MZXID, v);
  }
  get pzxid(): bigint {
    return this.slab.getLong(this.slot, PZXID);
  }
  set pzxid(v: bigint) {
    this.slab.setLong(this.slot, PZXID, v);
  }
  get ctime(): bigint {
    return this.slab.getLong(this.slot, CTIME);
  }
  set ctime(v: bigint) {
    this.slab.setLong(this.slot, CTIME, v);
  }
  get mtime(): bigint {
    return this.slab.getLong(this.slot, MTIME);
  }
  set mtime(v: bigint) {
    this.slab.setLong(this.slot, MTIME, v);
  }
  get ephemeralOwner(): bigint {
    return this.slab.getLong(this.slot, OWNER);
  }
  set ephemeralOwner(v: bigint) {
    this.slab.setLong(this.slot, OWNER, v);
  }
  get version(): number {
    return this.slab.getInt(this.slot, VERSION);
  }
  set version(v: number) {
    this.slab.setInt(this.slot, VERSION, v);
  }
  get cversion(): number {
    return this.slab.getInt(this.slot, CVERSION);
  }
  set cversion(v: number) {
    this.slab.setInt(this.slot, CVERSION, v);
  }
  get aversion(): number {
    return this.slab.getInt(this.slot, AVERSION);
  }
  set aversion(v: number) {
    this.slab.setInt(this.slot, AVERSION, v);
  }
}
