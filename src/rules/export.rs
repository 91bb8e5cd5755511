//! Writing a rulebook back as TOML, in the layout of `data/rulebook.toml`: tables for the
//! program, fees, benefits and catalogue entries, one `[[competencies.ID.LEVEL]]` table per
//! option, requirements as inline tables. `Rulebook::parse` of the output gives back an
//! equal rulebook.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::rulebook::{
    Benefits, CatalogEntry, Competency, Level, LevelOption, MetricRequirement, PeopleRequirement,
    Rulebook,
};
use super::validate::is_bare_key;

/// The whole rulebook as TOML.
pub(crate) fn to_toml(rulebook: &Rulebook) -> String {
    let mut out = String::new();
    let p = &rulebook.program;
    out.push_str("[program]\n");
    kv(&mut out, "name", &string(&p.name));
    kv(
        &mut out,
        "progress_delay_hours",
        &p.progress_delay_hours.to_string(),
    );
    kv(&mut out, "term_months", &p.term_months.to_string());
    kv(
        &mut out,
        "renewal_opens_days",
        &p.renewal_opens_days.to_string(),
    );
    kv(&mut out, "grace_days", &p.grace_days.to_string());
    kv(
        &mut out,
        "metric_window_days",
        &p.metric_window_days.to_string(),
    );
    kv(
        &mut out,
        "retired_grace_months",
        &p.retired_grace_months.to_string(),
    );
    // Designation parameters only when they differ from the defaults, so a competencies-only
    // rulebook exports as before.
    if p.designation_threshold != 70.0 || !rulebook.designations.is_empty() {
        kv(
            &mut out,
            "designation_threshold",
            &number(p.designation_threshold),
        );
    }
    if p.qualification_window_months != 6 || !rulebook.designations.is_empty() {
        kv(
            &mut out,
            "qualification_window_months",
            &p.qualification_window_months.to_string(),
        );
    }

    out.push_str("\n[fees]\n");
    kv(&mut out, "silver", &rulebook.fees.silver.to_string());
    kv(&mut out, "gold", &rulebook.fees.gold.to_string());
    if rulebook.fees.designation != 0 {
        kv(
            &mut out,
            "designation",
            &rulebook.fees.designation.to_string(),
        );
    }

    out.push_str("\n[benefits]\n");
    benefits(&mut out, &rulebook.benefits);

    for entry in &rulebook.catalog {
        catalog_entry(&mut out, entry);
    }
    for (id, competency) in &rulebook.competencies {
        self::competency(&mut out, id, competency);
    }
    if !rulebook.designations.is_empty() {
        out.push_str(&designations(rulebook));
    }
    out
}

/// The designations, as serde writes them (tables and arrays of tables).
fn designations(rulebook: &Rulebook) -> String {
    #[derive(serde::Serialize)]
    struct Only<'a> {
        designations: &'a std::collections::BTreeMap<String, super::rulebook::Designation>,
    }
    let text = toml::to_string(&Only {
        designations: &rulebook.designations,
    })
    .unwrap_or_default();
    format!("\n{text}")
}

fn kv(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "{} = {value}", bare_or_quoted(key));
}

fn benefits(out: &mut String, benefits: &Benefits) {
    for (key, list) in [("silver", &benefits.silver), ("gold", &benefits.gold)] {
        let items: Vec<String> = list.iter().map(|b| string(b)).collect();
        let value = match items.len() {
            0 => "[]".to_string(),
            1 => format!("[{}]", items[0]),
            _ => format!("[\n    {},\n]", items.join(",\n    ")),
        };
        kv(out, key, &value);
    }
}

fn catalog_entry(out: &mut String, entry: &CatalogEntry) {
    out.push_str("\n[[catalog]]\n");
    kv(out, "code", &string(&entry.code));
    kv(out, "title", &string(&entry.title));
    kv(out, "kind", &string(entry.kind.as_str()));
    if let Some(retired) = entry.retired {
        kv(out, "retired", &date(retired));
    }
    if let Some(days) = entry.valid_days {
        kv(out, "valid_days", &days.to_string());
    }
    if !entry.aliases.is_empty() {
        kv(out, "aliases", &string_list(&entry.aliases));
    }
}

fn competency(out: &mut String, id: &str, competency: &Competency) {
    let id = bare_or_quoted(id);
    let _ = writeln!(out, "\n[competencies.{id}]");
    kv(out, "name", &string(&competency.name));
    kv(out, "area", &string(&competency.area));
    if let Some(b) = &competency.benefits {
        let _ = writeln!(out, "\n[competencies.{id}.benefits]");
        benefits(out, b);
    }
    for level in Level::ALL {
        for option in competency.options(level) {
            let _ = writeln!(out, "\n[[competencies.{id}.{level}]]");
            level_option(out, option);
        }
    }
}

fn level_option(out: &mut String, option: &LevelOption) {
    kv(out, "option", &string(&option.option));
    if !option.people.is_empty() {
        let items: Vec<String> = option.people.iter().map(people).collect();
        kv(out, "people", &inline_list(&items));
    }
    if !option.metrics.is_empty() {
        let items: Vec<String> = option.metrics.iter().map(metric).collect();
        kv(out, "metrics", &inline_list(&items));
    }
}

fn people(req: &PeopleRequirement) -> String {
    let mut fields = vec![format!("count = {}", req.count)];
    if !req.all_of.is_empty() {
        fields.push(format!("all_of = {}", string_list(&req.all_of)));
    }
    if !req.any_of.is_empty() {
        let alternatives: Vec<String> = req.any_of.iter().map(|a| string_list(a)).collect();
        fields.push(format!("any_of = [{}]", alternatives.join(", ")));
    }
    format!("{{ {} }}", fields.join(", "))
}

fn metric(req: &MetricRequirement) -> String {
    let mut fields = vec![format!("metric = {}", string(req.metric.as_str()))];
    if let Some(scope) = &req.scope {
        fields.push(format!("scope = {}", string(scope)));
    }
    fields.push(format!("at_least = {}", number(req.at_least)));
    if let Some(developing) = req.developing {
        fields.push(format!("developing = {}", number(developing)));
    }
    if let Some(days) = req.window_days {
        fields.push(format!("window_days = {days}"));
    }
    format!("{{ {} }}", fields.join(", "))
}

/// One requirement per line when there are several, so diffs stay readable.
fn inline_list(items: &[String]) -> String {
    match items {
        [one] => format!("[ {one} ]"),
        _ => format!("[\n    {},\n]", items.join(",\n    ")),
    }
}

fn string_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A TOML basic string with everything TOML requires escaped.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn bare_or_quoted(key: &str) -> String {
    if is_bare_key(key) {
        key.to_string()
    } else {
        string(key)
    }
}

/// Whole numbers as integers (`15000`, as people write them), others as the shortest float
/// that reads back to the same value.
fn number(v: f64) -> String {
    if v.is_nan() {
        "nan".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.fract() == 0.0 {
        format!("{v}.0")
    } else {
        format!("{v}")
    }
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}
