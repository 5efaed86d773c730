//! Targeted reads: one app user, one app's provisioning state and push mappings, one directory
//! user's profile comparison, the agents — what the daemon re-reads to patch the snapshot it
//! keeps when System Log events name a target, instead of reading the whole org again. Each
//! reads, for one target, what the full scan reads for it (through the same client, so the same
//! rate-limit governor and headroom), and records the part as patched; a read that fails marks
//! its part stale (an incomplete entry naming the failure) rather than keeping a guess.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::directory::{compare, read_directory_diffs};
use super::part::{Freshness, Incomplete, Part, PartId, ReadFailure};
use super::read::{
    app_info, capabilities, event_info, latest_failures, no_such_thing, read_agents,
    read_app_mappings, read_connection, requests, MAX_EVENTS_KEPT,
};
use super::snapshot::{AppInfo, DirectoryInfo, EventInfo, FailedAssignment, Snapshot};
use crate::okta::{
    AppId, AppUser, AppUserSyncState, EventFamily, EventType, LogEvent, OrgApi, UserId,
};
use crate::policy::Policy;

/// The words a stale part's failure starts with (plans and the journal show them).
pub const STALE_PREFIX: &str = "stale: the targeted re-read failed";

/// What one targeted read is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadTarget {
    /// One app user (`GET /api/v1/apps/{appId}/users/{userId}`).
    AppUser { app: AppId, user: UserId },
    /// One app: its object, provisioning connection, `USER_PROVISIONING` feature and Group
    /// Push mappings, as far as the full scan reads them for it.
    App(AppId),
    /// One user of a directory policy names for Force Sync: its directory app user and its
    /// Okta user, compared.
    DirectoryUser { directory: AppId, user: UserId },
    /// The AD/LDAP agents.
    Agents,
}

impl ReadTarget {
    /// The targets a System Log event names: the app user of a provisioning event, the app of
    /// a credentials, Group Push or import event, the directory user behind an import failure,
    /// the agents for an AD agent event.
    pub fn of_event(event: &EventInfo) -> Vec<ReadTarget> {
        let kind = event.event_type.as_str();
        let app = event.target_id("AppInstance").map(AppId::from);
        let user = event.user_id().map(UserId::from);
        let mut targets = Vec::new();
        if EventFamily::UserProvisioning.contains(kind) {
            if let (Some(app), Some(user)) = (app.clone(), user.clone()) {
                targets.push(ReadTarget::AppUser { app, user });
            }
        }
        let names_app = EventType::AuthenticationFailure.is(kind)
            || EventFamily::GroupPush.contains(kind)
            || (EventFamily::Import.contains(kind) && event.failed());
        if let (true, Some(app)) = (names_app, app.clone()) {
            targets.push(ReadTarget::App(app.clone()));
            if let (true, Some(user)) = (EventFamily::Import.contains(kind), user) {
                targets.push(ReadTarget::DirectoryUser {
                    directory: app,
                    user,
                });
            }
        }
        if EventFamily::AdAgent.contains(kind) {
            targets.push(ReadTarget::Agents);
        }
        targets
    }
}

/// What one targeted read did: the requests it made and the parts it patched or marked stale.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Patched {
    pub requests: u64,
    pub patched: Vec<PartId>,
    pub stale: Vec<PartId>,
}

/// Reads `target` and patches `snapshot` with what it read (at `now`).
pub async fn patch<O: OrgApi>(
    api: &O,
    policy: &Policy,
    snapshot: &mut Snapshot,
    target: &ReadTarget,
    now: DateTime<Utc>,
) -> Patched {
    let mut done = Patched::default();
    let results = match target {
        ReadTarget::AppUser { app, user } => {
            vec![patch_app_user(api, snapshot, app, user, &mut done.requests).await]
        }
        ReadTarget::App(app) => patch_app(api, policy, snapshot, app, &mut done.requests).await,
        ReadTarget::DirectoryUser { directory, user } => {
            vec![
                patch_directory_user(api, policy, snapshot, directory, user, &mut done.requests)
                    .await,
            ]
        }
        ReadTarget::Agents => {
            let agents = read_agents(api, &mut done.requests).await;
            let result = match agents.incomplete.first() {
                Some(unread) => Err((PartId::Agents, unread.failure.clone())),
                None => Ok(PartId::Agents),
            };
            if result.is_ok() {
                snapshot.agents = agents;
            }
            vec![result]
        }
    };
    for result in results {
        match result {
            Ok(part) => {
                mark_patched(snapshot, &part, now);
                done.patched.push(part);
            }
            Err((part, failure)) => {
                mark_stale(snapshot, &part, failure, now);
                done.stale.push(part);
            }
        }
    }
    done
}

type PartResult = Result<PartId, (PartId, ReadFailure)>;

/// One app user: kept among the failed assignments while it is in `syncState: ERROR` (with its
/// latest failure event), dropped once it is not, or gone.
async fn patch_app_user<O: OrgApi>(
    api: &O,
    snapshot: &mut Snapshot,
    app: &AppId,
    user: &UserId,
    requests: &mut u64,
) -> PartResult {
    let part = PartId::AppUsers(app.clone());
    *requests += 1;
    let read: Option<AppUser> = match api.get_app_user(app, user).await {
        Ok(app_user) => Some(app_user),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err((part, ReadFailure::from_api(requests::GET_APP_USER, &e))),
    };
    let failed = &mut snapshot.failed_assignments.value;
    failed.retain(|f| !(&f.app_id == app && &f.user_id == user));
    if let Some(app_user) = read.filter(|u| u.sync_state == Some(AppUserSyncState::Error)) {
        let error = latest_failures(&snapshot.events.value).remove(&(app.clone(), user.clone()));
        failed.push(FailedAssignment {
            app_id: app.clone(),
            user_id: user.clone(),
            status: app_user
                .status
                .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned()),
            sync_state: "ERROR".to_owned(),
            last_updated: app_user.last_updated,
            error,
        });
        failed.sort_by(|a, b| (&a.app_id, &a.user_id).cmp(&(&b.app_id, &b.user_id)));
    }
    Ok(part)
}

/// One app: its object (status, label, features), then its connection, its writable feature and
/// its mappings as the full scan would read them for an app it finds interesting.
async fn patch_app<O: OrgApi>(
    api: &O,
    policy: &Policy,
    snapshot: &mut Snapshot,
    app_id: &AppId,
    requests: &mut u64,
) -> Vec<PartResult> {
    *requests += 1;
    let fresh = match api.get_app(app_id).await {
        Ok(app) => app_info(app),
        // An app deleted since the scan: gone from the org, so from the snapshot.
        Err(e) if e.is_not_found() => {
            snapshot.apps.value.retain(|a| &a.id != app_id);
            snapshot.push_mappings.remove(app_id);
            return vec![Ok(PartId::Connections(app_id.clone()))];
        }
        Err(e) => {
            let failure = ReadFailure::from_api(requests::GET_APP, &e);
            return vec![Err((PartId::Connections(app_id.clone()), failure))];
        }
    };
    let mut app = fresh;
    let mut results = Vec::new();
    if !app.is_directory() {
        results.push(patch_connection(api, &mut app, requests).await);
    }
    let wants_mappings = app.can_hold_push_mappings()
        && (app.provisioning_enabled() != Some(true)
            || snapshot.push_mappings.contains_key(app_id)
            || policy
                .remove_push_mappings
                .for_app(&app.id, &app.label)
                .is_some());
    let connection_read = results.iter().all(Result::is_ok);
    match snapshot.apps.value.iter_mut().find(|a| &a.id == app_id) {
        Some(slot) => *slot = app,
        None => {
            snapshot.apps.value.push(app);
            snapshot.apps.value.sort_by(|a, b| a.id.cmp(&b.id));
        }
    }
    if wants_mappings && connection_read {
        let mappings = read_app_mappings(api, app_id, requests).await;
        let part = PartId::PushMappings(app_id.clone());
        match mappings.incomplete.first() {
            Some(unread) => results.push(Err((part, unread.failure.clone()))),
            None => {
                snapshot.push_mappings.insert(app_id.clone(), mappings);
                results.push(Ok(part));
            }
        }
    }
    results
}

/// An app's connection and, when provisioning is enabled and Okta lets the API change them,
/// its `USER_PROVISIONING` feature.
async fn patch_connection<O: OrgApi>(api: &O, app: &mut AppInfo, requests: &mut u64) -> PartResult {
    let app_id = app.id.clone();
    if let Err(failure) = read_connection(api, app, requests).await {
        return Err((PartId::Connections(app_id), failure));
    }
    if !(app.provisioning_enabled() == Some(true) && app.features_writable()) {
        return Ok(PartId::Connections(app_id));
    }
    *requests += 1;
    match api.get_user_provisioning_feature(&app_id).await {
        Ok(feature) => {
            app.user_provisioning = feature.capabilities.map(|c| capabilities(&c));
            Ok(PartId::Connections(app_id))
        }
        Err(e) if no_such_thing(&e) => Ok(PartId::Connections(app_id)),
        Err(e) => {
            let failure = ReadFailure::from_api(requests::GET_USER_PROVISIONING, &e);
            Err((PartId::Features(app_id), failure))
        }
    }
}

/// One directory user: its app user and its Okta user, compared as the directory's listing
/// compares them; its differences replace the ones the snapshot held for it.
async fn patch_directory_user<O: OrgApi>(
    api: &O,
    policy: &Policy,
    snapshot: &mut Snapshot,
    directory: &AppId,
    user: &UserId,
    requests: &mut u64,
) -> PartResult {
    let part = PartId::DirectoryProfiles(directory.clone());
    let Some(info) = snapshot
        .directories
        .iter()
        .position(|d| &d.app_id == directory)
    else {
        // A directory policy does not name for Force Sync: nothing of it is kept, so nothing
        // to patch; one it names but the scan did not list is read whole.
        let Some(app) = snapshot.app(directory).cloned() else {
            return Ok(part);
        };
        if !policy.force_sync_applies_to(&app.id, &app.label) {
            return Ok(part);
        }
        let attributes = read_directory_diffs(api, policy, directory, requests).await;
        let result = match attributes.incomplete.first() {
            Some(unread) => Err((part, unread.failure.clone())),
            None => Ok(part),
        };
        snapshot.directories.push(DirectoryInfo {
            app_id: app.id,
            label: app.label,
            name: app.name,
            attributes,
        });
        return result;
    };
    *requests += 1;
    let mut app_user = match api.get_app_user(directory, user).await {
        Ok(app_user) => Some(app_user),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err((part, ReadFailure::from_api(requests::GET_APP_USER, &e))),
    };
    if let Some(app_user) = app_user.as_mut() {
        *requests += 1;
        match api.get_user(user).await {
            Ok(okta_user) => {
                app_user.embedded =
                    Some(serde_json::json!({ "user": { "profile": okta_user.profile } }));
            }
            Err(e) => return Err((part, ReadFailure::from_api(requests::GET_USER, &e))),
        }
    }
    let diffs = &mut snapshot.directories[info].attributes.value;
    diffs.retain(|d| &d.user_id != user);
    if let Some(new) = app_user.as_ref().and_then(|u| compare(policy, u)) {
        diffs.extend(new);
    }
    Ok(part)
}

/// Adds the System Log events read since the snapshot (by polling or an Event Hook): each once
/// (by uuid), oldest first, those published before `since` dropped, at most
/// [`MAX_EVENTS_KEPT`].
pub fn merge_events(snapshot: &mut Snapshot, events: Vec<EventInfo>, since: DateTime<Utc>) {
    let kept = &mut snapshot.events.value;
    let known: BTreeSet<String> = kept.iter().map(|e| e.uuid.clone()).collect();
    kept.extend(events.into_iter().filter(|e| !known.contains(&e.uuid)));
    kept.retain(|e| e.published >= since);
    kept.sort_by(|a, b| (a.published, &a.uuid).cmp(&(b.published, &b.uuid)));
    let excess = kept.len().saturating_sub(MAX_EVENTS_KEPT);
    kept.drain(..excess);
}

/// A System Log event as the snapshot keeps it.
pub fn event_of(event: LogEvent) -> EventInfo {
    event_info(event)
}

/// The part's container of incomplete entries in `snapshot`, created for a per-app part the
/// snapshot holds none of yet.
fn incomplete_of<'a>(snapshot: &'a mut Snapshot, part: &PartId) -> Option<&'a mut Vec<Incomplete>> {
    Some(match part {
        PartId::Apps | PartId::Connections(_) | PartId::Features(_) => {
            &mut snapshot.apps.incomplete
        }
        PartId::AppUsers(_) => &mut snapshot.failed_assignments.incomplete,
        PartId::PushMappings(app) => {
            &mut snapshot
                .push_mappings
                .entry(app.clone())
                .or_insert_with(|| Part::complete(Vec::new()))
                .incomplete
        }
        PartId::DirectoryProfiles(dir) => {
            &mut snapshot
                .directories
                .iter_mut()
                .find(|d| &d.app_id == dir)?
                .attributes
                .incomplete
        }
        PartId::Agents => &mut snapshot.agents.incomplete,
        PartId::SystemLog => &mut snapshot.events.incomplete,
    })
}

/// `part` was read again at `now`: patched. A read of a whole part (a connection, an app's
/// mappings, the agents) makes it complete again; one app user's read clears only the
/// staleness an earlier failed patch left, not a scan's failed listing of the app's users.
fn mark_patched(snapshot: &mut Snapshot, part: &PartId, now: DateTime<Utc>) {
    let whole = !matches!(part, PartId::AppUsers(_) | PartId::DirectoryProfiles(_));
    if let Some(incomplete) = incomplete_of(snapshot, part) {
        incomplete
            .retain(|i| &i.part != part || !(whole || i.failure.reason.starts_with(STALE_PREFIX)));
    }
    // A connection read covers the app's feature read too.
    if let PartId::Connections(app) = part {
        let features = PartId::Features(app.clone());
        snapshot.apps.incomplete.retain(|i| i.part != features);
        snapshot
            .freshness
            .insert(features, Freshness::Patched { at: now });
    }
    snapshot
        .freshness
        .insert(part.clone(), Freshness::Patched { at: now });
}

/// A targeted read of `part` failed at `now`: stale, and incomplete so that what depends on it
/// is withheld (the one rule every unread part follows).
fn mark_stale(
    snapshot: &mut Snapshot,
    part: &PartId,
    mut failure: ReadFailure,
    now: DateTime<Utc>,
) {
    snapshot.freshness.insert(
        part.clone(),
        Freshness::Stale {
            since: now,
            reason: failure.clone(),
        },
    );
    failure.reason = format!("{STALE_PREFIX} at {}: {}", now.to_rfc3339(), failure.reason);
    if let Some(incomplete) = incomplete_of(snapshot, part) {
        incomplete.retain(|i| &i.part != part || !i.failure.reason.starts_with(STALE_PREFIX));
        incomplete.push(Incomplete::new(part.clone(), failure));
        incomplete.sort_by(|a, b| a.part.cmp(&b.part));
    }
}
