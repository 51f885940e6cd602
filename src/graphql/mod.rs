//! The GraphQL front: schema, resolvers and the axum handler. Resolvers translate to domain
//! calls; they never query the database or decide permissions themselves (loaders aside).

pub mod account;
pub mod cache;
pub mod connection;
pub mod context;
pub mod declared;
pub mod driver;
pub mod fast;
pub mod guards;
pub mod handler;
pub mod inputs;
pub mod limits;
pub mod loaders;
pub mod mail;
pub mod mutation;
pub mod playground;
pub mod query;
pub mod scalars;
pub mod schema;
pub mod subscription;
pub mod types;
pub mod ws;
