//! Leader election through Kubernetes Leases (cargo feature `kubernetes`), with
//! `kube-leader-election`: one Lease per org (`remediator-<org>`), so exactly one replica acts
//! on an org at a time. Orgs are sharded across replicas: each org has a preferred replica (a
//! stable hash of its name modulo the replica count); the others try for its Lease only
//! [`TAKEOVER_GRACE_TTLS`] lease lifetimes after last failing to get it, so a healthy set of
//! replicas spreads the orgs and a dead replica's orgs are taken over.
//!
//! Journals are per replica (each pod's volume). So that an org goes back to the replica whose
//! journal knows it (its budgets, cooldowns and unfinished multi-step fixes), a replica hands a
//! foreign org's Lease back after [`MAX_FOREIGN_HOLD`]: it stops serving the org, waits until
//! its loop has finished the step in progress, and only then releases the Lease. A Lease is
//! never released while the org's loop still runs.

use std::time::Duration;

use kube_leader_election::{LeaseLock, LeaseLockParams, LeaseLockResult};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::Env;

/// Default lifetime of a Lease; it is renewed every third of it.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);
/// Lease lifetimes a non-preferred replica waits, after last seeing the Lease held by someone
/// else or free, before it tries to take the org.
pub const TAKEOVER_GRACE_TTLS: u32 = 2;
/// Longest time a replica holds an org it is not preferred for before handing the Lease back
/// (taking it again after the grace if the preferred replica is still away).
pub const MAX_FOREIGN_HOLD: Duration = Duration::from_secs(600);
/// Prefix of the Lease names.
pub const LEASE_PREFIX: &str = "remediator-";

/// Where this replica stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderConfig {
    /// Namespace of the Leases (the pod's).
    pub namespace: String,
    /// This replica's identity (the pod name).
    pub holder_id: String,
    /// Replicas in the StatefulSet.
    pub replicas: u32,
    /// This replica's ordinal (`remediator-2` is 2).
    pub ordinal: u32,
    pub lease_ttl: Duration,
}

/// Why leader election cannot start.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("leader election: environment variable {0} is not set (set it from the downward API)")]
    MissingEnv(&'static str),
    #[error("leader election: {name}={value:?} is not {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("leader election: no Kubernetes client")]
    Client(#[source] kube::Error),
}

impl LeaderConfig {
    /// From `POD_NAME`, `POD_NAMESPACE` and `REMEDIATOR_REPLICAS` (the StatefulSet's
    /// replica count); the ordinal is the pod name's `-N` suffix.
    pub fn from_env(env: &dyn Env) -> Result<Self, LeaderError> {
        let get = |name: &'static str| env.var(name).ok_or(LeaderError::MissingEnv(name));
        let holder_id = get("POD_NAME")?;
        let namespace = get("POD_NAMESPACE")?;
        let replicas_text = get("REMEDIATOR_REPLICAS")?;
        let replicas =
            replicas_text
                .parse::<u32>()
                .ok()
                .filter(|r| *r > 0)
                .ok_or(LeaderError::Invalid {
                    name: "REMEDIATOR_REPLICAS",
                    value: replicas_text,
                    expected: "a positive number",
                })?;
        let ordinal = holder_id
            .rsplit_once('-')
            .and_then(|(_, n)| n.parse::<u32>().ok())
            .ok_or_else(|| LeaderError::Invalid {
                name: "POD_NAME",
                value: holder_id.clone(),
                expected: "a StatefulSet pod name ending in -N",
            })?;
        Ok(LeaderConfig {
            namespace,
            holder_id,
            replicas,
            ordinal,
            lease_ttl: DEFAULT_LEASE_TTL,
        })
    }

    /// Whether this replica is `org`'s preferred one.
    pub fn prefers(&self, org: &str) -> bool {
        preferred_replica(org, self.replicas) == self.ordinal % self.replicas
    }
}

/// The replica an org is sharded to: a stable hash of its name modulo `replicas`.
pub fn preferred_replica(org: &str, replicas: u32) -> u32 {
    let digest = Sha256::digest(org.as_bytes());
    let head = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    head % replicas.max(1)
}

/// A Kubernetes client from the pod's service account (or kubeconfig).
pub async fn client() -> Result<kube::Client, LeaderError> {
    kube::Client::try_default()
        .await
        .map_err(LeaderError::Client)
}

/// The two sides of one org's election.
pub struct Election {
    /// Set true while this replica holds the org's Lease (read by the org's loop).
    pub leading: watch::Sender<bool>,
    /// True while the org's loop serves the org (set by the loop).
    pub serving: watch::Receiver<bool>,
}

impl Election {
    /// Stops serving the org and waits until the org's loop has finished its step, renewing
    /// the Lease meanwhile when `holding` (a long step must not let it expire under it).
    async fn quiesce(&mut self, lock: &LeaseLock, renew_every: Duration, holding: bool) {
        self.leading.send_replace(false);
        loop {
            tokio::select! {
                // The loop's sender going away also means nothing runs any more.
                () = idle(&mut self.serving) => return,
                () = tokio::time::sleep(renew_every), if holding => {
                    if let Err(e) = lock.try_acquire_or_renew().await {
                        tracing::warn!(error = %e, "lease renewal failed while the last step finishes");
                    }
                }
            }
        }
    }
}

/// Completes once `serving` is false (or its sender is gone). Returns nothing, so no borrow of
/// the channel outlives it.
async fn idle(serving: &mut watch::Receiver<bool>) {
    let _ = serving.wait_for(|serving| !serving).await.map(|_| ());
}

/// Holds `org`'s Lease while it can, telling the org's loop through `election`. On shutdown,
/// releases the Lease once the org's loop has stopped serving, so the next holder never
/// overlaps the last step.
pub async fn elect(
    client: kube::Client,
    config: LeaderConfig,
    org: String,
    mut election: Election,
    shutdown: CancellationToken,
) {
    let lock = LeaseLock::new(
        client,
        &config.namespace,
        LeaseLockParams {
            lease_name: format!("{LEASE_PREFIX}{org}"),
            holder_id: config.holder_id.clone(),
            lease_ttl: config.lease_ttl,
        },
    );
    let preferred = config.prefers(&org);
    let renew_every = config.lease_ttl / 3;
    let grace = config.lease_ttl * TAKEOVER_GRACE_TTLS;
    // A non-preferred replica lets the preferred one start first.
    let mut may_try_at = if preferred {
        Instant::now()
    } else {
        Instant::now() + grace
    };
    let mut held_since: Option<Instant> = None;
    while !shutdown.is_cancelled() {
        let holding = *election.leading.borrow();
        if Instant::now() >= may_try_at || holding {
            let held = match lock.try_acquire_or_renew().await {
                Ok(LeaseLockResult::Acquired(_)) => true,
                Ok(LeaseLockResult::NotAcquired(_)) => false,
                Err(e) => {
                    tracing::warn!(%org, error = %e, "lease renewal failed");
                    false
                }
            };
            if held != holding {
                tracing::info!(%org, held, preferred, "org lease changed hands");
                held_since = held.then(Instant::now);
            }
            election.leading.send_replace(held);
            if !held && !preferred {
                may_try_at = Instant::now() + grace;
            }
        }
        let foreign_too_long =
            !preferred && held_since.is_some_and(|since| since.elapsed() >= MAX_FOREIGN_HOLD);
        if foreign_too_long {
            tracing::info!(%org, "handing the org back to its preferred replica");
            election.quiesce(&lock, renew_every, true).await;
            if let Err(e) = lock.step_down().await {
                tracing::warn!(%org, error = %e, "stepping down failed; the lease expires on its own");
            }
            held_since = None;
            may_try_at = Instant::now() + grace;
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(renew_every) => {}
        }
    }
    let holding = *election.leading.borrow();
    election.quiesce(&lock, renew_every, holding).await;
    if holding {
        if let Err(e) = lock.step_down().await {
            tracing::warn!(%org, error = %e, "stepping down from the lease failed; it expires on its own");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MapEnv;

    #[test]
    fn orgs_spread_across_replicas_stably() {
        let orgs: Vec<String> = (0..60).map(|i| format!("org-{i}")).collect();
        let mut per_replica = [0u32; 3];
        for org in &orgs {
            let replica = preferred_replica(org, 3);
            assert_eq!(replica, preferred_replica(org, 3), "stable");
            per_replica[replica as usize] += 1;
        }
        assert!(per_replica.iter().all(|n| *n > 0), "{per_replica:?}");
    }

    #[test]
    fn config_comes_from_the_downward_api() {
        let env = MapEnv::from_iter([
            ("POD_NAME", "remediator-2"),
            ("POD_NAMESPACE", "okta"),
            ("REMEDIATOR_REPLICAS", "3"),
        ]);
        let config = LeaderConfig::from_env(&env).expect("valid");
        assert_eq!(config.ordinal, 2);
        assert_eq!(config.replicas, 3);
        let missing = LeaderConfig::from_env(&MapEnv::new()).expect_err("nothing set");
        assert!(missing.to_string().contains("POD_NAME"));
    }
}
