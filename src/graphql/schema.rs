//! The schema: its roots, its limits, its SDL. No data and no I/O.

use async_graphql::{SDLExportOptions, Schema, SchemaBuilder};

use super::mutation::Mutation;
use super::query::Query;
use super::subscription::Subscription;
use crate::config::Config;

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema with its limits, without data and without I/O. (The depth limit is checked by the
/// handler, which leaves introspection out of it.)
pub fn schema_builder(cfg: &Config) -> SchemaBuilder<Query, Mutation, Subscription> {
    let mut b = Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_complexity(cfg.max_complexity)
        .limit_recursive_depth(32);
    if !cfg.introspection {
        b = b.disable_introspection();
    }
    b
}

/// The SDL as committed in `schema.graphql`.
pub fn sdl() -> String {
    let schema = schema_builder(&Config::for_database("sqlite::memory:")).finish();
    schema.sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}
