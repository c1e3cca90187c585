/**
 * Request statistics, server-wide and per connection, kept the way Apache's
 * ServerStats and ServerCnxn keep them, because srvr/stat/mntr/cons print
 * them and monitoring tools compare them across servers:
 * - latency is measured from the moment a request was read off the socket
 *   to the moment its reply was written, in whole milliseconds;
 * - the server average is a double, a connection's average a long division;
 * - a minimum with no samples prints 0.
 */

/** Milliseconds on a monotonic clock (Apache's Time.currentElapsedTime). */
export function elapsedMs(): number {
  return Math.floor(performance.now());
}

/** min/avg/max over a stream of samples, with Apache's "no sample = 0" minimum. */
export class LatencyStats {
  min = Number.MAX_SAFE_INTEGER;
  max = 0;
  total = 0;
  count = 0;

  add(ms: number): void {
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    this.total += ms;
    this.count++;
  }

  get minOrZero(): number {
    return this.count === 0 ? 0 : this.min;
  }

  /** Server-wide average (a double, like ServerStats.getAvgLatency). */
  get average(): number {
    return this.count === 0 ? 0 : this.total / this.count;
  }

  /** A connection's average (a long, like ServerCnxn.getAvgLatency). */
  get integerAverage(): number {
    return this.count === 0 ? 0 : Math.floor(this.total / this.count);
  }

  reset(): void {
    this.min = Number.MAX_SAFE_INTEGER;
    this.max = 0;
    this.total = 0;
    this.count = 0;
  }
}

/** Apache's ServerStats: the figures srvr/stat/mntr report and srst resets. */
export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  authFailedCount = 0;
  readonly latency = new LatencyStats();
  /** Sizes of replies to client requests (BufferStats): -1 until the first one. */
  lastClientResponseSize = -1;
  minClientResponseSize = -1;
  maxClientResponseSize = -1;

  updateClientResponseSize(size: number): void {
    this.lastClientResponseSize = size;
    if (this.minClientResponseSize < 0 || size < this.minClientResponseSize) this.minClientResponseSize = size;
    if (size > this.maxClientResponseSize) this.maxClientResponseSize = size;
  }

  /** srst. */
  reset(): void {
    this.latency.reset();
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.authFailedCount = 0;
    this.lastClientResponseSize = -1;
    this.minClientResponseSize = -1;
    this.maxClientResponseSize = -1;
  }
}

/** Apache's per-connection figures (ServerCnxn), printed by cons and reset by crst. */
export class ConnectionStats {
  packetsReceived = 0;
  packetsSent = 0;
  /** Last client xid answered (special negative xids such as pings do not overwrite it); -1 = none. */
  lastCxid = -1;
  lastZxid = -1n;
  lastOp = 'NA';
  /** elapsedMs() of the last reply; 0 = none. */
  lastResponseTime = 0;
  lastLatency = 0;
  readonly latency = new LatencyStats();

  /** ServerCnxn.updateStatsForResponse. */
  updateForResponse(cxid: number, zxid: bigint, op: string, start: number, end: number): void {
    if (cxid >= 0) this.lastCxid = cxid;
    this.lastZxid = zxid;
    this.lastOp = op;
    this.lastResponseTime = end;
    const elapsed = end - start;
    this.lastLatency = elapsed;
    this.latency.add(elapsed);
  }

  /** crst (ServerCnxn.resetStats). */
  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.lastCxid = -1;
    this.lastZxid = -1n;
    this.lastOp = 'NA';
    this.lastResponseTime = 0;
    this.lastLatency = 0;
    this.latency.reset();
  }
}
