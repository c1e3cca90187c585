/**
 * Writes jute's binary encoding into a growable Buffer. One writer can hold a
 * whole frame: `beginFrame()` reserves the 4-byte length and `endFrame()`
 * patches it, so a request is encoded with one allocation and no copies.
 */
export class JuteWriter {
  private buf: Buffer;
  private pos = 0;
  private frameStarts: number[] = [];

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  writeByte(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos++);
    return this;
  }

  writeInt(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  /** A long (see putLong). */
  writeLong(v: bigint): this {
    this.ensure(8);
    const p = this.pos;
    putLong(this.buf, p, v);
    this.pos = p + 8;
    return this;
  }

  writeBool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  writeFloat(v: number): this {
    this.ensure(4);
    this.buf.writeFloatBE(v, this.pos);
    this.pos += 4;
    return this;
  }

  writeDouble(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  writeBuffer(b: Buffer | Uint8Array | null | undefined): this {
    if (b == null) return this.writeInt(-1);
    this.ensure(4 + b.length);
    this.buf.writeInt32BE(b.length, this.pos);
    this.pos += 4;
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  writeString(s: string | null | undefined): this {
    if (s == null) return this.writeInt(-1);
    const max = s.length * 3;
    this.ensure(4 + max);
    const n = this.buf.write(s, this.pos + 4, 'utf8');
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4 + n;
    return this;
  }

  writeVector<T>(items: readonly T[] | null | undefined, writeItem: (w: JuteWriter, item: T) => void): this {
    if (items == null) return this.writeInt(-1);
    this.writeInt(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  /** Raw bytes with no length prefix. */
  writeRaw(b: Buffer | Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Reserves a 4-byte length prefix; pair with endFrame(). Frames may nest. */
  beginFrame(): this {
    this.ensure(4);
    this.frameStarts.push(this.pos);
    this.pos += 4;
    return this;
  }

  endFrame(): this {
    const start = this.frameStarts.pop();
    if (start === undefined) throw new Error('endFrame() without beginFrame()');
    this.buf.writeInt32BE(this.pos - start - 4, start);
    return this;
  }

  /** A copy of what was written; the writer may be reused after reset(). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** A view of what was written, valid until the next write or reset(). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): this {
    this.pos = 0;
    this.frameStarts.length = 0;
    return this;
  }
}

/**
 * Writes `v` big-endian as a signed 64-bit long at `b[p..p+8)` (values
 * outside 64 bits wrap). A long that fits in a double (nearly all: zxids,
 * times, versions) is split with number arithmetic and written byte by
 * byte, several times faster than asIntN + writeBigInt64BE's BigInt masking
 * and shifting; anything else (session ids) takes the BigInt path.
 */
export function putLong(b: Buffer, p: number, v: bigint): void {
  // Number() rounds: a result within ±(2^53 - 1) means v was exactly n. (A non-bigint falls through to
  // asIntN, which refuses it with a TypeError before anything is written.)
  const n = typeof v === 'bigint' ? Number(v) : NaN;
  if (n <= Number.MAX_SAFE_INTEGER && n >= -Number.MAX_SAFE_INTEGER) {
    const hi = Math.floor(n / 0x1_0000_0000);
    const lo = n - hi * 0x1_0000_0000;
    b[p] = hi >>> 24;
    b[p + 1] = hi >>> 16;
    b[p + 2] = hi >>> 8;
    b[p + 3] = hi;
    b[p + 4] = lo >>> 24;
    b[p + 5] = lo >>> 16;
    b[p + 6] = lo >>> 8;
    b[p + 7] = lo;
    return;
  }
  b.writeBigInt64BE(BigInt.asIntN(64, v), p);
}
