/**
 * `npm start`'s ensemble (src/cli/dev-ensemble.ts): conf/zoo1..4.cfg as
 * three voters and an observer, a process each, each with its own data
 * directory and myid, roles printed once elected, and one close for all.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { retry, ZooKeeper } from '../../../src';
import { readDevConf, startDevEnsemble } from '../../../src/cli/dev-ensemble';

const CONF = path.resolve(__dirname, '../../../conf');

jest.setTimeout(90_000);

test('conf/ describes the classic local cluster: 3 voters and an observer, ports 218N / 288N+ / 388N+', () => {
  const c = readDevConf(CONF);
  expect(c.plans).toEqual([
    { id: 1, role: 'participant', clientPort: 2181, quorumPort: 2888, electionPort: 3888 },
    { id: 2, role: 'participant', clientPort: 2182, quorumPort: 2889, electionPort: 3889 },
    { id: 3, role: 'participant', clientPort: 2183, quorumPort: 2890, electionPort: 3890 },
    { id: 4, role: 'observer', clientPort: 2184, quorumPort: 2891, electionPort: 3891 },
  ]);
  expect([c.tickTime, c.initLimit, c.syncLimit]).toEqual([2000, 10, 5]);
});

test('starts the four members, prints their roles and the connect string, serves writes anywhere, closes all', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-dev-ensemble-'));
  const out: string[] = [];
  const ens = await startDevEnsemble({ confDir: CONF, dataRoot: root, freePortsOnly: true, signals: false, log: (l) => out.push(l) });
  const zk = new ZooKeeper(ens.connectString, { sessionTimeout: 10_000 });
  zk.on('error', () => undefined);
  try {
    const text = out.join('\n');
    const modes = await Promise.all(ens.members.map((m) => m.mode()));
    expect([...modes].sort()).toEqual(['follower', 'follower', 'leader', 'observer']);
    for (const [i, m] of ens.members.entries()) {
      expect(text).toMatch(new RegExp(`server\\.${m.id}\\s+${modes[i]}\\s+127\\.0\\.0\\.1:${m.clientPort}\\s+pid ${m.pid()}`));
      expect(fs.readFileSync(path.join(root, String(m.id), 'myid'), 'utf8').trim()).toBe(String(m.id));
    }
    expect(text).toContain(`connect string: ${ens.connectString}`);
    await zk.connected();
    await zk.create('/dev-ensemble', Buffer.from('hello'));
    // Read back through the observer, on its own port.
    const observer = ens.members.find((m) => m.role === 'observer')!;
    const o = new ZooKeeper(`127.0.0.1:${observer.clientPort}`, { sessionTimeout: 10_000 });
    o.on('error', () => undefined);
    await o.connected();
    await o.sync('/dev-ensemble');
    expect((await o.getData('/dev-ensemble')).data?.toString()).toBe('hello');
    await o.close();
    // Members are processes of their own: kill -9 of the leader, a new leader, and the old one rejoins.
    const leader = ens.members[modes.indexOf('leader')];
    const pid = leader.pid()!;
    await leader.kill();
    expect(leader.pid()).toBeUndefined();
    // The handle may have been on the killed member: ConnectionLoss, then it moves (setData without a version is idempotent).
    await retry(() => zk.setData('/dev-ensemble', Buffer.from('after the kill')), { retries: 20 });
    await leader.start();
    expect(await leader.mode()).toBe('follower');
    expect(leader.pid()).not.toBe(pid);
  } finally {
    await zk.close().catch(() => undefined);
    await ens.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
  // Nothing listens any more.
  for (const m of ens.members) {
    const probe = new ZooKeeper(`127.0.0.1:${m.clientPort}`, { connectTimeout: 300 });
    probe.on('error', () => undefined);
    await expect(probe.connected()).rejects.toThrow();
    await probe.close();
  }
});
