//! The daemon's reconciler recovers a fix a crash left unfinished at the point `apply` does:
//! first thing in its pass, before it observes and plans (`reconcile::run_pass`), against
//! okta-sim over loopback HTTP with a real sled journal. (`cli_apply` checks the same of
//! `remediator apply` after real kills.)

use crate::support::act as act_support;

use std::sync::Arc;

use act_support::{assert_recovered_before_planning, begin_unfinished_fix, scenario, Env};
use chrono::Utc;
use remediator::daemon::{OrgReconciler, Reconcile, Trigger};
use remediator::journal::{JournalStore, Outcome, SledJournal};
use remediator::plan::ActionKind;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn the_daemon_recovers_an_unfinished_fix_before_it_plans() {
    let env = Env::start(scenario("features-disabled")).await;
    let plan = env.observe_only().await;
    let action = plan
        .actions
        .iter()
        .find(|a| a.kind == ActionKind::FixProvisioningFeatures)
        .expect("the features fix is planned")
        .clone();
    let journal = Arc::new(SledJournal::temporary().expect("journal"));
    begin_unfinished_fix(journal.as_ref(), &action, Utc::now());
    let url = url::Url::parse(env.sim.base_url()).expect("sim URL");
    let (_policy, policy) = watch::channel(Arc::new(env.policy.clone()));
    let reconciler = OrgReconciler::new(
        "test",
        &url,
        Arc::new(env.api.clone()),
        journal.clone(),
        policy,
    );
    let summary = reconciler
        .reconcile(Trigger::Timer, false, &CancellationToken::new())
        .await
        .expect("the pass runs");
    assert_eq!(
        summary.actions,
        vec![(ActionKind::FixProvisioningFeatures, Outcome::Verified)],
        "the recovered fix is the pass's only action"
    );
    assert!(summary.planned.is_empty(), "{:?}", summary.planned);
    assert!(journal.unfinished_fixes().expect("fixes").is_empty());
    assert_recovered_before_planning(journal.as_ref(), &summary.run_id, &action.id);
    assert!(journal.verify().expect("verify").is_ok());
}
