//! The real binary as an operator runs it: killed with SIGKILL in the middle of a write load it
//! loses no acknowledged write and comes back intact; SIGTERM lets requests in flight finish.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use entity::{email, token, user};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::common::{TEST_SECRET, TestDb, backends};

const ROOT: &str = "glpat-processtestroottoken00";

struct Server {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// The child is moved into `Server`, whose `Drop` kills and reaps it; the lint cannot see that.
#[allow(clippy::zombie_processes)]
async fn start(url: &str, data: &std::path::Path) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_usergraph"))
        .args(["--bind", &format!("127.0.0.1:{port}"), "--database-url", url])
        .arg("--data-dir")
        .arg(data)
        .env("USERGRAPH_SECRET", TEST_SECRET)
        .env("USERGRAPH_ROOT_TOKEN", ROOT)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start usergraph");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("usergraph did not become ready");
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_writes_loses_no_acknowledged_write() {
    for backend in backends() {
        eprintln!("--- backend: {backend:?}");
        let db = TestDb::create(backend).await;
        let data = std::env::temp_dir().join(format!("ug-crash-{}", usergraph::auth::token::generate("")));
        let mut server = start(&db.url, &data).await;
        let client = reqwest::Client::new();
        // Writers: secondary e-mails (cheap) and whole users (several rows in one transaction).
        let mut tasks = Vec::new();
        for w in 0..6 {
            let client = client.clone();
            let base = server.base.clone();
            tasks.push(tokio::spawn(async move {
                let mut acked: Vec<(bool, String)> = Vec::new();
                for i in 0.. {
                    let (is_user, req) = if w % 3 == 0 {
                        let name = format!("crash{w}x{i}");
                        let body = json!({ "username": name, "email": format!("{name}@example.com"), "name": "c", "password": "s3cret-password", "skip_confirmation": true });
                        (true, client.post(format!("{base}/api/v4/users")).json(&body))
                    } else {
                        let body = json!({ "email": format!("w{w}x{i}@example.com") });
                        (false, client.post(format!("{base}/api/v4/user/emails")).json(&body))
                    };
                    match req.header("PRIVATE-TOKEN", ROOT).send().await {
                        Ok(r) if r.status() == 201 => {
                            let body: serde_json::Value = r.json().await.unwrap_or_default();
                            let key = if is_user { body["username"].as_str() } else { body["email"].as_str() };
                            if let Some(k) = key {
                                acked.push((is_user, k.to_string()));
                            }
                        }
                        _ => break,
                    }
                }
                acked
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        server.child.kill().expect("SIGKILL");
        server.child.wait().unwrap();
        let mut acked = Vec::new();
        for t in tasks {
            acked.extend(t.await.unwrap());
        }
        assert!(
            acked.len() > 10,
            "the load wrote too little to prove anything: {}",
            acked.len()
        );

        // Restart on the same database: it migrates, answers, and has every acknowledged write.
        let _server = start(&db.url, &data).await;
        let conn = Database::connect(&db.url).await.unwrap();
        for (is_user, key) in &acked {
            if *is_user {
                let u = user::Entity::find()
                    .filter(user::Column::Username.eq(key.as_str()))
                    .one(&conn)
                    .await
                    .unwrap();
                let u = u.unwrap_or_else(|| panic!("acknowledged user {key} lost"));
                let n = email::Entity::find()
                    .filter(email::Column::UserId.eq(u.id))
                    .count(&conn)
                    .await
                    .unwrap();
                assert_eq!(n, 1, "user {key} without its primary address");
                let t = token::Entity::find()
                    .filter(token::Column::UserId.eq(u.id))
                    .count(&conn)
                    .await
                    .unwrap();
                assert_eq!(t, 1, "user {key} without its private token");
            } else {
                let e = email::Entity::find()
                    .filter(email::Column::EmailCanonical.eq(key.as_str()))
                    .one(&conn)
                    .await
                    .unwrap();
                assert!(e.is_some(), "acknowledged e-mail {key} lost");
            }
        }
        // No half-written user anywhere: every user has exactly one primary address.
        let users = user::Entity::find().count(&conn).await.unwrap();
        let primaries = email::Entity::find()
            .filter(email::Column::IsPrimary.eq(true))
            .count(&conn)
            .await
            .unwrap();
        assert_eq!(users, primaries);
        if backend == crate::common::Backend::Sqlite {
            let row = conn
                .query_one_raw(sea_orm::Statement::from_string(
                    conn.get_database_backend(),
                    "PRAGMA integrity_check",
                ))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "ok");
        }
        conn.close().await.ok();
        let _ = std::fs::remove_dir_all(&data);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_requests_in_flight() {
    let db = TestDb::create(crate::common::Backend::Sqlite).await;
    let data = std::env::temp_dir().join(format!("ug-term-{}", usergraph::auth::token::generate("")));
    let mut server = start(&db.url, &data).await;
    let client = reqwest::Client::new();
    // Sign-ins hash with argon2: each takes long enough to be in flight when the signal comes.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let q = json!({ "query": "mutation { signIn(input: { login: \"root\", password: \"not-the-password\" }) { token } }" });
            client.post(format!("{base}/graphql")).json(&q).send().await.map(|r| r.status().as_u16())
        }));
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut answered = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(status) => {
                assert_eq!(status, 200, "a request in flight must be answered in full");
                answered += 1;
            }
            // Sent after the listener closed: refused, never cut off half-way.
            Err(e) => assert!(e.is_connect(), "{e}"),
        }
    }
    assert!(answered > 0, "no request was in flight");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "usergraph did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    assert!(
        reqwest::get(format!("{}/healthz", server.base)).await.is_err(),
        "no longer accepting"
    );
    let _ = std::fs::remove_dir_all(&data);
}
