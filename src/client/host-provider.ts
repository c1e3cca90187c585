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

function sameHost(a: HostAddress, b: HostAddress): boolean {
  return a.host === b.host && a.port === b.port;
}

export class HostProvider {
  private list: HostAddress[];
  private index = -1;
  /**
   * After updateServerList asked the client to move: the next hosts are
   * drawn from the servers the new list added (probability pNew) or kept
   * (pOld), each tried once, before round-robin resumes (StaticHostProvider's
   * reconfigMode).
   */
  private reconfigMode = false;
  private oldServers: HostAddress[] = [];
  private newServers: HostAddress[] = [];
  private indexOld = -1;
  private indexNew = -1;
  private pOld = 0;
  private pNew = 1;
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
    this.shuffleOn = options.shuffle !== false;
    this.list = this.shuffled(hosts);
  }

  private readonly shuffleOn: boolean;

  private shuffled(hosts: readonly HostAddress[]): HostAddress[] {
    const list = hosts.slice();
    if (this.shuffleOn) {
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [list[i], list[j]] = [list[j], list[i]];
      }
    }
    return list;
  }

  /** The hosts, in the order they are tried. */
  get hosts(): readonly HostAddress[] {
    return this.list;
  }

  /**
   * StaticHostProvider.updateServerList: a new host list (after a reconfig),
   * rebalancing load probabilistically. With `current` the host the client
   * is on (null when not connected): returns true when the client should
   * drop its connection and move; the hosts it then tries come first from
   * the servers the list added (with probability pNew) or kept.
   *  - more servers than before: a client whose server stays moves to a new
   *    one with probability 1 - old/new; one whose server went always moves;
   *  - as many or fewer: a client whose server stays stays; one whose server
   *    went moves, to a kept server with probability
   *    pOld = kept * (before - now) / (now * (before - kept)).
   */
  updateServerList(hosts: readonly HostAddress[], current: HostAddress | null): boolean {
    const next = this.shuffled(hosts);
    if (next.length === 0) throw new Error('A HostProvider may not be empty!');
    let mine: HostAddress | null = current;
    if (this.reconfigMode) mine = this.nextInReconfigMode();
    if (mine === null) mine = this.list[Math.max(0, this.index)];
    const mineStays = next.some((h) => sameHost(h, mine!));
    const before = this.list.length;
    this.oldServers = next.filter((h) => this.list.some((o) => sameHost(o, h)));
    this.newServers = next.filter((h) => !this.list.some((o) => sameHost(o, h)));
    const numOld = this.oldServers.length;
    const numNew = this.newServers.length;
    let move = true;
    if (numOld + numNew > before) {
      if (mineStays) {
        if (this.random() <= 1 - before / (numOld + numNew)) {
          this.pNew = 1;
          this.pOld = 0;
        } else move = false;
      } else {
        this.pNew = 1;
        this.pOld = 0;
      }
    } else if (mineStays) {
      move = false;
    } else {
      this.pOld = (numOld * (before - (numOld + numNew))) / ((numOld + numNew) * (before - numOld));
      this.pNew = 1 - this.pOld;
    }
    const currentHost = this.index >= 0 ? this.list[this.index] : undefined;
    this.list = next;
    this.reconfigMode = move;
    this.indexOld = -1;
    this.indexNew = -1;
    // Round-robin goes on from where the current host sits in the new list.
    this.index = currentHost ? next.findIndex((h) => sameHost(h, currentHost)) : -1;
    if (move) this.failures = 0;
    return move;
  }

  private nextInReconfigMode(): HostAddress | null {
    const takeNew = this.random() <= this.pNew;
    if (this.indexNew + 1 < this.newServers.length && (takeNew || this.indexOld + 1 >= this.oldServers.length)) {
      return this.newServers[++this.indexNew];
    }
    if (this.indexOld + 1 < this.oldServers.length) return this.oldServers[++this.indexOld];
    return null;
  }

  get size(): number {
    return this.list.length;
  }

  /**
   * The next host and how long to wait before dialing it: 0 inside a pass,
   * a growing, jittered delay at the start of a pass that follows a pass in
   * which every host failed.
   */
  next(): { host: HostAddress; delay: number } {
    if (this.reconfigMode) {
      const host = this.nextInReconfigMode();
      if (host !== null) {
        this.index = this.list.findIndex((h) => sameHost(h, host));
        return { host, delay: 0 };
      }
      // Every candidate was tried: back to round-robin.
      this.reconfigMode = false;
    }
    this.index = (this.index + 1) % this.list.length;
    let delay = 0;
    if (this.failures > 0 && this.failures % this.hosts.length === 0) {
      const passes = this.failures / this.hosts.length;
      const base = Math.min(this.backoffMax, this.backoffBase * 2 ** (passes - 1));
      delay = Math.round(base / 2 + (base / 2) * this.random());
    }
    return { host: this.list[this.index], delay };
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
    return Math.floor(this.failures / this.list.length);
  }
}
