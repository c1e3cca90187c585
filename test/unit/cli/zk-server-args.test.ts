import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseZooCfg } from '../../../src/server/config';
import {
  logFilePath,
  parseServerArgs,
  pidFilePath,
  probeAddress,
  resolveConfigPath,
  UsageError,
  zkServerMain,
  ZkServerIo,
} from '../../../src/cli/zk-server';
import { toQuorumPeerOptions } from '../../../src/cli/server-launch';

const cfgOf = (text: string) => parseZooCfg(text, { readFile: () => null, cwd: '/w' });

describe('zk-server argument handling', () => {
  it('splits -D flags, --config, the command and the config file', () => {
    expect(parseServerArgs(['-Dzookeeper.snapCount=5', 'start', 'my.cfg', '-Dreadonlymode.enabled=true'])).toEqual({
      command: 'start',
      configArg: 'my.cfg',
      configDir: undefined,
      flags: { 'zookeeper.snapCount': '5', 'readonlymode.enabled': 'true' },
    });
    expect(parseServerArgs(['--config', '/etc/zk', 'status'])).toMatchObject({ command: 'status', configDir: '/etc/zk' });
  });

  it('refuses a missing command, a dangling --config and extra words', () => {
    expect(() => parseServerArgs([])).toThrow(UsageError);
    expect(() => parseServerArgs(['--config'])).toThrow(/--config needs a directory/);
    expect(() => parseServerArgs(['start', 'a.cfg', 'b.cfg'])).toThrow(/unexpected arguments: b.cfg/);
  });
});

describe('config file resolution (zkServer.sh rules)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkcli-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('defaults to ./conf/zoo.cfg, or $ZOOCFGDIR/$ZOOCFG, or --config', () => {
    expect(resolveConfigPath({}, {}, dir)).toBe(path.join(dir, 'conf', 'zoo.cfg'));
    expect(resolveConfigPath({}, { ZOOCFGDIR: '/etc/zk', ZOOCFG: 'other.cfg' }, dir)).toBe('/etc/zk/other.cfg');
    expect(resolveConfigPath({ configDir: 'c' }, { ZOOCFGDIR: '/etc/zk' }, dir)).toBe(path.join(dir, 'c', 'zoo.cfg'));
  });

  it('an argument naming an existing file wins; else it is looked up in the config dir', () => {
    fs.writeFileSync(path.join(dir, 'here.cfg'), '');
    fs.mkdirSync(path.join(dir, 'conf'));
    fs.writeFileSync(path.join(dir, 'conf', 'there.cfg'), '');
    expect(resolveConfigPath({ configArg: 'here.cfg' }, {}, dir)).toBe(path.join(dir, 'here.cfg'));
    expect(resolveConfigPath({ configArg: 'there.cfg' }, {}, dir)).toBe(path.join(dir, 'conf', 'there.cfg'));
    expect(resolveConfigPath({ configArg: 'nowhere.cfg' }, {}, dir)).toBe(path.join(dir, 'nowhere.cfg'));
  });
});

describe('pid file, log file and probe address', () => {
  const cfg = cfgOf('dataDir=/zk/data\nclientPort=2181\n');

  it('pid file in dataDir unless ZOOPIDFILE; log in dataDir unless ZOO_LOG_DIR', () => {
    expect(pidFilePath(cfg, {})).toBe('/zk/data/zookeeper_server.pid');
    expect(pidFilePath(cfg, { ZOOPIDFILE: '/run/zk.pid' })).toBe('/run/zk.pid');
    expect(logFilePath(cfg, {})).toBe('/zk/data/zookeeper-server.out');
    expect(logFilePath(cfg, { ZOO_LOG_DIR: '/var/log/zk' })).toBe('/var/log/zk/zookeeper-server.out');
  });

  it('probes loopback for a wildcard address, the configured address otherwise, TLS for a secure-only server', () => {
    expect(probeAddress(cfg)).toEqual({ host: '127.0.0.1', port: 2181, tls: false });
    expect(probeAddress(cfgOf('dataDir=/d\nclientPort=1\nclientPortAddress=0.0.0.0\n')).host).toBe('127.0.0.1');
    expect(probeAddress(cfgOf('dataDir=/d\nclientPort=1\nclientPortAddress=10.1.2.3\n')).host).toBe('10.1.2.3');
    expect(probeAddress(cfgOf('dataDir=/d\nsecureClientPort=2281\n'))).toEqual({ host: '127.0.0.1', port: 2281, tls: true });
  });
});

describe('zkServerMain without a server process', () => {
  let dir: string;
  let out: string;
  let err: string;
  let io: ZkServerIo;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkcli-'));
    out = '';
    err = '';
    io = { env: {}, cwd: dir, out: (t) => (out += t), err: (t) => (err += t) };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('usage errors exit 2', async () => {
    expect(await zkServerMain([], io)).toBe(2);
    expect(err).toMatch(/Usage: zk-server/);
    expect(await zkServerMain(['launch'], io)).toBe(2);
    expect(err).toMatch(/unknown command launch/);
  });

  it('a missing config file or a bad value exits 1 naming the problem', async () => {
    expect(await zkServerMain(['status', path.join(dir, 'none.cfg')], io)).toBe(1);
    expect(err).toMatch(/none.cfg does not exist/);
    fs.writeFileSync(path.join(dir, 'bad.cfg'), `dataDir=${dir}\nclientPort=2181\ntickTime=fast\n`);
    expect(await zkServerMain(['start', 'bad.cfg'], io)).toBe(1);
    expect(err).toMatch(/Invalid config, exiting abnormally: .*tickTime/);
  });

  it('-D flags reach the config (a bad property value is reported)', async () => {
    fs.writeFileSync(path.join(dir, 'zoo.cfg'), `dataDir=${dir}\nclientPort=2181\n`);
    expect(await zkServerMain(['-Dreadonlymode.enabled=perhaps', 'status', 'zoo.cfg'], io)).toBe(1);
    expect(err).toMatch(/readonlymode.enabled/);
  });

  it('JVMFLAGS from the environment reach the config too', async () => {
    fs.writeFileSync(path.join(dir, 'zoo.cfg'), `dataDir=${dir}\nclientPort=2181\n`);
    io.env = { JVMFLAGS: '-Xmx1g -Dzookeeper.snapCount=nope' };
    expect(await zkServerMain(['status', 'zoo.cfg'], io)).toBe(1);
    expect(err).toMatch(/snapCount/);
  });

  it('a member outside its server list with no client port (a removed server\'s rewritten zoo.cfg): status says so, stop still reads the config', async () => {
    fs.writeFileSync(path.join(dir, 'myid'), '9\n');
    fs.writeFileSync(path.join(dir, 'zoo.cfg.dynamic.100000003'), 'server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\nserver.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\nserver.3=127.0.0.1:2890:3890:participant;127.0.0.1:2183');
    fs.writeFileSync(path.join(dir, 'zoo.cfg'), `dataDir=${dir}\ntickTime=2000\ninitLimit=5\nsyncLimit=2\nreconfigEnabled=true\ndynamicConfigFile=${dir}/zoo.cfg.dynamic.100000003\n`);
    expect(await zkServerMain(['status', 'zoo.cfg'], io)).toBe(1);
    expect(out).toBe('Client port not found. Terminating.\n');
    out = '';
    expect(await zkServerMain(['stop', 'zoo.cfg'], io)).toBe(0);
    expect(out).toBe(`Stopping zookeeper ... no zookeeper to stop (could not find file ${dir}/zookeeper_server.pid)\n`);
  });

  it('stop without a pid file says so and exits 0, like zkServer.sh', async () => {
    fs.writeFileSync(path.join(dir, 'zoo.cfg'), `dataDir=${dir}\nclientPort=2181\n`);
    expect(await zkServerMain(['stop', 'zoo.cfg'], io)).toBe(0);
    expect(out).toBe(`Stopping zookeeper ... no zookeeper to stop (could not find file ${dir}/zookeeper_server.pid)\n`);
  });

  it('stop with a stale pid file removes it without signalling anything', async () => {
    fs.writeFileSync(path.join(dir, 'zoo.cfg'), `dataDir=${dir}\nclientPort=2181\n`);
    // Our own pid is alive but not a zk-server process: it must not be killed.
    fs.writeFileSync(path.join(dir, 'zookeeper_server.pid'), String(process.pid));
    expect(await zkServerMain(['stop', 'zoo.cfg'], io)).toBe(0);
    expect(out).toMatch(/stale pid file .* removed/);
    expect(fs.existsSync(path.join(dir, 'zookeeper_server.pid'))).toBe(false);
  });

  it('an ensemble config maps to a quorum peer: servers, observer, limits, myid and client address as Apache prints them', () => {
    fs.writeFileSync(path.join(dir, 'myid'), '2');
    fs.writeFileSync(
      path.join(dir, 'zoo.cfg'),
      `dataDir=${dir}\nclientPort=2182\ninitLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:11:12\nserver.2=127.0.0.1:13:14;2182\nserver.3=127.0.0.1:15:16\nserver.4=127.0.0.1:17:18:observer\n`,
    );
    const cfg = parseZooCfg(fs.readFileSync(path.join(dir, 'zoo.cfg'), 'utf8'), { configFile: path.join(dir, 'zoo.cfg') });
    const o = toQuorumPeerOptions(cfg);
    expect(o.myId).toBe(2n);
    expect([o.initLimit, o.syncLimit]).toEqual([5, 2]);
    expect(o.verifier.voters()).toEqual([1n, 2n, 3n]);
    expect(o.verifier.isVoter(4n)).toBe(false);
    expect(o.server.clientPort).toBe(2182);
    expect(o.server.dataDir).toBe(dir);
    // QuorumMaj.toString: the ';' client part only where the line had one, ";port" as 0.0.0.0:port.
    expect(o.verifier.toString()).toBe(
      'server.1=127.0.0.1:11:12:participant\nserver.2=127.0.0.1:13:14:participant;0.0.0.0:2182\nserver.3=127.0.0.1:15:16:participant\nserver.4=127.0.0.1:17:18:observer\nversion=0',
    );
  });
});
