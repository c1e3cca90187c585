"""kazoo's client.transaction(): check/create/set_data/delete, one committed, one rolled back by a failed check."""
from kz_common import BASE, RESULT, client, run, stat_dict
from kazoo.protocol.states import ZnodeStat


def describe(results):
    out = []
    for x in results:
        if isinstance(x, Exception):
            out.append({"error": type(x).__name__})
        elif isinstance(x, ZnodeStat):
            out.append({"stat_version": x.version})
        else:
            out.append({"value": x})
    return out


def main():
    zk = client()
    r = RESULT
    zk.create(BASE, b"")
    zk.create(BASE + "/checked", b"c")
    zk.create(BASE + "/doomed", b"d")

    t = zk.transaction()
    t.check(BASE + "/checked", 0)
    t.create(BASE + "/made", b"new")
    t.set_data(BASE + "/checked", b"c2")
    t.delete(BASE + "/doomed")
    r["ok_results"] = describe(t.commit())
    r["ok_state"] = {
        "made": zk.get(BASE + "/made")[0].decode(),
        "checked": zk.get(BASE + "/checked")[0].decode(),
        "checked_version": zk.exists(BASE + "/checked").version,
        "doomed_exists": zk.exists(BASE + "/doomed") is not None,
    }

    # Fails at the check (the version is 1 now): nothing may be applied.
    before = stat_dict(zk.exists(BASE))
    t = zk.transaction()
    t.create(BASE + "/phantom", b"p")
    t.check(BASE + "/checked", 0)
    t.set_data(BASE + "/made", b"never")
    t.delete(BASE + "/made")
    r["fail_results"] = describe(t.commit())
    r["fail_state"] = {
        "phantom_exists": zk.exists(BASE + "/phantom") is not None,
        "made": zk.get(BASE + "/made")[0].decode(),
        "parent_unchanged": stat_dict(zk.exists(BASE)) == before,
    }

    # Fails in the middle: the create of an existing node.
    t = zk.transaction()
    t.set_data(BASE + "/made", b"never2")
    t.create(BASE + "/made", b"dup")
    t.delete(BASE + "/checked")
    r["fail_mid_results"] = describe(t.commit())
    r["fail_mid_state"] = {
        "made": zk.get(BASE + "/made")[0].decode(),
        "checked_exists": zk.exists(BASE + "/checked") is not None,
    }
    zk.delete(BASE, recursive=True)


run(main)
