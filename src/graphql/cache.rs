//! Parsed-document cache and Automatic Persisted Queries.
//!
//! Parsing is most of the cost of a small request, so parsed documents are kept per query text
//! and handed to the executor. APQ (`extensions.persistedQuery.sha256Hash`) lets a client send a
//! hash instead of the text once the server has seen the text. Both are per process and may be
//! lost at any time: a client whose hash is unknown sends the text again.
//!
//! Both caches are bounded by bytes, not entries, and keep only what passed the document
//! limits: a document refused, or larger than [`MAX_CACHED_TEXT`], is never kept, so anonymous
//! clients cannot grow the process by sending large or refused documents.

use std::hash::Hash;
use std::sync::Mutex;

use async_graphql::Value;
use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Texts longer than this are parsed each time (they are rare, and each would take a large share
/// of the budget).
pub const MAX_CACHED_TEXT: usize = 64 * 1024;
/// What a parsed document is taken to occupy per byte of its text (measured at 6-11 for the
/// documents of the tests and the benchmark), and per entry.
const DOC_BYTES_PER_TEXT_BYTE: usize = 12;
const ENTRY_OVERHEAD: usize = 256;

/// An LRU map bounded by the bytes its entries are said to occupy.
struct ByteLru<K: Hash + Eq, V> {
    map: LruCache<K, (V, usize)>,
    bytes: usize,
    budget: usize,
}

impl<K: Hash + Eq, V> ByteLru<K, V> {
    fn new(budget: usize) -> Self {
        ByteLru {
            map: LruCache::unbounded(),
            bytes: 0,
            budget,
        }
    }

    fn get(&mut self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(v, _)| v)
    }

    fn put(&mut self, k: K, v: V, cost: usize) {
        if cost > self.budget {
            return;
        }
        if let Some((_, old)) = self.map.put(k, (v, cost)) {
            self.bytes -= old;
        }
        self.bytes += cost;
        while self.bytes > self.budget {
            match self.map.pop_lru() {
                Some((_, (_, c))) => self.bytes -= c,
                None => break,
            }
        }
    }
}

pub struct QueryCache {
    docs: Mutex<ByteLru<String, ExecutableDocument>>,
    persisted: Mutex<ByteLru<String, String>>,
    /// Large documents parsed at the same time, at most (one per core): each parse holds its
    /// document's tree in memory, so a burst of them waits instead of piling up.
    pub parse_slots: tokio::sync::Semaphore,
}

impl QueryCache {
    /// A cache of at most `budget` bytes of parsed documents (and as much again of persisted
    /// query texts).
    pub fn new(budget: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        QueryCache {
            docs: Mutex::new(ByteLru::new(budget)),
            persisted: Mutex::new(ByteLru::new(budget)),
            parse_slots: tokio::sync::Semaphore::new(cores),
        }
    }

    /// The parsed document of `query`, when it is cached.
    pub fn get(&self, query: &str) -> Option<ExecutableDocument> {
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        // Looked up by &str through the owned key type without allocating: LruCache's `get`
        // takes any borrowed form of the key.
        docs.map.get(query).map(|(d, _)| d.clone())
    }

    /// Keeps the parsed document of a query that passed the limits.
    pub fn insert(&self, query: &str, doc: &ExecutableDocument) {
        if query.len() > MAX_CACHED_TEXT {
            return;
        }
        let cost = query.len() * DOC_BYTES_PER_TEXT_BYTE + ENTRY_OVERHEAD;
        self.docs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(query.to_string(), doc.clone(), cost);
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
            if req.query.len() <= MAX_CACHED_TEXT {
                let cost = req.query.len() + hash.len() + ENTRY_OVERHEAD;
                self.persisted
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .put(hash, req.query.clone(), cost);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_bytes() {
        let mut c = ByteLru::new(100);
        c.put("a", 1, 40);
        c.put("b", 2, 40);
        c.put("c", 3, 40);
        assert_eq!(c.get(&"a"), None, "the least recently used entry made room");
        assert_eq!(
            (c.get(&"b").copied(), c.get(&"c").copied(), c.bytes),
            (Some(2), Some(3), 80)
        );
        c.put("huge", 4, 101);
        assert_eq!(
            (c.get(&"huge").copied(), c.bytes),
            (None, 80),
            "larger than the whole budget: not kept"
        );
        c.put("b", 5, 10);
        assert_eq!(
            (c.get(&"b").copied(), c.bytes),
            (Some(5), 50),
            "a replaced entry gives its bytes back"
        );
    }
}
