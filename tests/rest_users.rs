//! `/api/v4/users` and `/api/v4/user`: shapes, statuses, error bodies and headers as GitLab's.

use entity::{email, identity, token, user};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::common::{Res, TestApp, each_backend};

const BASIC: [&str; 6] = ["avatar_url", "id", "name", "state", "username", "web_url"];
const SINGLE_EXTRA: [&str; 14] = [
    "bio",
    "local_time",
    "bot",
    "created_at",
    "discord",
    "job_title",
    "pronouns",
    "linkedin",
    "location",
    "organization",
    "public_email",
    "skype",
    "twitter",
    "website_url",
];
const FULL: [&str; 39] = [
    "bot",
    "local_time",
    "timezone",
    "private_profile",
    "commit_email",
    "discord",
    "job_title",
    "locked",
    "pronouns",
    "theme_id",
    "avatar_url",
    "bio",
    "can_create_group",
    "can_create_project",
    "color_scheme_id",
    "confirmed_at",
    "created_at",
    "current_sign_in_at",
    "email",
    "external",
    "id",
    "identities",
    "is_admin",
    "last_activity_on",
    "last_sign_in_at",
    "linkedin",
    "location",
    "name",
    "organization",
    "projects_limit",
    "public_email",
    "skype",
    "state",
    "twitter",
    "two_factor_enabled",
    "username",
    "web_url",
    "website_url",
    "last_sign_in_at",
];

/// What admins see: the full representation and their note.
fn admin_keys() -> Vec<String> {
    sorted(&[&FULL[..], &["note"][..]].concat())
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
    v.sort();
    v.dedup();
    v
}

fn single_keys() -> Vec<String> {
    sorted(&[&BASIC[..], &SINGLE_EXTRA[..]].concat())
}

fn new_user(username: &str) -> Value {
    json!({ "username": username, "email": format!("{username}@example.com"), "name": "Some One", "password": "s3cret-password" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shapes_and_filters() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let alice = app
            .user_with(
                "alice",
                json!({ "provider": "github", "externUid": "gh-a", "external": true }),
            )
            .await;
        let bob = app.user("bob").await;
        assert_eq!(
            app.post(&format!("/api/v4/users/{}/block", bob.id), admin, json!({}))
                .await
                .status,
            201
        );

        // Admins get the full shape with identities and is_admin; users UserBasic.
        let res = app.get("/api/v4/users", admin).await;
        assert_eq!(res.status, 200);
        assert!(res.header("content-type").unwrap().starts_with("application/json"));
        let rows = res.body.as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(Res::keys_of(&rows[1]), admin_keys());
        assert_eq!(
            rows[1]["identities"],
            json!([{ "provider": "github", "extern_uid": "gh-a" }])
        );
        assert_eq!(rows[0]["is_admin"], true);
        assert!(rows[0]["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            rows[0]["created_at"].as_str().unwrap().len(),
            "2012-05-23T08:00:58.000Z".len()
        );
        let res = app.get("/api/v4/users", Some(&alice.token)).await;
        for r in res.body.as_array().unwrap() {
            assert_eq!(Res::keys_of(r), sorted(&BASIC));
        }
        assert_eq!(res.body[1]["web_url"], format!("{}/alice", app.base));

        // Anonymous: only with username.
        app.get("/api/v4/users", None).await.assert(
            403,
            json!({ "message": "403 Forbidden - Not authorized to access /api/v4/users" }),
        );
        let res = app.get("/api/v4/users?username=ALICE", None).await;
        assert_eq!((res.status.as_u16(), res.body.as_array().unwrap().len()), (200, 1));
        app.get("/api/v4/users?username=invalid", None)
            .await
            .assert(200, json!([]));

        let names = |res: Res| -> Vec<String> {
            assert_eq!(res.status, 200, "{}", res.body);
            res.body
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_string())
                .collect()
        };
        let t = Some(alice.token.as_str());
        assert_eq!(names(app.get("/api/v4/users?blocked=true", t).await), vec!["bob"]);
        assert_eq!(
            names(app.get("/api/v4/users?active=True", t).await),
            vec!["root", "alice"]
        );
        assert_eq!(names(app.get("/api/v4/users?active=false", t).await).len(), 3);
        assert_eq!(names(app.get("/api/v4/users?search=ALI", t).await), vec!["alice"]);
        assert_eq!(
            names(app.get("/api/v4/users?external=true", admin).await),
            vec!["alice"]
        );
        assert_eq!(
            names(app.get("/api/v4/users?extern_uid=gh-a&provider=github", admin).await),
            vec!["alice"]
        );
        assert_eq!(
            names(app.get("/api/v4/users?order_by=username&sort=desc", t).await),
            vec!["root", "bob", "alice"]
        );
        app.get("/api/v4/users?extern_uid=gh-a&provider=github", t)
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
        app.get("/api/v4/users?extern_uid=gh-a", admin).await.assert(
            400,
            json!({ "error": "extern_uid, provider provide all or none of parameters" }),
        );
        app.get("/api/v4/users?order_by=email", t)
            .await
            .assert(400, json!({ "error": "order_by does not have a valid value" }));
        app.get("/api/v4/users?page=abc", t)
            .await
            .assert(400, json!({ "error": "page is invalid" }));
        app.get("/api/v4/users?active=maybe", t)
            .await
            .assert(400, json!({ "error": "active is invalid" }));
        // Admin-only created_before.
        assert_eq!(
            names(
                app.get("/api/v4/users?created_before=2000-01-02T00:00:00.060Z", admin)
                    .await
            )
            .len(),
            0
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_headers_and_links() {
    each_backend(|app| async move {
        for i in 0..6 {
            app.user(&format!("p{i}")).await;
        }
        let admin = Some(app.admin());
        let res = app.get("/api/v4/users?per_page=3&page=2&active=true", admin).await;
        assert_eq!(res.status, 200);
        for (h, v) in [
            ("x-total", "7"),
            ("x-total-pages", "3"),
            ("x-per-page", "3"),
            ("x-page", "2"),
            ("x-next-page", "3"),
            ("x-prev-page", "1"),
        ] {
            assert_eq!(res.header(h), Some(v), "{h}");
        }
        let link = res.header("link").unwrap();
        let base = format!("{}/api/v4/users", app.base);
        for rel in [("prev", 1), ("next", 3), ("first", 1), ("last", 3)] {
            assert!(
                link.contains(&format!(
                    "<{base}?active=true&page={}&per_page=3>; rel=\"{}\"",
                    rel.1, rel.0
                )),
                "{link}"
            );
        }
        // Following rel="next" visits every user once.
        let mut url = format!("{base}?per_page=2");
        let mut seen = Vec::new();
        loop {
            let res = TestApp::finish(app.client.get(&url).header("PRIVATE-TOKEN", app.admin())).await;
            seen.extend(res.body.as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()));
            let Some(next) = res
                .header("link")
                .unwrap()
                .split(", ")
                .find(|l| l.ends_with("rel=\"next\""))
            else {
                break;
            };
            url = next.trim_start_matches('<').split('>').next().unwrap().to_string();
        }
        let mut dedup = seen.clone();
        dedup.dedup();
        assert_eq!((seen.len(), dedup.len()), (7, 7));
        // Last page: no next; per_page is capped at 100; an empty page still says one page.
        let res = app.get("/api/v4/users?per_page=1000", admin).await;
        assert_eq!(
            (
                res.header("x-per-page"),
                res.header("x-next-page"),
                res.header("x-prev-page")
            ),
            (Some("100"), Some(""), Some(""))
        );
        let res = app.get("/api/v4/users?search=nobody", admin).await;
        assert_eq!(
            (res.header("x-total"), res.header("x-total-pages")),
            (Some("0"), Some("1"))
        );
        // A configured external URL is what links use.
        let other = TestApp::start_with(app.backend, |c| {
            c.external_url = Some("https://gitlab.example.com/".into())
        })
        .await;
        let res = other.get("/api/v4/users?per_page=1", Some(other.admin())).await;
        assert!(
            res.header("link")
                .unwrap()
                .starts_with("<https://gitlab.example.com/api/v4/users?page=1&per_page=1>")
        );
        assert!(
            res.body[0]["web_url"]
                .as_str()
                .unwrap()
                .starts_with("https://gitlab.example.com/")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_user() {
    each_backend(|app| async move {
        let u = app.user("single").await;
        let path = format!("/api/v4/users/{}", u.id);
        // Others see the follow counts (and, signed in, whether they follow); oneself does not.
        let plus = |mut keys: Vec<String>, more: &[&str]| {
            keys.extend(more.iter().map(|k| k.to_string()));
            keys.sort();
            keys
        };
        let res = app.get(&path, None).await;
        assert_eq!(res.status, 200);
        assert_eq!(
            Res::keys_of(&res.body),
            plus(single_keys(), &["followers", "following"]),
            "no is_admin, no private fields"
        );
        let res = app.get(&path, Some(&u.token)).await;
        assert_eq!(Res::keys_of(&res.body), single_keys());
        let res = app.get(&path, Some(app.admin())).await;
        assert_eq!(
            Res::keys_of(&res.body),
            plus(admin_keys(), &["followers", "following", "is_followed"])
        );
        assert_eq!(res.body["is_admin"], false);
        // The admin view reads the user and its identities in one statement: the same body as
        // the user's entry in the list (which has no follow counts), with no identity, and with
        // two (in the order added).
        let no_counts = |mut v: Value| {
            for k in ["followers", "following", "is_followed"] {
                v.as_object_mut().unwrap().remove(k);
            }
            v
        };
        let entry = |name: &'static str| {
            let app = app.clone();
            async move {
                let res = app
                    .get(&format!("/api/v4/users?username={name}"), Some(app.admin()))
                    .await;
                res.body[0].clone()
            }
        };
        assert_eq!(res.body["identities"], json!([]));
        assert_eq!(no_counts(res.body.clone()), entry("single").await);
        let two = app
            .user_with("two_ids", json!({ "externUid": "1", "provider": "github" }))
            .await;
        let res = app
            .form(
                Method::PUT,
                &format!("/api/v4/users/{}", two.id),
                Some(app.admin()),
                "provider=gitlab&extern_uid=2",
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        let res = app.get(&format!("/api/v4/users/{}", two.id), Some(app.admin())).await;
        assert_eq!(
            res.body["identities"],
            json!([{ "provider": "github", "extern_uid": "1" }, { "provider": "gitlab", "extern_uid": "2" }])
        );
        assert_eq!(no_counts(res.body.clone()), entry("two_ids").await);
        app.get("/api/v4/users/9999", Some(app.admin()))
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
        app.get("/api/v4/users/9999", Some(&u.token))
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
        app.get("/api/v4/users/1ASDF", Some(&u.token))
            .await
            .assert(404, json!({ "error": "404 Not Found" }));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_user() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let regular = app.user("regular").await;
        let res = app.post("/api/v4/users", admin, new_user("created")).await;
        assert_eq!(res.status, 201);
        assert_eq!(Res::keys_of(&res.body), admin_keys());
        assert_eq!((res.body["is_admin"].clone(), res.body["confirmed_at"].clone()), (json!(false), json!(null)));

        // Form-urlencoded and multipart bodies; booleans as strings; identity; confirm=false.
        let res = app
            .form(Method::POST, "/api/v4/users", admin, "username=formy&email=formy%40example.com&name=F&password=s3cret-password&admin=true&provider=github&extern_uid=67890&confirm=false&projects_limit=5")
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert_eq!(res.body["identities"], json!([{ "provider": "github", "extern_uid": "67890" }]));
        assert_eq!((res.body["is_admin"].clone(), res.body["projects_limit"].clone()), (json!(true), json!(5)));
        assert!(res.body["confirmed_at"].is_string());
        let form = reqwest::multipart::Form::new()
            .text("username", "multi")
            .text("email", "multi@example.com")
            .text("name", "M")
            .text("password", "s3cret-password")
            .text("can_create_group", "false");
        let res = TestApp::finish(app.client.post(format!("{}/api/v4/users", app.base)).header("PRIVATE-TOKEN", app.admin()).multipart(form)).await;
        assert_eq!((res.status.as_u16(), res.body["can_create_group"].clone()), (201, json!(false)));

        // Missing parameters, one by one, before the admin check.
        for field in ["email", "name", "username"] {
            let mut body = new_user("missing");
            body.as_object_mut().unwrap().remove(field);
            app.post("/api/v4/users", admin, body.clone()).await.assert(400, json!({ "error": format!("{field} is missing") }));
            app.post("/api/v4/users", Some(&regular.token), body).await.assert(400, json!({ "error": format!("{field} is missing") }));
        }
        let mut body = new_user("nopw");
        body.as_object_mut().unwrap().remove("password");
        app.post("/api/v4/users", admin, body.clone())
            .await
            .assert(400, json!({ "error": "password, reset_password are missing, at least one parameter must be provided" }));
        body["reset_password"] = json!(true);
        assert_eq!(app.post("/api/v4/users", admin, body).await.status, 201);
        app.post("/api/v4/users", Some(&regular.token), new_user("x2")).await.assert(403, json!({ "message": "403 Forbidden" }));
        app.post("/api/v4/users", None, new_user("x3")).await.assert(401, json!({ "message": "401 Unauthorized" }));

        // GitLab's validation messages.
        let res = app
            .post("/api/v4/users", admin, json!({ "password": "pass", "email": "test@example.com", "username": "test!", "name": "test", "bio": "g".repeat(256), "projects_limit": -1 }))
            .await;
        assert_eq!(res.status, 400);
        let m = &res.body["message"];
        assert_eq!(m["password"], json!(["is too short (minimum is 8 characters)"]));
        assert_eq!(m["bio"], json!(["is too long (maximum is 255 characters)"]));
        assert_eq!(m["projects_limit"], json!(["must be greater than or equal to 0"]));
        assert!(m["username"][0].as_str().unwrap().starts_with("can contain only letters"));
        app.post("/api/v4/users", admin, json!({ "email": "x@example.com", "username": "x4", "name": "x", "password": "s3cret-password", "projects_limit": "many" }))
            .await
            .assert(400, json!({ "error": "projects_limit is invalid" }));

        // Taken e-mail, then taken username: 409, nothing written.
        let before = user::Entity::find().count(app.db()).await.unwrap();
        let mut dup = new_user("fresh");
        dup["email"] = json!("REGULAR@example.com");
        app.post("/api/v4/users", admin, dup).await.assert(409, json!({ "message": "Email has already been taken" }));
        let mut dup = new_user("Regular");
        dup["email"] = json!("fresh@example.com");
        app.post("/api/v4/users", admin, dup).await.assert(409, json!({ "message": "Username has already been taken" }));
        assert_eq!(user::Entity::find().count(app.db()).await.unwrap(), before);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_user() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("upd").await;
        let other = app.user("other").await;
        let path = format!("/api/v4/users/{}", u.id);
        let res = app.put(&path, admin, json!({ "bio": "new test bio" })).await;
        assert_eq!(
            (res.status.as_u16(), res.body["bio"].clone()),
            (200, json!("new test bio"))
        );
        assert_eq!(Res::keys_of(&res.body), admin_keys());
        let res = app.put(&path, admin, json!({ "password": "12345678" })).await;
        assert_eq!(res.status, 200);
        let row = user::Entity::find_by_id(u.id).one(app.db()).await.unwrap().unwrap();
        assert!(row.password_expires_at.unwrap() <= chrono::Utc::now());
        app.put(&path, admin, json!({ "email": "invalid email" }))
            .await
            .assert(400, json!({ "message": { "email": ["is invalid"] } }));
        app.put(&path, admin, json!({ "extern_uid": "x" })).await.assert(
            400,
            json!({ "error": "extern_uid, provider provide all or none of parameters" }),
        );
        app.put(&path, admin, json!({ "email": "other@example.com" }))
            .await
            .assert(409, json!({ "message": "Email has already been taken" }));
        app.put(&path, admin, json!({ "username": "OTHER" }))
            .await
            .assert(409, json!({ "message": "Username has already been taken" }));
        assert_eq!(
            app.put(&path, admin, json!({ "email": "upd@example.com", "username": "upd" }))
                .await
                .status,
            200
        );
        app.put("/api/v4/users/999999", admin, json!({ "bio": "x" }))
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
        app.put("/api/v4/users/ASDF", admin, json!({ "bio": "x" }))
            .await
            .assert(404, json!({ "error": "404 Not Found" }));
        app.put(&path, Some(&other.token), json!({ "bio": "x" }))
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
        // gitbeaker edits with multipart.
        let form = reqwest::multipart::Form::new().text("location", "Mars");
        let res = TestApp::finish(
            app.client
                .put(format!("{}{path}", app.base))
                .header("PRIVATE-TOKEN", app.admin())
                .multipart(form),
        )
        .await;
        assert_eq!(res.body["location"], "Mars");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_user() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app
            .user_with("doomed", json!({ "provider": "github", "externUid": "d1" }))
            .await;
        let other = app.user("other").await;
        let path = format!("/api/v4/users/{}", u.id);
        app.delete(&path, None)
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
        app.delete(&path, Some(&other.token))
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
        let res = app.delete(&path, admin).await;
        assert_eq!(
            (res.status.as_u16(), res.body["username"].clone()),
            (200, json!("doomed"))
        );
        assert_eq!(
            res.body["identities"],
            json!([{ "provider": "github", "extern_uid": "d1" }])
        );
        app.delete(&path, admin).await.assert(200, json!({}));
        app.delete("/api/v4/users/999999", admin).await.assert(200, json!({}));
        for n in [
            user::Entity::find()
                .filter(user::Column::Id.eq(u.id))
                .count(app.db())
                .await
                .unwrap(),
            identity::Entity::find()
                .filter(identity::Column::UserId.eq(u.id))
                .count(app.db())
                .await
                .unwrap(),
            email::Entity::find()
                .filter(email::Column::UserId.eq(u.id))
                .count(app.db())
                .await
                .unwrap(),
            token::Entity::find()
                .filter(token::Column::UserId.eq(u.id))
                .count(app.db())
                .await
                .unwrap(),
        ] {
            assert_eq!(n, 0);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_and_unblock() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("blocky").await;
        let block = format!("/api/v4/users/{}/block", u.id);
        let unblock = format!("/api/v4/users/{}/unblock", u.id);
        app.post(&block, Some(&u.token), json!({}))
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
        app.post(&block, admin, json!({})).await.assert(201, json!(true));
        app.post(&block, admin, json!({})).await.assert(201, json!(false));
        app.get("/api/v4/user", Some(&u.token)).await.assert(
            403,
            json!({ "message": "403 Forbidden - Your account has been blocked." }),
        );
        app.post(&unblock, admin, json!({})).await.assert(201, json!(true));
        app.post(&unblock, admin, json!({})).await.assert(201, json!(false));
        assert_eq!(app.get("/api/v4/user", Some(&u.token)).await.status, 200);
        app.post("/api/v4/users/9999/block", admin, json!({}))
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
        let mut m: user::ActiveModel = user::Entity::find_by_id(u.id)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
            .into();
        m.state = Set("ldap_blocked".into());
        m.update(app.db()).await.unwrap();
        app.post(&block, admin, json!({})).await.assert(
            403,
            json!({ "message": "403 Forbidden - LDAP blocked users cannot be modified by the API" }),
        );
        app.post(&unblock, admin, json!({})).await.assert(
            403,
            json!({ "message": "403 Forbidden - LDAP blocked users cannot be unblocked by the API" }),
        );
        let row = user::Entity::find_by_id(u.id).one(app.db()).await.unwrap().unwrap();
        assert_eq!(row.state, "ldap_blocked");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_user_and_sudo() {
    each_backend(|app| async move {
        let u = app.user("me").await;
        let other = app.user("other").await;
        app.get("/api/v4/user", None)
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
        let res = app.get("/api/v4/user", Some(&u.token)).await;
        assert_eq!(Res::keys_of(&res.body), sorted(&FULL));
        assert_eq!(
            (res.body["username"].clone(), res.body["is_admin"].clone()),
            (json!("me"), json!(false))
        );
        assert!(res.body.get("private_token").is_none());
        // Bearer and the private_token parameter.
        let res = TestApp::finish(
            app.client
                .get(format!("{}/api/v4/user", app.base))
                .bearer_auth(&u.token),
        )
        .await;
        assert_eq!(res.body["username"], "me");
        let res = app.get(&format!("/api/v4/user?private_token={}", u.token), None).await;
        assert_eq!(res.body["username"], "me");
        // Sudo.
        app.get(
            &format!("/api/v4/user?private_token={}&sudo={}", u.token, other.id),
            None,
        )
        .await
        .assert(403, json!({ "message": "403 Forbidden - Must be admin to use sudo" }));
        let res = app.get(&format!("/api/v4/user?sudo={}", u.id), Some(app.admin())).await;
        assert_eq!(res.body["username"], "me");
        assert_eq!(res.body["private_token"], u.token.as_str());
        let res = TestApp::finish(
            app.client
                .get(format!("{}/api/v4/user", app.base))
                .header("PRIVATE-TOKEN", app.admin())
                .header("sudo", "other"),
        )
        .await;
        assert_eq!(res.body["username"], "other");
        app.get("/api/v4/user?sudo=ghost", Some(app.admin())).await.assert(
            404,
            json!({ "message": "404 User with ID or username 'ghost' Not Found" }),
        );
        // Unknown, revoked and read-only tokens.
        app.get("/api/v4/user", Some("glpat-unknown"))
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_methods() {
    each_backend(|app| async move {
        app.get("/api/v4/nothing", Some(app.admin()))
            .await
            .assert(404, json!({ "error": "404 Not Found" }));
        app.get("/api/v4/users/1/nothing", Some(app.admin()))
            .await
            .assert(404, json!({ "error": "404 Not Found" }));
        app.request(Method::PATCH, "/api/v4/users", Some(app.admin()), None)
            .await
            .assert(405, json!({ "error": "405 Not Allowed" }));
        let res = TestApp::finish(
            app.client
                .post(format!("{}/api/v4/users", app.base))
                .header("PRIVATE-TOKEN", app.admin())
                .header("Content-Type", "application/json")
                .body("{oops"),
        )
        .await;
        assert_eq!(res.status, 400);
        assert!(res.body["error"].as_str().unwrap().contains("body"));
    })
    .await;
}

/// The routes of the router's source (`.route("/path", get(..).post(..))`, over one or more
/// lines) with their methods, sorted.
fn router_routes(source: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut routes = std::collections::BTreeMap::new();
    for (at, _) in source.match_indices(".route(") {
        // The call's arguments: up to the parenthesis that closes it.
        let rest = &source[at + ".route(".len()..];
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map(|(i, _)| i)
            .unwrap();
        let args = &rest[..end];
        let path = args.split('"').nth(1).unwrap().to_string();
        let mut methods: Vec<String> = ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .filter(|m| {
                args.match_indices(&format!("{m}("))
                    .any(|(i, _)| i == 0 || matches!(args.as_bytes()[i - 1], b'.' | b' ' | b'\n' | b'(' | b','))
            })
            .map(str::to_string)
            .collect();
        methods.sort();
        routes.insert(path, methods);
    }
    routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_names_every_route() {
    let app = TestApp::start(crate::common::Backend::Sqlite).await;
    let res = app.get("/api/v4/openapi.json", None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["openapi"], "3.0.3");
    // The router's routes and their methods, read from its source; the document's, from it.
    let routes = router_routes(include_str!("../src/rest/mod.rs"));
    assert!(routes.len() > 40, "the router's routes were not found: {routes:?}");
    let documented: std::collections::BTreeMap<String, Vec<String>> = res.body["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, ops)| {
            let mut methods: Vec<String> = ops.as_object().unwrap().keys().cloned().collect();
            methods.sort();
            (path.clone(), methods)
        })
        .collect();
    for (path, methods) in &routes {
        if path == "/openapi.json" {
            continue;
        }
        assert_eq!(
            documented.get(path),
            Some(methods),
            "{path}: the router serves {methods:?}"
        );
    }
    // A documented path is one of the router's, or a case of one (`/personal_access_tokens/self/
    // rotate` of `/personal_access_tokens/{id}/rotate`).
    let matches = |route: &str, path: &str| {
        let (r, p): (Vec<&str>, Vec<&str>) = (route.split('/').collect(), path.split('/').collect());
        r.len() == p.len() && r.iter().zip(&p).all(|(r, p)| r == p || r.starts_with('{'))
    };
    for path in documented.keys() {
        assert!(
            routes.keys().any(|r| matches(r, path)),
            "openapi.json names {path}, which the router lacks"
        );
    }
    // And the router answers each documented operation itself (not its fallbacks for an unknown
    // route or method).
    let client = reqwest::Client::new();
    for (path, methods) in &documented {
        let concrete = path
            .split('/')
            .map(|part| match part.starts_with('{') {
                true => match part {
                    "{provider}" | "{key}" => "x",
                    _ => "1",
                },
                false => part,
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in methods {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = client
                .request(method.clone(), format!("{}/api/v4{concrete}", app.base))
                .header("PRIVATE-TOKEN", app.admin())
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert!(
                status != 405 && body != json!({ "error": "404 Not Found" }),
                "{method} {concrete}: {status} {body}"
            );
        }
    }
    // Every operation declares its statuses, and every path parameter is declared.
    for (path, ops) in res.body["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
        }
    }
}
