//! Concurrent use: several processes at once on one database. No command fails, no write is
//! lost, and "database is locked" never reaches a user — also when the very first commands
//! on a new file race to create, switch to WAL and migrate it.

mod common;

use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{Env, small_rules, users_add};

const WRITERS: usize = 4;
const PER_WRITER: usize = 12;
const READERS: usize = 2;
/// How long the readers keep reading at most: far above the writers' real time.
const READ_DEADLINE: Duration = Duration::from_secs(600);

/// Commands whose exit code means failure, with their output.
type Failures = Arc<Mutex<Vec<String>>>;

fn check(
    failures: &Failures,
    args: &[&str],
    ok_codes: &[i32],
    (code, out, err): (i32, String, String),
) {
    if !ok_codes.contains(&code)
        || err.contains("locked")
        || err.contains("busy")
        || err.contains("panicked")
    {
        failures
            .lock()
            .unwrap()
            .push(format!("{args:?} exited {code}: {err}{out}"));
    }
}

#[test]
fn writers_and_readers_at_once_lose_nothing_and_never_see_locked() {
    let env = Arc::new(Env::new());
    let rules = small_rules();
    env.add_org("Contoso", "1", &rules, "2026-01-01");
    // A Silver membership, so `membership check` evaluates (and records) for real.
    for who in ["base1", "base2"] {
        let msa = format!("{who}@outlook.com");
        env.add_user(
            who,
            &format!("{who}@contoso.com"),
            &["--msa", &msa, "--now", "2026-01-01"],
        );
        env.achievement(&msa, "EX-A", "2025-12-01", "2026-01-01");
    }
    env.record("revenue", "azure", "20000", "2025-12-15", "2026-01-01");
    env.ok("membership upgrade --level silver --now 2026-01-05");
    let failures: Failures = Arc::default();
    let start = Arc::new(Barrier::new(WRITERS + READERS));
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let (env, failures, start, done) =
            (env.clone(), failures.clone(), start.clone(), done.clone());
        handles.push(thread::spawn(move || {
            start.wait();
            for i in 0..PER_WRITER {
                let email = format!("w{w}-{i}@contoso.com");
                let msa = format!("w{w}-{i}@outlook.com");
                let file = format!("cred-{w}-{i}.csv");
                let args = users_add(
                    "Writer",
                    &email,
                    &file,
                    &["--msa", &msa, "--now", "2026-01-01"],
                );
                check(&failures, &args, &[0], env.run(&args));
                let code = if i % 2 == 0 { "EX-A" } else { "EX-B" };
                let args = [
                    "achievements",
                    "add",
                    "--msa",
                    &msa,
                    "--code",
                    code,
                    "--earned",
                    "2025-12-01",
                    "--now",
                    "2026-01-01",
                ];
                check(&failures, &args, &[0], env.run(&args));
            }
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
    }
    let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for r in 0..READERS {
        let (env, failures, start, done, reads) = (
            env.clone(),
            failures.clone(),
            start.clone(),
            done.clone(),
            reads.clone(),
        );
        handles.push(thread::spawn(move || {
            start.wait();
            // Keep reading while any writer is still at work (and at least a few times), but
            // not past the deadline: a writer that panicked never reports done.
            let deadline = Instant::now() + READ_DEADLINE;
            let mut n = 0;
            while done.load(std::sync::atomic::Ordering::SeqCst) < WRITERS || n < 3 {
                if Instant::now() >= deadline {
                    failures.lock().unwrap().push(format!(
                        "the writers did not all finish within {READ_DEADLINE:?}"
                    ));
                    break;
                }
                let (args, ok_codes): (&[&str], &[i32]) = match (r + n) % 3 {
                    0 => (
                        &[
                            "competencies",
                            "progress",
                            "--format",
                            "json",
                            "--now",
                            "2026-01-06",
                        ],
                        &[0],
                    ),
                    // Evaluates and records alerts: exit 3, 4 and 5 are answers, not failures.
                    1 => (
                        &[
                            "membership",
                            "check",
                            "--format",
                            "json",
                            "--now",
                            "2026-01-06",
                        ],
                        &[0, 3, 4, 5],
                    ),
                    _ => (
                        &[
                            "achievements",
                            "list",
                            "--format",
                            "json",
                            "--now",
                            "2026-01-06",
                        ],
                        &[0],
                    ),
                };
                let result = env.run(args);
                if ok_codes.contains(&result.0) {
                    // A reader always sees a consistent, parseable state.
                    if serde_json::from_str::<serde_json::Value>(&result.1).is_err() {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{args:?}: bad JSON {}", result.1));
                    }
                }
                check(&failures, args, ok_codes, result);
                n += 1;
                reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }));
    }
    for h in handles {
        h.join().expect("a worker thread panicked");
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed commands:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(reads.load(std::sync::atomic::Ordering::SeqCst) >= READERS * 3);

    // Nothing lost: every user, link and achievement is there, and audited.
    let users = env.json(&["users", "list", "--all"]);
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), WRITERS * PER_WRITER + 2);
    let achievements = env.json(&["achievements", "list", "--now", "2026-01-05"]);
    let achievements = achievements.as_array().unwrap();
    assert_eq!(achievements.len(), WRITERS * PER_WRITER + 2);
    for w in 0..WRITERS {
        for i in 0..PER_WRITER {
            let email = format!("w{w}-{i}@contoso.com");
            let msa = format!("w{w}-{i}@outlook.com");
            let u = users.iter().find(|u| u["email"] == email.as_str());
            assert!(u.is_some_and(|u| u["msa"] == msa.as_str()), "{email} lost");
            assert!(
                achievements.iter().any(|a| a["msa"] == msa.as_str()),
                "achievement of {msa} lost"
            );
        }
    }
    let audit = env.json(&["audit", "--limit", "100000"]);
    let adds = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "users.add" || a["action"] == "achievements.add")
        .count();
    assert_eq!(adds, 2 * WRITERS * PER_WRITER + 4);
    // The membership survived the crowd and is still checkable.
    let (code, out, err) = env.run("membership check --format json --now 2026-01-06");
    assert!([0, 3].contains(&code), "{code}: {out}{err}");
    let doctor = env.json(&["doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
}

#[test]
fn first_use_of_a_new_database_by_many_processes_at_once() {
    // Creating the file, switching it to WAL and migrating it all race here.
    for round in 0..8 {
        let env = Arc::new(Env::new());
        let n = 6;
        let start = Arc::new(Barrier::new(n));
        let failures: Failures = Arc::default();
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (env, start, failures) = (env.clone(), start.clone(), failures.clone());
                thread::spawn(move || {
                    let name = format!("Org {i}");
                    let id = format!("{}", 1000 + i);
                    let args = ["init", "--name", &name, "--partner-id", &id];
                    start.wait();
                    check(&failures, &args, &[0], env.run(&args));
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let failures = failures.lock().unwrap();
        assert!(
            failures.is_empty(),
            "round {round}:\n{}",
            failures.join("\n")
        );
        let orgs = env.json(&["org", "list"]);
        assert_eq!(orgs.as_array().unwrap().len(), n, "round {round}: {orgs}");
        if !env.is_pg() {
            assert_eq!(common::mode(&env.db()), 0o600);
        }
    }
}

#[test]
fn racing_adds_of_one_e_mail_make_one_account_and_clear_refusals() {
    let env = Arc::new(Env::new());
    env.init();
    let n = 5;
    let start = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (env, start) = (env.clone(), start.clone());
            thread::spawn(move || {
                let file = format!("same-{i}.csv");
                start.wait();
                env.run(&users_add("Same", "same@contoso.com", &file, &[]))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok = results.iter().filter(|r| r.0 == 0).count();
    assert_eq!(ok, 1, "{results:?}");
    for (code, _, err) in results.iter().filter(|r| r.0 != 0) {
        assert_eq!(*code, 1);
        assert!(
            err.contains("same@contoso.com") && !err.contains("locked"),
            "{err}"
        );
    }
    assert_eq!(env.json(&["users", "list"]).as_array().unwrap().len(), 1);
    // Only the winner's credentials file is left.
    let files = (0..n)
        .filter(|i| env.path(&format!("same-{i}.csv")).exists())
        .count();
    assert_eq!(files, 1);
}

/// Several `users import`s of overlapping files at once (bulk writes: a staging table and
/// set-based inserts on PostgreSQL): every one succeeds, every account exists exactly once,
/// and each account's temporary password is in exactly one credentials file — the one of
/// the import that created it, which holds only accounts that exist.
#[test]
fn racing_imports_of_overlapping_files_create_each_account_once() {
    const IMPORTS: usize = 4;
    const SHARED: usize = 200;
    const OWN: usize = 50;
    let env = Arc::new(Env::new());
    env.init();
    for i in 0..IMPORTS {
        let mut csv = String::from("email,name\n");
        for s in 0..SHARED {
            csv.push_str(&format!("shared{s}@contoso.com,Shared {s}\n"));
        }
        for o in 0..OWN {
            csv.push_str(&format!("own{i}-{o}@contoso.com,Own {i} {o}\n"));
        }
        std::fs::write(env.path(&format!("people-{i}.csv")), csv).unwrap();
    }
    let failures: Failures = Arc::default();
    let start = Arc::new(Barrier::new(IMPORTS));
    let handles: Vec<_> = (0..IMPORTS)
        .map(|i| {
            let (env, start, failures) = (env.clone(), start.clone(), failures.clone());
            thread::spawn(move || {
                let file = format!("people-{i}.csv");
                let creds = format!("creds-{i}.csv");
                let args = ["-q", "users", "import", &file, "--credentials-file", &creds];
                start.wait();
                check(&failures, &args, &[0], env.run(&args));
            })
        })
        .collect();
    for h in handles {
        h.join().expect("an import thread panicked");
    }
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let users = env.json(&["users", "list"]);
    let users = users.as_array().unwrap();
    let mut emails: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    emails.sort_unstable();
    let total = emails.len();
    emails.dedup();
    assert_eq!(emails.len(), total, "an e-mail has two accounts");
    assert_eq!(total, SHARED + IMPORTS * OWN);
    let mut issued: Vec<String> = Vec::new();
    for i in 0..IMPORTS {
        let path = env.path(&format!("creds-{i}.csv"));
        if path.exists() {
            issued.extend(
                common::read_credentials(&path)
                    .into_iter()
                    .map(|r| r[0].clone()),
            );
        }
    }
    issued.sort_unstable();
    let mut usernames: Vec<String> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect();
    usernames.sort_unstable();
    assert_eq!(
        issued, usernames,
        "each account's password is in exactly one credentials file"
    );
    let doctor = env.json(&["doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
}
