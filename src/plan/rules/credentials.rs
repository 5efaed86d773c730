//! Rule 6 (diagnosis): an app's provisioning credentials are invalid. Shown by
//! `application.integration.authentication_failure` events or by failed assignments whose error
//! matches `provisioning_credentials.error_patterns`. Reported with the steps to re-enter them.

use std::collections::BTreeMap;

use crate::observe::FailedAssignment;

use super::super::candidate::Outcome;
use crate::okta::EventType;

use super::super::model::{Evidence, Finding, FindingKind, Target};
use super::super::planner::Context;
use super::{
    app_label, assignment_evidence, event_evidence, sorted_failures, RETRY_TASKS_MANUALLY,
};

/// Reports one finding per app whose credentials look invalid.
pub(super) fn plan(ctx: &Context<'_>, out: &mut Outcome) {
    let mut evidence: BTreeMap<&str, (Vec<Evidence>, Vec<&str>)> = BTreeMap::new();
    let mut events: Vec<_> = ctx
        .snapshot
        .events
        .value
        .iter()
        .filter(|e| EventType::AuthenticationFailure.is(&e.event_type))
        .collect();
    events.sort_by(|a, b| (a.published, &a.uuid).cmp(&(b.published, &b.uuid)));
    for event in events {
        if let Some(app_id) = event.target_id("AppInstance") {
            evidence
                .entry(app_id)
                .or_default()
                .0
                .push(event_evidence(event));
        }
    }
    for fa in sorted_failures(ctx) {
        if has_credential_error(ctx, fa.error_text()) {
            let entry = evidence.entry(fa.app_id.as_str()).or_default();
            entry.0.extend(assignment_evidence(fa));
            entry.1.push(fa.user_id.as_str());
        }
    }
    let notes = super::unread_notes(ctx, &[crate::observe::PartId::SystemLog]);
    for (app_id, (mut evidence, users)) in evidence {
        evidence.extend(notes.iter().cloned());
        let label = app_label(ctx, app_id);
        if !ctx
            .policy
            .provisioning_credentials
            .apps
            .matches(app_id, label)
        {
            continue;
        }
        out.findings.push(finding(app_id, label, evidence, &users));
    }
}

/// Whether this rule reports the failed assignment (its error says the app's credentials are
/// invalid and the rule applies to the app).
pub(super) fn covers(ctx: &Context<'_>, fa: &FailedAssignment) -> bool {
    has_credential_error(ctx, fa.error_text())
        && ctx
            .policy
            .provisioning_credentials
            .apps
            .matches(&fa.app_id, app_label(ctx, &fa.app_id))
}

/// Whether an error text says the app's credentials are invalid.
fn has_credential_error(ctx: &Context<'_>, text: Option<&str>) -> bool {
    text.is_some_and(|t| {
        ctx.policy
            .provisioning_credentials
            .error_patterns
            .find(t)
            .is_some()
    })
}

fn finding(app_id: &str, label: &str, evidence: Vec<Evidence>, users: &[&str]) -> Finding {
    let mut retry = RETRY_TASKS_MANUALLY.to_string();
    if !users.is_empty() {
        retry = format!("{retry} (users: {})", users.join(", "));
    }
    Finding::new(
        FindingKind::ProvisioningCredentialsInvalid,
        Target::app(app_id),
        format!(
            "the provisioning credentials of {label} are rejected by the app ({} failed \
             assignment(s) blocked)",
            users.len()
        ),
        evidence,
        vec![
            format!(
                "Applications > {label} > Provisioning > Integration > Edit > re-enter the API \
                 credentials > Test API Credentials > Save"
            ),
            retry,
        ],
    )
}
