//! `achievements renewals`: the certifications to renew, by expiry, with what each carries
//! (SPEC §9b). CSV is what a manager pastes into a planner: one row per certification, ISO
//! dates, raw numbers, `true`/`false`, what it carries joined by "; ".

use anyhow::Result;

use crate::cli::Ctx;
use crate::domain::renewals;
use crate::output::{Report, Table, csv_bool};

pub(super) fn run(ctx: &mut Ctx, within: u32, user: Option<&str>, all: bool) -> Result<Report> {
    let now = ctx.clock.now();
    let rows = ctx.read_org(|db, org| renewals::list(db, org, now, within, user, all))?;
    let mut table = Table::new(&[
        "User",
        "Certification",
        "Expires",
        "Renewal opens",
        "Days left",
        "Renewable",
        "Carries",
    ]);
    let mut csv = Table::new(&[
        "username",
        "msa",
        "code",
        "title",
        "expires",
        "renewal_opens",
        "days_left",
        "renewable",
        "replacement",
        "relied_on",
        "carries",
    ]);
    for r in &rows {
        table.row([
            r.username.clone(),
            format!("{} {}", r.code, r.title),
            r.expires.to_string(),
            r.renewal_opens.to_string(),
            r.days_left.to_string(),
            match (&r.renewable, &r.replacement) {
                (true, _) => "yes".to_owned(),
                (false, Some(next)) => format!("no: retired, earn {next}"),
                (false, None) => "no: retired".to_owned(),
            },
            if r.carries.is_empty() {
                "nothing relies on it".to_owned()
            } else {
                r.carries.join("; ")
            },
        ]);
        csv.row([
            r.username.clone(),
            r.msa.clone(),
            r.code.clone(),
            r.title.clone(),
            r.expires.to_string(),
            r.renewal_opens.to_string(),
            r.days_left.to_string(),
            csv_bool(r.renewable),
            r.replacement.clone().unwrap_or_default(),
            csv_bool(r.relied_on),
            r.carries.join("; "),
        ]);
    }
    let what = if all { "" } else { " that something relies on" };
    let text = if rows.is_empty() {
        format!("No certification{what} expires within {within} days.")
    } else {
        format!(
            "{} certification(s){what} expire within {within} days; renew each from its \
             \"Renewal opens\" day (free, online, adds a year).",
            rows.len()
        )
    };
    Ok(Report::new(&rows).table(table).csv(csv).text(text))
}
