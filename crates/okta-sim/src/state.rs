//! The state every handler of one simulator shares: the org, its settings and the OAuth access
//! tokens issued so far.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::event_hooks::EventHooks;
use super::model::Org;

/// Default delay of a Force Sync job.
pub(crate) const DEFAULT_FORCE_SYNC_DELAY_MS: u64 = 300;

/// An issued OAuth access token.
#[derive(Clone)]
pub(crate) struct IssuedToken {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires: DateTime<Utc>,
}

/// Everything the handlers share.
pub(crate) struct SimState {
    pub org: Mutex<Org>,
    pub base_url: String,
    pub scenario_org: super::scenario::OrgSettings,
    pub access_tokens: Mutex<HashMap<String, IssuedToken>>,
    pub force_sync_delay: std::time::Duration,
    /// The registered Okta Event Hooks.
    pub hooks: Arc<EventHooks>,
}

impl SimState {
    /// Locks the org; every mutation completes under the lock, so poison is harmless.
    pub fn org(&self) -> MutexGuard<'_, Org> {
        self.org
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub(crate) type Shared = Arc<SimState>;
