//! `achievements reconcile REPORT`: the differences between a Lifetime Trainings report and
//! the organization, as a table per kind with what to do, or one row per difference in
//! JSON/CSV. Exit 3 when anything differs (SPEC §6a).

use std::path::PathBuf;

use anyhow::Result;

use crate::cli::Ctx;
use crate::domain::import::trainings::{self, DateOrder, DifferenceKind as Kind};
use crate::domain::import::{Encoding, Options};
use crate::domain::records;
use crate::error::bad_input;
use crate::output::{Report, Table};

pub(super) fn run(
    ctx: &mut Ctx,
    report: PathBuf,
    date_order: Option<DateOrder>,
    encoding: Option<Encoding>,
) -> Result<Report> {
    ctx.open_database()?;
    let mut opts = Options::new(report.clone(), crate::domain::progress::none());
    opts.dry_run = true;
    opts.encoding = encoding;
    let Some(sniffed) = trainings::sniff(&opts)? else {
        return Err(bad_input(format!(
            "{} is not a Partner Center Trainings report (it needs the columns \
             TrainingTitle, TrainingCompletionDate and Email): download it from Insights → \
             Downloads → Trainings, Lifetime",
            report.display()
        )));
    };
    let now = ctx.clock.now();
    let r = ctx.read_org(|db, org| {
        let rb = records::rulebook(db, org)?;
        trainings::reconcile(db, org, &rb, &opts, sniffed, date_order, now)
    })?;
    if r.unreadable > 0 {
        ctx.warn(format!(
            "{} row(s) of the report could not be read and were not compared{}",
            r.unreadable,
            r.unreadable_examples
                .first()
                .map(|e| format!(", e.g. {e}"))
                .unwrap_or_default()
        ));
    }
    let d = |x: Option<chrono::NaiveDate>| x.map(|d| d.to_string()).unwrap_or_default();
    let mut csv = Table::new(&[
        "kind",
        "msa",
        "username",
        "corp_email",
        "name",
        "code",
        "title",
        "earned",
        "expires_here",
        "expires_in_report",
        "rows",
    ]);
    let mut absent = Table::new(&["MSA", "User", "Code", "Earned", "Expires"])
        .titled("Counting here, absent from the report (left or unlinked in Partner Center: `users remove` or `achievements remove`)");
    let mut none = Table::new(&["MSA", "CorpEmail", "Name", "Rows"]).titled(
        "In the report, no account here (`users add`, or import with --link-users/--create-users)",
    );
    let mut expiry = Table::new(&["MSA", "User", "Code", "Earned", "Here", "Report"])
        .titled("Expiry differs (import the report again to take Partner Center's)");
    let mut titles =
        Table::new(&["Title", "Rows"]).titled("Titles in no catalogue entry (skipped)");
    let mut counts = [0usize; 4];
    for x in &r.differences {
        counts[x.kind as usize] += 1;
        csv.row([
            x.kind.to_string(),
            x.msa.clone(),
            x.username.clone().unwrap_or_default(),
            x.corp_email.clone().unwrap_or_default(),
            x.name.clone().unwrap_or_default(),
            x.code.clone().unwrap_or_default(),
            x.title.clone().unwrap_or_default(),
            d(x.earned),
            d(x.expires_here),
            d(x.expires_in_report),
            x.rows.to_string(),
        ]);
        let user = x.username.clone().unwrap_or_default();
        let code = x.code.clone().unwrap_or_default();
        match x.kind {
            Kind::Absent => absent.row([x.msa.clone(), user, code, d(x.earned), d(x.expires_here)]),
            Kind::NoAccount => none.row([
                x.msa.clone(),
                x.corp_email.clone().unwrap_or_default(),
                x.name.clone().unwrap_or_default(),
                x.rows.to_string(),
            ]),
            Kind::Expiry => expiry.row([
                x.msa.clone(),
                user,
                code,
                d(x.earned),
                d(x.expires_here),
                d(x.expires_in_report),
            ]),
            Kind::SkippedTitle => {
                titles.row([x.title.clone().unwrap_or_default(), x.rows.to_string()])
            }
        }
    }
    let total = r.differences.len();
    let mut out = Report::new(&r).csv(csv);
    for (t, n) in [absent, none, expiry, titles].into_iter().zip(counts) {
        if n > 0 {
            out = out.table(t);
        }
    }
    let summary = if total == 0 {
        format!(
            "The report ({} rows, {} people) agrees with the organization.",
            r.rows, r.people
        )
    } else {
        format!(
            "{total} difference(s) between the report ({} rows, {} people) and the organization: \
             {} absent from the report, {} without an account, {} expiries, {} skipped titles.",
            r.rows, r.people, counts[0], counts[1], counts[2], counts[3]
        )
    };
    Ok(out.text(summary).exit(if total == 0 { 0 } else { 3 }))
}
