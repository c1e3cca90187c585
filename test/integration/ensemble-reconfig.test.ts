/**
 * Dynamic reconfiguration on three of our servers, each in its own process
 * started from zoo.cfg (reconfigEnabled=true, super digest "super:test"):
 *
 * - the first leader versions the config with its NEWLEADER zxid
 *   (ZOOKEEPER-1783): every member serves the same /zookeeper/config, has
 *   written zoo.cfg.dynamic.<version> and rewritten its zoo.cfg to point at it;
 * - refusals, through the leader and through a follower: NoAuth without
 *   super, BadArguments for bad server strings, BadVersion for a stale
 *   fromConfig, NewConfigNoQuorum when the new voters are not synced;
 * - adding and removing an observer: the reply and every member's config
 *   agree, the version is the reconfig's zxid, getConfig watches fire on
 *   every member, the dynamic files follow;
 * - an observer added by reconfig starts, syncs and serves; promoted to
 *   participant it follows its leader (no election: Apache's reconfigFlag);
 *   demoted it observes again; removed, it goes on as a non-voting follower
 *   that serves (Apache's "non-voting participant"), and it can be added back;
 * - a member restarted after the reconfigs reads the config in force from
 *   its rewritten zoo.cfg and dynamic file;
 * - a joiner restarted before a reconfig added it does not start, as
 *   Apache's ("My id N not in the peer list", exit code 1): the config it
 *   adopted from the election, and wrote, does not list it;
 * - zk-cli's `reconfig -add/-remove` and `config` commands;
 * - kazoo's own TestReconfig (kazoo/tests/test_client.py) passes;
 * - removing the leader: it hands over to the voter of the new config it
 *   designated, which leads the other one with no election anywhere (Apache's
 *   reconfigFlag: every member goes straight to its role under the designated
 *   leader); nothing written before is lost; a client connected before keeps
 *   working; the old leader follows the new one as a non-voting member and
 *   serves; restarted, it does not start (Apache's "My id N not in the peer
 *   list").
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCode, ZooKeeper } from '../../src';
import type { WatchedEvent } from '../../src/client/watch-manager';
import { Cluster, fourLetterWord, waitFor } from '../harness';
import { makeCluster, ManagedServer } from '../harness/managed-server';
import { ourEnsembleMember, writeMemberFiles } from '../harness/our-cluster';
import { freePorts } from '../harness/ports';
import { makeTempDir, removeTempDir } from '../harness/temp-dirs';
import { digestOf } from '../harness/digest';
import { serverMode } from '../harness/four-letter-words';
import { kazooAvailable, runKazoo } from '../interop/kazoo-runner';
import { Clients, keeperError } from './client-fixtures';

jest.setTimeout(180_000);

const SUPER = [{ scheme: 'digest', auth: 'super:test' }];
const JVMFLAGS = [`-Dzookeeper.DigestAuthenticationProvider.superDigest=${digestOf('super', 'test')}`];

let root: string;
let cluster: Cluster;
let members: ManagedServer[] = [];
/** A server that joins the way Apache's reconfig guide says (its zoo.cfg lists the ensemble and itself). */
const JOINER = 6;
/** client, quorum and election port of each sid (1..3 run from the start, 4 is the observer to add, then JOINER). */
const ports = new Map<number, { client: number; quorum: number; election: number }>();
const clients = new Clients();

function line(sid: number, role: 'participant' | 'observer'): string {
  const p = ports.get(sid)!;
  return `server.${sid}=127.0.0.1:${p.quorum}:${p.election}:${role};127.0.0.1:${p.client}`;
}

/** How ManagedServer.start fails for a member whose config in force does not list it (Apache's QuorumPeer.start words). */
function notInPeerList(sid: number): RegExp {
  return new RegExp(`exited during start-up \\(code 1, signal null\\)[\\s\\S]*My id ${sid} not in the peer list`);
}

function hostOf(sid: number): string {
  return `127.0.0.1:${ports.get(sid)!.client}`;
}

function versionOf(config: string): bigint {
  const m = /(?:^|\n)version=([0-9a-f]+)$/.exec(config);
  if (!m) throw new Error(`no version line in ${JSON.stringify(config)}`);
  return BigInt(`0x${m[1]}`);
}

async function configOn(sid: number): Promise<string> {
  const zk = await clients.connect(hostOf(sid));
  try {
    return (await zk.getConfig()).data!.toString();
  } finally {
    await zk.close();
  }
}

async function leaderSid(): Promise<number> {
  let found: number | undefined;
  await waitFor('condition', async () => {
    for (const sid of [1, 2, 3]) {
      const m = await serverMode('127.0.0.1', ports.get(sid)!.client).catch(() => undefined);
      if (m === 'leader') found = sid;
    }
    return found !== undefined;
  }, 30_000);
  return found!;
}

function dir(sid: number): string {
  return path.join(root, `server-${sid}`);
}

beforeAll(async () => {
  root = makeTempDir('zk-reconfig-');
  const p = await freePorts(15);
  [1, 2, 3, 4, JOINER].forEach((sid, i) => ports.set(sid, { client: p[3 * i], quorum: p[3 * i + 1], election: p[3 * i + 2] }));
  const lines = [1, 2, 3].map((sid) => line(sid, 'participant'));
  for (const sid of [1, 2, 3]) {
    const { dir: d, dataDir, cfgFile } = writeMemberFiles(root, sid, ports.get(sid)!.client, ['reconfigEnabled=true', ...lines], { tickTime: 500 });
    members.push(ourEnsembleMember(sid, d, dataDir, cfgFile, ports.get(sid)!.client, 60_000, JVMFLAGS));
  }
  for (const m of members) m.launch();
  await Promise.all(members.map((m) => m.waitReady('serving', 60_000)));
  cluster = makeCluster('ours', members, root);
  await cluster.waitHealthy(30_000);
});

afterAll(async () => {
  await clients.closeAll();
  await cluster?.stop();
  await Promise.all(members.map((m) => m.kill()));
  removeTempDir(root);
});

describe('reconfig on our 3-voter ensemble', () => {
  let firstVersion = 0n;

  test('the first leader versions the config (ZOOKEEPER-1783); every member serves it and wrote its files', async () => {
    let configs: string[] = [];
    await waitFor('condition', async () => {
      configs = await Promise.all([1, 2, 3].map(configOn));
      return configs.every((c) => c === configs[0]) && versionOf(configs[0]) !== 0n;
    }, 20_000);
    firstVersion = versionOf(configs[0]);
    expect(firstVersion & 0xffffffffn).toBe(0n); // (epoch, 0): the NEWLEADER zxid
    expect(configs[0]).toBe(`${[1, 2, 3].map((s) => line(s, 'participant')).join('\n')}\nversion=${firstVersion.toString(16)}`);
    for (const sid of [1, 2, 3]) {
      const dynamicFile = path.join(dir(sid), `zoo.cfg.dynamic.${firstVersion.toString(16)}`);
      await waitFor('condition', async () => fs.existsSync(dynamicFile), 10_000);
      expect(fs.readFileSync(dynamicFile, 'utf8')).toBe([1, 2, 3].map((s) => line(s, 'participant')).join('\n'));
      const staticText = fs.readFileSync(path.join(dir(sid), 'zoo.cfg'), 'utf8');
      expect(staticText).not.toMatch(/^server\./m);
      expect(staticText).not.toMatch(/^clientPort/m); // the dynamic line carries the client address now
      expect(staticText).toContain(`dynamicConfigFile=${fs.realpathSync(dynamicFile)}\n`);
      expect(staticText).toContain('reconfigEnabled=true\n');
    }
  });

  test('refusals: NoAuth, BadArguments, BadVersion, NewConfigNoQuorum (through the leader and a follower)', async () => {
    const leader = await leaderSid();
    const follower = [1, 2, 3].find((s) => s !== leader)!;
    for (const sid of [leader, follower]) {
      const plain = await clients.connect(hostOf(sid));
      const su = await clients.connect(hostOf(sid), { authInfo: SUPER });
      const joining = 'server.999=127.0.0.1:1234:2345:observer;3456';
      expect((await keeperError(plain.reconfig({ joining }))).code).toBe(ErrorCode.NOAUTH);
      // Bad input is refused before the ACL check, as in Apache.
      expect((await keeperError(plain.reconfig({ joining: 'some thing' }))).code).toBe(ErrorCode.BADARGUMENTS);
      expect((await keeperError(su.reconfig({ joining: 'server.5=127.0.0.1:1:2:participant' }))).code).toBe(ErrorCode.BADARGUMENTS);
      expect((await keeperError(su.reconfig({ leaving: '1,2' }))).code).toBe(ErrorCode.BADARGUMENTS);
      const current = versionOf((await su.getConfig()).data!.toString());
      expect((await keeperError(su.reconfig({ joining, fromConfig: current + 1n }))).code).toBe(ErrorCode.BADVERSION);
      // Two new voters that do not run: with only the leader synced among {leader, 7, 8}, no quorum.
      const newMembers = [line(leader, 'participant'), 'server.7=127.0.0.1:1001:1002:participant;127.0.0.1:1003', 'server.8=127.0.0.1:1004:1005:participant;127.0.0.1:1006'].join(',');
      expect((await keeperError(su.reconfig({ newMembers }))).code).toBe(ErrorCode.NEWCONFIGNOQUORUM);
      await plain.close();
      await su.close();
    }
    // Nothing changed.
    expect(versionOf(await configOn(1))).toBe(firstVersion);
  });

  test('adding and removing an observer: reply, configs, watches and files agree on every member', async () => {
    const watchers = await Promise.all([1, 2, 3].map((sid) => clients.connect(hostOf(sid))));
    const fired = watchers.map(
      (zk) => new Promise<WatchedEvent>((resolve) => void zk.getConfig((e: WatchedEvent) => void resolve(e))),
    );
    const su = await clients.connect(hostOf(2), { authInfo: SUPER });
    const added = await su.reconfig({ joining: line(4, 'observer'), fromConfig: firstVersion });
    const text = added.data!.toString();
    const v1 = versionOf(text);
    expect(text).toBe(`${[1, 2, 3].map((s) => line(s, 'participant')).join('\n')}\n${line(4, 'observer')}\nversion=${v1.toString(16)}`);
    expect(v1).toBe(added.stat.mzxid); // the config's version is the reconfig txn's zxid
    expect(added.stat.version).toBe(-1);
    for (const e of await Promise.all(fired)) expect(e.path).toBe('/zookeeper/config');
    for (const sid of [1, 2, 3]) {
      await waitFor('condition', async () => (await configOn(sid)) === text, 10_000);
      await waitFor('condition', async () => fs.existsSync(path.join(dir(sid), `zoo.cfg.dynamic.${v1.toString(16)}`)), 10_000);
      expect(fs.readFileSync(path.join(dir(sid), 'zoo.cfg'), 'utf8')).toContain(`zoo.cfg.dynamic.${v1.toString(16)}\n`);
      expect(fs.existsSync(path.join(dir(sid), 'zoo.cfg.dynamic.next'))).toBe(false);
    }
    const removed = await su.reconfig({ leaving: '4' });
    const v2 = versionOf(removed.data!.toString());
    expect(v2).toBeGreaterThan(v1);
    expect(removed.data!.toString()).not.toContain('server.4=');
    for (const sid of [1, 2, 3]) await waitFor('condition', async () => (await configOn(sid)) === removed.data!.toString(), 10_000);
  });

  test('an observer added by reconfig serves; promoted to participant it follows, demoted it observes; removed, it follows as a non-voter and serves; added back, it observes', async () => {
    const su = await clients.connect(cluster.connectString, { authInfo: SUPER });
    await su.create('/before-observer', Buffer.from('x'));
    await su.reconfig({ joining: line(4, 'observer') });
    const lines = [1, 2, 3].map((s) => line(s, 'participant'));
    const { dir: d, dataDir, cfgFile } = writeMemberFiles(root, 4, ports.get(4)!.client, ['reconfigEnabled=true', ...lines, line(4, 'observer')], { tickTime: 500 });
    const observer = ourEnsembleMember(4, d, dataDir, cfgFile, ports.get(4)!.client, 60_000, JVMFLAGS);
    members.push(observer);
    observer.launch();
    await observer.waitReady('serving', 60_000);
    await waitFor('condition', async () => (await serverMode('127.0.0.1', ports.get(4)!.client).catch(() => undefined)) === 'observer', 30_000);
    const viaObserver = await clients.connect(hostOf(4));
    expect((await viaObserver.getData('/before-observer')).data!.toString()).toBe('x');
    await viaObserver.create('/through-observer', Buffer.from('y'));
    expect((await su.getData('/through-observer')).data!.toString()).toBe('y');
    expect((await viaObserver.getConfig()).data!.toString()).toContain(line(4, 'observer'));
    // Promoted to participant (INFORMANDACTIVATE changes its role): it follows the same leader, without an election.
    const promoted = await su.reconfig({ joining: line(4, 'participant') });
    expect(promoted.data!.toString()).toContain(line(4, 'participant'));
    await waitFor('server 4 follows', async () => (await serverMode('127.0.0.1', ports.get(4)!.client).catch(() => undefined)) === 'follower', 30_000);
    const again = await clients.connect(hostOf(4));
    await again.create('/through-promoted', Buffer.from('p'));
    expect((await again.getConfig()).data!.toString()).toBe(promoted.data!.toString());
    // And back to observer (COMMITANDACTIVATE changes its role).
    const demoted = await su.reconfig({ joining: line(4, 'observer') });
    await waitFor('server 4 observes', async () => (await serverMode('127.0.0.1', ports.get(4)!.client).catch(() => undefined)) === 'observer', 30_000);
    await waitFor('server 4 has the config', async () => (await configOn(4)) === demoted.data!.toString(), 10_000);
    const removed = await su.reconfig({ leaving: '4' });
    expect(removed.data!.toString()).not.toContain('server.4=');
    // INFORMANDACTIVATE: not in the config any more, it leaves its role and follows the same leader as a
    // non-voting participant (Apache's updateLearnerType and reconfigFlag), serving its clients.
    await waitFor('server 4 follows as a non-voter', async () => (await serverMode('127.0.0.1', ports.get(4)!.client).catch(() => undefined)) === 'follower', 30_000);
    expect(await fourLetterWord('127.0.0.1', ports.get(4)!.client, 'conf')).toMatch(/^peerType=0$/m);
    await su.create('/after-removing-observer', Buffer.from('r'));
    const removedView = await clients.connect(hostOf(4));
    await removedView.sync('/after-removing-observer');
    expect((await removedView.getData('/after-removing-observer')).data!.toString()).toBe('r');
    expect((await removedView.getConfig()).data!.toString()).toBe(removed.data!.toString());
    await removedView.create('/through-removed', Buffer.from('n'));
    expect((await su.getData('/through-removed')).data!.toString()).toBe('n');
    // A reconfig adds it back: it observes again.
    const back = await su.reconfig({ joining: line(4, 'observer') });
    await waitFor('server 4 observes again', async () => (await serverMode('127.0.0.1', ports.get(4)!.client).catch(() => undefined)) === 'observer', 30_000);
    await waitFor('server 4 has the config', async () => (await configOn(4)) === back.data!.toString(), 10_000);
    await su.reconfig({ leaving: '4' });
    await observer.kill();
  });

  test("zk-cli's reconfig and config commands drive it", async () => {
    const joining = 'server.5=127.0.0.1:1111:1112:observer;127.0.0.1:1113';
    const input = ['addauth digest super:test', `reconfig -add ${joining}`, 'config', 'reconfig -remove 5', 'config', 'quit', ''].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'zk-cli'), '-server', hostOf(1)], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (d) => (stdout += d));
      child.on('error', reject);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(stdout);
      });
      child.stdin.end(input);
    });
    expect(out).toContain('Committed new configuration:');
    expect(out).toContain(joining);
    // The last `config` shows the config without server.5, the same text every member serves.
    const final = await configOn(1);
    expect(out).toContain(final);
    expect(final).not.toContain('server.5=');
  });

  test("kazoo's TestReconfig passes", async () => {
    // npm test installs python3-kazoo (test/setup/ensure-deps.sh): missing, it is a failure, not a skip.
    if (!kazooAvailable()) throw new Error('/usr/bin/python3 cannot import kazoo: install the Debian package python3-kazoo');
    const hosts = [1, 2, 3].map(hostOf).join(',');
    const r = await runKazoo('reconfig_testcase', hosts, '/', 120_000);
    expect({ failures: r.failures, errors: r.errors, skipped: r.skipped }).toEqual({ failures: {}, errors: {}, skipped: {} });
    expect(r.names).toEqual(['test_add_remove_observer', 'test_bad_input', 'test_no_super_auth']);
    expect(r.ran).toBe(3);
  });

  test('a member restarted after reconfigs comes back with the config in force, from its rewritten zoo.cfg', async () => {
    const leader = await leaderSid();
    const follower = [1, 2, 3].find((s) => s !== leader)!;
    const before = await configOn(leader);
    const m = members[follower - 1];
    await m.kill();
    await m.start();
    await waitFor('restarted member follows', async () => (await serverMode('127.0.0.1', ports.get(follower)!.client).catch(() => undefined)) === 'follower', 30_000);
    expect(await configOn(follower)).toBe(before);
  });

  test('a joiner restarted before a reconfig added it does not start, as Apache\'s: "My id N not in the peer list", exit code 1', async () => {
    const lines = [1, 2, 3].map((s) => line(s, 'participant'));
    const { dir: d, dataDir, cfgFile } = writeMemberFiles(root, JOINER, ports.get(JOINER)!.client, ['reconfigEnabled=true', ...lines, line(JOINER, 'participant')], { tickTime: 500 });
    const joiner = ourEnsembleMember(JOINER, d, dataDir, cfgFile, ports.get(JOINER)!.client, 60_000, JVMFLAGS);
    members.push(joiner);
    await joiner.start();
    // It adopted the ensemble's config from the election (in force, written) and follows as a non-voter.
    await waitFor('the joiner follows', async () => (await serverMode('127.0.0.1', ports.get(JOINER)!.client).catch(() => undefined)) === 'follower', 30_000);
    const inForce = await configOn(1);
    expect(inForce).not.toContain(`server.${JOINER}=`);
    expect(await configOn(JOINER)).toBe(inForce);
    const staticText = fs.readFileSync(cfgFile, 'utf8');
    expect(staticText).toContain(`dynamicConfigFile=${fs.realpathSync(path.join(d, `zoo.cfg.dynamic.${versionOf(inForce).toString(16)}`))}\n`);
    expect(staticText).not.toMatch(/^server\./m);
    expect(staticText).toContain(`clientPort=${ports.get(JOINER)!.client}\n`); // its line had no say in the config written
    await joiner.kill();
    await expect(joiner.start()).rejects.toThrow(notInPeerList(JOINER));
  });

  test('removing the leader: the follower it designated leads with no election, nothing is lost, clients keep working, and it follows as a non-voter', async () => {
    const leader = await leaderSid();
    const others = [1, 2, 3].filter((s) => s !== leader);
    const su = await clients.connect(others.map(hostOf).join(','), { authInfo: SUPER });
    for (let i = 0; i < 20; i++) await su.create(`/before-handover-${i}`, Buffer.from(String(i)));
    const logOf = (sid: number) => path.join(dir(sid), 'server.log');
    const logAt = new Map([1, 2, 3].map((sid) => [sid, fs.statSync(logOf(sid)).size]));
    const logSince = (sid: number) => fs.readFileSync(logOf(sid)).subarray(logAt.get(sid)).toString('utf8');
    const res = await su.reconfig({ leaving: String(leader) });
    const text = res.data!.toString();
    expect(text).not.toContain(`server.${leader}=`);
    let newLeader: number | undefined;
    await waitFor('condition', async () => {
      const modes = await Promise.all(others.map((s) => serverMode('127.0.0.1', ports.get(s)!.client).catch(() => undefined)));
      newLeader = others[modes.indexOf('leader')];
      return modes.includes('leader') && modes.includes('follower');
    }, 30_000);
    expect(others).toContain(newLeader);
    // The one the old leader designated at the commit.
    expect(/ in force, led by (\d+)/.exec(logSince(leader))?.[1]).toBe(String(newLeader));
    // The client connected before the handover goes on, through whichever member it lands on.
    await su.create('/through-handover', Buffer.from('h'));
    expect((await su.getData('/through-handover')).data!.toString()).toBe('h');
    for (const sid of others) {
      const zk = await clients.connect(hostOf(sid));
      await waitFor('condition', async () => (await zk.getConfig()).data!.toString() === text, 10_000);
      for (let i = 0; i < 20; i++) expect((await zk.getData(`/before-handover-${i}`)).data!.toString()).toBe(String(i));
      await zk.close();
    }
    const zk = await clients.connect(others.map(hostOf).join(','));
    await zk.create('/after-handover', Buffer.from('z'));
    expect((await zk.exists('/after-handover'))).not.toBeNull();
    // The old leader is out of the config: it follows the new leader as a non-voting member, and serves.
    await waitFor('the old leader follows', async () => (await serverMode('127.0.0.1', ports.get(leader)!.client).catch(() => undefined)) === 'follower', 30_000);
    // Nobody elected: each member, the old leader too once it handed over, took its role from the designation.
    const designation = (sid: number) => `election skipped: ${sid === newLeader ? 'LEADING' : 'FOLLOWING'}, designated leader ${newLeader} `;
    await waitFor('every member logged its designated role', async () => [1, 2, 3].every((sid) => logSince(sid).includes(designation(sid))), 10_000);
    expect([1, 2, 3].map((sid) => ({ sid, rounds: logSince(sid).match(/election: new round.*/g) ?? [] }))).toEqual([1, 2, 3].map((sid) => ({ sid, rounds: [] })));
    const onOld = await clients.connect(hostOf(leader));
    await onOld.sync('/after-handover');
    expect((await onOld.getData('/after-handover')).data!.toString()).toBe('z');
    expect((await onOld.getConfig()).data!.toString()).toBe(text);
    // Restarted, it reads the config it wrote, which does not list it (nor its client port): it does not start, as Apache's.
    const old = members[leader - 1];
    await old.kill();
    expect(fs.readFileSync(path.join(dir(leader), 'zoo.cfg'), 'utf8')).not.toMatch(/^clientPort=/m);
    await expect(old.start()).rejects.toThrow(notInPeerList(leader));
  });
});
