use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gpg_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    /// The armored public key block, as given (surrounding blanks trimmed).
    #[sea_orm(column_type = "Text")]
    pub key: String,
    /// The primary key's 64-bit key id, 16 upper-case hex digits.
    pub primary_keyid: String,
    /// The primary key's v4 fingerprint, 40 upper-case hex digits; carries the unique index.
    pub fingerprint: String,
    /// The e-mail addresses of the key's self-signed user ids, lower-cased, one a line.
    #[sea_orm(column_type = "Text")]
    pub emails: String,
    pub created_at: DateTimeUtc,
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
