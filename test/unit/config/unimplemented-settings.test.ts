/**
 * Settings Apache has and our server does not implement are warned about
 * (unless their value asks for what the server does anyway), never silently
 * listed as honoured; zookeeper.enforceQuota is parsed like Apache's
 * Boolean.parseBoolean.
 */
import { parseZooCfg } from '../../../src/server/config';

const MINIMAL = 'dataDir=/data\nclientPort=2181\n';
const parse = (extra: string, sys: Record<string, string> = {}) =>
  parseZooCfg(MINIMAL + extra, { readFile: () => null, cwd: '/w', systemProperties: sys });

describe('settings read by nothing are warned about', () => {
  it.each([
    ['skipACL=yes', 'zookeeper.skipACL=yes is not implemented by this server; ignored (this server always checks ACLs)'],
    ['emulate353TTLNodes=true', 'zookeeper.emulate353TTLNodes=true is not implemented'],
    ['maxCnxns=100', 'zookeeper.maxCnxns=100 is not implemented'],
    ['serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory', 'zookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory is not implemented'],
    ['admin.enableServer=true', 'zookeeper.admin.enableServer=true is not implemented by this server; ignored (this server has no admin server)'],
  ])('zoo.cfg %s', (line, warning) => {
    const w = parse(line + '\n').warnings;
    expect(w).toHaveLength(1);
    expect(w[0].startsWith(warning)).toBe(true);
  });

  it.each([
    ['zookeeper.skipACL', 'yes'],
    ['zookeeper.emulate353TTLNodes', 'true'],
    ['zookeeper.maxCnxns', '5'],
    ['zookeeper.serverCnxnFactory', 'org.apache.zookeeper.server.NIOServerCnxnFactory'],
    ['zookeeper.admin.enableServer', 'true'],
  ])('-D%s=%s', (key, value) => {
    const w = parse('', { [key]: value }).warnings;
    expect(w).toEqual([expect.stringContaining(`${key}=${value} is not implemented by this server`)]);
  });

  it('values that match what the server does are quiet', () => {
    expect(parse('skipACL=no\nemulate353TTLNodes=false\nmaxCnxns=0\nadmin.enableServer=false\n').warnings).toEqual([]);
    expect(parse('', { 'zookeeper.admin.enableServer': 'false', 'zookeeper.maxCnxns': '0' }).warnings).toEqual([]);
  });

  it('zookeeper.enforceQuota is honoured: true in any case turns it on, anything else leaves it off', () => {
    expect(parse('').enforceQuota).toBe(false);
    expect(parse('enforceQuota=true\n').enforceQuota).toBe(true);
    expect(parse('', { 'zookeeper.enforceQuota': 'TRUE' }).enforceQuota).toBe(true);
    expect(parse('', { 'zookeeper.enforceQuota': 'yes' }).enforceQuota).toBe(false);
    expect(parse('enforceQuota=true\n').warnings).toEqual([]);
  });
});
