use sea_orm_migration::prelude::*;

use crate::util::{pk, string, timestamp, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SshKeys {
    Table,
    Id,
    UserId,
    Title,
    Key,
    KeyType,
    FingerprintMd5,
    FingerprintSha256,
    ExpiresAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(SshKeys::Table)
                    .if_not_exists()
                    .col(pk(SshKeys::Id))
                    .col(ColumnDef::new(SshKeys::UserId).integer().not_null())
                    .col(string(SshKeys::Title, 255))
                    .col(ColumnDef::new(SshKeys::Key).text().not_null())
                    .col(string(SshKeys::KeyType, 64))
                    .col(string(SshKeys::FingerprintMd5, 64))
                    .col(string(SshKeys::FingerprintSha256, 128))
                    .col(timestamp(b, SshKeys::ExpiresAt).null())
                    .col(timestamp(b, SshKeys::CreatedAt).not_null())
                    .foreign_key(&mut user_fk(SshKeys::Table, SshKeys::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_ssh_keys_fingerprint_sha256")
                    .table(SshKeys::Table)
                    .col(SshKeys::FingerprintSha256)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_ssh_keys_user_id")
                    .table(SshKeys::Table)
                    .col(SshKeys::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SshKeys::Table).to_owned()).await
    }
}
