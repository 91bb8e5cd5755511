//! Security properties through the binary: private files (even under `umask 000`), the
//! credentials file never through a link or over a file, no secret anywhere but the
//! credentials file, argon2id for chosen passwords, failed sign-ins audited, SQL built
//! only from literals and bound parameters; (section "Files") databases created only
//! by `init`/`demo`, never opened through links, never overwritten by an output file; and
//! (section "Authentication and accounts") sign-in verified where it changes things,
//! throttled, with NIST password rules and a real actor.
// Notes for the person running the tests (clippy.toml keeps `print!` out of src/).
#![allow(clippy::disallowed_macros)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Db, Env, as_employee, mode, read_credentials, users_add};
use competency::api::store::hash_text;
use rusqlite::Connection;

/// Runs the binary through `sh` with `umask 000`, so any file it creates without an explicit
/// mode would be world-readable.
fn permissive(env: &Env, args: &[&str]) -> Command {
    // The program, folder and environment of `Env::std_cmd`, run through the shell.
    let base = env.std_cmd();
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(base.get_program())
        .args(args)
        .current_dir(env.dir.path())
        .env_clear()
        .envs(base.get_envs().filter_map(|(k, v)| Some((k, v?))));
    c
}

/// [`permissive`], asserting success.
fn permissive_ok(env: &Env, line: &str) {
    let args: Vec<&str> = line.split_whitespace().collect();
    let out = permissive(env, &args).output().unwrap();
    assert!(
        out.status.success(),
        "`{line}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn side(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

#[test]
fn database_wal_shm_and_credentials_are_0600_even_under_umask_000() {
    let env = Env::sqlite(); // the SQLite file, its WAL and SHM
    // The check itself must be able to fail: the shell really does apply umask 000.
    let probe = permissive(&env, &[]).arg("--version").output().unwrap();
    assert!(probe.status.success());
    let out = Command::new("sh")
        .args(["-c", "umask 000; touch probe"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(mode(&env.path("probe")), 0o666);

    permissive_ok(&env, "init --name Contoso --partner-id 1 --now 2026-01-01");
    assert_eq!(mode(&env.db()), 0o600);
    permissive_ok(
        &env,
        "users add --name Ann --email ann@contoso.com --credentials-file ann.csv --now 2026-01-01",
    );
    assert_eq!(mode(&env.path("ann.csv")), 0o600);
    let temp = read_credentials(&env.path("ann.csv"))[0][2].clone();

    // While a command has the database open (here: waiting for a password on stdin), the
    // WAL and shared-memory files it created exist; they must be private too.
    let mut child = permissive(
        &env,
        &as_employee("set-password", "ann@contoso.com", &["--now", "2026-01-02"]),
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let (wal, shm) = (side(&env.db(), "-wal"), side(&env.db(), "-shm"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(wal.exists() && shm.exists()) {
        assert!(Instant::now() < deadline, "the WAL and SHM never appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(mode(&wal), 0o600, "WAL");
    assert_eq!(mode(&shm), 0o600, "SHM");
    assert_eq!(mode(&env.db()), 0o600);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{temp}\na new long password").unwrap();
    drop(stdin);
    let out = common::output_within_deadline(child);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&env.db()), 0o600);
}

#[test]
fn a_stale_world_readable_wal_is_tightened_on_open() {
    let env = Env::sqlite(); // the SQLite WAL's mode
    env.init();
    // A reader holding the database keeps the WAL from being removed when the binary exits.
    let holder = Connection::open(env.db()).unwrap();
    let _: i64 = holder
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    let wal = side(&env.db(), "-wal");
    assert!(wal.exists());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
    env.ok(&["users", "list"]);
    assert_eq!(mode(&wal), 0o600);
    drop(holder);
}

fn user_count(env: &Env) -> i64 {
    env.count("users")
}

#[test]
fn credentials_never_through_a_link_or_over_an_existing_file() {
    let env = Env::new();
    env.init();
    let (user, _) = env.add_user("Ann", "ann@contoso.com", &[]);
    let before = user_count(&env);

    // Over an existing file: refused, the file untouched, nothing added.
    std::fs::write(env.path("existing.csv"), "keep me").unwrap();
    let err =
        env.fails("users add --name Bob --email bob@contoso.com --credentials-file existing.csv");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(env.path("existing.csv")).unwrap(),
        "keep me"
    );

    // Through a link to a file that does not exist yet (an attacker's planted link): the
    // target is not created.
    std::os::unix::fs::symlink(env.path("planted-target.csv"), env.path("dangling.csv")).unwrap();
    env.fails("users add --name Bob --email bob@contoso.com --credentials-file dangling.csv");
    assert!(!env.path("planted-target.csv").exists());

    // Through a link to an existing file: the target keeps its content.
    std::fs::write(env.path("victim.csv"), "victim").unwrap();
    std::os::unix::fs::symlink(env.path("victim.csv"), env.path("link.csv")).unwrap();
    env.fails(&[
        "users",
        "reset-password",
        &user,
        "--credentials-file",
        "link.csv",
    ]);
    assert_eq!(
        std::fs::read_to_string(env.path("victim.csv")).unwrap(),
        "victim"
    );
    assert_eq!(user_count(&env), before, "a refused command added a user");
    let audit = env.ok(&["audit", "--format", "csv"]);
    assert!(!audit.contains("bob@contoso.com"), "{audit}");
}

/// Every secret the test saw issued, in every form an attacker might search for.
fn forms(secret: &str) -> Vec<String> {
    let mut v = vec![secret.to_owned(), secret.to_lowercase()];
    if secret.contains('-') {
        v.push(secret.replace('-', ""));
    }
    v
}

/// Whether the bytes hold the (ASCII) needle. Lossy decoding only replaces invalid
/// sequences, never ASCII bytes, so no match is lost; str search is fast even in debug.
fn contains(hay: &str, needle: &str) -> bool {
    hay.contains(needle)
}

#[test]
fn no_secret_in_the_database_wal_audit_or_output() {
    let env = Env::new();
    env.init();
    // SQLite: keep the WAL alive (and unmerged) so its bytes can be searched too.
    let holder = wal_holder(&env);
    let mut secrets = Vec::new();
    let outputs = String::new();
    let outputs = std::cell::RefCell::new(outputs);
    let run = |args: &[&str]| {
        let (code, out, err) = env.run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        outputs.borrow_mut().push_str(&out);
        outputs.borrow_mut().push_str(&err);
    };
    for i in 0..6 {
        let email = format!("user{i}@contoso.com");
        let file = format!("c{i}.csv");
        let mut args = users_add("Someone", &email, &file, &["--now", "2026-01-01"]);
        if i % 2 == 0 {
            args.push("--self-service-reset");
        }
        run(&args);
    }
    run(&[
        "users",
        "reset-password",
        "user1@contoso.com",
        "--credentials-file",
        "reset.csv",
        "--now",
        "2026-01-01",
    ]);
    let mut files: Vec<PathBuf> = (0..6).map(|i| env.path(&format!("c{i}.csv"))).collect();
    files.push(env.path("reset.csv"));
    for f in &files {
        for row in read_credentials(f) {
            secrets.push(row[2].clone());
            if let Some(code) = row.get(4).filter(|c| !c.is_empty()) {
                secrets.push(code.clone());
            }
        }
    }
    assert_eq!(
        secrets.len(),
        6 + 3 + 1,
        "passwords and recovery codes issued"
    );
    // A chosen password, and a wrong one typed at a failed sign-in.
    let chosen = "my chosen passphrase 42";
    let wrong = "WrongGuess-Attempt-999";
    let set = |input: &str| {
        let (code, out, err) = env.run_stdin(
            &as_employee(
                "set-password",
                "user3@contoso.com",
                &["--now", "2026-01-02"],
            ),
            input,
        );
        outputs.borrow_mut().push_str(&out);
        outputs.borrow_mut().push_str(&err);
        code
    };
    assert_eq!(set(&format!("{wrong}\n{chosen}\n")), 1);
    let temp3 = read_credentials(&files[3])[0][2].clone();
    assert_eq!(set(&format!("{temp3}\n{chosen}\n")), 0);
    secrets.push(chosen.to_owned());
    secrets.push(wrong.to_owned());
    run(&["audit", "--format", "json"]);
    run(&["audit"]);
    run(&["users", "list", "--all", "--format", "csv"]);
    for u in 0..6 {
        run(&[
            "users",
            "show",
            &format!("user{u}@contoso.com"),
            "--format",
            "json",
        ]);
    }

    let outputs = outputs.into_inner();
    if holder.is_some() {
        let wal = std::fs::read(side(&env.db(), "-wal")).unwrap();
        assert!(wal.len() > 4096, "the WAL should hold the changes");
    }
    // SQLite: the file and its WAL byte for byte; PostgreSQL: every row of every table.
    let bytes = String::from_utf8_lossy(&env.db_bytes()).into_owned();
    for s in &secrets {
        for f in forms(s) {
            assert!(
                !contains(&bytes, &f),
                "secret {f:?} found in the database files"
            );
            assert!(!outputs.contains(&f), "secret {f:?} found in the output");
        }
    }
    // The audit trail has the failed sign-in, without the guess.
    let audit: String = env
        .open_db()
        .query("SELECT action, subject, detail FROM audit", &[])
        .iter()
        .map(|r| r.iter().map(|v| v.shown()).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(audit.contains("employee.sign-in-failed"), "{audit}");
    assert!(!audit.contains(wrong));
    drop(holder);
}

/// The stored password hash of the account `username`, as text (a user name is stored
/// without its organization's domain since migration 10).
fn password_hash(db: &mut Db, username: &str) -> String {
    let v = db.scalar(
        "SELECT u.password_hash FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.username || o.domain = $1",
        &[&username],
    );
    hash_text(v.bytes())
}

/// SQLite: a reader holding the database, which keeps the WAL from being merged and removed
/// when the binary exits, so its bytes can be searched too. None on PostgreSQL.
fn wal_holder(env: &Env) -> Option<Connection> {
    if env.is_pg() {
        return None;
    }
    let holder = Connection::open(env.db()).unwrap();
    let _: i64 = holder
        .query_row("SELECT count(*) FROM orgs", [], |r| r.get(0))
        .unwrap();
    Some(holder)
}

#[test]
fn chosen_passwords_are_argon2id_phc_strings_and_generated_ones_are_hashed() {
    let env = Env::new();
    env.init();
    let (user, temp) = env.add_user("Ann", "ann@contoso.com", &["--self-service-reset"]);
    let mut conn = env.open_db();
    // Stored as bytes (migration 8): a generated secret's hash is its 32-byte SHA-256 digest.
    let row = conn
        .row(
            "SELECT u.password_hash, u.recovery_hash FROM users u JOIN orgs o ON o.id = u.org_id
             WHERE u.username || o.domain = $1",
            &[&user],
        )
        .unwrap();
    let (stored, recovery) = (row[0].bytes(), row[1].bytes());
    assert_eq!((stored.len(), recovery.len()), (32, 32));
    let (hash, recovery) = (hash_text(stored), hash_text(recovery));
    assert!(
        hash.starts_with("sha256$") && hash.len() == 7 + 64,
        "{hash}"
    );
    assert!(recovery.starts_with("sha256$"), "{recovery}");
    assert!(!hash.contains(&temp));

    env.set_password(&user, &temp, "correct horse battery staple");
    let hash = password_hash(&mut conn, &user);
    // $argon2id$v=19$m=...,t=...,p=...$salt$hash
    let parts: Vec<&str> = hash.split('$').collect();
    assert_eq!(parts.len(), 6, "{hash}");
    assert_eq!(parts[1], "argon2id");
    assert_eq!(parts[2], "v=19");
    assert!(parts[3].starts_with("m=") && parts[3].contains(",t=") && parts[3].contains(",p="));
    assert!(parts[4].len() >= 16, "salt too short: {hash}");
    assert!(!hash.contains("correct horse"));
    // Two accounts with the same password get different hashes (salted).
    let (user2, temp2) = env.add_user("Bob", "bob@contoso.com", &[]);
    env.set_password(&user2, &temp2, "correct horse battery staple");
    let hash2 = password_hash(&mut conn, &user2);
    assert_ne!(hash, hash2);
}

#[test]
fn failed_sign_ins_and_resets_are_audited() {
    let env = Env::new();
    env.init();
    let (user, _) = env.add_user("Ann", "ann@contoso.com", &["--self-service-reset"]);
    let (code, err) = run_stdin(
        &env,
        &as_employee("link-msa", &user, &["--msa", "ann@outlook.com"]),
        "not-the-password\n",
    );
    assert_eq!(code, 1, "{err}");
    let (code, err) = run_stdin(
        &env,
        &as_employee("reset-password", &user, &[]),
        "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE\na brand new password\n",
    );
    assert_eq!(code, 1, "{err}");
    let audit = env.json(&["audit"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["subject"] == user.as_str())
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"employee.sign-in-failed"), "{actions:?}");
    assert!(actions.contains(&"employee.reset-failed"), "{actions:?}");
    // The MSA was not linked by the failed attempt.
    assert!(env.json(&["users", "show", &user])["msa"].is_null());
}

// ---------------------------------------------------------------------------------------
// SQL is built only from literals and constants; values are bound.

/// Reads a Rust string literal (plain or raw) at the start of `s`; returns its content and
/// the rest after it.
fn literal(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return Some((&rest[..i], &rest[i + 1..])),
                _ => escaped = false,
            }
        }
        return None;
    }
    let rest = s.strip_prefix('r')?;
    let hashes = rest.len() - rest.trim_start_matches('#').len();
    let rest = rest[hashes..].strip_prefix('"')?;
    let close = format!("\"{}", "#".repeat(hashes));
    let end = rest.find(&close)?;
    Some((&rest[..end], &rest[end + close.len()..]))
}

const SQL_WORDS: &[&str] = &[
    "SELECT ", "INSERT ", "UPDATE ", "DELETE ", " WHERE ", " FROM ", "CREATE ", "PRAGMA ",
];

fn looks_like_sql(s: &str) -> bool {
    SQL_WORDS.iter().any(|w| s.contains(w))
}

/// A placeholder in a format string is acceptable in SQL only if it names a constant
/// (`{USER_COLUMNS}`): never a value.
fn placeholders_are_constants(fmt: &str) -> bool {
    let mut rest = fmt.replace("{{", "").replace("}}", "");
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return false;
        };
        let name = &rest[open + 1..open + close];
        let name = name.split(':').next().unwrap_or("");
        let is_const = !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !is_const {
            return false;
        }
        rest = rest[open + close + 1..].to_owned();
    }
    true
}

/// Problems in one file's source: SQL built with `format!` from anything but constants,
/// or SQL-taking calls whose SQL is neither a literal nor a checked `format!`.
fn sql_problems(file: &str, src: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let line_of = |at: usize| src[..at].matches('\n').count() + 1;
    for macro_name in ["format!(", "write!(", "writeln!(", "format_args!("] {
        let mut from = 0;
        while let Some(i) = src[from..].find(macro_name) {
            let at = from + i;
            from = at + macro_name.len();
            let mut args = src[from..].trim_start();
            if macro_name.starts_with("write") {
                // Skip the destination argument.
                match args.find(',') {
                    Some(c) => args = args[c + 1..].trim_start(),
                    None => continue,
                }
            }
            let Some((fmt, after)) = literal(args) else {
                continue;
            };
            if !looks_like_sql(fmt) {
                continue;
            }
            let after = after.trim_start();
            if !after.starts_with(')') || !placeholders_are_constants(fmt) {
                problems.push(format!(
                    "{file}:{}: SQL built with {macro_name}..) from a value: bind it as a parameter",
                    line_of(at)
                ));
            }
        }
    }
    for call in [
        ".prepare(",
        ".prepare_cached(",
        ".execute_batch(",
        ".execute(",
    ] {
        let mut from = 0;
        while let Some(i) = src[from..].find(call) {
            let at = from + i;
            from = at + call.len();
            let arg = src[from..].trim_start();
            let ok = literal(arg).is_some()
                || arg.starts_with("&format!(")
                // A statement's execute takes parameters, not SQL.
                || (call == ".execute(" && (arg.starts_with("params!") || arg.starts_with('[') || arg.starts_with("rusqlite::params!")))
                // The migrations: a `const` list of literals.
                || (call == ".execute_batch(" && arg.starts_with("sql)"))
                || arg.starts_with(|c: char| c.is_ascii_uppercase())
                || bound_to_literals(src, arg);
            if !ok {
                problems.push(format!(
                    "{file}:{}: {call}..) with SQL that is not a literal or constant",
                    line_of(at)
                ));
            }
        }
    }
    problems
}

/// Whether `arg` (e.g. `sql)` or `&query)`) is a local variable bound to nothing but string
/// literals (`let sql = if .. { "SELECT .." } else { "SELECT .." };`).
fn bound_to_literals(src: &str, arg: &str) -> bool {
    let name: String = arg
        .trim_start_matches('&')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() {
        return false;
    }
    // A `&'static str` parameter or binding: only a literal or a constant gives one.
    if src.contains(&format!("{name}: &'static str")) {
        return true;
    }
    let Some(at) = src
        .find(&format!("let {name} = "))
        .or_else(|| src.find(&format!("let {name}: &str = ")))
    else {
        return false;
    };
    let rhs = &src[at..];
    let rhs = &rhs[..rhs.find(";\n").unwrap_or(rhs.len())];
    [
        "format!",
        " + ",
        "push_str",
        "concat",
        "to_string",
        "String::",
        "to_owned",
        "join(",
    ]
    .iter()
    .all(|bad| !rhs.contains(bad))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_sql_checker_catches_values_spliced_into_sql() {
    let bad = [
        r#"let q = format!("SELECT * FROM users WHERE name = '{name}'");"#,
        r#"conn.execute(&format!("DELETE FROM users WHERE id = {}", id), [])?;"#,
        r#"let q = format!("UPDATE users SET name = '{}' WHERE id = 1", n);"#,
        r#"conn.prepare(&query)?;"#,
        r#"write!(s, "INSERT INTO t VALUES ({v})")?;"#,
        "let q = String::from(\"SELECT * FROM t WHERE a = '\") + &v;\nconn.prepare(&q)?;",
        "let q = [\"SELECT\", name].join(\" \");\nconn.prepare_cached(&q)?;",
    ];
    for b in bad {
        assert!(!sql_problems("x.rs", b).is_empty(), "not caught: {b}");
    }
    let good = [
        r#"conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?;"#,
        r#"st.execute(params![a, b])?;"#,
        r##"conn.execute_batch(r#"CREATE TABLE t (x INTEGER)"#)?;"##,
        r#"let msg = format!("no user {name}: add it first");"#,
        "let sql = if a { \"SELECT a FROM t\" } else { \"SELECT b FROM t WHERE c = ?1\" };\nlet st = conn.prepare_cached(sql)?;",
        "fn run(&self, sql: &'static str) -> Result<usize> {\n    self.conn.execute(sql, [])\n}",
    ];
    for g in good {
        assert_eq!(sql_problems("x.rs", g), Vec::<String>::new(), "{g}");
    }
}

#[test]
fn sql_in_src_is_only_literals_constants_and_bound_parameters() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10);
    let mut problems = Vec::new();
    let mut sql_sites = 0;
    for f in &files {
        // The one pass-through layer over both backends (the interface and the PostgreSQL
        // client under it): it forwards the SQL its callers give it (scanned here in their
        // own files) and prepares nothing of its own.
        if f.ends_with("src/store/sql/mod.rs") || f.ends_with("src/store/postgres/client.rs") {
            continue;
        }
        let src = std::fs::read_to_string(f).unwrap();
        sql_sites += src.matches(".prepare_cached(").count();
        problems.extend(sql_problems(&f.display().to_string(), &src));
    }
    assert!(
        sql_sites > 10,
        "the scan found no SQL: is it looking in the right place?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_secret_in_the_database_after_a_bulk_import() {
    let env = Env::new();
    env.init();
    let holder = wal_holder(&env);
    let mut csv = String::from("email,name\n");
    for i in 0..300 {
        csv.push_str(&format!("bulk{i}@contoso.com,Bulk {i}\n"));
    }
    std::fs::write(env.path("bulk.csv"), csv).unwrap();
    let (code, out, err) = env.run("users import bulk.csv --credentials-file bulk-creds.csv");
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&env.path("bulk-creds.csv")), 0o600);
    let creds = read_credentials(&env.path("bulk-creds.csv"));
    assert_eq!(creds.len(), 300);
    let audit = env.ok(&["audit", "--format", "json"]);
    let bytes = String::from_utf8_lossy(&env.db_bytes()).into_owned();
    for row in &creds {
        let secret = &row[2];
        assert!(
            !contains(&bytes, secret),
            "a temporary password is in the database files"
        );
        assert!(!out.contains(secret.as_str()) && !err.contains(secret.as_str()));
        assert!(!audit.contains(secret.as_str()));
    }
    // The import refuses to write its credentials over a file or through a link.
    std::os::unix::fs::symlink(env.path("elsewhere.csv"), env.path("link.csv")).unwrap();
    let err = env.fails("users import bulk.csv --credentials-file link.csv");
    assert!(err.contains("link.csv"), "{err}");
    assert!(!env.path("elsewhere.csv").exists());
    drop(holder);
}

// ---------------------------------------------------------------------------------------
// Files (issues 9 and 10): only `init` and `demo` create a database; another application's
// SQLite file is refused byte for byte unchanged; opening never changes a file through a
// link; no output path is ever the database or its side files; a default output name is
// always free; the demo writes only into a new private folder.

/// Every entry under `dir`, recursively, with its kind: what a command left behind.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
        }
    }
    out.sort();
    out
}

#[test]
fn commands_on_a_missing_database_fail_and_create_nothing() {
    let env = Env::new();
    let missing = env.path("typo/competency.db");
    let db = missing.to_str().unwrap();
    import_file(&env);
    let before = tree(env.dir.path());
    let expected = format!("error: no database at {db}: create one with `competency init`\n");
    for args in [
        &["membership", "check"][..],
        &["org", "list"],
        &["users", "list"],
        &["backup", "copy.db"],
        &["doctor"],
        &["achievements", "list"],
        &["add-user", "--name", "Bob", "--email", "bob@contoso.com"],
        &["users", "import", "people.csv", "--skip-invalid"],
    ] {
        let mut a = vec!["--db", db];
        a.extend_from_slice(args);
        let (code, out, err) = env.run(&a);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert_eq!(err, expected, "{args:?}");
        assert_eq!(tree(env.dir.path()), before, "{args:?} created something");
    }
    // The same through COMPETENCY_DB, the way cron runs it.
    let out = env
        .cmd()
        .env("COMPETENCY_DB", &missing)
        .args(["membership", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(tree(env.dir.path()), before);
}

#[test]
fn another_applications_sqlite_file_is_refused_byte_for_byte_unchanged() {
    let env = Env::new();
    let other = env.path("app.sqlite");
    {
        let c = Connection::open(&other).unwrap();
        c.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
             INSERT INTO notes (body) VALUES ('keep me');",
        )
        .unwrap();
    }
    let bytes = std::fs::read(&other).unwrap();
    let other_mode = mode(&other);
    let before = tree(env.dir.path());
    let db = other.to_str().unwrap();
    for args in [
        &["org", "list"][..],
        &["membership", "check"],
        &["users", "list"],
        &["backup", "copy.db"],
        &["init", "--name", "Contoso Ltd", "--partner-id", "1234567"],
    ] {
        let mut a = vec!["--db", db];
        a.extend_from_slice(args);
        let err = env.fails(&a);
        assert!(err.contains("not a competency database"), "{args:?}: {err}");
        assert_eq!(std::fs::read(&other).unwrap(), bytes, "{args:?} changed it");
        assert_eq!(tree(env.dir.path()), before, "{args:?} created a file");
    }
    assert_eq!(mode(&other), other_mode);
}

#[test]
fn missing_database_folders_are_created_0700_even_under_umask_000() {
    let env = Env::sqlite(); // the SQLite file's folders
    let out = permissive(
        &env,
        &[
            "init",
            "--db",
            "new/deeper/c.db",
            "--name",
            "Contoso Ltd",
            "--partner-id",
            "1234567",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&env.path("new")), 0o700);
    assert_eq!(mode(&env.path("new/deeper")), 0o700);
    assert_eq!(mode(&env.path("new/deeper/c.db")), 0o600);
}

#[test]
fn opening_never_changes_a_file_through_a_wal_or_shm_link() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::sqlite(); // the SQLite file's side files
    env.init();
    let elsewhere = tempfile::tempdir().unwrap();
    for suffix in ["-shm", "-wal"] {
        let target = elsewhere.path().join(format!("target{suffix}"));
        std::fs::write(&target, "someone else's file").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = side(&env.db(), suffix);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = env.fails(&["users", "list"]);
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(
            mode(&target),
            0o644,
            "{suffix}: chmod went through the link"
        );
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "someone else's file"
        );
        std::fs::remove_file(&link).unwrap();
    }
    // The database itself as a link is refused too.
    let real = env.path("real.db");
    std::fs::rename(env.db(), &real).unwrap();
    std::os::unix::fs::symlink(&real, env.db()).unwrap();
    let err = env.fails(&["users", "list"]);
    assert!(err.contains("symbolic link"), "{err}");
}

fn import_file(env: &Env) {
    std::fs::write(
        env.path("people.csv"),
        "email,name\nzoe@contoso.com,Zoe\nbad,Bad\n",
    )
    .unwrap();
}

#[test]
fn no_output_path_is_ever_the_database_or_its_side_files() {
    let env = Env::sqlite(); // the SQLite file and its side files
    env.init();
    let (user, _) = env.add_user("Ann", "ann@contoso.com", &[]);
    import_file(&env);
    std::fs::create_dir(env.path("sub")).unwrap();
    let users = user_count(&env);
    let hard = env.path("hard-link.db");
    std::fs::hard_link(env.db(), &hard).unwrap();
    let hard = hard.to_str().unwrap().to_owned();
    for target in [
        "competency.db",
        "competency.db-wal",
        "competency.db-shm",
        "competency.db-journal",
        "sub/../competency.db-wal",
        hard.as_str(),
    ] {
        let runs: [Vec<&str>; 5] = [
            vec!["add-user", "--name", "Bob", "--email", "bob@contoso.com"],
            vec!["users", "reset-password", &user],
            vec!["users", "import", "people.csv", "--skip-invalid"],
            vec!["users", "import", "people.csv", "--skip-invalid"],
            vec!["backup"],
        ];
        for (i, mut args) in runs.into_iter().enumerate() {
            match i {
                0..=2 => args.extend(["--credentials-file", target]),
                3 => args.extend(["--rejects", target]),
                _ => args.push(target),
            }
            let err = env.fails(&args);
            assert!(err.contains("is the database"), "{args:?}: {err}");
        }
        assert_eq!(user_count(&env), users, "{target}");
    }
    env.ok(&["doctor"]);
}

/// Runs the binary with `args` (and `db` as the database), failing the test when it is still
/// running after 60 s: a writer that opened a FIFO would wait there for a reader forever.
fn run_bounded(env: &Env, db: &Path, args: &[&str]) -> (i32, String) {
    let mut child = env
        .std_cmd()
        .env("COMPETENCY_DB", db)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{}` hung", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status.code().unwrap_or(-1), err)
}

/// In `dir`: a FIFO, a device (a copy of /dev/null, when this user may make one), a folder,
/// a link to a file, a dangling link and a link to `db`, each with the word its refusal
/// names it by. `victim.txt` is the file behind the link.
fn special_files(dir: &Path, db: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut out = Vec::new();
    let fifo = dir.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    out.push((fifo, "FIFO"));
    let dev = dir.join("device");
    let made = Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .stderr(Stdio::null())
        .status();
    if made.is_ok_and(|s| s.success()) {
        out.push((dev, "device"));
    }
    std::fs::create_dir(dir.join("folder")).unwrap();
    out.push((dir.join("folder"), "folder"));
    std::fs::write(dir.join("victim.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink(dir.join("victim.txt"), dir.join("link")).unwrap();
    out.push((dir.join("link"), "symbolic link"));
    std::os::unix::fs::symlink(dir.join("nowhere.txt"), dir.join("dangling")).unwrap();
    out.push((dir.join("dangling"), "symbolic link"));
    std::os::unix::fs::symlink(db, dir.join("to-db")).unwrap();
    out.push((dir.join("to-db"), "is the database"));
    out
}

/// The special files of [`special_files`] are as they were: nothing written into or
/// through them, none replaced.
fn special_files_untouched(dir: &Path, specials: &[(PathBuf, &str)], context: &str) {
    use std::os::unix::fs::FileTypeExt;
    for (path, kind) in specials {
        let t = std::fs::symlink_metadata(path)
            .unwrap_or_else(|e| panic!("{context}: {} is gone: {e}", path.display()))
            .file_type();
        let same = match *kind {
            "FIFO" => t.is_fifo(),
            "device" => t.is_char_device(),
            "folder" => t.is_dir(),
            _ => t.is_symlink(),
        };
        assert!(same, "{context}: {} was replaced", path.display());
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("victim.txt")).unwrap(),
        "keep me",
        "{context}"
    );
    assert!(!dir.join("nowhere.txt").exists(), "{context}");
    assert_eq!(
        std::fs::read_dir(dir.join("folder")).unwrap().count(),
        0,
        "{context}"
    );
}

/// Bug (issue 26 item 1): `report --out DB --force` replaced the database with HTML,
/// `report --out DB-journal` made every later command fail as "read-only", `--force`
/// replaced devices, FIFOs and the `-wal`/`-shm`. Every writer passes one guard: never the
/// database's own files, never anything but a new path or a regular file, with or without
/// `--force`, and never waiting on a FIFO.
#[test]
fn no_writer_ever_writes_the_database_a_link_a_fifo_a_device_or_a_folder() {
    let env = Env::sqlite(); // the SQLite file and its side files
    env.init();
    let (user, _) = env.add_user("Ann", "ann@contoso.com", &[]);
    import_file(&env);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/trainings/Export_trainings_Lifetime_1234567_Contoso_Ltd.csv"),
        env.path("trainings.csv"),
    )
    .unwrap();
    let db = env.db();
    let specials = special_files(env.dir.path(), &db);
    let users = user_count(&env);
    let before = env.json(&["audit", "--limit", "1000"]);
    let mut targets: Vec<(PathBuf, &str)> = ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|s| (side(&db, s), "is the database"))
        .collect();
    targets.extend(specials.iter().cloned());
    for (target, kind) in &targets {
        let t = target.to_str().unwrap();
        let runs: Vec<Vec<&str>> = vec![
            vec!["report", "--out", t],
            vec!["report", "--out", t, "--force"],
            vec![
                "add-user",
                "--name",
                "Bob",
                "--email",
                "bob@contoso.com",
                "--credentials-file",
                t,
            ],
            vec!["users", "reset-password", &user, "--credentials-file", t],
            vec!["users", "import", "people.csv", "--credentials-file", t],
            vec![
                "users",
                "import",
                "people.csv",
                "--skip-invalid",
                "--rejects",
                t,
            ],
            vec![
                "achievements",
                "import",
                "trainings.csv",
                "--create-users",
                "--credentials-file",
                t,
            ],
            vec!["backup", t],
            vec!["copy", "--from", db.to_str().unwrap(), "--to", t],
        ];
        for args in runs {
            let (code, err) = run_bounded(&env, &db, &args);
            assert_eq!(code, 1, "{args:?}: {err}");
            assert!(err.contains(kind), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            special_files_untouched(env.dir.path(), &specials, &format!("{args:?}"));
        }
        // The database is whole and nothing was recorded.
        assert!(!side(&db, "-journal").exists(), "{t}");
        env.ok(&["doctor"]);
        assert_eq!(user_count(&env), users, "{t}");
    }
    assert_eq!(env.json(&["audit", "--limit", "1000"]), before);
}

/// Bug (issue 26 item 1): `man --force` wrote through a symbolically linked page and hung on
/// a FIFO. Each page passes the guard of every writer, `--force` or not; a regular page is
/// replaced by a new file (its old inode, hard-linked elsewhere, keeps its text).
#[test]
fn man_never_writes_through_a_link_a_fifo_a_device_or_onto_the_database() {
    let env = Env::sqlite();
    env.init();
    let pages = env.path("pages");
    std::fs::create_dir(&pages).unwrap();
    let db = env.db();
    let specials = special_files(env.dir.path(), &db);
    let out = pages.to_str().unwrap();
    for (special, kind) in &specials {
        let page = pages.join("competency-doctor.1");
        std::fs::rename(special, &page).unwrap();
        for force in [false, true] {
            let mut args = vec!["man", "--out", out];
            if force {
                args.push("--force");
            }
            let (code, err) = run_bounded(&env, &db, &args);
            assert!(code == 1 || code == 2, "{args:?}: {err}");
            assert!(err.contains(kind), "{args:?} on a {kind}: {err}");
            assert_eq!(std::fs::read_dir(&pages).unwrap().count(), 1, "{err}");
        }
        std::fs::rename(&page, special).unwrap();
        special_files_untouched(env.dir.path(), &specials, kind);
    }
    // The database itself among the pages.
    let page_db = pages.join("competency.1");
    std::fs::copy(&db, &page_db).unwrap();
    let bytes = std::fs::read(&page_db).unwrap();
    let (code, err) = run_bounded(&env, &page_db, &["man", "--out", out, "--force"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is the database"), "{err}");
    assert_eq!(std::fs::read(&page_db).unwrap(), bytes);
    std::fs::remove_file(&page_db).unwrap();
    // A regular page is replaced by a new file, never written in place.
    use std::os::unix::fs::MetadataExt;
    env.ok(&["man", "--out", out]);
    let page = pages.join("competency-doctor.1");
    let kept = env.path("kept.1");
    std::fs::hard_link(&page, &kept).unwrap();
    env.ok(&["man", "--out", out, "--force"]);
    let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
    assert_ne!(ino(&page), ino(&kept));
    assert!(std::fs::read_to_string(&page).unwrap().contains(".TH"));
}

#[test]
fn two_add_users_in_the_same_second_get_two_default_credentials_files() {
    let env = Env::new();
    env.init();
    let at = "2026-02-01T10:00:00Z";
    let a = env.json(&[
        "add-user",
        "--name",
        "Ann",
        "--email",
        "ann@contoso.com",
        "--now",
        at,
    ]);
    let b = env.json(&[
        "add-user",
        "--name",
        "Bob",
        "--email",
        "bob@contoso.com",
        "--now",
        at,
    ]);
    assert_eq!(a["credentials_file"], "credentials-20260201T100000Z.csv");
    assert_eq!(b["credentials_file"], "credentials-20260201T100000Z-2.csv");
    let rows = read_credentials(&env.path("credentials-20260201T100000Z.csv"));
    assert_eq!(rows[0][0], a["username"].as_str().unwrap());
    let rows = read_credentials(&env.path("credentials-20260201T100000Z-2.csv"));
    assert_eq!(rows[0][0], b["username"].as_str().unwrap());
    assert_eq!(mode(&env.path("credentials-20260201T100000Z-2.csv")), 0o600);
    // The same for a reset, and a link at the default name is skipped, never followed.
    std::os::unix::fs::symlink(
        env.path("planted.csv"),
        env.path("credentials-20260201T100000Z-3.csv"),
    )
    .unwrap();
    let user = a["username"].as_str().unwrap();
    let r = env.json(&["users", "reset-password", user, "--now", at]);
    assert_eq!(r["credentials_file"], "credentials-20260201T100000Z-4.csv");
    assert!(!env.path("planted.csv").exists());
    // An explicit path still refuses an existing file.
    let err = env.fails("add-user --name Cy --email cy@contoso.com --credentials-file credentials-20260201T100000Z.csv");
    assert!(err.contains("already exists"), "{err}");
    // No temporary file is left behind.
    assert!(
        !tree(env.dir.path())
            .iter()
            .any(|f| f.contains("competency-tmp")),
        "{:?}",
        tree(env.dir.path())
    );
}

#[test]
fn demo_writes_only_into_a_new_private_folder_never_over_or_through_files_beside_it() {
    let env = Env::new();
    std::fs::create_dir(env.path("here")).unwrap();
    std::fs::write(env.path("here/demo-users.csv"), "mine").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("victim.csv");
    std::fs::write(&target, "victim").unwrap();
    std::os::unix::fs::symlink(&target, env.path("here/demo-achievements.csv")).unwrap();
    let (code, out, err) = env.run(&["demo", "--db", "here/demo.db"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(env.path("here/demo-users.csv")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "victim");
    let files = env.path("here/demo-files");
    assert_eq!(mode(&files), 0o700);
    for f in [
        "demo-users.csv",
        "Export_trainings_Lifetime_4650001_Fabrikam_Consulting.csv",
        "demo-performance.csv",
        "demo-credentials.csv",
    ] {
        assert!(files.join(f).is_file(), "{f}");
        assert_eq!(mode(&files.join(f)), 0o600, "{f}");
    }
    // A second demo beside it refuses an existing files folder, touching nothing.
    let err = env.fails(&["demo", "--db", "here/demo.db"]);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = env.run(&["demo", "--db", "here/other.db"]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_dir_all(env.path("here/other-files")).unwrap();
    std::fs::create_dir(env.path("here/other2-files")).unwrap();
    let err = env.fails(&["demo", "--db", "here/other2.db"]);
    assert!(err.contains("already exists"), "{err}");
    assert!(!env.path("here/other2.db").exists());
}

#[test]
fn a_read_only_database_folder_is_named_not_reported_as_a_readonly_database() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::sqlite(); // the SQLite file's folder
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = env.path("d");
    std::fs::create_dir(&dir).unwrap();
    let db = dir.join("c.db");
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    // Root writes anywhere: the commands run as `nobody` (uid 65534) through setpriv.
    let run = |args: &[&str]| -> (i32, String) {
        let bin = assert_cmd::cargo::cargo_bin("competency");
        let mut c = if root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(bin);
            c
        } else {
            Command::new(bin)
        };
        let out = c
            .arg("--db")
            .arg(&db)
            .args(args)
            .current_dir(&dir)
            .env_clear()
            .env("HOME", &dir)
            .env("USER", "tester")
            .env("COMPETENCY_CONFIG", dir.join("config.toml"))
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    if root {
        if Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("skipped: running as root without setpriv");
            return;
        }
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    }
    let (code, err) = run(&["init", "--name", "Contoso Ltd", "--partner-id", "1234567"]);
    assert_eq!(code, 0, "{err}");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    let (code, err) = run(&["users", "list"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err,
        format!(
            "error: cannot write in {}: read-only folder (the database needs to create its -wal \
             and -shm files there)\n",
            dir.display()
        )
    );
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn a_database_path_that_is_a_fifo_or_a_folder_is_refused_without_hanging() {
    let env = Env::new();
    let fifo = env.path("fifo.db");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    std::fs::create_dir(env.path("folder.db")).unwrap();
    for db in [fifo.clone(), env.path("folder.db")] {
        let mut child = permissive(&env, &["users", "list"])
            .env("COMPETENCY_DB", &db)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} hung the command", db.display());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(1), "{err}");
        assert!(err.contains("not a regular file"), "{err}");
    }
}

// =======================================================================================
// Authentication and accounts (issue 10 items 1-4). Promises:
// - An employee command verifies the account and its secret inside the transaction that
//   changes it: a spent recovery code, a revoked password and a removed account
//   authenticate nothing, whatever the timing (two real processes race through pipes).
// - After 5 failed sign-ins of an account within 15 minutes, sign-in is refused until the
//   window passes; the count is in the database (every process shares it) and audited.
//   Unknown user, removed account and wrong secret get one and the same message.
// - Chosen passwords follow NIST SP 800-63B: 12+ characters, not the user name or e-mail,
//   not one of the 10,000 most common, not one repeated character or a run.
// - The audit actor is the OS user of the real user id, not $USER, without control
//   characters; README and `employee --help` state the trust boundary.
// =======================================================================================

/// A child process of the binary with piped stdin, in the sandbox.
fn spawn_with_stdin(env: &Env, args: &[&str]) -> std::process::Child {
    env.std_cmd()
        .env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

#[cfg(target_arch = "x86_64")]
const SYS_READ: &str = "0";
#[cfg(target_arch = "aarch64")]
const SYS_READ: &str = "63";

/// Bytes written to the pipe and not yet read by the child.
fn unread(stdin: &std::process::ChildStdin) -> i32 {
    use std::os::fd::AsRawFd;
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int into `n`; the descriptor is open (we own it).
    let rc = unsafe { libc::ioctl(stdin.as_raw_fd(), libc::FIONREAD, &mut n) };
    assert_eq!(rc, 0, "FIONREAD");
    n
}

/// Waits until the child has read everything written to its stdin and sleeps in a read of
/// its standard input (it is waiting for the next secret), or fails after 30 s.
fn wait_reading_stdin(child: &mut std::process::Child) {
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        let mut f = syscall.split_whitespace();
        let blocked = f.next() == Some(SYS_READ) && f.next() == Some("0x0");
        if blocked && unread(child.stdin.as_ref().expect("stdin")) == 0 {
            return;
        }
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("the child exited ({status}) instead of waiting for input");
        }
        assert!(
            Instant::now() < deadline,
            "the child never waited for input ({syscall})"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Closes the child's stdin after writing `input`, and waits (30 s at most) for it to exit:
/// (exit code, stderr).
fn finish(mut child: std::process::Child, input: &str) -> (i32, String) {
    {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("write");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("the child did not exit within 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn actions(env: &Env, action: &str) -> usize {
    env.json(&["audit"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == action)
        .count()
}

fn run_stdin(env: &Env, args: &[&str], input: &str) -> (i32, String) {
    let (code, _, err) = env.run_stdin(args, input);
    (code, err)
}

#[test]
fn a_recovery_code_raced_by_two_processes_resets_the_password_once() {
    let env = Env::new();
    env.init();
    env.ok("users add --name Ann --email ann@contoso.com \
            --self-service-reset --credentials-file c.csv");
    let row = &read_credentials(&env.path("c.csv"))[0];
    let (user, code) = (row[0].clone(), row[4].clone());
    let args = as_employee("reset-password", &user, &[]);
    // Both processes have started and wait for the code before either gets it.
    let mut a = spawn_with_stdin(&env, &args);
    let mut b = spawn_with_stdin(&env, &args);
    wait_reading_stdin(&mut a);
    wait_reading_stdin(&mut b);
    let ta = std::thread::spawn({
        let input = format!("{code}\nthe first racer's password\n");
        move || finish(a, &input)
    });
    let (rb, eb) = finish(b, &format!("{code}\nthe second racer's password\n"));
    let (ra, ea) = ta.join().unwrap();
    let mut codes = [ra, rb];
    codes.sort();
    assert_eq!(codes, [0, 1], "exactly one succeeds: {ea} / {eb}");
    let loser = if ra == 1 { ea } else { eb };
    assert!(loser.contains("sign-in failed"), "{loser}");
    assert_eq!(actions(&env, "employee.reset-password"), 1);
}

#[test]
fn a_password_revoked_by_an_administrator_while_typing_changes_nothing() {
    let env = Env::new();
    env.init();
    let (user, temp) = env.add_user("Ann", "ann@contoso.com", &[]);
    let mut a = spawn_with_stdin(&env, &as_employee("set-password", &user, &[]));
    // The employee has typed the current password and is typing the new one...
    wait_reading_stdin(&mut a);
    writeln!(a.stdin.as_mut().unwrap(), "{temp}").unwrap();
    wait_reading_stdin(&mut a);
    // ...when an administrator issues a new temporary password.
    env.ok(&[
        "users",
        "reset-password",
        &user,
        "--credentials-file",
        "new.csv",
    ]);
    let (code, err) = finish(a, "the employee's new password\n");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("sign-in failed"), "{err}");
    assert_eq!(actions(&env, "employee.set-password"), 0);
    // The administrator's password is the one that works.
    let issued = read_credentials(&env.path("new.csv"))[0][2].clone();
    let (code, err) = run_stdin(
        &env,
        &as_employee("set-password", &user, &[]),
        &format!("{issued}\nthe employee's new password\n"),
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_account_removed_while_its_employee_signs_in_links_nothing() {
    let env = Env::new();
    env.init();
    let (user, temp) = env.add_user("Ann", "ann@contoso.com", &[]);
    env.add_user("Root", "root@contoso.com", &["--role", "global-admin"]);
    let (code, err) = run_stdin(
        &env,
        &as_employee("set-password", &user, &[]),
        &format!("{temp}\nann's chosen password\n"),
    );
    assert_eq!(code, 0, "{err}");
    let mut a = spawn_with_stdin(
        &env,
        &as_employee("link-msa", &user, &["--msa", "ann@outlook.com"]),
    );
    wait_reading_stdin(&mut a);
    env.ok(&["users", "remove", &user, "--reason", "left"]);
    let (code, err) = finish(a, "ann's chosen password\n");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("sign-in failed"), "{err}");
    let shown = env.json(&["users", "show", &user]);
    assert_eq!(shown["status"], "removed");
    assert!(shown["msa"].is_null(), "{shown}");
    assert_eq!(actions(&env, "msa.link"), 0);
}

#[test]
fn five_failed_sign_ins_within_15_minutes_lock_the_account_until_the_window_passes() {
    let env = Env::new();
    env.init();
    let (user, temp) = env.add_user("Ann", "ann@contoso.com", &[]);
    let set = |now: &str, current: &str| {
        run_stdin(
            &env,
            &as_employee("set-password", &user, &["--now", now]),
            &format!("{current}\nann's chosen password\n"),
        )
    };
    for minute in 0..5 {
        let (code, err) = set(&format!("2026-01-02T10:0{minute}:00Z"), "a wrong guess");
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("sign-in failed"), "{err}");
    }
    // The right password, 5 minutes after the first failure: refused unchecked.
    let (code, err) = set("2026-01-02T10:05:00Z", &temp);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("sign-in failed") && err.contains("2026-01-02T10:15:00Z"),
        "{err}"
    );
    assert_eq!(env.json(&["users", "show", &user])["password"], "temporary");
    assert_eq!(actions(&env, "employee.sign-in-throttled"), 1);
    assert_eq!(actions(&env, "employee.sign-in-failed"), 5);
    // Once the first failure is 15 minutes old, the right password works.
    let (code, err) = set("2026-01-02T10:15:00Z", &temp);
    assert_eq!(code, 0, "{err}");
    assert_eq!(env.json(&["users", "show", &user])["password"], "chosen");
}

#[test]
fn an_unknown_user_and_a_wrong_password_get_the_same_message() {
    let env = Env::new();
    env.init();
    let (user, _) = env.add_user("Ann", "ann@contoso.com", &[]);
    let (removed, temp) = env.add_user("Bob", "bob@contoso.com", &[]);
    env.ok(&["users", "remove", &removed]);
    let fail = |who: &str, password: &str| {
        let (code, err) = run_stdin(
            &env,
            &as_employee("link-msa", who, &["--msa", "x@outlook.com"]),
            &format!("{password}\n"),
        );
        assert_eq!(code, 1, "{err}");
        err.replace(who, "USER")
    };
    let wrong = fail(&user, "not the password");
    assert_eq!(wrong.trim(), "error: sign-in failed for \"USER\"");
    assert_eq!(fail("nobody@contoso.com", "not the password"), wrong);
    // A removed account's own (once valid) password authenticates nothing either.
    assert_eq!(fail(&removed, &temp), wrong);
    // The audit says what happened; the message does not.
    let audit = env.ok(&["audit"]);
    assert!(audit.contains("no such account"), "{audit}");
    assert!(audit.contains("the account was removed"), "{audit}");
}

#[test]
fn weak_chosen_passwords_are_refused_after_nist_800_63b() {
    let env = Env::new();
    env.init();
    let (user, temp) = env.add_user("Ann", "annabelle.lee@contoso.com", &[]);
    for weak in [
        "aaaaaaaaaaaa",
        "abcdefghijkl",
        "123456789012",
        "qwerasdfzxcv",
        "annabelle.lee",
        user.as_str(),
        "short",
    ] {
        let (code, err) = run_stdin(
            &env,
            &as_employee("set-password", &user, &[]),
            &format!("{temp}\n{weak}\n"),
        );
        assert_eq!(code, 1, "{weak} was accepted");
        assert!(err.starts_with("error: the new password"), "{weak}: {err}");
    }
    assert_eq!(env.json(&["users", "show", &user])["password"], "temporary");
}

#[test]
fn the_audit_actor_is_the_os_user_not_the_user_variable() {
    let env = Env::new();
    env.create("--name Contoso --partner-id 1");
    let out = env
        .cmd()
        .env("USER", "mallory\u{1b}[2J")
        .env("LOGNAME", "mallory")
        .args(users_add("Ann", "ann@x.com", "a.csv", &[]))
        .output()
        .unwrap();
    assert!(out.status.success());
    let audit = env.json(&["audit"]);
    for row in audit.as_array().unwrap() {
        let actor = row["actor"].as_str().unwrap();
        assert_eq!(actor, common::os_user_name());
        assert!(!actor.contains("mallory") && !actor.chars().any(char::is_control));
    }
}

#[test]
fn the_trust_boundary_is_stated_in_the_help_and_the_readme() {
    let env = Env::new();
    let help = env.ok(&["employee", "--help"]);
    assert!(help.contains("anyone who can write the database"), "{help}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("anyone who can write the database"));
}
