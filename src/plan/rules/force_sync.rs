//! Rule 2: Force Sync a directory whose app-user profiles hold values the Okta profiles lack.
//! One action per directory per run, however many users differ. A value policy's
//! `force_sync.expected` says the directory holds, but the app-user profile does not, is a
//! finding: Force Sync would not help there. Only values that were read are compared; a
//! directory whose profiles were not all read is withheld.

use crate::observe::{AttributeDiff, DirectoryInfo, ProfileValue};

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
        if let Some(unread) = ctx.unread(ActionKind::ForceSync, &target) {
            out.withhold(ActionKind::ForceSync, target, unread);
            continue;
        }
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

/// The directory app-user profile holds a value the Okta profile is known to lack: Force Sync
/// carries it.
fn helps(diff: &AttributeDiff) -> bool {
    let held = matches!(diff.app_user_value, ProfileValue::Known(_));
    let known_difference = diff.okta_value.is_known() && diff.app_user_value != diff.okta_value;
    held && known_difference && !is_stale(diff)
}

/// Policy says the directory holds a value its app-user profile does not hold: Force Sync
/// re-sends the stale app-user value, so it would not help.
fn is_stale(diff: &AttributeDiff) -> bool {
    diff.expected_directory_value
        .as_ref()
        .is_some_and(|x| ProfileValue::from_json(Some(x)) != diff.app_user_value)
}

/// The comparisons as evidence: only values that were read (an unknown one has no place in a
/// plan, whose `null` means "no value").
fn attribute_evidence(diffs: &[&AttributeDiff]) -> Vec<Evidence> {
    diffs
        .iter()
        .filter_map(|d| {
            Some(Evidence::Attribute {
                user_id: d.user_id.clone(),
                app_user_attribute: d.app_user_attribute.clone(),
                app_user_value: d.app_user_value.known()?,
                okta_attribute: d.okta_attribute.clone(),
                okta_value: d.okta_value.known()?,
            })
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
            "policy's force_sync.expected says the directory holds {} = {} for user {}, but the \
             app-user profile holds {}",
            d.app_user_attribute,
            show(d.expected_directory_value.as_ref()),
            d.user_id,
            d.app_user_value.show()
        ),
    }));
    Finding::new(
        FindingKind::ForceSyncWouldNotHelp,
        directory_target(dir),
        format!(
            "{} attribute(s) of {} user(s) hold a value in {} (as policy's force_sync.expected \
             says) that the app-user profile does not show; Force Sync would push the stale \
             value",
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
    value.map_or_else(|| "no value".to_string(), |v| v.to_string())
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
            .filter_map(|d| {
                Some(Precondition::AttributeDiffers {
                    user_id: d.user_id.clone(),
                    okta_attribute: d.okta_attribute.clone(),
                    expected: d.okta_value.known()?,
                })
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

    fn value(v: Option<&str>) -> ProfileValue {
        v.map_or(ProfileValue::Null, |v| ProfileValue::Known(json!(v)))
    }

    fn diff(app_user: Option<&str>, okta: Option<&str>, expected: Option<&str>) -> AttributeDiff {
        AttributeDiff {
            user_id: "00u1".into(),
            app_user_attribute: "title".into(),
            app_user_value: value(app_user),
            okta_attribute: "title".into(),
            okta_value: value(okta),
            expected_directory_value: expected.map(|v| json!(v)),
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
        let unknown = AttributeDiff {
            okta_value: ProfileValue::Unknown,
            ..diff(Some("A"), None, None)
        };
        assert!(!helps(&unknown), "an unknown Okta value is no difference");
    }

    #[test]
    fn stale_when_the_directory_reported_another_value() {
        assert!(is_stale(&diff(Some("A"), Some("A"), Some("C"))));
        assert!(is_stale(&diff(None, Some("A"), Some("C"))));
        assert!(!is_stale(&diff(Some("C"), Some("A"), Some("C"))));
        assert!(!is_stale(&diff(Some("A"), Some("B"), None)));
    }
}
