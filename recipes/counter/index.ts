/** Counters: a shared 32-bit count with compare-and-set, and a distributed atomic 64-bit long. */
export { SharedCount, encodeCount, decodeCount } from './shared-count';
export type { VersionedValue } from './shared-count';
export { DistributedAtomicLong, encodeLong, decodeLong } from './distributed-atomic-long';
export type { AtomicValue, AtomicRetryOptions, PromotedToLockOptions, DistributedAtomicLongOptions } from './distributed-atomic-long';
