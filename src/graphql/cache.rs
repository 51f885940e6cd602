//! Parsed-document cache and Automatic Persisted Queries.
//!
//! Parsing is most of the cost of a small request, so parsed documents are kept per query text
//! (bounded LRU) and handed to the executor. APQ (`extensions.persistedQuery.sha256Hash`) lets a
//! client send a hash instead of the text once the server has seen the text. Both are per
//! process and may be lost at any time: a client whose hash is unknown sends the text again.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use async_graphql::Value;
use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::error::AppError;

pub struct QueryCache {
    docs: Mutex<LruCache<String, ExecutableDocument>>,
    persisted: Mutex<LruCache<String, String>>,
}

impl QueryCache {
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN);
        QueryCache {
            docs: Mutex::new(LruCache::new(cap)),
            persisted: Mutex::new(LruCache::new(cap)),
        }
    }

    /// The parsed document of `query`, from the cache or freshly parsed; `None` on a syntax error
    /// (the executor then reports it).
    pub fn parse(&self, query: &str) -> Option<ExecutableDocument> {
        if let Some(doc) = self.docs.lock().unwrap_or_else(|e| e.into_inner()).get(query) {
            return Some(doc.clone());
        }
        let doc = async_graphql::parser::parse_query(query).ok()?;
        self.docs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(query.to_string(), doc.clone());
        Some(doc)
    }

    /// Applies APQ to a request: fills in the text of a known hash, or remembers a new one after
    /// checking that the hash is the text's.
    pub fn resolve_persisted(&self, req: &mut async_graphql::Request) -> Result<(), AppError> {
        let Some(Value::Object(pq)) = req.extensions.0.get("persistedQuery") else {
            return Ok(());
        };
        let Some(Value::String(hash)) = pq.get("sha256Hash") else {
            return Err(AppError::BadParams("persistedQuery needs a sha256Hash".into()));
        };
        let hash = hash.to_ascii_lowercase();
        if req.query.is_empty() {
            let known = self
                .persisted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&hash)
                .cloned();
            match known {
                Some(q) => req.query = q,
                None => return Err(AppError::PersistedQueryNotFound),
            }
        } else {
            if hex::encode(Sha256::digest(req.query.as_bytes())) != hash {
                return Err(AppError::BadParams(
                    "provided sha256Hash does not match the query".into(),
                ));
            }
            self.persisted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .put(hash, req.query.clone());
        }
        Ok(())
    }
}
