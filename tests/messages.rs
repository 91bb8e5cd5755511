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
