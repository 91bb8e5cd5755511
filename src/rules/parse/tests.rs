//! Validation tests: every check with its line and key, the suggestions, linear work on
//! huge rulebooks, and no panic on arbitrary text.
//!
//! Long on purpose: one test per check, sharing the fixture rulebook; a split would only
//! copy it.

use super::check::may_have_empty_array;
use super::*;

/// A valid rulebook the cases below break one way each.
const BASE: &str = r#"[program]
name = "P"

[[catalog]]
code = "70-533"
title = "Implementing Microsoft Azure Infrastructure Solutions"
kind = "exam"

[[catalog]]
code = "70-535"
title = "Architecting Microsoft Azure Solutions"
kind = "exam"

[[catalog]]
code = "MCSA-O365"
title = "MCSA: Office 365"
kind = "certification"

[competencies.cloud]
name = "Cloud"

[[competencies.cloud.silver]]
option = "A"
people = [ { count = 1, any_of = [["70-533"], ["70-535"]] } ]
metrics = [ { metric = "revenue", at_least = 100, developing = 50 } ]
"#;

/// A rulebook with `n` competencies, each with a silver and a gold option, every tenth
/// naming a code not in the catalogue (errors are located and numbered too).
fn generated(n: usize) -> String {
    let mut text = String::from(BASE);
    for i in 0..n {
        let code = if i % 10 == 0 { "NOPE-1" } else { "70-533" };
        text.push_str(&format!(
            "\n[competencies.gen-{i}]\nname = \"Generated {i}\"\n\
             [[competencies.gen-{i}.silver]]\noption = \"S\"\n\
             people = [ {{ count = 1, any_of = [[\"{code}\"]] }} ]\n\
             [[competencies.gen-{i}.gold]]\noption = \"G\"\n\
             metrics = [ {{ metric = \"revenue\", at_least = 10 }} ]\n"
        ));
    }
    text
}

/// Issue 10: validation was quadratic (every check scanned the competencies table to
/// find its line: 45,000 competencies took 14 s). Counted, not timed: the lookups'
/// work per competency must not grow with the number of competencies (beyond the
/// logarithm of a binary search).
#[test]
fn validation_work_grows_linearly() {
    let work = |n: usize| {
        let text = generated(n);
        EXAMINED.with(|c| c.set(0));
        let errors = Rulebook::parse_all(&text, "big.toml").unwrap_err();
        assert_eq!(errors.len(), n.div_ceil(10), "every tenth has a bad code");
        EXAMINED.with(std::cell::Cell::get) as f64 / n as f64
    };
    let (small, large) = (work(500), work(8_000));
    assert!(
        large < small * 1.6,
        "work per competency grew from {small:.1} to {large:.1} for 16 times as many"
    );
}

/// Issue 10: a valid rulebook is read once into the plain types and checked in one pass;
/// the spanned tree (which cost more time and memory than the rest) is built only to
/// locate a problem.
#[test]
fn valid_rulebooks_are_checked_without_the_spanned_tree() {
    let trees = |text: &str| {
        TREES.with(|c| c.set(0));
        let result = Rulebook::parse_all(text, "big.toml");
        (result.is_ok(), TREES.with(std::cell::Cell::get))
    };
    // A level left out (no Gold here) is asked about and answered without the tree.
    let valid = format!(
        "{BASE}\n[competencies.only-silver]\nname = \"S\"\n\
         silver = [ {{ option = \"S\", people = [ {{ count = 1, all_of = [\"70-533\"] }} ] }} ]\n"
    );
    assert_eq!(trees(&valid), (true, 0));
    assert_eq!(trees(&generated(0)), (true, 0));
    // A problem needs its line: the tree is built once, however many problems.
    assert_eq!(trees(&generated(50)), (false, 1));
    // A level written empty is found through the tree.
    let empty = format!("{BASE}\n[competencies.half]\nname = \"H\"\nsilver = [ ]\n");
    assert_eq!(trees(&empty), (false, 1));
}

#[test]
fn empty_array_literals_are_never_missed() {
    for text in [
        "a = []",
        "a = [ ]",
        "a = [\n  # none yet\n]",
        "a = [[]]",
        "a = [\r\n]",
        "a = [ # c ]\n ]",
    ] {
        assert!(may_have_empty_array(text), "{text:?}");
    }
    for text in [
        "[[catalog]]\na = [1]",
        "a = [ \"x\" ]",
        "a = [",
        "",
        "[a]\nb = 1",
    ] {
        assert!(!may_have_empty_array(text), "{text:?}");
    }
}

/// A rulebook that passed is trusted by its digest: the digest changes with the text, and
/// the trusted parse gives the same rulebook.
#[test]
fn validated_rulebooks_are_recognised_by_digest() {
    let checked = Rulebook::parse(BASE, "rules.toml").unwrap();
    assert_eq!(
        Rulebook::parse_validated(BASE, "rules.toml").unwrap(),
        checked
    );
    assert_eq!(validated_digest(BASE), validated_digest(BASE));
    assert_ne!(
        validated_digest(BASE),
        validated_digest(&format!("{BASE}\n"))
    );
    assert_eq!(validated_digest(BASE).len(), 64);
}

#[test]
fn base_is_valid() {
    let rulebook = Rulebook::parse(BASE, "rules.toml").unwrap();
    assert_eq!(rulebook.competencies["cloud"].silver[0].people[0].count, 1);
}

/// The 1-based line holding the `# <-` marker.
fn marked_line(text: &str) -> usize {
    text.lines()
        .position(|l| l.contains("# <-"))
        .expect("a case marks its line with # <-")
        + 1
}

/// Each case: name, text, expected key, a fragment of the message. The expected line is
/// the one marked `# <-`.
fn cases() -> Vec<(&'static str, String, &'static str, &'static str)> {
    vec![
        (
            "toml syntax error",
            BASE.replace("name = \"P\"", "name = \"P # <-"),
            "",
            "",
        ),
        (
            "unknown key in program",
            BASE.replace("name = \"P\"", "name = \"P\"\ncolour = 1 # <-"),
            "program.colour",
            "unknown field `colour`",
        ),
        (
            "unknown top-level key",
            format!("{BASE}\n[extras] # <-\nx = 1\n"),
            "extras",
            "unknown field `extras`",
        ),
        (
            "unknown key in a people requirement",
            BASE.replace("[\"70-535\"]] } ]", "[\"70-535\"]], some = 1 } ] # <-"),
            "competencies.cloud.silver[0].people[0].some",
            "unknown field `some`",
        ),
        (
            "wrong type",
            BASE.replace("name = \"P\"", "name = \"P\"\nterm_months = \"twelve\" # <-"),
            "program.term_months",
            "invalid type: string \"twelve\"",
        ),
        (
            "wrong kind",
            BASE.replace("kind = \"certification\"", "kind = \"quiz\" # <-"),
            "catalog[2].kind",
            "unknown variant `quiz`",
        ),
        (
            "retired not a date",
            BASE.replace(
                "kind = \"certification\"",
                "kind = \"certification\"\nretired = \"2019\" # <-",
            ),
            "catalog[2].retired",
            "",
        ),
        (
            "code not in the catalogue",
            BASE.replace("[\"70-535\"]] } ]", "[\"70-539\"]] } ] # <-"),
            "competencies.cloud.silver[0].people[0].any_of",
            "code \"70-539\" is not in the catalog (nearest: 70-533, 70-535)",
        ),
        (
            "all_of code not in the catalogue",
            BASE.replace("count = 1,", "count = 1, all_of = [\"MCSA-0365\"], # <-\n"),
            "competencies.cloud.silver[0].people[0].all_of",
            "code \"MCSA-0365\" is not in the catalog (nearest: MCSA-O365)",
        ),
        (
            "code on its own line in a multi-line any_of",
            BASE.replace(
                "any_of = [[\"70-533\"], [\"70-535\"]]",
                "any_of = [\n  [\"70-533\"],\n  [\"nonsense-code-zz\"], # <-\n]",
            ),
            "competencies.cloud.silver[0].people[0].any_of",
            "code \"nonsense-code-zz\" is not in the catalog",
        ),
        (
            "duplicate catalogue code",
            BASE.replace("code = \"70-535\"", "code = \"70-533\" # <-"),
            "catalog[1].code",
            "duplicate catalog code \"70-533\" (first defined at line 5)",
        ),
        (
            "count zero",
            BASE.replace(
                "people = [ { count = 1,",
                "people = [\n  { count = 0, # <-\n",
            ),
            "competencies.cloud.silver[0].people[0].count",
            "count must be at least 1",
        ),
        (
            "count absurd",
            BASE.replace("count = 1", "count = 200000 # <-\n"),
            "competencies.cloud.silver[0].people[0].count",
            "count 200000 is absurd",
        ),
        (
            "count negative",
            BASE.replace("count = 1", "count = -1 # <-\n"),
            "competencies.cloud.silver[0].people[0].count",
            "count must be a whole number from 1 to 100000",
        ),
        (
            "competency without options",
            format!("{BASE}\n[competencies.empty] # <-\nname = \"E\"\n"),
            "competencies.empty",
            "no options at silver or gold",
        ),
        (
            "explicitly empty level",
            format!(
                "{BASE}\n[competencies.half]\nname = \"H\"\nsilver = [] # <-\n\
                 gold = [ {{ option = \"G\", metrics = [ {{ metric = \"revenue\", at_least = 1 }} ] }} ]\n"
            ),
            "competencies.half.silver",
            "the silver level is empty",
        ),
        (
            "option without requirements",
            format!("{BASE}\n[[competencies.cloud.gold]] # <-\noption = \"B\"\n"),
            "competencies.cloud.gold[0]",
            "option \"B\" has no requirements",
        ),
        (
            "unknown metric",
            BASE.replace("metric = \"revenue\",", "metric = \"profit\", # <-\n"),
            "competencies.cloud.silver[0].metrics[0].metric",
            "unknown metric \"profit\" (expected one of revenue, active-usage",
        ),
        (
            "duplicate option name",
            format!(
                "{BASE}\n[[competencies.cloud.silver]]\noption = \"A\" # <-\n\
                 metrics = [ {{ metric = \"new-customers\", at_least = 3 }} ]\n"
            ),
            "competencies.cloud.silver[1].option",
            "duplicate option name \"A\"",
        ),
        (
            "developing without at_least",
            BASE.replace(
                "metrics = [ { metric = \"revenue\", at_least = 100, developing = 50 } ]",
                "metrics = [\n  { metric = \"revenue\", developing = 50 }, # <-\n]",
            ),
            "competencies.cloud.silver[0].metrics[0]",
            "missing `at_least`",
        ),
        (
            "developing without at_least in a table",
            BASE.replace(
                "metrics = [ { metric = \"revenue\", at_least = 100, developing = 50 } ]",
                "[[competencies.cloud.silver.metrics]] # <-\nmetric = \"revenue\"\ndeveloping = 50",
            ),
            "competencies.cloud.silver[0].metrics[0]",
            "missing `at_least`",
        ),
        (
            "negative at_least",
            BASE.replace("at_least = 100,", "at_least = -100, # <-\n"),
            "competencies.cloud.silver[0].metrics[0].at_least",
            "cannot be negative",
        ),
        (
            "negative developing",
            BASE.replace("developing = 50", "developing = -0.5 # <-\n"),
            "competencies.cloud.silver[0].metrics[0].developing",
            "cannot be negative",
        ),
        (
            "nan threshold",
            BASE.replace("at_least = 100,", "at_least = nan, # <-\n"),
            "competencies.cloud.silver[0].metrics[0].at_least",
            "finite",
        ),
        (
            "people without codes",
            BASE.replace(
                "people = [ { count = 1, any_of = [[\"70-533\"], [\"70-535\"]] } ]",
                "people = [ { count = 1 } ] # <-",
            ),
            "competencies.cloud.silver[0].people[0]",
            "needs `all_of` or `any_of`",
        ),
        (
            "empty any_of",
            BASE.replace(
                "any_of = [[\"70-533\"], [\"70-535\"]]",
                "all_of = [\"70-533\"],\n any_of = [] # <-\n",
            ),
            "competencies.cloud.silver[0].people[0].any_of",
            "any_of is empty",
        ),
        (
            "empty any_of alone",
            BASE.replace(
                "any_of = [[\"70-533\"], [\"70-535\"]]",
                "\n any_of = [] # <-\n",
            ),
            "competencies.cloud.silver[0].people[0].any_of",
            "needs `all_of` or `any_of`",
        ),
        (
            "empty alternative in any_of",
            BASE.replace("any_of = [[\"70-533\"], [\"70-535\"]]", "any_of = [[\"70-533\"], []] # <-\n"),
            "competencies.cloud.silver[0].people[0].any_of",
            "alternative 1 of any_of is an empty list",
        ),
        (
            "term of zero months",
            BASE.replace("name = \"P\"", "name = \"P\"\nterm_months = 0 # <-"),
            "program.term_months",
            "0 months makes no sense",
        ),
        (
            "metric window of zero days",
            BASE.replace("name = \"P\"", "name = \"P\"\nmetric_window_days = 0 # <-"),
            "program.metric_window_days",
            "0 days makes no sense",
        ),
        (
            "renewal window longer than the term",
            BASE.replace("name = \"P\"", "name = \"P\"\nrenewal_opens_days = 400 # <-"),
            "program.renewal_opens_days",
            "",
        ),
        (
            "empty program name",
            BASE.replace("name = \"P\"", "name = \"\" # <-"),
            "program.name",
            "needs a name",
        ),
        (
            "missing program",
            format!("# <-\n{}", BASE.replace("[program]\nname = \"P\"\n", "")),
            "",
            "missing field `program`",
        ),
        (
            "competency id not kebab-case",
            BASE.replace("[competencies.cloud]", "[competencies.Cloud_Platform] # <-")
                .replace("competencies.cloud.silver", "competencies.Cloud_Platform.silver"),
            "competencies.Cloud_Platform",
            "kebab-case",
        ),
        (
            "valid_days beyond 100 years",
            BASE.replace("kind = \"certification\"", "kind = \"certification\"\nvalid_days = 4000000000 # <-"),
            "catalog[2].valid_days",
            "at most 36500",
        ),
        (
            "escape sequence in a competency name",
            BASE.replace("name = \"Cloud\"", "name = \"Cloud\\u001b[2J\" # <-"),
            "competencies.cloud.name",
            "control character (U+001B)",
        ),
        (
            "bidi override in a catalog title",
            BASE.replace("title = \"MCSA: Office 365\"", "title = \"MCSA\u{202E}365\" # <-"),
            "catalog[2].title",
            "bidirectional override (U+202E)",
        ),
        (
            "control character in an option name",
            BASE.replace("option = \"A\"", "option = \"A\\tB\" # <-"),
            "competencies.cloud.silver[0].option",
            "control character (U+0009)",
        ),
        (
            "control character in a program name",
            BASE.replace("name = \"P\"", "name = \"P\\u0007\" # <-"),
            "program.name",
            "control character (U+0007)",
        ),
        (
            "zero valid_days",
            BASE.replace("kind = \"certification\"", "kind = \"certification\"\nvalid_days = 0 # <-"),
            "catalog[2].valid_days",
            "valid_days must be at least 1",
        ),
        (
            "alias equal to another entry's title, in other case and spacing",
            BASE.replace(
                "kind = \"certification\"",
                "kind = \"certification\"\naliases = [\"architecting  MICROSOFT azure solutions\"] # <-",
            ),
            "catalog[2].aliases[0]",
            "is already the title of catalog entry \"70-535\" (line 11)",
        ),
        (
            "alias equal to another entry's alias",
            BASE.replace(
                "title = \"Architecting Microsoft Azure Solutions\"",
                "title = \"Architecting Microsoft Azure Solutions\"\naliases = [\"Azure architect\"]",
            )
            .replace(
                "kind = \"certification\"",
                "kind = \"certification\"\naliases = [\"Office\", \"azure  Architect\"] # <-",
            ),
            "catalog[2].aliases[1]",
            "is already an alias of catalog entry \"70-535\" (line 12)",
        ),
        (
            "empty alias",
            BASE.replace(
                "kind = \"certification\"",
                "kind = \"certification\"\naliases = [\"  \"] # <-",
            ),
            "catalog[2].aliases[0]",
            "an alias cannot be empty",
        ),
    ]
}

#[test]
fn aliases_map_titles_to_codes_ignoring_case_and_spacing() {
    let text = BASE.replace(
        "title = \"MCSA: Office 365\"",
        "title = \"MCSA: Office 365\"\naliases = [\"MCSA Office 365\", \"mcsa: office 365\"]",
    );
    let rb = Rulebook::parse(&text, "r").unwrap();
    let index = rb.title_index();
    assert_eq!(index[&normalize_title("  MCSA  office 365 ")], "MCSA-O365");
    assert_eq!(index[&normalize_title("MCSA: OFFICE\t365")], "MCSA-O365");
    assert_eq!(
        index[&normalize_title("Architecting Microsoft Azure Solutions")],
        "70-535"
    );
}

#[test]
fn each_problem_is_reported_with_its_line_and_key() {
    let mut failures = Vec::new();
    for (name, text, key, fragment) in cases() {
        let want_line = marked_line(&text);
        match Rulebook::parse(&text, "rules.toml") {
            Ok(_) => failures.push(format!("{name}: accepted")),
            Err(e) => {
                if e.file != "rules.toml"
                    || e.line != want_line
                    || e.key != key
                    || !e.message.contains(fragment)
                    || e.to_string().contains('\n')
                {
                    failures.push(format!(
                        "{name}: want line {want_line}, key {key:?}, message with {fragment:?}; got {e}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn display_is_file_line_key_message() {
    let text = BASE.replace("[\"70-535\"]] }", "[\"70-999\"]] }");
    let e = Rulebook::parse(&text, "rules.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "rules.toml:24: competencies.cloud.silver[0].people[0].any_of: \
         code \"70-999\" is not in the catalog (nearest: 70-533, 70-535)"
    );
}

#[test]
fn parse_all_reports_every_problem_in_line_order() {
    let text = BASE
        .replace("count = 1", "count = 0")
        .replace("name = \"P\"", "name = \"P\"\nterm_months = 0");
    let errors = Rulebook::parse_all(&text, "r.toml").unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "program.term_months",
            "competencies.cloud.silver[0].people[0].count"
        ]
    );
    assert!(errors[0].line < errors[1].line);
}

#[test]
fn nearest_codes_prefers_close_codes_and_drops_far_ones() {
    let catalog = Rulebook::parse(BASE, "r").unwrap().catalog;
    assert_eq!(nearest_codes(&catalog, "70-534", 2), ["70-533", "70-535"]);
    assert_eq!(nearest_codes(&catalog, "mcsa-o365", 3)[0], "MCSA-O365");
    assert_eq!(nearest_codes(&catalog, "o365", 1), ["MCSA-O365"]);
    assert!(nearest_codes(&catalog, "completely-unrelated", 3).is_empty());
    assert!(nearest_codes(&catalog, "70-533", 0).is_empty());
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(text in "\\PC*") {
        let _ = Rulebook::parse(&text, "fuzz.toml");
    }

    #[test]
    fn parse_never_panics_on_rulebook_like_text(
        edits in proptest::collection::vec((0usize..2000, "[\\[\\]{}=\",.#a-z0-9\\n -]{0,6}"), 0..6)
    ) {
        let mut text = BASE.to_string();
        for (at, insert) in edits {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, &insert);
        }
        if let Err(e) = Rulebook::parse(&text, "fuzz.toml") {
            proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1);
            proptest::prop_assert!(!e.to_string().contains('\n'));
        }
    }
}
