-- FALLBACK seeding for PostgreSQL, used by bench/run.sh only while `usergraph seed` does not
-- exist. usergraph has migrated the database and created root (id 1) before this runs.
-- Each of :users users gets a primary e-mail row, two secondary e-mails, one identity and two
-- SSH keys. Password hashes are placeholders: nobody signs in as these users.
-- psql -v users=10000 -f bench/seed-fallback.sql
BEGIN;

INSERT INTO users (username, username_canonical, email, name, state, password_hash, admin, bio, location,
                   created_at, updated_at, confirmed_at, last_sign_in_at, current_sign_in_at, last_activity_on)
SELECT 'user' || n, 'user' || n, 'user' || n || '@example.com', 'User ' || n, 'active', '!', false,
       'Bio of user ' || n, 'City ' || (n % 50),
       now() - n * interval '1 minute', now(), now(), now() - interval '1 day', now(), current_date
FROM generate_series(1, :users) AS n;

INSERT INTO emails (user_id, email, email_canonical, is_primary, confirmed_at, created_at)
SELECT id, email, email, true, now(), now() FROM users WHERE username <> 'root';

INSERT INTO emails (user_id, email, email_canonical, is_primary, confirmed_at, created_at)
SELECT u.id, u.username || '.alt' || k || '@example.org', u.username || '.alt' || k || '@example.org', false,
       now(), now()
FROM users u CROSS JOIN generate_series(1, 2) AS k
WHERE u.username <> 'root'
ORDER BY u.id, k;

INSERT INTO identities (user_id, provider, extern_uid, created_at)
SELECT id, 'github', 'gh-' || id, now() FROM users WHERE username <> 'root' ORDER BY id;

INSERT INTO ssh_keys (user_id, title, key, key_type, fingerprint_md5, fingerprint_sha256, created_at)
SELECT u.id, 'key ' || k,
       'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI' || md5(u.id || '-' || k) || ' ' || u.username || '@bench',
       'ssh-ed25519', md5(u.id || '-' || k), 'SHA256:' || md5(u.id || '-' || k) || md5(k || '-' || u.id), now()
FROM users u CROSS JOIN generate_series(1, 2) AS k
WHERE u.username <> 'root'
ORDER BY u.id, k;

COMMIT;
