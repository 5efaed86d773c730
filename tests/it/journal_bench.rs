//! A rough, criterion-free benchmark of the sled journal: append (with flush), view, list by
//! target and verify. Ignored by default; run with
//! `cargo test --release --test it journal_bench -- --ignored --nocapture`.
//! It prints timings and asserts only on results, never on time.

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use remediator::journal::{
    Effect, EntryDraft, EntryFilter, EntryKind, JournalStore, SledJournal, Target, TargetRef,
};
use remediator::plan::ActionKind;

/// Entries appended.
const ENTRIES: u32 = 5_000;
/// Distinct app targets the entries spread over.
const TARGETS: u32 = 50;

#[test]
#[ignore = "benchmark: prints timings; run with --ignored --nocapture"]
fn journal_throughput() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SledJournal::open(dir.path()).expect("open");
    let base = Utc
        .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .expect("valid time");

    let started = Instant::now();
    for i in 0..ENTRIES {
        let target = Target::app_user(format!("0oa{}", i % TARGETS), format!("00u{i}"));
        let draft = EntryDraft::new(
            "bench",
            EntryKind::Note {
                text: i.to_string(),
            },
        )
        .target(target);
        let effects = [
            Effect::RecordAttempt {
                action_kind: ActionKind::RetryProvisioning,
            },
            Effect::RecordAction {
                action_kind: ActionKind::RetryProvisioning,
            },
        ];
        let now = base + Duration::milliseconds(i64::from(i) * 100);
        journal.append(now, draft, &effects).expect("append");
    }
    let append = started.elapsed();

    let started = Instant::now();
    let view = journal.view(base + Duration::minutes(10)).expect("view");
    let view_time = started.elapsed();

    let started = Instant::now();
    let filter = EntryFilter {
        target: Some(TargetRef::App("0oa7".into())),
        ..Default::default()
    };
    let by_target = journal.list(&filter).expect("list");
    let list_time = started.elapsed();

    let started = Instant::now();
    let report = journal.verify().expect("verify");
    let verify_time = started.elapsed();

    assert_eq!(view.attempts.len(), ENTRIES as usize);
    assert_eq!(by_target.len(), (ENTRIES / TARGETS) as usize);
    assert!(report.is_ok());
    println!(
        "{ENTRIES} appends: {append:?} ({:?} each); view: {view_time:?}; list by target: {list_time:?}; verify: {verify_time:?}",
        append / ENTRIES
    );
}
