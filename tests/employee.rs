//! Employee self-service through the binary: passwords, recovery codes, linking an MSA.

mod common;

use common::{Env, read_credentials};

#[test]
fn set_password_then_link_msa() {
    let env = Env::new();
    env.init();
    let (u, temp) = env.add_user("Ann", "ann@x.com", &[]);
    // A temporary password must be changed before linking.
    let (code, _, err) = env.run_stdin(
        format!("employee link-msa --user {u} --msa ann@outlook.com --password-stdin"),
        &format!("{temp}\n"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("temporary password") && err.contains("set-password"),
        "{err}"
    );
    // Too short a new password.
    let (code, _, err) = env.run_stdin(
        format!("employee set-password --user {u} --password-stdin"),
        &format!("{temp}\nshort\n"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("at least 12"), "{err}");
    let (code, _, err) = env.run_stdin(
        format!("employee set-password --user {u} --password-stdin"),
        &format!("{temp}\ncorrect horse battery\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(env.json(&["users", "show", &u])["password"], "chosen");
    let db = env.db_bytes();
    assert!(!db.windows(21).any(|w| w == b"correct horse battery"));
    let (code, _, err) = env.run_stdin(
        "employee link-msa --user ann@x.com --msa ann@outlook.com --password-stdin",
        "correct horse battery\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(env.json(&["users", "show", &u])["msa"], "ann@outlook.com");
    let audit = env.ok(&["audit"]);
    assert!(audit.contains("linked by the employee"), "{audit}");
}

#[test]
fn a_wrong_password_fails_and_is_audited() {
    let env = Env::new();
    env.init();
    let (u, _) = env.add_user("Ann", "ann@x.com", &[]);
    let (code, out, err) = env.run_stdin(
        format!("employee set-password --user {u} --password-stdin"),
        "WrongPassword123\nnew password here\n",
    );
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("sign-in failed for \"{u}\"")),
        "{err}"
    );
    assert!(!out.contains("WrongPassword123") && !err.contains("WrongPassword123"));
    let audit = env.json(&["audit"]);
    let failed: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "employee.sign-in-failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(!env.ok(&["audit"]).contains("WrongPassword123"));
    assert_eq!(env.json(&["users", "show", &u])["password"], "temporary");
}

#[test]
fn an_expired_temporary_password_cannot_be_used() {
    let env = Env::new();
    env.init();
    let (u, temp) = env.add_user("Ann", "ann@x.com", &[]);
    let (code, _, err) = env.run_stdin(
        format!("--now 2027-06-01 employee set-password --user {u} --password-stdin"),
        &format!("{temp}\nanother long password\n"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("expired") && err.contains("reset-password"),
        "{err}"
    );
}

#[test]
fn self_service_reset_with_the_recovery_code_once() {
    let env = Env::new();
    env.init();
    env.ok(
        "users add --name Sam --email sam@x.com --self-service-reset \
         --credentials-file c.csv",
    );
    let text = std::fs::read_to_string(env.path("c.csv")).unwrap();
    assert!(text.starts_with("username,email,temporary_password,expires,recovery_code\n"));
    let row = &read_credentials(&env.path("c.csv"))[0];
    let (user, code) = (row[0].clone(), row[4].clone());
    let (rc, _, err) = env.run_stdin(
        format!("employee reset-password --user {user} --password-stdin"),
        "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE\nmy new long password\n",
    );
    assert_eq!(rc, 1);
    assert!(err.contains("sign-in failed for"), "{err}");
    let (rc, _, err) = env.run_stdin(
        format!("employee reset-password --user {user} --password-stdin"),
        &format!("{}\nmy new long password\n", code.to_lowercase()),
    );
    assert_eq!(rc, 0, "{err}");
    let (rc, _, err) = env.run_stdin(
        format!("employee reset-password --user {user} --password-stdin"),
        &format!("{code}\nyet another password\n"),
    );
    assert_eq!(rc, 1);
    assert!(err.contains("sign-in failed for"), "{err}");
    // The chosen password now works for linking.
    let (rc, _, err) = env.run_stdin(
        format!("employee link-msa --user {user} --msa sam@live.com --password-stdin"),
        "my new long password\n",
    );
    assert_eq!(rc, 0, "{err}");
    assert!(
        !env.db_bytes()
            .windows(code.len())
            .any(|w| w == code.as_bytes())
    );
}

#[test]
fn reset_without_self_service_points_to_the_administrator() {
    let env = Env::new();
    env.init();
    let (u, _) = env.add_user("Ann", "ann@x.com", &[]);
    let (rc, _, err) = env.run_stdin(
        format!("employee reset-password --user {u} --password-stdin"),
        "X\nmy new long password\n",
    );
    assert_eq!(rc, 1);
    assert!(err.contains("users reset-password"), "{err}");
}

#[test]
fn no_terminal_and_no_password_stdin_is_a_clear_error() {
    let env = Env::new();
    env.init();
    let (u, _) = env.add_user("Ann", "ann@x.com", &[]);
    let (rc, _, err) = env.run_stdin(format!("employee set-password --user {u}"), "");
    assert_eq!(rc, 1);
    assert!(err.contains("--password-stdin"), "{err}");
}
