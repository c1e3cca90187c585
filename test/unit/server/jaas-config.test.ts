/**
 * A java.security.auth.login.config file without a usable `Server` section:
 * what Apache 3.8 does (checked live below when it is installed) and what
 * ours does must agree. Empty file or no Server section: the server starts
 * and serves, SASL unavailable. Malformed or missing file: start-up fails
 * with "No JAAS configuration section named 'Server' was found in '<file>'."
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ZooKeeper } from '../../../src/client/zookeeper';
import { JaasConfigError, loadJaasUsers, parseJaas } from '../../../src/server/session/jaas-config';
import { ZooKeeperServer } from '../../../src/server/zookeeper-server';
import { apacheAvailable, startApache } from '../../harness';

jest.setTimeout(120_000);

const FILES: Record<string, string> = {
  empty: '',
  'client-only': 'Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="bob"\n  password="secret";\n};\n',
  'comments-only': '// nothing here\n/* still nothing */\n',
  'unterminated-section': 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="secret"\n',
  garbage: 'this is { not jaas',
};
const STARTS = ['empty', 'client-only', 'comments-only'];
const REFUSED = ['unterminated-section', 'garbage', 'missing'];

let dir: string;
const file = (name: string) => path.join(dir, `${name}.conf`);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jaas-test-'));
  for (const [name, text] of Object.entries(FILES)) fs.writeFileSync(file(name), text);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('JAAS parsing', () => {
  it('reads sections, quoted and bare option values, comments', () => {
    const s = parseJaas(
      '/* c */ Server {\n org.x.DigestLoginModule required\n user_bob="se\\"cret" // c\n debug=true;\n other.Module optional;\n};\nClient { m sufficient username="u"; };',
    );
    expect([...s.keys()]).toEqual(['Server', 'Client']);
    expect(s.get('Server')).toEqual(new Map([['user_bob', 'se"cret'], ['debug', 'true']]));
  });

  it.each([
    ['Server { m required user_a="x" };', /expected an option name or ;/],
    ['Server { m maybe; };', /invalid control flag 'maybe'/],
    ['Server { m required; }', /expected ';' after '}'/],
    ['Server { m required user_a="x;\n};', /unterminated quoted string/],
    ['Server { m required user_a=; };', /expected an option value/],
    ['{ };', /expected a section name/],
  ])('refuses %j', (text, why) => {
    expect(() => parseJaas(text)).toThrow(why);
  });

  it('a file without the Server section means no SASL (null), a malformed or missing one is an error', () => {
    for (const name of STARTS) expect(loadJaasUsers(file(name))).toBeNull();
    for (const name of REFUSED) {
      expect(() => loadJaasUsers(file(name))).toThrow(JaasConfigError);
      expect(() => loadJaasUsers(file(name))).toThrow(`No JAAS configuration section named 'Server' was found in '${file(name)}'.`);
    }
    fs.writeFileSync(file('ok'), 'Server { m required user_bob="secret" user_super="s2"; };');
    expect(loadJaasUsers(file('ok'))).toEqual(new Map([['bob', 'secret'], ['super', 's2']]));
  });
});

/** Starts our server with the JAAS file; 'serves' when a client can read /zookeeper, else the start error. */
async function ours(jaas: string): Promise<string> {
  const data = fs.mkdtempSync(path.join(dir, 'data-'));
  let srv: ZooKeeperServer;
  try {
    srv = await ZooKeeperServer.start({ clientPort: 0, clientPortAddress: '127.0.0.1', dataDir: data, jaasConfigFile: jaas });
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
  try {
    const zk = new ZooKeeper(srv.connectString, { sessionTimeout: 10000 });
    await zk.connected();
    const ok = (await zk.exists('/zookeeper')) !== null;
    await zk.close();
    return ok ? 'serves' : 'broken';
  } finally {
    await srv.close();
  }
}

describe('our server with such a file', () => {
  it.each(STARTS)('starts and serves with the %s file', async (name) => {
    expect(await ours(file(name))).toBe('serves');
  });
  it.each(REFUSED)('refuses to start with the %s file, in Apache’s words', async (name) => {
    expect(await ours(file(name))).toContain(`refused: No JAAS configuration section named 'Server' was found in '${file(name)}'.`);
  });
});

const describeApache = apacheAvailable() ? describe : describe.skip;
describeApache('Apache 3.8 with the same files (the reference)', () => {
  async function apache(jaas: string): Promise<string> {
    try {
      const c = await startApache({ systemProperties: { 'java.security.auth.login.config': jaas }, startTimeoutMs: 20_000 });
      try {
        const zk = new ZooKeeper(c.connectString, { sessionTimeout: 10000 });
        await zk.connected();
        const ok = (await zk.exists('/zookeeper')) !== null;
        await zk.close();
        return ok ? 'serves' : 'broken';
      } finally {
        await c.stop();
      }
    } catch (e) {
      // The harness reports the log tail of a server that exited during start-up.
      const m = /No JAAS configuration section named '[^']*' was found in '[^']*'\./.exec((e as Error).message);
      return `refused: ${m ? m[0] : (e as Error).message}`;
    }
  }

  it('agrees with ours on an empty file, a file without Server, and a malformed file', async () => {
    for (const name of ['empty', 'client-only', 'garbage']) {
      const a = await apache(file(name));
      const o = await ours(file(name));
      expect({ name, apache: a }).toEqual({ name, apache: o.startsWith('refused') ? o.split(' (')[0] : o });
    }
  });
});
