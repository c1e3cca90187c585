/**
 * Quotas as Apache 3.8 has them: the StatsTrack texts, setquota/listquota/
 * delquota maintaining /zookeeper/quota, and zookeeper.enforceQuota=true
 * refusing writes over a hard limit with QuotaExceeded (-125). The same
 * scenario runs through our shell against a live Apache 3.8 and against our
 * server, and the quota nodes are compared byte for byte; Apache's own
 * zkCli.sh writes the reference limits text.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ZooKeeper } from '../../../src/client/zookeeper';
import { KeeperError } from '../../../src/client/errors';
import { ErrorCode } from '../../../src/proto/constants';
import { runCommand, splitCommandLine } from '../../../src/cli/zk-cli-commands';
import { setPrepProcessSettings } from '../../../src/server/request/prep-request-processor';
import { StatsTrack, checkQuota, quotaRootOf, subtreeUsage } from '../../../src/server/tree/quota';
import { ZooKeeperServer } from '../../../src/server/zookeeper-server';
import { apacheAvailable, startApache } from '../../harness';
import type { Cluster } from '../../harness';

jest.setTimeout(180_000);

describe('StatsTrack texts', () => {
  it('writes limits and stats exactly as Apache 3.8 does', () => {
    const limits = StatsTrack.emptyLimits();
    limits.count = 2;
    expect(limits.toString()).toBe('count=2,bytes=-1=;byteHardLimit=-1;countHardLimit=-1');
    expect(StatsTrack.of(5, 16).toString()).toBe('count=5,bytes=16');
  });

  it('reads both the old and the new form back', () => {
    const t = StatsTrack.parse('count=-1,bytes=7=;byteHardLimit=5;countHardLimit=3');
    expect([t.count, t.bytes, t.byteHardLimit, t.countHardLimit]).toEqual([-1, 7, 5, 3]);
    expect(t.toString()).toBe('count=-1,bytes=7=;byteHardLimit=5;countHardLimit=3');
    const old = StatsTrack.parse(Buffer.from('count=1,bytes=2'));
    expect([old.count, old.bytes, old.countHardLimit]).toEqual([1, 2, -1]);
    expect(StatsTrack.parse('').toString()).toBe('count=-1,bytes=-1');
    expect(() => StatsTrack.parse('count=x,bytes=1')).toThrow(/invalid quota text/);
  });
});

describe('quota checks on a tree', () => {
  type N = { data: Buffer | null; children: Set<string> };
  const tree = (nodes: Record<string, string | null>) => {
    const m = new Map<string, N>();
    for (const [p, d] of Object.entries(nodes)) m.set(p, { data: d === null ? null : Buffer.from(d), children: new Set() });
    for (const p of m.keys()) {
      if (p === '/') continue;
      const parent = p.slice(0, p.lastIndexOf('/')) || '/';
      m.get(parent)?.children.add(p.slice(p.lastIndexOf('/') + 1));
    }
    return { getNode: (p: string) => m.get(p) };
  };
  const t = tree({
    '/': null,
    '/a': 'abc',
    '/a/b': '12',
    '/zookeeper': null,
    '/zookeeper/quota': null,
    '/zookeeper/quota/a': null,
    '/zookeeper/quota/a/zookeeper_limits': 'count=-1,bytes=-1=;byteHardLimit=6;countHardLimit=3',
    '/zookeeper/quota/a/zookeeper_stats': 'count=0,bytes=0',
  });

  it('finds the nearest quota root and counts its subtree', () => {
    expect(quotaRootOf(t, '/a/b/c')).toBe('/a');
    expect(quotaRootOf(t, '/a')).toBe('/a');
    expect(quotaRootOf(t, '/other')).toBeNull();
    expect(subtreeUsage(t, '/a')).toEqual({ count: 2, bytes: 5 });
  });

  it('refuses a create or a growth past a hard limit, allows up to it', () => {
    expect(() => checkQuota(t, '/a/c', 0, 1)).not.toThrow(); // 3 nodes
    expect(() => checkQuota(t, '/a/b', 1, 0)).not.toThrow(); // 6 bytes
    const e = (() => {
      try {
        checkQuota(t, '/a/b', 2, 0);
      } catch (err) {
        return err as { code: number };
      }
      return null;
    })();
    expect(e?.code).toBe(ErrorCode.QUOTAEXCEEDED);
    const logged: string[] = [];
    expect(() => checkQuota(t, '/a/b/c/d', 0, 1, { log: (m) => logged.push(m) })).not.toThrow();
    // The stats node is not read unless trusted: usage is counted from the tree.
    expect(() => checkQuota(t, '/a/c', 0, 1, { trustStatsNode: true })).not.toThrow();
    expect(() => checkQuota(t, '/x', 100, 1)).not.toThrow();
  });
});

/** One target the scenario runs against: a connect string and a way to stop it. */
interface Target {
  name: string;
  connectString: string;
  stop(): Promise<void>;
}

async function shellOn(zk: ZooKeeper, line: string): Promise<{ ok: boolean; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const r = await runCommand(zk, splitCommandLine(line), { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { ok: r.ok, out, err };
}

async function dataOf(zk: ZooKeeper, p: string): Promise<string | null> {
  try {
    const { data } = await zk.getData(p);
    return data === null ? null : data.toString('latin1');
  } catch (e) {
    if (e instanceof KeeperError && e.code === ErrorCode.NONODE) return 'NONODE';
    throw e;
  }
}

/** The scenario; returns everything observable, to compare between targets. */
async function scenario(connectString: string): Promise<Record<string, unknown>> {
  const zk = new ZooKeeper(connectString, { sessionTimeout: 15000 });
  await zk.connected();
  const seen: Record<string, unknown> = {};
  let step = 0;
  const run = async (line: string) => {
    seen[`${String(step++).padStart(2, '0')} ${line}`] = await shellOn(zk, line);
  };
  const snap = async (label: string, p: string) => {
    seen[`${String(step++).padStart(2, '0')} ${label}`] = {
      limits: await dataOf(zk, `/zookeeper/quota${p}/zookeeper_limits`),
      stats: await dataOf(zk, `/zookeeper/quota${p}/zookeeper_stats`),
    };
  };
  try {
    await run('create /qa abc');
    await run('create /qa/x 12');
    await run('setquota -n 5 /qa');
    await snap('after setquota -n', '/qa');
    await run('listquota /qa');
    await run('setquota -N 3 /qa');
    await run('setquota -B 10 /qa');
    await snap('after hard limits', '/qa');
    await run('setquota -n 1 /qa/x'); // nested: refused
    await run('setquota -n 0 /qa');
    await run('setquota -b x /qa');
    await run('setquota -n 3 /nothing');
    await run('setquota -n 3 /zookeeper/quota/qa');
    await run('listquota /nothing');
    // Enforcement: three nodes allowed, a fourth is over countHardLimit.
    await run('create /qa/y');
    await run('create /qa/z');
    // Bytes: 3 + 9 = 12 > 10 refused; 3 + 4 = 7 allowed.
    await run('set /qa/x 123456789');
    await run('set /qa/x 1234');
    try {
      await zk.create('/qa/w', 'data');
      seen['api create over quota'] = 'created';
    } catch (e) {
      seen['api create over quota'] = (e as KeeperError).code;
    }
    await run('delquota -N /qa');
    await snap('after delquota -N', '/qa');
    await run('create /qa/z');
    await run('delquota -B /qa');
    await run('delquota /qa');
    await snap('after delquota', '/qa');
    await run('delquota /qa');
    await run('ls /zookeeper/quota');
    // A nested path: parents are created, and removed again when empty.
    await run('create /qa/x/deep');
    await run('setquota -b 100 /qa/x/deep');
    await run('ls -R /zookeeper/quota');
    await snap('nested', '/qa/x/deep');
    await run('delquota /qa/x/deep');
    await run('ls -R /zookeeper/quota');
    await run('deleteall /qa');
  } finally {
    await zk.close();
  }
  return seen;
}

const describeApache = apacheAvailable() ? describe : describe.skip;

describeApache('quotas: our server and shell against a live Apache 3.8', () => {
  let apache: Cluster;
  let ours: ZooKeeperServer;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quota-test-'));
    // Process-wide, like Apache's system property (zk-server sets it from zoo.cfg).
    setPrepProcessSettings({ enforceQuota: true });
    [apache, ours] = await Promise.all([
      startApache({ systemProperties: { 'zookeeper.enforceQuota': 'true' } }),
      ZooKeeperServer.start({ clientPort: 0, clientPortAddress: '127.0.0.1', dataDir: dir }),
    ]);
  });
  afterAll(async () => {
    setPrepProcessSettings({ enforceQuota: false });
    await ours?.close();
    await apache?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the same commands give the same output, the same quota nodes byte for byte, and QuotaExceeded (-125) on both', async () => {
    const onApache = await scenario(apache.connectString);
    const onOurs = await scenario(ours.connectString);
    // The scenario really exercised enforcement and the texts (guards against two equally empty runs).
    expect(onApache['api create over quota']).toBe(ErrorCode.QUOTAEXCEEDED);
    expect(onApache['15 create /qa/z']).toEqual({ ok: false, out: [], err: ['Quota has exceeded : /qa/z'] });
    expect(onApache['07 after hard limits']).toEqual({
      limits: 'count=5,bytes=-1=;byteHardLimit=10;countHardLimit=3',
      stats: 'count=2,bytes=5',
    });
    // Both data trees rewrite zookeeper_stats on every write under a quota.
    expect((onApache['19 after delquota -N'] as { stats: string }).stats).toBe('count=3,bytes=7');
    expect(onOurs).toEqual(onApache);
  });

  it("our shell writes the limits node as Apache's zkCli.sh does", async () => {
    const zkCliSh = '/usr/share/zookeeper/bin/zkCli.sh';
    if (!fs.existsSync(zkCliSh)) throw new Error(`${zkCliSh} missing: install the Debian zookeeper package`);
    const zk = new ZooKeeper(apache.connectString, { sessionTimeout: 15000 });
    await zk.connected();
    try {
      await zk.create('/by-apache', 'x');
      await zk.create('/by-ours', 'x');
      const javaCli = (...args: string[]) =>
        new Promise<void>((resolve, reject) =>
          execFile(zkCliSh, ['-server', apache.connectString, ...args], { timeout: 120_000 }, (e) => (e ? reject(e) : resolve())),
        );
      await javaCli('setquota', '-N', '7', '/by-apache');
      await javaCli('setquota', '-b', '99', '/by-apache');
      await shellOn(zk, 'setquota -N 7 /by-ours');
      await shellOn(zk, 'setquota -b 99 /by-ours');
      const a = await zk.getData('/zookeeper/quota/by-apache/zookeeper_limits');
      const o = await zk.getData('/zookeeper/quota/by-ours/zookeeper_limits');
      expect(a.data?.toString()).toBe('count=-1,bytes=99=;byteHardLimit=-1;countHardLimit=7');
      expect(o.data).toEqual(a.data);
      const as = await zk.getData('/zookeeper/quota/by-apache/zookeeper_stats');
      const os2 = await zk.getData('/zookeeper/quota/by-ours/zookeeper_stats');
      expect(os2.data).toEqual(as.data);
    } finally {
      await zk.close();
    }
  });
});

describe('keeping zookeeper_stats current (the data-tree side, as Apache does it)', () => {
  // A minimal mutable tree: the functions only need getNode with data and children.
  const make = () => {
    const m = new Map<string, { data: Buffer | null; children: Set<string> }>();
    const add = (p: string, d: string | null) => {
      m.set(p, { data: d === null ? null : Buffer.from(d), children: new Set() });
      if (p !== '/') m.get(p.slice(0, p.lastIndexOf('/')) || '/')?.children.add(p.slice(p.lastIndexOf('/') + 1));
    };
    const del = (p: string) => {
      m.delete(p);
      m.get(p.slice(0, p.lastIndexOf('/')) || '/')?.children.delete(p.slice(p.lastIndexOf('/') + 1));
    };
    for (const p of ['/', '/zookeeper', '/zookeeper/quota']) add(p, null);
    return { tree: { getNode: (p: string) => m.get(p) }, add, del, text: (p: string) => m.get(p)?.data?.toString() };
  };

  it('a new stats node gets the subtree usage, then creates, deletes and setData move it', async () => {
    const { updateQuotaStats, onNodeCreated, recomputeAllQuotaStats, quotaRoots } = await import('../../../src/server/tree/quota');
    const t = make();
    t.add('/app', 'abc');
    t.add('/app/x', '12');
    t.add('/zookeeper/quota/app', null);
    t.add('/zookeeper/quota/app/zookeeper_limits', 'count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1');
    onNodeCreated(t.tree, '/zookeeper/quota/app/zookeeper_limits', 0);
    t.add('/zookeeper/quota/app/zookeeper_stats', 'count=0,bytes=0');
    onNodeCreated(t.tree, '/zookeeper/quota/app/zookeeper_stats', 15);
    expect(t.text('/zookeeper/quota/app/zookeeper_stats')).toBe('count=2,bytes=5');
    t.add('/app/y', '1234');
    onNodeCreated(t.tree, '/app/y', 4);
    expect(t.text('/zookeeper/quota/app/zookeeper_stats')).toBe('count=3,bytes=9');
    updateQuotaStats(t.tree, '/app/x', 0, 5 - 2);
    expect(t.text('/zookeeper/quota/app/zookeeper_stats')).toBe('count=3,bytes=12');
    t.del('/app/y');
    updateQuotaStats(t.tree, '/app/y', -1, -4);
    expect(t.text('/zookeeper/quota/app/zookeeper_stats')).toBe('count=2,bytes=8');
    // Outside any quota: nothing changes.
    t.add('/other', 'zz');
    onNodeCreated(t.tree, '/other', 2);
    expect(t.text('/zookeeper/quota/app/zookeeper_stats')).toBe('count=2,bytes=8');
    // A stale text (as a snapshot may hold) is recomputed from the tree.
    t.tree.getNode('/zookeeper/quota/app/zookeeper_stats')!.data = Buffer.from('count=99,bytes=99');
    expect(quotaRoots(t.tree)).toEqual(['/app']);
    recomputeAllQuotaStats(t.tree);
    expect(t.text('/zookeeper/quota/app/zookeeper_stats')).toBe('count=2,bytes=5');
  });
});
