//! What an action, finding or journal entry is about.

use serde::{Deserialize, Serialize};

use crate::okta::{AppId, MappingId, UserId};

/// What an action, finding or journal entry is about, by Okta ids. A directory is named by
/// its app instance id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<AppId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_id: Option<AppId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mapping_ids: Vec<MappingId>,
}

impl Target {
    /// A target naming only an app.
    pub fn app(app_id: impl Into<AppId>) -> Self {
        Target {
            app_id: Some(app_id.into()),
            ..Target::default()
        }
    }

    /// A target naming an app user (an assignment).
    pub fn app_user(app_id: impl Into<AppId>, user_id: impl Into<UserId>) -> Self {
        Target {
            app_id: Some(app_id.into()),
            user_id: Some(user_id.into()),
            ..Target::default()
        }
    }

    /// A stable key for this target, used for cooldowns and attempt counters:
    /// `app=0oa1;user=00u2;dir=0oa3;mappings=gPm1,gPm2` with absent parts left out.
    pub fn key(&self) -> String {
        let mut parts = Vec::new();
        if let Some(app) = &self.app_id {
            parts.push(format!("app={app}"));
        }
        if let Some(user) = &self.user_id {
            parts.push(format!("user={user}"));
        }
        if let Some(dir) = &self.directory_id {
            parts.push(format!("dir={dir}"));
        }
        if !self.mapping_ids.is_empty() {
            let mappings: Vec<&str> = self.mapping_ids.iter().map(MappingId::as_str).collect();
            parts.push(format!("mappings={}", mappings.join(",")));
        }
        parts.join(";")
    }

    /// Whether two targets touch the same thing: the same target, or the same app or directory
    /// where one of them is the whole app or directory. Never two actions on overlapping
    /// targets at once (the planner's gate and the executor's both ask this).
    pub fn overlaps(&self, other: &Target) -> bool {
        if self.key() == other.key() {
            return true;
        }
        let app_level = self.user_id.is_none() || other.user_id.is_none();
        let same_app = self.app_id.is_some() && self.app_id == other.app_id;
        let same_dir = self.directory_id.is_some() && self.directory_id == other.directory_id;
        app_level && (same_app || same_dir)
    }

    /// The key cooldowns and attempt counters are kept under: [`Target::key`] without the
    /// mapping ids, so a fix planned again for fewer of an app's mappings (some were removed)
    /// still meets the app's cooldown and attempts.
    pub fn state_key(&self) -> String {
        Target {
            mapping_ids: Vec::new(),
            ..self.clone()
        }
        .key()
    }
}
