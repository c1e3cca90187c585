/**
 * Apache ZooKeeper 3.6+'s tree digest (DigestCalculator, version 2), so the
 * snapshots we write carry the same fingerprint Apache computes when it loads
 * them, and a tree can be checked against a snapshot's recorded digest.
 *
 * node digest = CRC32(path bytes, data bytes, 60 bytes of stat: czxid, mzxid,
 *               pzxid, ctime, mtime as longs, version, cversion, aversion as
 *               ints, ephemeralOwner as long), with "/" spelled "" and 0 for
 *               anything under "/zookeeper/" (quota and config nodes);
 * tree digest = the 64-bit wrapping sum of all node digests (AdHash).
 * The log-entry TxnDigest is the tree digest after applying that txn; only
 * the tree owner can compute it, so the store writes one only when given.
 */
import type { StatPersisted } from '../../proto';
import { crc32 } from './checksums';

export const DIGEST_VERSION = 2;
/** Nodes under this prefix are left out of the digest (DigestCalculator, ZooDefs.ZOOKEEPER_NODE_SUBTREE). */
const EXCLUDED_SUBTREE = '/zookeeper/';

type DigestStat = Pick<StatPersisted, 'czxid' | 'mzxid' | 'pzxid' | 'ctime' | 'mtime' | 'version' | 'cversion' | 'aversion' | 'ephemeralOwner'>;

/** One node's digest, as DigestCalculator.calculateDigest computes it (an unsigned 32-bit CRC, as bigint). */
export function nodeDigest(path: string, data: Buffer | null, stat: DigestStat): bigint {
  if (path.startsWith(EXCLUDED_SUBTREE)) return 0n;
  const p = path === '/' ? '' : path;
  const fields = Buffer.allocUnsafe(60);
  fields.writeBigInt64BE(BigInt.asIntN(64, stat.czxid), 0);
  fields.writeBigInt64BE(BigInt.asIntN(64, stat.mzxid), 8);
  fields.writeBigInt64BE(BigInt.asIntN(64, stat.pzxid), 16);
  fields.writeBigInt64BE(BigInt.asIntN(64, stat.ctime), 24);
  fields.writeBigInt64BE(BigInt.asIntN(64, stat.mtime), 32);
  fields.writeInt32BE(stat.version, 40);
  fields.writeInt32BE(stat.cversion, 44);
  fields.writeInt32BE(stat.aversion, 48);
  fields.writeBigInt64BE(BigInt.asIntN(64, stat.ephemeralOwner), 52);
  const parts: Uint8Array[] = [Buffer.from(p, 'utf8')];
  if (data != null) parts.push(data);
  parts.push(fields);
  return BigInt(crc32(...parts));
}

/** Adds a node digest to a running tree digest (AdHash.addDigest: Java long arithmetic). */
export function addDigest(tree: bigint, node: bigint): bigint {
  return BigInt.asIntN(64, tree + node);
}

/** Removes a node digest from a running tree digest (AdHash.removeDigest). */
export function removeDigest(tree: bigint, node: bigint): bigint {
  return BigInt.asIntN(64, tree - node);
}

/** The digest of a whole tree given as (path, data, stat) nodes, root spelled "" or "/". */
export function treeDigest(nodes: Iterable<{ path: string; data: Buffer | null; stat: DigestStat }>): bigint {
  let d = 0n;
  for (const n of nodes) d = addDigest(d, nodeDigest(n.path, n.data, n.stat));
  return d;
}
