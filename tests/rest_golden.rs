//! Every REST endpoint's answer, byte for byte, against a recorded transcript
//! (`tests/golden/rest.txt`): a change that moves a key, a space or a header of any GitLab shape
//! fails here. Times, dates and token values are masked; everything else is compared as sent.
//! The scenario avoids failed inserts and deletes last, so ids are the same on every backend.
//! After a deliberate change of shape: `UPDATE_GOLDEN=1 cargo test rest_golden` (not under CI).

use reqwest::Method;
use serde_json::json;

use crate::common::{TestApp, each_backend};
use crate::graphql_account::{ED25519, RSA2048};

const GOLDEN: &str = "tests/golden/rest.txt";

/// Headers recorded with each answer: the content type and the pagination headers (the rest
/// vary with the run or the HTTP stack).
fn recorded_headers() -> impl Iterator<Item = &'static str> {
    std::iter::once("content-type").chain(
        usergraph::rest::pagination::EXPOSED_HEADERS
            .into_iter()
            .filter(|h| *h != "x-request-id"),
    )
}

struct Transcript {
    app: std::sync::Arc<TestApp>,
    text: String,
}

impl Transcript {
    /// Sends one request and records the answer under `label`; returns the body as JSON.
    async fn call(
        &mut self,
        label: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, String)>,
    ) -> serde_json::Value {
        let mut req = self
            .app
            .client
            .request(method.clone(), format!("{}{}", self.app.base, path));
        if let Some(t) = token {
            req = req.header("PRIVATE-TOKEN", t);
        }
        if let Some((content_type, b)) = body {
            req = req.header("Content-Type", content_type).body(b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        self.text.push_str(&format!(
            "## {label}\n{method} {}\n{}\n",
            mask_path(path),
            status.as_u16()
        ));
        for h in recorded_headers() {
            if let Some(v) = headers.get(h).and_then(|v| v.to_str().ok()) {
                let v = v.replace(&self.app.base, "<base>");
                self.text.push_str(&format!("{h}: {v}\n"));
            }
        }
        self.text.push_str(&mask(&text.replace(&self.app.base, "<base>")));
        self.text.push_str("\n\n");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    async fn json(
        &mut self,
        label: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> serde_json::Value {
        self.call(label, method, path, token, Some(("application/json", body.to_string())))
            .await
    }
}

/// Times, dates and token values, which differ from run to run.
fn mask(body: &str) -> String {
    let ts = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)").unwrap();
    let date = regex::Regex::new(r#""\d{4}-\d\d-\d\d""#).unwrap();
    let token = regex::Regex::new(r"gl[a-z]{2,4}-[A-Za-z0-9_\-]+").unwrap();
    let body = ts.replace_all(body, "<time>");
    let body = date.replace_all(&body, "\"<date>\"");
    token.replace_all(&body, "<token>").into_owned()
}

fn mask_path(path: &str) -> String {
    let token = regex::Regex::new(r"gl[a-z]{2,4}-[A-Za-z0-9_\-]+").unwrap();
    token.replace_all(path, "<token>").into_owned()
}

#[tokio::test]
async fn every_endpoint_answers_as_recorded() {
    each_backend(|app| async move {
        let admin = app.admin().to_string();
        let mut t = Transcript {
            app: app.clone(),
            text: String::new(),
        };
        let (get, post, put, delete) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);

        // Users.
        let jane = t
            .json(
                "create a user with every attribute",
                post.clone(),
                "/api/v4/users",
                Some(&admin),
                json!({
                    "username": "jane", "email": "jane@example.com", "name": "Jane Doe",
                    "password": "correct-horse", "skip_confirmation": true, "skype": "jane.s",
                    "linkedin": "janed", "twitter": "@jane", "website_url": "https://jane.example",
                    "organization": "Example", "bio": "Likes graphs", "location": "Utrecht",
                    "projects_limit": 5, "can_create_group": false, "external": true,
                    "extern_uid": "jd-1", "provider": "github", "color_scheme_id": 3,
                }),
            )
            .await;
        let jane_id = jane["id"].as_i64().unwrap();
        let bob = t
            .call(
                "create a user from a form",
                post.clone(),
                "/api/v4/users",
                Some(&admin),
                Some((
                    "application/x-www-form-urlencoded",
                    "username=bob&email=bob@example.com&name=Bob&password=correct-horse&skip_confirmation=true"
                        .into(),
                )),
            )
            .await;
        let bob_id = bob["id"].as_i64().unwrap();
        let jane_token = app.legacy_token(jane_id as i32).await;
        let bob_token = app.legacy_token(bob_id as i32).await;
        t.json("create: missing parameters", post.clone(), "/api/v4/users", Some(&admin), json!({ "name": "x" }))
            .await;
        t.json(
            "create: a taken address",
            post.clone(),
            "/api/v4/users",
            Some(&admin),
            json!({ "username": "jane2", "email": "JANE@example.com", "name": "J", "password": "correct-horse" }),
        )
        .await;
        t.json(
            "create: invalid values",
            post.clone(),
            "/api/v4/users",
            Some(&admin),
            json!({ "username": "-bad-", "email": "nope", "name": "N", "password": "short", "website_url": "javascript:x" }),
        )
        .await;
        t.json(
            "create: not an admin",
            post.clone(),
            "/api/v4/users",
            Some(&jane_token),
            json!({ "username": "x", "email": "x@example.com", "name": "x", "password": "correct-horse" }),
        )
        .await;
        t.call("list as admin, page 1 of 2", get.clone(), "/api/v4/users?per_page=2", Some(&admin), None)
            .await;
        t.call(
            "list as admin, page 2, filtered and ordered",
            get.clone(),
            "/api/v4/users?per_page=2&page=2&order_by=username&sort=desc&active=true",
            Some(&admin),
            None,
        )
        .await;
        t.call("list as a user", get.clone(), "/api/v4/users?search=o", Some(&jane_token), None)
            .await;
        t.call("list anonymously by username", get.clone(), "/api/v4/users?username=JANE", None, None)
            .await;
        t.call("list anonymously", get.clone(), "/api/v4/users", None, None).await;
        t.call("list: page 0", get.clone(), "/api/v4/users?page=0", Some(&admin), None)
            .await;
        t.call(
            "list by identity",
            get.clone(),
            "/api/v4/users?extern_uid=jd-1&provider=github",
            Some(&admin),
            None,
        )
        .await;
        let jane_path = format!("/api/v4/users/{jane_id}");
        t.call("one user as admin", get.clone(), &jane_path, Some(&admin), None).await;
        t.call("one user as another user", get.clone(), &jane_path, Some(&bob_token), None)
            .await;
        t.call("one user anonymously", get.clone(), &jane_path, None, None).await;
        t.call("an unknown user", get.clone(), "/api/v4/users/99999", Some(&admin), None)
            .await;
        t.call("the caller", get.clone(), "/api/v4/user", Some(&jane_token), None).await;
        t.call("the caller anonymously", get.clone(), "/api/v4/user", None, None).await;
        t.call(
            "the caller through sudo",
            get.clone(),
            &format!("/api/v4/user?sudo={bob_id}"),
            Some(&admin),
            None,
        )
        .await;
        t.json(
            "modify a user",
            put.clone(),
            &jane_path,
            Some(&admin),
            json!({ "name": "Jane Q. Doe", "bio": "", "twitter": "@janeq", "admin": false, "projects_limit": 7 }),
        )
        .await;
        t.json(
            "modify: invalid values",
            put.clone(),
            &jane_path,
            Some(&admin),
            json!({ "color_scheme_id": 42, "projects_limit": -1 }),
        )
        .await;
        t.json(
            "modify: a taken username",
            put.clone(),
            &jane_path,
            Some(&admin),
            json!({ "username": "BOB" }),
        )
        .await;

        // SSH keys.
        let k = t
            .json(
                "add a key for oneself",
                post.clone(),
                "/api/v4/user/keys",
                Some(&jane_token),
                json!({ "title": "laptop", "key": ED25519 }),
            )
            .await;
        let key_id = k["id"].as_i64().unwrap();
        t.json(
            "add a key for a user",
            post.clone(),
            &format!("/api/v4/users/{jane_id}/keys"),
            Some(&admin),
            json!({ "title": "desktop", "key": RSA2048 }),
        )
        .await;
        t.json(
            "add a key: invalid",
            post.clone(),
            "/api/v4/user/keys",
            Some(&jane_token),
            json!({ "title": "bad", "key": "ssh-ed25519 AAAA" }),
        )
        .await;
        t.json(
            "add a key: taken",
            post.clone(),
            "/api/v4/user/keys",
            Some(&bob_token),
            json!({ "title": "again", "key": ED25519 }),
        )
        .await;
        t.call("own keys", get.clone(), "/api/v4/user/keys?per_page=1", Some(&jane_token), None)
            .await;
        t.call("a user's keys", get.clone(), &format!("/api/v4/users/{jane_id}/keys"), Some(&admin), None)
            .await;
        t.call(
            "a user's keys as another user",
            get.clone(),
            &format!("/api/v4/users/{jane_id}/keys"),
            Some(&bob_token),
            None,
        )
        .await;
        t.call("one own key", get.clone(), &format!("/api/v4/user/keys/{key_id}"), Some(&jane_token), None)
            .await;
        t.call(
            "one key of a user",
            get.clone(),
            &format!("/api/v4/users/{jane_id}/keys/{key_id}"),
            Some(&admin),
            None,
        )
        .await;
        t.call("an unknown key", get.clone(), "/api/v4/user/keys/99999", Some(&jane_token), None)
            .await;

        // E-mails.
        let e = t
            .json(
                "add an address for oneself",
                post.clone(),
                "/api/v4/user/emails",
                Some(&jane_token),
                json!({ "email": "jane.doe@example.com" }),
            )
            .await;
        let email_id = e["id"].as_i64().unwrap();
        t.json(
            "add an address for a user",
            post.clone(),
            &format!("/api/v4/users/{jane_id}/emails"),
            Some(&admin),
            json!({ "email": "jd@example.org", "skip_confirmation": true }),
        )
        .await;
        t.json(
            "add an address: taken",
            post.clone(),
            "/api/v4/user/emails",
            Some(&bob_token),
            json!({ "email": "jane.doe@example.com" }),
        )
        .await;
        t.json("add an address: missing", post.clone(), "/api/v4/user/emails", Some(&bob_token), json!({}))
            .await;
        t.call("own addresses", get.clone(), "/api/v4/user/emails", Some(&jane_token), None)
            .await;
        t.call(
            "a user's addresses",
            get.clone(),
            &format!("/api/v4/users/{jane_id}/emails?per_page=1&page=2"),
            Some(&admin),
            None,
        )
        .await;
        t.call(
            "one own address",
            get.clone(),
            &format!("/api/v4/user/emails/{email_id}"),
            Some(&jane_token),
            None,
        )
        .await;
        t.call(
            "one address of a user",
            get.clone(),
            &format!("/api/v4/users/{jane_id}/emails/{email_id}"),
            Some(&admin),
            None,
        )
        .await;

        // Impersonation tokens.
        let tok = t
            .json(
                "create an impersonation token",
                post.clone(),
                &format!("/api/v4/users/{jane_id}/impersonation_tokens"),
                Some(&admin),
                json!({ "name": "ci", "scopes": ["api", "read_user"], "expires_at": "2099-01-31" }),
            )
            .await;
        let tok_id = tok["id"].as_i64().unwrap();
        t.json(
            "create a token: invalid",
            post.clone(),
            &format!("/api/v4/users/{jane_id}/impersonation_tokens"),
            Some(&admin),
            json!({ "name": "", "scopes": ["nope"] }),
        )
        .await;
        t.call(
            "list impersonation tokens",
            get.clone(),
            &format!("/api/v4/users/{jane_id}/impersonation_tokens?state=active"),
            Some(&admin),
            None,
        )
        .await;
        t.call(
            "one impersonation token",
            get.clone(),
            &format!("/api/v4/users/{jane_id}/impersonation_tokens/{tok_id}"),
            Some(&admin),
            None,
        )
        .await;
        t.call(
            "impersonation tokens as a user",
            get.clone(),
            &format!("/api/v4/users/{jane_id}/impersonation_tokens"),
            Some(&jane_token),
            None,
        )
        .await;
        t.call(
            "revoke an impersonation token",
            delete.clone(),
            &format!("/api/v4/users/{jane_id}/impersonation_tokens/{tok_id}"),
            Some(&admin),
            None,
        )
        .await;
        t.call(
            "a revoked token's value",
            get.clone(),
            "/api/v4/user",
            Some(tok["token"].as_str().unwrap()),
            None,
        )
        .await;
        t.call("an unknown token", get.clone(), "/api/v4/user", Some("glpat-nothing"), None)
            .await;

        // Personal access tokens (today's GitLab).
        let pat = t
            .json(
                "create a personal access token",
                post.clone(),
                &format!("/api/v4/users/{jane_id}/personal_access_tokens"),
                Some(&admin),
                json!({ "name": "deploy", "scopes": ["read_api", "self_rotate"], "description": "for CI",
                        "expires_at": "2099-01-31" }),
            )
            .await;
        let pat_id = pat["id"].as_i64().unwrap();
        t.json(
            "create a personal access token: unknown scope",
            post.clone(),
            &format!("/api/v4/users/{jane_id}/personal_access_tokens"),
            Some(&admin),
            json!({ "name": "x", "scopes": ["api", "write_everything"] }),
        )
        .await;
        t.call(
            "personal access tokens, filtered",
            get.clone(),
            &format!("/api/v4/personal_access_tokens?user_id={jane_id}&state=active&search=DEP"),
            Some(&admin),
            None,
        )
        .await;
        t.call(
            "personal access tokens: a bad state",
            get.clone(),
            "/api/v4/personal_access_tokens?state=nope",
            Some(&admin),
            None,
        )
        .await;
        t.call(
            "another user's personal access token",
            get.clone(),
            &format!("/api/v4/personal_access_tokens/{pat_id}"),
            Some(&bob_token),
            None,
        )
        .await;
        t.call(
            "the calling token",
            get.clone(),
            "/api/v4/personal_access_tokens/self",
            Some(pat["token"].as_str().unwrap()),
            None,
        )
        .await;
        let rotated = t
            .json(
                "rotate the calling token",
                post.clone(),
                "/api/v4/personal_access_tokens/self/rotate",
                Some(pat["token"].as_str().unwrap()),
                json!({ "expires_at": "2099-02-28" }),
            )
            .await;
        t.call(
            "rotate a revoked token",
            post.clone(),
            &format!("/api/v4/personal_access_tokens/{pat_id}/rotate"),
            Some(&admin),
            None,
        )
        .await;
        t.call(
            "revoke a personal access token",
            delete.clone(),
            &format!("/api/v4/personal_access_tokens/{}", rotated["id"]),
            Some(&admin),
            None,
        )
        .await;

        // Status.
        t.json(
            "set a status",
            put.clone(),
            "/api/v4/user/status",
            Some(&jane_token),
            json!({ "emoji": "coffee", "message": "Back <soon>", "availability": "busy" }),
        )
        .await;
        t.json(
            "set a status: unknown emoji",
            put.clone(),
            "/api/v4/user/status",
            Some(&jane_token),
            json!({ "emoji": "not_an_emoji" }),
        )
        .await;
        t.call("a user's status", get.clone(), "/api/v4/users/jane/status", None, None).await;
        t.call("no status", get.clone(), "/api/v4/user/status", Some(&bob_token), None).await;

        // Events and activities.
        let ingest = "mutation($a: ID!) { createEvent(input: { authorId: $a, action: pushed, targetType: ISSUE,
            targetId: 7, targetTitle: \"A bug\", projectId: 3, data: { ref: \"main\" } }) { event { createdAt } } }";
        app.gql(Some(&admin), ingest, json!({ "a": jane_id.to_string() })).await.data();
        t.call("a user's events", get.clone(), &format!("/api/v4/users/{jane_id}/events"), Some(&bob_token), None)
            .await;
        t.call(
            "events by username, filtered",
            get.clone(),
            "/api/v4/users/jane/events?action=pushed&target_type=issue&sort=asc",
            Some(&admin),
            None,
        )
        .await;
        t.call("events: a bad action", get.clone(), "/api/v4/users/jane/events?action=nope", Some(&admin), None)
            .await;
        t.call("activities", get.clone(), "/api/v4/user/activities", Some(&admin), None)
            .await;
        t.call("activities as a user", get.clone(), "/api/v4/user/activities", Some(&jane_token), None)
            .await;

        // The same users over GraphQL, every field, as each kind of caller (the derived resolvers
        // and the one-pass path must keep these answers too).
        // (One root field per document: async-graphql 7.2 orders root fields as they finish.)
        let fragment = "
fragment all on User { id username name state avatarUrl webUrl createdAt bio location skype linkedin
            twitter websiteUrl organization email isAdmin lastSignInAt currentSignInAt confirmedAt lastActivityOn
            passwordExpiresAt colorSchemeId projectsLimit canCreateGroup canCreateProject twoFactorEnabled external
            identities { provider externUid createdAt }
            keys(first: 1) { totalCount nodes { id userId title keyType fingerprint fingerprintSha256 createdAt expiresAt }
              edges { cursor } pageInfo { hasNextPage hasPreviousPage } }
            emails { totalCount nodes { id email confirmedAt createdAt } } }";
        let one = format!("query($id: ID!) {{ user(id: $id) {{ ...all }} }} {fragment}");
        let page = format!("{{ users(first: 2, filter: {{ username: \"jane\" }}) {{ totalCount nodes {{ ...all }} }} }} {fragment}");
        let vars = json!({ "id": jane_id.to_string() });
        for (who, token) in [("anonymously", None), ("as another user", Some(&*bob_token)), ("as the user", Some(&*jane_token)), ("as admin", Some(&*admin))] {
            for (what, doc) in [("one user", &one), ("a page of users", &page)] {
                let q = json!({ "query": doc, "variables": vars }).to_string();
                let mut req = app.client.post(format!("{}/graphql", app.base)).header("Content-Type", "application/json").body(q);
                if let Some(tok) = token {
                    req = req.bearer_auth(tok);
                }
                let res = req.send().await.expect("request");
                let status = res.status().as_u16();
                let body = mask(&res.text().await.expect("body").replace(&app.base, "<base>"));
                t.text.push_str(&format!("## GraphQL: every field of {what}, {who}\n{status}\n{body}\n\n"));
            }
        }

        // Block, unblock, routes, deletion.
        let bob_path = format!("/api/v4/users/{bob_id}");
        t.json("block", post.clone(), &format!("{bob_path}/block"), Some(&admin), json!({})).await;
        t.json("block again", post.clone(), &format!("{bob_path}/block"), Some(&admin), json!({}))
            .await;
        t.call("a blocked user's token", get.clone(), "/api/v4/user", Some(&bob_token), None)
            .await;
        t.json("unblock", post.clone(), &format!("{bob_path}/unblock"), Some(&admin), json!({}))
            .await;
        t.call("an unknown route", get.clone(), "/api/v4/nothing", Some(&admin), None).await;
        t.call("a method not allowed", Method::PATCH, "/api/v4/users", Some(&admin), None)
            .await;
        t.call("delete an own key", delete.clone(), &format!("/api/v4/user/keys/{key_id}"), Some(&jane_token), None)
            .await;
        t.call("delete it again", delete.clone(), &format!("/api/v4/user/keys/{key_id}"), Some(&jane_token), None)
            .await;
        t.call(
            "delete an address of a user",
            delete.clone(),
            &format!("/api/v4/users/{jane_id}/emails/{email_id}"),
            Some(&admin),
            None,
        )
        .await;
        t.call("delete a user", delete.clone(), &bob_path, Some(&admin), None).await;
        t.call("delete them again", delete.clone(), &bob_path, Some(&admin), None).await;

        let text = t.text;
        if std::env::var("UPDATE_GOLDEN").is_ok() && std::env::var("CI").is_err() {
            std::fs::create_dir_all("tests/golden").unwrap();
            std::fs::write(GOLDEN, &text).unwrap();
            return;
        }
        let want = std::fs::read_to_string(GOLDEN).expect("the recorded transcript");
        if text != want {
            let (line, (got, exp)) = text
                .lines()
                .zip(want.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .unwrap_or((0, ("(length)", "(length)")));
            let col = got.bytes().zip(exp.bytes()).position(|(a, b)| a != b).unwrap_or(0);
            let around = |s: &str| s.get(col.saturating_sub(80)..(col + 80).min(s.len())).unwrap_or(s).to_string();
            panic!(
                "{:?}: the transcript differs at line {}, byte {col}:\n--- recorded\n…{}…\n--- now\n…{}…",
                app.backend,
                line + 1,
                around(exp),
                around(got)
            );
        }
    })
    .await;
}
