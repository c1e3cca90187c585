/**
 * Session faults, done the way Curator's KillSession and kazoo's harness do
 * them, against a real server: no client internals, no fake events.
 *
 * Expiry: attach a second handle to the same session (its id and password),
 * then close that handle; the server ends the session, and the owner's
 * handle hears Expired when it next talks to the server.
 */
import { ErrorCode, KeeperError, ZooKeeper } from '../index';
import { waitForState } from './client-states';

/**
 * Expires `sessionId` on the ensemble behind `connectString`; resolves once
 * the server refuses to re-attach it.
 *
 * Why a loop: attaching the twin kicks the owner's connection, and an owner
 * that reconnects at once kicks the twin back before the twin's
 * closeSession goes out (Java clients wait up to a second before
 * reconnecting; ours does not have to). So we attach-and-close until an
 * attach is refused with an expired session.
 * Example: `await expireSessionById(cluster.connectString, zk.sessionId, zk.sessionPassword)`
 */
export async function expireSessionById(
  connectString: string,
  sessionId: bigint,
  passwd: Buffer,
  timeoutMs = 20_000,
  shuffleHosts = true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    const twin = new ZooKeeper(connectString, { sessionTimeout: 10_000, connectTimeout: 5000, sessionId, sessionPassword: passwd, shuffleHosts });
    twin.on('error', () => undefined);
    try {
      await twin.connected();
    } catch (err) {
      if (err instanceof KeeperError && err.code === ErrorCode.SESSIONEXPIRED) return; // gone: done
      await twin.close().catch(() => undefined);
      throw new Error(`expireSession: attempt ${attempt} could not attach to 0x${sessionId.toString(16)}: ${String(err)}`);
    }
    if (twin.sessionId !== sessionId) {
      await twin.close().catch(() => undefined);
      throw new Error(`expireSession: server gave session 0x${twin.sessionId.toString(16)} instead of 0x${sessionId.toString(16)}`);
    }
    await twin.close().catch(() => undefined);
  }
  throw new Error(`expireSession: 0x${sessionId.toString(16)} still alive after ${timeoutMs} ms`);
}

/** Options of expireSession. */
export interface ExpireSessionOptions {
  /** Budget for the whole fault, the expiry and the owner noticing it (default 20 000 ms). */
  timeoutMs?: number;
  /** Wait until `zk` itself reports Expired (default true). */
  waitForExpired?: boolean;
  /**
   * The twin tries the hosts in a shuffled order (default true), or in the
   * given order (false): TestingCluster puts the owner's own server first,
   * so the twin takes the owner's connection over where it is.
   */
  shuffleHosts?: boolean;
}

/**
 * Expires the session of `zk` (which must have connected once) on the
 * servers behind `connectString`, then waits until `zk` reports Expired.
 * Example: `await expireSession(zk, server.connectString)`
 */
export async function expireSession(zk: ZooKeeper, connectString: string, options: ExpireSessionOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  if (zk.sessionId === 0n) throw new Error('expireSession: the handle has no session yet (await zk.connected() first)');
  const started = Date.now();
  await expireSessionById(connectString, zk.sessionId, zk.sessionPassword, timeoutMs, options.shuffleHosts ?? true);
  if (options.waitForExpired === false) return;
  await waitForState(zk, 'Expired', Math.max(1000, timeoutMs - (Date.now() - started)));
}
