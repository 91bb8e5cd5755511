//! Tests of the embedded rulebooks and the rulebook's helpers.

use super::*;
use crate::rules::parse::{Market, PeopleRequirement};

#[test]
fn default_rulebook_has_the_18_competencies_each_with_silver_and_gold() {
    let rulebook = Rulebook::default_rulebook();
    assert_eq!(rulebook.competencies.len(), 18);
    for (id, competency) in &rulebook.competencies {
        assert!(competency.has_level(Level::Silver), "{id} has no Silver");
        assert!(competency.has_level(Level::Gold), "{id} has no Gold");
        assert!(!competency.area.is_empty(), "{id} has no area");
    }
    let areas: std::collections::BTreeSet<&str> = rulebook
        .competencies
        .values()
        .map(|c| c.area.as_str())
        .collect();
    assert_eq!(
        areas.into_iter().collect::<Vec<_>>(),
        [
            "Apps & Infrastructure",
            "Business Applications",
            "Data & AI",
            "Modern Workplace & Security"
        ]
    );
}

#[test]
fn default_rulebook_carries_the_program_figures() {
    let rulebook = Rulebook::default_rulebook();
    let p = &rulebook.program;
    assert_eq!(
        (
            p.progress_delay_hours,
            p.term_months,
            p.renewal_opens_days,
            p.grace_days
        ),
        (24, 12, 30, 30)
    );
    assert_eq!((p.metric_window_days, p.retired_grace_months), (365, 12));
    assert_eq!((rulebook.fees.silver, rulebook.fees.gold), (1670, 4730));

    let cloud = rulebook.competency("cloud-platform").unwrap();
    let silver = &cloud.silver[0].metrics[0];
    assert_eq!(silver.threshold(Market::Developed), 15000.0);
    assert_eq!(silver.threshold(Market::Developing), 10000.0);
    assert_eq!(cloud.gold[0].people[0].count, 2);
    let erp = rulebook.competency("enterprise-resource-planning").unwrap();
    assert_eq!(
        erp.gold[0].metrics[0].threshold(Market::Developing),
        75000.0
    );
    assert_eq!(
        rulebook.catalog_entry("MCSA-O365").map(|e| e.kind),
        Some(Kind::Certification)
    );
    assert!(
        rulebook
            .catalog
            .iter()
            .filter(|e| e.kind == Kind::Assessment)
            .all(|e| e.valid_days == Some(730))
    );
}

#[test]
fn solutions_partner_rulebook_has_six_designations_and_round_trips() {
    let rb = Rulebook::parse(SOLUTIONS_PARTNER_RULEBOOK, "solutions-partner").unwrap();
    assert_eq!(
        rb.designations.keys().collect::<Vec<_>>(),
        [
            "business-applications",
            "data-ai",
            "digital-app-innovation",
            "infrastructure",
            "modern-work",
            "security"
        ]
    );
    // The 2026 program (PROGRAM-FACTS-2026 §2): two tracks everywhere; Microsoft classifies
    // Azure and Business Applications partners, Modern Work and Security take the better.
    for (id, d) in &rb.designations {
        let names: Vec<&str> = d.all_tracks().iter().map(|t| t.name).collect();
        assert_eq!(names, ["enterprise", "smb"], "{id}");
        let classified = id != "modern-work" && id != "security";
        assert_eq!(
            d.track_choice == crate::rules::parse::TrackChoice::Classified,
            classified,
            "{id}"
        );
        assert_eq!(d.inputs_by_track, !classified, "{id}");
    }
    assert_eq!(rb.fees.designation, 4875);
    assert_eq!(rb.program.designation_threshold, 70.0);
    assert!(crate::rules::parse::warnings(&rb).is_empty());
    // Every track can reach exactly 100 points.
    for d in rb.designations.values() {
        for t in d.all_tracks() {
            let max: f64 = t.metrics.iter().map(|m| m.max_points).sum::<f64>()
                + t.skilling.iter().map(|s| s.max_points).sum::<f64>();
            assert_eq!(max, 100.0, "{} {}", d.name, t.name);
        }
    }
    let admin = rb.catalog_entry("AZ-104").unwrap();
    assert!(
        admin
            .aliases
            .contains(&"Microsoft Certified: Azure Administrator Associate".to_string())
    );
}

#[test]
fn helpers_answer_from_the_rulebook() {
    let rulebook = Rulebook::default_rulebook();
    assert!(rulebook.competency("no-such").is_none());
    assert_eq!(rulebook.nearest_codes("70-53", 1).len(), 1);

    let gold = rulebook.membership_benefits(Level::Gold);
    let silver = rulebook.membership_benefits(Level::Silver);
    assert_eq!(gold.len(), silver.len() + rulebook.benefits.gold.len());
    assert_eq!(gold[..silver.len()], silver[..]);

    let req = PeopleRequirement {
        count: 1,
        all_of: vec!["A".into()],
        any_of: vec![vec!["B".into(), "C".into()], vec!["D".into()]],
    };
    assert!(req.qualifies(|c| ["A", "D"].contains(&c)));
    assert!(req.qualifies(|c| ["A", "B", "C"].contains(&c)));
    assert!(!req.qualifies(|c| ["A", "B"].contains(&c)));
    assert!(!req.qualifies(|c| ["B", "C", "D"].contains(&c)));
    assert_eq!(req.codes().collect::<Vec<_>>(), ["A", "B", "C", "D"]);
}

/// Each choice the embedded 2026 rulebook makes where PROGRAM-FACTS-2026 marks a point
/// ambiguous or conflicting (§10), as its TOML comments say.
#[test]
fn solutions_partner_ambiguities_are_decided_as_commented() {
    use crate::rules::parse::RequiredPoints;
    let rb = Rulebook::parse(SOLUTIONS_PARTNER_RULEBOOK, "solutions-partner").unwrap();
    let d = |id: &str| &rb.designations[id];
    let people = |id: &str, track: usize, item: &str| -> Vec<String> {
        let t = &d(id).tracks[track];
        let s = t.skilling.iter().find(|s| s.name == item).unwrap();
        s.people.any_of.iter().flatten().cloned().collect()
    };
    // #1: more than 0 points in every required metric.
    assert_eq!(rb.program.required_item_points, RequiredPoints::AboveZero);
    // #4: Data & AI has no advanced metric to require.
    for t in &d("data-ai").tracks {
        let names: Vec<&str> = t.skilling.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["intermediate"]);
    }
    // #5: Security skilling out of 40 on both tracks; Security Operations Analyst is a gate,
    // not a step-3 certification (facts §9 #9).
    for (i, t) in d("security").tracks.iter().enumerate() {
        assert_eq!(t.skilling[0].max_points, 40.0);
        assert!(!people("security", i, "intermediate").contains(&"SC-200".to_string()));
    }
    // #7: "valid for one year" = eligible through retirement + 1 year; Modern Work's stated
    // dates as printed.
    let mw = d("modern-work");
    let ms900 = mw.eligibility_of("MS-900").unwrap();
    assert_eq!(ms900.until, Some("2027-03-31".parse().unwrap()));
    assert_eq!(
        d("security").eligibility_of("AZ-500").unwrap().until,
        Some("2027-08-31".parse().unwrap())
    );
    // #8: Power Platform Solution Architect Expert retires for Digital & App Innovation too.
    assert_eq!(
        rb.catalog_entry("PL-600").unwrap().retired,
        Some("2026-07-01".parse().unwrap())
    );
    assert!(people("digital-app-innovation", 0, "advanced").contains(&"PL-600".to_string()));
    // #9: Collaboration Communications Systems Engineer counts as intermediate only.
    assert!(people("modern-work", 0, "intermediate").contains(&"MS-720".to_string()));
    assert!(!people("modern-work", 0, "advanced").contains(&"MS-720".to_string()));
    // #13: the 2026 fee.
    assert_eq!(rb.fees.designation, 4875);
    // #14: report titles without the "Microsoft Certified: " prefix, the printed form an alias.
    let e = rb.catalog_entry("DP-600").unwrap();
    assert_eq!(e.title, "Fabric Analytics Engineer Associate");
    assert!(
        e.aliases
            .contains(&"Microsoft Certified: Fabric Analytics Engineer Associate".to_string())
    );
    // The edition tells a stored rulebook from this one.
    assert_eq!(rb.program.edition.as_deref(), Some("2026-05"));
}
