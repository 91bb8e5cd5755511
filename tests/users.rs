//! Organizations, users, MSA links, credentials and the audit trail, through the binary.

mod common;

use common::{Env, mode, read_credentials};

#[test]
fn init_creates_a_private_database_and_refuses_a_second_init() {
    // SQLite-only: about the database file's mode.
    let env = Env::sqlite();
    env.init();
    assert_eq!(mode(&env.db()), 0o600);
    let org = env.json(&["org", "show"]);
    assert_eq!(org["slug"], "contoso-ltd");
    assert_eq!(org["domain"], "contoso-ltd.onmicrosoft.com");
    assert_eq!(org["market"], "developed");
    let err = env.fails(&["init", "--name", "Other", "--partner-id", "1234567"]);
    assert!(err.contains("partner ID 1234567 already exists"), "{err}");
}

#[test]
fn database_in_a_new_folder_is_created() {
    let env = Env::new();
    let db = env.path("deep/er/c.db");
    env.ok(&[
        "--db",
        db.to_str().unwrap(),
        "init",
        "--name",
        "A",
        "--partner-id",
        "1",
    ]);
    assert_eq!(mode(&db), 0o600);
}

#[test]
fn org_resolution_by_slug_partner_id_only_one_or_error_listing_them() {
    let env = Env::new();
    env.init();
    // With one organization, no --org is needed.
    env.ok(&["users", "list"]);
    env.create(&[
        "--name",
        "Fabrikam",
        "--partner-id",
        "7654321",
        "--market",
        "developing",
    ]);
    let err = env.fails(&["users", "list"]);
    assert!(
        err.contains("2 organizations") && err.contains("contoso-ltd") && err.contains("fabrikam"),
        "{err}"
    );
    assert_eq!(
        env.json(&["--org", "fabrikam", "org", "show"])["partner_id"],
        "7654321"
    );
    assert_eq!(
        env.json(&["--org", "1234567", "org", "show"])["slug"],
        "contoso-ltd"
    );
    let err = env.fails(&["--org", "nope", "org", "show"]);
    assert!(
        err.contains("no organization \"nope\"") && err.contains("fabrikam"),
        "{err}"
    );
    let list = env.json(&["org", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    // The config file's default organization.
    std::fs::write(env.path("config.toml"), "org = \"fabrikam\"\n").unwrap();
    assert_eq!(env.json(&["org", "show"])["slug"], "fabrikam");
    std::fs::write(env.path("config.toml"), "colour = 1\n").unwrap();
    let err = env.fails(&["org", "show"]);
    assert!(err.contains("config.toml:1"), "{err}");
}

#[test]
fn add_user_writes_credentials_once_and_never_elsewhere() {
    let env = Env::new();
    env.init();
    let out = env
        .cmd()
        .args([
            "add-user",
            "--name",
            "Ada Lovelace",
            "--email",
            "Ada@Contoso.com",
            "--credentials-file",
            "c.csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("ada@contoso-ltd.onmicrosoft.com"),
        "{stdout}"
    );
    assert!(stdout.contains("c.csv"));
    let path = env.path("c.csv");
    assert_eq!(mode(&path), 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("username,email,temporary_password,expires\n"),
        "{text}"
    );
    let rows = read_credentials(&path);
    assert_eq!(rows.len(), 1);
    let password = &rows[0][2];
    assert!(password.len() >= 16);
    assert_eq!(rows[0][1], "ada@contoso.com");
    assert!(!stdout.contains(password.as_str()) && !stderr.contains(password.as_str()));
    let audit = env.ok(&["audit", "--format", "json"]);
    assert!(!audit.contains(password.as_str()));
    let db = env.db_bytes();
    assert!(
        !db.windows(password.len()).any(|w| w == password.as_bytes()),
        "password stored in clear"
    );
}

#[test]
fn temporary_password_is_valid_90_days() {
    let env = Env::new();
    env.init();
    env.ok(
        "--now 2026-03-01T10:00:00Z users add --name B --email b@x.com \
         --credentials-file c.csv",
    );
    let rows = read_credentials(&env.path("c.csv"));
    assert_eq!(rows[0][3], "2026-05-30T10:00:00Z");
}

#[test]
fn user_names_get_a_number_on_collision() {
    let env = Env::new();
    env.init();
    let (a, _) = env.add_user("Ann One", "ann@a.com", &[]);
    let (b, _) = env.add_user("Ann Two", "Ann@b.com", &[]);
    let (c, _) = env.add_user("Ann Three", "ann@c.com", &[]);
    assert_eq!(a, "ann@contoso-ltd.onmicrosoft.com");
    assert_eq!(b, "ann2@contoso-ltd.onmicrosoft.com");
    assert_eq!(c, "ann3@contoso-ltd.onmicrosoft.com");
}

#[test]
fn bad_and_duplicate_emails_are_refused_and_change_nothing() {
    let env = Env::new();
    env.init();
    let err = env.fails("users add --name Bob --email bob@ --credentials-file x.csv");
    assert!(err.contains("\"bob@\" is not an e-mail address"), "{err}");
    assert!(!env.path("x.csv").exists(), "credentials file left behind");
    env.add_user("Bob", "bob@x.com", &[]);
    let err = env.fails("users add --name Bob2 --email BOB@x.com --credentials-file y.csv");
    assert!(err.contains("already the e-mail of active user"), "{err}");
    assert!(!env.path("y.csv").exists());
    assert_eq!(env.json(&["users", "list"]).as_array().unwrap().len(), 1);
}

#[test]
fn credentials_file_never_over_an_existing_file_or_through_a_link() {
    let env = Env::new();
    env.init();
    std::fs::write(env.path("exists.csv"), "keep me").unwrap();
    let err = env.fails("users add --name C --email c@x.com --credentials-file exists.csv");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(env.path("exists.csv")).unwrap(),
        "keep me"
    );
    std::os::unix::fs::symlink(env.path("elsewhere.csv"), env.path("link.csv")).unwrap();
    env.fails("users add --name C --email c@x.com --credentials-file link.csv");
    assert!(!env.path("elsewhere.csv").exists());
    assert_eq!(
        env.json(&["users", "list"]).as_array().unwrap().len(),
        0,
        "user added despite the error"
    );
}

#[test]
fn users_list_show_and_json_shape() {
    let env = Env::new();
    env.init();
    env.add_user(
        "Ada",
        "ada@x.com",
        &[
            "--role",
            "global-admin",
            "--role",
            "mpn-admin",
            "--msa",
            "Ada@Outlook.com",
        ],
    );
    let list = env.json(&["users", "list"]);
    let u = &list[0];
    for key in ["username", "name", "email", "status", "msa", "roles"] {
        assert!(u.get(key).is_some(), "missing {key}");
    }
    assert_eq!(u["msa"], "ada@outlook.com");
    assert_eq!(u["roles"], serde_json::json!(["global-admin", "mpn-admin"]));
    let show = env.json(&["users", "show", "ada@x.com"]);
    assert_eq!(show["password"], "temporary");
    let csv = env.ok(&["users", "list", "--format", "csv"]);
    assert!(
        csv.starts_with("username,name,email,status,msa,roles\n"),
        "{csv}"
    );
    let err = env.fails(&["users", "show", "nobody@x.com"]);
    assert!(err.contains("no user \"nobody@x.com\""), "{err}");
}

#[test]
fn remove_keeps_history_ends_the_msa_and_protects_the_last_global_admin() {
    let env = Env::new();
    env.init();
    let (admin, _) = env.add_user("Admin", "admin@x.com", &["--role", "global-admin"]);
    let (bob, _) = env.add_user("Bob", "bob@x.com", &["--msa", "bob@outlook.com"]);
    let err = env.fails(&["users", "remove", &admin]);
    assert!(err.contains("last active global admin"), "{err}");
    env.ok(&[
        "--now",
        "2026-06-01",
        "users",
        "remove",
        &bob,
        "--reason",
        "left the company",
    ]);
    assert_eq!(env.json(&["users", "list"]).as_array().unwrap().len(), 1);
    let all = env.json(&["users", "list", "--all"]);
    let b = all
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == bob.as_str())
        .unwrap();
    assert_eq!(b["status"], "removed");
    assert_eq!(b["msa"], serde_json::Value::Null);
    let show = env.json(&["users", "show", &bob]);
    assert_eq!(show["removed"], "2026-06-01T00:00:00Z");
    assert_eq!(show["removal_reason"], "left the company");
    // The e-mail is free again for a new account.
    env.add_user("Bob Again", "bob@x.com", &[]);
    let err = env.fails(&["users", "remove", "ghost@x.com"]);
    assert!(err.contains("no user"), "{err}");
}

#[test]
fn linking_an_msa_elsewhere_severs_the_old_association() {
    let env = Env::new();
    env.init();
    env.create(&["--name", "Fabrikam", "--partner-id", "99"]);
    env.ok(
        "--org contoso-ltd users add --name Eve --email eve@contoso.com \
         --msa eve@outlook.com --credentials-file a.csv",
    );
    let (code, _, err) = env.run(
        "--org fabrikam users add --name Eve --email eve@fabrikam.com \
         --credentials-file b.csv",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) =
        env.run("--org fabrikam users link-msa eve@fabrikam.com --msa EVE@outlook.com");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("severed") && err.contains("Contoso Ltd"),
        "{err}"
    );
    let c = env.json(&["--org", "contoso-ltd", "users", "list"]);
    assert_eq!(c[0]["msa"], serde_json::Value::Null);
    let f = env.json(&["--org", "fabrikam", "users", "list"]);
    assert_eq!(f[0]["msa"], "eve@outlook.com");
    let audit = env.ok(&["--org", "contoso-ltd", "audit"]);
    assert!(audit.contains("msa.sever"), "{audit}");
}

#[test]
fn reset_password_issues_a_new_credentials_file() {
    let env = Env::new();
    env.init();
    let (u, old) = env.add_user("Dan", "dan@x.com", &[]);
    env.ok(&[
        "users",
        "reset-password",
        &u,
        "--credentials-file",
        "new.csv",
    ]);
    let rows = read_credentials(&env.path("new.csv"));
    assert_eq!(rows[0][0], u);
    assert_ne!(rows[0][2], old);
    assert_eq!(mode(&env.path("new.csv")), 0o600);
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    let out = env
        .cmd()
        .args(["users", "add", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = env
        .cmd()
        .args(["users", "add", "--name", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    // SQLite-only: it writes the file's user_version with the sqlite library.
    let env = Env::sqlite();
    env.init();
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let err = env.fails(&["org", "show"]);
    assert!(
        err.contains("schema version 999") && err.contains("newer"),
        "{err}"
    );
}

#[test]
fn audit_records_actor_time_and_respects_since_and_limit() {
    let env = Env::new();
    env.init();
    env.ok("--now 2026-02-01 users add --name A --email a@x.com \
            --credentials-file a.csv");
    env.ok("--now 2026-03-01 users add --name B --email b@x.com \
            --credentials-file b.csv");
    let all = env.json(&["audit"]);
    assert_eq!(all[0]["action"], "org.init");
    // The OS user from the password database, not the $USER the test sets ("tester").
    assert_eq!(all[0]["actor"], common::os_user_name().as_str());
    assert_eq!(all[0]["at"], "2026-01-01T00:00:00Z");
    let since = env.json(&["audit", "--since", "2026-02-15"]);
    assert_eq!(since.as_array().unwrap().len(), 1);
    assert_eq!(since[0]["subject"], "b@contoso-ltd.onmicrosoft.com");
    let last = env.json(&["audit", "--limit", "1"]);
    assert_eq!(last[0]["action"], "users.add");
    for key in ["at", "actor", "action", "subject", "detail"] {
        assert!(last[0].get(key).is_some());
    }
}

#[test]
fn completions_are_printed() {
    let env = Env::new();
    let out = env.ok(&["completions", "bash"]);
    assert!(out.contains("competency") && out.contains("add-user"));
}

#[test]
fn bad_now_is_a_usage_error() {
    let env = Env::new();
    let out = env
        .cmd()
        .args(["--now", "yesterday", "org", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let env = Env::new();
    // More output than a pipe buffer holds, read one chunk, then close the pipe.
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("competency"))
        .args(["completions", "bash"])
        .env("COMPETENCY_DB", env.db())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 1024];
    child.stdout.as_mut().unwrap().read_exact(&mut buf).unwrap();
    drop(child.stdout.take());
    let out = common::output_within_deadline(child);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------
// USER names one account (SPEC §4, issue 9 item 1): an active account before a removed
// one; a text that is the user name of one account and the e-mail of another is refused
// as ambiguous, naming both; a user name is never generated equal to another account's
// e-mail. Every command taking USER resolves it the same way.
// ---------------------------------------------------------------------------------------

/// Contoso with the company mail domain acme.com, on the small membership rulebook.
fn acme() -> Env {
    let env = Env::new();
    env.create(&[
        "--name",
        "Contoso Ltd",
        "--partner-id",
        "1234567",
        "--domain",
        "acme.com",
        "--rulebook",
        MEMBERSHIP_RULEBOOK,
        "--now",
        "2026-01-01",
    ]);
    env
}

const MEMBERSHIP_RULEBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/membership-rulebook.toml"
);

fn status_of(env: &Env, username: &str) -> String {
    let all = env.json(&["users", "list", "--all"]);
    all.as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .map(|u| u["status"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {username} in {all}"))
}

#[test]
fn users_remove_refuses_a_text_that_is_one_accounts_user_name_and_anothers_email() {
    // The issue's story: with --domain acme.com, Ann Contractor (ann@partner.org) got the
    // user name ann2@acme.com (ann@acme.com was taken); later Ann Two, whose e-mail is
    // ann2@acme.com, joined. Removing "ann2@acme.com" removed Ann Contractor.
    let env = acme();
    let (admin, _) = env.add_user("Ann Admin", "ann@acme.com", &[]);
    assert_eq!(admin, "ann@acme.com");
    let (contractor, _) = env.add_user("Ann Contractor", "ann@partner.org", &[]);
    assert_eq!(contractor, "ann2@acme.com");
    let (two, _) = env.add_user("Ann Two", "ann2@acme.com", &[]);
    assert_ne!(two, "ann2@acme.com");
    let before = env.db_bytes();
    let err = env.fails(&[
        "users",
        "remove",
        "ann2@acme.com",
        "--reason",
        "Ann Two left",
    ]);
    assert!(err.contains("ambiguous"), "{err}");
    assert!(
        err.contains(&contractor) && err.contains("Ann Contractor"),
        "{err}"
    );
    assert!(err.contains(&two) && err.contains("Ann Two"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        before == env.db_bytes(),
        "a refused command changed the database"
    );
    assert_eq!(status_of(&env, &contractor), "active");
    assert_eq!(status_of(&env, &two), "active");
    // Every command taking USER refuses the same text.
    for args in [
        vec!["users", "show", "ann2@acme.com"],
        vec!["users", "reset-password", "ann2@acme.com"],
        vec![
            "users",
            "link-msa",
            "ann2@acme.com",
            "--msa",
            "x@outlook.com",
        ],
        vec!["achievements", "list", "--user", "ann2@acme.com"],
        vec!["membership", "what-if", "--remove-user", "ann2@acme.com"],
    ] {
        let err = env.fails(&args);
        assert!(err.contains("ambiguous"), "{args:?}: {err}");
    }
    // Each account is still reachable without ambiguity.
    env.ok(&["users", "remove", &two, "--reason", "Ann Two left"]);
    assert_eq!(status_of(&env, &two), "removed");
    assert_eq!(status_of(&env, &contractor), "active");
}

#[test]
fn a_rehired_employees_email_names_the_active_account_not_the_removed_one() {
    let env = acme();
    let (old, _) = env.add_user("Bob", "bob@acme.com", &[]);
    assert_eq!(old, "bob@acme.com");
    env.ok(&["users", "remove", "bob@acme.com", "--reason", "left"]);
    let (new, _) = env.add_user("Bob", "bob@acme.com", &[]);
    assert_eq!(new, "bob2@acme.com");
    // "bob@acme.com" is the removed account's user name and the active account's e-mail:
    // the active one is meant.
    assert_eq!(
        env.json(&["users", "show", "bob@acme.com"])["username"],
        new
    );
    env.ok("users link-msa bob@acme.com --msa bob@outlook.com");
    assert_eq!(env.json(&["users", "show", &new])["msa"], "bob@outlook.com");
    let w = env.json(&["membership", "what-if", "--remove-user", "bob@acme.com"]);
    assert!(w.to_string().contains(&new), "{w}");
    assert!(!w.to_string().contains("\"bob@acme.com\""), "{w}");
    env.ok(&["users", "remove", "bob@acme.com", "--reason", "left again"]);
    assert_eq!(status_of(&env, &new), "removed");
    // With no active account left, both removed accounts match: ambiguous again.
    let err = env.fails(&["users", "show", "bob@acme.com"]);
    assert!(err.contains("ambiguous"), "{err}");
    assert_eq!(env.json(&["users", "show", &new])["status"], "removed");
}

#[test]
fn a_generated_user_name_is_never_another_accounts_email() {
    let env = acme();
    env.create(&[
        "--name",
        "Fabrikam",
        "--partner-id",
        "7654321",
        "--domain",
        "fabrikam.com",
    ]);
    // A Fabrikam account whose e-mail is ann2@acme.com (its user name is at fabrikam.com).
    let (username, _) = env.add_user("Ann Fab", "ann2@acme.com", &["--org", "fabrikam"]);
    assert_eq!(username, "ann2@fabrikam.com");
    let add = |name: &str, email: &str| env.add_user(name, email, &["--org", "contoso-ltd"]).0;
    assert_eq!(add("Ann", "ann@acme.com"), "ann@acme.com");
    // ann2@acme.com is no account's user name, but it is an account's e-mail: skipped.
    assert_eq!(add("Ann C", "ann@partner.org"), "ann3@acme.com");
    // The bulk import follows the same rule.
    std::fs::write(env.path("u.csv"), "email,name\nann@other.org,Ann O\n").unwrap();
    env.ok("--org contoso-ltd users import u.csv --credentials-file c.csv");
    let users = env.json(&["--org", "contoso-ltd", "users", "list"]);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ann4@acme.com"), "{names:?}");
    assert!(!names.contains(&"ann2@acme.com"), "{names:?}");
}

// ---------------------------------------------------------------------------------------
// Moving an MSA between colleagues is an administrator's explicit act (issue 9 item 15).
// ---------------------------------------------------------------------------------------

#[test]
fn an_msa_of_a_colleague_moves_only_with_an_administrators_move() {
    let env = acme();
    let (ann, _) = env.add_user("Ann", "ann@acme.com", &["--msa", "shared@outlook.com"]);
    let (bob, _) = env.add_user("Bob", "bob@acme.com", &[]);
    // Without --move: refused, with the hint, nothing changed.
    let err = env.fails(&["users", "link-msa", &bob, "--msa", "shared@outlook.com"]);
    assert!(err.contains(&ann) && err.contains("--move"), "{err}");
    assert_eq!(
        env.json(&["users", "show", &ann])["msa"],
        "shared@outlook.com"
    );
    // users add --msa of a colleague's MSA: refused the same way.
    let err = env.fails(
        "users add --name Cy --email cy@acme.com --msa shared@outlook.com \
         --credentials-file cy.csv",
    );
    assert!(err.contains("--move"), "{err}");
    // Nor does a users import take it from a colleague.
    std::fs::write(
        env.path("staff.csv"),
        "email,name,msa\ncy@acme.com,Cy,shared@outlook.com\n",
    )
    .unwrap();
    let err = env.fails("users import staff.csv --credentials-file s.csv");
    assert!(
        err.contains("staff.csv:2") && err.contains("--move"),
        "{err}"
    );
    assert_eq!(
        env.json(&["users", "show", &ann])["msa"],
        "shared@outlook.com"
    );
    // With --move: moved, said and audited.
    let (code, _, err) = env.run(&[
        "users",
        "link-msa",
        &bob,
        "--msa",
        "shared@outlook.com",
        "--move",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&ann) && err.contains("severed"), "{err}");
    assert_eq!(
        env.json(&["users", "show", &ann])["msa"],
        serde_json::Value::Null
    );
    assert_eq!(
        env.json(&["users", "show", &bob])["msa"],
        "shared@outlook.com"
    );
    let audit = env.ok(&["audit"]);
    assert!(audit.contains("--move"), "{audit}");
}

/// Contoso and Fabrikam under the membership rulebook, with Fay's MSA fay@outlook.com
/// linked to her account at Fabrikam.
fn two_orgs_with_fay_at_fabrikam() -> Env {
    let env = Env::new();
    for (name, id) in [("Contoso", "1111111"), ("Fabrikam", "2222222")] {
        env.create(&[
            "--name",
            name,
            "--partner-id",
            id,
            "--rulebook",
            MEMBERSHIP_RULEBOOK,
            "--now",
            "2026-01-01",
        ]);
    }
    env.ok(
        "--org fabrikam users add --name Fay --email fay@fabrikam.com \
         --msa fay@outlook.com --credentials-file fay.csv",
    );
    env
}

// ---------------------------------------------------------------------------------------
// An organization writes only the achievements of its own people's MSAs or of MSAs
// associated with no account (SPEC §4, issue 9 item 3).
// ---------------------------------------------------------------------------------------

#[test]
fn one_organization_cannot_change_another_organizations_achievements() {
    let env = two_orgs_with_fay_at_fabrikam();
    env.ok(
        "--org fabrikam achievements add --msa fay@outlook.com --code AZ-1 \
         --earned 2025-12-01",
    );
    let before = env.db_bytes();
    // Contoso can neither remove, add nor import Fay's records.
    let err = env.fails("--org contoso achievements remove --msa fay@outlook.com --code AZ-1");
    assert!(err.contains("Fabrikam"), "{err}");
    let err = env.fails(
        "--org contoso achievements add --msa fay@outlook.com --code AZ-2 \
         --earned 2025-12-01",
    );
    assert!(err.contains("Fabrikam"), "{err}");
    std::fs::write(
        env.path("a.csv"),
        "msa,code,earned\nfay@outlook.com,AZ-2,2025-12-02\nfree@outlook.com,AZ-2,2025-12-02\n",
    )
    .unwrap();
    let err = env.fails(&["--org", "contoso", "achievements", "import", "a.csv"]);
    assert!(err.contains("a.csv:2") && err.contains("Fabrikam"), "{err}");
    assert!(
        before == env.db_bytes(),
        "a refused write changed the database"
    );
    let fay = env.json(&["--org", "fabrikam", "achievements", "list"]);
    assert_eq!(fay.as_array().unwrap().len(), 1, "{fay}");
    // An MSA associated with no account: any organization may record it.
    env.ok(
        "--org contoso achievements add --msa free@outlook.com --code AZ-2 \
         --earned 2025-12-01",
    );
    // Fabrikam itself still changes its own people's records.
    env.ok("--org fabrikam achievements remove --msa fay@outlook.com --code AZ-1");
}

/// Bug (issue 26 item 11): `achievements list --msa` showed another organization's records.
/// An organization sees the achievements of its own people's MSAs and of MSAs associated
/// with no account, never those of another organization's people (not even its name).
#[test]
fn achievements_list_by_msa_never_shows_another_organizations_records() {
    let env = two_orgs_with_fay_at_fabrikam();
    env.ok("--org fabrikam achievements add --msa fay@outlook.com --code AZ-1 --earned 2025-12-01");
    env.ok("--org contoso achievements add --msa free@outlook.com --code AZ-2 --earned 2025-12-01");
    let (code, out, err) = env.run("--org contoso achievements list --msa fay@outlook.com");
    assert_eq!(code, 1, "{out}{err}");
    assert!(!out.contains("AZ-1"), "{out}");
    assert!(
        err.contains("another organization") && !err.contains("Fabrikam"),
        "{err}"
    );
    let (code, out, _) =
        env.run("--org contoso achievements list --msa fay@outlook.com --format json");
    assert_eq!(code, 1);
    assert!(!out.contains("AZ-1"), "{out}");
    // Its own people's and unassociated MSAs' records stay visible; Fabrikam sees Fay's.
    let free = env.json("--org contoso achievements list --msa free@outlook.com");
    assert_eq!(free.as_array().unwrap().len(), 1, "{free}");
    let fay = env.json("--org fabrikam achievements list --msa fay@outlook.com");
    assert_eq!(fay.as_array().unwrap().len(), 1, "{fay}");
}
