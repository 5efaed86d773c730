//! Reading an org into a [`Snapshot`] through [`OrgApi`]: pages are streamed and only what can
//! lead to an action or finding is kept. A failed read marks its part incomplete with its
//! [`PartId`] and [`ReadFailure`] and keeps what was read; it never leaves the part silently
//! empty. An app list that cannot be read is [`OrgUnreadable`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use super::app_kind::{AppKind, DirectoryKind};
use super::part::{Part, PartId, ReadFailure};
use super::snapshot::{
    AgentInfo, AppInfo, Capabilities, ConnectionInfo, EventInfo, EventTarget, FailedAssignment,
    PushMappingInfo, Snapshot,
};
use super::unreadable::OrgUnreadable;
use crate::okta::{
    relevant_events_filter, ApiError, AppId, AppUser, AppUserSyncState, Application, EnabledStatus,
    EventFamily, EventType, GroupId, GroupPushMappingStatus, LogEvent, LogsRequest, OrgApi,
    PageRequest, ProvisioningConnectionStatus, UserId,
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

/// The requests of an observation, as method and endpoint template: what a [`ReadFailure`]
/// names (no ids, no query, so nothing secret and few distinct values).
pub mod requests {
    pub const LIST_APPS: &str = "GET /api/v1/apps";
    pub const LIST_APP_USERS: &str = "GET /api/v1/apps/{appId}/users";
    pub const GET_APP: &str = "GET /api/v1/apps/{appId}";
    pub const GET_APP_USER: &str = "GET /api/v1/apps/{appId}/users/{userId}";
    pub const GET_USER: &str = "GET /api/v1/users/{userId}";
    pub const LIST_APP_USERS_WITH_USER: &str = "GET /api/v1/apps/{appId}/users?expand=user";
    pub const GET_CONNECTION: &str = "GET /api/v1/apps/{appId}/connections/default";
    pub const GET_USER_PROVISIONING: &str = "GET /api/v1/apps/{appId}/features/USER_PROVISIONING";
    pub const LIST_PUSH_MAPPINGS: &str = "GET /api/v1/apps/{appId}/group-push/mappings";
    pub const LIST_LOGS: &str = "GET /api/v1/logs";
    pub const LIST_AGENT_POOLS: &str = "GET /api/v1/agentPools";
}

/// What one observation produced.
#[derive(Debug)]
pub struct Observation {
    pub snapshot: Snapshot,
    /// The System Log's `next` link after the last page read (for incremental polling).
    pub log_next: Option<url::Url>,
    /// API requests made.
    pub requests: u64,
    /// The answers of the Group Push sweep's questions, per app asked.
    pub swept: BTreeMap<AppId, SweepAnswer>,
}

/// Which apps a full observation's Group Push sweep asks whether they have an ACTIVE mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SweepScope {
    /// Every candidate (`plan`, `apply`: a one-shot run has no later to spread the sweep over).
    #[default]
    All,
    /// Only these candidates: the daemon asks the others a few at a time between its full
    /// scans, and gives here the apps last known to have an ACTIVE mapping.
    Only(BTreeSet<AppId>),
}

/// What one sweep question (`GET .../group-push/mappings?limit=1&status=ACTIVE`) answered; its
/// name (`active`, `none`, `failed`) is a metric label.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, strum::EnumIter, strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
pub enum SweepAnswer {
    /// The app has an ACTIVE mapping.
    Active,
    /// It has none (or Okta says the app has no Group Push).
    #[strum(serialize = "none")]
    NoActive,
    /// The question failed: nothing is known.
    Failed,
}

impl crate::vocab::Named for SweepAnswer {
    const WHAT: &'static str = "sweep answer";
}

/// Where the System Log read starts.
#[derive(Debug, Clone)]
pub enum LogStart {
    /// Events published at or after this time.
    Since(DateTime<Utc>),
    /// Continue from a saved `next` link.
    Next(url::Url),
}

/// Reads the org. `now` is the observation time (the caller's clock). An app list that cannot
/// be read (every rule starts from it) makes the org unreadable: nothing else is read then.
pub async fn observe<O: OrgApi>(
    api: &O,
    org: &str,
    policy: &Policy,
    log_start: LogStart,
    now: DateTime<Utc>,
) -> Result<Observation, OrgUnreadable> {
    observe_scoped(api, org, policy, log_start, now, &SweepScope::All).await
}

/// [`observe`], with the Group Push sweep asking only the apps `sweep` names.
pub(crate) async fn observe_scoped<O: OrgApi>(
    api: &O,
    org: &str,
    policy: &Policy,
    log_start: LogStart,
    now: DateTime<Utc>,
    sweep: &SweepScope,
) -> Result<Observation, OrgUnreadable> {
    let mut requests = 0u64;
    let apps = match read_apps(api, &mut requests).await {
        Ok(apps) => Part::complete(apps),
        Err(failure) => {
            return Err(OrgUnreadable {
                org: org.to_owned(),
                failure,
                requests,
            })
        }
    };
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
    let swept = read_push_mappings(
        api,
        policy,
        &mut snapshot,
        &interesting,
        sweep,
        &mut requests,
    )
    .await;
    super::directory::read_directories(api, policy, &mut snapshot, &mut requests).await;
    let ad = AppKind::Directory(DirectoryKind::Ad);
    if snapshot.apps.value.iter().any(|a| a.kind() == ad) {
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
    Ok(Observation {
        snapshot,
        log_next,
        requests,
        swept,
    })
}

fn is_directory(app: &AppInfo) -> bool {
    app.is_directory()
}

/// Every app, or the failure that stopped the listing (a part of it is no app list).
async fn read_apps<O: OrgApi>(api: &O, requests: &mut u64) -> Result<Vec<AppInfo>, ReadFailure> {
    let mut apps = Vec::new();
    let mut page = PageRequest::First;
    loop {
        *requests += 1;
        let result = api
            .list_apps(page)
            .await
            .map_err(|e| ReadFailure::from_api(requests::LIST_APPS, &e))?;
        apps.extend(result.items.into_iter().map(app_info));
        let Some(next) = result.next else { break };
        page = PageRequest::Next(next);
    }
    apps.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(apps)
}

pub(super) fn app_info(app: Application) -> AppInfo {
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
        no_connection: None,
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
            Err(e) => {
                let failure = ReadFailure::from_api(requests::LIST_LOGS, &e);
                return (Part::incomplete(events, PartId::SystemLog, failure), None);
            }
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
            let failure = ReadFailure::limit(requests::LIST_LOGS, reason);
            return (Part::incomplete(events, PartId::SystemLog, failure), next);
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
    let reason = format!("the System Log still had events after {MAX_LOG_PAGES} pages");
    let failure = ReadFailure::limit(requests::LIST_LOGS, reason);
    (
        Part::incomplete(sorted(events), PartId::SystemLog, failure),
        None,
    )
}

fn sorted(mut events: Vec<EventInfo>) -> Vec<EventInfo> {
    events.sort_by(|a, b| (a.published, &a.uuid).cmp(&(b.published, &b.uuid)));
    events
}

pub(super) fn event_info(event: LogEvent) -> EventInfo {
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
    let results: Vec<(AppId, Listed, u64)> = stream::iter(active)
        .map(|app_id: AppId| async move {
            let (users, count) = failed_app_users(api, &app_id).await;
            (app_id, users, count)
        })
        .buffer_unordered(APP_LISTING_CONCURRENCY)
        .collect()
        .await;
    let latest_failure = latest_failures(events);
    let mut failed = Vec::new();
    let mut part = Part::complete(());
    for (app_id, listed, count) in results {
        *requests += count;
        if let Some(error) = &listed.error {
            let failure = ReadFailure::from_api(requests::LIST_APP_USERS, error);
            part.mark(PartId::AppUsers(app_id.clone()), failure);
        }
        for user in listed.failed {
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
    part.incomplete.sort_by(|a, b| a.part.cmp(&b.part));
    Part {
        value: failed,
        incomplete: part.incomplete,
    }
}

/// One app's app users in `syncState: ERROR` as far as they were listed, and the error that
/// stopped the listing, if one did.
struct Listed {
    failed: Vec<AppUser>,
    error: Option<ApiError>,
}

/// The app users of one app in `syncState: ERROR`, and how many requests it took. A listing
/// that fails mid-way keeps what it read (the app's part is then incomplete).
async fn failed_app_users<O: OrgApi>(api: &O, app: &str) -> (Listed, u64) {
    let app = AppId::new(app);
    let mut page = PageRequest::First;
    let mut failed = Vec::new();
    let mut count = 0;
    loop {
        count += 1;
        let result = match api.list_app_users(&app, page).await {
            Ok(result) => result,
            Err(e) => {
                let error = Some(e);
                return (Listed { failed, error }, count);
            }
        };
        failed.extend(
            result
                .items
                .into_iter()
                .filter(|u| u.sync_state == Some(AppUserSyncState::Error)),
        );
        let Some(next) = result.next else {
            return (
                Listed {
                    failed,
                    error: None,
                },
                count,
            );
        };
        page = PageRequest::Next(next);
    }
}

/// The latest provisioning failure event per (app id, user id).
pub(super) fn latest_failures(events: &[EventInfo]) -> BTreeMap<(AppId, UserId), EventInfo> {
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
    let mut unread = Vec::new();
    for app in snapshot
        .apps
        .value
        .iter_mut()
        .filter(|a| interesting.contains(&a.id) && !is_directory(a))
    {
        let app_id = app.id.clone();
        if let Err(failure) = read_connection(api, app, requests).await {
            unread.push((PartId::Connections(app_id), failure));
            continue;
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
            Err(e) => {
                let failure = ReadFailure::from_api(requests::GET_USER_PROVISIONING, &e);
                unread.push((PartId::Features(app_id), failure));
            }
        }
    }
    for (part, failure) in unread {
        snapshot.apps.mark(part, failure);
    }
}

/// Reads `app`'s provisioning connection into it: its status, or Okta's answer that the app
/// exposes none (a state, kept as evidence); `Err` is a failed read.
pub(super) async fn read_connection<O: OrgApi>(
    api: &O,
    app: &mut AppInfo,
    requests: &mut u64,
) -> Result<(), ReadFailure> {
    *requests += 1;
    match api.get_provisioning_connection(&app.id).await {
        Ok(connection) => {
            app.connection = Some(ConnectionInfo {
                status: connection.status.as_str().to_owned(),
                auth_scheme: connection
                    .auth_scheme
                    .or_else(|| connection.profile.and_then(|p| p.auth_scheme)),
            });
            Ok(())
        }
        Err(e) if no_such_thing(&e) => {
            app.no_connection = Some(ReadFailure::from_api(requests::GET_CONNECTION, &e));
            Ok(())
        }
        Err(e) => Err(ReadFailure::from_api(requests::GET_CONNECTION, &e)),
    }
}

/// Okta's answer that the app has no such thing (404, or `E0000060` for an operation the app
/// does not support): a state of the app, not a failed read.
pub(super) fn no_such_thing(e: &ApiError) -> bool {
    e.is_not_found() || e.error_code() == Some(E_UNSUPPORTED_OPERATION)
}

/// Okta's `errorCode` for an operation the app does not support (a provisioning connection
/// of an app without provisioning).
const E_UNSUPPORTED_OPERATION: &str = "E0000060";

pub(super) fn capabilities(c: &crate::okta::CapabilitiesObject) -> Capabilities {
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
    sweep: &SweepScope,
    requests: &mut u64,
) -> BTreeMap<AppId, SweepAnswer> {
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
    sweep_push_mappings(api, snapshot, sweep, requests).await
}

/// The apps the Group Push sweep asks: those whose mappings the snapshot does not hold, whose
/// object allows mappings and whose provisioning is not known to be enabled.
pub(crate) fn sweep_candidates(snapshot: &Snapshot) -> impl Iterator<Item = &AppId> {
    snapshot
        .apps
        .value
        .iter()
        .filter(|a| !snapshot.push_mappings.contains_key(&a.id))
        .filter(|a| a.can_hold_push_mappings() && a.provisioning_enabled() != Some(true))
        .map(|a| &a.id)
}

/// Asks whether `app` has an ACTIVE Group Push mapping, in one request. Okta's answer that
/// the app has no Group Push is a no; any other failure is returned, as the failed read.
pub(crate) async fn ask_active_mapping<O: OrgApi>(
    api: &O,
    app: &AppId,
) -> Result<bool, ReadFailure> {
    match api
        .has_push_mapping(app, GroupPushMappingStatus::Active)
        .await
    {
        Ok(active) => Ok(active),
        Err(e) if no_such_thing(&e) => Ok(false),
        Err(e) => Err(mappings_failure(&e)),
    }
}

/// Finds orphaned mappings from the org's structure, whatever the System Log says: every
/// candidate `scope` names is asked whether it has an ACTIVE mapping (`limit=1`, one request);
/// only an app that has one costs its connection (when not read yet) and, unless provisioning
/// is enabled, its full mapping list. An app whose question failed is marked incomplete, never
/// taken as clean.
async fn sweep_push_mappings<O: OrgApi>(
    api: &O,
    snapshot: &mut Snapshot,
    scope: &SweepScope,
    requests: &mut u64,
) -> BTreeMap<AppId, SweepAnswer> {
    let swept: Vec<AppId> = sweep_candidates(snapshot)
        .filter(|app| match scope {
            SweepScope::All => true,
            SweepScope::Only(apps) => apps.contains(*app),
        })
        .cloned()
        .collect();
    let mut answers = BTreeMap::new();
    for app_id in swept {
        *requests += 1;
        match ask_active_mapping(api, &app_id).await {
            Ok(false) => {
                answers.insert(app_id, SweepAnswer::NoActive);
                continue;
            }
            Ok(true) => {
                answers.insert(app_id.clone(), SweepAnswer::Active);
            }
            Err(failure) => {
                answers.insert(app_id.clone(), SweepAnswer::Failed);
                let part =
                    Part::incomplete(Vec::new(), PartId::PushMappings(app_id.clone()), failure);
                snapshot.push_mappings.insert(app_id, part);
                continue;
            }
        }
        if !connection_known(snapshot, &app_id) {
            let Some(app) = snapshot.apps.value.iter_mut().find(|a| a.id == app_id) else {
                continue;
            };
            if let Err(failure) = read_connection(api, app, requests).await {
                snapshot
                    .apps
                    .mark(PartId::Connections(app_id.clone()), failure);
            }
        }
        if snapshot
            .app(&app_id)
            .and_then(AppInfo::provisioning_enabled)
            == Some(true)
        {
            continue;
        }
        let part = read_app_mappings(api, &app_id, requests).await;
        snapshot.push_mappings.insert(app_id, part);
    }
    answers
}

/// Whether `app`'s connection was read already (its status, Okta's "none", or a failure).
fn connection_known(snapshot: &Snapshot, app: &AppId) -> bool {
    let part = PartId::Connections(app.clone());
    snapshot.unread(&part).is_some()
        || snapshot
            .app(app)
            .is_some_and(|a| a.connection.is_some() || a.no_connection.is_some())
}

/// A failed mappings read, with what Okta's validation answer means here.
fn mappings_failure(e: &ApiError) -> ReadFailure {
    let mut failure = ReadFailure::from_api(requests::LIST_PUSH_MAPPINGS, e);
    if e.error_code() == Some(crate::okta::E_VALIDATION) {
        failure.reason = format!(
            "{} (Okta lists Group Push mappings only while provisioning is enabled)",
            failure.reason
        );
    }
    failure
}

pub(super) async fn read_app_mappings<O: OrgApi>(
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
                let failure = mappings_failure(&e);
                return Part::incomplete(mappings, PartId::PushMappings(app_id), failure);
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

pub(super) async fn read_agents<O: OrgApi>(api: &O, requests: &mut u64) -> Part<Vec<AgentInfo>> {
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
        Err(e) => {
            let failure = ReadFailure::from_api(requests::LIST_AGENT_POOLS, &e);
            Part::incomplete(Vec::new(), PartId::Agents, failure)
        }
    }
}
