import { EventType, WatcherType } from '../../../src/proto/constants';
import { WatchKind, WatchManager, Watcher } from '../../../src/client/watch-manager';

const w = (): Watcher => () => {};

describe('WatchManager', () => {
  it('fires one-shot data and exist watches on data change and creation, then forgets them', () => {
    const m = new WatchManager();
    const a = w();
    const b = w();
    m.add(WatchKind.Data, '/x', a);
    m.add(WatchKind.Exist, '/x', b);
    m.add(WatchKind.Child, '/x', a);
    expect(m.materialize(EventType.NodeDataChanged, '/x')).toEqual([a, b]);
    expect(m.materialize(EventType.NodeDataChanged, '/x')).toEqual([]);
    // the child watch is still there
    expect(m.materialize(EventType.NodeChildrenChanged, '/x')).toEqual([a]);
    expect(m.isEmpty).toBe(true);
  });

  it('keeps a function once per path and kind, and calls different functions', () => {
    const m = new WatchManager();
    const a = w();
    const b = w();
    m.add(WatchKind.Data, '/x', a);
    m.add(WatchKind.Data, '/x', a);
    m.add(WatchKind.Data, '/x', b);
    expect(m.materialize(EventType.NodeDeleted, '/x')).toEqual([a, b]);
  });

  it('NodeDeleted reaches data, exist and child watches', () => {
    const m = new WatchManager();
    const [a, b, c] = [w(), w(), w()];
    m.add(WatchKind.Data, '/x', a);
    m.add(WatchKind.Exist, '/x', b);
    m.add(WatchKind.Child, '/x', c);
    expect(m.materialize(EventType.NodeDeleted, '/x')).toEqual([a, b, c]);
  });

  it('persistent watches stay; recursive ones see descendants but not NodeChildrenChanged', () => {
    const m = new WatchManager();
    const p = w();
    const r = w();
    m.add(WatchKind.Persistent, '/x', p);
    m.add(WatchKind.PersistentRecursive, '/', r);
    expect(m.materialize(EventType.NodeDataChanged, '/x')).toEqual([p, r]);
    expect(m.materialize(EventType.NodeDataChanged, '/x')).toEqual([p, r]);
    expect(m.materialize(EventType.NodeCreated, '/x/y/z')).toEqual([r]);
    expect(m.materialize(EventType.NodeChildrenChanged, '/x')).toEqual([p]);
    expect(m.hasPersistent).toBe(true);
  });

  it('all() lists every watcher once (state changes reach them all)', () => {
    const m = new WatchManager();
    const [a, b] = [w(), w()];
    m.add(WatchKind.Data, '/x', a);
    m.add(WatchKind.Child, '/y', a);
    m.add(WatchKind.PersistentRecursive, '/z', b);
    expect(m.all()).toEqual([a, b]);
  });

  it('removes one function or all, grouped by the removal event type', () => {
    const m = new WatchManager();
    const [a, b, c] = [w(), w(), w()];
    m.add(WatchKind.Data, '/x', a);
    m.add(WatchKind.Exist, '/x', b);
    m.add(WatchKind.Child, '/x', a);
    m.add(WatchKind.Persistent, '/x', c);
    expect(m.contains('/x', a, WatcherType.Data)).toBe(true);
    expect(m.contains('/x', c, WatcherType.Data)).toBe(false);
    expect(m.contains('/x', null, WatcherType.Persistent)).toBe(true);

    expect(m.remove('/x', a, WatcherType.Data)).toEqual([{ type: EventType.DataWatchRemoved, watchers: [a] }]);
    expect(m.contains('/x', a, WatcherType.Data)).toBe(false);
    expect(m.contains('/x', a, WatcherType.Children)).toBe(true);

    expect(m.remove('/x', null, WatcherType.Any)).toEqual([
      { type: EventType.ChildWatchRemoved, watchers: [a] },
      { type: EventType.DataWatchRemoved, watchers: [b] },
      { type: EventType.PersistentWatchRemoved, watchers: [c] },
    ]);
    expect(m.isEmpty).toBe(true);
    expect(m.remove('/x', null, WatcherType.Any)).toEqual([]);
  });
});
