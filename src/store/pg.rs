//! The PostgreSQL side of the store: the URL (never with a password in it), the connection
//! (TLS through rustls), recognizing an empty or foreign database, the schema (the same
//! migrations as SQLite's, translated) under a `schema_version` table, and the command
//! transactions.
//!
//! Writers are serialized as SQLite serializes them: every write transaction first takes one
//! transaction-scoped advisory lock (per database), waiting at most [`super::BUSY_TIMEOUT`]
//! (`lock_timeout`), then runs at READ COMMITTED, so that it sees every command committed
//! before it and no two commands can lose an update or create the same account; unique
//! constraints back that up. Readers take a REPEATABLE READ READ ONLY snapshot and never wait,
//! with one exception: a users import large against the table (`postgres/users.rs`) drops
//! the foreign keys of `users` and `msa_links` and adds them back inside its transaction,
//! so from its writing phase to its commit every other command touching those tables waits.
//! A lock wait that times out, a serialization failure or a deadlock is reported as a clear
//! retryable error ("busy: try again"), after which nothing has changed.

use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, anyhow, bail};

use super::schema::{MIGRATIONS, current_version};
use super::sql::{Conn, Pg, params};

/// Begins a write transaction: the advisory lock every writer takes (one per database; the
/// key spells "competen"), waited for at most [`super::BUSY_TIMEOUT`].
const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = '30s'; \
                           SELECT pg_advisory_xact_lock(7165065861675640174)";

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
enum Tls {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

/// Parses the URL (with the `url` crate): the connection settings and the TLS mode. A
/// password in the URL is refused ([`refuse_password`]).
fn parse(raw: &str) -> Result<(postgres::Config, Tls)> {
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
    super::pgwait::bound(&mut config);
    Ok((config, tls))
}

/// `sslmode=require`, as libpq: encrypted, the server's certificate not checked against a
/// root (the signatures of the handshake still are).
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn connector(tls: Tls) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?;
    let config = if tls == Tls::VerifyFull {
        builder
            .with_root_certificates(rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth()
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Connects to the database at `url`, within the bound of `pgwait`; the session gets the
/// server's side of the bounds.
pub fn connect(url: &str) -> Result<Pg> {
    let (config, tls) = parse(url)?;
    let place = shown(url);
    let tls = connector(tls)?;
    let settings = config.clone();
    let (client, watch) =
        super::pgwait::connect(&config, move || settings.connect(tls)).map_err(|f| {
            let why = match f {
                super::pgwait::Failure::Silent(after) => format!(
                    "no answer within {} s (the network or the server is not answering)",
                    after.as_secs().max(1)
                ),
                super::pgwait::Failure::Refused(e) => match e.as_db_error() {
                    Some(db) if db.code().code() == "3D000" => format!(
                        "{}: create the database first (createdb), then run `competency init`",
                        db.message()
                    ),
                    Some(db) => db.message().to_owned(),
                    None => format!("{e}"),
                },
            };
            anyhow!("cannot connect to {place}: {why}")
        })?;
    let pg = Pg::new(client, watch, place.clone());
    pg.batch_raw(&super::pgwait::server_settings())
        .with_context(|| format!("cannot set up the session on {place}"))?;
    Ok(pg)
}

/// Opens (or, with `create`, fills an empty) database at `url` and brings its schema up to
/// date. An empty database without `create` is `no database at URL`; a database with other
/// tables is refused unchanged. Returns whether the schema was created here.
pub fn open(url: &str, create: bool) -> Result<(Conn, bool)> {
    let conn = Conn::Pg(Box::new(connect(url)?));
    let pg = conn.pg().expect("PostgreSQL");
    let run = || -> Result<bool> {
        pg.batch_raw("SET TIME ZONE 'UTC'")?;
        // Recognize and migrate under the write lock: two `init`s at once create one schema.
        begin(pg, true)?;
        match recognize_and_migrate(&conn, url, create) {
            Ok(created) => commit(pg).map(|()| created),
            Err(e) => {
                let _ = pg.batch_raw("ROLLBACK");
                Err(e)
            }
        }
    };
    let created = run()?;
    Ok((conn, created))
}

/// Drops every table of the current schema, inside the caller's transaction: for a schema
/// this command created in an empty database ([`super::Store::remove_created_schema`]).
pub fn drop_all_tables(conn: &Conn) -> Result<()> {
    let mut st = conn.prepare(
        "SELECT table_name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )?;
    let names: Vec<String> = st
        .query_map(params![], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    drop(st);
    if names.is_empty() {
        return Ok(());
    }
    // Names read from the catalog, quoted as identifiers: never a value spliced in.
    let list: Vec<String> = names
        .iter()
        .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
        .collect();
    conn.pg()
        .expect("PostgreSQL")
        .batch_raw(&format!("DROP TABLE {} CASCADE", list.join(", ")))?;
    Ok(())
}

fn recognize_and_migrate(conn: &Conn, url: &str, create: bool) -> Result<bool> {
    let (tables, ours): (i64, i64) = conn.query_row(
        "SELECT count(*), count(*) FILTER (WHERE table_name IN
                ('orgs', 'users', 'audit', 'schema_version'))
         FROM information_schema.tables WHERE table_schema = current_schema()",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut created = false;
    if tables == 0 {
        if !create {
            return Err(super::no_database_named(&shown(url)));
        }
        conn.execute_batch("CREATE TABLE schema_version (version BIGINT NOT NULL)")?;
        conn.execute("INSERT INTO schema_version VALUES (0)", params![])?;
        created = true;
    } else if ours < 4 {
        return Err(crate::error::refused(format!(
            "{} is a PostgreSQL database of another application (it has tables, not ours): it \
             was left unchanged; give another --db",
            shown(url)
        )));
    }
    let version: i64 = conn.query_row("SELECT version FROM schema_version", params![], |r| {
        r.get(0)
    })?;
    if version > current_version() {
        bail!(
            "the database has schema version {version}, newer than this competency binary \
             understands ({}): upgrade competency to open it",
            current_version()
        );
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        step.run(conn)
            .with_context(|| format!("schema migration {} failed", i + 1))?;
        conn.execute(
            "UPDATE schema_version SET version = ?1",
            params![(i + 1) as i64],
        )?;
    }
    Ok(created)
}

/// The schema version of an open database.
pub fn schema_version(conn: &Conn) -> Result<i64> {
    Ok(
        conn.query_row("SELECT version FROM schema_version", params![], |r| {
            r.get(0)
        })?,
    )
}

/// A migration of the SQLite list, for PostgreSQL: identity keys, BIGINT integers, DOUBLE
/// PRECISION reals, byte-ordered text (`COLLATE "C"`, the order SQLite sorts in and the
/// evaluations merge in), SQLite's `date(x) IS x` check written with PostgreSQL's dates, no
/// `STRICT`.
pub fn pg_ddl(sql: &str) -> String {
    let mut s = sql
        .replace(
            "INTEGER PRIMARY KEY",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        )
        .replace(") STRICT;", ");")
        .replace(" TEXT", " TEXT COLLATE \"C\"");
    // `date(x) IS x` → a date that reads back as itself.
    while let Some(start) = s.find("date(") {
        let prefix_ok = start == 0 || !s.as_bytes()[start - 1].is_ascii_alphanumeric();
        let rest = &s[start + 5..];
        let Some(close) = rest.find(')') else { break };
        let col = rest[..close].to_owned();
        let tail = format!(") IS {col}");
        if !prefix_ok || !rest[close..].starts_with(&tail) {
            break;
        }
        // From the constant migration text, never from a value.
        let replaced = [
            "to_char(CAST(",
            &col,
            " AS date), 'YYYY-MM-DD') IS NOT DISTINCT FROM ",
            &col,
        ]
        .concat();
        s.replace_range(start..start + 5 + close + tail.len(), &replaced);
    }
    super::sql::pg_sql(&s)
}

/// Begins a command's transaction: a write takes the write lock first (waiting at most
/// the busy timeout), a read takes a consistent snapshot.
pub fn begin(pg: &Pg, write: bool) -> Result<()> {
    let sql = if write {
        BEGIN_WRITE
    } else {
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    };
    match pg.batch_raw(sql) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = pg.batch_raw("ROLLBACK");
            Err(busy(e.into()))
        }
    }
}

/// A COMMIT whose answer never came: the connection was lost after it was sent, so the
/// transaction may have committed or not. Only the database can tell, later: `doctor` (or
/// the next command writing credentials there) settles what the command left staged.
#[derive(Debug, thiserror::Error)]
#[error("{lost} during the commit: the outcome is unknown: run `competency doctor`")]
pub struct OutcomeUnknown {
    lost: String,
}

/// Whether an error is an [`OutcomeUnknown`] commit.
pub fn outcome_unknown(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<OutcomeUnknown>())
}

/// Commits; a transaction that an error aborted on the server is reported, not committed.
/// A connection lost once the COMMIT was sent is [`OutcomeUnknown`], never "not committed".
pub fn commit(pg: &Pg) -> Result<()> {
    match pg.batch_raw("SELECT 1; COMMIT") {
        Ok(()) => Ok(()),
        Err(super::sql::Error::Lost(lost)) => Err(OutcomeUnknown { lost }.into()),
        Err(e) => {
            let _ = pg.batch_raw("ROLLBACK");
            Err(busy(
                anyhow::Error::from(e).context("cannot commit the transaction"),
            ))
        }
    }
}

/// An error whose connection was lost without saying so (a COPY writer's own error), said
/// with the database it was lost to.
pub fn named(pg: &Pg, e: anyhow::Error) -> anyhow::Error {
    let lost = e.chain().any(|c| {
        c.downcast_ref::<super::sql::Error>()
            .is_some_and(|e| matches!(e, super::sql::Error::Lost(_)))
    });
    let closed = e.chain().any(|c| {
        c.downcast_ref::<postgres::Error>()
            .or_else(|| match c.downcast_ref::<super::sql::Error>() {
                Some(super::sql::Error::Pg(p)) => Some(p),
                _ => None,
            })
            .is_some_and(|p| p.as_db_error().is_none() && p.is_closed())
    });
    if closed && !lost && !outcome_unknown(&e) {
        let place = pg.lost_to();
        e.context(format!("the connection to {place} was lost"))
    } else {
        e
    }
}

/// Rolls back.
pub fn rollback(pg: &Pg) -> Result<()> {
    pg.batch_raw("ROLLBACK")?;
    Ok(())
}

/// A lock wait that timed out, a serialization failure or a deadlock, said as what it is:
/// nothing changed and the command may simply be run again.
pub fn busy(e: anyhow::Error) -> anyhow::Error {
    let code = e
        .chain()
        .find_map(|c| c.downcast_ref::<super::sql::Error>())
        .and_then(|e| e.pg_code().map(str::to_owned))
        .or_else(|| {
            e.chain()
                .find_map(|c| c.downcast_ref::<postgres::Error>())
                .and_then(|e| e.code().map(|c| c.code().to_owned()))
        });
    match code.as_deref() {
        Some("55P03" | "40001" | "40P01") => e.context(
            "the database is busy: another competency command holds it; nothing was changed, \
             run the command again",
        ),
        _ => e,
    }
}

/// Whether the session's connection is encrypted.
pub fn tls_in_use(conn: &Conn) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
        params![],
        |r| r.get(0),
    )?)
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

    #[test]
    fn migrations_translate() {
        let ddl = pg_ddl(MIGRATIONS[0].sqlite());
        assert!(
            ddl.contains("to_char(CAST(earned AS date), 'YYYY-MM-DD') IS NOT DISTINCT FROM earned")
        );
        assert!(!ddl.contains("STRICT") && !ddl.contains("INTEGER"));
    }
}
