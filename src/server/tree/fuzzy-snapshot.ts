/**
 * A fuzzy snapshot source, as Apache takes its snapshots: no copy of the
 * tree. The live tree is walked depth-first, parents first, while the writer
 * consumes the nodes in time slices and txns keep being applied between them;
 * each node's data, ACL and stat are read at the moment it is written. The
 * file is named after lastProcessedZxid when the walk starts (Z0), and
 * replaying the log from Z0 + 1 over it gives the live tree back.
 *
 * What makes that replay exact (see also DataTree.createNode's "never move
 * cversion back", adjustParentAfterReplayedCreate and deleteNode's pzxid on a
 * missing child, which are Apache's rules for the same problem):
 * - Only state that existed when a parent was written is descended into: a
 *   child whose czxid is greater than its parent's pzxid as written (and than
 *   Z0) was created after the parent was written, so it is skipped (with its
 *   subtree) and the replay creates it. Apache gets the same effect by copying the children list
 *   when it writes the parent; here the parent's live children Map is iterated (JS Map
 *   iteration stays valid under adds and deletes) and the czxid test filters.
 * - Every other txn after Z0 is replayed over a node state at or after Z0:
 *   setData/setACL carry absolute values; a create of a node already written
 *   fails NODEEXISTS and a delete of a node already gone fails NONODE, both
 *   harmless; cversion only moves forward and pzxid takes the max.
 * - The ACL cache is written before the nodes, so it is the cache at Z0. A node
 *   written later may carry an ACL reference made after Z0 (a new ACL list):
 *   it is written with the Z0 reference of an equal list when there is one;
 *   otherwise, if the node existed at Z0 (czxid <= Z0) its ACL was changed by a
 *   setACL after Z0, which the replay applies again, so OPEN_ACL_UNSAFE (-1)
 *   stands in until then; and a node created after Z0 is skipped (the replay
 *   creates it with its ACL). So no node refers to an ACL the file lacks.
 * - Sessions are copied at Z0 (createSession/closeSession after it replay).
 * - A multi is applied in one go on this thread, never half-way through a slice.
 *
 * The written nodes are the tree at Z0 exactly when no txn was applied during
 * the walk; only then does the file carry the zxid digest (see
 * snapshot-file.ts). A tree replaced under the walk (a learner loading a SNAP)
 * aborts it, as does abort() (a closing server): the writer then leaves no file.
 */
import type { ACL } from '../../proto/generated/data';
import type { FuzzySnapshotState, SnapshotContents, SnapshotNode } from '../persist/types';
import { OPEN_UNSAFE_ACL_ID, aclKey } from './acl-cache';
import { ROOT, type DataNode, type DataTree } from './data-tree';

/** Thrown out of the walk when the snapshot was aborted or the tree replaced under it. */
export class SnapshotAbortedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotAbortedError';
  }
}

/** What a walk did, for logs and tests. */
export interface FuzzyWalkStats {
  /** Nodes handed to the writer. */
  written: number;
  /** Children skipped because they were created after their parent was written. */
  skippedNew: number;
  /** Nodes written with a stand-in ACL (their setACL after Z0 is replayed). */
  aclStandIns: number;
  /** lastProcessedZxid when the walk ended (null while it runs). */
  endZxid: bigint | null;
}

interface Frame {
  /** The parent's path as written ("" for the root). */
  path: string;
  /** Live iterator over the parent's children (name, node). */
  it: Iterator<[string, DataNode]>;
  /** The parent's pzxid as written: children created after it are not descended into. */
  pzxid: bigint;
}

/**
 * A {@link SnapshotContents} whose `nodes` walk the live tree (see the file
 * comment). Take it synchronously with the zxid the file is named after:
 * `const s = new FuzzyTreeSnapshot(tree, sessions.snapshot()); store.snapshot(s.zxid, s)`.
 */
export class FuzzyTreeSnapshot implements SnapshotContents {
  /** lastProcessedZxid when this was taken: the zxid the snapshot is named after. */
  readonly zxid: bigint;
  readonly sessions: Map<bigint, number>;
  /** The ACL cache at Z0. */
  readonly acls: Map<bigint, ACL[]>;
  readonly fuzzy: FuzzySnapshotState;
  readonly stats: FuzzyWalkStats = { written: 0, skippedNew: 0, aclStandIns: 0, endZxid: null };
  private readonly root0: DataNode | undefined;
  /** ACL list key -> its reference at Z0. */
  private readonly aclRefByKey = new Map<string, bigint>();
  private abortReason: string | null = null;
  private exactAtEnd = false;
  private started = false;

  constructor(
    private readonly tree: DataTree,
    sessions: Map<bigint, number>,
  ) {
    this.zxid = tree.lastProcessedZxid;
    this.sessions = new Map(sessions);
    this.acls = tree.aclCache.snapshot();
    for (const [ref, list] of this.acls) this.aclRefByKey.set(aclKey(list), ref);
    this.root0 = tree.nodes.get(ROOT);
    this.fuzzy = {
      exact: () => this.exactAtEnd,
      changed: () => this.tree.lastProcessedZxid !== this.zxid,
      abort: (reason = 'snapshot aborted') => {
        this.abortReason ??= reason;
      },
    };
  }

  /** The nodes, read from the live tree as they are consumed. Iterate once. */
  get nodes(): Iterable<SnapshotNode> {
    return { [Symbol.iterator]: () => this.walk() };
  }

  private check(): void {
    if (this.abortReason !== null) throw new SnapshotAbortedError(this.abortReason);
    if (this.tree.nodes.get(ROOT) !== this.root0 || this.tree.lastProcessedZxid < this.zxid) {
      throw new SnapshotAbortedError(`the tree was replaced while the snapshot at 0x${this.zxid.toString(16)} was written`);
    }
  }

  private *walk(): Generator<SnapshotNode, void, undefined> {
    if (this.started) throw new Error('a fuzzy snapshot walks the tree once');
    this.started = true;
    this.check();
    const root = this.root0!;
    const stack: Frame[] = [];
    // Everything about a node (and its children iterator) is read before the yield: the
    // consumer may let txns run before it asks for the next node.
    stack.push({ path: '', it: root.childNodes.entries(), pzxid: root.stat.pzxid });
    this.stats.written++;
    yield this.entry('', root, root.acl);
    while (stack.length > 0) {
      this.check();
      const top = stack[stack.length - 1];
      const step = top.it.next();
      if (step.done) {
        stack.pop();
        continue;
      }
      // Taken from the parent, not looked up by path (a million lookups were most of a big walk's time).
      // A child deleted since its parent was written is not met: the live iterator skips it.
      const [name, node] = step.value;
      const path = `${top.path}/${name}`;
      const czxid = node.stat.czxid;
      if (czxid > top.pzxid && czxid > this.zxid) {
        this.stats.skippedNew++;
        continue;
      }
      let aclRef = node.acl;
      if (aclRef !== OPEN_UNSAFE_ACL_ID && !this.acls.has(aclRef)) {
        const same = this.aclRefByKey.get(aclKey(this.tree.aclCache.convertLong(aclRef)));
        if (same !== undefined) {
          aclRef = same;
        } else if (czxid > this.zxid) {
          this.stats.skippedNew++;
          continue;
        } else {
          aclRef = OPEN_UNSAFE_ACL_ID;
          this.stats.aclStandIns++;
        }
      }
      const entry = this.entry(path, node, aclRef);
      stack.push({ path, it: node.childNodes.entries(), pzxid: entry.stat.pzxid });
      this.stats.written++;
      yield entry;
    }
    this.check();
    this.stats.endZxid = this.tree.lastProcessedZxid;
    this.exactAtEnd = this.stats.endZxid === this.zxid;
  }

  private entry(path: string, node: DataNode, aclRef: bigint): SnapshotNode {
    // The live node is the stat: the writer serializes an entry before it lets anything else run, so
    // nothing changes under it, and a copy per node (six bigints) would only feed the garbage collector.
    return { path, data: node.data, aclRef, stat: node.stat };
  }
}
