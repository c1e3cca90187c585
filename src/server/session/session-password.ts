/**
 * Session passwords the way Apache makes them: java.util.Random seeded with
 * `sessionId ^ 0xB3415C00`, 16 bytes from nextBytes. Using the same function
 * means a session restored from an Apache-written snapshot can be re-attached
 * by its client on our server (and the other way round), since the password
 * is never stored, only recomputed.
 */
const MULT = 0x5deece66dn;
const ADD = 0xbn;
const MASK48 = (1n << 48n) - 1n;
const SUPER_SECRET = 0xb3415c00n;

/** The subset of java.util.Random needed here, bit-exact. */
export class JavaRandom {
  private seed: bigint;
  constructor(seed: bigint) {
    this.seed = (BigInt.asIntN(64, seed) ^ MULT) & MASK48;
  }

  private next(bits: number): number {
    this.seed = (this.seed * MULT + ADD) & MASK48;
    return Number(BigInt.asIntN(32, this.seed >> BigInt(48 - bits)));
  }

  nextInt(): number {
    return this.next(32);
  }

  nextBytes(out: Buffer): void {
    for (let i = 0; i < out.length; ) {
      let rnd = this.nextInt();
      for (let n = Math.min(out.length - i, 4); n-- > 0; rnd >>= 8) out[i++] = rnd & 0xff;
    }
  }
}

export function generatePassword(sessionId: bigint): Buffer {
  const out = Buffer.alloc(16);
  new JavaRandom(sessionId ^ SUPER_SECRET).nextBytes(out);
  return out;
}

export function checkPassword(sessionId: bigint, passwd: Buffer | null): boolean {
  if (sessionId === 0n || passwd === null) return false;
  const expected = generatePassword(sessionId);
  return passwd.length === expected.length && expected.equals(passwd);
}
