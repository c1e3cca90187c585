/**
 * Bounded polling. Why its own file: every wait in the testing kit and in
 * test/harness (a server to serve, a leader to be elected) must end with an
 * error that says what it waited for and what it last saw, never hang a
 * test until the runner's own timeout kills it without a word.
 */

/**
 * Thrown by a waitFor probe to give up at once (e.g. the server it waits
 * for has exited): waitFor rethrows it instead of polling on.
 */
export class StopWaiting extends Error {}

/**
 * Polls `probe` every `intervalMs` until it returns a truthy value (which is
 * returned) or `timeoutMs` passes; then throws "timed out after N ms waiting
 * for <what>", with the probe's last error, and with `context()` appended
 * (e.g. a server's log tail). A probe that throws StopWaiting ends the wait
 * at once with that error (and the context).
 * Example: `await waitFor('the node', () => zk.exists('/x'), 5000)`
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false | null>,
  timeoutMs: number,
  intervalMs = 100,
  context?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      if (err instanceof StopWaiting) throw new Error(`${what}: ${err.message}${context ? `\n${context()}` : ''}`);
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? `: last error ${lastErr.message}` : '';
      const more = context ? `\n${context()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${more}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
