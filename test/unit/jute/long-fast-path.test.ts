/**
 * JuteReader.readLong / JuteWriter.writeLong take a number fast path for
 * longs within ±(2^53 - 1) and Node's BigInt codec otherwise: both paths
 * and the border between them must give the same bytes as
 * Buffer.writeBigInt64BE / readBigInt64BE.
 */
import fc from 'fast-check';
import { JuteReader, JuteWriter } from '../../../src/jute';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const borders = [
  0n, 1n, -1n, 0xffff_ffffn, 0x1_0000_0000n, -0x1_0000_0000n, -0xffff_ffffn, -0x1_0000_0001n,
  0x1f_ffff_ffff_ffffn, 0x20_0000_0000_0000n, -0x20_0000_0000_0000n, -0x20_0000_0000_0001n,
  SAFE, SAFE + 1n, SAFE + 2n, -SAFE, -SAFE - 1n, -SAFE - 2n,
  (0x1fffffn << 32n) | 0xffff_ffffn, 0x200000n << 32n, -(0x200000n << 32n), -(0x200000n << 32n) - 1n,
  0x7fff_ffff_ffff_ffffn, -0x8000_0000_0000_0000n, 0x0100_0000_0000_0001n, 0x1732_0000_0000n,
];

function reference(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt.asIntN(64, v));
  return b;
}

describe('64-bit longs: fast path and BigInt path agree', () => {
  it.each(borders.map((v) => [v.toString(16), v]))('round-trips 0x%s bytewise like writeBigInt64BE', (_hex, v) => {
    const w = new JuteWriter(4);
    w.writeInt(7).writeLong(v as bigint).writeInt(9);
    const bytes = w.toBuffer();
    expect(bytes.subarray(4, 12)).toEqual(reference(v as bigint));
    const r = new JuteReader(bytes);
    expect(r.readInt()).toBe(7);
    expect(r.readLong()).toBe(v);
    expect(r.readInt()).toBe(9);
  });

  it('agrees on arbitrary 64-bit values and on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => {
        const w = new JuteWriter(8);
        w.writeLong(v);
        expect(w.toBuffer()).toEqual(reference(v));
        expect(new JuteReader(w.toBuffer()).readLong()).toBe(v);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (bytes) => {
        const b = Buffer.from(bytes);
        expect(new JuteReader(b).readLong()).toBe(b.readBigInt64BE(0));
      }),
      { numRuns: 2000 },
    );
  });

  it('wraps values outside 64 bits as before, and rejects a non-bigint without writing', () => {
    const w = new JuteWriter(8);
    w.writeLong((1n << 64n) + 5n);
    expect(w.toBuffer()).toEqual(reference(5n));
    expect(() => w.writeLong(5 as unknown as bigint)).toThrow(TypeError);
    expect(w.length).toBe(8);
  });

  it('reads right through its cache of recent values: repeats and values sharing a cache slot', () => {
    // lo ^ hi picks the slot: 0x1_0000_0005 and 0x5 share one, so do 0x105 and 0x5.
    const seq = [0x1_0000_0005n, 5n, 0x1_0000_0005n, 0x105n, 5n, 5n, -5n, 0x1_0000_0005n, 1732230001234n, 1732230001234n + 256n];
    const w = new JuteWriter(8);
    for (const v of seq) w.writeLong(v);
    const r = new JuteReader(w.toBuffer());
    expect(seq.map(() => r.readLong())).toEqual(seq);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.bigInt({ min: -(1n << 40n), max: 1n << 40n }), fc.constantFrom(1n, 257n, 513n, 0x1_0000_0001n)), { maxLength: 64 }), (vals) => {
        const w2 = new JuteWriter(8);
        for (const v of vals) w2.writeLong(v);
        const r2 = new JuteReader(w2.toBuffer());
        expect(vals.map(() => r2.readLong())).toEqual(vals);
      }),
      { numRuns: 500 },
    );
  });

  it('hands out the same 0n for zero fields and still reports truncation', () => {
    const r = new JuteReader(Buffer.alloc(12));
    expect(r.readLong()).toBe(0n);
    expect(() => r.readLong()).toThrow(/truncated long/);
  });
});
