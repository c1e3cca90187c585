/**
 * Apache 3.8's quotas: a quota on /a lives in /zookeeper/quota/a/zookeeper_limits
 * (the limits, written by zkCli's setquota) and /zookeeper/quota/a/zookeeper_stats
 * (the usage of /a's subtree, the root included, kept by the server). Both
 * hold a StatsTrack text, byte for byte as Apache writes it:
 *
 *   count=2,bytes=-1=;byteHardLimit=-1;countHardLimit=-1   (limits: soft count 2)
 *   count=5,bytes=16                                       (stats)
 *
 * count and bytes come first; any further keys follow sorted, after an
 * extra "=" (Apache's marker for its newer format), each as ";key=value".
 *
 * With zookeeper.enforceQuota=true a create or setData that would take the
 * nearest quota'd ancestor's subtree over a hard limit (countHardLimit,
 * byteHardLimit) fails with QuotaExceeded; soft limits (count, bytes) only
 * log, as on Apache. Both the shell and the server use this module.
 */
import type { ChildNames } from './data-node';
import { ErrorCode } from '../../proto/constants';
import { KeeperCodeError } from './keeper-error';

export const QUOTA_ROOT = '/zookeeper/quota';
export const LIMIT_NODE = 'zookeeper_limits';
export const STAT_NODE = 'zookeeper_stats';

const COUNT = 'count';
const BYTES = 'bytes';
export const COUNT_HARD_LIMIT = 'countHardLimit';
export const BYTE_HARD_LIMIT = 'byteHardLimit';

/** Apache's StatsTrack: named numbers, -1 meaning "not set". */
export class StatsTrack {
  readonly values = new Map<string, number>();

  /** Parses a StatsTrack text (old "count=1,bytes=2" or new "...=;k=v" form); empty or null gives an empty track. */
  static parse(text: string | Buffer | null | undefined): StatsTrack {
    const t = new StatsTrack();
    const s = text === null || text === undefined ? '' : text.toString();
    if (s === '') return t;
    for (const pair of s.split(/[,;]+/)) {
      if (pair === '') continue;
      const [key, value] = pair.split('=');
      if (key === undefined || key === '') continue;
      const n = value === undefined || value === '' ? -1 : Number(value);
      if (!Number.isFinite(n)) throw new Error(`invalid quota text ${JSON.stringify(s)}`);
      t.values.set(key, n);
    }
    return t;
  }

  /** A track with the given count and bytes (the stats node's form). */
  static of(count: number, bytes: number): StatsTrack {
    const t = new StatsTrack();
    t.count = count;
    t.bytes = bytes;
    return t;
  }

  private get(key: string): number {
    return this.values.get(key) ?? -1;
  }

  get count(): number {
    return this.get(COUNT);
  }
  set count(v: number) {
    this.values.set(COUNT, v);
  }
  get bytes(): number {
    return this.get(BYTES);
  }
  set bytes(v: number) {
    this.values.set(BYTES, v);
  }
  get countHardLimit(): number {
    return this.get(COUNT_HARD_LIMIT);
  }
  set countHardLimit(v: number) {
    this.values.set(COUNT_HARD_LIMIT, v);
  }
  get byteHardLimit(): number {
    return this.get(BYTE_HARD_LIMIT);
  }
  set byteHardLimit(v: number) {
    this.values.set(BYTE_HARD_LIMIT, v);
  }

  /** Apache's StatsTrack.toString. */
  toString(): string {
    let s = `${COUNT}=${this.count},${BYTES}=${this.bytes}`;
    const rest = [...this.values.keys()].filter((k) => k !== COUNT && k !== BYTES).sort();
    if (rest.length > 0) s += '=' + rest.map((k) => `;${k}=${this.values.get(k)}`).join('');
    return s;
  }

  /** A fresh limits track as setquota writes it: every limit -1 (count, bytes, both hard limits). */
  static emptyLimits(): StatsTrack {
    const t = StatsTrack.of(-1, -1);
    t.countHardLimit = -1;
    t.byteHardLimit = -1;
    return t;
  }
}

/** /zookeeper/quota + path: the node under which path's quota nodes live. */
export function quotaPathOf(path: string): string {
  return path === '/' ? QUOTA_ROOT : QUOTA_ROOT + path;
}

export function limitPathOf(path: string): string {
  return `${quotaPathOf(path)}/${LIMIT_NODE}`;
}

export function statPathOf(path: string): string {
  return `${quotaPathOf(path)}/${STAT_NODE}`;
}

/** The part of the data tree quota checks read. */
export interface QuotaTreeView {
  getNode(path: string): { data: Buffer | null; children: ChildNames } | undefined;
}

/**
 * Apache's DataTree.getMaxPrefixWithQuota: the longest proper-or-equal
 * prefix of path (by components, "/" excluded) that has a zookeeper_limits
 * node; null when none.
 */
export function quotaRootOf(tree: QuotaTreeView, path: string): string | null {
  if (path === '/' || !path.startsWith('/')) return null;
  let p = path;
  for (;;) {
    if (tree.getNode(limitPathOf(p))) return p;
    const i = p.lastIndexOf('/');
    if (i <= 0) return null;
    p = p.slice(0, i);
  }
}

/** Count (nodes, the root included) and bytes (data lengths) of a subtree, as Apache's DataTree.getCounts. */
export function subtreeUsage(tree: QuotaTreeView, root: string): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const node = tree.getNode(p);
    if (!node) continue;
    count++;
    bytes += node.data?.length ?? 0;
    for (const c of node.children) stack.push(p === '/' ? `/${c}` : `${p}/${c}`);
  }
  return { count, bytes };
}

/**
 * What the subtree of a quota root uses now: the stats node when it holds a
 * count, else counted from the tree. Apache reads the stats node, which its
 * data tree keeps current; counting is the fallback for a tree that does not.
 */
export function currentUsage(tree: QuotaTreeView, root: string, trustStatsNode: boolean): { count: number; bytes: number } {
  if (trustStatsNode) {
    const node = tree.getNode(statPathOf(root));
    if (node) {
      const t = StatsTrack.parse(node.data);
      if (t.count >= 0 && t.bytes >= 0) return { count: t.count, bytes: t.bytes };
    }
  }
  return subtreeUsage(tree, root);
}

export interface QuotaCheckOptions {
  /** Read usage from the zookeeper_stats node (true once the data tree maintains it) instead of counting. */
  trustStatsNode?: boolean;
  /** Told about soft-limit excesses (Apache logs them and lets the write through). */
  log?: (msg: string) => void;
}

/**
 * Apache's ZooKeeperServer.checkQuota for a create (countDiff 1) or a setData
 * (countDiff 0) of path changing its data size by bytesDiff. Throws
 * KeeperCodeError(QUOTAEXCEEDED) when a hard limit would be passed.
 */
export function checkQuota(tree: QuotaTreeView, path: string, bytesDiff: number, countDiff: number, opts: QuotaCheckOptions = {}): void {
  const root = quotaRootOf(tree, path);
  if (root === null) return;
  const limitNode = tree.getNode(limitPathOf(root));
  if (!limitNode) return;
  let limits: StatsTrack;
  try {
    limits = StatsTrack.parse(limitNode.data);
  } catch {
    return; // unreadable limits: Apache would fail to parse too; treat as no quota rather than refuse every write
  }
  const checkCount = countDiff !== 0 && (limits.count > -1 || limits.countHardLimit > -1);
  const checkBytes = bytesDiff !== 0 && (limits.bytes > -1 || limits.byteHardLimit > -1);
  if (!checkCount && !checkBytes) return;
  const usage = currentUsage(tree, root, opts.trustStatsNode ?? false);
  if (checkCount) {
    const hard = limits.countHardLimit > -1;
    const limit = hard ? limits.countHardLimit : limits.count;
    const next = usage.count + countDiff;
    if (next > limit) {
      opts.log?.(`Quota exceeded: ${root} [current count=${next}, ${hard ? 'hard' : 'soft'}CountLimit=${limit}]`);
      if (hard) throw new KeeperCodeError(ErrorCode.QUOTAEXCEEDED, path);
    }
  }
  if (checkBytes) {
    const hard = limits.byteHardLimit > -1;
    const limit = hard ? limits.byteHardLimit : limits.bytes;
    const next = usage.bytes + bytesDiff;
    if (next > limit) {
      opts.log?.(`Quota exceeded: ${root} [current bytes=${next}, ${hard ? 'hard' : 'soft'}ByteLimit=${limit}]`);
      if (hard) throw new KeeperCodeError(ErrorCode.QUOTAEXCEEDED, path);
    }
  }
}

// ---------------------------------------------------------------------------
// Keeping zookeeper_stats current, as Apache's DataTree does. These are for
// the data tree to call (createNode, deleteNode, setData, after a snapshot
// load); until it does, prep counts the subtree instead (trustStatsNode off).

/** A tree whose nodes' data can be replaced in place (the stats node's text changes; its Stat does not, as in Apache). */
export interface QuotaTreeMutable {
  getNode(path: string): { data: Buffer | null; children: ChildNames } | undefined;
}

function writeStats(node: { data: Buffer | null }, t: StatsTrack): void {
  node.data = Buffer.from(t.toString());
}

/** Apache's updateQuotaStat: after a create (1, +size), delete (-1, -size) or setData (0, new - old size) of path. */
export function updateQuotaStats(tree: QuotaTreeMutable, path: string, countDiff: number, bytesDiff: number): void {
  if (countDiff === 0 && bytesDiff === 0) return;
  const root = quotaRootOf(tree, path);
  if (root === null) return;
  const node = tree.getNode(statPathOf(root));
  if (!node) return;
  let t: StatsTrack;
  try {
    t = StatsTrack.parse(node.data);
  } catch {
    return; // an unreadable stats text is left alone, as a failed parse leaves Apache's
  }
  t.count = t.count + countDiff;
  t.bytes = t.bytes + bytesDiff;
  writeStats(node as { data: Buffer | null }, t);
}

/** Recomputes one quota root's stats node from its subtree (Apache's updateQuotaForPath). */
export function recomputeQuotaStats(tree: QuotaTreeMutable, root: string): void {
  const node = tree.getNode(statPathOf(root));
  if (!node) return;
  const usage = subtreeUsage(tree, root);
  writeStats(node as { data: Buffer | null }, StatsTrack.of(usage.count, usage.bytes));
}

/** After createNode(path): a new zookeeper_stats node gets its subtree's usage, as Apache's createNode does. */
export function onNodeCreated(tree: QuotaTreeMutable, path: string, dataLength: number): void {
  if (path.startsWith(`${QUOTA_ROOT}/`) && path.endsWith(`/${STAT_NODE}`)) {
    recomputeQuotaStats(tree, path.slice(QUOTA_ROOT.length, -(STAT_NODE.length + 1)));
    return;
  }
  updateQuotaStats(tree, path, 1, dataLength);
}

/** Every quota root below /zookeeper/quota (paths having a zookeeper_limits node). */
export function quotaRoots(tree: QuotaTreeView): string[] {
  const roots: string[] = [];
  const stack = [QUOTA_ROOT];
  while (stack.length > 0) {
    const q = stack.pop()!;
    const node = tree.getNode(q);
    if (!node) continue;
    if (node.children.has(LIMIT_NODE) && q !== QUOTA_ROOT) roots.push(q.slice(QUOTA_ROOT.length));
    for (const c of node.children) if (c !== LIMIT_NODE && c !== STAT_NODE) stack.push(`${q}/${c}`);
  }
  return roots.sort();
}

/** After a snapshot load: every stats node recomputed (Apache's setupQuota), so a stale text on disk never counts. */
export function recomputeAllQuotaStats(tree: QuotaTreeMutable): void {
  for (const root of quotaRoots(tree)) recomputeQuotaStats(tree, root);
}
