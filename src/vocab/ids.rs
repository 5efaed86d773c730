//! The ids of remediator's own records: actions.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ActionKind, Target};

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
}
