//! Readiness of the daemon: ready once every org has been observed successfully, and not ready
//! while an org cannot be reached (the last observation or System Log poll failed).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Clone, Copy, Default)]
struct OrgHealth {
    /// A full observation has succeeded at least once.
    observed: bool,
    /// The last contact with the org (observation or poll) succeeded.
    reachable: bool,
    /// Another replica holds the org's lease: not this replica's to serve.
    standby: bool,
}

impl OrgHealth {
    fn ready(self) -> bool {
        self.standby || (self.observed && self.reachable)
    }
}

/// Per-org readiness, shared by the org tasks (writers) and `/readyz` (reader).
#[derive(Debug, Default)]
pub struct Health {
    orgs: Mutex<BTreeMap<String, OrgHealth>>,
}

impl Health {
    /// Readiness for `orgs`, none of them observed yet.
    pub fn new<'a>(orgs: impl IntoIterator<Item = &'a str>) -> Self {
        let orgs = orgs
            .into_iter()
            .map(|o| (o.to_owned(), OrgHealth::default()))
            .collect();
        Health {
            orgs: Mutex::new(orgs),
        }
    }

    fn update(&self, org: &str, f: impl FnOnce(&mut OrgHealth)) {
        // Each update is a single field write: a poisoned lock holds consistent data.
        let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        f(orgs.entry(org.to_owned()).or_default());
    }

    /// A full observation of `org` ended; `reachable` says whether the org answered.
    pub fn observed(&self, org: &str, reachable: bool) {
        self.update(org, |h| {
            h.reachable = reachable;
            h.observed |= reachable;
        });
    }

    /// A System Log poll of `org` ended.
    pub fn polled(&self, org: &str, ok: bool) {
        self.update(org, |h| h.reachable = ok);
    }

    /// Whether another replica serves `org` (leader election): a standby org counts as ready.
    pub fn standby(&self, org: &str, standby: bool) {
        self.update(org, |h| h.standby = standby);
    }

    /// Whether `org` is ready.
    pub fn org_ready(&self, org: &str) -> bool {
        let orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        orgs.get(org).is_some_and(|h| h.ready())
    }

    /// The orgs that are not ready (empty: the daemon is ready).
    pub fn not_ready(&self) -> Vec<String> {
        let orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        orgs.iter()
            .filter(|(_, h)| !h.ready())
            .map(|(name, _)| name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_after_every_org_observed_and_drops_on_failure() {
        let health = Health::new(["a", "b"]);
        assert_eq!(health.not_ready(), ["a", "b"]);
        health.polled("a", true);
        assert!(!health.org_ready("a"), "a poll is not an observation");
        health.observed("a", true);
        health.observed("b", false);
        assert_eq!(health.not_ready(), ["b"]);
        health.observed("b", true);
        assert!(health.not_ready().is_empty());
        health.polled("a", false);
        assert_eq!(health.not_ready(), ["a"]);
        health.polled("a", true);
        assert!(health.not_ready().is_empty());
        let standby = Health::new(["c"]);
        standby.standby("c", true);
        assert!(standby.org_ready("c"), "another replica serves it");
    }
}
