"""A kazoo contender for the recipe interop tests: takes kazoo's Lock (or
wins kazoo's Election) on a path `rounds` times, printing READY once
connected, HOLD right after it holds, FREE right before it lets go (then
waits 30 ms so the line reaches the test first), DONE at the end.
Usage: kazoo-contender.py <hosts> <lock|election> <path> <rounds> <hold_ms>"""
import sys
import time

from kazoo.client import KazooClient


def say(s):
    sys.stdout.write(s + "\n")
    sys.stdout.flush()


def main():
    hosts, kind, path, rounds, hold_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    zk = KazooClient(hosts=hosts, timeout=10)
    zk.start(timeout=30)
    say("READY")

    def lead():
        say("HOLD")
        time.sleep(hold_ms / 1000.0)
        say("FREE")
        time.sleep(0.03)

    for _ in range(rounds):
        if kind == "lock":
            lock = zk.Lock(path, "kazoo")
            with lock:
                lead()
        else:
            zk.Election(path, "kazoo").run(lead)
    say("DONE")
    zk.stop()
    zk.close()


if __name__ == "__main__":
    main()
