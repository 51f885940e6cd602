//! Outgoing mail: the [`Mailer`] transports (SMTP through lettre, or `.eml` files in a folder),
//! the database outbox every mail goes through, the background worker that delivers it, the
//! templates, and the two pages the mailed links open.
//!
//! A change that sends mail writes an outbox row in its own transaction ([`outbox::enqueue`]) and
//! calls [`outbox::Wake::wake`] after the commit; the request never waits for delivery and never fails because
//! of it. The worker ([`MailWorker`]) delivers due rows with retries and backoff.

pub mod outbox;
pub mod templates;
pub mod web;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub use worker::{MailWorker, WorkerOptions};

use crate::config::{Config, redact_url};
use crate::state::AppState;

/// One message ready to hand over.
#[derive(Clone, Debug)]
pub struct Mail {
    pub outbox_id: i32,
    pub recipient: String,
    pub subject: String,
    /// The full `Message-ID` header value, `<local@domain>`.
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    pub message: lettre::Message,
}

/// Why a delivery failed; `permanent` ones (a 5xx answer, a malformed address) are not retried.
#[derive(Clone, Debug)]
pub struct MailError {
    pub message: String,
    pub permanent: bool,
}

impl MailError {
    pub fn transient(message: impl Into<String>) -> Self {
        MailError {
            message: message.into(),
            permanent: false,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        MailError {
            message: message.into(),
            permanent: true,
        }
    }
}

/// Where mail goes. `deliver` returns once the receiving side has taken the message.
pub trait Mailer: Send + Sync + 'static {
    fn deliver<'a>(&'a self, mail: &'a Mail) -> BoxFuture<'a, Result<(), MailError>>;
    /// For the log: where mail is going (no credentials).
    fn describe(&self) -> String;
}

/// A real SMTP client (lettre over tokio and rustls).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    shown: String,
}

/// How long one SMTP conversation may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

impl SmtpMailer {
    /// `smtp://[user:pass@]host[:port][?tls=required|opportunistic]` or `smtps://...`.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("USERGRAPH_SMTP_URL {}: {e}", redact_url(url)))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let plain = url.starts_with("smtp://") && !url.contains("tls=");
        if plain && redact_url(url) != url {
            tracing::warn!(
                "USERGRAPH_SMTP_URL sends the SMTP password unencrypted; add ?tls=required (STARTTLS) or use smtps://"
            );
        }
        Ok(SmtpMailer {
            transport,
            shown: redact_url(url),
        })
    }
}

impl Mailer for SmtpMailer {
    fn deliver<'a>(&'a self, mail: &'a Mail) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            match self.transport.send(mail.message.clone()).await {
                Ok(_) => Ok(()),
                Err(e) => Err(MailError {
                    permanent: e.is_permanent(),
                    message: format!("SMTP: {e}"),
                }),
            }
        })
    }

    fn describe(&self) -> String {
        format!("SMTP server {}", self.shown)
    }
}

/// Writes each message as an `.eml` file (RFC 5322, openable by any mail program). The file is
/// named after the outbox row, so a repeated delivery rewrites the same file.
pub struct DirMailer {
    dir: PathBuf,
}

impl DirMailer {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirMailer { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file_name(mail: &Mail) -> String {
        let local = mail
            .message_id
            .trim_start_matches('<')
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string();
        format!("{}-{local}.eml", mail.created_at.format("%Y%m%dT%H%M%SZ"))
    }
}

impl Mailer for DirMailer {
    fn deliver<'a>(&'a self, mail: &'a Mail) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let io = |e: std::io::Error| MailError::transient(format!("mail directory {}: {e}", self.dir.display()));
            tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
            let name = Self::file_name(mail);
            let path = self.dir.join(&name);
            let tmp = self.dir.join(format!(".{name}.tmp"));
            tokio::fs::write(&tmp, mail.message.formatted()).await.map_err(io)?;
            tokio::fs::rename(&tmp, &path).await.map_err(io)?;
            tracing::info!(path = %path.display(), to = %mail.recipient, subject = %mail.subject, "mail written");
            Ok(())
        })
    }

    fn describe(&self) -> String {
        format!("the folder {} (.eml files)", self.dir.display())
    }
}

/// The folder for `.eml` files: `USERGRAPH_MAIL_DIR`, or `<data dir>/mail`.
pub fn mail_dir(cfg: &Config) -> PathBuf {
    cfg.mail_dir.clone().unwrap_or_else(|| cfg.data_dir.join("mail"))
}

/// The mailer the configuration asks for: SMTP when `USERGRAPH_SMTP_URL` is set, else files.
pub fn mailer_for(cfg: &Config) -> anyhow::Result<Arc<dyn Mailer>> {
    cfg.mail_from
        .parse::<Mailbox>()
        .map_err(|e| anyhow::anyhow!("USERGRAPH_MAIL_FROM {:?}: {e}", cfg.mail_from))?;
    Ok(match cfg.smtp_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => Arc::new(SmtpMailer::from_url(url)?),
        None => {
            let dir = mail_dir(cfg);
            crate::files::private_dir(&dir)
                .map_err(|e| anyhow::anyhow!("cannot create the mail directory {}: {e}", dir.display()))?;
            Arc::new(DirMailer::new(dir))
        }
    })
}

/// Starts the mail worker with the configured mailer. `main` calls it; keep the handle and
/// [`MailWorker::shutdown`] it when the server stops.
pub fn start(state: &AppState) -> anyhow::Result<MailWorker> {
    let mailer = mailer_for(&state.cfg)?;
    if state.cfg.smtp_url.as_deref().is_none_or(|u| u.trim().is_empty()) {
        tracing::info!(
            "no USERGRAPH_SMTP_URL: outgoing mail is written to {}",
            mailer.describe()
        );
    } else {
        tracing::info!("outgoing mail goes to {}", mailer.describe());
    }
    Ok(MailWorker::spawn(
        state.mail.subscribe(),
        state.db.clone(),
        state.cfg.clone(),
        state.keys.clone(),
        mailer,
        WorkerOptions::from_config(&state.cfg),
    ))
}
