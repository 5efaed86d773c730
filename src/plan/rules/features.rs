//! Rule 4: keep an app's "To App" provisioning features as policy wants them. A drift is fixed
//! with a partial `USER_PROVISIONING` update followed by a re-push of every failed assignment the
//! drift explains, where the API allows it; otherwise it is reported with Admin Console steps.

use std::collections::BTreeSet;

use crate::observe::{AppInfo, Capabilities, FailedAssignment};
use crate::okta::{AppId, UserId};
use crate::policy::{FeatureAction, WantedFeatures};

use super::super::candidate::{Candidate, Outcome};
use super::super::model::{ActionKind, Evidence, Finding, FindingKind, Precondition, Step, Target};
use super::super::planner::Context;
use super::{assignment_evidence, failures_of, RETRY_TASKS_MANUALLY};

/// Error text (lowercase) of a user that cannot be updated because Deactivate Users is off.
const INACTIVE_ACCOUNT_ERROR: &str = "user account is inactive";
/// Error text (lowercase) of a user that cannot be found because Create Users is off (also
/// matches "Matching user not found").
const USER_NOT_FOUND_ERROR: &str = "user not found";

/// One provisioning capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Feature {
    CreateUsers,
    UpdateAttributes,
    DeactivateUsers,
}

impl Feature {
    const ALL: [Feature; 3] = [
        Feature::CreateUsers,
        Feature::UpdateAttributes,
        Feature::DeactivateUsers,
    ];

    /// The name used in evidence and preconditions.
    fn key(self) -> &'static str {
        match self {
            Feature::CreateUsers => "create_users",
            Feature::UpdateAttributes => "update_attributes",
            Feature::DeactivateUsers => "deactivate_users",
        }
    }

    /// The Admin Console label.
    fn label(self) -> &'static str {
        match self {
            Feature::CreateUsers => "Create Users",
            Feature::UpdateAttributes => "Update User Attributes",
            Feature::DeactivateUsers => "Deactivate Users",
        }
    }

    /// The read-only `features` array entry that shows the capability.
    fn app_feature(self) -> &'static str {
        match self {
            Feature::CreateUsers => "PUSH_NEW_USERS",
            Feature::UpdateAttributes => "PUSH_PROFILE_UPDATES",
            Feature::DeactivateUsers => "PUSH_USER_DEACTIVATION",
        }
    }

    fn of(self, caps: &Capabilities) -> bool {
        match self {
            Feature::CreateUsers => caps.create_users,
            Feature::UpdateAttributes => caps.update_attributes,
            Feature::DeactivateUsers => caps.deactivate_users,
        }
    }

    fn wanted(self, wanted: &WantedFeatures) -> bool {
        match self {
            Feature::CreateUsers => wanted.create_users,
            Feature::UpdateAttributes => wanted.update_attributes,
            Feature::DeactivateUsers => wanted.deactivate_users,
        }
    }

    /// The error text (lowercase) this capability being off causes, if any.
    fn error_when_off(self) -> Option<&'static str> {
        match self {
            Feature::CreateUsers => Some(USER_NOT_FOUND_ERROR),
            Feature::DeactivateUsers => Some(INACTIVE_ACCOUNT_ERROR),
            Feature::UpdateAttributes => None,
        }
    }
}

/// A capability whose actual state differs from policy.
#[derive(Debug, Clone, Copy)]
struct Drift {
    feature: Feature,
    wanted: bool,
    actual: bool,
}

/// Plans the feature fixes and returns the failed assignments (app id, user id) a drift explains:
/// those are retried inside the fix or listed in the drift finding, never retried on their own.
pub(super) fn plan(ctx: &Context<'_>, out: &mut Outcome) -> BTreeSet<(AppId, UserId)> {
    let mut explained_all = BTreeSet::new();
    let mut apps: Vec<&AppInfo> = ctx.snapshot.apps.value.iter().collect();
    apps.sort_by(|a, b| a.id.cmp(&b.id));
    for app in apps {
        let Some(wanted) = ctx.policy.wanted_features(&app.id, &app.label) else {
            continue;
        };
        let target = Target::app(&app.id);
        if let Some(unread) = ctx.unread(ActionKind::FixProvisioningFeatures, &target) {
            out.withhold(ActionKind::FixProvisioningFeatures, target, unread);
            continue;
        }
        let drifts = drifts(app, wanted);
        if drifts.is_empty() {
            continue;
        }
        let explained = explained_failures(ctx, &app.id, &drifts);
        explained_all.extend(
            explained
                .iter()
                .map(|fa| (fa.app_id.clone(), fa.user_id.clone())),
        );
        let finding = drift_finding(app, &drifts, &explained);
        match not_fixable(app, wanted) {
            Some(why) => out.findings.push(Finding {
                reason: format!("{} ({why})", finding.reason),
                ..finding
            }),
            None => out
                .candidates
                .push(candidate(ctx, app, &drifts, &explained, finding)),
        }
    }
    explained_all
}

/// The actual capabilities: `USER_PROVISIONING` when read, else the read-only features array.
fn actual(app: &AppInfo) -> Capabilities {
    app.user_provisioning.unwrap_or_else(|| Capabilities {
        create_users: app.features.contains(Feature::CreateUsers.app_feature()),
        update_attributes: app
            .features
            .contains(Feature::UpdateAttributes.app_feature()),
        deactivate_users: app
            .features
            .contains(Feature::DeactivateUsers.app_feature()),
    })
}

fn drifts(app: &AppInfo, wanted: &WantedFeatures) -> Vec<Drift> {
    let actual = actual(app);
    Feature::ALL
        .into_iter()
        .map(|feature| Drift {
            feature,
            wanted: feature.wanted(wanted),
            actual: feature.of(&actual),
        })
        .filter(|d| d.wanted != d.actual)
        .collect()
}

/// Failed assignments of the app whose error a wanted-but-off capability explains.
fn explained_failures<'a>(
    ctx: &Context<'a>,
    app_id: &str,
    drifts: &[Drift],
) -> Vec<&'a FailedAssignment> {
    let causes: Vec<&str> = drifts
        .iter()
        .filter(|d| d.wanted && !d.actual)
        .filter_map(|d| d.feature.error_when_off())
        .collect();
    failures_of(ctx, app_id)
        .iter()
        .copied()
        .filter(|fa| {
            let text = fa.error_text().unwrap_or("").to_ascii_lowercase();
            causes.iter().any(|c| text.contains(c))
        })
        .collect()
}

/// Why the drift cannot be fixed through the API, if it cannot.
fn not_fixable(app: &AppInfo, wanted: &WantedFeatures) -> Option<String> {
    if wanted.action != FeatureAction::Fix {
        return Some("policy only reports this drift".to_string());
    }
    if !app.features_writable() {
        return Some(format!(
            "Okta does not let the API change the provisioning features of {} apps",
            app.name
        ));
    }
    if let Some(answer) = &app.no_connection {
        return Some(format!(
            "Okta exposes no provisioning connection for the app ({answer})"
        ));
    }
    if app.provisioning_enabled() != Some(true) {
        return Some("the app's provisioning connection is not enabled".to_string());
    }
    None
}

fn feature_evidence(app: &AppInfo, drifts: &[Drift]) -> Vec<Evidence> {
    drifts
        .iter()
        .map(|d| Evidence::Feature {
            app_id: app.id.clone(),
            feature: d.feature.key().to_string(),
            wanted: d.wanted,
            actual: d.actual,
        })
        .collect()
}

fn users_of(failures: &[&FailedAssignment]) -> String {
    failures
        .iter()
        .map(|fa| fa.user_id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The drift as a finding, with the Admin Console steps.
fn drift_finding(app: &AppInfo, drifts: &[Drift], explained: &[&FailedAssignment]) -> Finding {
    let changes: Vec<String> = drifts
        .iter()
        .map(|d| {
            let verb = if d.wanted { "enable" } else { "disable" };
            format!("{verb} {}", d.feature.label())
        })
        .collect();
    let mut manual_steps = vec![format!(
        "Applications > {} > Provisioning > To App > Edit > {} > Save",
        app.label,
        changes.join(", ")
    )];
    if !explained.is_empty() {
        manual_steps.push(format!(
            "{RETRY_TASKS_MANUALLY} (users: {})",
            users_of(explained)
        ));
    }
    let mut evidence = feature_evidence(app, drifts);
    evidence.extend(explained.iter().flat_map(|fa| assignment_evidence(fa)));
    Finding::new(
        FindingKind::ProvisioningFeaturesDrift,
        Target::app(&app.id),
        format!(
            "provisioning features of {} differ from policy: {}; {} failed assignment(s) explained \
             by the drift",
            app.label,
            changes.join(", "),
            explained.len()
        ),
        evidence,
        manual_steps,
    )
}

/// The fix: a partial feature update, a re-push per explained user, then a check.
fn candidate(
    ctx: &Context<'_>,
    app: &AppInfo,
    drifts: &[Drift],
    explained: &[&FailedAssignment],
    fallback: Finding,
) -> Candidate {
    let set = |f: Feature| drifts.iter().find(|d| d.feature == f).map(|d| d.wanted);
    let mut steps = vec![Step::UpdateProvisioningFeatures {
        app_id: app.id.clone(),
        create_users: set(Feature::CreateUsers),
        update_attributes: set(Feature::UpdateAttributes),
        deactivate_users: set(Feature::DeactivateUsers),
    }];
    steps.extend(explained.iter().map(|fa| Step::RepushAppUser {
        app_id: fa.app_id.clone(),
        user_id: fa.user_id.clone(),
    }));
    steps.push(Step::Verify {
        what: format!(
            "USER_PROVISIONING of {} matches policy and the re-pushed users left ERROR",
            app.id
        ),
    });
    let mut preconditions = vec![Precondition::ConnectionStatus {
        app_id: app.id.clone(),
        status: "ENABLED".to_string(),
    }];
    preconditions.extend(drifts.iter().map(|d| Precondition::FeatureState {
        app_id: app.id.clone(),
        feature: d.feature.key().to_string(),
        enabled: d.actual,
    }));
    preconditions.extend(explained.iter().map(|fa| Precondition::AppUserSyncState {
        app_id: fa.app_id.clone(),
        user_id: fa.user_id.clone(),
        sync_state: "ERROR".to_string(),
    }));
    let mut evidence = feature_evidence(app, drifts);
    evidence.extend(explained.iter().flat_map(|fa| assignment_evidence(fa)));
    let denied = (!ctx.policy.app_allowed(&app.id, &app.label))
        .then(|| format!("app {} ({}) is excluded by safety.apps", app.label, app.id));
    Candidate {
        kind: ActionKind::FixProvisioningFeatures,
        target: Target::app(&app.id),
        reason: format!(
            "provisioning features of {} drifted from policy; {} failed assignment(s) are \
             re-pushed after the update",
            app.label,
            explained.len()
        ),
        evidence,
        steps,
        preconditions,
        denied,
        fallback: Some(fallback),
    }
}
