//! The sled journal over a real state directory: round trips, ids, filters, tamper detection,
//! executor state, budgets and concurrency.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use remediator::journal::{
    ChainBreak, Cursor, Effect, EntryDraft, EntryFilter, EntryId, EntryKind, EntryKindTag,
    JournalError, JournalStore, Outcome, RunCounts, SledJournal, StepOutcome, Target, TargetRef,
    BREAKER_RING_LEN,
};
use remediator::plan::ActionKind;
use serde_json::json;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .expect("valid base time")
        + Duration::seconds(secs)
}

fn note(run: &str, text: &str) -> EntryDraft {
    EntryDraft::new(
        run,
        EntryKind::Note {
            text: text.to_owned(),
        },
    )
}

fn outcome(run: &str, action: &str, target: Target, outcome: Outcome) -> EntryDraft {
    EntryDraft::new(
        run,
        EntryKind::Outcome {
            outcome,
            reason: format!("{outcome:?}"),
            why: None,
        },
    )
    .action(action)
    .target(target)
}

fn intent(run: &str, action: &str, target: Target, kind: ActionKind) -> EntryDraft {
    EntryDraft::new(
        run,
        EntryKind::Intent {
            action_kind: kind,
            evidence: json!({"events": ["e1"]}),
            steps: vec![
                "enable".to_owned(),
                "delete".to_owned(),
                "disable".to_owned(),
            ],
            idempotency_key: format!("{action}-key"),
        },
    )
    .action(action)
    .target(target)
}

/// A journal with a small, varied history over two runs and three targets.
fn sample(journal: &SledJournal) {
    let app1 = Target::app("0oaAPP1");
    let u1 = Target::app_user("0oaAPP1", "00uUSER1");
    let u2 = Target::app_user("0oaAPP2", "00uUSER2");
    let started = EntryKind::RunStarted {
        trigger: "timer".to_owned(),
        observe_only: false,
    };
    let drafts = vec![
        (t(0), EntryDraft::new("run-1", started)),
        (
            t(1),
            intent("run-1", "act-1", u1.clone(), ActionKind::RetryProvisioning),
        ),
        (
            t(2),
            outcome("run-1", "act-1", u1.clone(), Outcome::Verified),
        ),
        (
            t(3),
            intent("run-1", "act-2", u2.clone(), ActionKind::RetryProvisioning),
        ),
        (t(4), outcome("run-1", "act-2", u2, Outcome::Failed)),
        (
            t(5),
            EntryDraft::new(
                "run-1",
                EntryKind::RunFinished {
                    counts: RunCounts {
                        taken: 2,
                        ..RunCounts::default()
                    },
                    error: None,
                    incomplete: Vec::new(),
                },
            ),
        ),
        (
            t(100),
            intent(
                "run-2",
                "act-3",
                app1.clone(),
                ActionKind::FixProvisioningFeatures,
            ),
        ),
        (t(101), outcome("run-2", "act-3", app1, Outcome::Held)),
        (t(102), note("run-2", "done").target(u1)),
    ];
    for (now, draft) in drafts {
        journal
            .append(now, draft, &[])
            .expect("append sample entry");
    }
}

fn ids(entries: &[remediator::journal::Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| {
            e.action_id
                .as_ref()
                .map_or_else(|| e.kind.tag().to_string(), ToString::to_string)
        })
        .collect()
}

#[test]
fn append_get_list_and_export_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SledJournal::open(dir.path()).expect("open");
    let draft = intent(
        "run-1",
        "act-1",
        Target::app_user("0oaA", "00uB"),
        ActionKind::RetryProvisioning,
    )
    .payload(json!({"nested": {"list": [1, 2, 3]}}));
    let written = journal.append(t(0), draft.clone(), &[]).expect("append");
    assert_eq!(written.run_id, "run-1");
    assert_eq!(written.payload, draft.payload);
    assert_eq!(written.prev_hash, remediator::journal::GENESIS_HASH);
    assert_eq!(journal.get(written.id).expect("get"), Some(written.clone()));
    let second = journal
        .append(t(1), note("run-1", "second"), &[])
        .expect("append");
    assert_eq!(second.prev_hash, written.hash);

    let listed = journal.list(&EntryFilter::default()).expect("list");
    assert_eq!(listed, vec![written.clone(), second.clone()]);

    let mut out = Vec::new();
    assert_eq!(journal.export(&mut out).expect("export"), 2);
    let text = String::from_utf8(out).expect("export is UTF-8");
    let lines: Vec<remediator::journal::Entry> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is an entry"))
        .collect();
    assert_eq!(lines, vec![written, second]);
}

#[test]
fn ids_strictly_increase_in_one_millisecond_and_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut last: Option<EntryId> = None;
    for round in 0..3 {
        let journal = SledJournal::open(dir.path()).expect("open");
        for i in 0..50 {
            // Same instant for every entry, and a clock that goes back on each reopen.
            let now = t(10 - round);
            let entry = journal
                .append(now, note("run", &format!("{round}/{i}")), &[])
                .expect("append");
            if let Some(prev) = last {
                assert!(entry.id > prev, "{} after {prev}", entry.id);
                assert!(entry.id.to_string() > prev.to_string());
            }
            last = Some(entry.id);
        }
    }
    let journal = SledJournal::open(dir.path()).expect("open");
    assert_eq!(
        journal.list(&EntryFilter::default()).expect("list").len(),
        150
    );
    assert!(journal.verify().expect("verify").is_ok());
}

#[test]
fn filters_select_by_time_kind_target_outcome_and_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SledJournal::open(dir.path()).expect("open");
    sample(&journal);
    let list = |filter: EntryFilter| ids(&journal.list(&filter).expect("list"));

    assert_eq!(
        list(EntryFilter {
            since: Some(t(100)),
            ..Default::default()
        }),
        ["act-3", "act-3", "note"]
    );
    assert_eq!(
        list(EntryFilter {
            since: Some(t(2)),
            until: Some(t(4)),
            ..Default::default()
        }),
        ["act-1", "act-2", "act-2"]
    );
    assert_eq!(
        list(EntryFilter {
            kind: Some(EntryKindTag::Intent),
            ..Default::default()
        }),
        ["act-1", "act-2", "act-3"]
    );
    let app1 = Some(TargetRef::App("0oaAPP1".into()));
    assert_eq!(
        list(EntryFilter {
            target: app1.clone(),
            ..Default::default()
        }),
        ["act-1", "act-1", "act-3", "act-3", "note"]
    );
    let user2 = Some(TargetRef::User("00uUSER2".into()));
    assert_eq!(
        list(EntryFilter {
            target: user2,
            ..Default::default()
        }),
        ["act-2", "act-2"]
    );
    assert_eq!(
        list(EntryFilter {
            outcome: Some(Outcome::Failed),
            ..Default::default()
        }),
        ["act-2"]
    );
    assert_eq!(
        list(EntryFilter {
            run_id: Some("run-2".into()),
            ..Default::default()
        }),
        ["act-3", "act-3", "note"]
    );
    assert_eq!(
        list(EntryFilter {
            run_id: Some("run-1".into()),
            target: app1.clone(),
            kind: Some(EntryKindTag::Outcome),
            ..Default::default()
        }),
        ["act-1"]
    );
    assert_eq!(
        list(EntryFilter {
            action_id: Some("act-2".into()),
            ..Default::default()
        }),
        ["act-2", "act-2"]
    );
    assert_eq!(
        list(EntryFilter {
            limit: Some(2),
            ..Default::default()
        }),
        ["run_started", "act-1"]
    );

    let run1_first3 = EntryFilter {
        run_id: Some("run-1".into()),
        limit: Some(3),
        ..Default::default()
    };
    assert_eq!(list(run1_first3), ["run_started", "act-1", "act-1"]);
    assert!(list(EntryFilter {
        limit: Some(0),
        ..Default::default()
    })
    .is_empty());

    let last = journal
        .last_entries_for_target(&TargetRef::App("0oaAPP1".into()), 2)
        .expect("last entries");
    assert_eq!(ids(&last), ["act-3", "note"]);
    assert!(last[0].id < last[1].id, "oldest first");
}

/// Open the raw sled trees of a closed journal.
fn raw_entries(dir: &Path) -> (sled::Db, sled::Tree) {
    let db = sled::open(dir).expect("raw open");
    let tree = db.open_tree("entries").expect("entries tree");
    (db, tree)
}

fn nth_key(tree: &sled::Tree, n: usize) -> sled::IVec {
    tree.iter()
        .keys()
        .nth(n)
        .expect("entry exists")
        .expect("key readable")
}

fn sample_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SledJournal::open(dir.path()).expect("open");
    sample(&journal);
    assert!(journal.verify().expect("verify").is_ok());
    dir
}

fn verify_after(dir: &Path) -> Option<ChainBreak> {
    let journal = SledJournal::open(dir).expect("reopen");
    let report = journal.verify().expect("verify");
    report.first_break
}

#[test]
fn verify_detects_a_modified_entry() {
    let dir = sample_dir();
    let (db, tree) = raw_entries(dir.path());
    let key = nth_key(&tree, 4);
    let mut value: serde_json::Value =
        serde_json::from_slice(&tree.get(&key).expect("get").expect("present")).expect("json");
    value["kind"]["outcome"] = json!("verified");
    tree.insert(&key, serde_json::to_vec(&value).expect("encode"))
        .expect("tamper");
    db.flush().expect("flush");
    drop((tree, db));
    let brk = verify_after(dir.path()).expect("tampering is detected");
    let ChainBreak::Tampered { id, .. } = &brk else {
        panic!("expected Tampered, got {brk:?}")
    };
    assert_eq!(id.seq(), 5, "{brk}");
}

#[test]
fn verify_detects_a_modified_entry_whose_hash_was_recomputed() {
    let dir = sample_dir();
    let (db, tree) = raw_entries(dir.path());
    let key = nth_key(&tree, 2);
    let mut entry: remediator::journal::Entry =
        serde_json::from_slice(&tree.get(&key).expect("get").expect("present")).expect("entry");
    entry.kind = EntryKind::Outcome {
        outcome: Outcome::Failed,
        reason: "forged".to_owned(),
        why: None,
    };
    entry.hash = entry.compute_hash().expect("hash");
    tree.insert(&key, serde_json::to_vec(&entry).expect("encode"))
        .expect("tamper");
    db.flush().expect("flush");
    drop((tree, db));
    let brk = verify_after(dir.path()).expect("tampering is detected");
    let ChainBreak::BrokenLink { id, .. } = &brk else {
        panic!("expected BrokenLink, got {brk:?}")
    };
    assert_eq!(
        id.seq(),
        4,
        "the entry after the forged one no longer links: {brk}"
    );
}

#[test]
fn verify_detects_a_deleted_entry() {
    let dir = sample_dir();
    let (db, tree) = raw_entries(dir.path());
    tree.remove(nth_key(&tree, 3)).expect("delete");
    db.flush().expect("flush");
    drop((tree, db));
    let brk = verify_after(dir.path()).expect("deletion is detected");
    let ChainBreak::Missing {
        after,
        id,
        expected_seq,
    } = &brk
    else {
        panic!("expected Missing, got {brk:?}")
    };
    assert_eq!(
        (after.map(|a| a.seq()), id.seq(), *expected_seq),
        (Some(3), 5, 4),
        "{brk}"
    );
}

#[test]
fn verify_detects_a_deleted_last_entry() {
    let dir = sample_dir();
    let (db, tree) = raw_entries(dir.path());
    let last = tree
        .iter()
        .keys()
        .next_back()
        .expect("non-empty")
        .expect("key");
    tree.remove(last).expect("delete");
    db.flush().expect("flush");
    drop((tree, db));
    let brk = verify_after(dir.path()).expect("deletion is detected");
    assert!(matches!(brk, ChainBreak::HeadMismatch { .. }), "{brk:?}");
}

#[test]
fn verify_detects_a_swapped_pair() {
    let dir = sample_dir();
    let (db, tree) = raw_entries(dir.path());
    let (a, b) = (nth_key(&tree, 5), nth_key(&tree, 6));
    let value_a = tree.get(&a).expect("get").expect("present");
    let value_b = tree.get(&b).expect("get").expect("present");
    tree.insert(&a, value_b).expect("swap");
    tree.insert(&b, value_a).expect("swap");
    db.flush().expect("flush");
    drop((tree, db));
    let brk = verify_after(dir.path()).expect("swap is detected");
    let ChainBreak::MisplacedEntry { id, .. } = &brk else {
        panic!("expected MisplacedEntry, got {brk:?}")
    };
    assert_eq!(id.seq(), 7, "{brk}");
}

#[test]
fn a_second_open_of_the_same_directory_reports_the_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _journal = SledJournal::open(dir.path()).expect("open");
    let err = SledJournal::open(dir.path()).expect_err("directory is locked");
    assert!(matches!(err, JournalError::Locked { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
}

#[test]
fn a_corrupt_directory_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("conf"), b"this is not a sled config").expect("write garbage");
    let err = SledJournal::open(dir.path()).expect_err("corrupt directory");
    assert!(matches!(err, JournalError::Corrupt { .. }), "{err:?}");
}

#[test]
fn entries_that_look_like_secrets_are_rejected_and_not_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SledJournal::open(dir.path()).expect("open");
    let token = "00abcdefghijABCDEFGHIJ0123456789-_klmnopqr";
    let draft =
        note("run", "x").payload(json!({"headers": {"Authorization": format!("SSWS {token}")}}));
    let err = journal
        .append(t(0), draft, &[])
        .expect_err("secret rejected");
    assert!(matches!(err, JournalError::SecretInEntry { .. }), "{err:?}");
    assert!(!err.to_string().contains(token));
    let pem = note("run", "-----BEGIN EC PRIVATE KEY-----\nabc");
    assert!(journal.append(t(0), pem, &[]).is_err());
    assert!(journal
        .list(&EntryFilter::default())
        .expect("list")
        .is_empty());
    // The chain is unaffected: the next entry is the first one.
    let first = journal
        .append(t(1), note("run", "fine"), &[])
        .expect("append");
    assert_eq!(first.id.seq(), 1);
}

#[test]
fn executor_state_is_written_with_its_entry_and_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = Target::app_user("0oaA", "00uB");
    let cursor = Cursor {
        next_url: "https://example.okta.com/api/v1/logs?after=abc".to_owned(),
        last_published: Some(t(5)),
        last_uuid: Some("uuid-1".to_owned()),
    };
    {
        let journal = SledJournal::open(dir.path()).expect("open");
        assert!(!journal.seen("act-1-key").expect("seen"));
        assert_eq!(journal.cursor().expect("cursor"), None);
        let effects = [
            Effect::MarkSeen {
                idempotency_key: "act-1-key".to_owned(),
            },
            Effect::RecordAttempt {
                action_kind: ActionKind::RetryProvisioning,
            },
            Effect::RecordAction {
                action_kind: ActionKind::RetryProvisioning,
            },
        ];
        journal
            .append(
                t(0),
                intent(
                    "run-1",
                    "act-1",
                    target.clone(),
                    ActionKind::RetryProvisioning,
                ),
                &effects,
            )
            .expect("intent");
        journal
            .append(
                t(60),
                intent(
                    "run-1",
                    "act-2",
                    target.clone(),
                    ActionKind::RetryProvisioning,
                ),
                &effects[1..],
            )
            .expect("intent");
        let after = [
            Effect::SetCooldown { until: t(3600) },
            Effect::BreakerOutcome { ok: false },
            Effect::OpenBreaker { until: t(600) },
        ];
        journal
            .append(
                t(61),
                outcome("run-1", "act-2", target.clone(), Outcome::Failed),
                &after,
            )
            .expect("outcome");
        journal
            .set_cursor(t(62), &"run-1".into(), cursor.clone())
            .expect("cursor");
    }
    let journal = SledJournal::open(dir.path()).expect("reopen");
    assert!(journal.seen("act-1-key").expect("seen"));
    assert!(!journal.seen("act-2-key").expect("seen"));
    assert_eq!(journal.cursor().expect("cursor"), Some(cursor));
    assert_eq!(journal.run_action_count(&"run-1".into()).expect("count"), 2);
    assert_eq!(journal.run_action_count(&"run-2".into()).expect("count"), 0);

    let view = journal.view(t(300)).expect("view");
    let attempt = view
        .attempts_for(ActionKind::RetryProvisioning, &target)
        .expect("attempts recorded");
    assert_eq!((attempt.count, attempt.last_attempt_at), (2, t(60)));
    assert_eq!(view.cooldown_until(&target), Some(t(3600)));
    assert!(view.breaker_open());
    assert_eq!(view.breaker.recent_failures(), 1);
    assert_eq!(view.budget_last_hour.total, 2);

    let later = journal.view(t(4000)).expect("view");
    assert_eq!(
        later.cooldown_until(&target),
        None,
        "expired cooldowns are left out"
    );
    assert!(!later.breaker_open());
    assert_eq!(later.budget_last_hour.total, 0);

    journal
        .append(
            t(4001),
            outcome("run-2", "act-3", target.clone(), Outcome::Verified),
            &[Effect::ResetAttempts {
                action_kind: ActionKind::RetryProvisioning,
            }],
        )
        .expect("reset");
    assert_eq!(
        journal
            .view(t(4002))
            .expect("view")
            .attempts_for(ActionKind::RetryProvisioning, &target),
        None
    );
}

#[test]
fn budget_window_counts_only_actions_in_the_last_hour_per_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SledJournal::open(dir.path()).expect("open");
    let (a, b) = (ActionKind::ForceSync, ActionKind::RemovePushMappings);
    let taken = [(0, a), (600, b), (1800, a), (3599, a), (3700, b)];
    for (secs, kind) in taken {
        let effect = [Effect::RecordAction { action_kind: kind }];
        journal
            .append(t(secs), note("run", kind.as_str()), &effect)
            .expect("append");
    }
    let view = journal.view(t(3700)).expect("view");
    // Window [t(100), t(3700)]: 600 b, 1800 a, 3599 a, 3700 b.
    assert_eq!(view.budget_last_hour.total, 4);
    assert_eq!(view.budget_last_hour.by_kind.get(&a), Some(&2));
    assert_eq!(view.budget_last_hour.by_kind.get(&b), Some(&2));
    let earlier = journal.view(t(3600)).expect("view");
    // Window [t(0), t(3600)]: 0 a, 600 b, 1800 a, 3599 a; 3700 is in the future.
    assert_eq!(earlier.budget_last_hour.total, 4);
    assert_eq!(earlier.budget_last_hour.by_kind.get(&a), Some(&3));
    let narrow = journal.actions_between(t(1000), t(3000)).expect("window");
    assert_eq!((narrow.total, narrow.by_kind.get(&a)), (1, Some(&1)));
}

#[test]
fn breaker_ring_keeps_only_the_most_recent_outcomes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SledJournal::open(dir.path()).expect("open");
    let failures = 5;
    for i in 0..(BREAKER_RING_LEN + failures) {
        let ok = i >= failures;
        journal
            .append(
                t(i as i64),
                note("run", "o"),
                &[Effect::BreakerOutcome { ok }],
            )
            .expect("append");
    }
    let view = journal.view(t(1000)).expect("view");
    assert_eq!(view.breaker.recent.len(), BREAKER_RING_LEN);
    assert_eq!(
        view.breaker.recent_failures(),
        0,
        "the early failures fell out of the ring"
    );
}

#[test]
fn multi_step_fix_state_tracks_steps_until_finished() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = Target::app("0oaAPP");
    let step = |n: u32, name: &str| {
        EntryDraft::new(
            "run-1",
            EntryKind::StepFinished {
                step: n,
                name: name.to_owned(),
                outcome: StepOutcome {
                    ok: true,
                    detail: String::new(),
                },
            },
        )
        .action("act-9")
        .target(target.clone())
    };
    {
        let journal = SledJournal::open(dir.path()).expect("open");
        journal
            .begin_fix(
                t(0),
                intent(
                    "run-1",
                    "act-9",
                    target.clone(),
                    ActionKind::RemovePushMappings,
                ),
                &[],
            )
            .expect("begin");
        journal
            .record_step(t(1), step(1, "enable provisioning"), true)
            .expect("step 1");
        journal
            .record_step(t(2), step(2, "delete mapping gPm1"), true)
            .expect("step 2");
    }
    let journal = SledJournal::open(dir.path()).expect("reopen");
    let fixes = journal.unfinished_fixes().expect("fixes");
    assert_eq!(fixes.len(), 1);
    let fix = &fixes[0];
    assert_eq!(
        (fix.action_id.as_str(), fix.action_kind.as_str()),
        ("act-9", "remove-push-mappings")
    );
    assert_eq!(fix.target, target);
    assert_eq!(
        fix.steps_done.iter().map(|s| s.step).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(fix.compensation_needed);
    assert_eq!(fix.started_at, t(0));
    assert_eq!(journal.view(t(3)).expect("view").unfinished_fixes, fixes);

    let orphan = step(3, "x").action("act-unknown");
    let err = journal
        .record_step(t(3), orphan, false)
        .expect_err("no such fix");
    assert!(matches!(err, JournalError::InvalidEffect { .. }), "{err:?}");
    assert!(
        journal
            .list(&EntryFilter {
                action_id: Some("act-unknown".into()),
                ..Default::default()
            })
            .expect("list")
            .is_empty(),
        "an aborted transaction writes no entry"
    );

    journal
        .finish_fix(
            t(4),
            outcome("run-1", "act-9", target, Outcome::Verified),
            &[],
        )
        .expect("finish");
    assert!(journal.unfinished_fixes().expect("fixes").is_empty());
    assert!(journal.verify().expect("verify").is_ok());
}

#[test]
fn concurrent_appends_keep_one_valid_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Arc::new(SledJournal::open(dir.path()).expect("open"));
    let threads = 4;
    let per_thread = 25;
    let handles: Vec<_> = (0..threads)
        .map(|n| {
            let journal = Arc::clone(&journal);
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    journal
                        .append(t(0), note(&format!("run-{n}"), &i.to_string()), &[])
                        .expect("append");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("appending thread panicked");
    }
    let report = journal.verify().expect("verify");
    assert!(report.is_ok(), "{:?}", report.first_break);
    assert_eq!(report.entries_checked, threads * per_thread);
    for n in 0..threads {
        let run = EntryFilter {
            run_id: Some(format!("run-{n}").into()),
            ..Default::default()
        };
        assert_eq!(journal.list(&run).expect("list").len() as u64, per_thread);
    }
}

#[test]
fn old_budget_records_and_expired_cooldowns_are_pruned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SledJournal::open(dir.path()).expect("open");
    let store: &dyn JournalStore = &journal;
    let (a, b) = (Target::app("0oaA"), Target::app("0oaB"));
    let action = [Effect::RecordAction {
        action_kind: ActionKind::ForceSync,
    }];
    store
        .append(t(0), note("run", "old").target(a.clone()), &action)
        .expect("append");
    store
        .append(
            t(1),
            note("run", "cool").target(a),
            &[Effect::SetCooldown { until: t(10) }],
        )
        .expect("append");
    assert_eq!(store.actions_between(t(0), t(1)).expect("window").total, 1);

    let day = 25 * 3600;
    store
        .append(t(day), note("run", "new").target(b.clone()), &action)
        .expect("append");
    store
        .append(
            t(day),
            note("run", "cool").target(b.clone()),
            &[Effect::SetCooldown { until: t(day + 10) }],
        )
        .expect("append");
    assert_eq!(
        store.actions_between(t(0), t(day)).expect("window").total,
        1,
        "the day-old record was pruned"
    );
    assert_eq!(
        store.run_action_count(&"run".into()).expect("count"),
        2,
        "per-run counts are kept"
    );

    drop(journal);
    let db = sled::open(dir.path()).expect("raw open");
    let cooldowns = db.open_tree("cooldowns").expect("tree");
    let keys: Vec<String> = cooldowns
        .iter()
        .keys()
        .map(|k| String::from_utf8_lossy(&k.expect("key")).into_owned())
        .collect();
    assert_eq!(keys, [b.key()], "the expired cooldown of 0oaA was pruned");
}

#[test]
fn temporary_journals_are_independent_and_fully_functional() {
    let one = SledJournal::temporary().expect("temporary");
    let two = SledJournal::temporary().expect("temporary");
    one.append(
        t(0),
        note("run", "a"),
        &[Effect::MarkSeen {
            idempotency_key: "k".to_owned(),
        }],
    )
    .expect("append");
    assert!(one.seen("k").expect("seen"));
    assert!(!two.seen("k").expect("seen"));
    assert_eq!(one.verify().expect("verify").entries_checked, 1);
    assert_eq!(two.verify().expect("verify").entries_checked, 0);
}

#[test]
fn effects_the_entry_cannot_carry_are_rejected_before_writing() {
    let journal = SledJournal::temporary().expect("temporary");
    let no_action = journal.append(t(0), note("run", "x"), &[Effect::FinishFix]);
    assert!(
        matches!(no_action, Err(JournalError::InvalidEffect { .. })),
        "{no_action:?}"
    );
    let cooldown = [Effect::SetCooldown { until: t(10) }];
    let no_target = journal.append(t(0), note("run", "x"), &cooldown);
    assert!(
        matches!(no_target, Err(JournalError::InvalidEffect { .. })),
        "{no_target:?}"
    );
    let not_intent = journal.begin_fix(t(0), note("run", "x").action("a"), &[]);
    assert!(
        matches!(not_intent, Err(JournalError::InvalidEffect { .. })),
        "{not_intent:?}"
    );
    let secret_cursor = Cursor {
        next_url:
            "https://x.okta.com/api/v1/logs?token=SSWS 00abcdefghijABCDEFGHIJ0123456789-_klmnopqr"
                .to_owned(),
        last_published: None,
        last_uuid: None,
    };
    assert!(journal
        .set_cursor(t(0), &"run".into(), secret_cursor)
        .is_err());
    assert_eq!(journal.verify().expect("verify").entries_checked, 0);
    assert_eq!(journal.cursor().expect("cursor"), None);
}

/// A new journal continuing an exported chain records the old chain's last hash first, keeps
/// the old idempotency keys, and carries over a fix begun and not finished (its old start
/// time, whether provisioning was left enabled), so the next pass still compensates it.
#[test]
fn a_new_journal_continues_an_exported_chain_and_its_unfinished_fixes() {
    use remediator::journal::continue_chain;
    let old_dir = tempfile::tempdir().expect("tempdir");
    let old = SledJournal::open(old_dir.path()).expect("open");
    old.append(t(0), note("run-1", "before"), &[])
        .expect("note");
    let target = Target {
        app_id: Some("0oa1".into()),
        ..Target::default()
    };
    let intent = EntryKind::Intent {
        action_kind: ActionKind::RemovePushMappings,
        evidence: json!([]),
        steps: vec!["enable-provisioning 0oa1 with X".into()],
        idempotency_key: "act-1@2026".into(),
    };
    let begun = EntryDraft::new("run-1", intent)
        .action("act-1")
        .target(target.clone())
        .payload(json!({ "action": null }));
    old.begin_fix(
        t(10),
        begun,
        &[Effect::MarkSeen {
            idempotency_key: "act-1@2026".into(),
        }],
    )
    .expect("intent");
    let finished = EntryKind::StepFinished {
        step: 1,
        name: "enable-provisioning 0oa1 with X".into(),
        outcome: StepOutcome {
            ok: true,
            detail: "read back: ENABLED".into(),
        },
    };
    let step = EntryDraft::new("run-1", finished)
        .action("act-1")
        .target(target);
    old.record_step(t(20), step, true).expect("step");
    let mut export = Vec::new();
    old.export(&mut export).expect("export");
    let entries: Vec<remediator::journal::Entry> = String::from_utf8(export)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("entry"))
        .collect();
    let last_hash = entries.last().expect("entries").hash.clone();

    let new_dir = tempfile::tempdir().expect("tempdir");
    let new = SledJournal::open(new_dir.path()).expect("open");
    let continued = continue_chain(&new, entries, t(3600)).expect("continue");
    assert_eq!(continued.previous_entries, 3);
    assert_eq!(
        continued.unfinished,
        vec![remediator::vocab::ActionId::new("act-1")]
    );
    assert!(continued.previous_break.is_none());
    let all = new.list(&EntryFilter::default()).expect("list");
    let EntryKind::ChainContinued {
        previous_last_hash, ..
    } = &all[0].kind
    else {
        panic!("the first entry continues the chain: {:?}", all[0].kind);
    };
    assert_eq!(previous_last_hash, &last_hash);
    assert!(new.seen("act-1@2026").expect("seen"));
    let fixes = new.unfinished_fixes().expect("fixes");
    assert_eq!(fixes.len(), 1);
    assert!(fixes[0].compensation_needed);
    assert_eq!(fixes[0].started_at, t(10));
    assert!(new.verify().expect("verify").is_ok());
    assert!(
        continue_chain(&new, Vec::new(), t(3601)).is_err(),
        "only an empty journal"
    );
}
