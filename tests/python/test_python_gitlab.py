"""usergraph driven by the real python-gitlab client, as existing GitLab scripts would use it.

Run by tests/python/run.sh against a server it starts; needs GITLAB_URL and GITLAB_TOKEN (the root
administrator's token).
"""

import base64
import hashlib
import os
import struct
import uuid

import gitlab
import pytest

URL = os.environ["GITLAB_URL"]
TOKEN = os.environ["GITLAB_TOKEN"]

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEb72a9o6zaXBpD6CUrdhsHpXR//tXLOR4av4CSipdw6 test@ed25519"
ECDSA = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBNJQQ/nsemx2vX7p/QYgd1ki8OIw0gMAXak/"
    "9as1ZcRlloD2UiXfZ4Ayf3CDl+weHAM9IlM6637m/+/ZW1hh154= test@ecdsab256"
)


@pytest.fixture(scope="module")
def gl():
    client = gitlab.Gitlab(URL, private_token=TOKEN)
    client.auth()
    return client


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def new_user(gl, **extra):
    name = unique("u")
    attrs = {
        "email": f"{name}@example.com",
        "username": name,
        "name": name.title(),
        "password": "s3cret-password",
        "skip_confirmation": True,
    }
    attrs.update(extra)
    return gl.users.create(attrs)


def test_current_user(gl):
    assert gl.user.username == "root"
    assert gl.user.is_admin is True


def test_users_crud(gl):
    user = new_user(gl, bio="hello", provider="github", extern_uid=unique("gh"))
    assert user.bio == "hello"
    assert user.identities[0]["provider"] == "github"
    user.bio = "changed"
    user.save()
    assert gl.users.get(user.id).bio == "changed"
    assert gl.users.list(username=user.username)[0].id == user.id
    assert [u.id for u in gl.users.list(search=user.username)] == [user.id]
    user.delete()
    with pytest.raises(gitlab.exceptions.GitlabGetError) as err:
        gl.users.get(user.id)
    assert err.value.response_code == 404


def test_conflicts_and_validation(gl):
    user = new_user(gl)
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        gl.users.create({"email": user.email.upper(), "username": unique("x"), "name": "x", "password": "s3cret-password"})
    assert err.value.response_code == 409
    assert "Email has already been taken" in str(err.value)
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        gl.users.create({"email": f"{unique('y')}@example.com", "username": unique("y"), "name": "y", "password": "short"})
    assert err.value.response_code == 400
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        gl.users.create({"username": unique("z"), "name": "z", "password": "s3cret-password"})
    assert err.value.response_code == 400
    assert "email is missing" in str(err.value)


def test_block_and_unblock(gl):
    user = new_user(gl)
    assert user.block() is True
    assert user.state == "blocked"
    assert gl.users.get(user.id).state == "blocked"
    assert user.unblock() is True
    assert user.state == "active"


def test_keys_and_emails_for_a_user(gl):
    user = new_user(gl)
    key = user.keys.create({"title": "laptop", "key": ED25519})
    assert key.title == "laptop"
    assert [k.title for k in user.keys.list()] == ["laptop"]
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        new_user(gl).keys.create({"title": "dup", "key": ED25519})
    assert err.value.response_code == 400
    key.delete()
    assert user.keys.list() == []

    address = f"{unique('second')}@example.com"
    email = user.emails.create({"email": address})
    assert email.email == address
    assert [e.email for e in user.emails.list()] == [address]
    email.delete()
    assert user.emails.list() == []


def test_impersonation_tokens(gl):
    user = new_user(gl)
    token = user.impersonationtokens.create({"name": "impersonate", "scopes": ["api"]})
    assert token.impersonation is True
    assert token.active is True
    acting = gitlab.Gitlab(URL, private_token=token.token)
    acting.auth()
    assert acting.user.username == user.username
    # The acting user manages their own keys through /user/keys.
    own = acting.user.keys.create({"title": "own", "key": ECDSA})
    assert [k.title for k in acting.user.keys.list()] == ["own"]
    own.delete()
    assert [t.name for t in user.impersonationtokens.list(state="active")] == ["impersonate"]
    token.delete()
    assert user.impersonationtokens.list(state="active") == []
    assert user.impersonationtokens.get(token.id).revoked is True
    with pytest.raises(gitlab.exceptions.GitlabAuthenticationError):
        gitlab.Gitlab(URL, private_token=token.token).auth()


def test_personal_access_tokens(gl):
    user = new_user(gl)
    created = user.personal_access_tokens.create({"name": "deploy", "scopes": ["read_api", "self_rotate"]})
    assert created.scopes == ["read_api", "self_rotate"]
    acting = gitlab.Gitlab(URL, private_token=created.token)
    acting.auth()
    assert acting.user.username == user.username
    # The user sees their own tokens; an admin filters by user.
    assert [t.name for t in acting.personal_access_tokens.list()] == ["deploy"]
    assert [t.id for t in gl.personal_access_tokens.list(user_id=user.id)] == [created.id]
    mine = acting.personal_access_tokens.get("self")
    assert (mine.id, mine.active) == (created.id, True)
    # The token rotates itself: the old value stops working, the new one works.
    rotated = mine.rotate(self_rotate=True)
    assert rotated["id"] != created.id and mine.token == rotated["token"]
    with pytest.raises(gitlab.exceptions.GitlabAuthenticationError):
        gitlab.Gitlab(URL, private_token=created.token).auth()
    again = gitlab.Gitlab(URL, private_token=rotated["token"])
    again.auth()
    # Rotating the revoked token by id: GitLab's 400.
    with pytest.raises(gitlab.exceptions.GitlabRotateError) as err:
        gl.personal_access_tokens.rotate(created.id)
    assert err.value.response_code == 400
    # An admin rotates by id with a chosen expiry, then revokes.
    newest = gl.personal_access_tokens.rotate(rotated["id"], expires_at="2099-01-31")
    assert newest["expires_at"] == "2099-01-31"
    gl.personal_access_tokens.delete(newest["id"])
    assert gl.personal_access_tokens.get(newest["id"]).revoked is True
    assert gl.personal_access_tokens.list(user_id=user.id, state="active") == []
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        user.personal_access_tokens.create({"name": "bad", "scopes": ["write_everything"]})
    assert err.value.response_code == 400


def test_profile_fields_round_trip(gl):
    name = unique("pub")
    user = new_user(
        gl, username=name, email=f"{name}@example.com", public_email=f"{name}@example.com", theme_id=2,
        pronouns="they/them", job_title="Tester",
    )
    fetched = gl.users.get(user.id)
    assert fetched.public_email == f"{name}@example.com"
    assert (fetched.theme_id, fetched.pronouns, fetched.job_title) == (2, "they/them", "Tester")
    assert [u.id for u in gl.users.list(public_email=f"{name}@example.com", without_project_bots=True)] == [user.id]
    user.public_email = ""
    user.theme_id = 3
    user.save()
    fetched = gl.users.get(user.id)
    assert (fetched.public_email, fetched.theme_id) == (None, 3)
    user.public_email = "someone-else@example.com"
    with pytest.raises(gitlab.exceptions.GitlabUpdateError) as err:
        user.save()
    assert err.value.response_code == 400


def test_user_status(gl):
    user = new_user(gl)
    token = user.personal_access_tokens.create({"name": "status", "scopes": ["api"]})
    acting = gitlab.Gitlab(URL, private_token=token.token)
    acting.auth()
    status = acting.user.status.get()
    assert status.emoji is None
    status.emoji = "coffee"
    status.message = "Brewing"
    status.save()
    seen = user.status.get()
    assert (seen.emoji, seen.message, seen.message_html) == ("coffee", "Brewing", "Brewing")
    status.emoji = "not_an_emoji"
    with pytest.raises(gitlab.exceptions.GitlabUpdateError) as err:
        status.save()
    assert err.value.response_code == 400


def test_follow(gl):
    ann, ben = new_user(gl), new_user(gl)
    token = ann.personal_access_tokens.create({"name": "follow", "scopes": ["api"]})
    acting = gitlab.Gitlab(URL, private_token=token.token)
    followed = acting.users.get(ben.id, lazy=True).follow()
    assert followed["username"] == ben.username
    with pytest.raises(gitlab.exceptions.GitlabFollowError) as err:
        acting.users.get(ben.id, lazy=True).follow()
    assert err.value.response_code == 304
    assert [u.username for u in ben.followers_users.list()] == [ann.username]
    assert [u.username for u in ann.following_users.list()] == [ben.username]
    acting.users.get(ben.id, lazy=True).unfollow()
    assert ben.followers_users.list() == []


def gpg_public_key(user_id):
    """A new OpenPGP public key made by gpg, in a home of its own."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as home:
        run = lambda *args: subprocess.run(
            ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "", *args],
            env={**os.environ, "GNUPGHOME": home}, check=True, capture_output=True, text=True,
        ).stdout
        run("--quick-gen-key", user_id, "ed25519", "default", "never")
        key = run("--armor", "--export")
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": home})
        return key


def test_gpg_keys(gl):
    user = new_user(gl)
    token = user.personal_access_tokens.create({"name": "gpg", "scopes": ["api"]})
    acting = gitlab.Gitlab(URL, private_token=token.token)
    acting.auth()
    public = gpg_public_key(f"{user.username} <{user.email}>")
    mine = acting.user.gpgkeys.create({"key": public})
    assert mine.key == public.strip()
    assert [k.id for k in acting.user.gpgkeys.list()] == [mine.id]
    # Reading a user's keys needs no token at all.
    anonymous = gitlab.Gitlab(URL)
    assert anonymous.users.get(user.id, lazy=True).gpgkeys.get(mine.id).key == public.strip()
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        acting.user.gpgkeys.create({"key": public})
    assert err.value.response_code == 400
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        acting.user.gpgkeys.create({"key": public[: len(public) // 2]})
    assert err.value.response_code == 400
    mine.delete()
    assert acting.user.gpgkeys.list() == []
    # An admin adds and deletes one for the user.
    theirs = user.gpgkeys.create({"key": gpg_public_key(f"Other <{unique('o')}@example.com>")})
    assert [k.id for k in user.gpgkeys.list()] == [theirs.id]
    user.gpgkeys.delete(theirs.id)
    assert user.gpgkeys.list() == []


def test_private_profile(gl):
    user = new_user(gl, private_profile=True, bio="kept to myself")
    assert gl.users.get(user.id).private_profile is True
    anonymous = gitlab.Gitlab(URL)
    seen = anonymous.users.get(user.id)
    assert seen.username == user.username
    assert not hasattr(seen, "bio")
    user.private_profile = False
    user.save()
    assert anonymous.users.get(user.id).bio == "kept to myself"


def test_pagination_over_several_pages(gl):
    created = {new_user(gl, name=f"Paged {i}").id for i in range(25)}
    everyone = gl.users.list(get_all=True, per_page=10)
    ids = [u.id for u in everyone]
    assert len(ids) == len(set(ids))
    assert created <= set(ids)
    page = gl.users.list(per_page=10, page=2)
    assert len(page) == 10
    lazy = gl.users.list(iterator=True, per_page=7)
    assert lazy.total == len(ids)
    assert lazy.total_pages == -(-len(ids) // 7)
    assert len(list(lazy)) == len(ids)
    # Filters survive the page links.
    searched = gl.users.list(search="Paged", get_all=True, per_page=4)
    assert {u.id for u in searched} == created


def test_keyset_pagination(gl):
    created = {new_user(gl, name=f"Keyset {i}").id for i in range(9)}
    lazy = gl.users.list(pagination="keyset", order_by="id", sort="asc", per_page=2, iterator=True, search="Keyset")
    ids = [u.id for u in lazy]
    assert ids == sorted(created)
    newest_first = gl.users.list(
        pagination="keyset", order_by="id", per_page=4, get_all=True, search="Keyset"
    )
    assert [u.id for u in newest_first] == sorted(created, reverse=True)


def test_newer_list_filters(gl):
    boss = new_user(gl, admin=True)
    admins = {u.id for u in gl.users.list(admins=True, get_all=True)}
    assert boss.id in admins
    assert all(u.is_admin for u in gl.users.list(admins=True, get_all=True))
    gone = new_user(gl)
    gone.block()
    blocked = {u.id for u in gl.users.list(exclude_active=True, get_all=True)}
    assert gone.id in blocked and boss.id not in blocked


def random_ed25519():
    """A fresh OpenSSH ed25519 public key and its SHA256 fingerprint."""
    blob = b"".join(struct.pack(">I", len(part)) + part for part in (b"ssh-ed25519", os.urandom(32)))
    fingerprint = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return "ssh-ed25519 " + base64.b64encode(blob).decode(), fingerprint


def test_identity_providers_two_factor_and_keys(gl):
    user = new_user(gl, extern_uid=unique("uid"), provider="github")
    assert [i["provider"] for i in gl.users.get(user.id).identities] == ["github"]
    user.identityproviders.delete("github")
    assert gl.users.get(user.id).identities == []
    with pytest.raises(gitlab.exceptions.GitlabDeleteError):
        user.identityproviders.delete("github")
    key, fingerprint = random_ed25519()
    created = user.keys.create({"title": "laptop", "key": key})
    found = gl.keys.get(fingerprint=fingerprint)
    assert found.id == created.id
    assert found.user["username"] == user.username
    assert gl.keys.get(created.id).title == "laptop"
    # A user's keys by username, as today's GitLab serves them.
    listed = gl.http_get(f"/users/{user.username}/keys")
    assert [k["id"] for k in listed] == [created.id]


def test_custom_attributes(gl):
    user = new_user(gl)
    tag = unique("team")
    user.customattributes.set("team", tag)
    user.customattributes.set("office", "Ghent")
    assert {a.key: a.value for a in user.customattributes.list()} == {"team": tag, "office": "Ghent"}
    assert user.customattributes.get("team").value == tag
    found = gl.users.list(custom_attributes={"team": tag}, get_all=True)
    assert [u.id for u in found] == [user.id]
    user.customattributes.delete("office")
    assert [a.key for a in user.customattributes.list()] == ["team"]
    with pytest.raises(gitlab.exceptions.GitlabGetError):
        user.customattributes.get("office")


def test_deactivate_activate_ban_unban(gl):
    user = new_user(gl)
    assert user.deactivate() is True
    assert gl.users.get(user.id).state == "deactivated"
    assert user.activate() is True
    assert gl.users.get(user.id).state == "active"
    assert user.ban() is True
    assert gl.users.get(user.id).state == "banned"
    with pytest.raises(gitlab.exceptions.GitlabBanError):
        user.ban()
    assert user.unban() is True
    assert gl.users.get(user.id).state == "active"


def test_sudo(gl):
    user = new_user(gl)
    me = gl.http_get("/user", sudo=user.id)
    assert me["username"] == user.username
    assert me["private_token"]


def test_bad_token():
    with pytest.raises(gitlab.exceptions.GitlabAuthenticationError):
        gitlab.Gitlab(URL, private_token="glpat-not-a-real-token").auth()


def test_activities_and_events(gl):
    activities = gl.user_activities.list(get_all=True)
    assert "root" in [a.username for a in activities]
    user = new_user(gl)
    assert user.events.list() == []


def test_graphql_client():
    client = gitlab.GraphQL(URL, token=TOKEN)
    result = client.execute("query { currentUser { username isAdmin } }")
    assert result["currentUser"] == {"username": "root", "isAdmin": True}
