use sea_orm_migration::prelude::*;

use crate::util::{pk, string, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Username,
    UsernameCanonical,
    Email,
    Name,
    State,
    PasswordHash,
    Admin,
    Bio,
    Location,
    Skype,
    Linkedin,
    Twitter,
    WebsiteUrl,
    Organization,
    ProjectsLimit,
    CanCreateGroup,
    External,
    TwoFactorEnabled,
    ColorSchemeId,
    AuthEpoch,
    FailedAttempts,
    LockedUntil,
    PasswordExpiresAt,
    CreatedAt,
    UpdatedAt,
    ConfirmedAt,
    LastSignInAt,
    CurrentSignInAt,
    LastActivityOn,
    CreatedById,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let b = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(pk(Users::Id))
                    .col(string(Users::Username, 255))
                    .col(string(Users::UsernameCanonical, 255))
                    .col(string(Users::Email, 255))
                    .col(string(Users::Name, 255))
                    .col(string(Users::State, 32).default("active"))
                    .col(ColumnDef::new(Users::PasswordHash).text().not_null())
                    .col(ColumnDef::new(Users::Admin).boolean().not_null().default(false))
                    .col(ColumnDef::new(Users::Bio).string_len(255).null())
                    .col(ColumnDef::new(Users::Location).string_len(255).null())
                    .col(string(Users::Skype, 255).default(""))
                    .col(string(Users::Linkedin, 255).default(""))
                    .col(string(Users::Twitter, 255).default(""))
                    .col(string(Users::WebsiteUrl, 255).default(""))
                    .col(string(Users::Organization, 255).default(""))
                    .col(ColumnDef::new(Users::ProjectsLimit).integer().not_null().default(100))
                    .col(ColumnDef::new(Users::CanCreateGroup).boolean().not_null().default(true))
                    .col(ColumnDef::new(Users::External).boolean().not_null().default(false))
                    .col(
                        ColumnDef::new(Users::TwoFactorEnabled)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Users::ColorSchemeId).integer().not_null().default(1))
                    .col(ColumnDef::new(Users::AuthEpoch).integer().not_null().default(0))
                    .col(ColumnDef::new(Users::FailedAttempts).integer().not_null().default(0))
                    .col(timestamp(b, Users::LockedUntil).null())
                    .col(timestamp(b, Users::PasswordExpiresAt).null())
                    .col(timestamp(b, Users::CreatedAt).not_null())
                    .col(timestamp(b, Users::UpdatedAt).not_null())
                    .col(timestamp(b, Users::ConfirmedAt).null())
                    .col(timestamp(b, Users::LastSignInAt).null())
                    .col(timestamp(b, Users::CurrentSignInAt).null())
                    .col(ColumnDef::new(Users::LastActivityOn).date().null())
                    .col(ColumnDef::new(Users::CreatedById).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_users_username_canonical")
                    .table(Users::Table)
                    .col(Users::UsernameCanonical)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_users_last_activity_on", Users::LastActivityOn),
            ("ix_users_state", Users::State),
        ] {
            manager
                .create_index(Index::create().name(name).table(Users::Table).col(col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await
    }
}
