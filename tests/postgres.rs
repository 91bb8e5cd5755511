//! What only the PostgreSQL backend has (SPEC §10): the URL and its password, an empty or a
//! foreign database, `doctor`'s connection and TLS lines. The rest of the suite runs on
//! PostgreSQL too when `COMPETENCY_TEST_PG` is set; the tests here that need a server are
//! `#[ignore = "needs COMPETENCY_TEST_PG"]` (never a vacuous pass), and `.ci/run`'s
//! PostgreSQL pass runs them with `--ignored`. Network faults (a connection lost during
//! COMMIT, a silent network) go through the proxy of `tests/common/proxy.rs`.

mod common;

use common::Env;

#[test]
fn a_url_with_a_password_is_refused_without_showing_it() {
    let env = Env::sqlite();
    let (code, out, err) = env.run(&[
        "--db",
        "postgres://ann:s3cret-pw@127.0.0.1:1/competency",
        "users",
        "list",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("PGPASSWORD"), "{err}");
    assert!(
        !err.contains("s3cret-pw") && !out.contains("s3cret-pw"),
        "{err}"
    );
    assert!(
        err.contains("postgres://ann@127.0.0.1:1/competency"),
        "{err}"
    );
}

#[test]
fn an_unsupported_sslmode_is_refused() {
    let env = Env::sqlite();
    let err = env.fails(&[
        "--db",
        "postgres://ann@127.0.0.1:1/competency?sslmode=allow",
        "users",
        "list",
    ]);
    assert!(err.contains("sslmode=allow"), "{err}");
}

#[test]
fn an_unreachable_server_is_one_clear_error() {
    let env = Env::sqlite();
    let (code, _, err) = env
        .cmd()
        .env("PGPASSWORD", "pw-never-shown")
        .args([
            "--db",
            "postgres://ann@127.0.0.1:1/competency",
            "users",
            "list",
        ])
        .output()
        .map(|o| {
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("error: cannot connect to postgres://ann@127.0.0.1:1/competency"),
        "{err}"
    );
    assert!(!err.contains("pw-never-shown"), "{err}");
}

#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn an_empty_database_is_no_database_until_init() {
    server();
    let env = Env::new();
    let url = env.db().display().to_string();
    let err = env.fails(&["users", "list"]);
    assert!(
        err.contains(&format!(
            "no database at {url}: create one with `competency init`"
        )),
        "{err}"
    );
    env.init();
    env.add_user("Ann Lee", "ann@contoso.com", &[]);
    let users = env.json(&["users", "list"]);
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    // A refused command changes nothing, as on SQLite.
    let before = env.db_bytes();
    env.fails(&[
        "users",
        "add",
        "--name",
        "Ann Again",
        "--email",
        "ann@contoso.com",
    ]);
    assert_eq!(env.db_bytes(), before);
}

#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_database_of_another_application_is_refused_unchanged() {
    let server = server();
    let env = Env::new();
    let url = env.db().display().to_string();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE invoices (id int); INSERT INTO invoices VALUES (1)")
        .unwrap();
    let err = env.fails(&["init", "--name", "Contoso", "--partner-id", "1234567"]);
    assert!(err.contains("another application"), "{err}");
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "init changed a foreign database ({server})");
}

#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn doctor_reports_the_connection_the_schema_and_tls() {
    server();
    let env = Env::new();
    env.init();
    let out = env.json(&["doctor"]);
    let checks = out["checks"].as_array().unwrap();
    let names: Vec<&str> = checks
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for want in [
        "connection",
        "tls",
        "integrity",
        "foreign keys",
        "schema version",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    assert_eq!(out["ok"], true, "{out}");
}

/// A users file of `rows` accounts spread over several COPY batches and read-back chunks
/// (4,096 rows each): pairs of e-mails share a local part (the second account gets a
/// numbered user name), every third row has an MSA, and row `dup` repeats an earlier
/// e-mail (rejected at its second occurrence). `bad`: a row with an invalid e-mail there.
fn big_users_file(rows: usize, dup: usize, bad: Option<usize>) -> String {
    let mut csv = String::from("email,name,msa\n");
    for i in 0..rows {
        if Some(i) == bad {
            csv.push_str("not-an-email,Broken Row,\n");
            continue;
        }
        if i == dup {
            csv.push_str("p3@a1.example,Again,\n");
            continue;
        }
        let msa = if i % 3 == 0 {
            format!("m{i}@outlook.com")
        } else {
            String::new()
        };
        csv.push_str(&format!("p{}@a{}.example,Person {i},{msa}\n", i / 2, i % 2));
    }
    csv
}

/// `--format json` output of a command run at a fixed time.
fn json_at(env: &Env, args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut a = vec!["--now", "2026-03-01", "--format", "json"];
    a.extend_from_slice(args);
    let (code, out, err) = env.run(&a);
    (
        code,
        serde_json::from_str(&out).unwrap_or(serde_json::Value::Null),
        err,
    )
}

#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_large_users_import_on_postgresql_matches_sqlite_and_a_bad_row_writes_nothing() {
    server();
    let csv = big_users_file(10_000, 7_000, None);
    let mut listings = Vec::new();
    for env in [Env::sqlite(), Env::new()] {
        env.init();
        std::fs::write(env.path("u.csv"), &csv).unwrap();
        let (code, s, err) = json_at(&env, &["users", "import", "u.csv", "--skip-invalid"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            (s["added"].as_u64(), s["rejected"].as_u64()),
            (Some(9_999), Some(1))
        );
        let users = json_at(&env, &["users", "list", "--all"]).1;
        let audit = json_at(&env, &["audit"]).1;
        // A second import of the same file changes nothing and audits nothing.
        let (code, s, err) = json_at(&env, &["users", "import", "u.csv", "--skip-invalid"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            (s["unchanged"].as_u64(), s["added"].as_u64()),
            (Some(9_999), Some(0))
        );
        assert_eq!(json_at(&env, &["users", "list", "--all"]).1, users);
        assert_eq!(json_at(&env, &["audit"]).1, audit);
        listings.push((env.is_pg(), users, s));
    }
    let (pg, lite) = (&listings[1], &listings[0]);
    assert!(pg.0 && !lite.0);
    assert_eq!(pg.1, lite.1, "the same accounts on both backends");
    assert_eq!(pg.2, lite.2, "the same summary of the re-import");

    // All or nothing: a bad row after two COPY batches leaves nothing written.
    let env = Env::new();
    env.init();
    let before = (
        json_at(&env, &["users", "list", "--all"]).1,
        json_at(&env, &["audit"]).1,
    );
    std::fs::write(
        env.path("u.csv"),
        big_users_file(10_000, 7_000, Some(9_000)),
    )
    .unwrap();
    let (code, s, err) = json_at(
        &env,
        &["users", "import", "u.csv", "--credentials-file", "c.csv"],
    );
    assert_eq!(code, 1, "{s} {err}");
    let after = (
        json_at(&env, &["users", "list", "--all"]).1,
        json_at(&env, &["audit"]).1,
    );
    assert_eq!(after, before);
    assert!(!env.path("c.csv").exists());
}

/// An achievements file of `rows` rows spread over several COPY batches (4,096 rows each):
/// unique keys, but row 7,000 repeats row 10's key with another expiry and row 5,000 has an
/// unknown code (both rejected, in file order); row 3 and row 4 meet the records of
/// [`PRIOR_ACHIEVEMENTS`] (one updated, one unchanged). `bad`: an invalid date there.
fn big_achievements_file(rows: usize, bad: Option<usize>) -> String {
    const CODES: [&str; 3] = ["70-346", "70-347", "70-761"];
    let mut csv = String::from("msa,code,earned,expires\n");
    for i in 0..rows {
        let line = match i {
            _ if Some(i) == bad => "m1@outlook.com,70-346,2025-02-30,".to_owned(),
            5_000 => "m1@outlook.com,NO-SUCH-CODE,2025-01-01,".to_owned(),
            7_000 => "m3@outlook.com,70-347,2025-02-11,2027-01-01".to_owned(),
            _ => format!(
                "m{}@outlook.com,{},2025-{:02}-{:02},{}",
                i / 3,
                CODES[i % 3],
                1 + i % 9,
                1 + i % 28,
                if i % 2 == 0 { "2028-06-30" } else { "" }
            ),
        };
        csv.push_str(&line);
        csv.push('\n');
    }
    csv
}

/// Records there before the big file: row 3's key with another expiry, row 4's as it is.
const PRIOR_ACHIEVEMENTS: &str = "msa,code,earned,expires\n\
    m1@outlook.com,70-346,2025-04-04,2029-01-01\n\
    m1@outlook.com,70-347,2025-05-05,2028-06-30\n";

/// A Trainings report (2021 layout, day-first dates) of `rows` rows: three catalogue titles
/// and one outside it (skipped), row 6,000 repeating row 9's record and row 7,000 with an
/// invalid Email (both rejected). `bad`: a completion date in the future there.
fn big_trainings_report(rows: usize, bad: Option<usize>) -> String {
    const TITLES: [&str; 4] = [
        "Managing Office 365 Identities and Requirements",
        "Enabling Office 365 Services",
        "Querying Data with Transact-SQL",
        "Some Course Outside The Catalogue",
    ];
    let mut csv = String::from(
        "TrainingActivityId,TrainingTitle,TrainingType,IndividualFirstName,IndividualLastName,\
         Email,CorpEmail,TrainingCompletionDate,Month,IcMCP,MCPID,MPNId,PartnerName,\
         PartnerCityLocation,PartnerCountryLocation,ExpirationDate,ActivationStatus\n",
    );
    for i in 0..rows {
        let j = if i == 6_000 { 9 } else { i };
        let date = if Some(i) == bad {
            "15/06/2031 10:00".to_owned()
        } else {
            format!("{:02}/{:02}/2024 10:00", 13 + j % 15, 1 + j % 12)
        };
        let msa = if i == 7_000 {
            "not-an-email".to_owned()
        } else {
            format!("p{}@outlook.com", j / 4)
        };
        csv.push_str(&format!(
            "{i},{},Exam,Person,No {},{msa},p{}@contoso.com,{date},2024-01,Yes,1,\
             1234567,Contoso Ltd,\"Redmond, WA\",United States,,Active\n",
            TITLES[j % 4],
            j / 4,
            j / 4
        ));
    }
    csv
}

/// Every achievement record, in id order (the order they were added in), as text.
fn records(env: &Env) -> Vec<String> {
    env.open_db()
        .query(
            "SELECT msa, code, earned, expires, added_at,
                    CASE WHEN removed_at IS NULL THEN 0 ELSE 1 END
             FROM achievements ORDER BY id",
            &[],
        )
        .iter()
        .map(|r| format!("{r:?}"))
        .collect()
}

/// Imports `file` (all or nothing unless `skip`) and returns (exit code, summary).
fn import_at(env: &Env, file: &str, skip: bool) -> (i32, serde_json::Value) {
    let mut args = vec!["achievements", "import", file];
    if skip {
        args.extend(["--skip-invalid", "--rejects", "rejects.csv"]);
    }
    let (code, s, err) = json_at(env, &args);
    assert!(code == 0 || code == 1, "{s} {err}");
    (code, s)
}

#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn large_achievements_and_trainings_imports_on_postgresql_match_sqlite() {
    server();
    let files = [
        ("a.csv", big_achievements_file(10_000, None)),
        ("t.csv", big_trainings_report(9_000, None)),
    ];
    let mut seen = Vec::new();
    for env in [Env::sqlite(), Env::new()] {
        env.init();
        std::fs::write(env.path("prior.csv"), PRIOR_ACHIEVEMENTS).unwrap();
        assert_eq!(import_at(&env, "prior.csv", false).0, 0);
        let mut out = Vec::new();
        for (name, csv) in &files {
            std::fs::write(env.path(name), csv).unwrap();
            let (code, s) = import_at(&env, name, true);
            assert_eq!(code, 0, "{s}");
            assert_eq!(s["rejected"].as_u64(), Some(2), "{name}: {s}");
            let rejects = std::fs::read_to_string(env.path("rejects.csv")).unwrap();
            std::fs::remove_file(env.path("rejects.csv")).unwrap();
            let listing = records(&env);
            assert!(listing.len() > 6_000, "{name}");
            let audit = json_at(&env, &["audit"]).1;
            // A second import of the same file: all unchanged, no audit, nothing changed.
            let (code, again) = import_at(&env, name, true);
            assert_eq!(code, 0, "{again}");
            std::fs::remove_file(env.path("rejects.csv")).unwrap();
            let taken = s["added"].as_u64().unwrap()
                + s["updated"].as_u64().unwrap()
                + s["unchanged"].as_u64().unwrap();
            assert_eq!(
                (
                    again["added"].as_u64(),
                    again["updated"].as_u64(),
                    again["unchanged"].as_u64()
                ),
                (Some(0), Some(0), Some(taken)),
                "{name}: {again}"
            );
            assert_eq!(records(&env), listing);
            assert_eq!(json_at(&env, &["audit"]).1, audit);
            out.push((s, rejects, listing, again));
        }
        seen.push(out);
    }
    for (lite, pg) in seen[0].iter().zip(&seen[1]) {
        assert_eq!(pg.0, lite.0, "the same summary on both backends");
        assert_eq!(pg.1, lite.1, "the same rejects file, in file order");
        assert_eq!(pg.2, lite.2, "the same achievements");
        assert_eq!(pg.3, lite.3, "the same summary of the re-import");
    }
    let first = &seen[1][0].0;
    assert_eq!(
        (first["added"].as_u64(), first["updated"].as_u64()),
        (Some(9_996), Some(1)),
        "{first}"
    );

    // All or nothing: a bad row after two COPY batches leaves nothing written.
    let env = Env::new();
    env.init();
    let before = (records(&env), json_at(&env, &["audit"]).1);
    for (name, csv) in [
        ("a.csv", big_achievements_file(10_000, Some(9_000))),
        ("t.csv", big_trainings_report(9_000, Some(8_500))),
    ] {
        std::fs::write(env.path(name), csv).unwrap();
        let (code, s) = import_at(&env, name, false);
        assert_eq!(code, 1, "{name}: {s}");
        let after = (records(&env), json_at(&env, &["audit"]).1);
        assert_eq!(after, before, "{name}");
    }
}

/// A Trainings report (2021 layout) of rows (id, title, MSA, CorpEmail, day-first date).
fn trainings_report(rows: &[(u32, &str, &str, &str, &str)]) -> String {
    let mut report = String::from(
        "TrainingActivityId,TrainingTitle,TrainingType,IndividualFirstName,\
         IndividualLastName,Email,CorpEmail,TrainingCompletionDate,Month,IcMCP,MCPID,\
         MPNId,PartnerName,PartnerCityLocation,PartnerCountryLocation,ExpirationDate,\
         ActivationStatus\n",
    );
    for (id, title, msa, corp, date) in rows {
        report.push_str(&format!(
            "{id},{title},Exam,Ann,One,{msa},{corp},{date} 10:00,2024-01,Yes,1,1234567,\
             Contoso Ltd,\"Redmond, WA\",United States,,Active\n"
        ));
    }
    report
}

/// `achievements import` of a Trainings `report` (with `flags`, skipping invalid rows) on
/// SQLite, then on PostgreSQL: each one's summary, rejects file and records.
fn trainings_on_both(
    report: &str,
    flags: &[&str],
) -> Vec<(serde_json::Value, String, Vec<String>)> {
    let mut seen = Vec::new();
    for env in [Env::sqlite(), Env::new()] {
        env.init();
        std::fs::write(env.path("t.csv"), report).unwrap();
        let mut args = vec!["achievements", "import", "t.csv"];
        args.extend_from_slice(flags);
        args.extend(["--skip-invalid", "--rejects", "rejects.csv"]);
        let (code, s, err) = json_at(&env, &args);
        assert_eq!(code, 0, "{s} {err}");
        let rejects = std::fs::read_to_string(env.path("rejects.csv")).unwrap();
        seen.push((s, rejects, records(&env)));
    }
    seen
}

/// Bug (PostgreSQL, Trainings import with --link-users): rows were decided only at the end,
/// so a row repeating an earlier row's record still gave its person a CorpEmail, and a
/// later row of another person with that CorpEmail was refused as "the CorpEmail of …
/// earlier in the file", which SQLite accepts. Linking now decides each row at once there.
#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_linking_trainings_import_refuses_a_repeated_row_before_it_names_a_corp_email() {
    server();
    let report = trainings_report(&[
        (
            1,
            "Enabling Office 365 Services",
            "p1@outlook.com",
            "",
            "13/01/2024",
        ),
        // The same record again, now with a CorpEmail: refused as a repeated key.
        (
            2,
            "Enabling Office 365 Services",
            "p1@outlook.com",
            "c1@contoso.com",
            "13/01/2024",
        ),
        // Another person with that CorpEmail: accepted, since the row above was refused.
        (
            3,
            "Querying Data with Transact-SQL",
            "p2@outlook.com",
            "c1@contoso.com",
            "14/02/2024",
        ),
    ]);
    let seen = trainings_on_both(&report, &["--link-users"]);
    let lite = &seen[0];
    assert_eq!(lite.0["rejected"].as_u64(), Some(1), "{}", lite.0);
    assert!(lite.1.contains("p1@outlook.com"), "{}", lite.1);
    assert_eq!(lite.2.len(), 2, "{:?}", lite.2);
    assert_eq!(seen[1].0, lite.0, "the same summary on both backends");
    assert_eq!(seen[1].1, lite.1, "the same rejects file");
    assert_eq!(seen[1].2, lite.2, "the same achievements");
}

/// The indexes and constraints of `users` and `msa_links` as the server describes them.
fn user_tables_schema(url: &str) -> Vec<String> {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.query(
        "SELECT indexrelid::regclass::text || ' ' || pg_get_indexdef(indexrelid)
         FROM pg_index WHERE indrelid IN ('users'::regclass, 'msa_links'::regclass)
         UNION ALL
         SELECT conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated::text
         FROM pg_constraint WHERE conrelid IN ('users'::regclass, 'msa_links'::regclass)
         ORDER BY 1",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// `n` accounts `p<k>@<domain>` (k from 0), every other one with an MSA `m<k>.<tag>`.
fn accounts_file(n: usize, domain: &str, tag: &str) -> String {
    let mut csv = String::from("email,name,msa\n");
    for k in 0..n {
        let msa = if k % 2 == 0 {
            format!("m{k}.{tag}@outlook.com")
        } else {
            String::new()
        };
        csv.push_str(&format!("p{k}@{domain},Person {k},{msa}\n"));
    }
    csv
}

/// A users import on PostgreSQL, large or small against the table, decides its rows chunk
/// by chunk from what it fetched set-based for each chunk and writes the chunk's accounts
/// by COPY: it must decide exactly as SQLite does (numbered user names after the names of
/// earlier imports, e-mails already active, MSAs of colleagues), and leave the schema as
/// `init` made it — after a failed import too.
#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn users_imports_large_and_small_against_the_table_match_sqlite_and_keep_the_schema() {
    server();
    // 1: 10,000 rows into an empty table; 2: 5,000 rows whose local parts are the first
    // import's (numbered names); 3: 1,000 more, plus rows meeting the accounts already
    // there.
    let first = big_users_file(10_000, 7_000, None);
    let second = accounts_file(5_000, "a2.example", "two");
    let mut third = accounts_file(1_000, "a3.example", "three");
    third.push_str("p10@a2.example,Person 10,\n"); // unchanged
    third.push_str("p11@a2.example,Someone Else,\n"); // another name: rejected
    third.push_str("p12@a2.example,Person 12,m14.two@outlook.com\n"); // a colleague's MSA
    third.push_str("p13@a2.example,Person 13,m9999.new@outlook.com\n"); // a new MSA: updated
    // SQLite, then PostgreSQL.
    let mut results = Vec::new();
    for env in [Env::sqlite(), Env::new()] {
        let json_at = |env: &Env, args: &[&str]| {
            let out = env
                .cmd()
                .args(["--now", "2026-03-01", "--format", "json"])
                .args(args)
                .output()
                .unwrap();
            (
                out.status.code().unwrap_or(-1),
                serde_json::from_str(&String::from_utf8_lossy(&out.stdout))
                    .unwrap_or(serde_json::Value::Null),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        env.init();
        let schema = env
            .is_pg()
            .then(|| user_tables_schema(&env.db().display().to_string()));
        let mut summaries = Vec::new();
        for (i, csv) in [&first, &second, &third].into_iter().enumerate() {
            let file = format!("u{i}.csv");
            std::fs::write(env.path(&file), csv).unwrap();
            let (code, s, err) = json_at(&env, &["users", "import", &file, "--skip-invalid"]);
            assert_eq!(code, 0, "{err}");
            summaries.push(s);
        }
        // A failed import (a bad row late in a large file) changes nothing, schema included.
        std::fs::write(
            env.path("bad.csv"),
            big_users_file(10_000, 7_000, Some(9_000)).replace("a1.example", "a9.example"),
        )
        .unwrap();
        let (code, _, _) = json_at(&env, &["users", "import", "bad.csv"]);
        assert_eq!(code, 1);
        if let Some(schema) = schema {
            assert_eq!(
                user_tables_schema(&env.db().display().to_string()),
                schema,
                "the indexes and constraints after the imports are init's"
            );
        }
        let users = json_at(&env, &["users", "list", "--all"]).1;
        results.push((summaries, users));
    }
    let lite = &results[0];
    assert_eq!(lite.0[1]["added"].as_u64(), Some(5_000), "{}", lite.0[1]);
    assert_eq!(lite.0[2]["added"].as_u64(), Some(1_000), "{}", lite.0[2]);
    assert_eq!(
        (
            lite.0[2]["unchanged"].as_u64(),
            lite.0[2]["updated"].as_u64()
        ),
        (Some(1), Some(1)),
        "{}",
        lite.0[2]
    );
    assert_eq!(lite.0[2]["rejected"].as_u64(), Some(2), "{}", lite.0[2]);
    for (k, pg) in results[1..].iter().enumerate() {
        for i in 0..3 {
            assert_eq!(
                pg.0[i],
                lite.0[i],
                "summary of import {} (PostgreSQL {k})",
                i + 1
            );
        }
        assert_eq!(
            pg.1, lite.1,
            "the same accounts on both backends (PostgreSQL {k})"
        );
    }
    let names: Vec<&str> = lite
        .1
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    // p3 of the first file took p3@ and p32@; the second and third files' p3 come next.
    for want in ["p3@", "p32@", "p33@", "p34@"] {
        assert_eq!(
            names.iter().filter(|n| n.starts_with(want)).count(),
            1,
            "{want}"
        );
    }
}

/// A users import into a domain without accounts asks the server about a user name only
/// when a fixed-size Bloom filter says this import may have added it: a name taken by an
/// earlier chunk (`jo+hn@` gives `john@`, 20,000 rows before `john@b.example` in e-mail
/// order, more than a chunk's 16,384) must still be seen as taken, exactly as on SQLite.
#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_user_name_taken_by_an_earlier_chunk_of_the_same_import_is_numbered_as_on_sqlite() {
    server();
    let mut csv = String::from("email,name,msa\njo+hn@a.example,John A,m0@outlook.com\n");
    for i in 0..20_000 {
        csv.push_str(&format!(
            "joa{i:05}@c.example,Filler {i},m{}@outlook.com\n",
            i + 1
        ));
    }
    csv.push_str("john@b.example,John B,\n");
    let mut lists = Vec::new();
    for env in [Env::sqlite(), Env::new()] {
        env.init();
        std::fs::write(env.path("u.csv"), &csv).unwrap();
        env.ok(&["users", "import", "u.csv"]);
        let (_, users, _) = json_at(&env, &["users", "list", "--all"]);
        let names: Vec<(String, String)> = users
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| {
                u["email"]
                    .as_str()
                    .is_some_and(|e| e.ends_with("a.example") || e.ends_with("b.example"))
            })
            .map(|u| {
                (
                    u["email"].as_str().unwrap().to_owned(),
                    u["username"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        lists.push(names);
    }
    assert_eq!(lists[0].len(), 2, "{:?}", lists[0]);
    assert!(
        lists[0]
            .iter()
            .any(|(e, n)| e == "john@b.example" && n.starts_with("john2@")),
        "{:?}",
        lists[0]
    );
    assert_eq!(lists[1], lists[0], "the same user names on both backends");
}

/// Bug (PostgreSQL, Trainings import without --link-users/--create-users): rows were
/// decided at the end, and a row repeating an earlier record still gave its person a
/// CorpEmail, so `without_corp_email` counted one person fewer than on SQLite, which
/// refuses the row before it notes anything. The refused row's CorpEmail is now taken back.
#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_refused_repeated_trainings_row_gives_no_corp_email_on_postgresql_either() {
    server();
    let report = trainings_report(&[
        (
            1,
            "Enabling Office 365 Services",
            "p1@outlook.com",
            "",
            "13/01/2024",
        ),
        // The same record again, now with a CorpEmail: refused, so p1 still has none.
        (
            2,
            "Enabling Office 365 Services",
            "p1@outlook.com",
            "c1@contoso.com",
            "13/01/2024",
        ),
        // Another record of p2 with a CorpEmail, then a repeat of it: p2 keeps its CorpEmail.
        (
            3,
            "Querying Data with Transact-SQL",
            "p2@outlook.com",
            "c2@contoso.com",
            "14/02/2024",
        ),
        (
            4,
            "Querying Data with Transact-SQL",
            "p2@outlook.com",
            "c2@contoso.com",
            "14/02/2024",
        ),
    ]);
    let seen = trainings_on_both(&report, &[]);
    let lite = &seen[0];
    assert_eq!(lite.0["rejected"].as_u64(), Some(2), "{}", lite.0);
    let t = &lite.0["trainings"];
    let t = if t.is_null() { &lite.0 } else { t };
    assert_eq!(
        (t["people"].as_u64(), t["without_corp_email"].as_u64()),
        (Some(2), Some(1)),
        "{}",
        lite.0
    );
    assert_eq!(seen[1].0, lite.0, "the same summary on both backends");
    assert_eq!(seen[1].1, lite.1, "the same rejects file");
    assert_eq!(seen[1].2, lite.2, "the same achievements");
}

/// A performance file of `rows` rows spread over several COPY batches (4,096 rows each):
/// unique keys (seven metric and scope pairs, a day for each seven rows), but row 5,000 has
/// an unknown metric, row 6,000 repeats row 10's key with another value, row 7,000 repeats
/// row 3's and row 8,000 row 4's (all four rejected, in file order, the repeats with the
/// value stored for the key); rows 3 and 4 meet the records of [`PRIOR_PERFORMANCE`] (one
/// updated, one unchanged). `bad`: a date in the future there.
fn big_performance_file(rows: usize, bad: Option<usize>) -> String {
    const PAIRS: [(&str, &str); 7] = [
        ("revenue", "azure"),
        ("revenue", "dynamics-365"),
        ("revenue", "dynamics-erp"),
        ("active-usage", "ems"),
        ("active-usage", "office-365"),
        ("new-customers", "ems"),
        ("new-customers", "office-365"),
    ];
    let start = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap();
    let key = |i: usize| {
        let (metric, scope) = PAIRS[i % 7];
        let date = start + chrono::Days::new((i / 7) as u64);
        (metric, scope, date)
    };
    let mut csv = String::from("metric,value,date,scope\n");
    for i in 0..rows {
        let (metric, scope, date) = key(match i {
            6_000 => 10,
            7_000 => 3,
            8_000 => 4,
            _ => i,
        });
        let value = match i {
            6_000 => "12.5".to_owned(),
            8_000 => "4000.25".to_owned(),
            _ => format!("{}.25", i * 1000),
        };
        let line = match i {
            _ if Some(i) == bad => format!("{metric},1,2031-01-01,{scope}"),
            5_000 => format!("profit,1,{date},{scope}"),
            _ => format!("{metric},{value},{date},{scope}"),
        };
        csv.push_str(&line);
        csv.push('\n');
    }
    csv
}

/// Records there before the big file: row 3's key with another value, row 4's as it is.
const PRIOR_PERFORMANCE: &str = "metric,value,date,scope\n\
    active-usage,1,2019-01-01,ems\n\
    active-usage,4000.25,2019-01-01,office-365\n";

/// Every performance record, in id order (the order they were added in), as text.
fn performance(env: &Env) -> Vec<String> {
    env.open_db()
        .query(
            "SELECT org_id, metric, scope, value, date, recorded_at FROM performance ORDER BY id",
            &[],
        )
        .iter()
        .map(|r| format!("{r:?}"))
        .collect()
}

/// Imports the performance `file` (all or nothing unless `skip`): (exit code, summary).
fn import_performance(env: &Env, file: &str, skip: bool) -> (i32, serde_json::Value) {
    let mut args = vec!["performance", "import", file];
    if skip {
        args.extend(["--skip-invalid", "--rejects", "rejects.csv"]);
    }
    let (code, s, err) = json_at(env, &args);
    assert!(code == 0 || code == 1, "{s} {err}");
    (code, s)
}

#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_large_performance_import_on_postgresql_matches_sqlite() {
    server();
    let csv = big_performance_file(9_000, None);
    let mut seen = Vec::new();
    for env in [Env::sqlite(), Env::new()] {
        env.init();
        std::fs::write(env.path("prior.csv"), PRIOR_PERFORMANCE).unwrap();
        assert_eq!(import_performance(&env, "prior.csv", false).0, 0);
        std::fs::write(env.path("p.csv"), &csv).unwrap();
        // A dry run reports what the import does and writes nothing.
        let prior = (performance(&env), json_at(&env, &["audit"]).1);
        let (code, dry, err) = json_at(
            &env,
            &[
                "performance",
                "import",
                "p.csv",
                "--skip-invalid",
                "--dry-run",
            ],
        );
        assert_eq!(code, 0, "{dry} {err}");
        assert_eq!((performance(&env), json_at(&env, &["audit"]).1), prior);
        let (code, s) = import_performance(&env, "p.csv", true);
        assert_eq!(code, 0, "{s}");
        for key in ["rows", "added", "updated", "unchanged", "rejected"] {
            assert_eq!(dry[key], s[key], "{key}: {dry}");
        }
        let rejects = std::fs::read_to_string(env.path("rejects.csv")).unwrap();
        std::fs::remove_file(env.path("rejects.csv")).unwrap();
        let listing = performance(&env);
        let shown = json_at(&env, &["performance", "list"]).1;
        let audit = json_at(&env, &["audit"]).1;
        // A second import of the same file: all unchanged, no audit, nothing changed.
        let (code, again) = import_performance(&env, "p.csv", true);
        assert_eq!(code, 0, "{again}");
        std::fs::remove_file(env.path("rejects.csv")).unwrap();
        assert_eq!(
            (
                again["added"].as_u64(),
                again["updated"].as_u64(),
                again["unchanged"].as_u64(),
                again["rejected"].as_u64()
            ),
            (Some(0), Some(0), Some(8_996), Some(4)),
            "{again}"
        );
        assert_eq!(performance(&env), listing);
        assert_eq!(json_at(&env, &["audit"]).1, audit);
        seen.push((s, rejects, listing, shown, again, audit, dry));
    }
    let (lite, pg) = (&seen[0], &seen[1]);
    assert_eq!(
        (
            lite.0["added"].as_u64(),
            lite.0["updated"].as_u64(),
            lite.0["unchanged"].as_u64(),
            lite.0["rejected"].as_u64()
        ),
        (Some(8_994), Some(1), Some(1), Some(4)),
        "{}",
        lite.0
    );
    // A repeat names the value stored for its key: the first occurrence's (added or
    // updated) or the database's (unchanged).
    for value in ["10,000.25", "3,000.25", "4,000.25"] {
        assert!(
            lite.1
                .contains(&format!("is already in this file with value {value}")),
            "{}",
            lite.1
        );
    }
    assert_eq!(pg.0, lite.0, "the same summary on both backends");
    assert_eq!(pg.1, lite.1, "the same rejects file, byte for byte");
    assert_eq!(pg.2, lite.2, "the same records, in the same order");
    assert_eq!(pg.3, lite.3, "the same listing");
    assert_eq!(pg.4, lite.4, "the same summary of the re-import");
    assert_eq!(pg.6, lite.6, "the same summary of the dry run");
    let actions = |a: &serde_json::Value| -> Vec<String> {
        a.as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{} {} {}", e["action"], e["subject"], e["detail"]))
            .collect()
    };
    assert_eq!(actions(&pg.5), actions(&lite.5), "the same audit");

    // All or nothing: a bad row after two COPY batches leaves nothing written.
    let env = Env::new();
    env.init();
    std::fs::write(env.path("prior.csv"), PRIOR_PERFORMANCE).unwrap();
    assert_eq!(import_performance(&env, "prior.csv", false).0, 0);
    let before = (performance(&env), json_at(&env, &["audit"]).1);
    std::fs::write(env.path("p.csv"), big_performance_file(9_000, Some(8_500))).unwrap();
    let (code, s) = import_performance(&env, "p.csv", false);
    assert_eq!(code, 1, "{s}");
    assert_eq!((performance(&env), json_at(&env, &["audit"]).1), before);
}

/// The test server, for the tests that need one: they are `#[ignore]`d without it (run by
/// `.ci/run`'s PostgreSQL pass with `--include-ignored`), and fail rather than pass when
/// run without it.
fn server() -> String {
    common::test_pg().expect("this test needs COMPETENCY_TEST_PG (a PostgreSQL server)")
}

/// The audit insert every write command makes inside its transaction: the proxy's needle.
const AUDIT_INSERT: &str = "INSERT INTO audit (org_id";

/// Runs the binary with `args` against `env`'s database through `proxy`, with the hidden
/// bound on waits (`COMPETENCY_TEST_PG_WAIT_MS`) when given; (code, stdout, stderr).
fn through_proxy(
    env: &Env,
    proxy: &common::proxy::Proxy,
    wait_ms: Option<&str>,
    args: &[&str],
) -> (i32, String, String) {
    let mut c = env.std_cmd();
    c.env("COMPETENCY_DB", proxy.url(&env.db().display().to_string()))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(ms) = wait_ms {
        c.env("COMPETENCY_TEST_PG_WAIT_MS", ms);
    }
    let out = common::output_within_deadline(c.spawn().expect("spawn"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Bug (issue 26): a connection lost during COMMIT on PostgreSQL left the accounts created
/// but deleted their credentials file ("cannot commit"; a rerun said "Unchanged" and the
/// passwords were gone). Now the command exits 1 saying the outcome is unknown, keeps the
/// staged file, and `doctor` settles it by the database: here the server did commit, so
/// `doctor` gives the file its name. For every command that issues passwords.
#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_commit_whose_answer_is_lost_keeps_the_credentials_for_doctor() {
    server();
    let env = Env::new();
    env.init();
    env.add_user("Bob Reset", "bob@contoso.com", &[]);
    std::fs::write(
        env.path("people.csv"),
        "email,name\ncarl@contoso.com,Carl One\ndora@contoso.com,Dora Two\n",
    )
    .unwrap();
    std::fs::write(
        env.path("trainings.csv"),
        trainings_report(&[(
            1,
            "Enabling Office 365 Services",
            "p1@outlook.com",
            "erin@contoso.com",
            "13/01/2024",
        )]),
    )
    .unwrap();
    let commands: [(&str, Vec<&str>, &str); 4] = [
        (
            "add.csv",
            common::users_add("Ann Lost", "ann@contoso.com", "add.csv", &[]),
            "ann",
        ),
        (
            "import.csv",
            vec![
                "users",
                "import",
                "people.csv",
                "--credentials-file",
                "import.csv",
            ],
            "carl",
        ),
        (
            "trainings-creds.csv",
            vec![
                "achievements",
                "import",
                "trainings.csv",
                "--create-users",
                "--credentials-file",
                "trainings-creds.csv",
            ],
            "erin",
        ),
        (
            "reset.csv",
            vec![
                "users",
                "reset-password",
                "bob@contoso.com",
                "--credentials-file",
                "reset.csv",
            ],
            "bob",
        ),
    ];
    for (file, args, who) in commands {
        let proxy = common::proxy::Proxy::start(
            &server(),
            AUDIT_INSERT,
            common::proxy::Fault::DropAfterCommit,
        );
        let (code, out, err) = through_proxy(&env, &proxy, None, &args);
        assert!(proxy.tripped(), "{file}: the proxy saw no COMMIT: {err}");
        assert_eq!(code, 1, "{file}: {out}{err}");
        assert!(
            err.contains("the outcome is unknown: run `competency doctor`"),
            "{file}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{file}: one error line: {err}");
        let temp = env.path(&format!(".{file}.competency-tmp"));
        assert!(
            temp.exists(),
            "{file}: the staged credentials were deleted: {err}"
        );
        assert!(!env.path(file).exists(), "{file}");
        drop(proxy);
        let (code, out, err) = env.run(&["doctor"]);
        assert_eq!(code, 0, "{file}: {out}{err}");
        assert!(err.contains("recovered credentials file"), "{file}: {err}");
        assert!(!temp.exists(), "{file}");
        let rows = common::read_credentials(&env.path(file));
        assert!(
            rows.iter().any(|r| r[0].starts_with(who)),
            "{file}: {rows:?}"
        );
    }
    let users = env.ok(&["users", "list", "--format", "csv"]);
    for who in ["ann@", "carl@", "dora@", "erin@"] {
        assert!(users.contains(who), "{users}");
    }
}

/// Bug (issue 26): a network that went silent mid-command hung the command forever while
/// its session held the write lock, so every other command got "busy". Now the command
/// ends with an error naming the (redacted) database, the server ends the orphaned
/// session (idle in its transaction), and the next command goes through. A connection
/// whose startup is never answered ends the same way. (The bound is shortened to 1 s by
/// the hidden COMPETENCY_TEST_PG_WAIT_MS; the test waits on nothing else.)
#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_silent_network_ends_the_command_and_the_server_frees_its_locks() {
    server();
    let env = Env::new();
    env.init();
    let proxy = common::proxy::Proxy::start(&server(), AUDIT_INSERT, common::proxy::Fault::Silent);
    let shown = proxy.url(&env.db().display().to_string());
    let (code, out, err) = through_proxy(
        &env,
        &proxy,
        Some("1000"),
        &common::users_add("Ann Silent", "ann@contoso.com", "ann.csv", &[]),
    );
    assert!(proxy.tripped(), "{err}");
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains(&format!("no answer from {shown}")), "{err}");
    assert!(!env.path("ann.csv").exists() && !env.path(".ann.csv.competency-tmp").exists());
    // The proxy still holds the orphaned session's connection open: only the server's own
    // bound ends it and releases the write lock.
    env.ok(&common::users_add(
        "Bob Next",
        "bob@contoso.com",
        "bob.csv",
        &[],
    ));
    let users = env.ok(&["users", "list", "--format", "csv"]);
    assert!(users.contains("bob@") && !users.contains("ann@"), "{users}");
    drop(proxy);

    // Silent from the first byte: the startup is never answered.
    let proxy = common::proxy::Proxy::start(&server(), "competency", common::proxy::Fault::Silent);
    let shown = proxy.url(&env.db().display().to_string());
    let (code, _, err) = through_proxy(&env, &proxy, Some("1000"), &["users", "list"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("cannot connect to {shown}: no answer within 1 s")),
        "{err}"
    );
}

/// Bug (issue 26): a failed copy into PostgreSQL left the schema it had created in the
/// empty target database, which the next copy then refused as not empty.
#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn an_interrupted_copy_into_postgresql_leaves_the_database_empty() {
    server();
    let target = Env::new();
    let source = Env::sqlite();
    source.init();
    source.add_user("Ann Copy", "ann@contoso.com", &[]);
    let from = source.db().display().to_string();
    let to = target.db().display().to_string();
    let marker = source.path("held");
    let child = source.spawn_held(
        "copying audit",
        &marker,
        &["copy", "--from", &from, "--to", &to],
    );
    let out = common::interrupt_when_held(
        child,
        &marker,
        "the audit",
        std::time::Duration::from_secs(120),
        || {},
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert_eq!(target.open_db().tables(), Vec::<String>::new(), "{err}");
    // And the copy can simply be run again.
    source.ok(&["copy", "--from", &from, "--to", &to]);
}

/// Bug (issue 26): a password in the URL given as `?password=` or holding a `/` passed the
/// check and was printed (by errors, `init`, `doctor`, `copy`). Every form is refused from
/// every place a location is read, and the message never shows it. No server needed.
#[test]
fn a_password_in_any_form_of_url_is_refused_and_never_shown() {
    let env = Env::sqlite();
    let secret = "hunter2x";
    let urls = [
        format!("postgres://ann:{secret}@127.0.0.1:1/db"),
        format!("postgres://ann:se/{secret}@127.0.0.1:1/db"),
        format!("postgres://ann:12/{secret}@127.0.0.1:1/db"),
        format!("postgres://ann:{secret}?x@127.0.0.1:1/db"),
        format!("postgres://ann:{secret}#x@127.0.0.1:1/db"),
        format!("postgres://ann:p@{secret}@127.0.0.1:1/db"),
        format!("postgres://ann@127.0.0.1:1/db?password={secret}"),
        format!("postgresql://127.0.0.1:1/db?sslmode=disable&PassWord={secret}"),
        format!("postgres://127.0.0.1:1/db?pass%77ord={secret}"),
        format!("postgres://127.0.0.1:1/db#password={secret}"),
    ];
    for url in &urls {
        let runs: Vec<(i32, String, String)> = vec![
            env.run(&["--db", url, "users", "list"]),
            env.run(&[
                "--db",
                url,
                "init",
                "--name",
                "Contoso Ltd",
                "--partner-id",
                "1234567",
            ]),
            env.run(&["--db", url, "doctor"]),
            env.run(&["copy", "--from", url, "--to", "copy.db"]),
            env.run(&["copy", "--from", "none.db", "--to", url]),
            env.cmd()
                .env("COMPETENCY_DB", url)
                .args(["users", "list"])
                .output()
                .map(|o| {
                    (
                        o.status.code().unwrap_or(-1),
                        String::from_utf8_lossy(&o.stdout).into_owned(),
                        String::from_utf8_lossy(&o.stderr).into_owned(),
                    )
                })
                .unwrap(),
        ];
        for (code, out, err) in runs {
            assert_eq!(code, 1, "{url}: {out}{err}");
            assert!(err.contains("the URL carries a password"), "{url}: {err}");
            assert!(
                !err.contains(secret) && !out.contains(secret),
                "{url}: {err}"
            );
        }
        assert!(!env.path("copy.db").exists());
    }
    // Printed redacted: no parameter that is not known to be harmless.
    let err = env.fails(&[
        "--db",
        "postgres://ann@127.0.0.1:1/db?sslmode=disable&options=-c%20x%3Dsecretish",
        "users",
        "list",
    ]);
    assert!(
        err.contains("cannot connect to postgres://ann@127.0.0.1:1/db?sslmode=disable:"),
        "{err}"
    );
    assert!(!err.contains("secretish"), "{err}");
}

/// A Trainings report of `people` people (three known titles each, the rows of a title
/// together, so a person's rows lie in different chunks of waiting rows) for
/// [`a_large_create_users_trainings_import_on_postgresql_matches_sqlite`], then rows that
/// test each rule across those chunks.
fn linking_report(people: usize) -> String {
    const TITLES: [&str; 3] = [
        "Managing Office 365 Identities and Requirements",
        "Enabling Office 365 Services",
        "Querying Data with Transact-SQL",
    ];
    let mut rows: Vec<(u32, &str, String, String, String)> = Vec::new();
    for (t, title) in TITLES.iter().enumerate() {
        for i in 0..people {
            let corp = match i {
                // No CorpEmail on any of its rows (a repeated row below gives one).
                5 => String::new(),
                // Two people whose accounts would get the same user name, and one whose
                // user name is an existing account's.
                30 => "dup@a.example".to_owned(),
                31 => "dup@b.example".to_owned(),
                32 => "taken@z.example".to_owned(),
                _ => format!("c{i}@contoso.com"),
            };
            let date = format!(
                "{:02}/{:02}/20{:02}",
                13 + (i + t) % 15,
                1 + i % 12,
                15 + i % 9
            );
            rows.push((
                rows.len() as u32,
                title,
                format!("m{i}@outlook.com"),
                corp,
                date,
            ));
        }
    }
    let firsts: Vec<_> = rows[..people].to_vec();
    let first = |i: usize| firsts[i].clone();
    // Person 5's first record again, now with a CorpEmail: refused as repeated, so the
    // CorpEmail stays free and a later person (a later chunk) may take it.
    let mut r = first(5);
    r.3 = "x5@contoso.com".to_owned();
    rows.push(r);
    rows.push((
        0,
        TITLES[1],
        "late@outlook.com".to_owned(),
        "x5@contoso.com".to_owned(),
        "13/02/2014".to_owned(),
    ));
    // Another CorpEmail for person 7; person 9's CorpEmail for a newcomer: refused.
    let mut r = first(7);
    r.4 = "14/02/2014".to_owned();
    r.3 = "other7@contoso.com".to_owned();
    rows.push(r);
    let mut r = first(8);
    r.2 = "newcomer@outlook.com".to_owned();
    r.3 = "c9@contoso.com".to_owned();
    rows.push(r);
    // The MSA of an account of another organization: refused.
    rows.push((
        9_999_999,
        TITLES[0],
        "fab1@outlook.com".to_owned(),
        "fab1@contoso.com".to_owned(),
        "13/01/2024".to_owned(),
    ));
    let rows: Vec<(u32, &str, &str, &str, &str)> = rows
        .iter()
        .enumerate()
        .map(|(n, r)| (n as u32, r.1, r.2.as_str(), r.3.as_str(), r.4.as_str()))
        .collect();
    trainings_report(&rows)
}

/// Bug (PostgreSQL, Trainings import with --create-users): each row was decided by a round
/// trip of its own and each person by a dozen, through statements whose plans, cached
/// while the tables were small, scanned them whole once they had grown (16,000 people: 70 s
/// against 1 s on SQLite). Rows now wait a chunk at a time and people are asked about and
/// written a chunk at a time; the decisions must stay exactly SQLite's, across chunks: a
/// repeated row that gives no CorpEmail, a CorpEmail that differs or is another person's,
/// an MSA of another organization, accounts already there (linked, with another MSA, or a
/// colleague holding the MSA), numbered user names.
#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_large_create_users_trainings_import_on_postgresql_matches_sqlite() {
    server();
    let people = 4_500;
    let report = linking_report(people);
    let mut seen = Vec::new();
    for env in [Env::sqlite(), Env::new()] {
        env.init();
        let rulebook = common::data("rulebook.toml");
        env.create(&[
            "--name",
            "Fabrikam",
            "--partner-id",
            "2002",
            "--rulebook",
            &rulebook,
            "--now",
            "2026-01-01",
        ]);
        let users = |org: &str, csv: &str| {
            std::fs::write(env.path("u.csv"), csv).unwrap();
            let (code, _, err) = json_at(
                &env,
                &[
                    "--org",
                    org,
                    "users",
                    "import",
                    "u.csv",
                    "--credentials-file",
                    &format!("creds-{org}.csv"),
                ],
            );
            assert_eq!(code, 0, "{err}");
        };
        users(
            "2002",
            "email,name,msa\nfab1@fabrikam.com,Fab One,fab1@outlook.com\n",
        );
        users(
            "1234567",
            "email,name,msa\n\
             c10@contoso.com,Ten,\n\
             c11@contoso.com,Eleven,elsewhere11@outlook.com\n\
             holder@contoso.com,Holder,m20@outlook.com\n\
             taken@contoso.com,Taken,\n\
             c12@contoso.com,Twelve,m12@outlook.com\n",
        );
        std::fs::write(env.path("t.csv"), &report).unwrap();
        let (code, s, err) = json_at(
            &env,
            &[
                "--org",
                "1234567",
                "achievements",
                "import",
                "t.csv",
                "--create-users",
                "--credentials-file",
                "new.csv",
                "--skip-invalid",
                "--rejects",
                "rejects.csv",
            ],
        );
        assert_eq!(code, 0, "{s} {err}");
        let rejects = std::fs::read_to_string(env.path("rejects.csv")).unwrap();
        // The credentials without the passwords (random): user name, e-mail, expiry.
        let creds: Vec<String> = common::read_credentials(&env.path("new.csv"))
            .into_iter()
            .map(|r| format!("{} {} {}", r[0], r[1], r[3]))
            .collect();
        let listed = |what: &[&str]| {
            let mut a = vec!["--org", "1234567"];
            a.extend_from_slice(what);
            json_at(&env, &a).1
        };
        let accounts = listed(&["users", "list", "--all"]);
        let audit = listed(&["audit"]);
        seen.push((s, rejects, records(&env), accounts, audit, creds));
    }
    let lite = &seen[0];
    let t = &lite.0["trainings"];
    let t = if t.is_null() { &lite.0 } else { t };
    assert_eq!(lite.0["rejected"].as_u64(), Some(4), "{}", lite.0);
    for want in [
        "is already in this file",
        "differs from c7@contoso.com",
        "c9@contoso.com is the CorpEmail of m9@outlook.com",
        "fab1@outlook.com",
    ] {
        assert!(lite.1.contains(want), "{want}: {}", lite.1);
    }
    // A later person took the CorpEmail the refused repeated row gave.
    assert!(!lite.1.contains("late@outlook.com"), "{}", lite.1);
    assert_eq!(t["already_linked"].as_u64(), Some(1), "m12: {t}");
    assert_eq!(t["conflicts"].as_array().map(Vec::len), Some(2), "{t}");
    // 4,501 people less m5 (no CorpEmail), m12 (already linked), m11 and m20 (conflicts)
    // and m10 (linked to its account).
    assert_eq!(t["created"].as_u64(), Some(4_496), "{t}");
    assert_eq!(t["linked"].as_u64(), Some(4_497), "{t}");
    let names: Vec<&str> = lite
        .5
        .iter()
        .map(|c| c.split(' ').next().unwrap())
        .collect();
    for want in ["dup@", "dup2@", "taken2@"] {
        assert!(names.iter().any(|n| n.starts_with(want)), "{want}");
    }
    for (k, what) in [
        "summary",
        "rejects file",
        "achievements",
        "accounts",
        "audit",
        "credentials",
    ]
    .iter()
    .enumerate()
    {
        let (a, b) = (&lite, &seen[1]);
        let same = match k {
            0 => a.0 == b.0,
            1 => a.1 == b.1,
            2 => a.2 == b.2,
            3 => a.3 == b.3,
            4 => a.4 == b.4,
            _ => a.5 == b.5,
        };
        assert!(same, "the same {what} on both backends");
    }
}

/// Bug (PostgreSQL, Trainings import with --create-users): each row cost a round trip or
/// two and each person about a dozen, so a large report held the write lock for minutes.
/// Now the rows and the people go a chunk at a time: the statements of the whole import
/// are a few per chunk, not a few per row (counted through a proxy: no clock involved).
#[test]
#[ignore = "needs COMPETENCY_TEST_PG"]
fn a_create_users_trainings_import_on_postgresql_runs_a_few_statements_per_chunk() {
    server();
    let people = 3_000;
    let report = linking_report(people);
    let env = Env::new();
    env.init();
    std::fs::write(env.path("t.csv"), &report).unwrap();
    let url = env.db().display().to_string();
    let proxy = common::proxy::Proxy::start(&url, "", common::proxy::Fault::None);
    let proxied = proxy.url(&url);
    let out = env
        .cmd()
        .env("COMPETENCY_DB", &proxied)
        .args(["--now", "2026-03-01", "--format", "json"])
        .args(["achievements", "import", "t.csv", "--create-users"])
        .args(["--credentials-file", "new.csv", "--skip-invalid"])
        .args(["--rejects", "rejects.csv"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = s["rows"].as_u64().unwrap();
    assert!(rows > 9_000, "{s}");
    let n = proxy.statements();
    // Before: two or more per row and a dozen per person (57,036 here); now 40.
    assert!(n < 300, "{n} statements for {rows} rows of {people} people");
}
