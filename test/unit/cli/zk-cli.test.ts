import * as crypto from 'crypto';
import * as fs from 'fs';
import { PassThrough } from 'stream';
import * as os from 'os';
import * as path from 'path';
import { ZooKeeper } from '../../../src/client/zookeeper';
import { KeeperError } from '../../../src/client/errors';
import { EventType, ErrorCode, KeeperState, Perms } from '../../../src/proto/constants';
import { Stat } from '../../../src/proto/generated';
import { ZooKeeperServer } from '../../../src/server/zookeeper-server';
import {
  describeError,
  formatStat,
  formatWatchedEvent,
  parseAcl,
  permString,
  runCommand,
  splitCommandLine,
} from '../../../src/cli/zk-cli-commands';
import { parseCliArgs, stateLabel, zkCliMain } from '../../../src/cli/zk-cli';

describe('zk-cli pure parts', () => {
  it('parses leading options and leaves the command', () => {
    expect(parseCliArgs(['-server', 'h:1/app', '-timeout', '5000', '-r', 'get', '-s', '/a'])).toEqual({
      server: 'h:1/app',
      timeout: 5000,
      readOnly: true,
      command: ['get', '-s', '/a'],
      ignored: [],
    });
    expect(parseCliArgs([])).toEqual({ server: '127.0.0.1:2181', timeout: 30000, readOnly: false, command: [], ignored: [] });
    expect(parseCliArgs(['-client-configuration', 'c.properties', 'ls', '/']).ignored).toEqual([
      '-client-configuration c.properties is not supported by zk-cli; ignored',
    ]);
    expect(() => parseCliArgs(['-server'])).toThrow(/-server needs/);
    expect(() => parseCliArgs(['-timeout', 'soon'])).toThrow(/-timeout/);
  });

  it('parses ACLs like zkCli (id between the first and last colon)', () => {
    const [a, b] = parseAcl('world:anyone:cdrwa,digest:bob:abc:def=:rw');
    expect([a.id.scheme, a.id.id, a.perms]).toEqual(['world', 'anyone', Perms.ALL]);
    expect([b.id.scheme, b.id.id, b.perms]).toEqual(['digest', 'bob:abc:def=', Perms.READ | Perms.WRITE]);
    expect(() => parseAcl('world:anyone')).toThrow(/does not have the form scheme:id:perm/);
    expect(() => parseAcl('world:anyone:rx')).toThrow(/Unknown perm type: x/);
  });

  it('prints permissions in Apache’s cdrwa order', () => {
    expect(permString(Perms.ALL)).toBe('cdrwa');
    expect(permString(Perms.READ | Perms.ADMIN)).toBe('ra');
    expect(permString(0)).toBe('');
  });

  it('prints the stat block like zkCli', () => {
    const stat = new Stat({
      czxid: 2n,
      mzxid: 3n,
      ctime: BigInt(Date.UTC(2026, 0, 2, 3, 4, 5)),
      mtime: BigInt(Date.UTC(2026, 0, 2, 3, 4, 6)),
      version: 1,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: 0x1000004febb0000n,
      dataLength: 5,
      numChildren: 0,
      pzxid: 2n,
    });
    expect(formatStat(stat)).toBe(
      [
        'cZxid = 0x2',
        'ctime = Fri Jan 02 03:04:05 UTC 2026',
        'mZxid = 0x3',
        'mtime = Fri Jan 02 03:04:06 UTC 2026',
        'pZxid = 0x2',
        'cversion = 0',
        'dataVersion = 1',
        'aclVersion = 0',
        'ephemeralOwner = 0x1000004febb0000',
        'dataLength = 5',
        'numChildren = 0',
      ].join('\n'),
    );
  });

  it('prints events and errors in zkCli’s words', () => {
    expect(formatWatchedEvent({ type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: '/a' })).toBe(
      'WatchedEvent state:SyncConnected type:NodeDataChanged path:/a',
    );
    expect(formatWatchedEvent({ type: EventType.None, state: KeeperState.Disconnected, path: null })).toBe(
      'WatchedEvent state:Disconnected type:None path:null',
    );
    expect(describeError(KeeperError.create(ErrorCode.NONODE, '/x'))).toBe('Node does not exist: /x');
    expect(describeError(KeeperError.create(ErrorCode.NOAUTH), '/y')).toBe('Insufficient permission : /y');
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(stateLabel(KeeperState.SyncConnected)).toBe('CONNECTED');
    expect(stateLabel(KeeperState.Closed)).toBe('CLOSED');
  });

  it('splits command lines with quotes', () => {
    expect(splitCommandLine(`create /a "hello world" 'x y'`)).toEqual(['create', '/a', 'hello world', 'x y']);
    expect(splitCommandLine('   ')).toEqual([]);
    expect(splitCommandLine('set /a ""')).toEqual(['set', '/a', '']);
    expect(() => splitCommandLine('get "/a')).toThrow(/unterminated quote/);
  });
});

describe('zk-cli commands against our server', () => {
  let dir: string;
  let srv: ZooKeeperServer;
  let zk: ZooKeeper;
  let out: string[];
  let err: string[];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  const cmd = async (line: string) => {
    out = [];
    err = [];
    return runCommand(zk, splitCommandLine(line), io);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkcli-srv-'));
    srv = await ZooKeeperServer.start({ clientPort: 0, clientPortAddress: '127.0.0.1', dataDir: dir, extendedTypesEnabled: true });
    zk = new ZooKeeper(srv.connectString, { sessionTimeout: 10000 });
    await zk.connected();
  });
  afterAll(async () => {
    await zk?.close();
    await srv?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('create, get, set with versions, stat', async () => {
    expect(await cmd('create /cli hello')).toEqual({ ok: true });
    expect(err).toEqual(['Created /cli']);
    await cmd('get /cli');
    expect(out).toEqual(['hello']);
    expect((await cmd('set -v 0 /cli bye')).ok).toBe(true);
    expect(await cmd('set -v 0 /cli again')).toEqual({ ok: false });
    expect(err).toEqual(['version No is not valid : /cli']);
    await cmd('get -s /cli');
    expect(out[0]).toBe('bye');
    expect(out[1]).toMatch(/^cZxid = 0x[0-9a-f]+\nctime = .*\n[\s\S]*dataVersion = 1\n[\s\S]*dataLength = 3\nnumChildren = 0$/);
    await cmd('stat /cli');
    expect(out[0]).toContain('dataVersion = 1');
    expect(await cmd('stat /nope')).toEqual({ ok: false });
    expect(err).toEqual(['Node does not exist: /nope']);
  });

  it('create modes: sequential, ephemeral, container, ttl; errors name the path', async () => {
    await cmd('create -s /cli/seq-');
    expect(err[0]).toMatch(/^Created \/cli\/seq-\d{10}$/);
    await cmd('create -e /cli/eph data');
    expect(err).toEqual(['Created /cli/eph']);
    await cmd('create -c /cli/container');
    expect(err).toEqual(['Created /cli/container']);
    await cmd('create -t 60000 /cli/ttl');
    expect(err).toEqual(['Created /cli/ttl']);
    expect(await cmd('create -e -t 5 /cli/bad')).toEqual({ ok: false });
    expect(err[0]).toMatch(/TTLs cannot be used with Ephemeral or Container nodes/);
    expect(await cmd('create /cli/eph')).toEqual({ ok: false });
    expect(err).toEqual(['Node already exists: /cli/eph']);
    expect(await cmd('create /missing/child')).toEqual({ ok: false });
    expect(err).toEqual(['Node does not exist: /missing/child']);
    await cmd('getEphemerals /cli');
    expect(out).toEqual(['[/cli/eph]']);
  });

  it('ls, ls -s, ls -R', async () => {
    await cmd('create /tree');
    await cmd('create /tree/b');
    await cmd('create /tree/a');
    await cmd('create /tree/a/x');
    await cmd('ls /tree');
    expect(out).toEqual(['[a, b]']);
    await cmd('ls -s /tree');
    expect(out[0]).toBe('[a, b]');
    expect(out[1]).toContain('numChildren = 2');
    await cmd('ls -R /tree');
    expect(out).toEqual(['/tree', '/tree/a', '/tree/b', '/tree/a/x']);
  });

  it('delete, deleteall, and refusing to delete a parent', async () => {
    expect(await cmd('delete /tree')).toEqual({ ok: false });
    expect(err).toEqual(['Node not empty: /tree']);
    expect((await cmd('deleteall /tree')).ok).toBe(true);
    expect(await zk.exists('/tree')).toBeNull();
    await cmd('create /d');
    expect(await cmd('delete -v 5 /d')).toEqual({ ok: false });
    expect((await cmd('delete -v 0 /d')).ok).toBe(true);
  });

  it('getAcl, setAcl with digest, addauth, whoami, sync', async () => {
    await cmd('getAcl /cli');
    expect(out).toEqual(["'world,'anyone", ': cdrwa']);
    // digest of bob:secret = base64(sha1("bob:secret"))
    const digest = crypto.createHash('sha1').update('bob:secret').digest('base64');
    await cmd('create /locked x');
    expect((await cmd(`setAcl /locked digest:bob:${digest}:cdrwa`)).ok).toBe(true);
    expect(await cmd('get /locked')).toEqual({ ok: false });
    expect(err).toEqual(['Insufficient permission : /locked']);
    expect((await cmd('addauth digest bob:secret')).ok).toBe(true);
    await cmd('get /locked');
    expect(out).toEqual(['x']);
    await cmd('getAcl /locked');
    expect(out).toEqual([`'digest,'bob:${digest}`, ': cdrwa']);
    await cmd('whoami');
    expect(out[0]).toBe('Auth scheme: User');
    expect(out).toContain('digest: bob');
    await cmd('sync /');
    expect(out).toEqual(['Sync is OK']);
  });

  it('get -w prints the event zkCli-style when it fires', async () => {
    await cmd('create /watched v1');
    await cmd('get -w /watched');
    await zk.setData('/watched', Buffer.from('v2'));
    const deadline = Date.now() + 5000;
    while (!out.some((l) => l.includes('NodeDataChanged')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(out).toContain('\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/watched\n');
  });

  it('usage errors print the command usage; unknown commands are reported', async () => {
    expect(await cmd('get')).toEqual({ ok: false });
    expect(err).toEqual(['get [-s] [-w] path']);
    expect(await cmd('get -x /a')).toEqual({ ok: false });
    expect(err).toEqual(['org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x']);
    expect(await cmd('get /a /b')).toEqual({ ok: false });
    expect(err).toEqual(['too many arguments: /b\nget [-s] [-w] path']);
    expect(await cmd('set -v')).toEqual({ ok: false });
    expect(err).toEqual(['org.apache.commons.cli.MissingArgumentException: Missing argument for option: v']);
    expect(await cmd('frob /a')).toEqual({ ok: false });
    expect(err[0]).toMatch(/^ZooKeeper -server host:port/);
    expect(err[err.length - 1]).toBe('Command not found: Command not found frob');
    expect(await cmd('quit')).toEqual({ ok: true, quit: true });
    expect((await cmd('help')).ok).toBe(true);
    expect(err[0]).toMatch(/\tget \[-s\] \[-w\] path/);
  });

  it('zkCliMain runs one command non-interactively with exit codes', async () => {
    const lines: string[] = [];
    const errs: string[] = [];
    const mio = { out: (l: string) => lines.push(l), err: (l: string) => errs.push(l) };
    expect(await zkCliMain(['-server', srv.connectString, 'create', '/oneshot', 'v'], mio)).toBe(0);
    expect(lines).toEqual([]);
    expect(errs).toContain('Created /oneshot');
    expect(await zkCliMain(['-server', srv.connectString, 'get', '/oneshot'], mio)).toBe(0);
    expect(lines).toEqual(['v']);
    expect(await zkCliMain(['-server', srv.connectString, 'get', '/nothing'], mio)).toBe(1);
    // zkCli's "Connecting to" line goes to stderr in one-shot mode, so stdout is the command's output alone.
    expect(errs.filter((l) => !l.startsWith('Connecting to ') && !l.startsWith('Created '))).toEqual(['Node does not exist: /nothing']);
    expect(await zkCliMain(['-server'], mio)).toBe(2);
  });

  it('the interactive shell reads lines until quit, with quotes, counting commands', async () => {
    const input = new PassThrough();
    const lines: string[] = [];
    const errs: string[] = [];
    const done = zkCliMain(['-server', srv.connectString], { out: (l) => lines.push(l), err: (l) => errs.push(l), input, isTTY: false });
    input.write('create /shell "two words"\n');
    input.write('\n');
    input.write('get /shell\n');
    input.write('get "/unterminated\n');
    input.write('quit\n');
    input.write('get /shell\n'); // after quit: never run
    expect(await done).toBe(0);
    const printed = lines.filter((l) => !l.includes('WATCHER::'));
    expect(printed).toEqual([`Connecting to ${srv.connectString}`, 'Welcome to ZooKeeper!', 'two words']);
    expect(errs).toEqual(['Created /shell', 'unterminated quote']);
  });
});
