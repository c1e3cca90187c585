/** Tracked child processes, killed with the test process: the testing kit's (src/testing/child-processes.ts). */
export { isRunning, spawnTracked, terminate } from '../../src/testing/child-processes';
export type { SpawnedProcess } from '../../src/testing/child-processes';

/** True while a process with this pid exists (signal 0; EPERM means it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
