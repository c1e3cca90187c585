/**
 * `npm start`'s main job: the local ensemble plus the demo on it, and a
 * clean end. The demo runs until Ctrl-C / SIGTERM, or on its own with
 * `--duration <seconds>` or `--once` (the failover scenario, then stop);
 * either way the app's sessions close, every member gets SIGTERM, and the
 * process exits 0 when every check held, 1 when one did not.
 *
 *   npm start                      # ensemble + live demo until Ctrl-C
 *   npm start -- --once            # the scenario once, then exit (scripts, CI)
 *   npm start -- --duration 30     # 30 s, then exit
 *   npm start -- --no-demo         # just the ensemble (as before the demo)
 */
import type { DevEnsemble } from '../dev-ensemble';
import { REPEATED_SIGNAL_GRACE_MS, type RunningServer } from '../server-launch';
import { Demo, type DemoResult } from './demo-scenario';

export interface DemoFlags {
  enabled: boolean;
  once: boolean;
  durationMs?: number;
}

/** Reads --no-demo, --once and --duration <s> (also ZK_DEMO=0); throws on anything else. */
export function parseDemoFlags(args: readonly string[], env: NodeJS.ProcessEnv): DemoFlags {
  const flags: DemoFlags = { enabled: !/^(0|false|no)$/i.test(env.ZK_DEMO ?? ''), once: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--no-demo') flags.enabled = false;
    else if (a === '--once') flags.once = true;
    else if (a === '--duration' || a.startsWith('--duration=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      const s = Number(v);
      if (!Number.isFinite(s) || s <= 0) throw new Error(`--duration takes a number of seconds, not ${v ?? '(nothing)'}`);
      flags.durationMs = s * 1000;
    } else throw new Error(`unknown argument ${a} (npm start takes --no-demo, --once, --duration <seconds> and -Dkey=value)`);
  }
  return flags;
}

export interface RunDemoOptions {
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  exit?: (code: number) => void;
  signals?: boolean;
  /** Scenario timing (tests shorten it). */
  killAfterMs?: number;
  downForMs?: number;
}

/**
 * Starts the demo on `ens` in the background; returns a handle whose close()
 * stops the demo and then the members. When the demo ends on its own the
 * same happens and `exit` is called with 0 (all checks held) or 1.
 */
export function runDemo(ens: DevEnsemble, flags: DemoFlags, opts: RunDemoOptions = {}): RunningServer & { result: Promise<DemoResult> } {
  const out = opts.out ?? process.stdout;
  const exit = opts.exit ?? ((c: number) => process.exit(c));
  const demo = new Demo({
    cluster: ens,
    out,
    title: `zookeeper-ts demo: ${ens.members.length} servers on 127.0.0.1 (our server, one process each)`,
    footer: `  connect your own client: ${ens.connectString}    Ctrl-C stops the demo and every server`,
    once: flags.once,
    durationMs: flags.durationMs,
    killAfterMs: opts.killAfterMs,
    downForMs: opts.downForMs,
  });
  let closing: Promise<void> | undefined;
  const closeAll = (): Promise<void> => {
    closing ??= (async () => {
      demo.stop();
      await result.catch(() => undefined);
      await ens.close();
    })();
    return closing;
  };
  const result = demo.run();
  void result.then(
    async (r) => {
      await closeAll();
      out.write(r.violations.length === 0 ? 'every check held; all servers stopped\n' : `checks violated:\n  ${r.violations.join('\n  ')}\n`);
      exit(r.violations.length === 0 ? 0 : 1);
    },
    async (e: unknown) => {
      out.write(`the demo failed: ${(e as Error)?.message ?? e}\n`);
      await closeAll().catch(() => undefined);
      exit(1);
    },
  );
  if (opts.signals !== false) {
    let signalledAt: number | null = null;
    const onSignal = (sig: NodeJS.Signals) => {
      if (signalledAt !== null) {
        // Ctrl-C under npm arrives twice (the terminal's group signal, and npm forwarding it).
        if (Date.now() - signalledAt < REPEATED_SIGNAL_GRACE_MS) return;
        out.write(`${sig} again while stopping; exiting now\n`);
        exit(1);
        return;
      }
      signalledAt = Date.now();
      out.write(`${sig} received; stopping the demo and the servers\n`);
      demo.stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return { connectString: ens.connectString, clientPort: ens.clientPort, close: closeAll, result };
}
