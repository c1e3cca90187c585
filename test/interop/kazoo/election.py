"""kazoo's Election recipe: three candidates, exactly one leader at a time; when the leader's
client closes, another candidate takes over."""
import threading
import time

from kz_common import BASE, RESULT, client, run

N = 3


def main():
    r = RESULT
    clients = [client() for _ in range(N)]
    elections = [zk.Election(BASE + "/election", "candidate-%d" % i) for i, zk in enumerate(clients)]
    guard = threading.Lock()
    leading = set()
    max_leaders = [0]
    leader_log = []
    release = [threading.Event() for _ in range(N)]
    errors = []

    def lead(i):
        with guard:
            leading.add(i)
            max_leaders[0] = max(max_leaders[0], len(leading))
            leader_log.append(i)
        release[i].wait(40)
        with guard:
            leading.discard(i)

    def candidate(i):
        try:
            elections[i].run(lead, i)
        except Exception as e:  # noqa: BLE001 - a closed client's release may raise
            errors.append("%d %s" % (i, type(e).__name__))

    for i in range(N):
        threading.Thread(target=candidate, args=(i,), daemon=True).start()

    def wait_leaders(n, timeout=15):
        deadline = time.time() + timeout
        while len(leader_log) < n and time.time() < deadline:
            time.sleep(0.05)

    wait_leaders(1)
    time.sleep(0.5)  # time for a (wrong) second leader to show up
    r["first_leaders"] = list(leader_log)
    first = leader_log[0] if leader_log else None
    r["contenders"] = elections[(first + 1) % N].contenders() if first is not None else None

    # Fail-over: the leader's client closes its session (its lead() is still running).
    if first is not None:
        with guard:
            leading.discard(first)  # a closed session leads nothing any more
        clients[first].stop()
        clients[first].close()
        release[first].set()
        wait_leaders(2)
        time.sleep(0.5)
        r["after_failover"] = list(leader_log)
        second = leader_log[1] if len(leader_log) > 1 else None
        if second is not None:
            # A clean hand-over: the second leader steps down, the third takes over.
            release[second].set()
            wait_leaders(3)
            time.sleep(0.3)
    r["leader_log"] = list(leader_log)
    r["max_simultaneous_leaders"] = max_leaders[0]
    for e in release:
        e.set()
    r["errors"] = errors
    survivor = clients[(first + 1) % N] if first is not None else clients[0]
    time.sleep(0.3)
    survivor.delete(BASE, recursive=True)


run(main, budget_seconds=60)
