"""Shared plumbing for the kazoo interop scenarios.

Each scenario script is run as `/usr/bin/python3 <script> <hosts> <base-path>`
and prints exactly one JSON object on its last stdout line: observations,
not verdicts. The jest side (kazoo.test.ts) decides what is right, so that
the same script can be checked against our server and Apache ZooKeeper.

A watchdog prints whatever was observed so far and exits with code 3 if a
scenario runs longer than its budget, so a hung server never hangs the test.
"""
import json
import logging
import os
import sys
import threading

from kazoo.client import KazooClient

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

HOSTS = sys.argv[1]
BASE = sys.argv[2]
RESULT = {}
_clients = []
_printed = threading.Lock()


def emit(exit_code=0):
    """Prints RESULT as the final JSON line and exits (once, from any thread)."""
    if not _printed.acquire(blocking=False):
        return
    sys.stdout.write(json.dumps(RESULT, default=str, sort_keys=True) + "\n")
    sys.stdout.flush()
    os._exit(exit_code)


def _watchdog():
    RESULT["watchdog"] = "scenario exceeded its time budget"
    emit(3)


def start_watchdog(seconds):
    t = threading.Timer(seconds, _watchdog)
    t.daemon = True
    t.start()


def client(**kw):
    """A started KazooClient on HOSTS (closed by finish())."""
    c = KazooClient(hosts=HOSTS, timeout=10.0, **kw)
    c.start(timeout=15)
    _clients.append(c)
    return c


def close(c):
    """Stops (closeSession) and closes a client."""
    try:
        c.stop()
    finally:
        c.close()


def err_name(fn):
    """Runs fn; returns 'ok' or the kazoo exception class name it raised."""
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001 - the name is the observation
        return type(e).__name__


def stat_dict(st):
    return None if st is None else {
        "czxid": st.czxid, "mzxid": st.mzxid, "pzxid": st.pzxid,
        "version": st.version, "cversion": st.cversion, "aversion": st.aversion,
        "ephemeralOwner": st.ephemeralOwner, "dataLength": st.dataLength,
        "numChildren": st.numChildren,
    }


def finish():
    for c in _clients:
        try:
            close(c)
        except Exception:  # noqa: BLE001 - already closed by the scenario
            pass
    emit(0)


def run(main, budget_seconds=40):
    """Runs a scenario: watchdog, the scenario, then clean-up and the JSON line."""
    start_watchdog(budget_seconds)
    try:
        main()
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        import traceback
        RESULT["exception"] = "%s: %s" % (type(e).__name__, e)
        RESULT["traceback"] = traceback.format_exc()
    finish()
