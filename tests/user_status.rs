//! A user's status (today's GitLab): `GET|PUT|PATCH /user/status`, `GET /users/:id/status`,
//! GraphQL's `User.status` and `setUserStatus`, expiry, and what subscribers hear.

use chrono::{Duration, Utc};
use entity::user_status;
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::each_backend;
use crate::subscriptions::{CHANGED, Ws, id, subscribed};

fn none() -> Value {
    json!({ "emoji": null, "availability": null, "message": null, "message_html": null, "clear_status_at": null })
}

#[tokio::test]
async fn set_read_and_clear_a_status() {
    each_backend(|app| async move {
        let u = app.user("jo").await;
        let me = Some(u.token.as_str());
        app.get("/api/v4/user/status", None)
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
        app.get("/api/v4/user/status", me).await.assert(200, none());
        // Set: the message is shown escaped as HTML; the status clears itself after a day.
        let res = app
            .put(
                "/api/v4/user/status",
                me,
                json!({ "emoji": "coffee", "message": "<b>Out</b> & about", "availability": "busy",
                        "clear_status_after": "1_day" }),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        let b = &res.body;
        assert_eq!(
            (&b["emoji"], &b["availability"], &b["message"], &b["message_html"]),
            (
                &json!("coffee"),
                &json!("busy"),
                &json!("<b>Out</b> & about"),
                &json!("&lt;b&gt;Out&lt;/b&gt; &amp; about")
            )
        );
        let at: chrono::DateTime<Utc> = b["clear_status_at"].as_str().unwrap().parse().unwrap();
        assert!((at - (Utc::now() + Duration::days(1))).num_seconds().abs() < 60);
        // Anyone reads it, by id or username; an unknown user is 404.
        let theirs = app.get(&format!("/api/v4/users/{}/status", u.id), None).await;
        assert_eq!(theirs.body, res.body);
        assert_eq!(app.get("/api/v4/users/JO/status", None).await.body["emoji"], "coffee");
        app.get("/api/v4/users/99999/status", None)
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
        // PATCH changes only what it names.
        let res = app
            .form(
                reqwest::Method::PATCH,
                "/api/v4/user/status",
                me,
                "availability=not_set",
            )
            .await;
        assert_eq!(
            (&res.body["availability"], &res.body["emoji"]),
            (&json!("not_set"), &json!("coffee"))
        );
        assert_eq!(res.body["message"], "<b>Out</b> & about");
        // PUT replaces everything: a message alone gets the default emoji and no expiry.
        let res = app.put("/api/v4/user/status", me, json!({ "message": "Lunch" })).await;
        let b = &res.body;
        assert_eq!(
            (&b["emoji"], &b["availability"], &b["message"], &b["clear_status_at"]),
            (
                &json!("speech_balloon"),
                &json!("not_set"),
                &json!("Lunch"),
                &Value::Null
            )
        );
        // Nothing at all clears it.
        app.put("/api/v4/user/status", me, json!({})).await.assert(200, none());
        assert_eq!(user_status::Entity::find().count(app.db()).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn bad_statuses_are_refused_and_change_nothing() {
    each_backend(|app| async move {
        let u = app.user("jo").await;
        let me = Some(u.token.as_str());
        let set = app.put("/api/v4/user/status", me, json!({ "emoji": "tea", "message": "kept" })).await;
        assert_eq!(set.status, 200);
        for (body, status, answer) in [
            (
                json!({ "emoji": "not_an_emoji" }),
                400,
                json!({ "message": { "emoji": ["is not a valid emoji name"] } }),
            ),
            (
                json!({ "message": "m".repeat(101) }),
                400,
                json!({ "message": { "message": ["is too long (maximum is 100 characters)"] } }),
            ),
            (json!({ "availability": "away" }), 400, json!({ "error": "availability does not have a valid value" })),
            (
                json!({ "clear_status_after": "2_hours" }),
                400,
                json!({ "error": "clear_status_after does not have a valid value" }),
            ),
        ] {
            app.put("/api/v4/user/status", me, body).await.assert(status, answer);
        }
        assert_eq!(app.get("/api/v4/user/status", me).await.body, set.body);
        // A read-only token cannot set one.
        let res = app
            .gql(Some(&u.token), "mutation { createPersonalAccessToken(input: { name: \"r\", scopes: [\"read_api\"] }) { token { token } } }", json!({}))
            .await;
        let read_only = res.data()["createPersonalAccessToken"]["token"]["token"].as_str().unwrap().to_string();
        let res = app.put("/api/v4/user/status", Some(&read_only), json!({ "emoji": "tea" })).await;
        assert_eq!(res.status, 403);
    })
    .await;
}

#[tokio::test]
async fn an_expired_status_reads_as_none() {
    each_backend(|app| async move {
        let u = app.user("jo").await;
        let me = Some(u.token.as_str());
        app.put(
            "/api/v4/user/status",
            me,
            json!({ "emoji": "tea", "clear_status_after": "30_minutes" }),
        )
        .await;
        user_status::Entity::update(user_status::ActiveModel {
            user_id: Set(u.id),
            clear_status_at: Set(Some(Utc::now() - Duration::minutes(1))),
            ..Default::default()
        })
        .exec(app.db())
        .await
        .unwrap();
        app.get("/api/v4/user/status", me).await.assert(200, none());
        let res = app
            .gql(
                None,
                "query($id: ID!) { user(id: $id) { status { emoji } } }",
                json!({ "id": id(u.id) }),
            )
            .await;
        assert_eq!(res.data()["user"]["status"], Value::Null);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_sets_and_reads_statuses_and_subscribers_hear() {
    each_backend(|app| async move {
        let a = app.user("ann").await;
        let b = app.user("ben").await;
        let mut ws = Ws::as_user(&app, app.admin()).await;
        ws.subscribe("all", CHANGED, json!({ "id": id(a.id) })).await;
        subscribed(&app, 1).await;
        let set = "mutation($e: String, $m: String) { setUserStatus(input: { emoji: $e, message: $m }) {
            status { emoji message messageHtml availability } } }";
        let res = app.gql(Some(&a.token), set, json!({ "e": "rocket", "m": "Shipping <now>" })).await;
        assert_eq!(
            res.data()["setUserStatus"]["status"],
            json!({ "emoji": "rocket", "message": "Shipping <now>", "messageHtml": "Shipping &lt;now&gt;", "availability": "not_set" })
        );
        assert_eq!(ws.next("all").await["data"]["userChanged"]["action"], "STATUS_CHANGED");
        app.gql(Some(&b.token), set, json!({ "e": "tea" })).await;
        // A list of users reads every status at once, for anyone signed in.
        let res = app
            .gql(Some(&b.token), "{ users(usernames: [\"ann\", \"ben\"]) { nodes { username status { emoji } } } }", json!({}))
            .await;
        assert_eq!(
            res.data()["users"]["nodes"],
            json!([{ "username": "ann", "status": { "emoji": "rocket" } }, { "username": "ben", "status": { "emoji": "tea" } }])
        );
        let res = app.gql(Some(&a.token), set, json!({ "e": "nope_not_emoji" })).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        let res = app.gql(Some(&a.token), set, json!({})).await;
        assert_eq!(res.data()["setUserStatus"]["status"], Value::Null);
        assert_eq!(ws.next("all").await["data"]["userChanged"]["action"], "STATUS_CHANGED");
    })
    .await;
}
