//! The real binary as an operator runs it: killed with SIGKILL in the middle of a write load it
//! loses no acknowledged write and comes back intact; SIGTERM lets requests in flight finish.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use entity::{email, token, user};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::common::{TEST_SECRET, TestDb, backends};

pub const ROOT: &str = "glpat-processtestroottoken00";

pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The binary on `url` with its data in `data` and more flags.
pub async fn start_server(url: &str, data: &std::path::Path, args: &[&str]) -> Server {
    start_with(url, data, args, &[("RUST_LOG", "warn")], None).await
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
    start_with(url, data, &[], &[("RUST_LOG", "warn")], None).await
}

/// Starts the binary with more flags and environment; its output goes to `log` when given.
#[allow(clippy::zombie_processes)]
async fn start_with(
    url: &str,
    data: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    log: Option<&std::path::Path>,
) -> Server {
    let port = free_port();
    let output = || match log {
        Some(path) => Stdio::from(
            std::fs::File::options()
                .create(true)
                .append(true)
                .open(path)
                .expect("log file"),
        ),
        None => Stdio::null(),
    };
    let child = Command::new(env!("CARGO_BIN_EXE_usergraph"))
        .args(["--bind", &format!("127.0.0.1:{port}"), "--database-url", url])
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("USERGRAPH_SECRET", TEST_SECRET)
        .env("USERGRAPH_ROOT_TOKEN", ROOT)
        .envs(env.iter().copied())
        .stdout(output())
        .stderr(output())
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

/// Runs a one-shot subcommand of the binary.
fn run_cli(url: &str, data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_usergraph"))
        .args(args)
        .args(["--database-url", url])
        .arg("--data-dir")
        .arg(data)
        .env("USERGRAPH_SECRET", TEST_SECRET)
        .env("USERGRAPH_ROOT_TOKEN", ROOT)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run usergraph")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_create_an_admin_and_a_working_token() {
    let db = TestDb::create(crate::common::Backend::Sqlite).await;
    let data = std::env::temp_dir().join(format!("ug-cli-{}", usergraph::auth::token::generate("")));
    let out = run_cli(
        &db.url,
        &data,
        &["create-admin", "--username", "ops", "--email", "ops@example.com"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Created administrator ops"), "{stdout}");
    assert!(stdout.contains("Password (shown only now): "), "{stdout}");
    let out = run_cli(
        &db.url,
        &data,
        &["create-token", "--user", "ops", "--scopes", "api,read_user"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(token.starts_with("glpat-"), "{token}");
    // Refusals are the domain's, with a failing exit status.
    let out = run_cli(&db.url, &data, &["create-token", "--user", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("404 User Not Found"));
    let out = run_cli(
        &db.url,
        &data,
        &["create-admin", "--username", "ops", "--email", "x@example.com"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Username has already been taken"));
    assert!(run_cli(&db.url, &data, &["migrate", "status"]).status.success());
    // The token works against the server.
    let server = start(&db.url, &data).await;
    let me: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v4/user", server.base))
        .header("PRIVATE-TOKEN", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (me["username"].as_str(), me["is_admin"].as_bool()),
        (Some("ops"), Some(true))
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id() {
    let db = TestDb::create(crate::common::Backend::Sqlite).await;
    let data = std::env::temp_dir().join(format!("ug-log-{}", usergraph::auth::token::generate("")));
    std::fs::create_dir_all(&data).unwrap();
    let log = data.join("server.log");
    // Every statement is "slow" at 0 ms, so a request logs a warning inside its span.
    let server = start_with(
        &db.url,
        &data,
        &["--log-format", "json"],
        &[("RUST_LOG", "info"), ("USERGRAPH_SLOW_QUERY_MS", "0")],
        Some(&log),
    )
    .await;
    let res = reqwest::Client::new()
        .get(format!("{}/api/v4/users/1", server.base))
        .header("x-request-id", "req-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-4711", "the request id comes back");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty(), "no JSON log lines in {text}");
    let tagged = lines.iter().filter(|l| l.to_string().contains("req-4711")).count();
    assert!(tagged > 0, "no log line carries the request id:\n{text}");
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "slow SQL statement" && l.to_string().contains("req-4711")),
        "{text}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_to_a_file_carry_no_colour_codes() {
    let db = TestDb::create(crate::common::Backend::Sqlite).await;
    let data = std::env::temp_dir().join(format!("ug-plain-{}", usergraph::auth::token::generate("")));
    std::fs::create_dir_all(&data).unwrap();
    let log = data.join("server.log");
    let server = start_with(
        &db.url,
        &data,
        &["--log-format", "text"],
        &[("RUST_LOG", "info")],
        Some(&log),
    )
    .await;
    reqwest::get(format!("{}/api/v4/users/1", server.base)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("listening"), "no startup line in {text}");
    assert!(!text.contains('\u{1b}'), "escape codes in a log file:\n{text}");
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_says_what_it_made_and_keeps_a_pipe_free_of_progress() {
    let db = TestDb::create(crate::common::Backend::Sqlite).await;
    let data = std::env::temp_dir().join(format!("ug-seed-{}", usergraph::auth::token::generate("")));
    let out = run_cli(&db.url, &data, &["seed", "--users", "20"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout} {stderr}");
    assert!(stdout.contains("Seeded 20 users ("), "{stdout}");
    // The rate line is for a terminal only: here under a pseudo-terminal (util-linux `script`).
    assert!(!stderr.contains("seeding:") && !stdout.contains("seeding:"), "{stderr}");
    let cmd = format!(
        "{} seed --users 20 --database-url '{}' --data-dir '{}'",
        env!("CARGO_BIN_EXE_usergraph"),
        db.url,
        data.display()
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("USERGRAPH_SECRET", TEST_SECRET)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run script");
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{seen}");
    assert!(seen.contains("seeding: 20/20 users ("), "{seen}");
    let _ = std::fs::remove_dir_all(&data);
}

/// `usergraph <command> --help` lists what the command reads, not the server's settings; the
/// server's help lists them all, and the command still accepts them.
#[test]
fn each_command_lists_only_the_settings_it_reads() {
    let help = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_usergraph"))
            .args(args)
            .output()
            .expect("run usergraph");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("text")
    };
    for args in [
        &["seed", "--help"][..],
        &["help", "seed"],
        &["--data-dir", "x", "seed", "-h"],
    ] {
        let text = help(args);
        assert!(text.contains("Usage: usergraph seed"), "{text}");
        for shown in ["--users", "--database-url", "--data-dir", "--root-token"] {
            assert!(text.contains(shown), "{args:?} lacks {shown}: {text}");
        }
        for hidden in ["--bind", "--max-depth", "--smtp-url", "--graphiql", "--signup-enabled"] {
            assert!(!text.contains(hidden), "{args:?} lists {hidden}: {text}");
        }
    }
    let migrate = help(&["migrate", "--help"]);
    assert!(
        migrate.contains("--database-url") && !migrate.contains("--root-token"),
        "{migrate}"
    );
    // A word that is an option's value is not taken for the command.
    let token = help(&["--data-dir", "seed", "create-token", "--help"]);
    assert!(token.contains("Usage: usergraph create-token"), "{token}");
    let server = help(&["--help"]);
    for shown in ["--bind", "--max-depth", "--database-url"] {
        assert!(server.contains(shown), "{server}");
    }
    let serve = help(&["serve", "--help"]);
    assert!(serve.contains("--bind"), "{serve}");
}
