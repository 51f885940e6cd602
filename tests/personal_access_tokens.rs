//! Today's GitLab personal access tokens: an admin's creation for a user, `/personal_access_tokens`
//! (list with GitLab's filters, one, self, revoke, rotate), the scopes that mean something here,
//! reuse detection on rotation, and the same over GraphQL.

use chrono::{Days, Utc};
use entity::token;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::common::{Res, TestApp, each_backend};

/// An admin makes a personal access token for `user_id`; answers the created token.
async fn pat(app: &TestApp, user_id: i32, name: &str, scopes: &[&str]) -> Value {
    let res = app
        .post(
            &format!("/api/v4/users/{user_id}/personal_access_tokens"),
            Some(app.admin()),
            json!({ "name": name, "scopes": scopes }),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body
}

fn value(t: &Value) -> &str {
    t["token"].as_str().expect("a token value")
}

async fn row(app: &TestApp, id: i64) -> token::Model {
    token::Entity::find_by_id(id as i32)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

fn ids(res: &Res) -> Vec<i64> {
    res.body
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn admins_create_tokens_for_users() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        let path = format!("/api/v4/users/{}/personal_access_tokens", jane.id);
        let before = token::Entity::find().count(app.db()).await.unwrap();
        // Anonymous 401, a user (even for themself) 403, a missing user 404.
        let body = json!({ "name": "ci", "scopes": ["api"] });
        app.post(&path, None, body.clone())
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
        app.post(&path, Some(&jane.token), body.clone())
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
        app.post(
            "/api/v4/users/99999/personal_access_tokens",
            Some(app.admin()),
            body.clone(),
        )
        .await
        .assert(404, json!({ "message": "404 User Not Found" }));
        // Bad input: 400 and nothing written.
        let bad = |b: Value| {
            let (app, path) = (app.clone(), path.clone());
            async move { app.post(&path, Some(app.admin()), b).await }
        };
        bad(json!({ "scopes": ["api"] }))
            .await
            .assert(400, json!({ "error": "name is missing" }));
        let unknown = json!({ "message": { "scopes": ["can only contain available scopes"] } });
        bad(json!({ "name": "x", "scopes": ["api", "write_everything"] }))
            .await
            .assert(400, unknown.clone());
        // Admin-only scopes for a user who is not an admin.
        bad(json!({ "name": "x", "scopes": ["sudo"] }))
            .await
            .assert(400, unknown.clone());
        bad(json!({ "name": "x", "scopes": ["admin_mode"] }))
            .await
            .assert(400, unknown);
        bad(json!({ "name": "x", "scopes": [] }))
            .await
            .assert(400, json!({ "message": { "scopes": ["can't be blank"] } }));
        let res = bad(json!({ "name": "x", "scopes": ["api"], "description": "d".repeat(256) })).await;
        res.assert(
            400,
            json!({ "message": { "description": ["is too long (maximum is 255 characters)"] } }),
        );
        let res = bad(json!({ "name": "x", "scopes": ["api"], "expires_at": "2001-01-01" })).await;
        assert_eq!(res.status, 400);
        assert_eq!(token::Entity::find().count(app.db()).await.unwrap(), before);
        // Created: every scope GitLab names for users is accepted; the value is shown once.
        let res = app
            .post(
                &path,
                Some(app.admin()),
                json!({ "name": "ci", "scopes": "read_api,read_repository,k8s_proxy", "description": "CI runner",
                        "expires_at": "2099-12-31" }),
            )
            .await;
        assert_eq!(res.status, 201);
        let t = &res.body;
        assert_eq!(t["scopes"], json!(["read_api", "read_repository", "k8s_proxy"]));
        assert_eq!(
            (t["user_id"].as_i64(), &t["description"]),
            (Some(jane.id as i64), &json!("CI runner"))
        );
        assert_eq!(
            (&t["expires_at"], &t["active"], &t["revoked"]),
            (&json!("2099-12-31"), &json!(true), &json!(false))
        );
        assert!(value(t).starts_with("glpat-"));
        let stored = row(&app, t["id"].as_i64().unwrap()).await;
        assert_eq!((stored.kind.as_str(), stored.token_encrypted), ("personal", None));
        assert_eq!(app.get("/api/v4/user", Some(value(t))).await.body["username"], "jane");
        // An admin's own token may hold the admin scopes.
        let mine = pat(&app, 1, "ops", &["api", "sudo", "admin_mode", "read_service_ping"]).await;
        assert_eq!(
            mine["scopes"],
            json!(["api", "sudo", "admin_mode", "read_service_ping"])
        );
    })
    .await;
}

#[tokio::test]
async fn scopes_that_mean_something_here_are_enforced() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        let read_api = pat(&app, jane.id, "r", &["read_api"]).await;
        let rotate_only = pat(&app, jane.id, "s", &["self_rotate"]).await;
        let repo_only = pat(&app, jane.id, "g", &["read_repository"]).await;
        let key = json!({ "title": "k", "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" });
        // read_api: every read, no write.
        assert_eq!(app.get("/api/v4/user", Some(value(&read_api))).await.status, 200);
        assert_eq!(app.get("/api/v4/personal_access_tokens", Some(value(&read_api))).await.status, 200);
        let res = app.post("/api/v4/user/keys", Some(value(&read_api)), key.clone()).await;
        assert_eq!((res.status.as_u16(), &res.body["error"]), (403, &json!("insufficient_scope")));
        let res = app.gql(Some(value(&read_api)), "{ currentUser { username } }", json!({})).await;
        assert_eq!(res.data()["currentUser"]["username"], "jane");
        // self_rotate: nothing but rotating itself.
        for t in [&rotate_only, &repo_only] {
            let res = app.get("/api/v4/user", Some(value(t))).await;
            assert_eq!((res.status.as_u16(), &res.body["error"]), (403, &json!("insufficient_scope")));
        }
        let res = app
            .post(&format!("/api/v4/personal_access_tokens/{}/rotate", rotate_only["id"]), Some(value(&rotate_only)), json!({}))
            .await;
        assert_eq!(res.status, 403);
        // The routes about the calling token itself take any scope; rotating it needs api or
        // self_rotate.
        assert_eq!(app.get("/api/v4/personal_access_tokens/self", Some(value(&repo_only))).await.body["name"], "g");
        let res = app.post("/api/v4/personal_access_tokens/self/rotate", Some(value(&repo_only)), json!({})).await;
        assert_eq!((res.status.as_u16(), &res.body["error"]), (403, &json!("insufficient_scope")));
        assert!(!row(&app, repo_only["id"].as_i64().unwrap()).await.revoked);
        let res = app.post("/api/v4/personal_access_tokens/self/rotate", Some(value(&rotate_only)), json!({})).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body["scopes"], json!(["self_rotate"]));
        // Other credentials than a token: GitLab's 400.
        let res = app.get("/api/v4/personal_access_tokens/self", Some(&jane.token)).await;
        res.assert(
            400,
            json!({ "message": "400 Bad request - This endpoint requires token type to be a personal access token" }),
        );
    })
    .await;
}

#[tokio::test]
async fn the_list_shows_what_the_caller_may_see_with_gitlabs_filters() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        let bob = app.user("bob").await;
        let j1 = pat(&app, jane.id, "deploy-prod", &["api"]).await;
        let j2 = pat(&app, jane.id, "Deploy-staging", &["read_api"]).await;
        let j3 = pat(&app, jane.id, "laptop", &["api"]).await;
        let b1 = pat(&app, bob.id, "bob's", &["api"]).await;
        let imp = app
            .post(
                &format!("/api/v4/users/{}/impersonation_tokens", jane.id),
                Some(app.admin()),
                json!({ "name": "imp", "scopes": ["api"] }),
            )
            .await
            .body;
        let id = |t: &Value| t["id"].as_i64().unwrap();
        app.delete(&format!("/api/v4/personal_access_tokens/{}", id(&j3)), Some(value(&j1)))
            .await
            .assert(204, Value::Null);
        app.backdate_token(id(&j2), "2001-01-01").await;
        let list = |q: &str, who: String| {
            let (app, q) = (app.clone(), q.to_string());
            async move { app.get(&format!("/api/v4/personal_access_tokens{q}"), Some(&who)).await }
        };
        let jt = value(&j1).to_string();
        // A user: their own personal tokens only, never impersonation tokens, never values.
        let res = list("", jt.clone()).await;
        assert_eq!(ids(&res), vec![id(&j1), id(&j2), id(&j3)]);
        assert_eq!(res.header("x-total"), Some("3"));
        assert!(res.body.as_array().unwrap().iter().all(|t| t.get("token").is_none()));
        list(&format!("?user_id={}", bob.id), jt.clone())
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
        assert_eq!(
            ids(&list(&format!("?user_id={}", jane.id), jt.clone()).await),
            vec![id(&j1), id(&j2), id(&j3)]
        );
        // Filters.
        assert_eq!(ids(&list("?state=active", jt.clone()).await), vec![id(&j1)]);
        assert_eq!(ids(&list("?state=inactive", jt.clone()).await), vec![id(&j2), id(&j3)]);
        assert_eq!(ids(&list("?revoked=true", jt.clone()).await), vec![id(&j3)]);
        assert_eq!(ids(&list("?revoked=false", jt.clone()).await), vec![id(&j1), id(&j2)]);
        assert_eq!(ids(&list("?search=DEPLOY", jt.clone()).await), vec![id(&j1), id(&j2)]);
        assert_eq!(
            ids(&list("?expires_before=2002-01-01", jt.clone()).await),
            vec![id(&j2)]
        );
        assert_eq!(
            ids(&list("?expires_after=2002-01-01", jt.clone()).await),
            Vec::<i64>::new()
        );
        let tomorrow = (Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        let q = format!("?created_before={}", urlencode(&tomorrow));
        assert_eq!(ids(&list(&q, jt.clone()).await).len(), 3);
        let q = format!("?created_after={}", urlencode(&tomorrow));
        assert!(ids(&list(&q, jt.clone()).await).is_empty());
        // j1 was used (it listed): last_used_after an hour ago finds it alone.
        let hour_ago = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
        let q = format!("?last_used_after={}", urlencode(&hour_ago));
        assert_eq!(ids(&list(&q, jt.clone()).await), vec![id(&j1)]);
        // By name in any case.
        assert_eq!(
            ids(&list("?sort=name_desc", jt.clone()).await),
            vec![id(&j3), id(&j2), id(&j1)]
        );
        assert_eq!(
            ids(&list("?sort=name_asc", jt.clone()).await),
            vec![id(&j1), id(&j2), id(&j3)]
        );
        assert_eq!(ids(&list("?per_page=2&page=2", jt.clone()).await), vec![id(&j3)]);
        for (q, error) in [
            ("?state=nope", "state does not have a valid value"),
            ("?revoked=maybe", "revoked is invalid"),
            ("?created_before=yesterday", "created_before is invalid"),
            ("?expires_after=2001-13-01", "expires_after is invalid"),
        ] {
            list(q, jt.clone()).await.assert(400, json!({ "error": error }));
        }
        // An admin: everyone's, impersonation tokens included, or one user's.
        let admin = app.admin().to_string();
        let all = ids(&list("?per_page=100", admin.clone()).await);
        for t in [&j1, &j2, &j3, &b1, &imp] {
            assert!(all.contains(&id(t)));
        }
        let janes = list(&format!("?user_id={}", jane.id), admin.clone()).await;
        assert_eq!(ids(&janes), vec![id(&j1), id(&j2), id(&j3), id(&imp)]);
        assert_eq!(janes.body[3]["impersonation"], true);
        list("?user_id=99999", admin.clone())
            .await
            .assert(404, json!({ "message": "404 Not Found" }));
        list("", String::new())
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
    })
    .await;
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn one_token_and_revocation() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        let bob = app.user("bob").await;
        let j = pat(&app, jane.id, "j", &["api"]).await;
        let b = pat(&app, bob.id, "b", &["api"]).await;
        let path = |t: &Value| format!("/api/v4/personal_access_tokens/{}", t["id"]);
        // One's own: shown, without the value.
        let res = app.get(&path(&j), Some(value(&j))).await;
        assert_eq!((res.status.as_u16(), &res.body["name"]), (200, &json!("j")));
        assert!(res.body.get("token").is_none());
        // Another user's: 404, whether it exists or not, and not revocable.
        let nf = json!({ "message": "404 Not Found" });
        app.get(&path(&b), Some(value(&j))).await.assert(404, nf.clone());
        app.get("/api/v4/personal_access_tokens/99999", Some(value(&j)))
            .await
            .assert(404, nf.clone());
        app.delete(&path(&b), Some(value(&j))).await.assert(404, nf.clone());
        app.post(&format!("{}/rotate", path(&b)), Some(value(&j)), json!({}))
            .await
            .assert(404, nf.clone());
        assert!(!row(&app, b["id"].as_i64().unwrap()).await.revoked);
        app.get("/api/v4/personal_access_tokens/abc", Some(value(&j)))
            .await
            .assert(400, json!({ "error": "id is invalid" }));
        // An admin sees and revokes anyone's.
        assert_eq!(app.get(&path(&b), Some(app.admin())).await.body["user_id"], bob.id);
        app.delete(&path(&b), Some(app.admin())).await.assert(204, Value::Null);
        assert!(row(&app, b["id"].as_i64().unwrap()).await.revoked);
        assert_eq!(app.get("/api/v4/user", Some(value(&b))).await.status, 401);
        // Revoking the calling token: 204, and it stops working at once.
        app.delete("/api/v4/personal_access_tokens/self", Some(value(&j)))
            .await
            .assert(204, Value::Null);
        let res = app.get("/api/v4/user", Some(value(&j))).await;
        assert_eq!(
            (res.status.as_u16(), &res.body["error"]),
            (401, &json!("invalid_token"))
        );
    })
    .await;
}

#[tokio::test]
async fn rotation_replaces_a_token_and_detects_reuse() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        let a = pat(&app, jane.id, "laptop", &["api", "read_user"]).await;
        let a_id = a["id"].as_i64().unwrap();
        // Rotating by id: the successor keeps name, scopes and description, lives a week by
        // default, and the old token stops working at once.
        let res = app
            .post(
                &format!("/api/v4/personal_access_tokens/{a_id}/rotate"),
                Some(value(&a)),
                json!({}),
            )
            .await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        let b = res.body;
        let week = Utc::now().date_naive().checked_add_days(Days::new(7)).unwrap();
        assert_eq!(b["expires_at"], json!(week.to_string()));
        assert_eq!(
            (&b["name"], &b["scopes"]),
            (&json!("laptop"), &json!(["api", "read_user"]))
        );
        assert_ne!(b["id"], a["id"]);
        assert_eq!(
            row(&app, b["id"].as_i64().unwrap()).await.previous_token_id,
            Some(a_id as i32)
        );
        assert!(row(&app, a_id).await.revoked);
        assert_eq!(app.get("/api/v4/user", Some(value(&a))).await.status, 401);
        assert_eq!(app.get("/api/v4/user", Some(value(&b))).await.status, 200);
        // Rotating a revoked token: 400, and from a valid token nothing else is revoked.
        app.post(
            &format!("/api/v4/personal_access_tokens/{a_id}/rotate"),
            Some(value(&b)),
            json!({}),
        )
        .await
        .assert(400, json!({ "message": "400 Bad request - Token already revoked" }));
        assert_eq!(app.get("/api/v4/user", Some(value(&b))).await.status, 200);
        // Past expiry: 400, nothing changes.
        let res = app
            .post(
                "/api/v4/personal_access_tokens/self/rotate",
                Some(value(&b)),
                json!({ "expires_at": "2001-01-01" }),
            )
            .await;
        assert_eq!(res.status, 400);
        // Self-rotation with a chosen day: b -> c.
        let res = app
            .post(
                "/api/v4/personal_access_tokens/self/rotate",
                Some(value(&b)),
                json!({ "expires_at": "2099-06-30" }),
            )
            .await;
        assert_eq!(
            (res.status.as_u16(), &res.body["expires_at"]),
            (200, &json!("2099-06-30"))
        );
        let c = res.body;
        // Using the stolen old token anywhere else: an ordinary 401, c keeps working.
        assert_eq!(app.get("/api/v4/user", Some(value(&a))).await.status, 401);
        assert_eq!(app.get("/api/v4/user", Some(value(&c))).await.status, 200);
        // Rotating with it: 401, and the newest token of its family (c, two rotations on) is
        // revoked: whoever holds either must sign in again.
        let res = app
            .post("/api/v4/personal_access_tokens/self/rotate", Some(value(&a)), json!({}))
            .await;
        assert_eq!(
            (res.status.as_u16(), &res.body["error"]),
            (401, &json!("invalid_token"))
        );
        assert!(row(&app, c["id"].as_i64().unwrap()).await.revoked);
        assert_eq!(app.get("/api/v4/user", Some(value(&c))).await.status, 401);
        // The same through the rotation of a token by id.
        let x = pat(&app, jane.id, "x", &["api"]).await;
        let y = app
            .post("/api/v4/personal_access_tokens/self/rotate", Some(value(&x)), json!({}))
            .await
            .body;
        assert_eq!(app.get("/api/v4/user", Some(value(&y))).await.status, 200);
        let res = app
            .post(
                &format!("/api/v4/personal_access_tokens/{}/rotate", x["id"]),
                Some(value(&x)),
                json!({}),
            )
            .await;
        assert_eq!(
            (res.status.as_u16(), &res.body["error"]),
            (401, &json!("invalid_token"))
        );
        assert_eq!(app.get("/api/v4/user", Some(value(&y))).await.status, 401);
        let live = token::Entity::find()
            .filter(token::Column::UserId.eq(jane.id))
            .filter(token::Column::Kind.eq("personal"))
            .filter(token::Column::Revoked.eq(false))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(live, 0);
    })
    .await;
}

#[tokio::test]
async fn concurrent_rotations_of_one_token_exactly_one_wins() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        let t = pat(&app, jane.id, "shared", &["api"]).await;
        let id = t["id"].as_i64().unwrap();
        let path = format!("/api/v4/personal_access_tokens/{id}/rotate");
        let runs = (0..50).map(|i| {
            let (app, path, user_token) = (app.clone(), path.clone(), jane.token.clone());
            async move {
                match i % 2 {
                    0 => app.post(&path, Some(app.admin()), json!({})).await,
                    _ => app.post(&path, Some(&user_token), json!({})).await,
                }
            }
        });
        let answers = futures::future::join_all(runs).await;
        let won: Vec<&Res> = answers.iter().filter(|r| r.status == 200).collect();
        assert_eq!(
            won.len(),
            1,
            "{:?}",
            answers.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        for r in answers.iter().filter(|r| r.status != 200) {
            r.assert(400, json!({ "message": "400 Bad request - Token already revoked" }));
        }
        let successors = token::Entity::find()
            .filter(token::Column::PreviousTokenId.eq(id as i32))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(successors, 1);
        assert_eq!(app.get("/api/v4/user", Some(value(&won[0].body))).await.status, 200);
    })
    .await;
}

#[tokio::test]
async fn graphql_lists_reads_and_rotates() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        let bob = app.user("bob").await;
        let j1 = pat(&app, jane.id, "deploy", &["api"]).await;
        let _j2 = pat(&app, jane.id, "laptop", &["api"]).await;
        let b1 = pat(&app, bob.id, "bob", &["api"]).await;
        let list = "query($f: TokenFilterInput, $s: TokenSort) {
            personalAccessTokens(filter: $f, sort: $s) { nodes { name revoked description } } }";
        let res = app
            .gql(Some(value(&j1)), list, json!({ "f": { "search": "DEP" } }))
            .await;
        assert_eq!(
            res.data()["personalAccessTokens"]["nodes"],
            json!([{ "name": "deploy", "revoked": false, "description": null }])
        );
        let res = app.gql(Some(value(&j1)), list, json!({ "s": "NAME_DESC" })).await;
        let names: Vec<&str> = res.data()["personalAccessTokens"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["laptop", "deploy"]);
        // One token: one's own or the calling one; another user's is null.
        let one = "query($id: ID) { personalAccessToken(id: $id) { name userId } }";
        let res = app.gql(Some(value(&j1)), one, json!({})).await;
        assert_eq!(res.data()["personalAccessToken"]["name"], "deploy");
        let res = app
            .gql(Some(value(&j1)), one, json!({ "id": b1["id"].to_string() }))
            .await;
        assert_eq!(res.data()["personalAccessToken"], Value::Null);
        // Rotation: the value once, the old token revoked; a second rotation is BAD_USER_INPUT.
        let rotate = "mutation($id: ID, $e: Date) { rotatePersonalAccessToken(input: { id: $id, expiresAt: $e }) {
            token { id token expiresAt revoked } } }";
        let vars = json!({ "id": j1["id"].to_string(), "e": "2099-03-01" });
        let res = app.gql(Some(app.admin()), rotate, vars.clone()).await;
        let new = &res.data()["rotatePersonalAccessToken"]["token"];
        assert_eq!(
            (&new["expiresAt"], &new["revoked"]),
            (&json!("2099-03-01"), &json!(false))
        );
        let new_value = new["token"].as_str().unwrap().to_string();
        assert!(row(&app, j1["id"].as_i64().unwrap()).await.revoked);
        let res = app.gql(Some(app.admin()), rotate, vars).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        // Another user's token is NOT_FOUND to a user.
        let res = app
            .gql(Some(&new_value), rotate, json!({ "id": b1["id"].to_string() }))
            .await;
        assert_eq!(res.code(), "NOT_FOUND");
        // Without an id, the calling token.
        let res = app.gql(Some(&new_value), rotate, json!({})).await;
        assert_eq!(res.data()["rotatePersonalAccessToken"]["token"]["revoked"], false);
        assert_eq!(app.get("/api/v4/user", Some(&new_value)).await.status, 401);
    })
    .await;
}
