import * as fs from 'fs';
import * as path from 'path';
import {
  FourLetterConnection,
  FourLetterContext,
  FOUR_LETTER_WORDS,
  ZK_NOT_SERVING,
  defaultEnvironment,
  formatConnection,
  fourLetterWordCode,
  fourLetterWordFromHeader,
  javaDate,
  javaDouble,
  javaHex,
  lastOpAbbreviation,
  parseFourLetterWhitelist,
  runFourLetterWord,
  summaryMetrics,
} from '../../../src/server/net/four-letter-words';

/** Replies captured from Apache ZooKeeper 3.8.0 (Debian package) with two kazoo sessions holding watches and ephemerals. */
const FIXTURES = path.join(__dirname, 'fixtures', 'apache-3.8.0');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, `${name}.txt`), 'latin1');
const APACHE_VERSION = '3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC';

const S0 = 0x1000004febb0000n;
const S1 = 0x1000004febb0001n;

function session(port: number, sessionId: bigint, extra: Partial<FourLetterConnection> = {}): FourLetterConnection {
  return {
    remoteAddress: '127.0.0.1',
    remotePort: port,
    interestOps: 1,
    outstandingRequests: 0,
    packetsReceived: 86,
    packetsSent: 86,
    sessionId,
    lastOperation: 'PING',
    established: 0,
    sessionTimeout: 10000,
    lastCxid: -1,
    lastZxid: 6n,
    lastResponseTime: 0,
    lastLatency: 0,
    minLatency: 0,
    avgLatency: 0,
    maxLatency: 4,
    ...extra,
  };
}

/** A context holding the same state as the Apache server when the fixtures were captured. */
function apacheLikeContext(overrides: Partial<FourLetterContext> = {}): FourLetterContext & { resets: string[] } {
  const resets: string[] = [];
  const askingConnection = (port: number): FourLetterConnection => ({
    ...session(port, 0n),
    interestOps: 0,
    packetsReceived: 1,
    packetsSent: 0,
  });
  const ctx: FourLetterContext & { resets: string[] } = {
    resets,
    version: APACHE_VERSION,
    isServing: () => true,
    mode: () => 'standalone',
    stats: () => ({
      minLatency: 0,
      avgLatency: 0.40117,
      maxLatency: 4,
      packetsReceived: 175,
      packetsSent: 175,
      outstandingRequests: 0,
      aliveConnections: 3,
      lastProcessedZxid: 6n,
      nodeCount: 9,
    }),
    monitor: () => ({
      ephemeralsCount: 2,
      approximateDataSize: 60,
      watchCount: 4,
      globalSessions: 2,
      localSessions: 0,
      authFailedCount: 0,
      lastClientResponseSize: 16,
      minClientResponseSize: 16,
      maxClientResponseSize: 16,
      uptimeMs: 294155,
      openFileDescriptorCount: 44,
      maxFileDescriptorCount: 20000,
    }),
    connections: () => [
      session(55236, S0, { established: 1795304717984, lastResponseTime: 618292 }),
      session(55242, S1, { established: 1795304718033, lastResponseTime: 618820 }),
      askingConnection(48276),
    ],
    dataWatchesBySession: () =>
      new Map([
        [S0, ['/a', '/nope']],
        [S1, ['/a']],
      ]),
    conf: () => ({
      clientPort: 33607,
      secureClientPort: -1,
      dataDir: '/tmp/zkcap/data/version-2',
      dataLogDir: '/tmp/zkcap/data/version-2',
      tickTime: 2000,
      maxClientCnxns: 60,
      minSessionTimeout: 4000,
      maxSessionTimeout: 40000,
      clientPortListenBacklog: -1,
      serverId: 0,
    }),
    dirSizes: () => ({ dataDir: 67109337, logDir: 67109337 }),
    environment: () => [['zookeeper.version', APACHE_VERSION]],
    sessionExpiry: () => [
      // Deliberately out of order: the formatter sorts by expiry time like Apache's ExpiryQueue.dump.
      { expiresAt: Date.UTC(2026, 10, 21, 23, 50, 7), items: [S0, S1] },
      { expiresAt: Date.UTC(2026, 10, 21, 23, 49, 59), items: [] },
      { expiresAt: Date.UTC(2026, 10, 21, 23, 50, 1), items: [] },
      { expiresAt: Date.UTC(2026, 10, 21, 23, 50, 3), items: [] },
    ],
    ephemerals: () => new Map([[S0, ['/eph', '/a/e2']]]),
    connectionExpiry: () => [
      {
        expiresAt: Date.UTC(2026, 10, 21, 23, 50, 7),
        items: [
          { remoteAddress: '127.0.0.1', remotePort: 55236, sessionId: S0 },
          { remoteAddress: '::ffff:127.0.0.1', remotePort: 55242, sessionId: S1 },
        ],
      },
      { expiresAt: Date.UTC(2026, 10, 21, 23, 50, 17), items: [{ remoteAddress: '127.0.0.1', remotePort: 48306, sessionId: 0n }] },
    ],
    resetConnectionStats: () => resets.push('connections'),
    resetServerStats: () => resets.push('server'),
    ...overrides,
  };
  return ctx;
}

describe('replies match Apache ZooKeeper 3.8 byte for byte', () => {
  it('ruok', () => {
    expect(runFourLetterWord('ruok', apacheLikeContext(), '*')).toBe(fixture('ruok'));
  });

  it('srvr', () => {
    expect(runFourLetterWord('srvr', apacheLikeContext(), '*')).toBe(fixture('srvr'));
  });

  it('stat (brief client lines, then the srvr block)', () => {
    const ctx = apacheLikeContext({
      // stat was captured one request later and from another ephemeral port.
      stats: () => ({ ...apacheLikeContext().stats(), packetsReceived: 176, packetsSent: 176 }),
      connections: () => [
        session(55236, S0),
        session(55242, S1),
        { ...session(48272, 0n), interestOps: 0, packetsReceived: 1, packetsSent: 0 },
      ],
    });
    expect(runFourLetterWord('stat', ctx, '*')).toBe(fixture('stat'));
  });

  it('cons (full lines, lcxid omitted when negative, trailing blank line)', () => {
    expect(runFourLetterWord('cons', apacheLikeContext(), '*')).toBe(fixture('cons'));
  });

  it('wchs, wchc, wchp', () => {
    const ctx = apacheLikeContext();
    expect(runFourLetterWord('wchs', ctx, '*')).toBe(fixture('wchs'));
    expect(runFourLetterWord('wchc', ctx, '*')).toBe(fixture('wchc'));
    expect(runFourLetterWord('wchp', ctx, '*')).toBe(fixture('wchp'));
  });

  it('dump (session and connection expiry queues sorted by time, ephemerals by session)', () => {
    expect(runFourLetterWord('dump', apacheLikeContext(), '*')).toBe(fixture('dump'));
  });

  it('conf and dirs', () => {
    const ctx = apacheLikeContext();
    expect(runFourLetterWord('conf', ctx, '*')).toBe(fixture('conf'));
    expect(runFourLetterWord('dirs', ctx, '*')).toBe(fixture('dirs'));
  });

  it('isro', () => {
    expect(runFourLetterWord('isro', apacheLikeContext(), '*')).toBe(fixture('isro'));
  });

  it('a word outside the whitelist gets Apache’s refusal line', () => {
    const ctx = apacheLikeContext();
    expect(runFourLetterWord('stat', ctx, parseFourLetterWhitelist('ruok'))).toBe(fixture('stat-not-whitelisted'));
    expect(runFourLetterWord('srvr', ctx, parseFourLetterWhitelist('ruok'))).toBe(fixture('srvr'));
  });

  it('mntr: every key we print is one Apache prints, in Apache’s order, with the same values', () => {
    const apache = fixture('mntr')
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t') as [string, string]);
    const apacheKeys = apache.map(([k]) => k);
    const ours = runFourLetterWord('mntr', apacheLikeContext(), '*')!;
    expect(ours.endsWith('\n')).toBe(true);
    const lines = ours.trimEnd().split('\n').map((l) => l.split('\t'));
    for (const l of lines) expect(l).toHaveLength(2);
    const ourKeys = lines.map(([k]) => k);
    const positions = ourKeys.map((k) => apacheKeys.indexOf(k));
    expect(positions).not.toContain(-1);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // Values that do not depend on the moment of capture are identical.
    const apacheValues = new Map(apache);
    for (const k of ['zk_version', 'zk_server_state', 'zk_ephemerals_count', 'zk_num_alive_connections', 'zk_avg_latency', 'zk_znode_count', 'zk_global_sessions', 'zk_watch_count', 'zk_approximate_data_size', 'zk_max_file_descriptor_count']) {
      expect([k, lines.find(([key]) => key === k)![1]]).toEqual([k, apacheValues.get(k)]);
    }
  });
});

describe('modes and states', () => {
  it('read-only mode: isro says ro, srvr adds the READ-ONLY line and Mode: read-only', () => {
    const ctx = apacheLikeContext({ mode: () => 'read-only' });
    expect(runFourLetterWord('isro', ctx, '*')).toBe('ro');
    const srvr = runFourLetterWord('srvr', ctx, '*')!;
    expect(srvr.split('\n').slice(0, 2)).toEqual([`Zookeeper version: ${APACHE_VERSION}`, 'READ-ONLY mode; serving only read-only clients']);
    expect(srvr).toContain('\nMode: read-only\n');
  });

  it.each(['leader', 'follower', 'observer'] as const)('Mode: %s', (mode) => {
    expect(runFourLetterWord('srvr', apacheLikeContext({ mode: () => mode }), '*')).toContain(`\nMode: ${mode}\nNode count: 9\n`);
  });

  it('a leader adds proposal sizes to srvr and its learner figures to mntr', () => {
    const base = apacheLikeContext();
    const ctx = apacheLikeContext({
      mode: () => 'leader',
      monitor: () => ({
        ...base.monitor(),
        leader: {
          learners: 2,
          syncedFollowers: 2,
          syncedNonVotingFollowers: 0,
          syncedObservers: 1,
          pendingSyncs: 0,
          lastProposalSize: 36,
          minProposalSize: 32,
          maxProposalSize: 120,
        },
      }),
    });
    expect(runFourLetterWord('srvr', ctx, '*')!.endsWith('Node count: 9\nProposal sizes last/min/max: 36/32/120\n')).toBe(true);
    const mntr = runFourLetterWord('mntr', ctx, '*')!;
    expect(mntr).toContain('zk_server_state\tleader\n');
    expect(mntr).toContain('zk_learners\t2\nzk_synced_followers\t2\nzk_synced_non_voting_followers\t0\nzk_synced_observers\t1\n');
    expect(mntr).toContain('zk_last_proposal_size\t36\nzk_max_proposal_size\t120\nzk_min_proposal_size\t32\n');
    expect(runFourLetterWord('mntr', apacheLikeContext(), '*')).not.toContain('zk_learners');
  });

  it('while not serving, most words answer ZK_NOT_SERVING; ruok, envi and isro still answer', () => {
    const ctx = apacheLikeContext({ isServing: () => false });
    for (const w of ['srvr', 'stat', 'mntr', 'conf', 'cons', 'crst', 'srst', 'wchs', 'wchc', 'wchp', 'dirs', 'dump']) {
      expect([w, runFourLetterWord(w, ctx, '*')]).toEqual([w, ZK_NOT_SERVING + '\n']);
    }
    expect(runFourLetterWord('ruok', ctx, '*')).toBe('imok');
    expect(runFourLetterWord('isro', ctx, '*')).toBe('null');
    expect(runFourLetterWord('envi', ctx, '*')).toBe(`Environment:\nzookeeper.version=${APACHE_VERSION}\n`);
    expect(ctx.resets).toEqual([]);
  });

  it('crst and srst call the reset hooks and confirm', () => {
    const ctx = apacheLikeContext();
    expect(runFourLetterWord('crst', ctx, '*')).toBe('Connection stats reset.\n');
    expect(runFourLetterWord('srst', ctx, '*')).toBe('Server stats reset.\n');
    expect(ctx.resets).toEqual(['connections', 'server']);
  });

  it('a refused word never runs its side effect', () => {
    const ctx = apacheLikeContext();
    expect(runFourLetterWord('crst', ctx, new Set(['srvr']))).toBe('crst is not executed because it is not in the whitelist.\n');
    expect(ctx.resets).toEqual([]);
  });

  it('gtmk prints the trace mask, 306 by default', () => {
    expect(runFourLetterWord('gtmk', apacheLikeContext(), '*')).toBe('306');
    expect(runFourLetterWord('gtmk', apacheLikeContext({ traceMask: () => 0x1ffn }), '*')).toBe('511');
  });

  it('conf adds the quorum block for an ensemble member', () => {
    const base = apacheLikeContext();
    const ctx = apacheLikeContext({
      conf: () => ({
        ...base.conf(),
        serverId: 2,
        quorum: {
          initLimit: 10,
          syncLimit: 5,
          electionAlg: 3,
          electionPort: 3889,
          quorumPort: 2889,
          peerType: 0,
          membership: 'server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=0',
        },
      }),
    });
    expect(runFourLetterWord('conf', ctx, '*')).toBe(
      fixture('conf').replace('serverId=0', 'serverId=2') +
        'initLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3889\nquorumPort=2889\npeerType=0\nmembership: \n' +
        'server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=0',
    );
  });

  it('empty watch tables print like Apache’s idle server', () => {
    const ctx = apacheLikeContext({ dataWatchesBySession: () => new Map() });
    expect(runFourLetterWord('wchs', ctx, '*')).toBe('0 connections watching 0 paths\nTotal watches:0\n');
    expect(runFourLetterWord('wchc', ctx, '*')).toBe('\n');
    expect(runFourLetterWord('wchp', ctx, '*')).toBe('\n');
  });
});

describe('detection and whitelist', () => {
  it('recognises each known word from the first 4 bytes, and nothing else', () => {
    for (const w of FOUR_LETTER_WORDS) expect(fourLetterWordFromHeader(Buffer.from(w + 'extra'))).toBe(w);
    expect(fourLetterWordFromHeader(Buffer.from([0, 0, 0, 44]))).toBeNull(); // a ConnectRequest length
    expect(fourLetterWordFromHeader(Buffer.from('xyzw'))).toBeNull();
    expect(fourLetterWordFromHeader(Buffer.from('RUOK'))).toBeNull();
    expect(fourLetterWordFromHeader(Buffer.from('ruo'))).toBeNull();
    expect(runFourLetterWord('xyzw', apacheLikeContext(), '*')).toBeNull();
  });

  it('codes match Apache’s FourLetterCommands int constants', () => {
    expect(fourLetterWordCode('ruok')).toBe(0x72756f6b);
    expect(fourLetterWordCode('srvr')).toBe(0x73727672);
  });

  it('parses whitelists like Apache: trimmed, *, srvr always, isro with read-only mode', () => {
    expect([...parseFourLetterWhitelist(undefined)]).toEqual(['srvr']);
    expect([...parseFourLetterWhitelist(' ruok , stat ,,')].sort()).toEqual(['ruok', 'srvr', 'stat']);
    expect(parseFourLetterWhitelist('ruok,*').size).toBe(FOUR_LETTER_WORDS.length);
    expect(parseFourLetterWhitelist('', true).has('isro')).toBe(true);
  });
});

describe('formatting helpers', () => {
  it('javaHex prints 64-bit two’s complement like Long.toHexString', () => {
    expect(javaHex(-1n)).toBe('ffffffffffffffff');
    expect(javaHex(0n)).toBe('0');
    expect(javaHex(0x1000004febb0000n)).toBe('1000004febb0000');
    expect(javaHex(-0x7000000000000000n)).toBe('9000000000000000');
  });

  it('javaDouble always has a decimal point', () => {
    expect(javaDouble(0)).toBe('0.0');
    expect(javaDouble(1.8)).toBe('1.8');
    expect(javaDouble(12)).toBe('12.0');
  });

  it('javaDate matches java.util.Date.toString in UTC', () => {
    expect(javaDate(Date.UTC(2026, 10, 21, 23, 45, 7))).toBe('Sat Nov 21 23:45:07 UTC 2026');
    expect(javaDate(Date.UTC(2024, 0, 1, 0, 0, 0))).toBe('Mon Jan 01 00:00:00 UTC 2024');
  });

  it('cons prints lcxid when set, lzxid -1 as 0xffffffffffffffff, IPv4-mapped addresses as IPv4', () => {
    const line = formatConnection(
      session(1, 0x10n, { remoteAddress: '::ffff:10.0.0.1', lastCxid: 10, lastZxid: -1n, lastOperation: 'NA' }),
      false,
    );
    expect(line).toBe(
      ' /10.0.0.1:1[1](queued=0,recved=86,sent=86,sid=0x10,lop=NA,est=0,to=10000,lcxid=0xa,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=4)',
    );
  });

  it('summaryMetrics renders Apache’s avg/min/max/cnt/sum quintuple', () => {
    expect(summaryMetrics('fsynctime', { count: 3, sum: 10, min: 1, max: 6 })).toEqual([
      ['avg_fsynctime', '3.3333'],
      ['min_fsynctime', 1],
      ['max_fsynctime', 6],
      ['cnt_fsynctime', 3],
      ['sum_fsynctime', 10],
    ]);
    expect(summaryMetrics('x', { count: 0, sum: 0, min: Infinity, max: -Infinity })[0]).toEqual(['avg_x', '0.0']);
    const ctx = apacheLikeContext({ monitor: () => ({ ...apacheLikeContext().monitor(), extra: summaryMetrics('fsynctime', { count: 1, sum: 2, min: 2, max: 2 }) }) });
    expect(runFourLetterWord('mntr', ctx, '*')!.endsWith('zk_avg_fsynctime\t2.0\nzk_min_fsynctime\t2\nzk_max_fsynctime\t2\nzk_cnt_fsynctime\t1\nzk_sum_fsynctime\t2\n')).toBe(true);
  });

  it('lastOpAbbreviation follows Apache’s FinalRequestProcessor names', () => {
    expect(lastOpAbbreviation(11)).toBe('PING');
    expect(lastOpAbbreviation(4)).toBe('GETD');
    expect(lastOpAbbreviation(-10)).toBe('SESS');
    expect(lastOpAbbreviation(999)).toBe('NA');
  });

  it('defaultEnvironment starts with the version and host like Apache', () => {
    const env = defaultEnvironment('v1');
    expect(env[0]).toEqual(['zookeeper.version', 'v1']);
    expect(env[1][0]).toBe('host.name');
    expect(env.find(([k]) => k === 'user.dir')![1]).toBe(process.cwd());
  });
});
