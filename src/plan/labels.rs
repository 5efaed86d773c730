//! The names a person knows the plan's targets by: each app's (and directory's) label and each
//! user's login, by id, where the observation knows them (the app list; the System Log events
//! read, whose user targets carry the login). Ids the observation has no name for are left out.

use std::collections::BTreeMap;

use crate::observe::Snapshot;
use crate::vocab::Target;

use super::model::Plan;

/// The System Log target type of a user.
const USER_TARGET: &str = "User";

/// The labels and logins of the ids `plan`'s actions, findings and skipped candidates name.
pub(super) fn labels(snapshot: &Snapshot, plan: &Plan) -> BTreeMap<String, String> {
    let known = known_names(snapshot);
    let targets = plan
        .actions
        .iter()
        .map(|a| &a.target)
        .chain(plan.findings.iter().map(|f| &f.target))
        .chain(plan.skipped.iter().map(|s| &s.target));
    let mut labels = BTreeMap::new();
    for target in targets {
        for id in ids(target) {
            if let Some(name) = known.get(id) {
                labels.insert(id.to_owned(), name.clone());
            }
        }
    }
    labels
}

fn ids(target: &Target) -> impl Iterator<Item = &str> {
    let app = target.app_id.as_ref().map(|a| a.as_str());
    let user = target.user_id.as_ref().map(|u| u.as_str());
    let dir = target.directory_id.as_ref().map(|d| d.as_str());
    [app, user, dir].into_iter().flatten()
}

/// Every id the snapshot has a name for.
fn known_names(snapshot: &Snapshot) -> BTreeMap<&str, String> {
    let mut names: BTreeMap<&str, String> = BTreeMap::new();
    let events = snapshot.events.value.iter().chain(
        snapshot
            .failed_assignments
            .value
            .iter()
            .filter_map(|f| f.error.as_ref()),
    );
    for event in events {
        for target in event.targets.iter().filter(|t| t.kind == USER_TARGET) {
            if let Some(login) = target.alternate_id.as_ref().filter(|l| !l.is_empty()) {
                names.insert(target.id.as_str(), login.clone());
            }
        }
    }
    for app in &snapshot.apps.value {
        names.insert(app.id.as_str(), app.label.clone());
    }
    names
}
