"""CRUD through kazoo: create/makepath/sequence, get, set with versions, children, delete, and the errors."""
from kz_common import BASE, RESULT, client, err_name, run, stat_dict


def main():
    zk = client()
    r = RESULT
    r["create"] = zk.create(BASE, b"v0")
    r["create_makepath"] = zk.create(BASE + "/a/b/c", b"deep", makepath=True)
    r["create_seq"] = [zk.create(BASE + "/s-", b"", sequence=True) for _ in range(3)]
    r["create_existing"] = err_name(lambda: zk.create(BASE, b"again"))
    r["create_no_parent"] = err_name(lambda: zk.create(BASE + "/x/y", b""))
    data, st = zk.get(BASE)
    r["get"] = {"data": data.decode(), "stat": stat_dict(st)}
    r["set"] = stat_dict(zk.set(BASE, b"v1", version=0))
    r["set_bad_version"] = err_name(lambda: zk.set(BASE, b"v2", version=0))
    r["get_after_set"] = zk.get(BASE)[0].decode()
    r["exists"] = stat_dict(zk.exists(BASE))
    r["exists_missing"] = stat_dict(zk.exists(BASE + "/missing"))
    r["get_missing"] = err_name(lambda: zk.get(BASE + "/missing"))
    r["children"] = sorted(zk.get_children(BASE))
    kids, kst = zk.get_children(BASE, include_data=True)
    r["children_stat"] = stat_dict(kst)
    r["delete_not_empty"] = err_name(lambda: zk.delete(BASE + "/a"))
    r["delete_bad_version"] = err_name(lambda: zk.delete(BASE + "/a/b/c", version=5))
    r["delete_leaf"] = err_name(lambda: zk.delete(BASE + "/a/b/c", version=0))
    r["delete_recursive"] = err_name(lambda: zk.delete(BASE + "/a", recursive=True))
    r["children_after_delete"] = sorted(zk.get_children(BASE))
    r["big_value_len"] = len(zk.get(zk.create(BASE + "/big", b"x" * 500000))[0])
    r["unicode"] = zk.get(zk.create(BASE + "/\u00fcn\u00efc\u00f8d\u00e9", "h\u00e9llo".encode()))[0].decode()
    zk.delete(BASE, recursive=True)
    r["gone"] = zk.exists(BASE) is None
    r["get_gone"] = err_name(lambda: zk.get(BASE))


run(main)
