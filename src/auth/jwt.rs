//! JWTs issued by `signIn`: HS256 only, `exp` required, zero leeway, user id as `sub`, and the
//! user's `auth_epoch` as `ver` so a password change or a block invalidates every earlier JWT.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub ver: i32,
}

#[derive(Clone)]
pub struct JwtKeys {
    enc: EncodingKey,
    dec: DecodingKey,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(<redacted>)")
    }
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> anyhow::Result<Self> {
        Ok(JwtKeys {
            enc: EncodingKey::from_secret(secret)?,
            dec: DecodingKey::from_secret(secret)?,
        })
    }

    pub fn issue(&self, user_id: i32, epoch: i32, ttl_secs: i64) -> anyhow::Result<(String, i64)> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + ttl_secs,
            ver: epoch,
        };
        Ok((
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.enc)?,
            claims.exp,
        ))
    }

    /// The claims of a valid, unexpired token; None otherwise.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.dec, &v)
            .ok()
            .map(|d| d.claims)
    }
}

/// True when a presented credential looks like a JWT rather than an opaque token.
pub fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.bytes().filter(|b| *b == b'.').count() == 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let k = JwtKeys::new(b"0123456789abcdef0123456789abcdef").unwrap();
        let (t, _) = k.issue(7, 3, 60).unwrap();
        assert!(looks_like_jwt(&t));
        let c = k.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.ver), ("7", 3));
        let other = JwtKeys::new(b"another-secret-another-secret-xx").unwrap();
        assert!(other.verify(&t).is_none());
        let (expired, _) = k.issue(7, 3, -5).unwrap();
        assert!(k.verify(&expired).is_none());
    }
}
