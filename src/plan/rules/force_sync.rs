//! Rule 2: Force Sync a directory whose app-user profiles hold values the Okta profiles lack.
//! One action per directory per run, however many users differ. A diff the directory reported
//! but the app-user profile does not hold is a finding: Force Sync would not help there.

use crate::observe::{AttributeDiff, DirectoryInfo};

use super::super::candidate::{Candidate, Outcome};
use super::super::model::{
    ActionKind, Evidence, Finding, FindingKind, Precondition, SkipReason, Step, Target,
};
use super::super::planner::Context;

/// Plans one Force Sync (or finding) per directory the rule applies to.
pub(super) fn plan(ctx: &Context<'_>, out: &mut Outcome) {
    let mut directories: Vec<&DirectoryInfo> = ctx.snapshot.directories.iter().collect();
    directories.sort_by(|a, b| a.app_id.cmp(&b.app_id));
    for dir in directories {
        if !ctx
            .policy
            .force_sync
            .directories
            .matches(&dir.app_id, &dir.label)
        {
            continue;
        }
        let target = directory_target(dir);
        let mut diffs: Vec<&AttributeDiff> = dir.attributes.value.iter().collect();
        diffs.sort_by(|a, b| (&a.user_id, &a.okta_attribute).cmp(&(&b.user_id, &b.okta_attribute)));
        let stale: Vec<&AttributeDiff> = diffs.iter().copied().filter(|d| is_stale(d)).collect();
        if !stale.is_empty() {
            out.findings.push(would_not_help(dir, &stale));
        }
        let helpful: Vec<&AttributeDiff> = diffs.iter().copied().filter(|d| helps(d)).collect();
        if helpful.is_empty() {
            continue;
        }
        if !ctx.policy.directory_allowed(&dir.app_id, &dir.label) {
            out.skip(
                ActionKind::ForceSync,
                target,
                SkipReason::DeniedByPolicy,
                format!(
                    "directory {} ({}) is excluded by safety.directories",
                    dir.label, dir.app_id
                ),
            );
            continue;
        }
        let finding = manual_force_sync(dir, &diffs, &helpful);
        if ctx.policy.force_sync_path().is_none() {
            out.findings.push(finding);
            continue;
        }
        out.candidates
            .push(candidate(dir, &diffs, &helpful, finding));
    }
}

fn directory_target(dir: &DirectoryInfo) -> Target {
    Target {
        directory_id: Some(dir.app_id.clone()),
        ..Target::default()
    }
}

/// The directory app-user profile holds a value the Okta profile lacks: Force Sync carries it.
fn helps(diff: &AttributeDiff) -> bool {
    let held = diff.app_user_value.as_ref().filter(|v| !v.is_null());
    let reported_elsewhere = diff
        .reported_directory_value
        .as_ref()
        .is_some_and(|r| Some(r) != diff.app_user_value.as_ref());
    held.is_some() && diff.app_user_value != diff.okta_value && !reported_elsewhere
}

/// The directory reported a value its app-user profile does not hold: Force Sync re-sends the
/// stale app-user value, so it would not help.
fn is_stale(diff: &AttributeDiff) -> bool {
    diff.reported_directory_value
        .as_ref()
        .is_some_and(|r| Some(r) != diff.app_user_value.as_ref())
}

fn attribute_evidence(diffs: &[&AttributeDiff]) -> Vec<Evidence> {
    diffs
        .iter()
        .map(|d| Evidence::Attribute {
            user_id: d.user_id.clone(),
            app_user_attribute: d.app_user_attribute.clone(),
            app_user_value: d.app_user_value.clone(),
            okta_attribute: d.okta_attribute.clone(),
            okta_value: d.okta_value.clone(),
        })
        .collect()
}

fn users(diffs: &[&AttributeDiff]) -> usize {
    let mut ids: Vec<&str> = diffs.iter().map(|d| d.user_id.as_str()).collect();
    ids.dedup();
    ids.len()
}

fn would_not_help(dir: &DirectoryInfo, stale: &[&AttributeDiff]) -> Finding {
    let mut evidence = attribute_evidence(stale);
    evidence.extend(stale.iter().map(|d| Evidence::Note {
        text: format!(
            "the System Log reports {} = {} in the directory for user {}, but the app-user \
             profile holds {}",
            d.app_user_attribute,
            show(d.reported_directory_value.as_ref()),
            d.user_id,
            show(d.app_user_value.as_ref())
        ),
    }));
    Finding::new(
        FindingKind::ForceSyncWouldNotHelp,
        directory_target(dir),
        format!(
            "{} attribute(s) of {} user(s) changed in {} but the app-user profile does not show \
             the change; Force Sync would push the stale value",
            stale.len(),
            users(stale),
            dir.label
        ),
        evidence,
        vec![
            "Check the attribute's value in Active Directory for the listed users".to_string(),
            "Check that the AD agents are running and connected (Directory > Directory \
             Integrations > Agents)"
                .to_string(),
            format!(
                "Directory > Directory Integrations > {} > Import > Import Now",
                dir.label
            ),
            format!(
                "Directory > Directory Integrations > {} > Provisioning > To Okta > Force Sync",
                dir.label
            ),
        ],
    )
}

fn show(value: Option<&serde_json::Value>) -> String {
    value.map_or_else(|| "nothing".to_string(), |v| v.to_string())
}

/// The Force Sync as Admin Console steps (when policy does not enable the call).
fn manual_force_sync(
    dir: &DirectoryInfo,
    diffs: &[&AttributeDiff],
    helpful: &[&AttributeDiff],
) -> Finding {
    Finding::new(
        FindingKind::ForceSyncNeeded,
        directory_target(dir),
        format!(
            "{} attribute(s) of {} user(s) in {} differ from the Okta profile; policy does not \
             enable the (non-public) Force Sync call",
            helpful.len(),
            users(helpful),
            dir.label
        ),
        attribute_evidence(diffs),
        vec![format!(
            "Directory > Directory Integrations > {} > Provisioning > To Okta > Force Sync",
            dir.label
        )],
    )
}

fn candidate(
    dir: &DirectoryInfo,
    diffs: &[&AttributeDiff],
    helpful: &[&AttributeDiff],
    fallback: Finding,
) -> Candidate {
    Candidate {
        kind: ActionKind::ForceSync,
        target: directory_target(dir),
        reason: format!(
            "{} attribute(s) of {} user(s) in {} differ from the Okta profile",
            helpful.len(),
            users(helpful),
            dir.label
        ),
        evidence: attribute_evidence(diffs),
        steps: vec![
            Step::ForceSyncDirectory {
                directory_id: dir.app_id.clone(),
            },
            Step::Verify {
                what: format!(
                    "the Okta profiles take the {} directory value(s) of {}",
                    helpful.len(),
                    dir.label
                ),
            },
        ],
        preconditions: helpful
            .iter()
            .map(|d| Precondition::AttributeDiffers {
                user_id: d.user_id.clone(),
                okta_attribute: d.okta_attribute.clone(),
                expected: d.okta_value.clone(),
            })
            .collect(),
        denied: None,
        fallback: Some(fallback),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff(app_user: Option<&str>, okta: Option<&str>, reported: Option<&str>) -> AttributeDiff {
        AttributeDiff {
            user_id: "00u1".into(),
            app_user_attribute: "title".into(),
            app_user_value: app_user.map(|v| json!(v)),
            okta_attribute: "title".into(),
            okta_value: okta.map(|v| json!(v)),
            reported_directory_value: reported.map(|v| json!(v)),
        }
    }

    #[test]
    fn force_sync_helps_only_when_the_app_user_holds_a_value_okta_lacks() {
        assert!(helps(&diff(Some("A"), Some("B"), None)));
        assert!(helps(&diff(Some("A"), None, Some("A"))));
        assert!(!helps(&diff(None, Some("B"), None)), "nothing to carry");
        assert!(!helps(&diff(Some("A"), Some("A"), None)), "no difference");
        assert!(
            !helps(&diff(Some("A"), Some("B"), Some("C"))),
            "stale app user"
        );
    }

    #[test]
    fn stale_when_the_directory_reported_another_value() {
        assert!(is_stale(&diff(Some("A"), Some("A"), Some("C"))));
        assert!(is_stale(&diff(None, Some("A"), Some("C"))));
        assert!(!is_stale(&diff(Some("C"), Some("A"), Some("C"))));
        assert!(!is_stale(&diff(Some("A"), Some("B"), None)));
    }
}
