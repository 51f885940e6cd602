pub mod account;
pub mod change;
pub mod event;
pub mod gpg_key;
pub mod user;
