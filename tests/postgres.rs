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
