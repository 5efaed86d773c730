//! Rule 3: remove the Group Push mappings of an app whose provisioning connection is disabled.
//! Okta refuses to change the mappings while provisioning is off, so the fix enables provisioning
//! with a credential policy names, removes the mappings, and disables provisioning again.

use crate::observe::{AppInfo, EventInfo, PushMappingInfo};
use crate::okta::{EventFamily, EventType};
use crate::policy::CredentialSource;

use super::super::candidate::{Candidate, Outcome};
use super::super::model::{
    ActionKind, Evidence, Finding, FindingKind, Precondition, SkipReason, Skipped, Step, Target,
};
use super::super::planner::Context;
use super::event_evidence;

/// The connection status this rule acts on.
const DISABLED: &str = "DISABLED";
/// Error text (lowercase) of an import or push rejected for credentials.
const INVALID_CREDENTIALS: &str = "invalid credentials";

/// Plans the removal (or a finding) per app with provisioning disabled and push mappings.
pub(super) fn plan(ctx: &Context<'_>, out: &mut Outcome) {
    let mut apps: Vec<&AppInfo> = ctx.snapshot.apps.value.iter().collect();
    apps.sort_by(|a, b| a.id.cmp(&b.id));
    for app in apps {
        let Some(part) = ctx.snapshot.push_mappings.get(&app.id) else {
            continue;
        };
        if (part.value.is_empty() && part.is_complete()) || app.provisioning_enabled() == Some(true)
        {
            continue;
        }
        let mut mappings: Vec<&PushMappingInfo> = part.value.iter().collect();
        mappings.sort_by(|a, b| a.id.cmp(&b.id));
        let target = Target {
            app_id: Some(app.id.clone()),
            mapping_ids: mappings.iter().map(|m| m.id.clone()).collect(),
            ..Target::default()
        };
        if let Some(unread) = ctx.unread(ActionKind::RemovePushMappings, &target) {
            out.withhold(ActionKind::RemovePushMappings, target, unread);
            continue;
        }
        if app.provisioning_enabled() != Some(false) {
            out.skipped.push(connection_unknown(app, &mappings, target));
            continue;
        }
        let Some(removal) = ctx.policy.remove_push_mappings.for_app(&app.id, &app.label) else {
            let why = "policy names no credential to enable provisioning and remove them";
            out.findings.push(orphaned(
                ctx,
                app,
                &mappings,
                target,
                FindingKind::PushMappingsOrphanedNoCredential,
                why,
            ));
            continue;
        };
        let denied = (!ctx.policy.app_allowed(&app.id, &app.label))
            .then(|| format!("app {} ({}) is excluded by safety.apps", app.label, app.id));
        out.candidates.push(Candidate {
            kind: ActionKind::RemovePushMappings,
            reason: format!(
                "{} has provisioning disabled and {} Group Push mapping(s) that cannot be removed \
                 while it is",
                app.label,
                mappings.len()
            ),
            evidence: mapping_evidence(app, &mappings),
            steps: steps(
                app,
                &mappings,
                &removal.credential,
                removal.delete_target_groups,
            ),
            preconditions: preconditions(app, &mappings),
            fallback: Some(orphaned(
                ctx,
                app,
                &mappings,
                target.clone(),
                FindingKind::PushMappingsOrphaned,
                "policy does not let remediator remove them (report mode, or the app is \
                 excluded)",
            )),
            target,
            denied,
        });
    }
}

/// The mappings of an app whose connection is not known to be disabled: not removed (the fix
/// is for a disabled connection), with Okta's answer as evidence.
fn connection_unknown(app: &AppInfo, mappings: &[&PushMappingInfo], target: Target) -> Skipped {
    let answer = match (&app.no_connection, &app.connection) {
        (Some(failure), _) => format!(
            "Okta answered {failure}: it exposes no provisioning connection for {}",
            app.label
        ),
        (None, Some(c)) => format!("its provisioning connection has status {}", c.status),
        (None, None) => "its provisioning connection was not read".to_owned(),
    };
    let mut evidence = vec![Evidence::Note {
        text: answer.clone(),
    }];
    evidence.extend(mappings.iter().map(|m| Evidence::PushMapping {
        app_id: app.id.clone(),
        mapping_id: m.id.clone(),
        status: m.status.clone(),
        source_group_id: m.source_group_id.clone(),
        target_group_id: m.target_group_id.clone(),
    }));
    Skipped {
        kind: ActionKind::RemovePushMappings,
        target,
        why: SkipReason::ConnectionUnknown,
        detail: format!(
            "{} has {} Group Push mapping(s) but provisioning is not known to be disabled ({answer}); \
             the removal is for an app whose provisioning is disabled",
            app.label,
            mappings.len()
        ),
        part: None,
        evidence,
        retry_at: None,
    }
}

/// Where a credential comes from, never its value.
fn describe(source: &CredentialSource) -> String {
    match source {
        CredentialSource::Env(var) => format!("environment variable {var}"),
        CredentialSource::File(path) => format!("file {}", path.display()),
    }
}

fn steps(
    app: &AppInfo,
    mappings: &[&PushMappingInfo],
    credential: &CredentialSource,
    delete_target_group: bool,
) -> Vec<Step> {
    let mut steps = vec![Step::EnableProvisioning {
        app_id: app.id.clone(),
        credential: describe(credential),
    }];
    steps.extend(
        mappings
            .iter()
            .filter(|m| m.status == "ACTIVE" || m.status == "ERROR")
            .map(|m| Step::DeactivatePushMapping {
                app_id: app.id.clone(),
                mapping_id: m.id.clone(),
            }),
    );
    steps.extend(mappings.iter().map(|m| Step::DeletePushMapping {
        app_id: app.id.clone(),
        mapping_id: m.id.clone(),
        delete_target_group,
    }));
    steps.push(Step::DisableProvisioning {
        app_id: app.id.clone(),
    });
    steps.push(Step::Verify {
        what: format!(
            "{} has no Group Push mappings and provisioning is disabled again",
            app.id
        ),
    });
    steps
}

fn preconditions(app: &AppInfo, mappings: &[&PushMappingInfo]) -> Vec<Precondition> {
    let mut pre = vec![Precondition::ConnectionStatus {
        app_id: app.id.clone(),
        status: DISABLED.to_string(),
    }];
    pre.extend(mappings.iter().map(|m| Precondition::PushMappingStatus {
        app_id: app.id.clone(),
        mapping_id: m.id.clone(),
        status: m.status.clone(),
    }));
    pre
}

fn mapping_evidence(app: &AppInfo, mappings: &[&PushMappingInfo]) -> Vec<Evidence> {
    let mut evidence = vec![Evidence::Connection {
        app_id: app.id.clone(),
        status: DISABLED.to_string(),
    }];
    evidence.extend(mappings.iter().map(|m| Evidence::PushMapping {
        app_id: app.id.clone(),
        mapping_id: m.id.clone(),
        status: m.status.clone(),
        source_group_id: m.source_group_id.clone(),
        target_group_id: m.target_group_id.clone(),
    }));
    evidence
}

/// Events that show the orphaned mappings hurting: imports rejected for credentials,
/// authentication failures and failed Group Push changes, for this app.
fn symptom(event: &EventInfo, app_id: &str) -> bool {
    if event.target_id("AppInstance") != Some(app_id) {
        return false;
    }
    let text = format!(
        "{} {}",
        event.reason.as_deref().unwrap_or(""),
        event.display_message
    )
    .to_ascii_lowercase();
    let kind = event.event_type.as_str();
    let import_rejected = EventFamily::Import.contains(kind) && text.contains(INVALID_CREDENTIALS);
    let push_failed =
        EventFamily::GroupPush.contains(kind) && (event.failed() || kind.contains("failed"));
    import_rejected || push_failed || EventType::AuthenticationFailure.is(kind)
}

/// The orphaned mappings as a finding, with the symptoms as evidence and the manual workaround.
fn orphaned(
    ctx: &Context<'_>,
    app: &AppInfo,
    mappings: &[&PushMappingInfo],
    target: Target,
    kind: FindingKind,
    why: &str,
) -> Finding {
    let mut events: Vec<&EventInfo> = ctx
        .snapshot
        .events
        .value
        .iter()
        .filter(|e| symptom(e, &app.id))
        .collect();
    events.sort_by(|a, b| (a.published, &a.uuid).cmp(&(b.published, &b.uuid)));
    let mut evidence: Vec<Evidence> = events.into_iter().map(event_evidence).collect();
    evidence.extend(mapping_evidence(app, mappings));
    Finding::new(
        kind,
        target,
        format!(
            "{} has provisioning disabled and {} Group Push mapping(s); {why}",
            app.label,
            mappings.len()
        ),
        evidence,
        vec![
            format!(
                "Applications > {} > Provisioning > Integration > Edit > enable API integration \
                 with a valid API token > Save",
                app.label
            ),
            format!(
                "Applications > {} > Push Groups > for each listed mapping: Deactivate, then \
                 Delete",
                app.label
            ),
            format!(
                "Applications > {} > Provisioning > Integration > Edit > disable API integration \
                 > Save",
                app.label
            ),
            "Or, as a stopgap: temporarily remove the affected users from the AD group pushed \
             by the mapping"
                .to_string(),
        ],
    )
}
