//! The background task that empties the outbox.
//!
//! Delivery is **at least once**, not exactly once. The row is marked `sent` in a separate
//! statement after the SMTP server has accepted the message (after its `250` to the final `.`),
//! and no SMTP transaction can be committed atomically with a database row. So:
//!
//! * a crash, a lost database connection or an expired lease *after* the server accepted the
//!   message and *before* the row is marked leaves the row `sending`; once its lease
//!   (`locked_until`) expires, a worker (this instance after a restart, or another one) claims it
//!   again and the recipient gets the same message a second time, with the same `Message-ID`
//!   (so mail software can drop the repeat);
//! * a crash at any other point loses nothing and duplicates nothing: a row is either still
//!   `pending`/`sending` (and is sent later) or already `sent` (and is never claimed again).
//!
//! We choose duplicates over loss: a second confirmation or reset mail is harmless (its token is
//! the same single-use token), a lost one locks the user out. The window is the few milliseconds
//! between the server's answer and the `UPDATE`.
//!
//! Failures are retried with exponential backoff (`retry_base` doubled per attempt, at most
//! `retry_max`) up to `max_attempts`; permanent errors (a 5xx answer, a malformed address) and the
//! last failure mark the row `failed`. `last_error` keeps the latest reason either way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use entity::outbox as row;
use lettre::Message;
use lettre::message::Body;
use lettre::message::Mailbox;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::outbox::{self, template_of};
use super::templates::{Params, render};
use super::{Mail, MailError, Mailer};
use crate::auth::Keys;
use crate::auth::token::Sealer;
use crate::config::Config;
use crate::domain::time;

/// How the worker paces itself.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// How often to look for due mail without a wake-up (rows queued by other instances, retries).
    pub poll: Duration,
    /// How long a claim holds; a row whose worker died is taken over after this. Must exceed
    /// `send_timeout`.
    pub lease: Duration,
    /// Longest time one delivery may take.
    pub send_timeout: Duration,
    /// Delay after the first failure, doubled after each further one.
    pub retry_base: Duration,
    /// Longest delay between two attempts.
    pub retry_max: Duration,
    /// Attempts before a mail is given up.
    pub max_attempts: u32,
    /// Rows looked at per round.
    pub batch: u64,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            poll: Duration::from_secs(5),
            lease: Duration::from_secs(120),
            send_timeout: Duration::from_secs(60),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            max_attempts: 10,
            batch: 20,
        }
    }
}

impl WorkerOptions {
    pub fn from_config(cfg: &Config) -> Self {
        WorkerOptions {
            max_attempts: cfg.mail_max_attempts.max(1),
            ..Default::default()
        }
    }

    /// Delay before attempt `attempts + 1`, after `attempts` failures.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
        self.retry_base.saturating_mul(1u32 << doublings).min(self.retry_max)
    }
}

/// The running worker. Dropping it aborts the task; [`MailWorker::shutdown`] lets the mail in
/// hand finish first.
pub struct MailWorker {
    stop: watch::Sender<bool>,
    handle: Option<JoinHandle<()>>,
}

impl MailWorker {
    /// `wake` is the state's [`super::outbox::Wake`], subscribed.
    pub fn spawn(
        wake: watch::Receiver<u64>,
        db: DatabaseConnection,
        cfg: Arc<Config>,
        keys: Arc<Keys>,
        mailer: Arc<dyn Mailer>,
        opts: WorkerOptions,
    ) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let w = Worker {
            db,
            cfg,
            keys,
            mailer,
            opts,
        };
        let handle = tokio::spawn(async move { w.run(wake, stop_rx).await });
        MailWorker {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops after the mail being delivered, if any.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

impl Drop for MailWorker {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

struct Worker {
    db: DatabaseConnection,
    cfg: Arc<Config>,
    keys: Arc<Keys>,
    mailer: Arc<dyn Mailer>,
    opts: WorkerOptions,
}

const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Sent and failed rows are kept this long (for inspection), then deleted.
const KEEP_DAYS: i64 = 30;

impl Worker {
    async fn run(self, mut wake: watch::Receiver<u64>, mut stop: watch::Receiver<bool>) {
        let mut pruned: Option<Instant> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            let full = match self.round(&stop).await {
                Ok(n) => n as u64 >= self.opts.batch,
                Err(e) => {
                    tracing::warn!(error = %e, "mail outbox: database error; retrying");
                    false
                }
            };
            if pruned.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
                pruned = Some(Instant::now());
                if let Err(e) = outbox::prune(&self.db, chrono::Duration::days(KEEP_DAYS)).await {
                    tracing::warn!(error = %e, "mail outbox: pruning failed");
                }
                if let Err(e) = crate::domain::account_tokens::prune(&self.db, chrono::Duration::days(KEEP_DAYS)).await
                {
                    tracing::warn!(error = ?e, "account tokens: pruning failed");
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                r = stop.changed() => if r.is_err() { break },
                _ = wake.changed() => {},
                _ = tokio::time::sleep(self.opts.poll) => {},
            }
        }
    }

    /// One pass over the due rows; returns how many were due.
    async fn round(&self, stop: &watch::Receiver<bool>) -> Result<usize, sea_orm::DbErr> {
        let ids = outbox::due(&self.db, self.opts.batch).await?;
        let lease = chrono::Duration::from_std(self.opts.lease).unwrap_or(chrono::Duration::minutes(2));
        for id in &ids {
            if *stop.borrow() {
                break;
            }
            if let Some(r) = outbox::claim(&self.db, *id, lease).await? {
                self.deliver(r).await?;
            }
        }
        Ok(ids.len())
    }

    async fn deliver(&self, r: row::Model) -> Result<(), sea_orm::DbErr> {
        if r.attempts > self.opts.max_attempts as i32 {
            // The last attempt was interrupted (its worker died holding the lease).
            outbox::mark_failed(&self.db, &r, "no attempts left", None).await?;
            tracing::error!(id = r.id, to = %r.recipient, "mail given up: no attempts left");
            return Ok(());
        }
        let result = match build(&self.cfg, &self.keys.sealer, &r) {
            Ok(mail) => match tokio::time::timeout(self.opts.send_timeout, self.mailer.deliver(&mail)).await {
                Ok(res) => res,
                Err(_) => Err(MailError::transient("delivery timed out")),
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                if outbox::mark_sent(&self.db, &r).await? {
                    tracing::info!(id = r.id, to = %r.recipient, template = %r.template, "mail delivered");
                } else {
                    tracing::warn!(
                        id = r.id,
                        "mail delivered after its lease expired; it may be sent twice"
                    );
                }
            }
            Err(e) => {
                let retry = (!e.permanent && r.attempts < self.opts.max_attempts as i32).then(|| {
                    time::now() + chrono::Duration::from_std(self.opts.backoff(r.attempts)).unwrap_or_default()
                });
                outbox::mark_failed(&self.db, &r, &e.message, retry).await?;
                match retry {
                    Some(at) => {
                        tracing::warn!(id = r.id, to = %r.recipient, attempt = r.attempts, error = %e.message, retry_at = %at, "mail delivery failed; will retry")
                    }
                    None => {
                        tracing::error!(id = r.id, to = %r.recipient, attempt = r.attempts, error = %e.message, "mail delivery failed; given up")
                    }
                }
            }
        }
        Ok(())
    }
}

/// Renders an outbox row into a message. Errors here are permanent: retrying cannot fix them.
fn build(cfg: &Config, sealer: &Sealer, r: &row::Model) -> Result<Mail, MailError> {
    let template = template_of(r).ok_or_else(|| MailError::permanent(format!("unknown template {}", r.template)))?;
    let params: Params = outbox::open_params(sealer, r.params.as_deref().unwrap_or_default())
        .ok_or_else(|| MailError::permanent("unreadable params (sealed with another secret?)".to_string()))?;
    let rendered = render(template, &params, &cfg.external_url());
    let from: Mailbox = cfg
        .mail_from
        .parse()
        .map_err(|e| MailError::permanent(format!("sender {:?}: {e}", cfg.mail_from)))?;
    let to: Mailbox = r
        .recipient
        .parse()
        .map_err(|e| MailError::permanent(format!("recipient {:?}: {e}", r.recipient)))?;
    let message_id = format!("<{}@{}>", r.message_id, from.email.domain());
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(rendered.subject.clone())
        .message_id(Some(message_id.clone()))
        .date(r.created_at.into())
        .header(ContentType::TEXT_PLAIN)
        .body(body(rendered.body))
        .map_err(|e| MailError::permanent(format!("message: {e}")))?;
    Ok(Mail {
        outbox_id: r.id,
        recipient: r.recipient.clone(),
        subject: rendered.subject,
        message_id,
        created_at: r.created_at,
        message,
    })
}

/// Plain ASCII with lines under 998 octets is valid `7bit` (RFC 5321, RFC 2045), so links stay
/// readable in the raw message and the `.eml` files; lettre would pick quoted-printable past 76
/// characters, which breaks long links with `=` continuations. Anything else is left to lettre.
fn body(text: String) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    if crlf.is_ascii() && !crlf.contains('\0') && crlf.split("\r\n").all(|l| l.len() < 998) {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_bodies_stay_7bit_with_long_lines() {
        let link = format!(
            "https://ug.example/users/confirmation?confirmation_token={}",
            "a".repeat(60)
        );
        let b = body(format!("Hello\n\n{link}\n"));
        assert_eq!(b.encoding(), ContentTransferEncoding::SevenBit);
        assert_eq!(b.into_vec(), format!("Hello\r\n\r\n{link}\r\n").into_bytes());
        assert_ne!(body("Grüße\n".into()).encoding(), ContentTransferEncoding::SevenBit);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let o = WorkerOptions {
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            ..Default::default()
        };
        assert_eq!(o.backoff(1), Duration::from_secs(30));
        assert_eq!(o.backoff(2), Duration::from_secs(60));
        assert_eq!(o.backoff(4), Duration::from_secs(240));
        assert_eq!(o.backoff(20), Duration::from_secs(3600));
        assert_eq!(o.backoff(i32::MAX), Duration::from_secs(3600));
    }
}
