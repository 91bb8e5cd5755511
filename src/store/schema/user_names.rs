//! Migration 10: user names stored without their organization's domain, a code step with
//! each backend's SQL (SQLite rebuilds `users`, PostgreSQL alters it in place).

use anyhow::{Result, bail};

use crate::store::sql::{Conn, OptionalExtension, params};

/// Migration 10 (issue 14, storage footprint, continued): a million imported accounts still
/// took 2.1 times the space of the same rows loaded raw, and a fifth of an account was its
/// user name `<local>@<organization domain>`, stored whole in the row and again in its
/// unique index. An account's user name is always in its organization's domain (`users
/// add` and `users import` make it so; no command changes a domain), so the row keeps only
/// what precedes the domain, `<local>@` (the `@` kept, so that the stored names of an
/// organization sort as its whole user names do), and the store appends the domain when it
/// reads one. Uniqueness becomes per organization (`users_name`); organizations that share a
/// domain (`init --domain` allows it) are kept apart by the store's lookup by domain, under
/// the write lock every command takes. An account whose user name is not in its
/// organization's domain (only a hand-edited database has one) stops the migration with a
/// clear error, the database unchanged.
pub(super) fn user_names_without_domain(conn: &Conn) -> Result<()> {
    let check = match conn {
        Conn::Lite(_) => USER_NAME_OUTSIDE_DOMAIN_SQLITE,
        Conn::Pg(_) => USER_NAME_OUTSIDE_DOMAIN_PG,
    };
    let outside: Option<(i64, String, String)> = conn
        .query_row(check, params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if let Some((id, username, domain)) = outside {
        bail!(
            "account {id}'s user name {username:?} is not in its organization's domain \
             {domain:?}: the database was edited by hand; set that user name to \
             `<local part>@{domain}` with the previous competency binary, then run this one again"
        );
    }
    match conn {
        Conn::Lite(c) => c.execute_batch(USER_NAMES_SQLITE)?,
        Conn::Pg(p) => p.batch_raw(USER_NAMES_PG)?,
    }
    Ok(())
}

/// The first account (if any) whose user name is not `<local>@<its organization's domain>`
/// with one `@`: migration 10 cannot store it without the domain.
const USER_NAME_OUTSIDE_DOMAIN_SQLITE: &str = "SELECT u.id, u.username, o.domain
    FROM users u JOIN orgs o ON o.id = u.org_id
    WHERE u.username IS NOT substr(u.username, 1, instr(u.username, '@')) || o.domain
       OR instr(u.username, '@') < 2
    ORDER BY u.id LIMIT 1";

/// [`USER_NAME_OUTSIDE_DOMAIN_SQLITE`] in PostgreSQL's words.
const USER_NAME_OUTSIDE_DOMAIN_PG: &str = "SELECT u.id, u.username, o.domain
    FROM users u JOIN orgs o ON o.id = u.org_id
    WHERE u.username IS DISTINCT FROM substr(u.username, 1, strpos(u.username, '@')) || o.domain
       OR strpos(u.username, '@') < 2
    ORDER BY u.id LIMIT 1";

/// Migration 10 on SQLite: the inline UNIQUE of `username` cannot be dropped in place, so
/// `users` is rebuilt (same columns, order and ids; the migration runs with foreign keys
/// off, and checks them before it commits) and its indexes built once, sorted.
const USER_NAMES_SQLITE: &str = r#"
CREATE TABLE users_v10 (
    id                  INTEGER PRIMARY KEY,
    org_id              INTEGER NOT NULL REFERENCES orgs(id),
    -- The user name without its organization's domain: `<local>@`, one `@`, at the end.
    username            TEXT NOT NULL
                        CHECK (instr(username, '@') = length(username) AND length(username) > 1),
    name                TEXT NOT NULL,
    email               TEXT NOT NULL,
    roles               TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('active', 'removed')),
    created_at          INTEGER NOT NULL,
    removed_at          INTEGER,
    removal_reason      TEXT,
    password_temporary  INTEGER NOT NULL CHECK (password_temporary IN (0, 1)),
    password_expires_at INTEGER,
    self_service_reset  INTEGER NOT NULL DEFAULT 0 CHECK (self_service_reset IN (0, 1)),
    password_hash       BLOB NOT NULL DEFAULT x'',
    recovery_hash       BLOB
) STRICT;
INSERT INTO users_v10 (id, org_id, username, name, email, roles, status, created_at,
        removed_at, removal_reason, password_temporary, password_expires_at,
        self_service_reset, password_hash, recovery_hash)
    SELECT id, org_id, substr(username, 1, instr(username, '@')), name, email, roles, status,
        created_at, removed_at, removal_reason, password_temporary, password_expires_at,
        self_service_reset, password_hash, recovery_hash
    FROM users ORDER BY id;
DROP TABLE users;
ALTER TABLE users_v10 RENAME TO users;
CREATE UNIQUE INDEX users_name ON users(org_id, username);
CREATE UNIQUE INDEX users_email
    ON users(email, org_id, (CASE WHEN status = 'active' THEN 0 ELSE id END));

-- The indexes after this migration, each with the queries that use it:
-- users_name UNIQUE          sign-in and every USER lookup by user name (users_by_key,
--                            password_hash_of, username_taken: the organizations of the
--                            name's domain, then the name), users list (its order), user-name
--                            generation (GLOB prefix in the organizations of the domain);
--                            one user name per organization
-- users_email                e-mail lookups: email_in_use, active_user_by_email,
--                            users_by_key, the users import's find by e-mail; uniqueness
-- msa_links_msa              open_link_for_msa, the import's find_link, achievements list's
--                            user names; snapshot and associations: links in MSA order
--                            (INDEXED BY); one open link per MSA
-- msa_links_open_user        the open link of an account (users list/show joins), org show's
--                            linked count; one open link per account
-- achievements_key           the achievements import's upsert and find; uniqueness
-- achievements_by_msa        snapshot: achievements in MSA order (covering, INDEXED BY)
-- performance_key            the performance import's upsert and find; uniqueness
-- audit_org_at               `audit` listings of an organization by time
-- membership_purchases_org   membership status/history of an organization
-- membership_alerts_open     one open alert per competency; the open alerts
-- membership_alerts_org      alert listings of an organization
-- sign_in_failures_user_at   the failed sign-ins of an account in the last 15 minutes
-- designation_enrolments_org enrolments of an organization by designation
-- designation_alerts_open    one open alert per designation; the open alerts
"#;

/// Migration 10 on PostgreSQL: the same, in place (no foreign key is touched).
const USER_NAMES_PG: &str = r#"
ALTER TABLE users DROP CONSTRAINT users_username_key;
UPDATE users SET username = substr(username, 1, strpos(username, '@'));
ALTER TABLE users ADD CONSTRAINT users_username_stem
    CHECK (strpos(username, '@') = length(username) AND length(username) > 1);
CREATE UNIQUE INDEX users_name ON users(org_id, username);
"#;
