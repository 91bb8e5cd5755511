//! Import benchmark against the sqlite3 shell (not a test: it prints figures).
//!
//! ```text
//! cargo run --release --example bench -- --users 1000000 [--achievements 3000000]
//! ```
//!
//! Generates the CSVs in a temporary folder, then in the same run times our imports through
//! the real binary (`target/release/competency`, rebuilt first when run by cargo) and the
//! sqlite3 shell's `.import --csv` of the same file into a table of the same columns with
//! the same unique indexes. Peak RSS is our process's VmHWM, polled from /proc. When the
//! binary has `competencies progress` / `membership check`, they are timed too on 100,000
//! people and 300,000 achievements, against one sqlite3 `group by` over the same data.
//! On the same people with the `solutions-partner` designations added (all six qualifying),
//! `designations score` and `list` are timed against `competencies progress`, and the
//! one-pass analyses (`achievements renewals`, with `--all`, and `report`) against `designations
//! score`; `--eval-users 10000 --achievements 30000` and `20000`/`60000` show their growth.
//! `--trainings N` (default 1,000,000; 0 skips it) times `achievements import` of a Partner
//! Center Trainings report of N rows against our own CSV of the same rows, each into a fresh
//! database (the goal: the report within 1.5× of the CSV). `--trainings-people N` (default
//! 60,000; 0 skips it) times the same report of N people (four rows each) imported with
//! `--create-users` on SQLite and, with a PostgreSQL URL (below, or else the tests'
//! `COMPETENCY_TEST_PG` server, where it creates and drops a database of its own), on
//! PostgreSQL against the SQLite figure (issue 26: at most 2×).
//!
//! The users are imported twice, each file into a fresh database against the shell: once
//! with randomly ordered keys, once as an export whose e-mails cluster by first name (the
//! order the shell's B-trees like best). The "DB MB" column is the database's size after
//! the import, "vs raw" against the shell's database of the same rows (issue 14: ≤ 2×).
//! `--achievements 0`, `--eval-users 0`, `--trainings 0` and `--trainings-people 0` skip
//! those parts, so
//! `--users 1000000 --achievements 0 --eval-users 0 --trainings 0 --trainings-people 0`
//! times the users only.
//! `COMPETENCY_BENCH_KEEP=DIR` works in DIR and leaves its files there, the shell's
//! databases included (for `dbstat`: where the bytes go); the caller deletes it.
//!
//! With `COMPETENCY_BENCH_PG=postgres://USER@HOST/DB` (a throwaway database: its `public`
//! schema is dropped and re-created between runs; the password from `PGPASSWORD`), a
//! PostgreSQL column is added: the users import against `psql \copy` of the same file
//! into a table with the same unique indexes, the achievements import against `psql \copy`
//! and against the SQLite figure, the Trainings report import against the SQLite figure, and
//! `membership check` at the evaluation's people against the SQLite figure.
// Prints figures and notes for the person running it (clippy.toml keeps `print!` out of src/).
#![allow(clippy::disallowed_macros)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CODES: &[&str] = &["70-532", "70-533", "70-535", "AZ-104"];
/// The titles of [`CODES`] in tests/data/rulebook.toml, as the Trainings report writes them.
const TITLES: &[&str] = &[
    "Developing Microsoft Azure Solutions",
    "Implementing Microsoft Azure Infrastructure Solutions",
    "Architecting Microsoft Azure Solutions",
    "Microsoft Azure Administrator",
];
const NOW: &str = "2026-03-01";

struct Args {
    users: u64,
    /// `None`: three per user; `Some(0)`: skipped.
    achievements: Option<u64>,
    eval_users: u64,
    trainings: u64,
    /// People of the Trainings report imported with `--create-users` (0 skips it).
    trainings_people: u64,
}

fn args() -> Args {
    let mut a = Args {
        users: 100_000,
        achievements: None,
        eval_users: 100_000,
        trainings: 1_000_000,
        trainings_people: 60_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = || -> u64 {
            it.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or_else(|| panic!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--users" => a.users = num(),
            "--achievements" => a.achievements = Some(num()),
            "--eval-users" => a.eval_users = num(),
            "--trainings" => a.trainings = num(),
            "--trainings-people" => a.trainings_people = num(),
            other => panic!(
                "unknown flag {other} (--users N, --achievements N [default 3 per user], \
                 --eval-users N, --trainings N, --trainings-people N)"
            ),
        }
    }
    a
}

/// A bijection on u32 so that generated keys arrive in no particular order, as a real
/// export's would (sorted keys would flatter every B-tree).
fn mix(i: u64) -> u32 {
    let mut x = (i as u32).wrapping_mul(0x9E37_79B1);
    x ^= x >> 15;
    x.wrapping_mul(0x85EB_CA77)
}

fn write_users(path: &Path, n: u64) {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    writeln!(w, "email,name,msa,role").unwrap();
    for i in 0..n {
        let k = mix(i);
        let role = if i % 50 == 0 { "report-viewer" } else { "user" };
        writeln!(
            w,
            "p{k:08x}.{i}@contoso.com,Person {i} Example,m{k:08x}.{i}@outlook.com,{role}"
        )
        .unwrap();
    }
}

/// First names an export clusters by (its rows sorted by first name, as a directory's).
const FIRST_NAMES: &[&str] = &[
    "aaron", "abigail", "adam", "adrian", "aisha", "alan", "albert", "alex", "alice", "amelia",
    "amir", "ana", "andrea", "andrew", "anna", "anthony", "arjun", "ben", "carla", "carlos",
    "chen", "chloe", "chris", "daniel", "david", "diana", "elena", "emily", "emma", "eric",
    "fatima", "felix", "george", "grace", "hannah", "hugo", "ian", "isabel", "jack", "james",
    "jane", "jia", "john", "jose", "julia", "karen", "kevin", "laura", "leo", "li", "linda",
    "lucas", "maria", "mark", "mary", "mei", "michael", "mohammed", "nina", "noah", "olga",
    "oliver", "omar", "paul", "peter", "priya", "rachel", "raj", "robert", "sara", "sofia",
    "steven", "thomas", "wei", "william", "yuki", "zoe",
];

/// The same kind of people as [`write_users`], as an export whose e-mails cluster by first
/// name: the file runs through the first names in order, each with its people in no
/// particular order of surname.
fn write_users_clustered(path: &Path, n: u64) {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    writeln!(w, "email,name,msa,role").unwrap();
    let names = FIRST_NAMES.len() as u64;
    for i in 0..n {
        let first = FIRST_NAMES[(i * names / n.max(1)) as usize];
        let k = mix(i);
        let role = if i % 50 == 0 { "report-viewer" } else { "user" };
        writeln!(
            w,
            "{first}.s{k:08x}.{i}@contoso.com,{first} S{k:08x} Example,m{k:08x}.{i}@outlook.com,{role}"
        )
        .unwrap();
    }
}

fn write_achievements(path: &Path, n: u64, people: u64) {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    writeln!(w, "msa,code,earned,expires").unwrap();
    for j in 0..n {
        // Person j mod people, a different code each round: every key is unique.
        let people = people.max(1);
        let i = j % people;
        let round = j / people;
        let k = mix(i);
        let code = CODES[(round % CODES.len() as u64) as usize];
        let day = 1 + (round / CODES.len() as u64 + i) % 28;
        let month = 1 + i % 12;
        let year = 2015 + (round / CODES.len() as u64 + i) % 10;
        writeln!(
            w,
            "m{k:08x}.{i}@outlook.com,{code},{year}-{month:02}-{day:02},"
        )
        .unwrap();
    }
}

/// Runs a command, polling its peak RSS; returns (seconds, peak KiB).
fn timed(cmd: &mut Command) -> (f64, u64) {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let status_path = format!("/proc/{}/status", child.id());
    let stat_path = format!("/proc/{}/stat", child.id());
    let mut peak = 0;
    let mut cpu = 0.0;
    loop {
        // user + system time (fields 14 and 15, in clock ticks of 1/100 s), read until the
        // child is reaped: the figure to compare when other work shares the cores.
        if let Ok(s) = std::fs::read_to_string(&stat_path)
            && let Some((_, rest)) = s.rsplit_once(')')
        {
            let f: Vec<&str> = rest.split_whitespace().collect();
            if let (Some(u), Some(k)) = (
                f.get(11).and_then(|v| v.parse::<f64>().ok()),
                f.get(12).and_then(|v| v.parse::<f64>().ok()),
            ) {
                cpu = (u + k) / 100.0;
            }
        }
        if let Ok(s) = std::fs::read_to_string(&status_path)
            && let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{cmd:?} failed: {status}");
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = start.elapsed().as_secs_f64();
    eprintln!("  {wall:.2} s wall, {cpu:.2} s CPU (user + system)");
    (wall, peak)
}

fn sqlite3(db: &Path, script: &str) -> (f64, u64) {
    let script_path = db.with_extension("sql");
    std::fs::write(&script_path, script).unwrap();
    timed(
        Command::new("sqlite3")
            .arg(db)
            .arg(format!(".read {}", script_path.display())),
    )
}

struct Row {
    task: String,
    rows: u64,
    secs: f64,
    peer: Option<f64>,
    rss_kib: u64,
    /// The database's size after the task, and the shell's for the same rows.
    size: Option<(u64, Option<u64>)>,
}

impl Row {
    fn new(task: &str, rows: u64, secs: f64, peer: Option<f64>, rss_kib: u64) -> Row {
        Row {
            task: task.into(),
            rows,
            secs,
            peer,
            rss_kib,
            size: None,
        }
    }
}

fn print(rows: &[Row]) {
    println!(
        "| {:<52} | {:>9} | {:>7} | {:>10} | {:>10} | {:>9} | {:>7} | {:>6} |",
        "task", "rows", "seconds", "rows/s", "vs sqlite3", "peak RSS", "DB MB", "vs raw"
    );
    println!(
        "|{}|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(54),
        "-".repeat(11),
        "-".repeat(9),
        "-".repeat(12),
        "-".repeat(12),
        "-".repeat(11),
        "-".repeat(9),
        "-".repeat(8)
    );
    for r in rows {
        let mb = |b: u64| b as f64 / 1e6;
        println!(
            "| {:<52} | {:>9} | {:>7.2} | {:>10.0} | {:>10} | {:>9} | {:>7} | {:>6} |",
            r.task,
            r.rows,
            r.secs,
            r.rows as f64 / r.secs,
            r.peer
                .map(|p| format!("{:.2}x", r.secs / p))
                .unwrap_or_else(|| "-".into()),
            if r.rss_kib == 0 {
                "-".into()
            } else {
                format!("{:.1} MiB", r.rss_kib as f64 / 1024.0)
            },
            r.size
                .map(|(b, _)| format!("{:.0}", mb(b)))
                .unwrap_or_else(|| "-".into()),
            match r.size {
                Some((b, Some(p))) => format!("{:.2}x", b as f64 / p as f64),
                _ => "-".into(),
            }
        );
    }
}

/// The binary under test: `COMPETENCY_BENCH_BIN` if set (e.g. an older build, for a before
/// and after), else `target/release/competency`, rebuilt first when run by cargo.
fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("COMPETENCY_BENCH_BIN") {
        // Absolute: the imports run in the bench's folder.
        return std::fs::canonicalize(&bin).expect("COMPETENCY_BENCH_BIN: no such file");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if let Ok(cargo) = std::env::var("CARGO") {
        let ok = Command::new(cargo)
            .args(["build", "--release", "--quiet", "--bin", "competency"])
            .current_dir(&root)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "cannot build the release binary");
    }
    root.join("target/release/competency")
}

fn competency(bin: &Path, db: &Path) -> Command {
    competency_at(bin, db, NOW)
}

/// The binary acting at `now` on `db`, quietly.
fn competency_at(bin: &Path, db: &Path, now: &str) -> Command {
    let mut c = Command::new(bin);
    c.arg("--db").arg(db).args(["--now", now, "-q"]);
    c
}

/// When the evaluations run: two days after the import, so links and achievements count.
const LATER: &str = "2026-03-03";

/// `init` of the bench's organization at `db` (a path, or a PostgreSQL URL).
fn init(bin: &Path, db: &Path) {
    let rulebook = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rulebook.toml");
    let ok = competency(bin, db)
        .args(["init", "--name", "Bench", "--partner-id", "1"])
        .arg("--rulebook")
        .arg(rulebook)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "init failed");
}

fn has_command(bin: &Path, words: &[&str]) -> bool {
    Command::new(bin)
        .args(words)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn main() {
    let a = args();
    let bin = binary();
    // COMPETENCY_BENCH_KEEP=DIR works in DIR and leaves every file there (the databases,
    // the shell's included, for `dbstat`); the caller deletes it.
    let keep = std::env::var_os("COMPETENCY_BENCH_KEEP").map(PathBuf::from);
    let dir = tempfile::tempdir().unwrap();
    let d = match &keep {
        Some(k) => {
            std::fs::create_dir_all(k).unwrap();
            k.as_path()
        }
        None => dir.path(),
    };
    let have_sqlite = Command::new("sqlite3")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have_sqlite {
        eprintln!("sqlite3 not found (apt-get install -y sqlite3): no ratios");
    }
    let pg = std::env::var("COMPETENCY_BENCH_PG")
        .ok()
        .filter(|u| !u.is_empty());
    let n_achievements = a.achievements.unwrap_or(a.users * 3);
    eprintln!(
        "generating {} users (two orders) and {} achievements in {} …",
        a.users,
        n_achievements,
        d.display()
    );
    let users = d.join("users.csv");
    let clustered = d.join("users-clustered.csv");
    let achievements = d.join("achievements.csv");
    write_users(&users, a.users);
    write_users_clustered(&clustered, a.users);
    let mut table = Vec::new();

    // Users, each order into a fresh database: the sqlite3 shell first, then ours.
    let db = users_import(&bin, d, &users, "random keys", have_sqlite, &mut table);
    users_import(
        &bin,
        d,
        &clustered,
        "e-mails by first name",
        have_sqlite,
        &mut table,
    );
    if let Some(url) = &pg {
        pg_users_import(&bin, url, &users, &mut table);
    }
    std::fs::remove_file(&clustered).ok();

    if n_achievements > 0 {
        write_achievements(&achievements, n_achievements, a.users);
        let peer = have_sqlite.then(|| {
            sqlite3(
                &d.join("peer-achievements.db"),
                &format!(
                    "CREATE TABLE achievements (msa TEXT, code TEXT, earned TEXT, expires TEXT);\n\
                     CREATE UNIQUE INDEX achievements_key ON achievements(msa, code, earned);\n\
                     .import --csv --skip 1 {} achievements\n",
                    achievements.display()
                ),
            )
        });
        if let Some((s, rss)) = peer {
            table.push(Row::new(
                "sqlite3 .import achievements",
                n_achievements,
                s,
                None,
                rss,
            ));
        }
        eprintln!("importing achievements …");
        let (s, rss) = timed(
            competency(&bin, &db)
                .args(["achievements", "import"])
                .arg(&achievements),
        );
        table.push(Row::new(
            "competency achievements import",
            n_achievements,
            s,
            peer.map(|p| p.0),
            rss,
        ));
        if let Some(url) = &pg {
            pg_achievements_import(&bin, url, &achievements, n_achievements, s, &mut table);
        }
    }

    eprintln!("re-importing users (all unchanged) …");
    let (s, rss) = timed(
        competency(&bin, &db)
            .args(["users", "import"])
            .arg(&users)
            .arg("--credentials-file")
            .arg(d.join("credentials-again.csv")),
    );
    table.push(Row::new(
        "competency users re-import",
        a.users,
        s,
        None,
        rss,
    ));

    let db = if a.eval_users > 0 {
        evaluation(&bin, d, a.eval_users, have_sqlite, &mut table)
    } else {
        None
    };
    if let (Some(url), Some(db)) = (&pg, &db) {
        pg_membership_check(&bin, url, db, a.eval_users, &mut table);
    }
    if a.trainings > 0 {
        trainings(&bin, d, a.trainings, pg.as_deref(), &mut table);
    }
    if a.trainings_people > 0 {
        trainings_create_users(&bin, d, a.trainings_people, pg.as_deref(), &mut table);
    }
    print(&table);
    if let Some(db) = db {
        designations(&bin, d, &db, a.eval_users);
    }
}

/// The TOML of the default rulebook with the `solutions-partner` designations, designation
/// fee and the catalogue entries it lacks added (the rulebook `designations` below loads).
fn merged_rulebook() -> String {
    use competency::api::rules::rulebook::{DEFAULT_RULEBOOK, SOLUTIONS_PARTNER_RULEBOOK};
    let mut rb: toml::Table = DEFAULT_RULEBOOK.parse().unwrap();
    let sp: toml::Table = SOLUTIONS_PARTNER_RULEBOOK.parse().unwrap();
    let code = |e: &toml::Value| e.get("code").and_then(|c| c.as_str()).map(str::to_owned);
    let catalog = rb["catalog"].as_array_mut().unwrap();
    let known: Vec<Option<String>> = catalog.iter().map(code).collect();
    for e in sp["catalog"].as_array().unwrap() {
        if !known.contains(&code(e)) {
            catalog.push(e.clone());
        }
    }
    rb.insert("designations".into(), sp["designations"].clone());
    let fee = sp["fees"]["designation"].clone();
    rb["fees"]
        .as_table_mut()
        .unwrap()
        .insert("designation".into(), fee);
    toml::to_string(&rb).unwrap()
}

/// The size of a database in bytes: the file and its write-ahead log, if any.
fn db_bytes(db: &Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    [db.to_path_buf(), wal]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// One users file imported by the shell and by us, each into a fresh database; returns ours.
fn users_import(
    bin: &Path,
    d: &Path,
    file: &Path,
    order: &str,
    have_sqlite: bool,
    table: &mut Vec<Row>,
) -> PathBuf {
    let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
    let rows = std::fs::read(file)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64 - 1)
        .unwrap_or(0);
    let peer_db = d.join(format!("peer-{stem}.db"));
    let peer = have_sqlite.then(|| {
        sqlite3(
            &peer_db,
            &format!(
                "CREATE TABLE users (email TEXT, name TEXT, msa TEXT, role TEXT);\n\
                 CREATE UNIQUE INDEX users_email ON users(email);\n\
                 CREATE UNIQUE INDEX users_msa ON users(msa);\n\
                 .import --csv --skip 1 {} users\n",
                file.display()
            ),
        )
    });
    let peer_size = peer.map(|_| db_bytes(&peer_db));
    if let Some((s, rss)) = peer {
        let mut row = Row::new(
            &format!("sqlite3 .import users ({order})"),
            rows,
            s,
            None,
            rss,
        );
        row.size = peer_size.map(|p| (p, None));
        table.push(row);
    }
    if std::env::var_os("COMPETENCY_BENCH_KEEP").is_none() {
        std::fs::remove_file(&peer_db).ok();
    }
    let db = d.join(format!("competency-{stem}.db"));
    init(bin, &db);
    eprintln!("importing users ({order}) …");
    let (s, rss) = timed(
        competency(bin, &db)
            .current_dir(d)
            .args(["users", "import"])
            .arg(file)
            .arg("--credentials-file")
            .arg(d.join(format!("credentials-{stem}.csv"))),
    );
    std::fs::remove_file(d.join(format!("credentials-{stem}.csv"))).ok();
    let mut row = Row::new(
        &format!("competency users import ({order})"),
        rows,
        s,
        peer.map(|p| p.0),
        rss,
    );
    row.size = Some((db_bytes(&db), peer_size));
    table.push(row);
    db
}

/// `psql` on the bench's PostgreSQL database, quietly, stopping at the first error.
fn psql(url: &str) -> Command {
    let mut c = Command::new("psql");
    c.arg(url).args(["-q", "-v", "ON_ERROR_STOP=1"]);
    c
}

/// Empties the bench's PostgreSQL database (a throwaway one: see the module comment).
fn pg_reset(url: &str) {
    let ok = psql(url)
        .args(["-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "cannot reset the PostgreSQL database of COMPETENCY_BENCH_PG"
    );
}

/// The users import on PostgreSQL against `psql \copy` of the same file into a table with
/// the same unique indexes, each into an emptied database.
fn pg_users_import(bin: &Path, url: &str, file: &Path, table: &mut Vec<Row>) {
    let rows = std::fs::read(file)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64 - 1)
        .unwrap_or(0);
    pg_reset(url);
    eprintln!("psql \\copy users …");
    let (peer, rss) = timed(psql(url).args([
        "-c",
        "CREATE TABLE users (email TEXT, name TEXT, msa TEXT, role TEXT); \
         CREATE UNIQUE INDEX users_email ON users(email); \
         CREATE UNIQUE INDEX users_msa ON users(msa);",
        "-c",
        &format!(
            "\\copy users FROM '{}' WITH (FORMAT csv, HEADER true)",
            file.display()
        ),
    ]));
    table.push(Row::new(
        "psql \\copy users (PostgreSQL)",
        rows,
        peer,
        None,
        rss,
    ));
    pg_reset(url);
    init(bin, Path::new(url));
    eprintln!("importing users into PostgreSQL …");
    let creds = file.with_file_name("credentials-pg.csv");
    let (s, rss) = timed(
        competency(bin, Path::new(url))
            .args(["users", "import"])
            .arg(file)
            .arg("--credentials-file")
            .arg(&creds),
    );
    std::fs::remove_file(&creds).ok();
    table.push(Row::new(
        "competency users import (PostgreSQL, vs psql)",
        rows,
        s,
        Some(peer),
        rss,
    ));
}

/// The achievements import on PostgreSQL against `psql \copy` of the same file into a table
/// with the same unique key, and against the SQLite figure (`sqlite_secs`), each into an
/// emptied database.
fn pg_achievements_import(
    bin: &Path,
    url: &str,
    file: &Path,
    rows: u64,
    sqlite_secs: f64,
    table: &mut Vec<Row>,
) {
    pg_reset(url);
    eprintln!("psql \\copy achievements …");
    let (peer, rss) = timed(psql(url).args([
        "-c",
        "CREATE TABLE achievements (msa TEXT, code TEXT, earned TEXT, expires TEXT); \
         CREATE UNIQUE INDEX achievements_key ON achievements(msa, code, earned);",
        "-c",
        &format!(
            "\\copy achievements FROM '{}' WITH (FORMAT csv, HEADER true)",
            file.display()
        ),
    ]));
    table.push(Row::new(
        "psql \\copy achievements (PostgreSQL)",
        rows,
        peer,
        None,
        rss,
    ));
    pg_reset(url);
    init(bin, Path::new(url));
    eprintln!("importing achievements into PostgreSQL …");
    let (s, rss) = timed(
        competency(bin, Path::new(url))
            .args(["achievements", "import"])
            .arg(file),
    );
    table.push(Row::new(
        "competency achievements import (PostgreSQL, vs psql)",
        rows,
        s,
        Some(peer),
        rss,
    ));
    table.push(Row::new(
        "… the same import on PostgreSQL (vs SQLite)",
        rows,
        s,
        Some(sqlite_secs),
        rss,
    ));
}

/// `membership check` on PostgreSQL against the SQLite figure, on the evaluation's data
/// copied up with `competency copy`.
fn pg_membership_check(bin: &Path, url: &str, db: &Path, people: u64, table: &mut Vec<Row>) {
    let time = |target: &Path| {
        median(|| {
            let mut c = competency_at(bin, target, LATER);
            c.args(["membership", "check", "--format", "json"]);
            let start = Instant::now();
            let _ = c.stdout(Stdio::null()).status();
            start.elapsed().as_secs_f64()
        })
    };
    let sqlite = time(db);
    pg_reset(url);
    let ok = Command::new(bin)
        .args(["-q", "copy", "--from"])
        .arg(db)
        .args(["--to", url])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "competency copy to PostgreSQL failed");
    let secs = time(Path::new(url));
    table.push(Row::new(
        "competency membership check (PostgreSQL, vs SQLite)",
        people * 3,
        secs,
        Some(sqlite),
        0,
    ));
}

/// The certification only two people hold in the designations' data (a gate of three).
const GATE_CODE: &str = "AZ-305";

/// Designations on the evaluation's data (SPEC §9, issue 13): the default rulebook with the
/// `solutions-partner` designations and catalogue added, one Solutions Partner
/// certification more per person, every figure of the 2026 rulebook recorded at its maximum
/// (per track and association where it asks) and the classified designations classified
/// `enterprise`, so that the designations qualify; then `designations score` and
/// `designations list` (which adds the exact six-month window) against `competencies
/// progress`, and the one-pass analyses of issue 25 (`achievements renewals`, with `--all`,
/// and `report`) against `designations score`, all on the same data.
fn designations(bin: &Path, d: &Path, db: &Path, people: u64) {
    use competency::api::rules::Rulebook;
    use competency::api::rules::rulebook::SOLUTIONS_PARTNER_RULEBOOK;
    if !has_command(bin, &["designations", "score"]) {
        return;
    }
    let text = merged_rulebook();
    let rb = Rulebook::parse(&text, "merged-rulebook.toml").unwrap();
    let book = d.join("merged-rulebook.toml");
    std::fs::write(&book, &text).unwrap();
    let codes: Vec<&str> = rb
        .catalog
        .iter()
        .filter(|c| c.valid_days == Some(365) && c.kind.as_str() == "certification")
        .map(|c| c.code.as_str())
        .filter(|c| SOLUTIONS_PARTNER_RULEBOOK.contains(&format!("code = \"{c}\"")))
        // Held by two people only (below): the gates they fill are what the renewals rely on.
        .filter(|c| *c != GATE_CODE)
        .collect();
    let file = d.join("sp-achievements.csv");
    let mut w = BufWriter::with_capacity(1 << 20, File::create(&file).unwrap());
    writeln!(w, "msa,code,earned,expires").unwrap();
    for i in 0..people {
        let k = mix(i);
        let code = codes[(k as usize >> 3) % codes.len()];
        // Earned between 2025-04 and 2026-01: valid at the bench's instant, and a new
        // change point every few days of the window.
        let month = 4 + (k >> 11) % 10;
        let (year, month) = if month > 12 {
            (2026, month - 12)
        } else {
            (2025, month)
        };
        let day = 1 + (i % 28);
        writeln!(
            w,
            "m{k:08x}.{i}@outlook.com,{code},{year}-{month:02}-{day:02},"
        )
        .unwrap();
    }
    // The advanced gate of the three Azure designations (two people on `enterprise`), held by
    // exactly two people whose certifications expire within the renewal rows' 180 days: each
    // is relied on, so `achievements renewals` lists them with what they carry.
    for i in 0..2.min(people) {
        let k = mix(i);
        writeln!(
            w,
            "m{k:08x}.{i}@outlook.com,{GATE_CODE},2025-05-0{},",
            i + 1
        )
        .unwrap();
    }
    drop(w);
    let steps: Vec<Vec<String>> = vec![
        vec!["rules".into(), "import".into(), book.display().to_string()],
        vec![
            "achievements".into(),
            "import".into(),
            file.display().to_string(),
        ],
    ];
    let mut steps = steps;
    // The figures the 2026 rulebook declares, each at its maximum: the classified areas (Azure,
    // Business Applications) take one value per metric; the `best` areas (Modern Work,
    // Security) one per track, usage growth and deployments of Modern Work per association.
    let record = |scope: &str, metric: &str, value: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "performance",
            "record",
            "--metric",
            metric,
            "--scope",
            scope,
            "--value",
            value,
            "--date",
            "2026-01-01",
        ]
        .map(String::from)
        .to_vec();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    for (scope, adds, growth) in [("azure", "3", "20"), ("business-applications", "5", "30")] {
        for (metric, value) in [
            ("net-customer-adds", adds),
            ("usage-growth", growth),
            ("deployments", "5"),
        ] {
            steps.push(record(scope, metric, value, &[]));
        }
    }
    for track in ["enterprise", "smb"] {
        let t = ["--track", track];
        steps.push(record("modern-work", "net-customer-adds", "10", &t));
        for (metric, value) in [("usage-growth", "1000"), ("deployments", "5")] {
            steps.push(record(
                "modern-work",
                metric,
                value,
                &["--track", track, "--association", "cpor"],
            ));
        }
        for (metric, value) in [
            ("net-customer-adds", "10"),
            ("usage-growth", "25000"),
            ("protected-users-growth", "2500"),
            ("deployments", "6"),
        ] {
            steps.push(record("security", metric, value, &t));
        }
    }
    // Partner Center's classification of the classified designations: without it a
    // designation qualifies only when both tracks do.
    steps.push(
        [
            "designations",
            "track",
            "infrastructure",
            "digital-app-innovation",
            "data-ai",
            "business-applications",
            "enterprise",
            "--since",
            "2025-01-01",
        ]
        .map(String::from)
        .to_vec(),
    );
    for args in steps {
        let ok = competency_at(bin, db, LATER)
            .args(&args)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "{args:?} failed");
    }
    // The rows below are meant on qualifying designations (issue 25: the analyses that
    // were slow once one qualifies): say how many do.
    let out = competency_at(bin, db, LATER)
        .args(["designations", "list", "--format", "json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let qualified: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["qualified"] == serde_json::Value::Bool(true))
        .filter_map(|d| d["id"].as_str())
        .collect();
    eprintln!(
        "{} designation(s) qualify at {LATER}: {}",
        qualified.len(),
        qualified.join(", ")
    );
    let report = d.join("bench-report.html");
    let time = |words: &[&str]| {
        median(|| {
            let mut c = competency_at(bin, db, LATER);
            c.args(words);
            if words[0] == "report" {
                c.arg("--out").arg(&report).arg("--force");
            } else {
                c.arg("--format").arg("json");
            }
            let start = Instant::now();
            let status = c.stdout(Stdio::null()).status().unwrap();
            let secs = start.elapsed().as_secs_f64();
            // Exit code 3 (a renewal to make) is an answer, not a failure.
            assert!(matches!(status.code(), Some(0 | 3)), "{words:?}: {status}");
            secs
        })
    };
    let progress = time(&["competencies", "progress"]);
    println!();
    println!(
        "| {:<56} | {:>7} | {:>11} | {:>8} |",
        format!("designations, {people} people (medians of 5)"),
        "seconds",
        "vs progress",
        "vs score"
    );
    println!(
        "|{}|{}|{}|{}|",
        "-".repeat(58),
        "-".repeat(9),
        "-".repeat(13),
        "-".repeat(10)
    );
    println!(
        "| {:<56} | {:>7.2} | {:>11} | {:>8} |",
        "competency competencies progress", progress, "1.00x", "–"
    );
    let mut score = None;
    for (label, words) in [
        (
            "competency designations score",
            &["designations", "score"][..],
        ),
        (
            "competency designations list (score + 6-month window)",
            &["designations", "list"][..],
        ),
        (
            "competency achievements renewals (relied on, 180 days)",
            &["achievements", "renewals"][..],
        ),
        (
            "competency achievements renewals --all",
            &["achievements", "renewals", "--all"][..],
        ),
        ("competency report --out FILE (HTML)", &["report"][..]),
    ] {
        if !has_command(bin, words) {
            continue;
        }
        let secs = time(words);
        let vs_score = score.map_or("1.00x".to_owned(), |s| format!("{:.2}x", secs / s));
        score.get_or_insert(secs);
        println!(
            "| {:<56} | {:>7.2} | {:>10.2}x | {:>8} |",
            label,
            secs,
            secs / progress,
            vs_score
        );
    }
}

/// The same `n` achievements as our CSV and as a Partner Center Trainings report (2021
/// layout, day-first dates with a time, every column the report has), each imported into a
/// fresh database; the report's row compares it with the CSV.
fn trainings(bin: &Path, d: &Path, n: u64, pg: Option<&str>, table: &mut Vec<Row>) {
    let csv = d.join("same-rows.csv");
    let report = d.join("Export_trainings_Lifetime_1_Bench.csv");
    eprintln!("generating a {n}-row Trainings report and the same rows as our CSV …");
    write_trainings(&report, Some(&csv), n);
    let mut secs = [0.0; 2];
    let mut rss = [0; 2];
    for (slot, (name, file)) in [("csv", &csv), ("report", &report)].into_iter().enumerate() {
        let db = d.join(format!("trainings-{name}.db"));
        init(bin, &db);
        eprintln!("importing the same rows as {name} …");
        (secs[slot], rss[slot]) = timed(
            competency(bin, &db)
                .current_dir(d)
                .args(["achievements", "import"])
                .arg(file),
        );
    }
    table.push(Row {
        task: "competency achievements import (our CSV)".into(),
        rows: n,
        secs: secs[0],
        peer: None,
        rss_kib: rss[0],
        size: None,
    });
    table.push(Row {
        task: "… the same rows as a Trainings report (vs CSV)".into(),
        rows: n,
        secs: secs[1],
        peer: Some(secs[0]),
        rss_kib: rss[1],
        size: None,
    });
    if let Some(url) = pg {
        pg_reset(url);
        init(bin, Path::new(url));
        eprintln!("importing the Trainings report into PostgreSQL …");
        let (s, rss) = timed(
            competency(bin, Path::new(url))
                .current_dir(d)
                .args(["achievements", "import"])
                .arg(&report),
        );
        table.push(Row::new(
            "… the Trainings report on PostgreSQL (vs SQLite)",
            n,
            s,
            Some(secs[1]),
            rss,
        ));
    }
}

/// Writes the `n` rows of [`trainings`] as a Partner Center Trainings report at `report`
/// (2021 layout, day-first dates with a time, every column the report has: a person's
/// CorpEmail and name on each of their four rows) and, when `csv` is given, as our CSV.
fn write_trainings(report: &Path, csv: Option<&Path>, n: u64) {
    let people = (n / CODES.len() as u64).max(1);
    let mut c = csv.map(|csv| BufWriter::with_capacity(1 << 20, File::create(csv).unwrap()));
    let mut r = BufWriter::with_capacity(1 << 20, File::create(report).unwrap());
    if let Some(c) = &mut c {
        writeln!(c, "msa,code,earned,expires").unwrap();
    }
    writeln!(
        r,
        "TrainingActivityId,TrainingTitle,TrainingType,IndividualFirstName,IndividualLastName,\
         Email,CorpEmail,TrainingCompletionDate,Month,IcMCP,MCPID,MPNId,PartnerName,\
         PartnerCityLocation,PartnerCountryLocation,ExpirationDate,ActivationStatus"
    )
    .unwrap();
    for j in 0..n {
        let i = j % people;
        let round = (j / people) as usize % CODES.len();
        let k = mix(i);
        let day = 1 + (i + round as u64) % 28;
        let month = 1 + i % 12;
        let year = 2015 + i % 10;
        let msa = format!("m{k:08x}.{i}@outlook.com");
        if let Some(c) = &mut c {
            writeln!(c, "{msa},{},{year}-{month:02}-{day:02},", CODES[round]).unwrap();
        }
        writeln!(
            r,
            "{j},{},Exam,Person,Example {i},{msa},p{k:08x}.{i}@contoso.com,\
             {day:02}/{month:02}/{year} {:02}:{:02},{year}-{month:02},Yes,{},1,Bench,\
             \"Redmond, WA\",United States,,Active",
            TITLES[round],
            j % 24,
            j % 60,
            100_000 + j
        )
        .unwrap();
    }
}

/// `achievements import` of a Trainings report of `people` people (four rows each) with
/// `--create-users` into a fresh SQLite database and, with a PostgreSQL URL, into an
/// emptied PostgreSQL database (issue 26: linear as on SQLite, at most 2× its time). The
/// URL is the bench's (`COMPETENCY_BENCH_PG`) or else the tests' server
/// (`COMPETENCY_TEST_PG`), where a database of its own is created and dropped.
fn trainings_create_users(
    bin: &Path,
    d: &Path,
    people: u64,
    pg: Option<&str>,
    table: &mut Vec<Row>,
) {
    let report = d.join("Export_trainings_Lifetime_1_People.csv");
    let n = people * CODES.len() as u64;
    eprintln!("generating a Trainings report of {people} people ({n} rows) …");
    write_trainings(&report, None, n);
    let import = |db: &Path| {
        let creds = d.join("credentials-trainings.csv");
        std::fs::remove_file(&creds).ok();
        let out = timed(
            competency(bin, db)
                .current_dir(d)
                .args(["achievements", "import"])
                .arg(&report)
                .arg("--create-users")
                .arg("--credentials-file")
                .arg(&creds),
        );
        let made = std::fs::read(&creds)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64)
            .unwrap_or(0);
        assert_eq!(made, people + 1, "every person's account created");
        std::fs::remove_file(&creds).ok();
        out
    };
    let db = d.join("trainings-people.db");
    init(bin, &db);
    eprintln!("importing it with --create-users …");
    let (lite, rss) = import(&db);
    table.push(Row::new(
        "Trainings report --create-users (people, SQLite)",
        people,
        lite,
        None,
        rss,
    ));
    let test_server = std::env::var("COMPETENCY_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty());
    let (url, own) = match (pg, test_server) {
        (Some(url), _) => {
            pg_reset(url);
            (url.to_owned(), None)
        }
        (None, Some(server)) => {
            let name = format!("competency_bench_{}", std::process::id());
            let ok = psql(&server)
                .args(["-c", &format!("CREATE DATABASE {name}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot create a database on COMPETENCY_TEST_PG");
            let base = server.split('?').next().unwrap_or(&server);
            let cut = base
                .rfind('/')
                .filter(|&i| i > base.find("//").map_or(0, |j| j + 1));
            let url = format!("{}/{name}", &base[..cut.unwrap_or(base.len())]);
            (url, Some((server, name)))
        }
        (None, None) => return,
    };
    init(bin, Path::new(&url));
    eprintln!("importing it with --create-users into PostgreSQL …");
    let (secs, rss) = import(Path::new(&url));
    table.push(Row::new(
        "… the same on PostgreSQL (vs SQLite)",
        people,
        secs,
        Some(lite),
        rss,
    ));
    if let Some((server, name)) = own {
        let _ = psql(&server)
            .args(["-c", &format!("DROP DATABASE {name} WITH (FORCE)")])
            .stdout(Stdio::null())
            .status();
    }
}

/// The evaluation hook: timings of the commands that read the whole organization, once
/// they exist in the binary.
fn evaluation(
    bin: &Path,
    d: &Path,
    people: u64,
    have_sqlite: bool,
    table: &mut Vec<Row>,
) -> Option<PathBuf> {
    let commands: Vec<&[&str]> = [
        &["competencies", "progress"][..],
        &["membership", "check"][..],
    ]
    .into_iter()
    .filter(|c| has_command(bin, c))
    .collect();
    if commands.is_empty() {
        eprintln!(
            "(evaluation timings skipped: the binary has neither `competencies progress` nor \
             `membership check` yet)"
        );
        return None;
    }
    let users = d.join("eval-users.csv");
    let achievements = d.join("eval-achievements.csv");
    write_users(&users, people);
    write_default_achievements(&achievements, people);
    let db = d.join("eval.db");
    // The default rulebook, as the issue asks: the real program's 18 competencies.
    let ok = competency(bin, &db)
        .args(["init", "--name", "Bench", "--partner-id", "1"])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "init failed");
    for (kind, file) in [("users", &users), ("achievements", &achievements)] {
        let mut c = competency(bin, &db);
        c.current_dir(d).args([kind, "import"]).arg(file);
        if kind == "users" {
            c.arg("--credentials-file")
                .arg(d.join("eval-credentials.csv"));
        }
        timed(&mut c);
    }
    // Revenue and a Silver membership, so that `membership check` has a term to judge.
    for args in [
        &[
            "performance",
            "record",
            "--metric",
            "revenue",
            "--scope",
            "azure",
            "--value",
            "250000",
            "--date",
            "2026-02-01",
        ][..],
        &["membership", "upgrade", "--level", "silver"][..],
    ] {
        let ok = competency_at(bin, &db, LATER)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "{args:?} failed");
    }
    let peer = have_sqlite.then(|| {
        median(|| {
            sqlite3(
                &db,
                "SELECT code, count(DISTINCT msa) FROM achievements GROUP BY code;\n",
            )
            .0
        })
    });
    if let Some(p) = peer {
        table.push(Row {
            task: "sqlite3 group by code (median of 5)".into(),
            rows: people * 3,
            secs: p,
            peer: None,
            rss_kib: 0,
            size: None,
        });
    }
    for words in commands {
        let secs = median(|| {
            let mut c = competency_at(bin, &db, LATER);
            c.args(words).arg("--format").arg("json");
            // Exit codes 3-5 of `membership check` are answers, not failures.
            let start = Instant::now();
            let _ = c.stdout(Stdio::null()).status();
            start.elapsed().as_secs_f64()
        });
        table.push(Row {
            task: format!("competency {} (median of 5)", words.join(" ")),
            rows: people * 3,
            secs,
            peer,
            rss_kib: 0,
            size: None,
        });
    }
    Some(db)
}

/// The median of five runs: one cold start or a neighbour's burst does not decide a figure.
fn median(mut run: impl FnMut() -> f64) -> f64 {
    let mut v: Vec<f64> = (0..5).map(|_| run()).collect();
    v.sort_by(f64::total_cmp);
    v[2]
}

/// Three achievements per person, spread over the default rulebook's whole catalogue, earned
/// in the two years before the bench's instant.
fn write_default_achievements(path: &Path, people: u64) {
    let rb = competency::api::rules::Rulebook::default_rulebook();
    let codes: Vec<&str> = rb.catalog.iter().map(|c| c.code.as_str()).collect();
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    writeln!(w, "msa,code,earned,expires").unwrap();
    for i in 0..people {
        let k = mix(i);
        for round in 0..3u64 {
            let code = codes[((k >> (round * 8)) as usize + round as usize * 7) % codes.len()];
            let month = 1 + (k >> 20) % 12;
            let day = 1 + (i + round) % 28;
            let year = 2024 + round % 2;
            writeln!(
                w,
                "m{k:08x}.{i}@outlook.com,{code},{year}-{month:02}-{day:02},"
            )
            .unwrap();
        }
    }
}
