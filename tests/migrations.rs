//! Schema evolution: a database written at any older schema version (data inserted with
//! plain SQL, as an old binary would have) is brought up to date by the binary with its
//! data intact; a database from a newer binary is refused and left untouched.
//!
//! Written for any number of migrations ≥ 1: every old version from 1 up to the current
//! one is tried, so each migration added later is covered without changing this file.
//!
//! Old databases are SQLite files written by old binaries: those tests run on SQLite
//! whatever the run is for. Refusing a newer schema runs on the backend of the run.

mod common;

use std::os::unix::fs::OpenOptionsExt;

use common::{Db, Env};
use competency::api::domain::credentials::hash_generated;
use competency::api::store::schema::{MIGRATIONS, current_version, migrate_to};
use competency::api::store::{hash_bytes, hash_text};
use rusqlite::{Connection, params};

const RULES: &str = include_str!("data/small-rules.toml");

/// Writes the data the first schema can hold, in plain SQL against schema version 1.
fn insert_v1_data(conn: &Connection) {
    conn.execute(
        "INSERT INTO orgs (id, partner_id, name, slug, domain, market, created_at, rulebook, rulebook_at)
         VALUES (1, '1234567', 'Contoso Ltd', 'contoso-ltd', 'contoso-ltd.onmicrosoft.com',
                 'developed', 1767225600, ?1, 1767225600)",
        [RULES],
    )
    .unwrap();
    for (id, name, status) in [
        (1, "ann", "active"),
        (2, "bob", "active"),
        (3, "cy", "removed"),
    ] {
        conn.execute(
            "INSERT INTO users (id, org_id, username, name, email, roles, status, created_at,
                removed_at, password_hash, password_temporary, password_expires_at)
             VALUES (?1, 1, ?2, ?3, ?4, 'global-admin;user', ?5, 1767225600, ?6, ?7, 1, 1775001600)",
            params![
                id,
                format!("{name}@contoso-ltd.onmicrosoft.com"),
                format!("Person {name}"),
                format!("{name}@contoso.com"),
                status,
                (status == "removed").then_some(1767312000_i64),
                hash_generated("irrelevant"),
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO msa_links (msa, user_id, org_id, started_at, ended_at)
             VALUES (?1, ?2, 1, 1767225600, ?3)",
            params![
                format!("{name}@outlook.com"),
                id,
                (status == "removed").then_some(1767312000_i64)
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO achievements (msa, code, earned, expires, added_at)
             VALUES (?1, 'EX-A', '2025-11-01', NULL, 1767225600)",
            [format!("{name}@outlook.com")],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO performance (org_id, metric, scope, value, date, recorded_at)
         VALUES (1, 'revenue', 'azure', 12000, '2025-12-01', 1767225600)",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO audit (org_id, at, actor, action, subject, detail)
         VALUES (1, 1767225600, 'old-binary', 'init', 'contoso-ltd', 'written at schema 1')",
        [],
    )
    .unwrap();
}

fn old_database(env: &Env, version: usize) {
    // Created private, as the binary creates it.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(env.db())
        .unwrap();
    let mut conn = Connection::open(env.db()).unwrap();
    migrate_to(&mut conn, 1).unwrap();
    insert_v1_data(&conn);
    migrate_to(&mut conn, version).unwrap();
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, version as i64);
}

fn version(env: &Env) -> i64 {
    Connection::open(env.db())
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn every_older_schema_migrates_to_the_current_one_with_its_data() {
    assert!(!MIGRATIONS.is_empty());
    // With one migration this checks that version 1 opens as is (nothing to migrate);
    // with more, that every chain of migrations from each old version keeps the data.
    for from in 1..=MIGRATIONS.len() {
        let env = Env::sqlite(); // an old SQLite file
        old_database(&env, from);
        let users = env.json(&["users", "list", "--all", "--now", "2026-02-01"]);
        assert_eq!(version(&env), current_version(), "from version {from}");
        let users = users.as_array().unwrap();
        assert_eq!(users.len(), 3, "from {from}: {users:?}");
        let ann = users
            .iter()
            .find(|u| u["email"] == "ann@contoso.com")
            .unwrap();
        assert_eq!(ann["status"], "active");
        assert_eq!(ann["msa"], "ann@outlook.com");
        assert_eq!(ann["roles"], serde_json::json!(["global-admin", "user"]));
        let cy = users
            .iter()
            .find(|u| u["email"] == "cy@contoso.com")
            .unwrap();
        assert_eq!(cy["status"], "removed");
        assert!(cy["msa"].is_null());

        let ach = env.json(&["achievements", "list", "--now", "2026-02-01"]);
        assert_eq!(ach.as_array().unwrap().len(), 2, "from {from}: {ach}");
        let perf = env.json(&["performance", "list", "--now", "2026-02-01"]);
        assert_eq!(perf.as_array().unwrap().len(), 1, "from {from}: {perf}");
        let audit = env.json(&["audit"]);
        assert!(
            audit
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["detail"] == "written at schema 1"),
            "{audit}"
        );
        // Evaluation over migrated data: two active people with EX-A and $12,000 azure
        // revenue meet Cloud Silver in the small rulebook.
        assert_eq!(
            env.competency_level("cloud", "2026-02-01"),
            "silver",
            "from {from}"
        );
        // Tables added by later migrations are there and usable (migration 2: membership).
        let status = env.json(&["membership", "status", "--now", "2026-02-01"]);
        assert_eq!(status["state"], "none", "from {from}: {status}");
        // And the migrated database takes new writes, including a negative value of a
        // designation metric (migration 4 relaxed the CHECK; the old rows kept their ids).
        env.add_user("Dee", "dee@contoso.com", &[]);
        env.record("net-customer-adds", "", "-3", "2026-01-15", "2026-02-01");
        let perf = env.json(&["performance", "list", "--now", "2026-02-01"]);
        assert_eq!(perf.as_array().unwrap().len(), 2, "from {from}: {perf}");
        let err = env.fails(
            "performance record --metric revenue --value -3 --date 2026-01-15 \
             --now 2026-02-01",
        );
        assert!(err.contains("negative"), "{err}");
        let doctor = env.json(&["doctor"]);
        assert_eq!(doctor["ok"], true, "{doctor}");
    }
}

#[test]
fn a_database_from_a_newer_binary_is_refused_and_left_untouched() {
    let env = Env::new();
    let newer = current_version() + 1;
    // Every byte of the SQLite file; every row of PostgreSQL's tables.
    let contents = |env: &Env| match env.open_db() {
        Db::Sqlite(_) => std::fs::read(env.db()).unwrap(),
        mut db => db.dump().into_bytes(),
    };
    if env.is_pg() {
        env.init();
        env.open_db()
            .execute("UPDATE schema_version SET version = $1", &[&newer]);
    } else {
        old_database(&env, MIGRATIONS.len());
        Connection::open(env.db())
            .unwrap()
            .pragma_update(None, "user_version", newer)
            .unwrap();
    }
    let before = contents(&env);
    for args in [
        &["users", "list"][..],
        &["users", "add", "--name", "X", "--email", "x@contoso.com"][..],
        &["doctor"][..],
    ] {
        let err = env.fails(args);
        assert!(
            err.contains(&format!("schema version {newer}")) && err.contains("upgrade competency"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"));
    }
    if !env.is_pg() {
        assert_eq!(version(&env), newer);
    }
    assert!(contents(&env) == before, "a refused database was modified");
    assert!(
        std::fs::read_dir(env.dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("credentials-")),
        "a refused users add left a credentials file"
    );
}

#[test]
fn migrating_is_idempotent_and_stops_at_the_target() {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate_to(&mut conn, 1).unwrap();
    insert_v1_data(&conn);
    migrate_to(&mut conn, 1).unwrap();
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1);
    competency::api::store::schema::migrate(&mut conn).unwrap();
    competency::api::store::schema::migrate(&mut conn).unwrap();
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, current_version());
    let n: i64 = conn
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 3);
}

/// Migration 8 (issue 14, storage footprint): hashes written as text by older binaries
/// become bytes — a generated secret's `sha256$<hex>` its 32-byte digest, a chosen
/// password's argon2id PHC string its UTF-8 bytes — and read back as the same text; the two
/// e-mail indexes become one that still keeps an e-mail unique among an organization's
/// active accounts only.
#[test]
fn migration_8_stores_hashes_as_bytes_and_keeps_one_email_index() {
    let env = Env::sqlite(); // an old SQLite file
    old_database(&env, 7);
    let argon = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo";
    {
        let conn = Connection::open(env.db()).unwrap();
        conn.execute("UPDATE users SET password_hash = ?1 WHERE id = 2", [argon])
            .unwrap();
        conn.execute(
            "UPDATE users SET recovery_hash = ?1 WHERE id = 1",
            [hash_generated("ABCDE-FGHJK")],
        )
        .unwrap();
    }
    env.ok(&["users", "list", "--all"]);
    assert_eq!(version(&env), current_version());
    let conn = Connection::open(env.db()).unwrap();
    let rows: Vec<(String, Vec<u8>, Option<Vec<u8>>)> = conn
        .prepare(
            "SELECT typeof(password_hash), password_hash, recovery_hash FROM users ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(rows.iter().all(|r| r.0 == "blob"), "{rows:?}");
    assert_eq!(rows[0].1.len(), 32);
    assert_eq!(hash_text(&rows[0].1), hash_generated("irrelevant"));
    let recovery = rows[0].2.as_deref().unwrap();
    assert_eq!(recovery.len(), 32);
    assert_eq!(hash_text(recovery), hash_generated("ABCDE-FGHJK"));
    assert_eq!(rows[1].1, argon.as_bytes());
    assert_eq!(hash_text(&rows[1].1), argon);
    assert!(rows[1].2.is_none() && rows[2].2.is_none());

    let indexes: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users'
             AND sql IS NOT NULL ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    // (`users_org`, kept by migration 8, went in migration 9; `users_name` came with
    // migration 10.)
    assert_eq!(indexes, ["users_email", "users_name"]);
    // (User names are stored without their domain since migration 10.)
    let add = |username: &str, status: &str| {
        conn.execute(
            "INSERT INTO users (org_id, username, name, email, roles, status, created_at,
                password_hash, password_temporary)
             VALUES (1, ?1, 'Ann again', 'ann@contoso.com', 'user', ?2, 1767225600, x'00', 0)",
            [username, status],
        )
    };
    // ann@contoso.com is active in organization 1: a second active account is refused by
    // the index, removed ones (any number) are not.
    let err = add("ann2@", "active").unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
    add("ann3@", "removed").unwrap();
    add("ann4@", "removed").unwrap();
    // Both e-mail lookups go through the one index.
    for sql in [
        "SELECT 1 FROM users WHERE email = 'x'",
        "SELECT id FROM users WHERE org_id = 1 AND email = 'x' AND status = 'active'",
    ] {
        let plan: String = conn
            .query_row(&format!("EXPLAIN QUERY PLAN {sql}"), [], |r| r.get(3))
            .unwrap();
        assert!(plan.contains("users_email"), "{sql}: {plan}");
    }
}

/// Migration 9 (issue 14, storage footprint): the MSA links keep one index on the MSA
/// instead of two — it still allows one open link per MSA only, and evaluations and MSA
/// lookups read through it — and `users_org`, which no query needed, goes.
#[test]
fn migration_9_keeps_one_msa_index_that_allows_one_open_link_per_msa() {
    let env = Env::sqlite(); // an old SQLite file, moved up by the migration
    old_database(&env, 8);
    env.ok(&["users", "list", "--all"]);
    assert_eq!(version(&env), current_version());
    let conn = Connection::open(env.db()).unwrap();
    let indexes: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index'
             AND tbl_name IN ('users', 'msa_links') AND sql IS NOT NULL ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        indexes,
        [
            "msa_links_msa",
            "msa_links_open_user",
            "users_email",
            "users_name"
        ]
    );
    let link = |msa: &str, user: i64, ended: Option<i64>| {
        conn.execute(
            "INSERT INTO msa_links (msa, user_id, org_id, started_at, ended_at)
             VALUES (?1, ?2, 1, 1767225600, ?3)",
            params![msa, user, ended],
        )
    };
    // ann@outlook.com is open (ann's): a second open link of it is refused by the index;
    // ended ones, any number, are not (cy's MSA already has one).
    let err = link("ann@outlook.com", 3, None).unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
    link("cy@outlook.com", 3, Some(1767312001)).unwrap();
    link("ann@outlook.com", 3, Some(1767312002)).unwrap();
    for sql in [
        "SELECT id FROM msa_links WHERE msa = 'x' AND ended_at IS NULL",
        "SELECT l.user_id, l.msa FROM msa_links l INDEXED BY msa_links_msa
         WHERE l.org_id = 1 ORDER BY l.msa",
    ] {
        let plan: String = conn
            .query_row(&format!("EXPLAIN QUERY PLAN {sql}"), [], |r| r.get(3))
            .unwrap();
        assert!(plan.contains("msa_links_msa"), "{sql}: {plan}");
    }
    // The evaluation reads the migrated links: ann and bob still count for Cloud Silver.
    assert_eq!(env.competency_level("cloud", "2026-02-01"), "silver");
}

/// The user names of `SELECT … FROM users ORDER BY id`, as stored.
fn stored_usernames(conn: &Connection) -> Vec<String> {
    conn.prepare("SELECT username FROM users ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Migration 10 (issue 14, storage footprint): a user name is stored without its
/// organization's domain (`ann2@`), and every command finds accounts by user name and by
/// e-mail exactly as before — suffixed names, case-insensitively, in a second organization
/// that shares the domain (which `init --domain` allows) — and keeps generating free names
/// across the organizations of a domain.
#[test]
fn migration_10_stores_user_names_without_the_domain_and_finds_them_as_before() {
    let env = Env::sqlite(); // an old SQLite file
    old_database(&env, 9);
    let domain = "contoso-ltd.onmicrosoft.com";
    {
        let conn = Connection::open(env.db()).unwrap();
        conn.execute(
            "INSERT INTO orgs (id, partner_id, name, slug, domain, market, created_at, rulebook,
                rulebook_at)
             SELECT 2, '7654321', 'Fabrikam', 'fabrikam', domain, market, created_at, rulebook,
                rulebook_at FROM orgs WHERE id = 1",
            [],
        )
        .unwrap();
        // ann2 in organization 1 (ann@ was taken), ann3 in organization 2 (same domain).
        for (id, org, username, email) in [
            (4, 1, "ann2", "ann@fabrikam.com"),
            (5, 2, "ann3", "ann@example.org"),
            (6, 2, "eve", "eve@example.org"),
        ] {
            conn.execute(
                "INSERT INTO users (id, org_id, username, name, email, roles, status,
                    created_at, password_hash, password_temporary, password_expires_at)
                 VALUES (?1, ?2, ?3, 'Another Ann', ?4, 'user', 'active', 1767225600, ?5, 1,
                    1775001600)",
                params![
                    id,
                    org,
                    format!("{username}@{domain}"),
                    email,
                    hash_bytes(&hash_generated("irrelevant")),
                ],
            )
            .unwrap();
        }
    }
    let list = env.json(&[
        "--org",
        "1234567",
        "users",
        "list",
        "--all",
        "--now",
        "2026-02-01",
    ]);
    assert_eq!(version(&env), current_version());
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    // In user-name order, whole names, as before.
    assert_eq!(
        names,
        [
            format!("ann2@{domain}"),
            format!("ann@{domain}"),
            format!("bob@{domain}"),
            format!("cy@{domain}")
        ]
    );
    let conn = Connection::open(env.db()).unwrap();
    assert_eq!(
        stored_usernames(&conn),
        ["ann@", "bob@", "cy@", "ann2@", "ann3@", "eve@"]
    );
    let indexes: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users'
             ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(indexes, ["users_email", "users_name"]);

    // By user name (any case, spaces around) and by e-mail, in either organization.
    for (org, key, email) in [
        ("1234567", format!("ann2@{domain}"), "ann@fabrikam.com"),
        (
            "1234567",
            format!(" ANN2@{} ", domain.to_uppercase()),
            "ann@fabrikam.com",
        ),
        ("1234567", "ann@fabrikam.com".into(), "ann@fabrikam.com"),
        ("1234567", format!("cy@{domain}"), "cy@contoso.com"),
        ("7654321", format!("ann3@{domain}"), "ann@example.org"),
        ("7654321", "eve@example.org".into(), "eve@example.org"),
    ] {
        let shown = env.json(&["--org", org, "users", "show", &key, "--now", "2026-02-01"]);
        assert_eq!(shown["email"], email, "{org} {key}: {shown}");
    }
    // Another organization's user name is not found (the same text as before).
    let (code, _, err) = env.run(&[
        "--org",
        "1234567",
        "users",
        "show",
        &format!("ann3@{domain}"),
    ]);
    assert!(code != 0 && err.contains("no user \"ann3@"), "{code} {err}");
    // Sign-in by user name: the temporary password, then a chosen one.
    let (code, _, err) = env.run_stdin(
        format!(
            "--org 7654321 --now 2026-02-01 employee set-password --user ann3@{domain} \
             --password-stdin"
        ),
        "irrelevant\ncorrect horse battery\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = env.run_stdin(
        format!(
            "--org 7654321 --now 2026-02-01 employee link-msa --user ann3@{domain} \
             --msa ann3@outlook.com --password-stdin"
        ),
        "correct horse battery\n",
    );
    assert_eq!(code, 0, "{err}");
    let shown = env.json(&[
        "--org",
        "7654321",
        "users",
        "show",
        &format!("ann3@{domain}"),
    ]);
    assert_eq!(shown["msa"], "ann3@outlook.com", "{shown}");
    // Administrators' commands by user name.
    env.ok(&[
        "--org",
        "1234567",
        "--now",
        "2026-02-01",
        "users",
        "reset-password",
        &format!("ann2@{domain}"),
        "--credentials-file",
        "reset.csv",
    ]);
    env.ok(&[
        "--org",
        "1234567",
        "--now",
        "2026-02-01",
        "users",
        "link-msa",
        &format!("bob@{domain}"),
        "--msa",
        "bob2@outlook.com",
    ]);
    env.ok(&[
        "--org",
        "1234567",
        "--now",
        "2026-02-01",
        "users",
        "remove",
        &format!("ann2@{domain}"),
    ]);
    // New names are free across the organizations of the domain: ann, ann2 (organization 1)
    // and ann3 (organization 2) are taken, by `users add` and by `users import` alike.
    let added = env.json(&[
        "--org",
        "1234567",
        "--now",
        "2026-02-01",
        "users",
        "add",
        "--name",
        "Ann Four",
        "--email",
        "ann@four.example",
        "--credentials-file",
        "add.csv",
    ]);
    assert_eq!(added["username"], format!("ann4@{domain}"), "{added}");
    std::fs::write(
        env.path("people.csv"),
        "email,name\nann@five.example,Ann Five\neve@five.example,Eve Five\n",
    )
    .unwrap();
    env.ok(&[
        "--org",
        "1234567",
        "--now",
        "2026-02-01",
        "users",
        "import",
        "people.csv",
        "--credentials-file",
        "import.csv",
    ]);
    let creds = common::read_credentials(&env.path("import.csv"));
    let made: Vec<&str> = creds.iter().map(|r| r[0].as_str()).collect();
    // eve@ is organization 2's: organization 1 gets eve2@.
    assert_eq!(
        made,
        [format!("ann5@{domain}"), format!("eve2@{domain}")],
        "{creds:?}"
    );
    let doctor = env.json(&["doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
}

/// A user name that is not in its organization's domain (only a hand-edited database has
/// one) cannot be stored without the domain: migration 10 stops with a clear error and the
/// database stays as it was, at version 9.
#[test]
fn migration_10_refuses_a_user_name_outside_its_organizations_domain_and_changes_nothing() {
    let env = Env::sqlite(); // an old SQLite file
    old_database(&env, 9);
    Connection::open(env.db())
        .unwrap()
        .execute(
            "UPDATE users SET username = 'bob@elsewhere.example' WHERE id = 2",
            [],
        )
        .unwrap();
    let before = stored_usernames(&Connection::open(env.db()).unwrap());
    let err = env.fails(&["users", "list"]);
    assert!(
        err.contains("migration 10")
            && err.contains("bob@elsewhere.example")
            && err.contains("not in its organization's domain"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(version(&env), 9);
    let conn = Connection::open(env.db()).unwrap();
    assert_eq!(stored_usernames(&conn), before);
}
