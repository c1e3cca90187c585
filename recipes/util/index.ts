/** Shared internals of the recipes, and the public helpers (mkdirs, deleteRecursive, Namespace). */
export * from './errors';
export * from './paths';
export * from './sequence-sort';
export * from './session-retry';
export * from './protected-create';
export * from './mkdirs';
export * from './namespace';
