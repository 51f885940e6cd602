use sea_orm::entity::prelude::*;

/// Outgoing mail, queued in the same transaction as the change that causes it and delivered by
/// the mail worker. `state`: `pending` (due at `next_attempt_at`), `sending` (claimed by a worker
/// until `locked_until`), `sent`, or `failed` (gave up after the last attempt or a permanent
/// error). `params` (the template's values, secrets included, sealed with the server secret) is
/// cleared once the row is final. `user_id` is the user the mail is about (its mail not sent yet
/// is cancelled when the user is deleted).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: Option<i32>,
    pub recipient: String,
    /// Which message: `account_created` | `reset_password` | `confirm_email`.
    pub template: String,
    /// JSON object of the template's values.
    #[sea_orm(column_type = "Text", nullable)]
    pub params: Option<String>,
    /// Local part of the `Message-ID`, the same on every attempt so receivers can drop repeats.
    pub message_id: String,
    pub state: String,
    /// Attempts started so far; also the fencing value of the current claim.
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
