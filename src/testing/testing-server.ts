/**
 * TestingServer: one standalone server of ours for a test (Curator's
 * TestingServer for Node, with no JVM), on a free loopback port with its
 * own temp directory, in a child process by default so that kill() is a
 * real kill -9 and start() reloads the data from disk.
 *
 *   const server = await TestingServer.start();
 *   const zk = new ZooKeeper(server.connectString);
 *   await server.kill();      // the client sees Disconnected
 *   await server.start();     // same port, same data: SyncConnected, same session
 *   await server.close();     // kills it, removes the temp dir
 *
 * Why it is the only member of a one-member TestingCluster: the process
 * handling, the client proxy and the session faults are the same code, and
 * every TestingMember method (kill, start, pause, isolateFromClients, ...)
 * applies as it is.
 */
import type { ZooKeeper } from '../index';
import type { StateArg } from './client-states';
import type { ExpireSessionOptions } from './session-faults';
import { TestingCluster, TestingClusterOptions, TestingMember } from './testing-cluster';

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose');

/** Options of TestingServer.start: the cluster's, less the ensemble shape. */
export type TestingServerOptions = Omit<TestingClusterOptions, 'voters' | 'observers' | 'initLimit' | 'syncLimit'>;

/**
 * One standalone server for tests, with its faults (see the module comment).
 * Example: `const server = await TestingServer.start(); new ZooKeeper(server.connectString)`
 */
export class TestingServer extends TestingMember {
  private cluster!: TestingCluster;

  /** Starts a standalone server; resolves once it serves. */
  static async start(options: TestingServerOptions = {}): Promise<TestingServer> {
    const cluster = await TestingCluster.launch(['standalone'], options, (...args) => new TestingServer(...args));
    const server = cluster.members[0] as TestingServer;
    server.cluster = cluster;
    return server;
  }

  /** Undoes isolateFromClients. */
  heal(): void {
    this.cluster.heal();
  }

  /** Resets the TCP connection of `zk`; it reconnects with its session alive. */
  dropConnection(zk: ZooKeeper, timeoutMs?: number): Promise<void> {
    return this.cluster.dropConnection(zk, timeoutMs);
  }

  /** Expires the session of `zk` and waits until `zk` reports Expired. */
  expireSession(zk: ZooKeeper, options?: ExpireSessionOptions): Promise<void> {
    return this.cluster.expireSession(zk, options);
  }

  /** waitForState, with the server's log tail in the error. */
  waitForState(zk: ZooKeeper, state: StateArg, timeoutMs?: number): Promise<void> {
    return this.cluster.waitForState(zk, state, timeoutMs);
  }

  /** Kills the server, stops its proxy and removes the temp directory. Idempotent. */
  close(): Promise<void> {
    return this.cluster.close();
  }

  /** `await using server = await TestingServer.start()` closes it at the end of the block. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }
}
