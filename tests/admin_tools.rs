//! Today's GitLab admin tools: unlinking an identity, turning two-factor authentication off, any
//! key by id or fingerprint with its owner, and `:id_or_username` on reads of a user's lists.

use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;

use crate::common::each_backend;
use crate::graphql_account::{ED25519, RSA2048};

#[tokio::test]
async fn identities_and_two_factor() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user_with("idt", json!({ "externUid": "77", "provider": "github" })).await;
        let path = |rest: &str| format!("/api/v4/users/{}/{rest}", u.id);
        // Not for users, not for a missing user or identity.
        let res = app.delete(&path("identities/github"), Some(&u.token)).await;
        res.assert(403, json!({ "message": "403 Forbidden" }));
        let res = app.delete("/api/v4/users/99999/identities/github", admin).await;
        res.assert(404, json!({ "message": "404 User Not Found" }));
        let res = app.delete(&path("identities/gitlab"), admin).await;
        res.assert(404, json!({ "message": "404 Identity Not Found" }));
        let res = app.delete(&path("identities/github"), admin).await;
        assert_eq!(res.status, 204);
        let res = app.get(&format!("/api/v4/users/{}", u.id), admin).await;
        assert_eq!(res.body["identities"], json!([]));
        let res = app.delete(&path("identities/github"), admin).await;
        assert_eq!(res.status, 404);

        // Two-factor: 400 while it is off, 204 once it was on, then off in the database.
        let patch = |p: String, token: Option<&str>| {
            let app = app.clone();
            let token = token.map(str::to_string);
            async move { app.request(reqwest::Method::PATCH, &p, token.as_deref(), Some(json!({}))).await }
        };
        let res = patch(path("disable_two_factor"), admin).await;
        res.assert(
            400,
            json!({ "message": "400 Bad request - Two-factor authentication is not enabled for this user" }),
        );
        entity::user::Entity::update(entity::user::ActiveModel {
            id: Set(u.id),
            two_factor_enabled: Set(true),
            ..Default::default()
        })
        .exec(app.db())
        .await
        .unwrap();
        let res = patch(path("disable_two_factor"), Some(&u.token)).await;
        assert_eq!(res.status, 403);
        let res = patch(path("disable_two_factor"), admin).await;
        assert_eq!(res.status, 204);
        let row = entity::user::Entity::find_by_id(u.id).one(app.db()).await.unwrap().unwrap();
        assert!(!row.two_factor_enabled);
        // Not for administrators.
        let root = app.get("/api/v4/user", admin).await.body["id"].as_i64().unwrap();
        let res = patch(format!("/api/v4/users/{root}/disable_two_factor"), admin).await;
        res.assert(
            403,
            json!({ "message": "403 Forbidden - Two-factor authentication for admins cannot be disabled via the API. Use the Rails console" }),
        );

        // The same over GraphQL.
        let q = "mutation($id: ID!) { disableTwoFactor(input: { id: $id }) { user { twoFactorEnabled } } }";
        let res = app.gql(admin, q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        let q = "mutation($id: ID!, $p: String!) { deleteUserIdentity(input: { userId: $id, provider: $p }) { user { id } } }";
        let res = app.gql(admin, q, json!({ "id": u.id.to_string(), "p": "github" })).await;
        assert_eq!(res.code(), "NOT_FOUND");
        let res = app.gql(Some(&u.token), q, json!({ "id": u.id.to_string(), "p": "github" })).await;
        assert_eq!(res.code(), "FORBIDDEN");
    })
    .await;
}

#[tokio::test]
async fn keys_by_id_and_fingerprint() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("keyowner").await;
        let res = app
            .post(
                "/api/v4/user/keys",
                Some(&u.token),
                json!({ "title": "laptop", "key": ED25519 }),
            )
            .await;
        let id = res.body["id"].as_i64().unwrap();
        let res = app.get(&format!("/api/v4/keys/{id}"), admin).await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(res.body["title"], "laptop");
        assert_eq!(res.body["user"]["username"], "keyowner");
        assert_eq!(res.body["user"]["email"], "keyowner@example.com");
        let res = app.get("/api/v4/keys/99999", admin).await;
        res.assert(404, json!({ "message": "404 Not found" }));
        let res = app.get(&format!("/api/v4/keys/{id}"), Some(&u.token)).await;
        assert_eq!(res.status, 403);
        let res = app.get(&format!("/api/v4/keys/{id}"), None).await;
        assert_eq!(res.status, 401);

        let sha = "SHA256:5qtjFiFWBSurHbLqBWSzvE4hW8VAjqrTePnHufoAETA";
        let md5 = "dc:82:27:47:99:c8:d3:fd:ea:ac:53:ac:49:88:5c:42";
        for fp in [sha, md5, &md5.to_uppercase()] {
            let q: String = form_urlencoded::byte_serialize(fp.as_bytes()).collect();
            let res = app.get(&format!("/api/v4/keys?fingerprint={q}"), admin).await;
            assert_eq!(res.status, 200, "{fp}: {}", res.body);
            assert_eq!(res.body["id"], id, "{fp}");
            assert_eq!(res.body["user"]["id"], u.id);
        }
        let res = app.get("/api/v4/keys", admin).await;
        res.assert(400, json!({ "error": "fingerprint is missing" }));
        let res = app.get("/api/v4/keys?fingerprint=nonsense", admin).await;
        res.assert(400, json!({ "message": "Failed to return the key" }));
        let other = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let res = app
            .get(
                &format!("/api/v4/keys?fingerprint={}", other.replace(':', "%3A")),
                admin,
            )
            .await;
        res.assert(404, json!({ "message": "404 Key Not Found" }));
        let res = app
            .get(&format!("/api/v4/keys?fingerprint={md5}"), Some(&u.token))
            .await;
        assert_eq!(res.status, 403);

        let q = "query($f: String!) { sshKeyByFingerprint(fingerprint: $f) { id title } }";
        let res = app.gql(admin, q, json!({ "f": sha })).await;
        assert_eq!(res.data()["sshKeyByFingerprint"]["title"], "laptop");
        let res = app.gql(admin, q, json!({ "f": other })).await;
        assert!(res.data()["sshKeyByFingerprint"].is_null());
        let res = app.gql(Some(&u.token), q, json!({ "f": sha })).await;
        assert_eq!(res.code(), "FORBIDDEN");

        // A user's keys by username, as today's GitLab reads them; writes still want the id.
        app.post(
            &format!("/api/v4/users/{}/keys", u.id),
            admin,
            json!({ "title": "rsa", "key": RSA2048 }),
        )
        .await;
        let res = app.get("/api/v4/users/keyowner/keys", admin).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body.as_array().unwrap().len(), 2);
        let res = app.get("/api/v4/users/nobody/keys", admin).await;
        res.assert(404, json!({ "message": "404 User Not Found" }));
        let res = app
            .post(
                "/api/v4/users/keyowner/keys",
                admin,
                json!({ "title": "x", "key": ED25519 }),
            )
            .await;
        assert_eq!(res.status, 404);
    })
    .await;
}
