use sea_orm_migration::prelude::*;

use crate::util::{pk, string, timestamp, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GpgKeys {
    Table,
    Id,
    UserId,
    Key,
    PrimaryKeyid,
    Fingerprint,
    Emails,
    CreatedAt,
}

/// Users' OpenPGP public keys (GitLab's GPG keys): the armored block as given, what was read
/// from it (the primary key's id and fingerprint, the e-mails of its user ids), one row a key.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(GpgKeys::Table)
                    .if_not_exists()
                    .col(pk(GpgKeys::Id))
                    .col(ColumnDef::new(GpgKeys::UserId).integer().not_null())
                    .col(ColumnDef::new(GpgKeys::Key).text().not_null())
                    .col(string(GpgKeys::PrimaryKeyid, 16))
                    .col(string(GpgKeys::Fingerprint, 40))
                    .col(ColumnDef::new(GpgKeys::Emails).text().not_null())
                    .col(timestamp(b, GpgKeys::CreatedAt).not_null())
                    .foreign_key(&mut user_fk(GpgKeys::Table, GpgKeys::UserId))
                    .to_owned(),
            )
            .await?;
        // A key is registered once, by whoever registered it first.
        manager
            .create_index(
                Index::create()
                    .name("ux_gpg_keys_fingerprint")
                    .table(GpgKeys::Table)
                    .col(GpgKeys::Fingerprint)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_gpg_keys_user_id")
                    .table(GpgKeys::Table)
                    .col(GpgKeys::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(GpgKeys::Table).to_owned()).await
    }
}
