/** Tracked child processes, killed with the test process: the testing kit's (src/testing/child-processes.ts). */
export { isRunning, spawnTracked, terminate } from '../../src/testing/child-processes';
export type { SpawnedProcess } from '../../src/testing/child-processes';
