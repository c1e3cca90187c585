/** What the report says about where it ran: numbers from a shared 2-core box need that context. */
import { spawnSync } from 'child_process';
import * as os from 'os';

function javaVersion(): string {
  // `java -version` writes to stderr.
  const r = spawnSync('/usr/bin/java', ['-version'], { encoding: 'utf8' });
  return (r.stderr || r.stdout || 'java: unknown').split('\n')[0];
}

export function machineSummary(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}`,
    `node ${process.version}; ${javaVersion()}`,
    `load average at start (1/5/15 min): ${load}`,
  ].join('\n');
}

export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}
