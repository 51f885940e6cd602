use sea_orm::entity::prelude::*;

/// Single-use tokens mailed to a user: `reset_password` and `confirmation`. Only the SHA-256
/// digest of a token is stored; `email` is the address it was sent to (and, for confirmations,
/// `email_id` the address row it confirms).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    /// `reset_password` | `confirmation`.
    pub kind: String,
    pub token_digest: String,
    pub email: String,
    pub email_id: Option<i32>,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The user's `auth_epoch` when the token was issued: a password change or a block since
    /// (either bumps the epoch) makes the token invalid.
    pub auth_epoch: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
