import { MalformedInputError, TruncatedInputError } from './errors';

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

  readLong(): bigint {
    this.need(8, 'long');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
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
