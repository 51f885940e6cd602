use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Description,
    PreviousTokenId,
}

/// A token's description, and the token it was rotated from (its family, for reuse detection).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Tokens::Table)
                    .add_column(ColumnDef::new(Tokens::Description).string_len(255).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tokens::Table)
                    .add_column(ColumnDef::new(Tokens::PreviousTokenId).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tokens_previous_token_id")
                    .table(Tokens::Table)
                    .col(Tokens::PreviousTokenId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_tokens_previous_token_id")
                    .table(Tokens::Table)
                    .to_owned(),
            )
            .await?;
        for col in [Tokens::PreviousTokenId, Tokens::Description] {
            manager
                .alter_table(Table::alter().table(Tokens::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
