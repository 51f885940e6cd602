//! Today's GitLab account states: deactivate and activate, ban and unban, self sign-up with
//! approval or rejection; what each state does to the account's credentials, and what
//! subscribers hear.

use chrono::{Duration, Utc};
use entity::{outbox, user};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::common::{Backend, TestApp, backends, each_backend};
use crate::subscriptions::{CHANGED, Ws, id, subscribed};

/// Moves a user's last activity (and sign-in) `days` back, as if time had passed.
async fn dormant_for(app: &TestApp, user_id: i32, days: i64) {
    let then = Utc::now() - Duration::days(days);
    user::Entity::update(user::ActiveModel {
        id: Set(user_id),
        last_activity_on: Set(Some(then.date_naive())),
        current_sign_in_at: Set(Some(then)),
        ..Default::default()
    })
    .exec(app.db())
    .await
    .unwrap();
}

async fn state_of(app: &TestApp, user_id: i32) -> String {
    user::Entity::find_by_id(user_id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .state
}

#[tokio::test]
async fn deactivate_and_activate() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("sleepy").await;
        let post = |what: &str| {
            let (app, path) = (app.clone(), format!("/api/v4/users/{}/{what}", u.id));
            async move { app.post(&path, Some(app.admin()), json!({})).await }
        };
        // Active in the last 90 days: refused.
        app.get("/api/v4/user", Some(&u.token)).await; // marks today's activity
        let res = post("deactivate").await;
        res.assert(
            403,
            json!({ "message": "The user you are trying to deactivate has been active in the past 90 days and cannot be deactivated" }),
        );
        let res = app.post(&format!("/api/v4/users/{}/deactivate", u.id), Some(&u.token), json!({})).await;
        res.assert(403, json!({ "message": "403 Forbidden" }));
        dormant_for(&app, u.id, 91).await;
        let res = app.post("/api/v4/users/99999/deactivate", admin, json!({})).await;
        res.assert(404, json!({ "message": "404 User Not Found" }));
        post("deactivate").await.assert(201, json!(true));
        post("deactivate").await.assert(201, json!(null));
        assert_eq!(state_of(&app, u.id).await, "deactivated");
        // Its credentials are refused, naming the server to sign in to again.
        let res = app.get("/api/v4/user", Some(&u.token)).await;
        let reason = format!(
            "403 Forbidden - Your account has been deactivated by your administrator. Please log back in from a web browser to reactivate your account at {}",
            app.base
        );
        res.assert(403, json!({ "message": reason }));
        let res = app.gql(Some(&u.token), "{ currentUser { id } }", json!({})).await;
        assert_eq!(res.code(), "FORBIDDEN");
        assert_eq!(app.get(&format!("/api/v4/users/{}", u.id), admin).await.body["state"], "deactivated");
        post("unblock")
            .await
            .assert(403, json!({ "message": "403 Forbidden - Deactivated users cannot be unblocked by the API" }));
        // Activate; activating an active user is fine too.
        post("activate").await.assert(201, json!(true));
        post("activate").await.assert(201, json!(true));
        assert_eq!(app.get("/api/v4/user", Some(&u.token)).await.status, 200);
        // Signing in reactivates a deactivated account.
        dormant_for(&app, u.id, 100).await;
        post("deactivate").await.assert(201, json!(true));
        let res = app.sign_in("sleepy", "s3cret-password").await;
        assert!(res.data()["signIn"]["token"].is_string());
        assert_eq!(state_of(&app, u.id).await, "active");

        // A blocked user can be neither deactivated nor activated.
        let b = app.user("blockedone").await;
        app.post(&format!("/api/v4/users/{}/block", b.id), admin, json!({})).await;
        let res = app.post(&format!("/api/v4/users/{}/deactivate", b.id), admin, json!({})).await;
        res.assert(403, json!({ "message": "Error occurred. A blocked user cannot be deactivated" }));
        let res = app.post(&format!("/api/v4/users/{}/activate", b.id), admin, json!({})).await;
        res.assert(403, json!({ "message": "Error occurred. A blocked user must be unblocked to be activated" }));

        // Over GraphQL.
        let q = "mutation($id: ID!) { deactivateUser(input: { id: $id }) { changed user { state } } }";
        dormant_for(&app, u.id, 100).await;
        let res = app.gql(admin, q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.data()["deactivateUser"], json!({ "changed": true, "user": { "state": "deactivated" } }));
        let q = "mutation($id: ID!) { activateUser(input: { id: $id }) { changed user { state } } }";
        let res = app.gql(admin, q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.data()["activateUser"], json!({ "changed": true, "user": { "state": "active" } }));
        let res = app.gql(Some(&u.token), q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.code(), "FORBIDDEN");
    })
    .await;
}

#[tokio::test]
async fn ban_and_unban() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("rowdy").await;
        let post = |what: &str| {
            let (app, path) = (app.clone(), format!("/api/v4/users/{}/{what}", u.id));
            async move { app.post(&path, Some(app.admin()), json!({})).await }
        };
        post("ban").await.assert(201, json!(true));
        assert_eq!(state_of(&app, u.id).await, "banned");
        post("ban")
            .await
            .assert(403, json!({ "message": "You cannot ban banned users." }));
        let res = app.get("/api/v4/user", Some(&u.token)).await;
        res.assert(
            403,
            json!({ "message": "403 Forbidden - Your account has been blocked." }),
        );
        assert_eq!(app.sign_in("rowdy", "s3cret-password").await.code(), "FORBIDDEN");
        // Banned is blocked already.
        post("block").await.assert(201, json!(false));
        post("unban").await.assert(201, json!(true));
        post("unban")
            .await
            .assert(403, json!({ "message": "You cannot unban active users." }));
        assert_eq!(app.get("/api/v4/user", Some(&u.token)).await.status, 200);
        // Only active users are banned.
        post("block").await.assert(201, json!(true));
        post("ban")
            .await
            .assert(403, json!({ "message": "You cannot ban blocked users." }));
        // Unblocking a banned user lifts the ban too (GitLab's activate).
        post("unblock").await.assert(201, json!(true));
        post("ban").await.assert(201, json!(true));
        post("unblock").await.assert(201, json!(true));
        assert_eq!(state_of(&app, u.id).await, "active");
        let res = app
            .post(&format!("/api/v4/users/{}/ban", u.id), Some(&u.token), json!({}))
            .await;
        assert_eq!(res.status, 403);
        let me = app.get("/api/v4/user", admin).await.body["id"].as_i64().unwrap();
        let res = app.post(&format!("/api/v4/users/{me}/ban"), admin, json!({})).await;
        assert_eq!(res.status, 403);

        let q = "mutation($id: ID!) { banUser(input: { id: $id }) { changed user { state } } }";
        let res = app.gql(admin, q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.data()["banUser"]["user"]["state"], "banned");
        let q = "mutation($id: ID!) { unbanUser(input: { id: $id }) { changed user { state } } }";
        let res = app.gql(admin, q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.data()["unbanUser"]["user"]["state"], "active");
        let res = app.gql(admin, q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.code(), "FORBIDDEN");
    })
    .await;
}

const SIGN_UP: &str = "mutation($u: String!) { signUp(input: { username: $u, email: \"$u@example.com\",
    name: \"New\", password: \"s3cret-password\" }) { user { id username state } } }";

fn sign_up_doc(username: &str) -> String {
    SIGN_UP.replace("\"$u@example.com\"", &format!("\"{username}@example.com\""))
}

#[tokio::test]
async fn sign_up_waits_for_approval_or_rejection() {
    // Off by default.
    let plain = TestApp::start(Backend::Sqlite).await;
    let res = plain.gql(None, &sign_up_doc("nobody"), json!({ "u": "nobody" })).await;
    assert_eq!(res.code(), "FORBIDDEN");

    for backend in backends() {
        let app = TestApp::start_with(backend, |c| c.signup_enabled = true).await;
        eprintln!("--- backend: {backend:?}");
        let admin = Some(app.admin());
        let res = app.gql(None, &sign_up_doc("newbie"), json!({ "u": "newbie" })).await;
        let newbie: i32 = res.data()["signUp"]["user"]["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(res.data()["signUp"]["user"]["state"], "blocked_pending_approval");
        // A taken name is refused; so is a short password.
        let res = app.gql(None, &sign_up_doc("newbie"), json!({ "u": "newbie" })).await;
        assert_eq!(res.code(), "CONFLICT");
        // Waiting: its password does not sign in.
        let res = app.sign_in("newbie", "s3cret-password").await;
        assert_eq!(res.code(), "FORBIDDEN");
        assert!(
            res.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("pending approval")
        );
        // Approve: only admins, only while pending.
        let path = format!("/api/v4/users/{newbie}/approve");
        let other = app.user("plainuser").await;
        let res = app.post(&path, Some(&other.token), json!({})).await;
        res.assert(403, json!({ "message": "You are not allowed to approve a user" }));
        app.post(&path, admin, json!({}))
            .await
            .assert(201, json!({ "message": "Success" }));
        let res = app.post(&path, admin, json!({})).await;
        res.assert(
            409,
            json!({ "message": "The user you are trying to approve is not pending approval" }),
        );
        assert_eq!(state_of(&app, newbie).await, "active");
        // Active now; it still has to confirm its address before signing in.
        let res = app.sign_in("newbie", "s3cret-password").await;
        assert_eq!(res.code(), "UNCONFIRMED");

        // Reject: the account is deleted, and the person is told.
        let res = app
            .gql(None, &sign_up_doc("unwanted"), json!({ "u": "unwanted" }))
            .await;
        let unwanted: i32 = res.data()["signUp"]["user"]["id"].as_str().unwrap().parse().unwrap();
        let path = format!("/api/v4/users/{unwanted}/reject");
        let res = app.post(&path, Some(&other.token), json!({})).await;
        res.assert(403, json!({ "message": "You are not allowed to reject a user" }));
        app.post(&path, admin, json!({}))
            .await
            .assert(200, json!({ "message": "Success" }));
        let res = app.get(&format!("/api/v4/users/{unwanted}"), admin).await;
        assert_eq!(res.status, 404);
        let told = outbox::Entity::find()
            .filter(outbox::Column::Template.eq("sign_up_rejected"))
            .filter(outbox::Column::Recipient.eq("unwanted@example.com"))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(told, 1);
        let res = app
            .post(&format!("/api/v4/users/{newbie}/reject"), admin, json!({}))
            .await;
        res.assert(409, json!({ "message": "User does not have a pending request" }));

        // Over GraphQL.
        let res = app.gql(None, &sign_up_doc("gqlnew"), json!({ "u": "gqlnew" })).await;
        let gqlnew = res.data()["signUp"]["user"]["id"].as_str().unwrap().to_string();
        let q = "mutation($id: ID!) { approveUser(input: { id: $id }) { user { state } } }";
        let res = app.gql(admin, q, json!({ "id": gqlnew })).await;
        assert_eq!(res.data()["approveUser"]["user"]["state"], "active");
        let res = app.gql(admin, q, json!({ "id": gqlnew })).await;
        assert_eq!(res.code(), "CONFLICT");
        let q = "mutation($id: ID!) { rejectUser(input: { id: $id }) { user { username } } }";
        let res = app.gql(admin, q, json!({ "id": gqlnew })).await;
        assert_eq!(res.code(), "CONFLICT");
    }

    // Without approval, a sign-up is active at once.
    let open = TestApp::start_with(Backend::Sqlite, |c| {
        c.signup_enabled = true;
        c.signup_requires_approval = false;
    })
    .await;
    let res = open.gql(None, &sign_up_doc("freebie"), json!({ "u": "freebie" })).await;
    assert_eq!(res.data()["signUp"]["user"]["state"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_hear_every_state_change() {
    each_backend(|app| async move {
        let u = app.user("watched").await;
        dormant_for(&app, u.id, 120).await;
        let mut ws = Ws::as_user(&app, app.admin()).await;
        ws.subscribe("all", CHANGED, json!({ "id": id(u.id) })).await;
        subscribed(&app, 1).await;
        for (op, action) in [
            ("deactivateUser", "DEACTIVATED"),
            ("activateUser", "ACTIVATED"),
            ("banUser", "BANNED"),
            ("unbanUser", "UNBANNED"),
        ] {
            let q = format!("mutation($id: ID!) {{ {op}(input: {{ id: $id }}) {{ changed }} }}");
            let res = app.gql(Some(app.admin()), &q, json!({ "id": id(u.id) })).await;
            assert_eq!(res.data()[op]["changed"], true, "{op}");
            let p = ws.next("all").await;
            assert_eq!(p["data"]["userChanged"]["action"], action, "{op}");
        }
    })
    .await;
}
