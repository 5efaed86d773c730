//! Leader election through Kubernetes Leases (cargo feature `kubernetes`), with
//! `kube-leader-election`: one Lease per org (`remediator-<org>`), so exactly one replica acts
//! on an org at a time. Orgs are sharded across replicas: each org has a preferred replica (a
//! stable hash of its name modulo the replica count); the others try for its Lease only after
//! it has gone unrenewed for [`TAKEOVER_GRACE_TTLS`] lease lifetimes, so a healthy set of
//! replicas spreads the orgs and a dead replica's orgs are taken over.

use std::time::Duration;

use kube_leader_election::{LeaseLock, LeaseLockParams, LeaseLockResult};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Default lifetime of a Lease; it is renewed every third of it.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);
/// Lease lifetimes a non-preferred replica waits, after last seeing the Lease held by someone
/// else or free, before it tries to take the org.
pub const TAKEOVER_GRACE_TTLS: u32 = 2;
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
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, LeaderError> {
        let get = |name: &'static str| env(name).ok_or(LeaderError::MissingEnv(name));
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

/// Holds `org`'s Lease while it can: `leading` is true while this replica holds it. Steps down
/// when `shutdown` is cancelled (after `stopped` says the org's loop has finished, so the next
/// leader never overlaps the last step).
pub async fn elect(
    client: kube::Client,
    config: LeaderConfig,
    org: String,
    leading: watch::Sender<bool>,
    shutdown: CancellationToken,
    stopped: CancellationToken,
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
    while !shutdown.is_cancelled() {
        if Instant::now() >= may_try_at || *leading.borrow() {
            let held = match lock.try_acquire_or_renew().await {
                Ok(LeaseLockResult::Acquired(_)) => true,
                Ok(LeaseLockResult::NotAcquired(_)) => false,
                Err(e) => {
                    tracing::warn!(%org, error = %e, "lease renewal failed");
                    false
                }
            };
            if held != *leading.borrow() {
                tracing::info!(%org, held, preferred, "org lease changed hands");
            }
            leading.send_replace(held);
            if !held && !preferred {
                may_try_at = Instant::now() + grace;
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(renew_every) => {}
        }
    }
    stopped.cancelled().await;
    if *leading.borrow() {
        if let Err(e) = lock.step_down().await {
            tracing::warn!(%org, error = %e, "stepping down from the lease failed; it expires on its own");
        }
        leading.send_replace(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let env = |k: &str| match k {
            "POD_NAME" => Some("remediator-2".to_owned()),
            "POD_NAMESPACE" => Some("okta".to_owned()),
            "REMEDIATOR_REPLICAS" => Some("3".to_owned()),
            _ => None,
        };
        let config = LeaderConfig::from_env(&env).expect("valid");
        assert_eq!(config.ordinal, 2);
        assert_eq!(config.replicas, 3);
        let missing = LeaderConfig::from_env(&|_| None).expect_err("nothing set");
        assert!(missing.to_string().contains("POD_NAME"));
    }
}
