//! Employee sign-in and self-service passwords.
//!
//! An employee proves who they are with a password or a one-time recovery code, checked
//! inside the write transaction of the change it guards ([`guarded`]): what was checked is
//! what changes. Every failure gives one message whatever the reason (the audit trail keeps
//! the reason) and is recorded and committed; after [`THROTTLE_FAILURES`] failures within
//! [`THROTTLE_WINDOW_MINUTES`] the account is locked for the rest of the window. No secret
//! is ever audited.

use anyhow::Result;

use crate::domain::Actor;
use crate::domain::accounts::find;
use crate::domain::credentials;
use crate::error::{AppError, auth_failed, bad_input, refused};
use crate::store::{Db, Org, UserRow};
use crate::support::fields;

/// Signs the employee in and, when that succeeds, runs `body` as them — all in the
/// caller's write transaction. Returns the outcome and whether to commit: a refused
/// sign-in commits its recorded failure (throttle count, audit row with `action`) and then
/// fails; an error of `body` propagates (roll back).
pub fn guarded<T>(
    db: &Db,
    org: &Org,
    actor: &Actor,
    key: &str,
    secret: Secret,
    action: &str,
    body: impl FnOnce(&Db, &Org, &Actor, &UserRow) -> Result<T>,
) -> Result<(Result<T>, bool)> {
    match sign_in(db, org, actor, key, secret, action)? {
        Err(failed) => Ok((Err(failed), true)),
        Ok(user) => body(db, org, actor, &user).map(|v| (Ok(v), true)),
    }
}

/// Failed sign-ins that lock an account for the rest of [`THROTTLE_WINDOW_MINUTES`].
pub const THROTTLE_FAILURES: u32 = 5;
/// The window, in minutes, over which failed sign-ins are counted.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;

/// What an employee proves who they are with.
#[derive(Clone, Copy)]
pub enum Secret<'a> {
    /// The account's password (temporary or chosen).
    Password(&'a str),
    /// The one-time recovery code of a self-service account.
    RecoveryCode(&'a str),
}

/// The one message of every failed sign-in, whatever the reason (unknown user, removed
/// account, wrong or revoked password, wrong or spent code): it tells an attacker nothing.
/// The audit trail records the reason.
pub fn sign_in_failed(key: &str, secret: Secret) -> anyhow::Error {
    let hint = match secret {
        Secret::Password(_) => "",
        Secret::RecoveryCode(_) => {
            ": a recovery code works once, and only for an account added with \
             --self-service-reset; otherwise an administrator issues a new password with \
             `competency users reset-password USER`"
        }
    };
    auth_failed(format!(
        "sign-in failed for {}{hint}",
        fields::shown(key.trim())
    ))
}

/// Signs an employee in. Call it inside the write transaction of the command it guards,
/// so that what it checked (the account active, the password or code current) is what the
/// command changes: a password revoked, a code spent or an account removed by another
/// process meanwhile authenticates nothing.
///
/// `Ok(Ok(user))`: signed in (earlier failures forgotten). `Ok(Err(e))`: refused, and the
/// failure was recorded (throttle count and audit row with `action`): the caller commits,
/// then fails with `e`. `Err`: any other error (roll back).
pub fn sign_in(
    db: &Db,
    org: &Org,
    actor: &Actor,
    key: &str,
    secret: Secret,
    action: &str,
) -> Result<Result<UserRow, anyhow::Error>> {
    let user = match find(db, org, key) {
        Ok(u) => u,
        Err(e)
            if e.downcast_ref::<AppError>()
                .is_some_and(|e| matches!(e, AppError::NotFound(_))) =>
        {
            actor.audit(
                db,
                org.id,
                action,
                &fields::shown(key.trim()),
                "no such account",
            )?;
            return Ok(Err(sign_in_failed(key, secret)));
        }
        Err(e) => return Err(e),
    };
    let window = chrono::Duration::minutes(THROTTLE_WINDOW_MINUTES);
    if let Some(fifth) =
        db.nth_recent_sign_in_failure(user.id, actor.at - window, actor.at, THROTTLE_FAILURES)?
    {
        let until = fifth + window;
        actor.audit(
            db,
            org.id,
            "employee.sign-in-throttled",
            &user.username,
            &format!(
                "refused without checking the secret: {THROTTLE_FAILURES} failed sign-ins \
                 within {THROTTLE_WINDOW_MINUTES} minutes; locked until {}",
                crate::support::clock::rfc3339(until)
            ),
        )?;
        return Ok(Err(refused(format!(
            "sign-in failed for {}: {THROTTLE_FAILURES} failed sign-ins within \
             {THROTTLE_WINDOW_MINUTES} minutes; try again after {}",
            fields::shown(key.trim()),
            crate::support::clock::rfc3339(until)
        ))));
    }
    let failure = if !user.is_active() {
        Some("the account was removed")
    } else {
        match secret {
            Secret::Password(p) if !credentials::verify(p, &user.password_hash) => {
                Some("wrong password")
            }
            Secret::Password(_) => None,
            Secret::RecoveryCode(_) if !user.self_service_reset => {
                Some("a recovery code was given, but the account has no self-service reset")
            }
            Secret::RecoveryCode(c) => match user.recovery_hash.as_deref() {
                None => Some("the recovery code was already spent"),
                Some(h) if !credentials::verify(&credentials::normalize_code(c), h) => {
                    Some("wrong recovery code")
                }
                Some(_) => None,
            },
        }
    };
    if let Some(reason) = failure {
        db.record_sign_in_failure(user.id, actor.at)?;
        actor.audit(db, org.id, action, &user.username, reason)?;
        return Ok(Err(sign_in_failed(key, secret)));
    }
    if matches!(secret, Secret::Password(_))
        && user.password_temporary
        && let Some(exp) = user.password_expires_at
        && actor.at >= exp
    {
        return Err(auth_failed(format!(
            "the temporary password of {} expired on {}: ask an administrator for \
             `competency users reset-password {}`",
            user.username,
            exp.date_naive(),
            user.username
        )));
    }
    db.clear_sign_in_failures(user.id)?;
    Ok(Ok(user))
}

/// Sets a password the employee chose, signed in with the current one in this same
/// transaction ([`sign_in`]): the update applies only to the password authenticated.
pub fn set_chosen_password(
    db: &Db,
    org: &Org,
    actor: &Actor,
    user: &UserRow,
    current: &str,
    new: &str,
) -> Result<()> {
    check_chosen(new, &user.username, &user.email).map_err(bad_input)?;
    if new == current {
        return Err(bad_input(
            "the new password must differ from the current one",
        ));
    }
    let hash = credentials::hash_chosen(new)?;
    if !db.replace_password_if(user.id, &user.password_hash, &hash)? {
        return Err(sign_in_failed(&user.username, Secret::Password(current)));
    }
    actor.audit(
        db,
        org.id,
        "employee.set-password",
        &user.username,
        "password changed by the employee",
    )?;
    Ok(())
}

/// Requires that the account's password is not temporary (any self-service command but
/// `set-password`).
pub fn require_chosen_password(user: &UserRow) -> Result<()> {
    if user.password_temporary {
        return Err(refused(format!(
            "{} still has a temporary password: change it first with \
             `competency employee set-password --user {}`",
            user.username, user.username
        )));
    }
    Ok(())
}

/// Resets a self-service account's password with its one-time recovery code, signed in
/// with that code in this same transaction ([`sign_in`]): the code is spent by a guarded
/// update, so of two runs racing with one code exactly one succeeds.
pub fn reset_with_code(db: &Db, org: &Org, actor: &Actor, user: &UserRow, new: &str) -> Result<()> {
    check_chosen(new, &user.username, &user.email).map_err(bad_input)?;
    let Some(code_hash) = user.recovery_hash.as_deref() else {
        return Err(sign_in_failed(&user.username, Secret::RecoveryCode("")));
    };
    if !db.spend_recovery_code(user.id, code_hash, &credentials::hash_chosen(new)?)? {
        return Err(sign_in_failed(&user.username, Secret::RecoveryCode("")));
    }
    actor.audit(
        db,
        org.id,
        "employee.reset-password",
        &user.username,
        "password reset with the one-time recovery code (code spent)",
    )?;
    Ok(())
}

/// Minimum length of a password an employee chooses.
pub const MIN_PASSWORD_LENGTH: usize = 12;

/// The 10,000 most common passwords (data/common-passwords.txt: the head of zxcvbn's
/// frequency list of leaked passwords), lower case, one a line.
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

/// Whether `password` is in the common-password list, ignoring case.
pub fn is_common_password(password: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<String>> = std::sync::OnceLock::new();
    let set = SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    });
    set.contains(&password.to_lowercase())
}

/// Whether every character follows the previous one in the alphabet or among the digits,
/// all up or all down, wrapping round (`abcdefghijkl`, `123456789012`, `zyxwvutsrqpo`).
fn is_sequence(password: &str) -> bool {
    let c: Vec<char> = password.chars().map(|c| c.to_ascii_lowercase()).collect();
    // The step from a to b within their class, and the class size.
    let step = |a: char, b: char| -> Option<(u32, u32)> {
        let n = match (a, b) {
            ('0'..='9', '0'..='9') => 10,
            ('a'..='z', 'a'..='z') => 26,
            _ => return None,
        };
        Some(((b as u32 + n - a as u32) % n, n))
    };
    let steps: Vec<Option<(u32, u32)>> = c.windows(2).map(|w| step(w[0], w[1])).collect();
    let up = steps.iter().all(|s| matches!(s, Some((1, _))));
    let down = steps
        .iter()
        .all(|s| matches!(s, Some((d, n)) if *d == n - 1));
    !steps.is_empty() && (up || down)
}

/// Checks a password an employee chooses for the account `username` / `email`, after NIST
/// SP 800-63B §5.1.1.2: at least [`MIN_PASSWORD_LENGTH`] characters; not the user name,
/// the e-mail or either's local part; not in the list of common passwords; not one
/// character repeated, nor a short pattern repeated, nor a run like `abcdefghijkl` or
/// `123456789012`. Nothing else (no composition rules).
pub fn check_chosen(password: &str, username: &str, email: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LENGTH {
        return Err(format!(
            "the new password has {n} characters; it needs at least {MIN_PASSWORD_LENGTH}"
        ));
    }
    if password.chars().any(char::is_control) {
        return Err("the new password contains control characters".into());
    }
    let lower = password.to_lowercase();
    let local = |s: &str| s.split('@').next().unwrap_or_default().to_lowercase();
    if [
        username.to_lowercase(),
        email.to_lowercase(),
        local(username),
        local(email),
    ]
    .contains(&lower)
    {
        return Err("the new password is the account's user name or e-mail: choose another".into());
    }
    if is_common_password(password) {
        return Err(
            "the new password is in the list of the 10,000 most common passwords: choose another"
                .into(),
        );
    }
    let chars: Vec<char> = lower.chars().collect();
    if (1..=3).any(|p| n % p == 0 && chars.chunks(p).all(|c| c == &chars[..p])) {
        return Err(
            "the new password repeats one character or a short pattern: choose another".into(),
        );
    }
    if is_sequence(password) {
        return Err(
            "the new password is a run of consecutive letters or digits: choose another".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_passwords_follow_nist_800_63b() {
        let ok = |p: &str| check_chosen(p, "ann.contractor@acme.com", "ann.contractor@partner.org");
        // Long enough and not guessable: accepted, whatever the composition.
        assert!(ok("correct horse battery").is_ok());
        assert!(ok("plumbing-giraffe-42").is_ok());
        assert!(ok("abcdefghijkm").is_ok());
        // Refused, each with the reason it names.
        for (p, why) in [
            // Too short.
            ("Tr0ub4dor&3", "at least 12"),
            // One character repeated, a short pattern repeated.
            ("aaaaaaaaaaaa", "repeats"),
            ("AAAAAAAAAAAAAAAA", "repeats"),
            ("abababababab", "repeats"),
            ("abcabcabcabc", "repeats"),
            // Runs, up or down, letters or digits, wrapping round.
            ("abcdefghijkl", "consecutive"),
            ("123456789012", "consecutive"),
            ("ZYXWVUTSRQPO", "consecutive"),
            ("98765432109876", "consecutive"),
            // The account's own names.
            ("ann.contractor@acme.com", "user name or e-mail"),
            ("ANN.CONTRACTOR@PARTNER.ORG", "user name or e-mail"),
            ("ann.contractor", "user name or e-mail"),
            // Common passwords, whatever the case.
            ("qwerasdfzxcv", "common"),
            ("1qaz2wsx3edc", "common"),
            ("LeaveMeAlone", "common"),
        ] {
            assert!(ok(p).unwrap_err().contains(why), "{p}");
        }
    }

    #[test]
    fn the_common_password_list_has_ten_thousand_entries() {
        let n = COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(n, 10_000);
        assert!(is_common_password("password"));
        assert!(is_common_password("PASSWORD"));
        assert!(!is_common_password("correct horse battery"));
    }
}
