/**
 * zookeeper-ts/testing: real ZooKeeper servers for your tests, and the
 * faults to break them with (what Curator's TestingServer, TestingCluster
 * and KillSession give JVM users), with our own server: no Java.
 *
 * Servers run in child processes (`bin/zk-server start-foreground zoo.cfg`)
 * on free loopback ports with temp directories, and die with the test
 * process. Clients reach them through loopback TCP proxies, which is how
 * partitions and dropped connections are real. Nothing here needs a test
 * framework: it works under jest, vitest and node's test runner.
 *
 * @example
 *   // example.test.ts (jest; the same under vitest or node:test)
 *   import { ZooKeeper } from 'zookeeper-ts';
 *   import { TestingCluster, StateLog } from 'zookeeper-ts/testing';
 *
 *   test('a client outlives its server', async () => {
 *     const cluster = await TestingCluster.start({ voters: 3 });
 *     const zk = new ZooKeeper(cluster.connectString);
 *     try {
 *       await zk.connected();
 *       const states = new StateLog(zk);
 *       await cluster.memberOf(zk)!.kill();                 // kill -9 the client's server
 *       await states.waitFor('Disconnected');
 *       await states.waitFor('SyncConnected');              // moved to another member, same session
 *       await cluster.expireSession(zk);                    // Curator's KillSession
 *       expect(zk.state).toBe(-112);                        // KeeperState.Expired
 *     } finally {
 *       await zk.close();
 *       await cluster.close();                              // kills every process, removes the temp dirs
 *     }
 *   }, 60_000);
 *
 * @module zookeeper-ts/testing
 */
export { TestingServer } from './testing-server';
export type { TestingServerOptions } from './testing-server';
export { TestingCluster, TestingMember } from './testing-cluster';
export type { TestingClusterOptions, MemberRole, MemberRef } from './testing-cluster';
export type { PartitionMode } from './ensemble-network';
export { StateLog, waitForState } from './client-states';
export type { StateArg } from './client-states';
export { expireSession, expireSessionById } from './session-faults';
export type { ExpireSessionOptions } from './session-faults';
export { waitFor, sleep, StopWaiting } from './wait';
export { TcpProxy, resetSocket } from './tcp-proxy';
export type { ProxiedConnection, TcpProxyOptions } from './tcp-proxy';
export { fourLetterWord, serverMode, connections, SERVING_MODES } from './four-letter-words';
export { ManagedServer, answersAs } from './managed-server';
export type { ServerHandle, StartOptions, LaunchSpec, ManagedServerSpec } from './managed-server';
export { freePort, freePorts } from './ports';
export { makeTempDir, removeTempDir, tailFile, keepDirs } from './temp-dirs';
export { spawnTracked, isRunning, terminate, hasSetpriv, parentWatchdogArgs, parentWatchdogEnv } from './child-processes';
export type { SpawnedProcess } from './child-processes';
