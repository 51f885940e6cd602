//! Mail: the outbox that queues every outgoing message in the database (written in the same
//! transaction as the change that causes it), and the single-use account tokens (password reset,
//! e-mail confirmation) those messages carry, stored only as digests.

use sea_orm_migration::prelude::*;

use crate::util::{pk, string, timestamp, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    Recipient,
    Template,
    Params,
    MessageId,
    State,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    Id,
    UserId,
    Kind,
    TokenDigest,
    Email,
    EmailId,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .if_not_exists()
                    .col(pk(MailOutbox::Id))
                    .col(string(MailOutbox::Recipient, 255))
                    .col(string(MailOutbox::Template, 32))
                    .col(ColumnDef::new(MailOutbox::Params).text().null())
                    .col(string(MailOutbox::MessageId, 64))
                    .col(string(MailOutbox::State, 16))
                    .col(ColumnDef::new(MailOutbox::Attempts).integer().not_null().default(0))
                    .col(timestamp(b, MailOutbox::NextAttemptAt).not_null())
                    .col(timestamp(b, MailOutbox::LockedUntil).null())
                    .col(ColumnDef::new(MailOutbox::LastError).text().null())
                    .col(timestamp(b, MailOutbox::CreatedAt).not_null())
                    .col(timestamp(b, MailOutbox::SentAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_mail_outbox_state_next")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::State)
                    .col(MailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .if_not_exists()
                    .col(pk(AccountTokens::Id))
                    .col(ColumnDef::new(AccountTokens::UserId).integer().not_null())
                    .col(string(AccountTokens::Kind, 16))
                    .col(string(AccountTokens::TokenDigest, 64))
                    .col(string(AccountTokens::Email, 255))
                    .col(ColumnDef::new(AccountTokens::EmailId).integer().null())
                    .col(timestamp(b, AccountTokens::ExpiresAt).not_null())
                    .col(timestamp(b, AccountTokens::UsedAt).null())
                    .col(timestamp(b, AccountTokens::CreatedAt).not_null())
                    .foreign_key(&mut user_fk(AccountTokens::Table, AccountTokens::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_account_tokens_token_digest")
                    .table(AccountTokens::Table)
                    .col(AccountTokens::TokenDigest)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_account_tokens_user_kind")
                    .table(AccountTokens::Table)
                    .col(AccountTokens::UserId)
                    .col(AccountTokens::Kind)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccountTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await
    }
}
