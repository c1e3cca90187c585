import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ConfigError,
  formatDynamicConfig,
  loadZooCfg,
  parseServerLine,
  parseZooCfg,
  readMyid,
  ZooCfg,
} from '../../../src/server/config';

/** Parses with an in-memory file system so tests never depend on the machine. */
function parse(text: string, files: Record<string, string> = {}, systemProperties: Record<string, string> = {}): ZooCfg {
  return parseZooCfg(text, { readFile: (f) => files[f] ?? null, systemProperties, cwd: '/work' });
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const MINIMAL = 'dataDir=/var/zk\nclientPort=2181\n';

describe('zoo.cfg: standalone basics', () => {
  it('reads the Debian sample config with Apache defaults for the rest', () => {
    const cfg = parse('tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/zookeeper\nclientPort=2181\n');
    expect(cfg).toMatchObject({
      tickTime: 2000,
      initLimit: 10,
      syncLimit: 5,
      dataDir: '/tmp/zookeeper',
      dataLogDir: '/tmp/zookeeper',
      clientPort: 2181,
      maxClientCnxns: 60,
      minSessionTimeout: 4000,
      maxSessionTimeout: 40000,
      snapCount: 100000,
      juteMaxBuffer: 0xfffff,
      preAllocSize: 64 * 1024 * 1024,
      forceSync: true,
      extendedTypesEnabled: false,
      readOnlyModeEnabled: false,
      standalone: true,
      serverId: 0,
      servers: [],
      autopurge: { snapRetainCount: 3, purgeIntervalHours: 0 },
    });
    expect(cfg.warnings).toEqual([]);
    expect([...cfg.fourLetterWordWhitelist]).toEqual(['srvr']);
  });

  it('defaults tickTime to Apache’s 3000 and session bounds to 2x/20x tick', () => {
    const cfg = parse(MINIMAL);
    expect([cfg.tickTime, cfg.minSessionTimeout, cfg.maxSessionTimeout]).toEqual([3000, 6000, 60000]);
  });

  it('trims values and reads every typed key', () => {
    const cfg = parse(
      [
        'dataDir = /d  ',
        'dataLogDir=/l',
        'clientPort=2181',
        'clientPortAddress=127.0.0.1',
        'secureClientPort=2281',
        'secureClientPortAddress=127.0.0.2',
        'maxClientCnxns=0',
        'minSessionTimeout=1000',
        'maxSessionTimeout=5000',
        'autopurge.snapRetainCount=5',
        'autopurge.purgeInterval=2',
        '4lw.commands.whitelist=ruok, mntr ,stat',
        'snapCount=50',
        'jute.maxbuffer=0x200000',
        'preAllocSize=1024',
        'clientPortListenBacklog=128',
      ].join('\n'),
    );
    expect(cfg).toMatchObject({
      dataDir: '/d',
      dataLogDir: '/l',
      clientPortAddress: '127.0.0.1',
      secureClientPort: 2281,
      secureClientPortAddress: '127.0.0.2',
      maxClientCnxns: 0,
      minSessionTimeout: 1000,
      maxSessionTimeout: 5000,
      autopurge: { snapRetainCount: 5, purgeIntervalHours: 2 },
      snapCount: 50,
      juteMaxBuffer: 0x200000,
      preAllocSize: 1024 * 1024,
      clientPortListenBacklog: 128,
    });
    expect([...cfg.fourLetterWordWhitelist].sort()).toEqual(['mntr', 'ruok', 'srvr', 'stat']);
  });

  it('4lw whitelist * enables every word', () => {
    const cfg = parse(MINIMAL + '4lw.commands.whitelist=*\n');
    for (const w of ['ruok', 'srvr', 'stat', 'mntr', 'conf', 'cons', 'crst', 'srst', 'wchs', 'wchc', 'wchp', 'dirs', 'envi', 'isro', 'dump']) {
      expect(cfg.fourLetterWordWhitelist.has(w)).toBe(true);
    }
  });

  it('resolves relative dataDir against the working directory and warns', () => {
    const cfg = parse('dataDir=data/zk\nclientPort=1\n');
    expect(cfg.dataDir).toBe('/work/data/zk');
    expect(cfg.warnings.join('\n')).toMatch(/dataDir data\/zk is relative/);
  });

  it('secureClientPort alone is enough; clientPort is then undefined', () => {
    const cfg = parse('dataDir=/d\nsecureClientPort=2281\n');
    expect(cfg.clientPort).toBeUndefined();
    expect(cfg.secureClientPort).toBe(2281);
  });
});

describe('zoo.cfg: bad values stop start-up naming the key', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['clientPort=2181\n', 'dataDir', /dataDir is not set/],
    ['dataDir=/d\n', 'clientPort', /clientPort is not set/],
    [MINIMAL + 'tickTime=abc\n', 'tickTime', /tickTime.*"abc" is not an integer/],
    [MINIMAL + 'tickTime=0\n', 'tickTime', /tickTime is not set/],
    [MINIMAL + 'tickTime=2.5\n', 'tickTime', /not an integer/],
    ['dataDir=/d\nclientPort=70000\n', 'clientPort', /clientPort.*out of range/],
    ['dataDir=/d\nclientPort=-1\n', 'clientPort', /clientPort.*out of range/],
    ['dataDir=/d\nclientPort=21x\n', 'clientPort', /clientPort.*not a port/],
    [MINIMAL + 'minSessionTimeout=9000\nmaxSessionTimeout=8000\n', 'minSessionTimeout', /must not be larger than maxSessionTimeout/],
    [MINIMAL + 'maxClientCnxns=-5\n', 'maxClientCnxns', /maxClientCnxns/],
    [MINIMAL + 'standaloneEnabled=yes\n', 'standaloneEnabled', /Invalid option yes for standaloneEnabled/],
    [MINIMAL + 'reconfigEnabled=1\n', 'reconfigEnabled', /reconfigEnabled/],
    [MINIMAL + 'peerType=witness\n', 'peerType', /Unrecognised peertype: witness/],
    [MINIMAL + 'electionAlg=1\n', 'electionAlg', /Only 3 is supported/],
    [MINIMAL + 'snapCount=lots\n', 'snapCount', /snapCount/],
    [MINIMAL + 'jute.maxbuffer=-1\n', 'jute.maxbuffer', /jute.maxbuffer/],
    [MINIMAL + 'preAllocSize=0\n', 'preAllocSize', /preAllocSize/],
    [MINIMAL + 'ssl.clientAuth=maybe\n', 'ssl.clientAuth', /ssl.clientAuth/],
    [MINIMAL + 'ssl.keyStore.type=DER\n', 'ssl.keyStore.type', /ssl.keyStore.type/],
    [MINIMAL + 'extendedTypesEnabled=on\n', 'zookeeper.extendedTypesEnabled', /extendedTypesEnabled/],
    [MINIMAL + 'forceSync=maybe\n', 'forceSync', /forceSync/],
    ['dataDir=/d\nclientPortAddress=127.0.0.1\n', 'clientPortAddress', /clientPortAddress is set but clientPort is not set/],
    [MINIMAL + 'server.x=h:1:2\n', 'server.x', /server id/],
  ];
  it.each(cases)('%j -> key %s', (text, key, message) => {
    const err = configError(() => parse(text));
    expect(err.key).toBe(key);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(key.replace(/^zookeeper\./, ''));
  });
});

describe('zoo.cfg: unknown and ignored keys', () => {
  it('warns about unknown keys without failing, and passes them on as zookeeper.<key> properties', () => {
    const cfg = parse(MINIMAL + 'frobnicate=yes\n');
    expect(cfg.warnings).toEqual(['unknown key frobnicate; ignored']);
    expect(cfg.systemProperties['zookeeper.frobnicate']).toBe('yes');
  });

  it('known admin.* keys and metricsProvider.* are ignored quietly; unknown admin keys are warned', () => {
    const cfg = parse(MINIMAL + 'admin.enableServer=false\nadmin.serverPort=8080\nmetricsProvider.className=x.Y\nmetricsProvider.httpPort=7000\nadmin.bogus=1\n');
    expect(cfg.warnings).toEqual(['unknown admin key admin.bogus; ignored (no admin server)']);
  });

  it('zoo.cfg keys that Apache turns into system properties take effect without a warning', () => {
    const cfg = parse(MINIMAL + 'extendedTypesEnabled=true\nforceSync=no\nglobalOutstandingLimit=50\nDigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n');
    expect(cfg.warnings).toEqual([]);
    expect(cfg.extendedTypesEnabled).toBe(true);
    expect(cfg.forceSync).toBe(false);
    expect(cfg.globalOutstandingLimit).toBe(50);
    expect(cfg.superDigest).toBe('super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });

  it('Apache keys for features we lack are warned as unsupported', () => {
    const cfg = parse(MINIMAL + 'localSessionsEnabled=true\n');
    expect(cfg.warnings).toEqual(['localSessionsEnabled is not supported by this server; ignored']);
  });

  it('authProvider.N entries are kept', () => {
    const cfg = parse(MINIMAL + 'authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n');
    expect(cfg.authProviders.get('1')).toBe('org.apache.zookeeper.server.auth.SASLAuthenticationProvider');
    expect(cfg.warnings).toEqual([]);
  });

  it('autopurge.snapRetainCount below 3 is raised to 3 with a warning, like Apache', () => {
    const cfg = parse(MINIMAL + 'autopurge.snapRetainCount=1\n');
    expect(cfg.autopurge.snapRetainCount).toBe(3);
    expect(cfg.warnings).toEqual(['Invalid autopurge.snapRetainCount: 1. Defaulting to 3']);
  });
});

describe('zoo.cfg: ssl.* keys', () => {
  it('reads keystore/truststore settings from zoo.cfg or zookeeper.ssl.* properties (zoo.cfg wins)', () => {
    const cfg = parse(
      MINIMAL +
        'ssl.keyStore.location=/k.pem\nssl.keyStore.password=kp\nssl.keyStore.type=pem\n' +
        'ssl.trustStore.location=/t.p12\nssl.clientAuth=want\nssl.enabledProtocols=TLSv1.2, TLSv1.3\n',
      {},
      { 'zookeeper.ssl.keyStore.location': '/ignored', 'zookeeper.ssl.trustStore.password': 'tp' },
    );
    expect(cfg.ssl).toEqual({
      keyStoreLocation: '/k.pem',
      keyStorePassword: 'kp',
      keyStoreType: 'PEM',
      trustStoreLocation: '/t.p12',
      trustStorePassword: 'tp',
      trustStoreType: undefined,
      clientAuth: 'want',
      enabledProtocols: ['TLSv1.2', 'TLSv1.3'],
      protocol: undefined,
      ciphersuites: undefined,
      hostnameVerification: true,
    });
  });

  it('defaults clientAuth to need', () => {
    expect(parse(MINIMAL).ssl.clientAuth).toBe('need');
  });
});

describe('system properties', () => {
  it('reads the documented -D properties', () => {
    const cfg = parse(MINIMAL, {}, {
      'zookeeper.extendedTypesEnabled': 'true',
      'readonlymode.enabled': 'true',
      'zookeeper.snapCount': '42',
      'jute.maxbuffer': '4096',
      'zookeeper.DigestAuthenticationProvider.superDigest': 'super:abc=',
      'java.security.auth.login.config': 'jaas.conf',
      'zookeeper.4lw.commands.whitelist': 'ruok',
    });
    expect(cfg).toMatchObject({
      extendedTypesEnabled: true,
      readOnlyModeEnabled: true,
      snapCount: 42,
      juteMaxBuffer: 4096,
      superDigest: 'super:abc=',
      jaasConfigFile: '/work/jaas.conf',
    });
    // read-only mode enables isro, as in Apache; srvr is always on.
    expect([...cfg.fourLetterWordWhitelist].sort()).toEqual(['isro', 'ruok', 'srvr']);
    expect(cfg.warnings).toEqual([]);
  });

  it('zoo.cfg wins over a -D flag for the same setting (Apache sets the property after JVM start)', () => {
    const cfg = parse(MINIMAL + 'snapCount=7\n', {}, { 'zookeeper.snapCount': '42' });
    expect(cfg.snapCount).toBe(7);
  });

  it('zookeeper.snapshotSizeFactor as ZKDatabase reads it: default 0.33, < 0 off, above 1 or not a number the default (warned); zoo.cfg sets it too', () => {
    expect(parse(MINIMAL).snapshotSizeFactor).toBe(0.33);
    expect(parse(MINIMAL, {}, { 'zookeeper.snapshotSizeFactor': '-1' })).toMatchObject({ snapshotSizeFactor: -1, warnings: [] });
    expect(parse(MINIMAL, {}, { 'zookeeper.snapshotSizeFactor': '0' }).snapshotSizeFactor).toBe(0);
    expect(parse(MINIMAL, {}, { 'zookeeper.snapshotSizeFactor': ' 1.0 ' }).snapshotSizeFactor).toBe(1);
    for (const bad of ['1.5', 'lots', '']) {
      const cfg = parse(MINIMAL, {}, { 'zookeeper.snapshotSizeFactor': bad });
      expect({ bad, factor: cfg.snapshotSizeFactor, warnings: cfg.warnings }).toEqual({
        bad,
        factor: 0.33,
        warnings: [`Invalid zookeeper.snapshotSizeFactor ${bad}; using the default 0.33`],
      });
    }
    expect(parse(MINIMAL + 'snapshotSizeFactor=0.5\n')).toMatchObject({ snapshotSizeFactor: 0.5, warnings: [] });
  });

  it('a bad property value names the property', () => {
    const err = configError(() => parse(MINIMAL, {}, { 'readonlymode.enabled': 'sure' }));
    expect(err.key).toBe('readonlymode.enabled');
    const err2 = configError(() => parse(MINIMAL, {}, { 'zookeeper.DigestAuthenticationProvider.superDigest': 'nocolon' }));
    expect(err2.key).toBe('zookeeper.DigestAuthenticationProvider.superDigest');
  });

  it('warns about -D properties it does not use, but not about logging ones', () => {
    const cfg = parse(MINIMAL, {}, { 'zookeeper.log.dir': '/x', 'log4j.configuration': 'y', 'my.flag': '1' });
    expect(cfg.warnings).toEqual(['system property my.flag is not used by this server']);
  });
});

describe('server.N lines', () => {
  it('parses host:quorum:election with role and client part', () => {
    expect(parseServerLine(1, 'zk1:2888:3888')).toEqual({
      id: 1,
      addresses: [{ host: 'zk1', quorumPort: 2888, electionPort: 3888 }],
      role: 'participant',
    });
    expect(parseServerLine(2, 'zk2:2888:3888:observer;2181')).toEqual({
      id: 2,
      addresses: [{ host: 'zk2', quorumPort: 2888, electionPort: 3888 }],
      role: 'observer',
      clientAddress: '0.0.0.0',
      clientPort: 2181,
    });
    expect(parseServerLine(3, 'zk3:2888:3888:PARTICIPANT;127.0.0.1:2182')).toMatchObject({
      role: 'participant',
      clientAddress: '127.0.0.1',
      clientPort: 2182,
    });
  });

  it('parses bracketed IPv6 hosts', () => {
    expect(parseServerLine(1, '[::1]:2888:3888;[::1]:2181')).toEqual({
      id: 1,
      addresses: [{ host: '::1', quorumPort: 2888, electionPort: 3888 }],
      role: 'participant',
      clientAddress: '::1',
      clientPort: 2181,
    });
  });

  it('accepts multiple addresses only with multiAddress enabled', () => {
    expect(() => parseServerLine(1, 'a:1:2|b:3:4')).toThrow(/Multiple address feature is disabled/);
    expect(parseServerLine(1, 'a:1:2|b:3:4', true).addresses).toHaveLength(2);
  });

  const bad: Array<[string, RegExp]> = [
    ['zk1:2888', /Missing election port for server: 1/],
    ['zk1', /does not have the form/],
    ['zk1:2888:3888:leader', /Unrecognised peertype: leader/],
    ['zk1:x:3888', /not a port number/],
    ['zk1:2888:99999', /out of range/],
    ['zk1:2888:2888', /must differ/],
    ['zk1:0:3888', /non-zero/],
    ['zk1:2888:3888;a:b:c', /does not have the form/],
    ['zk1:2888:3888;1;2', /does not have the form/],
    [':2888:3888', /does not have the form/],
    ['[::1:2888:3888', /does not have the form/],
  ];
  it.each(bad)('rejects %j', (value, message) => {
    const err = configError(() => parseServerLine(1, value));
    expect(err.key).toBe('server.1');
    expect(err.message).toMatch(message);
    expect(err.message).toContain('server.1');
  });

  it('formats membership like Apache’s QuorumMaj.toString', () => {
    const servers = [parseServerLine(2, '127.0.0.1:2889:3889:observer;127.0.0.1:2182'), parseServerLine(1, '127.0.0.1:2888:3888;2181'), parseServerLine(3, '[::1]:1:2')];
    expect(formatDynamicConfig(servers, 0x100000000n)).toBe(
      'server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n' +
        'server.2=127.0.0.1:2889:3889:observer;127.0.0.1:2182\n' +
        'server.3=[::1]:1:2:participant\n' +
        'version=100000000',
    );
  });
});

describe('ensemble configuration and myid', () => {
  const ENSEMBLE =
    'tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=/zk\nclientPort=2181\n' +
    'server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n';

  it('reads myid and runs as a quorum peer', () => {
    const cfg = parse(ENSEMBLE, { '/zk/myid': '2\n' });
    expect(cfg.standalone).toBe(false);
    expect(cfg.serverId).toBe(2);
    expect(cfg.servers.map((s) => s.id)).toEqual([1, 2, 3]);
    expect(cfg.peerType).toBe('participant');
  });

  it('requires myid and a number', () => {
    expect(configError(() => parse(ENSEMBLE)).message).toMatch(/\/zk\/myid file is missing/);
    expect(configError(() => parse(ENSEMBLE, { '/zk/myid': 'two' })).message).toMatch(/serverid two is not a number/);
  });

  it('reads a myid the server list does not hold as a participant, as QuorumPeerConfig does (the peer refuses it at start)', () => {
    // What a joiner restarted before a reconfig added it reads: the ensemble's config, without its line.
    const cfg = parse(`${ENSEMBLE}peerType=observer\n`, { '/zk/myid': '9' });
    expect({ serverId: cfg.serverId, standalone: cfg.standalone, peerType: cfg.peerType, clientPort: cfg.clientPort }).toEqual({
      serverId: 9,
      standalone: false,
      peerType: 'participant',
      clientPort: 2181,
    });
    expect(cfg.warnings).toContain("Peer type from servers list (participant) doesn't match peerType (observer). Defaulting to servers list.");
    // What a removed server reads: the rewrite that pointed at the config listing it with its client
    // address dropped the client port keys. Still read (Apache too); only a listed member needs one.
    const removed = parse(ENSEMBLE.replace('clientPort=2181\n', ''), { '/zk/myid': '9' });
    expect({ serverId: removed.serverId, clientPort: removed.clientPort, secureClientPort: removed.secureClientPort }).toEqual({ serverId: 9, clientPort: undefined, secureClientPort: undefined });
    expect(configError(() => parse(ENSEMBLE.replace('clientPort=2181\n', ''), { '/zk/myid': '2' })).key).toBe('clientPort');
  });

  it('requires initLimit and syncLimit for a quorum', () => {
    const noInit = ENSEMBLE.replace('initLimit=5\n', '');
    expect(configError(() => parse(noInit, { '/zk/myid': '1' })).key).toBe('initLimit');
    const noSync = ENSEMBLE.replace('syncLimit=2\n', '');
    expect(configError(() => parse(noSync, { '/zk/myid': '1' })).key).toBe('syncLimit');
  });

  it('one participant with standaloneEnabled runs standalone without myid; with standaloneEnabled=false it is a quorum of one', () => {
    const one = 'dataDir=/zk\nclientPort=2181\nserver.1=127.0.0.1:2888:3888\n';
    const cfg = parse(one);
    expect(cfg.standalone).toBe(true);
    expect(cfg.warnings).toContain('Invalid configuration, only one server specified (ignoring)');
    const quorumOfOne = parse(one + 'standaloneEnabled=false\ninitLimit=5\nsyncLimit=2\n', { '/zk/myid': '1' });
    expect(quorumOfOne.standalone).toBe(false);
  });

  it('rejects observers without participants, and observers without a quorum', () => {
    expect(configError(() => parse('dataDir=/zk\nclientPort=1\nserver.1=h:1:2:observer\n')).message).toMatch(/Observers w\/o participants/);
    expect(configError(() => parse('dataDir=/zk\nclientPort=1\nserver.1=h:1:2\nserver.2=h:3:4:observer\n')).message).toMatch(
      /Observers w\/o quorum/,
    );
  });

  it('takes the role from the server list and warns when peerType disagrees', () => {
    const text = ENSEMBLE.replace('server.3=127.0.0.1:2890:3890', 'server.3=127.0.0.1:2890:3890:observer') + 'peerType=participant\n';
    const cfg = parse(text, { '/zk/myid': '3' });
    expect(cfg.peerType).toBe('observer');
    expect(cfg.warnings.join('\n')).toMatch(/doesn't match peerType/);
  });

  it('takes the client port from this server’s line and refuses a conflicting clientPort', () => {
    const text = 'initLimit=5\nsyncLimit=2\ndataDir=/zk\nserver.1=127.0.0.1:2888:3888;127.0.0.1:2191\nserver.2=127.0.0.1:2889:3889;2192\nserver.3=127.0.0.1:2890:3890;2193\n';
    const cfg = parse(text, { '/zk/myid': '1' });
    expect(cfg.clientPort).toBe(2191);
    expect(cfg.clientPortAddress).toBe('127.0.0.1');
    expect(parse(text, { '/zk/myid': '2' }).clientPortAddress).toBeUndefined();
    expect(configError(() => parse(text + 'clientPort=3000\n', { '/zk/myid': '1' })).key).toBe('clientPort');
  });

  it('rejects two servers on the same quorum or election address', () => {
    const text = 'dataDir=/zk\nclientPort=1\ninitLimit=1\nsyncLimit=1\nserver.1=h:2888:3888\nserver.2=h:2888:3889\n';
    expect(configError(() => parse(text, { '/zk/myid': '1' })).message).toMatch(/h:2888 of server.2 conflicts/);
  });

  it('warns about even-sized and two-server ensembles', () => {
    const two = 'dataDir=/zk\nclientPort=1\ninitLimit=1\nsyncLimit=1\nserver.1=h:1:2\nserver.2=h:3:4\n';
    expect(parse(two, { '/zk/myid': '1' }).warnings).toContain('No server failure will be tolerated. You need at least 3 servers.');
  });

  it('reads server lines from dynamicConfigFile, relative to the config file, and refuses them in both places', () => {
    const files = {
      '/etc/zk/zoo.cfg.dynamic': 'server.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;2182\nserver.3=127.0.0.1:2890:3890;2183\n',
      '/zk/myid': '3',
    };
    const cfg = parseZooCfg('initLimit=5\nsyncLimit=2\ndataDir=/zk\ndynamicConfigFile=zoo.cfg.dynamic\n', {
      readFile: (f) => (files as Record<string, string>)[f] ?? null,
      configFile: '/etc/zk/zoo.cfg',
    });
    expect(cfg.servers).toHaveLength(3);
    expect(cfg.clientPort).toBe(2183);
    expect(cfg.dynamicConfigFile).toBe('/etc/zk/zoo.cfg.dynamic');
    expect(() =>
      parseZooCfg('dataDir=/zk\nclientPort=1\ndynamicConfigFile=/x\nserver.1=h:1:2\n', { readFile: () => '' }),
    ).toThrow(/must be in a separate dynamic config file/);
  });

  it('readMyid uses only the first line', () => {
    expect(readMyid('/zk', (f) => (f === '/zk/myid' ? ' 7 \nextra' : null))).toBe(7);
  });
});

describe('loadZooCfg', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkcfg-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a real file and myid from disk', () => {
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'myid'), '1\n');
    const file = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(
      file,
      `tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=${data}\nclientPort=2181\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n`,
    );
    const cfg = loadZooCfg(file);
    expect(cfg.configFile).toBe(file);
    expect(cfg.serverId).toBe(1);
  });

  it('a missing file is a ConfigError', () => {
    expect(() => loadZooCfg(path.join(dir, 'nope.cfg'))).toThrow(ConfigError);
  });
});
