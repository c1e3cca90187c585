"""Lock hand-off benchmark for kazoo's Lock: n clients (one session each,
one thread each) loop acquire/release on one path until `total`
acquisitions or max_ms pass, each holding the lock hold_ms (default 0)
before releasing it; prints one JSON line as CuratorLockBench.java.
Usage: kazoo-lock-bench.py <hosts> <path> <n> <total> <max_ms> [hold_ms]"""
import json
import sys
import threading
import time

from kazoo.client import KazooClient


def main():
    hosts, path, n, total, max_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    hold_ms = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    clients = []
    for _ in range(n):
        c = KazooClient(hosts=hosts, timeout=30)
        c.start(timeout=30)
        clients.append(c)
    state = {"count": 0, "last": None}
    lat = []
    guard = threading.Lock()
    start = time.monotonic()
    end = start + max_ms / 1000.0

    def worker(c):
        lock = c.Lock(path)
        while True:
            with guard:
                if state["count"] >= total or time.monotonic() > end:
                    return
            if not lock.acquire(timeout=10):
                continue
            now = time.monotonic()
            with guard:
                if state["last"] is not None:
                    lat.append((now - state["last"]) * 1000.0)
                state["count"] += 1
            if hold_ms > 0:
                time.sleep(hold_ms / 1000.0)
            with guard:
                state["last"] = time.monotonic()
            lock.release()

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - start
    lat.sort()
    p50 = lat[len(lat) // 2] if lat else 0
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0
    print(json.dumps({"acquisitions": state["count"], "seconds": secs, "p50": p50, "p99": p99}))
    for c in clients:
        c.stop()
        c.close()


if __name__ == "__main__":
    main()
