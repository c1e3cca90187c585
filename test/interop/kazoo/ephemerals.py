"""Ephemeral nodes through kazoo: owned by the creating session, gone (with a watch firing) once that client closes."""
import time

from kz_common import BASE, RESULT, client, close, err_name, run


def main():
    owner = client()
    other = client()
    r = RESULT
    other.create(BASE, b"")
    r["owner_session"] = owner.client_id[0]
    e1 = owner.create(BASE + "/e", b"eph", ephemeral=True)
    e2 = owner.create(BASE + "/es-", b"", ephemeral=True, sequence=True)
    r["paths"] = [e1, e2]
    r["owners"] = [other.exists(p).ephemeralOwner for p in (e1, e2)]
    r["child_of_ephemeral"] = err_name(lambda: owner.create(e1 + "/kid", b""))
    events = []
    other.exists(e1, watch=events.append)
    close(owner)
    deadline = time.time() + 10
    while (not events or other.exists(e2) is not None) and time.time() < deadline:
        time.sleep(0.05)
    r["deleted_event"] = [{"type": e.type, "path": e.path} for e in events]
    r["after_close"] = [other.exists(p) is None for p in (e1, e2)]
    r["children_after_close"] = other.get_children(BASE)
    other.delete(BASE, recursive=True)


run(main)
