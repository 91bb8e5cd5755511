//! Human wording of requirements and shortfalls.
//!
//! The engine's explanations are plain strings so every output format (table, JSON, CSV)
//! shows the same words; this module is the one place they are phrased.

use crate::rules::parse::{Metric, MetricRequirement, PeopleRequirement};

/// The codes a people requirement asks for: `all_of` joined with " and ", `any_of` lists
/// joined with " or " (parenthesised where "and" and "or" would otherwise be ambiguous),
/// e.g. `MB2-715 and MB2-716 and (MB2-717 or MB2-718)`. Empty when it names no code.
pub fn codes_phrase(req: &PeopleRequirement) -> String {
    let many_lists = req.any_of.len() > 1;
    let lists: Vec<String> = req
        .any_of
        .iter()
        .map(|list| {
            let joined = list.join(" and ");
            if many_lists && list.len() > 1 {
                format!("({joined})")
            } else {
                joined
            }
        })
        .collect();
    let any = lists.join(" or ");
    match (req.all_of.is_empty(), any.is_empty()) {
        (true, _) => any,
        (false, true) => req.all_of.join(" and "),
        (false, false) if many_lists => format!("{} and ({any})", req.all_of.join(" and ")),
        (false, false) => format!("{} and {any}", req.all_of.join(" and ")),
    }
}

/// `n person`/`n people`, followed by `with CODES` when the requirement names codes.
fn people_with(n: u64, req: &PeopleRequirement, more: bool) -> String {
    let noun = if n == 1 { "person" } else { "people" };
    let more = if more { " more" } else { "" };
    let codes = codes_phrase(req);
    if codes.is_empty() {
        format!("{n}{more} {noun}")
    } else {
        format!("{n}{more} {noun} with {codes}")
    }
}

/// E.g. "2 people with 70-532 or 70-533".
pub fn describe_people(req: &PeopleRequirement) -> String {
    people_with(u64::from(req.count), req, false)
}

/// E.g. "1 more person with AZ-104 or AZ-303".
pub fn people_gap(req: &PeopleRequirement, short: u64) -> String {
    people_with(short, req, true)
}

/// E.g. "1 person with AZ-104 pending: counts from 2026-03-02T09:00:00Z" — people whose
/// achievements count once their progress delay is over (`from`, RFC 3339 UTC).
pub fn people_pending(req: &PeopleRequirement, n: u64, from: &str) -> String {
    let counts = if n == 1 { "counts" } else { "count" };
    format!(
        "{} pending: {counts} from {from}",
        people_with(n, req, false)
    )
}

/// The metric and its scope, e.g. "revenue (azure)".
fn metric_name(req: &MetricRequirement) -> String {
    match &req.scope {
        Some(scope) => format!("{} ({scope})", req.metric.as_str()),
        None => req.metric.as_str().to_string(),
    }
}

/// E.g. "revenue (azure) over 365 days", "active-usage, latest within 365 days".
pub fn describe_metric(req: &MetricRequirement, window_days: u32) -> String {
    if req.metric.is_summed() {
        format!("{} over {window_days} days", metric_name(req))
    } else {
        format!("{}, latest within {window_days} days", metric_name(req))
    }
}

/// E.g. "revenue (azure) short by 1,200 USD", "active-usage short by 350".
pub fn metric_gap(req: &MetricRequirement, short: f64) -> String {
    format!(
        "{} short by {}",
        metric_name(req),
        amount(req.metric, short)
    )
}

/// A value with its unit: USD for revenue, a plain count otherwise.
pub fn amount(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Revenue => format!("{} USD", thousands(value)),
        _ => thousands(value),
    }
}

/// Thousands separated by commas, rounded to cents; two decimals only when the rounded value
/// has a fraction (`1,200`, `1,199.50`, `1,200` for 1199.996, `1` for 0.999). The one number
/// formatter: `output::number` and every text the engine phrases use it.
///
/// Never `inf`, `NaN` or `-0`: the inputs are bounded (figures to 10^15), and a figure
/// beyond that, which no accepted input makes, reads "over 1,000,000,000,000,000" (or
/// "under -1,000,000,000,000,000").
pub fn thousands(x: f64) -> String {
    use crate::rules::limits::MAX_FIGURE;
    if x.is_nan() {
        return "unknown".into();
    }
    if x > MAX_FIGURE {
        return format!("over {}", thousands(MAX_FIGURE));
    }
    if x < -MAX_FIGURE {
        return format!("under -{}", thousands(MAX_FIGURE));
    }
    let cents = (x.abs() * 100.0).round() as u128;
    let (whole, frac) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 4);
    if x < 0.0 && cents > 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if frac > 0 {
        out.push_str(&format!(".{frac:02}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(count: u32, all_of: &[&str], any_of: &[&[&str]]) -> PeopleRequirement {
        PeopleRequirement {
            count,
            all_of: all_of.iter().map(|s| s.to_string()).collect(),
            any_of: any_of
                .iter()
                .map(|l| l.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }

    #[test]
    fn codes_are_phrased_without_ambiguity() {
        let cases = [
            (
                people(2, &[], &[&["70-532"], &["70-533"]]),
                "2 people with 70-532 or 70-533",
            ),
            (
                people(1, &["70-346", "70-347"], &[]),
                "1 person with 70-346 and 70-347",
            ),
            (
                people(1, &["A"], &[&["B"], &["C"]]),
                "1 person with A and (B or C)",
            ),
            (people(1, &["A"], &[&["B"]]), "1 person with A and B"),
            (
                people(2, &[], &[&["A", "B"], &["C"]]),
                "2 people with (A and B) or C",
            ),
            (people(3, &[], &[]), "3 people"),
        ];
        for (req, want) in cases {
            assert_eq!(describe_people(&req), want);
        }
        assert_eq!(
            people_gap(&people(2, &[], &[&["AZ-104"], &["AZ-303"]]), 1),
            "1 more person with AZ-104 or AZ-303"
        );
    }

    #[test]
    fn amounts_have_thousands_separators() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1200.0), "1,200");
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(1199.5), "1,199.50");
        // Rounded to cents, never truncated.
        assert_eq!(thousands(1199.996), "1,200");
        assert_eq!(thousands(0.999), "1");
        assert_eq!(thousands(0.994), "0.99");
        assert_eq!(thousands(-62400.0), "-62,400");
        assert_eq!(thousands(-0.001), "0");
        assert_eq!(amount(Metric::Revenue, 1200.0), "1,200 USD");
        assert_eq!(amount(Metric::ActiveUsage, 1200.0), "1,200");
    }

    #[test]
    fn metrics_say_sum_or_latest() {
        let mut req = MetricRequirement {
            metric: Metric::Revenue,
            at_least: 1.0,
            developing: None,
            scope: Some("azure".into()),
            window_days: None,
        };
        assert_eq!(describe_metric(&req, 365), "revenue (azure) over 365 days");
        assert_eq!(
            metric_gap(&req, 1200.0),
            "revenue (azure) short by 1,200 USD"
        );
        req.metric = Metric::ActiveUsage;
        req.scope = None;
        assert_eq!(
            describe_metric(&req, 90),
            "active-usage, latest within 90 days"
        );
    }
}
