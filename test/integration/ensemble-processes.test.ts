/**
 * A 3-member ensemble with every member in its own OS process (ours started
 * from zoo.cfg + myid by `bin/zk-server start-foreground`, Apache's JVMs as
 * the control), broken with real signals:
 *
 * - `zk-server status <zoo.cfg>` of every member prints its `Mode:` line;
 * - a member killed (-9) while N nodes are written rejoins on restart and
 *   serves every one of them on its own client port;
 * - two of three voters down: the lone member serves nobody (srvr says
 *   "not currently serving", a ConnectRequest is answered by a close, a
 *   client gets ConnectionLoss for reads and writes); one voter back: the
 *   service resumes, the held session is kept, and the data is all there;
 * - read from the leader's log (Apache's LearnerHandler lines mapped to our
 *   `syncing learner` form): a follower that missed a
 *   few txns is synced with DIFF, one that missed more than the leader's
 *   committed-log window (500) with SNAP, and one holding a txn the leader
 *   never committed with TRUNC (the old leader logs a proposal its SIGSTOPped
 *   followers never process, then all three die; the followers elect a new
 *   leader, and the old one rejoins), both kinds with their on-disk txn-log
 *   sync off (snapshotSizeFactor=-1); and Apache's new leader's srvr Zxid
 *   is (newEpoch, 0) before the epoch's first txn;
 * - with that sync on (snapshotSizeFactor's default 0.33), a follower that
 *   missed more than the committed-log window is synced with DIFF, the
 *   older txns read from the leader's txn log on disk, on both kinds; with
 *   the leader's log rolled by snapshots (snapCount 200) the log files after
 *   the follower's are over 0.33 x the snapshot (File.length counts their
 *   64 MB preallocation) and both kinds send SNAP, and with no size limit
 *   (factor 0) both send DIFF read across those files.
 */
import { execFile } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { Cluster, ServerHandle, fourLetterWord, startTarget, targetsWith, waitFor } from '../harness';
import { ErrorCode, KeeperState, ZooKeeper } from '../../src';
import { Clients, describeEachTarget, hex, keeperError, sleep, StateLog } from './client-fixtures';
import { SyncWatch, checkMember, createMany, srvrZxid, txnLogHas } from './ensemble-checks';

const REPO = path.resolve(__dirname, '..', '..');
const ZK_SERVER = path.join(REPO, 'bin', 'zk-server');
const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';
const log = (msg: string) => process.stdout.write(`${msg}\n`);

/** Runs `bin/zk-server status <cfg>`; resolves with its exit code, stdout and stderr. */
function zkServerStatus(cfg: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ZK_SERVER, 'status', cfg], { timeout: 60_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A client's ConnectRequest (protocol 0, no session, 10 s, 16-byte zero
 * password, not read-only) sent on a raw socket: what comes back before the
 * server closes it, or `closed: false` when it stays open for `timeoutMs`.
 */
function rawConnect(port: number, timeoutMs = 5000): Promise<{ bytes: number; closed: boolean; error?: string }> {
  const body = Buffer.alloc(4 + 8 + 4 + 8 + 4 + 16 + 1);
  let o = 0;
  o = body.writeInt32BE(0, o);
  o = body.writeBigInt64BE(0n, o);
  o = body.writeInt32BE(10_000, o);
  o = body.writeBigInt64BE(0n, o);
  o = body.writeInt32BE(16, o);
  o += 16;
  body.writeUInt8(0, o);
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeInt32BE(body.length, 0);
  return new Promise((resolve) => {
    let bytes = 0;
    let error: string | undefined;
    const sock = net.connect({ host: '127.0.0.1', port }, () => sock.write(frame));
    const t = setTimeout(() => {
      sock.destroy();
      resolve({ bytes, closed: false });
    }, timeoutMs);
    sock.on('data', (d: Buffer) => (bytes += d.length));
    sock.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    sock.on('close', () => {
      clearTimeout(t);
      resolve(error && error !== 'ECONNRESET' ? { bytes, closed: true, error } : { bytes, closed: true });
    });
  });
}

async function followers(cluster: Cluster): Promise<ServerHandle[]> {
  const out: ServerHandle[] = [];
  for (const s of cluster.servers) if ((await s.mode()) === 'follower') out.push(s);
  return out;
}

describeEachTarget(targetsWith('ensemble'), '3 member processes (%s)', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();

  beforeAll(async () => {
    // maxSessionTimeout: a session held across the quorum outage below must outlive it.
    cluster = await startTarget(kind, { servers: 3, tickTime: 500, maxSessionTimeout: 60_000 });
  }, 150_000);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });
  afterEach(async () => {
    await clients.closeAll();
  });

  test('zk-server status <zoo.cfg> prints each member\'s Mode (one leader, two followers)', async () => {
    const leader = await cluster.leader();
    expect(leader).toBeDefined();
    const seen: string[] = [];
    for (const s of cluster.servers) {
      const cfg = path.join(s.dir, 'zoo.cfg');
      const { code, stdout, stderr } = await zkServerStatus(cfg);
      const expected = s === leader ? 'leader' : 'follower';
      // As zkServer.sh: the config used on stderr, the port probed and the mode on stdout.
      expect({ server: s.id, code, stdout, stderr }).toEqual({
        server: s.id,
        code: 0,
        stdout: `Client port found: ${s.clientPort}. Client address: 127.0.0.1. Client SSL: false.\nMode: ${expected}\n`,
        stderr: `Using config: ${cfg}\n`,
      });
      seen.push(`${s.id}:${expected}`);
    }
    log(`[${kind}] zk-server status: ${seen.join(' ')}`);
  }, 120_000);

  test('a member killed (-9) while 300 nodes are written rejoins and serves all of them on its own port', async () => {
    const N = 300;
    const base = `/rejoin-${randomBytes(3).toString('hex')}`;
    const victim = (await followers(cluster))[0];
    expect(victim).toBeDefined();
    const others = cluster.servers.filter((s) => s !== victim);
    const zk = await clients.connect(others.map((s) => s.hostPort).join(','));
    await zk.create(base, null);
    await victim.kill();
    const t0 = Date.now();
    await createMany(zk, base, 0, N);
    const writeMs = Date.now() - t0;
    await victim.start();
    await cluster.waitHealthy(60_000);
    const r = await checkMember(clients, victim, base, N);
    expect(r).toEqual({ server: victim.id, children: N, bad: [] });
    // Its zxid catches up with the leader's.
    const leader = (await cluster.leader())!;
    await waitFor('the rejoined member to reach the leader\'s zxid', async () => (await srvrZxid(victim)) === (await srvrZxid(leader)), 10_000);
    log(`[${kind}] rejoin: server ${victim.id} killed, ${N} creates in ${writeMs} ms, restarted: ${r.children} children, all ${N} values right`);
  }, 180_000);

  test('two of three voters down: no service on the lone member; one back: service resumes with all data', async () => {
    const base = `/quorum-${randomBytes(3).toString('hex')}`;
    const N = 50;
    const leader = (await cluster.leader())!;
    const survivor = (await followers(cluster))[0];
    expect(survivor).toBeDefined();
    const gone = cluster.servers.filter((s) => s !== survivor);
    const writer = await clients.connect(cluster.connectString);
    await writer.create(base, Buffer.from('base'));
    await createMany(writer, base, 0, N);
    await writer.close();
    // A session held on the survivor alone, across the outage.
    const held = await clients.connect(survivor.hostPort, { sessionTimeout: 60_000, connectTimeout: 3000 });
    const heldStates = new StateLog(held);
    const heldId = held.sessionId;
    expect(held.negotiatedTimeout).toBeGreaterThanOrEqual(30_000);
    await held.getData(base);

    const mark = heldStates.mark();
    await Promise.all(gone.map((s) => s.kill()));
    const t0 = Date.now();
    // The lone member stops serving: srvr answers the fixed sentence, and no Mode.
    const srvr = await waitFor('the survivor to stop serving', async () => {
      const out = await fourLetterWord('127.0.0.1', survivor.clientPort, 'srvr', 2000);
      return out.includes(NOT_SERVING) ? out : undefined;
    }, 30_000, 100);
    const stopMs = Date.now() - t0;
    expect(srvr.trim()).toBe(NOT_SERVING);
    expect(await survivor.mode()).toBeUndefined();
    expect(await fourLetterWord('127.0.0.1', survivor.clientPort, 'ruok', 2000)).toBe('imok');
    await heldStates.waitFor(KeeperState.Disconnected, 10_000, mark);

    // A ConnectRequest on the wire: accepted, then closed without a reply; and again a bit later (still looking).
    const raw1 = await rawConnect(survivor.clientPort);
    await sleep(1000);
    const raw2 = await rawConnect(survivor.clientPort);
    expect({ raw1, raw2 }).toEqual({ raw1: { bytes: 0, closed: true }, raw2: { bytes: 0, closed: true } });

    // Through the client: a new session cannot be made; the held session's reads and writes fail with ConnectionLoss.
    const fresh = clients.create(survivor.hostPort, { sessionTimeout: 10_000, connectTimeout: 3000 });
    const freshErr = await keeperError(fresh.connected());
    const writeErr = await keeperError(held.create(`${base}/during`, Buffer.from('x')));
    const readErr = await keeperError(held.getData(base));
    expect({ fresh: freshErr.code, write: writeErr.code, read: readErr.code }).toEqual({
      fresh: ErrorCode.CONNECTIONLOSS,
      write: ErrorCode.CONNECTIONLOSS,
      read: ErrorCode.CONNECTIONLOSS,
    });
    await fresh.close().catch(() => undefined);
    expect(held.state).not.toBe(KeeperState.SyncConnected);

    // One voter back (the old leader): a quorum of two serves again.
    const back = leader !== survivor ? leader : gone[0];
    const t1 = Date.now();
    await back.start({ waitFor: 'process' });
    await waitFor('two members to serve with one leader', async () => {
      const modes = await Promise.all([survivor.mode(), back.mode()]);
      return modes.includes('leader') && modes.includes('follower');
    }, 60_000, 150);
    const resumeMs = Date.now() - t1;
    await heldStates.waitFor(KeeperState.SyncConnected, 30_000, mark + 1);
    expect(hex(held.sessionId)).toBe(hex(heldId));
    await held.create(`${base}/after`, Buffer.from('after'));
    expect((await held.exists(`${base}/during`))).toBeNull();
    for (const s of [survivor, back]) {
      const r = await checkMember(clients, s, base, N);
      expect(r).toEqual({ server: s.id, children: N + 1, bad: [] });
    }
    // Everyone back for whatever runs next.
    const third = gone.find((s) => s !== back)!;
    await third.start();
    await cluster.waitHealthy(60_000);
    const r3 = await checkMember(clients, third, base, N);
    expect(r3).toEqual({ server: third.id, children: N + 1, bad: [] });
    log(`[${kind}] quorum loss: survivor ${survivor.id} stopped serving ${stopMs} ms after 2 kills; raw ConnectRequest -> closed, 0 bytes; ` +
      `connect/read/write -> ConnectionLoss; server ${back.id} back: serving after ${resumeMs} ms, session ${hex(heldId)} kept, ${N} nodes on every member`);
  }, 240_000);
});

describeEachTarget(targetsWith('ensemble'), 'catch-up modes on %s (read in the members\' logs)', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();

  beforeAll(async () => {
    // maxSessionTimeout: the TRUNC test's session must not expire (a txn of the new epoch) before the old leader rejoins.
    // The DIFF from the on-disk txn log beyond the committed-log window is off here (next describe): such a
    // follower gets a SNAP.
    cluster = await startTarget(kind, {
      servers: 3,
      tickTime: 500,
      maxSessionTimeout: 60_000,
      systemProperties: { 'zookeeper.snapshotSizeFactor': '-1' },
    });
  }, 150_000);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });
  afterEach(async () => {
    await clients.closeAll();
  });

  // First, on a fresh ensemble: nothing may commit in the new epoch before the old leader rejoins.
  test('a member holding a txn the leader never committed is synced with TRUNC and loses that txn', async () => {
    const oldLeader = (await cluster.leader())!;
    const olds = cluster.servers.filter((s) => s !== oldLeader);
    const base = `/trunc-${randomBytes(3).toString('hex')}`;
    const ghost = `ghost-${randomBytes(4).toString('hex')}`;
    const zk = await clients.connect(oldLeader.hostPort, { connectTimeout: 60_000, sessionTimeout: 60_000 });
    await zk.create(base, Buffer.from('kept'));
    const committed = (await srvrZxid(oldLeader))!;
    // The followers stop processing (their sockets still take the proposal into kernel buffers) ...
    for (const f of olds) process.kill(f.pid()!, 'SIGSTOP');
    let ghostOutcome = 'pending';
    const ghostWrite = zk.create(`${base}/${ghost}`, Buffer.from('never committed')).then(
      () => (ghostOutcome = 'acknowledged'),
      (e: Error) => (ghostOutcome = `failed: ${e.message}`),
    );
    // ... the leader logs it (its own ack) ...
    try {
      await waitFor('the leader to log the uncommitted create', async () => txnLogHas(oldLeader.dataDir, ghost), 5000, 20);
    } finally {
      // ... and the followers die with the proposal unread (SIGKILL works on a stopped process).
      await Promise.all(olds.map((f) => f.kill()));
    }
    expect(ghostOutcome).toBe('pending');
    await oldLeader.kill();
    await ghostWrite;
    expect(ghostOutcome).toMatch(/^failed/);

    // The two followers elect a new leader among themselves (a quorum of 2, a new epoch, no txn yet).
    await Promise.all(olds.map((f) => f.start({ waitFor: 'process' })));
    const newLeader = await waitFor('a new leader among the old followers', async () => {
      const modes = await Promise.all(olds.map((f) => f.mode()));
      const i = modes.indexOf('leader');
      return i >= 0 && modes.includes('follower') ? olds[i] : undefined;
    }, 60_000, 150);
    const newLeaderZxid = await srvrZxid(newLeader);
    expect(txnLogHas(newLeader.dataDir, ghost)).toBe(false);
    const watch = new SyncWatch(kind, newLeader, kind, oldLeader);
    await oldLeader.start();
    await cluster.waitHealthy(60_000);
    const lines = watch.lines();
    expect({ lines }).toEqual({ lines: [`syncing learner ${oldLeader.id} with TRUNC ${hex(committed)}`] });
    // The ghost is gone everywhere, the old leader included (asked on its own port).
    for (const s of cluster.servers) {
      const c = await clients.connect(s.hostPort, { connectTimeout: 30_000 });
      await c.sync(base);
      expect({ server: s.id, base: (await c.getData(base)).data?.toString(), kids: await c.getChildren(base) }).toEqual({ server: s.id, base: 'kept', kids: [] });
    }
    // And it serves new writes like the others.
    const w = await clients.connect(cluster.connectString);
    await w.create(`${base}/after`, null);
    const c = await clients.connect(oldLeader.hostPort);
    await c.sync(base);
    expect(await c.getChildren(base)).toEqual(['after']);
    log(`[${kind}] TRUNC: old leader ${oldLeader.id} logged ${ghost} uncommitted; new leader ${newLeader.id} (srvr Zxid ${newLeaderZxid === undefined ? '?' : hex(newLeaderZxid)}) sent "${lines[0]}"; ghost absent on all 3`);
    // Last, as it is a detail: before any txn of its epoch, Apache's new leader reports (newEpoch, 0) as its
    // last processed zxid (Leader.startZkServer sets it), in srvr/mntr and in read replies' zxid.
    const newEpochStart = ((committed >> 32n) + 1n) << 32n;
    expect({ newLeaderSrvrZxid: newLeaderZxid === undefined ? undefined : hex(newLeaderZxid) }).toEqual({ newLeaderSrvrZxid: hex(newEpochStart) });
  }, 240_000);

  test('a follower that missed 5 txns is synced with DIFF; one that missed 700 (> the 500-txn window) with SNAP', async () => {
    const base = `/modes-${randomBytes(3).toString('hex')}`;
    const leader = (await cluster.leader())!;
    const victim = (await followers(cluster))[0];
    const zk = await clients.connect(leader.hostPort);
    await zk.create(base, null);

    // DIFF: a few writes while it is down.
    await victim.stop();
    await createMany(zk, base, 0, 5);
    const diffZxid = (await srvrZxid(leader))!;
    let watch = new SyncWatch(kind, leader, kind, victim);
    await victim.start();
    await cluster.waitHealthy(60_000);
    const diffLines = watch.lines();
    expect({ diffLines }).toEqual({ diffLines: [`syncing learner ${victim.id} with DIFF ${hex(diffZxid)}`] });
    const d = await checkMember(clients, victim, base, 5);
    expect(d).toEqual({ server: victim.id, children: 5, bad: [] });

    // SNAP: more writes than the committed-log window while it is down.
    await victim.stop();
    await createMany(zk, base, 5, 705);
    const snapZxid = (await srvrZxid(leader))!;
    watch = new SyncWatch(kind, leader, kind, victim);
    await victim.start();
    await cluster.waitHealthy(60_000);
    const snapLines = watch.lines();
    expect({ snapLines }).toEqual({ snapLines: [`syncing learner ${victim.id} with SNAP ${hex(snapZxid)}`] });
    const s = await checkMember(clients, victim, base, 705);
    expect(s).toEqual({ server: victim.id, children: 705, bad: [] });
    // Restarted once more, it needs nothing but an empty DIFF (the snapshot it got is on its disk).
    await victim.stop();
    const lastZxid = (await srvrZxid(leader))!;
    watch = new SyncWatch(kind, leader, kind, victim);
    await victim.start();
    await cluster.waitHealthy(60_000);
    const againLines = watch.lines();
    expect({ againLines }).toEqual({ againLines: [`syncing learner ${victim.id} with DIFF ${hex(lastZxid)}`] });
    log(`[${kind}] catch-up: "${diffLines[0]}" after 5 missed, "${snapLines[0]}" after 700 missed, "${againLines[0]}" on a clean restart`);
  }, 240_000);
});

/**
 * A follower down while 700 txns are written (more than the 500-txn committed log), then back: the one
 * sync line the leader's log (or the follower's, for Apache) shows for it, after checking the follower
 * ends with every value and the leader's zxid. For our leader, also how many txns it read from disk.
 */
async function rejoinAfter700(kind: string, cluster: Cluster, clients: Clients): Promise<{ lines: string[]; zxid: bigint; fromDisk?: string[] }> {
  const base = `/logsync-${randomBytes(3).toString('hex')}`;
  const leader = (await cluster.leader())!;
  const victim = (await followers(cluster))[0];
  const zk = await clients.connect(leader.hostPort);
  await zk.create(base, null);
  await waitFor('the follower to have the leader\'s zxid', async () => (await srvrZxid(victim)) === (await srvrZxid(leader)), 10_000);
  const victimZxid = (await srvrZxid(victim))!;
  await victim.stop();
  await createMany(zk, base, 0, 700);
  const zxid = (await srvrZxid(leader))!;
  const watch = new SyncWatch(kind, leader, kind, victim);
  const leaderLog = path.join(leader.dir, 'server.log');
  const leaderLogAt = kind === 'ours' ? fs.statSync(leaderLog).size : 0;
  await victim.start();
  await cluster.waitHealthy(60_000);
  const lines = watch.lines();
  let fromDisk: string[] | undefined;
  if (kind === 'ours') {
    const m = /synced learner (\d+) with (\d+) txns from the txn log \((0x[0-9a-f]+) to/.exec(fs.readFileSync(leaderLog).subarray(leaderLogAt).toString('utf8'));
    // The txns up to the committed log's oldest (the 500 newest are in memory) came from the txn log.
    fromDisk = m ? [m[1], m[2], m[3]] : [];
    if (m) expect(fromDisk).toEqual([String(victim.id), String(Number(zxid - victimZxid) - 499), hex(victimZxid)]);
  }
  // Its data is the leader's: every value, and the same zxid.
  expect(await checkMember(clients, victim, base, 700)).toEqual({ server: victim.id, children: 700, bad: [] });
  await waitFor('the follower to reach the leader\'s zxid', async () => (await srvrZxid(victim)) === (await srvrZxid(leader)), 10_000);
  return { lines: lines.map((l) => l.replace(` ${victim.id} `, ' <victim> ')), zxid, fromDisk };
}

describeEachTarget(targetsWith('ensemble'), 'DIFF from the txn log on disk on %s (snapshotSizeFactor 0.33, the default)', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();

  beforeAll(async () => {
    cluster = await startTarget(kind, { servers: 3, tickTime: 500 });
  }, 150_000);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('a follower that missed 700 txns (> the 500-txn committed log) is synced with DIFF, the older txns from the leader\'s txn log', async () => {
    const r = await rejoinAfter700(kind, cluster, clients);
    expect({ lines: r.lines }).toEqual({ lines: [`syncing learner <victim> with DIFF ${hex(r.zxid)}`] });
    if (kind === 'ours') expect(r.fromDisk).toHaveLength(3);
    log(`[${kind}] txn-log sync: "${r.lines[0]}" after 700 missed${r.fromDisk ? `, ${r.fromDisk[1]} txns read from the txn log` : ''}`);
  }, 240_000);
});

describeEachTarget(targetsWith('ensemble'), 'the txn-log sync\'s size limit on %s, the leader\'s log rolled by snapshots (snapCount 200)', (kind) => {
  describe.each([
    { factor: '0.33', mode: 'SNAP' },
    { factor: '0', mode: 'DIFF' },
  ])('snapshotSizeFactor $factor', ({ factor, mode }) => {
    let cluster: Cluster;
    const clients = new Clients();

    beforeAll(async () => {
      cluster = await startTarget(kind, { servers: 3, tickTime: 500, systemProperties: { 'zookeeper.snapCount': '200', 'zookeeper.snapshotSizeFactor': factor } });
    }, 150_000);
    afterAll(async () => {
      await clients.closeAll();
      await cluster?.stop();
    });

    test(`a follower that missed 700 txns, its zxid in an older log file, is synced with ${mode}`, async () => {
      const r = await rejoinAfter700(kind, cluster, clients);
      expect({ lines: r.lines }).toEqual({ lines: [`syncing learner <victim> with ${mode} ${hex(r.zxid)}`] });
      if (kind === 'ours') expect(r.fromDisk).toHaveLength(mode === 'DIFF' ? 3 : 0);
      log(`[${kind}] snapCount 200, snapshotSizeFactor ${factor}: "${r.lines[0]}" after 700 missed${r.fromDisk?.length ? `, ${r.fromDisk[1]} txns read from the txn log` : ''}`);
    }, 240_000);
  });
});
