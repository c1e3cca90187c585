/**
 * zk-server on the console: --help prints usage, config warnings (unknown
 * keys, settings this server does not implement) reach stderr, and zoo.cfg's
 * reconfigEnabled / zookeeper.enforceQuota reach the request processor.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HELP, USAGE, zkServerMain, ZkServerIo } from '../../../src/cli/zk-server';
import type { RunningServer, ServerStarter } from '../../../src/cli/server-launch';
import { ErrorCode, OpCode } from '../../../src/proto/constants';
import { ReconfigRequest } from '../../../src/proto/generated/proto';
import { PrepRequestProcessor, setPrepProcessSettings } from '../../../src/server/request/prep-request-processor';
import { DataTree } from '../../../src/server/tree/data-tree';
import { SessionTracker } from '../../../src/server/session/session-tracker';

jest.setTimeout(60_000);

const REPO = path.resolve(__dirname, '..', '..', '..');

describe('zk-server --help and console warnings', () => {
  let dir: string;
  let out: string;
  let err: string;
  let io: ZkServerIo;
  let signalListenersBefore: Function[];
  /** Calls the SIGTERM handler start-foreground installed (never signals the test process itself), then removes it. */
  const stopForeground = () => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const added = process.listeners(sig).filter((l) => !signalListenersBefore.includes(l));
      for (const l of added) {
        if (sig === 'SIGTERM') (l as (s: NodeJS.Signals) => void)('SIGTERM');
        process.removeListener(sig, l);
      }
    }
  };
  beforeEach(() => {
    signalListenersBefore = [...process.listeners('SIGTERM'), ...process.listeners('SIGINT')];
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zksrv-console-'));
    out = '';
    err = '';
    io = { env: {}, cwd: dir, out: (t) => (out += t), err: (t) => (err += t) };
  });
  afterEach(() => {
    setPrepProcessSettings({ reconfigEnabled: false, enforceQuota: false });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([['--help'], ['-h'], ['help']])('%s prints the usage and exits 0', async (flag) => {
    expect(await zkServerMain([flag], io)).toBe(0);
    expect(out).toBe(`${HELP}\n`);
    expect(out.startsWith(USAGE)).toBe(true);
    expect(out).toMatch(/start-foreground/);
    expect(err).toBe('');
  });

  it('the bin prints --help too (a real process)', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [path.join(REPO, 'bin', 'zk-server'), '--help'], { timeout: 50_000 }, (e, so, se) =>
        e ? reject(new Error(`${e.message}\n${se}`)) : resolve(so),
      ),
    );
    expect(stdout).toContain(USAGE);
  });

  it('start-foreground prints unknown and unimplemented settings on stderr, once, and hands the settings to prep', async () => {
    fs.writeFileSync(
      path.join(dir, 'zoo.cfg'),
      [
        `dataDir=${path.join(dir, 'data')}`,
        'clientPort=2181',
        'frobnicate=1',
        'skipACL=yes',
        'maxCnxns=10',
        'admin.enableServer=true',
        'reconfigEnabled=true',
        'enforceQuota=true',
        '',
      ].join('\n'),
    );
    const logged: string[] = [];
    const fake: RunningServer = { connectString: '127.0.0.1:2181', clientPort: 2181, close: async () => undefined };
    let started = false;
    let given: { reconfigEnabled?: boolean; enforceQuota?: boolean } = {};
    const starter: ServerStarter = async (o) => {
      started = true;
      given = { reconfigEnabled: o.reconfigEnabled, enforceQuota: o.enforceQuota };
      logged.push(`logger given: ${typeof o.logger}`);
      return fake;
    };
    io.starter = starter;
    const run = zkServerMain(['-Dzookeeper.emulate353TTLNodes=true', '-Dzookeeper.serverCnxnFactory=x.Y', 'start-foreground', 'zoo.cfg'], io);
    const deadline = Date.now() + 20_000;
    while (!out.includes('serving') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(started).toBe(true);
    const warnings = err.split('\n').filter((l) => l.startsWith('WARN config: '));
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/unknown key frobnicate/),
        expect.stringMatching(/zookeeper\.skipACL=yes is not implemented/),
        expect.stringMatching(/zookeeper\.maxCnxns=10 is not implemented/),
        expect.stringMatching(/zookeeper\.admin\.enableServer=true is not implemented/),
        expect.stringMatching(/zookeeper\.emulate353TTLNodes=true is not implemented/),
        expect.stringMatching(/zookeeper\.serverCnxnFactory=x\.Y is not implemented/),
      ]),
    );
    expect(warnings).toHaveLength(6);
    // Not repeated on stdout by the foreground runner.
    expect(out).not.toMatch(/WARN config/);

    // reconfigEnabled=true and enforceQuota=true reach the server's options...
    expect(given).toEqual({ reconfigEnabled: true, enforceQuota: true });
    // ...and a request processor given reconfigEnabled answers Unimplemented, as a standalone Apache does.
    const tree = new DataTree();
    const sessions = new SessionTracker(2000, Date.now);
    sessions.addSession(1n, 30000);
    const prep = new PrepRequestProcessor(tree, sessions, { extendedTypesEnabled: false, reconfigEnabled: given.reconfigEnabled });
    const r = prep.prepare(
      { sessionId: 1n, cxid: 1, type: OpCode.reconfig, record: new ReconfigRequest({ joiningServers: 'server.5=127.0.0.1:1:2', curConfigId: -1n }), authInfo: [] },
      1n,
      0n,
    );
    expect(r.error?.code).toBe(ErrorCode.UNIMPLEMENTED);
    stopForeground();
    expect(await run).toBe(0);
  });

  it('values that ask for what the server does anyway are quiet', async () => {
    fs.writeFileSync(
      path.join(dir, 'zoo.cfg'),
      [`dataDir=${path.join(dir, 'data')}`, 'clientPort=2181', 'skipACL=no', 'maxCnxns=0', 'admin.enableServer=false', ''].join('\n'),
    );
    io.starter = async () => ({ connectString: 'x', clientPort: 1, close: async () => undefined });
    const run = zkServerMain(['-Dzookeeper.emulate353TTLNodes=false', 'start-foreground', 'zoo.cfg'], io);
    const deadline = Date.now() + 20_000;
    while (!out.includes('serving') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(err).not.toMatch(/WARN/);
    stopForeground();
    expect(await run).toBe(0);
  });
});
