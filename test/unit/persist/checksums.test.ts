import * as fc from 'fast-check';
import { Adler32, adler32, crc32 } from '../../../src/server/persist/checksums';

describe('checksums', () => {
  test('Adler32 matches java.util.zip.Adler32 on known vectors', () => {
    expect(adler32(Buffer.alloc(0))).toBe(1);
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398);
    expect(adler32(Buffer.from('abc'))).toBe(0x024d0127);
  });

  test('Adler32 over 1 MB of 0xff (sums overflow without the modulo steps)', () => {
    // Reference computed with the plain per-byte definition.
    const buf = Buffer.alloc(1 << 20, 0xff);
    let a = 1;
    let b = 0;
    for (const x of buf) {
      a = (a + x) % 65521;
      b = (b + a) % 65521;
    }
    expect(adler32(buf)).toBe(((b << 16) | a) >>> 0);
  });

  test('incremental Adler32 equals one-shot for any split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20000 }), fc.nat(), (bytes, cut) => {
        const buf = Buffer.from(bytes);
        const k = buf.length === 0 ? 0 : cut % buf.length;
        const inc = new Adler32().update(buf.subarray(0, k)).update(buf.subarray(k)).value();
        return inc === adler32(buf);
      }),
      { numRuns: 200 },
    );
  });

  test('CRC32 matches java.util.zip.CRC32 and concatenates parts', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('1234'), Buffer.from('56789'))).toBe(0xcbf43926);
  });
});
