//! Properties over random snapshots, journals and budgets: no plan exceeds a budget, no two
//! actions share a target, no two findings share an id, and planning twice gives the same JSON.

use crate::support::plan as plan_support;

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use plan_support::*;
use proptest::prelude::*;
use remediator::journal::JournalView;
use remediator::observe::{AttributeDiff, DirectoryInfo, Part, PartId, ProfileValue, Snapshot};
use remediator::plan::ActionKind;
use remediator::policy::{
    CredentialSource, FeatureAction, Mode, Policy, PushMappingRemoval, RuleKind, WantedFeatures,
};
use serde_json::json;
use strum::IntoEnumIterator;

const APPS: [(&str, &str, &str); 3] = [
    ("0oaA", "slack", "Slack"),
    ("0oaB", "acme_scim", "Acme"),
    ("0oaC", "google", "Google"),
];
const ERRORS: [&str; 5] = [
    "connection timed out",
    "User account is inactive",
    "Matching user not found",
    "Invalid Credentials",
    "weird",
];

fn rule_of(kind: ActionKind) -> RuleKind {
    match kind {
        ActionKind::RetryProvisioning => RuleKind::RetryProvisioning,
        ActionKind::ForceSync => RuleKind::ForceSync,
        ActionKind::RemovePushMappings => RuleKind::RemovePushMappings,
        ActionKind::FixProvisioningFeatures => RuleKind::ProvisioningFeatures,
    }
}

/// One app: connection enabled, (create, update, deactivate), mapping count, mappings incomplete.
type AppInput = (bool, (bool, bool, bool), usize, bool);

#[derive(Debug, Clone)]
struct Input {
    apps: Vec<AppInput>,
    /// (app index, user number, error index, minutes ago).
    failures: Vec<(usize, u8, usize, i64)>,
    diffs: Vec<(u8, bool)>,
    run: u32,
    hour: u32,
    used: u32,
    kind_limits: Vec<(usize, u32)>,
    cooldown_users: Vec<u8>,
    retry_unknown: bool,
}

fn input() -> impl Strategy<Value = Input> {
    (
        proptest::collection::vec(
            (
                any::<bool>(),
                any::<(bool, bool, bool)>(),
                0usize..3,
                any::<bool>(),
            ),
            3,
        ),
        proptest::collection::vec((0usize..3, 0u8..6, 0usize..5, 0i64..600), 0..15),
        proptest::collection::vec((0u8..6, any::<bool>()), 0..6),
        0u32..8,
        0u32..12,
        0u32..12,
        proptest::collection::vec((0usize..4, 0u32..4), 0..4),
        proptest::collection::vec(0u8..6, 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(
                apps,
                failures,
                diffs,
                run,
                hour,
                used,
                kind_limits,
                cooldown_users,
                retry_unknown,
            )| {
                Input {
                    apps,
                    failures,
                    diffs,
                    run,
                    hour,
                    used,
                    kind_limits,
                    cooldown_users,
                    retry_unknown,
                }
            },
        )
}

fn build(input: &Input) -> (Policy, Snapshot, JournalView) {
    let mut s = snapshot();
    let mut apps = Vec::new();
    for ((id, name, label), (enabled, (c, u, d), mappings, incomplete)) in
        APPS.iter().zip(&input.apps)
    {
        let mut a = app(
            id,
            name,
            label,
            Some(if *enabled { "ENABLED" } else { "DISABLED" }),
        );
        a.user_provisioning = Some(caps(*c, *u, *d));
        apps.push(a);
        let list = (0..*mappings)
            .map(|m| mapping(&format!("gPm{m}"), "ACTIVE"))
            .collect();
        let part = if *incomplete {
            Part::incomplete(
                list,
                PartId::PushMappings((*id).into()),
                server_error(
                    "GET /api/v1/apps/{appId}/group-push/mappings",
                    "page failed",
                ),
            )
        } else {
            Part::complete(list)
        };
        s.push_mappings.insert((*id).into(), part);
    }
    s.apps = complete(apps);
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for (a, u, e, m) in &input.failures {
        if seen.insert((*a, *u)) {
            failures.push(failure(
                APPS[*a].0,
                &format!("00u{u}"),
                ERRORS[*e],
                minutes_ago(*m),
            ));
        }
    }
    s.failed_assignments = complete(failures);
    s.directories = vec![DirectoryInfo {
        app_id: "0oaAD".into(),
        label: "corp".into(),
        name: "active_directory".into(),
        attributes: Part::complete(
            input
                .diffs
                .iter()
                .map(|(u, stale)| AttributeDiff {
                    user_id: format!("00u{u}").into(),
                    app_user_attribute: "title".into(),
                    app_user_value: ProfileValue::Known(json!("A")),
                    okta_attribute: "title".into(),
                    okta_value: ProfileValue::Known(json!("B")),
                    expected_directory_value: stale.then(|| json!("C")),
                })
                .collect(),
        ),
    }];

    let mut p = policy();
    p.global.default_mode = Mode::DryRun;
    p.safety.max_actions_per_run = input.run;
    p.safety.max_actions_per_hour = input.hour;
    for (k, limit) in &input.kind_limits {
        p.safety.max_actions_per_kind_per_run.insert(
            rule_of(ActionKind::iter().nth(*k).expect("a kind index")),
            *limit,
        );
    }
    p.retry_provisioning.retry_unknown_errors = input.retry_unknown;
    p.admin = admin_paths(r#"force_sync_path = "/admin/app/{appId}/forceSync""#);
    p.force_sync.use_admin_path = true;
    for (_, _, label) in APPS {
        p.provisioning_features.apps.push(WantedFeatures {
            app: label.into(),
            create_users: true,
            update_attributes: true,
            deactivate_users: true,
            action: FeatureAction::Fix,
        });
        p.remove_push_mappings.apps.push(PushMappingRemoval {
            app: label.into(),
            credential: CredentialSource::Env("TOKEN".into()),
            delete_target_groups: false,
        });
    }

    let mut j = journal();
    j.budget_last_hour.total = input.used;
    for u in &input.cooldown_users {
        for (id, _, _) in APPS {
            j.cooldowns.insert(
                remediator::plan::Target::app_user(id, format!("00u{u}")).key(),
                now() + Duration::minutes(5),
            );
        }
    }
    (p, s, j)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn plans_respect_budgets_targets_and_determinism(input in input()) {
        let (p, s, j) = build(&input);
        let plan = run(&p, &s, &j);

        let n = plan.actions.len() as u32;
        prop_assert!(n <= p.safety.max_actions_per_run);
        prop_assert!(n <= p.safety.max_actions_per_hour.saturating_sub(j.budget_last_hour.total));
        let mut per_kind: BTreeMap<RuleKind, u32> = BTreeMap::new();
        for a in &plan.actions {
            *per_kind.entry(rule_of(a.kind)).or_insert(0) += 1;
        }
        for (rule, count) in per_kind {
            prop_assert!(count <= p.safety.max_actions_for_kind(rule));
        }

        let targets: BTreeSet<String> = plan.actions.iter().map(|a| a.target.key()).collect();
        prop_assert_eq!(targets.len(), plan.actions.len(), "two actions share a target");

        let finding_ids: BTreeSet<_> = plan.findings.iter().map(|f| f.id.clone()).collect();
        prop_assert_eq!(finding_ids.len(), plan.findings.len(), "two findings share an id");

        for a in &plan.actions {
            prop_assert!(j.cooldown_until(&a.target).is_none(), "action on a cooling target");
            if matches!(a.kind, ActionKind::RemovePushMappings) {
                let app = a.target.app_id.as_deref().unwrap_or_default();
                prop_assert!(s.push_mappings[app].is_complete());
            }
        }

        let again = run(&p, &s, &j);
        prop_assert_eq!(
            serde_json::to_string(&plan).expect("serializes"),
            serde_json::to_string(&again).expect("serializes")
        );
    }
}
