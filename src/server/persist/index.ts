export * from './types';
export * from './errors';
export { FileTxnStore } from './file-store';
export type { FileTxnStoreOptions, LoadReport } from './file-store';
export { MemoryTxnStore } from './memory-store';
export { DIGEST_VERSION, nodeDigest, treeDigest, addDigest, removeDigest } from './digest';
export { makeLogName, makeSnapshotName } from './file-names';
export { DEFAULT_PREALLOC_SIZE } from './txn-log-writer';
export type { TxnLogStats, TxnLogSyncMethod } from './txn-log-writer';
