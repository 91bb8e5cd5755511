//! `achievements import` of a Partner Center Trainings report (SPEC §6a): the import, and
//! what the administrator must know afterwards (titles skipped, accounts linked, people
//! without an account).

use anyhow::Result;

use super::{
    AchievementsImportArgs, finish_with, rejects_file, warn_ignored_columns, with_credentials,
};
use crate::cli::Ctx;
use crate::domain::credentials::{self, CredentialsFile};
use crate::domain::import::trainings::{Linking, Trainings};
use crate::domain::import::{self, Options};
use crate::domain::records;
use crate::output::Report;

/// Imports a Partner Center Trainings report (SPEC §6a).
pub(super) fn run(
    a: AchievementsImportArgs,
    sniffed: import::trainings::Sniffed,
    opts: Options,
    ctx: &mut Ctx,
) -> Result<Report> {
    let actor = ctx.actor();
    let today = ctx.clock.today();
    warn_ignored_columns(
        ctx,
        &opts.file.display().to_string(),
        &import::trainings::ignored_columns(&opts, sniffed)?,
    );
    let linking = Linking {
        link: a.link_users || a.create_users,
        create: a.create_users,
        since: a.linked_since,
    };
    if let Some(since) = linking.since {
        import::trainings::check_linked_since(since, today)?;
    }
    let creds = if a.create_users && opts.keeps_a_clean_file() {
        let dest = credentials::destination(a.credentials_file.clone(), actor.at);
        Some(CredentialsFile::create(dest, ctx.db_path(), false)?)
    } else {
        None
    };
    let mut rejects = rejects_file(&a.common, &opts, ctx.db_path())?;
    let mut extra = Trainings::default();
    let summary = with_credentials(ctx, creds, |db, org, mut creds| {
        let rb = records::rulebook(db, org)?;
        let (s, t) = import::trainings::import(
            db,
            org,
            &rb,
            &actor,
            today,
            &opts,
            sniffed,
            a.date_order,
            linking,
            creds.as_deref_mut(),
            rejects.as_mut(),
        )?;
        extra = t;
        import::settle(db, org, &actor, &opts, s, creds, rejects.as_mut())
    })?;
    opts.progress.finish();
    ctx.info(format!("Read {} as the {}", summary.file, extra.layout));
    if let Some(m) = &extra.partner_mismatch {
        ctx.warn(format!(
            "{}:{}: the report is for partner ID {:?} ({} row{}), not this organization's {}: \
             check that you downloaded it for the right organization (imported anyway)",
            summary.file,
            m.line,
            m.mpn_id,
            m.rows,
            if m.rows == 1 { "" } else { "s" },
            m.expected
        ));
    }
    let mut report = finish_with(ctx, summary, rejects, &extra)?;
    for line in trainings_lines(&extra, linking) {
        report = report.text(line);
    }
    Ok(report)
}

/// What the admin must know after a Trainings report import, one line each.
fn trainings_lines(t: &Trainings, linking: Linking) -> Vec<String> {
    let mut out = Vec::new();
    if t.skipped_title_count > 0 {
        let listed: Vec<String> = t
            .skipped_titles
            .iter()
            .map(|s| format!("{:?} ({})", s.title, s.rows))
            .collect();
        let unlisted = t.skipped_title_count - t.skipped_titles.len() as u64;
        out.push(format!(
            "Skipped {} title{} in no catalogue entry (add one as an alias in the rulebook if \
             it should count): {}{}",
            t.skipped_title_count,
            if t.skipped_title_count == 1 { "" } else { "s" },
            listed.join(", "),
            if unlisted > 0 {
                format!(" … and {unlisted} more")
            } else {
                String::new()
            }
        ));
    }
    if linking.link {
        out.push(format!(
            "Accounts linked to their MSA: {}{}{}; already linked: {}",
            t.linked,
            if linking.create {
                format!(" ({} created)", t.created)
            } else {
                String::new()
            },
            match linking.since {
                Some(d) if t.linked > 0 => format!(", counting from {d}"),
                _ => String::new(),
            },
            t.already_linked
        ));
        if t.without_account > 0 {
            out.push(format!(
                "{} {} a corporate e-mail with no active account here: add them with \
                 `competency users add` or import again with --create-users",
                t.without_account,
                if t.without_account == 1 {
                    "person has"
                } else {
                    "people have"
                }
            ));
        }
        for c in &t.conflicts {
            out.push(format!("Not linked: {c}"));
        }
    }
    if t.without_corp_email > 0 {
        out.push(format!(
            "{} {} no corporate e-mail in the report: their achievements are recorded but \
             count only once their MSA is linked",
            t.without_corp_email,
            if t.without_corp_email == 1 {
                "person has"
            } else {
                "people have"
            }
        ));
    }
    out
}
