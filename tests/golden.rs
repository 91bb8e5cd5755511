//! Golden tests: the `--format json` output of every command whose shape the SPEC fixes
//! (§8, §7's `membership check`, §9's designations), on fixed scenarios at fixed instants,
//! compared with the files under `tests/golden/`. Each file is also checked against the
//! SPEC's key list for its shape, with the SPEC's types (dates `YYYY-MM-DD`, instants
//! RFC 3339 UTC), so a file rewritten by hand or by `UPDATE_GOLDEN=1 cargo test --test
//! golden` cannot drift from the contract unnoticed.
//!
//! Values that depend on the machine are normalised before the comparison: the sandbox
//! folder becomes `<dir>`, the checkout `<repo>` and the audit actor (the OS user running
//! the tests) `<os-user>`.

mod common;

use std::path::PathBuf;

use common::{Env, data, os_user_name};
use serde_json::Value;

/// The SPEC's type of a key.
#[derive(Clone, Copy, Debug)]
enum Ty {
    Str,
    OptStr,
    Num,
    Bool,
    Date,
    OptDate,
    Instant,
    Array,
    /// An array of objects with these keys.
    Objects(&'static [(&'static str, Ty)]),
}

use Ty::*;

/// One JSON shape of the SPEC: the file it is pinned in, the command (run with
/// `--format json`), and the keys the SPEC lists (each object of the array, or the object).
struct Shape {
    file: &'static str,
    command: &'static str,
    exit: i32,
    array: bool,
    keys: &'static [(&'static str, Ty)],
}

const USERS_LIST: Shape = Shape {
    file: "users-list",
    command: "users list --all",
    exit: 0,
    array: true,
    keys: &[
        ("username", Str),
        ("name", Str),
        ("email", Str),
        ("status", Str),
        ("msa", OptStr),
        ("roles", Array),
    ],
};

const ACHIEVEMENTS_LIST: Shape = Shape {
    file: "achievements-list",
    command: "achievements list",
    exit: 0,
    array: true,
    keys: &[
        ("msa", Str),
        ("code", Str),
        ("kind", Str),
        ("earned", Date),
        ("expires", OptDate),
        ("counts", Bool),
    ],
};

const LEVELS: &[(&str, Ty)] = &[("id", Str), ("name", Str), ("level", Str)];

const COMPETENCIES_LIST: Shape = Shape {
    file: "competencies-list",
    command: "competencies list",
    exit: 0,
    array: true,
    keys: LEVELS,
};

const COMPETENCIES_PROGRESS: Shape = Shape {
    file: "competencies-progress",
    command: "competencies progress",
    exit: 0,
    array: true,
    keys: &[
        ("competency", Str),
        ("level", Str),
        ("met", Bool),
        ("option", Str),
        (
            "requirements",
            Objects(&[
                ("description", Str),
                ("have", Num),
                ("need", Num),
                ("met", Bool),
            ]),
        ),
    ],
};

const MEMBERSHIP_STATUS: Shape = Shape {
    file: "membership-status",
    command: "membership status",
    exit: 0,
    array: false,
    keys: &[
        ("level", Str),
        ("state", Str),
        ("purchased", Instant),
        ("anniversary", Date),
    ],
};

const MEMBERSHIP_PROFILE: Shape = Shape {
    file: "membership-profile",
    command: "membership profile",
    exit: 0,
    array: false,
    keys: &[
        ("organization", Str),
        ("level", Str),
        ("competencies", Objects(LEVELS)),
    ],
};

const MEMBERSHIP_ALERTS: Shape = Shape {
    file: "membership-alerts",
    command: "membership alerts --all",
    exit: 0,
    array: true,
    keys: &[
        ("raised", Instant),
        ("competency", Str),
        ("message", Str),
        ("cause", OptStr),
        ("open", Bool),
    ],
};

/// SPEC §7; at risk after Bob left, so exit 4.
const MEMBERSHIP_CHECK: Shape = Shape {
    file: "membership-check",
    command: "membership check",
    exit: 4,
    array: false,
    keys: &[
        ("status", Str),
        ("level", Str),
        ("state", Str),
        ("anniversary", Date),
        ("renewal_eligible", Bool),
        ("alerts", Array),
        ("expiring", Array),
    ],
};

const AUDIT: Shape = Shape {
    file: "audit",
    command: "audit --limit 1000",
    exit: 0,
    array: true,
    keys: &[
        ("at", Instant),
        ("actor", Str),
        ("action", Str),
        ("subject", Str),
        ("detail", OptStr),
    ],
};

const DESIGNATIONS_LIST: Shape = Shape {
    file: "designations-list",
    command: "designations list",
    exit: 0,
    array: true,
    keys: &[
        ("id", Str),
        ("name", Str),
        ("score", Num),
        ("threshold", Num),
        ("qualified", Bool),
        ("state", Str),
    ],
};

const DESIGNATIONS_SCORE: Shape = Shape {
    file: "designations-score",
    command: "designations score",
    exit: 0,
    array: true,
    keys: &[
        ("id", Str),
        ("track", Str),
        ("total", Num),
        ("qualified", Bool),
        (
            "items",
            Objects(&[
                ("name", Str),
                ("kind", Str),
                ("value", Num),
                ("points", Num),
                ("max_points", Num),
                ("people", Array),
            ]),
        ),
    ],
};

/// The competencies story (SPEC §7): Contoso on the membership rulebook, Ann (AZ-1) and Bob
/// (AZ-2), Silver bought on 2026-01-02, Bob removed on 2026-02-01 (an alert), read at
/// 2026-02-01T01:00:00Z.
fn competencies_story() -> Env {
    let e = Env::with_rulebook(&data("membership-rulebook.toml"));
    let (_, bob) = e.cloud_pair();
    e.ok("membership upgrade --level silver --now 2026-01-02");
    e.ok(format!("users remove {bob} --now 2026-02-01"));
    e
}
const COMPETENCIES_AT: &str = "2026-02-01T01:00:00Z";

/// The designations story (SPEC §9): the Azure team, Infrastructure enrolled on 2026-01-05.
fn designations_story() -> Env {
    let e = Env::with_rulebook(&common::data("solutions-partner-2023.toml"));
    e.azure_team();
    e.ok("designations enrol infrastructure --now 2026-01-05");
    e
}
const DESIGNATIONS_AT: &str = "2026-01-06";

fn golden_path(file: &str) -> PathBuf {
    PathBuf::from(format!(
        "{}/tests/golden/{file}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
}

/// Replaces what depends on the machine: the sandbox folder, the checkout (rulebook paths),
/// the OS user in `actor`.
fn normalise(v: &mut Value, dir: &str, user: &str) {
    const REPO: &str = env!("CARGO_MANIFEST_DIR");
    match v {
        Value::String(s) if s.contains(dir) || s.contains(REPO) => {
            *s = s.replace(dir, "<dir>").replace(REPO, "<repo>");
        }
        Value::Array(a) => a.iter_mut().for_each(|x| normalise(x, dir, user)),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k == "actor" && x == user {
                    *x = Value::from("<os-user>");
                } else {
                    normalise(x, dir, user);
                }
            }
        }
        _ => {}
    }
}

/// Runs the shape's command at `now`, and compares with (or, with `UPDATE_GOLDEN=1`,
/// rewrites) its golden file; then checks the file against the SPEC's keys.
fn pin(env: &Env, shape: &Shape, now: &str) {
    let (code, mut actual) = env.json_exits(format!("{} --now {now}", shape.command));
    assert_eq!(code, shape.exit, "`{}`: {actual}", shape.command);
    let dir = env.dir.path().display().to_string();
    normalise(&mut actual, &dir, &os_user_name());
    let path = golden_path(shape.file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        std::fs::write(&path, text).expect("write the golden file");
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (create it with UPDATE_GOLDEN=1 cargo test --test golden)",
            path.display()
        )
    });
    let expected: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
    assert_eq!(
        actual,
        expected,
        "`{} --format json` differs from {} (rewrite it with UPDATE_GOLDEN=1 if the change is \
         meant and the SPEC allows it)",
        shape.command,
        path.display()
    );
    check_shape(shape, &expected);
}

/// The golden file holds the SPEC's keys with the SPEC's types, in every object; a list
/// must not be empty (an empty list pins no keys).
fn check_shape(shape: &Shape, v: &Value) {
    let objects: Vec<&Value> = if shape.array {
        let a = v
            .as_array()
            .unwrap_or_else(|| panic!("{}: not an array: {v}", shape.file));
        assert!(!a.is_empty(), "{}: an empty array pins no keys", shape.file);
        a.iter().collect()
    } else {
        vec![v]
    };
    for o in objects {
        check_keys(shape.file, shape.keys, o);
    }
}

fn check_keys(file: &str, keys: &[(&str, Ty)], o: &Value) {
    let obj = o
        .as_object()
        .unwrap_or_else(|| panic!("{file}: not an object: {o}"));
    for (key, ty) in keys {
        let value = obj
            .get(*key)
            .unwrap_or_else(|| panic!("{file}: the SPEC's key `{key}` is missing from {o}"));
        check_type(file, key, *ty, value);
    }
}

fn check_type(file: &str, key: &str, ty: Ty, v: &Value) {
    let is_date = |v: &Value| {
        v.as_str().is_some_and(|s| {
            s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        })
    };
    let is_instant = |v: &Value| {
        v.as_str().is_some_and(|s| {
            chrono::DateTime::parse_from_rfc3339(s).is_ok_and(|t| t.offset().local_minus_utc() == 0)
        })
    };
    let ok = match ty {
        Str => v.is_string(),
        OptStr => v.is_string() || v.is_null(),
        Num => v.is_number(),
        Bool => v.is_boolean(),
        Date => is_date(v),
        OptDate => is_date(v) || v.is_null(),
        Instant => is_instant(v),
        Array => v.is_array(),
        Objects(keys) => {
            let a = v
                .as_array()
                .unwrap_or_else(|| panic!("{file}: `{key}` is not an array: {v}"));
            assert!(!a.is_empty(), "{file}: `{key}` is empty: it pins no keys");
            a.iter().for_each(|o| check_keys(file, keys, o));
            true
        }
    };
    assert!(ok, "{file}: `{key}` should be {ty:?}, is {v}");
}

#[test]
fn competencies_and_membership_shapes() {
    let env = competencies_story();
    for shape in [
        &USERS_LIST,
        &ACHIEVEMENTS_LIST,
        &COMPETENCIES_LIST,
        &COMPETENCIES_PROGRESS,
        &MEMBERSHIP_STATUS,
        &MEMBERSHIP_PROFILE,
        &MEMBERSHIP_ALERTS,
        &MEMBERSHIP_CHECK,
        &AUDIT,
    ] {
        pin(&env, shape, COMPETENCIES_AT);
    }
}

#[test]
fn designations_shapes() {
    let env = designations_story();
    for shape in [&DESIGNATIONS_LIST, &DESIGNATIONS_SCORE] {
        pin(&env, shape, DESIGNATIONS_AT);
    }
}

#[test]
fn a_golden_file_missing_a_spec_key_or_with_a_wrong_type_is_caught() {
    let good = serde_json::json!({
        "level": "silver", "state": "active", "purchased": "2026-01-02T00:00:00Z",
        "anniversary": "2027-01-02"
    });
    check_shape(&MEMBERSHIP_STATUS, &good);
    for (key, bad) in [
        ("purchased", Value::from("2026-01-02")),
        ("anniversary", Value::from("2027-01-02T00:00:00Z")),
        ("level", Value::from(1)),
    ] {
        let mut v = good.clone();
        v[key] = bad;
        let caught = std::panic::catch_unwind(|| check_shape(&MEMBERSHIP_STATUS, &v));
        assert!(caught.is_err(), "{key}: {v}");
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("state");
    assert!(std::panic::catch_unwind(|| check_shape(&MEMBERSHIP_STATUS, &missing)).is_err());
    let local_time = serde_json::json!([{
        "at": "2026-01-01T01:00:00+01:00", "actor": "a", "action": "b", "subject": "c",
        "detail": null
    }]);
    assert!(std::panic::catch_unwind(|| check_shape(&AUDIT, &local_time)).is_err());
}

/// The helpers every golden (and other) test drives the binary with accept each argument
/// form the runners ever took, besides one string split on whitespace.
#[test]
fn the_runners_take_a_command_line_string_or_any_slice_form() {
    fn words(a: impl common::Args) -> Vec<String> {
        a.into_args()
    }
    let s = String::from("Ann Lee");
    let v: Vec<&str> = vec!["users", "add"];
    let owned = vec![String::from("a"), String::from("b")];
    assert_eq!(
        words("membership  upgrade --level silver"),
        ["membership", "upgrade", "--level", "silver"]
    );
    assert_eq!(words(&["--name", &s]), ["--name", "Ann Lee"]);
    assert_eq!(words(&v), ["users", "add"]);
    assert_eq!(words(&v[..]), ["users", "add"]);
    assert_eq!(words(&owned), ["a", "b"]);
    assert_eq!(words(&owned[..]), ["a", "b"]);
    assert_eq!(words(&[&s, &s]), ["Ann Lee", "Ann Lee"]);
    assert_eq!(
        words(format!("users remove {}", "bob")),
        ["users", "remove", "bob"]
    );
}
