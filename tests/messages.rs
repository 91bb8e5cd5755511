//! Messages say exactly what happened: once, with the right tense and the right state.

mod common;

use common::Env;

#[test]
fn set_password_prints_its_confirmation_once() {
    let env = Env::new();
    env.init();
    let (u, temp) = env.add_user("Ann", "ann@x.com", &[]);
    let out = env
        .cmd()
        .args(["employee", "set-password", "--user", &u, "--password-stdin"])
        .write_stdin(format!("{temp}\ncorrect horse battery\n"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(all.matches("Password of").count(), 1, "{all}");
}

#[test]
fn users_show_says_expired_for_an_expired_temporary_password() {
    let env = Env::new();
    env.init();
    let (u, _) = env.add_user("Ann", "ann@x.com", &["--now", "2026-01-01"]);
    let before = env.ok(&["users", "show", &u, "--now", "2026-02-01"]);
    assert!(before.contains("temporary, expires 2026-04-01"), "{before}");
    let after = env.ok(&["users", "show", &u, "--now", "2026-05-01"]);
    assert!(after.contains("temporary, expired 2026-04-01"), "{after}");
}

/// Bug (issue 26 item 11): a dry run of a users import that links an MSA to an existing
/// account said "that association is now severed" although nothing was written.
#[test]
fn a_dry_run_linking_an_existing_account_says_would_be_severed() {
    let env = Env::new();
    env.init();
    env.create("--name Fabrikam --partner-id 2002 --now 2026-01-01");
    std::fs::write(
        env.path("f.csv"),
        "email,name,msa\nada@fabrikam.com,Ada,ada@outlook.com\n",
    )
    .unwrap();
    env.ok("--org fabrikam users import f.csv --credentials-file x.csv --now 2026-01-02");
    // Ada already has an account at Contoso, without an MSA.
    std::fs::write(env.path("c0.csv"), "email,name\nada@contoso.com,Ada\n").unwrap();
    env.ok("--org contoso-ltd users import c0.csv --credentials-file y.csv --now 2026-01-02");
    std::fs::write(
        env.path("c.csv"),
        "email,name,msa\nada@contoso.com,Ada,ada@outlook.com\n",
    )
    .unwrap();
    let (code, _, err) = env.run("--org contoso-ltd users import c.csv --dry-run --now 2026-01-03");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("that association would be severed"), "{err}");
    assert!(!err.contains("is now severed"), "{err}");
    let fab = env.json(&["--org", "fabrikam", "users", "list"]);
    assert_eq!(
        fab[0]["msa"], "ada@outlook.com",
        "a dry run changes nothing"
    );
}

#[test]
fn a_dry_run_says_an_association_would_be_severed() {
    let env = Env::new();
    env.init();
    env.create(&[
        "--name",
        "Fabrikam",
        "--partner-id",
        "2002",
        "--now",
        "2026-01-01",
    ]);
    std::fs::write(
        env.path("f.csv"),
        "email,name,msa\nada@fabrikam.com,Ada,ada@outlook.com\n",
    )
    .unwrap();
    std::fs::write(
        env.path("c.csv"),
        "email,name,msa\nada@contoso.com,Ada,ada@outlook.com\n",
    )
    .unwrap();
    env.ok(
        "--org fabrikam users import f.csv --credentials-file x.csv \
         --now 2026-01-02",
    );
    let (code, _, err) = env.run("--org contoso-ltd users import c.csv --dry-run --now 2026-01-03");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("that association would be severed"), "{err}");
    assert!(!err.contains("is now severed"), "{err}");
    let fab = env.json(&["--org", "fabrikam", "users", "list"]);
    assert_eq!(
        fab[0]["msa"], "ada@outlook.com",
        "a dry run changes nothing"
    );
}

/// Whether `word` stands alone in `text` (`inf`, not `Infrastructure`).
fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '.'))
        .any(|w| w.trim_end_matches('.') == word)
}

/// Every stdout and stderr line of `args` (each format), for scanning.
fn all_outputs(env: &Env, args: &[&str]) -> String {
    let mut all = String::new();
    for format in ["table", "json", "csv"] {
        let mut a = args.to_vec();
        a.extend(["--format", format]);
        let (_, out, err) = env.run(&a);
        all.push_str(&out);
        all.push_str(&err);
    }
    all
}

/// Bug (issue 26 item 11): `+10000-…` dates in outputs. A date computed past 9999-12-31 (a
/// temporary password issued late in 9999, a pass valid two years, a 12-month timeline) is
/// shown as the program's last day.
#[test]
fn no_output_shows_a_year_past_9999() {
    let env = Env::new();
    env.create("--name Contoso --partner-id 1234567 --now 9999-01-01");
    let now = "9999-12-30T00:00:00Z";
    let (code, out, err) = env.run(&[
        "add-user",
        "--name",
        "Ann",
        "--email",
        "ann@contoso.com",
        "--msa",
        "ann@outlook.com",
        "--credentials-file",
        "c.csv",
        "--now",
        now,
    ]);
    assert_eq!(code, 0, "{err}");
    let mut all = format!("{out}{err}");
    all.push_str(&std::fs::read_to_string(env.path("c.csv")).unwrap());
    env.ok(&[
        "achievements",
        "add",
        "--msa",
        "ann@outlook.com",
        "--code",
        "ASSESS-CLOUD-PLATFORM",
        "--earned",
        "9999-06-01",
        "--now",
        now,
    ]);
    for args in [
        &["achievements", "list", "--now", now][..],
        &[
            "achievements",
            "list",
            "--expiring-within",
            "36500",
            "--now",
            now,
        ],
        &["users", "list", "--now", now],
        &["competencies", "list", "--now", now],
        &["membership", "status", "--now", now],
    ] {
        all.push_str(&all_outputs(&env, args));
    }
    env.ok(&["report", "--now", now, "--out", "r.html"]);
    all.push_str(&std::fs::read_to_string(env.path("r.html")).unwrap());
    assert!(!all.contains("+1000"), "{all}");
    assert!(all.contains("9999-12-31"), "{all}");
}

/// Bug (issue 26 item 11): `inf` and `-0.0` in outputs. A rulebook figure that makes one (a
/// `points_per_unit` so small that the maximum needs an infinite value, a threshold over
/// 10^15) is refused naming its line; a negative zero is shown as 0.
#[test]
fn no_output_shows_inf_or_a_negative_zero() {
    let env = Env::new();
    env.create("--name Contoso --partner-id 1234567 --rulebook solutions-partner --now 2026-01-01");
    let (_, sp, _) = env.run("rules export");
    // The 2026 rulebook writes its items as "max_points from full_at units": one written
    // per unit instead, with a per-unit value so small the maximum needs an infinite value.
    let item = "max_points = 30, full_at = 3 }";
    let line = sp.lines().position(|l| l.contains(item)).unwrap();
    let tiny = sp.replacen(item, "max_points = 30, points_per_unit = 1e-320 }", 1);
    std::fs::write(env.path("tiny.toml"), tiny).unwrap();
    let err = env.fails("rules import tiny.toml");
    assert!(
        err.contains(&format!("tiny.toml:{}:", line + 1)) && err.contains("points_per_unit"),
        "{err}"
    );
    let gaps = all_outputs(&env, &["designations", "gaps"]);
    assert!(!has_word(&gaps, "inf"), "{gaps}");
    // A threshold over 10^15, and a negative zero.
    env.create("--name Fabrikam --partner-id 7654321 --now 2026-01-01");
    let (_, rb, _) = env.run("--org fabrikam rules export");
    let huge = rb.replacen("at_least = 15000", "at_least = 1e300", 1);
    std::fs::write(env.path("huge.toml"), huge).unwrap();
    let err = env.fails("--org fabrikam rules import huge.toml");
    assert!(err.contains("at most 10^15"), "{err}");
    let zero = rb.replacen("at_least = 15000", "at_least = -0.0", 1);
    std::fs::write(env.path("zero.toml"), zero).unwrap();
    env.ok("--org fabrikam rules import zero.toml");
    // The page too: a requirement with no figure yet summed to -0 in its data attributes.
    env.ok("--org fabrikam report --out zero.html");
    let page = std::fs::read_to_string(env.path("zero.html")).unwrap();
    assert!(!page.contains("\"-0\""), "a negative zero on the page");
    let all = all_outputs(&env, &["--org", "fabrikam", "rules", "show"])
        + &all_outputs(&env, &["--org", "fabrikam", "competencies", "gaps"]);
    assert!(
        !all.contains("-0.0") && !has_word(&all, "-0") && !has_word(&all, "inf"),
        "{all}"
    );
}
