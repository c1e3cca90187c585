/**
 * Waiting for what a client handle sees: its connection states
 * (Disconnected, SyncConnected, Expired, ...).
 *
 * Why a log and not only "wait for state X": after a fault a client may go
 * Disconnected -> SyncConnected faster than a test gets to ask, so waiting
 * for Disconnected after the fact can hang. A StateLog records every state
 * from the moment it is made; `waitFor(state, timeout, from)` accepts one
 * recorded at or after `from` (a `mark()` taken before the fault), so
 * "Disconnected, then SyncConnected" is asserted without races.
 */
import { KeeperState, type ZooKeeper } from '../index';

/** A state by value (`KeeperState.Expired`) or by name (`'Expired'`). */
export type StateArg = KeeperState | Exclude<keyof typeof KeeperState, number>;

function stateValue(s: StateArg): KeeperState {
  if (typeof s === 'number') return s;
  const v = (KeeperState as unknown as Record<string, number>)[s];
  if (typeof v !== 'number') throw new TypeError(`unknown KeeperState ${String(s)}`);
  return v as KeeperState;
}

const nameOf = (s: KeeperState) => KeeperState[s] ?? String(s);

/**
 * Records every state a handle reports, from construction on.
 * Example:
 *   const states = new StateLog(zk);
 *   const from = states.mark();
 *   await server.kill();
 *   await states.waitFor('Disconnected', 10_000, from);
 */
export class StateLog {
  /** Every state reported since this log was made, in order. */
  readonly states: KeeperState[] = [];
  private waiters: Array<{ state: KeeperState; from: number; resolve: () => void }> = [];
  private readonly listener = (s: KeeperState) => {
    this.states.push(s);
    this.waiters = this.waiters.filter((w) => {
      if (this.states.indexOf(w.state, w.from) < 0) return true;
      w.resolve();
      return false;
    });
  };

  constructor(private readonly zk: ZooKeeper) {
    zk.on('state', this.listener);
  }

  /** Position to pass to waitFor to only accept states recorded from now on. */
  mark(): number {
    return this.states.length;
  }

  /** The recorded states by name, e.g. ['Disconnected', 'SyncConnected']. */
  names(from = 0): string[] {
    return this.states.slice(from).map(nameOf);
  }

  /** Waits until `state` is recorded at or after position `from`; rejects after `timeoutMs` naming what was seen. */
  waitFor(state: StateArg, timeoutMs = 10_000, from = 0): Promise<void> {
    const want = stateValue(state);
    if (this.states.indexOf(want, from) >= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        state: want,
        from,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`state ${nameOf(want)} not reached within ${timeoutMs} ms; saw [${this.names(from).join(', ')}] (now ${nameOf(this.zk.state)})`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Stops recording. */
  stop(): void {
    this.zk.off('state', this.listener);
  }
}

/**
 * Resolves once `zk` is in `state` (at once if it already is); rejects after
 * `timeoutMs` with the states it went through meanwhile, plus `context()`
 * (e.g. the servers' log tails).
 * Example: `await waitForState(zk, 'SyncConnected', 10_000)`
 */
export async function waitForState(zk: ZooKeeper, state: StateArg, timeoutMs = 10_000, context?: () => string): Promise<void> {
  const want = stateValue(state);
  if (zk.state === want) return;
  const log = new StateLog(zk);
  try {
    // The state may have changed between the check and the listener.
    if (zk.state === want) return;
    await log.waitFor(want, timeoutMs);
  } catch (e) {
    const session = `session 0x${zk.sessionId.toString(16)}`;
    throw new Error(`waitForState (${session}): ${(e as Error).message}${context ? `\n${context()}` : ''}`);
  } finally {
    log.stop();
  }
}
