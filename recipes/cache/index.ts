/** Caches: a node cache and a tree cache (persistent recursive watches, one-shot fallback). */
export { TreeCache } from './tree-cache';
export type { ChildData, CacheWatchMode, TreeCacheOptions, TreeCacheEvent } from './tree-cache';
export { NodeCache } from './node-cache';
export type { NodeCacheOptions } from './node-cache';
export type { ClientSource } from './support/client-source';
export { RecipeStateError, IndeterminateResultError } from './support/recipe-errors';
