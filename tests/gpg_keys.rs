//! GPG keys (today's GitLab): keys made by `gpg` at test time, read by a real OpenPGP parser;
//! GitLab's routes, statuses and bodies; public reads; the same over GraphQL.

use entity::gpg_key;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::common::gpg;
use crate::common::{Res, each_backend};

const INVALID: &str = "is invalid. A valid public GPG key begins with '-----BEGIN PGP PUBLIC KEY BLOCK-----' and ends with '-----END PGP PUBLIC KEY BLOCK-----'";

#[tokio::test]
async fn add_read_and_delete_over_rest() {
    let ann_key = gpg::key("Ann <ann@example.com>", "ed25519");
    let rsa_key = gpg::key("Ann Work <ann@work.example>", "rsa2048");
    each_backend(|app| {
        let (ann_key, rsa_key) = (&ann_key, &rsa_key);
        async move {
            let ann = app.user("ann").await;
            let ben = app.user("ben").await;
            let me = Some(ann.token.as_str());
            // Added: 201 with GitLab's shape; what was read from the key is stored.
            let res = app
                .post("/api/v4/user/gpg_keys", me, json!({ "key": ann_key.public }))
                .await;
            assert_eq!(res.status, 201, "{}", res.body);
            assert_eq!(Res::keys_of(&res.body), ["created_at", "id", "key"]);
            assert_eq!(res.body["key"], ann_key.public.trim());
            let id = res.body["id"].as_i64().unwrap();
            let row = gpg_key::Entity::find_by_id(id as i32)
                .one(app.db())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (row.user_id, row.primary_keyid.as_str(), row.fingerprint.as_str()),
                (ann.id, ann_key.keyid.as_str(), ann_key.fingerprint.as_str())
            );
            assert_eq!(row.emails, "ann@example.com");
            let res = app
                .post("/api/v4/user/gpg_keys", me, json!({ "key": rsa_key.public }))
                .await;
            assert_eq!(res.status, 201, "{}", res.body);
            let rsa_id = res.body["id"].as_i64().unwrap();
            // Listed for the owner, and for anyone (reading is public), oldest first.
            let res = app.get("/api/v4/user/gpg_keys", me).await;
            assert_eq!(res.body.as_array().map(Vec::len), Some(2));
            assert_eq!(res.header("x-total"), Some("2"));
            for caller in [None, Some(ben.token.as_str())] {
                let res = app.get(&format!("/api/v4/users/{}/gpg_keys", ann.id), caller).await;
                assert_eq!(res.status, 200, "{}", res.body);
                let ids: Vec<i64> = res
                    .body
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k["id"].as_i64().unwrap())
                    .collect();
                assert_eq!(ids, [id, rsa_id]);
                let res = app
                    .get(&format!("/api/v4/users/{}/gpg_keys/{id}", ann.id), caller)
                    .await;
                assert_eq!(res.body["key"], ann_key.public.trim());
            }
            app.get("/api/v4/users/99999/gpg_keys", None)
                .await
                .assert(404, json!({ "message": "404 User Not Found" }));
            app.get(&format!("/api/v4/users/{}/gpg_keys/{id}", ben.id), None)
                .await
                .assert(404, json!({ "message": "404 GPG Key Not Found" }));
            // The caller's own list needs a caller; someone else's key is not theirs.
            app.get("/api/v4/user/gpg_keys", None)
                .await
                .assert(401, json!({ "message": "401 Unauthorized" }));
            app.get(&format!("/api/v4/user/gpg_keys/{id}"), Some(&ben.token))
                .await
                .assert(404, json!({ "message": "404 GPG Key Not Found" }));
            // Adding for someone else, deleting someone else's: admins only.
            app.post(
                &format!("/api/v4/users/{}/gpg_keys", ann.id),
                Some(&ben.token),
                json!({ "key": "x" }),
            )
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
            app.delete(&format!("/api/v4/users/{}/gpg_keys/{id}", ann.id), Some(&ben.token))
                .await
                .assert(403, json!({ "message": "403 Forbidden" }));
            app.delete(&format!("/api/v4/user/gpg_keys/{id}"), Some(&ben.token))
                .await
                .assert(404, json!({ "message": "404 GPG Key Not Found" }));
            // Deleted: 204 and gone; again, 404. Revoked (admin): 202 and gone.
            let res = app.delete(&format!("/api/v4/user/gpg_keys/{id}"), me).await;
            assert_eq!(res.status, 204);
            assert!(
                gpg_key::Entity::find_by_id(id as i32)
                    .one(app.db())
                    .await
                    .unwrap()
                    .is_none()
            );
            app.delete(&format!("/api/v4/user/gpg_keys/{id}"), me)
                .await
                .assert(404, json!({ "message": "404 GPG Key Not Found" }));
            let res = app
                .post(
                    &format!("/api/v4/users/{}/gpg_keys/{rsa_id}/revoke", ann.id),
                    Some(app.admin()),
                    json!({}),
                )
                .await;
            assert_eq!(res.status, 202, "{}", res.body);
            let left = gpg_key::Entity::find()
                .filter(gpg_key::Column::UserId.eq(ann.id))
                .count(app.db())
                .await
                .unwrap();
            assert_eq!(left, 0);
            // An admin adds one for a user; it is theirs.
            let res = app
                .post(
                    &format!("/api/v4/users/{}/gpg_keys", ben.id),
                    Some(app.admin()),
                    json!({ "key": ann_key.public }),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.body);
            let res = app.get("/api/v4/user/gpg_keys", Some(&ben.token)).await;
            assert_eq!(res.body[0]["key"], ann_key.public.trim());
        }
    })
    .await;
}

#[tokio::test]
async fn bad_keys_are_400_and_store_nothing() {
    let key = gpg::key("Cat <cat@example.com>", "ed25519");
    each_backend(|app| {
        let key = &key;
        async move {
            let cat = app.user("cat").await;
            let me = Some(cat.token.as_str());
            let refused = |key: &str| {
                let app = app.clone();
                let key = key.to_string();
                let token = cat.token.clone();
                async move {
                    let res = app
                        .post("/api/v4/user/gpg_keys", Some(&token), json!({ "key": key }))
                        .await;
                    assert_eq!(res.status, 400, "{}", res.body);
                    res.body["message"]["key"][0]
                        .as_str()
                        .unwrap_or_else(|| panic!("{}", res.body))
                        .to_string()
                }
            };
            assert_eq!(refused("not a key").await, INVALID);
            assert_eq!(refused(&key.secret).await, INVALID);
            // Cut in the middle, its end put back: the armor is whole, the key is not.
            let lines: Vec<&str> = key.public.trim().lines().collect();
            let cut = format!(
                "{}\n-----END PGP PUBLIC KEY BLOCK-----",
                lines[..lines.len() / 2].join("\n")
            );
            assert!(refused(&cut).await.starts_with("is not a valid OpenPGP public key"));
            // A block with its body replaced.
            let fake =
                "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5IGF0IGFsbA==\n-----END PGP PUBLIC KEY BLOCK-----";
            assert!(refused(fake).await.starts_with("is not a valid OpenPGP public key"));
            // 16 KiB.
            let big = format!(
                "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{}\n-----END PGP PUBLIC KEY BLOCK-----",
                "QUFB".repeat(4096)
            );
            assert_eq!(refused(&big).await, "is too long (maximum is 16000 characters)");
            app.post("/api/v4/user/gpg_keys", me, json!({}))
                .await
                .assert(400, json!({ "error": "key is missing" }));
            assert_eq!(gpg_key::Entity::find().count(app.db()).await.unwrap(), 0);
            // Registered already, by anyone: the key is taken.
            let res = app
                .post("/api/v4/user/gpg_keys", me, json!({ "key": key.public }))
                .await;
            assert_eq!(res.status, 201);
            let other = app.user("dog").await;
            app.post(
                "/api/v4/user/gpg_keys",
                Some(&other.token),
                json!({ "key": key.public }),
            )
            .await
            .assert(400, json!({ "message": { "key": ["has already been taken"] } }));
            // The same key, its block written otherwise (CRLF line ends).
            app.post(
                "/api/v4/user/gpg_keys",
                Some(&other.token),
                json!({ "key": key.public.replace('\n', "\r\n") }),
            )
            .await
            .assert(400, json!({ "message": { "fingerprint": ["has already been taken"] } }));
            assert_eq!(gpg_key::Entity::find().count(app.db()).await.unwrap(), 1);
        }
    })
    .await;
}

#[tokio::test]
async fn graphql_gpg_keys() {
    let key = gpg::key("Eve <Eve@Example.com>", "ed25519");
    let work = gpg::key("Eve at work <eve@work.example>", "ed25519");
    each_backend(|app| {
        let (key, work) = (&key, &work);
        async move {
            let eve = app.user("eve").await;
            let add = "mutation($key: String!) { addGpgKey(input: { key: $key }) { key { id primaryKeyid fingerprint emails } } }";
            let res = app.gql(Some(&eve.token), add, json!({ "key": key.public })).await;
            let added = &res.data()["addGpgKey"]["key"];
            assert_eq!(
                (&added["primaryKeyid"], &added["fingerprint"], &added["emails"]),
                (&json!(key.keyid), &json!(key.fingerprint), &json!(["eve@example.com"]))
            );
            let id = added["id"].as_str().unwrap().to_string();
            // Public: anyone reads a user's keys.
            let res = app
                .gql(None, "query($id: ID!) { user(id: $id) { gpgKeys { totalCount nodes { id key } } } }",
                     json!({ "id": eve.id.to_string() }))
                .await;
            assert_eq!(res.data()["user"]["gpgKeys"]["totalCount"], 1);
            assert_eq!(res.data()["user"]["gpgKeys"]["nodes"][0]["id"], json!(id));
            // Verified: a user id is one of the owner's confirmed addresses (GitLab's `verified`);
            // the work key's address is the user's only once it is confirmed.
            let res = app.gql(Some(&eve.token), add, json!({ "key": work.public })).await;
            let work_id = res.data()["addGpgKey"]["key"]["id"].as_str().unwrap().to_string();
            let verified = || {
                let app = app.clone();
                async move {
                    let res = app
                        .gql(None, "query($id: ID!) { user(id: $id) { gpgKeys { nodes { verified verifiedEmails } } } }",
                             json!({ "id": eve.id.to_string() }))
                        .await;
                    res.data()["user"]["gpgKeys"]["nodes"].clone()
                }
            };
            assert_eq!(
                verified().await,
                json!([{ "verified": true, "verifiedEmails": ["eve@example.com"] },
                       { "verified": false, "verifiedEmails": [] }])
            );
            let res = app
                .post(&format!("/api/v4/users/{}/emails", eve.id), Some(app.admin()),
                      json!({ "email": "EVE@work.example", "skip_confirmation": true }))
                .await;
            assert_eq!(res.status, 201, "{}", res.body);
            assert_eq!(verified().await[1], json!({ "verified": true, "verifiedEmails": ["eve@work.example"] }));
            app.gql(Some(&eve.token), "mutation($id: ID!) { deleteGpgKey(input: { id: $id }) { key { id } } }",
                    json!({ "id": work_id }))
                .await
                .data();
            // Bad input and a taken key: BAD_USER_INPUT with the field's message.
            let res = app.gql(Some(&eve.token), add, json!({ "key": "nope" })).await;
            assert_eq!(res.code(), "BAD_USER_INPUT");
            let res = app.gql(Some(&eve.token), add, json!({ "key": key.public })).await;
            assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.body);
            // Deleted; again, NOT_FOUND.
            let del = "mutation($id: ID!) { deleteGpgKey(input: { id: $id }) { key { id } } }";
            let res = app.gql(Some(&eve.token), del, json!({ "id": id })).await;
            assert_eq!(res.data()["deleteGpgKey"]["key"]["id"], json!(id));
            let res = app.gql(Some(&eve.token), del, json!({ "id": id })).await;
            assert_eq!(res.code(), "NOT_FOUND");
            assert_eq!(gpg_key::Entity::find().count(app.db()).await.unwrap(), 0);
        }
    })
    .await;
}
