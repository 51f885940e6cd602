use sea_orm_migration::prelude::*;

use crate::util::{string, timestamp, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserStatuses {
    Table,
    UserId,
    Emoji,
    Message,
    Availability,
    ClearStatusAt,
    UpdatedAt,
}

/// A user's status (today's GitLab): at most one a user, keyed by the user.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(UserStatuses::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(UserStatuses::UserId).integer().not_null().primary_key())
                    .col(string(UserStatuses::Emoji, 64))
                    .col(ColumnDef::new(UserStatuses::Message).string_len(100).null())
                    .col(string(UserStatuses::Availability, 16).default("not_set"))
                    .col(timestamp(b, UserStatuses::ClearStatusAt).null())
                    .col(timestamp(b, UserStatuses::UpdatedAt).not_null())
                    .foreign_key(&mut user_fk(UserStatuses::Table, UserStatuses::UserId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserStatuses::Table).to_owned())
            .await
    }
}
