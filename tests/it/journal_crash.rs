//! Crash safety: a child process journals multi-step fixes and is killed with SIGKILL
//! mid-stream; every entry it acknowledged is present after reopening, the chain verifies, and
//! the state written with each entry matches the entries. While the child runs, the state
//! directory is reported locked to this process.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, TimeZone, Utc};
use remediator::journal::{
    Effect, EntryDraft, EntryFilter, EntryId, EntryKind, JournalError, JournalStore, Outcome,
    SledJournal, StepOutcome, Target,
};
use remediator::plan::ActionKind;

/// Set in the child process: the state directory to append to.
const CHILD_DIR_ENV: &str = "REMEDIATOR_JOURNAL_CRASH_CHILD_DIR";
/// Set in the child process: the run id to append under.
const CHILD_RUN_ENV: &str = "REMEDIATOR_JOURNAL_CRASH_CHILD_RUN";
/// Prefix of the child's acknowledgement lines (the test harness prints other lines too).
const ACK: &str = "ACK ";
/// Acknowledgements the parent waits for before killing the child.
const ACKS_BEFORE_KILL: usize = 150;
/// Safety bound on the child's appends, so a lost parent cannot leave it running forever.
const CHILD_MAX_APPENDS: u64 = 1_000_000;
/// Crash rounds on one state directory.
const ROUNDS: usize = 3;

fn t(millis: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .expect("valid base time")
        + Duration::milliseconds(millis)
}

/// The child's body; run only when the parent spawns this binary with [`CHILD_DIR_ENV`] set.
/// Each action is a multi-step fix of four entries: intent, two steps, outcome.
#[test]
#[ignore = "helper run in a child process by sigkill_mid_stream_loses_no_acknowledged_entry"]
fn crash_child() {
    let dir = std::env::var(CHILD_DIR_ENV).expect("child mode needs the state directory");
    let run = std::env::var(CHILD_RUN_ENV).expect("child mode needs the run id");
    let journal = SledJournal::open(&dir).expect("child opens the journal");
    let mut stdout = std::io::stdout().lock();
    for i in 0..CHILD_MAX_APPENDS {
        let action = format!("{run}-a{}", i / 4);
        let now = t(i as i64 / 4);
        let entry = match i % 4 {
            0 => journal.begin_fix(
                now,
                intent(&run, &action),
                &[
                    Effect::MarkSeen {
                        idempotency_key: action.clone(),
                    },
                    Effect::RecordAction {
                        action_kind: FIX_KIND,
                    },
                ],
            ),
            phase @ (1 | 2) => {
                journal.record_step(now, step(&run, &action, phase as u32), phase == 1)
            }
            _ => journal.finish_fix(now, finished(&run, &action), &[]),
        };
        let entry = entry.expect("child append");
        writeln!(stdout, "{ACK}{} {action}", entry.id).expect("write ack");
        stdout.flush().expect("flush ack");
    }
}

/// The action kind of the child's fixes.
const FIX_KIND: ActionKind = ActionKind::RemovePushMappings;

fn intent(run: &str, action: &str) -> EntryDraft {
    let kind = EntryKind::Intent {
        action_kind: FIX_KIND,
        evidence: serde_json::Value::Null,
        steps: vec!["one".to_owned(), "two".to_owned()],
        idempotency_key: action.to_owned(),
    };
    EntryDraft::new(run, kind)
        .action(action)
        .target(Target::app("0oaCRASH"))
}

fn step(run: &str, action: &str, n: u32) -> EntryDraft {
    let outcome = StepOutcome {
        ok: true,
        detail: String::new(),
    };
    let kind = EntryKind::StepFinished {
        step: n,
        name: format!("step {n}"),
        outcome,
    };
    EntryDraft::new(run, kind)
        .action(action)
        .target(Target::app("0oaCRASH"))
}

fn finished(run: &str, action: &str) -> EntryDraft {
    let kind = EntryKind::Outcome {
        outcome: Outcome::Verified,
        reason: "ok".to_owned(),
        why: None,
    };
    EntryDraft::new(run, kind)
        .action(action)
        .target(Target::app("0oaCRASH"))
}

/// Run the child on `dir` until it has acknowledged enough entries, SIGKILL it, and return
/// every (entry id, action id) it acknowledged.
fn run_and_kill(dir: &Path, run: &str) -> Vec<(EntryId, String)> {
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(exe)
        .args([
            "journal_crash::crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_RUN_ENV, run)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout is piped");
    let mut acked = Vec::new();
    let mut killed = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read child output");
        let Some(ack) = line.strip_prefix(ACK) else {
            continue;
        };
        let (id, key) = ack.split_once(' ').expect("ack line is `ACK id key`");
        acked.push((id.parse().expect("ack carries an entry id"), key.to_owned()));
        if acked.len() == 1 {
            let err = SledJournal::open(dir).expect_err("the child holds the lock");
            assert!(matches!(err, JournalError::Locked { .. }), "{err:?}");
        }
        if acked.len() == ACKS_BEFORE_KILL && !killed {
            child.kill().expect("SIGKILL the child");
            killed = true;
        }
    }
    let status = child.wait().expect("reap child");
    assert!(killed, "child ended before being killed: {status:?}");
    assert!(!status.success(), "child was killed, not finished");
    acked
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut all_acked = Vec::new();
    for round in 0..ROUNDS {
        let run = format!("run-{round}");
        let acked = run_and_kill(dir.path(), &run);
        assert!(acked.len() >= ACKS_BEFORE_KILL);

        let journal = SledJournal::open(dir.path()).expect("reopen after SIGKILL");
        let report = journal.verify().expect("verify");
        assert!(
            report.is_ok(),
            "round {round}: {}",
            report.first_break.expect("break present")
        );
        for (id, key) in &acked {
            let entry = journal
                .get(*id)
                .expect("get")
                .unwrap_or_else(|| panic!("acknowledged entry {id} lost"));
            assert_eq!(entry.action_id.as_deref(), Some(key.as_str()));
            assert!(
                journal.seen(key).expect("seen"),
                "idempotency key {key} lost"
            );
        }
        assert_state_matches_entries(&journal, &run);
        all_acked.extend(acked);
    }
    let journal = SledJournal::open(dir.path()).expect("final reopen");
    let report = journal.verify().expect("verify");
    assert!(report.is_ok());
    assert!(report.entries_checked as usize >= all_acked.len());
}

/// The state written with each entry agrees with the entries, including an entry written but
/// not yet acknowledged when the child died: one budget action and one idempotency key per
/// intent, and exactly the begun-but-not-finished fixes are unfinished, with their steps.
fn assert_state_matches_entries(journal: &SledJournal, run: &str) {
    let in_run = journal
        .list(&EntryFilter {
            run_id: Some(run.into()),
            ..Default::default()
        })
        .expect("list");
    let mut expected: BTreeMap<String, (bool, usize)> = BTreeMap::new();
    for entry in &in_run {
        let action = entry
            .action_id
            .as_ref()
            .expect("child entries carry an action id")
            .to_string();
        let state = expected.entry(action.clone()).or_insert((false, 0));
        match entry.kind {
            EntryKind::Intent { .. } => {
                assert!(journal.seen(&action).expect("seen"), "{action} key lost")
            }
            EntryKind::StepFinished { .. } => state.1 += 1,
            EntryKind::Outcome { .. } => state.0 = true,
            _ => panic!("unexpected entry {entry:?}"),
        }
    }
    assert_eq!(
        journal.run_action_count(&run.into()).expect("count") as usize,
        expected.len()
    );
    let unfinished: BTreeMap<String, usize> = journal
        .unfinished_fixes()
        .expect("fixes")
        .into_iter()
        .filter(|fix| fix.action_id.starts_with(&format!("{run}-")))
        .map(|fix| (fix.action_id.to_string(), fix.steps_done.len()))
        .collect();
    let expected_unfinished: BTreeMap<String, usize> = expected
        .into_iter()
        .filter(|(_, (done, _))| !done)
        .map(|(action, (_, steps))| (action, steps))
        .collect();
    assert_eq!(unfinished, expected_unfinished);
}
