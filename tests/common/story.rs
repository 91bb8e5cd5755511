//! Helpers so a test reads as the story it tells: the one way a test creates a database,
//! the organization most stories start from, and the people, achievements and figures
//! they add to it.

use serde_json::Value;

use super::{Args, Env};

/// A file under `tests/data/`.
pub fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The small rulebook (two competencies, four catalogue entries) most tests run on.
pub fn small_rules() -> String {
    data("small-rules.toml")
}

/// The element of the JSON array `list` (a listing) whose `id` is `id`.
pub fn listed<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {list}"))
}

/// The day most stories begin: the organization is created then.
pub const DAY_ONE: &str = "2026-01-01";

/// The command line of employee `user` signing in to run `employee <command>` with the
/// secrets typed on standard input (`--password-stdin`), then `extra` (`--msa …`, `--now …`).
pub fn as_employee<'a>(command: &'a str, user: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["employee", command, "--user", user, "--password-stdin"];
    args.extend_from_slice(extra);
    args
}

impl Env {
    /// The one place a test creates a database: `competency init` with `args`; returns
    /// stdout. (A second backend switches here and in [`Env::cmd`].)
    pub fn create(&self, args: impl Args) -> String {
        let mut a = vec!["init".to_owned()];
        a.extend(args.into_args());
        self.ok(&a)
    }

    /// A new sandbox holding the demo organization (`competency demo` into the sandbox's
    /// database, quietly) built at `now`: the other way a test gets a database.
    pub fn demo(now: &str) -> Env {
        let env = Env::new();
        let db = env.db();
        env.ok(&[
            "demo",
            "--db",
            db.to_str().expect("UTF-8 path"),
            "--now",
            now,
            "-q",
        ]);
        env
    }

    /// A new sandbox with Contoso Ltd (partner 1234567) on `rulebook` (a file, or the name
    /// of an embedded rulebook), created on [`DAY_ONE`].
    pub fn with_rulebook(rulebook: &str) -> Env {
        let env = Env::new();
        env.add_org("Contoso Ltd", "1234567", rulebook, DAY_ONE);
        env
    }

    /// A new sandbox with Contoso Ltd (the default rulebook) and one employee, Ann
    /// (ann@contoso.com), her MSA ann@outlook.com linked, all on [`DAY_ONE`].
    pub fn with_ann() -> Env {
        let env = Env::new();
        env.init();
        env.add_user(
            "Ann",
            "ann@contoso.com",
            &["--msa", "ann@outlook.com", "--now", DAY_ONE],
        );
        env
    }

    /// Creates organization `name` with `partner_id` on `rulebook` (a file, or the name of
    /// an embedded rulebook) at `now`.
    pub fn add_org(&self, name: &str, partner_id: &str, rulebook: &str, now: &str) {
        self.create(&[
            "--name",
            name,
            "--partner-id",
            partner_id,
            "--rulebook",
            rulebook,
            "--now",
            now,
        ]);
    }

    /// Runs with `input` on standard input; returns (exit code, stdout, stderr).
    pub fn run_stdin(&self, args: impl Args, input: &str) -> (i32, String, String) {
        let args = args.into_args();
        let out = self
            .cmd()
            .args(&args)
            .write_stdin(input.to_owned())
            .output()
            .expect("run");
        super::outcome(&args, out)
    }

    /// `employee set-password` of `user`, from `current` to `new` (through
    /// `--password-stdin`); asserts success.
    pub fn set_password(&self, user: &str, current: &str, new: &str) {
        let (code, out, err) = self.run_stdin(
            &as_employee("set-password", user, &[]),
            &format!("{current}\n{new}\n"),
        );
        assert_eq!(code, 0, "set-password of {user} failed: {err}{out}");
    }

    /// Runs and asserts the exit code; returns (stdout, stderr).
    pub fn exits(&self, args: impl Args, want: i32) -> (String, String) {
        let args = args.into_args();
        let (code, out, err) = self.run(&args);
        assert_eq!(
            code,
            want,
            "`{}` exited with {code}, not {want}: {err}{out}",
            args.join(" ")
        );
        (out, err)
    }

    /// Runs and asserts exit code `want` with an `error:` line; returns stderr.
    pub fn fails_with(&self, args: impl Args, want: i32) -> String {
        let (_, err) = self.exits(args, want);
        assert!(err.contains("error: "), "no error line: {err}");
        err
    }

    /// Runs with JSON output whatever the exit code: (exit code, parsed stdout).
    pub fn json_exits(&self, args: impl Args) -> (i32, Value) {
        let mut a = args.into_args();
        a.extend(["--format".into(), "json".into()]);
        let (code, out, err) = self.run(&a);
        let value =
            serde_json::from_str(&out).unwrap_or_else(|x| panic!("bad JSON ({x}): {out}{err}"));
        (code, value)
    }

    /// The level competency `id` is met at on `now`, as `competencies list` shows it.
    pub fn competency_level(&self, id: &str, now: &str) -> String {
        let list = self.json(format!("competencies list --now {now}"));
        listed(&list, id)["level"]
            .as_str()
            .unwrap_or_else(|| panic!("no level for {id} in {list}"))
            .to_owned()
    }

    /// `membership check` at `now`: (exit code, JSON).
    pub fn check(&self, now: &str) -> (i32, Value) {
        self.json_exits(format!("membership check --now {now}"))
    }

    /// Adds employee `local` (`local@contoso.com`) with the MSA `local@outlook.com` at
    /// `now`; returns (user name, MSA).
    pub fn employee(&self, local: &str, now: &str) -> (String, String) {
        let msa = format!("{local}@outlook.com");
        let (username, _) = self.add_user(
            local,
            &format!("{local}@contoso.com"),
            &["--msa", &msa, "--now", now],
        );
        (username, msa)
    }

    /// Records that `msa` passed `code` on `earned`, at `now`.
    pub fn achievement(&self, msa: &str, code: &str, earned: &str, now: &str) {
        self.ok(format!(
            "achievements add --msa {msa} --code {code} --earned {earned} --now {now}"
        ));
    }

    /// [`Env::employee`] holding each of `codes`, earned on `earned`; returns the user name.
    pub fn person(&self, local: &str, codes: &[&str], earned: &str, now: &str) -> String {
        let (username, msa) = self.employee(local, now);
        for code in codes {
            self.achievement(&msa, code, earned, now);
        }
        username
    }

    /// Records a performance figure (`scope` may be empty for none), at `now`.
    pub fn record(&self, metric: &str, scope: &str, value: &str, date: &str, now: &str) {
        let scope = if scope.is_empty() {
            String::new()
        } else {
            format!("--scope {scope}")
        };
        self.ok(format!(
            "performance record --metric {metric} {scope} --value {value} --date {date} --now {now}"
        ));
    }
}

/// Stories shared by several files.
impl Env {
    /// On `tests/data/membership-rulebook.toml`: Ann (AZ-1) and Bob (AZ-2), added on
    /// [`DAY_ONE`] with passes of 2025-12-01, so Cloud is met at Silver from 2026-01-02.
    /// Returns their user names.
    pub fn cloud_pair(&self) -> (String, String) {
        (
            self.person("ann", &["AZ-1"], "2025-12-01", DAY_ONE),
            self.person("bob", &["AZ-2"], "2025-12-01", DAY_ONE),
        )
    }

    /// On the embedded `solutions-partner` rulebook: Ann, Bob, Cat, Dan and Eve (certified
    /// 2026-01-01, added 2026-01-02) and three Azure figures of 2026-01-01. Infrastructure
    /// scores 30 + 20 + 4 + 12 (ann, bob, cat) + 4 (dan) = 70: it qualifies. Returns the user
    /// names in that order.
    pub fn azure_team(&self) -> [String; 5] {
        let now = "2026-01-02";
        let team = [
            ("ann", &["AZ-104", "AZ-305", "AZ-700"][..]),
            ("bob", &["AZ-700"]),
            ("cat", &["AZ-305", "AZ-700"]),
            ("dan", &["AZ-140"]),
            ("eve", &["AZ-104"]),
        ]
        .map(|(local, codes)| self.person(local, codes, "2026-01-01", now));
        for (metric, value) in [
            ("net-customer-adds", "3"),
            ("usage-growth", "20"),
            ("deployments", "2"),
        ] {
            self.record(metric, "azure", value, "2026-01-01", now);
        }
        team
    }
}
