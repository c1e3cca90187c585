/** Locks: Mutex, ReadWriteLock, Semaphore (with Lease). */
export * from './mutex';
export * from './read-write-lock';
export * from './semaphore';
export { SequentialLock } from './sequential-lock';
export type { AcquireOptions, LockHold } from './sequential-lock';
export { LockNodeGoneError } from './lock-internals';
export type { LockLayout } from './lock-internals';
