//! Progress and Ctrl-C (issue 17): long jobs report named phases in order through the
//! domain's progress trait; SIGINT during any phase of an import rolls it back, removes its
//! partial files, says so in one line and exits 130; `-q`, `--format json` and a stderr
//! that is not a terminal get no progress bytes.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Env;
use competency::api::domain::accounts::Actor;
use competency::api::domain::import::{self, Options};
use competency::api::domain::progress::Recording;
use competency::api::store::Store;

/// How long any wait here may take: past it the test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(120);

fn users_csv(rows: usize, bad: bool) -> String {
    let mut csv = String::from("email,name\n");
    for i in 0..rows {
        csv.push_str(&format!("user{i}@contoso.com,User {i}\n"));
    }
    if bad {
        csv.push_str("not-an-email,Bad Row\n");
    }
    csv
}

/// Who runs the library-level imports here: "t", at midnight of 2026-03-01.
fn actor() -> Actor {
    Actor {
        name: "t".into(),
        at: competency::api::support::clock::midnight(
            chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        ),
    }
}

/// A dry run of importing `file`, its progress recorded: (options, the recording).
fn recorded_dry_run(file: &Path) -> (Options, Arc<Recording>) {
    let rec = Arc::new(Recording::default());
    let mut opts = Options::new(file.to_owned(), rec.clone());
    opts.dry_run = true;
    (opts, rec)
}

fn count(env: &Env, sql: &str) -> i64 {
    env.open_db().scalar(sql, &[]).int()
}

#[test]
fn users_import_reports_its_phases_in_order() {
    let env = Env::new();
    env.init();
    let file = env.path("users.csv");
    std::fs::write(&file, users_csv(3000, false)).unwrap();
    let mut store = Store::open(&env.db()).unwrap();
    let actor = actor();
    let org = store.read(|db| Ok(db.orgs()?.remove(0))).unwrap();
    let (opts, rec) = recorded_dry_run(&file);
    let mut input = import::users::open(&opts).unwrap();
    let s = store
        .write_or_rollback(|db| {
            let s = import::users::import(db, &org, &actor, &opts, &mut input, None, None)?;
            Ok((s, false))
        })
        .unwrap();
    assert_eq!(s.added, 3000);
    assert_eq!(
        rec.phases(),
        vec![
            format!("reading {}", file.display()),
            "checking duplicates".to_owned(),
            "writing 3,000 accounts".to_owned(),
            "linking Microsoft accounts".to_owned(),
        ]
    );
    // The reading phase is sized in bytes and reported to the end of the file.
    let len = std::fs::metadata(&file).unwrap().len();
    let events = rec.events();
    assert_eq!(
        events[0],
        competency::api::domain::progress::Event::Phase(
            format!("reading {}", file.display()),
            Some(len)
        )
    );
    let mut read = 0;
    let mut written = 0;
    let mut phase = 0;
    for e in &events {
        match e {
            competency::api::domain::progress::Event::Phase(..) => phase += 1,
            competency::api::domain::progress::Event::Advance(n) if phase == 1 => read += n,
            competency::api::domain::progress::Event::Advance(n) if phase == 3 => written += n,
            _ => {}
        }
    }
    assert_eq!(read, len);
    assert_eq!(written, 3000);
}

/// Runs `users import` held at the first phase whose name starts with `phase` (the hidden
/// test hook), sends SIGINT once it got there, and returns (exit code, stderr).
fn interrupt_users_import(env: &Env, phase: &str, extra: &[&str]) -> (i32, String) {
    let marker = env.path("held");
    let _ = std::fs::remove_file(&marker);
    let mut args = vec![
        "users",
        "import",
        "users.csv",
        "--credentials-file",
        "creds.csv",
    ];
    args.extend_from_slice(extra);
    let child = env.spawn_held(phase, &marker, &args);
    let out = common::interrupt_when_held(
        child,
        &marker,
        &format!("the phase {phase:?}"),
        DEADLINE,
        || {
            // The credentials are staged in their temporary file by now.
            assert!(
                env.path(".creds.csv.competency-tmp").exists(),
                "{phase}: no temporary credentials file while held"
            );
        },
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sigint_during_users_import_changes_nothing_and_leaves_no_file() {
    let env = Env::new();
    env.init();
    env.add_user("Existing One", "existing@contoso.com", &[]);
    std::fs::write(env.path("users.csv"), users_csv(20_000, true)).unwrap();
    let users = count(&env, "SELECT count(*) FROM users");
    let audit = count(&env, "SELECT count(*) FROM audit");
    for phase in [
        "checking duplicates",
        "writing",
        "saving the credentials file",
    ] {
        let (code, err) = interrupt_users_import(&env, phase, &["--skip-invalid"]);
        assert_eq!(code, 130, "{phase}: {err}");
        assert_eq!(
            err.trim_end(),
            "interrupted: nothing was changed",
            "{phase}: one line on stderr"
        );
        assert_eq!(count(&env, "SELECT count(*) FROM users"), users, "{phase}");
        assert_eq!(count(&env, "SELECT count(*) FROM audit"), audit, "{phase}");
        for f in [
            "creds.csv",
            ".creds.csv.competency-tmp",
            "users.csv.rejects.csv",
        ] {
            assert!(!env.path(f).exists(), "{phase}: {f} left behind");
        }
    }
    // The same import then runs to the end.
    let out = env.ok(&[
        "-q",
        "users",
        "import",
        "users.csv",
        "--skip-invalid",
        "--credentials-file",
        "creds.csv",
    ]);
    assert!(out.contains("20000") || out.contains("20,000"), "{out}");
    assert_eq!(count(&env, "SELECT count(*) FROM users"), users + 20_000);
}

#[test]
fn piped_stderr_quiet_and_json_print_no_progress_bytes() {
    let env = Env::new();
    env.init();
    std::fs::write(env.path("users.csv"), users_csv(5000, false)).unwrap();
    for (i, flags) in [&[][..], &["-q"][..], &["--format", "json"][..]]
        .into_iter()
        .enumerate()
    {
        let creds = format!("creds-{i}.csv");
        let mut args: Vec<&str> = flags.to_vec();
        args.extend(["users", "import", "users.csv", "--dry-run"]);
        let _ = &creds;
        let (code, _, err) = env.run(&args);
        assert_eq!(code, 0, "{flags:?}: {err}");
        for needle in ["reading", "writing", "\r", "\x1b["] {
            assert!(
                !err.contains(needle),
                "{flags:?}: progress bytes {needle:?} on a piped stderr: {err:?}"
            );
        }
    }
}

/// Runs `competency ARGS` on a pty (`script -qec`, stderr included); returns what the
/// terminal received. Gives up after [`DEADLINE`].
fn on_a_terminal(env: &Env, args: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_competency");
    let mut child = Command::new("script")
        .args(["-qec", &format!("{bin} {args}"), "/dev/null"])
        .current_dir(env.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.dir.path())
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm")
        .env("COMPETENCY_DB", env.db())
        .env("COMPETENCY_CONFIG", env.path("config.toml"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("util-linux `script` is needed for this test");
    let deadline = Instant::now() + DEADLINE;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{args}` on a pty did not finish");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_terminal_shows_the_phases_unless_quiet() {
    let env = Env::new();
    env.init();
    std::fs::write(env.path("users.csv"), users_csv(5000, false)).unwrap();
    let shown = on_a_terminal(&env, "users import users.csv --dry-run");
    assert!(shown.contains("reading users.csv"), "{shown:?}");
    let quiet = on_a_terminal(&env, "-q users import users.csv --dry-run");
    for needle in ["reading", "writing", "\x1b["] {
        assert!(!quiet.contains(needle), "-q drew {needle:?}: {quiet:?}");
    }
}

#[test]
fn achievements_import_reports_reading_then_the_index_rebuild() {
    let env = Env::new();
    env.init();
    let file = env.path("exams.csv");
    let mut csv = String::from("msa,code,earned\n");
    for i in 0..500 {
        csv.push_str(&format!("p{i}@outlook.com,70-533,2025-01-01\n"));
    }
    std::fs::write(&file, csv).unwrap();
    let mut store = Store::open(&env.db()).unwrap();
    let actor = actor();
    let (opts, rec) = recorded_dry_run(&file);
    let mut input = import::achievements::open(&opts).unwrap();
    let s = store
        .write_or_rollback(|db| {
            let org = db.orgs()?.remove(0);
            let rb = competency::api::domain::records::rulebook(db, &org)?;
            let s = import::achievements::import(
                db,
                &org,
                &rb,
                &actor,
                actor.at.date_naive(),
                &opts,
                &mut input,
                None,
            )?;
            Ok((s, false))
        })
        .unwrap();
    assert_eq!(s.added, 500, "{:?}", s.errors);
    assert_eq!(
        rec.phases(),
        vec![
            format!("reading {}", file.display()),
            "rebuilding the evaluation index".to_owned(),
        ]
    );
}

#[test]
fn sigint_during_the_index_rebuild_of_an_achievements_import_changes_nothing() {
    let env = Env::new();
    env.init();
    let mut csv = String::from("msa,code,earned\n");
    for i in 0..500 {
        csv.push_str(&format!("p{i}@outlook.com,70-533,2025-01-01\n"));
    }
    csv.push_str("bad,70-533,2025-01-01\n");
    std::fs::write(env.path("exams.csv"), csv).unwrap();
    let marker = env.path("held");
    let child = env.spawn_held(
        "rebuilding",
        &marker,
        "achievements import exams.csv --skip-invalid",
    );
    let out = common::interrupt_when_held(child, &marker, "the rebuild", DEADLINE, || {
        assert!(env.path("exams.csv.rejects.csv").exists());
    });
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert_eq!(err.trim_end(), "interrupted: nothing was changed");
    assert_eq!(count(&env, "SELECT count(*) FROM achievements"), 0);
    assert!(!env.path("exams.csv.rejects.csv").exists(), "rejects left");
    // The index the import dropped is there again (the rollback restored it).
    assert_eq!(
        count(
            &env,
            if env.is_pg() {
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'achievements_by_msa' \
                 AND schemaname = current_schema()"
            } else {
                "SELECT count(*) FROM sqlite_master WHERE name = 'achievements_by_msa'"
            }
        ),
        1
    );
}

#[test]
fn sigint_while_the_report_evaluates_writes_no_file() {
    let env = Env::new();
    env.init();
    let marker = env.path("held");
    let child = env.spawn_held("evaluating", &marker, "report --out r.html");
    let out = common::interrupt_when_held(child, &marker, "the evaluation", DEADLINE, || {});
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert_eq!(err.trim_end(), "interrupted: nothing was changed");
    assert!(!env.path("r.html").exists(), "a report file was left");
}
