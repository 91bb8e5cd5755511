//! The semantic checks of a rulebook, walking the plain types and building the key path as
//! they go; every problem found is collected (earliest line first once sorted), each located
//! through [`super::spans`] only when it is reported. This file: the checker itself, the
//! program, benefits and the catalogue; `check_competencies` and `check_designations` add
//! the rest.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

#[cfg(test)]
use super::TREES;
use super::limits;
use super::spans::{KeyPath, Seg, Source, locate};
use super::{
    Benefits, CatalogEntry, Level, Program, Rulebook, RulebookError, examined, normalize_title,
};

/// The semantic checks, collecting every problem.
pub(super) struct Checker<'a, 'd> {
    pub(super) source: Source<'a>,
    /// The text again, for the spanned tree.
    pub(super) text: &'d str,
    /// The spanned tree, parsed at the first question about where a key is: a valid
    /// rulebook seldom asks (only for a level or a code list written empty).
    pub(super) doc: OnceCell<Spanned<DeTable<'d>>>,
    /// Whether the text may hold an empty array literal (see [`may_have_empty_array`]).
    pub(super) empty_array: OnceCell<bool>,
    pub(super) errors: Vec<RulebookError>,
}

/// Whether `text` may hold an empty array literal: a `[` followed, after white space and
/// comments, by `]`. Never a false no; a `[]` inside a string is a harmless false yes.
pub(super) fn may_have_empty_array(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(open) = bytes[i..].iter().position(|&b| b == b'[') {
        let mut j = i + open + 1;
        loop {
            match bytes.get(j) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => j += 1,
                Some(b'#') => {
                    j += bytes[j..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .unwrap_or(bytes.len() - j)
                }
                Some(b']') => return true,
                _ => break,
            }
        }
        i += open + 1;
    }
    false
}

impl<'d> Checker<'_, 'd> {
    /// The spanned tree of the text (which parsed already, so this cannot fail; an empty
    /// tree stands in if it did, and errors would then show line 1).
    pub(super) fn doc(&self) -> &Spanned<DeTable<'d>> {
        self.doc.get_or_init(|| {
            #[cfg(test)]
            TREES.with(|c| c.set(c.get() + 1));
            DeTable::parse(self.text).unwrap_or_else(|_| Spanned::new(0..0, DeTable::new()))
        })
    }

    pub(super) fn report(&mut self, path: &KeyPath, message: String) {
        self.report_at(path, path, message);
    }

    /// Reports under `shown`, at the line of `at` (a more precise spot inside it).
    pub(super) fn report_at(&mut self, shown: &KeyPath, at: &KeyPath, message: String) {
        let span = locate(self.doc(), at).unwrap_or(0..0);
        let error = self.source.error(span, shown, message);
        self.errors.push(error);
    }

    /// Whether the key, a list that came out empty, is written in the file (as opposed to
    /// defaulted). Only an empty array literal gives an empty list, so a text without one
    /// answers no without the spanned tree.
    pub(super) fn written(&self, path: &KeyPath) -> bool {
        let Some(Seg::Key(last)) = path.0.last() else {
            return false;
        };
        if !*self
            .empty_array
            .get_or_init(|| may_have_empty_array(self.text))
        {
            return false;
        }
        let parent = KeyPath(path.0[..path.0.len() - 1].to_vec());
        // Walk down explicitly: `locate` stops at the deepest prefix, which is not presence.
        let mut value: Option<&DeValue<'_>> = None;
        let mut table = Some(self.doc().get_ref());
        for seg in &parent.0 {
            let next = match seg {
                Seg::Key(key) => table
                    .or_else(|| value.and_then(DeValue::as_table))
                    .and_then(|t| {
                        examined(t.len());
                        t.get(key.as_str())
                    })
                    .map(|v| v.get_ref()),
                Seg::Index(i) => value
                    .and_then(DeValue::as_array)
                    .and_then(|a| a.get(*i))
                    .map(|v| v.get_ref()),
            };
            let Some(next) = next else { return false };
            table = None;
            value = Some(next);
        }
        table
            .or_else(|| value.and_then(DeValue::as_table))
            .is_some_and(|t| {
                examined(t.len());
                t.contains_key(last.as_str())
            })
    }

    pub(super) fn rulebook(&mut self, rulebook: &Rulebook) {
        let root = KeyPath::default();
        self.program(&rulebook.program, &root.key("program"));
        self.benefits(&rulebook.benefits, &root.key("benefits"));
        let codes = self.catalog(&rulebook.catalog, &root.key("catalog"));
        if rulebook.competencies.is_empty() && rulebook.designations.is_empty() {
            // A rulebook without competencies or designations evaluates to nothing: surely
            // a wrong or truncated file.
            self.report(
                &root.key("competencies"),
                "the rulebook defines no competencies and no designations: add at least one \
                 [competencies.ID] or [designations.ID] section"
                    .into(),
            );
        }
        self.competencies(rulebook, &codes, &root.key("competencies"));
        self.designation_program(&rulebook.program, &root.key("program"));
        self.designations(rulebook, &codes, &root.key("designations"));
    }

    /// Refuses a text that would reach a terminal with a control character (`\u001b[2J`
    /// clears the screen in `competencies list`) or a bidirectional override.
    pub(super) fn text(&mut self, path: &KeyPath, value: &str) {
        if let Some(c) = limits::unsafe_char(value) {
            self.report(
                path,
                format!(
                    "{} contains {}",
                    limits::shown(value),
                    limits::unsafe_char_reason(c)
                ),
            );
        }
    }

    pub(super) fn program(&mut self, program: &Program, path: &KeyPath) {
        if program.name.trim().is_empty() {
            self.report(&path.key("name"), "the program needs a name".into());
        }
        self.text(&path.key("name"), &program.name);
        let ranges: [(&str, u32, u32, u32, &str); 6] = [
            (
                "progress_delay_hours",
                program.progress_delay_hours,
                0,
                24 * 365,
                "hours",
            ),
            ("term_months", program.term_months, 1, 120, "months"),
            (
                "renewal_opens_days",
                program.renewal_opens_days,
                0,
                365,
                "days",
            ),
            ("grace_days", program.grace_days, 0, 365, "days"),
            (
                "metric_window_days",
                program.metric_window_days,
                1,
                3650,
                "days",
            ),
            (
                "retired_grace_months",
                program.retired_grace_months,
                0,
                120,
                "months",
            ),
        ];
        for (key, value, low, high, unit) in ranges {
            if !(low..=high).contains(&value) {
                self.report(
                    &path.key(key),
                    format!("{value} {unit} makes no sense: expected {low} to {high}"),
                );
            }
        }
        // The renewal window opens inside the term, or renewal would be open all the time.
        let shortest_term_days = u64::from(program.term_months) * 28;
        if program.term_months >= 1 && u64::from(program.renewal_opens_days) >= shortest_term_days {
            self.report(
                &path.key("renewal_opens_days"),
                format!(
                    "renewal would open {} days before the anniversary, but the term is only {} months",
                    program.renewal_opens_days, program.term_months
                ),
            );
        }
    }

    pub(super) fn benefits(&mut self, benefits: &Benefits, path: &KeyPath) {
        for level in Level::ALL {
            let list = match level {
                Level::Silver => &benefits.silver,
                Level::Gold => &benefits.gold,
            };
            let level_path = path.key(level.as_str());
            for (i, benefit) in list.iter().enumerate() {
                if benefit.trim().is_empty() {
                    self.report(&level_path.index(i), "a benefit cannot be empty".into());
                }
                self.text(&level_path.index(i), benefit);
            }
        }
    }

    /// Checks the catalogue and returns its codes.
    pub(super) fn catalog(&mut self, catalog: &[CatalogEntry], path: &KeyPath) -> HashSet<String> {
        let mut first_at: HashMap<&str, usize> = HashMap::new();
        for (i, entry) in catalog.iter().enumerate() {
            let entry_path = path.index(i);
            if entry.code.trim().is_empty() || entry.code.trim() != entry.code {
                self.report(
                    &entry_path.key("code"),
                    format!(
                        "code {:?} must be non-empty, without surrounding spaces",
                        entry.code
                    ),
                );
            }
            if entry.title.trim().is_empty() {
                self.report(&entry_path.key("title"), "the title cannot be empty".into());
            }
            self.text(&entry_path.key("code"), &entry.code);
            self.text(&entry_path.key("title"), &entry.title);
            if entry.valid_days == Some(0) {
                self.report(
                    &entry_path.key("valid_days"),
                    "valid_days must be at least 1 (leave it out for achievements that never expire)"
                        .into(),
                );
            }
            if let Some(days) = entry.valid_days.filter(|&d| d > limits::MAX_DAYS) {
                self.report(
                    &entry_path.key("valid_days"),
                    format!(
                        "valid_days {days} makes no sense: at most {} (100 years)",
                        limits::MAX_DAYS
                    ),
                );
            }
            if let Some(Err(e)) = entry.retired.map(limits::in_range) {
                self.report(&entry_path.key("retired"), e);
            }
            if let Some(first) = first_at.insert(entry.code.as_str(), i) {
                let first_line = self.source.line_of(
                    locate(self.doc(), &path.index(first).key("code")).map_or(0, |s| s.start),
                );
                self.report(
                    &entry_path.key("code"),
                    format!(
                        "duplicate catalog code {:?} (first defined at line {first_line})",
                        entry.code
                    ),
                );
                first_at.insert(entry.code.as_str(), first);
            }
        }
        self.aliases(catalog, path);
        for (i, entry) in catalog.iter().enumerate() {
            if let Some(days) = entry.renewal_opens_days.filter(|&d| d > limits::MAX_DAYS) {
                self.report(
                    &path.index(i).key("renewal_opens_days"),
                    format!(
                        "renewal_opens_days {days} makes no sense: at most {} (100 years)",
                        limits::MAX_DAYS
                    ),
                );
            }
            if let Some(next) = &entry.replaced_by
                && !first_at.contains_key(next.as_str())
            {
                self.report(
                    &path.index(i).key("replaced_by"),
                    format!("replaced_by {next:?} is not a catalog code"),
                );
            }
        }
        catalog.iter().map(|e| e.code.clone()).collect()
    }

    /// Checks that a Partner Center title names at most one entry: an alias may not be
    /// empty nor equal (ignoring case and runs of spaces) another entry's title or alias.
    pub(super) fn aliases(&mut self, catalog: &[CatalogEntry], path: &KeyPath) {
        let mut titles: HashMap<String, usize> = HashMap::new();
        for (i, entry) in catalog.iter().enumerate() {
            titles.entry(normalize_title(&entry.title)).or_insert(i);
        }
        let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
        for (i, entry) in catalog.iter().enumerate() {
            for (j, alias) in entry.aliases.iter().enumerate() {
                let alias_path = path.index(i).key("aliases").index(j);
                let norm = normalize_title(alias);
                if norm.is_empty() {
                    self.report(&alias_path, "an alias cannot be empty".into());
                    continue;
                }
                let clash = if let Some(&k) = titles.get(&norm).filter(|&&k| k != i) {
                    Some((k, path.index(k).key("title"), "the title"))
                } else if let Some(&(k, m)) = seen.get(&norm).filter(|(k, _)| *k != i) {
                    Some((k, path.index(k).key("aliases").index(m), "an alias"))
                } else {
                    seen.entry(norm).or_insert((i, j));
                    None
                };
                if let Some((k, at, what)) = clash {
                    let line = self
                        .source
                        .line_of(locate(self.doc(), &at).map_or(0, |s| s.start));
                    self.report(
                        &alias_path,
                        format!(
                            "alias {:?} is already {what} of catalog entry {:?} (line {line}): \
                             a Partner Center title must name one entry",
                            alias, catalog[k].code
                        ),
                    );
                }
            }
        }
    }
}
