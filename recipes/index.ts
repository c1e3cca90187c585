/**
 * zookeeper-ts/recipes: locks, leader latch and election, helpers, and (part B)
 * barriers, queues, counters, caches and group membership, on the client's
 * public API. Node layouts follow Apache Curator 5 (kazoo's as an option for
 * the lock and the election).
 *
 * Every recipe takes a {@link zookeeper-ts!ZooKeeper} handle (the caches and group
 * membership also a factory of handles, to carry on after an expiry) and
 * reacts to its {@link ConnectionState}: SUSPENDED puts what is held in
 * doubt, LOST ends it.
 *
 * @module zookeeper-ts/recipes
 */
export * from './state/connection-state';
export * from './lock';
export * from './leader';
export { mkdirs, deleteRecursive } from './util/mkdirs';
export type { MkdirsOptions } from './util/mkdirs';
export { Namespace } from './util/namespace';
export { RecipeError, NotHeldError, AcquireTimeoutError, SessionLostError, RecipeClosedError, RecipeArgumentError } from './util/errors';
// Part B's families.
export * from './barrier';
export * from './queue';
export * from './counter';
export * from './cache';
export type { WaitOptions } from './cache/support/recipe-wait';
export * from './membership';
