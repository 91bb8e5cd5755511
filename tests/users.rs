//! Organizations, users, MSA links, credentials and the audit trail, through the binary.

mod common;

use common::{Env, mode, read_credentials};

#[test]
fn init_creates_a_private_database_and_refuses_a_second_init() {
    let env = Env::new();
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
    env.ok(&[
        "init",
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
    env.ok(&[
        "--now",
        "2026-03-01T10:00:00Z",
        "users",
        "add",
        "--name",
        "B",
        "--email",
        "b@x.com",
        "--credentials-file",
        "c.csv",
    ]);
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
    let err = env.fails(&[
        "users",
        "add",
        "--name",
        "Bob",
        "--email",
        "bob@",
        "--credentials-file",
        "x.csv",
    ]);
    assert!(err.contains("\"bob@\" is not an e-mail address"), "{err}");
    assert!(!env.path("x.csv").exists(), "credentials file left behind");
    env.add_user("Bob", "bob@x.com", &[]);
    let err = env.fails(&[
        "users",
        "add",
        "--name",
        "Bob2",
        "--email",
        "BOB@x.com",
        "--credentials-file",
        "y.csv",
    ]);
    assert!(err.contains("already the e-mail of active user"), "{err}");
    assert!(!env.path("y.csv").exists());
    assert_eq!(env.json(&["users", "list"]).as_array().unwrap().len(), 1);
}

#[test]
fn credentials_file_never_over_an_existing_file_or_through_a_link() {
    let env = Env::new();
    env.init();
    std::fs::write(env.path("exists.csv"), "keep me").unwrap();
    let err = env.fails(&[
        "users",
        "add",
        "--name",
        "C",
        "--email",
        "c@x.com",
        "--credentials-file",
        "exists.csv",
    ]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(env.path("exists.csv")).unwrap(),
        "keep me"
    );
    std::os::unix::fs::symlink(env.path("elsewhere.csv"), env.path("link.csv")).unwrap();
    env.fails(&[
        "users",
        "add",
        "--name",
        "C",
        "--email",
        "c@x.com",
        "--credentials-file",
        "link.csv",
    ]);
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
    env.ok(&["init", "--name", "Fabrikam", "--partner-id", "99"]);
    env.ok(&[
        "--org",
        "contoso-ltd",
        "users",
        "add",
        "--name",
        "Eve",
        "--email",
        "eve@contoso.com",
        "--msa",
        "eve@outlook.com",
        "--credentials-file",
        "a.csv",
    ]);
    let (code, _, err) = env.run(&[
        "--org",
        "fabrikam",
        "users",
        "add",
        "--name",
        "Eve",
        "--email",
        "eve@fabrikam.com",
        "--credentials-file",
        "b.csv",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = env.run(&[
        "--org",
        "fabrikam",
        "users",
        "link-msa",
        "eve@fabrikam.com",
        "--msa",
        "EVE@outlook.com",
    ]);
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
    let env = Env::new();
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
    env.ok(&[
        "--now",
        "2026-02-01",
        "users",
        "add",
        "--name",
        "A",
        "--email",
        "a@x.com",
        "--credentials-file",
        "a.csv",
    ]);
    env.ok(&[
        "--now",
        "2026-03-01",
        "users",
        "add",
        "--name",
        "B",
        "--email",
        "b@x.com",
        "--credentials-file",
        "b.csv",
    ]);
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
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
