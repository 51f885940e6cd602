//! The test harness: a real server on a free port over a real database, one fresh database per
//! test and backend. SQLite always; PostgreSQL and MariaDB when their URLs are set.

pub mod db;
pub mod gpg;
pub mod smtp;

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use usergraph::{AppState, Config};

pub use db::{Backend, TestDb};

pub const TEST_SECRET: &str = "usergraph-test-secret-0123456789abcdef";

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub root_token: String,
    /// Shared with [`TestApp::another_instance`]s on the same database; dropped with the last.
    pub _db: Arc<TestDb>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A user made for a test, with a token that acts as them.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: i32,
    pub token: String,
}

/// The response of one request.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Res {
    /// The sorted keys of a JSON object body (or of one element of it).
    pub fn keys_of(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    }

    pub fn assert(&self, status: u16, body: Value) {
        assert_eq!((self.status.as_u16(), &self.body), (status, &body));
    }

    /// The `extensions.code` of every GraphQL error.
    pub fn codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errs| {
                errs.iter()
                    .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn code(&self) -> String {
        let codes = self.codes();
        assert_eq!(codes.len(), 1, "expected exactly one error, got {}", self.body);
        codes[0].clone()
    }

    pub fn data(&self) -> &Value {
        assert!(self.body.get("errors").is_none(), "unexpected errors: {}", self.body);
        &self.body["data"]
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let db = Arc::new(TestDb::create(backend).await);
        let root_token = format!("glpat-root{}", usergraph::auth::token::generate(""));
        Self::launch(db, root_token, true, tweak).await
    }

    /// A second server on this one's database (as another instance of a deployment): same
    /// secret and tokens, its own pool, change listener and port.
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(|_| {}).await
    }

    /// [`TestApp::another_instance`] with its own configuration.
    pub async fn another_instance_with(&self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::launch(self._db.clone(), self.root_token.clone(), false, tweak).await
    }

    /// A fresh server on `db` reached at `url` (the same database through a proxy, say).
    pub async fn start_on(db: Arc<TestDb>, url: String) -> TestApp {
        let root_token = format!("glpat-root{}", usergraph::auth::token::generate(""));
        Self::launch(db, root_token, true, move |c| {
            c.database_url = Some(url);
            c.db_acquire_timeout_ms = Config::for_database("").db_acquire_timeout_ms;
        })
        .await
    }

    async fn launch(db: Arc<TestDb>, root_token: String, fresh: bool, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let backend = db.backend;
        let mut cfg = Config::for_database(db.url.clone());
        cfg.secret = Some(TEST_SECRET.into());
        cfg.root_token = Some(root_token.clone());
        cfg.data_dir = std::env::temp_dir().join("usergraph-tests");
        cfg.db_max_connections = Some(8);
        // Debug builds hold connections several times longer than release ones, and the tests
        // send bursts of 50 writes at once: they wait longer for a connection than the default
        // (750 ms), which the test of the database going away keeps.
        cfg.db_acquire_timeout_ms = 5_000;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        cfg.external_url = Some(format!("http://{addr}"));
        tweak(&mut cfg);
        let (state, created) = usergraph::init(cfg).await.expect("init");
        let expected = fresh.then_some(root_token.as_str());
        assert_eq!(created.as_deref(), expected, "root bootstrap on an empty database only");
        let router = usergraph::app(state.clone());
        let limits = usergraph::server::Limits::from_config(&state.cfg);
        let server = tokio::spawn(async move {
            usergraph::server::serve(listener, router, limits, std::future::pending())
                .await
                .expect("serve");
        });
        TestApp {
            backend,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            state,
            root_token,
            _db: db,
            server,
        }
    }

    /// Statements run by `f`'s requests.
    pub async fn count_statements<F: std::future::Future<Output = Res>>(&self, f: F) -> (Res, usize) {
        let before = self.state.metrics.statements();
        let res = f.await;
        (res, (self.state.metrics.statements() - before) as usize)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// A raw request; `token` goes in `PRIVATE-TOKEN`.
    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Res {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.header("PRIVATE-TOKEN", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::finish(req).await
    }

    pub async fn finish(req: reqwest::RequestBuilder) -> Res {
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Res { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Res {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Res {
        self.request(Method::DELETE, path, token, None).await
    }

    /// A form-urlencoded request, as curl `--data` sends it.
    pub async fn form(&self, method: Method, path: &str, token: Option<&str>, body: &str) -> Res {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.header("PRIVATE-TOKEN", t);
        }
        Self::finish(req).await
    }

    /// POST /graphql with a Bearer token.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Res {
        let mut req = self.client.post(format!("{}/graphql", self.base)).json(&json!({
            "query": query,
            "variables": variables,
        }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::finish(req).await
    }

    /// The `signIn` mutation, anonymous.
    pub async fn sign_in(&self, login: &str, password: &str) -> Res {
        const SIGN_IN: &str = "mutation($login: String!, $password: String!) {
            signIn(input: { login: $login, password: $password }) { token } }";
        self.gql(None, SIGN_IN, json!({ "login": login, "password": password }))
            .await
    }

    pub fn admin(&self) -> &str {
        &self.root_token
    }

    /// Creates a confirmed user through the API and returns it with its legacy token.
    pub async fn user(&self, username: &str) -> Actor {
        self.user_with(username, json!({})).await
    }

    pub async fn user_with(&self, username: &str, extra: Value) -> Actor {
        let mut input = json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "name": format!("{username} name"),
            "password": "s3cret-password",
            "skipConfirmation": true,
        });
        if let (Some(obj), Some(more)) = (input.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                obj.insert(k.clone(), v.clone());
            }
        }
        let res = self
            .gql(
                Some(self.admin()),
                "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id username } } }",
                json!({ "input": input }),
            )
            .await;
        let id: i32 = res.data()["createUser"]["user"]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("numeric id");
        let token = self.legacy_token(id).await;
        Actor { id, token }
    }

    /// Moves a token's expiry date to `date` (YYYY-MM-DD), as if time had passed since it was
    /// created (a token cannot be created already expired).
    pub async fn backdate_token(&self, id: i64, date: &str) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let day: chrono::NaiveDate = date.parse().expect("a date");
        entity::token::Entity::update_many()
            .col_expr(entity::token::Column::ExpiresAt, Expr::value(Some(day)))
            .filter(entity::token::Column::Id.eq(id as i32))
            .exec(self.db())
            .await
            .expect("backdate");
    }

    /// The legacy private token of a user, read the way the server does.
    pub async fn legacy_token(&self, user_id: i32) -> String {
        usergraph::domain::users::private_token(self.db(), &self.state.keys, user_id)
            .await
            .expect("private token")
            .expect("every user has one")
    }
}

/// The backends this run tests: SQLite always, the others when their URLs are set.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if std::env::var("USERGRAPH_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        v.push(Backend::Postgres);
    }
    if std::env::var("USERGRAPH_TEST_MYSQL_URL").is_ok_and(|u| !u.is_empty()) {
        v.push(Backend::MySql);
    }
    v
}

/// Runs `f` against a fresh app on every backend, one after the other.
pub async fn each_backend<F, Fut>(f: F)
where
    F: Fn(Arc<TestApp>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for b in backends() {
        let app = Arc::new(TestApp::start(b).await);
        eprintln!("--- backend: {:?}", app.backend);
        f(app).await;
    }
}
