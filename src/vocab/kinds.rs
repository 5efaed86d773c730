//! The kinds of remediator's actions and findings, and the reasons a candidate is not taken.

use std::fmt;

use serde::{Deserialize, Serialize};

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
