import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { banner, portIsFree, startDevServer } from '../../../src/cli/start';
import { sendFourLetterWord } from '../../../src/cli/four-letter-client';

describe('npm start (startDevServer)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkstart-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('falls back to a free port when the wanted one is taken, and says how to connect', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    expect(await portIsFree(taken)).toBe(false);
    const logs: string[] = [];
    const srv = await startDevServer({ env: { ZK_PORT: String(taken), ZK_DATA_DIR: dir }, log: (l) => logs.push(l), signals: false });
    try {
      expect(srv.clientPort).not.toBe(taken);
      expect(srv.connectString).toBe(`127.0.0.1:${srv.clientPort}`);
      const text = logs.join('\n');
      expect(text).toContain(`connect string: ${srv.connectString}`);
      expect(text).toContain(`port ${taken} was taken`);
      expect(text).toContain(`bin/zk-cli -server ${srv.connectString}`);
      // Every word is enabled on the development server.
      expect(await sendFourLetterWord('127.0.0.1', srv.clientPort, 'ruok')).toBe('imok');
      expect(await sendFourLetterWord('127.0.0.1', srv.clientPort, 'stat')).toContain('Mode: standalone');
      expect(fs.existsSync(path.join(dir, 'version-2'))).toBe(true);
    } finally {
      await srv.close();
      await new Promise((r) => blocker.close(r));
    }
  });

  it('uses the wanted port when it is free', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const srv = await startDevServer({ env: { ZK_PORT: String(port), ZK_DATA_DIR: dir }, log: () => undefined, signals: false });
    try {
      expect(srv.clientPort).toBe(port);
    } finally {
      await srv.close();
    }
  });

  it('refuses a ZK_PORT that is not a port', async () => {
    await expect(startDevServer({ env: { ZK_PORT: 'abc', ZK_DATA_DIR: dir }, log: () => undefined, signals: false })).rejects.toThrow(/ZK_PORT/);
  });

  it('the banner has a 3-line client snippet', () => {
    const b = banner('127.0.0.1:2181', '/d', 2181, 2181);
    expect(b).not.toContain('was taken');
    expect(b.split('\n').filter((l) => /zk\.|require\('zookeeper-ts'\)/.test(l))).toHaveLength(3);
  });
});
