//! Profile fields of today's GitLab: `public_email` (one of the user's confirmed addresses, shown
//! to everyone, and the `public_email` filter of the users list).

use entity::user;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::{Res, TestApp, each_backend};

async fn public_email_of(app: &TestApp, id: i32) -> Option<String> {
    user::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .public_email
}

#[tokio::test]
async fn public_email_is_one_of_the_users_confirmed_addresses() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let not_owned = json!({ "message": { "public_email": ["is not an email you own"] } });
        // On creation only the primary address, confirmed at once, may be the public one.
        let users_before = user::Entity::find().count(app.db()).await.unwrap();
        let new = |extra: Value| {
            let app = app.clone();
            async move {
                let mut body = json!({ "username": "pub", "email": "Pub@Example.com", "name": "P",
                                       "password": "s3cret-password" });
                for (k, v) in extra.as_object().unwrap() {
                    body[k] = v.clone();
                }
                app.post("/api/v4/users", Some(app.admin()), body).await
            }
        };
        new(json!({ "public_email": "someone@example.com", "skip_confirmation": true }))
            .await
            .assert(400, not_owned.clone());
        new(json!({ "public_email": "pub@example.com" })).await.assert(400, not_owned.clone());
        assert_eq!(user::Entity::find().count(app.db()).await.unwrap(), users_before);
        let res = new(json!({ "public_email": "PUB@example.com", "skip_confirmation": true })).await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert_eq!(res.body["public_email"], "pub@example.com");
        let id = res.body["id"].as_i64().unwrap() as i32;
        // Shown to everyone, over REST and GraphQL.
        let res = app.get(&format!("/api/v4/users/{id}"), None).await;
        assert_eq!(res.body["public_email"], "pub@example.com");
        let other = app.user("other").await;
        let res = app
            .gql(Some(&other.token), "query($id: ID!) { user(id: $id) { publicEmail } }", json!({ "id": id.to_string() }))
            .await;
        assert_eq!(res.data()["user"]["publicEmail"], "pub@example.com");
        // A secondary address: refused until it is confirmed.
        let path = format!("/api/v4/users/{id}");
        app.post(&format!("{path}/emails"), admin, json!({ "email": "second@example.com" }))
            .await;
        app.put(&path, admin, json!({ "public_email": "second@example.com" }))
            .await
            .assert(400, not_owned.clone());
        app.put(&path, admin, json!({ "public_email": "nobody@example.com" }))
            .await
            .assert(400, not_owned.clone());
        let res = app
            .post(&format!("{path}/emails"), admin, json!({ "email": "third@example.com", "skip_confirmation": true }))
            .await;
        let third = res.body["id"].as_i64().unwrap();
        let res = app.put(&path, admin, json!({ "public_email": "Third@example.com" })).await;
        assert_eq!(res.body["public_email"], "third@example.com");
        // The list filter, in any case; without_project_bots changes nothing (no bots here).
        for q in ["public_email=THIRD@example.com", "public_email=third@example.com&without_project_bots=true"] {
            let res = app.get(&format!("/api/v4/users?{q}"), admin).await;
            let ids: Vec<i64> = res.body.as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
            assert_eq!(ids, vec![id as i64], "{q}");
        }
        let res = app.get("/api/v4/users?public_email=second@example.com", admin).await;
        assert_eq!(res.body, json!([]));
        app.get("/api/v4/users?without_project_bots=maybe", admin)
            .await
            .assert(400, json!({ "error": "without_project_bots is invalid" }));
        let res = app
            .gql(admin, "{ users(filter: { publicEmail: \"third@example.com\" }) { nodes { username } } }", json!({}))
            .await;
        assert_eq!(res.data()["users"]["nodes"], json!([{ "username": "pub" }]));
        // Deleting the address takes it off the profile.
        app.delete(&format!("{path}/emails/{third}"), admin).await;
        assert_eq!(public_email_of(&app, id).await, None);
        // An empty value clears it; a new primary address replaces an old public one.
        app.put(&path, admin, json!({ "public_email": "pub@example.com" })).await;
        assert_eq!(public_email_of(&app, id).await.as_deref(), Some("pub@example.com"));
        let res = app.put(&path, admin, json!({ "public_email": "" })).await;
        assert_eq!(res.body["public_email"], Value::Null);
        app.put(&path, admin, json!({ "public_email": "pub@example.com" })).await;
        app.put(&path, admin, json!({ "email": "renamed@example.com" })).await;
        assert_eq!(public_email_of(&app, id).await, None);
        // GraphQL writes it under the same rule.
        let set = "mutation($id: ID!, $e: String!) { updateUser(input: { id: $id, publicEmail: $e }) { user { publicEmail } } }";
        let res = app.gql(admin, set, json!({ "id": id.to_string(), "e": "nobody@example.com" })).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
    })
    .await;
}

#[tokio::test]
async fn todays_profile_fields_round_trip_under_gitlabs_rules() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("prof").await;
        let path = format!("/api/v4/users/{}", u.id);
        // Defaults.
        let res = app.get(&path, admin).await;
        let b = &res.body;
        assert_eq!(
            (
                &b["discord"],
                &b["job_title"],
                &b["pronouns"],
                &b["bot"],
                &b["theme_id"]
            ),
            (&json!(""), &json!(""), &Value::Null, &json!(false), &json!(1))
        );
        assert_eq!(
            (&b["commit_email"], &b["locked"]),
            (&json!("prof@example.com"), &json!(false))
        );
        // Written and read back exactly.
        let res = app
            .put(
                &path,
                admin,
                json!({ "discord": "123456789012345678", "job_title": "Engineer", "pronouns": "she/her",
                        "theme_id": 11, "commit_email": "prof@example.com" }),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        let b = &res.body;
        assert_eq!(
            (
                &b["discord"],
                &b["job_title"],
                &b["pronouns"],
                &b["theme_id"],
                &b["commit_email"]
            ),
            (
                &json!("123456789012345678"),
                &json!("Engineer"),
                &json!("she/her"),
                &json!(11),
                &json!("prof@example.com")
            )
        );
        // Others see the public ones, not the private ones.
        let other = app.user("other").await;
        let q = "query($id: ID!) { user(id: $id) { discord jobTitle pronouns bot themeId } }";
        let res = app.gql(Some(&other.token), q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.body["data"]["user"]["jobTitle"], "Engineer");
        assert_eq!(res.body["data"]["user"]["themeId"], Value::Null);
        assert_eq!(res.code(), "FORBIDDEN");
        let res = app.get(&path, Some(&other.token)).await;
        assert_eq!(res.body["pronouns"], "she/her");
        assert!(res.body.get("theme_id").is_none() && res.body.get("commit_email").is_none());
        // Bad values: 400 with GitLab's words, nothing changed.
        for (body, field, message) in [
            (
                json!({ "discord": "not-a-snowflake" }),
                "discord",
                "must contain only a discord user ID.",
            ),
            (json!({ "theme_id": 12 }), "theme_id", "is not included in the list"),
            (
                json!({ "pronouns": "p".repeat(51) }),
                "pronouns",
                "is too long (maximum is 50 characters)",
            ),
            (
                json!({ "job_title": "j".repeat(201) }),
                "job_title",
                "is too long (maximum is 200 characters)",
            ),
            (
                json!({ "commit_email": "nobody@example.com" }),
                "commit_email",
                "is not an email you own",
            ),
        ] {
            app.put(&path, admin, body)
                .await
                .assert(400, json!({ "message": { field: [message] } }));
        }
        let res = app.get(&path, admin).await;
        assert_eq!(
            (&res.body["discord"], &res.body["theme_id"]),
            (&json!("123456789012345678"), &json!(11))
        );
        // Empty clears; a removed commit address falls back to the primary.
        let e = app
            .post(
                &format!("{path}/emails"),
                admin,
                json!({ "email": "work@example.com", "skip_confirmation": true }),
            )
            .await;
        app.put(
            &path,
            admin,
            json!({ "commit_email": "work@example.com", "pronouns": "" }),
        )
        .await;
        let res = app.get(&path, admin).await;
        assert_eq!(
            (&res.body["commit_email"], &res.body["pronouns"]),
            (&json!("work@example.com"), &Value::Null)
        );
        app.delete(&format!("{path}/emails/{}", e.body["id"]), admin).await;
        assert_eq!(app.get(&path, admin).await.body["commit_email"], "prof@example.com");
        // Locked while too many wrong passwords keep it locked.
        for _ in 0..10 {
            app.sign_in("prof", "wrong-password").await;
        }
        assert_eq!(app.get(&path, admin).await.body["locked"], true);
        assert_eq!(app.get("/api/v4/user", Some(&u.token)).await.body["locked"], true);
    })
    .await;
}

#[tokio::test]
async fn the_admin_note_is_for_admins_alone() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user_with("noted", json!({ "note": "Asked for\na refund" })).await;
        let path = format!("/api/v4/users/{}", u.id);
        assert_eq!(app.get(&path, admin).await.body["note"], "Asked for\na refund");
        // Not to the user, on any representation; not to others.
        let res = app.get("/api/v4/user", Some(&u.token)).await;
        assert_eq!(res.status, 200);
        assert!(res.body.get("note").is_none());
        assert!(app.get(&path, Some(&u.token)).await.body.get("note").is_none());
        let res = app.gql(Some(&u.token), "{ currentUser { note } }", json!({})).await;
        assert_eq!(
            (res.code(), &res.body["data"]["currentUser"]["note"]),
            ("FORBIDDEN".to_string(), &Value::Null)
        );
        // An admin's own GET /user has it.
        assert!(app.get("/api/v4/user", admin).await.body.get("note").is_some());
        // Written by admins, up to 1000 characters; empty clears it.
        app.put(&path, admin, json!({ "note": "n".repeat(1001) })).await.assert(
            400,
            json!({ "message": { "note": ["is too long (maximum is 1000 characters)"] } }),
        );
        assert_eq!(
            app.put(&path, admin, json!({ "note": "" })).await.body["note"],
            Value::Null
        );
        app.put(&path, Some(&u.token), json!({ "note": "mine" }))
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
    })
    .await;
}

#[tokio::test]
async fn a_private_profile_shows_others_only_who_the_user_is() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        // python-gitlab sends private_profile on create and update; it round-trips.
        let res = app
            .post(
                "/api/v4/users",
                admin,
                json!({ "username": "shy", "email": "shy@example.com", "name": "Shy", "password": "s3cret-password",
                        "private_profile": true, "bio": "private bio", "job_title": "Keeper",
                        "skip_confirmation": true, "public_email": "shy@example.com" }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert_eq!(res.body["private_profile"], true);
        let id = res.body["id"].as_i64().unwrap() as i32;
        let stored = user::Entity::find_by_id(id).one(app.db()).await.unwrap().unwrap();
        assert!(stored.private_profile);
        let path = format!("/api/v4/users/{id}");
        let shy = app.legacy_token(id).await;
        let other = app.user("curious").await;
        // Others, signed in or not: who the user is, and not one key more.
        for caller in [None, Some(other.token.as_str())] {
            let res = app.get(&path, caller).await;
            assert_eq!(res.status, 200);
            let mut keys: Vec<&str> = res.body.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(
                keys,
                ["avatar_url", "id", "name", "state", "username", "web_url"],
                "{}",
                res.body
            );
            // The list shows everyone the basic cut anyway; the profile stays out of it too.
            let res = app.get("/api/v4/users?username=shy", caller).await;
            assert_eq!(res.body[0].get("bio"), None);
            let res = app
                .gql(
                    caller,
                    "query($id: ID!) { user(id: $id) { username bio jobTitle publicEmail } }",
                    json!({ "id": id.to_string() }),
                )
                .await;
            assert_eq!(
                res.body["data"]["user"],
                json!({ "username": "shy", "bio": null, "jobTitle": null, "publicEmail": null })
            );
            assert_eq!(res.codes(), ["FORBIDDEN"; 3]);
        }
        // The user and admins see it all.
        let res = app.get("/api/v4/user", Some(&shy)).await;
        assert_eq!(
            (&res.body["bio"], &res.body["private_profile"]),
            (&json!("private bio"), &json!(true))
        );
        let res = app.get(&path, Some(&shy)).await;
        assert_eq!(res.body["job_title"], "Keeper");
        let res = app.get(&path, admin).await;
        assert_eq!(
            (&res.body["bio"], &res.body["private_profile"]),
            (&json!("private bio"), &json!(true))
        );
        // Made public again, the profile shows; false round-trips.
        let res = app.put(&path, admin, json!({ "private_profile": false })).await;
        assert_eq!(res.body["private_profile"], false);
        let res = app.get(&path, None).await;
        assert_eq!(
            (&res.body["bio"], &res.body["public_email"]),
            (&json!("private bio"), &json!("shy@example.com"))
        );
        // Not a boolean: GitLab's 400.
        app.put(&path, admin, json!({ "private_profile": "maybe" }))
            .await
            .assert(400, json!({ "error": "private_profile is invalid" }));
    })
    .await;
}

/// The times of day GitLab's `local_time` may show in a zone `offset` from UTC while `during`
/// runs (two when a minute turns meanwhile).
async fn local_times_during<F: std::future::Future<Output = Res>>(
    offset: chrono::FixedOffset,
    during: F,
) -> (Res, Vec<String>) {
    let show = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&offset).format("%-I:%M %p").to_string();
    let before = show(chrono::Utc::now());
    let res = during.await;
    (res, vec![before, show(chrono::Utc::now())])
}

#[tokio::test]
async fn a_time_zone_shows_the_users_local_time_to_whoever_sees_the_profile() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("zoned").await;
        let other = app.user("neighbour").await;
        let path = format!("/api/v4/users/{}", u.id);
        // None by default: both null.
        let b = app.get(&path, admin).await.body;
        assert_eq!((&b["timezone"], &b["local_time"]), (&Value::Null, &Value::Null), "{b}");
        // Written over REST (half-hour offsets too), shown as GitLab shows it: `3:07 PM`.
        let res = app.put(&path, admin, json!({ "timezone": "Asia/Kolkata" })).await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(res.body["timezone"], "Asia/Kolkata");
        let kolkata = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        for caller in [None, Some(other.token.as_str()), Some(u.token.as_str())] {
            let (res, times) = local_times_during(kolkata, app.get(&path, caller)).await;
            assert!(
                times.contains(&res.body["local_time"].as_str().unwrap_or_default().to_string()),
                "{caller:?}: {} not in {times:?}",
                res.body
            );
            // The zone itself is private: only the full representation (admins, `GET /user`) has it.
            assert!(res.body.get("timezone").is_none(), "{}", res.body);
        }
        let (res, times) = local_times_during(kolkata, app.get("/api/v4/user", Some(&u.token))).await;
        assert!(times.contains(&res.body["local_time"].as_str().unwrap_or_default().to_string()));
        assert_eq!(res.body["timezone"], "Asia/Kolkata");
        // GraphQL: the same fields, written by updateUser.
        let set =
            "mutation($id: ID!, $z: String!) { updateUser(input: { id: $id, timezone: $z }) { user { timezone } } }";
        let res = app
            .gql(admin, set, json!({ "id": u.id.to_string(), "z": "America/St_Johns" }))
            .await;
        assert_eq!(
            res.body["data"]["updateUser"]["user"]["timezone"], "America/St_Johns",
            "{}",
            res.body
        );
        let q = "query($id: ID!) { user(id: $id) { localTime timezone } }";
        let st_johns = {
            use chrono::{Offset, TimeZone};
            chrono_tz::America::St_Johns
                .offset_from_utc_datetime(&chrono::Utc::now().naive_utc())
                .fix()
        };
        let (res, times) = local_times_during(
            st_johns,
            app.gql(Some(&other.token), q, json!({ "id": u.id.to_string() })),
        )
        .await;
        let user = &res.body["data"]["user"];
        assert!(
            times.contains(&user["localTime"].as_str().unwrap_or_default().to_string()),
            "{}",
            res.body
        );
        assert_eq!((&user["timezone"], res.code().as_str()), (&Value::Null, "FORBIDDEN"));
        // A private profile hides it from others.
        app.put(&path, admin, json!({ "private_profile": true })).await;
        let res = app.get(&path, Some(&other.token)).await;
        assert!(res.body.get("local_time").is_none(), "{}", res.body);
        assert!(app.get(&path, Some(&u.token)).await.body["local_time"].is_string());
        // A name the tz database lacks: 400 with the field, nothing changed (REST and GraphQL).
        for bad in ["Mars/Olympus_Mons", "europe/berlin", "+05:00", "UTC; DROP TABLE users"] {
            let res = app.put(&path, admin, json!({ "timezone": bad })).await;
            assert_eq!(res.status, 400, "{bad}: {}", res.body);
            assert_eq!(
                res.body,
                json!({ "message": { "timezone": ["is not a time zone of the tz database (such as Europe/Berlin)"] } })
            );
            let res = app.gql(admin, set, json!({ "id": u.id.to_string(), "z": bad })).await;
            assert_eq!(res.code(), "BAD_USER_INPUT", "{bad}: {}", res.body);
        }
        assert_eq!(app.get(&path, admin).await.body["timezone"], "America/St_Johns");
        // Empty clears it, and with it the local time.
        let res = app.put(&path, admin, json!({ "timezone": "" })).await;
        assert_eq!(
            (&res.body["timezone"], &res.body["local_time"]),
            (&Value::Null, &Value::Null)
        );
        // Given on creation.
        let utc = chrono::FixedOffset::east_opt(0).unwrap();
        let create = app.post(
            "/api/v4/users",
            admin,
            json!({ "email": "tz@example.com", "username": "tz", "name": "Tz", "password": "secret-pass-1",
                    "timezone": "UTC" }),
        );
        let (res, times) = local_times_during(utc, create).await;
        assert_eq!(
            (res.status.as_u16(), &res.body["timezone"]),
            (201, &json!("UTC")),
            "{}",
            res.body
        );
        assert!(
            times.contains(&res.body["local_time"].as_str().unwrap_or_default().to_string()),
            "{}",
            res.body
        );
    })
    .await;
}

/// The calls of the Terraform provider's `gitlab_user` resource (go-gitlab's `CreateUser`,
/// `GetUser`, `ModifyUser` with only what changed, the state transitions, `DeleteUser` and its
/// poll for 404), in its order and with its bodies: every attribute it keeps in its state reads
/// back as written, so a second `terraform plan` shows no change.
#[tokio::test]
async fn the_terraform_providers_user_lifecycle_round_trips() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        // The provider's state of a resource: what it reads back after each apply.
        let state = |b: &Value| {
            json!({
                "username": b["username"], "name": b["name"], "can_create_group": b["can_create_group"],
                "projects_limit": b["projects_limit"], "email": b["email"], "is_admin": b["is_admin"],
                "is_external": b["external"],
                // go-gitlab reads a null note as "".
                "note": b["note"].as_str().unwrap_or_default(), "state": b["state"],
            })
        };
        // Create: every option sent, defaults included (go-gitlab sends the zero values).
        let res = app
            .post(
                "/api/v4/users",
                admin,
                json!({ "email": "tf@example.com", "password": "terraform-pass-1", "username": "tf",
                        "name": "Terraformed", "projects_limit": 0, "admin": false, "can_create_group": false,
                        "skip_confirmation": true, "external": false, "reset_password": false,
                        "note": "managed by terraform" }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        let id = res.body["id"].as_i64().unwrap();
        let path = format!("/api/v4/users/{id}");
        // `state = "blocked"` in the configuration: blocked right after creation.
        assert_eq!(app.post(&format!("{path}/block"), admin, json!({})).await.status, 201);
        let read = app.get(&path, admin).await;
        assert_eq!(
            state(&read.body),
            json!({ "username": "tf", "name": "Terraformed", "can_create_group": false, "projects_limit": 0,
                    "email": "tf@example.com", "is_admin": false, "is_external": false,
                    "note": "managed by terraform", "state": "blocked" })
        );
        // Update: only what changed (the note, the name), then blocked -> deactivated, which the
        // provider does by unblocking first.
        let res = app
            .put(
                &path,
                admin,
                json!({ "name": "Terraformed Again", "note": "rotated by terraform" }),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(app.post(&format!("{path}/unblock"), admin, json!({})).await.status, 201);
        assert_eq!(
            app.post(&format!("{path}/deactivate"), admin, json!({})).await.status,
            201
        );
        let read = app.get(&path, admin).await;
        assert_eq!(
            state(&read.body),
            json!({ "username": "tf", "name": "Terraformed Again", "can_create_group": false, "projects_limit": 0,
                    "email": "tf@example.com", "is_admin": false, "is_external": false,
                    "note": "rotated by terraform", "state": "deactivated" })
        );
        // The note removed from the configuration: sent as "", read back as empty.
        assert_eq!(app.put(&path, admin, json!({ "note": "" })).await.status, 200);
        assert_eq!(
            app.post(&format!("{path}/activate"), admin, json!({})).await.status,
            201
        );
        let read = app.get(&path, admin).await;
        assert_eq!(
            (state(&read.body)["note"].clone(), &read.body["state"]),
            (json!(""), &json!("active"))
        );
        // Destroy: go-gitlab takes any 2xx (usergraph's is 200 with the user, as the REST document
        // has it), then the provider polls GET until it is 404.
        let res = app.delete(&path, admin).await;
        assert_eq!((res.status.as_u16(), &res.body["username"]), (200, &json!("tf")));
        app.get(&path, admin)
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
    })
    .await;
}
