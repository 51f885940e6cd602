use sea_orm_migration::prelude::*;

use crate::util::string;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Discord,
    JobTitle,
    Pronouns,
    ThemeId,
    CommitEmail,
}

/// Today's GitLab profile fields: Discord id, job title, pronouns, UI theme, and the address
/// commits are made with.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            string(Users::Discord, 500).default("").to_owned(),
            string(Users::JobTitle, 200).default("").to_owned(),
            ColumnDef::new(Users::Pronouns).string_len(50).null().to_owned(),
            ColumnDef::new(Users::ThemeId)
                .integer()
                .not_null()
                .default(1)
                .to_owned(),
            ColumnDef::new(Users::CommitEmail).string_len(255).null().to_owned(),
        ];
        // One column a statement: SQLite alters one thing at a time.
        for mut col in columns {
            manager
                .alter_table(Table::alter().table(Users::Table).add_column(&mut col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            Users::CommitEmail,
            Users::ThemeId,
            Users::Pronouns,
            Users::JobTitle,
            Users::Discord,
        ] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
