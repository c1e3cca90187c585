"""Runs kazoo's own TestReconfig (kazoo/tests/test_client.py, unchanged)
against an ensemble that is already running at HOSTS.

kazoo's harness normally starts its own Java cluster (get_global_cluster);
here its cluster is replaced by the given hosts, so the test methods run
against whatever serves them. The cluster must have reconfigEnabled=true,
the 4lw `envi` (kazoo reads the server version), and the super digest
kazoo's harness configures ("super:test").

The Debian python has neither `mock` nor `pytest`: test_client.py imports
both, and TestReconfig only uses pytest.raises and pytest.skip, so small
stand-ins are installed first (unittest.mock for mock).

Prints one JSON line: how many tests ran, and the failures, errors and
skips by test name.
"""
import json
import logging
import sys
import types
import unittest
import unittest.mock

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
HOSTS = sys.argv[1]

sys.modules.setdefault("mock", unittest.mock)


class _Raises(object):
    def __init__(self, exc):
        self.exc = exc

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            raise AssertionError("DID NOT RAISE %s" % self.exc)
        return issubclass(exc_type, self.exc)


def _skip(msg=""):
    raise unittest.SkipTest(msg)


_pytest = types.ModuleType("pytest")
_pytest.raises = _Raises
_pytest.skip = _skip
sys.modules.setdefault("pytest", _pytest)

import kazoo.testing.harness as harness  # noqa: E402


class _Server(object):
    def __init__(self, address):
        self.address = address
        self.running = True


class _Cluster(list):
    def start(self):
        pass

    def terminate(self):
        pass


harness.CLUSTER = _Cluster(_Server(h) for h in HOSTS.split(","))
harness.get_global_cluster = lambda: harness.CLUSTER

from kazoo.tests.test_client import TestReconfig  # noqa: E402

suite = unittest.defaultTestLoader.loadTestsFromTestCase(TestReconfig)
names = sorted(t.id().split(".")[-1] for t in suite)  # the suite forgets its tests as they run
result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2).run(suite)
print(json.dumps({
    "ran": result.testsRun,
    "names": names,
    "failures": {t.id().split(".")[-1]: tb for t, tb in result.failures},
    "errors": {t.id().split(".")[-1]: tb for t, tb in result.errors},
    "skipped": {t.id().split(".")[-1]: why for t, why in result.skipped},
}, sort_keys=True))
sys.stdout.flush()
