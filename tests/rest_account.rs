//! `/api/v4` SSH keys, e-mails, impersonation tokens, events, activities and token scopes.

use chrono::{Duration, Utc};
use entity::{email, ssh_key, token};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::common::{Res, each_backend};
use crate::graphql_account::{ECDSA256, ED25519, RSA2048};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_for_the_current_user() {
    each_backend(|app| async move {
        let u = app.user("keys").await;
        let other = app.user("keys2").await;
        let t = Some(u.token.as_str());
        app.post("/api/v4/user/keys", None, json!({ "title": "t", "key": ED25519 }))
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
        app.post("/api/v4/user/keys", t, json!({ "title": "t" }))
            .await
            .assert(400, json!({ "error": "key is missing" }));
        app.post("/api/v4/user/keys", t, json!({ "key": ED25519 }))
            .await
            .assert(400, json!({ "error": "title is missing" }));
        let res = app
            .post("/api/v4/user/keys", t, json!({ "title": "Public key", "key": ED25519 }))
            .await;
        assert_eq!(res.status, 201);
        assert_eq!(Res::keys_of(&res.body), vec!["created_at", "id", "key", "title"]);
        assert_eq!(res.body["key"], ED25519);
        let id = res.body["id"].as_i64().unwrap();
        // The same key for anyone: 400 on fingerprint.
        app.post(
            "/api/v4/user/keys",
            Some(&other.token),
            json!({ "title": "dup", "key": ED25519 }),
        )
        .await
        .assert(400, json!({ "message": { "fingerprint": ["has already been taken"] } }));
        app.post("/api/v4/user/keys", t, json!({ "title": "bad", "key": "ssh-rsa AAAA" }))
            .await
            .assert(400, json!({ "message": { "key": ["is invalid"] } }));
        // Form body, as curl sends it.
        let body = format!("title=ecdsa&key={}", urlencode(ECDSA256));
        assert_eq!(app.form(Method::POST, "/api/v4/user/keys", t, &body).await.status, 201);

        let res = app.get("/api/v4/user/keys", t).await;
        assert_eq!((res.status.as_u16(), res.header("x-total")), (200, Some("2")));
        assert_eq!(res.body[0]["title"], "Public key");
        let res = app.get(&format!("/api/v4/user/keys/{id}"), t).await;
        assert_eq!(res.body["title"], "Public key");
        // Someone else's key, even for an admin, through /user/keys: 404.
        app.get(&format!("/api/v4/user/keys/{id}"), Some(&other.token))
            .await
            .assert(404, json!({ "message": "404 Key Not Found" }));
        app.get(&format!("/api/v4/user/keys/{id}"), Some(app.admin()))
            .await
            .assert(404, json!({ "message": "404 Key Not Found" }));
        app.get("/api/v4/user/keys/ASDF", t)
            .await
            .assert(400, json!({ "error": "key_id is invalid" }));
        // Delete: the object, then an idempotent {} (also for someone else's key).
        app.delete(&format!("/api/v4/user/keys/{id}"), Some(&other.token))
            .await
            .assert(200, json!({}));
        let res = app.delete(&format!("/api/v4/user/keys/{id}"), t).await;
        assert_eq!(
            (res.status.as_u16(), res.body["title"].clone()),
            (200, json!("Public key"))
        );
        app.delete(&format!("/api/v4/user/keys/{id}"), t)
            .await
            .assert(200, json!({}));
        assert_eq!(ssh_key::Entity::find().count(app.db()).await.unwrap(), 1);
    })
    .await;
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_for_a_given_user() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("target").await;
        let path = format!("/api/v4/users/{}/keys", u.id);
        app.get(&path, None)
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
        let other = app.user("someone").await;
        app.get(&path, Some(&other.token))
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
        // The user themself may use the /users/:id routes too.
        app.get(&path, Some(&u.token)).await.assert(200, json!([]));
        app.get("/api/v4/users/999999/keys", admin)
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
        // Parameters are checked before the user.
        app.post("/api/v4/users/999999/keys", admin, json!({}))
            .await
            .assert(400, json!({ "error": "title is missing, key is missing" }));
        app.post(&path, admin, json!({ "title": "only title" }))
            .await
            .assert(400, json!({ "error": "key is missing" }));
        let res = app.post(&path, admin, json!({ "title": "rsa", "key": RSA2048 })).await;
        assert_eq!(res.status, 201);
        let key_id = res.body["id"].as_i64().unwrap();
        let res = app.get(&path, admin).await;
        assert_eq!(res.body.as_array().unwrap().len(), 1);
        assert_eq!(app.get(&format!("{path}/{key_id}"), admin).await.body["title"], "rsa");
        let res = app.delete(&format!("{path}/{key_id}"), admin).await;
        assert_eq!((res.status.as_u16(), res.body["id"].as_i64()), (200, Some(key_id)));
        app.delete(&format!("{path}/{key_id}"), admin)
            .await
            .assert(404, json!({ "message": "404 Key Not Found" }));
        app.delete(&format!("/api/v4/users/999999/keys/{key_id}"), admin)
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
        app.delete("/api/v4/users/ASDF/keys/1", admin)
            .await
            .assert(404, json!({ "error": "404 Not Found" }));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("mails").await;
        let t = Some(u.token.as_str());
        app.post("/api/v4/user/emails", t, json!({}))
            .await
            .assert(400, json!({ "error": "email is missing" }));
        app.post(&format!("/api/v4/users/{}/emails", u.id), admin, json!({}))
            .await
            .assert(400, json!({ "error": "email is missing" }));
        let res = app
            .post("/api/v4/user/emails", t, json!({ "email": "Second@example.com" }))
            .await;
        assert_eq!(res.status, 201);
        assert_eq!(Res::keys_of(&res.body), vec!["email", "id"]);
        assert_eq!(res.body["email"], "second@example.com");
        let id = res.body["id"].as_i64().unwrap();
        for taken in ["second@example.com", "mails@example.com", "ADMIN@example.com"] {
            app.post("/api/v4/user/emails", t, json!({ "email": taken }))
                .await
                .assert(400, json!({ "message": { "email": ["has already been taken"] } }));
        }
        app.post("/api/v4/user/emails", t, json!({ "email": "bad" }))
            .await
            .assert(400, json!({ "message": { "email": ["is invalid"] } }));
        let res = app.get("/api/v4/user/emails", t).await;
        assert_eq!(
            res.body,
            json!([{ "id": id, "email": "second@example.com" }]),
            "secondary addresses only"
        );
        assert_eq!(res.header("x-total"), Some("1"));
        assert_eq!(
            app.get(&format!("/api/v4/user/emails/{id}"), t).await.body["email"],
            "second@example.com"
        );
        app.get(&format!("/api/v4/user/emails/{id}"), admin)
            .await
            .assert(404, json!({ "message": "404 Email Not Found" }));
        // Admin routes for a given user.
        let upath = format!("/api/v4/users/{}/emails", u.id);
        let other = app.user("mails_other").await;
        app.get(&upath, Some(&other.token))
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
        let res = app
            .post(
                &upath,
                admin,
                json!({ "email": "third@example.com", "skip_confirmation": true }),
            )
            .await;
        assert_eq!(res.status, 201);
        let third = res.body["id"].as_i64().unwrap();
        let confirmed = email::Entity::find_by_id(third as i32)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
            .confirmed_at;
        assert!(confirmed.is_some());
        assert_eq!(app.get(&upath, admin).await.body.as_array().unwrap().len(), 2);
        let res = app.delete(&format!("{upath}/{third}"), admin).await;
        assert_eq!(res.body["email"], "third@example.com");
        app.delete(&format!("{upath}/{third}"), admin)
            .await
            .assert(404, json!({ "message": "404 Email Not Found" }));
        app.get("/api/v4/users/999999/emails", admin)
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
        // /user/emails deletion is idempotent; ids must be integers.
        app.delete("/api/v4/user/emails/ASDF", t)
            .await
            .assert(400, json!({ "error": "email_id is invalid" }));
        app.delete("/api/v4/users/ASDF/emails/bar", admin)
            .await
            .assert(404, json!({ "error": "404 Not Found" }));
        assert_eq!(
            app.delete(&format!("/api/v4/user/emails/{id}"), t).await.body["id"].as_i64(),
            Some(id)
        );
        app.delete(&format!("/api/v4/user/emails/{id}"), t)
            .await
            .assert(200, json!({}));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impersonation_tokens() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("imp").await;
        let path = format!("/api/v4/users/{}/impersonation_tokens", u.id);
        app.post(&path, admin, json!({}))
            .await
            .assert(400, json!({ "error": "name is missing" }));
        app.post(&path, admin, json!({ "name": "n" }))
            .await
            .assert(400, json!({ "message": { "scopes": ["can't be blank"] } }));
        app.post(&path, admin, json!({ "name": "n", "scopes": ["sudo"] }))
            .await
            .assert(
                400,
                json!({ "message": { "scopes": ["can only contain available scopes"] } }),
            );
        app.post(
            &path,
            admin,
            json!({ "name": "n", "scopes": ["api"], "expires_at": "soon" }),
        )
        .await
        .assert(400, json!({ "error": "expires_at is invalid" }));
        // curl's form: scopes[]=api.
        let res = app
            .form(
                Method::POST,
                &path,
                admin,
                "name=mytoken&expires_at=2099-04-04&scopes[]=api",
            )
            .await;
        assert_eq!(res.status, 201);
        // GitLab 9.x's keys, and today's description, user_id and last_used_at.
        let mut keys = vec![
            "active",
            "created_at",
            "description",
            "expires_at",
            "id",
            "impersonation",
            "last_used_at",
            "name",
            "revoked",
            "scopes",
            "token",
            "user_id",
        ];
        keys.sort();
        assert_eq!(Res::keys_of(&res.body), keys);
        assert_eq!(
            (
                res.body["active"].clone(),
                res.body["impersonation"].clone(),
                res.body["expires_at"].clone()
            ),
            (json!(true), json!(true), json!("2099-04-04"))
        );
        let value = res.body["token"].as_str().unwrap().to_string();
        let id = res.body["id"].as_i64().unwrap();
        let res = app
            .post(
                &path,
                admin,
                json!({ "name": "my new pat", "expires_at": "2016-12-28", "scopes": ["api", "read_user"] }),
            )
            .await;
        res.assert(400, json!({ "message": { "expires_at": ["must not be in the past"] } }));
        let res = app
            .post(
                &path,
                admin,
                json!({ "name": "my new pat", "expires_at": "2099-12-28", "scopes": ["api", "read_user"] }),
            )
            .await;
        app.backdate_token(res.body["id"].as_i64().unwrap(), "2016-12-28").await;
        let res = app.get(&format!("{path}/{}", res.body["id"]), admin).await;
        assert_eq!(
            (
                res.body["active"].clone(),
                res.body["revoked"].clone(),
                res.body["scopes"].clone()
            ),
            (json!(false), json!(false), json!(["api", "read_user"]))
        );
        // The token acts as the user.
        assert_eq!(app.get("/api/v4/user", Some(&value)).await.body["username"], "imp");

        let res = app.get(&path, admin).await;
        assert_eq!(
            (res.body.as_array().unwrap().len(), res.header("x-total")),
            (2, Some("2"))
        );
        assert_eq!(res.body[0]["token"], value.as_str(), "values shown on list");
        let res = app.get(&format!("{path}?state=active"), admin).await;
        assert_eq!(
            (res.body.as_array().unwrap().len(), res.body[0]["active"].clone()),
            (1, json!(true))
        );
        let res = app.get(&format!("{path}?state=inactive"), admin).await;
        assert_eq!(
            (res.body.as_array().unwrap().len(), res.body[0]["active"].clone()),
            (1, json!(false))
        );
        app.get(&format!("{path}?state=bogus"), admin)
            .await
            .assert(400, json!({ "error": "state does not have a valid value" }));
        assert_eq!(
            app.get(&format!("{path}/{id}"), admin).await.body["token"],
            value.as_str()
        );
        // Not for users; 404s as GitLab words them.
        app.get(&path, Some(&u.token))
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
        app.get("/api/v4/users/999999/impersonation_tokens", Some(&u.token))
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
        app.get("/api/v4/users/999999/impersonation_tokens", admin)
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
        let legacy = token::Entity::find()
            .filter(token::Column::UserId.eq(u.id))
            .filter(token::Column::Kind.eq("legacy"))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        app.get(&format!("{path}/{}", legacy.id), admin)
            .await
            .assert(404, json!({ "message": "404 Impersonation Token Not Found" }));
        // Revoke: 204, twice; the row stays revoked and the token stops working.
        let res = app.delete(&format!("{path}/{id}"), admin).await;
        assert_eq!((res.status.as_u16(), res.body.clone()), (204, json!(null)));
        assert_eq!(app.delete(&format!("{path}/{id}"), admin).await.status, 204);
        assert_eq!(app.get(&format!("{path}/{id}"), admin).await.body["revoked"], true);
        let res = app.get("/api/v4/user", Some(&value)).await;
        assert_eq!(
            (res.status.as_u16(), res.body["error"].clone()),
            (401, json!("invalid_token"))
        );
        assert!(res.header("www-authenticate").unwrap().contains("invalid_token"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events() {
    each_backend(|app| async move {
        let u = app.user("ev").await;
        let q = "mutation($i: CreateEventInput!) { createEvent(input: $i) { event { id } } }";
        let day = |d: i64| (Utc::now() - Duration::days(d)).to_rfc3339();
        for (action, extra) in [
            ("closed", json!({ "targetType": "ISSUE", "targetId": 830, "targetTitle": "Public project search field", "projectId": 15, "createdAt": day(4) })),
            ("joined", json!({ "projectId": 15, "createdAt": day(3) })),
            ("commented", json!({ "targetType": "NOTE", "targetId": 1312, "note": { "id": 1312, "body": "What an awesome day!" }, "createdAt": day(1) })),
        ] {
            let mut i = json!({ "authorId": u.id.to_string(), "action": action });
            for (k, v) in extra.as_object().unwrap() {
                i[k] = v.clone();
            }
            app.gql(Some(app.admin()), q, json!({ "i": i })).await.data();
        }
        // Anyone, by id or username, newest first.
        let res = app.get("/api/v4/users/ev/events", None).await;
        assert_eq!((res.status.as_u16(), res.header("x-total")), (200, Some("3")));
        let first = &res.body[0];
        assert_eq!(first["action_name"], "commented on");
        assert_eq!(first["note"]["body"], "What an awesome day!");
        assert_eq!(first["note"]["author"]["username"], "ev");
        assert_eq!(first["author"]["username"], "ev");
        assert_eq!(first["author_username"], "ev");
        assert_eq!(res.body[1]["action_name"], "joined");
        assert!(res.body[1].get("note").is_none(), "note only on note events");
        assert_eq!(res.body[2]["target_title"], "Public project search field");
        assert_eq!(res.body[2]["target_type"], "Issue");
        let mut keys = vec!["title", "project_id", "action_name", "target_id", "target_type", "author_id", "data", "target_title", "created_at", "author", "author_username"];
        keys.sort();
        assert_eq!(Res::keys_of(&res.body[1]), keys);
        let res = app.get(&format!("/api/v4/users/{}/events?action=closed", u.id), Some(&u.token)).await;
        assert_eq!(res.body.as_array().unwrap().len(), 1);
        let res = app.get(&format!("/api/v4/users/{}/events?target_type=note&sort=asc", u.id), None).await;
        assert_eq!(res.body[0]["action_name"], "commented on");
        let res = app.get(&format!("/api/v4/users/{}/events?sort=asc", u.id), None).await;
        assert_eq!(res.body[0]["action_name"], "closed");
        let two = (Utc::now() - Duration::days(2)).date_naive();
        assert_eq!(app.get(&format!("/api/v4/users/ev/events?before={two}"), None).await.body.as_array().unwrap().len(), 2);
        assert_eq!(app.get(&format!("/api/v4/users/ev/events?after={two}"), None).await.body.as_array().unwrap().len(), 1);
        app.get("/api/v4/users/ev/events?action=flew", None).await.assert(400, json!({ "error": "action does not have a valid value" }));
        app.get("/api/v4/users/ev/events?target_type=wiki", None).await.assert(400, json!({ "error": "target_type does not have a valid value" }));
        app.get("/api/v4/users/ev/events?before=yesterday", None).await.assert(400, json!({ "error": "before is invalid" }));
        app.get("/api/v4/users/42424/events", None).await.assert(404, json!({ "message": "404 User Not Found" }));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activities() {
    each_backend(|app| async move {
        let a = app.user("old").await;
        let today = Utc::now().date_naive();
        app.get("/api/v4/user/activities", Some(&a.token))
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
        app.get("/api/v4/user/activities", None)
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
        // Set after the user's own requests (which mark today).
        sea_orm::ConnectionTrait::execute_unprepared(
            app.db(),
            &format!("UPDATE users SET last_activity_on = NULL WHERE id = {}", a.id),
        )
        .await
        .unwrap();
        usergraph::domain::activities::mark(app.db(), a.id, today - Duration::days(400))
            .await
            .unwrap();
        let res = app.get("/api/v4/user/activities", Some(app.admin())).await;
        let today_s = today.to_string();
        assert_eq!(
            res.body,
            json!([{ "username": "root", "last_activity_on": today_s, "last_activity_at": today_s }])
        );
        let res = app
            .get("/api/v4/user/activities?from=2000-1-1", Some(app.admin()))
            .await;
        assert_eq!(res.body[0]["username"], "old");
        assert_eq!(res.header("x-total"), Some("2"));
        app.get("/api/v4/user/activities?from=someday", Some(app.admin()))
            .await
            .assert(400, json!({ "error": "from is invalid" }));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_scopes() {
    each_backend(|app| async move {
        let u = app.user("scoped").await;
        let q = "mutation { createPersonalAccessToken(input: { name: \"ro\", scopes: [\"read_user\"] }) { token { token } } }";
        let res = app.gql(Some(&u.token), q, json!({})).await;
        let ro = res.data()["createPersonalAccessToken"]["token"]["token"].as_str().unwrap().to_string();
        for path in ["/api/v4/user", "/api/v4/user/keys", "/api/v4/user/emails", "/api/v4/users?username=scoped"] {
            assert_eq!(app.get(path, Some(&ro)).await.status, 200, "{path}");
        }
        let res = app.post("/api/v4/user/keys", Some(&ro), json!({ "title": "t", "key": ED25519 })).await;
        assert_eq!(res.status, 403);
        assert_eq!(res.body["error"], "insufficient_scope");
        assert_eq!(res.body["scope"], "api");
        assert_eq!(ssh_key::Entity::find().count(app.db()).await.unwrap(), 0);
    })
    .await;
}
