/**
 * Dynamic config text, the config a reconfig request asks for (with
 * Apache's error codes for each kind of bad input), and the files Apache
 * writes: zoo.cfg.dynamic.<hex>, zoo.cfg.dynamic.next, the static rewrite.
 */
import { ErrorCode } from '../../../src/proto/constants';
import {
  dynamicConfigFileName,
  dynamicConfigFileText,
  editStaticConfigText,
  nextConfig,
  nextDynamicConfigFileName,
  parseQuorumConfigText,
  versionFromFileName,
} from '../../../src/server/quorum/dynamic-config';
import { HierarchicalQuorum, MajorityQuorum, sameConfig } from '../../../src/server/quorum/quorum-verifier';
import { KeeperCodeError } from '../../../src/server/tree/keeper-error';

const THREE =
  'server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n' +
  'server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n' +
  'server.3=127.0.0.1:2890:3890:participant;127.0.0.1:2183\n' +
  'version=100000000';

function codeOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof KeeperCodeError) return e.code;
    throw e;
  }
  return undefined;
}

describe('parseQuorumConfigText', () => {
  it('reads what toString writes, byte for byte', () => {
    const qv = parseQuorumConfigText(THREE);
    expect(qv).toBeInstanceOf(MajorityQuorum);
    expect(qv.version).toBe(0x100000000n);
    expect(qv.voters()).toEqual([1n, 2n, 3n]);
    expect(qv.toString()).toBe(THREE);
  });

  it('keeps observers and lines without a client part', () => {
    const qv = parseQuorumConfigText('server.1=h:1:2\nserver.2=h:3:4\nserver.5=h:5:6:observer\nversion=a');
    expect(qv.voters()).toEqual([1n, 2n]);
    expect(qv.servers.get(5n)!.type).toBe('observer');
    expect(qv.version).toBe(10n);
    expect(qv.toString()).toBe('server.1=h:1:2:participant\nserver.2=h:3:4:participant\nserver.5=h:5:6:observer\nversion=a');
  });

  it('reads groups and weights as a hierarchical config', () => {
    const qv = parseQuorumConfigText('server.1=h:1:2\nserver.2=h:3:4\nserver.3=h:5:6\ngroup.1=1\ngroup.2=2\ngroup.3=3\nweight.1=1\nweight.2=1\nweight.3=1');
    expect(qv).toBeInstanceOf(HierarchicalQuorum);
    expect(qv.containsQuorum([1n])).toBe(false);
    expect(qv.containsQuorum([1n, 3n])).toBe(true);
  });

  it('refuses observers without participants', () => {
    expect(() => parseQuorumConfigText('server.1=h:1:2:observer')).toThrow(/Observers w\/o participants/);
  });
});

describe('sameConfig (QuorumMaj.equals)', () => {
  it('is true for the same version or the same members', () => {
    const a = parseQuorumConfigText(THREE);
    expect(sameConfig(a, a.withVersion(7n))).toBe(true);
    const b = parseQuorumConfigText(THREE.replace('2890', '2990')).withVersion(7n);
    expect(sameConfig(a, b)).toBe(false);
    expect(sameConfig(a, b.withVersion(a.version))).toBe(true);
  });
});

describe('nextConfig', () => {
  const last = parseQuorumConfigText(THREE);
  const ask = (a: Partial<{ joiningServers: string; leavingServers: string; newMembers: string }>) => ({
    joiningServers: a.joiningServers ?? null,
    leavingServers: a.leavingServers ?? null,
    newMembers: a.newMembers ?? null,
  });

  it('adds an observer with its client address, at the reconfig zxid as version', () => {
    const qv = nextConfig(last, ask({ joiningServers: 'server.100=0.0.0.0:1234:2345:observer;0.0.0.0:3456' }), 0x100000005n);
    expect(qv.version).toBe(0x100000005n);
    expect(qv.toString()).toContain('server.100=0.0.0.0:1234:2345:observer;0.0.0.0:3456\nversion=100000005');
    expect(qv.voters()).toEqual([1n, 2n, 3n]);
  });

  it('reads a bare client port as 0.0.0.0:port (kazoo adds "observer;3456")', () => {
    const qv = nextConfig(last, ask({ joiningServers: 'server.999=0.0.0.0:1234:2345:observer;3456' }), 9n);
    expect(qv.toString()).toContain('server.999=0.0.0.0:1234:2345:observer;0.0.0.0:3456\n');
  });

  it('removes, and replaces a member that joins again with new ports', () => {
    expect(nextConfig(last, ask({ leavingServers: '3' }), 9n).voters()).toEqual([1n, 2n]);
    const moved = nextConfig(last, ask({ joiningServers: 'server.3=127.0.0.1:2990:3990:observer;127.0.0.1:2183' }), 9n);
    expect(moved.voters()).toEqual([1n, 2n]);
    expect(moved.servers.get(3n)!.quorumPort).toBe(2990);
    // leaving an unknown sid is no error
    expect(nextConfig(last, ask({ leavingServers: '42' }), 9n).voters()).toEqual([1n, 2n, 3n]);
  });

  it('takes a bulk member list, comma or newline separated', () => {
    const qv = nextConfig(last, ask({ newMembers: 'server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181,server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182' }), 0x200000001n);
    expect(qv.voters()).toEqual([1n, 2n]);
    expect(qv.version).toBe(0x200000001n);
  });

  it("answers Apache's codes for bad input", () => {
    expect(codeOf(() => nextConfig(last, ask({ joiningServers: 'some thing' }), 9n))).toBe(ErrorCode.BADARGUMENTS);
    expect(codeOf(() => nextConfig(last, ask({ joiningServers: 'server.4=127.0.0.1:1:2:participant' }), 9n))).toBe(ErrorCode.BADARGUMENTS); // no client port
    expect(codeOf(() => nextConfig(last, ask({ joiningServers: 'server.4=127.0.0.1:1' }), 9n))).toBe(ErrorCode.BADARGUMENTS);
    expect(codeOf(() => nextConfig(last, ask({ joiningServers: 'server.4=127.0.0.1:2888:5:participant;1' }), 9n))).toBe(ErrorCode.BADARGUMENTS); // 2888 is server.1's
    expect(codeOf(() => nextConfig(last, ask({ leavingServers: '2,3' }), 9n))).toBe(ErrorCode.BADARGUMENTS); // one voter left
    expect(codeOf(() => nextConfig(last, ask({ leavingServers: 'abc' }), 9n))).toBe(ErrorCode.MARSHALLINGERROR); // NumberFormatException
    expect(codeOf(() => nextConfig(last, ask({ joiningServers: 'server.x=h:1:2;3' }), 9n))).toBe(ErrorCode.MARSHALLINGERROR);
    expect(codeOf(() => nextConfig(last, ask({ newMembers: 'server.1=h:1:2:observer' }), 9n))).toBe(ErrorCode.MARSHALLINGERROR); // IllegalArgumentException
    expect(codeOf(() => nextConfig(last, ask({ newMembers: 'server.1=h:1' }), 9n))).toBe(ErrorCode.BADARGUMENTS);
    const hier = parseQuorumConfigText('server.1=h:1:2\nserver.2=h:3:4\nserver.3=h:5:6\ngroup.1=1:2:3');
    expect(codeOf(() => nextConfig(hier, ask({ leavingServers: '3' }), 9n))).toBe(ErrorCode.BADARGUMENTS);
  });
});

describe('dynamic config files', () => {
  const qv = parseQuorumConfigText(
    'server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\nserver.10=127.0.0.1:2898:3898:observer;127.0.0.1:2190\nserver.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\nversion=100000003',
  );

  it('names them as Apache does', () => {
    expect(dynamicConfigFileName('/c/zoo.cfg', 0x100000003n)).toBe('/c/zoo.cfg.dynamic.100000003');
    expect(nextDynamicConfigFileName('/c/zoo.cfg')).toBe('/c/zoo.cfg.dynamic.next');
    expect(versionFromFileName('/c/zoo.cfg.dynamic.100000003')).toBe(0x100000003n);
    expect(versionFromFileName('/c/zoo.cfg.dynamic')).toBeUndefined();
  });

  it('writes sorted key=value lines, the version only in .next, no final newline', () => {
    // Apache sorts the whole "key=value" strings: "server.10=" sorts before "server.1=" ('0' < '=').
    expect(dynamicConfigFileText(qv, false)).toBe(
      'server.10=127.0.0.1:2898:3898:observer;127.0.0.1:2190\n' +
        'server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n' +
        'server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182',
    );
    expect(dynamicConfigFileText(qv, true).endsWith('\nversion=100000003')).toBe(true);
  });

  it('rewrites the static file without membership, pointing at the dynamic file', () => {
    const stat = 'tickTime=2000\ndataDir=/d\nclientPort=2181\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\npeerType=participant\nreconfigEnabled=true\n';
    expect(editStaticConfigText(stat, '/c/zoo.cfg.dynamic.100000003', false)).toBe(
      'tickTime=2000\ndataDir=/d\nclientPort=2181\nreconfigEnabled=true\ndynamicConfigFile=/c/zoo.cfg.dynamic.100000003\n',
    );
    const again = editStaticConfigText('tickTime=2000\nclientPort=2181\ndynamicConfigFile=/c/old\n', '/c/new', true);
    expect(again).toBe('tickTime=2000\ndynamicConfigFile=/c/new\n');
  });
});
