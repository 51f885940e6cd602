//! Credentials and cryptography: reading a credential off a request (`extract`), JWTs, token
//! digests and sealing, password hashing, the server secret. What a credential means (the caller,
//! its scopes, sudo) is the domain's: see `domain::caller`.

pub mod extract;
pub mod jwt;
pub mod password;
pub mod secret;
pub mod token;

pub use secret::Keys;
