/**
 * Session tricks that need the client: the testing kit's expiry (src/testing/session-faults.ts).
 * Example: `await expireSession(cluster.connectString, zk.sessionId, zk.sessionPassword)`
 */
export { expireSessionById as expireSession } from '../../src/testing/session-faults';
