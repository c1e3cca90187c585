"""kazoo across a leader kill -9 (driven by ensemble-foreign-clients.test.ts).

Run as `/usr/bin/python3 ensemble_failover.py <hosts> <base> <n_before> <n_after>`
with the hosts in order (the first is the one to connect to: the leader).
Prints one JSON line {"phase": "ready", ...} once the first n_before nodes
exist, then waits for a line on stdin (the test kills the server kazoo is
connected to meanwhile), writes n_after more nodes through kazoo's retry
(a create retried after ConnectionLoss that finds its node with its data
counts as done), and prints the final JSON line with what it saw:
observations only, the verdicts are the test's.
"""
import json
import logging
import os
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

HOSTS, BASE = sys.argv[1], sys.argv[2]
N_BEFORE, N_AFTER = int(sys.argv[3]), int(sys.argv[4])
RESULT = {"phase": "final"}
_printed = threading.Lock()


def emit(obj):
    sys.stdout.write(json.dumps(obj, default=str, sort_keys=True) + "\n")
    sys.stdout.flush()


def finish(code):
    if not _printed.acquire(blocking=False):
        return
    emit(RESULT)
    os._exit(code)


def watchdog():
    RESULT["watchdog"] = "scenario exceeded its time budget"
    finish(3)


def peer_port(c):
    try:
        return c._connection._socket.getpeername()[1]
    except Exception:  # noqa: BLE001 - not connected at this moment
        return None


def main():
    states = []
    retry = dict(max_tries=-1, delay=0.1, backoff=1.5, max_jitter=0.1, max_delay=1.0)
    c = KazooClient(hosts=HOSTS, timeout=30.0, randomize_hosts=False,
                    connection_retry=retry, command_retry=dict(retry, deadline=60))
    c.add_listener(lambda s: states.append(str(s)))
    c.start(timeout=30)
    RESULT["session_before"] = "0x%x" % c.client_id[0]
    RESULT["port_before"] = peer_port(c)
    RESULT["negotiated_timeout_ms"] = c._session_timeout
    c.create(BASE, b"base")
    for i in range(N_BEFORE):
        c.create("%s/n%d" % (BASE, i), b"v%d" % i)
    emit({"phase": "ready", "session": "0x%x" % c.client_id[0], "port": peer_port(c)})

    line = sys.stdin.readline()
    if line.strip() != "go":
        raise RuntimeError("expected 'go' on stdin, got %r" % line)
    t0 = time.time()
    found_after_retry = []

    def make(i):
        path, data = "%s/n%d" % (BASE, i), b"v%d" % i
        try:
            c.create(path, data)
        except NodeExistsError:
            # Only a retry of our own create, whose first attempt did go through, may find it.
            got = c.get(path)[0]
            if got != data:
                raise
            found_after_retry.append(i)

    for i in range(N_BEFORE, N_BEFORE + N_AFTER):
        c.retry(make, i)
    RESULT["after_writes_s"] = round(time.time() - t0, 2)
    RESULT["found_after_retry"] = found_after_retry
    RESULT["session_after"] = "0x%x" % c.client_id[0]
    RESULT["port_after"] = peer_port(c)
    kids = c.get_children(BASE)
    RESULT["children"] = len(kids)
    RESULT["values_ok"] = all(c.get("%s/n%d" % (BASE, i))[0] == b"v%d" % i for i in range(N_BEFORE + N_AFTER))
    RESULT["states"] = list(states)
    c.stop()
    c.close()
    RESULT["states_final"] = list(states)


if __name__ == "__main__":
    t = threading.Timer(150, watchdog)
    t.daemon = True
    t.start()
    try:
        main()
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        import traceback
        RESULT["exception"] = "%s: %s" % (type(e).__name__, e)
        RESULT["traceback"] = traceback.format_exc()
    finish(0)
