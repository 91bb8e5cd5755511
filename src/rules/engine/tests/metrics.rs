//! Metric requirements: the window, the scope, sum or latest, the market, and the detail
//! naming the window.

use super::*;

#[test]
fn metrics_window_scope_sum_latest_and_market() {
    let records = vec![
        rec(Metric::Revenue, "azure", 100.0, "2024-12-31"),
        rec(Metric::Revenue, "azure", 10.0, "2024-01-02"),
        rec(Metric::Revenue, "azure", 1000.0, "2024-01-01"),
        rec(Metric::Revenue, "azure", 10000.0, "2025-01-01"),
        rec(Metric::Revenue, "office", 5.0, "2024-06-01"),
        rec(Metric::ActiveUsage, "", 50.0, "2024-03-01"),
        rec(Metric::ActiveUsage, "", 45.0, "2024-09-01"),
        rec(Metric::ActiveUsage, "", 40.0, "2024-09-01"),
        rec(Metric::ActiveUsage, "", 999.0, "2025-02-01"),
        rec(Metric::DeployedSeats, "", 7.0, "2023-12-01"),
        rec(Metric::NewCustomers, "", 2.0, "2024-05-01"),
        rec(Metric::NewCustomers, "", 3.0, "2024-06-01"),
    ];
    let at = t("2024-12-31T12:00:00Z");
    // (name, metric requirement, market, have, need)
    let cases = [
        (
            "sum in the window: 365 days ending today, 2024-01-01 just outside, future excluded",
            r#"{ metric = "revenue", scope = "azure", at_least = 110 }"#,
            Market::Developed,
            110.0,
            110.0,
        ),
        (
            "no scope: every scope",
            r#"{ metric = "revenue", at_least = 1 }"#,
            Market::Developed,
            115.0,
            1.0,
        ),
        (
            "scope ignores case",
            r#"{ metric = "revenue", scope = "AZURE", at_least = 1 }"#,
            Market::Developed,
            110.0,
            1.0,
        ),
        (
            "window_days overrides the program's",
            r#"{ metric = "revenue", scope = "azure", at_least = 1, window_days = 1 }"#,
            Market::Developed,
            100.0,
            1.0,
        ),
        (
            "latest record; same day: the larger",
            r#"{ metric = "active-usage", at_least = 46 }"#,
            Market::Developed,
            45.0,
            46.0,
        ),
        (
            "latest record outside the window",
            r#"{ metric = "deployed-seats", at_least = 1 }"#,
            Market::Developed,
            0.0,
            1.0,
        ),
        (
            "new customers are summed",
            r#"{ metric = "new-customers", at_least = 5 }"#,
            Market::Developed,
            5.0,
            5.0,
        ),
        (
            "developing market: developing threshold",
            r#"{ metric = "revenue", at_least = 200, developing = 100 }"#,
            Market::Developing,
            115.0,
            100.0,
        ),
        (
            "developed market: at_least",
            r#"{ metric = "revenue", at_least = 200, developing = 100 }"#,
            Market::Developed,
            115.0,
            200.0,
        ),
        (
            "developing market without a developing threshold: at_least",
            r#"{ metric = "revenue", at_least = 200 }"#,
            Market::Developing,
            115.0,
            200.0,
        ),
    ];
    for (name, req, market, have, need) in cases {
        let rb = book(&format!(
            "[competencies.m]\nname = \"M\"\n[[competencies.m.silver]]\noption = \"o\"\nmetrics = [{req}]\n"
        ));
        let s = Snapshot {
            market,
            people: vec![],
            performance: records.clone(),
            classifications: Vec::new(),
        };
        let eval = evaluate(&rb, &s, at);
        let level = eval.competency("m").unwrap().level(Level::Silver);
        let r = &level.options[0].requirements[0];
        assert_eq!((r.have, r.need), (have, need), "{name}");
        assert_eq!(r.met, have >= need, "{name}");
        assert_eq!(level.met, have >= need, "{name}");
    }
}

#[test]
fn metric_detail_names_the_window() {
    let rb = book(
        "[competencies.m]\nname = \"M\"\n[[competencies.m.silver]]\noption = \"o\"\n\
         metrics = [{ metric = \"revenue\", scope = \"azure\", at_least = 1 }]\n",
    );
    let eval = evaluate(&rb, &Snapshot::default(), t("2024-12-31T12:00:00Z"));
    let r = &eval.competencies[0].levels[0].options[0].requirements[0];
    assert_eq!(r.description, "revenue (azure) over 365 days");
    assert_eq!(
        r.detail,
        RequirementDetail::Metric {
            metric: Metric::Revenue,
            scope: Some("azure".into()),
            window_start: d("2024-01-02"),
        }
    );
}
