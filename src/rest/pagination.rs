//! GitLab's pagination headers.

/// Headers a browser client may read (CORS), as GitLab exposes them.
pub const EXPOSED_HEADERS: [&str; 8] = [
    "x-total",
    "x-total-pages",
    "x-per-page",
    "x-page",
    "x-next-page",
    "x-prev-page",
    "link",
    "x-request-id",
];
