//! `competency report`: the HTML page parsed with an HTML parser, its figures checked
//! against `--format json` of the commands it summarises, its file rules (0600, never over a
//! file or through a link, `--force` by rename) and that it is self-contained.

mod common;

use std::collections::HashSet;

use common::{Env, listed, mode};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

const NOW: &str = "2026-12-01T10:00:00Z";

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("bad selector {s}: {e:?}"))
}

fn text(e: ElementRef) -> String {
    e.text().collect::<String>().trim().to_owned()
}

/// The demo organization (membership, alerts, expiring assessments) at [`NOW`].
fn demo() -> Env {
    Env::demo(NOW)
}

fn report(env: &Env, out: &str) -> Html {
    env.ok(&["report", "--now", NOW, "--out", out]);
    let html = std::fs::read_to_string(env.path(out)).expect("report file");
    Html::parse_document(&html)
}

/// "15,000 USD" → 15000.
fn amount(s: &str) -> f64 {
    s.trim_end_matches(" USD")
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

#[test]
fn every_section_has_a_real_heading() {
    let env = demo();
    let doc = report(&env, "r.html");
    let h1: Vec<String> = doc.select(&sel("h1")).map(text).collect();
    assert_eq!(h1, ["Competency report: Fabrikam Consulting"]);
    assert_eq!(
        text(doc.select(&sel("title")).next().expect("title")),
        "Competency report: Fabrikam Consulting"
    );
    for (id, heading) in [
        ("organization", "Organization"),
        ("membership", "Membership"),
        ("designations", "Designations"),
        ("competencies", "Competencies"),
        ("alerts", "Open alerts"),
        ("timeline", "Renewal timeline"),
        ("bus-factor", "Bus factor"),
    ] {
        let s = doc
            .select(&sel(&format!("section#{id} > h2")))
            .next()
            .unwrap_or_else(|| panic!("no section {id} with an h2"));
        assert_eq!(text(s), heading);
    }
    // The demo's rulebook has no designations: the section is the demo's step 7, a preview
    // under the embedded Solutions Partner rulebook, and says so.
    let d = text(doc.select(&sel("section#designations")).next().unwrap());
    assert!(d.contains("a preview with no enrolment"), "{d}");
    assert!(
        doc.select(&sel("section#designations tr[data-state=preview]"))
            .count()
            >= 2,
        "{d}"
    );
    // Every table has header cells.
    for t in doc.select(&sel("table")) {
        assert!(t.select(&sel("th")).next().is_some(), "table without <th>");
    }
}

#[test]
fn membership_and_competency_figures_equal_the_commands_json() {
    let env = demo();
    let doc = report(&env, "r.html");

    let status = env.json(&["membership", "status", "--now", NOW]);
    for key in ["level", "state", "purchased", "anniversary"] {
        let cell = doc
            .select(&sel(&format!("#membership-status td[data-key={key}]")))
            .next()
            .unwrap_or_else(|| panic!("no {key}"));
        assert_eq!(text(cell), status[key].as_str().unwrap(), "{key}");
    }

    let list = env.json(&["competencies", "list", "--now", NOW]);
    let list = list.as_array().unwrap();
    let articles: Vec<ElementRef> = doc.select(&sel("article.competency")).collect();
    assert_eq!(articles.len(), list.len());
    for c in list {
        let id = c["id"].as_str().unwrap();
        let a = doc
            .select(&sel(&format!("article[data-competency=\"{id}\"]")))
            .next()
            .unwrap_or_else(|| panic!("no article for {id}"));
        assert_eq!(a.value().attr("data-level"), c["level"].as_str(), "{id}");
    }

    let progress = env.json(&["competencies", "progress", "--now", NOW]);
    let progress = progress.as_array().unwrap();
    assert_eq!(doc.select(&sel("table.progress")).count(), progress.len());
    let mut people_rows = 0;
    for p in progress {
        let (id, level) = (
            p["competency"].as_str().unwrap(),
            p["level"].as_str().unwrap(),
        );
        let table = doc
            .select(&sel(&format!(
                "table.progress[data-competency=\"{id}\"][data-level=\"{level}\"]"
            )))
            .next()
            .unwrap_or_else(|| panic!("no progress table for {id} {level}"));
        assert_eq!(
            table.value().attr("data-met"),
            Some(if p["met"].as_bool().unwrap() {
                "true"
            } else {
                "false"
            }),
            "{id} {level}"
        );
        let rows: Vec<ElementRef> = table.select(&sel("tbody tr")).collect();
        let reqs = p["requirements"].as_array().unwrap();
        assert_eq!(rows.len(), reqs.len(), "{id} {level}");
        for (row, r) in rows.iter().zip(reqs) {
            let cells: Vec<String> = row.select(&sel("td")).map(text).collect();
            assert_eq!(cells[0], r["description"].as_str().unwrap());
            // What a reader sees equals the JSON figures.
            assert_eq!(amount(&cells[1]), r["have"].as_f64().unwrap(), "{id} have");
            assert_eq!(amount(&cells[2]), r["need"].as_f64().unwrap(), "{id} need");
            let counted: Vec<&str> = r["counted"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            if !counted.is_empty() {
                people_rows += 1;
                assert_eq!(cells[4], counted.join(", "));
            }
            // One bar per requirement, with its text alternative.
            let bar = row.select(&sel("svg.bar")).next().expect("a bar");
            let label = bar.value().attr("aria-label").expect("aria-label");
            assert!(label.starts_with(r["description"].as_str().unwrap()));
            assert!(bar.select(&sel("title")).next().is_some());
            assert_eq!(bar.select(&sel("rect")).count(), 2);
        }
    }
    assert!(
        people_rows > 10,
        "the demo counts people in many requirements"
    );
}

#[test]
fn alerts_and_bus_factor_equal_the_commands_json() {
    let env = demo();
    let doc = report(&env, "r.html");

    let alerts = env.json(&["membership", "alerts", "--now", NOW]);
    let alerts = alerts.as_array().unwrap();
    assert!(!alerts.is_empty(), "the demo raises an alert");
    let rows: Vec<ElementRef> = doc.select(&sel("#alerts-table tbody tr")).collect();
    assert_eq!(rows.len(), alerts.len());
    for (row, a) in rows.iter().zip(alerts) {
        assert_eq!(
            row.value().attr("data-competency"),
            a["competency"].as_str()
        );
        let cause = row.select(&sel("td.cause")).next().map(text).unwrap();
        assert_eq!(cause, a["cause"].as_str().unwrap_or("(unknown)"));
        let raised = row.select(&sel("td")).next().map(text).unwrap();
        assert_eq!(raised, a["raised"].as_str().unwrap());
    }

    let risk = env.json(&["competencies", "risk", "--now", NOW]);
    let risk = risk.as_array().unwrap();
    let rows: Vec<ElementRef> = doc.select(&sel("#risk-table tbody tr")).collect();
    assert_eq!(rows.len(), risk.len());
    let mut someone = false;
    for r in risk {
        let (id, level) = (
            r["competency"].as_str().unwrap(),
            r["level"].as_str().unwrap(),
        );
        let row = doc
            .select(&sel(&format!(
                "#risk-table tr[data-competency=\"{id}\"][data-level=\"{level}\"]"
            )))
            .next()
            .unwrap_or_else(|| panic!("no risk row {id} {level}"));
        let cell = text(row.select(&sel("td.critical")).next().unwrap());
        let names: Vec<&str> = r["critical"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        if names.is_empty() {
            assert_eq!(cell, "(no single departure would break it)");
        } else {
            someone = true;
            assert_eq!(cell, names.join(", "));
        }
    }
    assert!(someone, "the demo has people it cannot afford to lose");
}

#[test]
fn the_timeline_shows_what_stops_counting_within_a_year_and_what_breaks() {
    let env = demo();
    let doc = report(&env, "r.html");
    let achievements = env.json(&["achievements", "list", "--now", NOW]);
    let achievements = achievements.as_array().unwrap();

    let chart = doc
        .select(&sel("svg#timeline-chart"))
        .next()
        .expect("the timeline chart");
    assert_eq!(chart.value().attr("role"), Some("img"));
    assert!(chart.select(&sel("title")).next().is_some());
    assert!(chart.select(&sel("desc")).next().is_some());
    let bars: Vec<ElementRef> = chart.select(&sel("g.renewal")).collect();
    let rows: Vec<ElementRef> = doc.select(&sel("#timeline-table tbody tr")).collect();
    assert!(
        !rows.is_empty(),
        "the demo has assessments expiring within a year"
    );
    assert_eq!(bars.len(), rows.len());
    for (bar, row) in bars.iter().zip(&rows) {
        let person = text(row.select(&sel("th")).next().unwrap());
        let cells: Vec<String> = row.select(&sel("td")).map(text).collect();
        let (code, stops) = (&cells[0], &cells[1]);
        assert_eq!(bar.value().attr("data-code"), Some(code.as_str()));
        assert_eq!(bar.value().attr("data-stops"), Some(stops.as_str()));
        // Each bar is a counting achievement whose stop day `achievements list` gives.
        assert!(
            achievements.iter().any(|a| a["username"] == person.as_str()
                && a["code"] == code.as_str()
                && a["expires"] == stops.as_str()
                && a["counts"] == true),
            "{person} {code} {stops} is not a counting achievement expiring then"
        );
        assert!(stops.as_str() > "2026-12-01" && stops.as_str() <= "2027-12-01");
        // Colour is not the only signal: breaking bars say so in words and in a pattern.
        let breaks = row.value().attr("data-breaks") == Some("true");
        assert_eq!(
            bar.value().attr("data-breaks"),
            row.value().attr("data-breaks")
        );
        let rect = bar.select(&sel("rect")).next().unwrap();
        let label = bar
            .select(&sel("text"))
            .map(text)
            .collect::<Vec<_>>()
            .join(" ");
        // Exactly the relied-on certifications (SPEC §11): every bar breaks something.
        assert!(breaks, "{person} {code}: a bar nothing relies on");
        assert_eq!(rect.value().attr("fill"), Some("url(#hatch-bad)"));
        assert!(label.contains("breaks a level"), "{label}");
        assert!(cells[2].starts_with("⚠ "), "{}", cells[2]);
    }
    // The pattern the breaking bars use is defined in the page itself.
    assert!(doc.select(&sel("pattern#hatch-bad")).next().is_some());
}

#[test]
fn breaking_means_the_what_if_of_that_expiry_alone_loses_a_level() {
    // The demo's data-platform Silver rests on two assessments of one person expiring two
    // days apart; `what-if --expire-before` the day after the first loses the level too.
    let env = demo();
    let doc = report(&env, "r.html");
    let first = doc
        .select(&sel("#timeline-table tbody tr[data-breaks=true]"))
        .next()
        .expect("a level-breaking renewal in the demo");
    let stops = text(first.select(&sel("td")).nth(1).unwrap());
    let day_after = {
        let d = chrono::NaiveDate::parse_from_str(&stops, "%Y-%m-%d").unwrap();
        d.succ_opt().unwrap().to_string()
    };
    let w = env.json(&[
        "membership",
        "what-if",
        "--expire-before",
        &day_after,
        "--now",
        NOW,
    ]);
    let text_all = w.to_string();
    let breaks = text(first.select(&sel("td")).nth(2).unwrap());
    // "⚠ Data Platform silver breaks; …": the competency's name.
    let competency = breaks
        .trim_start_matches("⚠ ")
        .split("; ")
        .next()
        .unwrap()
        .trim_end_matches(" breaks")
        .rsplit_once(' ')
        .unwrap()
        .0
        .to_owned();
    assert!(
        text_all.contains(&competency),
        "what-if should lose {competency}: {text_all}"
    );
}

#[test]
fn the_page_fetches_nothing_and_runs_no_script() {
    let env = demo();
    let raw = {
        report(&env, "r.html");
        std::fs::read_to_string(env.path("r.html")).unwrap()
    };
    for bad in ["http:", "https:", "<script", "<link", "<iframe", "@import"] {
        assert!(!raw.to_lowercase().contains(bad), "the page contains {bad}");
    }
    // Every url( refers to a fragment of the page or to inline data.
    for (i, _) in raw.match_indices("url(") {
        let rest = &raw[i + 4..];
        let rest = rest.trim_start_matches(['"', '\'']);
        assert!(
            rest.starts_with('#') || rest.starts_with("data:"),
            "external url( at {i}: {}",
            &raw[i..(i + 40).min(raw.len())]
        );
    }
    let doc = Html::parse_document(&raw);
    let mut ids = HashSet::new();
    for e in doc.select(&sel("*")) {
        for (name, value) in e.value().attrs() {
            let v = value.trim();
            assert!(!v.starts_with("//"), "protocol-relative {name}={v}");
            if matches!(
                name,
                "href" | "src" | "xlink:href" | "action" | "poster" | "srcset"
            ) {
                assert!(v.starts_with('#') || v.starts_with("data:"), "{name}={v}");
            }
            assert!(!name.starts_with("on"), "event handler {name}");
        }
        if let Some(id) = e.value().id() {
            assert!(ids.insert(id.to_owned()), "duplicate id {id}");
        }
    }
    // Every chart has a text alternative.
    for svg in doc.select(&sel("svg")) {
        let a = svg.value();
        if a.attr("aria-hidden") == Some("true") {
            continue;
        }
        assert_eq!(a.attr("role"), Some("img"));
        assert!(
            a.attr("aria-label").is_some()
                || (a.attr("aria-labelledby").is_some()
                    && svg.select(&sel("title")).next().is_some()),
            "an svg without a text alternative"
        );
    }
    // Print and phone layouts.
    assert!(raw.contains("@media print"));
    assert!(raw.contains("size: A4"));
    assert!(raw.contains("@media (max-width: 640px)"));
    assert!(raw.contains("name=\"viewport\""));
}

#[test]
fn an_organization_without_membership_gets_a_plain_page() {
    let env = Env::new();
    env.init();
    let doc = report(&env, "r.html");
    let status = text(
        doc.select(&sel("#membership-status td[data-key=state]"))
            .next()
            .unwrap(),
    );
    assert_eq!(status, "none");
    let alerts = text(doc.select(&sel("section#alerts")).next().unwrap());
    assert!(alerts.contains("No open alert"), "{alerts}");
    let tl = text(doc.select(&sel("section#timeline")).next().unwrap());
    assert!(
        tl.contains("Nothing any level relies on stops counting"),
        "{tl}"
    );
    assert!(doc.select(&sel("svg#timeline-chart")).next().is_none());
    // Nobody and no figures: no designation preview to show.
    let d = text(doc.select(&sel("section#designations")).next().unwrap());
    assert!(d.contains("No designations in this rulebook"), "{d}");
    let bus = text(doc.select(&sel("section#bus-factor")).next().unwrap());
    assert!(bus.contains("No level is met today"), "{bus}");
}

#[test]
fn names_are_escaped() {
    let env = Env::new();
    env.create(&[
        "--name",
        "R&D <b>Labs</b>",
        "--partner-id",
        "7654321",
        "--now",
        "2026-01-01",
    ]);
    env.ok(&["report", "--now", NOW, "--out", "r.html"]);
    let raw = std::fs::read_to_string(env.path("r.html")).unwrap();
    assert!(!raw.contains("<b>Labs</b>"));
    assert!(raw.contains("R&amp;D &lt;b&gt;Labs&lt;/b&gt;"));
    let doc = Html::parse_document(&raw);
    assert_eq!(
        text(doc.select(&sel("h1")).next().unwrap()),
        "Competency report: R&D <b>Labs</b>"
    );
}

#[test]
fn the_file_is_private_named_by_date_and_never_overwritten() {
    let env = demo();
    let before = env.json(&["audit", "--limit", "1000", "--now", NOW]);
    let out = env.ok(&["report", "--now", NOW]);
    let path = env.path("competency-report-2026-12-01.html");
    assert_eq!(out.trim(), "competency-report-2026-12-01.html");
    assert_eq!(mode(&path), 0o600);
    let first = std::fs::read(&path).unwrap();
    // The report reads only.
    let after = env.json(&["audit", "--limit", "1000", "--now", NOW]);
    assert_eq!(before, after);

    // Again: refused, file unchanged.
    let err = env.fails(&["report", "--now", "2026-12-01T11:00:00Z"]);
    assert!(err.contains("already exists"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), first);

    // --force replaces it (by a rename: a new private file, no temporary left over).
    env.ok(&["report", "--now", "2026-12-01T11:00:00Z", "--force"]);
    let second = std::fs::read(&path).unwrap();
    assert_ne!(second, first);
    assert!(String::from_utf8_lossy(&second).contains("2026-12-01T11:00:00Z"));
    assert_eq!(mode(&path), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // JSON names the file.
    let j: Value = env.json(&["report", "--now", NOW, "--out", "j.html"]);
    assert_eq!(j["path"], "j.html");
    assert_eq!(j["organization"], "Fabrikam Consulting");
}

#[test]
fn a_link_is_never_followed_nor_replaced() {
    let env = demo();
    let target = env.path("victim.txt");
    std::fs::write(&target, "keep me").unwrap();
    std::os::unix::fs::symlink(&target, env.path("link.html")).unwrap();
    let err = env.fails(&["report", "--now", NOW, "--out", "link.html"]);
    assert!(
        err.contains("is a symbolic link, not a regular file"),
        "{err}"
    );
    let err = env.fails(&["report", "--now", NOW, "--out", "link.html", "--force"]);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert!(
        std::fs::symlink_metadata(env.path("link.html"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A dangling link too.
    std::os::unix::fs::symlink(env.path("nowhere.html"), env.path("dangling.html")).unwrap();
    env.fails(&["report", "--now", NOW, "--out", "dangling.html"]);
    assert!(!env.path("nowhere.html").exists());
    // A missing folder: one error line, nothing written.
    let err = env.fails(&["report", "--now", NOW, "--out", "no/such/dir/r.html"]);
    assert!(err.contains("cannot create"), "{err}");
}

#[test]
fn the_cron_script_attaches_the_report_when_the_check_is_not_ok() {
    use std::os::unix::fs::PermissionsExt;
    let env = demo();
    // A fake GNU `mail` that records its arguments and the message.
    let bin = env.path("bin");
    std::fs::create_dir(&bin).unwrap();
    let mail = bin.join("mail");
    std::fs::write(
        &mail,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'mail (GNU Mailutils) 3.15'; exit 0; fi\n\
             printf '%s\\n' \"$@\" > {args}\ncat > {body}\n",
            args = env.path("mail-args").display(),
            body = env.path("mail-body").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&mail, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cron-renewal-check.sh");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let reports = env.path("reports");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", env.dir.path())
        .env("USER", "tester")
        .env("COMPETENCY_BIN", assert_cmd::cargo::cargo_bin("competency"))
        .env("COMPETENCY_DB", env.db())
        .env("COMPETENCY_CONFIG", env.path("config.toml"))
        .env("COMPETENCY_NOW", NOW)
        .env("MAILTO_ADMIN", "boss@example.com")
        .env("REPORT_DIR", &reports)
        .output()
        .unwrap();
    // The demo ends with an employee gone and an alert open: at risk.
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let args = std::fs::read_to_string(env.path("mail-args")).expect("mail was called");
    let args: Vec<&str> = args.lines().collect();
    let a = args.iter().position(|x| *x == "-A").expect("attached");
    let page = std::path::PathBuf::from(args[a + 1]);
    assert!(page.starts_with(&reports), "{page:?}");
    assert_eq!(mode(&page), 0o600);
    assert_eq!(mode(&reports), 0o700);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<h2 id=\"h-alerts\">Open alerts</h2>"));
    assert_eq!(args.last(), Some(&"boss@example.com"));
    let body = std::fs::read_to_string(env.path("mail-body")).unwrap();
    assert!(
        body.contains(&format!("Report: {}", page.display())),
        "{body}"
    );
}

/// One competency (tests/data/one-competency.toml): Silver needs one person with AZ-104, Gold two.
const ONE_COMPETENCY: &str = include_str!("data/one-competency.toml");

fn timeline_rows(env: &Env, out: &str) -> Vec<(String, String, String, String)> {
    let doc = report(env, out);
    doc.select(&sel("#timeline-table tbody tr"))
        .map(|r| {
            let cells: Vec<String> = r.select(&sel("td")).map(text).collect();
            (
                text(r.select(&sel("th")).next().unwrap()),
                cells[0].clone(),
                cells[1].clone(),
                cells[2].clone(),
            )
        })
        .collect()
}

#[test]
fn a_renewal_breaks_a_level_only_when_nobody_else_covers_it() {
    let env = Env::new();
    std::fs::write(env.path("rules.toml"), ONE_COMPETENCY).unwrap();
    env.add_org("Contoso Ltd", "1234567", "rules.toml", "2026-01-01");
    let (alice, _) = env.add_user(
        "Alice",
        "alice@contoso.com",
        &["--msa", "alice@outlook.com", "--now", "2026-01-01"],
    );
    let (bob, _) = env.add_user(
        "Bob",
        "bob@contoso.com",
        &["--msa", "bob@outlook.com", "--now", "2026-01-01"],
    );
    for (msa, expires) in [
        ("alice@outlook.com", "2027-06-01"),
        ("bob@outlook.com", "2027-08-01"),
    ] {
        env.ok(format!(
            "achievements add --msa {msa} --code AZ-104 --earned 2026-01-02 \
             --expires {expires} --now 2026-01-02"
        ));
    }
    // Both count for Gold (two people): either one lost breaks Gold, not Silver.
    let rows = timeline_rows(&env, "both.html");
    assert_eq!(
        rows,
        [
            (
                alice.clone(),
                "AZ-104".into(),
                "2027-06-01".into(),
                "⚠ Cloud Platform gold breaks".into()
            ),
            (
                bob.clone(),
                "AZ-104".into(),
                "2027-08-01".into(),
                "⚠ Cloud Platform gold breaks".into()
            ),
        ]
    );
    // A third holder whose exam runs beyond the year: nobody's renewal breaks anything now.
    let (carol, _) = env.add_user(
        "Carol",
        "carol@contoso.com",
        &["--msa", "carol@outlook.com", "--now", "2026-01-01"],
    );
    env.ok(
        "achievements add --msa carol@outlook.com --code AZ-104 --earned 2026-01-02 \
         --now 2026-01-02",
    );
    let rows = timeline_rows(&env, "three.html");
    // Nothing relies on any one of them: the timeline (the relied-on ones) is empty.
    assert!(rows.is_empty(), "{rows:?}");
    // Bob and Carol leave: Alice alone holds Silver, and her renewal breaks it.
    env.ok(&["users", "remove", &bob, "--now", "2026-11-01"]);
    env.ok(&["users", "remove", &carol, "--now", "2026-11-01"]);
    let rows = timeline_rows(&env, "alone.html");
    assert_eq!(
        rows,
        [(
            alice,
            "AZ-104".into(),
            "2027-06-01".into(),
            "⚠ Cloud Platform silver breaks".into()
        )]
    );
}

/// The designations of a page (articles, or the preview's rows): (id, score, threshold,
/// qualified, state).
fn designation_articles(doc: &Html) -> Vec<(String, f64, f64, bool, String)> {
    doc.select(&sel("section#designations .designation"))
        .map(|a| {
            let v = a.value();
            let attr = |k: &str| v.attr(k).unwrap_or_else(|| panic!("no {k}")).to_owned();
            (
                attr("data-designation"),
                attr("data-score").parse().unwrap(),
                attr("data-threshold").parse().unwrap(),
                attr("data-qualified") == "true",
                attr("data-state"),
            )
        })
        .collect()
}

/// (item name, points, of) of one designation's item table, "⚠ 0 (required…)" read as 0.
fn designation_items(doc: &Html, id: &str) -> Vec<(String, f64, f64)> {
    let art = doc
        .select(&sel(&format!("article#designation-{id}")))
        .next()
        .unwrap_or_else(|| panic!("no article for {id}"));
    art.select(&sel("table.items tbody tr"))
        .map(|tr| {
            let name = text(tr.select(&sel("th")).next().unwrap());
            let tds: Vec<String> = tr.select(&sel("td")).map(text).collect();
            let num = |s: &str| -> f64 {
                s.trim_start_matches("⚠ ")
                    .split(' ')
                    .next()
                    .unwrap()
                    .replace(',', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("not a number: {s:?}"))
            };
            (name, num(&tds[0]), num(&tds[1]))
        })
        .collect()
}

/// An organization under the embedded `solutions-partner` rulebook: five people, three
/// Azure figures, Infrastructure enrolled (scores as in tests/designations.rs).
fn solutions_partner() -> Env {
    let e = Env::with_rulebook(&common::data("solutions-partner-2023.toml"));
    e.azure_team();
    e.ok("designations enrol infrastructure --now 2026-01-05");
    e
}

#[test]
fn designation_scores_states_items_and_dates_equal_the_commands_json() {
    let env = solutions_partner();
    let now = "2026-03-01T09:00:00Z";
    env.ok(&["report", "--now", now, "--out", "sp.html"]);
    let doc = Html::parse_document(&std::fs::read_to_string(env.path("sp.html")).unwrap());
    let list = env.json(&["designations", "list", "--now", now]);
    let score = env.json(&["designations", "score", "--now", now]);
    let articles = designation_articles(&doc);
    let list = list.as_array().unwrap();
    assert_eq!(articles.len(), list.len(), "{list:?}");
    assert!(
        doc.select(&sel("#designations-preview")).next().is_none(),
        "a real rulebook is no preview"
    );
    let mut zero_seen = false;
    for (l, (id, sc, th, q, state)) in list.iter().zip(&articles) {
        assert_eq!(l["id"], id.as_str());
        assert_eq!(l["score"].as_f64().unwrap(), *sc, "{id}");
        assert_eq!(l["threshold"].as_f64().unwrap(), *th, "{id}");
        assert_eq!(l["qualified"].as_bool().unwrap(), *q, "{id}");
        assert_eq!(l["state"], state.as_str(), "{id}");
        // The counting track's items, as `designations score` gives them.
        let track = score
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id.as_str() && t["counts"] == true)
            .unwrap_or_else(|| panic!("no counting track for {id}"));
        let want: Vec<(String, f64, f64)> = track["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["name"].as_str().unwrap().to_owned(),
                    i["points"].as_f64().unwrap(),
                    i["max_points"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(designation_items(&doc, id), want, "{id}");
        // Items at 0 are highlighted, in the table and in the chart.
        let art = doc
            .select(&sel(&format!("article#designation-{id}")))
            .next()
            .unwrap();
        let zeros = want.iter().filter(|w| w.1 <= 0.0).count();
        assert_eq!(art.select(&sel("tr.zero")).count(), zeros, "{id}");
        assert_eq!(
            art.select(&sel("g.zero-items")).count(),
            usize::from(zeros > 0),
            "{id}"
        );
        zero_seen |= zeros > 0;
        // The threshold line and the chart's text alternative.
        assert_eq!(art.select(&sel("svg g.threshold line")).count(), 1);
        assert!(art.select(&sel("svg[role=img] > title")).next().is_some());
        assert!(art.select(&sel("svg[role=img] > desc")).next().is_some());
        // The dates: the anniversary as `designations list`, the renewal window beside it.
        let key = |k: &str| {
            art.select(&sel(&format!("td[data-key={k}]")))
                .next()
                .map(text)
        };
        assert_eq!(key("state").as_deref(), Some(state.as_str()));
        match l["anniversary"].as_str() {
            Some(a) => {
                assert_eq!(key("anniversary").as_deref(), Some(a), "{id}");
                let w = key("renewal_window").expect("renewal window");
                assert!(w.ends_with("(inclusive)"), "{w}");
            }
            None => assert_eq!(key("anniversary").as_deref(), Some("not enrolled")),
        }
    }
    assert!(zero_seen, "the fixture should have an item at 0");
    let infra = articles.iter().find(|a| a.0 == "infrastructure").unwrap();
    assert_eq!(infra.4, "enrolled");
    assert!(articles.iter().any(|a| a.4 != "enrolled"));
}

#[test]
fn the_demo_preview_scores_as_the_solutions_partner_rulebook_would() {
    let env = demo();
    let doc = report(&env, "r.html");
    let preview = designation_articles(&doc);
    assert!(preview.iter().all(|p| p.4 == "preview"), "{preview:?}");
    // Importing the embedded rulebook makes the same designations real, with the same scores
    // (--force: the demo's displayed competencies disappear with the competency rulebook).
    env.ok(&[
        "rules",
        "import",
        "solutions-partner",
        "--now",
        NOW,
        "--force",
    ]);
    let list = env.json(&["designations", "list", "--now", NOW]);
    let got: Vec<(String, f64)> = preview.iter().map(|p| (p.0.clone(), p.1)).collect();
    let want: Vec<(String, f64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_owned(),
                d["score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn the_designations_bus_factor_is_the_what_if_of_each_departure() {
    let env = solutions_partner();
    let now = "2026-03-01T09:00:00Z";
    env.ok(&["report", "--now", now, "--out", "sp.html"]);
    let doc = Html::parse_document(&std::fs::read_to_string(env.path("sp.html")).unwrap());
    let row = doc
        .select(&sel(
            "#designation-risk-table tr[data-designation=infrastructure]",
        ))
        .next()
        .expect("the enrolled designation is in the bus factor");
    let critical = text(row.select(&sel("td")).next().unwrap());
    // Everyone counted in Infrastructure's items: ann, bob, cat (intermediate), dan
    // (advanced); each one's departure is asked of `designations what-if`.
    let score = env.json(&["designations", "score", "infrastructure", "--now", now]);
    let mut counted: Vec<String> = score[0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["people"].as_array().unwrap().clone())
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    counted.sort();
    counted.dedup();
    assert!(counted.len() >= 3, "{score}");
    let mut breaking = 0;
    for user in &counted {
        let w = env.json(format!(
            "designations what-if --remove-user {user} --now {now}"
        ));
        let infra = listed(&w, "infrastructure");
        let breaks = infra["qualified_after"] == false;
        breaking += usize::from(breaks);
        assert_eq!(
            critical.contains(user.as_str()),
            breaks,
            "{user}: {critical}"
        );
    }
    // The fixture sits exactly at 70: every counted person is critical.
    assert!(breaking > 0, "{critical}");
}

#[test]
fn a_renewal_that_stops_a_designation_qualifying_breaks_on_the_timeline() {
    let env = solutions_partner();
    let now = "2026-03-01T09:00:00Z";
    env.ok(&["report", "--now", now, "--out", "sp.html"]);
    let doc = Html::parse_document(&std::fs::read_to_string(env.path("sp.html")).unwrap());
    let critical = text(
        doc.select(&sel(
            "#designation-risk-table tr[data-designation=infrastructure] td",
        ))
        .next()
        .unwrap(),
    );
    let rows: Vec<(String, String, String)> = doc
        .select(&sel("#timeline-table tbody tr[data-breaks=true]"))
        .map(|r| {
            let cells: Vec<String> = r.select(&sel("td")).map(text).collect();
            (
                text(r.select(&sel("th")).next().unwrap()),
                cells[0].clone(),
                cells[2].clone(),
            )
        })
        .collect();
    let infra: Vec<&(String, String, String)> = rows
        .iter()
        .filter(|r| r.2.contains("Infrastructure (Azure)") && r.2.contains("stops qualifying"))
        .collect();
    assert!(!infra.is_empty(), "{rows:?}");
    // Only people the designation cannot lose, and only certifications it scores
    // (eve's AZ-104 alone counts nowhere on the counting track).
    for (user, code, _) in &infra {
        assert!(critical.contains(user.as_str()), "{user} not in {critical}");
        assert!(code.starts_with("AZ-"), "{code}");
    }
    // The chart draws each such bar hatched, with its text alternative.
    let svg = doc
        .select(&sel("svg#timeline-chart g.renewal[data-breaks=true] title"))
        .map(text)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(svg.contains("stops qualifying"), "{svg}");
}

/// The tiles at the top count what the sections below show: the view computes them from the
/// same data (issue 27 item 5 moved the counting from the HTML code into the domain).
#[test]
fn the_tiles_count_what_the_sections_below_show() {
    let env = demo();
    let doc = report(&env, "r.html");
    let tile = |href: &str| {
        let li = doc
            .select(&sel("ul.summary li"))
            .find(|li| {
                li.select(&sel("a"))
                    .next()
                    .and_then(|a| a.value().attr("href"))
                    == Some(href)
            })
            .unwrap_or_else(|| panic!("no tile for {href}"));
        text(li.select(&sel("b")).next().unwrap())
    };
    let status = env.json(&["membership", "status", "--now", NOW]);
    let level = status["level"].as_str().unwrap();
    let state = status["state"].as_str().unwrap();
    let mut label = level.to_owned();
    label[..1].make_ascii_uppercase();
    assert_eq!(tile("#membership"), format!("{label} ({state})"));

    let articles: Vec<ElementRef> = doc.select(&sel("article.competency")).collect();
    let met = articles
        .iter()
        .filter(|a| a.value().attr("data-level") != Some("none"))
        .count();
    assert!(met > 0, "the demo meets a competency");
    assert_eq!(
        tile("#competencies"),
        format!("{met} of {}", articles.len())
    );

    let alerts = doc
        .select(&sel(
            "#alerts-table tbody tr, #designation-alerts-table tbody tr",
        ))
        .count();
    assert!(alerts > 0, "the demo raises an alert");
    assert_eq!(tile("#alerts"), alerts.to_string());

    let breaking = doc
        .select(&sel("#timeline-table tbody tr[data-breaks=true]"))
        .count();
    assert_eq!(tile("#timeline"), breaking.to_string());

    let mut people: Vec<String> = doc
        .select(&sel("#bus-factor td.critical.bad"))
        .flat_map(|td| text(td).split(", ").map(str::to_owned).collect::<Vec<_>>())
        .collect();
    people.sort();
    people.dedup();
    assert!(
        !people.is_empty(),
        "the demo has people it cannot afford to lose"
    );
    assert_eq!(tile("#bus-factor"), people.len().to_string());
}
