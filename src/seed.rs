//! `usergraph seed --users N`: fills a database with realistic data — each user with an
//! identity, SSH keys, secondary e-mails, tokens and events — in batched inserts, for
//! benchmarks and demos. Seeded users' password is `seeded-password`.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Duration;
use entity::{email, event, identity, ssh_key, token, user};
use futures_util::StreamExt;
use rand::Rng;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde_json::json;

use crate::auth::{Keys, password, token as tok};
use crate::domain::{ssh_keys, time};

const FIRST: [&str; 16] = [
    "ada", "alan", "barbara", "brian", "claude", "dennis", "donald", "edsger", "frances", "grace", "john", "ken",
    "linus", "margaret", "niklaus", "radia",
];
const LAST: [&str; 12] = [
    "lovelace",
    "turing",
    "liskov",
    "kernighan",
    "shannon",
    "ritchie",
    "knuth",
    "dijkstra",
    "allen",
    "hopper",
    "mccarthy",
    "perlman",
];
const ACTIONS: [(&str, Option<&str>); 6] = [
    ("pushed", None),
    ("closed", Some("Issue")),
    ("commented", Some("Note")),
    ("merged", Some("MergeRequest")),
    ("joined", None),
    ("created", Some("Issue")),
];
const CHUNK: usize = 500;

/// A random, valid ed25519 public key line.
fn random_key(comment: &str) -> String {
    let mut pk = [0u8; 32];
    rand::rng().fill(&mut pk);
    let mut blob = Vec::with_capacity(51);
    for part in [b"ssh-ed25519".as_slice(), pk.as_slice()] {
        blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
        blob.extend_from_slice(part);
    }
    format!("ssh-ed25519 {} {comment}", B64.encode(blob))
}

pub struct Summary {
    pub users: usize,
    pub rows: usize,
    pub seconds: f64,
}

pub async fn run(db: &DatabaseConnection, keys: &Keys, count: usize) -> anyhow::Result<Summary> {
    run_with_progress(db, keys, count, &mut |_| {}).await
}

/// [`run`], telling `progress` how many users are in after each batch.
pub async fn run_with_progress(
    db: &DatabaseConnection,
    keys: &Keys,
    count: usize,
    progress: &mut (dyn FnMut(usize) + Send),
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let hash = password::hash("seeded-password".into())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let run_tag: String = tok::generate("").chars().take(6).collect::<String>().to_lowercase();
    let now = time::now();
    // PostgreSQL and MariaDB write two batches at once (one waits on the network or the disk
    // while the other is written); SQLite has one writer.
    let parallel = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => 1,
        _ => 2,
    };
    let batches = (0..count).step_by(CHUNK).map(|start| (start, CHUNK.min(count - start)));
    let mut running = futures_util::stream::iter(batches)
        .map(|(start, n)| batch(db, keys, &hash, &run_tag, now, start, n))
        .buffer_unordered(parallel);
    let mut rows = 0usize;
    let mut done = 0usize;
    while let Some(batch) = running.next().await {
        let (n, written) = batch?;
        rows += written;
        done += n;
        progress(done);
    }
    drop(running);
    analyze(db).await?;
    Ok(Summary {
        users: count,
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Fresh planner statistics for the tables just filled: without them the database plans every
/// request as if the tables were still empty, and a freshly seeded database answers in tens of
/// milliseconds what it answers in one once analysed.
async fn analyze(db: &DatabaseConnection) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::MySql => "ANALYZE TABLE users, emails, identities, ssh_keys, tokens, events",
        _ => "ANALYZE",
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}

/// Users `start..start + n` with everything they own, in one transaction: `(n, rows written)`.
async fn batch(
    db: &DatabaseConnection,
    keys: &Keys,
    hash: &str,
    run_tag: &str,
    now: chrono::DateTime<chrono::Utc>,
    start: usize,
    n: usize,
) -> anyhow::Result<(usize, usize)> {
    let done = start;
    let mut rows = 0usize;
    {
        let names: Vec<String> = (done..done + n)
            .map(|i| {
                format!(
                    "{}.{}{}_{run_tag}",
                    FIRST[i % FIRST.len()],
                    LAST[(i / FIRST.len()) % LAST.len()],
                    i
                )
            })
            .collect();
        let users = names.iter().enumerate().map(|(k, name)| {
            let i = done + k;
            let created = now - Duration::days((i % 900) as i64) - Duration::minutes((i % 1440) as i64);
            user::ActiveModel {
                username: Set(name.clone()),
                username_canonical: Set(name.to_lowercase()),
                email: Set(format!("{name}@example.com")),
                name: Set(format!(
                    "{} {}",
                    capital(FIRST[i % FIRST.len()]),
                    capital(LAST[(i / FIRST.len()) % LAST.len()])
                )),
                state: Set(if i % 50 == 49 {
                    "blocked".into()
                } else {
                    "active".into()
                }),
                password_hash: Set(hash.to_string()),
                admin: Set(false),
                bio: Set(i
                    .is_multiple_of(3)
                    .then(|| "Writes software and reads papers.".to_string())),
                location: Set(i.is_multiple_of(4).then(|| "Zürich".to_string())),
                skype: Set(String::new()),
                linkedin: Set(String::new()),
                twitter: Set(if i.is_multiple_of(5) {
                    format!("@{}", FIRST[i % FIRST.len()])
                } else {
                    String::new()
                }),
                website_url: Set(String::new()),
                organization: Set(if i.is_multiple_of(2) {
                    "ACME".into()
                } else {
                    String::new()
                }),
                projects_limit: Set(100),
                can_create_group: Set(true),
                external: Set(i.is_multiple_of(10)),
                two_factor_enabled: Set(i.is_multiple_of(7)),
                color_scheme_id: Set(1),
                auth_epoch: Set(0),
                failed_attempts: Set(0),
                locked_until: Set(None),
                password_expires_at: Set(None),
                created_at: Set(created),
                updated_at: Set(created),
                confirmed_at: Set(Some(created)),
                last_sign_in_at: Set(None),
                current_sign_in_at: Set(None),
                last_activity_on: Set(Some((now - Duration::days((i % 200) as i64)).date_naive())),
                created_by_id: Set(None),
                ..Default::default()
            }
        });
        // A batch is one transaction: one commit (one flush to disk) for its thousands of rows.
        let txn = db.begin().await?;
        // The new users' ids: past the largest id before the batch, found through the primary
        // key's index (a lookup by name alone is planned as a scan of the whole table once it
        // has outgrown its statistics).
        let before: Option<i32> = user::Entity::find()
            .select_only()
            .column_as(user::Column::Id.max(), "max")
            .into_tuple()
            .one(&txn)
            .await?
            .flatten();
        user::Entity::insert_many(users).exec_without_returning(&txn).await?;
        let canon: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        let ids: Vec<(i32, String)> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::Username)
            .filter(user::Column::Id.gt(before.unwrap_or(0)))
            .filter(user::Column::UsernameCanonical.is_in(canon))
            .order_by_asc(user::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        rows += ids.len();

        let mut emails = Vec::new();
        let mut idents = Vec::new();
        let mut keyrows = Vec::new();
        let mut tokens = Vec::new();
        let mut events = Vec::new();
        for (k, (id, name)) in ids.iter().enumerate() {
            let i = done + k;
            let primary = format!("{}@example.com", name.to_lowercase());
            for (addr, is_primary) in [
                (primary, true),
                (format!("{}@work.example.com", name.to_lowercase()), false),
            ] {
                emails.push(email::ActiveModel {
                    user_id: Set(*id),
                    email: Set(addr.clone()),
                    email_canonical: Set(addr),
                    is_primary: Set(is_primary),
                    confirmed_at: Set(Some(now)),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
            idents.push(identity::ActiveModel {
                user_id: Set(*id),
                provider: Set(if i.is_multiple_of(2) {
                    "github".into()
                } else {
                    "google_oauth2".into()
                }),
                extern_uid: Set(format!("{run_tag}-{i}")),
                created_at: Set(now),
                ..Default::default()
            });
            for n in 0..2 {
                let line = random_key(&format!("{name}@host{n}"));
                let parsed = ssh_keys::parse(&line).map_err(|e| anyhow::anyhow!("seed key: {e}"))?;
                keyrows.push(ssh_key::ActiveModel {
                    user_id: Set(*id),
                    title: Set(format!("{name} key {n}")),
                    key: Set(parsed.normalized),
                    key_type: Set(parsed.key_type),
                    fingerprint_md5: Set(parsed.fingerprint_md5),
                    fingerprint_sha256: Set(parsed.fingerprint_sha256),
                    expires_at: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
            for (kind, name, scopes) in [
                ("legacy", "private_token", "api read_user"),
                ("personal", "ci", "read_user"),
            ] {
                let value = tok::generate(if kind == "legacy" {
                    tok::LEGACY_PREFIX
                } else {
                    tok::PAT_PREFIX
                });
                tokens.push(token::ActiveModel {
                    user_id: Set(*id),
                    kind: Set(kind.into()),
                    name: Set(name.into()),
                    token_digest: Set(tok::digest(&value)),
                    token_encrypted: Set((kind == "legacy").then(|| keys.sealer.seal(&value))),
                    scopes: Set(scopes.into()),
                    expires_at: Set(None),
                    revoked: Set(false),
                    last_used_at: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
            for n in 0..5 {
                let (action, target) = ACTIONS[(i + n) % ACTIONS.len()];
                events.push(event::ActiveModel {
                    author_id: Set(*id),
                    action: Set(action.into()),
                    target_type: Set(target.map(str::to_string)),
                    target_id: Set(target.map(|_| (i * 10 + n) as i32)),
                    target_title: Set(target.map(|_| format!("Item {}", i * 10 + n))),
                    project_id: Set(Some((i % 97) as i32 + 1)),
                    title: Set(None),
                    data: Set((action == "pushed").then(|| {
                        json!({ "before": "50d4420237a9de7be1304607147aec22e4a14af7", "after": "c5feabde2d8cd023215af4d2ceeb7a64839fc428",
                                "ref": "refs/heads/main", "total_commits_count": 1 })
                    })),
                    note: Set((action == "commented").then(|| json!({ "id": i * 10 + n, "body": "Looks good to me." }))),
                    created_at: Set(now - Duration::hours((n * 7 + i % 24) as i64)),
                    ..Default::default()
                });
            }
        }
        rows += emails.len() + idents.len() + keyrows.len() + tokens.len() + events.len();
        email::Entity::insert_many(emails).exec_without_returning(&txn).await?;
        identity::Entity::insert_many(idents)
            .exec_without_returning(&txn)
            .await?;
        ssh_key::Entity::insert_many(keyrows)
            .exec_without_returning(&txn)
            .await?;
        token::Entity::insert_many(tokens).exec_without_returning(&txn).await?;
        event::Entity::insert_many(events).exec_without_returning(&txn).await?;
        txn.commit().await?;
    }
    Ok((n, rows))
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
