"""Digest ACLs through kazoo: add_auth + make_digest_acl; another client gets NoAuth until it authenticates."""
from kz_common import BASE, RESULT, client, err_name, run
from kazoo.security import make_acl, make_digest_acl, make_digest_acl_credential


def main():
    alice = client()
    eve = client()
    r = RESULT
    alice.add_auth("digest", "alice:alice-pw")
    alice.create(BASE, b"")
    acl = [make_digest_acl("alice", "alice-pw", all=True)]
    alice.create(BASE + "/private", b"secret", acl=acl)
    r["expected_id"] = make_digest_acl_credential("alice", "alice-pw")
    acls, st = alice.get_acls(BASE + "/private")
    r["acl"] = [{"perms": a.perms, "scheme": a.id.scheme, "id": a.id.id} for a in acls]
    r["owner_get"] = alice.get(BASE + "/private")[0].decode()
    r["owner_set"] = err_name(lambda: alice.set(BASE + "/private", b"secret2"))
    r["other_get"] = err_name(lambda: eve.get(BASE + "/private"))
    r["other_set"] = err_name(lambda: eve.set(BASE + "/private", b"x"))
    r["other_create_child"] = err_name(lambda: eve.create(BASE + "/private/kid", b""))
    r["other_get_acls"] = err_name(lambda: eve.get_acls(BASE + "/private"))
    # exists needs no permission at all.
    r["other_exists"] = eve.exists(BASE + "/private") is not None

    # Read-only for the world, everything for alice.
    mixed = [make_acl("world", "anyone", read=True), make_digest_acl("alice", "alice-pw", all=True)]
    alice.create(BASE + "/readable", b"pub", acl=mixed)
    r["other_read_readable"] = eve.get(BASE + "/readable")[0].decode()
    r["other_write_readable"] = err_name(lambda: eve.set(BASE + "/readable", b"x"))

    # Wrong password: still NoAuth; right password: allowed.
    eve.add_auth("digest", "alice:wrong")
    r["wrong_password_get"] = err_name(lambda: eve.get(BASE + "/private"))
    eve.add_auth("digest", "alice:alice-pw")
    r["right_password_get"] = eve.get(BASE + "/private")[0].decode()

    # An unknown auth scheme: AuthFailed.
    stranger = client()
    r["unknown_scheme"] = err_name(lambda: stranger.add_auth("nosuchscheme", "x"))

    # setACL by a client lacking ADMIN: NoAuth; by alice: ok, aversion bumped.
    plain = client()
    r["other_set_acls"] = err_name(lambda: plain.set_acls(BASE + "/private", [make_acl("world", "anyone", all=True)]))
    st = alice.set_acls(BASE + "/private", [make_acl("world", "anyone", all=True)])
    r["aversion_after_set_acls"] = st.aversion
    r["plain_get_after_open"] = plain.get(BASE + "/private")[0].decode()
    alice.delete(BASE, recursive=True)


run(main)
