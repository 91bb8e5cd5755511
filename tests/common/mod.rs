//! Shared helpers for the integration tests: a temporary folder with its own database,
//! and the real binary run inside it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

mod args;
mod db;
pub mod proxy;
mod story;
pub mod terminal;

pub use args::Args;
#[allow(unused_imports)]
pub use db::{Db, Val};
#[allow(unused_imports)]
pub use story::*;

/// How long one run of the binary may take before the test fails: far above any command's
/// real time on a loaded machine, so it only ever catches a hang.
pub const COMMAND_DEADLINE: std::time::Duration = std::time::Duration::from_secs(300);

/// A sandbox: its own folder, database and (empty) config. With `COMPETENCY_TEST_PG` set (a
/// PostgreSQL URL of a server where the tests may CREATE DATABASE), the database is a fresh
/// PostgreSQL database of its own, dropped at the end; else a SQLite file in the folder.
pub struct Env {
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database: (URL of the server's maintenance database, our URL, name).
    pg: Option<(String, String, String)>,
}

/// The PostgreSQL server the tests run against, if any.
pub fn test_pg() -> Option<String> {
    std::env::var("COMPETENCY_TEST_PG")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A URL of the same server with another database.
pub fn pg_url_with_db(server: &str, db: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{db}{query}", &base[..host_end])
}

fn pg_admin(server: &str) -> postgres::Client {
    postgres::Client::connect(server, postgres::NoTls).expect("connect to COMPETENCY_TEST_PG")
}

impl Env {
    /// A sandbox on the backend the run is for (`COMPETENCY_TEST_PG`).
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let pg = test_pg().map(|server| {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = format!("competency_test_{}_{n}", std::process::id());
            let mut admin = pg_admin(&server);
            // A database left by an earlier run killed with the same process id.
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .expect("DROP DATABASE");
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("CREATE DATABASE");
            let url = pg_url_with_db(&server, &name);
            (server, url, name)
        });
        Env { dir, pg }
    }

    /// A sandbox on SQLite whatever the run is for: for tests about the SQLite file itself.
    pub fn sqlite() -> Self {
        Env {
            dir: tempfile::tempdir().expect("tempdir"),
            pg: None,
        }
    }

    /// Whether this sandbox's database is on PostgreSQL.
    pub fn is_pg(&self) -> bool {
        self.pg.is_some()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The database: the SQLite file's path, or the PostgreSQL URL.
    pub fn db(&self) -> PathBuf {
        match &self.pg {
            Some((_, url, _)) => PathBuf::from(url),
            None => self.path("competency.db"),
        }
    }

    /// The binary, run in the sandbox folder with its database and a fixed actor.
    pub fn cmd(&self) -> Command {
        let mut c = Command::from_std(self.std_cmd());
        c.env("NO_COLOR", "1").timeout(COMMAND_DEADLINE);
        c
    }

    /// The same as a plain `std` command (without `NO_COLOR`), for tests that spawn, signal
    /// or kill it: they keep their own deadline.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("competency"));
        c.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("USER", "tester")
            .env("COMPETENCY_DB", self.db())
            .env("COMPETENCY_CONFIG", self.path("config.toml"));
        c
    }

    /// Starts the binary with `args`, to be held by the hidden test hook at the start of the
    /// first phase whose name starts with `phase` (it creates `marker` there): no input, its
    /// stderr piped, for [`interrupt_when_held`].
    pub fn spawn_held(&self, phase: &str, marker: &Path, args: impl Args) -> std::process::Child {
        self.std_cmd()
            .env(
                "COMPETENCY_TEST_HOLD_PHASE",
                format!("{phase}:{}", marker.display()),
            )
            .args(args.into_args())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    }

    /// Runs the binary with args; returns (exit code, stdout, stderr). Fails the test when
    /// the command is still running after [`COMMAND_DEADLINE`].
    pub fn run(&self, args: impl Args) -> (i32, String, String) {
        let args = args.into_args();
        let out = self.cmd().args(&args).output().expect("run");
        outcome(&args, out)
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: impl Args) -> String {
        self.exits(args, 0).0
    }

    /// Runs and asserts exit code 1 with one `error:` line; returns stderr.
    pub fn fails(&self, args: impl Args) -> String {
        self.fails_with(args, 1)
    }

    /// Runs with JSON output and parses it.
    pub fn json(&self, args: impl Args) -> serde_json::Value {
        let mut a = args.into_args();
        a.extend(["--format".into(), "json".into()]);
        let out = self.ok(&a);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON ({e}): {out}"))
    }

    /// `init` of a default organization at 2026-01-01.
    pub fn init(&self) {
        self.create(&[
            "--name",
            "Contoso Ltd",
            "--partner-id",
            "1234567",
            "--now",
            "2026-01-01",
        ]);
    }

    /// Adds a user; returns the user name and the temporary password.
    pub fn add_user(&self, name: &str, email: &str, extra: &[&str]) -> (String, String) {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let file = format!("cred-{n}-{}.csv", email.replace(['@', '.'], "_"));
        let out = self.json(&users_add(name, email, &file, extra));
        let username = out["username"].as_str().expect("username").to_owned();
        let creds = read_credentials(&self.path(&file));
        let password = creds
            .iter()
            .find(|r| r[0] == username)
            .map(|r| r[2].clone())
            .expect("credentials line");
        (username, password)
    }

    /// The raw bytes of the database and its WAL (PostgreSQL: every row of every table,
    /// as text).
    pub fn db_bytes(&self) -> Vec<u8> {
        if let Some((_, url, _)) = &self.pg {
            let mut c = pg_admin(url);
            let tables: Vec<String> = c
                .query(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() ORDER BY 1",
                    &[],
                )
                .expect("tables")
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut b = Vec::new();
            for t in tables {
                for r in c
                    .query(&format!("SELECT t::text FROM {t} t ORDER BY 1"), &[])
                    .expect("rows")
                {
                    b.extend(r.get::<_, String>(0).into_bytes());
                    b.push(b'\n');
                }
            }
            return b;
        }
        let mut b = std::fs::read(self.db()).unwrap_or_default();
        let wal = PathBuf::from(format!("{}-wal", self.db().display()));
        b.extend(std::fs::read(wal).unwrap_or_default());
        b
    }
}

/// The command line of `users add` of `name` <`email`>, its credentials written to `file`,
/// then `extra` (`--msa …`, `--now …`).
pub fn users_add<'a>(
    name: &'a str,
    email: &'a str,
    file: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "users",
        "add",
        "--name",
        name,
        "--email",
        email,
        "--credentials-file",
        file,
    ];
    args.extend_from_slice(extra);
    args
}

/// (exit code, stdout, stderr) of a finished run; a run ended by a signal fails the test
/// (the only signal `Env::cmd` sends is the kill at its deadline).
fn outcome(args: &[String], out: std::process::Output) -> (i32, String, String) {
    let code = out.status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        panic!(
            "`{}` ended by signal {:?} (killed at the {COMMAND_DEADLINE:?} deadline?)",
            args.join(" "),
            out.status.signal()
        )
    });
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some((server, _, name)) = &self.pg {
            let _ = pg_admin(server)
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Waits until `marker` exists (the command, started with the hold hook, is held at a
/// progress point), runs `while_held`, sends SIGINT and returns the command's output once
/// it ends. Fails the test, killing the child, when it finishes before the point, never
/// reaches it, or still runs at `deadline` after the signal: a Ctrl-C test never hangs and
/// never depends on the clock.
pub fn interrupt_when_held(
    mut child: std::process::Child,
    marker: &Path,
    what: &str,
    deadline: std::time::Duration,
    while_held: impl FnOnce(),
) -> std::process::Output {
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + deadline;
    let fail = |child: &mut std::process::Child, why: String| -> ! {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{why}");
    };
    while !marker.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("finished ({status}) before reaching {what}");
        }
        if Instant::now() >= deadline {
            fail(&mut child, format!("never reached {what}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    while_held();
    // SAFETY: kill(2) on our own child's pid, not yet reaped.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            fail(&mut child, format!("{what}: still running after SIGINT"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

/// Reads a credentials CSV as rows (header excluded).
pub fn read_credentials(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).expect("credentials file");
    r.records()
        .map(|rec| rec.expect("row").iter().map(str::to_owned).collect())
        .collect()
}

/// The file's permission bits.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// The name of the OS user running the tests, from the password database (`id -un`): the
/// audit trail's actor, whatever `$USER` says.
pub fn os_user_name() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id -un");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// Waits for `child` and collects its output (reading its pipes meanwhile, so a full pipe
/// cannot stall it); kills it and fails the test when it is still running after
/// [`COMMAND_DEADLINE`].
pub fn output_within_deadline(child: std::process::Child) -> std::process::Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(COMMAND_DEADLINE) {
        Ok(out) => out.expect("wait for the child"),
        Err(_) => {
            // SAFETY: kill(2) on our own child's pid, which its waiting thread has not reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("the child did not finish within {COMMAND_DEADLINE:?}");
        }
    }
}
