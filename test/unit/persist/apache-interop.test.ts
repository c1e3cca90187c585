/**
 * PROOF OF FORMAT, both ways, against real Apache ZooKeeper 3.8.
 *
 * These tests need Java and the Debian `zookeeper` package (installed by
 * test/setup/ensure-deps.sh); they run in `npm test` and FAIL, never skip,
 * when Java is missing.
 *
 * (a) test/fixtures/persist/apache-3.8.0-datadir is a dataDir written by
 *     Apache 3.8.0 (snapCount=4, preAllocSize=1 KB; see the README there):
 *     we load it, re-encode every log entry and a snapshot byte for byte,
 *     and recompute Apache's tree digests.
 * (b) we write a dataDir (snapshot + log txns built from src/proto records),
 *     start Apache's QuorumPeerMain on it, read the tree back with Apache's
 *     own CLI (ZooKeeperMain), then load what Apache wrote on top of it.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { JuteReader, JuteWriter } from '../../../src/jute';
import { CreateTxn, Ids, OpCode, TxnHeader } from '../../../src/proto';
import { treeDigest } from '../../../src/server/persist/digest';
import { FileTxnStore } from '../../../src/server/persist/file-store';
import { LOG_PREFIX, sortByZxid } from '../../../src/server/persist/file-names';
import { readSnapshotFile, writeSnapshotFile } from '../../../src/server/persist/snapshot-file';
import { writeLogRecord } from '../../../src/server/persist/txn-codec';
import { scanLogFile } from '../../../src/server/persist/txn-log-reader';
import type { SnapshotNode } from '../../../src/server/persist/types';
import { spawnTracked, terminate } from '../../harness/child-processes';
import { fourLetterWord, waitFor } from '../../harness/four-letter-words';
import { freePort } from '../../harness/ports';
import { createSessionEntry, encode, initialNodes, rmDir, setDataEntry, stat, tempDir, T0, SESSION } from './persist-helpers';

const run = promisify(execFile);
const FIXTURE = path.join(__dirname, '../../fixtures/persist/apache-3.8.0-datadir');
const JAVA = '/usr/bin/java';
const JARS = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];
const CLI_JARS = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-nop.jar', '/usr/share/java/jline.jar'];

jest.setTimeout(120_000);

function copyFixture(): string {
  const d = tempDir('zk-persist-fixture-');
  fs.cpSync(FIXTURE, d, { recursive: true });
  return d;
}

describe('(a) a dataDir written by Apache ZooKeeper 3.8.0', () => {
  test('loads: newest snapshot 0x17, then the txns of log.18 (createSession, create /z, closeSession)', async () => {
    const d = copyFixture();
    try {
      const store = new FileTxnStore({ dataDir: d, fsync: false });
      const st = await store.load();
      expect(store.lastLoadReport?.snapshotFile).toBe('snapshot.17');
      expect(st.snapshot?.zxid).toBe(0x17n);
      expect(st.lastZxid).toBe(0x1an);
      const byPath = new Map([...st.snapshot!.nodes].map((n) => [n.path, n]));
      // Apache's order: root "" first, parents before children, /zookeeper subtree as ordinary nodes.
      expect([...st.snapshot!.nodes].map((n) => n.path)).toEqual(['', '/a', '/a/b', '/a/seq-0000000001', '/zookeeper', '/zookeeper/config', '/zookeeper/quota', '/d', '/eph', '/m1']);
      expect(byPath.get('/a')!.data?.toString()).toBe('hello2');
      expect(byPath.get('/a')!.stat).toMatchObject({ czxid: 2n, mzxid: 8n, pzxid: 0xan, version: 1, cversion: 2 });
      expect(byPath.get('/d')!.data?.toString()).toBe('dm'); // the multi's setData at 0x17
      expect(byPath.get('/eph')!.stat.ephemeralOwner).toBe(0x1000006bf32000an);
      expect(byPath.get('/zookeeper/config')!.aclRef).toBe(1n);
      expect(byPath.get('')!.aclRef).toBe(-1n);
      expect(st.snapshot!.acls.get(3n)).toEqual([
        expect.objectContaining({ perms: 31, id: expect.objectContaining({ scheme: 'digest', id: 'u:cGFzcw==' }) }),
        expect.objectContaining({ perms: 1, id: expect.objectContaining({ scheme: 'world', id: 'anyone' }) }),
      ]);
      expect(st.snapshot!.sessions.get(0x1000006bf32000an)).toBe(30000);
      expect(st.snapshot!.sessions.size).toBe(11);
      // The snapshot's digest (Apache logged "digest is 23948244711") equals ours over its nodes.
      expect(st.snapshot!.digest).toEqual({ zxid: 0x17n, version: 2, digest: 23948244711n });
      expect(treeDigest(st.snapshot!.nodes)).toBe(23948244711n);

      expect(st.txns.map((t) => [t.header.zxid, t.header.type])).toEqual([
        [0x18n, OpCode.createSession],
        [0x19n, OpCode.create],
        [0x1an, OpCode.closeSession],
      ]);
      expect(CreateTxn.decode(new JuteReader(st.txns[1].body)).path).toBe('/z');
      // Apache 3.8 logs a TxnDigest after every txn; the closeSession body is CloseSessionTxn v{'/z'}.
      expect(st.txns.map((t) => t.digest?.treeDigest)).toEqual([23948244711n, 22055429701n, 20365322780n]);
      expect(st.txns[2].body.toString('latin1')).toContain('/z');
      await store.close();
    } finally {
      rmDir(d);
    }
  });

  test('every log entry Apache wrote re-encodes to the same bytes', async () => {
    const dir = path.join(FIXTURE, 'version-2');
    const logs = sortByZxid(dir, fs.readdirSync(dir), LOG_PREFIX, true);
    const zxids: bigint[] = [];
    for (const f of logs) {
      const scan = await scanLogFile(f.file);
      const w = new JuteWriter();
      for (const e of scan.entries) {
        writeLogRecord(w, e);
        zxids.push(e.header.zxid);
      }
      expect(scan.end.kind).toBe('clean');
      expect(w.toBuffer()).toEqual(fs.readFileSync(f.file).subarray(16, scan.validEnd));
    }
    expect(zxids).toEqual(Array.from({ length: 0x1a }, (_, i) => BigInt(i + 1)));
  });

  test('every snapshot parses, verifies, and re-writes byte for byte; digests match Apache', async () => {
    const dir = path.join(FIXTURE, 'version-2');
    const out = tempDir('zk-persist-rewrite-');
    const identical: string[] = [];
    const digestsChecked: string[] = [];
    try {
      for (const name of fs.readdirSync(dir).filter((n) => n.startsWith('snapshot.'))) {
        const zxid = BigInt('0x' + name.split('.')[1]);
        const snap = await readSnapshotFile(path.join(dir, name));
        const written = await writeSnapshotFile(out, zxid, snap, { fsync: false });
        // Apache's snapshots are fuzzy: the digest is taken at the zxid reached when the
        // tree walk ends (so it can differ from the name), and the walk may see txns after
        // the digest's zxid (snapshot.3 holds /a/b, created at 0x4, with a digest at 0x3).
        const newest = [...snap.nodes].reduce((m, n) => [n.stat.czxid, n.stat.mzxid, n.stat.pzxid].reduce((a, b) => (b > a ? b : a), m), 0n);
        const consistent = snap.digest !== null && newest <= snap.digest.zxid;
        if (consistent && snap.digest!.zxid !== 0n) {
          expect({ name, digest: treeDigest(snap.nodes) }).toEqual({ name, digest: snap.digest!.digest });
          digestsChecked.push(name);
        }
        if (consistent && snap.digest!.zxid === zxid) {
          expect({ name, bytes: fs.readFileSync(written) }).toEqual({ name, bytes: fs.readFileSync(path.join(dir, name)) });
          identical.push(name);
        }
      }
      expect(identical.sort()).toEqual(['snapshot.0', 'snapshot.17', 'snapshot.7']);
      expect(digestsChecked).toHaveLength(6);
      console.log(`byte-identical re-writes: ${identical.join(', ')}; digests equal to Apache's: ${digestsChecked.sort().join(', ')}`);
      // snapshot.0 is the initial tree; Apache logged "highest zxid is 0x0, digest is 1371985504".
      expect(treeDigest((await readSnapshotFile(path.join(dir, 'snapshot.0'))).nodes)).toBe(1371985504n);
      // snapshot.15 is fuzzy: named 0x15 but holds /eph created at 0x16, with the digest taken at 0x16.
      const fuzzy = await readSnapshotFile(path.join(dir, 'snapshot.15'));
      expect(fuzzy.digest).toEqual({ zxid: 0x16n, version: 2, digest: 20281051190n });
      expect(treeDigest(fuzzy.nodes)).toBe(20281051190n);
    } finally {
      rmDir(out);
    }
  });
});

interface Apache {
  port: number;
  log: string;
  stop: () => Promise<void>;
}

async function startApache(dataDir: string, workDir: string): Promise<Apache> {
  const port = await freePort();
  const cfg = path.join(workDir, 'zoo.cfg');
  fs.writeFileSync(
    cfg,
    [`tickTime=2000`, `dataDir=${dataDir}`, `clientPort=${port}`, `clientPortAddress=127.0.0.1`, `admin.enableServer=false`, `4lw.commands.whitelist=*`, ''].join('\n'),
  );
  const log = path.join(workDir, `apache-${port}.log`);
  const proc = spawnTracked(
    JAVA,
    [
      '-Xmx256m',
      '-Dzookeeper.root.logger=INFO,CONSOLE',
      '-Dlog4j.configuration=file:/etc/zookeeper/conf/log4j.properties',
      '-cp',
      JARS.join(':'),
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      cfg,
    ],
    { logFile: log },
  );
  try {
    await waitFor('Apache ZooKeeper to answer ruok', async () => (await fourLetterWord('127.0.0.1', port, 'ruok', 1000)) === 'imok', 60_000, 200);
  } catch (e) {
    await terminate(proc, 'SIGKILL');
    throw new Error(`${(e as Error).message}\n--- server log ---\n${fs.readFileSync(log, 'utf8').slice(-4000)}`);
  }
  return { port, log, stop: () => terminate(proc, 'SIGTERM') };
}

/** Runs one command with Apache's zkCli (ZooKeeperMain) and returns its output. */
async function zkCli(port: number, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(JAVA, ['-cp', CLI_JARS.join(':'), 'org.apache.zookeeper.ZooKeeperMain', '-server', `127.0.0.1:${port}`, ...args], {
    timeout: 60_000,
  });
  return stdout + stderr;
}

function statField(out: string, name: string): string {
  const m = new RegExp(`^${name} = (.*)$`, 'm').exec(out);
  if (!m) throw new Error(`no ${name} in:\n${out}`);
  return m[1].trim();
}

describe('(b) Apache ZooKeeper 3.8 starts on a dataDir we wrote', () => {
  test('reads our snapshot + log (data, stats, children), and we read back what it wrote', async () => {
    const work = tempDir('zk-persist-ours-');
    const dataDir = path.join(work, 'data');
    try {
      const store = new FileTxnStore({ dataDir, preAllocSize: 64 * 1024, fsync: true });
      expect((await store.load()).snapshot).toBeNull();
      const openAcls = new Map([
        [1n, Ids.READ_ACL_UNSAFE],
        [2n, Ids.OPEN_ACL_UNSAFE],
      ]);
      await store.snapshot(0n, { sessions: new Map(), acls: openAcls, nodes: initialNodes() });

      const create = (zxid: bigint, p: string, data: string, parentCVersion: number) => ({
        header: new TxnHeader({ clientId: SESSION, cxid: Number(zxid), zxid, time: T0 + zxid, type: OpCode.create }),
        body: encode(new CreateTxn({ path: p, data: Buffer.from(data), acl: Ids.OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion })),
      });
      // zxid 1..4 go into log.1, then a snapshot at 4, then 5..6 into log.5.
      await store.append([createSessionEntry(1n), create(2n, '/a', 'hello', 1), create(3n, '/a/b', 'child', 1)]);
      await store.append([setDataEntry(4n, '/a', 'hello-again', 1)]);
      const nodes: SnapshotNode[] = initialNodes();
      nodes[0].stat = stat({ cversion: 1, pzxid: 2n });
      nodes.splice(1, 0,
        { path: '/a', data: Buffer.from('hello-again'), aclRef: 2n, stat: stat({ czxid: 2n, mzxid: 4n, ctime: T0 + 2n, mtime: T0 + 4n, version: 1, cversion: 1, pzxid: 3n }) },
        { path: '/a/b', data: Buffer.from('child'), aclRef: 2n, stat: stat({ czxid: 3n, mzxid: 3n, ctime: T0 + 3n, mtime: T0 + 3n, pzxid: 3n }) },
      );
      await store.snapshot(4n, { sessions: new Map([[SESSION, 30000]]), acls: openAcls, nodes });
      await store.append([create(5n, '/c', 'after-snapshot', 2), create(6n, '/a/d', 'deeper', 2)]);
      await store.close();
      expect(fs.readdirSync(path.join(dataDir, 'version-2')).sort()).toEqual(['log.1', 'log.5', 'snapshot.0', 'snapshot.4']);

      const apache = await startApache(dataDir, work);
      try {
        const a = await zkCli(apache.port, 'get', '-s', '/a');
        expect(a).toContain('hello-again');
        expect(statField(a, 'cZxid')).toBe('0x2');
        expect(statField(a, 'mZxid')).toBe('0x4');
        expect(statField(a, 'pZxid')).toBe('0x6');
        expect(statField(a, 'dataVersion')).toBe('1');
        expect(statField(a, 'cversion')).toBe('2');
        expect(statField(a, 'numChildren')).toBe('2');
        // zkCli prints ctime to the second.
        expect(Math.floor(new Date(statField(a, 'ctime')).getTime() / 1000)).toBe(Math.floor(Number(T0 + 2n) / 1000));
        const c = await zkCli(apache.port, 'get', '-s', '/c');
        expect(c).toContain('after-snapshot');
        expect(statField(c, 'cZxid')).toBe('0x5');
        expect(statField(c, 'dataLength')).toBe('14');
        expect(await zkCli(apache.port, 'ls', '/a')).toContain('[b, d]');
        const root = await zkCli(apache.port, 'ls', '/');
        expect(root).toContain('[a, c, zookeeper]');
        // Apache checked our snapshot's digest against the tree it loaded.
        const log = fs.readFileSync(apache.log, 'utf8');
        expect(log).toContain('The digest in the snapshot has digest version of 2, with zxid as 0x4');
        expect(log).not.toMatch(/[Dd]igest.{0,20}mismatch|not matching/);
        expect(log).toMatch(/2 txns loaded/);
        await zkCli(apache.port, 'create', '/from-apache', 'written-by-java');
      } catch (e) {
        // Show Apache's side of a failure (slow start on a busy machine, a load error, ...).
        (e as Error).message += `\n--- Apache log (tail) ---\n${fs.readFileSync(apache.log, 'utf8').slice(-3000)}`;
        throw e;
      } finally {
        await apache.stop();
      }

      // Now the other way again: load what Apache added on top of our files.
      const back = new FileTxnStore({ dataDir, fsync: false });
      const st = await back.load();
      const inSnap = [...st.snapshot!.nodes].find((n) => n.path === '/from-apache');
      const inLog = st.txns.find((t) => t.header.type === OpCode.create && t.body.includes(Buffer.from('/from-apache')));
      expect(inSnap !== undefined || inLog !== undefined).toBe(true);
      expect([...st.snapshot!.nodes].map((n) => n.path)).toEqual(expect.arrayContaining(['', '/a', '/a/b', '/a/d', '/c', '/zookeeper']));
      await back.close();
    } finally {
      rmDir(work);
    }
  });
});
