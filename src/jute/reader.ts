import { MalformedInputError, TruncatedInputError } from './errors';

const ZERO = 0n;
const LONG_CACHE_MASK = 255;
/** readLong's recent values: the number in a slot (NaN = empty) and its bigint. */
const cachedNumbers = new Float64Array(LONG_CACHE_MASK + 1).fill(NaN);
const cachedLongs: bigint[] = new Array<bigint>(LONG_CACHE_MASK + 1).fill(ZERO);

/**
 * Reads jute's binary encoding from one Buffer. Never touches I/O: the framer
 * hands it a whole frame, so running out of bytes is always a protocol error.
 */
export class JuteReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
    private readonly end = buf.length,
  ) {
    this.pos = offset;
  }

  get offset(): number {
    return this.pos;
  }

  /** The Buffer being read (for readers that come back to a region later, e.g. a snapshot's node list). */
  get buffer(): Buffer {
    return this.buf;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new TruncatedInputError(`truncated ${what}: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  readByte(): number {
    this.need(1, 'byte');
    return this.buf.readInt8(this.pos++);
  }

  readInt(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /**
   * Most longs on the wire (zxids, times, a zero ephemeralOwner) fit in a
   * double: build those with one BigInt(number) instead of
   * readBigInt64BE's shift-and-add over two BigInts, and hand out one shared
   * 0n for the many zero fields. Session ids (server id in the top byte) take
   * the general path.
   */
  readLong(): bigint {
    this.need(8, 'long');
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 8;
    const hi = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
    const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
    // |hi| < 2^21 keeps hi * 2^32 + lo within 2^53: exact as a double.
    if (hi >= -0x200000 && hi < 0x200000) {
      const n = hi * 0x1_0000_0000 + lo;
      if (n === 0) return ZERO;
      // BigInt(n) allocates (~70 ns); the same zxids and times come back in
      // reply after reply (a node's Stat, the last zxid), so recently built
      // values are kept in a small direct-mapped table. Sharing is safe:
      // bigints are immutable values.
      const slot = (lo ^ hi) & LONG_CACHE_MASK;
      if (cachedNumbers[slot] === n) return cachedLongs[slot];
      const v = BigInt(n);
      cachedNumbers[slot] = n;
      cachedLongs[slot] = v;
      return v;
    }
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  readBool(): boolean {
    this.need(1, 'boolean');
    return this.buf[this.pos++] !== 0;
  }

  readFloat(): number {
    this.need(4, 'float');
    const v = this.buf.readFloatBE(this.pos);
    this.pos += 4;
    return v;
  }

  readDouble(): number {
    this.need(8, 'double');
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  private readLength(what: string): number {
    const len = this.readInt();
    if (len < -1) throw new MalformedInputError(`negative ${what} length ${len} at offset ${this.pos - 4}`);
    if (len > this.end - this.pos) {
      throw new TruncatedInputError(`${what} of ${len} bytes runs past the end (have ${this.end - this.pos}) at offset ${this.pos - 4}`);
    }
    return len;
  }

  /** A jute buffer; -1 on the wire is null. The result is a copy, safe to keep. */
  readBuffer(): Buffer | null {
    const len = this.readLength('buffer');
    if (len === -1) return null;
    const out = Buffer.allocUnsafe(len);
    this.buf.copy(out, 0, this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** A jute ustring (UTF-8); -1 on the wire is null. */
  readString(): string | null {
    const len = this.readLength('ustring');
    if (len === -1) return null;
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** Vector count; -1 means null. Each element takes at least one byte, which bounds bogus counts. */
  readVectorLength(): number {
    const n = this.readInt();
    if (n < -1) throw new MalformedInputError(`negative vector count ${n} at offset ${this.pos - 4}`);
    if (n > this.end - this.pos) {
      throw new TruncatedInputError(`vector of ${n} items cannot fit in ${this.end - this.pos} bytes at offset ${this.pos - 4}`);
    }
    return n;
  }

  readVector<T>(readItem: (r: JuteReader) => T): T[] | null {
    const n = this.readVectorLength();
    if (n === -1) return null;
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = readItem(this);
    return out;
  }

  /** Skips n raw bytes (used by log/snapshot readers for trailers). */
  skip(n: number): void {
    this.need(n, 'bytes');
    this.pos += n;
  }

  /** Raw bytes without a length prefix (a copy). */
  readRaw(n: number): Buffer {
    this.need(n, 'bytes');
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
}
