/**
 * The connection-state model on a live server (Apache 3.8 and ours):
 * CONNECTED on the first connect, SUSPENDED then RECONNECTED around a
 * dropped connection (same session), LOST on expiry and on close, one
 * tracker per handle, whenConnected() bounds.
 */
import { ZooKeeper } from '../../src';
import { ConnectionState, ConnectionStateTracker } from '../../recipes';
import { Cluster, startTarget } from '../harness';
import { expireSession } from '../harness/session-tools';
import { Handles, proxied, START_TIMEOUT, targets, waitUntil } from './support/recipe-fixtures';

describe.each(targets())('connection states on %s', (kind) => {
  let cluster: Cluster;
  const handles = new Handles();

  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: 500 });
  }, START_TIMEOUT);
  afterAll(async () => {
    await handles.closeAll();
    await cluster?.stop();
  });

  test('CONNECTED on the first connect, LOST on close; one tracker per handle', async () => {
    const zk = handles.create(cluster.connectString);
    const tracker = ConnectionStateTracker.for(zk);
    expect(ConnectionStateTracker.for(zk)).toBe(tracker); // one per handle
    expect(tracker.current).toBeNull();
    const seen: ConnectionState[] = [];
    tracker.on('state', (s) => seen.push(s));
    await zk.connected();
    await waitUntil(() => seen.length === 1, 'CONNECTED');
    expect(seen).toEqual([ConnectionState.CONNECTED]);
    expect(tracker.isConnected()).toBe(true);
    await zk.close();
    await waitUntil(() => seen.length === 2, 'LOST');
    expect(seen).toEqual([ConnectionState.CONNECTED, ConnectionState.LOST]);
    expect(tracker.current).toBe(ConnectionState.LOST);
    await expect(tracker.whenConnected(100)).rejects.toThrow(/closed|expired/);
  });

  test('a dropped connection is SUSPENDED, then RECONNECTED with the same session', async () => {
    const { zk, drop } = await proxied(handles, cluster);
    const tracker = ConnectionStateTracker.for(zk);
    expect(tracker.current).toBe(ConnectionState.CONNECTED);
    const seen: ConnectionState[] = [];
    tracker.on('state', (s) => seen.push(s));
    const session = zk.sessionId;
    drop();
    await tracker.whenConnected(15_000);
    await waitUntil(() => seen.includes(ConnectionState.RECONNECTED), 'RECONNECTED');
    expect(seen).toEqual([ConnectionState.SUSPENDED, ConnectionState.RECONNECTED]);
    expect(zk.sessionId).toBe(session);
    expect(tracker.sessionId).toBe(session);
  });

  test('an expired session ends in LOST', async () => {
    const zk: ZooKeeper = await handles.connect(cluster.connectString, { sessionTimeout: 4000 });
    const tracker = ConnectionStateTracker.for(zk);
    const seen: ConnectionState[] = [];
    tracker.on('state', (s) => seen.push(s));
    await expireSession(cluster.connectString, zk.sessionId, zk.sessionPassword);
    await waitUntil(() => seen.includes(ConnectionState.LOST), 'LOST', 20_000);
    expect(seen[seen.length - 1]).toBe(ConnectionState.LOST);
    // (expireSession's twin handle kicks the owner first, so a RECONNECTED may come before the LOST)
    expect(seen.indexOf(ConnectionState.LOST)).toBe(seen.length - 1);
    expect(tracker.isConnected()).toBe(false);
    expect(tracker.isLost()).toBe(true);
  });

  test('whenConnected() honours its timeout and abort signal', async () => {
    const zk = handles.create('127.0.0.1:1', { connectTimeout: 60_000 }); // nothing listens on port 1
    const tracker = ConnectionStateTracker.for(zk);
    await expect(tracker.whenConnected(100)).rejects.toThrow(/not connected within 100 ms/);
    const ctl = new AbortController();
    const p = tracker.whenConnected(undefined, ctl.signal);
    ctl.abort(new Error('gave up'));
    await expect(p).rejects.toThrow('gave up');
    tracker.close();
    expect(ConnectionStateTracker.for(zk)).not.toBe(tracker); // a closed tracker is replaced
    await zk.close();
  });
});
