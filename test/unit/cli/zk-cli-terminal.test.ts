/**
 * The interactive shell in a real terminal (tmux): prompt and state, Tab
 * completion of znode paths, history/redo, printwatches, close/connect, the
 * CONNECTING prompt while no server answers, and "every server refused"
 * reported after one pass over the hosts.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ZooKeeperServer } from '../../../src/server/zookeeper-server';
import { zkCliMain } from '../../../src/cli/zk-cli';
import { freePort } from '../../harness';

jest.setTimeout(240_000);

const REPO = path.resolve(__dirname, '..', '..', '..');
const ZK_CLI = path.join(REPO, 'bin', 'zk-cli');

function tmuxAvailable(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One tmux server (own -L socket) with one session running the shell. */
class Terminal {
  private readonly socket = `zkcli-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly session = 'shell';

  start(args: string[]): void {
    const cmd = [process.execPath, ZK_CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // remain-on-exit keeps the pane (and what the shell printed) after it quits.
    this.tmux(['new-session', '-d', '-s', this.session, '-x', '200', '-y', '60', `${cmd}; echo "[exited $?]"; sleep 600`]);
  }

  tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Types text (literally), optionally followed by keys like Enter or Tab. */
  type(text: string, ...keys: string[]): void {
    if (text !== '') this.tmux(['send-keys', '-t', this.session, '-l', text]);
    for (const k of keys) this.tmux(['send-keys', '-t', this.session, k]);
  }

  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-t', this.session, '-S', '-500']);
  }

  /** Waits until the screen matches; returns it. */
  async waitFor(what: RegExp | string, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let s = '';
    while (Date.now() < deadline) {
      s = this.screen();
      if (typeof what === 'string' ? s.includes(what) : what.test(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what} on the terminal; it shows:\n${s}`);
  }

  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      // already gone
    }
  }
}

const describeTmux = tmuxAvailable() ? describe : describe.skip;

describeTmux('zk-cli in a terminal', () => {
  let dir: string;
  let srv: ZooKeeperServer;
  const terms: Terminal[] = [];
  const term = () => {
    const t = new Terminal();
    terms.push(t);
    return t;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkcli-tty-'));
    srv = await ZooKeeperServer.start({ clientPort: 0, clientPortAddress: '127.0.0.1', dataDir: path.join(dir, 'a') });
  });
  afterAll(async () => {
    for (const t of terms) t.kill();
    await srv?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prompts, completes znode paths with Tab, keeps history, redoes, closes and reconnects', async () => {
    const t = term();
    t.start(['-server', srv.connectString]);
    await t.waitFor(`Connecting to ${srv.connectString}`);
    await t.waitFor(`[zk: ${srv.connectString}(CONNECTED) 0]`);

    t.type('create /tab-alpha one', 'Enter');
    await t.waitFor('Created /tab-alpha');
    t.type('create /tab-beta two', 'Enter');
    await t.waitFor('Created /tab-beta');
    await t.waitFor('(CONNECTED) 2]');

    // A unique prefix completes in place.
    t.type('get /tab-a', 'Tab');
    await t.waitFor(/\(CONNECTED\) 2\] get \/tab-alpha\s*$/m);
    t.type('', 'Enter');
    await t.waitFor(/^one$/m);

    // An ambiguous prefix lists the candidates on a second Tab.
    t.type('ls /tab', 'Tab', 'Tab');
    await t.waitFor(/\/tab-alpha\s+\/tab-beta/);
    t.type('', 'C-u');
    // Command names complete too.
    t.type('getAllCh', 'Tab');
    await t.waitFor(/\] getAllChildrenNumber\s*$/m);
    t.type(' /', 'Enter');
    await t.waitFor(/^\d+$/m);

    t.type('history', 'Enter');
    await t.waitFor('0 - create /tab-alpha one');
    await t.waitFor(/4 - history/);
    t.type('redo 1', 'Enter');
    await t.waitFor('Node already exists: /tab-beta');

    t.type('printwatches', 'Enter');
    await t.waitFor('printwatches is on');

    t.type('close', 'Enter');
    await t.waitFor('(CLOSED) 8]');
    t.type(`connect ${srv.connectString}`, 'Enter');
    await t.waitFor('(CONNECTED) 9]');
    t.type('get /tab-beta', 'Enter');
    await t.waitFor(/^two$/m);
    t.type('quit', 'Enter');
    await t.waitFor('[exited 0]');
  });

  it('shows CONNECTING while no server answers, says every server refused after one pass, and connects once one starts', async () => {
    const port = await freePort();
    const t = term();
    t.start(['-server', `127.0.0.1:${port}`]);
    await t.waitFor(`Connecting to 127.0.0.1:${port}`);
    await t.waitFor(`[zk: 127.0.0.1:${port}(CONNECTING) 0]`);
    const s = await t.waitFor('every server failed');
    expect(s).toContain(`Unable to connect to 127.0.0.1:${port}: every server failed (127.0.0.1:${port} Connection refused)`);
    // Reported from the first pass, before the client's own connect timeout (15 s) message.
    expect(s).not.toMatch(/within 15000 ms/);

    // The shell keeps trying, as zkCli does: a server that comes up later gets the session.
    const late = await ZooKeeperServer.start({ clientPort: port, clientPortAddress: '127.0.0.1', dataDir: path.join(dir, 'late') });
    try {
      await t.waitFor(`(CONNECTED) 0]`, 90_000);
      t.type('ls /', 'Enter');
      await t.waitFor('[zookeeper]');
      t.type('quit', 'Enter');
      await t.waitFor('[exited 0]');
    } finally {
      await late.close();
    }
  });
});

describe('zk-cli one-shot against servers that all refuse', () => {
  it('exits 1 after one pass over the hosts, naming each', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const out: string[] = [];
    const err: string[] = [];
    const code = await zkCliMain(['-server', `127.0.0.1:${a},127.0.0.1:${b}`, 'ls', '/'], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toContain(`Connecting to 127.0.0.1:${a},127.0.0.1:${b}`);
    expect(err.join('\n')).toMatch(
      new RegExp(`every server failed \\((127\\.0\\.0\\.1:(${a}|${b}) Connection refused(, )?){2}\\)`),
    );
  });
});
