use sea_orm_migration::prelude::*;

use crate::util::{pk, string, timestamp, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Emails {
    Table,
    Id,
    UserId,
    Email,
    EmailCanonical,
    IsPrimary,
    ConfirmedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Emails::Table)
                    .if_not_exists()
                    .col(pk(Emails::Id))
                    .col(ColumnDef::new(Emails::UserId).integer().not_null())
                    .col(string(Emails::Email, 255))
                    .col(string(Emails::EmailCanonical, 255))
                    .col(ColumnDef::new(Emails::IsPrimary).boolean().not_null().default(false))
                    .col(timestamp(b, Emails::ConfirmedAt).null())
                    .col(timestamp(b, Emails::CreatedAt).not_null())
                    .foreign_key(&mut user_fk(Emails::Table, Emails::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_emails_email_canonical")
                    .table(Emails::Table)
                    .col(Emails::EmailCanonical)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_emails_user_id")
                    .table(Emails::Table)
                    .col(Emails::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Emails::Table).to_owned()).await
    }
}
