/**
 * How a znode's ephemeralOwner field encodes what kind of node it is, exactly
 * as Apache's EphemeralType does, because snapshots and txn logs carry the raw
 * value and must round-trip with Apache ZooKeeper:
 *   0                         persistent (VOID)
 *   Long.MIN_VALUE            container
 *   0xFF00_0000_0000_0000|ttl TTL node (only read as TTL when extended types are on)
 *   anything else             the owning session id (NORMAL ephemeral)
 */
export const CONTAINER_EPHEMERAL_OWNER = -0x8000000000000000n;
/** Top byte set: an "extended" owner; bits 40..55 select the feature (0 = TTL). */
const EXTENDED_MASK = -0x100000000000000n; // 0xff00000000000000 as a signed long
const EXTENDED_FEATURE_MASK = 0x00ffff0000000000n;
/** Apache's MAX_EXTENDED_SERVER_ID-free TTL range: 40 bits of milliseconds. */
export const MAX_TTL = 0xffffffffffn;

export type EphemeralKind = 'VOID' | 'NORMAL' | 'CONTAINER' | 'TTL';

export function ephemeralKind(owner: bigint, extendedTypesEnabled: boolean): EphemeralKind {
  if (extendedTypesEnabled && (owner & EXTENDED_MASK) === EXTENDED_MASK) {
    const feature = (owner & EXTENDED_FEATURE_MASK) >> 40n;
    // Apache throws on an unknown feature bit; a value we cannot classify is
    // safest treated as a plain owner id rather than crashing the tree.
    if (feature === 0n) return 'TTL';
  }
  if (owner === CONTAINER_EPHEMERAL_OWNER) return 'CONTAINER';
  return owner === 0n ? 'VOID' : 'NORMAL';
}

export function ttlToEphemeralOwner(ttl: bigint): bigint {
  return BigInt.asIntN(64, EXTENDED_MASK | ttl);
}

export function ttlOf(owner: bigint): bigint {
  return owner & MAX_TTL;
}

/** Apache's TTL.validateValue: 0 < ttl <= MAX_TTL. */
export function validTtl(ttl: bigint): boolean {
  return ttl > 0n && ttl <= MAX_TTL;
}
