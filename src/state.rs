//! What every request shares: the database pool, the derived keys, the configuration, the
//! change bus and the mail signal.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::Keys;
use crate::config::Config;
use crate::domain::changes::ChangeBus;
use crate::domain::limits::SignInLimiter;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub keys: Arc<Keys>,
    pub cfg: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// Where the domain tells subscribers what changed (on PostgreSQL, across instances).
    pub changes: ChangeBus,
    /// Wakes the mail workers after a change queued mail.
    pub mail: crate::mail::outbox::Wake,
    /// The per-address and per-login limits of signing in.
    pub signin: Arc<SignInLimiter>,
}
