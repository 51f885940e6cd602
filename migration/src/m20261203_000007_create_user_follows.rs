use sea_orm_migration::prelude::*;

use crate::util::{timestamp, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserFollows {
    Table,
    FollowerId,
    FolloweeId,
    CreatedAt,
}

/// Who follows whom: one row a pair, gone with either user.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(UserFollows::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(UserFollows::FollowerId).integer().not_null())
                    .col(ColumnDef::new(UserFollows::FolloweeId).integer().not_null())
                    .col(timestamp(b, UserFollows::CreatedAt).not_null())
                    .primary_key(
                        Index::create()
                            .col(UserFollows::FollowerId)
                            .col(UserFollows::FolloweeId),
                    )
                    .foreign_key(&mut user_fk(UserFollows::Table, UserFollows::FollowerId))
                    .foreign_key(&mut user_fk(UserFollows::Table, UserFollows::FolloweeId))
                    .to_owned(),
            )
            .await?;
        // A user's followers are read by the followee.
        manager
            .create_index(
                Index::create()
                    .name("ix_user_follows_followee_follower")
                    .table(UserFollows::Table)
                    .col(UserFollows::FolloweeId)
                    .col(UserFollows::FollowerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserFollows::Table).to_owned())
            .await
    }
}
