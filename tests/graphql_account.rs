//! SSH keys, e-mails, tokens, events and activities over GraphQL.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{Duration, Utc};
use entity::{email, event, ssh_key, token};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::common::{TestApp, each_backend};

pub const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEb72a9o6zaXBpD6CUrdhsHpXR//tXLOR4av4CSipdw6 test@ed25519";
pub const RSA2048: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC9RKtNJpqWPnf4sugD1KlbvgEi29VRqEGC4k9TZ85TPwVRU+2KMwNhxiGtP7VwWJ2xLkrJgwnXLkC6M2pky2guOClE71S/LN1jGx5lmGj/W0BnERgzdl6S9ZfmGS6+6vJu70+D+51eIlG1XA8YOwnn6nAQjlxaEPDaL/Gxik1A3VycgEbX6xOBvE7VhL9fnPanS64PxNAaBEzt3+Fmd2l8XOsbpyFxFJVNfwhRdfEPx23L/OgCN0hw2H44gs+4md81TQn2DGcYBPKltWljj0N61FrhiLaI+jayY1QCpVh5nPB6em+KnJuhoO1m1Zv+G4CdFKYIu1cQjvZUP1/CPp/H test@rsab2048";
pub const RSA1024: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCyQHl1MWFWbN4+4NGG39FJip1MsXc19wubkyITPjJgDNL+Td/8UIToso5089FcWCFUwCgI2sK6gBt+awFThUJSOIoWaY6BSNYxEY51c0wbU/WvFSsB1KdVEhognCyhO5K1itCFZ3TFuehVseN6PhD1bIw7/qxjLAEDsiAPnLIOiQ== test@rsab1024";
pub const DSA: &str = "ssh-dss AAAAB3NzaC1kc3MAAACBAOqUKVAktDwgBPGqAjcTRc6FsLP2XdNJAVEvOTJ57opkF9PTfdZYvtfHOu3xkXZA/kexjmtucmQDGUi3jLiDNnj0Uw5c/gZoD9ZkQvtkptIBINemFtzHtb/9G+VARAG00+0eiQ7Wnmfm7C9rR9bks33PfjWG9ymO3D8/79io8XlvAAAAFQDquMflQZADJNKtCF4aHLoGJz2ovwAAAIEAuUww/Wf5KAdZi5/ZtKMaAcyewdeCobyonzJmJBziIbpZkVr8fE1Q4ScvkqCoIIu4mEyRMu+UAalnRg69LbYsq05wyXofuhfJrDq+Prhw3hQoeIaxm0b6yHsVgRqCWLliauuUKxjcahzRbjcrxjWN89aXGiBWfUHTUMCRzqnwQJMAAAB/ctnAt//nYcqKtr9UG7HHkfvX/uAtggUgAIH3JZpb3wWGSmxilxvhiwA5ACl36XQONLE6ZZiTdXiU50GJbb4iPmlSCHfasp0XMHPjLqRgVVBEPSObvou25d3JTSt4joHQxTzF5/JEGfKo5G2Fi8vZ3nEew/Oc4FEWBQIeSWpuRg== test@dsa";
pub const ECDSA256: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBNJQQ/nsemx2vX7p/QYgd1ki8OIw0gMAXak/9as1ZcRlloD2UiXfZ4Ayf3CDl+weHAM9IlM6637m/+/ZW1hh154= test@ecdsab256";
pub const ECDSA384: &str = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBKaG3rfvLTYXNmME779IFkT3yqMjIU65fx08UU73M5ivi6MozRshAiADpyk3kNstlQlIiYPWdQ22m/2nV/PiMx960AJBCcDz0Vlv794WA9DYpbKnGan8bXHutlAFazRvmQ== test@ecdsab384";

fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

fn wire(kind: &str, parts: &[&[u8]]) -> String {
    let mut blob = Vec::new();
    ssh_string(&mut blob, kind.as_bytes());
    for p in parts {
        ssh_string(&mut blob, p);
    }
    format!("{kind} {}", B64.encode(blob))
}

/// The fields of an OpenSSH key blob after its type.
fn blob_parts(key: &str) -> Vec<Vec<u8>> {
    let raw = B64.decode(key.split(' ').nth(1).unwrap()).unwrap();
    let mut parts = Vec::new();
    let mut i = 0;
    while i + 4 <= raw.len() {
        let n = u32::from_be_bytes(raw[i..i + 4].try_into().unwrap()) as usize;
        parts.push(raw[i + 4..i + 4 + n].to_vec());
        i += 4 + n;
    }
    parts.remove(0);
    parts
}

pub fn sk_ed25519() -> String {
    let pk = &blob_parts(ED25519)[0];
    wire("sk-ssh-ed25519@openssh.com", &[pk, b"ssh:"])
}

pub fn sk_ecdsa() -> String {
    let p = blob_parts(ECDSA256);
    wire("sk-ecdsa-sha2-nistp256@openssh.com", &[&p[0], &p[1], b"ssh:"])
}

pub fn rsa_bits(bits: usize) -> String {
    let mut n = vec![0u8];
    n.extend(std::iter::repeat_n(0xC3u8, bits / 8));
    wire("ssh-rsa", &[&[1, 0, 1], &n])
}

const ADD_KEY: &str = "mutation($input: AddSshKeyInput!) { addSshKey(input: $input) { key {
    id userId title key keyType fingerprint fingerprintSha256 createdAt expiresAt } } }";
const DELETE_KEY: &str = "mutation($input: DeleteSshKeyInput!) { deleteSshKey(input: $input) { key { id title } } }";

fn field_error(res: &crate::common::Res, field: &str) -> Value {
    assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.body);
    res.body["errors"][0]["extensions"]["fields"][field].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_keys_of_every_type() {
    each_backend(|app| async move {
        let u = app.user("keyholder").await;
        let tok = Some(u.token.as_str());
        let res = app
            .gql(
                tok,
                ADD_KEY,
                json!({ "input": { "title": "laptop", "key": format!("  {ED25519}\n") } }),
            )
            .await;
        let k = &res.data()["addSshKey"]["key"];
        assert_eq!(k["title"], "laptop");
        assert_eq!(k["key"], ED25519);
        assert_eq!(k["keyType"], "ssh-ed25519");
        assert_eq!(k["userId"], u.id.to_string());
        assert_eq!(k["fingerprint"], "dc:82:27:47:99:c8:d3:fd:ea:ac:53:ac:49:88:5c:42");
        assert_eq!(
            k["fingerprintSha256"],
            "SHA256:5qtjFiFWBSurHbLqBWSzvE4hW8VAjqrTePnHufoAETA"
        );
        assert_eq!(k["expiresAt"], json!(null));

        for (key, kind) in [
            (RSA2048.to_string(), "ssh-rsa"),
            (ECDSA256.to_string(), "ecdsa-sha2-nistp256"),
            (ECDSA384.to_string(), "ecdsa-sha2-nistp384"),
            (sk_ed25519(), "sk-ssh-ed25519@openssh.com"),
            (sk_ecdsa(), "sk-ecdsa-sha2-nistp256@openssh.com"),
        ] {
            let res = app
                .gql(tok, ADD_KEY, json!({ "input": { "title": kind, "key": key } }))
                .await;
            assert_eq!(res.data()["addSshKey"]["key"]["keyType"], kind);
        }
        // GitLab's key restrictions, as configured by default: RSA under 2048 bits and DSA refused.
        for (key, message) in [
            (RSA1024, "must be at least 2048 bits"),
            (
                DSA,
                "type is forbidden. Must be RSA, ECDSA, ED25519, ECDSA_SK, or ED25519_SK",
            ),
        ] {
            let res = app
                .gql(tok, ADD_KEY, json!({ "input": { "title": "weak", "key": key } }))
                .await;
            assert_eq!(res.body["errors"][0]["extensions"]["fields"]["key"], json!([message]));
        }
        let expires = (Utc::now() + Duration::days(30)).to_rfc3339();
        let res = app
            .gql(
                tok,
                ADD_KEY,
                json!({ "input": { "title": "exp", "key": rsa_bits(4096), "expiresAt": expires } }),
            )
            .await;
        assert!(res.data()["addSshKey"]["key"]["expiresAt"].is_string());

        // Listed through the user and currentUser, oldest first, paged.
        let res = app
            .gql(
                tok,
                "{ currentUser { keys(first: 3) { totalCount nodes { title } pageInfo { hasNextPage } } } }",
                json!({}),
            )
            .await;
        let keys = &res.data()["currentUser"]["keys"];
        assert_eq!(keys["totalCount"], 7);
        assert_eq!(
            keys["nodes"],
            json!([{ "title": "laptop" }, { "title": "ssh-rsa" }, { "title": "ecdsa-sha2-nistp256" }])
        );
        assert_eq!(keys["pageInfo"]["hasNextPage"], true);
        assert_eq!(
            app.gql(tok, "{ currentUser { keys(first: 101) { totalCount } } }", json!({}))
                .await
                .code(),
            "BAD_USER_INPUT"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_key_refusals() {
    each_backend(|app| async move {
        let u = app.user("kr").await;
        let other = app.user("kr_other").await;
        let tok = Some(u.token.as_str());
        let add = |token: Option<String>, input: Value| {
            let app = app.clone();
            async move { app.gql(token.as_deref(), ADD_KEY, json!({ "input": input })).await }
        };
        let t = Some(u.token.clone());
        assert_eq!(
            field_error(
                &add(t.clone(), json!({ "title": "x", "key": "ssh-rsa notbase64" })).await,
                "key"
            ),
            json!(["is invalid"])
        );
        assert_eq!(
            field_error(&add(t.clone(), json!({ "title": "x", "key": "garbage" })).await, "key"),
            json!(["type is not supported"])
        );
        // An expiry the database cannot hold is refused, never stored as something else.
        let far = add(
            t.clone(),
            json!({ "title": "far", "key": ECDSA384, "expiresAt": "2999-01-01T00:00:00Z" }),
        )
        .await;
        if app.backend == crate::common::db::Backend::MySql {
            assert_eq!(
                field_error(&far, "expiresAt"),
                json!(["must be before 2038-01-19T03:14:07Z on this database"])
            );
            let stored = ssh_key::Entity::find()
                .filter(ssh_key::Column::Title.eq("far"))
                .count(app.db())
                .await
                .unwrap();
            assert_eq!(stored, 0);
        } else {
            assert_eq!(far.data()["addSshKey"]["key"]["expiresAt"], "2999-01-01T00:00:00+00:00");
            let id = far.data()["addSshKey"]["key"]["id"].as_str().unwrap().to_string();
            app.gql(tok, DELETE_KEY, json!({ "input": { "id": id } })).await.data();
        }
        let two_lines = format!("{ED25519}\n{RSA2048}");
        assert_eq!(
            field_error(&add(t.clone(), json!({ "title": "x", "key": two_lines })).await, "key"),
            json!(["should be a single line"])
        );
        assert_eq!(
            field_error(
                &add(t.clone(), json!({ "title": "x", "key": rsa_bits(768) })).await,
                "key"
            ),
            json!(["must be at least 2048 bits"])
        );
        assert_eq!(
            field_error(
                &add(t.clone(), json!({ "title": "x", "key": wire("ssh-foo", &[b"abc"]) })).await,
                "key"
            ),
            json!(["type is not supported"])
        );
        assert_eq!(
            field_error(
                &add(t.clone(), json!({ "title": "t".repeat(256), "key": ED25519 })).await,
                "title"
            ),
            json!(["is too long (maximum is 255 characters)"])
        );
        let past = (Utc::now() - Duration::days(1)).to_rfc3339();
        assert_eq!(
            field_error(
                &add(t.clone(), json!({ "title": "x", "key": ED25519, "expiresAt": past })).await,
                "expiresAt"
            ),
            json!(["must be in the future"])
        );
        assert_eq!(
            add(None, json!({ "title": "x", "key": ED25519 })).await.code(),
            "UNAUTHENTICATED"
        );

        // A fingerprint anyone already uses, even with another comment.
        add(t.clone(), json!({ "title": "mine", "key": ED25519 })).await.data();
        let same = ED25519.replace("test@ed25519", "someone@else");
        let res = add(Some(other.token.clone()), json!({ "title": "dup", "key": same })).await;
        assert_eq!(field_error(&res, "fingerprint"), json!(["has already been taken"]));

        // userId is for admins: 403 for users, 404 for a missing user.
        let res = add(
            t.clone(),
            json!({ "title": "x", "key": RSA2048, "userId": other.id.to_string() }),
        )
        .await;
        assert_eq!(res.code(), "FORBIDDEN");
        let admin = Some(app.admin().to_string());
        assert_eq!(
            add(
                admin.clone(),
                json!({ "title": "x", "key": RSA2048, "userId": "999999" })
            )
            .await
            .code(),
            "NOT_FOUND"
        );
        let res = add(
            admin.clone(),
            json!({ "title": "for other", "key": RSA2048, "userId": other.id.to_string() }),
        )
        .await;
        assert_eq!(res.data()["addSshKey"]["key"]["userId"], other.id.to_string());
        let n = ssh_key::Entity::find()
            .filter(ssh_key::Column::UserId.eq(u.id))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(n, 1, "no refused key was stored");

        // Reading: owner and admin see a key; others get null, and the user's keys field is guarded.
        let mine = ssh_key::Entity::find()
            .filter(ssh_key::Column::UserId.eq(u.id))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        let q = format!("{{ sshKey(id: \"{}\") {{ title }} }}", mine.id);
        assert_eq!(app.gql(tok, &q, json!({})).await.data()["sshKey"]["title"], "mine");
        assert_eq!(
            app.gql(Some(app.admin()), &q, json!({})).await.data()["sshKey"]["title"],
            "mine"
        );
        assert_eq!(
            app.gql(Some(&other.token), &q, json!({})).await.data()["sshKey"],
            json!(null)
        );
        let q = format!("{{ user(id: \"{}\") {{ keys {{ totalCount }} }} }}", u.id);
        let res = app.gql(Some(&other.token), &q, json!({})).await;
        assert_eq!(res.body["data"]["user"]["keys"], json!(null));
        assert_eq!(res.code(), "FORBIDDEN");
        assert_eq!(
            app.gql(Some(app.admin()), &q, json!({})).await.data()["user"]["keys"]["totalCount"],
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_key_deletion() {
    each_backend(|app| async move {
        let u = app.user("kd").await;
        let other = app.user("kd_other").await;
        let res = app
            .gql(
                Some(&u.token),
                ADD_KEY,
                json!({ "input": { "title": "k", "key": ED25519 } }),
            )
            .await;
        let id = res.data()["addSshKey"]["key"]["id"].as_str().unwrap().to_string();
        // Someone else's key by id: an idempotent null, and the key stays.
        let res = app
            .gql(Some(&other.token), DELETE_KEY, json!({ "input": { "id": id } }))
            .await;
        assert_eq!(res.data()["deleteSshKey"]["key"], json!(null));
        assert_eq!(ssh_key::Entity::find().count(app.db()).await.unwrap(), 1);
        // Admin naming the wrong user, or a missing user: NOT_FOUND.
        let admin = Some(app.admin());
        let res = app
            .gql(
                admin,
                DELETE_KEY,
                json!({ "input": { "id": id, "userId": other.id.to_string() } }),
            )
            .await;
        assert_eq!(
            (res.code(), res.body["errors"][0]["message"].clone()),
            ("NOT_FOUND".into(), json!("404 Key Not Found"))
        );
        let res = app
            .gql(admin, DELETE_KEY, json!({ "input": { "id": id, "userId": "999999" } }))
            .await;
        assert_eq!(res.body["errors"][0]["message"], "404 User Not Found");
        // The owner deletes it; again is an idempotent null.
        let res = app
            .gql(Some(&u.token), DELETE_KEY, json!({ "input": { "id": id } }))
            .await;
        assert_eq!(res.data()["deleteSshKey"]["key"]["title"], "k");
        let res = app
            .gql(Some(&u.token), DELETE_KEY, json!({ "input": { "id": id } }))
            .await;
        assert_eq!(res.data()["deleteSshKey"]["key"], json!(null));
        assert_eq!(ssh_key::Entity::find().count(app.db()).await.unwrap(), 0);
        // Admin deleting a user's key with userId.
        let res = app
            .gql(
                Some(&u.token),
                ADD_KEY,
                json!({ "input": { "title": "k2", "key": ED25519 } }),
            )
            .await;
        let id = res.data()["addSshKey"]["key"]["id"].as_str().unwrap().to_string();
        let res = app
            .gql(
                admin,
                DELETE_KEY,
                json!({ "input": { "id": id, "userId": u.id.to_string() } }),
            )
            .await;
        assert_eq!(res.data()["deleteSshKey"]["key"]["title"], "k2");
        let res = app
            .gql(
                admin,
                DELETE_KEY,
                json!({ "input": { "id": id, "userId": u.id.to_string() } }),
            )
            .await;
        assert_eq!(res.code(), "NOT_FOUND");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adds_of_one_key_or_address_store_it_once() {
    each_backend(|app| async move {
        let mut actors = Vec::new();
        for i in 0..4 {
            actors.push(app.user(&format!("racer{i}")).await);
        }
        let tasks = (0..50).map(|i| {
            let app = app.clone();
            let token = actors[i % 4].token.clone();
            async move {
                app.gql(
                    Some(&token),
                    ADD_KEY,
                    json!({ "input": { "title": format!("k{i}"), "key": ED25519 } }),
                )
                .await
            }
        });
        let results = futures::future::join_all(tasks).await;
        let ok = results.iter().filter(|r| r.body.get("errors").is_none()).count();
        assert_eq!(ok, 1, "{:?}", results.iter().map(|r| &r.body).collect::<Vec<_>>());
        for r in results.iter().filter(|r| r.body.get("errors").is_some()) {
            assert_eq!(field_error(r, "fingerprint"), json!(["has already been taken"]));
        }
        assert_eq!(ssh_key::Entity::find().count(app.db()).await.unwrap(), 1);
        assert!(results.iter().all(|r| r.status == 200), "never a 500");

        // The same secondary address from 50 clients: stored once.
        let tasks = (0..50).map(|i| {
            let app = app.clone();
            let token = actors[i % 4].token.clone();
            let addr = if i % 2 == 0 {
                "race@example.com"
            } else {
                "RACE@example.com"
            };
            async move {
                app.gql(Some(&token), ADD_EMAIL, json!({ "input": { "email": addr } }))
                    .await
            }
        });
        let results = futures::future::join_all(tasks).await;
        assert_eq!(results.iter().filter(|r| r.body.get("errors").is_none()).count(), 1);
        for r in results.iter().filter(|r| r.body.get("errors").is_some()) {
            assert_eq!(field_error(r, "email"), json!(["has already been taken"]));
        }
        let n = email::Entity::find()
            .filter(email::Column::EmailCanonical.eq("race@example.com"))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(n, 1);
    })
    .await;
}

const ADD_EMAIL: &str =
    "mutation($input: AddEmailInput!) { addEmail(input: $input) { email { id email confirmedAt } } }";
const DELETE_EMAIL: &str = "mutation($input: DeleteEmailInput!) { deleteEmail(input: $input) { email { id email } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secondary_emails() {
    each_backend(|app| async move {
        let u = app.user("mailer").await;
        let other = app.user("mailer2").await;
        let tok = Some(u.token.as_str());
        let res = app.gql(tok, ADD_EMAIL, json!({ "input": { "email": " Second@Example.com " } })).await;
        let e = &res.data()["addEmail"]["email"];
        assert_eq!(e["email"], "second@example.com");
        assert_eq!(e["confirmedAt"], json!(null));
        let id = e["id"].as_str().unwrap().to_string();

        // Taken by anyone, primary or secondary, in any case: a field error on email.
        for taken in ["SECOND@example.com", "mailer2@example.com", "MAILER@example.com"] {
            let res = app.gql(Some(&other.token), ADD_EMAIL, json!({ "input": { "email": taken } })).await;
            assert_eq!(field_error(&res, "email"), json!(["has already been taken"]), "{taken}");
        }
        let res = app.gql(tok, ADD_EMAIL, json!({ "input": { "email": "not an email" } })).await;
        assert_eq!(field_error(&res, "email"), json!(["is invalid"]));
        // userId is for admins; admins may confirm at once.
        let res = app.gql(tok, ADD_EMAIL, json!({ "input": { "email": "x@example.com", "userId": other.id.to_string() } })).await;
        assert_eq!(res.code(), "FORBIDDEN");
        let res = app
            .gql(Some(app.admin()), ADD_EMAIL, json!({ "input": { "email": "third@example.com", "userId": u.id.to_string(), "skipConfirmation": true } }))
            .await;
        assert!(res.data()["addEmail"]["email"]["confirmedAt"].is_string());
        assert_eq!(app.gql(Some(app.admin()), ADD_EMAIL, json!({ "input": { "email": "q@example.com", "userId": "999999" } })).await.code(), "NOT_FOUND");

        // Listed (secondary only), guarded for others, readable one by one.
        let q = format!("{{ user(id: \"{}\") {{ emails {{ totalCount nodes {{ email }} }} }} }}", u.id);
        let res = app.gql(tok, &q, json!({})).await;
        assert_eq!(res.data()["user"]["emails"]["nodes"], json!([{ "email": "second@example.com" }, { "email": "third@example.com" }]));
        assert_eq!(app.gql(Some(&other.token), &q, json!({})).await.code(), "FORBIDDEN");
        let q = format!("{{ email(id: \"{id}\") {{ email }} }}");
        assert_eq!(app.gql(tok, &q, json!({})).await.data()["email"]["email"], "second@example.com");
        assert_eq!(app.gql(Some(&other.token), &q, json!({})).await.data()["email"], json!(null));

        // Delete: idempotent for the owner, NOT_FOUND for an admin naming the user.
        let res = app.gql(Some(&other.token), DELETE_EMAIL, json!({ "input": { "id": id } })).await;
        assert_eq!(res.data()["deleteEmail"]["email"], json!(null));
        let res = app.gql(tok, DELETE_EMAIL, json!({ "input": { "id": id } })).await;
        assert_eq!(res.data()["deleteEmail"]["email"]["email"], "second@example.com");
        assert_eq!(app.gql(tok, DELETE_EMAIL, json!({ "input": { "id": id } })).await.data()["deleteEmail"]["email"], json!(null));
        let res = app.gql(Some(app.admin()), DELETE_EMAIL, json!({ "input": { "id": id, "userId": u.id.to_string() } })).await;
        assert_eq!(res.body["errors"][0]["message"], "404 Email Not Found");
        // The primary address is not a secondary one: it cannot be deleted this way.
        let primary = email::Entity::find()
            .filter(email::Column::UserId.eq(u.id))
            .filter(email::Column::IsPrimary.eq(true))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        let res = app.gql(tok, DELETE_EMAIL, json!({ "input": { "id": primary.id.to_string() } })).await;
        assert_eq!(res.data()["deleteEmail"]["email"], json!(null));
        assert!(email::Entity::find_by_id(primary.id).one(app.db()).await.unwrap().is_some());
        // A freed address can be added again.
        app.gql(Some(&other.token), ADD_EMAIL, json!({ "input": { "email": "second@example.com" } })).await.data();
    })
    .await;
}

const CREATE_IMP: &str = "mutation($input: CreateImpersonationTokenInput!) { createImpersonationToken(input: $input) {
    token { id name scopes active revoked impersonation expiresAt token userId } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impersonation_tokens() {
    each_backend(|app| async move {
        let u = app.user("impersonated").await;
        let admin = Some(app.admin());
        let uid = u.id.to_string();
        let res = app.gql(admin, CREATE_IMP, json!({ "input": { "userId": uid, "name": "mytoken", "scopes": ["api"] } })).await;
        let t = res.data()["createImpersonationToken"]["token"].clone();
        assert_eq!((t["name"].as_str(), t["active"].as_bool(), t["impersonation"].as_bool()), (Some("mytoken"), Some(true), Some(true)));
        let value = t["token"].as_str().unwrap().to_string();
        assert!(value.starts_with("glpat-"));

        // It authenticates as the user.
        let me = app.gql(Some(&value), "{ currentUser { username } }", json!({})).await;
        assert_eq!(me.data()["currentUser"]["username"], "impersonated");

        // A past expiry date is refused; a token whose day has passed since is inactive.
        let res = app
            .gql(admin, CREATE_IMP, json!({ "input": { "userId": uid, "name": "old", "expiresAt": "2016-12-28", "scopes": ["api", "read_user"] } }))
            .await;
        assert_eq!(res.body["errors"][0]["extensions"]["fields"]["expiresAt"], json!(["must not be in the past"]));
        let res = app
            .gql(admin, CREATE_IMP, json!({ "input": { "userId": uid, "name": "old", "expiresAt": "2099-12-28", "scopes": ["api", "read_user"] } }))
            .await;
        let created = res.data()["createImpersonationToken"]["token"].clone();
        app.backdate_token(created["id"].as_str().unwrap().parse().unwrap(), "2016-12-28").await;
        let get = format!(
            "{{ impersonationToken(userId: \"{uid}\", id: \"{}\") {{ active revoked expiresAt scopes token }} }}",
            created["id"].as_str().unwrap()
        );
        let old = app.gql(admin, &get, json!({})).await.data()["impersonationToken"].clone();
        assert_eq!((old["active"].as_bool(), old["revoked"].as_bool()), (Some(false), Some(false)));
        assert_eq!(old["expiresAt"], "2016-12-28");
        assert_eq!(old["scopes"], json!(["api", "read_user"]));
        assert_eq!(app.gql(Some(old["token"].as_str().unwrap()), "{ currentUser { id } }", json!({})).await.code(), "UNAUTHENTICATED");

        // Lists show values, and only impersonation tokens; state filters.
        let list = "query($u: ID!, $s: TokenState) { impersonationTokens(userId: $u, state: $s) { totalCount nodes { name active token } } }";
        let res = app.gql(admin, list, json!({ "u": uid })).await;
        assert_eq!(res.data()["impersonationTokens"]["totalCount"], 2);
        assert_eq!(res.data()["impersonationTokens"]["nodes"][0]["token"], value.as_str());
        let res = app.gql(admin, list, json!({ "u": uid, "s": "ACTIVE" })).await;
        assert_eq!(res.data()["impersonationTokens"]["nodes"], json!([{ "name": "mytoken", "active": true, "token": value }]));
        let res = app.gql(admin, list, json!({ "u": uid, "s": "INACTIVE" })).await;
        assert_eq!(res.data()["impersonationTokens"]["nodes"][0]["name"], "old");
        let get = format!("{{ impersonationToken(userId: \"{uid}\", id: \"{}\") {{ name token }} }}", t["id"].as_str().unwrap());
        assert_eq!(app.gql(admin, &get, json!({})).await.data()["impersonationToken"]["token"], value.as_str());

        // A personal token's id through the impersonation route: NOT_FOUND.
        let pat = token::Entity::find()
            .filter(token::Column::UserId.eq(u.id))
            .filter(token::Column::Kind.eq("legacy"))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        let get_pat = format!("{{ impersonationToken(userId: \"{uid}\", id: \"{}\") {{ name }} }}", pat.id);
        let res = app.gql(admin, &get_pat, json!({})).await;
        assert_eq!(res.body["errors"][0]["message"], "404 Impersonation Token Not Found");

        // Refusals: scopes, name, who asks, which user.
        for (scopes, msg) in [(json!([]), "can't be blank"), (json!(["sudo"]), "can only contain available scopes"), (json!(["api", "write"]), "can only contain available scopes")] {
            let res = app.gql(admin, CREATE_IMP, json!({ "input": { "userId": uid, "name": "n", "scopes": scopes } })).await;
            assert_eq!(field_error(&res, "scopes"), json!([msg]));
        }
        let res = app.gql(admin, CREATE_IMP, json!({ "input": { "userId": uid, "name": "", "scopes": ["api"] } })).await;
        assert_eq!(res.body["errors"][0]["message"], "name is missing");
        let res = app.gql(Some(&u.token), CREATE_IMP, json!({ "input": { "userId": "999999", "name": "n", "scopes": ["api"] } })).await;
        assert_eq!(res.code(), "FORBIDDEN", "403 before the user lookup");
        assert_eq!(app.gql(Some(&u.token), list, json!({ "u": uid })).await.code(), "FORBIDDEN");
        let res = app.gql(admin, CREATE_IMP, json!({ "input": { "userId": "999999", "name": "n", "scopes": ["api"] } })).await;
        assert_eq!(res.body["errors"][0]["message"], "404 User Not Found");

        // Revoke: kept, inactive, no longer authenticates; revoking again is fine.
        let revoke = format!("mutation {{ revokeImpersonationToken(input: {{ userId: \"{uid}\", id: \"{}\" }}) {{ token {{ revoked active }} }} }}", t["id"].as_str().unwrap());
        assert_eq!(app.gql(admin, &revoke, json!({})).await.data()["revokeImpersonationToken"]["token"], json!({ "revoked": true, "active": false }));
        assert_eq!(app.gql(admin, &revoke, json!({})).await.data()["revokeImpersonationToken"]["token"]["revoked"], true);
        assert_eq!(app.gql(Some(&value), "{ currentUser { id } }", json!({})).await.code(), "UNAUTHENTICATED");
        assert_eq!(token::Entity::find().filter(token::Column::Kind.eq("impersonation")).count(app.db()).await.unwrap(), 2);
        // The stored row holds a digest and a sealed value, never the value itself.
        let stored = token::Entity::find().filter(token::Column::Kind.eq("impersonation")).all(app.db()).await.unwrap();
        assert!(stored.iter().all(|r| r.token_digest.len() == 64 && !r.token_encrypted.clone().unwrap().contains("glpat-")));
    })
    .await;
}

const CREATE_PAT: &str =
    "mutation($input: CreatePersonalAccessTokenInput!) { createPersonalAccessToken(input: $input) {
    token { id name scopes active impersonation token } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_access_tokens() {
    each_backend(|app| async move {
        let u = app.user("patter").await;
        let other = app.user("patter2").await;
        let tok = Some(u.token.as_str());
        let res = app.gql(tok, CREATE_PAT, json!({ "input": { "name": "ci", "scopes": ["read_user"] } })).await;
        let t = res.data()["createPersonalAccessToken"]["token"].clone();
        assert_eq!(t["impersonation"], false);
        let value = t["token"].as_str().unwrap().to_string();

        // The read_user token reads but does not write.
        assert_eq!(app.gql(Some(&value), "{ currentUser { username } }", json!({})).await.data()["currentUser"]["username"], "patter");
        let res = app.gql(Some(&value), CREATE_PAT, json!({ "input": { "name": "more", "scopes": ["api"] } })).await;
        assert_eq!(res.code(), "FORBIDDEN");

        // Listed without values; others cannot list them; admins can.
        let list = "query($u: ID) { personalAccessTokens(userId: $u) { totalCount nodes { name token scopes } } }";
        let res = app.gql(tok, list, json!({})).await;
        assert_eq!(res.data()["personalAccessTokens"]["nodes"], json!([{ "name": "ci", "token": null, "scopes": ["read_user"] }]));
        assert_eq!(app.gql(Some(&other.token), list, json!({ "u": u.id.to_string() })).await.code(), "FORBIDDEN");
        assert_eq!(app.gql(Some(app.admin()), list, json!({ "u": u.id.to_string() })).await.data()["personalAccessTokens"]["totalCount"], 1);
        let q = format!("{{ user(id: \"{}\") {{ personalAccessTokens {{ totalCount }} impersonationTokens {{ totalCount }} }} }}", u.id);
        let res = app.gql(tok, &q, json!({})).await;
        assert_eq!(res.body["data"]["user"]["personalAccessTokens"]["totalCount"], 1);
        assert_eq!(res.body["data"]["user"]["impersonationTokens"], json!(null));
        assert_eq!(res.code(), "FORBIDDEN");

        // sudo is only for admins' tokens.
        let res = app.gql(tok, CREATE_PAT, json!({ "input": { "name": "s", "scopes": ["sudo"] } })).await;
        assert_eq!(field_error(&res, "scopes"), json!(["can only contain available scopes"]));
        let admin2 = app.user_with("padmin", json!({ "admin": true })).await;
        let res = app.gql(Some(&admin2.token), CREATE_PAT, json!({ "input": { "name": "s", "scopes": ["api", "sudo"] } })).await;
        assert_eq!(res.data()["createPersonalAccessToken"]["token"]["scopes"], json!(["api", "sudo"]));

        // Revoke: the token stops working; another user cannot revoke it.
        let revoke = "mutation($id: ID!, $u: ID) { revokePersonalAccessToken(input: { id: $id, userId: $u }) { token { revoked } } }";
        let res = app.gql(Some(&other.token), revoke, json!({ "id": t["id"] })).await;
        assert_eq!(res.body["errors"][0]["message"], "404 Personal Access Token Not Found");
        assert_eq!(app.gql(tok, revoke, json!({ "id": t["id"] })).await.data()["revokePersonalAccessToken"]["token"]["revoked"], true);
        assert_eq!(app.gql(Some(&value), "{ currentUser { id } }", json!({})).await.code(), "UNAUTHENTICATED");
    })
    .await;
}

const CREATE_EVENT: &str =
    "mutation($input: CreateEventInput!) { createEvent(input: $input) { event { id actionName } } }";

async fn ingest(app: &TestApp, author: i32, action: &str, extra: Value) -> Value {
    let mut input = json!({ "authorId": author.to_string(), "action": action });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    let res = app
        .gql(Some(app.admin()), CREATE_EVENT, json!({ "input": input }))
        .await;
    res.data()["createEvent"]["event"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events() {
    each_backend(|app| async move {
        let u = app.user("eventful").await;
        let day = |d: i64| (Utc::now() - Duration::days(d)).to_rfc3339();
        ingest(&app, u.id, "closed", json!({ "targetType": "ISSUE", "targetId": 830, "targetTitle": "Public project search field", "projectId": 15, "createdAt": day(5) })).await;
        let pushed = ingest(
            &app,
            u.id,
            "pushed",
            json!({ "projectId": 15, "data": { "before": "50d4420237a9de7be1304607147aec22e4a14af7", "after": "c5feabde2d8cd023215af4d2ceeb7a64839fc428", "ref": "refs/heads/master", "total_commits_count": 1 }, "createdAt": day(3) }),
        )
        .await;
        assert_eq!(pushed["actionName"], "pushed to");
        let commented = ingest(
            &app,
            u.id,
            "commented",
            json!({ "targetType": "NOTE", "targetId": 1312, "note": { "id": 1312, "body": "What an awesome day!", "noteable_type": "Issue" }, "createdAt": day(1) }),
        )
        .await;
        assert_eq!(commented["actionName"], "commented on");
        ingest(&app, u.id, "joined", json!({ "createdAt": day(2) })).await;

        let q = "query($u: ID!, $a: EventAction, $t: EventTargetType, $b: Date, $af: Date, $s: SortDirection) {
            user(id: $u) { events(action: $a, targetType: $t, beforeDate: $b, afterDate: $af, sort: $s) {
                totalCount nodes { action actionName targetType targetTitle projectId data note author { username } authorUsername createdAt } } } }";
        let run = |vars: Value| {
            let app = app.clone();
            let uid = u.id.to_string();
            async move {
                let mut v = vars;
                v["u"] = json!(uid);
                let res = app.gql(None, q, v).await;
                res.data()["user"]["events"].clone()
            }
        };
        // Anyone may read them, newest first.
        let all = run(json!({})).await;
        let actions: Vec<&str> = all["nodes"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["commented", "joined", "pushed", "closed"]);
        assert_eq!(all["totalCount"], 4);
        let c = &all["nodes"][0];
        assert_eq!(c["note"]["body"], "What an awesome day!");
        assert_eq!(c["author"]["username"], "eventful");
        assert_eq!(c["authorUsername"], "eventful");
        assert_eq!(all["nodes"][2]["data"]["ref"], "refs/heads/master");
        assert_eq!(all["nodes"][3]["targetTitle"], "Public project search field");
        // Filters.
        assert_eq!(run(json!({ "a": "closed" })).await["totalCount"], 1);
        assert_eq!(run(json!({ "t": "NOTE" })).await["nodes"][0]["action"], "commented");
        let two_days_ago = (Utc::now() - Duration::days(2)).date_naive().to_string();
        let before = run(json!({ "b": two_days_ago })).await;
        assert_eq!(before["nodes"].as_array().unwrap().len(), 2, "strictly before the start of that day");
        let after = run(json!({ "af": two_days_ago })).await;
        assert_eq!(after["nodes"].as_array().unwrap().len(), 1, "strictly after the end of that day");
        let asc = run(json!({ "s": "ASC" })).await;
        assert_eq!(asc["nodes"][0]["action"], "closed");

        // Ingestion is for admins; bad payloads are field errors.
        let res = app.gql(Some(&u.token), CREATE_EVENT, json!({ "input": { "authorId": u.id.to_string(), "action": "closed" } })).await;
        assert_eq!(res.code(), "FORBIDDEN");
        let res = app.gql(Some(app.admin()), CREATE_EVENT, json!({ "input": { "authorId": u.id.to_string(), "action": "closed", "data": [1, 2] } })).await;
        assert_eq!(field_error(&res, "data"), json!(["must be a JSON object"]));
        let res = app.gql(Some(app.admin()), CREATE_EVENT, json!({ "input": { "authorId": "999999", "action": "closed" } })).await;
        assert_eq!(res.code(), "NOT_FOUND");
        let future = (Utc::now() + Duration::days(1)).to_rfc3339();
        let res = app.gql(Some(app.admin()), CREATE_EVENT, json!({ "input": { "authorId": u.id.to_string(), "action": "closed", "createdAt": future } })).await;
        assert_eq!(field_error(&res, "createdAt"), json!(["cannot be in the future"]));

        // Events go with their author.
        let del = format!("mutation {{ deleteUser(input: {{ id: \"{}\" }}) {{ user {{ id }} }} }}", u.id);
        app.gql(Some(app.admin()), &del, json!({})).await.data();
        assert_eq!(event::Entity::find().count(app.db()).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_activities() {
    each_backend(|app| async move {
        let a = app.user("act_a").await;
        let b = app.user("act_b").await;
        let _never = app.user("act_never").await;
        let today = Utc::now().date_naive();
        usergraph::domain::activities::mark(app.db(), a.id, today - Duration::days(400)).await.unwrap();
        usergraph::domain::activities::mark(app.db(), b.id, today - Duration::days(10)).await.unwrap();
        // root's own request marks root active today.
        let q = "query($from: Date) { userActivities(from: $from) { totalCount nodes { username lastActivityOn lastActivityAt } } }";
        let res = app.gql(Some(app.admin()), q, json!({})).await;
        let nodes = res.data()["userActivities"]["nodes"].clone();
        let names: Vec<&str> = nodes.as_array().unwrap().iter().map(|n| n["username"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["act_b", "root"], "last six months, oldest first");
        assert_eq!(nodes[0]["lastActivityOn"], (today - Duration::days(10)).to_string());
        assert_eq!(nodes[0]["lastActivityOn"], nodes[0]["lastActivityAt"]);
        let res = app.gql(Some(app.admin()), q, json!({ "from": "2000-01-01" })).await;
        assert_eq!(res.data()["userActivities"]["totalCount"], 3);
        assert_eq!(res.data()["userActivities"]["nodes"][0]["username"], "act_a");
        assert_eq!(app.gql(Some(&a.token), q, json!({})).await.code(), "FORBIDDEN");
        assert_eq!(app.gql(None, q, json!({})).await.code(), "UNAUTHENTICATED");
    })
    .await;
}
