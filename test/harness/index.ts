/**
 * Test harness: real Apache ZooKeeper 3.8 and our own server as targets for
 * the same tests, plus tools to break things (kill, restart, cut, pause,
 * expire). No jest globals in here: jest tests, scripts and benchmarks all
 * use it.
 */
export * from './cluster-types';
export { startApache, apacheAvailable } from './apache-cluster';
export { startOurs, ourServerAvailable, heapAfterGc } from './our-cluster';
export type { HeapReport } from './our-cluster';
export { targets, targetsWith, supports, startTarget } from './targets';
export type { Feature } from './targets';
export { TcpProxy, resetSocket } from './tcp-proxy';
export { freePort, freePorts } from './ports';
export { fourLetterWord, serverMode, waitFor } from './four-letter-words';
export { generateTlsFixtures } from './tls-fixtures';
export type { TlsFixtures } from './tls-fixtures';
export { digestOf } from './digest';
