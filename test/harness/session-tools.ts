/**
 * Session tricks that need the client. Expiring a session the way kazoo's
 * and Curator's harnesses do: attach a second handle with the same session
 * id and password, then close it, which ends the session on the server.
 */
import { ErrorCode, KeeperError, ZooKeeper } from '../../src';

/**
 * Expires `sessionId` on the server behind `connectString`; resolves once
 * the server refuses to re-attach it. The owner's handle then sees Expired.
 *
 * Why a loop: attaching the twin kicks the owner's connection, and an owner
 * that reconnects at once kicks the twin back before the twin's
 * closeSession goes out (Java clients wait up to a second before
 * reconnecting; ours does not have to). So we attach-and-close until an
 * attach is refused with an expired session.
 * Example: `await expireSession(cluster.connectString, zk.sessionId, zk.sessionPassword)`
 */
export async function expireSession(connectString: string, sessionId: bigint, passwd: Buffer, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    const twin = new ZooKeeper(connectString, { sessionTimeout: 10_000, connectTimeout: 5000, sessionId, sessionPassword: passwd });
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
