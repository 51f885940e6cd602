//! SeaORM entities of usergraph: table models and relations only. No rules and no API shapes live
//! here; the `usergraph` crate's `domain` module owns every rule and the fronts own every shape.

pub mod account_token;
pub mod custom_attribute;
pub mod email;
pub mod event;
pub mod gpg_key;
pub mod identity;
pub mod outbox;
pub mod prelude;
pub mod ssh_key;
pub mod token;
pub mod user;
pub mod user_follow;
pub mod user_status;
