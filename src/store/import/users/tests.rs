//! The questions a users import asks its stage and statements, answered alike on both
//! backends: file repeats (the first accepted occurrence wins, a rejected row takes
//! nothing), an e-mail already active (with its MSA), an MSA linked elsewhere (and forgotten
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

/// Stages (line, e-mail, MSA) rows, every key a candidate, and runs the domain's
/// duplicate rule; returns the lines read back in e-mail order and the rejects.
fn repeats(store: &mut Store, rows: &[(u64, &str, Option<&str>)]) -> (Vec<u64>, Vec<String>) {
    store
        .write(|db| {
            let mut stage = db.user_stage()?;
            for &(line, email, msa) in rows {
                stage.candidate_email(email)?;
                if let Some(m) = msa {
                    stage.candidate_msa(m)?;
                }
                stage.add(line, (line * 10, line * 10 + 9), email, "N", msa, "user")?;
            }
            stage.for_each_candidate(|stage, line, span, email, msa| {
                let why = if let Some(first) = stage.email_taken(email)? {
                    format!("{line}: email on {first}")
                } else if let Some(m) = msa
                    && let Some(first) = stage.msa_taken(m)?
                {
                    format!("{line}: msa on {first}")
                } else {
                    return stage.take(email, msa, line);
                };
                stage.reject(line, span, &why)
            })?;
            stage.drop_rejected()?;
            let mut kept = Vec::new();
            stage.for_each_by_email(|_, row| {
                kept.push(row.line);
                Ok(())
            })?;
            let mut rejects = Vec::new();
            stage.for_each_reject(|r| {
                rejects.push(r.message);
                Ok(())
            })?;
            stage.drop_tables()?;
            Ok((kept, rejects))
        })
        .unwrap()
}

fn file_repeats_keep_the_first_accepted_occurrence(store: &mut Store) {
    let (kept, rejects) = repeats(
        store,
        &[
            (2, "b@x", Some("m1")),
            (3, "a@x", Some("m1")),
            (4, "a@x", Some("m2")),
            (5, "b@x", None),
        ],
    );
    // Line 3 loses m1 to line 2 and so takes no e-mail: line 4 keeps a@x.
    assert_eq!(rejects, ["3: msa on 2", "5: email on 2"]);
    assert_eq!(kept, [4, 2], "e-mail order");
}

#[test]
fn file_repeats_keep_the_first_accepted_occurrence_on_sqlite() {
    file_repeats_keep_the_first_accepted_occurrence(&mut sqlite());
}

#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn file_repeats_keep_the_first_accepted_occurrence_on_postgresql() {
    file_repeats_keep_the_first_accepted_occurrence(&mut postgres(
        "competency_unit_repeats",
        "DROP DATABASE IF EXISTS competency_unit_repeats",
        "CREATE DATABASE competency_unit_repeats",
    ));
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
            let mut stage = db.user_stage()?;
            stage.add(2, (0, 9), "ann@x.com", "Ann", Some("ann@live.com"), "user")?;
            stage.add(
                3,
                (10, 19),
                "ann@z.com",
                "Ann Z",
                Some("bob@live.com"),
                "user",
            )?;
            stage.add(4, (20, 29), "ann@w.com", "Ann W", None, "user")?;
            let mut st = stage.statements(contoso, "contoso.com", at)?;
            let mut seen = Vec::new();
            stage.for_each_by_email(|_, row| {
                seen.push(row.email.clone());
                let new = |username: &'static str, email: &'static str| BulkUser {
                    org_id: contoso,
                    username,
                    name: "N",
                    email,
                    roles: "user",
                    password_hash: b"unissued",
                    expires_at: at,
                };
                match row.email.as_str() {
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
                Ok(())
            })?;
            assert_eq!(seen, ["ann@w.com", "ann@x.com", "ann@z.com"]);
            drop(st);
            stage.drop_tables()?;
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
