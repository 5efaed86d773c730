//! The plan: concrete actions with every detail resolved, findings for what cannot be fixed
//! safely, and the candidates that were not taken with the reason. Its JSON form is the contract
//! of `remediator plan --output json` (README, "Using it on an org").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{EnumIter, IntoStaticStr};

use crate::observe::{Incomplete, PartId};
use crate::okta::{AgentId, AppId, GroupId, MappingId, UserId};
use crate::vocab::named;

pub use crate::policy::SelectorWarning;

/// What an action or finding is about (one notion of "the same target" for cooldowns,
/// attempts and the journal's indices).
pub use crate::vocab::Target;
pub use crate::vocab::{ActionId, ActionKind, FindingId, FindingKind, SkipReason};

/// A plan for one org at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The org URL the plan was made for.
    pub org: String,
    pub generated_at: DateTime<Utc>,
    /// True iff every part of the observation was read (`incomplete` is empty).
    pub complete: bool,
    /// The parts of the observation that were not read, each with the failing request and why.
    /// What depends on a part (docs/executor.md, "What depends on what") is withheld: listed in
    /// `skipped` with reason `incomplete-read` and that `part`.
    #[serde(default)]
    pub incomplete: Vec<Incomplete>,
    pub actions: Vec<Action>,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    /// Policy selector entries that matched no app or several (docs/policy.md).
    #[serde(default)]
    pub warnings: Vec<SelectorWarning>,
    /// The label of each app or directory and the login of each user the plan names, by id,
    /// where the observation knows them (shown beside the ids; never used to decide).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
    /// What a saved plan (`plan --out`) records to be checked against when it is carried out:
    /// the policy it was made under and its own content. Absent from a plan not saved (and
    /// from plans saved before digests).
    #[serde(flatten)]
    pub digests: PlanDigests,
}

/// A saved plan's digests (each `sha256:` and 64 hex digits), written by `plan --out` and
/// checked by `apply --plan`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDigests {
    /// Of the canonical policy: every policy file's name with the digest of its canonical
    /// content (comments and layout do not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_digest: Option<String>,
    /// Each policy file's canonical digest, by file name, to say which file changed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub policy_files: std::collections::BTreeMap<String, String>,
    /// Of the plan's canonical JSON without these three fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_digest: Option<String>,
}

impl Plan {
    /// Whether carrying out the plan would change anything.
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty()
    }

    /// The candidates withheld because `part` was not read.
    pub fn withheld_by<'a>(&'a self, part: &'a PartId) -> impl Iterator<Item = &'a Skipped> {
        self.skipped
            .iter()
            .filter(move |s| s.part.as_ref() == Some(part))
    }
}

/// Whether an action is carried out or only shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum ActionMode {
    /// Its rule is in `enforce` mode: `apply` and the daemon carry it out.
    Enforce,
    /// Its rule is in `dry-run` mode: planned and shown, never carried out.
    Preview,
}
named!(ActionMode, "action mode");

/// One fix to carry out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub id: ActionId,
    pub kind: ActionKind,
    /// Set by the planner from the rule's mode; the executor carries out only `enforce`
    /// actions (and checks the rule is still in `enforce` mode when it does).
    pub mode: ActionMode,
    pub target: Target,
    /// Why, in one sentence.
    pub reason: String,
    pub evidence: Vec<Evidence>,
    /// What the executor will do, in order; nothing is left to decide.
    pub steps: Vec<Step>,
    /// What must still hold when the action is carried out (checked against fresh state).
    #[serde(default)]
    pub preconditions: Vec<Precondition>,
    /// For an enforce action of a rule that requires approval: its plan hash and whether it
    /// is approved (only an approved one is carried out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<super::approval::ActionApproval>,
}

/// Observed facts backing an action or finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Evidence {
    /// An app user in provisioning error.
    AppUser {
        app_id: AppId,
        user_id: UserId,
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
        user_id: Option<UserId>,
    },
    /// A directory attribute compared with the Okta profile.
    Attribute {
        user_id: UserId,
        app_user_attribute: String,
        app_user_value: Option<serde_json::Value>,
        okta_attribute: String,
        okta_value: Option<serde_json::Value>,
    },
    /// A provisioning feature's wanted and actual state.
    Feature {
        app_id: AppId,
        feature: String,
        wanted: bool,
        actual: bool,
    },
    /// A Group Push mapping.
    PushMapping {
        app_id: AppId,
        mapping_id: MappingId,
        status: String,
        source_group_id: GroupId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_group_id: Option<GroupId>,
    },
    /// An app's provisioning connection.
    Connection { app_id: AppId, status: String },
    /// A directory agent's health.
    Agent {
        agent_id: AgentId,
        name: String,
        operational_status: String,
    },
    /// A free-form observation.
    Note { text: String },
}

/// One step of an action, fully resolved. Its `op` (serde's tag) and [`Step::op`] are both the
/// variant's name in kebab-case; a test holds them equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, IntoStaticStr)]
#[serde(tag = "op", rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Step {
    /// `POST /api/v1/apps/{appId}/users/{userId}` with the current profile.
    RepushAppUser { app_id: AppId, user_id: UserId },
    /// The configured non-public task-retry call.
    RetryTasks {
        app_id: AppId,
        user_ids: Vec<UserId>,
    },
    /// The configured non-public Force Sync call.
    ForceSyncDirectory { directory_id: AppId },
    /// Set a provisioning connection token from a credential source named in policy and activate it.
    EnableProvisioning {
        app_id: AppId,
        /// Where the credential comes from (an env var or file name, never the value).
        credential: String,
    },
    /// `PATCH` a Group Push mapping to INACTIVE.
    DeactivatePushMapping {
        app_id: AppId,
        mapping_id: MappingId,
    },
    /// `DELETE` a Group Push mapping.
    DeletePushMapping {
        app_id: AppId,
        mapping_id: MappingId,
        delete_target_group: bool,
    },
    /// Deactivate the provisioning connection again.
    DisableProvisioning { app_id: AppId },
    /// `PUT /api/v1/apps/{appId}/features/USER_PROVISIONING` (partial update).
    UpdateProvisioningFeatures {
        app_id: AppId,
        create_users: Option<bool>,
        update_attributes: Option<bool>,
        deactivate_users: Option<bool>,
    },
    /// Read back and check the postcondition.
    Verify { what: String },
}

impl Step {
    /// The step's operation (`delete-push-mapping`), as in the plan's `op` and the journal's
    /// step names.
    pub fn op(&self) -> &'static str {
        self.into()
    }
}

/// A condition the executor re-checks against fresh state before acting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "kebab-case")]
pub enum Precondition {
    AppUserSyncState {
        app_id: AppId,
        user_id: UserId,
        sync_state: String,
    },
    ConnectionStatus {
        app_id: AppId,
        status: String,
    },
    PushMappingStatus {
        app_id: AppId,
        mapping_id: MappingId,
        status: String,
    },
    AttributeDiffers {
        user_id: UserId,
        okta_attribute: String,
        expected: Option<serde_json::Value>,
    },
    FeatureState {
        app_id: AppId,
        feature: String,
        enabled: bool,
    },
}

/// A problem that is reported, not fixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Derived from the kind and the target only: the same problem on the same target has the
    /// same id on every run, whatever its evidence or wording.
    pub id: FindingId,
    pub kind: FindingKind,
    pub target: Target,
    pub reason: String,
    pub evidence: Vec<Evidence>,
    pub manual_steps: Vec<String>,
}

impl Finding {
    /// A finding of `kind` about `target`, with its id derived from both.
    pub fn new(
        kind: FindingKind,
        target: Target,
        reason: impl Into<String>,
        evidence: Vec<Evidence>,
        manual_steps: Vec<String>,
    ) -> Finding {
        Finding {
            id: FindingId::derive(kind, &target),
            kind,
            target,
            reason: reason.into(),
            evidence,
            manual_steps,
        }
    }
}

/// A candidate action (or a rule's decision about a target) that was not taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub kind: ActionKind,
    pub target: Target,
    pub why: SkipReason,
    /// The specifics (which budget, until when, which part of the read).
    pub detail: String,
    /// The part of the observation that was not read, for `incomplete-read`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<PartId>,
    /// What was observed that made the candidate drop, when it says more than the detail
    /// (Okta's answer for a connection it does not expose, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// When the wait that holds the candidate ends (too recent, backing off, cooling down, a
    /// budget or the circuit breaker): the daemon runs a follow-up pass then. Absent for a
    /// candidate no wait would change (its mode, the deny list, a part not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
}

impl Skipped {
    /// This skip, waiting until `at`.
    pub(crate) fn until(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.retry_at = at;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_s_op_is_its_serialized_tag() {
        let (app, user) = (AppId::new("0oa1"), UserId::new("00u1"));
        let steps = [
            Step::RepushAppUser {
                app_id: app.clone(),
                user_id: user.clone(),
            },
            Step::RetryTasks {
                app_id: app.clone(),
                user_ids: vec![user],
            },
            Step::ForceSyncDirectory {
                directory_id: app.clone(),
            },
            Step::EnableProvisioning {
                app_id: app.clone(),
                credential: "environment variable X".into(),
            },
            Step::DeactivatePushMapping {
                app_id: app.clone(),
                mapping_id: "gPm1".into(),
            },
            Step::DeletePushMapping {
                app_id: app.clone(),
                mapping_id: "gPm1".into(),
                delete_target_group: false,
            },
            Step::DisableProvisioning {
                app_id: app.clone(),
            },
            Step::UpdateProvisioningFeatures {
                app_id: app,
                create_users: Some(true),
                update_attributes: None,
                deactivate_users: None,
            },
            Step::Verify { what: "x".into() },
        ];
        for step in &steps {
            let json = serde_json::to_value(step).expect("step serializes");
            assert_eq!(json["op"], step.op());
        }
    }

    #[test]
    fn json_shape_matches_the_cli_contract() {
        let plan = Plan {
            org: "https://example.okta.com".into(),
            generated_at: DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
                .expect("valid time")
                .with_timezone(&Utc),
            complete: true,
            incomplete: vec![],
            actions: vec![Action {
                id: ActionId::new("act-0123456789abcdef"),
                kind: ActionKind::RemovePushMappings,
                mode: ActionMode::Preview,
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
                approval: None,
            }],
            findings: vec![],
            skipped: vec![],
            warnings: vec![],
            labels: Default::default(),
            digests: PlanDigests::default(),
        };
        let json = serde_json::to_value(&plan).expect("plan serializes");
        for key in [
            "org",
            "generated_at",
            "complete",
            "incomplete",
            "actions",
            "findings",
            "skipped",
            "warnings",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        let action = &json["actions"][0];
        assert_eq!(action["kind"], "remove-push-mappings");
        assert_eq!(action["mode"], "preview");
        assert_eq!(action["target"]["mapping_ids"][0], "gPm1");
        assert!(action["target"].get("user_id").is_none());
        assert_eq!(action["steps"][0]["op"], "delete-push-mapping");
        let back: Plan = serde_json::from_value(json).expect("plan deserializes");
        assert_eq!(back, plan);
    }
}
