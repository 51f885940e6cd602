//! Abuse, as an attacker would try it: documents that cost exponential time or unbounded memory,
//! idle and half-sent connections, concurrent password guesses, tokens at rest, NUL bytes, races,
//! the database going away. Every loop is bounded in count and time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use entity::{account_token, outbox, user};
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{Backend, TestApp, backends, each_backend};
use crate::graphql_account::{DSA, ED25519 as ED25519_KEY, RSA1024, RSA2048};

/// 24 fragments, each spreading the next one twice: 2^24 fields as executed, 1.2 KB of text.
fn doubling_fragments(n: usize) -> String {
    let mut q = String::from("query { ...F0 }");
    for i in 0..n {
        q.push_str(&format!(
            " fragment F{i} on Query {{ __typename ...F{j} ...F{j} }}",
            j = i + 1
        ));
    }
    q.push_str(&format!(" fragment F{n} on Query {{ __typename }}"));
    q
}

/// `__schema { types { fields { type { fields { type ... } } } } }`, `levels` lists deep.
fn deep_introspection(levels: usize) -> String {
    let mut q = String::from("{ __schema { types { name ");
    for _ in 0..levels {
        q.push_str("fields { name type { name ");
    }
    for _ in 0..levels {
        q.push_str("} } ");
    }
    q.push_str("} } }");
    q
}

async fn post_query(app: &TestApp, query: &str) -> crate::common::Res {
    app.gql(None, query, json!({})).await
}

/// How long `/healthz` takes, each of `n` probes.
async fn health_probes(app: &TestApp, n: usize) -> Vec<Duration> {
    let mut out = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let res = app.get("/healthz", None).await;
        assert_eq!(res.status, 200);
        out.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dos_documents_are_refused_in_linear_time_and_health_stays_fast() {
    let app = Arc::new(TestApp::start(Backend::Sqlite).await);
    let frags = doubling_fragments(24);
    assert!(frags.len() < 1500);
    let t = Instant::now();
    let res = post_query(&app, &frags).await;
    assert!(t.elapsed() < Duration::from_secs(2), "took {:?}", t.elapsed());
    assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.body);
    assert!(
        res.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("more than 2000 fields")
    );
    // Still refused at 60 fragments (2^60 as executed): the count does not grow with the spreads.
    let t = Instant::now();
    assert_eq!(post_query(&app, &doubling_fragments(60)).await.code(), "BAD_USER_INPUT");
    assert!(t.elapsed() < Duration::from_secs(2));

    // Introspection nested 15 lists deep is refused; the standard introspection query is served.
    let res = post_query(&app, &deep_introspection(15)).await;
    assert_eq!(res.code(), "BAD_USER_INPUT");
    assert_eq!(res.body["errors"][0]["message"], "Maximum introspection depth exceeded");
    let standard = "query IntrospectionQuery { __schema { queryType { name } types { ...FullType } } } \
        fragment FullType on __Type { kind name fields(includeDeprecated: true) { name args { name type { ...TypeRef } } type { ...TypeRef } } \
        inputFields { name type { ...TypeRef } } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name } possibleTypes { ...TypeRef } } \
        fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";
    let res = post_query(&app, standard).await;
    assert_eq!(res.data()["__schema"]["queryType"]["name"], "Query");

    // Each DoS document sent 8 times at once: /healthz answers at its usual pace meanwhile.
    for doc in [frags.clone(), deep_introspection(15)] {
        let attack: Vec<_> = (0..8)
            .map(|_| {
                let (app, doc) = (app.clone(), doc.clone());
                tokio::spawn(async move {
                    for _ in 0..5 {
                        assert_eq!(post_query(&app, &doc).await.code(), "BAD_USER_INPUT");
                    }
                })
            })
            .collect();
        let probes = health_probes(&app, 5).await;
        for a in attack {
            a.await.unwrap();
        }
        let m = median(probes.clone());
        assert!(m < Duration::from_millis(100), "/healthz took {probes:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operation_names_in_metrics_are_bounded() {
    let app = TestApp::start(Backend::Sqlite).await;
    // 300 distinct operation names: /metrics keeps at most 200 of them, the rest count as other.
    for i in 0..300 {
        let q = format!("query Op{i} {{ __typename }}");
        assert_eq!(post_query(&app, &q).await.status, 200);
    }
    let metrics = app.get("/metrics", None).await.body.as_str().unwrap().to_string();
    let lines: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("usergraph_graphql_operations_total{"))
        .collect();
    assert!(lines.len() <= 201, "{} operation lines", lines.len());
    assert!(lines.iter().any(|l| l.contains("operation=\"other\"")), "{lines:?}");
    // A client-chosen name that is no GraphQL name is not a label either.
    let res = TestApp::finish(
        app.client
            .post(format!("{}/graphql", app.base))
            .json(&json!({ "query": "{ __typename }", "operationName": "x\"} 1\nevil" })),
    )
    .await;
    assert_ne!(res.status, 500);
    let metrics = app.get("/metrics", None).await.body.as_str().unwrap().to_string();
    assert!(!metrics.contains("evil"));
}

/// VmRSS of a process, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_attacks_stay_under_150_mib() {
    let db = crate::common::TestDb::create(Backend::Sqlite).await;
    let data = std::env::temp_dir().join(format!("ug-mem-{}", usergraph::auth::token::generate("")));
    let server = crate::process::start_server(&db.url, &data, &[]).await;
    let pid = server.pid();
    let client = reqwest::Client::new();
    let before = rss_mib(pid);
    // 150 distinct anonymous documents of ~1 MB refused for too many fields, 8 at a time.
    let mut peak: f64 = before;
    for round in 0..19 {
        let sends = (0..8).map(|k| {
            let mut q = format!("query Q{round}x{k} {{ ");
            while q.len() < 1_000_000 {
                q.push_str("currentUser { id } ");
            }
            q.push('}');
            client
                .post(format!("{}/graphql", server.base))
                .json(&json!({ "query": q }))
                .send()
        });
        for r in join_all(sends).await {
            let r = r.unwrap();
            assert_eq!(r.status(), 400);
        }
        peak = peak.max(rss_mib(pid));
    }
    assert!(peak < 150.0, "RSS went from {before:.0} to {peak:.0} MiB");

    // One 14 MB WebSocket message from a signed-in client: the connection is closed with 4413.
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("{}/graphql/ws", server.base.replacen("http://", "ws://", 1))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "PRIVATE-TOKEN": crate::process::ROOT } });
    ws.send(Message::text(init.to_string())).await.unwrap();
    let ack = ws.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"));
    let big = json!({ "type": "subscribe", "id": "1", "payload": { "query": "x".repeat(14 << 20) } });
    let _ = ws.send(Message::text(big.to_string())).await;
    let mut code = None;
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        match m {
            Ok(Message::Close(Some(f))) => {
                code = Some(u16::from(f.code));
                break;
            }
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    assert_eq!(code, Some(4413));
    let after = rss_mib(pid);
    assert!(after < 150.0, "RSS {after:.0} MiB after the large message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_closed_and_the_cap_holds() {
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.idle_timeout_secs = 2;
        c.header_read_timeout_secs = 2;
        c.max_connections = 40;
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for i in 0..30 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        if i % 3 == 0 {
            // Half a request, never finished.
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        }
        idle.push(s);
    }
    // Past the cap: connections are closed at once, while /healthz on a fresh one still answers
    // (the crowded server sheds its idle connections after 1 s).
    let mut extra = Vec::new();
    for _ in 0..20 {
        extra.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let mut refused = 0;
    for mut s in extra {
        let mut buf = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(100), s.read(&mut buf)).await {
            refused += 1;
        }
    }
    assert!(refused > 0, "no connection past the cap was closed");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let fresh = reqwest::Client::new();
    let res = fresh.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Every idle and half-sent connection is closed by the server within the timeouts.
    let deadline = Instant::now() + Duration::from_secs(6);
    for mut s in idle {
        let mut buf = [0u8; 512];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(_)) => continue,
                Err(_) => panic!("an idle connection was still open after the timeouts"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_stay_usable_after_a_refusal_with_an_unread_body() {
    let app = TestApp::start(Backend::Sqlite).await;
    let body = "x".repeat(200_000);
    let client = reqwest::Client::new();
    for i in 0..60 {
        // Refused before its body is read (no token): the answer says the connection closes.
        let res = client
            .post(format!("{}/api/v4/users", app.base))
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers().get("connection").and_then(|v| v.to_str().ok()),
            Some("close"),
            "the body was left unread: the connection must say it closes"
        );
        let _ = res.bytes().await;
        let ok = client
            .get(format!("{}/api/v4/users?username=root", app.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("follow-up {i} on a reused connection: {e}"));
        assert_eq!(ok.status(), 200);
    }
}

fn checks(metrics: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("usergraph_signin_password_checks_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_cannot_pass_the_lockout() {
    for b in backends() {
        eprintln!("--- backend: {b:?}");
        let app = Arc::new(
            TestApp::start_with(b, |c| {
                c.signin_per_minute = 100_000;
            })
            .await,
        );
        app.user("victim").await;
        let before = checks(app.get("/metrics", None).await.body.as_str().unwrap());
        let tries: Vec<_> = (0..200)
            .map(|i| {
                let app = app.clone();
                tokio::spawn(async move {
                    let password = if i == 199 { "s3cret-password" } else { "wrong-password" };
                    app.sign_in("victim", password).await
                })
            })
            .collect();
        let mut tokens = 0;
        for t in tries {
            let res = t.await.unwrap();
            if res.body["data"]["signIn"]["token"].is_string() {
                tokens += 1;
            } else {
                assert!(
                    ["UNAUTHENTICATED", "TOO_MANY_REQUESTS"].contains(&res.code().as_str()),
                    "{}",
                    res.body
                );
            }
        }
        let after = checks(app.get("/metrics", None).await.body.as_str().unwrap());
        assert!(after - before <= 10, "{} passwords were checked", after - before);
        assert!(tokens <= 1);
        // Ten wrong passwords one after the other lock it: then the right password is refused
        // exactly as a wrong one, or an unknown login, is.
        for _ in 0..10 {
            app.sign_in("victim", "wrong-password").await;
        }
        let u = user::Entity::find()
            .filter(user::Column::Username.eq("victim"))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        assert!(u.locked_until.is_some(), "ten wrong passwords and no lock");
        let res = app.sign_in("victim", "s3cret-password").await;
        let unknown = app.sign_in("nobody-here", "s3cret-password").await;
        assert_eq!(res.body, unknown.body, "a locked account answers as an unknown login");
        assert_eq!(res.code(), "UNAUTHENTICATED");
    }
}

/// The token a queued mail to `to` carries, opened with the server's key.
async fn queued_token(app: &TestApp, to: &str) -> (outbox::Model, String) {
    let row = outbox::Entity::find()
        .filter(outbox::Column::Recipient.eq(to))
        .one(app.db())
        .await
        .unwrap()
        .expect("a queued mail");
    let stored = row.params.clone().unwrap();
    let params = usergraph::mail::outbox::open_params(&app.state.keys.sealer, &stored).expect("sealed params");
    (row, params.token)
}

/// A new user `name` who asked for a reset link, and the link's token.
async fn mailed_reset(app: &TestApp, name: &str) -> (crate::common::Actor, String) {
    let actor = app.user(name).await;
    app.gql(None, REQUEST_RESET, json!({ "email": format!("{name}@example.com") }))
        .await
        .data();
    let (_, token) = queued_token(app, &format!("{name}@example.com")).await;
    (actor, token)
}

/// The link of `token` no longer sets a password.
async fn assert_dead(app: &TestApp, token: &str) {
    let res = app
        .gql(None, RESET, json!({ "token": token, "password": "new-password-1" }))
        .await;
    assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.body);
}

const REQUEST_RESET: &str = "mutation($email: String!) { requestPasswordReset(input: { email: $email }) { message } }";
const RESET: &str = "mutation($token: String!, $password: String!) { resetPassword(input: { token: $token, password: $password }) { user { id } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailed_tokens_are_sealed_and_die_with_what_they_were_sent_for() {
    each_backend(|app| async move {
        // At rest: the outbox holds no readable token (and SQLite zeroes what is deleted).
        let (a, token) = mailed_reset(&app, "sealed").await;
        let (row, _) = queued_token(&app, "sealed@example.com").await;
        let stored = row.params.clone().unwrap();
        if app.backend == Backend::Sqlite {
            use sea_orm::ConnectionTrait;
            let pragma = sea_orm::Statement::from_string(sea_orm::DatabaseBackend::Sqlite, "PRAGMA secure_delete");
            let row = app.db().query_one_raw(pragma).await.unwrap().unwrap();
            assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), 1);
        }
        assert!(stored.starts_with("sealed:"), "{stored}");
        assert!(!stored.contains(&token));
        // The primary address changes: the link mailed to the old one no longer works.
        let res = app
            .put(
                &format!("/api/v4/users/{}", a.id),
                Some(app.admin()),
                json!({ "email": "moved@example.com" }),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_dead(&app, &token).await;

        // A new password set by an admin: the earlier link dies.
        let (b, token) = mailed_reset(&app, "repass").await;
        let res = app
            .put(
                &format!("/api/v4/users/{}", b.id),
                Some(app.admin()),
                json!({ "password": "admin-set-pass" }),
            )
            .await;
        assert_eq!(res.status, 200);
        assert_dead(&app, &token).await;

        // Blocked (and unblocked again): the link mailed before the block is dead.
        let (c, token) = mailed_reset(&app, "blocky").await;
        assert_eq!(
            app.post(&format!("/api/v4/users/{}/block", c.id), Some(app.admin()), json!({}))
                .await
                .status,
            201
        );
        assert_eq!(
            app.post(&format!("/api/v4/users/{}/unblock", c.id), Some(app.admin()), json!({}))
                .await
                .status,
            201
        );
        assert_dead(&app, &token).await;

        // Deleted: the queued mail is cancelled with the user.
        let (d, _) = mailed_reset(&app, "gone").await;
        assert!(
            app.delete(&format!("/api/v4/users/{}", d.id), Some(app.admin()))
                .await
                .status
                .is_success()
        );
        let left = outbox::Entity::find()
            .filter(outbox::Column::Recipient.eq("gone@example.com"))
            .all(app.db())
            .await
            .unwrap();
        assert!(left.is_empty(), "{left:?}");
        assert!(
            account_token::Entity::find()
                .filter(account_token::Column::UserId.eq(d.id))
                .all(app.db())
                .await
                .unwrap()
                .is_empty()
        );

        // An untouched link still works.
        let (e, token) = mailed_reset(&app, "fine").await;
        let res = app
            .gql(None, RESET, json!({ "token": token, "password": "new-password-1" }))
            .await;
        assert_eq!(res.data()["resetPassword"]["user"]["id"], e.id.to_string());
    })
    .await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_and_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let data = std::env::temp_dir().join(format!("ug-perm-{}", usergraph::auth::token::generate("")));
    let url = format!("sqlite://{}/usergraph.db?mode=rwc", data.display());
    let _server = crate::process::start_server(&url, &data, &[]).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("usergraph.db")), 0o600);
    // The server runs in WAL mode with connections open, so the log is there.
    assert_eq!(mode(&data.join("usergraph.db-wal")), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_and_control_characters_are_refused_everywhere() {
    each_backend(|app| async move {
        let res = app.get("/api/v4/users?username=%00", None).await;
        assert_eq!(res.status, 400, "{}", res.body);
        let res = app.get("/api/v4/users?search=a%00b", Some(app.admin())).await;
        assert_eq!(res.status, 400, "{}", res.body);
        let res = app
            .gql(None, "query($u: String!) { user(username: $u) { id } }", json!({ "u": "a\u{0}" }))
            .await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        let res = app.gql(None, r#"{ user(username: "a\u0000") { id } }"#, json!({})).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        let res = app
            .sign_in("ro\u{0}ot", "x")
            .await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        let res = app
            .post(
                "/api/v4/users",
                Some(app.admin()),
                json!({ "username": "nul", "email": "nul@example.com", "name": "N", "password": "s3cret-password", "bio": "a\u{0}b" }),
            )
            .await;
        assert_eq!(res.status, 400, "{}", res.body);
        let a = app.user("ctrl").await;
        let res = app
            .post("/api/v4/user/keys", Some(&a.token), json!({ "title": "t\u{0}", "key": RSA2048 }))
            .await;
        assert_eq!(res.status, 400);
        // Line breaks in one-line texts, and links that are no web links.
        let res = app
            .put(&format!("/api/v4/users/{}", a.id), Some(app.admin()), json!({ "name": "Mallory\r\nBcc: x" }))
            .await;
        assert_eq!(res.status, 400, "{}", res.body);
        let res = app
            .put(&format!("/api/v4/users/{}", a.id), Some(app.admin()), json!({ "website_url": "javascript:alert(1)" }))
            .await;
        assert_eq!(res.status, 400, "{}", res.body);
        let res = app
            .put(&format!("/api/v4/users/{}", a.id), Some(app.admin()), json!({ "website_url": "https://example.com/me" }))
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        // Nothing was written by the refused requests.
        let res = app.get(&format!("/api/v4/users/{}", a.id), Some(app.admin())).await;
        assert_eq!(res.body["name"], "ctrl name");
        assert!(app.get("/api/v4/users?username=nul", Some(app.admin())).await.body.as_array().unwrap().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn races_answer_once_and_never_500() {
    each_backend(|app| async move {
        // 49 addEmail while the user is deleted: 201 or 404, never 500. Three rounds: on MariaDB
        // the insert and the deletion deadlock now and then, and the loser is run again.
        for round in 0..3 {
            let a = app.user(&format!("racer{round}")).await;
            let mut tasks = Vec::new();
            for i in 0..49 {
                let app = app.clone();
                let id = a.id;
                tasks.push(tokio::spawn(async move {
                    app.post(
                        &format!("/api/v4/users/{id}/emails"),
                        Some(app.admin()),
                        json!({ "email": format!("r{round}-{i}@example.com"), "skip_confirmation": true }),
                    )
                    .await
                    .status
                }));
            }
            let del = app.delete(&format!("/api/v4/users/{}", a.id), Some(app.admin())).await;
            assert!(del.status.is_success(), "{}", del.status);
            for t in tasks {
                let s = t.await.unwrap();
                assert!(s == StatusCode::CREATED || s == StatusCode::NOT_FOUND, "{s}");
            }
            let left = app
                .get(&format!("/api/v4/users/{}/emails", a.id), Some(app.admin()))
                .await;
            assert_eq!(left.status, 404, "{}", left.body);
        }

        // 50 concurrent blocks of one user: exactly one reports a change.
        let b = app.user("blockme").await;
        let block = "mutation($id: ID!) { blockUser(input: { id: $id }) { changed } }";
        let tries: Vec<_> = (0..50)
            .map(|_| {
                let app = app.clone();
                let id = b.id.to_string();
                tokio::spawn(async move { app.gql(Some(app.admin()), block, json!({ "id": id })).await })
            })
            .collect();
        let mut changed = 0;
        for t in tries {
            let res = t.await.unwrap();
            if res.data()["blockUser"]["changed"] == true {
                changed += 1;
            }
        }
        assert_eq!(changed, 1);
    })
    .await;
}

/// `ssh-rsa` with the modulus of `RSA2048` and the public exponent 1.
fn rsa_with_exponent_one() -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let blob = b64.decode(RSA2048.split(' ').nth(1).unwrap()).unwrap();
    let read = |at: usize| -> (usize, usize) {
        let len = u32::from_be_bytes(blob[at..at + 4].try_into().unwrap()) as usize;
        (at + 4, at + 4 + len)
    };
    let (t0, t1) = read(0);
    let (_, e1) = read(t1);
    let (n0, n1) = read(e1);
    let mut out = Vec::new();
    out.extend_from_slice(&((t1 - t0) as u32).to_be_bytes());
    out.extend_from_slice(&blob[t0..t1]);
    out.extend_from_slice(&1u32.to_be_bytes());
    out.push(1);
    out.extend_from_slice(&((n1 - n0) as u32).to_be_bytes());
    out.extend_from_slice(&blob[n0..n1]);
    format!("ssh-rsa {} e1", b64.encode(out))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_that_must_be_refused() {
    let app = TestApp::start(Backend::Sqlite).await;
    let a = app.user("picky").await;
    // A GraphQL POST as text/plain (a browser's cross-origin "simple" request) or without a type.
    for ct in [Some("text/plain"), None] {
        let mut req = app
            .client
            .post(format!("{}/graphql", app.base))
            .body(r#"{"query":"{ __typename }"}"#);
        if let Some(ct) = ct {
            req = req.header("Content-Type", ct);
        }
        assert_eq!(TestApp::finish(req).await.status, 415);
    }
    // Pages that do not exist.
    for q in ["page=0", "page=-1", "per_page=-5", "per_page=0"] {
        let res = app.get(&format!("/api/v4/users?{q}"), Some(app.admin())).await;
        assert_eq!(res.status, 400, "{q}: {}", res.body);
        assert!(
            res.body["error"]
                .as_str()
                .unwrap()
                .ends_with("does not have a valid value")
        );
    }
    // first together with last.
    let res = app
        .gql(
            Some(app.admin()),
            "{ users(first: 2, last: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(res.code(), "BAD_USER_INPUT");
    // An impersonation token already expired.
    let res = app
        .form(
            Method::POST,
            &format!("/api/v4/users/{}/impersonation_tokens", a.id),
            Some(app.admin()),
            "name=old&scopes[]=api&expires_at=2020-01-01",
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    // Weak SSH keys: RSA under 2048 bits, DSA, RSA with e = 1.
    for key in [RSA1024.to_string(), DSA.to_string(), rsa_with_exponent_one()] {
        let res = app
            .post(
                "/api/v4/user/keys",
                Some(&a.token),
                json!({ "title": "weak", "key": key }),
            )
            .await;
        assert_eq!(res.status, 400, "{}", res.body);
    }
    let res = app
        .post(
            "/api/v4/user/keys",
            Some(&a.token),
            json!({ "title": "ok", "key": RSA2048 }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);

    // A blocked user's JWT gets the 403 their tokens get.
    let signed = app.sign_in("picky", "s3cret-password").await;
    let jwt = signed.data()["signIn"]["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.post(&format!("/api/v4/users/{}/block", a.id), Some(app.admin()), json!({}))
            .await
            .status,
        201
    );
    let with_jwt = TestApp::finish(app.client.get(format!("{}/api/v4/user", app.base)).bearer_auth(&jwt)).await;
    let with_token = app.get("/api/v4/user", Some(&a.token)).await;
    assert_eq!((with_jwt.status, &with_jwt.body), (with_token.status, &with_token.body));
    assert_eq!(with_jwt.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatar_urls_do_not_publish_the_private_address() {
    let app = TestApp::start(Backend::Sqlite).await;
    let a = app.user("hidden").await;
    let res = app.get(&format!("/api/v4/users/{}", a.id), None).await;
    let url = res.body["avatar_url"].as_str().unwrap();
    use md5::Digest;
    let of_email = hex::encode(md5::Md5::digest(b"hidden@example.com"));
    assert!(!url.contains(&of_email), "{url}");
    assert!(url.starts_with("https://www.gravatar.com/avatar/"));
}

/// A TCP proxy the test can take down (every connection cut, nothing accepted) and bring back.
struct Proxy {
    port: u16,
    up: Arc<std::sync::atomic::AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (cut, cut_rx) = tokio::sync::watch::channel(0u64);
        let flag = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !flag.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let mut cut_rx = cut_rx.clone();
                cut_rx.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_rx.changed() => {}
                    }
                });
            }
        });
        Proxy { port, up, cut }
    }

    fn down(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn up(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_going_away_answers_503_at_once_and_recovers() {
    if !backends().contains(&Backend::Postgres) {
        eprintln!("skipped: USERGRAPH_TEST_POSTGRES_URL is not set");
        return;
    }
    let db = Arc::new(crate::common::TestDb::create(Backend::Postgres).await);
    // The same database, reached through the proxy.
    let rest = db.url.split_once("://").unwrap().1;
    let (auth_host, path) = rest.split_once('/').unwrap();
    let (auth, host) = auth_host.rsplit_once('@').map_or(("", auth_host), |(a, h)| (a, h));
    let proxy = Proxy::start(host.to_string()).await;
    let at = if auth.is_empty() {
        String::new()
    } else {
        format!("{auth}@")
    };
    let proxied = format!("postgres://{at}127.0.0.1:{}/{path}", proxy.port);
    let app = TestApp::start_on(db.clone(), proxied).await;
    let a = app.user("steady").await;
    assert_eq!(app.get("/readyz", None).await.status, 200);

    // A request in flight when the database goes: a page of users whose statement is cut.
    let slow = {
        let app_base = app.base.clone();
        let admin = app.admin().to_string();
        tokio::spawn(async move {
            reqwest::Client::new()
                .get(format!("{app_base}/api/v4/users?per_page=100"))
                .header("PRIVATE-TOKEN", admin)
                .send()
                .await
                .map(|r| r.status())
        })
    };
    proxy.down();
    let in_flight = slow.await.unwrap().unwrap();
    assert!(in_flight == 200 || in_flight == 503, "{in_flight}");

    for path in ["/api/v4/user", "/api/v4/users?username=root"] {
        let t = Instant::now();
        let res = app.get(path, Some(&a.token)).await;
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "{path} took {:?}",
            t.elapsed()
        );
        assert_eq!(res.status, 503, "{path}: {}", res.body);
        assert!(res.header("retry-after").is_some());
        assert!(
            res.body["message"]
                .as_str()
                .unwrap()
                .contains("database is unavailable")
        );
    }
    let t = Instant::now();
    let res = app.gql(Some(&a.token), "{ currentUser { id } }", json!({})).await;
    assert!(t.elapsed() < Duration::from_millis(1500));
    assert_eq!(res.status, 503);
    assert_eq!(res.code(), "DATABASE_UNAVAILABLE");
    assert!(res.body["errors"][0].get("locations").is_none(), "{}", res.body);
    let t = Instant::now();
    assert_eq!(app.get("/readyz", None).await.status, 503);
    assert!(t.elapsed() < Duration::from_millis(1500));

    // Back: requests succeed again without a restart.
    proxy.up();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = app.get("/api/v4/user", Some(&a.token)).await;
        if res.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {}", res.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.get("/readyz", None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_work_only_on_the_list_and_order_they_came_from() {
    let app = TestApp::start(Backend::Sqlite).await;
    let a = app.user("cursory").await;
    for k in [ED25519_KEY, RSA2048] {
        let res = app
            .post("/api/v4/user/keys", Some(&a.token), json!({ "title": "k", "key": k }))
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    app.user("cursory2").await;
    let admin = Some(app.admin());
    let page = |q: &str, vars: serde_json::Value| {
        let app = &app;
        let q = q.to_string();
        async move { app.gql(admin, &q, vars).await }
    };
    let users = "query($after: String, $sort: SortDirection) { users(first: 1, after: $after, sort: $sort) { nodes { username } pageInfo { endCursor } } }";
    let first = page(users, json!({ "sort": "ASC" })).await;
    let cursor = first.data()["users"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_string();
    // The same list and order: the next page.
    let next = page(users, json!({ "sort": "ASC", "after": cursor })).await;
    assert_ne!(next.data()["users"]["nodes"], first.data()["users"]["nodes"]);
    // The same list in another order, and another list: refused, naming the argument.
    let other_order = page(users, json!({ "sort": "DESC", "after": cursor })).await;
    assert_eq!(other_order.code(), "BAD_USER_INPUT");
    assert_eq!(
        other_order.body["errors"][0]["extensions"]["fields"]["after"],
        json!(["is a cursor of another list or order"])
    );
    let keys =
        "query($id: ID!, $after: String) { user(id: $id) { keys(first: 1, after: $after) { nodes { title } } } }";
    let res = page(keys, json!({ "id": a.id.to_string(), "after": cursor })).await;
    assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.body);
    // A bare offset, as cursors were before: not a cursor.
    let bare = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("offset:0");
    let res = page(users, json!({ "sort": "ASC", "after": bare })).await;
    assert_eq!(
        res.body["errors"][0]["extensions"]["fields"]["after"],
        json!(["is not a valid cursor"])
    );
}
