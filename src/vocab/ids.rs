//! The ids of remediator's own records: runs, actions and findings. Okta's object ids are in
//! `okta::ids`; every id is declared with the same macro.

use sha2::{Digest, Sha256};

use super::{ActionKind, FindingKind, Target};
use crate::okta::string_id;

string_id!(
    /// A stable, deterministic action id: the same candidate in the same state gets the same
    /// id (`act-` and 16 hex digits).
    ActionId
);
string_id!(
    /// A stable finding id: the same problem on the same target gets the same id on every run,
    /// whatever its evidence (`fnd-` and 16 hex digits).
    FindingId
);
string_id!(
    /// A reconcile run's (or a System Log poller's) id, under which its journal entries are
    /// written: `run-20261123T114500Z-1a2b3c4d`.
    RunId
);

/// Digits of the sha256 digest kept in action and finding ids.
const DIGEST_DIGITS: usize = 16;

/// `prefix` and the first [`DIGEST_DIGITS`] hex digits of sha256 over `parts`, each followed
/// by a NUL byte (no part holds one), so no two part lists hash alike.
fn hashed(prefix: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            hasher.update([0]);
        }
        hasher.update(part.as_bytes());
    }
    let digest = hex::encode(hasher.finalize());
    format!("{prefix}{}", &digest[..DIGEST_DIGITS])
}

impl ActionId {
    /// `act-` and the first 16 hex digits of sha256(kind, target key, state fingerprint).
    pub fn derive(kind: ActionKind, target: &Target, fingerprint: &str) -> ActionId {
        ActionId(hashed("act-", &[kind.as_str(), &target.key(), fingerprint]))
    }
}

impl FindingId {
    /// `fnd-` and the first 16 hex digits of sha256(kind, target's state key): stable across
    /// runs for one problem on one target. The state key leaves a target's mapping ids out, so
    /// a finding about an app's mappings keeps its id while the set of mappings changes.
    pub fn derive(kind: FindingKind, target: &Target) -> FindingId {
        FindingId(hashed("fnd-", &[kind.as_str(), &target.state_key()]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_ids_are_stable_and_depend_on_kind_target_and_state() {
        let target = Target::app_user("0oa1", "00u1");
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
        assert!(a.as_str().starts_with("act-") && a.as_str().len() == 20);
    }

    #[test]
    fn finding_ids_depend_on_kind_and_target_only() {
        let app = Target::app("0oa1");
        let id = FindingId::derive(FindingKind::PushMappingsOrphaned, &app);
        assert!(id.as_str().starts_with("fnd-") && id.as_str().len() == 20);
        let fewer_mappings = Target {
            mapping_ids: vec!["gPm2".into()],
            ..app.clone()
        };
        assert_eq!(
            id,
            FindingId::derive(FindingKind::PushMappingsOrphaned, &fewer_mappings),
            "the same app's mappings problem keeps its id"
        );
        assert_ne!(
            id,
            FindingId::derive(FindingKind::ProvisioningFeaturesDrift, &app)
        );
        assert_ne!(
            id,
            FindingId::derive(FindingKind::PushMappingsOrphaned, &Target::app("0oa2"))
        );
    }
}
