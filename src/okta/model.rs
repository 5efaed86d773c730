//! Serde wire types of the Okta Management API objects the client reads and writes.
//!
//! Field names follow Okta's OpenAPI spec. Unknown fields are tolerated, enums that Okta may
//! extend carry an `Unknown(String)` catch-all, and a `null` where the spec promises a string,
//! an array or an object reads as empty (real orgs send such nulls), so neither fails a whole
//! page.

use super::ids::{AgentPoolId, AppId, GroupId, MappingId, UserId};
use super::paging::Listed;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Reads `null` as the type's default (Okta sends `null` for some strings, arrays and objects
/// its spec does not declare nullable).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Declares a string enum with a catch-all `Unknown(String)` variant.
macro_rules! open_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                #[doc = concat!("`", $wire, "`")]
                $variant,
            )+
            /// A value this client does not know yet.
            Unknown(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok(Self::from(s.as_str()))
            }
        }
    };
}

open_enum!(
    /// `AppUser.status`.
    AppUserStatus {
        Active => "ACTIVE", Approved => "APPROVED", Deprovisioned => "DEPROVISIONED",
        Implicit => "IMPLICIT", Imported => "IMPORTED", Inactive => "INACTIVE", Matched => "MATCHED",
        Pending => "PENDING", Provisioned => "PROVISIONED", Revoked => "REVOKED", Staged => "STAGED",
        Suspended => "SUSPENDED", Unassigned => "UNASSIGNED",
    }
);
open_enum!(
    /// `AppUser.syncState`.
    AppUserSyncState {
        Disabled => "DISABLED", Error => "ERROR", OutOfSync => "OUT_OF_SYNC",
        Synchronized => "SYNCHRONIZED", Syncing => "SYNCING",
    }
);
open_enum!(
    /// `Application.status`.
    ApplicationLifecycleStatus { Active => "ACTIVE", Inactive => "INACTIVE", Deleted => "DELETED" }
);
open_enum!(
    /// `GroupPushMapping.status`.
    GroupPushMappingStatus { Active => "ACTIVE", Error => "ERROR", Inactive => "INACTIVE" }
);
open_enum!(
    /// `ProvisioningConnectionResponse.status`.
    ProvisioningConnectionStatus { Disabled => "DISABLED", Enabled => "ENABLED", Unsupported => "UNKNOWN" }
);
open_enum!(
    /// `EnabledStatus` used by features and capabilities.
    EnabledStatus { Enabled => "ENABLED", Disabled => "DISABLED" }
);
open_enum!(
    /// `UserStatus`.
    UserStatus {
        Active => "ACTIVE", Deprovisioned => "DEPROVISIONED", LockedOut => "LOCKED_OUT",
        PasswordExpired => "PASSWORD_EXPIRED", Provisioned => "PROVISIONED", Recovery => "RECOVERY",
        Staged => "STAGED", Suspended => "SUSPENDED",
    }
);
open_enum!(
    /// `AgentPool.operationalStatus` / `Agent.operationalStatus`.
    OperationalStatus { Disrupted => "DISRUPTED", Inactive => "INACTIVE", Operational => "OPERATIONAL" }
);

/// `PATCH` body values for a push mapping: the only two statuses Okta accepts there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PushMappingTarget {
    /// Resume pushing.
    Active,
    /// Stop pushing (required before DELETE).
    Inactive,
}

/// An application instance (`Application`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// Unique id.
    pub id: AppId,
    /// The app's key name in the catalog (`name`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// User-defined display name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub label: String,
    /// Lifecycle status.
    pub status: Option<ApplicationLifecycleStatus>,
    /// Read-only provisioning features such as `PUSH_NEW_USERS`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub features: Vec<String>,
    /// Sign-on mode.
    pub sign_on_mode: Option<String>,
    /// Creation time.
    pub created: Option<DateTime<Utc>>,
    /// Last update time.
    pub last_updated: Option<DateTime<Utc>>,
}

/// An assignment of a user to an app (`AppUser`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUser {
    /// The user id.
    pub id: UserId,
    /// Id in the downstream app.
    pub external_id: Option<String>,
    /// `USER` or `GROUP`.
    pub scope: Option<String>,
    /// Assignment status.
    pub status: Option<AppUserStatus>,
    /// Provisioning sync state.
    pub sync_state: Option<AppUserSyncState>,
    /// Last sync with the app.
    pub last_sync: Option<DateTime<Utc>>,
    /// Last status change.
    pub status_changed: Option<DateTime<Utc>>,
    /// Creation time.
    pub created: Option<DateTime<Utc>>,
    /// Last update time.
    pub last_updated: Option<DateTime<Utc>>,
    /// The app-specific profile.
    #[serde(default, deserialize_with = "null_as_default")]
    pub profile: serde_json::Map<String, Value>,
    /// Embedded resources (error details, the user); kept as JSON.
    #[serde(rename = "_embedded", default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<Value>,
}

/// Body of `POST /api/v1/apps/{appId}/users/{userId}` (`AppUserUpdateRequest`, profile form).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppUserUpdateRequest {
    /// The new app-user profile.
    pub profile: serde_json::Map<String, Value>,
}

/// A status holder: `{"status": "ENABLED"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusHolder {
    /// The status.
    pub status: EnabledStatus,
}

/// `CapabilitiesCreateObject`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilitiesCreateObject {
    /// Create users in the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_create: Option<StatusHolder>,
}

/// `CapabilitiesUpdateObject`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilitiesUpdateObject {
    /// Deactivate users in the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_deactivate: Option<StatusHolder>,
    /// Update user attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<StatusHolder>,
    /// Password push settings, kept as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Value>,
}

/// `CapabilitiesObject`: the provisioning capabilities of `USER_PROVISIONING`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CapabilitiesObject {
    /// Create capabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create: Option<CapabilitiesCreateObject>,
    /// Update capabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<CapabilitiesUpdateObject>,
}

/// `ApplicationFeature`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationFeature {
    /// Feature name, e.g. `USER_PROVISIONING`.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Feature status.
    pub status: Option<EnabledStatus>,
    /// Capabilities (for `USER_PROVISIONING`).
    pub capabilities: Option<CapabilitiesObject>,
}

/// The outcome of reading an app's features.
#[derive(Debug, Clone, PartialEq)]
pub enum FeaturesOutcome {
    /// The features as listed.
    Features(Vec<ApplicationFeature>),
    /// Okta answered 400 `E0000001`: provisioning is not enabled for the app.
    ProvisioningNotEnabled,
}

/// `ProvisioningConnectionResponseProfile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningConnectionProfile {
    /// `TOKEN`, `OAUTH2`, `UNKNOWN`, ...
    pub auth_scheme: Option<String>,
}

/// `ProvisioningConnectionResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningConnection {
    /// Connection status.
    pub status: ProvisioningConnectionStatus,
    /// Auth scheme (top level, token connections).
    pub auth_scheme: Option<String>,
    /// Base URL of the downstream app.
    pub base_url: Option<String>,
    /// Profile.
    pub profile: Option<ProvisioningConnectionProfile>,
}

/// `GroupPushMapping`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPushMapping {
    /// Mapping id.
    pub id: MappingId,
    /// Status.
    pub status: Option<GroupPushMappingStatus>,
    /// Okta source group.
    pub source_group_id: Option<GroupId>,
    /// Group in the target app.
    pub target_group_id: Option<String>,
    /// Last push error, if any.
    pub error_summary: Option<String>,
    /// Last push.
    pub last_push: Option<DateTime<Utc>>,
    /// Creation time.
    pub created: Option<DateTime<Utc>>,
    /// Last update time.
    pub last_updated: Option<DateTime<Utc>>,
}

/// `User`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// User id.
    pub id: UserId,
    /// Status.
    pub status: Option<UserStatus>,
    /// Creation time.
    pub created: Option<DateTime<Utc>>,
    /// Last update time.
    pub last_updated: Option<DateTime<Utc>>,
    /// Profile.
    #[serde(default, deserialize_with = "null_as_default")]
    pub profile: serde_json::Map<String, Value>,
}

/// `LogActor` / `LogTarget` (shared shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogObject {
    /// Id.
    pub id: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Alternate id.
    pub alternate_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
}

/// `LogOutcome`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogOutcome {
    /// `SUCCESS`, `FAILURE`, ...
    pub result: Option<String>,
    /// May be null.
    pub reason: Option<String>,
}

/// `LogEvent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    /// Event id.
    pub uuid: String,
    /// Publication time.
    pub published: DateTime<Utc>,
    /// Event type, e.g. `application.provision.user.sync`.
    pub event_type: String,
    /// Human-readable message.
    pub display_message: Option<String>,
    /// Severity.
    pub severity: Option<String>,
    /// Actor.
    pub actor: Option<LogObject>,
    /// Outcome.
    pub outcome: Option<LogOutcome>,
    /// Targets.
    #[serde(default, deserialize_with = "null_as_default")]
    pub target: Vec<LogObject>,
    /// Debug context, kept as JSON.
    pub debug_context: Option<Value>,
}

/// `Agent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// Agent id.
    pub id: Option<String>,
    /// Agent name.
    pub name: Option<String>,
    /// Operational status.
    pub operational_status: Option<OperationalStatus>,
    /// Last connection, epoch milliseconds.
    pub last_connection: Option<i64>,
    /// Pool id.
    pub pool_id: Option<AgentPoolId>,
    /// Agent type (`AD`, `LDAP`, ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Version.
    pub version: Option<String>,
}

/// `AgentPool`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPool {
    /// Pool id.
    pub id: AgentPoolId,
    /// Pool name.
    pub name: Option<String>,
    /// Pool type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Operational status.
    pub operational_status: Option<OperationalStatus>,
    /// Agents.
    #[serde(default, deserialize_with = "null_as_default")]
    pub agents: Vec<Agent>,
}

/// `ErrorCause`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCause {
    /// Summary of the cause.
    pub error_summary: Option<String>,
}

/// Okta's `Error` object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaErrorBody {
    /// e.g. `E0000011`.
    pub error_code: Option<String>,
    /// Summary.
    pub error_summary: Option<String>,
    /// Link (usually the code).
    pub error_link: Option<String>,
    /// Request id of the failed call.
    pub error_id: Option<String>,
    /// Causes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub error_causes: Vec<ErrorCause>,
}

impl Listed for Application {
    fn listing_id(&self) -> &str {
        self.id.as_str()
    }
}

impl Listed for AppUser {
    fn listing_id(&self) -> &str {
        self.id.as_str()
    }
}

impl Listed for GroupPushMapping {
    fn listing_id(&self) -> &str {
        self.id.as_str()
    }
}

impl Listed for LogEvent {
    fn listing_id(&self) -> &str {
        &self.uuid
    }
}
