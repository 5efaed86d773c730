//! Readiness of the daemon: ready once every org has been observed successfully, and not ready
//! while an org cannot be read (its last observation or System Log poll failed), with why:
//! "authentication failed: ..." for rejected credentials, "not permitted: ..." for a missing
//! scope or role, "not reachable: ..." only when no answer came.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use crate::observe::{FailureKind, OrgUnreadable, ReadFailure};

#[derive(Debug, Clone, Default)]
struct OrgHealth {
    /// A full observation has succeeded at least once.
    observed: bool,
    /// Why the last run could not read the org; cleared by a run that reads it.
    run_failure: Option<String>,
    /// Why the last System Log poll failed; cleared by a poll that succeeds.
    poll_failure: Option<String>,
    /// Another replica holds the org's lease: not this replica's to serve.
    standby: bool,
}

impl OrgHealth {
    fn ready(&self) -> bool {
        self.standby || (self.observed && self.run_failure.is_none() && self.poll_failure.is_none())
    }

    /// Why the org is not ready (`None`: it is).
    fn why_not(&self) -> Option<String> {
        if self.ready() {
            return None;
        }
        let failure = self.run_failure.as_ref().or(self.poll_failure.as_ref());
        Some(match failure {
            Some(failure) => failure.clone(),
            None => "not observed yet".to_owned(),
        })
    }
}

/// A failed read in the words of readiness: what kind of failure, then the request and Okta's
/// answer.
pub(crate) fn describe(failure: &ReadFailure) -> String {
    let what = match failure.kind {
        FailureKind::Authentication => "authentication failed",
        FailureKind::Authorization => "not permitted",
        FailureKind::Unreachable => "not reachable",
        FailureKind::RateLimited => "rate limited",
        FailureKind::ServerError => "Okta failed",
        _ => "read failed",
    };
    format!("{what}: {failure}")
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

    /// A full observation of `org` read the org.
    pub fn observed(&self, org: &str) {
        self.update(org, |h| {
            h.run_failure = None;
            h.observed = true;
        });
    }

    /// An observation of `org` could not read the org at all.
    pub fn unreadable(&self, org: &str, unreadable: &OrgUnreadable) {
        let why = describe(&unreadable.failure);
        self.update(org, |h| h.run_failure = Some(why));
    }

    /// A run of `org` failed for another reason (`why`).
    pub fn failed(&self, org: &str, why: impl Into<String>) {
        let why = why.into();
        self.update(org, |h| h.run_failure = Some(why));
    }

    /// A System Log poll of `org` ended: `Ok`, or the failed read.
    pub fn polled(&self, org: &str, outcome: Result<(), &ReadFailure>) {
        let failure = outcome.err().map(describe);
        self.update(org, |h| h.poll_failure = failure);
    }

    /// Whether another replica serves `org` (leader election): a standby org counts as ready.
    pub fn standby(&self, org: &str, standby: bool) {
        self.update(org, |h| h.standby = standby);
    }

    /// Whether `org` is ready.
    pub fn org_ready(&self, org: &str) -> bool {
        let orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        orgs.get(org).is_some_and(OrgHealth::ready)
    }

    /// The orgs that are not ready, each with why (empty: the daemon is ready).
    pub fn not_ready(&self) -> Vec<(String, String)> {
        let orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        orgs.iter()
            .filter_map(|(name, h)| Some((name.clone(), h.why_not()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(not_ready: Vec<(String, String)>) -> Vec<String> {
        not_ready.into_iter().map(|(name, _)| name).collect()
    }

    #[test]
    fn ready_after_every_org_observed_and_drops_on_failure() {
        let health = Health::new(["a", "b"]);
        assert_eq!(names(health.not_ready()), ["a", "b"]);
        health.polled("a", Ok(()));
        assert!(!health.org_ready("a"), "a poll is not an observation");
        health.observed("a");
        health.failed("b", "journal failure");
        assert_eq!(names(health.not_ready()), ["b"]);
        health.observed("b");
        assert!(health.not_ready().is_empty());
        let down = ReadFailure::new(
            "GET /api/v1/logs",
            FailureKind::Unreachable,
            "no connection: Connection refused",
        );
        health.polled("a", Err(&down));
        assert_eq!(
            health.not_ready(),
            [(
                "a".to_owned(),
                "not reachable: GET /api/v1/logs: no connection: Connection refused".to_owned()
            )]
        );
        health.polled("a", Ok(()));
        assert!(health.not_ready().is_empty());
        health.failed("a", "journal failure");
        health.polled("a", Ok(()));
        assert_eq!(
            names(health.not_ready()),
            ["a"],
            "a good poll is not a good run"
        );
        let standby = Health::new(["c"]);
        standby.standby("c", true);
        assert!(standby.org_ready("c"), "another replica serves it");
    }

    #[test]
    fn an_authentication_failure_is_named_as_one() {
        let health = Health::new(["prod"]);
        let unreadable = OrgUnreadable {
            org: "https://example.okta.com".into(),
            failure: ReadFailure::new(
                "GET /api/v1/apps",
                FailureKind::Authentication,
                "HTTP 401 E0000011 Invalid token provided",
            ),
            requests: 1,
        };
        health.unreadable("prod", &unreadable);
        let (_, why) = &health.not_ready()[0];
        assert_eq!(
            why,
            "authentication failed: GET /api/v1/apps: HTTP 401 E0000011 Invalid token provided"
        );
    }
}
