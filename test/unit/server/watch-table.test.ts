/**
 * The server's WatchManager keeps a lone one-shot watcher of a path inline
 * (no Map per path). These cases walk it through every change of shape: a
 * second watcher, a mode change, removal, firing, and a connection closing,
 * checking what fires and what the counts say.
 */
import { EventType } from '../../../src/proto';
import { WatchManager, WatcherMode, type WatchedEvent, type Watcher } from '../../../src/server/tree/watch-manager';

class Rec implements Watcher {
  events: WatchedEvent[] = [];
  process(e: WatchedEvent): void {
    this.events.push(e);
  }
}

const fire = (m: WatchManager, path: string, type: number = EventType.NodeDataChanged) => m.triggerWatch(path, type, []);

describe('server WatchManager table', () => {
  it('a lone one-shot watch fires once and is gone', () => {
    const m = new WatchManager();
    const a = new Rec();
    expect(m.addWatch('/x', a)).toBe(true);
    expect(m.addWatch('/x', a)).toBe(false); // the same watch again
    expect([m.size, m.pathCount, m.containsWatcher('/x', a), m.containsWatcher('/x', a, WatcherMode.PERSISTENT)]).toEqual([1, 1, true, false]);
    fire(m, '/x');
    fire(m, '/x');
    expect(a.events.map((e) => e.path)).toEqual(['/x']);
    expect([m.size, m.pathCount, m.byWatcherMap().size]).toEqual([0, 0, 0]);
  });

  it('a second watcher, and a mode change of the lone one, keep every watch', () => {
    const m = new WatchManager();
    const a = new Rec();
    const b = new Rec();
    m.addWatch('/x', a);
    m.addWatch('/x', b);
    expect(m.size).toBe(2);
    expect(m.byPath().get('/x')).toEqual([a, b]);
    fire(m, '/x');
    expect([a.events.length, b.events.length, m.size]).toEqual([1, 1, 0]);

    m.addWatch('/y', a);
    m.addWatch('/y', a, WatcherMode.PERSISTENT); // latest registration sets the mode
    expect(m.containsWatcher('/y', a, WatcherMode.PERSISTENT)).toBe(true);
    fire(m, '/y');
    fire(m, '/y');
    expect(a.events.filter((e) => e.path === '/y')).toHaveLength(2);
    m.addWatch('/y', a); // back to one-shot
    fire(m, '/y');
    fire(m, '/y');
    expect(a.events.filter((e) => e.path === '/y')).toHaveLength(3);
  });

  it('removal by watcher, by mode, and of a closed connection', () => {
    const m = new WatchManager();
    const a = new Rec();
    const b = new Rec();
    m.addWatch('/x', a);
    expect(m.removeWatcher('/x', b)).toBe(false);
    expect(m.removeWatcher('/x', a, WatcherMode.PERSISTENT)).toBe(false);
    expect(m.removeWatcher('/x', a, WatcherMode.STANDARD)).toBe(true);
    expect(m.pathCount).toBe(0);

    m.addWatch('/p', a);
    m.addWatch('/q', a);
    m.addWatch('/q', b);
    m.addWatch('/r', a, WatcherMode.PERSISTENT_RECURSIVE);
    m.removeAll(a);
    expect([m.size, m.pathCount]).toEqual([1, 1]);
    fire(m, '/r/child');
    fire(m, '/q');
    expect(a.events).toEqual([]);
    expect(b.events.map((e) => e.path)).toEqual(['/q']);
  });

  it('a lone one-shot watch on a parent does not fire for a child, a recursive one does', () => {
    const m = new WatchManager();
    const a = new Rec();
    const r = new Rec();
    m.addWatch('/p', a);
    m.addWatch('/', r, WatcherMode.PERSISTENT_RECURSIVE);
    fire(m, '/p/c', EventType.NodeCreated);
    expect(a.events).toEqual([]);
    expect(r.events.map((e) => e.path)).toEqual(['/p/c']);
    expect(m.containsWatcher('/p', a)).toBe(true);
  });
});
