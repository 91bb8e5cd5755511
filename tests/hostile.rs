//! Hostile input: every malformed file in the corpus (`tests/hostile/`) and a few generated
//! monsters are refused with exit 1 and one clear `error:` naming the file — never a panic —
//! and the database is left exactly as it was. Valid but nasty data (SQL-looking names) is
//! stored literally.

mod common;

use std::path::{Path, PathBuf};

use common::{Db, Env, small_rules, users_add};

fn corpus(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Every row of every table, and the schema version: what "unchanged" means.
fn dump(env: &Env) -> String {
    let mut db = env.open_db();
    let mut out = String::new();
    if let Db::Sqlite(conn) = &db {
        // PostgreSQL keeps it in a table, dumped with the others.
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        out.push_str(&format!("user_version {v}\n"));
    }
    let tables = db.tables();
    assert!(tables.len() >= 6, "{tables:?}");
    out.push_str(&db.dump());
    out
}

/// A database with some of everything in it, on the small rulebook.
fn populated() -> Env {
    let env = Env::with_rulebook(&small_rules());
    env.add_user(
        "Ann Example",
        "ann@contoso.com",
        &["--msa", "ann@outlook.com"],
    );
    env.achievement("ann@outlook.com", "EX-A", "2025-12-01", "2026-01-01");
    env.record("revenue", "azure", "1200", "2025-12-01", "2026-01-01");
    env
}

/// Runs a command that must be refused: exit 1, an `error:` line naming `mention`, no
/// panic, and the database exactly as before.
fn refused(env: &Env, args: &[&str], mention: &str) -> String {
    let before = dump(env);
    let (code, out, err) = env.run(args);
    assert!(
        !err.contains("panicked") && code != 101,
        "{args:?} panicked: {err}"
    );
    assert_eq!(
        code, 1,
        "{args:?} should be refused with exit 1: {out}{err}"
    );
    assert!(err.starts_with("error: "), "{args:?}: no error line: {err}");
    assert!(
        err.contains(mention),
        "{args:?}: the error should name {mention:?}: {err}"
    );
    assert!(
        err.len() < 4000,
        "{args:?}: the error is not a clear message but {} bytes",
        err.len()
    );
    assert_eq!(dump(env), before, "{args:?} changed the database");
    err
}

/// `rulebook` is [`refused`] by `rules import` and by `init` of another organization on it;
/// returns the import's error.
fn refused_by_import_and_init(env: &Env, rulebook: &str, mention: &str) -> String {
    let err = refused(env, &["rules", "import", rulebook], mention);
    refused(
        env,
        &[
            "init",
            "--name",
            "Other",
            "--partner-id",
            "999",
            "--rulebook",
            rulebook,
        ],
        mention,
    );
    err
}

#[test]
fn the_corpus_is_large_enough() {
    assert!(corpus("rules").len() >= 30);
}

#[test]
fn every_malformed_rulebook_is_refused_by_validate_import_and_init() {
    let env = populated();
    let files = corpus("rules");
    for f in &files {
        let path = f.to_str().unwrap();
        let name = f.file_name().unwrap().to_str().unwrap();
        refused(&env, &["rules", "validate", path], name);
        refused_by_import_and_init(&env, path, name);
    }
    // The organization still runs on its own rulebook.
    let shown = env.json(&["rules", "show"]);
    assert_eq!(shown["program"]["name"], "Test program");
}

#[test]
fn rulebook_errors_name_the_line_also_with_crlf_line_endings() {
    let env = populated();
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/rules/crlf-with-error.toml");
    let err = refused(
        &env,
        &["rules", "validate", f.to_str().unwrap()],
        "crlf-with-error.toml:41:",
    );
    assert!(err.contains("count"), "{err}");
}

#[test]
fn a_10_mb_rulebook_is_refused_by_its_size_before_parsing_and_changes_nothing() {
    let env = populated();
    let base = include_str!("data/small-rules.toml");
    // A plausible-looking rulebook padded with a huge catalogue, and one with a 10 MB title.
    let mut big = String::from(base);
    let mut i = 0;
    while big.len() < 10 << 20 {
        big.push_str(&format!(
            "\n[[catalog]]\ncode = \"GEN-{i}\"\ntitle = \"Generated exam {i} with a long title\"\nkind = \"exam\"\n"
        ));
        i += 1;
    }
    std::fs::write(env.path("big.toml"), &big).unwrap();
    let huge_title = base.replacen("Exam A", &"A".repeat(10 << 20), 1);
    std::fs::write(env.path("title.toml"), huge_title).unwrap();
    // The refusal names the size limit: the file is refused by its size, before any
    // parsing, which is what keeps it quick (asserted without a clock: no test may depend
    // on the machine's speed).
    for f in ["big.toml", "title.toml"] {
        let err = refused_by_import_and_init(&env, f, f);
        assert!(err.contains("MB"), "{err}");
    }
}

#[test]
fn extremely_deep_nesting_does_not_overflow_the_stack() {
    let env = populated();
    let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    std::fs::write(env.path("deep.toml"), deep).unwrap();
    let inline = format!("x = {}1{}\n", "{a = ".repeat(50_000), "}".repeat(50_000));
    std::fs::write(env.path("inline.toml"), inline).unwrap();
    for f in ["deep.toml", "inline.toml"] {
        refused(&env, &["rules", "validate", f], f);
        refused(&env, &["rules", "import", f], f);
    }
}

#[test]
fn sql_looking_text_is_data_stored_literally() {
    let env = populated();
    let evil = "Robert'); DROP TABLE users;--";
    let (user, _) = env.add_user(evil, "bobby@contoso.com", &[]);
    let shown = env.json(&["users", "show", &user]);
    assert_eq!(shown["name"], evil);
    let mut db = env.open_db();
    let stored = db.scalar(
        "SELECT name FROM users WHERE email = 'bobby@contoso.com'",
        &[],
    );
    assert_eq!(stored.text(), evil);
    assert_eq!(env.count("users"), 2, "the users table is intact");
    // In a rulebook too: a quoted program name is just text.
    let rb = include_str!("data/small-rules.toml").replace(
        "name = \"Test program\"",
        "name = \"x'); DELETE FROM orgs;--\"",
    );
    std::fs::write(env.path("evil.toml"), rb).unwrap();
    env.ok(&["rules", "import", "evil.toml"]);
    assert_eq!(
        env.json(&["rules", "show"])["program"]["name"],
        "x'); DELETE FROM orgs;--"
    );
    assert_eq!(env.json(&["org", "list"]).as_array().unwrap().len(), 1);
}

#[test]
fn hostile_values_on_the_command_line_are_refused_and_change_nothing() {
    let env = populated();
    let long = "N".repeat(10_000);
    let add =
        |name: &str, email: &str| -> Vec<String> { owned(&users_add(name, email, "c.csv", &[])) };
    let record = |value: &str, date: &str| -> Vec<String> {
        owned(&[
            "performance",
            "record",
            "--metric",
            "revenue",
            "--value",
            value,
            "--date",
            date,
        ])
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (add(&long, "long@contoso.com"), "10000 characters"),
        (
            add("Bell\u{7}Name", "bell@contoso.com"),
            "control character",
        ),
        (
            add("Esc\u{1b}[31mRed", "esc@contoso.com"),
            "control character",
        ),
        (add("   ", "blank@contoso.com"), "empty"),
        (add("Ann", "not-an-email"), "not-an-email"),
        (add("Ann", "a@b@c"), "e-mail"),
        (
            add("Ann", &format!("{}@contoso.com", "x".repeat(300))),
            "e-mail",
        ),
        (add("Ann", "ann\"--@contoso.com"), "e-mail"),
        (
            [
                "achievements",
                "add",
                "--msa",
                "ann@outlook.com",
                "--code",
                "EX-A",
                "--earned",
                "2026-02-30",
            ]
            .map(str::to_owned)
            .to_vec(),
            "2026-02-30",
        ),
        (
            [
                "achievements",
                "add",
                "--msa",
                "ann@outlook.com",
                "--code",
                "EX-A'; DROP TABLE achievements;--",
                "--earned",
                "2025-01-01",
            ]
            .map(str::to_owned)
            .to_vec(),
            "not in the rulebook",
        ),
    ];
    let mut cases = cases;
    for v in [
        "-5",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "1e400",
        "1e16",
        "99999999999999999999",
        "12abc",
        "",
    ] {
        cases.push((record(v, "2025-12-02"), "value"));
    }
    for d in [
        "2026-02-30",
        "2025-13-01",
        "0000-00-00",
        "yesterday",
        "2025-12-01T25:00:00Z",
    ] {
        cases.push((record("5", d), "date"));
    }
    // A huge value (as big as one argument may be) is refused without being echoed whole.
    let huge = "x".repeat(100_000);
    cases.push((
        [
            "achievements",
            "add",
            "--msa",
            "ann@outlook.com",
            "--code",
            &huge,
            "--earned",
            "2025-12-01",
        ]
        .map(str::to_owned)
        .to_vec(),
        "100000 characters",
    ));
    cases.push((
        add("Ann", &format!("{huge}@contoso.com")),
        "100012 characters",
    ));
    // An invalid --metric is a usage error (exit 2, like --level), also not echoed whole.
    let before = dump(&env);
    let (code, _, err) = env.run(&[
        "performance",
        "record",
        "--metric",
        &huge,
        "--value",
        "5",
        "--date",
        "2025-12-01",
    ]);
    assert_eq!(code, 2, "{}", &err[..err.len().min(500)]);
    assert!(
        err.contains("100000 characters") && err.len() < 4000,
        "{}",
        &err[..err.len().min(500)]
    );
    assert_eq!(dump(&env), before);
    for (args, mention) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&env, &args, mention);
        assert!(
            !env.path("c.csv").exists(),
            "{args:?} left a credentials file"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Bulk CSV imports.

fn import_refused(env: &Env, kind: &str, file: &str) -> String {
    let name = Path::new(file)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let mut args = vec![kind, "import", file, "--now", "2026-01-01"];
    if kind == "users" {
        args.extend(["--credentials-file", "c.csv"]);
    }
    let err = refused(env, &args, &name);
    assert!(
        !env.path("c.csv").exists(),
        "{file}: a refused import left its credentials file"
    );
    // A dry run says the same and writes nothing either.
    args.push("--dry-run");
    refused(env, &args, &name);
    err
}

#[test]
fn every_malformed_csv_is_refused_by_its_import_and_changes_nothing() {
    let env = populated();
    let mut n = 0;
    for kind in ["users", "achievements", "performance"] {
        for f in corpus(kind) {
            import_refused(&env, kind, f.to_str().unwrap());
            n += 1;
        }
    }
    assert!(n >= 30, "only {n} CSV corpus files");
    // Bad rows are reported at their line, also behind a BOM and with CRLF line endings.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/users");
    for f in ["crlf-bad-row.csv", "bom-bad-row.csv"] {
        let err = import_refused(&env, "users", root.join(f).to_str().unwrap());
        assert!(err.contains(&format!("{f}:3:")), "{err}");
    }
}

#[test]
fn a_5_mb_field_is_refused_and_changes_nothing() {
    let env = populated();
    let big = "x".repeat(5 << 20);
    std::fs::write(
        env.path("users.csv"),
        format!("email,name\nok@contoso.com,Ok\nbig@contoso.com,{big}\n"),
    )
    .unwrap();
    std::fs::write(
        env.path("achievements.csv"),
        format!("msa,code,earned\nann@outlook.com,{big},2025-12-01\n"),
    )
    .unwrap();
    std::fs::write(
        env.path("performance.csv"),
        format!("metric,value,date,scope\nrevenue,5,2025-12-01,{big}\n"),
    )
    .unwrap();
    for kind in ["users", "achievements", "performance"] {
        let err = import_refused(&env, kind, &format!("{kind}.csv"));
        assert!(
            !err.contains(&big[..1000]),
            "the error echoes the whole field"
        );
    }
}

#[test]
fn nasty_but_valid_csv_is_imported_literally_behind_a_bom_with_crlf() {
    let env = populated();
    let evil = "Robert'); DROP TABLE users;--";
    let csv = format!(
        "\u{feff}E-Mail,Display Name\r\nbobby@contoso.com,\"{evil}\"\r\nquote@contoso.com,\"Say \"\"hi\"\", then go\"\r\n"
    );
    std::fs::write(env.path("nasty.csv"), csv).unwrap();
    env.ok("users import nasty.csv --credentials-file c.csv");
    let users = env.json(&["users", "list"]);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&evil), "{names:?}");
    assert!(names.contains(&"Say \"hi\", then go"), "{names:?}");
    assert_eq!(names.len(), 3);
}

/// A command line as owned strings.
fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}
