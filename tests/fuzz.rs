//! Property tests over arbitrary bytes: the rulebook loader and the validation every CSV row
//! goes through never panic, and what they return keeps its promises (one-line errors at a
//! real line; accepted values are normalized and within bounds). A few hundred cases each,
//! so CI runs them in seconds; `PROPTEST_CASES=100000 cargo test --test fuzz` digs deeper.

use chrono::NaiveDate;
use competency::api::domain::{accounts as users, records};
use competency::api::rules::{Level, Rulebook};
use competency::api::support::{clock, fields as validate};
use proptest::prelude::*;

const DEFAULT: &str = include_str!("../data/rulebook.toml");
const SMALL: &str = include_str!("data/small-rules.toml");

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        // PROPTEST_CASES overrides, for a longer run by hand.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Loads bytes the way `rules validate` does: UTF-8 or refused, then parsed.
fn load(bytes: &[u8]) -> Result<Rulebook, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    Rulebook::parse(text, "fuzz.toml").map_err(|e| {
        assert!(e.line >= 1, "line 0: {e}");
        assert!(
            e.line <= text.matches('\n').count() + 1,
            "line {} past the end: {e}",
            e.line
        );
        let shown = e.to_string();
        assert!(!shown.contains('\n'), "multi-line error: {shown}");
        assert!(shown.starts_with("fuzz.toml:"), "{shown}");
        shown
    })
}

/// A mutation of a valid rulebook: byte flips, deletions, insertions and splices.
fn mutated(base: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    prop::collection::vec(
        (
            0..len,
            0u8..4,
            any::<u8>(),
            prop::collection::vec(any::<u8>(), 0..8),
        ),
        1..8,
    )
    .prop_map(move |edits| {
        let mut b = base.as_bytes().to_vec();
        for (at, kind, byte, bytes) in edits {
            let at = at % (b.len() + 1);
            match kind {
                0 if at < b.len() => b[at] = byte,
                1 if at < b.len() => {
                    b.remove(at);
                }
                2 => {
                    b.splice(at..at, bytes);
                }
                _ => {
                    // Splice in TOML punctuation, which reaches deeper into the parser.
                    let tokens: &[&[u8]] = &[
                        b"[",
                        b"]",
                        b"[[",
                        b"{",
                        b"}",
                        b"=",
                        b"\"",
                        b",",
                        b"\n",
                        b"#",
                        b".",
                        b"count = 0",
                        b"\"\"\"",
                        b"'",
                        b"-1",
                        b"nan",
                        b"1e999",
                        b"2026-02-30",
                    ];
                    let t = tokens[usize::from(byte) % tokens.len()];
                    b.splice(at..at, t.iter().copied());
                }
            }
        }
        b
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn rulebook_loader_never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..4096)
    ) {
        let _ = load(&bytes);
        let _ = Rulebook::parse(&String::from_utf8_lossy(&bytes), "fuzz.toml");
    }

    #[test]
    fn rulebook_loader_never_panics_on_mutated_rulebooks(bytes in mutated(SMALL)) {
        if let Ok(rb) = load(&bytes) {
            // Whatever was accepted keeps the invariants the engine relies on.
            prop_assert!(!rb.competencies.is_empty());
            for comp in rb.competencies.values() {
                for level in [Level::Silver, Level::Gold] {
                    for option in comp.options(level) {
                        prop_assert!(!option.people.is_empty() || !option.metrics.is_empty());
                        for p in &option.people {
                            prop_assert!(p.count >= 1);
                            for c in p.codes() {
                                prop_assert!(rb.catalog_entry(c).is_some(), "code {} not in the catalog", c);
                            }
                        }
                        for m in &option.metrics {
                            prop_assert!(m.at_least.is_finite() && m.at_least >= 0.0);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn default_rulebook_mutations_never_panic(bytes in mutated(DEFAULT)) {
        let _ = load(&bytes);
    }

    #[test]
    fn achievement_row_validation_never_panics(
        msa in any::<String>(),
        code in prop_oneof![any::<String>(), Just("EX-A".to_owned()), Just("ex-a ".to_owned())],
        earned in prop_oneof![any::<String>(), "[0-9]{4}-[0-9]{2}-[0-9]{2}"],
        expires in proptest::option::of(prop_oneof![any::<String>(), "[0-9]{4}-[0-9]{2}-[0-9]{2}"]),
    ) {
        let rb = Rulebook::parse(SMALL, "small.toml").unwrap();
        if let Ok(v) = records::validate_achievement(&rb, today(), &msa, &code, &earned, expires.as_deref()) {
            prop_assert!(v.earned <= today());
            prop_assert!(v.expires.is_none_or(|e| e > v.earned));
            prop_assert!(rb.catalog_entry(&v.code).is_some());
            prop_assert_eq!(v.msa.clone(), v.msa.to_lowercase());
        }
    }

    #[test]
    fn performance_row_validation_never_panics(
        metric in prop_oneof![any::<String>(), Just("revenue".to_owned()), Just(" Active-Usage ".to_owned())],
        value in prop_oneof![
            any::<String>(),
            any::<f64>().prop_map(|f| f.to_string()),
            "-?[0-9_,.]{0,30}(e[+-]?[0-9]{1,4})?",
            Just("NaN".to_owned()), Just("inf".to_owned()), Just("-0".to_owned()),
        ],
        date in prop_oneof![any::<String>(), "[0-9]{4}-[0-9]{2}-[0-9]{2}"],
        scope in proptest::option::of(any::<String>()),
    ) {
        if let Ok(row) = records::validate_performance(today(), &metric, &value, &date, scope.as_deref(), None, None) {
            prop_assert!(row.value.is_finite() && row.value >= 0.0 && row.value <= 1e15);
            prop_assert!(row.date <= today());
            prop_assert!(!row.scope.chars().any(char::is_control));
        }
    }

    #[test]
    fn email_and_name_validation_never_panic(raw in any::<String>(), bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for s in [raw.clone(), String::from_utf8_lossy(&bytes).into_owned()] {
            if let Ok(e) = validate::email(&s) {
                prop_assert!(e.len() <= 254 && e.contains('@'));
                prop_assert_eq!(e.clone(), e.to_lowercase());
                prop_assert!(!e.chars().any(char::is_control));
                // An accepted address yields a usable user-name local part.
                let _ = validate::username_local(&e);
            }
            if let Ok(n) = validate::name(&s) {
                prop_assert!(!n.is_empty() && n.chars().count() <= validate::MAX_NAME);
                prop_assert!(!n.chars().any(char::is_control));
            }
            let _ = validate::partner_id(&s);
            let _ = validate::slug(&s);
            let _ = users::Role::parse(&s);
            let _ = clock::parse_date(&s);
            let _ = clock::parse_instant(&s);
        }
    }

    /// Arbitrary bytes read as CSV, every field of every record pushed through the row
    /// validation an import applies: neither the reader nor the validation panics.
    #[test]
    fn csv_bytes_through_row_validation_never_panic(
        bytes in prop::collection::vec(prop_oneof![
            any::<u8>(),
            Just(b','), Just(b'"'), Just(b'\n'), Just(b'\r'), Just(b'-'), Just(b'@'),
        ], 0..1024)
    ) {
        let rb = Rulebook::parse(SMALL, "small.toml").unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes.as_slice());
        let mut record = csv::ByteRecord::new();
        while let Ok(true) = reader.read_byte_record(&mut record) {
            let f: Vec<String> = record.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
            let get = |i: usize| f.get(i).map(String::as_str).unwrap_or("");
            let _ = records::validate_achievement(&rb, today(), get(0), get(1), get(2), f.get(3).map(String::as_str));
            let _ = records::validate_performance(today(), get(0), get(1), get(2), f.get(3).map(String::as_str), f.get(4).map(String::as_str), f.get(5).map(String::as_str));
            let _ = validate::email(get(0));
            let _ = validate::name(get(1));
        }
    }
}

// ---------------------------------------------------------------------------------------
// The bulk imports themselves, in process: arbitrary bytes as a CSV file through header
// checking and every row's validation against an in-memory database (dry run).

mod imports {
    use super::*;
    use competency::api::domain::accounts::Actor;
    use competency::api::domain::import::{self, Options};
    use competency::api::rules::Market;
    use competency::api::store::{NewOrg, Store};

    fn imports_config() -> ProptestConfig {
        ProptestConfig {
            cases: config().cases / 4,
            ..config()
        }
    }

    /// CSV-ish bytes: a plausible header, then arbitrary bytes biased towards CSV syntax.
    fn csv_bytes(header: &'static str) -> impl Strategy<Value = Vec<u8>> {
        (
            any::<bool>(),
            prop::collection::vec(
                prop_oneof![
                    4 => any::<u8>(),
                    2 => Just(b','), 2 => Just(b'\n'), 1 => Just(b'"'), 1 => Just(b'\r'),
                    1 => Just(b'@'), 1 => Just(b'-'), 1 => Just(b';'),
                ],
                0..600,
            ),
        )
            .prop_map(move |(with_header, body)| {
                let mut b = if with_header {
                    header.as_bytes().to_vec()
                } else {
                    Vec::new()
                };
                b.extend(body);
                b
            })
    }

    fn run(kind: &str, bytes: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("in.csv");
        std::fs::write(&file, bytes).unwrap();
        let mut store = Store::open_in_memory().unwrap();
        let actor = Actor {
            name: "fuzz".into(),
            at: clock::midnight(today()),
        };
        let org = store
            .write(|db| {
                db.insert_org(
                    &NewOrg {
                        partner_id: "1",
                        name: "Fuzz",
                        slug: "fuzz",
                        domain: "fuzz.example.com",
                        market: Market::Developed,
                        rulebook: SMALL,
                    },
                    actor.at,
                )?;
                Ok(db.org_by_key("fuzz")?.expect("org"))
            })
            .unwrap();
        let rb = Rulebook::parse(SMALL, "small.toml").unwrap();
        let mut opts = Options::new(file, competency::api::domain::progress::none());
        opts.dry_run = true;
        let opened = match kind {
            "users" => import::users::open(&opts),
            "achievements" => import::achievements::open(&opts),
            _ => import::performance::open(&opts),
        };
        let Ok(mut input) = opened else { return };
        let summary = store.write_or_rollback(|db| {
            let s = match kind {
                "users" => import::users::import(db, &org, &actor, &opts, &mut input, None, None),
                "achievements" => import::achievements::import(
                    db,
                    &org,
                    &rb,
                    &actor,
                    today(),
                    &opts,
                    &mut input,
                    None,
                ),
                _ => import::performance::import(
                    db,
                    &org,
                    &competency::api::domain::records::ScopeRules::new(&rb),
                    &actor,
                    today(),
                    &opts,
                    &mut input,
                    None,
                ),
            }?;
            Ok((s, false))
        });
        if let Ok(s) = summary {
            // Every row read is accounted for, once.
            assert_eq!(
                s.added + s.updated + s.unchanged + s.rejected,
                s.rows,
                "{kind}: {s:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(imports_config())]

        #[test]
        fn users_import_never_panics(bytes in csv_bytes("email,name,msa,role\n")) {
            run("users", &bytes);
        }

        #[test]
        fn achievements_import_never_panics(bytes in csv_bytes("msa,code,earned,expires\n")) {
            run("achievements", &bytes);
        }

        #[test]
        fn performance_import_never_panics(bytes in csv_bytes("metric,value,date,scope\n")) {
            run("performance", &bytes);
        }
    }
}
