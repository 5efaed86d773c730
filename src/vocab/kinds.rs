//! The kinds of remediator's actions and findings, and the reasons a candidate is not taken,
//! each named once (kebab-case, as in plans, the journal, metrics and on the command line).

use strum::{EnumIter, IntoStaticStr};

use super::names::named;
use crate::policy::RuleKind;

/// The kinds of fixes remediator carries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum ActionKind {
    RetryProvisioning,
    ForceSync,
    RemovePushMappings,
    FixProvisioningFeatures,
}
named!(ActionKind, "action kind");

impl ActionKind {
    /// The policy rule whose mode and budget govern this kind of action.
    pub fn rule(self) -> RuleKind {
        match self {
            ActionKind::RetryProvisioning => RuleKind::RetryProvisioning,
            ActionKind::ForceSync => RuleKind::ForceSync,
            ActionKind::RemovePushMappings => RuleKind::RemovePushMappings,
            ActionKind::FixProvisioningFeatures => RuleKind::ProvisioningFeatures,
        }
    }
}

/// The kinds of findings: problems reported with evidence and manual steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
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
named!(FindingKind, "finding kind");

/// Why a candidate was not taken (by a rule or the safety gate), or an action was held by the
/// executor's gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
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
    /// `apply --max-actions` reached (the executor's gate only).
    MaxActions,
    /// A shutdown was requested before the executor reached the action.
    Shutdown,
    /// The app's provisioning connection is not known to be disabled: Okta answered that it
    /// exposes none (404), or gave no status.
    ConnectionUnknown,
    /// Its rule requires a person's approval (`approval = "required"`), and this action, as
    /// planned now, has none in force: not asked yet, waiting, expired, changed or rejected.
    AwaitingApproval,
}
named!(SkipReason, "skip reason");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Named;

    #[test]
    fn names_are_kebab_case_and_round_trip_through_text_and_json() {
        assert_eq!(
            ActionKind::FixProvisioningFeatures.as_str(),
            "fix-provisioning-features"
        );
        assert_eq!(
            FindingKind::PushMappingsOrphanedNoCredential.as_str(),
            "push-mappings-orphaned-no-credential"
        );
        assert_eq!(
            SkipReason::CircuitBreakerOpen.as_str(),
            "circuit-breaker-open"
        );
        fn round_trip<
            K: Named
                + std::fmt::Debug
                + serde::Serialize
                + serde::de::DeserializeOwned
                + std::str::FromStr,
        >() {
            for kind in K::iter() {
                let json = serde_json::to_value(kind).expect("serializes");
                assert_eq!(json, kind.name());
                assert_eq!(
                    serde_json::from_value::<K>(json).expect("deserializes"),
                    kind
                );
                assert!(kind.name().parse::<K>().is_ok_and(|k| k == kind));
            }
        }
        round_trip::<ActionKind>();
        round_trip::<FindingKind>();
        round_trip::<SkipReason>();
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_names_expected() {
        let err = "retry".parse::<ActionKind>().expect_err("not a kind");
        assert_eq!(
            err.to_string(),
            "unknown action kind \"retry\": expected one of retry-provisioning, force-sync, \
             remove-push-mappings, fix-provisioning-features"
        );
        assert!(serde_json::from_str::<FindingKind>("\"nope\"").is_err());
    }
}
