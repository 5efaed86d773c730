//! The simulated org's in-memory state and its write semantics (pushes, retries, Force Sync).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, SubsecRound as _, Utc};
use serde_json::{json, Map, Value};

use super::event_hooks::EventSink;
use super::events::{
    actor_json, complete_event, display_message_of, has_own_event, transaction_json,
};
use super::scenario::{parse_time, CapabilitiesSpec, Scenario, TokenState};

/// Event type of a failed push unless the scenario names another.
pub(crate) const DEFAULT_FAILURE_EVENT: &str = "application.provision.user.push";

/// Sim-only reason an app user's last push failed; decides what a retry does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The next retry succeeds.
    Transient,
    /// The next N retries fail, then one succeeds.
    TransientTimes(u32),
    /// Cleared once this read-only feature (e.g. PUSH_USER_DEACTIVATION) is enabled.
    FeatureDisabled(String),
    /// Cleared once the app's connection holds a valid token.
    CredentialsInvalid,
    /// Cleared once the directory's port 464 is open.
    KpasswdBlocked,
}

impl FromStr for Cause {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(n) = s.strip_prefix("transient-times:") {
            return n
                .parse()
                .map(Cause::TransientTimes)
                .map_err(|_| format!("{s:?}: N must be a number"));
        }
        if let Some(f) = s.strip_prefix("feature-disabled:") {
            return Ok(Cause::FeatureDisabled(f.to_owned()));
        }
        match s {
            "transient" => Ok(Cause::Transient),
            "credentials-invalid" => Ok(Cause::CredentialsInvalid),
            "kpasswd-blocked" => Ok(Cause::KpasswdBlocked),
            _ => Err(format!(
                "{s:?} is not one of transient, transient-times:N, feature-disabled:FEATURE, credentials-invalid, kpasswd-blocked"
            )),
        }
    }
}

/// Formats an object timestamp the way Okta does: whole seconds with a `.000` fraction and `Z`
/// (`2026-06-09T13:23:58.000Z`; every recorded app, app user, user and group timestamp has it).
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.trunc_subsecs(0)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Formats a Group Push mapping timestamp as Okta does: whole seconds, no fraction
/// (`2026-03-25T13:45:47Z`).
pub(crate) fn ts_seconds(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Formats a System Log timestamp (`published`): milliseconds as they are.
pub(crate) fn event_ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Catalog names of apps that are sources rather than sign-on targets: directories and HR or CSV
/// sources. Okta sends `signOnMode: null` and `universalLogout: {"status":"UNSUPPORTED"}` for
/// them (every recorded `active_directory`, `csv_directory_v2`, `custom_identity_source` and
/// `deelhr` object); `ldap_sun_one` is Okta's LDAP directory integration.
pub(crate) const SOURCE_APP_NAMES: &[&str] = &[
    "active_directory",
    "csv_directory_v2",
    "custom_identity_source",
    "deelhr",
    "ldap_sun_one",
];

/// The `Date`-independent id of the simulated org, used in app `orn`s.
pub(crate) const ORG_ID: &str = "00osimulatedorg00001";

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: String,
    pub status: String,
    pub created: DateTime<Utc>,
    /// None while the user was never activated (STAGED), as Okta sends `null`.
    pub activated: Option<DateTime<Utc>>,
    /// None while the status never changed (STAGED).
    pub status_changed: Option<DateTime<Utc>>,
    pub last_updated: DateTime<Utc>,
    pub profile: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub enabled: bool,
    pub auth_scheme: String,
    pub token: TokenState,
    pub valid_tokens: Vec<String>,
    /// The target org of an Org2Org connection (`baseUrl`), as posted or set by the scenario.
    pub base_url: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct AppUser {
    pub id: String,
    pub external_id: Option<String>,
    pub status: String,
    pub sync_state: String,
    pub scope: String,
    /// `credentials.userName`.
    pub user_name: String,
    pub profile: Map<String, Value>,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub last_sync: Option<DateTime<Utc>>,
    pub cause: Option<Cause>,
    pub error_text: Option<String>,
    /// Event type of this app user's failures (`application.provision.user.push` by default).
    pub error_event_type: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    pub id: String,
    pub source_group_id: String,
    pub target_group_id: String,
    pub status: String,
    pub error_summary: Option<String>,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    /// Only when the scenario sets one: no recorded mapping carries `lastPush`.
    pub last_push: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Directory {
    pub kpasswd_open: bool,
    pub mappings: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct App {
    pub id: String,
    pub name: String,
    pub label: String,
    pub status: String,
    /// None for source apps (directories, HR sources): Okta sends `null`.
    pub sign_on_mode: Option<String>,
    pub extra_features: Vec<String>,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub connection: Option<Connection>,
    pub caps: CapabilitiesSpec,
    /// App users ordered by id (Okta lists them in id order; cursors are ids).
    pub users: Vec<AppUser>,
    pub user_index: HashMap<String, usize>,
    /// The app-user profile attributes of the app's schema: an app user without a value for one
    /// is sent with `null`, as Okta does.
    pub profile_schema: BTreeSet<String>,
    /// Ordered by id.
    pub mappings: Vec<Mapping>,
    pub directory: Option<Directory>,
}

impl App {
    /// The read-only `features` array, kept consistent with the capabilities.
    pub fn features(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let provisioning = self.connection.as_ref().is_some_and(|c| c.enabled);
        if provisioning {
            if self.caps.lifecycle_create {
                out.push("PUSH_NEW_USERS".into());
            }
            if self.caps.update_profile {
                out.push("PUSH_PROFILE_UPDATES".into());
            }
            if self.caps.lifecycle_deactivate {
                out.push("PUSH_USER_DEACTIVATION".into());
                out.push("REACTIVATE_USERS".into());
            }
            if self.caps.update_password {
                out.push("PUSH_PASSWORD_UPDATES".into());
            }
        }
        for f in &self.extra_features {
            if !out.contains(f) {
                out.push(f.clone());
            }
        }
        out
    }

    /// Whether the app is a directory or HR/CSV source rather than a sign-on target.
    pub fn is_source(&self) -> bool {
        self.directory.is_some() || SOURCE_APP_NAMES.contains(&self.name.as_str())
    }

    /// Whether Okta keeps a `lastSync` for this app's users: only apps with a push or import
    /// feature do (recorded app users of apps without one carry no `lastSync` key).
    pub fn syncs_users(&self) -> bool {
        self.features()
            .iter()
            .any(|f| f.starts_with("PUSH_") || f.starts_with("IMPORT_"))
    }

    pub fn provisioning_enabled(&self) -> bool {
        self.connection.as_ref().is_some_and(|c| c.enabled)
    }

    /// Whether Okta pushes to this app: an enabled provisioning connection, or a directory
    /// integration (AD/LDAP push goes through the agents, not a connection).
    pub fn pushes(&self) -> bool {
        self.provisioning_enabled() || self.directory.is_some()
    }

    pub fn app_user(&self, id: &str) -> Option<&AppUser> {
        self.user_index.get(id).map(|&i| &self.users[i])
    }

    pub fn app_user_mut(&mut self, id: &str) -> Option<&mut AppUser> {
        let i = *self.user_index.get(id)?;
        self.users.get_mut(i)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub id: String,
    pub name: String,
    pub operational_status: String,
    pub last_connection: Option<DateTime<Utc>>,
    pub version: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct AgentPool {
    pub id: String,
    pub name: String,
    pub pool_type: String,
    pub operational_status: String,
    pub agents: Vec<Agent>,
}

/// One System Log event with its sort key.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub published: DateTime<Utc>,
    pub seq: u64,
    pub body: Value,
}

/// Who performed a write (the API token or the service app), for event actors.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub id: String,
    pub kind: String,
    pub alternate_id: String,
    pub display_name: String,
    /// Set when the request was authenticated by an API token.
    pub api_token_id: Option<String>,
    /// The `X-Okta-Request-Id` of the request, used as the transaction id of WEB events.
    pub request_id: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            id: "0oasimsystem00000000".into(),
            kind: "SystemPrincipal".into(),
            alternate_id: "system@okta.com".into(),
            display_name: "Okta System".into(),
            api_token_id: None,
            request_id: None,
        }
    }
}

/// The whole org.
#[derive(Debug)]
pub(crate) struct Org {
    pub users: Vec<User>,
    pub user_index: HashMap<String, usize>,
    pub login_index: HashMap<String, usize>,
    pub groups: Vec<Group>,
    pub apps: Vec<App>,
    pub app_index: HashMap<String, usize>,
    pub pools: Vec<AgentPool>,
    /// Sorted by (published, seq).
    pub events: Vec<Event>,
    next_seq: u64,
    /// Where appended events go for Event Hook delivery (set once the simulator serves).
    pub event_sink: Option<EventSink>,
}

impl Org {
    /// Builds the org from a validated scenario; relative times are relative to `now`.
    pub fn from_scenario(mut s: Scenario, now: DateTime<Utc>) -> Org {
        // Okta lists every collection in id order, and the list cursors are ids.
        s.users.sort_by(|a, b| a.id.cmp(&b.id));
        s.groups.sort_by(|a, b| a.id.cmp(&b.id));
        s.apps.sort_by(|a, b| a.id.cmp(&b.id));
        for app in &mut s.apps {
            app.users.sort_by(|a, b| a.id.cmp(&b.id));
            app.group_push.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let at = |t: &Option<String>, default: DateTime<Utc>| {
            t.as_deref()
                .and_then(|t| parse_time(t, now).ok())
                .unwrap_or(default)
        };
        let created_default = now - chrono::Duration::days(30);
        let users: Vec<User> = s
            .users
            .iter_mut()
            .map(|u| {
                let created = at(&u.created, created_default);
                let activated = (u.status != "STAGED").then_some(created);
                User {
                    id: u.id.clone(),
                    status: u.status.clone(),
                    created,
                    activated,
                    status_changed: activated,
                    last_updated: created_default,
                    profile: std::mem::take(&mut u.profile),
                }
            })
            .collect();
        let groups = s
            .groups
            .iter()
            .map(|g| Group {
                id: g.id.clone(),
                name: g.name.clone(),
                description: g.description.clone(),
                created: created_default,
            })
            .collect();
        let apps = s
            .apps
            .iter_mut()
            .map(|a| build_app(a, now, created_default))
            .collect();
        let pools = s
            .agent_pools
            .iter()
            .map(|p| AgentPool {
                id: p.id.clone(),
                name: p.name.clone(),
                pool_type: p.pool_type.clone(),
                operational_status: p.operational_status.clone(),
                agents: p
                    .agents
                    .iter()
                    .map(|a| Agent {
                        id: a.id.clone(),
                        name: a.name.clone(),
                        operational_status: a.operational_status.clone(),
                        last_connection: a
                            .last_connection
                            .as_deref()
                            .and_then(|t| parse_time(t, now).ok()),
                        version: a.version.clone(),
                    })
                    .collect(),
            })
            .collect();
        let mut org = Org {
            users,
            user_index: HashMap::new(),
            login_index: HashMap::new(),
            groups,
            apps,
            app_index: HashMap::new(),
            pools,
            events: Vec::new(),
            next_seq: 0,
            event_sink: None,
        };
        org.reindex();
        org.default_user_names();
        org.seed_events(&s, now);
        org
    }

    /// App users without a scenario `user_name` get their app profile's email, else the Okta
    /// user's login (Okta always sends `credentials.userName`).
    fn default_user_names(&mut self) {
        let logins: HashMap<String, String> = self
            .users
            .iter()
            .filter_map(|u| {
                let login = u.profile.get("login")?.as_str()?;
                Some((u.id.clone(), login.to_owned()))
            })
            .collect();
        for app in &mut self.apps {
            for au in app.users.iter_mut().filter(|au| au.user_name.is_empty()) {
                au.user_name = au
                    .profile
                    .get("email")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| logins.get(&au.id).cloned())
                    .unwrap_or_else(|| au.id.clone());
            }
        }
    }

    fn reindex(&mut self) {
        for (i, u) in self.users.iter().enumerate() {
            self.user_index.insert(u.id.clone(), i);
            if let Some(login) = u.profile.get("login").and_then(Value::as_str) {
                self.login_index.insert(login.to_owned(), i);
            }
        }
        for (i, a) in self.apps.iter().enumerate() {
            self.app_index.insert(a.id.clone(), i);
        }
    }

    fn seed_events(&mut self, s: &Scenario, now: DateTime<Utc>) {
        for e in &s.events {
            let mut body = e.clone();
            let published = body
                .get("published")
                .and_then(Value::as_str)
                .and_then(|p| parse_time(p, now).ok())
                .unwrap_or(now);
            complete_event(&mut body, published);
            self.push_event_at(published, body);
        }
        let mut failures = Vec::new();
        for (a, app_spec) in s.apps.iter().enumerate() {
            for au in app_spec.users.iter().filter(|u| {
                u.sync_state == "ERROR" && !has_own_event(&s.events, &app_spec.id, &u.id)
            }) {
                let event_type = au
                    .error_event_type
                    .clone()
                    .unwrap_or_else(|| DEFAULT_FAILURE_EVENT.into());
                let when = self.apps[a]
                    .app_user(&au.id)
                    .map(|x| x.last_updated)
                    .unwrap_or(now);
                failures.push((a, au.id.clone(), event_type, au.error_text.clone(), when));
            }
        }
        for (a, user_id, event_type, reason, when) in failures {
            let body = self.push_event_body(
                a,
                &user_id,
                &event_type,
                false,
                reason.as_deref(),
                &Actor::system(),
                when,
            );
            self.push_event_at(when, body);
        }
    }

    pub fn user(&self, id_or_login: &str) -> Option<&User> {
        let i = self
            .user_index
            .get(id_or_login)
            .or_else(|| self.login_index.get(id_or_login))?;
        self.users.get(*i)
    }

    /// A group by id (groups are ordered by id).
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups
            .binary_search_by(|g| g.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.groups[i])
    }

    pub fn app(&self, id: &str) -> Option<&App> {
        self.app_index.get(id).map(|&i| &self.apps[i])
    }

    pub fn app_pos(&self, id: &str) -> Option<usize> {
        self.app_index.get(id).copied()
    }

    /// Appends an event published at `at`, keeping the log sorted.
    pub fn push_event_at(&mut self, at: DateTime<Utc>, body: Value) {
        if let Some(sink) = &self.event_sink {
            sink.send(&body);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let event = Event {
            published: at,
            seq,
            body,
        };
        let pos = self
            .events
            .partition_point(|e| (e.published, e.seq) <= (at, seq));
        self.events.insert(pos, event);
    }

    /// Appends an event published now.
    pub fn push_event(&mut self, body: Value) {
        let now = Utc::now();
        let mut body = body;
        complete_event(&mut body, now);
        self.push_event_at(now, body);
    }

    /// The body of a provisioning push event for one app user.
    #[allow(clippy::too_many_arguments)]
    pub fn push_event_body(
        &self,
        app: usize,
        user_id: &str,
        event_type: &str,
        success: bool,
        reason: Option<&str>,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Value {
        let app = &self.apps[app];
        let user = self.user(user_id);
        let login = user
            .and_then(|u| u.profile.get("login"))
            .and_then(Value::as_str)
            .unwrap_or(user_id)
            .to_owned();
        let name = user.map(display_name).unwrap_or_else(|| login.clone());
        let display_message = display_message_of(event_type);
        let mut body = json!({
            "eventType": event_type,
            "displayMessage": display_message,
            "severity": if success { "INFO" } else { "ERROR" },
            "outcome": { "result": if success { "SUCCESS" } else { "FAILURE" }, "reason": reason },
            "actor": actor_json(actor),
            "target": [
                { "id": user_id, "type": "User", "alternateId": login, "displayName": name },
                { "id": app.id, "type": "AppInstance", "alternateId": app.label, "displayName": app.label },
                { "id": user_id, "type": "AppUser", "alternateId": login, "displayName": name },
            ],
            "debugContext": { "debugData": { "appname": app.name } },
        });
        if !success {
            body["legacyEventType"] = json!("app.user_management.provision_user_failed");
        }
        complete_event(&mut body, at);
        body["transaction"] = transaction_json(
            actor,
            if actor.kind == "SystemPrincipal" {
                "JOB"
            } else {
                "WEB"
            },
        );
        body
    }

    /// An app-level write event (lifecycle, connection, features, group push).
    pub fn app_event(
        &mut self,
        app: usize,
        event_type: &str,
        message: &str,
        actor: &Actor,
        extra_target: Option<Value>,
    ) {
        let a = &self.apps[app];
        let mut targets = vec![json!({
            "id": a.id, "type": "AppInstance", "alternateId": a.label, "displayName": a.label
        })];
        if let Some(t) = extra_target {
            targets.push(t);
        }
        let body = json!({
            "eventType": event_type,
            "displayMessage": message,
            "severity": "INFO",
            "outcome": { "result": "SUCCESS", "reason": null },
            "actor": actor_json(actor),
            "target": targets,
            "transaction": transaction_json(actor, "WEB"),
        });
        self.push_event(body);
    }

    /// Attempts a push of one app user (a re-push or a retry). Returns whether it succeeded.
    pub fn attempt_push(&mut self, app: usize, user_id: &str, actor: &Actor) -> bool {
        let now = Utc::now();
        let blocked = self.cause_still_holds(app, user_id);
        let Some(au) = self.apps[app].app_user_mut(user_id) else {
            return false;
        };
        if blocked {
            au.sync_state = "ERROR".into();
            au.last_updated = now;
            self.log_push_failure(app, user_id, actor, now);
            return false;
        }
        au.sync_state = "SYNCHRONIZED".into();
        au.cause = None;
        au.error_text = None;
        au.last_sync = Some(now);
        au.last_updated = now;
        let created = au.status == "STAGED";
        if created {
            au.status = "PROVISIONED".into();
        }
        let event_type = if created {
            "application.provision.user.push"
        } else {
            "application.provision.user.push_profile"
        };
        let body = self.push_event_body(app, user_id, event_type, true, None, actor, now);
        self.push_event_at(now, body);
        true
    }

    /// Makes one app user fail now, as a failed push in Okta: syncState ERROR, the cause and text
    /// kept for later retries, and the System Log FAILURE event (actor Okta System, a JOB
    /// transaction). Returns the event, or None when the app has no such user.
    pub fn fail_app_user(
        &mut self,
        app: usize,
        user_id: &str,
        cause: Cause,
        reason: Option<String>,
        event_type: Option<String>,
    ) -> Option<Value> {
        let now = Utc::now();
        let label = self.apps[app].label.clone();
        let name = self
            .user(user_id)
            .map(display_name)
            .unwrap_or_else(|| user_id.to_owned());
        let au = self.apps[app].app_user_mut(user_id)?;
        au.sync_state = "ERROR".into();
        au.last_updated = now;
        au.cause = Some(cause);
        au.error_text = Some(reason.unwrap_or_else(|| {
            format!("Automatic provisioning of user {name} to app {label} failed: Error while pushing user: the simulated target application refused the change")
        }));
        if let Some(t) = event_type {
            au.error_event_type = t;
        }
        self.log_push_failure(app, user_id, &Actor::system(), now)
    }

    /// The System Log FAILURE event of the app user's failed push (its kept error text and event
    /// type), published at `now`; returns it, or None when the app has no such user.
    fn log_push_failure(
        &mut self,
        app: usize,
        user_id: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Option<Value> {
        let au = self.apps[app].app_user(user_id)?;
        let reason = au.error_text.clone();
        let event_type = au.error_event_type.clone();
        let body = self.push_event_body(
            app,
            user_id,
            &event_type,
            false,
            reason.as_deref(),
            actor,
            now,
        );
        self.push_event_at(now, body.clone());
        Some(body)
    }

    /// Whether the app user's failure cause survives one more attempt (consumes transient counts).
    fn cause_still_holds(&mut self, app: usize, user_id: &str) -> bool {
        let features = self.apps[app].features();
        let connection_ok = self.apps[app]
            .connection
            .as_ref()
            .is_some_and(|c| c.token == TokenState::Valid);
        let kpasswd_open = self.apps[app]
            .directory
            .as_ref()
            .is_none_or(|d| d.kpasswd_open);
        let Some(au) = self.apps[app].app_user_mut(user_id) else {
            return true;
        };
        match au.cause.clone() {
            None | Some(Cause::Transient) => false,
            Some(Cause::TransientTimes(0)) => false,
            Some(Cause::TransientTimes(n)) => {
                au.cause = Some(Cause::TransientTimes(n - 1));
                true
            }
            Some(Cause::FeatureDisabled(f)) => !features.contains(&f),
            Some(Cause::CredentialsInvalid) => !connection_ok,
            Some(Cause::KpasswdBlocked) => !kpasswd_open,
        }
    }

    /// Force Sync: copies each directory app user's mapped attributes to the Okta profile.
    /// Returns the ids of users whose profile changed.
    pub fn force_sync(&mut self, app: usize, actor: &Actor) -> Vec<String> {
        let Some(dir) = self.apps[app].directory.clone() else {
            return Vec::new();
        };
        let now = Utc::now();
        let mut changed = Vec::new();
        let pairs: Vec<(String, Map<String, Value>)> = self.apps[app]
            .users
            .iter()
            .map(|u| (u.id.clone(), u.profile.clone()))
            .collect();
        for (user_id, app_profile) in pairs {
            let Some(&ui) = self.user_index.get(&user_id) else {
                continue;
            };
            let user = &mut self.users[ui];
            let mut changes = Vec::new();
            for (app_attr, okta_attr) in &dir.mappings {
                let Some(v) = app_profile.get(app_attr).filter(|v| !v.is_null()) else {
                    continue;
                };
                if user.profile.get(okta_attr) != Some(v) {
                    changes.push((
                        okta_attr.clone(),
                        user.profile.get(okta_attr).cloned(),
                        v.clone(),
                    ));
                    user.profile.insert(okta_attr.clone(), v.clone());
                }
            }
            if changes.is_empty() {
                continue;
            }
            user.last_updated = now;
            let login = user.profile.get("login").cloned().unwrap_or(Value::Null);
            let name = display_name(user);
            let detail: Map<String, Value> = changes
                .iter()
                .map(|(k, from, to)| (k.clone(), json!({ "from": from, "to": to })))
                .collect();
            self.push_event(json!({
                "eventType": "user.account.update_profile",
                "displayMessage": "Update user profile for Okta",
                "severity": "INFO",
                "outcome": { "result": "SUCCESS", "reason": null },
                "actor": actor_json(actor),
                "target": [{ "id": user_id, "type": "User", "alternateId": login, "displayName": name, "changeDetails": { "from": {}, "to": detail } }],
                "transaction": transaction_json(actor, "JOB"),
            }));
            changed.push(user_id);
        }
        changed
    }
}

fn build_app(a: &mut super::scenario::AppSpec, now: DateTime<Utc>, created: DateTime<Utc>) -> App {
    let users: Vec<AppUser> = a
        .users
        .iter_mut()
        .map(|u| AppUser {
            id: u.id.clone(),
            external_id: u.external_id.clone(),
            status: u.status.clone(),
            sync_state: u.sync_state.clone(),
            scope: u.scope.clone(),
            user_name: u.user_name.clone().unwrap_or_default(),
            profile: std::mem::take(&mut u.profile),
            created,
            last_updated: now - chrono::Duration::hours(1),
            last_sync: u.last_sync.as_deref().and_then(|t| parse_time(t, now).ok()),
            cause: u.cause.as_deref().and_then(|c| c.parse().ok()),
            error_text: u.error_text.clone(),
            error_event_type: u
                .error_event_type
                .clone()
                .unwrap_or_else(|| DEFAULT_FAILURE_EVENT.to_owned()),
        })
        .collect();
    let user_index = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.clone(), i))
        .collect();
    let profile_schema = a
        .profile_schema
        .iter()
        .cloned()
        .chain(users.iter().flat_map(|u| u.profile.keys().cloned()))
        .collect();
    App {
        id: a.id.clone(),
        name: a.name.clone(),
        label: a.label.clone(),
        status: a.status.clone(),
        sign_on_mode: if a.is_source() {
            None
        } else {
            Some(
                a.sign_on_mode
                    .clone()
                    .unwrap_or_else(|| DEFAULT_SIGN_ON_MODE.to_owned()),
            )
        },
        extra_features: a.features.clone(),
        created,
        last_updated: created,
        connection: a.provisioning.as_ref().map(|p| Connection {
            enabled: p.status == "ENABLED",
            auth_scheme: p.auth_scheme.clone(),
            token: p.token,
            valid_tokens: p.valid_tokens.clone(),
            base_url: p.base_url.clone(),
        }),
        caps: a.capabilities,
        users,
        user_index,
        profile_schema,
        mappings: a
            .group_push
            .iter()
            .map(|m| Mapping {
                id: m.id.clone(),
                source_group_id: m.source_group_id.clone(),
                target_group_id: m.target_group_id.clone(),
                status: m.status.clone(),
                error_summary: m.error_summary.clone(),
                created,
                last_updated: m
                    .last_updated
                    .as_deref()
                    .and_then(|t| parse_time(t, now).ok())
                    .unwrap_or(created),
                last_push: m.last_push.as_deref().and_then(|t| parse_time(t, now).ok()),
            })
            .collect(),
        directory: a.directory.as_ref().map(|d| Directory {
            kpasswd_open: d.kpasswd_open,
            mappings: d.mappings.clone(),
        }),
    }
}

/// The sign-on mode of an app whose scenario names none.
const DEFAULT_SIGN_ON_MODE: &str = "SAML_2_0";

pub(crate) fn display_name(u: &User) -> String {
    let first = u
        .profile
        .get("firstName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let last = u
        .profile
        .get("lastName")
        .and_then(Value::as_str)
        .unwrap_or("");
    format!("{first} {last}").trim().to_owned()
}
