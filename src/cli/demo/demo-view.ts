/**
 * The demo's terminal view. On a TTY the whole screen is redrawn in place
 * (cursor home, clear to the end) a few times a second; otherwise (a pipe,
 * a CI log, a test) only the happenings are printed, one line each, with a
 * status line every few seconds, so the output stays readable as a log.
 */
import type { DemoAppView } from './demo-app';

export interface ServerStatus {
  id: number;
  /** 'leader' | 'follower' | 'observer' | 'down' | 'looking' ... */
  mode: string;
  /** The last zxid srvr reported, as hex. */
  zxid?: string;
  clientPort: number;
}

export interface ScreenState {
  title: string;
  elapsedMs: number;
  servers: ServerStatus[];
  app?: DemoAppView;
  /** Server-side leader changes seen so far. */
  serverElections: number;
  /** The newest happenings, oldest first, with their time offsets. */
  events: string[];
  footer: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The screen as lines (the TTY view). */
export function renderScreen(s: ScreenState): string[] {
  const lines = [`${s.title}    t = ${seconds(s.elapsedMs)}`, ''];
  lines.push('  server  mode       zxid          client port');
  for (const sv of s.servers) lines.push(`  ${String(sv.id).padEnd(6)}  ${sv.mode.padEnd(9)}  ${(sv.zxid ?? '-').padEnd(12)}  127.0.0.1:${sv.clientPort}`);
  lines.push('');
  const a = s.app;
  if (a) {
    lines.push(`  app leader: ${a.leader ?? '(none)'}    lock holder: ${a.lockHolder ?? '(free)'}    config version: ${a.configVersion < 0 ? '-' : a.configVersion}`);
    lines.push(`  lock hand-offs: ${a.lockHandoffs}    app elections: ${a.appElections}    server elections: ${s.serverElections}`);
    const unknown = a.counter.unknown > 0 ? ` (+${a.counter.unknown} unknown)` : '';
    lines.push(`  counter: ${a.counter.acked}${unknown} increments acknowledged    checks: ${a.violations.length === 0 ? 'all hold' : `${a.violations.length} VIOLATION(S)`}`);
    lines.push('');
    lines.push('  worker     session        server            leads  holds lock  config seen  turns');
    for (const w of a.workers) {
      lines.push(
        `  ${w.name.padEnd(9)}  ${w.connection.padEnd(13)}  ${(w.server ?? '-').padEnd(16)}  ${(w.leader ? 'yes' : '').padEnd(5)}  ${(w.holdsLock ? 'yes' : '').padEnd(10)}  ${String(w.configVersion < 0 ? '-' : w.configVersion).padEnd(11)}  ${w.acquisitions}`,
      );
    }
    lines.push('');
  }
  lines.push('  what happened:');
  for (const e of s.events.slice(-10)) lines.push(`    ${e}`);
  lines.push('', s.footer);
  return lines;
}

/** One status line (the non-TTY view). */
export function statusLine(s: ScreenState): string {
  const servers = s.servers.map((sv) => `${sv.id}:${sv.mode}`).join(' ');
  const a = s.app;
  const app = a
    ? ` | app leader ${a.leader ?? '-'}, lock ${a.lockHolder ?? 'free'}, config v${a.configVersion}, hand-offs ${a.lockHandoffs}, counter ${a.counter.acked}, checks ${a.violations.length === 0 ? 'ok' : 'VIOLATED'}`
    : '';
  return `[${seconds(s.elapsedMs)}] servers ${servers}${app}`;
}

/** Draws to a stream: in place on a TTY, as log lines elsewhere. */
export class ScreenWriter {
  private printedEvents = 0;
  private lastStatusAt = -Infinity;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly statusEveryMs = 3000,
  ) {}

  get interactive(): boolean {
    return this.out.isTTY === true;
  }

  draw(s: ScreenState, allEvents: readonly string[]): void {
    if (this.interactive) {
      this.out.write('\x1b[H\x1b[J' + renderScreen(s).join('\n') + '\n');
      return;
    }
    for (const e of allEvents.slice(this.printedEvents)) this.out.write(`${e}\n`);
    this.printedEvents = allEvents.length;
    if (s.elapsedMs - this.lastStatusAt >= this.statusEveryMs) {
      this.lastStatusAt = s.elapsedMs;
      this.out.write(statusLine(s) + '\n');
    }
  }
}
