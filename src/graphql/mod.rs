//! The GraphQL front: schema, resolvers and the axum handler. Resolvers translate to domain
//! calls; they never query the database or decide permissions themselves (loaders aside).

pub mod account;
pub mod cache;
pub mod connection;
pub mod context;
pub mod driver;
pub mod fast;
pub mod guards;
pub mod handler;
pub mod limits;
pub mod loaders;
pub mod mail;
pub mod mutation;
pub mod query;
pub mod scalars;
pub mod subscription;
pub mod types;
pub mod ws;

use async_graphql::{SDLExportOptions, Schema, SchemaBuilder};

use crate::config::Config;
pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

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
