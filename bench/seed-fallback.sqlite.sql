-- FALLBACK seeding for SQLite, the same rows as seed-fallback.sql; used by bench/run.sh only
-- while `usergraph seed` does not exist. run.sh replaces :users by the count of users.
-- Timestamps are written as SeaORM writes them on SQLite (RFC 3339 text).
BEGIN;

CREATE TEMP TABLE seq AS
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :users) SELECT n FROM s;

INSERT INTO users (username, username_canonical, email, name, state, password_hash, admin, bio, location,
                   created_at, updated_at, confirmed_at, last_sign_in_at, current_sign_in_at, last_activity_on)
SELECT 'user' || n, 'user' || n, 'user' || n || '@example.com', 'User ' || n, 'active', '!', 0,
       'Bio of user ' || n, 'City ' || (n % 50),
       strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-' || n || ' minutes'),
       strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'),
       strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-1 day'), strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'),
       date('now')
FROM seq ORDER BY n;

INSERT INTO emails (user_id, email, email_canonical, is_primary, confirmed_at, created_at)
SELECT id, email, email, 1, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')
FROM users WHERE username <> 'root';

INSERT INTO emails (user_id, email, email_canonical, is_primary, confirmed_at, created_at)
SELECT u.id, u.username || '.alt' || k.n || '@example.org', u.username || '.alt' || k.n || '@example.org', 0,
       strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')
FROM users u CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2) k
WHERE u.username <> 'root'
ORDER BY u.id, k.n;

INSERT INTO identities (user_id, provider, extern_uid, created_at)
SELECT id, 'github', 'gh-' || id, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') FROM users WHERE username <> 'root'
ORDER BY id;

INSERT INTO ssh_keys (user_id, title, key, key_type, fingerprint_md5, fingerprint_sha256, created_at)
SELECT u.id, 'key ' || k.n,
       'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI' || hex(randomblob(16)) || ' ' || u.username || '@bench',
       'ssh-ed25519', lower(hex(randomblob(16))), 'SHA256:' || hex(randomblob(32)),
       strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')
FROM users u CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2) k
WHERE u.username <> 'root'
ORDER BY u.id, k.n;

COMMIT;
