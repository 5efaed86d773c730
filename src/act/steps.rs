//! Carrying out one step of an action against the org, naming steps for the journal, and the
//! test hook that stops the process at a step boundary.

use std::time::Duration;

use crate::config::Env;
use crate::okta::{
    AdminApi, AppId, AppUser, AppUserUpdateRequest, CapabilitiesCreateObject, CapabilitiesObject,
    CapabilitiesUpdateObject, EnabledStatus, MappingId, OrgApi, ProvisioningConnectionStatus,
    PushMappingTarget, StatusHolder,
};
use crate::plan::Step;
use crate::policy::Policy;

use super::org::find_mapping;
use super::StepError;

/// Test hook (documented in docs and README): when this environment variable holds `N`, the
/// process stops right after step `N` of an action was carried out in the org and before its
/// `StepFinished` entry is written (`0`: right after the intent), prints [`CRASH_HOOK_MARKER`]
/// on stderr and waits to be killed. Only crash-safety tests set it.
pub const CRASH_HOOK_ENV: &str = "REMEDIATOR_TEST_CRASH_AFTER_STEP";

/// What the crash hook prints on stderr before it waits to be killed.
pub const CRASH_HOOK_MARKER: &str = "remediator-test-hook: waiting for SIGKILL";

/// How long the crash hook waits for the test to kill the process before aborting it itself.
const CRASH_HOOK_WAIT: Duration = Duration::from_secs(60);

/// Stops the process at step boundary `step` when the test hook asks for it.
pub(crate) fn crash_hook(step: u32) {
    let Ok(wanted) = std::env::var(CRASH_HOOK_ENV) else {
        return;
    };
    if wanted.trim().parse::<u32>().ok() != Some(step) {
        return;
    }
    eprintln!("{CRASH_HOOK_MARKER} (after step {step})");
    std::thread::sleep(CRASH_HOOK_WAIT);
    std::process::abort();
}

/// A short, secret-free name of a step for the journal: its operation and what it acts on
/// (`deactivate-push-mapping 0oa1/gPm1`).
pub(crate) fn step_name(step: &Step) -> String {
    let subject = match step {
        Step::RepushAppUser { app_id, user_id } => format!("{app_id}/{user_id}"),
        Step::RetryTasks { app_id, user_ids } => format!("{app_id} ({} users)", user_ids.len()),
        Step::ForceSyncDirectory { directory_id } => directory_id.to_string(),
        Step::EnableProvisioning { app_id, credential } => format!("{app_id} with {credential}"),
        Step::DeactivatePushMapping { app_id, mapping_id }
        | Step::DeletePushMapping {
            app_id, mapping_id, ..
        } => format!("{app_id}/{mapping_id}"),
        Step::DisableProvisioning { app_id } | Step::UpdateProvisioningFeatures { app_id, .. } => {
            app_id.to_string()
        }
        Step::Verify { what } => what.clone(),
    };
    format!("{} {subject}", step.op())
}

/// Whether a step changes the org (a `Verify` step is the postcondition check instead).
pub(crate) fn is_write(step: &Step) -> bool {
    !matches!(step, Step::Verify { .. })
}

/// Whether provisioning is left enabled by the fix once this step has been carried out
/// (`None`: the step does not change it).
pub(crate) fn leaves_provisioning_enabled(step: &Step) -> Option<bool> {
    match step {
        Step::EnableProvisioning { .. } => Some(true),
        Step::DisableProvisioning { .. } => Some(false),
        _ => None,
    }
}

/// Carries out one step. Credentials are resolved here, at execution time, and dropped at the
/// end of the call; they never reach an error or the journal. `read`: the app user a re-push
/// sends back, when the precondition check read it moments before (else it is read here).
pub(crate) async fn run_step<O: OrgApi, A: AdminApi>(
    step: &Step,
    api: &O,
    admin: &A,
    policy: &Policy,
    env: &dyn Env,
    read: Option<AppUser>,
) -> Result<String, StepError> {
    match step {
        Step::RepushAppUser { app_id, user_id } => {
            let current = match read {
                Some(user) => user,
                None => api.get_app_user(app_id, user_id).await?,
            };
            let update = AppUserUpdateRequest {
                profile: current.profile,
            };
            let after = api
                .update_app_user_profile(app_id, user_id, &update)
                .await?;
            Ok(format!(
                "re-pushed; syncState now {}",
                after.sync_state.as_ref().map_or("unknown", |s| s.as_str())
            ))
        }
        Step::RetryTasks { app_id, user_ids } => {
            admin.retry_failed_tasks(app_id, user_ids).await?;
            Ok("task retry requested".to_owned())
        }
        Step::ForceSyncDirectory { directory_id } => {
            admin.force_sync_directory(directory_id).await?;
            Ok("Force Sync requested".to_owned())
        }
        Step::EnableProvisioning { app_id, .. } => {
            enable_provisioning(api, policy, env, app_id).await
        }
        Step::DeactivatePushMapping { app_id, mapping_id } => {
            deactivate_mapping(api, app_id, mapping_id).await
        }
        Step::DeletePushMapping {
            app_id,
            mapping_id,
            delete_target_group,
        } => delete_mapping(api, app_id, mapping_id, *delete_target_group).await,
        Step::DisableProvisioning { app_id } => disable_provisioning(api, app_id).await,
        Step::UpdateProvisioningFeatures {
            app_id,
            create_users,
            update_attributes,
            deactivate_users,
        } => {
            let capabilities = capabilities(*create_users, *update_attributes, *deactivate_users);
            api.update_user_provisioning_feature(app_id, &capabilities)
                .await?;
            Ok("USER_PROVISIONING updated".to_owned())
        }
        Step::Verify { .. } => Ok(String::new()),
    }
}

/// Resolves the credential policy names for `app_id` and enables the app's provisioning the
/// way Okta records it: the token is posted without `activate` (with the `baseUrl` the
/// connection already has, which an Org2Org connection needs), which leaves the connection
/// DISABLED; then `lifecycle/activate`; then the connection is read back and must be ENABLED.
async fn enable_provisioning<O: OrgApi>(
    api: &O,
    policy: &Policy,
    env: &dyn Env,
    app_id: &AppId,
) -> Result<String, StepError> {
    let unwritten = |error: StepError| StepError::NothingWritten(Box::new(error));
    let label = api
        .get_app(app_id)
        .await
        .map_err(|e| unwritten(e.into()))?
        .label;
    let removal = policy
        .remove_push_mappings
        .for_app(app_id, &label)
        .ok_or_else(|| {
            unwritten(StepError::NoCredential {
                app_id: app_id.clone(),
            })
        })?;
    let token = removal
        .credential
        .resolve(env)
        .map_err(|e| unwritten(e.into()))?;
    let base_url = api
        .get_provisioning_connection(app_id)
        .await
        .map_err(|e| unwritten(e.into()))?
        .base_url;
    let posted = api
        .set_provisioning_connection_token(app_id, &token, base_url.as_deref(), false)
        .await?;
    drop(token);
    api.activate_provisioning_connection(app_id).await?;
    let now = api.get_provisioning_connection(app_id).await?.status;
    let done = format!(
        "token set (answered {}), lifecycle/activate; read back: {now}",
        posted.status
    );
    if now != ProvisioningConnectionStatus::Enabled {
        return Err(StepError::NotInEffect {
            what: format!("provisioning of {app_id} is {now} after lifecycle/activate"),
            done,
        });
    }
    Ok(done)
}

/// `lifecycle/deactivate`, then the connection is read back and must be DISABLED.
async fn disable_provisioning<O: OrgApi>(api: &O, app_id: &AppId) -> Result<String, StepError> {
    api.deactivate_provisioning_connection(app_id).await?;
    let now = api.get_provisioning_connection(app_id).await?.status;
    let done = format!("lifecycle/deactivate; read back: {now}");
    if now != ProvisioningConnectionStatus::Disabled {
        return Err(StepError::NotInEffect {
            what: format!("provisioning of {app_id} is {now} after lifecycle/deactivate"),
            done,
        });
    }
    Ok(done)
}

/// PATCHes a mapping INACTIVE, then reads it back: it must be INACTIVE (or gone).
async fn deactivate_mapping<O: OrgApi>(
    api: &O,
    app_id: &AppId,
    mapping_id: &MappingId,
) -> Result<String, StepError> {
    api.update_push_mapping_status(app_id, mapping_id, PushMappingTarget::Inactive)
        .await?;
    let now = mapping_status(api, app_id, mapping_id).await?;
    let done = format!("PATCH INACTIVE; read back: {now}");
    if now != INACTIVE && now != GONE {
        return Err(StepError::NotInEffect {
            what: format!("push mapping {mapping_id} of {app_id} is {now} after the PATCH"),
            done,
        });
    }
    Ok(done)
}

/// Deletes a mapping that reads back INACTIVE (never an active one), then reads it back: it
/// must be gone. A mapping already gone, before or at the DELETE (404), counts as deleted.
async fn delete_mapping<O: OrgApi>(
    api: &O,
    app_id: &AppId,
    mapping_id: &MappingId,
    delete_target_group: bool,
) -> Result<String, StepError> {
    let before = mapping_status(api, app_id, mapping_id).await?;
    if before == GONE {
        return Ok("already gone before the DELETE".to_owned());
    }
    if before != INACTIVE {
        return Err(StepError::NotInEffect {
            what: format!("push mapping {mapping_id} of {app_id} is {before}, not INACTIVE"),
            done: "not deleted".to_owned(),
        });
    }
    let answered = match api
        .delete_push_mapping(app_id, mapping_id, delete_target_group)
        .await
    {
        Ok(()) => "DELETE",
        Err(error) if error.is_not_found() => "DELETE answered 404 (already gone)",
        Err(error) => return Err(error.into()),
    };
    let now = mapping_status(api, app_id, mapping_id).await?;
    let done = format!("read back INACTIVE, {answered}; read back: {now}");
    if now != GONE {
        return Err(StepError::NotInEffect {
            what: format!("push mapping {mapping_id} of {app_id} is still {now} after the DELETE"),
            done,
        });
    }
    Ok(done)
}

const INACTIVE: &str = "INACTIVE";
const GONE: &str = "gone";

/// A mapping's status as read now, `gone` when the app lists no such mapping.
async fn mapping_status<O: OrgApi>(
    api: &O,
    app_id: &AppId,
    mapping_id: &MappingId,
) -> Result<String, StepError> {
    let found = find_mapping(api, app_id, mapping_id).await?;
    Ok(match found {
        None => GONE.to_owned(),
        Some(mapping) => mapping
            .status
            .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned()),
    })
}

/// The partial `USER_PROVISIONING` capabilities object for the features a step sets.
pub(crate) fn capabilities(
    create_users: Option<bool>,
    update_attributes: Option<bool>,
    deactivate_users: Option<bool>,
) -> CapabilitiesObject {
    let holder = |on: bool| StatusHolder {
        status: if on {
            EnabledStatus::Enabled
        } else {
            EnabledStatus::Disabled
        },
    };
    let create = create_users.map(|on| CapabilitiesCreateObject {
        lifecycle_create: Some(holder(on)),
    });
    let update = (update_attributes.is_some() || deactivate_users.is_some()).then(|| {
        CapabilitiesUpdateObject {
            lifecycle_deactivate: deactivate_users.map(holder),
            profile: update_attributes.map(holder),
            password: None,
        }
    });
    CapabilitiesObject { create, update }
}
