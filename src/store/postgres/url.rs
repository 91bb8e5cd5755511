//! A PostgreSQL URL as the store takes it: never with a password in it (refused in any
//! form, [`refuse_password`]), printed redacted ([`shown`]), parsed into the client's
//! settings with its TLS mode and the bounds of [`super::wait`].

use std::sync::OnceLock;

use anyhow::Result;

static PASSWORD: OnceLock<String> = OnceLock::new();

/// Sets the password from the 0600 configuration file (used when `PGPASSWORD` is unset).
pub fn set_config_password(password: String) {
    let _ = PASSWORD.set(password);
}

/// Whether `--db` names a PostgreSQL database rather than a SQLite file.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// The URL parameters kept when a URL is printed: none of them can hold a secret.
const SHOWN_PARAMS: [&str; 8] = [
    "sslmode",
    "host",
    "port",
    "dbname",
    "user",
    "connect_timeout",
    "application_name",
    "target_session_attrs",
];

/// Whether the raw URL carries a password before its query (`user:password@host`), read from
/// the text itself rather than from a parser's idea of the authority, so that a password
/// holding `/`, `@`, `:` or `[` is caught too: a `:` in the first component of what follows
/// `://` with an `@` after it is `user:password@`, unless it is a port (digits then the path
/// or the end) and the only `@` after it is in the query (`?user=ann@server`).
fn carries_userinfo_password(raw: &str) -> bool {
    let Some((_, body)) = raw.split_once("://") else {
        return false;
    };
    let first = body.find(['/', '?', '#', '[']).unwrap_or(body.len());
    let Some(colon) = body[..first].find(':') else {
        return false;
    };
    let after = &body[colon + 1..];
    let Some(at) = after.find('@') else {
        return false;
    };
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    let port_then_path = digits > 0 && matches!(after.as_bytes().get(digits), Some(b'/' | b','));
    let query = after.find('?').unwrap_or(after.len());
    !(port_then_path && at > query)
}

/// Whether a decoded query parameter is a password (`?password=`, `?sslpassword=`).
fn is_password_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "password" || key == "sslpassword"
}

/// The URL as every message prints it: no password in any form (userinfo or parameter), no
/// parameter but [`SHOWN_PARAMS`], no fragment. A URL that does not parse shows its scheme
/// only: nothing of it can be told safe.
pub fn shown(raw: &str) -> String {
    let scheme = raw.split_once("://").map_or("postgres", |(s, _)| s);
    let opaque = || format!("{scheme}://…");
    // A password in the userinfo is cut from the text first (it may hold what a parser
    // would read as a port, a path or a query).
    let cut;
    let text = if carries_userinfo_password(raw) {
        let body = &raw[scheme.len() + 3..];
        let colon = body.find(':').unwrap_or(0);
        let Some(at) = body.rfind('@') else {
            return opaque();
        };
        cut = format!("{scheme}://{}@{}", &body[..colon], &body[at + 1..]);
        cut.as_str()
    } else {
        raw
    };
    let Ok(mut url) = url::Url::parse(text) else {
        return opaque();
    };
    let _ = url.set_password(None);
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| SHOWN_PARAMS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url.to_string()
}

/// Refuses a URL that carries a password, in any form: it would show in process lists,
/// shell history and the messages of every program that prints it. Checked where the
/// location is read (`--db`, `--from`, `--to`, `COMPETENCY_DB`, the config file), before
/// anything is printed or opened. The message never repeats the URL's text.
pub fn refuse_password(raw: &str) -> Result<()> {
    let carries = carries_userinfo_password(raw)
        || url::Url::parse(raw).is_ok_and(|u| {
            u.password().is_some() || u.query_pairs().any(|(k, _)| is_password_param(&k))
        })
        // A parameter the parser cannot reach (after a `#`, or an undecodable URL).
        || raw.to_ascii_lowercase().contains("password=");
    if carries {
        return Err(crate::error::bad_input(format!(
            "{}: the URL carries a password: remove it from the URL and put it in PGPASSWORD or \
             in the config file's `password` (a file of mode 0600)",
            shown(raw)
        )));
    }
    Ok(())
}

/// What the URL's `sslmode` asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Tls {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

/// Parses the URL (with the `url` crate): the connection settings and the TLS mode. A
/// password in the URL is refused ([`refuse_password`]).
pub(super) fn parse(raw: &str) -> Result<(postgres::Config, Tls)> {
    refuse_password(raw)?;
    let bad = |why: &str| crate::error::bad_input(format!("{}: {why}", shown(raw)));
    let mut url = url::Url::parse(raw).map_err(|e| bad(&format!("not a valid URL ({e})")))?;
    if url.fragment().is_some() {
        return Err(bad("a PostgreSQL URL has no #fragment"));
    }
    let mut tls = Tls::Prefer;
    let mut kept = Vec::new();
    for (k, v) in url.query_pairs() {
        if k == "sslmode" {
            tls = match v.as_ref() {
                "disable" => Tls::Disable,
                "prefer" => Tls::Prefer,
                "require" => Tls::Require,
                "verify-full" => Tls::VerifyFull,
                other => {
                    return Err(bad(&format!(
                        "sslmode={} is not supported: use disable, require or verify-full",
                        crate::support::fields::shown(other)
                    )));
                }
            }
        } else {
            kept.push((k.into_owned(), v.into_owned()));
        }
    }
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    // tokio-postgres reads the rebuilt URL; its message may quote a parameter, so only
    // the redacted URL is said.
    let mut config: postgres::Config = url.as_str().parse().map_err(|_| {
        bad("not a valid PostgreSQL URL (see the README's \"Sharing one database\")")
    })?;
    config.ssl_mode(match tls {
        Tls::Disable => postgres::config::SslMode::Disable,
        Tls::Prefer => postgres::config::SslMode::Prefer,
        Tls::Require | Tls::VerifyFull => postgres::config::SslMode::Require,
    });
    if config.get_user().is_none() {
        config.user(&std::env::var("USER").unwrap_or_else(|_| "postgres".into()));
    }
    if let Ok(p) = std::env::var("PGPASSWORD") {
        config.password(p);
    } else if let Some(p) = PASSWORD.get() {
        config.password(p.as_str());
    }
    config.application_name("competency");
    super::wait::bound(&mut config);
    Ok((config, tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_password() {
        assert_eq!(
            shown("postgres://ann:secret@h:5432/db"),
            "postgres://ann@h:5432/db"
        );
        assert_eq!(shown("postgres://ann@h/db"), "postgres://ann@h/db");
        let e = parse("postgres://ann:secret@h/db").unwrap_err().to_string();
        assert!(e.contains("PGPASSWORD") && !e.contains("secret"), "{e}");
        assert!(parse("postgresql://ann@h:5/db?sslmode=verify-full").is_ok());
        assert!(parse("postgres://ann@h/db?sslmode=allow").is_err());
    }

    #[test]
    fn a_password_in_any_form_is_refused_and_never_shown() {
        for url in [
            "postgres://ann:pw@h/db",
            "postgres://ann:p/w@h/db",
            "postgres://ann:12/pw@h/db",
            "postgres://ann:p@w@h:5432/db",
            "postgres://ann:pw?x@h/db",
            "postgres://ann:@h/db",
            "postgres://ann@h/db?password=pw",
            "postgres://h/db?sslmode=disable&SSLPassword=pw",
            "postgres://h/db#password=pw",
        ] {
            let e = refuse_password(url).unwrap_err().to_string();
            assert!(e.contains("carries a password"), "{url}: {e}");
            assert!(!shown(url).contains("pw"), "{url}: {}", shown(url));
            assert!(!e.contains("pw"), "{url}: {e}");
        }
        for url in [
            "postgres://ann@h:5432/db",
            "postgres://h:5432/db?user=ann@server",
            "postgres://[::1]:5432/db",
            "postgresql://%2Fvar%2Frun%2Fpostgresql/db",
        ] {
            assert!(refuse_password(url).is_ok(), "{url}");
        }
        assert_eq!(
            shown("postgres://ann@h:5/db?sslmode=require&options=-csecret&application_name=x"),
            "postgres://ann@h:5/db?sslmode=require&application_name=x"
        );
        assert_eq!(shown("postgres://[bad"), "postgres://…");
    }
}
