//! Authentication over GraphQL: token sources, JWT sign-in, sudo, scopes, revoked and expired
//! tokens, lockout, expired passwords, activity marks, and the HTTP surface around /graphql.

use chrono::{Duration, Utc};
use entity::{token, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;
use usergraph::auth::token as tok;

use crate::common::{TestApp, each_backend};

/// Stores a token row directly (as the token domain would) and returns its value.
async fn insert_token(
    app: &TestApp,
    user_id: i32,
    kind: &str,
    scopes: &str,
    revoked: bool,
    expires_in_days: Option<i64>,
) -> String {
    let value = tok::generate(tok::PAT_PREFIX);
    token::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind.into()),
        name: Set("t".into()),
        token_digest: Set(tok::digest(&value)),
        token_encrypted: Set(None),
        scopes: Set(scopes.into()),
        expires_at: Set(expires_in_days.map(|d| (Utc::now() + Duration::days(d)).date_naive())),
        revoked: Set(revoked),
        last_used_at: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    value
}

const ME: &str = "{ currentUser { username } }";
const SIGN_IN: &str = "mutation($login: String!, $password: String!, $new: String) {
    signIn(input: { login: $login, password: $password, newPassword: $new }) { token expiresAt user { username } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_sources() {
    each_backend(|app| async move {
        let u = app.user("tokens").await;
        let url = format!("{}/graphql", app.base);
        let body = json!({ "query": ME });
        for req in [
            app.client.post(&url).header("PRIVATE-TOKEN", &u.token).json(&body),
            app.client.post(format!("{url}?private_token={}", u.token)).json(&body),
            app.client.post(&url).bearer_auth(&u.token).json(&body),
            app.client
                .post(&url)
                .header("Authorization", format!("bearer {}", u.token))
                .json(&body),
            app.client
                .post(format!("{}/api/graphql", app.base))
                .bearer_auth(&u.token)
                .json(&body),
        ] {
            let res = TestApp::finish(req).await;
            assert_eq!(res.data()["currentUser"]["username"], "tokens");
        }
        // Unknown token: 401 UNAUTHENTICATED, not anonymous.
        let res = app.gql(Some("glpat-doesnotexist"), ME, json!({})).await;
        assert_eq!(res.status, 401);
        assert_eq!(res.code(), "UNAUTHENTICATED");
        // Revoked and expired tokens: 401 with the reason.
        let revoked = insert_token(&app, u.id, "personal", "api", true, None).await;
        let res = app.gql(Some(&revoked), ME, json!({})).await;
        assert_eq!((res.status.as_u16(), res.code()), (401, "UNAUTHENTICATED".into()));
        assert!(res.body["errors"][0]["message"].as_str().unwrap().contains("revoked"));
        let expired = insert_token(&app, u.id, "personal", "api", false, Some(-1)).await;
        let res = app.gql(Some(&expired), ME, json!({})).await;
        assert!(res.body["errors"][0]["message"].as_str().unwrap().contains("expired"));
        // Expiring today still works.
        let today = insert_token(&app, u.id, "personal", "api", false, Some(0)).await;
        app.gql(Some(&today), ME, json!({})).await.data();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_limit_what_a_token_does() {
    each_backend(|app| async move {
        let u = app.user("scoped").await;
        let admin = app.user_with("admin2", json!({ "admin": true })).await;
        let read_only = insert_token(&app, u.id, "personal", "read_user", false, None).await;
        app.gql(Some(&read_only), ME, json!({})).await.data();
        let res = app.gql(Some(&read_only), SIGN_IN, json!({ "login": "x", "password": "y" })).await;
        assert_eq!(res.status, 403);
        assert_eq!(res.code(), "FORBIDDEN");
        assert_eq!(res.body["errors"][0]["extensions"]["scope"], "api");
        // An admin's read_user token cannot create users either.
        let admin_read = insert_token(&app, admin.id, "personal", "read_user", false, None).await;
        let res = app
            .gql(Some(&admin_read), "mutation { createUser(input: { username: \"nope\", email: \"n@example.com\", name: \"n\", password: \"s3cret-password\" }) { user { id } } }", json!({}))
            .await;
        assert_eq!(res.code(), "FORBIDDEN");
        assert_eq!(user::Entity::find().all(app.db()).await.unwrap().len(), 3);
        // A sudo-only token reads nothing.
        let sudo_only = insert_token(&app, admin.id, "personal", "sudo", false, None).await;
        assert_eq!(app.gql(Some(&sudo_only), ME, json!({})).await.code(), "FORBIDDEN");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sudo() {
    each_backend(|app| async move {
        let u = app.user("target").await;
        let other = app.user("other").await;
        let admin_api_only = {
            let a = app.user_with("admin3", json!({ "admin": true })).await;
            (
                a.clone(),
                insert_token(&app, a.id, "personal", "api", false, None).await,
            )
        };
        let url = format!("{}/graphql", app.base);
        let body = json!({ "query": "{ currentUser { username email privateToken } }" });
        let send = |token: String, sudo: &str, as_header: bool| {
            let mut req = if as_header {
                app.client.post(&url).header("Sudo", sudo)
            } else {
                app.client.post(format!("{url}?sudo={sudo}"))
            };
            req = req.header("PRIVATE-TOKEN", token).json(&body);
            TestApp::finish(req)
        };
        // The root token has the sudo scope: header or parameter, id or username.
        for (who, header) in [(u.id.to_string(), true), ("TARGET".to_string(), false)] {
            let res = send(app.admin().to_string(), &who, header).await;
            assert_eq!(res.data()["currentUser"]["username"], "target");
            assert_eq!(res.data()["currentUser"]["privateToken"], u.token.as_str());
        }
        // An admin's legacy private token may sudo too.
        let res = send(admin_api_only.0.token.clone(), "target", true).await;
        assert_eq!(res.data()["currentUser"]["username"], "target");
        // An admin token without the sudo scope may not.
        let res = send(admin_api_only.1.clone(), "target", true).await;
        assert_eq!((res.status.as_u16(), res.code()), (403, "FORBIDDEN".into()));
        assert_eq!(res.body["errors"][0]["extensions"]["scope"], "sudo");
        // Non-admins: 403 with GitLab's message.
        let res = send(other.token.clone(), "target", true).await;
        assert_eq!(
            res.body["errors"][0]["message"],
            "403 Forbidden - Must be admin to use sudo"
        );
        // Unknown target: 404 with GitLab's message.
        let res = send(app.admin().to_string(), "ghost", true).await;
        assert_eq!(res.status, 404);
        assert_eq!(res.code(), "NOT_FOUND");
        assert_eq!(
            res.body["errors"][0]["message"],
            "404 User with ID or username 'ghost' Not Found"
        );
        // Sudo into a user makes the request theirs: admin-only mutations are refused.
        let mut req = app.client.post(&url).header("Sudo", "target").bearer_auth(app.admin());
        req = req.json(
            &json!({ "query": format!("mutation {{ blockUser(input: {{ id: \"{}\" }}) {{ changed }} }}", other.id) }),
        );
        assert_eq!(TestApp::finish(req).await.code(), "FORBIDDEN");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_jwt() {
    each_backend(|app| async move {
        let u = app.user("signer").await;
        // By username (any case) or by e-mail.
        for login in ["SIGNER", "signer@example.com"] {
            let res = app
                .gql(None, SIGN_IN, json!({ "login": login, "password": "s3cret-password" }))
                .await;
            assert_eq!(res.data()["signIn"]["user"]["username"], "signer");
        }
        let res = app
            .gql(
                None,
                SIGN_IN,
                json!({ "login": "signer", "password": "s3cret-password" }),
            )
            .await;
        let jwt = res.data()["signIn"]["token"].as_str().unwrap().to_string();
        assert!(jwt.starts_with("eyJ"));
        let res = app
            .gql(
                Some(&jwt),
                "{ currentUser { username currentSignInAt lastActivityOn } }",
                json!({}),
            )
            .await;
        let me = &res.data()["currentUser"];
        assert_eq!(me["username"], "signer");
        assert!(me["currentSignInAt"].is_string());
        assert_eq!(me["lastActivityOn"], Utc::now().date_naive().to_string());
        // A tampered JWT is refused.
        let mut bad = jwt.clone();
        bad.pop();
        bad.push(if jwt.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(app.gql(Some(&bad), ME, json!({})).await.code(), "UNAUTHENTICATED");

        // Wrong password or unknown login: the same answer.
        let wrong = app
            .gql(
                None,
                SIGN_IN,
                json!({ "login": "signer", "password": "wrong-password" }),
            )
            .await;
        let unknown = app
            .gql(
                None,
                SIGN_IN,
                json!({ "login": "nobody", "password": "wrong-password" }),
            )
            .await;
        assert_eq!(wrong.code(), "UNAUTHENTICATED");
        assert_eq!(wrong.body["errors"][0]["message"], unknown.body["errors"][0]["message"]);

        // An admin sets a password: the old JWT stops working and the next sign-in must change it.
        let res = app
            .gql(
                Some(app.admin()),
                "mutation($id: ID!) { updateUser(input: { id: $id, password: \"admin-set-pw\" }) { user { id } } }",
                json!({ "id": u.id.to_string() }),
            )
            .await;
        res.data();
        assert_eq!(app.gql(Some(&jwt), ME, json!({})).await.code(), "UNAUTHENTICATED");
        let res = app
            .gql(None, SIGN_IN, json!({ "login": "signer", "password": "admin-set-pw" }))
            .await;
        assert_eq!(res.code(), "PASSWORD_EXPIRED");
        let res = app
            .gql(
                None,
                SIGN_IN,
                json!({ "login": "signer", "password": "admin-set-pw", "new": "short" }),
            )
            .await;
        assert_eq!(
            res.body["errors"][0]["extensions"]["fields"]["newPassword"],
            json!(["is too short (minimum is 8 characters)"])
        );
        let res = app
            .gql(
                None,
                SIGN_IN,
                json!({ "login": "signer", "password": "admin-set-pw", "new": "my-own-password" }),
            )
            .await;
        let jwt2 = res.data()["signIn"]["token"].as_str().unwrap().to_string();
        app.gql(Some(&jwt2), ME, json!({})).await.data();
        app.gql(
            None,
            SIGN_IN,
            json!({ "login": "signer", "password": "my-own-password" }),
        )
        .await
        .data();
        assert_eq!(
            app.gql(None, SIGN_IN, json!({ "login": "signer", "password": "admin-set-pw" }))
                .await
                .code(),
            "UNAUTHENTICATED"
        );

        // Blocking invalidates JWTs for good, even after unblocking.
        let block = "mutation($id: ID!) { blockUser(input: { id: $id }) { changed } }";
        let unblock = "mutation($id: ID!) { unblockUser(input: { id: $id }) { changed } }";
        app.gql(Some(app.admin()), block, json!({ "id": u.id.to_string() }))
            .await
            .data();
        app.gql(Some(app.admin()), unblock, json!({ "id": u.id.to_string() }))
            .await
            .data();
        assert_eq!(app.gql(Some(&jwt2), ME, json!({})).await.code(), "UNAUTHENTICATED");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_failed_passwords_lock_the_account() {
    each_backend(|app| async move {
        app.user("locky").await;
        for _ in 0..10 {
            let res = app
                .gql(None, SIGN_IN, json!({ "login": "locky", "password": "wrong-password" }))
                .await;
            assert_eq!(res.code(), "UNAUTHENTICATED");
        }
        let res = app
            .gql(
                None,
                SIGN_IN,
                json!({ "login": "locky", "password": "s3cret-password" }),
            )
            .await;
        // Locked: the same answer as a wrong password (and as an unknown login).
        assert_eq!(res.code(), "UNAUTHENTICATED");
        let row = user::Entity::find()
            .all(app.db())
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.username == "locky")
            .unwrap();
        assert!(row.locked_until.unwrap() > Utc::now() + Duration::minutes(9));
        // After the lock passes, the right password works again and resets the count.
        let mut m: user::ActiveModel = row.into();
        m.locked_until = Set(Some(Utc::now() - Duration::seconds(1)));
        m.update(app.db()).await.unwrap();
        app.gql(
            None,
            SIGN_IN,
            json!({ "login": "locky", "password": "s3cret-password" }),
        )
        .await
        .data();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_is_marked_once_a_day() {
    each_backend(|app| async move {
        let u = app.user("active1").await;
        let before = user::Entity::find_by_id(u.id).one(app.db()).await.unwrap().unwrap();
        assert_eq!(before.last_activity_on, None);
        app.gql(Some(&u.token), ME, json!({})).await.data();
        let after = user::Entity::find_by_id(u.id).one(app.db()).await.unwrap().unwrap();
        assert_eq!(after.last_activity_on, Some(Utc::now().date_naive()));
        // A later day's mark never moves it backwards.
        usergraph::domain::activities::mark(app.db(), u.id, Utc::now().date_naive() - Duration::days(3))
            .await
            .unwrap();
        let again = user::Entity::find_by_id(u.id).one(app.db()).await.unwrap().unwrap();
        assert_eq!(again.last_activity_on, Some(Utc::now().date_naive()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_surface() {
    each_backend(|app| async move {
        // GET with a query string runs queries.
        let res = TestApp::finish(
            app.client
                .get(format!("{}/graphql", app.base))
                .query(&[("query", ME)])
                .bearer_auth(app.admin()),
        )
        .await;
        assert_eq!(res.data()["currentUser"]["username"], "root");
        // Mutations over GET: 405.
        let res = TestApp::finish(app.client.get(format!("{}/graphql", app.base)).query(&[(
            "query",
            "mutation { signIn(input: { login: \"a\", password: \"b\" }) { token } }",
        )]))
        .await;
        assert_eq!(res.status, 405);
        // A browser gets GraphiQL.
        let res = app
            .client
            .get(format!("{}/graphql", app.base))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().to_lowercase().contains("graphiql"));
        // Malformed body: 400 with a GraphQL error.
        let res = TestApp::finish(
            app.client
                .post(format!("{}/graphql", app.base))
                .header("Content-Type", "application/json")
                .body("{not json"),
        )
        .await;
        assert_eq!(res.status, 400);
        assert_eq!(res.code(), "BAD_USER_INPUT");
        // Syntax errors are GraphQL errors, not 500s.
        let res = app.gql(None, "{ currentUser { ", json!({})).await;
        assert!(res.body["errors"].is_array());
        assert_ne!(res.status, 500);
        // Unknown routes: GitLab's JSON 404; health and readiness answer.
        let res = app.request(reqwest::Method::GET, "/nope", None, None).await;
        assert_eq!(
            (res.status.as_u16(), res.body.clone()),
            (404, json!({ "error": "404 Not Found" }))
        );
        assert_eq!(
            app.request(reqwest::Method::GET, "/healthz", None, None).await.status,
            200
        );
        assert_eq!(
            app.request(reqwest::Method::GET, "/readyz", None, None).await.status,
            200
        );
        // Every response carries a request id.
        let res = app.request(reqwest::Method::GET, "/healthz", None, None).await;
        assert!(res.header("x-request-id").is_some_and(|v| !v.is_empty()));
    })
    .await;
}
