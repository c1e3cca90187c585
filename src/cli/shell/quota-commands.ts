/**
 * zkCli's setquota / listquota / delquota (Apache 3.8), on our client. They
 * maintain /zookeeper/quota/<path>/zookeeper_limits and zookeeper_stats with
 * the texts Apache writes (StatsTrack in src/server/tree/quota.ts); the
 * messages and the streams they go to are the ones the real zkCli.sh 3.8
 * prints (checked side by side against a live Apache server).
 */
import { ErrorCode } from '../../proto/constants';
import { KeeperError } from '../../client/errors';
import { LIMIT_NODE, QUOTA_ROOT, STAT_NODE, StatsTrack, limitPathOf, quotaPathOf, statPathOf } from '../../server/tree/quota';
import type { CliClient, CliOutput } from '../zk-cli-commands';

/** The limit an option letter sets: -n count, -b bytes, -N countHardLimit, -B byteHardLimit. */
export type QuotaField = 'n' | 'b' | 'N' | 'B';

/** A shell-level failure printed as it is (no usage line). */
export class QuotaCommandError extends Error {
  override readonly name = 'QuotaCommandError';
}

function setField(t: StatsTrack, field: QuotaField, value: number): void {
  if (field === 'n') t.count = value;
  else if (field === 'b') t.bytes = value;
  else if (field === 'N') t.countHardLimit = value;
  else t.byteHardLimit = value;
}

/** Apache's PathUtils.validatePath messages, as zkCli prints them for quota commands. */
export function quotaPathProblem(path: string): string | null {
  if (!path.startsWith('/')) return 'Path must start with / character';
  if (path.endsWith('/')) return 'Path must not end with / character';
  const empty = path.indexOf('//');
  if (empty >= 0) return `Invalid path string "${path}" caused by empty node name specified @${empty + 1}`;
  return null;
}

/** Parses setquota's value like Apache (Integer.parseInt for -n/-N, Long.parseLong for -b/-B) with its range messages. */
export function parseQuotaValue(field: QuotaField, text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new QuotaCommandError('NumberFormatException happens when parsing the option value');
  const v = Number(text);
  if (field === 'n' || field === 'N') {
    if (v > 2147483647 || v < -2147483648) throw new QuotaCommandError('NumberFormatException happens when parsing the option value');
    if (v <= 0) throw new QuotaCommandError('the num quota must be greater than zero');
  } else if (v < 0) {
    throw new QuotaCommandError('the bytes quota must be greater than or equal to zero');
  }
  return v;
}

const isCode = (e: unknown, code: number) => e instanceof KeeperError && e.code === code;

async function createIfMissing(zk: CliClient, path: string, data: Buffer | null): Promise<boolean> {
  try {
    await zk.create(path, data);
    return true;
  } catch (e) {
    if (isCode(e, ErrorCode.NODEEXISTS)) return false;
    throw e;
  }
}

/** Nodes and data bytes of a subtree, the root included (what Apache's server writes into zookeeper_stats). */
async function subtreeUsage(zk: CliClient, root: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    let data: Buffer | null;
    let kids: string[];
    try {
      ({ data } = await zk.getData(p));
      kids = await zk.getChildren(p);
    } catch (e) {
      if (isCode(e, ErrorCode.NONODE)) continue; // removed meanwhile
      throw e;
    }
    count++;
    bytes += data?.length ?? 0;
    for (const k of kids) stack.push(p === '/' ? `/${k}` : `${p}/${k}`);
  }
  return { count, bytes };
}

/** Refuses a quota nested in another: zkCli's checkIfParentQuota and checkIfChildQuota. */
async function checkNesting(zk: CliClient, path: string): Promise<void> {
  // Descendants.
  const stack = [quotaPathOf(path)];
  while (stack.length > 0) {
    const q2 = stack.pop()!;
    let kids: string[];
    try {
      kids = await zk.getChildren(q2);
    } catch (e) {
      if (isCode(e, ErrorCode.NONODE)) continue;
      throw e;
    }
    if (q2 !== quotaPathOf(path) && kids.includes(LIMIT_NODE)) {
      throw new QuotaCommandError(`${path} has a child ${q2.slice(QUOTA_ROOT.length)} which has a quota`);
    }
    for (const k of kids) if (k !== LIMIT_NODE && k !== STAT_NODE) stack.push(`${q2}/${k}`);
  }
  // Ancestors (and the path itself, which may already have a quota: that is an update).
  const parts = path.split('/').filter((s) => s !== '');
  let q = QUOTA_ROOT;
  for (const part of parts) {
    q += `/${part}`;
    let kids: string[];
    try {
      kids = await zk.getChildren(q);
    } catch (e) {
      if (isCode(e, ErrorCode.NONODE)) break;
      throw e;
    }
    if (q !== quotaPathOf(path) && kids.includes(LIMIT_NODE)) {
      throw new QuotaCommandError(`${path} has a parent ${q.slice(QUOTA_ROOT.length)} which has a quota`);
    }
  }
}

/**
 * setquota: creates (or updates one field of) path's limits node, creating
 * the quota parents and the stats node as zkCli does, then warns when the
 * subtree already uses more than the limits allow.
 */
export async function setQuota(zk: CliClient, path: string, field: QuotaField, value: number, io: CliOutput): Promise<void> {
  if (path.startsWith(QUOTA_ROOT)) throw new QuotaCommandError(`cannot set a quota under the path: ${QUOTA_ROOT}`);
  const problem = quotaPathProblem(path);
  if (problem) throw new QuotaCommandError(problem);
  if ((await zk.exists(path)) === null) throw new QuotaCommandError(`${path} does not exist.`);
  await checkNesting(zk, path);
  if ((await zk.exists(QUOTA_ROOT)) === null) {
    await createIfMissing(zk, '/zookeeper', null);
    await createIfMissing(zk, QUOTA_ROOT, null);
  }
  let q = QUOTA_ROOT;
  for (const part of path.split('/').filter((s) => s !== '')) {
    q += `/${part}`;
    await createIfMissing(zk, q, null);
  }
  const limits = StatsTrack.emptyLimits();
  setField(limits, field, value);
  if (await createIfMissing(zk, limitPathOf(path), Buffer.from(limits.toString()))) {
    // Apache's server recomputes this node's text when it is created; writing the subtree's real usage
    // gives the same text there, and the right one on a server that does not recompute.
    const usage = await subtreeUsage(zk, path);
    await createIfMissing(zk, statPathOf(path), Buffer.from(StatsTrack.of(usage.count, usage.bytes).toString()));
  } else {
    const { data } = await zk.getData(limitPathOf(path));
    const merged = StatsTrack.parse(data);
    setField(merged, field, value);
    await zk.setData(limitPathOf(path), Buffer.from(merged.toString()), -1);
  }
  // zkCli's warnings compare the limits now in force with the stats node.
  const { data: limitData } = await zk.getData(limitPathOf(path));
  const now = StatsTrack.parse(limitData);
  let stats: StatsTrack;
  try {
    stats = StatsTrack.parse((await zk.getData(statPathOf(path))).data);
  } catch (e) {
    if (isCode(e, ErrorCode.NONODE)) return;
    throw e;
  }
  const over = (limit: number, used: number) => limit > -1 && used > limit;
  if (over(now.count, stats.count) || over(now.countHardLimit, stats.count)) {
    io.out(`[Warning]: the count quota you create is less than the existing count:${stats.count}`);
  }
  if (over(now.bytes, stats.bytes) || over(now.byteHardLimit, stats.bytes)) {
    io.out(`[Warning]: the bytes quota you create is less than the existing bytes:${stats.bytes}`);
  }
}

/** listquota: zkCli prints the limits node's path and both texts; false when path has no quota. */
export async function listQuota(zk: CliClient, path: string, io: CliOutput): Promise<boolean> {
  const limitPath = `${quotaPathOf(path)}/${LIMIT_NODE}`;
  io.err(`absolute path is ${limitPath}`);
  const problem = quotaPathProblem(limitPath);
  if (problem) throw new QuotaCommandError(problem);
  let limits: Buffer | null;
  try {
    ({ data: limits } = await zk.getData(limitPath));
  } catch (e) {
    if (isCode(e, ErrorCode.NONODE)) {
      io.err(`quota for ${path} does not exist.`);
      return false;
    }
    throw e;
  }
  io.out(`Output quota for ${path} ${StatsTrack.parse(limits).toString()}`);
  const { data: stats } = await zk.getData(statPathOf(path));
  io.out(`Output stat for ${path} ${StatsTrack.parse(stats).toString()}`);
  return true;
}

/** Deletes a subtree, deepest first. */
async function deleteTree(zk: CliClient, root: string): Promise<void> {
  const order = [root];
  for (let i = 0; i < order.length; i++) {
    for (const k of await zk.getChildren(order[i])) order.push(`${order[i]}/${k}`);
  }
  for (const p of order.reverse()) {
    try {
      await zk.delete(p, -1);
    } catch (e) {
      if (!isCode(e, ErrorCode.NONODE)) throw e;
    }
  }
}

/**
 * delquota: with a field, resets that limit to -1 and keeps the quota; without,
 * removes path's quota node and then every quota parent left empty.
 */
export async function delQuota(zk: CliClient, path: string, field: QuotaField | null, io: CliOutput): Promise<void> {
  const problem = quotaPathProblem(path);
  if (problem) throw new QuotaCommandError(problem);
  const quotaPath = quotaPathOf(path);
  if ((await zk.exists(quotaPath)) === null || (await zk.exists(limitPathOf(path))) === null) {
    io.out(`Quota does not exist for ${path}`);
    return;
  }
  if (field === null) {
    await deleteTree(zk, quotaPath);
    // trimProcQuotas: drop quota parents that now have no children.
    let p = quotaPath.slice(0, quotaPath.lastIndexOf('/'));
    while (p !== QUOTA_ROOT && p.startsWith(QUOTA_ROOT)) {
      if ((await zk.getChildren(p)).length > 0) break;
      await zk.delete(p, -1);
      p = p.slice(0, p.lastIndexOf('/'));
    }
    return;
  }
  const { data } = await zk.getData(limitPathOf(path));
  const limits = StatsTrack.parse(data);
  setField(limits, field, -1);
  await zk.setData(limitPathOf(path), Buffer.from(limits.toString()), -1);
}
