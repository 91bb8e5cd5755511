//! The questions a users import asks its statements, answered alike on both backends (the
//! file's own repeats are decided in memory, `domain/import/users/staged.rs`): an e-mail
//! already active (with its MSA), an MSA linked elsewhere (and forgotten
//! once severed), user-name collisions with the database and with this import's own earlier
//! accounts (on PostgreSQL those still wait in the chunk's buffer).
//!
//! Every test runs on SQLite; its `_on_postgresql` twin runs on a fresh database of the
//! `COMPETENCY_TEST_PG` server and is ignored without it.

use chrono::{DateTime, Utc};

use crate::rules::Market;
use crate::store::import::BulkUser;
use crate::store::{Db, NewOrg, NewUser, Store};

fn t(s: &str) -> DateTime<Utc> {
    crate::support::clock::parse_instant(s).unwrap()
}

fn sqlite() -> Store {
    Store::open_in_memory().unwrap()
}

/// A fresh database `name` on the test server, made by `drop` and `create` (its own, so
/// that the tests can run at once).
fn postgres(name: &str, drop: &str, create: &str) -> Store {
    let server = std::env::var("COMPETENCY_TEST_PG").expect("needs COMPETENCY_TEST_PG");
    crate::store::postgres::users::run_as_admin(&server, &[drop, create]);
    let (base, _) = server.rsplit_once('/').unwrap();
    Store::create(std::path::Path::new(&format!("{base}/{name}"))).unwrap()
}

fn org(db: &Db, slug: &str, domain: &str) -> i64 {
    db.insert_org(
        &NewOrg {
            partner_id: slug,
            name: slug,
            slug,
            domain,
            market: Market::Developed,
            rulebook: "[program]\nname = \"x\"\n",
        },
        t("2026-01-01"),
    )
    .unwrap()
}

fn account(db: &Db, org_id: i64, username: &str, email: &str) -> i64 {
    db.insert_user(
        &NewUser {
            org_id,
            username,
            name: "Ann",
            email,
            roles: "user",
            password_hash: "sha256$00",
            expires_at: t("2026-04-01"),
        },
        None,
        t("2026-01-02"),
    )
    .unwrap()
}

/// What the rows of an import into Contoso learn, in e-mail order: Ann's e-mail is active
/// there with her MSA; Bob's MSA is open in Fabrikam until severed; `ann@` is taken, so
/// numbering resumes after it and the import's own numbered names count at once.
fn lookups_answer_what_the_database_and_the_import_hold(store: &mut Store) {
    let at = t("2026-03-01");
    store
        .write(|db| {
            let contoso = org(db, "contoso", "contoso.com");
            let fabrikam = org(db, "fabrikam", "fabrikam.com");
            let ann = account(db, contoso, "ann@contoso.com", "ann@x.com");
            db.insert_link("ann@live.com", ann, contoso, t("2026-01-03"))?;
            // An e-mail shaped like a user name of Contoso: no account may be named so.
            let bob = account(db, fabrikam, "bob@fabrikam.com", "ann5@contoso.com");
            db.insert_link("bob@live.com", bob, fabrikam, t("2026-01-03"))?;
            // The rows in the order they are decided in (e-mail order), announced at once.
            let rows = [
                ("ann@w.com", None, "ann"),
                ("ann@x.com", Some("ann@live.com"), "ann"),
                ("ann@z.com", Some("bob@live.com"), "ann"),
            ];
            let mut st = db.user_statements(contoso, "contoso.com", at, 3, false)?;
            st.ask_ahead(&rows)?;
            let mut seen = Vec::new();
            for (email, _, _) in rows {
                seen.push(email);
                let new = |username: &'static str, email: &'static str| BulkUser {
                    org_id: contoso,
                    username,
                    name: "N",
                    email,
                    roles: "user",
                    password_hash: b"unissued",
                    expires_at: at,
                };
                match email {
                    "ann@x.com" => {
                        let ex = st.active_by_email(contoso, "ann@x.com")?.expect("active");
                        assert_eq!((ex.id, ex.username.as_str()), (ann, "ann@contoso.com"));
                        assert_eq!(ex.link.as_ref().map(|l| l.1.as_str()), Some("ann@live.com"));
                    }
                    "ann@w.com" => {
                        assert!(st.active_by_email(contoso, "ann@w.com")?.is_none());
                        assert!(st.email_in_use("ann5@contoso.com")?);
                        assert!(!st.email_in_use("ann@contoso.com")?);
                        // A collision with the database, then numbered after it.
                        assert_eq!(
                            st.insert_user(&new("ann@contoso.com", "ann@w.com"), at)?,
                            None
                        );
                        assert_eq!(st.max_username_suffix("ann", "contoso.com")?, 0);
                        let id = st.insert_user(&new("ann2@contoso.com", "ann@w.com"), at)?;
                        assert!(id.is_some_and(|id| id > bob));
                    }
                    "ann@z.com" => {
                        // The name the previous row took counts at once.
                        assert_eq!(
                            st.insert_user(&new("ann2@contoso.com", "ann@z.com"), at)?,
                            None
                        );
                        assert_eq!(st.max_username_suffix("ann", "contoso.com")?, 2);
                        let link = st.open_link("bob@live.com")?.expect("open elsewhere");
                        assert_eq!((link.user_id, link.org_id), (bob, fabrikam));
                        assert_eq!(link.username, "bob@fabrikam.com");
                        st.end_link(link.id, at, "linked to ann3@contoso.com (contoso)")?;
                        assert!(st.open_link("bob@live.com")?.is_none(), "severed");
                        assert!(
                            st.insert_user(&new("ann3@contoso.com", "ann@z.com"), at)?
                                .is_some()
                        );
                    }
                    other => panic!("unexpected row {other}"),
                }
            }
            assert_eq!(seen, ["ann@w.com", "ann@x.com", "ann@z.com"]);
            st.end_chunk()?;
            st.finish()?;
            Ok(())
        })
        .unwrap();
    let names: Vec<String> = store
        .read(|db| db.users(1, true))
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(
        names.len(),
        3,
        "ann, ann2 and ann3 of Contoso are written: {names:?}"
    );
    for want in ["ann@contoso.com", "ann2@contoso.com", "ann3@contoso.com"] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
}

#[test]
fn lookups_answer_what_the_database_and_the_import_hold_on_sqlite() {
    lookups_answer_what_the_database_and_the_import_hold(&mut sqlite());
}

#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn lookups_answer_what_the_database_and_the_import_hold_on_postgresql() {
    lookups_answer_what_the_database_and_the_import_hold(&mut postgres(
        "competency_unit_lookups",
        "DROP DATABASE IF EXISTS competency_unit_lookups",
        "CREATE DATABASE competency_unit_lookups",
    ));
}
