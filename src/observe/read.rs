//! Reading an org into a [`Snapshot`] through [`OrgApi`]: pages are streamed and only what can
//! lead to an action or finding is kept. A failed read marks its part incomplete with the request
//! and the error; it never leaves the part silently empty.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use super::snapshot::{
    AgentInfo, AppInfo, AttributeDiff, Capabilities, ConnectionInfo, DirectoryInfo, EventInfo,
    EventTarget, FailedAssignment, Part, PushMappingInfo, Snapshot,
};
use crate::okta::{
    relevant_events_filter, ApiError, AppId, AppUser, AppUserSyncState, Application, EnabledStatus,
    EventFamily, EventType, GroupId, LogEvent, LogsRequest, OrgApi, PageRequest,
    ProvisioningConnectionStatus, UserId,
};
use crate::policy::Policy;

/// App-user listings read at once. The `/api/v1/apps*` rate-limit bucket, not this, bounds the
/// pace; a few in flight keep the bucket busy while responses travel.
pub const APP_LISTING_CONCURRENCY: usize = 4;
/// Most System Log events kept in a snapshot; past it the events part is marked incomplete.
pub const MAX_EVENTS_KEPT: usize = 50_000;
/// Most System Log pages read in one observation (1,000 events each).
pub const MAX_LOG_PAGES: usize = 200;
/// Most attribute differences kept per directory.
pub const MAX_DIFFS_PER_DIRECTORY: usize = 10_000;

/// Integration names of directory apps (AD and LDAP).
const DIRECTORY_APP_NAMES: &[&str] = &["active_directory", "ldap_sun_one", "ldap_interface"];

/// What one observation produced.
#[derive(Debug)]
pub struct Observation {
    pub snapshot: Snapshot,
    /// The System Log's `next` link after the last page read (for incremental polling).
    pub log_next: Option<url::Url>,
    /// API requests made.
    pub requests: u64,
}

/// Where the System Log read starts.
#[derive(Debug, Clone)]
pub enum LogStart {
    /// Events published at or after this time.
    Since(DateTime<Utc>),
    /// Continue from a saved `next` link.
    Next(url::Url),
}

/// Reads the org. `now` is the observation time (the caller's clock).
pub async fn observe<O: OrgApi>(
    api: &O,
    org: &str,
    policy: &Policy,
    log_start: LogStart,
    now: DateTime<Utc>,
) -> Observation {
    let mut requests = 0u64;
    let apps = read_apps(api, &mut requests).await;
    let (events, log_next) = read_events(api, log_start, &mut requests).await;
    let failed = read_failed_assignments(api, &apps.value, &events.value, &mut requests).await;

    let mut snapshot = Snapshot {
        org: org.to_owned(),
        observed_at: now,
        apps,
        failed_assignments: failed,
        events,
        ..Snapshot::default()
    };
    let interesting = interesting_apps(policy, &snapshot);
    read_provisioning_state(api, &mut snapshot, &interesting, &mut requests).await;
    read_push_mappings(api, policy, &mut snapshot, &interesting, &mut requests).await;
    read_directories(api, policy, &mut snapshot, &mut requests).await;
    if snapshot.apps.value.iter().any(is_directory) {
        snapshot.agents = read_agents(api, &mut requests).await;
    }
    let dcs: Vec<(String, u16)> = policy
        .kpasswd
        .domain_controllers
        .iter()
        .map(|dc| (dc.host.clone(), dc.port))
        .collect();
    if !dcs.is_empty() {
        snapshot.kpasswd_probes = super::probe_all(&dcs, policy.kpasswd.probe_timeout).await;
    }
    Observation {
        snapshot,
        log_next,
        requests,
    }
}

fn is_directory(app: &AppInfo) -> bool {
    DIRECTORY_APP_NAMES.contains(&app.name.as_str())
}

/// The error with its causes (a call that gave up after retries names its last failure).
fn describe(error: &ApiError) -> String {
    crate::error_chain::error_chain(error)
}

async fn read_apps<O: OrgApi>(api: &O, requests: &mut u64) -> Part<Vec<AppInfo>> {
    let mut apps = Vec::new();
    let mut page = PageRequest::First;
    loop {
        *requests += 1;
        let result = match api.list_apps(page).await {
            Ok(result) => result,
            Err(e) => return Part::incomplete(apps, describe(&e)),
        };
        apps.extend(result.items.into_iter().map(app_info));
        let Some(next) = result.next else { break };
        page = PageRequest::Next(next);
    }
    apps.sort_by(|a, b| a.id.cmp(&b.id));
    Part::complete(apps)
}

fn app_info(app: Application) -> AppInfo {
    AppInfo {
        id: app.id.clone(),
        name: app.name,
        label: app.label,
        status: app
            .status
            .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned()),
        features: app.features.into_iter().collect(),
        connection: None,
        user_provisioning: None,
    }
}

async fn read_events<O: OrgApi>(
    api: &O,
    start: LogStart,
    requests: &mut u64,
) -> (Part<Vec<EventInfo>>, Option<url::Url>) {
    let mut request = match start {
        LogStart::Since(since) => LogsRequest::Since {
            since,
            filter: Some(relevant_events_filter()),
        },
        LogStart::Next(url) => LogsRequest::Next(crate::okta::NextPage::from_url(url)),
    };
    let mut events = Vec::new();
    let mut seen = BTreeSet::new();
    for _ in 0..MAX_LOG_PAGES {
        *requests += 1;
        let page = match api.list_logs(request.clone()).await {
            Ok(page) => page,
            Err(e) => return (Part::incomplete(events, describe(&e)), None),
        };
        let count = page.items.len();
        for event in page.items {
            if seen.insert(event.uuid.clone()) {
                events.push(event_info(event));
            }
        }
        if events.len() > MAX_EVENTS_KEPT {
            events.truncate(MAX_EVENTS_KEPT);
            let next = page.next.map(|n| n.url().clone());
            let reason = format!("more than {MAX_EVENTS_KEPT} relevant System Log events");
            return (Part::incomplete(events, reason), next);
        }
        // A polling read always has a `next` link; a short page means we are caught up.
        let Some(next) = page.next else {
            return (Part::complete(sorted(events)), None);
        };
        if count < crate::okta::LOGS_PAGE_LIMIT as usize {
            return (Part::complete(sorted(events)), Some(next.url().clone()));
        }
        request = LogsRequest::Next(next);
    }
    let reason = format!("System Log still had events after {MAX_LOG_PAGES} pages");
    (Part::incomplete(sorted(events), reason), None)
}

fn sorted(mut events: Vec<EventInfo>) -> Vec<EventInfo> {
    events.sort_by(|a, b| (a.published, &a.uuid).cmp(&(b.published, &b.uuid)));
    events
}

fn event_info(event: LogEvent) -> EventInfo {
    let (result, reason) = event.outcome.map_or((None, None), |o| (o.result, o.reason));
    EventInfo {
        uuid: event.uuid,
        published: event.published,
        event_type: event.event_type,
        display_message: event.display_message.unwrap_or_default(),
        outcome: result.unwrap_or_else(|| "UNKNOWN".to_owned()),
        reason: reason.filter(|r| !r.trim().is_empty()),
        targets: event
            .target
            .into_iter()
            .filter_map(|t| {
                Some(EventTarget {
                    kind: t.kind?,
                    id: t.id?,
                    alternate_id: t.alternate_id,
                    display_name: t.display_name,
                })
            })
            .collect(),
        transaction_id: None,
    }
}

async fn read_failed_assignments<O: OrgApi>(
    api: &O,
    apps: &[AppInfo],
    events: &[EventInfo],
    requests: &mut u64,
) -> Part<Vec<FailedAssignment>> {
    // Owned ids, not `&AppInfo`: a closure over a borrowed argument makes this future fail
    // the `Send` check rustc applies to higher-ranked closures (the daemon spawns it).
    let active: Vec<AppId> = apps
        .iter()
        .filter(|a| a.status == "ACTIVE")
        .map(|a| a.id.clone())
        .collect();
    let results: Vec<(AppId, Result<Vec<AppUser>, ApiError>, u64)> = stream::iter(active)
        .map(|app_id: AppId| async move {
            let (users, count) = failed_app_users(api, &app_id).await;
            (app_id, users, count)
        })
        .buffer_unordered(APP_LISTING_CONCURRENCY)
        .collect()
        .await;
    let latest_failure = latest_failures(events);
    let mut failed = Vec::new();
    let mut incomplete = Vec::new();
    for (app_id, users, count) in results {
        *requests += count;
        let users = match users {
            Ok(users) => users,
            Err(e) => {
                incomplete.push(format!("app {app_id}: {}", describe(&e)));
                continue;
            }
        };
        for user in users {
            let user_id = user.id.clone();
            let error = latest_failure
                .get(&(app_id.clone(), user_id.clone()))
                .cloned();
            failed.push(FailedAssignment {
                app_id: app_id.clone(),
                user_id,
                status: user
                    .status
                    .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned()),
                sync_state: "ERROR".to_owned(),
                last_updated: user.last_updated,
                error,
            });
        }
    }
    failed.sort_by(|a, b| (&a.app_id, &a.user_id).cmp(&(&b.app_id, &b.user_id)));
    if incomplete.is_empty() {
        Part::complete(failed)
    } else {
        incomplete.sort();
        Part::incomplete(failed, incomplete.join("; "))
    }
}

/// The app users of one app in `syncState: ERROR`, and how many requests it took. A listing
/// that fails mid-way returns the error (the app's part is then incomplete).
async fn failed_app_users<O: OrgApi>(api: &O, app: &str) -> (Result<Vec<AppUser>, ApiError>, u64) {
    let app = AppId::new(app);
    let mut page = PageRequest::First;
    let mut failed = Vec::new();
    let mut count = 0;
    loop {
        count += 1;
        let result = match api.list_app_users(&app, page).await {
            Ok(result) => result,
            Err(e) => return (Err(e), count),
        };
        failed.extend(
            result
                .items
                .into_iter()
                .filter(|u| u.sync_state == Some(AppUserSyncState::Error)),
        );
        let Some(next) = result.next else {
            return (Ok(failed), count);
        };
        page = PageRequest::Next(next);
    }
}

/// The latest provisioning failure event per (app id, user id).
fn latest_failures(events: &[EventInfo]) -> BTreeMap<(AppId, UserId), EventInfo> {
    let mut latest: BTreeMap<(AppId, UserId), EventInfo> = BTreeMap::new();
    for event in events.iter().filter(|e| e.failed()) {
        if !EventFamily::UserProvisioning.contains(&event.event_type) {
            continue;
        }
        let (Some(app), Some(user)) = (event.target_id("AppInstance"), event.user_id()) else {
            continue;
        };
        // Events are sorted by time: a later one replaces an earlier one.
        latest.insert((app.into(), user.into()), event.clone());
    }
    latest
}

/// Apps whose provisioning connection, features and push mappings are worth their requests:
/// the ones policy names, the ones events point at, and the directories.
fn interesting_apps(policy: &Policy, snapshot: &Snapshot) -> BTreeSet<AppId> {
    // Failures alone do not make an app worth the requests: without wanted features in policy
    // there is no drift to compute, and a credentials finding needs no connection read. Reading
    // the state of every app with a failure would nearly double a large org's observation.
    let mut ids = BTreeSet::new();
    for app in &snapshot.apps.value {
        let named = policy.wanted_features(&app.id, &app.label).is_some()
            || policy
                .remove_push_mappings
                .for_app(&app.id, &app.label)
                .is_some()
            || is_directory(app);
        if named {
            ids.insert(app.id.clone());
        }
    }
    for event in &snapshot.events.value {
        let kind = event.event_type.as_str();
        let points_at_app = EventType::AuthenticationFailure.is(kind)
            || EventFamily::GroupPush.contains(kind)
            || (EventFamily::Import.contains(kind) && event.failed());
        if points_at_app {
            if let Some(app) = event.target_id("AppInstance") {
                ids.insert(AppId::from(app));
            }
        }
    }
    let known: BTreeSet<&str> = snapshot.apps.value.iter().map(|a| a.id.as_str()).collect();
    ids.retain(|id| known.contains(id.as_str()));
    ids
}

async fn read_provisioning_state<O: OrgApi>(
    api: &O,
    snapshot: &mut Snapshot,
    interesting: &BTreeSet<AppId>,
    requests: &mut u64,
) {
    let mut problems = Vec::new();
    for app in snapshot
        .apps
        .value
        .iter_mut()
        .filter(|a| interesting.contains(&a.id) && !is_directory(a))
    {
        let app_id = app.id.clone();
        *requests += 1;
        match api.get_provisioning_connection(&app_id).await {
            Ok(connection) => {
                app.connection = Some(ConnectionInfo {
                    status: connection.status.as_str().to_owned(),
                    auth_scheme: connection
                        .auth_scheme
                        .or_else(|| connection.profile.and_then(|p| p.auth_scheme)),
                });
            }
            // Not every app has a provisioning connection Okta exposes: unknown, not a failure.
            Err(e) if e.is_not_found() || e.error_code() == Some("E0000060") => {}
            Err(e) => {
                problems.push(format!("connection of app {}: {}", app.id, describe(&e)));
                continue;
            }
        }
        let enabled = app
            .connection
            .as_ref()
            .is_some_and(|c| c.status == ProvisioningConnectionStatus::Enabled.as_str());
        if !(enabled && app.features_writable()) {
            continue;
        }
        *requests += 1;
        match api.get_user_provisioning_feature(&app_id).await {
            Ok(feature) => app.user_provisioning = feature.capabilities.map(|c| capabilities(&c)),
            Err(e) => problems.push(format!("features of app {}: {}", app.id, describe(&e))),
        }
    }
    if !problems.is_empty() {
        let reason = problems.join("; ");
        snapshot.apps.incomplete = Some(match snapshot.apps.incomplete.take() {
            Some(earlier) => format!("{earlier}; {reason}"),
            None => reason,
        });
    }
}

fn capabilities(c: &crate::okta::CapabilitiesObject) -> Capabilities {
    let on = |s: Option<&crate::okta::StatusHolder>| {
        s.is_some_and(|h| h.status == EnabledStatus::Enabled)
    };
    Capabilities {
        create_users: on(c.create.as_ref().and_then(|c| c.lifecycle_create.as_ref())),
        update_attributes: on(c.update.as_ref().and_then(|u| u.profile.as_ref())),
        deactivate_users: on(c
            .update
            .as_ref()
            .and_then(|u| u.lifecycle_deactivate.as_ref())),
    }
}

async fn read_push_mappings<O: OrgApi>(
    api: &O,
    policy: &Policy,
    snapshot: &mut Snapshot,
    interesting: &BTreeSet<AppId>,
    requests: &mut u64,
) {
    let candidates: Vec<(AppId, String)> = snapshot
        .apps
        .value
        .iter()
        .filter(|a| interesting.contains(&a.id) && !is_directory(a))
        .filter(|a| {
            a.provisioning_enabled() == Some(false)
                || policy
                    .remove_push_mappings
                    .for_app(&a.id, &a.label)
                    .is_some()
        })
        .map(|a| (a.id.clone(), a.label.clone()))
        .collect();
    for (app, _label) in candidates {
        let part = read_app_mappings(api, &app, requests).await;
        snapshot.push_mappings.insert(app, part);
    }
}

async fn read_app_mappings<O: OrgApi>(
    api: &O,
    app: &str,
    requests: &mut u64,
) -> Part<Vec<PushMappingInfo>> {
    let app_id = AppId::new(app);
    let mut mappings = Vec::new();
    let mut page = PageRequest::First;
    loop {
        *requests += 1;
        let result = match api.list_push_mappings(&app_id, None, page).await {
            Ok(result) => result,
            Err(e) => {
                let reason = if e.error_code() == Some(crate::okta::E_VALIDATION) {
                    format!(
                        "Okta lists Group Push mappings only while provisioning is enabled: {e}"
                    )
                } else {
                    describe(&e)
                };
                return Part::incomplete(mappings, reason);
            }
        };
        mappings.extend(result.items.into_iter().map(|m| {
            PushMappingInfo {
                id: m.id.clone(),
                status: m
                    .status
                    .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned()),
                source_group_id: m.source_group_id.unwrap_or_default(),
                target_group_id: m.target_group_id.map(GroupId::from),
                error_summary: m.error_summary,
            }
        }));
        let Some(next) = result.next else { break };
        page = PageRequest::Next(next);
    }
    mappings.sort_by(|a, b| a.id.cmp(&b.id));
    Part::complete(mappings)
}

async fn read_directories<O: OrgApi>(
    api: &O,
    policy: &Policy,
    snapshot: &mut Snapshot,
    requests: &mut u64,
) {
    let directories: Vec<AppInfo> = snapshot
        .apps
        .value
        .iter()
        .filter(|a| is_directory(a) && policy.force_sync_applies_to(&a.id, &a.label))
        .cloned()
        .collect();
    for dir in directories {
        let attributes = read_directory_diffs(api, policy, &dir.id, requests).await;
        snapshot.directories.push(DirectoryInfo {
            app_id: dir.id,
            label: dir.label,
            name: dir.name,
            attributes,
        });
    }
}

async fn read_directory_diffs<O: OrgApi>(
    api: &O,
    policy: &Policy,
    app: &str,
    requests: &mut u64,
) -> Part<Vec<AttributeDiff>> {
    let app_id = AppId::new(app);
    let mut diffs = Vec::new();
    let mut page = PageRequest::First;
    loop {
        *requests += 1;
        let result = match api.list_app_users_with_user(&app_id, page).await {
            Ok(result) => result,
            Err(e) => return Part::incomplete(diffs, describe(&e)),
        };
        for user in &result.items {
            diffs.extend(compare(policy, user));
        }
        if diffs.len() > MAX_DIFFS_PER_DIRECTORY {
            diffs.truncate(MAX_DIFFS_PER_DIRECTORY);
            return Part::incomplete(
                diffs,
                format!("more than {MAX_DIFFS_PER_DIRECTORY} attribute differences"),
            );
        }
        let Some(next) = result.next else { break };
        page = PageRequest::Next(next);
    }
    Part::complete(diffs)
}

/// The attributes where the directory app-user profile and the embedded Okta profile disagree
/// (the policy's pairs, or every attribute present under one name on both sides when policy
/// names none), and those where the app-user profile does not hold a value policy says the
/// directory now holds.
fn compare(policy: &Policy, app_user: &AppUser) -> Vec<AttributeDiff> {
    let okta_profile = app_user
        .embedded
        .as_ref()
        .and_then(|e| e.get("user"))
        .and_then(|u| u.get("profile"));
    let user_id = app_user.id.as_str();
    let login = okta_profile
        .and_then(|p| p.get("login"))
        .and_then(|l| l.as_str());
    let pairs: Vec<(String, String)> = if policy.force_sync.attributes.is_empty() {
        app_user
            .profile
            .keys()
            .filter(|k| okta_profile.is_some_and(|p| p.get(k.as_str()).is_some()))
            .map(|k| (k.clone(), k.clone()))
            .collect()
    } else {
        policy
            .force_sync
            .attributes
            .iter()
            .map(|p| (p.app_user.clone(), p.okta.clone()))
            .collect()
    };
    let expected = |attribute: &str| {
        policy
            .force_sync
            .expected
            .iter()
            .find(|x| {
                x.attribute == attribute
                    && (x.user == user_id || login.is_some_and(|l| l.eq_ignore_ascii_case(&x.user)))
            })
            .map(|x| x.value.clone())
    };
    pairs
        .into_iter()
        .filter_map(|(app_attr, okta_attr)| {
            let app_value = app_user.profile.get(&app_attr).filter(|v| !v.is_null());
            let okta_value = okta_profile
                .and_then(|p| p.get(&okta_attr))
                .filter(|v| !v.is_null());
            let reported = expected(&app_attr);
            let stale_directory = reported.as_ref().is_some_and(|r| Some(r) != app_value);
            (app_value != okta_value || stale_directory).then(|| AttributeDiff {
                user_id: user_id.into(),
                app_user_attribute: app_attr,
                app_user_value: app_value.cloned(),
                okta_attribute: okta_attr,
                okta_value: okta_value.cloned(),
                reported_directory_value: reported,
            })
        })
        .collect()
}

async fn read_agents<O: OrgApi>(api: &O, requests: &mut u64) -> Part<Vec<AgentInfo>> {
    *requests += 1;
    match api.list_agent_pools("AD").await {
        Ok(pools) => {
            let mut agents: Vec<AgentInfo> = pools
                .into_iter()
                .flat_map(|pool| {
                    let pool_id = pool.id.clone();
                    pool.agents.into_iter().map(move |a| AgentInfo {
                        id: a.id.unwrap_or_default().into(),
                        name: a.name.unwrap_or_default(),
                        pool_id: pool_id.clone(),
                        operational_status: a
                            .operational_status
                            .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned()),
                        last_connection: a
                            .last_connection
                            .and_then(DateTime::<Utc>::from_timestamp_millis),
                    })
                })
                .collect();
            agents.sort_by(|a, b| a.id.cmp(&b.id));
            Part::complete(agents)
        }
        Err(e) => Part::incomplete(Vec::new(), describe(&e)),
    }
}
