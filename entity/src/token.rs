use sea_orm::entity::prelude::*;

/// Personal, impersonation and legacy private tokens. A usable token is never stored: look-up is
/// by `token_digest`; `token_encrypted` (AEAD, keyed by the server secret) is kept only for the
/// kinds whose value the API shows again.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    /// `personal` | `impersonation` | `legacy`.
    pub kind: String,
    pub name: String,
    pub token_digest: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub token_encrypted: Option<String>,
    /// Space-separated scope names.
    pub scopes: String,
    pub expires_at: Option<Date>,
    pub revoked: bool,
    pub last_used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub description: Option<String>,
    /// The token this one was rotated from: a rotated token's successors are its family.
    pub previous_token_id: Option<i32>,
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
