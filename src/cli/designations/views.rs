//! The JSON views of the `designations` commands (SPEC §9).

use super::*;

/// A designation in `designations list`.
#[derive(Serialize)]
pub(super) struct ListedView<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) score: f64,
    pub(super) threshold: f64,
    pub(super) qualified: bool,
    pub(super) state: &'static str,
    /// The track that counts; null while a classified designation's track is not set.
    pub(super) track: Option<&'a str>,
    /// Whether the track is known (a best-total designation, or a classification recorded).
    pub(super) track_set: bool,
    /// `best` or `classified`.
    pub(super) track_choice: &'static str,
    /// While not set: how to set it.
    pub(super) track_hint: Option<String>,
    pub(super) qualified_since: Option<String>,
    pub(super) anniversary: Option<String>,
}

impl<'a> ListedView<'a> {
    pub(super) fn new(l: &'a Listed) -> Self {
        let s = &l.score;
        ListedView {
            id: &s.id,
            name: &s.name,
            score: s.score(),
            threshold: s.threshold,
            qualified: s.qualified(),
            state: l.state.as_str(),
            track: s
                .best_track()
                .filter(|_| s.track_set())
                .map(|t| t.track.as_str()),
            track_set: s.track_set(),
            track_choice: s.choice.as_str(),
            track_hint: (!s.track_set()).then(|| svc::unset_hint(&s.id)),
            qualified_since: l.qualified_since.map(rfc3339),
            anniversary: l
                .enrolment
                .as_ref()
                .filter(|_| l.state.is_held())
                .map(|e| e.anniversary.to_string()),
        }
    }
}

/// One track of a designation's score (`designations score`, what-if's `after`).
#[derive(Serialize)]
pub(super) struct TrackView<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) track: &'a str,
    pub(super) total: f64,
    pub(super) threshold: f64,
    pub(super) qualified: bool,
    pub(super) counts: bool,
    /// Whether the designation's track is known (see `designations list`).
    pub(super) track_set: bool,
    pub(super) items: Vec<ItemView<'a>>,
}

/// One item of a track.
#[derive(Serialize)]
pub(super) struct ItemView<'a> {
    pub(super) name: &'a str,
    pub(super) kind: &'static str,
    pub(super) value: f64,
    pub(super) points: f64,
    pub(super) max_points: f64,
    pub(super) required: bool,
    /// Always the user names (SPEC §9 gives the key one type for scripts); only the table of
    /// `designations score` without an ID shortens them to a count.
    pub(super) people: &'a [String],
    pub(super) unmet_prerequisites: &'a [String],
    /// Skilling: each gating step, who fills it and its own points.
    pub(super) gates: &'a [crate::rules::designations::GateScore],
    /// Metric: each input of a best-of or sum item.
    pub(super) inputs: &'a [crate::rules::designations::InputScore],
}

impl<'a> ItemView<'a> {
    pub(super) fn new(it: &'a ItemScore) -> Self {
        ItemView {
            name: &it.name,
            kind: it.kind.as_str(),
            value: it.value,
            points: it.points,
            max_points: it.max_points,
            required: it.required,
            people: &it.people,
            unmet_prerequisites: &it.unmet_prerequisites,
            gates: &it.gates,
            inputs: &it.inputs,
        }
    }
}

/// Every track of `s`, the counting one marked.
pub(super) fn tracks(s: &DesignationScore) -> Vec<TrackView<'_>> {
    s.tracks
        .iter()
        .enumerate()
        .map(|(i, t): (usize, &TrackScore)| TrackView {
            id: &s.id,
            name: &s.name,
            track: &t.track,
            total: t.total,
            threshold: s.threshold,
            qualified: t.qualified,
            counts: i == s.best && s.track_set(),
            track_set: s.track_set(),
            items: t.items.iter().map(ItemView::new).collect(),
        })
        .collect()
}

/// A designation in `designations what-if`.
#[derive(Serialize)]
pub(super) struct WhatIfView<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) score_now: f64,
    pub(super) score_after: f64,
    pub(super) qualified_now: bool,
    pub(super) qualified_after: bool,
    pub(super) changes: &'a [String],
    pub(super) after: Vec<TrackView<'a>>,
}

impl<'a> WhatIfView<'a> {
    pub(super) fn new(x: &'a WhatIf) -> Self {
        WhatIfView {
            id: &x.before.id,
            name: &x.before.name,
            score_now: x.before.score(),
            score_after: x.after.score(),
            qualified_now: x.before.qualified(),
            qualified_after: x.after.qualified(),
            changes: &x.changes,
            after: tracks(&x.after),
        }
    }
}

/// A designation alert (`designations alerts`).
#[derive(Serialize)]
pub(in crate::cli) struct AlertView<'a> {
    pub(super) raised: String,
    pub(super) designation: &'a str,
    pub(super) name: &'a str,
    pub(super) message: &'a str,
    pub(super) items: &'a str,
    pub(super) cause: Option<&'a str>,
    pub(super) open: bool,
    pub(super) closed: Option<String>,
    pub(super) close_reason: Option<&'a str>,
}

impl<'a> AlertView<'a> {
    pub(in crate::cli) fn new(a: &'a Alert) -> Self {
        AlertView {
            raised: rfc3339(a.raised_at),
            designation: &a.designation,
            name: &a.name,
            message: &a.message,
            items: &a.items,
            cause: a.cause.as_deref(),
            open: a.closed_at.is_none(),
            closed: a.closed_at.map(rfc3339),
            close_reason: a.close_reason.as_deref(),
        }
    }
}

/// `designations enrol` / `designations renew`.
#[derive(Serialize)]
pub(super) struct EnrolledView<'a> {
    pub(super) enrolled: Vec<EnrolmentView<'a>>,
    pub(super) not_renewed: &'a [String],
}

/// One enrolment written.
#[derive(Serialize)]
pub(super) struct EnrolmentView<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) kind: &'a str,
    pub(super) term_start: String,
    pub(super) anniversary: String,
    pub(super) fee_usd: f64,
    pub(super) score: f64,
}

impl<'a> EnrolledView<'a> {
    pub(super) fn new(e: &'a Enrolled) -> Self {
        EnrolledView {
            enrolled: e
                .rows
                .iter()
                .map(|r| EnrolmentView {
                    id: &r.designation,
                    name: &r.name,
                    kind: &r.kind,
                    term_start: r.term_start.to_string(),
                    anniversary: r.anniversary.to_string(),
                    fee_usd: r.fee_usd,
                    score: r.score,
                })
                .collect(),
            not_renewed: &e.not_renewed,
        }
    }
}

/// A held designation in `membership check --format json`.
#[derive(Serialize)]
pub(in crate::cli) struct CheckedView<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) score: f64,
    pub(super) qualified: bool,
    pub(super) state: &'static str,
    pub(super) anniversary: String,
    pub(super) window_start: String,
    pub(super) qualified_in_window: Option<String>,
    pub(super) status: &'static str,
    pub(super) reason: &'a str,
}

impl<'a> CheckedView<'a> {
    pub(super) fn new(h: &'a Checked) -> Self {
        CheckedView {
            id: &h.id,
            name: &h.name,
            score: h.score,
            qualified: h.qualified,
            state: h.state.as_str(),
            anniversary: h.anniversary.to_string(),
            window_start: h.window_start.to_string(),
            qualified_in_window: h.qualified_in_window.map(rfc3339),
            status: h.severity.as_str(),
            reason: &h.reason,
        }
    }
}

/// A designation's classification in `designations track`.
#[derive(Serialize)]
pub(super) struct TrackSettingView<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) track_choice: &'static str,
    pub(super) tracks: &'a [String],
    pub(super) track: Option<&'a str>,
    pub(super) since: Option<String>,
    pub(super) history: Vec<TrackSetView<'a>>,
}

impl<'a> TrackSettingView<'a> {
    pub(super) fn new(s: &'a svc::TrackSetting) -> Self {
        TrackSettingView {
            id: &s.id,
            name: &s.name,
            track_choice: s.choice.as_str(),
            tracks: &s.tracks,
            track: s.current.as_ref().map(|c| c.track.as_str()),
            since: s.current.as_ref().map(|c| rfc3339(c.since)),
            history: s
                .history
                .iter()
                .map(|c| TrackSetView {
                    id: &c.designation,
                    track: &c.track,
                    since: rfc3339(c.since),
                })
                .collect(),
        }
    }
}

/// One classification recorded.
#[derive(Serialize)]
pub(super) struct TrackSetView<'a> {
    pub(super) id: &'a str,
    pub(super) track: &'a str,
    pub(super) since: String,
}
