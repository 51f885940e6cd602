//! Mail: password reset and e-mail confirmation over HTTP, delivered through a real SMTP
//! conversation with the in-process sink, or as `.eml` files; the outbox across restarts,
//! retries, single-use and expiring tokens.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entity::{account_token, outbox};
use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use usergraph::mail::{self, MailWorker, WorkerOptions};
use usergraph::{AppState, Config};

use crate::common::smtp::{Received, SmtpSink};
use crate::common::{Backend, Res, TEST_SECRET, TestApp, backends};

const REQUEST: &str = "mutation($email: String!) { requestPasswordReset(input: { email: $email }) { message } }";
const RESET: &str = "mutation($token: String!, $password: String!) {
    resetPassword(input: { token: $token, password: $password }) { user { username } } }";
const CONFIRM: &str = "mutation($token: String!) {
    confirmEmail(input: { token: $token }) { email confirmedAt user { username } } }";
const RESEND: &str = "mutation($email: String!) { resendConfirmation(input: { email: $email }) { message } }";
const ME: &str = "{ currentUser { username } }";

/// Fast pacing, so tests do not wait for production delays.
fn fast() -> WorkerOptions {
    WorkerOptions {
        poll: Duration::from_millis(100),
        lease: Duration::from_secs(5),
        send_timeout: Duration::from_secs(4),
        retry_base: Duration::from_millis(200),
        retry_max: Duration::from_secs(1),
        max_attempts: 3,
        batch: 20,
    }
}

fn worker(state: &AppState, opts: WorkerOptions) -> MailWorker {
    let mailer = mail::mailer_for(&state.cfg).expect("mailer");
    MailWorker::spawn(
        state.mail.subscribe(),
        state.db.clone(),
        state.cfg.clone(),
        state.keys.clone(),
        mailer,
        opts,
    )
}

/// An app whose mail goes to `sink`, with a fast worker.
async fn with_sink(b: Backend, sink: &SmtpSink) -> (Arc<TestApp>, MailWorker) {
    let url = sink.url();
    let app = TestApp::start_with(b, |c| c.smtp_url = Some(url)).await;
    let w = worker(&app.state, fast());
    eprintln!("--- backend: {b:?}");
    (Arc::new(app), w)
}

fn token_of(link: &str, param: &str) -> String {
    link.split_once(&format!("{param}="))
        .map(|(_, t)| t.to_string())
        .expect("token in the link")
}

fn reset_link(app: &TestApp, m: &Received) -> String {
    m.link(&format!("{}/users/password/edit?reset_password_token=", app.base))
        .unwrap_or_else(|| panic!("no reset link in {}", m.body()))
}

fn confirm_link(base: &str, m: &Received) -> String {
    m.link(&format!("{base}/users/confirmation?confirmation_token="))
        .unwrap_or_else(|| panic!("no confirmation link in {}", m.body()))
}

async fn get_url(app: &TestApp, url: &str) -> Res {
    TestApp::finish(app.client.get(url)).await
}

fn field_error(res: &Res, field: &str) -> Value {
    assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.body);
    res.body["errors"][0]["extensions"]["fields"][field].clone()
}

async fn outbox_rows(app: &TestApp, to: &str) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .filter(outbox::Column::Recipient.eq(to))
        .order_by_asc(outbox::Column::Id)
        .all(app.db())
        .await
        .unwrap()
}

/// `POST /api/v4/users` as the admin: `username` at `<username>@example.com`, password
/// `s3cret-password`, no confirmation flag (so confirmation is required, as GitLab).
async fn create_over_rest(app: &TestApp, username: &str, name: &str) -> Res {
    let body = json!({ "username": username, "email": format!("{username}@example.com"), "name": name,
                       "password": "s3cret-password" });
    app.post("/api/v4/users", Some(app.admin()), body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_password_at_creation_mails_a_working_single_use_link() {
    for b in backends() {
        let sink = SmtpSink::start().await;
        let (app, _w) = with_sink(b, &sink).await;
        // REST, as GitLab clients create users: no password, a reset link instead.
        let res = app
            .post(
                "/api/v4/users",
                Some(app.admin()),
                json!({ "username": "resetty", "email": "Resetty@Example.com", "name": "Reset Ty",
                        "reset_password": true, "skip_confirmation": true }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        let msgs = sink.wait_for(1, 10).await;
        assert_eq!(msgs.len(), 1, "no confirmation mail when confirmation is skipped");
        let m = &msgs[0];
        assert_eq!(m.to, vec!["resetty@example.com"]);
        assert_eq!(m.from, "usergraph@localhost");
        assert_eq!(m.subject(), "Account was created for you");
        assert!(m.body().contains("Your username is resetty."), "{}", m.body());
        assert!(m.header("Message-ID").is_some_and(|id| id.ends_with("@localhost>")));

        // The link's page explains what to do and does not use the token up.
        let link = reset_link(&app, m);
        let token = token_of(&link, "reset_password_token");
        let page = get_url(&app, &link).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.body["reset_password_token"], token.as_str());
        assert!(
            page.body["graphql"]["query"]
                .as_str()
                .unwrap()
                .contains("resetPassword")
        );

        // Only a digest is stored.
        let stored = account_token::Entity::find().all(app.db()).await.unwrap();
        assert!(
            stored
                .iter()
                .all(|t| t.token_digest.len() == 64 && !t.token_digest.contains(&token))
        );

        let res = app
            .gql(None, RESET, json!({ "token": token, "password": "short" }))
            .await;
        assert_eq!(
            field_error(&res, "password"),
            json!(["is too short (minimum is 8 characters)"])
        );
        let res = app
            .gql(None, RESET, json!({ "token": token, "password": "brand-new-password" }))
            .await;
        assert_eq!(res.data()["resetPassword"]["user"]["username"], "resetty");
        let jwt = app.sign_in("resetty", "brand-new-password").await;
        assert!(jwt.data()["signIn"]["token"].is_string());

        // Single use: the mutation and the page refuse it now.
        let again = app
            .gql(None, RESET, json!({ "token": token, "password": "another-password" }))
            .await;
        assert_eq!(field_error(&again, "token"), json!(["has already been used"]));
        let page = get_url(&app, &link).await;
        assert_eq!(
            (page.status.as_u16(), page.body.clone()),
            (400, json!({ "message": { "token": ["has already been used"] } }))
        );
        let unknown = app
            .gql(
                None,
                RESET,
                json!({ "token": "not-a-token", "password": "another-password" }),
            )
            .await;
        assert_eq!(field_error(&unknown, "token"), json!(["is invalid"]));
        let missing = get_url(&app, &format!("{}/users/password/edit", app.base)).await;
        assert_eq!(
            (missing.status.as_u16(), missing.body.clone()),
            (400, json!({ "error": "reset_password_token is missing" }))
        );

        // GraphQL createUser with resetPassword (confirmation required): both mails.
        let res = app
            .gql(
                Some(app.admin()),
                "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id confirmedAt } } }",
                json!({ "input": { "username": "gqlreset", "email": "gqlreset@example.com", "name": "G", "resetPassword": true } }),
            )
            .await;
        assert_eq!(res.data()["createUser"]["user"]["confirmedAt"], json!(null));
        sink.wait_for(3, 10).await;
        let mut subjects: Vec<String> = sink.to("gqlreset@example.com").iter().map(|m| m.subject()).collect();
        subjects.sort();
        assert_eq!(subjects, ["Account was created for you", "Confirmation instructions"]);
        // Resetting through the link sent to the primary address also confirms it.
        let created = sink
            .to("gqlreset@example.com")
            .into_iter()
            .find(|m| m.subject() == "Account was created for you")
            .unwrap();
        let token = token_of(&reset_link(&app, &created), "reset_password_token");
        assert_eq!(
            app.sign_in("gqlreset", "gql-new-password").await.code(),
            "UNAUTHENTICATED"
        );
        app.gql(None, RESET, json!({ "token": token, "password": "gql-new-password" }))
            .await
            .data();
        app.sign_in("gqlreset", "gql-new-password").await.data();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requested_reset_hides_unknown_addresses_and_ends_every_session() {
    for b in backends() {
        let sink = SmtpSink::start().await;
        let (app, _w) = with_sink(b, &sink).await;
        app.user("forgetful").await;
        let jwt = app.sign_in("forgetful", "s3cret-password").await.data()["signIn"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        app.gql(Some(&jwt), ME, json!({})).await.data();

        // Known and unknown addresses get the same answer; only the known one gets mail.
        let known = app
            .gql(None, REQUEST, json!({ "email": " Forgetful@example.com " }))
            .await;
        let unknown = app.gql(None, REQUEST, json!({ "email": "nobody@example.com" })).await;
        assert_eq!(known.data(), unknown.data());
        assert!(
            known.data()["requestPasswordReset"]["message"]
                .as_str()
                .unwrap()
                .starts_with("If your email address exists")
        );
        let bad = app.gql(None, REQUEST, json!({ "email": "not an address" })).await;
        assert_eq!(field_error(&bad, "email"), json!(["is invalid"]));
        let msgs = sink.wait_for(1, 10).await;
        let m = &msgs[0];
        assert_eq!(m.to, vec!["forgetful@example.com"]);
        assert_eq!(m.subject(), "Reset password instructions");
        // A second request within the minute sends nothing more.
        app.gql(None, REQUEST, json!({ "email": "forgetful@example.com" }))
            .await
            .data();
        assert_eq!(outbox_rows(&app, "forgetful@example.com").await.len(), 1);
        assert!(outbox_rows(&app, "nobody@example.com").await.is_empty());

        let token = token_of(&reset_link(&app, m), "reset_password_token");
        app.gql(None, RESET, json!({ "token": token, "password": "remembered-now" }))
            .await
            .data();
        // Every JWT issued before the reset stops working; the old password is gone.
        assert_eq!(app.gql(Some(&jwt), ME, json!({})).await.code(), "UNAUTHENTICATED");
        assert_eq!(
            app.sign_in("forgetful", "s3cret-password").await.code(),
            "UNAUTHENTICATED"
        );
        let jwt2 = app.sign_in("forgetful", "remembered-now").await.data()["signIn"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        app.gql(Some(&jwt2), ME, json!({})).await.data();
        let again = app
            .gql(None, RESET, json!({ "token": token, "password": "third-password" }))
            .await;
        assert_eq!(field_error(&again, "token"), json!(["has already been used"]));
        // Delivered rows forget their token.
        let rows = outbox_rows(&app, "forgetful@example.com").await;
        assert_eq!((rows[0].state.as_str(), rows[0].params.as_deref()), ("sent", None));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refused() {
    for b in backends() {
        let sink = SmtpSink::start().await;
        let (app, _w) = with_sink(b, &sink).await;
        app.user("latecomer").await;
        app.gql(None, REQUEST, json!({ "email": "latecomer@example.com" }))
            .await
            .data();
        let res = app
            .gql(
                Some(app.admin()),
                "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
                json!({ "input": { "username": "slowpoke", "email": "slowpoke@example.com", "name": "S", "password": "s3cret-password" } }),
            )
            .await;
        res.data();
        let msgs = sink.wait_for(2, 10).await;
        let reset = msgs
            .iter()
            .find(|m| m.subject() == "Reset password instructions")
            .unwrap();
        let confirm = msgs
            .iter()
            .find(|m| m.subject() == "Confirmation instructions")
            .unwrap();
        account_token::Entity::update_many()
            .col_expr(
                account_token::Column::ExpiresAt,
                Expr::value(Utc::now() - chrono::Duration::minutes(1)),
            )
            .exec(app.db())
            .await
            .unwrap();
        let token = token_of(&reset_link(&app, reset), "reset_password_token");
        let res = app
            .gql(None, RESET, json!({ "token": token, "password": "too-late-password" }))
            .await;
        assert_eq!(
            field_error(&res, "token"),
            json!(["has expired, please request a new one"])
        );
        assert_eq!(get_url(&app, &reset_link(&app, reset)).await.status, 400);
        let res = get_url(&app, &confirm_link(&app.base, confirm)).await;
        assert_eq!(
            (res.status.as_u16(), res.body.clone()),
            (
                400,
                json!({ "message": { "token": ["has expired, please request a new one"] } })
            )
        );
        assert_eq!(app.sign_in("slowpoke", "s3cret-password").await.code(), "UNCONFIRMED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfirmed_users_cannot_sign_in_until_they_follow_the_link() {
    for b in backends() {
        let sink = SmtpSink::start().await;
        let (app, _w) = with_sink(b, &sink).await;
        // REST without confirm=false: confirmation required, as GitLab.
        let res = create_over_rest(&app, "newbie", "New Bie").await;
        assert_eq!(
            (res.status.as_u16(), res.body["confirmed_at"].clone()),
            (201, json!(null))
        );
        let m = sink.wait_for(1, 10).await.remove(0);
        assert_eq!(m.to, vec!["newbie@example.com"]);
        assert_eq!(m.subject(), "Confirmation instructions");

        for login in ["newbie", "newbie@example.com"] {
            let res = app.sign_in(login, "s3cret-password").await;
            assert_eq!(res.code(), "UNCONFIRMED");
            assert_eq!(
                res.body["errors"][0]["message"],
                "You have to confirm your email address before continuing."
            );
        }
        // A wrong password still says only that.
        assert_eq!(app.sign_in("newbie", "wrong-password").await.code(), "UNAUTHENTICATED");

        let link = confirm_link(&app.base, &m);
        let res = get_url(&app, &link).await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(res.body["email"], "newbie@example.com");
        assert_eq!(
            res.body["message"],
            "Your email address has been successfully confirmed."
        );
        app.sign_in("newbie@example.com", "s3cret-password").await.data();
        let id = app.get("/api/v4/users?username=newbie", Some(app.admin())).await.body[0]["id"].clone();
        let shown = app.get(&format!("/api/v4/users/{id}"), Some(app.admin())).await;
        assert!(shown.body["confirmed_at"].is_string());
        let again = get_url(&app, &link).await;
        assert_eq!(again.body, json!({ "message": { "token": ["has already been used"] } }));

        // The same through the confirmEmail mutation, for a user created over GraphQL.
        app.gql(
            Some(app.admin()),
            "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
            json!({ "input": { "username": "gqlnew", "email": "gqlnew@example.com", "name": "G", "password": "s3cret-password" } }),
        )
        .await
        .data();
        sink.wait_for(2, 10).await;
        let m = sink.to("gqlnew@example.com").remove(0);
        let token = token_of(&confirm_link(&app.base, &m), "confirmation_token");
        let res = app.gql(None, CONFIRM, json!({ "token": token })).await;
        let p = &res.data()["confirmEmail"];
        assert_eq!(
            (p["email"].clone(), p["user"]["username"].clone()),
            (json!("gqlnew@example.com"), json!("gqlnew"))
        );
        assert!(p["confirmedAt"].is_string());
        app.sign_in("gqlnew", "s3cret-password").await.data();
        let res = app.gql(None, CONFIRM, json!({ "token": token })).await;
        assert_eq!(field_error(&res, "token"), json!(["has already been used"]));
        // An unknown token.
        let res = app.gql(None, CONFIRM, json!({ "token": "nope" })).await;
        assert_eq!(field_error(&res, "token"), json!(["is invalid"]));
    }
}

/// Makes every token of the user with this address look `secs` seconds older, past the
/// one-per-minute limit of requests.
async fn age_tokens(app: &TestApp, address: &str, secs: i64) {
    account_token::Entity::update_many()
        .col_expr(
            account_token::Column::CreatedAt,
            Expr::value(Utc::now() - chrono::Duration::seconds(secs)),
        )
        .filter(account_token::Column::Email.eq(address))
        .exec(app.db())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmation_links_can_be_asked_for_again() {
    for b in backends() {
        let sink = SmtpSink::start().await;
        let (app, _w) = with_sink(b, &sink).await;
        let res = create_over_rest(&app, "late", "Late").await;
        assert_eq!(res.status, 201, "{}", res.body);
        let first = sink.wait_for(1, 10).await.remove(0);
        let said = |res: &Res| res.data()["resendConfirmation"]["message"].clone();

        // Within a minute of the first mail: the same answer, no second mail.
        let res = app.gql(None, RESEND, json!({ "email": "late@example.com" })).await;
        let message = said(&res);
        assert!(
            message.as_str().unwrap_or_default().contains("confirmation link"),
            "{message}"
        );
        assert_eq!(outbox_rows(&app, "late@example.com").await.len(), 1);

        // Later: a new link, in any case of the address; it confirms, and the first one still works
        // until used.
        age_tokens(&app, "late@example.com", 120).await;
        let res = app.gql(None, RESEND, json!({ "email": " LATE@example.com " })).await;
        assert_eq!(said(&res), message);
        let second = sink.wait_for(2, 10).await.remove(1);
        assert_eq!(
            (second.to.clone(), second.subject()),
            (
                vec!["late@example.com".to_string()],
                "Confirmation instructions".to_string()
            )
        );
        let (t1, t2) = (
            token_of(&confirm_link(&app.base, &first), "confirmation_token"),
            token_of(&confirm_link(&app.base, &second), "confirmation_token"),
        );
        assert_ne!(t1, t2);
        assert_eq!(app.sign_in("late", "s3cret-password").await.code(), "UNCONFIRMED");
        app.gql(None, CONFIRM, json!({ "token": t2 })).await.data();
        app.sign_in("late", "s3cret-password").await.data();

        // A confirmed address, an unknown one and root's: the same answer and no mail.
        age_tokens(&app, "late@example.com", 120).await;
        for address in ["late@example.com", "nobody@example.com", "admin@example.com"] {
            let res = app.gql(None, RESEND, json!({ "email": address })).await;
            assert_eq!(said(&res), message, "{address}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(outbox_rows(&app, "late@example.com").await.len(), 2);
        assert!(outbox_rows(&app, "nobody@example.com").await.is_empty());
        assert!(outbox_rows(&app, "admin@example.com").await.is_empty());
        assert_eq!(sink.messages().len(), 2);

        // Not an address at all.
        let res = app.gql(None, RESEND, json!({ "email": "not-an-address" })).await;
        assert!(field_error(&res, "email").is_array(), "{}", res.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secondary_addresses_count_once_confirmed() {
    for b in backends() {
        let sink = SmtpSink::start().await;
        let (app, _w) = with_sink(b, &sink).await;
        let u = app.user("twomail").await;
        let add = "mutation($input: AddEmailInput!) { addEmail(input: $input) { email { id email confirmedAt } } }";
        let res = app
            .gql(
                Some(&u.token),
                add,
                json!({ "input": { "email": "Second@example.com" } }),
            )
            .await;
        let e = res.data()["addEmail"]["email"].clone();
        assert_eq!(e["confirmedAt"], json!(null));
        let m = sink.wait_for(1, 10).await.remove(0);
        assert_eq!(m.to, vec!["second@example.com"]);
        assert_eq!(m.subject(), "Confirmation instructions");
        assert!(m.body().contains("second@example.com"));

        // Unconfirmed, the address does not count: no reset mail goes there.
        app.gql(None, REQUEST, json!({ "email": "second@example.com" }))
            .await
            .data();
        let rows = outbox_rows(&app, "second@example.com").await;
        assert_eq!(rows.len(), 1, "only the confirmation mail");

        let token = token_of(&confirm_link(&app.base, &m), "confirmation_token");
        let res = app.gql(None, CONFIRM, json!({ "token": token })).await;
        assert_eq!(res.data()["confirmEmail"]["email"], "second@example.com");
        let shown = app
            .gql(
                Some(&u.token),
                "query($id: ID!) { email(id: $id) { confirmedAt } }",
                json!({ "id": e["id"] }),
            )
            .await;
        assert!(shown.data()["email"]["confirmedAt"].is_string());

        // Confirmed, it counts: a reset link goes to it.
        app.gql(None, REQUEST, json!({ "email": "second@example.com" }))
            .await
            .data();
        sink.wait_for(2, 10).await;
        let to_second = sink.to("second@example.com");
        assert_eq!(to_second.last().unwrap().subject(), "Reset password instructions");

        // An admin who skips confirmation sends nothing; the REST route queues a mail too.
        let res = app
            .gql(
                Some(app.admin()),
                add,
                json!({ "input": { "email": "third@example.com", "userId": u.id.to_string(), "skipConfirmation": true } }),
            )
            .await;
        assert!(res.data()["addEmail"]["email"]["confirmedAt"].is_string());
        let res = app
            .post(
                "/api/v4/user/emails",
                Some(&u.token),
                json!({ "email": "fourth@example.com" }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        sink.wait_for(3, 10).await;
        assert!(sink.to("third@example.com").is_empty());
        assert_eq!(sink.to("fourth@example.com").len(), 1);
        // Deleting the address makes its link invalid.
        let fourth = sink.to("fourth@example.com").remove(0);
        let id = res.body["id"].as_i64().unwrap();
        app.delete(&format!("/api/v4/user/emails/{id}"), Some(&u.token)).await;
        let res = get_url(&app, &confirm_link(&app.base, &fourth)).await;
        assert_eq!(res.body, json!({ "message": { "token": ["is invalid"] } }));
    }
}

/// Another server process on the same database, as after a restart.
struct Instance {
    base: String,
    state: AppState,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn restart(db_url: &str, smtp_url: Option<String>) -> Instance {
    let mut cfg = Config::for_database(db_url);
    cfg.secret = Some(TEST_SECRET.into());
    cfg.data_dir = std::env::temp_dir().join("usergraph-tests");
    cfg.db_max_connections = Some(4);
    cfg.smtp_url = smtp_url;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    cfg.external_url = Some(format!("http://{addr}"));
    let (state, created) = usergraph::init(cfg).await.expect("init");
    assert!(created.is_none(), "the database is not new");
    let router = usergraph::app(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    Instance {
        base: format!("http://{addr}"),
        state,
        server,
    }
}

async fn wait_until<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_a_restart_and_delivers_once() {
    for b in backends() {
        eprintln!("--- backend: {b:?}");
        let sink = SmtpSink::start().await;
        // First life: the SMTP server is unreachable (nothing listens on port 1).
        let app = TestApp::start_with(b, |c| c.smtp_url = Some("smtp://127.0.0.1:1".into())).await;
        let w1 = worker(
            &app.state,
            WorkerOptions {
                retry_base: Duration::from_millis(300),
                max_attempts: 10,
                ..fast()
            },
        );
        let res = app
            .post(
                "/api/v4/users",
                Some(app.admin()),
                json!({ "username": "survivor", "email": "survivor@example.com", "name": "S",
                        "reset_password": true }),
            )
            .await;
        assert_eq!(res.status, 201, "the request does not wait for mail: {}", res.body);
        wait_until("both mails failed once", || async {
            let rows = outbox_rows(&app, "survivor@example.com").await;
            rows.len() == 2 && rows.iter().all(|r| r.attempts >= 1 && r.last_error.is_some())
        })
        .await;
        w1.shutdown().await;
        let rows = outbox_rows(&app, "survivor@example.com").await;
        for r in &rows {
            assert_eq!(r.state, "pending", "retried later: {r:?}");
            assert!(r.next_attempt_at > r.created_at);
            assert!(r.last_error.as_deref().unwrap().starts_with("SMTP"), "{r:?}");
        }
        let attempts_before: i32 = rows.iter().map(|r| r.attempts).sum();
        // A third mail is claimed by a worker that then dies: `sending` with a live lease.
        app.user("bystander").await;
        app.gql(None, REQUEST, json!({ "email": "bystander@example.com" }))
            .await
            .data();
        outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value("sending"))
            .col_expr(outbox::Column::Attempts, Expr::value(1))
            .col_expr(
                outbox::Column::LockedUntil,
                Expr::value(Utc::now() + chrono::Duration::hours(1)),
            )
            .filter(outbox::Column::Recipient.eq("bystander@example.com"))
            .exec(app.db())
            .await
            .unwrap();
        assert!(sink.messages().is_empty());

        // Second life on the same database, SMTP reachable: the two queued mails go out once.
        let second = restart(&app._db.url, Some(sink.url())).await;
        let w2 = worker(
            &second.state,
            WorkerOptions {
                max_attempts: 10,
                ..fast()
            },
        );
        let msgs = sink.wait_for(2, 15).await;
        assert_eq!(msgs.len(), 2, "{msgs:#?}");
        let mut subjects: Vec<String> = msgs.iter().map(|m| m.subject()).collect();
        subjects.sort();
        assert_eq!(subjects, ["Account was created for you", "Confirmation instructions"]);
        // Links use the external URL of the instance that delivers.
        let confirm = msgs
            .iter()
            .find(|m| m.subject() == "Confirmation instructions")
            .unwrap();
        let res = get_url(&app, &confirm_link(&second.base, confirm)).await;
        assert_eq!(res.status, 200, "{}", res.body);
        // The claimed mail is left to its worker while the lease holds.
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(sink.messages().len(), 2);
        // Its worker is gone for good: once the lease expires, the mail is taken over.
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::LockedUntil,
                Expr::value(Utc::now() - chrono::Duration::seconds(1)),
            )
            .filter(outbox::Column::Recipient.eq("bystander@example.com"))
            .exec(app.db())
            .await
            .unwrap();
        sink.wait_for(3, 15).await;
        assert_eq!(sink.to("bystander@example.com").len(), 1);
        w2.shutdown().await;
        drop(second);

        // Third life: nothing is sent again.
        let third = restart(&app._db.url, Some(sink.url())).await;
        let w3 = worker(&third.state, fast());
        tokio::time::sleep(Duration::from_millis(800)).await;
        w3.shutdown().await;
        assert_eq!(sink.messages().len(), 3, "every mail exactly once");
        let rows = outbox::Entity::find().all(app.db()).await.unwrap();
        assert_eq!(rows.len(), 3);
        for r in &rows {
            assert_eq!((r.state.as_str(), r.params.as_deref()), ("sent", None), "{r:?}");
            assert!(r.sent_at.is_some());
        }
        let attempts_after: i32 = rows
            .iter()
            .filter(|r| r.recipient == "survivor@example.com")
            .map(|r| r.attempts)
            .sum();
        assert_eq!(attempts_after, attempts_before + 2, "one more attempt each");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_retried_then_given_up() {
    for b in backends() {
        let sink = SmtpSink::start().await;
        let (app, _w) = with_sink(b, &sink).await;
        app.user("retry").await;
        // A transient refusal, then success.
        sink.refuse_next(&[451]);
        app.gql(None, REQUEST, json!({ "email": "retry@example.com" }))
            .await
            .data();
        sink.wait_for(1, 10).await;
        let rows = outbox_rows(&app, "retry@example.com").await;
        assert_eq!(rows[0].attempts, 2);
        assert!(rows[0].last_error.as_deref().unwrap().contains("451"), "{:?}", rows[0]);
        wait_until("the row is marked sent", || async {
            outbox_rows(&app, "retry@example.com").await[0].state == "sent"
        })
        .await;

        // A permanent refusal is not retried.
        app.user("perm").await;
        sink.refuse_next(&[550]);
        app.gql(None, REQUEST, json!({ "email": "perm@example.com" }))
            .await
            .data();
        wait_until("the mail failed", || async {
            outbox_rows(&app, "perm@example.com").await[0].state == "failed"
        })
        .await;
        let r = &outbox_rows(&app, "perm@example.com").await[0];
        assert_eq!((r.attempts, r.params.as_deref()), (1, None));
        assert!(r.last_error.as_deref().unwrap().contains("550"));

        // Transient refusals up to the limit (3 attempts here): given up.
        app.user("busy").await;
        sink.refuse_next(&[421, 451, 452]);
        app.gql(None, REQUEST, json!({ "email": "busy@example.com" }))
            .await
            .data();
        wait_until("the mail was given up", || async {
            outbox_rows(&app, "busy@example.com").await[0].state == "failed"
        })
        .await;
        let r = &outbox_rows(&app, "busy@example.com").await[0];
        assert_eq!(r.attempts, 3);
        assert!(r.last_error.as_deref().unwrap().contains("452"), "{r:?}");
        assert_eq!(sink.messages().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_mail_is_written_to_the_mail_dir() {
    for b in backends() {
        eprintln!("--- backend: {b:?}");
        let dir = std::env::temp_dir().join(format!("usergraph-mail-{}", usergraph::auth::token::generate("")));
        let d = dir.clone();
        let app = TestApp::start_with(b, move |c| c.mail_dir = Some(d)).await;
        let w = mail::start(&app.state).expect("start the mail worker");
        let res = app
            .form(
                Method::POST,
                "/api/v4/users",
                Some(app.admin()),
                "username=filed&email=filed%40example.com&name=Filed&password=s3cret-password",
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        let mut files = Vec::new();
        wait_until("an .eml file appears", || {
            files = std::fs::read_dir(&dir)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                        .collect()
                })
                .unwrap_or_default();
            let found = !files.is_empty();
            async move { found }
        })
        .await;
        w.shutdown().await;
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(&files[0]).unwrap().replace("\r\n", "\n");
        let data = text.replace('\n', "\r\n");
        let m = Received {
            from: String::new(),
            to: vec![],
            data,
        };
        assert_eq!(m.header("To").as_deref(), Some("filed@example.com"));
        assert_eq!(m.subject(), "Confirmation instructions");
        // Readable as it is: the link stands whole in the file.
        assert_eq!(m.header("Content-Transfer-Encoding").as_deref(), Some("7bit"));
        let link = confirm_link(&app.base, &m);
        assert!(text.contains(&format!("\n{link}\n")), "{text}");
        let res = get_url(&app, &link).await;
        assert_eq!(res.status, 200, "{}", res.body);
        app.sign_in("filed", "s3cret-password").await.data();
        std::fs::remove_dir_all(&dir).ok();
    }
}
