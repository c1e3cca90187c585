/**
 * Interop across a leader kill -9: kazoo (Debian python3-kazoo, run with
 * /usr/bin/python3) connected with all three hosts of a 3-member ensemble,
 * the leader first, writes nodes; the leader is SIGKILLed; kazoo fails over
 * to another member with the same session and writes more; then Apache's
 * Java CLI (ZooKeeperMain), connected to a surviving member kazoo did not
 * end on, reads every node with its data. Apache's ensemble runs the same
 * as the control (a failure on both is a bug in the test, not our server).
 *
 * The script (kazoo/ensemble_failover.py) prints observations as JSON; the
 * verdicts are here.
 */
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as path from 'path';
import { apacheAvailable, Cluster, ourServerAvailable, ServerHandle, startApache, startOurs } from '../harness';
import { javaCliAvailable, runCli } from './java-cli-runner';
import { kazooAvailable, SYSTEM_PYTHON } from './kazoo-runner';

if (!kazooAvailable()) throw new Error('/usr/bin/python3 cannot import kazoo: install the Debian package python3-kazoo');
if (!javaCliAvailable()) throw new Error('java or /usr/share/java/zookeeper.jar missing: run bash test/setup/ensure-deps.sh');

const kinds = (['ours', 'apache'] as const).filter((k) => (k === 'ours' ? ourServerAvailable() : apacheAvailable()));
const SCRIPT = path.join(__dirname, 'kazoo', 'ensemble_failover.py');
const N_BEFORE = 25;
const N_AFTER = 25;

interface KazooRun {
  ready: Record<string, any>;
  final: Record<string, any>;
  stderr: string;
}

/**
 * Runs the failover script; `onReady` (the kill) runs once the first nodes
 * exist, then the script is told to go on. Rejects with the script's output
 * when it fails, reports an exception, or runs past `timeoutMs`.
 */
function runFailover(hosts: string, base: string, onReady: (ready: Record<string, any>) => Promise<void>, timeoutMs = 180_000): Promise<KazooRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, [SCRIPT, hosts, base, String(N_BEFORE), String(N_AFTER)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    let stdout = '';
    let stderr = '';
    let ready: Record<string, any> | undefined;
    let failed: Error | undefined;
    const timer = setTimeout(() => {
      failed = new Error(`kazoo script did not finish within ${timeoutMs} ms`);
      child.kill('SIGKILL');
    }, timeoutMs);
    const context = () => `--- stdout ---\n${stdout}\n--- stderr (tail) ---\n${stderr.split('\n').slice(-40).join('\n')}`;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      const before = stdout;
      stdout += d.toString();
      if (ready || !stdout.includes('\n')) return;
      const first = stdout.split('\n')[0];
      if (before.includes('\n')) return;
      try {
        ready = JSON.parse(first) as Record<string, any>;
      } catch {
        return;
      }
      if (ready.phase !== 'ready') return;
      onReady(ready).then(
        () => child.stdin.end('go\n'),
        (e: Error) => {
          failed = e;
          child.kill('SIGKILL');
        },
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failed) return reject(new Error(`${failed.message}\n${context()}`));
      const lines = stdout.trim().split('\n');
      let final: Record<string, any> | undefined;
      try {
        final = JSON.parse(lines[lines.length - 1]) as Record<string, any>;
      } catch {
        /* reported below */
      }
      if (!ready || !final || final.phase !== 'final') return reject(new Error(`no ready/final JSON (exit ${code})\n${context()}`));
      if (final.exception || final.watchdog) return reject(new Error(`scenario failed: ${final.exception ?? final.watchdog}\n${final.traceback ?? ''}\n${context()}`));
      if (code !== 0) return reject(new Error(`exit ${code}\n${context()}`));
      resolve({ ready, final, stderr });
    });
  });
}

describe.each(kinds)('kazoo + Java CLI across a leader kill -9 (%s ensemble)', (kind) => {
  let cluster: Cluster;

  beforeAll(async () => {
    // A session that outlives an election on a busy machine (kazoo asks for 30 s).
    const opts = { servers: 3 as const, tickTime: 500, maxSessionTimeout: 30_000 };
    cluster = kind === 'ours' ? await startOurs(opts) : await startApache(opts);
  }, 150_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  test(`kazoo keeps its session through the leader's death; all ${N_BEFORE + N_AFTER} writes readable with zkCli from another member`, async () => {
    const base = `/kzfail-${randomBytes(3).toString('hex')}`;
    const leader = (await cluster.leader())!;
    expect(leader).toBeDefined();
    // The leader first, in order: kazoo is on the server that dies.
    const hosts = [leader, ...cluster.servers.filter((s) => s !== leader)].map((s) => s.hostPort).join(',');
    let killedAt = 0;
    const run = await runFailover(hosts, base, async (ready) => {
      expect(ready.port).toBe(leader.clientPort);
      await leader.kill();
      killedAt = Date.now();
    });
    const r = run.final;
    expect(killedAt).toBeGreaterThan(0);
    expect(r.port_before).toBe(leader.clientPort);
    expect(r.negotiated_timeout_ms).toBe(30_000);
    // Same session, now on a survivor; never LOST.
    expect(r.session_after).toBe(r.session_before);
    expect(r.port_after).not.toBe(leader.clientPort);
    expect(r.states).toEqual(expect.arrayContaining(['SUSPENDED', 'CONNECTED']));
    expect(r.states).not.toContain('LOST');
    expect(r.children).toBe(N_BEFORE + N_AFTER);
    expect(r.values_ok).toBe(true);

    // zkCli on a survivor kazoo did not end on.
    const reader: ServerHandle | undefined = cluster.servers.find((s) => s !== leader && s.clientPort !== r.port_after);
    expect(reader).toBeDefined();
    const names = Array.from({ length: N_BEFORE + N_AFTER }, (_, i) => `n${i}`);
    const cli = await runCli(reader!.hostPort, [`sync ${base}`, `get ${base}`, `ls ${base}`, ...names.map((n) => `get ${base}/${n}`)], 90_000);
    const out = (i: number) => cli.steps[i].output.split('\n').filter((l) => l.trim() !== 'Sync is OK').join('\n').trim();
    expect({ sync: cli.transcript.includes('Sync is OK') }).toEqual({ sync: true });
    expect(out(1)).toBe('base');
    const listed = /^\[(.*)\]$/m.exec(out(2));
    expect(listed).not.toBeNull();
    expect(listed![1].split(', ').sort()).toEqual([...names].sort());
    const values = names.map((_, i) => out(3 + i));
    expect(values).toEqual(names.map((_, i) => `v${i}`));
    // (exitCode is the last command's: the runner's closing marker `get` of a missing node, so 1; not a verdict.)

    // The old leader comes back and has it all too.
    await leader.start();
    await cluster.waitHealthy(60_000);
    const back = await runCli(leader.hostPort, [`sync ${base}`, `ls ${base}`, `get ${base}/n${N_BEFORE + N_AFTER - 1}`], 90_000);
    const backOut = (i: number) => back.steps[i].output.split('\n').filter((l) => l.trim() !== 'Sync is OK').join('\n').trim();
    expect(/^\[(.*)\]$/m.exec(backOut(1))?.[1].split(', ').length).toBe(N_BEFORE + N_AFTER);
    expect(backOut(2)).toBe(`v${N_BEFORE + N_AFTER - 1}`);
    process.stdout.write(
      `[${kind}] kazoo failover: session ${r.session_before} kept, port ${r.port_before} (leader ${leader.id}, killed) -> ${r.port_after}, ` +
        `${N_AFTER} writes after the kill in ${r.after_writes_s} s (${r.found_after_retry.length} found done on retry), states ${r.states.join('>')}; ` +
        `zkCli on ${reader!.hostPort} read all ${names.length}; restarted old leader has them too\n`,
    );
  }, 300_000);
});
