/**
 * Ordering of sequential nodes the way Curator 5 orders them: by the text
 * after the LAST occurrence of the lock name ('lock-', '__READ__', 'latch-'...),
 * or by the whole name when it holds none of them (so foreign nodes, e.g.
 * kazoo's '<uuid>__lock__<seq>', sort after ours and do not interleave).
 */

/** Curator's fixForSorting: the sort key of `name` for the given lock names (tried in order). */
export function sequenceKey(name: string, lockNames: readonly string[]): string {
  let s = name;
  for (const lockName of lockNames) {
    const i = s.lastIndexOf(lockName);
    if (i >= 0) s = s.slice(i + lockName.length);
  }
  return s;
}

/** Children sorted by their sequence key (stable for equal keys). */
export function sortBySequence(children: readonly string[], lockNames: readonly string[]): string[] {
  return children
    .map((name) => ({ name, key: sequenceKey(name, lockNames) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.name);
}

const KAZOO_SEQ = /(-?\d{10})$/;

/**
 * kazoo's ordering: only children containing one of `names` followed by a
 * 10-digit sequence are contenders; they sort by that sequence.
 */
export function sortKazooContenders(children: readonly string[], names: readonly string[]): string[] {
  const out: { name: string; key: string }[] = [];
  for (const name of children) {
    const m = KAZOO_SEQ.exec(name);
    if (m === null) continue;
    const before = name.slice(0, m.index);
    if (!names.some((n) => before.endsWith(n))) continue;
    out.push({ name, key: m[1] });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((x) => x.name);
}
