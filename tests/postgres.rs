//! What only the PostgreSQL backend has (SPEC §10): the URL and its password, an empty or a
//! foreign database, `doctor`'s connection and TLS lines. The rest of the suite runs on
//! PostgreSQL too when `COMPETENCY_TEST_PG` is set; the tests here that need a server do
//! nothing without it.

mod common;

use common::Env;

#[test]
fn a_url_with_a_password_is_refused_without_showing_it() {
    let env = Env::sqlite();
    let (code, out, err) = env.run(&[
        "--db",
        "postgres://ann:s3cret-pw@127.0.0.1:1/competency",
        "users",
        "list",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("PGPASSWORD"), "{err}");
    assert!(
        !err.contains("s3cret-pw") && !out.contains("s3cret-pw"),
        "{err}"
    );
    assert!(
        err.contains("postgres://ann@127.0.0.1:1/competency"),
        "{err}"
    );
}

#[test]
fn an_unsupported_sslmode_is_refused() {
    let env = Env::sqlite();
    let err = env.fails(&[
        "--db",
        "postgres://ann@127.0.0.1:1/competency?sslmode=allow",
        "users",
        "list",
    ]);
    assert!(err.contains("sslmode=allow"), "{err}");
}

#[test]
fn an_unreachable_server_is_one_clear_error() {
    let env = Env::sqlite();
    let (code, _, err) = env
        .cmd()
        .env("PGPASSWORD", "pw-never-shown")
        .args([
            "--db",
            "postgres://ann@127.0.0.1:1/competency",
            "users",
            "list",
        ])
        .output()
        .map(|o| {
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("error: cannot connect to postgres://ann@127.0.0.1:1/competency"),
        "{err}"
    );
    assert!(!err.contains("pw-never-shown"), "{err}");
}

#[test]
fn an_empty_database_is_no_database_until_init() {
    if common::test_pg().is_none() {
        return;
    }
    let env = Env::new();
    let url = env.db().display().to_string();
    let err = env.fails(&["users", "list"]);
    assert!(
        err.contains(&format!(
            "no database at {url}: create one with `competency init`"
        )),
        "{err}"
    );
    env.init();
    env.add_user("Ann Lee", "ann@contoso.com", &[]);
    let users = env.json(&["users", "list"]);
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    // A refused command changes nothing, as on SQLite.
    let before = env.db_bytes();
    env.fails(&[
        "users",
        "add",
        "--name",
        "Ann Again",
        "--email",
        "ann@contoso.com",
    ]);
    assert_eq!(env.db_bytes(), before);
}

#[test]
fn a_database_of_another_application_is_refused_unchanged() {
    let Some(server) = common::test_pg() else {
        return;
    };
    let env = Env::new();
    let url = env.db().display().to_string();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE invoices (id int); INSERT INTO invoices VALUES (1)")
        .unwrap();
    let err = env.fails(&["init", "--name", "Contoso", "--partner-id", "1234567"]);
    assert!(err.contains("another application"), "{err}");
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "init changed a foreign database ({server})");
}

#[test]
fn doctor_reports_the_connection_the_schema_and_tls() {
    if common::test_pg().is_none() {
        return;
    }
    let env = Env::new();
    env.init();
    let out = env.json(&["doctor"]);
    let checks = out["checks"].as_array().unwrap();
    let names: Vec<&str> = checks
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for want in [
        "connection",
        "tls",
        "integrity",
        "foreign keys",
        "schema version",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    assert_eq!(out["ok"], true, "{out}");
}

/// A users file of `rows` accounts spread over several COPY batches and read-back chunks
/// (4,096 rows each): pairs of e-mails share a local part (the second account gets a
/// numbered user name), every third row has an MSA, and row `dup` repeats an earlier
/// e-mail (rejected at its second occurrence). `bad`: a row with an invalid e-mail there.
fn big_users_file(rows: usize, dup: usize, bad: Option<usize>) -> String {
    let mut csv = String::from("email,name,msa\n");
    for i in 0..rows {
        if Some(i) == bad {
            csv.push_str("not-an-email,Broken Row,\n");
            continue;
        }
        if i == dup {
            csv.push_str("p3@a1.example,Again,\n");
            continue;
        }
        let msa = if i % 3 == 0 {
            format!("m{i}@outlook.com")
        } else {
            String::new()
        };
        csv.push_str(&format!("p{}@a{}.example,Person {i},{msa}\n", i / 2, i % 2));
    }
    csv
}

/// `--format json` output of a command run at a fixed time.
fn json_at(env: &Env, args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut a = vec!["--now", "2026-03-01", "--format", "json"];
    a.extend_from_slice(args);
    let (code, out, err) = env.run(&a);
    (
        code,
        serde_json::from_str(&out).unwrap_or(serde_json::Value::Null),
        err,
    )
}

fn init_at(env: &Env) {
    env.create(&[
        "--name",
        "Contoso Ltd",
        "--partner-id",
        "1234567",
        "--now",
        "2026-01-01",
    ]);
}

#[test]
fn a_large_users_import_on_postgresql_matches_sqlite_and_a_bad_row_writes_nothing() {
    if common::test_pg().is_none() {
        return;
    }
    let csv = big_users_file(10_000, 7_000, None);
    let mut listings = Vec::new();
    for env in [Env::sqlite(), Env::new()] {
        init_at(&env);
        std::fs::write(env.path("u.csv"), &csv).unwrap();
        let (code, s, err) = json_at(&env, &["users", "import", "u.csv", "--skip-invalid"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            (s["added"].as_u64(), s["rejected"].as_u64()),
            (Some(9_999), Some(1))
        );
        let users = json_at(&env, &["users", "list", "--all"]).1;
        let audit = json_at(&env, &["audit"]).1;
        // A second import of the same file changes nothing and audits nothing.
        let (code, s, err) = json_at(&env, &["users", "import", "u.csv", "--skip-invalid"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            (s["unchanged"].as_u64(), s["added"].as_u64()),
            (Some(9_999), Some(0))
        );
        assert_eq!(json_at(&env, &["users", "list", "--all"]).1, users);
        assert_eq!(json_at(&env, &["audit"]).1, audit);
        listings.push((env.is_pg(), users, s));
    }
    let (pg, lite) = (&listings[1], &listings[0]);
    assert!(pg.0 && !lite.0);
    assert_eq!(pg.1, lite.1, "the same accounts on both backends");
    assert_eq!(pg.2, lite.2, "the same summary of the re-import");

    // All or nothing: a bad row after two COPY batches leaves nothing written.
    let env = Env::new();
    init_at(&env);
    let before = (
        json_at(&env, &["users", "list", "--all"]).1,
        json_at(&env, &["audit"]).1,
    );
    std::fs::write(
        env.path("u.csv"),
        big_users_file(10_000, 7_000, Some(9_000)),
    )
    .unwrap();
    let (code, s, err) = json_at(
        &env,
        &["users", "import", "u.csv", "--credentials-file", "c.csv"],
    );
    assert_eq!(code, 1, "{s} {err}");
    let after = (
        json_at(&env, &["users", "list", "--all"]).1,
        json_at(&env, &["audit"]).1,
    );
    assert_eq!(after, before);
    assert!(!env.path("c.csv").exists());
}
