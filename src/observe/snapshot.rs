//! The snapshot: what the planner needs to know about an org, read at one time. It holds only
//! what can lead to an action or finding (apps, app users in error, push mappings of apps that
//! matter, directory attribute differences, relevant System Log events), so it grows with the
//! problems, not with the org. A part whose read failed is marked incomplete (with its
//! [`PartId`] and [`ReadFailure`]), never left empty.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::app_kind::AppKind;
use super::part::{Freshness, Incomplete, Part, PartId};
use super::profile::ProfileValue;
use super::ReadFailure;
use crate::okta::{AgentId, AgentPoolId, AppId, GroupId, MappingId, UserId};

/// The org as observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The org URL.
    pub org: String,
    pub observed_at: DateTime<Utc>,
    /// Every app (a summary each: small even for thousands of apps). Its incomplete entries
    /// name the per-app reads of connections and features that failed, too; the app list
    /// itself failing ([`PartId::Apps`]) is an unreadable org, not a snapshot.
    pub apps: Part<Vec<AppInfo>>,
    /// App users in `syncState: ERROR`, across all apps read. Incomplete per app whose user
    /// list could not be read entirely ([`PartId::AppUsers`]); what was read of it is kept.
    pub failed_assignments: Part<Vec<FailedAssignment>>,
    /// Group Push mappings, read for the apps where they matter (provisioning disabled, or named
    /// by policy), keyed by app id.
    pub push_mappings: BTreeMap<AppId, Part<Vec<PushMappingInfo>>>,
    /// Directory integrations named by policy, with their attribute comparisons.
    pub directories: Vec<DirectoryInfo>,
    /// AD/LDAP agents (`GET /api/v1/agentPools`).
    pub agents: Part<Vec<AgentInfo>>,
    /// System Log events relevant to the rules, oldest first.
    pub events: Part<Vec<EventInfo>>,
    /// Results of the TCP 464 probes of the domain controllers named in policy (empty when none).
    pub kpasswd_probes: Vec<ProbeResult>,
    /// The parts read again (or failed to be) since the full scan at `observed_at`, for a
    /// snapshot the daemon keeps and patches; a part not named here is as the scan read it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freshness: BTreeMap<PartId, Freshness>,
}

impl Snapshot {
    pub fn app(&self, app_id: &str) -> Option<&AppInfo> {
        self.apps.value.iter().find(|a| a.id == app_id)
    }

    /// Whether every part was read completely.
    pub fn is_complete(&self) -> bool {
        self.incomplete().is_empty()
    }

    /// Every part left unread, ordered by part.
    pub fn incomplete(&self) -> Vec<&Incomplete> {
        let mut all: Vec<&Incomplete> = self
            .apps
            .incomplete
            .iter()
            .chain(&self.failed_assignments.incomplete)
            .chain(self.push_mappings.values().flat_map(|p| &p.incomplete))
            .chain(
                self.directories
                    .iter()
                    .flat_map(|d| &d.attributes.incomplete),
            )
            .chain(&self.agents.incomplete)
            .chain(&self.events.incomplete)
            .collect();
        all.sort_by(|a, b| a.part.cmp(&b.part));
        all
    }

    /// How current `part` is (see [`Freshness`]).
    pub fn freshness(&self, part: &PartId) -> Freshness {
        self.freshness
            .get(part)
            .cloned()
            .unwrap_or(Freshness::Fresh {
                at: self.observed_at,
            })
    }

    /// Why `part` was left unread, if it was.
    pub fn unread(&self, part: &PartId) -> Option<&Incomplete> {
        let parts = match part {
            PartId::Apps | PartId::Connections(_) | PartId::Features(_) => &self.apps.incomplete,
            PartId::AppUsers(_) => &self.failed_assignments.incomplete,
            PartId::PushMappings(app) => &self.push_mappings.get(app)?.incomplete,
            PartId::DirectoryProfiles(dir) => {
                &self
                    .directories
                    .iter()
                    .find(|d| &d.app_id == dir)?
                    .attributes
                    .incomplete
            }
            PartId::Agents => &self.agents.incomplete,
            PartId::SystemLog => &self.events.incomplete,
        };
        parts.iter().find(|i| &i.part == part)
    }
}

/// An app and its provisioning state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AppInfo {
    pub id: AppId,
    /// The integration's name, e.g. `active_directory`, `slack`, `okta_org2org`.
    pub name: String,
    pub label: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// The read-only `features` array (`PUSH_NEW_USERS`, `PUSH_USER_DEACTIVATION`, ...).
    pub features: BTreeSet<String>,
    /// The provisioning connection (`GET .../connections/default`), when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionInfo>,
    /// The `USER_PROVISIONING` feature's capabilities, for apps whose features are writable
    /// through the API and whose provisioning is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_provisioning: Option<Capabilities>,
    /// Okta answered that the app has no provisioning connection (404, or `E0000060` for an
    /// app without provisioning), when it did: the answer, kept as evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_connection: Option<ReadFailure>,
}

impl AppInfo {
    /// The app's kind (directory or not), from its integration name.
    pub fn kind(&self) -> AppKind {
        AppKind::of(&self.name)
    }

    pub fn is_directory(&self) -> bool {
        self.kind().is_directory()
    }

    /// Whether provisioning is known to be enabled / disabled (`None`: unknown).
    pub fn provisioning_enabled(&self) -> Option<bool> {
        self.connection
            .as_ref()
            .and_then(|c| match c.status.as_str() {
                "ENABLED" => Some(true),
                "DISABLED" => Some(false),
                _ => None,
            })
    }

    /// Whether the app object allows Group Push mappings at all (see
    /// [`super::app_kind::can_hold_push_mappings`]): directories and integrations without
    /// provisioning do not.
    pub fn can_hold_push_mappings(&self) -> bool {
        super::app_kind::can_hold_push_mappings(&self.name)
    }

    /// Apps whose provisioning features Okta lets the API change (per the spec's tag list).
    pub fn features_writable(&self) -> bool {
        FEATURES_API_APPS.contains(&self.name.as_str())
    }
}

/// The apps for which Okta documents the Application Features API (`USER_PROVISIONING`).
pub const FEATURES_API_APPS: &[&str] = &[
    "google",
    "office365",
    "okta_org2org",
    "slack",
    "zoomus",
    "zscalerbyz",
];

/// An app's default provisioning connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    /// `ENABLED`, `DISABLED` or `UNKNOWN`.
    pub status: String,
    /// `TOKEN`, `OAUTH2` or `UNKNOWN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_scheme: Option<String>,
}

/// The "To App" provisioning capabilities (`USER_PROVISIONING`), as booleans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Create Users (`create.lifecycleCreate`).
    pub create_users: bool,
    /// Update User Attributes (`update.profile`).
    pub update_attributes: bool,
    /// Deactivate Users (`update.lifecycleDeactivate`).
    pub deactivate_users: bool,
}

/// An app user whose provisioning failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedAssignment {
    pub app_id: AppId,
    pub user_id: UserId,
    /// `AppUserStatus`, e.g. `STAGED`, `PROVISIONED`.
    pub status: String,
    /// Always `ERROR` today; kept for evidence.
    pub sync_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<DateTime<Utc>>,
    /// The latest failure event for this app user in the System Log (the error text lives there,
    /// not on the app user), when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EventInfo>,
}

impl FailedAssignment {
    /// The error text, when the System Log gave one.
    pub fn error_text(&self) -> Option<&str> {
        self.error
            .as_ref()
            .and_then(|e| e.reason.as_deref().or(Some(e.display_message.as_str())))
            .filter(|t| !t.is_empty())
    }
}

/// A Group Push mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushMappingInfo {
    pub id: MappingId,
    /// `ACTIVE`, `INACTIVE` or `ERROR`.
    pub status: String,
    pub source_group_id: GroupId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_id: Option<GroupId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_summary: Option<String>,
}

/// A directory integration (an AD/LDAP app instance) named by policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectoryInfo {
    pub app_id: AppId,
    pub label: String,
    pub name: String,
    /// Attribute comparisons where the directory app-user profile and the Okta profile differ,
    /// for the attributes policy names.
    pub attributes: Part<Vec<AttributeDiff>>,
}

/// One attribute where the directory and Okta disagree, or where policy says the directory
/// holds a value (`force_sync.expected`) that its app-user profile does not show. Both values
/// were read (an unread profile gives no comparison: its directory's part is incomplete).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeDiff {
    pub user_id: UserId,
    pub app_user_attribute: String,
    pub app_user_value: ProfileValue,
    pub okta_attribute: String,
    pub okta_value: ProfileValue,
    /// The value policy's `force_sync.expected` says the directory holds for this user and
    /// attribute (from a change ticket), when it names one: lets the planner tell "Force Sync
    /// will help" from "it will not".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_directory_value: Option<serde_json::Value>,
}

/// An AD/LDAP agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub id: AgentId,
    pub name: String,
    pub pool_id: AgentPoolId,
    /// `OPERATIONAL`, `DEGRADED`, `DISRUPTED`, `INACTIVE`.
    pub operational_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_connection: Option<DateTime<Utc>>,
}

/// A System Log event, reduced to what the rules use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInfo {
    pub uuid: String,
    pub published: DateTime<Utc>,
    pub event_type: String,
    pub display_message: String,
    /// `SUCCESS`, `FAILURE`, ...
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Targets as `(type, id)` pairs, e.g. `("User", "00u1")`, `("AppInstance", "0oa1")`.
    pub targets: Vec<EventTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
}

impl EventInfo {
    /// The id of the first target of `kind` (e.g. `User`, `AppInstance`, `AppUser`).
    pub fn target_id(&self, kind: &str) -> Option<&str> {
        self.targets
            .iter()
            .find(|t| t.kind == kind)
            .map(|t| t.id.as_str())
    }

    /// The Okta user the event is about: its `User` target, else its `AppUser` target (an app
    /// user's id is its Okta user's id). Okta does not always put them in the same place.
    pub fn user_id(&self) -> Option<&str> {
        self.target_id("User").or_else(|| self.target_id("AppUser"))
    }

    pub fn succeeded(&self) -> bool {
        self.outcome == "SUCCESS"
    }

    pub fn failed(&self) -> bool {
        self.outcome == "FAILURE"
    }
}

/// One `target[]` entry of a System Log event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTarget {
    /// The target's `type`.
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// A TCP connect probe of a domain controller's KPASSWD port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub host: String,
    pub port: u16,
    pub reachable: bool,
    /// The connect error, when not reachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
