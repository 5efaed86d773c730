//! Fresh reads of the org for the executor: whether an action's preconditions still hold,
//! whether a step is already done (recovery), and whether a fix's postcondition holds.

use std::time::Duration;

use serde_json::{json, Value};

use crate::observe::ProfileValue;
use crate::okta::{
    ApiError, AppId, AppUser, AppUserSyncState, CapabilitiesObject, EnabledStatus,
    GroupPushMapping, MappingId, OrgApi, PageRequest, ProvisioningConnectionStatus, UserId,
};
use crate::plan::{Action, ActionKind, Evidence, Precondition, Step};
use crate::policy::Policy;

/// Most pages of Group Push mappings read for one app before the read is called incomplete.
const MAX_MAPPING_PAGES: usize = 100;

/// How many times an app user is read back after a re-push before the fix is called failed.
pub const APP_USER_VERIFY_POLLS: u32 = 5;

/// The app users the precondition check read, kept for the one step that would read the same
/// app user again moments later: a re-push sends back the profile it reads, so it sends the one
/// the check just read instead of asking Okta twice (the read-back after it is always fresh).
#[derive(Debug, Clone, Default)]
pub(crate) struct PreconditionReads {
    app_users: Vec<(AppId, UserId, AppUser)>,
}

impl PreconditionReads {
    /// The app user read for `app`/`user`, once: a second call reads nothing.
    pub(crate) fn take_app_user(&mut self, app: &AppId, user: &UserId) -> Option<AppUser> {
        let at = self
            .app_users
            .iter()
            .position(|(a, u, _)| a == app && u == user)?;
        Some(self.app_users.swap_remove(at).2)
    }
}

/// Why a precondition no longer holds, in one sentence; `None` when all still hold. The app
/// users read on the way are kept in `reads`.
pub(crate) async fn stale_precondition<O: OrgApi>(
    api: &O,
    preconditions: &[Precondition],
    reads: &mut PreconditionReads,
) -> Result<Option<String>, ApiError> {
    for pre in preconditions {
        if let Some(why) = precondition_broken(api, pre, reads).await? {
            return Ok(Some(why));
        }
    }
    Ok(None)
}

async fn precondition_broken<O: OrgApi>(
    api: &O,
    pre: &Precondition,
    reads: &mut PreconditionReads,
) -> Result<Option<String>, ApiError> {
    let broken = match pre {
        Precondition::AppUserSyncState {
            app_id,
            user_id,
            sync_state,
        } => {
            let (app, user) = (app_id.clone(), user_id.clone());
            let read = api.get_app_user(&app, &user).await?;
            let now = sync_state_of(&read);
            reads.app_users.push((app, user, read));
            (now != *sync_state).then(|| {
                format!("app user {app_id}/{user_id} is now {now}, planned from {sync_state}")
            })
        }
        Precondition::ConnectionStatus { app_id, status } => {
            let now = connection_status(api, app_id).await?;
            (now.as_str() != status)
                .then(|| format!("provisioning of {app_id} is now {now}, planned from {status}"))
        }
        Precondition::PushMappingStatus {
            app_id,
            mapping_id,
            status,
        } => {
            let now = find_mapping(api, app_id, mapping_id)
                .await?
                .and_then(|m| m.status.map(|s| s.as_str().to_owned()))
                .unwrap_or_else(|| "gone".to_owned());
            (now != *status).then(|| {
                format!("push mapping {mapping_id} of {app_id} is now {now}, planned from {status}")
            })
        }
        Precondition::AttributeDiffers {
            user_id,
            okta_attribute,
            expected,
        } => {
            let now = okta_value(api, user_id, okta_attribute).await?;
            let planned = ProfileValue::from(expected.as_ref());
            (!now.same_as(&planned)).then(|| {
                format!(
                    "Okta profile {okta_attribute} of {user_id} changed since planning ({} -> {})",
                    planned.show(),
                    now.show()
                )
            })
        }
        Precondition::FeatureState {
            app_id,
            feature,
            enabled,
        } => {
            let now = feature_enabled(api, app_id, feature).await?;
            (now != Some(*enabled)).then(|| {
                format!("feature {feature} of {app_id} is now {now:?}, planned from {enabled}")
            })
        }
    };
    Ok(broken)
}

/// The app user's `syncState` (`UNKNOWN` when Okta gives none).
pub(crate) async fn app_user_state<O: OrgApi>(
    api: &O,
    app_id: &str,
    user_id: &str,
) -> Result<String, ApiError> {
    let user = api
        .get_app_user(&AppId::new(app_id), &UserId::new(user_id))
        .await?;
    Ok(sync_state_of(&user))
}

fn sync_state_of(user: &AppUser) -> String {
    user.sync_state
        .as_ref()
        .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned())
}

pub(crate) async fn connection_status<O: OrgApi>(
    api: &O,
    app_id: &str,
) -> Result<ProvisioningConnectionStatus, ApiError> {
    Ok(api
        .get_provisioning_connection(&AppId::new(app_id))
        .await?
        .status)
}

/// The mapping with this id, reading every page of the app's mappings.
pub(crate) async fn find_mapping<O: OrgApi>(
    api: &O,
    app_id: &str,
    mapping_id: &str,
) -> Result<Option<GroupPushMapping>, ApiError> {
    let app = AppId::new(app_id);
    let wanted = MappingId::new(mapping_id);
    let mut request = PageRequest::First;
    for _ in 0..MAX_MAPPING_PAGES {
        let page = api.list_push_mappings(&app, None, request).await?;
        if let Some(found) = page.items.into_iter().find(|m| m.id == wanted) {
            return Ok(Some(found));
        }
        match page.next {
            Some(next) => request = PageRequest::Next(next),
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// The attribute of the user's Okta profile as read: Okta's `null` and an absent attribute are
/// both no value.
async fn okta_value<O: OrgApi>(
    api: &O,
    user_id: &str,
    attribute: &str,
) -> Result<ProfileValue, ApiError> {
    let user = api.get_user(&UserId::new(user_id)).await?;
    Ok(ProfileValue::of(Some(&user.profile), attribute))
}

/// Whether a `USER_PROVISIONING` capability (`create_users`, `update_attributes`,
/// `deactivate_users`) is enabled; `None` when Okta does not say.
async fn feature_enabled<O: OrgApi>(
    api: &O,
    app_id: &str,
    feature: &str,
) -> Result<Option<bool>, ApiError> {
    let found = api
        .get_user_provisioning_feature(&AppId::new(app_id))
        .await?;
    Ok(found
        .capabilities
        .as_ref()
        .and_then(|c| capability(c, feature)))
}

fn capability(caps: &CapabilitiesObject, feature: &str) -> Option<bool> {
    let holder = match feature {
        "create_users" => caps.create.as_ref()?.lifecycle_create.as_ref(),
        "update_attributes" => caps.update.as_ref()?.profile.as_ref(),
        "deactivate_users" => caps.update.as_ref()?.lifecycle_deactivate.as_ref(),
        _ => None,
    }?;
    Some(holder.status == EnabledStatus::Enabled)
}

/// Whether the org already shows the effect of `step` (recovery: a step taken before a crash
/// is never taken twice). Steps that cannot be observed (Force Sync, task retry) count as not
/// done.
pub(crate) async fn step_already_done<O: OrgApi>(api: &O, step: &Step) -> Result<bool, ApiError> {
    let done = match step {
        Step::RepushAppUser { app_id, user_id } => {
            app_user_state(api, app_id, user_id).await? != AppUserSyncState::Error.as_str()
        }
        Step::EnableProvisioning { app_id, .. } => {
            connection_status(api, app_id).await? == ProvisioningConnectionStatus::Enabled
        }
        Step::DisableProvisioning { app_id } => {
            connection_status(api, app_id).await? == ProvisioningConnectionStatus::Disabled
        }
        Step::DeactivatePushMapping { app_id, mapping_id } => find_mapping(api, app_id, mapping_id)
            .await?
            .is_none_or(|m| m.status.as_ref().map(|s| s.as_str()) == Some("INACTIVE")),
        Step::DeletePushMapping {
            app_id, mapping_id, ..
        } => find_mapping(api, app_id, mapping_id).await?.is_none(),
        Step::UpdateProvisioningFeatures {
            app_id,
            create_users,
            update_attributes,
            deactivate_users,
        } => features_match(
            api,
            app_id,
            *create_users,
            *update_attributes,
            *deactivate_users,
        )
        .await?
        .is_none(),
        Step::RetryTasks { .. } | Step::ForceSyncDirectory { .. } | Step::Verify { .. } => false,
    };
    Ok(done)
}

/// The first feature that differs from what the step sets, if any.
async fn features_match<O: OrgApi>(
    api: &O,
    app_id: &str,
    create_users: Option<bool>,
    update_attributes: Option<bool>,
    deactivate_users: Option<bool>,
) -> Result<Option<String>, ApiError> {
    let wanted = [
        ("create_users", create_users),
        ("update_attributes", update_attributes),
        ("deactivate_users", deactivate_users),
    ];
    for (feature, want) in wanted {
        let Some(want) = want else { continue };
        let now = feature_enabled(api, app_id, feature).await?;
        if now != Some(want) {
            return Ok(Some(format!(
                "feature {feature} of {app_id} is {now:?}, wanted {want}"
            )));
        }
    }
    Ok(None)
}

/// How often and how long verification polls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Polling {
    /// Wait between two reads of an app user.
    pub app_user_interval: Duration,
}

/// Checks the postcondition of `action`: `Ok(problems)`, empty when it holds.
pub(crate) async fn verify<O: OrgApi>(
    api: &O,
    policy: &Policy,
    action: &Action,
    polling: Polling,
) -> Result<Vec<String>, ApiError> {
    let mut problems = Vec::new();
    for step in &action.steps {
        match step {
            Step::UpdateProvisioningFeatures {
                app_id,
                create_users,
                update_attributes,
                deactivate_users,
            } => problems.extend(
                features_match(
                    api,
                    app_id,
                    *create_users,
                    *update_attributes,
                    *deactivate_users,
                )
                .await?,
            ),
            Step::RepushAppUser { app_id, user_id } => {
                problems.extend(left_error(api, app_id, user_id, polling).await?)
            }
            Step::RetryTasks { app_id, user_ids } => {
                for user_id in user_ids {
                    problems.extend(left_error(api, app_id, user_id, polling).await?);
                }
            }
            _ => {}
        }
    }
    if action.kind == ActionKind::ForceSync {
        problems.extend(profiles_took_values(api, policy, action).await?);
    }
    if action.kind == ActionKind::RemovePushMappings {
        problems.extend(removal_holds(api, action).await?);
    }
    Ok(problems)
}

/// A removal is verified by what it is for, whatever steps a (saved) plan listed: every mapping
/// of its target is gone and the app's provisioning is disabled again.
async fn removal_holds<O: OrgApi>(api: &O, action: &Action) -> Result<Vec<String>, ApiError> {
    let Some(app_id) = action.target.app_id.as_deref() else {
        return Ok(vec!["the removal names no app".to_owned()]);
    };
    let mut problems = Vec::new();
    for mapping_id in &action.target.mapping_ids {
        if find_mapping(api, app_id, mapping_id).await?.is_some() {
            problems.push(format!(
                "push mapping {mapping_id} of {app_id} still exists"
            ));
        }
    }
    let status = connection_status(api, app_id).await?;
    if status != ProvisioningConnectionStatus::Disabled {
        problems.push(format!(
            "provisioning of {app_id} is {status}, not DISABLED"
        ));
    }
    Ok(problems)
}

/// Polls an app user until it is `SYNCHRONIZED` (a push still `SYNCING` may yet fail), at
/// most [`APP_USER_VERIFY_POLLS`] reads.
async fn left_error<O: OrgApi>(
    api: &O,
    app_id: &str,
    user_id: &str,
    polling: Polling,
) -> Result<Option<String>, ApiError> {
    let mut state = String::new();
    for poll in 0..APP_USER_VERIFY_POLLS {
        if poll > 0 {
            tokio::time::sleep(polling.app_user_interval).await;
        }
        state = app_user_state(api, app_id, user_id).await?;
        if state == AppUserSyncState::Synchronized.as_str() {
            return Ok(None);
        }
    }
    Ok(Some(format!(
        "app user {app_id}/{user_id} is {state}, not SYNCHRONIZED, after {APP_USER_VERIFY_POLLS} \
         reads"
    )))
}

/// Polls the Okta profiles named in the evidence until each holds its directory value, within
/// `force_sync.verify_timeout`.
async fn profiles_took_values<O: OrgApi>(
    api: &O,
    policy: &Policy,
    action: &Action,
) -> Result<Vec<String>, ApiError> {
    let wanted: Vec<(&str, &str, &Option<Value>)> = action
        .evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Attribute {
                user_id,
                okta_attribute,
                app_user_value,
                ..
            } => Some((user_id.as_str(), okta_attribute.as_str(), app_user_value)),
            _ => None,
        })
        .collect();
    let deadline = tokio::time::Instant::now() + policy.force_sync.verify_timeout;
    loop {
        let mut missing = Vec::new();
        for (user_id, attribute, value) in &wanted {
            let now = okta_value(api, user_id, attribute).await?;
            let wanted = ProfileValue::from(value.as_ref());
            if !now.same_as(&wanted) {
                missing.push(format!(
                    "Okta profile {attribute} of {user_id} is {}, directory holds {}",
                    now.show(),
                    wanted.show()
                ));
            }
        }
        if missing.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(missing);
        }
        tokio::time::sleep(policy.force_sync.verify_poll_interval).await;
    }
}

/// A JSON summary of a verification for the journal.
pub(crate) fn verification_details(action: &Action, problems: &[String]) -> Value {
    let what: Vec<&str> = action
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Verify { what } => Some(what.as_str()),
            _ => None,
        })
        .collect();
    json!({ "checked": what, "problems": problems })
}
