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
import { putLong } from '../../jute/writer';
import { crc32 } from './checksums';

export const DIGEST_VERSION = 2;
/** Nodes under this prefix are left out of the digest (DigestCalculator, ZooDefs.ZOOKEEPER_NODE_SUBTREE). */
const EXCLUDED_SUBTREE = '/zookeeper/';

type DigestStat = Pick<StatPersisted, 'czxid' | 'mzxid' | 'pzxid' | 'ctime' | 'mtime' | 'version' | 'cversion' | 'aversion' | 'ephemeralOwner'>;

/** The 60 stat bytes of a node digest; reused (a digest is computed synchronously, one at a time). */
const fields = Buffer.alloc(60);

/** One node's digest, as DigestCalculator.calculateDigest computes it (an unsigned 32-bit CRC, as bigint). */
export function nodeDigest(path: string, data: Buffer | null, stat: DigestStat): bigint {
  if (path.startsWith(EXCLUDED_SUBTREE)) return 0n;
  putLong(fields, 0, stat.czxid);
  putLong(fields, 8, stat.mzxid);
  putLong(fields, 16, stat.pzxid);
  putLong(fields, 24, stat.ctime);
  putLong(fields, 32, stat.mtime);
  fields.writeInt32BE(stat.version, 40);
  fields.writeInt32BE(stat.cversion, 44);
  fields.writeInt32BE(stat.aversion, 48);
  putLong(fields, 52, stat.ephemeralOwner);
  const p = path === '/' ? '' : path;
  return BigInt(data != null ? crc32(p, data, fields) : crc32(p, fields));
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
