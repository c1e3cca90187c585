/**
 * Runs one kazoo scenario script (test/interop/kazoo/*.py) with the Debian
 * python (/usr/bin/python3, which has python3-kazoo; the pyenv python on
 * PATH does not) and returns the JSON object it prints last.
 */
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const SYSTEM_PYTHON = '/usr/bin/python3';
const SCRIPTS = path.join(__dirname, 'kazoo');

/** True when /usr/bin/python3 can import kazoo. */
export function kazooAvailable(): boolean {
  if (!fs.existsSync(SYSTEM_PYTHON)) return false;
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import kazoo'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `<script>.py <hosts> <basePath>`; resolves with its JSON result.
 * Rejects (with stderr attached) when it exits non-zero, prints no JSON,
 * or reports an exception from inside the scenario.
 */
export function runKazoo(script: string, hosts: string, basePath: string, timeoutMs = 90_000): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    execFile(
      SYSTEM_PYTHON,
      [path.join(SCRIPTS, `${script}.py`), hosts, basePath],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? '';
        let result: Record<string, any> | undefined;
        try {
          result = JSON.parse(last) as Record<string, any>;
        } catch {
          /* reported below */
        }
        const context = `kazoo ${script}.py against ${hosts}\n--- stdout ---\n${stdout}\n--- stderr (tail) ---\n${stderr.split('\n').slice(-40).join('\n')}`;
        if (!result) return reject(new Error(`no JSON result (${err ? err.message : 'exit 0'})\n${context}`));
        if (result.exception || result.watchdog) return reject(new Error(`scenario failed: ${result.exception ?? result.watchdog}\n${result.traceback ?? ''}\n${context}`));
        if (err) return reject(new Error(`exit: ${err.message}\n${context}`));
        resolve(result);
      },
    );
  });
}
