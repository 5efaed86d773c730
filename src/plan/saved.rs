//! Reading a plan saved by `remediator plan --out`. Plans saved before actions carried their
//! `mode` and findings their `id` still load: a missing `mode` is derived once, here, from the
//! policy in force (what the executor used to decide then), and a missing finding `id` from the
//! finding's kind and target. A saved plan is otherwise read as it is; the executor re-checks
//! each action against the org and the journal before acting.

use serde_json::Value;

use crate::policy::{Mode, Policy};
use crate::vocab::{ActionKind, FindingId, FindingKind, Target};

use super::model::{ActionMode, Plan};

/// Why a saved plan cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("not JSON")]
    Json(#[source] serde_json::Error),
    #[error("not a plan")]
    NotAPlan(#[source] serde_json::Error),
    #[error("{what} {index} has no valid {field}")]
    Field {
        what: &'static str,
        index: usize,
        field: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// The plan `text` holds, with what older plans lack filled in under `policy`.
pub fn read_saved(text: &str, policy: &Policy) -> Result<Plan, SavedPlanError> {
    let mut value: Value = serde_json::from_str(text).map_err(SavedPlanError::Json)?;
    if let Some(actions) = value.get_mut("actions").and_then(Value::as_array_mut) {
        for (index, action) in actions.iter_mut().enumerate() {
            fill_mode(action, index, policy)?;
        }
    }
    if let Some(findings) = value.get_mut("findings").and_then(Value::as_array_mut) {
        for (index, finding) in findings.iter_mut().enumerate() {
            fill_finding_id(finding, index)?;
        }
    }
    serde_json::from_value(value).map_err(SavedPlanError::NotAPlan)
}

/// An action without `mode` gets the one its rule's mode gives now: `enforce` when the rule is
/// in `enforce` mode, else `preview` (the executor leaves it alone).
fn fill_mode(action: &mut Value, index: usize, policy: &Policy) -> Result<(), SavedPlanError> {
    let Some(object) = action.as_object_mut() else {
        return Ok(());
    };
    if object.contains_key("mode") {
        return Ok(());
    }
    let kind: ActionKind = field(object.get("kind"), "action", index, "kind")?;
    let mode = match policy.mode_for(kind.rule()) {
        Mode::Enforce => ActionMode::Enforce,
        Mode::DryRun | Mode::Report => ActionMode::Preview,
    };
    object.insert("mode".to_owned(), Value::from(mode.as_str()));
    Ok(())
}

fn fill_finding_id(finding: &mut Value, index: usize) -> Result<(), SavedPlanError> {
    let Some(object) = finding.as_object_mut() else {
        return Ok(());
    };
    if object.contains_key("id") {
        return Ok(());
    }
    let kind: FindingKind = field(object.get("kind"), "finding", index, "kind")?;
    let target: Target = field(object.get("target"), "finding", index, "target")?;
    let id = FindingId::derive(kind, &target);
    object.insert("id".to_owned(), Value::from(id.as_str()));
    Ok(())
}

fn field<T: serde::de::DeserializeOwned>(
    value: Option<&Value>,
    what: &'static str,
    index: usize,
    field: &'static str,
) -> Result<T, SavedPlanError> {
    serde_json::from_value(value.cloned().unwrap_or(Value::Null)).map_err(|source| {
        SavedPlanError::Field {
            what,
            index,
            field,
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::RuleKind;

    /// A plan as `plan --out` wrote it before actions had a mode and findings an id.
    const OLDER_PLAN: &str = r#"{
        "org": "https://example.okta.com",
        "generated_at": "2026-11-23T10:00:00Z",
        "complete": true,
        "actions": [
            {"id": "act-0000000000000001", "kind": "retry-provisioning",
             "target": {"app_id": "0oa1", "user_id": "00u1"}, "reason": "r", "evidence": [],
             "steps": [{"op": "repush-app-user", "app_id": "0oa1", "user_id": "00u1"}]},
            {"id": "act-0000000000000002", "kind": "force-sync",
             "target": {"directory_id": "0oa2"}, "reason": "r", "evidence": [], "steps": []}
        ],
        "findings": [
            {"kind": "kpasswd-blocked", "target": {"directory_id": "0oa2"}, "reason": "r",
             "evidence": [], "manual_steps": []}
        ],
        "skipped": []
    }"#;

    #[test]
    fn an_older_plan_gets_its_modes_from_the_policy_and_its_finding_ids_derived() {
        let mut policy = Policy::default();
        policy.global.default_mode = Mode::DryRun;
        policy
            .global
            .modes
            .insert(RuleKind::RetryProvisioning, Mode::Enforce);
        let plan = read_saved(OLDER_PLAN, &policy).expect("an older plan loads");
        let modes: Vec<ActionMode> = plan.actions.iter().map(|a| a.mode).collect();
        assert_eq!(modes, [ActionMode::Enforce, ActionMode::Preview]);
        let finding = &plan.findings[0];
        assert_eq!(
            finding.id,
            FindingId::derive(FindingKind::KpasswdBlocked, &finding.target)
        );
    }

    #[test]
    fn a_saved_mode_is_kept_and_a_bad_one_refused() {
        let policy = Policy::default();
        let saved = OLDER_PLAN.replacen(
            r#""kind": "retry-provisioning","#,
            r#""kind": "retry-provisioning", "mode": "enforce","#,
            1,
        );
        let plan = read_saved(&saved, &policy).expect("loads");
        assert_eq!(plan.actions[0].mode, ActionMode::Enforce);
        let bad = OLDER_PLAN.replacen(
            r#""kind": "retry-provisioning","#,
            r#""kind": "retry-provisioning", "mode": "sometimes","#,
            1,
        );
        let err = read_saved(&bad, &policy).expect_err("an unknown mode");
        assert!(matches!(err, SavedPlanError::NotAPlan(_)), "{err}");
        let unknown = OLDER_PLAN.replacen("force-sync", "reboot", 1);
        let err = read_saved(&unknown, &policy).expect_err("an unknown kind");
        assert_eq!(err.to_string(), "action 1 has no valid kind");
        assert!(read_saved("{", &policy).is_err());
    }
}
