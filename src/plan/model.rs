//! The plan: concrete actions with every detail resolved, findings for what cannot be fixed
//! safely, and the candidates that were not taken with the reason. Its JSON form is the contract
//! of `remediator plan --output json` (DESIGN.md).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::policy::SelectorWarning;

/// What an action or finding is about (the journal's target: one notion of "the same target"
/// for cooldowns, attempts and the journal's indices).
pub use crate::journal::Target;

/// A plan for one org at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The org URL the plan was made for.
    pub org: String,
    pub generated_at: DateTime<Utc>,
    /// False when some part of the observation failed; destructive actions are then withheld.
    pub complete: bool,
    pub actions: Vec<Action>,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    /// Policy selector entries that matched no app or several (docs/policy.md).
    #[serde(default)]
    pub warnings: Vec<SelectorWarning>,
}

impl Plan {
    /// Whether carrying out the plan would change anything.
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty()
    }
}

/// The kinds of fixes remediator carries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    RetryProvisioning,
    ForceSync,
    RemovePushMappings,
    FixProvisioningFeatures,
}

impl ActionKind {
    pub const ALL: [ActionKind; 4] = [
        ActionKind::RetryProvisioning,
        ActionKind::ForceSync,
        ActionKind::RemovePushMappings,
        ActionKind::FixProvisioningFeatures,
    ];

    /// The spelling used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::RetryProvisioning => "retry-provisioning",
            ActionKind::ForceSync => "force-sync",
            ActionKind::RemovePushMappings => "remove-push-mappings",
            ActionKind::FixProvisioningFeatures => "fix-provisioning-features",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ActionKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ActionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown action kind {text:?}: expected one of retry-provisioning, force-sync, \
                     remove-push-mappings, fix-provisioning-features"
                )
            })
    }
}

/// A stable, deterministic action id: the same candidate in the same state gets the same id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(pub String);

impl ActionId {
    /// `act-` and the first 16 hex digits of sha256(kind, target key, state fingerprint).
    pub fn derive(kind: ActionKind, target: &Target, fingerprint: &str) -> ActionId {
        let mut hasher = Sha256::new();
        hasher.update(kind.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(target.key().as_bytes());
        hasher.update([0]);
        hasher.update(fingerprint.as_bytes());
        let digest = hex::encode(hasher.finalize());
        ActionId(format!("act-{}", &digest[..16]))
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One fix to carry out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub id: ActionId,
    pub kind: ActionKind,
    pub target: Target,
    /// Why, in one sentence.
    pub reason: String,
    pub evidence: Vec<Evidence>,
    /// What the executor will do, in order; nothing is left to decide.
    pub steps: Vec<Step>,
    /// What must still hold when the action is carried out (checked against fresh state).
    #[serde(default)]
    pub preconditions: Vec<Precondition>,
}

/// Observed facts backing an action or finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Evidence {
    /// An app user in provisioning error.
    AppUser {
        app_id: String,
        user_id: String,
        status: String,
        sync_state: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_text: Option<String>,
    },
    /// A System Log event.
    LogEvent {
        uuid: String,
        published: DateTime<Utc>,
        event_type: String,
        outcome: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        display_message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
    },
    /// A directory attribute compared with the Okta profile.
    Attribute {
        user_id: String,
        app_user_attribute: String,
        app_user_value: Option<serde_json::Value>,
        okta_attribute: String,
        okta_value: Option<serde_json::Value>,
    },
    /// A provisioning feature's wanted and actual state.
    Feature {
        app_id: String,
        feature: String,
        wanted: bool,
        actual: bool,
    },
    /// A Group Push mapping.
    PushMapping {
        app_id: String,
        mapping_id: String,
        status: String,
        source_group_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_group_id: Option<String>,
    },
    /// An app's provisioning connection.
    Connection { app_id: String, status: String },
    /// A directory agent's health.
    Agent {
        agent_id: String,
        name: String,
        operational_status: String,
    },
    /// A free-form observation.
    Note { text: String },
}

/// One step of an action, fully resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Step {
    /// `POST /api/v1/apps/{appId}/users/{userId}` with the current profile.
    RepushAppUser { app_id: String, user_id: String },
    /// The configured non-public task-retry call.
    RetryTasks {
        app_id: String,
        user_ids: Vec<String>,
    },
    /// The configured non-public Force Sync call.
    ForceSyncDirectory { directory_id: String },
    /// Set a provisioning connection token from a credential source named in policy and activate it.
    EnableProvisioning {
        app_id: String,
        /// Where the credential comes from (an env var or file name, never the value).
        credential: String,
    },
    /// `PATCH` a Group Push mapping to INACTIVE.
    DeactivatePushMapping { app_id: String, mapping_id: String },
    /// `DELETE` a Group Push mapping.
    DeletePushMapping {
        app_id: String,
        mapping_id: String,
        delete_target_group: bool,
    },
    /// Deactivate the provisioning connection again.
    DisableProvisioning { app_id: String },
    /// `PUT /api/v1/apps/{appId}/features/USER_PROVISIONING` (partial update).
    UpdateProvisioningFeatures {
        app_id: String,
        create_users: Option<bool>,
        update_attributes: Option<bool>,
        deactivate_users: Option<bool>,
    },
    /// Read back and check the postcondition.
    Verify { what: String },
}

/// A condition the executor re-checks against fresh state before acting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "kebab-case")]
pub enum Precondition {
    AppUserSyncState {
        app_id: String,
        user_id: String,
        sync_state: String,
    },
    ConnectionStatus {
        app_id: String,
        status: String,
    },
    PushMappingStatus {
        app_id: String,
        mapping_id: String,
        status: String,
    },
    AttributeDiffers {
        user_id: String,
        okta_attribute: String,
        expected: Option<serde_json::Value>,
    },
    FeatureState {
        app_id: String,
        feature: String,
        enabled: bool,
    },
}

/// The kinds of findings: problems reported with evidence and manual steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    KpasswdBlocked,
    ForceSyncWouldNotHelp,
    ProvisioningCredentialsInvalid,
    PushMappingsOrphanedNoCredential,
    /// Orphaned Group Push mappings that policy does not let remediator remove.
    PushMappingsOrphaned,
    ProvisioningFeaturesDrift,
    /// A retry that policy forbids or that already failed its attempts.
    RetryNotSafe,
    /// A fix that did not verify after its attempts (quarantined).
    FixQuarantined,
    /// A directory needs a Force Sync that policy does not let remediator call (the call is
    /// non-public): the Admin Console steps are given instead.
    ForceSyncNeeded,
}

/// A problem that is reported, not fixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub target: Target,
    pub reason: String,
    pub evidence: Vec<Evidence>,
    pub manual_steps: Vec<String>,
}

/// A candidate action that was not taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub kind: ActionKind,
    pub target: Target,
    pub why: SkipReason,
    /// The specifics (which budget, until when, which part of the read).
    pub detail: String,
}

/// Why a candidate was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    Budget,
    Cooldown,
    Backoff,
    MaxAttempts,
    Mode,
    IncompleteRead,
    DeniedByPolicy,
    CircuitBreakerOpen,
    TooRecent,
    TargetBusy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_ids_are_stable_and_depend_on_kind_target_and_state() {
        let target = Target {
            app_id: Some("0oa1".into()),
            user_id: Some("00u1".into()),
            ..Target::default()
        };
        let a = ActionId::derive(ActionKind::RetryProvisioning, &target, "evt-1");
        assert_eq!(
            a,
            ActionId::derive(ActionKind::RetryProvisioning, &target, "evt-1")
        );
        assert_ne!(a, ActionId::derive(ActionKind::ForceSync, &target, "evt-1"));
        assert_ne!(
            a,
            ActionId::derive(ActionKind::RetryProvisioning, &target, "evt-2")
        );
        assert!(a.0.starts_with("act-") && a.0.len() == 20);
    }

    #[test]
    fn json_shape_matches_the_cli_contract() {
        let plan = Plan {
            org: "https://example.okta.com".into(),
            generated_at: DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
                .expect("valid time")
                .with_timezone(&Utc),
            complete: true,
            actions: vec![Action {
                id: ActionId("act-0123456789abcdef".into()),
                kind: ActionKind::RemovePushMappings,
                target: Target {
                    app_id: Some("0oa1".into()),
                    mapping_ids: vec!["gPm1".into()],
                    ..Target::default()
                },
                reason: "orphaned mappings".into(),
                evidence: vec![Evidence::Connection {
                    app_id: "0oa1".into(),
                    status: "DISABLED".into(),
                }],
                steps: vec![Step::DeletePushMapping {
                    app_id: "0oa1".into(),
                    mapping_id: "gPm1".into(),
                    delete_target_group: false,
                }],
                preconditions: vec![],
            }],
            findings: vec![],
            skipped: vec![],
            warnings: vec![],
        };
        let json = serde_json::to_value(&plan).expect("plan serializes");
        for key in [
            "org",
            "generated_at",
            "complete",
            "actions",
            "findings",
            "skipped",
            "warnings",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        let action = &json["actions"][0];
        assert_eq!(action["kind"], "remove-push-mappings");
        assert_eq!(action["target"]["mapping_ids"][0], "gPm1");
        assert!(action["target"].get("user_id").is_none());
        assert_eq!(action["steps"][0]["op"], "delete-push-mapping");
        let back: Plan = serde_json::from_value(json).expect("plan deserializes");
        assert_eq!(back, plan);
    }
}
