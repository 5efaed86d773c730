//! Shared setup of the executor tests: an okta-sim scenario on loopback (rate limits raised
//! unless a test wants them), a policy that enforces every fixing rule, a client and a
//! temporary sled journal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::sim::{config, serve, ssws};
use chrono::{DateTime, Utc};
use okta_sim::{Scenario, SimHandle};
use remediator::act::{self, ExecuteOptions, Org};
use remediator::config::MapEnv;
use remediator::journal::{
    Entry, EntryDraft, EntryFilter, EntryKind, EntryKindTag, JournalStore, SledJournal,
};
use remediator::okta::{ClientTuning, OktaClient, OktaConfig};
use remediator::plan::{Action, ActionId, Plan, SkipReason};
use remediator::policy::Policy;
use remediator::reconcile::{run_pass, PassReport, PassSettings, PlanSource, Trigger};
use remediator::vocab::RunId;
use tokio_util::sync::CancellationToken;

/// The valid token of the orphaned-push-mappings app, read by the policy from this variable.
pub const PARTNER_TOKEN_VAR: &str = "PARTNER_ORG_TOKEN";
pub const PARTNER_TOKEN: &str = "org2org-fresh-token";

/// Verification polls quickly in tests.
pub const TEST_POLL: Duration = Duration::from_millis(50);

/// Writes the shipped policies into `dir` with every fixing rule in enforce mode, Force Sync
/// through the admin path, quick Force Sync verification polling, and the cooldown shortened.
pub fn write_enforce_policy(dir: &Path) {
    std::fs::create_dir_all(dir).expect("policy dir");
    for entry in std::fs::read_dir("policies").expect("shipped policies") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("file name").to_owned();
        let mut text = std::fs::read_to_string(&path).expect("read policy");
        match name.to_str() {
            Some("safety.toml") => {
                text = text
                    .replace("force_sync = \"dry-run\"", "force_sync = \"enforce\"")
                    .replace(
                        "remove_push_mappings = \"dry-run\"",
                        "remove_push_mappings = \"enforce\"",
                    );
            }
            Some("force-sync.toml") => {
                text = text
                    .replace("use_admin_path = false", "use_admin_path = true")
                    .replace(
                        "verify_poll_interval = \"30s\"",
                        "verify_poll_interval = \"1s\"",
                    )
                    .replace("verify_timeout = \"10m\"", "verify_timeout = \"20s\"")
                    .replace("# [okta.admin]", "[okta.admin]")
                    .replace("# force_sync_path", "force_sync_path");
            }
            _ => {}
        }
        std::fs::write(dir.join(name), text).expect("write policy");
    }
}

/// A loaded enforce policy (see [`write_enforce_policy`]).
pub fn enforce_policy() -> (tempfile::TempDir, Policy) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_enforce_policy(dir.path());
    let policy = Policy::load_dir(dir.path()).expect("enforce policy is valid");
    (dir, policy)
}

/// A shipped scenario with every rate-limit bucket raised (the governor's waits are tested
/// elsewhere and would only slow these tests down).
pub fn scenario(name: &str) -> Scenario {
    let path = scenario_path(name);
    let mut scenario = Scenario::from_toml_file(&path).expect("shipped scenario loads");
    scenario.rate_limits.set_every_bucket(100_000);
    scenario
}

pub fn scenario_path(name: &str) -> PathBuf {
    PathBuf::from(format!("tests/scenarios/{name}.toml"))
}

/// One org under test.
pub struct Env {
    pub sim: SimHandle,
    pub api: OktaClient,
    pub policy: Policy,
    pub journal: SledJournal,
    /// What the executor reads credentials from: the partner token, nothing else.
    pub env: MapEnv,
    _policy_dir: tempfile::TempDir,
}

impl Env {
    pub async fn start(scenario: Scenario) -> Env {
        let token = scenario.org.api_tokens[0].clone();
        let sim = serve(scenario).await;
        let (dir, policy) = enforce_policy();
        let config = OktaConfig {
            admin: act::admin_paths(&policy),
            ..config(&sim, ssws(&token), ClientTuning::default())
        };
        let api = OktaClient::new(config).expect("client");
        Env {
            sim,
            api,
            policy,
            journal: SledJournal::temporary().expect("journal"),
            env: MapEnv::new().with(PARTNER_TOKEN_VAR, PARTNER_TOKEN),
            _policy_dir: dir,
        }
    }

    pub fn org<'a>(
        &'a self,
        clock: &'a (dyn Fn() -> DateTime<Utc> + Send + Sync),
    ) -> Org<'a, OktaClient, OktaClient, SledJournal> {
        Org {
            api: &self.api,
            admin: &self.api,
            journal: &self.journal,
            policy: &self.policy,
            clock,
            env: &self.env,
        }
    }

    /// One pass at `at` (observe and act unless `observe_only`).
    pub async fn pass_at(
        &self,
        at: DateTime<Utc>,
        source: PlanSource,
        observe_only: bool,
    ) -> PassReport {
        let clock = move || at;
        let settings = PassSettings {
            trigger: Trigger::Manual,
            observe_only,
            execute: ExecuteOptions {
                verify_poll_interval: TEST_POLL,
                ..ExecuteOptions::new("")
            },
            sweep: Default::default(),
        };
        run_pass(
            &self.org(&clock),
            self.sim.base_url(),
            source,
            &settings,
            &CancellationToken::new(),
            &remediator::reconcile::NoProgress,
        )
        .await
        .expect("pass runs")
    }

    pub async fn apply(&self) -> PassReport {
        self.pass_at(Utc::now(), PlanSource::Observe, false).await
    }

    /// An observe-only pass: the plan, journaled, nothing carried out.
    pub async fn observe_only(&self) -> Plan {
        self.pass_at(Utc::now(), PlanSource::Observe, true)
            .await
            .plan
    }

    pub fn entries_of(&self, action_id: &str) -> Vec<Entry> {
        self.journal
            .list(&EntryFilter {
                action_id: Some(action_id.into()),
                ..EntryFilter::default()
            })
            .expect("list")
    }

    /// Whether `app_id`'s provisioning connection is enabled, in the sim's state dump.
    pub fn provisioning_enabled(&self, app_id: &str) -> bool {
        let state = self.sim.state_json();
        find_app(&state, app_id)["provisioning"]["enabled"]
            .as_bool()
            .expect("app has a provisioning connection")
    }

    /// The ids of `app_id`'s Group Push mappings in the sim's state dump.
    pub fn mapping_ids(&self, app_id: &str) -> Vec<String> {
        let state = self.sim.state_json();
        find_app(&state, app_id)["mappings"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|m| m["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn find_app<'a>(state: &'a serde_json::Value, app_id: &str) -> &'a serde_json::Value {
    state["apps"]
        .as_array()
        .and_then(|apps| apps.iter().find(|a| a["id"] == app_id))
        .unwrap_or(&serde_json::Value::Null)
}

/// `app_id` in the sim's state dump (connection, mappings, users), which must hold it.
pub fn app_state(sim: &SimHandle, app_id: &str) -> serde_json::Value {
    let app = find_app(&sim.state_json(), app_id).clone();
    assert!(!app.is_null(), "app {app_id} is in the simulated org");
    app
}

/// Journals `action` as begun and not finished, as a crash right after its intent leaves it:
/// the intent with the action as payload, the fix tracked, no step taken.
pub fn begin_unfinished_fix(journal: &dyn JournalStore, action: &Action, at: DateTime<Utc>) {
    let intent = EntryKind::Intent {
        action_kind: action.kind,
        evidence: serde_json::to_value(&action.evidence).expect("evidence serializes"),
        steps: action.steps.iter().map(|s| s.op().to_owned()).collect(),
        idempotency_key: format!("{}@seeded", action.id),
    };
    let draft = EntryDraft::new("run-before-the-crash", intent)
        .action(action.id.clone())
        .target(action.target.clone())
        .payload(serde_json::json!({ "action": action, "reason": action.reason }));
    journal.begin_fix(at, draft, &[]).expect("intent journaled");
}

/// The id of the latest run the journal holds (its last `run_started`).
pub fn latest_run(journal: &dyn JournalStore) -> RunId {
    let filter = EntryFilter {
        kind: Some(EntryKindTag::RunStarted),
        ..EntryFilter::default()
    };
    let runs = journal.list(&filter).expect("list runs");
    runs.last().expect("a run was journaled").run_id.clone()
}

/// Run `run`'s entries show the one recovery point of a pass: the fix `recovered` a crash left
/// unfinished ends (its `outcome`) after `run_started` and before the plan is recorded, and the
/// recorded plan holds no candidate skipped because a target was busy.
pub fn assert_recovered_before_planning(
    journal: &dyn JournalStore,
    run: &RunId,
    recovered: &ActionId,
) {
    let entries = journal
        .list(&EntryFilter {
            run_id: Some(run.clone()),
            ..EntryFilter::default()
        })
        .expect("list the run");
    let tags: Vec<EntryKindTag> = entries.iter().map(|e| e.kind.tag()).collect();
    let position = |found: &dyn Fn(&Entry) -> bool| entries.iter().position(found);
    let started = position(&|e| e.kind.tag() == EntryKindTag::RunStarted);
    let outcome = position(&|e| {
        e.kind.tag() == EntryKindTag::Outcome && e.action_id.as_ref() == Some(recovered)
    });
    let planned = position(&|e| e.kind.tag() == EntryKindTag::PlanRecorded);
    assert_eq!(started, Some(0), "{tags:?}");
    let (Some(outcome), Some(planned)) = (outcome, planned) else {
        panic!("run {run}: the recovered fix's outcome and the plan: {tags:?}");
    };
    assert!(
        outcome < planned,
        "run {run}: recovered after planning: {tags:?}"
    );
    let EntryKind::PlanRecorded { plan, .. } = &entries[planned].kind else {
        unreachable!("found by its tag");
    };
    let busy: Vec<&serde_json::Value> = plan["skipped"]
        .as_array()
        .expect("a recorded plan lists its skips")
        .iter()
        .filter(|s| s["why"] == SkipReason::TargetBusy.as_str())
        .collect();
    assert!(
        busy.is_empty(),
        "run {run}: planned before recovery: {busy:?}"
    );
}
