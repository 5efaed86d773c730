//! Saved plans (`remediator plan --out`) as untrusted input: sealing one with the digests of
//! the policy it was made under and of its own content, reading one back (a digest that does not
//! match is refused, naming what changed), and matching its actions against a plan made afresh,
//! so only what the current policy plans now, identically, is carried out.
//!
//! Plans saved before actions carried their `mode` and findings their `id` still load: a missing
//! `mode` is derived once, here, from the policy in force, and a missing finding `id` from the
//! finding's kind and target. Plans saved before digests load without the digest checks; the
//! match against the fresh plan holds for every saved plan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::policy::{Mode, Policy};
use crate::vocab::{ActionKind, FindingId, FindingKind, SkipReason, Target};

use super::gate::{self, Asker};

use super::model::{Action, ActionMode, Plan, PlanDigests};

/// The plan's JSON fields that hold its digests, left out of the content `plan_digest` covers.
const DIGEST_FIELDS: [&str; 3] = ["policy_digest", "policy_files", "plan_digest"];

/// The extension of policy files (as the policy loader reads them).
const POLICY_EXTENSION: &str = "toml";

/// The canonical digests of a policy directory: each `*.toml` file's (its TOML parsed and
/// written as JSON with sorted keys, so comments and layout do not count) and the whole's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFingerprint {
    /// File name -> `sha256:...` of its canonical content.
    pub files: BTreeMap<String, String>,
    /// `sha256:...` of every file's name and digest, in name order.
    pub digest: String,
}

/// Why a policy directory could not be fingerprinted.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not TOML")]
    Toml {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
}

impl PolicyFingerprint {
    /// The fingerprint of the policy files in `dir`.
    pub fn of_dir(dir: &Path) -> Result<PolicyFingerprint, FingerprintError> {
        fn read(path: &Path) -> impl FnOnce(std::io::Error) -> FingerprintError + '_ {
            move |source| FingerprintError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read(dir))? {
            let path = entry.map_err(read(dir))?.path();
            if path.extension().is_some_and(|x| x == POLICY_EXTENSION) && path.is_file() {
                paths.push(path);
            }
        }
        let mut sources = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(read(&path))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            sources.push((name, path, text));
        }
        Self::of_sources(sources)
    }

    fn of_sources(
        sources: Vec<(String, PathBuf, String)>,
    ) -> Result<PolicyFingerprint, FingerprintError> {
        let mut files = BTreeMap::new();
        for (name, path, text) in sources {
            let value: toml::Value =
                toml::from_str(&text).map_err(|source| FingerprintError::Toml { path, source })?;
            let canonical = serde_json::to_value(&value).unwrap_or(Value::Null);
            files.insert(name, sha256(canonical.to_string().as_bytes()));
        }
        let whole: String = files
            .iter()
            .map(|(name, digest)| format!("{name}\0{digest}\n"))
            .collect();
        Ok(PolicyFingerprint {
            digest: sha256(whole.as_bytes()),
            files,
        })
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The digest of a plan's JSON without its digest fields (serde_json's maps sort their keys,
/// so the text is canonical).
fn content_digest(value: &Value) -> String {
    let mut content = value.clone();
    if let Some(object) = content.as_object_mut() {
        for field in DIGEST_FIELDS {
            object.remove(field);
        }
    }
    sha256(content.to_string().as_bytes())
}

/// `plan` with the digests of the policy it was made under and of its own content, as
/// `plan --out` saves it.
pub fn seal(mut plan: Plan, policy: &PolicyFingerprint) -> Plan {
    plan.digests = PlanDigests {
        policy_digest: Some(policy.digest.clone()),
        policy_files: policy.files.clone(),
        plan_digest: None,
    };
    let value = serde_json::to_value(&plan).unwrap_or(Value::Null);
    plan.digests.plan_digest = Some(content_digest(&value));
    plan
}

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
    #[error(
        "the plan was changed since it was made: its content digests to {computed}, it records \
         plan_digest {recorded}; make a new plan with `remediator plan --out`"
    )]
    Edited { recorded: String, computed: String },
    #[error(
        "the policy changed since the plan was made: {what}; make a new plan with \
         `remediator plan --out`"
    )]
    PolicyChanged { what: String },
}

/// The plan `text` holds, with what older plans lack filled in under `policy`. A plan that
/// records digests must match them: its content its `plan_digest`, and `current` (the policy in
/// force) its `policy_digest`.
pub fn read_saved(
    text: &str,
    policy: &Policy,
    current: &PolicyFingerprint,
) -> Result<Plan, SavedPlanError> {
    let mut value: Value = serde_json::from_str(text).map_err(SavedPlanError::Json)?;
    check_digests(&value, current)?;
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

/// The recorded digests against the content and the policy in force.
fn check_digests(value: &Value, current: &PolicyFingerprint) -> Result<(), SavedPlanError> {
    if let Some(recorded) = value.get("plan_digest") {
        let recorded = recorded.as_str().unwrap_or_default().to_owned();
        let computed = content_digest(value);
        if recorded != computed {
            return Err(SavedPlanError::Edited { recorded, computed });
        }
    }
    let Some(recorded) = value.get("policy_digest").and_then(Value::as_str) else {
        return Ok(());
    };
    if recorded == current.digest {
        return Ok(());
    }
    let files: BTreeMap<String, String> = value
        .get("policy_files")
        .and_then(|f| serde_json::from_value(f.clone()).ok())
        .unwrap_or_default();
    Err(SavedPlanError::PolicyChanged {
        what: policy_changes(recorded, &files, current),
    })
}

/// Which policy files differ, in words; the digests when the files cannot say.
fn policy_changes(
    recorded: &str,
    files: &BTreeMap<String, String>,
    current: &PolicyFingerprint,
) -> String {
    let mut changes = Vec::new();
    for (name, digest) in files {
        match current.files.get(name) {
            Some(now) if now != digest => changes.push(format!("{name} differs")),
            Some(_) => {}
            None => changes.push(format!("{name} was removed")),
        }
    }
    for name in current.files.keys() {
        if !files.contains_key(name) {
            changes.push(format!("{name} was added"));
        }
    }
    if changes.is_empty() {
        return format!(
            "policy_digest {recorded} recorded, the policy now digests to {}",
            current.digest
        );
    }
    changes.join(", ")
}

/// A saved action that is not carried out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct NotCarriedOut {
    pub action: Action,
    pub why: String,
    /// The safety gate's check, when the current policy or journal holds the action now (the
    /// outcome is then `held`); `None` when the saved action is not what would be planned now
    /// (`skipped`).
    pub held: Option<SkipReason>,
}

/// The saved plan reconciled with `fresh`, a plan made now under the current policy from the
/// org as it is: only the saved actions whose id `fresh` also holds, with the same kind, mode,
/// target, steps and preconditions, are kept, as the fresh plan has them (ids are hashes of
/// kind, target and state: an action whose state moved has another id, an edited action does
/// not match). The result keeps the saved plan's org, time (the idempotency keys) and digests
/// and takes the fresh plan's findings, skips, completeness (the parts not read) and selector
/// warnings; the other saved actions come
/// back with the reason.
pub fn match_saved(saved: Plan, fresh: Plan, policy: &Policy) -> (Plan, Vec<NotCarriedOut>) {
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    for action in saved.actions {
        match fresh_match(&action, &fresh, policy) {
            Ok(found) => kept.push(found.clone()),
            Err((why, held)) => refused.push(NotCarriedOut { action, why, held }),
        }
    }
    let plan = Plan {
        org: saved.org,
        generated_at: saved.generated_at,
        complete: fresh.complete,
        actions: kept,
        findings: fresh.findings,
        skipped: fresh.skipped,
        incomplete: fresh.incomplete,
        warnings: fresh.warnings,
        labels: fresh.labels,
        digests: saved.digests,
    };
    (plan, refused)
}

/// Why not, and the gate's tag when it holds the action now.
type Refusal = (String, Option<SkipReason>);

fn fresh_match<'f>(
    action: &Action,
    fresh: &'f Plan,
    policy: &Policy,
) -> Result<&'f Action, Refusal> {
    let planned = fresh.actions.iter().find(|a| a.id == action.id);
    if let Some(planned) = planned {
        let differs = differences(action, planned);
        if differs.is_empty() {
            return Ok(planned);
        }
        if differs == ["mode"] {
            if let Err(hold) = gate::mode(policy, Asker::Executor, action.kind) {
                return Err((hold.detail(), Some(hold.reason())));
            }
        }
        return Err((
            format!(
                "the saved action differs from action {} as the current policy plans it now \
                 ({}): it was edited",
                planned.id,
                differs.join(", ")
            ),
            None,
        ));
    }
    let key = action.target.key();
    if let Some(skip) = fresh
        .skipped
        .iter()
        .find(|s| s.kind == action.kind && s.target.key() == key)
    {
        return Err((skip.detail.clone(), Some(skip.why)));
    }
    if fresh
        .actions
        .iter()
        .any(|a| a.kind == action.kind && a.target.key() == key)
    {
        let why = "the state it was planned from changed: a fresh plan has another action for \
                   this target";
        return Err((why.to_owned(), None));
    }
    Err((
        format!(
            "the current policy does not plan {} for {} now (the state it was planned from no \
             longer holds, or the policy does not allow it)",
            action.kind, key
        ),
        None,
    ))
}

fn differences(saved: &Action, planned: &Action) -> Vec<&'static str> {
    let checks = [
        ("kind", saved.kind == planned.kind),
        ("mode", saved.mode == planned.mode),
        ("target", saved.target == planned.target),
        ("steps", saved.steps == planned.steps),
        (
            "preconditions",
            saved.preconditions == planned.preconditions,
        ),
    ];
    checks
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(what, _)| what)
        .collect()
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

    fn no_policy() -> PolicyFingerprint {
        PolicyFingerprint::of_sources(Vec::new()).expect("no files")
    }

    fn fingerprint(files: &[(&str, &str)]) -> PolicyFingerprint {
        let sources = files
            .iter()
            .map(|(name, text)| ((*name).to_owned(), PathBuf::from(name), (*text).to_owned()))
            .collect();
        PolicyFingerprint::of_sources(sources).expect("TOML")
    }

    #[test]
    fn a_policy_s_comments_and_layout_do_not_change_its_digest_its_values_do() {
        let a = fingerprint(&[
            ("retry.toml", "[retry]\nmax = 3\n"),
            ("safety.toml", "x = 1"),
        ]);
        let b = fingerprint(&[
            ("retry.toml", "# a comment\n[retry]\n  max   = 3"),
            ("safety.toml", "x = 1"),
        ]);
        assert_eq!(a, b);
        let c = fingerprint(&[
            ("retry.toml", "[retry]\nmax = 4\n"),
            ("safety.toml", "x = 1"),
        ]);
        assert_ne!(a.digest, c.digest);
        assert_eq!(a.files["safety.toml"], c.files["safety.toml"]);
    }

    #[test]
    fn a_sealed_plan_loads_and_an_edit_or_a_policy_change_is_refused_by_name() {
        let policy = Policy::default();
        let made_under = fingerprint(&[("retry.toml", "max = 3"), ("safety.toml", "x = 1")]);
        let plan = read_saved(OLDER_PLAN, &policy, &no_policy()).expect("loads");
        let sealed = seal(plan.clone(), &made_under);
        let text = serde_json::to_string_pretty(&sealed).expect("serializes");
        let back = read_saved(&text, &policy, &made_under).expect("a sealed plan loads");
        assert_eq!(back, sealed);
        assert!(text.contains("\"plan_digest\": \"sha256:"), "{text}");

        let edited = text.replacen("00u1", "00u2", 1);
        let err = read_saved(&edited, &policy, &made_under).expect_err("edited");
        assert!(matches!(err, SavedPlanError::Edited { .. }), "{err}");
        assert!(
            err.to_string().contains("changed since it was made"),
            "{err}"
        );

        let changed = fingerprint(&[("retry.toml", "max = 9"), ("safety.toml", "x = 1")]);
        let err = read_saved(&text, &policy, &changed).expect_err("policy changed");
        assert_eq!(
            err.to_string(),
            "the policy changed since the plan was made: retry.toml differs; make a new plan \
             with `remediator plan --out`"
        );
        let grown = fingerprint(&[("retry.toml", "max = 3"), ("more.toml", "y = 2")]);
        let err = read_saved(&text, &policy, &grown).expect_err("files changed");
        let message = err.to_string();
        assert!(
            message.contains("safety.toml was removed") && message.contains("more.toml was added"),
            "{message}"
        );
    }

    #[test]
    fn only_saved_actions_the_fresh_plan_holds_identically_are_kept() {
        let policy = Policy::default();
        let fresh = read_saved(OLDER_PLAN, &policy, &no_policy()).expect("loads");
        let mut saved = fresh.clone();
        // An edit that keeps the id: 5,000 users in one retry.
        saved.actions[0].steps = (0..5_000)
            .map(|i| super::super::model::Step::RepushAppUser {
                app_id: "0oa1".into(),
                user_id: format!("00u{i}").into(),
            })
            .collect();
        // Another id for the same kind and target: the state it was planned from moved.
        saved.actions[1].id = crate::vocab::ActionId::new("act-00000000000000ff");
        let (plan, refused) = match_saved(saved.clone(), fresh.clone(), &policy);
        assert!(plan.actions.is_empty(), "{:?}", plan.actions);
        assert_eq!(refused.len(), 2);
        assert!(
            refused[0].why.contains("it was edited"),
            "{}",
            refused[0].why
        );
        assert!(refused[0].why.contains("steps"), "{}", refused[0].why);
        assert!(
            refused[1]
                .why
                .contains("a fresh plan has another action for this target"),
            "{}",
            refused[1].why
        );
        // A fresh plan without any action for that target: the policy does not plan it now.
        let mut without = fresh.clone();
        without.actions.truncate(1);
        let (_, refused) = match_saved(saved, without, &policy);
        assert!(
            refused[1].why.contains("does not plan force-sync"),
            "{}",
            refused[1].why
        );
        let (plan, refused) = match_saved(fresh.clone(), fresh.clone(), &policy);
        assert!(refused.is_empty());
        assert_eq!(plan.actions, fresh.actions);
    }

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
        let plan = read_saved(OLDER_PLAN, &policy, &no_policy()).expect("an older plan loads");
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
        let plan = read_saved(&saved, &policy, &no_policy()).expect("loads");
        assert_eq!(plan.actions[0].mode, ActionMode::Enforce);
        let bad = OLDER_PLAN.replacen(
            r#""kind": "retry-provisioning","#,
            r#""kind": "retry-provisioning", "mode": "sometimes","#,
            1,
        );
        let err = read_saved(&bad, &policy, &no_policy()).expect_err("an unknown mode");
        assert!(matches!(err, SavedPlanError::NotAPlan(_)), "{err}");
        let unknown = OLDER_PLAN.replacen("force-sync", "reboot", 1);
        let err = read_saved(&unknown, &policy, &no_policy()).expect_err("an unknown kind");
        assert_eq!(err.to_string(), "action 1 has no valid kind");
        assert!(read_saved("{", &policy, &no_policy()).is_err());
    }
}
