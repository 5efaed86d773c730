//! `remediator journal ...` through the real binary, over a real sled journal.

use std::process::Command;

use chrono::{TimeZone, Utc};
use remediator::journal::{EntryDraft, EntryKind, JournalStore, Outcome, SledJournal, Target};

fn remediator(state: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_remediator"));
    cmd.arg("--state").arg(state);
    cmd
}

fn seed(dir: &std::path::Path) {
    let journal = SledJournal::open(dir).expect("open journal");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .expect("valid time");
    let draft = EntryDraft::new(
        "run-1",
        EntryKind::Outcome {
            outcome: Outcome::Verified,
            reason: "app user left ERROR".into(),
            why: None,
        },
    )
    .action("act-1")
    .target(Target::app_user("0oa1", "00u1"));
    journal.append(now, draft, &[]).expect("append");
}

#[test]
fn list_export_verify_and_show() {
    let dir = tempfile::tempdir().expect("temp dir");
    seed(dir.path());

    let out = remediator(dir.path())
        .args(["journal", "list"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("act-1") && listing.contains("verified"),
        "{listing}"
    );
    let id = listing
        .lines()
        .nth(1)
        .expect("an entry after the header")
        .split_whitespace()
        .next()
        .expect("an entry id")
        .to_owned();

    let out = remediator(dir.path())
        .args(["journal", "list", "--outcome", "failed"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        1,
        "only the header: no failed outcomes were journaled"
    );

    let out = remediator(dir.path())
        .args(["journal", "export"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout);
    let entry: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    assert_eq!(entry["action_id"], "act-1");
    assert_eq!(entry["id"], id.as_str());

    let out = remediator(dir.path())
        .args(["journal", "show", &id])
        .output()
        .expect("run");
    assert!(out.status.success());
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON entry");
    assert_eq!(shown["hash"], entry["hash"]);

    let out = remediator(dir.path())
        .args(["journal", "verify"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 entries, chain intact"));
}

#[test]
fn missing_journal_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = remediator(&dir.path().join("nope"))
        .args(["journal", "list"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no journal at"));
}
