"""Watches through kazoo: one-shot data/child/exists watches from a second client's writes, and the DataWatch/ChildrenWatch recipes."""
import threading
import time

from kz_common import BASE, RESULT, client, run


def wait_for(events, n, timeout=10.0):
    deadline = time.time() + timeout
    while len(events) < n and time.time() < deadline:
        time.sleep(0.02)
    return list(events)


def ev(e):
    return {"type": e.type, "state": e.state, "path": e.path}


def main():
    watcher_zk = client()
    writer = client()
    r = RESULT
    watcher_zk.create(BASE, b"0")

    data_events = []
    watcher_zk.get(BASE, watch=data_events.append)
    child_events = []
    watcher_zk.get_children(BASE, watch=child_events.append)
    exists_events = []
    watcher_zk.exists(BASE + "/later", watch=exists_events.append)

    writer.set(BASE, b"1")
    r["data_changed"] = [ev(e) for e in wait_for(data_events, 1)]
    writer.create(BASE + "/later", b"")
    r["exists_created"] = [ev(e) for e in wait_for(exists_events, 1)]
    r["child_changed"] = [ev(e) for e in wait_for(child_events, 1)]

    # One-shot: a second change without re-registering fires nothing more.
    writer.set(BASE, b"2")
    writer.create(BASE + "/again", b"")
    time.sleep(0.5)
    r["one_shot_counts"] = [len(data_events), len(child_events), len(exists_events)]

    deleted_events = []
    watcher_zk.get(BASE + "/later", watch=deleted_events.append)
    writer.delete(BASE + "/later")
    r["data_deleted"] = [ev(e) for e in wait_for(deleted_events, 1)]

    # Recipes: DataWatch / ChildrenWatch re-register after every event.
    seen_data = []
    seen_kids = []
    lock = threading.Lock()

    @watcher_zk.DataWatch(BASE)
    def _dw(data, stat):
        with lock:
            seen_data.append(None if data is None else data.decode())

    @watcher_zk.ChildrenWatch(BASE)
    def _cw(children):
        with lock:
            seen_kids.append(sorted(children))

    for i in range(3, 6):
        writer.set(BASE, str(i).encode())
        time.sleep(0.1)
    writer.create(BASE + "/k1", b"")
    time.sleep(0.1)
    writer.create(BASE + "/k2", b"")
    deadline = time.time() + 10
    while time.time() < deadline:
        with lock:
            if seen_data and seen_data[-1] == "5" and seen_kids and "k2" in seen_kids[-1]:
                break
        time.sleep(0.05)
    with lock:
        # Copies: the recipes keep appending (the clean-up below deletes the node).
        r["datawatch_values"] = list(seen_data)
        r["childrenwatch_last"] = seen_kids[-1] if seen_kids else None
    writer.delete(BASE, recursive=True)


run(main)
