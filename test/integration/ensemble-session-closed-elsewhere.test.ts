/**
 * A session closed through one member while its client is connected to
 * another: the member holding the connection closes it at once (Apache's
 * FinalRequestProcessor), so the client hears Expired right away instead of
 * after its read timeout (two thirds of the session timeout). The leader
 * used to miss this for a closeSession forwarded by a learner.
 */
import { KeeperState, ZooKeeper } from '../../src';
import { TestingCluster, waitForState } from '../../src/testing';

jest.setTimeout(120_000);

test.each(['leader', 'follower'] as const)('the client on the %s hears Expired at once when its session is closed through another member', async (where) => {
  const cluster = await TestingCluster.start({ voters: 3, maxSessionTimeout: 60_000 });
  const handles: ZooKeeper[] = [];
  try {
    const leader = (await cluster.waitForLeader())!;
    const followers = cluster.members.filter((m) => m.id !== leader.id);
    const home = where === 'leader' ? leader : followers[0];
    const elsewhere = where === 'leader' ? followers[0] : followers[1];
    // A long session: its read timeout (40 s) is far beyond the wait below.
    const zk = new ZooKeeper(home.directConnectString, { sessionTimeout: 60_000 });
    handles.push(zk);
    await zk.connected();
    const twin = new ZooKeeper(elsewhere.directConnectString, { sessionId: zk.sessionId, sessionPassword: zk.sessionPassword, sessionTimeout: 60_000 });
    handles.push(twin);
    await twin.connected();
    await twin.close();
    await waitForState(zk, KeeperState.Expired, 10_000);
  } finally {
    for (const h of handles) await h.close().catch(() => undefined);
    await cluster.close();
  }
});
