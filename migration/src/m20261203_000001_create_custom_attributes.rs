use sea_orm_migration::prelude::*;

use crate::util::{pk, string, timestamp, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserCustomAttributes {
    Table,
    Id,
    UserId,
    Key,
    Value,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(UserCustomAttributes::Table)
                    .if_not_exists()
                    .col(pk(UserCustomAttributes::Id))
                    .col(ColumnDef::new(UserCustomAttributes::UserId).integer().not_null())
                    .col(string(UserCustomAttributes::Key, 191))
                    .col(string(UserCustomAttributes::Value, 255))
                    .col(timestamp(b, UserCustomAttributes::CreatedAt).not_null())
                    .col(timestamp(b, UserCustomAttributes::UpdatedAt).not_null())
                    .foreign_key(&mut user_fk(UserCustomAttributes::Table, UserCustomAttributes::UserId))
                    .to_owned(),
            )
            .await?;
        // One value a key and user; the filter `custom_attributes[key]=value` reads by key first.
        manager
            .create_index(
                Index::create()
                    .name("ux_user_custom_attributes_user_key")
                    .table(UserCustomAttributes::Table)
                    .col(UserCustomAttributes::UserId)
                    .col(UserCustomAttributes::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_custom_attributes_key_value")
                    .table(UserCustomAttributes::Table)
                    .col(UserCustomAttributes::Key)
                    .col(UserCustomAttributes::Value)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserCustomAttributes::Table).to_owned())
            .await
    }
}
