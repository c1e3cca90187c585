/**
 * The two checksums Apache ZooKeeper's disk formats use:
 * - Adler32 (java.util.zip.Adler32) over each txn log entry and over a whole
 *   snapshot stream;
 * - CRC32 (java.util.zip.CRC32) inside DigestCalculator, the per-node digest
 *   that 3.6+ keeps as a tree fingerprint.
 * Both are written as a Java long (the 32-bit value zero-extended).
 */
import * as zlib from 'zlib';

const ADLER_MOD = 65521;
/** Largest n such that 255n(n+1)/2 + (n+1)(MOD-1) fits in 2^32-1: sums can be deferred that long. */
const ADLER_NMAX = 5552;

/** An incremental Adler32, for streams (snapshots) that are checksummed chunk by chunk. */
export class Adler32 {
  private a = 1;
  private b = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let a = this.a;
    let b = this.b;
    let i = start;
    while (i < end) {
      const stop = Math.min(end, i + ADLER_NMAX);
      for (; i < stop; i++) {
        a += buf[i];
        b += a;
      }
      a %= ADLER_MOD;
      b %= ADLER_MOD;
    }
    this.a = a;
    this.b = b;
    return this;
  }

  /** The checksum as an unsigned 32-bit number. */
  value(): number {
    return ((this.b << 16) | this.a) >>> 0;
  }
}

/** Adler32 of one buffer (java.util.zip.Adler32 semantics). */
export function adler32(buf: Uint8Array, start = 0, end = buf.length): number {
  return new Adler32().update(buf, start, end).value();
}

let crcTable: Uint32Array | undefined;

function crc32Fallback(parts: readonly Uint8Array[]): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) crc = crcTable[(crc ^ p[i]) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

type ZlibCrc32 = (data: Uint8Array | string, value?: number) => number;
const nativeCrc32: ZlibCrc32 | undefined = (zlib as unknown as { crc32?: ZlibCrc32 }).crc32;

/** CRC32 over the concatenation of `parts` (strings as UTF-8; java.util.zip.CRC32 semantics), as an unsigned 32-bit number. */
export function crc32(...parts: (Uint8Array | string)[]): number {
  if (nativeCrc32 === undefined) return crc32Fallback(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
  let v = 0;
  for (const p of parts) v = nativeCrc32(p, v);
  return v >>> 0;
}
