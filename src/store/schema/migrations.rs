//! The migrations, in order (see the module above for the rules: append only, each with a
//! comment saying why it exists).

use super::Migration;
use super::user_names::user_names_without_domain;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
pub const MIGRATIONS: &[Migration] = &[
    // 1
    Migration::Sql(
        r#"
-- The first schema: organizations with their rulebook, user accounts, MSA associations
-- (with history, so evaluation can be "as of" any instant), achievements (which belong to
-- the MSA, not the organization), performance records and the audit trail.
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    partner_id  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    domain      TEXT NOT NULL,
    market      TEXT NOT NULL CHECK (market IN ('developed', 'developing')),
    created_at  INTEGER NOT NULL,
    rulebook    TEXT NOT NULL,
    rulebook_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    org_id              INTEGER NOT NULL REFERENCES orgs(id),
    username            TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    email               TEXT NOT NULL,
    roles               TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('active', 'removed')),
    created_at          INTEGER NOT NULL,
    removed_at          INTEGER,
    removal_reason      TEXT,
    password_hash       TEXT NOT NULL,
    password_temporary  INTEGER NOT NULL CHECK (password_temporary IN (0, 1)),
    password_expires_at INTEGER,
    self_service_reset  INTEGER NOT NULL DEFAULT 0 CHECK (self_service_reset IN (0, 1)),
    recovery_hash       TEXT
) STRICT;
CREATE UNIQUE INDEX users_active_email ON users(org_id, email) WHERE status = 'active';
CREATE INDEX users_org ON users(org_id, status);

CREATE TABLE msa_links (
    id         INTEGER PRIMARY KEY,
    msa        TEXT NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    started_at INTEGER NOT NULL,
    ended_at   INTEGER,
    end_reason TEXT
) STRICT;
CREATE UNIQUE INDEX msa_links_open_msa ON msa_links(msa) WHERE ended_at IS NULL;
CREATE UNIQUE INDEX msa_links_open_user ON msa_links(user_id) WHERE ended_at IS NULL;
CREATE INDEX msa_links_org ON msa_links(org_id, msa);

CREATE TABLE achievements (
    id         INTEGER PRIMARY KEY,
    msa        TEXT NOT NULL,
    code       TEXT NOT NULL,
    earned     TEXT NOT NULL CHECK (date(earned) IS earned),
    expires    TEXT CHECK (expires IS NULL OR date(expires) IS expires),
    added_at   INTEGER NOT NULL,
    removed_at INTEGER
) STRICT;
CREATE UNIQUE INDEX achievements_key ON achievements(msa, code, earned);

CREATE TABLE performance (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    metric      TEXT NOT NULL
                CHECK (metric IN ('revenue', 'active-usage', 'deployed-seats', 'new-customers')),
    scope       TEXT NOT NULL DEFAULT '',
    value       REAL NOT NULL CHECK (value >= 0),
    date        TEXT NOT NULL CHECK (date(date) IS date),
    recorded_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX performance_key ON performance(org_id, metric, scope, date);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    org_id  INTEGER REFERENCES orgs(id),
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
) STRICT;
CREATE INDEX audit_org_at ON audit(org_id, at);
"#,
    ),
    // 2
    Migration::Sql(
        r#"
-- Membership (SPEC §7): every purchase (an upgrade starting a term, or a renewal extending
-- it) with the fee charged; the competencies attained during each term, which the business
-- profile displays until the term ends; and renewal alerts, open until the competency is
-- met again. Terms are calendar dates (midnight UTC); a purchase is an instant.
CREATE TABLE membership_purchases (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    kind         TEXT NOT NULL CHECK (kind IN ('upgrade', 'renewal')),
    level        TEXT NOT NULL CHECK (level IN ('silver', 'gold')),
    purchased_at INTEGER NOT NULL,
    term_start   TEXT NOT NULL CHECK (date(term_start) IS term_start),
    anniversary  TEXT NOT NULL CHECK (date(anniversary) IS anniversary),
    anchor_day   INTEGER NOT NULL CHECK (anchor_day BETWEEN 1 AND 31),
    list_fee_usd REAL NOT NULL CHECK (list_fee_usd >= 0),
    fee_usd      REAL NOT NULL CHECK (fee_usd >= 0),
    discount     TEXT,
    CHECK (anniversary > term_start)
) STRICT;
CREATE INDEX membership_purchases_org ON membership_purchases(org_id, id);

CREATE TABLE membership_attainments (
    term_id     INTEGER NOT NULL REFERENCES membership_purchases(id),
    competency  TEXT NOT NULL,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('silver', 'gold')),
    attained_at INTEGER NOT NULL,
    last_met_at INTEGER NOT NULL,
    PRIMARY KEY (term_id, competency, level)
) STRICT;

CREATE TABLE membership_alerts (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    term_id      INTEGER NOT NULL REFERENCES membership_purchases(id),
    competency   TEXT NOT NULL,
    name         TEXT NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('silver', 'gold')),
    message      TEXT NOT NULL,
    requirement  TEXT NOT NULL,
    cause        TEXT,
    raised_at    INTEGER NOT NULL,
    closed_at    INTEGER,
    close_reason TEXT
) STRICT;
CREATE UNIQUE INDEX membership_alerts_open ON membership_alerts(org_id, competency)
    WHERE closed_at IS NULL;
CREATE INDEX membership_alerts_org ON membership_alerts(org_id, raised_at);
"#,
    ),
    // 3
    Migration::Sql(concat!(
        r#"
-- Every evaluation reads all of an organization's achievements. In MSA order, with every
-- column the engine needs in the index itself, they meet their people (also read in MSA
-- order) in one merge pass: no table lookup per row, no hash lookup per row.
"#,
        achievements_by_msa!(),
        ";\n"
    )),
    // 4
    Migration::Sql(
        r#"
-- Accounts (issues 9 and 10). Failed sign-ins of employee commands, kept per account so
-- that every process sees the same count: after 5 within 15 minutes, sign-in is refused
-- until the window passes. And an index on every account's e-mail, whatever its status:
-- a generated user name must never equal another account's e-mail, so a USER text names
-- one account only.
CREATE TABLE sign_in_failures (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    at      INTEGER NOT NULL
) STRICT;
CREATE INDEX sign_in_failures_user_at ON sign_in_failures(user_id, at);
CREATE INDEX users_email ON users(email);
"#,
    ),
    // 5
    Migration::Sql(
        r#"
-- Commands read the stored rulebook on every run; validating it each time cost seconds on a
-- large one. The digest of the text as validated (and of the validator's version) lets a
-- command trust a rulebook that already passed; NULL (older rows) means "validate again".
ALTER TABLE orgs ADD COLUMN rulebook_digest TEXT;
"#,
    ),
    // 6
    Migration::Sql(
        r#"
-- Solutions Partner designations (SPEC §9) score three more monthly metrics, which compare a
-- month with the same month a year earlier and so may be negative. SQLite cannot change a
-- CHECK constraint in place: the table is rebuilt with the same rows and ids.
CREATE TABLE performance_v4 (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    metric      TEXT NOT NULL
                CHECK (metric IN ('revenue', 'active-usage', 'deployed-seats', 'new-customers',
                                  'net-customer-adds', 'usage-growth', 'deployments')),
    scope       TEXT NOT NULL DEFAULT '',
    value       REAL NOT NULL
                CHECK (value >= 0 OR metric IN ('net-customer-adds', 'usage-growth', 'deployments')),
    date        TEXT NOT NULL CHECK (date(date) IS date),
    recorded_at INTEGER NOT NULL
) STRICT;
INSERT INTO performance_v4 (id, org_id, metric, scope, value, date, recorded_at)
    SELECT id, org_id, metric, scope, value, date, recorded_at FROM performance;
DROP TABLE performance;
ALTER TABLE performance_v4 RENAME TO performance;
CREATE UNIQUE INDEX performance_key ON performance(org_id, metric, scope, date);
"#,
    ),
    // 7
    Migration::Sql(
        r#"
-- Solutions Partner designations (SPEC §9): each enrolment or renewal of a designation, with
-- the term it pays for (designations enrolled later in a term share its anniversary at no
-- fee), and the renewal alerts of enrolled designations, open until one qualifies again.
CREATE TABLE designation_enrolments (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    designation TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('enrolment', 'renewal')),
    enrolled_at INTEGER NOT NULL,
    term_start  TEXT NOT NULL CHECK (date(term_start) IS term_start),
    anniversary TEXT NOT NULL CHECK (date(anniversary) IS anniversary),
    anchor_day  INTEGER NOT NULL CHECK (anchor_day BETWEEN 1 AND 31),
    fee_usd     REAL NOT NULL CHECK (fee_usd >= 0),
    score       REAL NOT NULL,
    CHECK (anniversary > term_start)
) STRICT;
CREATE INDEX designation_enrolments_org ON designation_enrolments(org_id, designation, id);

CREATE TABLE designation_alerts (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    designation  TEXT NOT NULL,
    name         TEXT NOT NULL,
    message      TEXT NOT NULL,
    items        TEXT NOT NULL,
    cause        TEXT,
    raised_at    INTEGER NOT NULL,
    closed_at    INTEGER,
    close_reason TEXT
) STRICT;
CREATE UNIQUE INDEX designation_alerts_open ON designation_alerts(org_id, designation)
    WHERE closed_at IS NULL;
"#,
    ),
    // 8
    Migration::PerBackend {
        sqlite: r#"
-- Storage footprint (issue 14): a million imported accounts took three times the space of
-- the same rows loaded raw. Hashes become bytes: the `sha256$<hex>` hash of a generated
-- secret is stored as its 32-byte digest, an argon2id PHC string (a password an employee
-- chose, always longer than 32 bytes) as its UTF-8 bytes; the store converts at its
-- boundary (store::users::hash_bytes / hash_text). SQLite cannot change a column's type in
-- place, and rebuilding `users` would break the foreign keys that point at it: each hash
-- column is added anew as BLOB, filled, and the text column dropped.
ALTER TABLE users ADD COLUMN password_hash_bytes BLOB NOT NULL DEFAULT x'';
ALTER TABLE users ADD COLUMN recovery_hash_bytes BLOB;
UPDATE users SET
    password_hash_bytes = CASE
        WHEN password_hash GLOB 'sha256$*' AND length(password_hash) = 71
        THEN coalesce(unhex(substr(password_hash, 8)), CAST(password_hash AS BLOB))
        ELSE CAST(password_hash AS BLOB) END,
    recovery_hash_bytes = CASE
        WHEN recovery_hash GLOB 'sha256$*' AND length(recovery_hash) = 71
        THEN coalesce(unhex(substr(recovery_hash, 8)), CAST(recovery_hash AS BLOB))
        ELSE CAST(recovery_hash AS BLOB) END;
ALTER TABLE users DROP COLUMN password_hash;
ALTER TABLE users DROP COLUMN recovery_hash;
ALTER TABLE users RENAME COLUMN password_hash_bytes TO password_hash;
ALTER TABLE users RENAME COLUMN recovery_hash_bytes TO recovery_hash;

-- Only the indexes a query uses. The two e-mail indexes (unique among active accounts per
-- organization; every account's, for "a user name never equals another account's e-mail")
-- become one: active accounts share the key's last part (0), so an e-mail is unique among an
-- organization's active accounts, and every other account has its own id there.
DROP INDEX users_active_email;
DROP INDEX users_email;
CREATE UNIQUE INDEX users_email
    ON users(email, org_id, (CASE WHEN status = 'active' THEN 0 ELSE id END));

-- The indexes after this migration, each with the queries that use it:
-- users(username) UNIQUE     sign-in, `users show`, user-name generation (GLOB prefix)
-- users_email                e-mail lookups: email_in_use, active_user_by_email,
--                            users_by_key, the users import's find by e-mail; uniqueness
-- users_org                  users list, org show counts, has_active_users
-- msa_links_open_msa         open_link_for_msa, the import's find_link; one open link per MSA
-- msa_links_open_user        the open link of an account (users list/show joins); uniqueness
-- msa_links_org              snapshot: an organization's people in MSA order (INDEXED BY)
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
"#,
        // PostgreSQL changes the hash columns' type in place (no foreign key is touched).
        postgres: r#"
ALTER TABLE users ALTER COLUMN password_hash TYPE BYTEA USING (CASE
    WHEN password_hash LIKE 'sha256$%' AND length(password_hash) = 71
    THEN decode(substr(password_hash, 8), 'hex')
    ELSE convert_to(password_hash, 'UTF8') END);
ALTER TABLE users ALTER COLUMN recovery_hash TYPE BYTEA USING (CASE
    WHEN recovery_hash LIKE 'sha256$%' AND length(recovery_hash) = 71
    THEN decode(substr(recovery_hash, 8), 'hex')
    ELSE convert_to(recovery_hash, 'UTF8') END);
DROP INDEX users_active_email;
DROP INDEX users_email;
CREATE UNIQUE INDEX users_email
    ON users(email, org_id, (CASE WHEN status = 'active' THEN 0 ELSE id END));
"#,
    },
    // 9
    Migration::Sql(
        r#"
-- Storage footprint (issue 14), continued: a million imported accounts still took 2.44
-- times the space of the same rows loaded raw. The MSA links kept two indexes on the MSA:
-- one open link per MSA (`msa_links_open_msa`) and an organization's links in MSA order for
-- evaluations (`msa_links_org`). One index serves both, as `users_email` does for e-mails:
-- every link by MSA, unique among open links (they share the key's last part, 0; an ended
-- link has its own id there). Evaluations walk it in MSA order and take each link's
-- organization from the row they read anyway. And `users_org` goes: the queries it served
-- (users list, org show's counts, the last-admin check) read the organization's rows
-- anyway, and in a database of one organization that is every row.
DROP INDEX msa_links_open_msa;
DROP INDEX msa_links_org;
DROP INDEX users_org;
CREATE UNIQUE INDEX msa_links_msa
    ON msa_links(msa, (CASE WHEN ended_at IS NULL THEN 0 ELSE id END));

-- The indexes after this migration, each with the queries that use it:
-- users(username) UNIQUE     sign-in, `users show`, users list (its order), user-name
--                            generation (GLOB prefix); uniqueness
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
"#,
    ),
    // 10
    Migration::Code(user_names_without_domain),
    // 11
    Migration::PerBackend {
        sqlite: concat!(
            r#"
-- The 2026 Solutions Partner program (issue 24). Partner Center shows a designation's
-- figures per track (each track counts different customer tenants) and, for some metrics,
-- per customer association (CPOR, DPOR, CSP), each scored against its own threshold; and
-- Security's usage growth adds Microsoft 365 protected users to Azure dollars. A record's
-- key gains its track and association ('' = none), the metric list gains
-- `protected-users-growth`. SQLite cannot change a CHECK in place: the table is rebuilt
-- with the same rows and ids, as in migration 6.
CREATE TABLE performance_v11 (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    metric      TEXT NOT NULL
                CHECK (metric IN ('revenue', 'active-usage', 'deployed-seats', 'new-customers',
                                  'net-customer-adds', 'usage-growth', 'deployments',
                                  'protected-users-growth')),
    scope       TEXT NOT NULL DEFAULT '',
    track       TEXT NOT NULL DEFAULT '',
    association TEXT NOT NULL DEFAULT '' CHECK (association IN ('', 'cpor', 'dpor', 'csp')),
    value       REAL NOT NULL
                CHECK (value >= 0 OR metric IN ('net-customer-adds', 'usage-growth',
                                                'deployments', 'protected-users-growth')),
    date        TEXT NOT NULL CHECK (date(date) IS date),
    recorded_at INTEGER NOT NULL
) STRICT;
INSERT INTO performance_v11 (id, org_id, metric, scope, value, date, recorded_at)
    SELECT id, org_id, metric, scope, value, date, recorded_at FROM performance;
DROP TABLE performance;
ALTER TABLE performance_v11 RENAME TO performance;
CREATE UNIQUE INDEX performance_key
    ON performance(org_id, metric, scope, track, association, date);
"#,
            r#"
-- Partner Center's track classification per designation (`designations track`), with its
-- history: a row is in force from `since` until the next of its designation, so an
-- evaluation at any instant uses the one in force then.
CREATE TABLE designation_tracks (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    designation TEXT NOT NULL,
    track       TEXT NOT NULL,
    since       INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
) STRICT;
CREATE INDEX designation_tracks_org ON designation_tracks(org_id, designation, since, id);
"#
        ),
        postgres: concat!(
            r#"
-- See the SQLite text: PostgreSQL alters the table in place (its ids and their sequence
-- stay as they are).
ALTER TABLE performance ADD COLUMN track TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE performance ADD COLUMN association TEXT COLLATE "C" NOT NULL DEFAULT ''
    CHECK (association IN ('', 'cpor', 'dpor', 'csp'));
DO $$
DECLARE c record;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
           WHERE conrelid = 'performance'::regclass AND contype = 'c'
             AND pg_get_constraintdef(oid) LIKE '%metric%'
  LOOP
    EXECUTE 'ALTER TABLE performance DROP CONSTRAINT ' || quote_ident(c.conname);
  END LOOP;
END $$;
ALTER TABLE performance
    ADD CHECK (metric IN ('revenue', 'active-usage', 'deployed-seats', 'new-customers',
                          'net-customer-adds', 'usage-growth', 'deployments',
                          'protected-users-growth')),
    ADD CHECK (value >= 0 OR metric IN ('net-customer-adds', 'usage-growth',
                                        'deployments', 'protected-users-growth'));
DROP INDEX performance_key;
CREATE UNIQUE INDEX performance_key
    ON performance(org_id, metric, scope, track, association, date);
"#,
            r#"
CREATE TABLE designation_tracks (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs(id),
    designation TEXT COLLATE "C" NOT NULL,
    track       TEXT COLLATE "C" NOT NULL,
    since       BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX designation_tracks_org ON designation_tracks(org_id, designation, since, id);
"#
        ),
    },
];
