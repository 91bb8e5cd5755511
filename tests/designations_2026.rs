//! The 2026 Solutions Partner program (issue 24, SPEC §9) end to end, on the embedded
//! `solutions-partner` rulebook: organizations hand-scored from PROGRAM-FACTS-2026, their
//! people imported from a Partner Center Trainings report (titles, not codes), their figures
//! recorded per track and association as Partner Center shows them. Each expected number is
//! worked out beside it.

mod common;

use common::{Env, listed};
use serde_json::Value;

/// When the report is imported (accounts created and linked then).
const IMPORTED: &str = "2026-02-01";
/// When the figures are for.
const FIGURES: &str = "2026-02-20";
/// When everything is evaluated.
const NOW: &str = "2026-03-01";

/// A new organization on the embedded 2026 rulebook with `people` (first name, the titles
/// Partner Center reports for them) imported from a Trainings report, completed 2025-12-01
/// unless a title ends with `|DATE`.
fn org_with(people: &[(&str, &[&str])]) -> Env {
    let e = Env::with_rulebook("solutions-partner");
    let mut csv = String::from(
        "TrainingTitle,TrainingCompletionDate,Email,CorpEmail,IndividualFirstName,IndividualLastName\n",
    );
    for (name, titles) in people {
        for t in *titles {
            let (t, day) = t.split_once('|').unwrap_or((t, "2025-12-01"));
            csv.push_str(&format!(
                "\"{t}\",{day},{name}@outlook.com,{name}@contoso.com,{name},Test\n"
            ));
        }
    }
    std::fs::write(e.path("trainings.csv"), csv).unwrap();
    e.ok(&[
        "achievements",
        "import",
        "trainings.csv",
        "--create-users",
        "--credentials-file",
        "c.csv",
        "--now",
        IMPORTED,
    ]);
    e
}

/// `performance record` of a figure for `FIGURES`, with `extra` flags (`--track smb`…).
fn record(e: &Env, metric: &str, scope: &str, value: &str, extra: &str) {
    e.ok(format!(
        "performance record --metric {metric} --scope {scope} --value {value} --date {FIGURES} \
         {extra} --now {FIGURES}"
    ));
}

/// The track `track` of designation `id` in `designations score ID --format json`.
fn track(e: &Env, id: &str, track: &str) -> Value {
    let s = e.json(&["designations", "score", id, "--now", NOW]);
    s.as_array()
        .unwrap()
        .iter()
        .find(|t| t["track"] == track)
        .unwrap_or_else(|| panic!("no track {track} in {s}"))
        .clone()
}

fn item<'a>(t: &'a Value, name: &str) -> &'a Value {
    t["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no item {name} in {t}"))
}

fn list(e: &Env, id: &str) -> Value {
    listed(&e.json(&["designations", "list", "--now", NOW]), id).clone()
}

#[test]
fn an_enterprise_business_applications_partner_scores_as_partner_center_not_as_smb() {
    // Six people with an intermediate certification, two with an advanced one.
    let e = org_with(&[
        (
            "ann",
            &["Dynamics 365 Finance Functional Consultant Associate"],
        ),
        (
            "bob",
            &["Microsoft Certified: Power BI Data Analyst Associate"],
        ),
        ("cat", &["Power Platform Developer Associate"]),
        (
            "dan",
            &["Dynamics 365 Customer Service Functional Consultant Associate"],
        ),
        (
            "eve",
            &["Dynamics 365 Business Central Functional Consultant Associate"],
        ),
        ("fay", &["Intelligent Applications Builder Associate"]),
        ("gus", &["Agentic AI Business Solutions Architect"]),
        (
            "hal",
            &["Dynamics 365 Business Central Developer Associate"],
        ),
    ]);
    // Classified partners record the one figure Partner Center shows: no --track.
    record(&e, "net-customer-adds", "business-applications", "4", "");
    record(&e, "usage-growth", "business-applications", "30", "");
    record(&e, "deployments", "business-applications", "3", "");
    // Not classified yet: both tracks shown, it qualifies only if both do, and it says how to
    // set the track. Enterprise: 12 + 30 + 12 + 6 × 1 + 2 × 15/7 = 64.29; SMB: 12 + 30 + 12 +
    // min(20, 6 × 4) + 2 × 7.5 = 89.
    let l = list(&e, "business-applications");
    assert_eq!(
        (l["track_set"].as_bool(), l["qualified"].as_bool()),
        (Some(false), Some(false)),
        "{l}"
    );
    assert_eq!(l["track"], Value::Null);
    assert!(
        l["track_hint"]
            .as_str()
            .unwrap()
            .contains("designations track business-applications")
    );
    assert_eq!(l["score"], 64.29);
    let table = e.ok(&["designations", "list", "--now", NOW]);
    assert!(table.contains("not set"), "{table}");
    assert!(
        table.contains("competency designations track business-applications"),
        "{table}"
    );
    assert_eq!(track(&e, "business-applications", "smb")["total"], 89.0);

    // Partner Center classifies it Enterprise: 64.29, not the SMB track's 89.
    e.ok(format!(
        "designations track business-applications enterprise --since 2026-01-01 --now {NOW}"
    ));
    let l = list(&e, "business-applications");
    assert_eq!(
        (
            l["track"].as_str(),
            l["score"].as_f64(),
            l["qualified"].as_bool()
        ),
        (Some("enterprise"), Some(64.29), Some(false)),
        "{l}"
    );
    let ent = track(&e, "business-applications", "enterprise");
    assert_eq!(ent["counts"], true);
    assert_eq!(item(&ent, "advanced")["points"], 4.29);
    assert_eq!(item(&ent, "intermediate")["points"], 6.0);
    // Gaps name certifications by title and never a retired one (Field Service, Power
    // Platform Functional Consultant… retire in 2026).
    let gaps = e.json(&["designations", "gaps", "--now", NOW]);
    let g = listed(&gaps, "business-applications");
    assert_eq!(g["track"], "enterprise");
    let text = g["missing"].to_string();
    assert!(text.contains("Associate"), "{text}");
    assert!(!text.contains("MB-"), "{text}");
    assert!(!text.contains("Field Service"), "{text}");
    // The classification has a history; a later one takes over from its date (and the
    // evaluations before it keep the earlier one).
    e.ok(format!(
        "designations track business-applications smb --since 2026-02-25 --now {NOW}"
    ));
    assert_eq!(list(&e, "business-applications")["score"], 89.0);
    assert_eq!(list(&e, "business-applications")["qualified"], true);
    let before = e.json(&["designations", "list", "--now", "2026-02-24"]);
    assert_eq!(
        listed(&before, "business-applications")["track"],
        "enterprise"
    );
    let tracks = e.json(&["designations", "track", "--now", NOW]);
    let ba = listed(&tracks, "business-applications");
    assert_eq!(ba["track"], "smb");
    assert_eq!(ba["history"].as_array().unwrap().len(), 2, "{ba}");
    // A best-total designation has no classification to record.
    let err = e.fails(format!("designations track modern-work smb --now {NOW}"));
    assert!(err.contains("higher total counts"), "{err}");
    let audit = e.ok(&["audit", "--limit", "50"]);
    assert!(audit.contains("designations.track"), "{audit}");
}

#[test]
fn a_csp_only_modern_work_partner_scores_its_csp_options_not_the_cpor_thresholds() {
    let e = org_with(&[
        (
            "ann",
            &["Microsoft 365 Certified: Teams Administrator Associate"],
        ),
        ("bob", &["Endpoint Administrator Associate"]),
        (
            "cat",
            &["Microsoft 365 Certified: Enterprise Administrator Expert"],
        ),
    ]);
    // Figures per track and association, as Partner Center shows them (an import with the
    // `track` and `association` columns).
    std::fs::write(
        e.path("perf.csv"),
        format!(
            "metric,scope,track,association,value,date\n\
             net-customer-adds,modern-work,smb,,6,{FIGURES}\n\
             usage-growth,modern-work,smb,csp,1000,{FIGURES}\n\
             deployments,modern-work,smb,csp,4,{FIGURES}\n"
        ),
    )
    .unwrap();
    e.ok(format!("performance import perf.csv --now {FIGURES}"));
    // SMB: 6 × 2 + 1,000/2,000 × 30 + 4 × 2.5 + 2 × 5 + 15 = 12 + 15 + 10 + 10 + 15 = 62 (the
    // CPOR thresholds alone would give 12 + 30 + 20 + 10 + 15 = 87).
    let smb = track(&e, "modern-work", "smb");
    assert_eq!(smb["total"], 62.0, "{smb}");
    assert_eq!(item(&smb, "usage-growth")["points"], 15.0);
    assert_eq!(item(&smb, "deployments")["points"], 10.0);
    let inputs = item(&smb, "usage-growth")["inputs"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(inputs.len(), 2, "{inputs:?}");
    // Enterprise counts other tenants: no figures there, 5 + 7.5 of skilling.
    assert_eq!(track(&e, "modern-work", "enterprise")["total"], 12.5);
    let l = list(&e, "modern-work");
    assert_eq!(
        (
            l["track"].as_str(),
            l["score"].as_f64(),
            l["qualified"].as_bool()
        ),
        (Some("smb"), Some(62.0), Some(false))
    );
    assert_eq!(l["track_set"], true);
    // What 2,000 users of CSP growth would give: the full 30, 77 in all.
    let w = e.json(format!(
        "designations what-if --set usage-growth:modern-work:smb:csp=2000 --now {NOW}"
    ));
    let mw = listed(&w, "modern-work");
    assert_eq!(
        (mw["score_after"].as_f64(), mw["qualified_after"].as_bool()),
        (Some(77.0), Some(true)),
        "{mw}"
    );
    // An association the rulebook does not declare for the track, or a missing track, is
    // refused with the accepted ones.
    let err = e.fails(format!(
        "performance record --metric usage-growth --scope modern-work --track enterprise \
         --association csp --value 5 --date {FIGURES} --now {FIGURES}"
    ));
    assert!(err.contains("association") && err.contains("dpor"), "{err}");
    let err = e.fails(format!(
        "performance record --metric deployments --scope modern-work --value 5 --date {FIGURES} \
         --now {FIGURES}"
    ));
    assert!(
        err.contains("--track") && err.contains("track smb"),
        "{err}"
    );
}

#[test]
fn security_on_each_track_with_protected_users() {
    // Enterprise: two of each gate, three step-3 people.
    let e = org_with(&[
        (
            "ann",
            &[
                "Azure Security Engineer Associate",
                "Security Operations Analyst Associate",
                "Cybersecurity Architect Expert",
            ],
        ),
        (
            "bob",
            &[
                "Cloud and AI Security Engineer Associate",
                "Microsoft Security Operations Analyst",
                "Identity and Access Administrator Associate",
            ],
        ),
        ("cat", &["Information Security Administrator Associate"]),
    ]);
    for (m, v) in [
        ("net-customer-adds", "10"),
        ("usage-growth", "12500"),
        ("protected-users-growth", "1250"),
        ("deployments", "5"),
    ] {
        record(&e, m, "security", v, "--track enterprise");
    }
    // 20 + (12,500 / 1,250 + 1,250 / 125 = 20) + 5 × 20/6 (16.67) + 3 × 20/3 (20) = 76.67.
    let ent = track(&e, "security", "enterprise");
    assert_eq!(ent["total"], 76.67, "{ent}");
    assert_eq!(item(&ent, "usage-growth")["points"], 20.0);
    assert_eq!(item(&ent, "deployments")["points"], 16.67);
    let gates = item(&ent, "intermediate")["gates"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(gates[0]["people"].as_array().unwrap().len(), 2, "{gates:?}");
    assert_eq!(list(&e, "security")["qualified"], true);

    // SMB: one person per gate, each gate 4 points; 2 step-3 people × 8.
    let s = org_with(&[
        (
            "ann",
            &[
                "Azure Security Engineer Associate",
                "Cybersecurity Architect Expert",
            ],
        ),
        (
            "bob",
            &[
                "Security Operations Analyst Associate",
                "Identity and Access Administrator Associate",
            ],
        ),
    ]);
    for (m, v) in [
        ("net-customer-adds", "5"),
        ("usage-growth", "7500"),
        ("protected-users-growth", "250"),
        ("deployments", "6"),
    ] {
        record(&s, m, "security", v, "--track smb");
    }
    // 20 + (7,500 / 750 + 250 / 50 = 15) + 20 + (4 + 4 + 2 × 8 = 24) = 79.
    let smb = track(&s, "security", "smb");
    assert_eq!(smb["total"], 79.0, "{smb}");
    assert_eq!(item(&smb, "intermediate")["points"], 24.0);
    // On Enterprise the same people fill no gate (two needed): 0 skilling points.
    assert_eq!(
        item(&track(&s, "security", "enterprise"), "intermediate")["points"],
        0.0
    );
    let l = list(&s, "security");
    assert_eq!(
        (
            l["track"].as_str(),
            l["score"].as_f64(),
            l["qualified"].as_bool()
        ),
        (Some("smb"), Some(79.0), Some(true))
    );
}

#[test]
fn a_total_of_exactly_70_through_20_over_6_and_20_over_3_qualifies() {
    let e = org_with(&[
        (
            "ann",
            &[
                "Azure Security Engineer Associate",
                "Security Operations Analyst Associate",
                "Cybersecurity Architect Expert",
            ],
        ),
        (
            "bob",
            &[
                "Azure Security Engineer Associate",
                "Security Operations Analyst Associate",
                "Identity and Access Administrator Associate",
            ],
        ),
        ("cat", &["Information Security Administrator Associate"]),
    ]);
    for (m, v) in [
        ("net-customer-adds", "10"),
        ("usage-growth", "12500"),
        ("deployments", "6"),
    ] {
        record(&e, m, "security", v, "--track enterprise");
    }
    // 20 + 12,500 / 1,250 (10) + 6 × 20/6 (20, not 19.98) + 3 × 20/3 (20, not 20.01) = 70.
    let ent = track(&e, "security", "enterprise");
    assert_eq!(item(&ent, "deployments")["points"], 20.0);
    assert_eq!(item(&ent, "intermediate")["points"], 20.0);
    assert_eq!(ent["total"], 70.0, "{ent}");
    assert_eq!(ent["qualified"], true);
    let l = list(&e, "security");
    assert_eq!(
        (l["score"].as_f64(), l["qualified"].as_bool()),
        (Some(70.0), Some(true))
    );
    let gaps = e.json(&["designations", "gaps", "--now", NOW]);
    assert!(
        gaps.as_array()
            .unwrap()
            .iter()
            .all(|g| g["id"] != "security"),
        "a qualifying designation gets no prescription: {gaps}"
    );
}

#[test]
fn an_azure_smb_partner_qualifies_once_classified_smb() {
    let e = org_with(&[
        (
            "ann",
            &[
                "Microsoft Certified: Azure Administrator Associate",
                "Azure Network Engineer Associate",
            ],
        ),
        ("bob", &["Windows Server Hybrid Administrator Associate"]),
        (
            "cat",
            &[
                "Azure Solutions Architect Expert",
                "Azure Virtual Desktop Specialty",
            ],
        ),
    ]);
    for (m, v) in [
        ("net-customer-adds", "3"),
        ("usage-growth", "10"),
        ("deployments", "5"),
    ] {
        record(&e, m, "azure", v, "");
    }
    // SMB: 30 + 10 + 10 + (4 + 2 × 4 = 12) + (4 + 1 × 4 = 8) = 70. Enterprise: the gates need
    // two people each: 50.
    let smb = track(&e, "infrastructure", "smb");
    assert_eq!(smb["total"], 70.0, "{smb}");
    assert_eq!(track(&e, "infrastructure", "enterprise")["total"], 50.0);
    // Not classified: both must qualify.
    assert_eq!(list(&e, "infrastructure")["qualified"], false);
    let out = e.ok(&["designations", "score", "infrastructure", "--now", NOW]);
    assert!(out.contains("designations track infrastructure"), "{out}");
    let out = e.ok(&["designations", "gaps", "--now", NOW]);
    assert!(out.contains("(track not set)"), "{out}");
    assert!(out.contains("designations track infrastructure"), "{out}");
    e.ok(format!(
        "designations track infrastructure data-ai digital-app-innovation smb --since 2026-01-01 --now {NOW}"
    ));
    let l = list(&e, "infrastructure");
    assert_eq!(
        (
            l["track"].as_str(),
            l["score"].as_f64(),
            l["qualified"].as_bool()
        ),
        (Some("smb"), Some(70.0), Some(true)),
        "{l}"
    );
    // Qualified in the window since the classification and the figures: enrolment works.
    let en = e.json(format!("designations enrol infrastructure --now {NOW}"));
    assert_eq!(en["enrolled"][0]["fee_usd"], 4875.0, "{en}");
    // Reclassified Enterprise during the term: the Azure term keeps its track (SMB) until
    // the anniversary; Data & AI, not enrolled, follows the new classification.
    e.ok(
        "designations track infrastructure data-ai enterprise --since 2026-04-01 --now 2026-04-01",
    );
    let later = e.json(&["designations", "list", "--now", "2026-04-02"]);
    let infra = listed(&later, "infrastructure");
    assert_eq!(
        (infra["track"].as_str(), infra["qualified"].as_bool()),
        (Some("smb"), Some(true)),
        "{infra}"
    );
    assert_eq!(listed(&later, "data-ai")["track"], "enterprise");
    let (code, j) = e.check("2026-04-02");
    assert_eq!(code, 0, "{j}");
}

#[test]
fn retired_and_ineligible_certifications_stop_counting_and_are_never_proposed() {
    // Information Protection Administrator retired 2025-05-31 and earns Security points
    // through 2026-05-31 only; before then it fills step 3.
    let e = org_with(&[
        (
            "ann",
            &[
                "Azure Security Engineer Associate",
                "Security Operations Analyst Associate",
            ],
        ),
        (
            "bob",
            &["Information Protection Administrator Associate|2025-05-15"],
        ),
    ]);
    record(&e, "net-customer-adds", "security", "1", "--track smb");
    let smb = track(&e, "security", "smb");
    assert_eq!(item(&smb, "intermediate")["value"], 1.0, "{smb}");
    let later = e.json(&["designations", "score", "security", "--now", "2026-06-01"]);
    let smb = later
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["track"] == "smb")
        .unwrap();
    assert_eq!(item(smb, "intermediate")["value"], 0.0, "{smb}");
    let gaps = e.json(&["designations", "gaps", "--now", "2026-06-01"]);
    let text = listed(&gaps, "security")["missing"].to_string();
    assert!(!text.contains("Information Protection"), "{text}");
    assert!(
        text.contains("Information Security Administrator Associate"),
        "{text}"
    );
}

#[test]
fn rules_show_and_doctor_say_when_the_embedded_rulebook_is_newer() {
    let e = Env::with_rulebook(&common::data("solutions-partner-2023.toml"));
    let show = e.ok(&["rules", "show"]);
    assert!(
        show.contains("embedded solutions-partner rulebook (edition 2026-05) is newer"),
        "{show}"
    );
    let doctor = e.ok(&["doctor"]);
    assert!(
        doctor.contains("rules import solutions-partner"),
        "{doctor}"
    );
    // The stored rulebook is kept until imported; then nothing more to say.
    e.ok(&["rules", "import", "solutions-partner", "--now", NOW]);
    assert!(!e.ok(&["rules", "show"]).contains("is newer"));
}

#[test]
fn the_report_says_when_a_classified_track_is_not_set() {
    let e = Env::with_rulebook("solutions-partner");
    e.ok(&["report", "--out", "r.html", "--now", NOW]);
    let html = std::fs::read_to_string(e.path("r.html")).unwrap();
    assert!(
        html.contains("not set, both tracks must qualify")
            && html.contains("designations track infrastructure enterprise|smb"),
        "the report names the command"
    );
}

#[test]
fn a_record_key_includes_its_track_and_association_in_imports() {
    let e = Env::with_rulebook("solutions-partner");
    std::fs::write(
        e.path("perf.csv"),
        format!(
            "metric,scope,track,association,value,date\n\
             usage-growth,modern-work,smb,cpor,100,{FIGURES}\n\
             usage-growth,modern-work,smb,csp,900,{FIGURES}\n\
             usage-growth,modern-work,enterprise,cpor,50,{FIGURES}\n"
        ),
    )
    .unwrap();
    let out = e.json(format!("performance import perf.csv --now {FIGURES}"));
    assert_eq!(out["added"], 3, "{out}");
    // Again: unchanged; the same key twice in one file is refused, naming its value.
    let again = e.json(format!("performance import perf.csv --now {FIGURES}"));
    assert_eq!(again["unchanged"], 3, "{again}");
    std::fs::write(
        e.path("twice.csv"),
        format!(
            "metric,scope,track,association,value,date\n\
             deployments,modern-work,smb,csp,1,{FIGURES}\n\
             deployments,modern-work,smb,csp,2,{FIGURES}\n"
        ),
    )
    .unwrap();
    let err = e.fails(format!("performance import twice.csv --now {FIGURES}"));
    assert!(
        err.contains("twice.csv:3") && err.contains("already in this file"),
        "{err}"
    );
    // A track the rulebook does not declare is refused with the line and the accepted ones.
    std::fs::write(
        e.path("bad.csv"),
        format!("metric,scope,track,value,date\nusage-growth,azure,smb,5,{FIGURES}\n"),
    )
    .unwrap();
    let err = e.fails(format!("performance import bad.csv --now {FIGURES}"));
    assert!(
        err.contains("bad.csv:2") && err.contains("no track or association"),
        "{err}"
    );
    let list = e.json(&["performance", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    assert!(list[0]["track"].is_string(), "{list}");
}
