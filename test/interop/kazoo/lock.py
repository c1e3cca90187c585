"""kazoo's Lock recipe: three clients contend; mutual exclusion shown by an in-process occupancy
count that must never exceed 1 and by an unversioned read-modify-write counter in ZooKeeper that
would lose increments if two holders overlapped."""
import threading
import time

from kz_common import BASE, RESULT, client, err_name, run

WORKERS = 3
ROUNDS = 5


def main():
    r = RESULT
    clients = [client() for _ in range(WORKERS)]
    clients[0].create(BASE + "/counter", b"0", makepath=True)
    occupancy = [0]
    max_occupancy = [0]
    guard = threading.Lock()
    order = []
    errors = []
    contenders_seen = []

    def worker(i):
        zk = clients[i]
        lock = zk.Lock(BASE + "/lock", "worker-%d" % i)
        try:
            for n in range(ROUNDS):
                with lock:
                    with guard:
                        occupancy[0] += 1
                        max_occupancy[0] = max(max_occupancy[0], occupancy[0])
                        order.append(i)
                    if n == 0:
                        contenders_seen.append(sorted(lock.contenders()))
                    data, _ = zk.get(BASE + "/counter")
                    time.sleep(0.01)  # widen the window an overlap would need
                    zk.set(BASE + "/counter", str(int(data) + 1).encode())
                    with guard:
                        occupancy[0] -= 1
        except Exception as e:  # noqa: BLE001
            errors.append("%s: %s" % (type(e).__name__, e))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    r["errors"] = errors
    r["max_occupancy"] = max_occupancy[0]
    r["acquisitions"] = len(order)
    r["counter"] = int(clients[0].get(BASE + "/counter")[0])
    r["distinct_holders"] = sorted(set(order))
    r["contenders_seen_max"] = max((len(c) for c in contenders_seen), default=0)
    r["lock_children_after"] = clients[0].get_children(BASE + "/lock")

    # A holder's session closing releases the lock for a waiter.
    holder = client()
    waiter = client()
    hl = holder.Lock(BASE + "/lock2", "holder")
    wl = waiter.Lock(BASE + "/lock2", "waiter")
    r["holder_acquired"] = hl.acquire(timeout=10)
    r["waiter_blocked"] = err_name(lambda: wl.acquire(timeout=0.5))  # kazoo 2.8 raises LockTimeout
    got = []
    t = threading.Thread(target=lambda: got.append(wl.acquire(timeout=15)), daemon=True)
    t.start()
    time.sleep(0.2)
    holder.stop()
    holder.close()
    t.join(20)
    r["waiter_acquired_after_holder_closed"] = got == [True]
    wl.release()
    clients[0].delete(BASE, recursive=True)


run(main, budget_seconds=60)
