use sea_orm_migration::prelude::*;

use crate::util::{pk, string, timestamp, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
    UserId,
    Kind,
    Name,
    TokenDigest,
    TokenEncrypted,
    Scopes,
    ExpiresAt,
    Revoked,
    LastUsedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Tokens::Table)
                    .if_not_exists()
                    .col(pk(Tokens::Id))
                    .col(ColumnDef::new(Tokens::UserId).integer().not_null())
                    .col(string(Tokens::Kind, 16))
                    .col(string(Tokens::Name, 255))
                    .col(string(Tokens::TokenDigest, 64))
                    .col(ColumnDef::new(Tokens::TokenEncrypted).text().null())
                    .col(string(Tokens::Scopes, 255))
                    .col(ColumnDef::new(Tokens::ExpiresAt).date().null())
                    .col(ColumnDef::new(Tokens::Revoked).boolean().not_null().default(false))
                    .col(timestamp(b, Tokens::LastUsedAt).null())
                    .col(timestamp(b, Tokens::CreatedAt).not_null())
                    .foreign_key(&mut user_fk(Tokens::Table, Tokens::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_tokens_token_digest")
                    .table(Tokens::Table)
                    .col(Tokens::TokenDigest)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tokens_user_kind")
                    .table(Tokens::Table)
                    .col(Tokens::UserId)
                    .col(Tokens::Kind)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Tokens::Table).to_owned()).await
    }
}
