/**
 * Which server to try next. Like the Java client's StaticHostProvider: the
 * list is shuffled once (so clients spread over the ensemble), then tried
 * round-robin; after a whole pass without a successful connection the caller
 * backs off before the next pass, so a dead ensemble is not hammered.
 */
import type { HostAddress } from './connect-string';

export interface HostProviderOptions {
  /** Random source for the shuffle and the back-off jitter (tests inject one). */
  random?: () => number;
  /** Shuffle the list once at start (default true). */
  shuffle?: boolean;
  /** First back-off after a failed pass, in ms (default 100). */
  backoffBase?: number;
  /** Upper bound of the back-off, in ms (default 1000, the Java client's spin delay). */
  backoffMax?: number;
}

export class HostProvider {
  readonly hosts: readonly HostAddress[];
  private index = -1;
  /** Attempts since the last successful connection. */
  private failures = 0;
  private readonly random: () => number;
  private readonly backoffBase: number;
  private readonly backoffMax: number;

  constructor(hosts: readonly HostAddress[], options: HostProviderOptions = {}) {
    if (hosts.length === 0) throw new Error('HostProvider needs at least one host');
    this.random = options.random ?? Math.random;
    this.backoffBase = options.backoffBase ?? 100;
    this.backoffMax = options.backoffMax ?? 1000;
    const list = hosts.slice();
    if (options.shuffle !== false) {
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [list[i], list[j]] = [list[j], list[i]];
      }
    }
    this.hosts = list;
  }

  get size(): number {
    return this.hosts.length;
  }

  /**
   * The next host and how long to wait before dialing it: 0 inside a pass,
   * a growing, jittered delay at the start of a pass that follows a pass in
   * which every host failed.
   */
  next(): { host: HostAddress; delay: number } {
    this.index = (this.index + 1) % this.hosts.length;
    let delay = 0;
    if (this.failures > 0 && this.failures % this.hosts.length === 0) {
      const passes = this.failures / this.hosts.length;
      const base = Math.min(this.backoffMax, this.backoffBase * 2 ** (passes - 1));
      delay = Math.round(base / 2 + (base / 2) * this.random());
    }
    return { host: this.hosts[this.index], delay };
  }

  /** The attempt on the host returned by the last next() failed. */
  onFailure(): void {
    this.failures++;
  }

  /** The attempt succeeded: the next failure starts a fresh pass count. */
  onConnected(): void {
    this.failures = 0;
  }

  /** Whole passes that failed since the last successful connection. */
  get failedPasses(): number {
    return Math.floor(this.failures / this.hosts.length);
  }
}
