use sea_orm_migration::prelude::*;

use crate::util::{pk, string, timestamp, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    AuthorId,
    Action,
    TargetType,
    TargetId,
    TargetTitle,
    ProjectId,
    Title,
    Data,
    Note,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .if_not_exists()
                    .col(pk(Events::Id))
                    .col(ColumnDef::new(Events::AuthorId).integer().not_null())
                    .col(string(Events::Action, 32))
                    .col(ColumnDef::new(Events::TargetType).string_len(64).null())
                    .col(ColumnDef::new(Events::TargetId).integer().null())
                    .col(ColumnDef::new(Events::TargetTitle).string_len(255).null())
                    .col(ColumnDef::new(Events::ProjectId).integer().null())
                    .col(ColumnDef::new(Events::Title).string_len(255).null())
                    .col(ColumnDef::new(Events::Data).json_binary().null())
                    .col(ColumnDef::new(Events::Note).json_binary().null())
                    .col(timestamp(b, Events::CreatedAt).not_null())
                    .foreign_key(&mut user_fk(Events::Table, Events::AuthorId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_author_created")
                    .table(Events::Table)
                    .col(Events::AuthorId)
                    .col(Events::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Events::Table).to_owned()).await
    }
}
