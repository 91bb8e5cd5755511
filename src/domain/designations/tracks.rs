//! `designations track`: Partner Center's classification of the organization into a track
//! of each `classified` designation (SPEC §9), recorded with its history.
//!
//! Invariants: a classification names a designation of the rulebook and one of its tracks;
//! it is in force from `since` until the next of its designation (evaluations at any instant
//! use the one in force then, window evaluations included); recording one is audited and
//! re-evaluates the enrolled designations at once, with the classification as the cause.

use super::*;
use crate::rules::designations::TrackChoice;
use crate::store::ClassificationRow;

/// One designation's classification as `designations track` lists it.
#[derive(Debug, Clone)]
pub struct TrackSetting {
    /// The designation id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// How its track is chosen.
    pub choice: TrackChoice,
    /// Its tracks, in rulebook order.
    pub tracks: Vec<String>,
    /// The classification in force now, if any.
    pub current: Option<ClassificationRow>,
    /// Every classification recorded, oldest `since` first.
    pub history: Vec<ClassificationRow>,
}

/// The sentence every output showing an unset classified designation carries.
pub fn unset_hint(id: &str) -> String {
    format!(
        "track not set: Partner Center classifies the partner; record it with `competency \
         designations track {id} enterprise|smb`"
    )
}

/// Records that Partner Center classifies the organization into `track` for each of `ids`
/// from `since`, and has the effects re-evaluate the designations (the alerts raised are
/// the command's, printed once it commits).
pub fn set_track(
    db: &Db,
    org: &Org,
    actor: &Actor,
    ids: &[String],
    track: &str,
    since: DateTime<Utc>,
) -> Result<()> {
    let rb = records::rulebook(db, org)?;
    if rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    if ids.is_empty() {
        return Err(bad_input(
            "name the designations to classify, then the track: `competency designations \
             track ID... enterprise|smb`",
        ));
    }
    let track = track.trim().to_lowercase();
    for id in ids {
        known(&rb, id)?;
        let d = &rb.designations[id];
        if d.track_choice != TrackChoice::Classified {
            return Err(bad_input(format!(
                "{id}: both tracks are scored and the higher total counts (track_choice = \
                 \"best\"): there is no classification to record"
            )));
        }
        if d.track_index(&track).is_none() {
            let names: Vec<String> = d.all_tracks().iter().map(|t| t.name.to_owned()).collect();
            return Err(bad_input(format!(
                "{id} has no track {track:?}; its tracks: {}",
                names.join(", ")
            )));
        }
    }
    for id in ids {
        db.insert_classification(org.id, id, &track, since, actor.at)?;
        actor.audit(
            db,
            org.id,
            "designations.track",
            id,
            &format!(
                "track={track} since={}",
                crate::support::clock::rfc3339(since)
            ),
        )?;
    }
    let change = crate::domain::effects::Change::Classified {
        designations: ids,
        track: &track,
    };
    crate::domain::effects::after(db, org, actor, &change)?;
    Ok(())
}

/// Every designation with its track choice and the classifications recorded.
pub fn tracks(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<Vec<TrackSetting>> {
    let rb = records::rulebook(db, org)?;
    if rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    let all = db.classifications(org.id)?;
    Ok(rb
        .designations
        .iter()
        .map(|(id, d)| {
            let history: Vec<ClassificationRow> = all
                .iter()
                .filter(|c| &c.designation == id)
                .cloned()
                .collect();
            let current = history
                .iter()
                .filter(|c| c.since <= at)
                .max_by_key(|c| c.since)
                .cloned();
            TrackSetting {
                id: id.clone(),
                name: d.name.clone(),
                choice: d.track_choice,
                tracks: d.all_tracks().iter().map(|t| t.name.to_owned()).collect(),
                current,
                history,
            }
        })
        .collect())
}
