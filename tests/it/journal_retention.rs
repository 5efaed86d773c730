//! Journal retention through the real binary against okta-sim, with the real sled journal:
//! `journal prune` exports the pruned entries (the lines of `journal export`) before it deletes
//! them, refuses without `--export` (or `--no-export`), leaves a chain that `journal verify`
//! checks from its anchor, never cuts a fix a crash left unfinished (which `apply` then
//! recovers), and the daemon prunes by `safety.journal_retention` into `STATE/archive/`.

use std::process::Stdio;
use std::time::Duration;

use remediator::journal::{
    ChainBreak, Entry, EntryDraft, EntryKind, JournalStore, Outcome, SledJournal,
};
use remediator::plan::ActionKind;

use crate::support::act as act_support;
use crate::support::cli::{parts, stdout_if_exit, Cli};
use crate::support::daemon::Daemon;

/// How long the daemon is given to run and prune (a bound, not a figure).
const DAEMON_BOUND: Duration = Duration::from_secs(180);

fn entries(text: &str) -> Vec<Entry> {
    text.lines()
        .map(|line| serde_json::from_str(line).expect("an exported entry"))
        .collect()
}

async fn export(cli: &Cli) -> Vec<Entry> {
    entries(&stdout_if_exit(
        &cli.run(&["journal", "export"]).await,
        0,
        "export: ",
    ))
}

#[tokio::test]
async fn prune_exports_first_and_verify_starts_from_the_anchor() {
    let cli = Cli::start(act_support::scenario("features-disabled")).await;
    stdout_if_exit(&cli.run(&["apply", "--yes"]).await, 0, "apply: ");
    stdout_if_exit(&cli.run(&["apply", "--yes"]).await, 0, "apply again: ");
    let before = export(&cli).await;
    assert!(before.len() > 4, "{} entries", before.len());

    // Without --export it refuses (a usage error) and prunes nothing.
    let refused = cli.run(&["journal", "prune", "--older-than", "0s"]).await;
    let (code, _, stderr) = parts(&refused);
    assert_eq!(code, Some(64), "{stderr}");
    assert!(stderr.contains("--export"), "{stderr}");
    assert_eq!(export(&cli).await, before, "nothing pruned");

    let (file, said) = prune_all(&cli).await;
    let archived = entries(&std::fs::read_to_string(&file).expect("the export file"));
    // Everything is pruned: no run or action is left open.
    assert_eq!(archived, before, "exported as journal export writes them");
    let last = archived.last().expect("pruned entries");
    assert!(
        said.contains(&format!("pruned {} entries", archived.len()))
            && said.contains(&format!("anchor seq {} hash {}", last.id.seq(), last.hash)),
        "{said}"
    );
    let after = export(&cli).await;
    assert_eq!(after.len(), 1, "only the prune's record");
    assert_eq!(
        after[0].prev_hash, last.hash,
        "the first kept entry links to the anchor"
    );
    assert_eq!(after[0].id.seq(), last.id.seq() + 1);
    let EntryKind::ChainAnchored {
        anchor_hash,
        pruned,
        exported_to,
        ..
    } = &after[0].kind
    else {
        panic!("the prune is journaled: {:?}", after[0].kind);
    };
    assert_eq!(
        (anchor_hash, *pruned, exported_to.as_deref()),
        (&last.hash, archived.len() as u64, file.to_str())
    );

    let verify = stdout_if_exit(&cli.run(&["journal", "verify"]).await, 0, "verify: ");
    assert!(
        verify.contains("journal ok: 1 entries, chain intact from the anchor")
            && verify.contains(&format!("seq {} hash {}", last.id.seq(), last.hash)),
        "{verify}"
    );
    // Listing and status still read; plan and apply still work on the pruned journal.
    stdout_if_exit(&cli.run(&["status"]).await, 0, "status: ");
    stdout_if_exit(&cli.run(&["apply", "--yes"]).await, 0, "apply after: ");
    let verify = stdout_if_exit(&cli.run(&["journal", "verify"]).await, 0, "verify: ");
    assert!(verify.contains("chain intact from the anchor"), "{verify}");

    // A retention longer than the journal's age prunes nothing.
    let nothing = cli
        .run(&["journal", "prune", "--older-than", "3650d", "--no-export"])
        .await;
    let said = stdout_if_exit(&nothing, 0, "prune nothing: ");
    assert!(said.contains("nothing to prune"), "{said}");
}

/// `journal prune --older-than 0s --export pruned.jsonl`, which must exit 0: the export
/// file and what it said.
async fn prune_all(cli: &Cli) -> (std::path::PathBuf, String) {
    let file = cli.dir.path().join("pruned.jsonl");
    let path = file.to_str().expect("path");
    let args = ["journal", "prune", "--older-than", "0s", "--export", path];
    let said = stdout_if_exit(&cli.run(&args).await, 0, "prune: ");
    (file, said)
}

#[tokio::test]
async fn a_pruned_journal_still_recovers_the_fix_a_crash_left_unfinished() {
    let cli = Cli::start(act_support::scenario("features-disabled")).await;
    // A finished run first (nothing of the fix), then a run killed after the fix's first step.
    stdout_if_exit(
        &cli.run(&["apply", "--yes", "--only", "retry-provisioning"])
            .await,
        0,
        "a first run: ",
    );
    cli.apply_and_kill_at(1).await;
    let (unfinished, before) = {
        let journal = cli.journal();
        let fixes = journal.unfinished_fixes().expect("fixes");
        assert_eq!(fixes.len(), 1, "one unfinished fix");
        let all = journal.list(&Default::default()).expect("list");
        (fixes[0].action_id.clone(), all)
    };
    let (file, said) = prune_all(&cli).await;
    assert!(said.contains("kept from there on"), "{said}");
    let archived = entries(&std::fs::read_to_string(&file).expect("export"));
    assert!(!archived.is_empty(), "the finished run is pruned: {said}");
    assert!(
        archived
            .iter()
            .all(|e| e.action_id.as_ref() != Some(&unfinished)
                && e.run_id != before.last().expect("entries").run_id),
        "nothing of the killed run or its fix is pruned"
    );

    let out = cli.run(&["apply", "--yes"]).await;
    let stdout = stdout_if_exit(&out, 0, "recovery: ");
    assert!(stdout.contains("recovered after a restart"), "{stdout}");
    let journal = cli.journal();
    assert!(journal.unfinished_fixes().expect("fixes").is_empty());
    let report = journal.verify().expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert!(report.anchor.is_some(), "{report:?}");
    let run = act_support::latest_run(&journal);
    act_support::assert_recovered_before_planning(&journal, &run, &unfinished);
}

#[tokio::test]
async fn the_daemon_prunes_by_the_policys_retention_into_the_archive() {
    let cli = Cli::start(act_support::scenario("kpasswd-blocked"))
        .await
        .env("REMEDIATOR_JOURNAL_PRUNE_INTERVAL", "1s");
    let safety = cli.dir.path().join("policies/safety.toml");
    let text = std::fs::read_to_string(&safety).expect("safety.toml");
    let text = text.replacen(
        "cooldown = \"30m\"",
        "cooldown = \"30m\"\njournal_retention = \"1s\"",
        1,
    );
    std::fs::write(&safety, text).expect("write safety.toml");
    let mut daemon = Daemon::spawn(&cli, &[], &["--observe-only"], Stdio::null());
    let archive = cli.state().join("archive");
    let deadline = std::time::Instant::now() + DAEMON_BOUND;
    let archived = loop {
        let files: Vec<_> = std::fs::read_dir(&archive)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        let lines: Vec<Entry> = files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .flat_map(|t| {
                t.lines()
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect::<Vec<Entry>>()
            })
            .collect();
        if lines
            .iter()
            .any(|e| matches!(e.kind, EntryKind::RunFinished { .. }))
        {
            assert_eq!(files.len(), 1, "{files:?}");
            let name = files[0]
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            assert!(
                name.ends_with(".jsonl") && name.len() == "2026-12-02.jsonl".len(),
                "{name}"
            );
            break lines;
        }
        if std::time::Instant::now() > deadline {
            daemon.kill();
            panic!(
                "the daemon pruned no finished run into {}",
                archive.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let exit = daemon.stop().await;
    assert!(exit.success(), "{exit:?}");
    assert_eq!(
        archived[0].id.seq(),
        1,
        "the first prune starts at the start"
    );
    let verify = stdout_if_exit(&cli.run(&["journal", "verify"]).await, 0, "verify: ");
    assert!(
        verify.contains("chain intact from the anchor seq"),
        "{verify}"
    );
    let kept = export(&cli).await;
    assert!(
        kept.iter()
            .any(|e| matches!(e.kind, EntryKind::ChainAnchored { .. })),
        "the prune is journaled"
    );
    // The open finding survives the prune of the entry that opened it: it lives in the state.
    let status = stdout_if_exit(&cli.run(&["status", "-o", "json"]).await, 0, "status: ");
    let status: serde_json::Value = serde_json::from_str(&status).expect("JSON");
    let open = status["orgs"][0]["open_findings"]
        .as_array()
        .expect("findings");
    assert!(
        open.iter().any(|f| f["kind"] == "kpasswd-blocked"),
        "{status}"
    );
}

/// Entries at `minute` minutes past a fixed hour.
fn at(minute: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_790_000_000, 0).expect("a time")
        + chrono::Duration::minutes(minute)
}

fn append(journal: &SledJournal, minute: i64, run: &str, action: Option<&str>, kind: EntryKind) {
    let mut draft = EntryDraft::new(run, kind);
    if let Some(action) = action {
        draft = draft.action(action);
    }
    journal.append(at(minute), draft, &[]).expect("append");
}

fn outcome() -> EntryKind {
    EntryKind::Outcome {
        outcome: Outcome::Verified,
        reason: "done".into(),
        why: None,
    }
}

fn intent() -> EntryKind {
    EntryKind::Intent {
        action_kind: ActionKind::RetryProvisioning,
        evidence: serde_json::Value::Null,
        steps: vec!["repush".into()],
        idempotency_key: "key".into(),
    }
}

fn run_started() -> EntryKind {
    EntryKind::RunStarted {
        trigger: "timer".into(),
        observe_only: false,
    }
}

fn run_finished() -> EntryKind {
    EntryKind::RunFinished {
        counts: Default::default(),
        error: None,
        incomplete: Vec::new(),
    }
}

#[test]
fn the_cut_stops_before_an_open_run_or_action_and_tampering_after_it_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SledJournal::open(dir.path()).expect("open");
    append(&journal, 0, "run-1", None, run_started());
    append(&journal, 1, "run-1", Some("act-1"), intent());
    append(&journal, 2, "run-1", Some("act-1"), outcome());
    append(&journal, 3, "run-1", None, run_finished());
    // An intent outside a run whose outcome is not written yet, then a run still going.
    append(&journal, 4, "manual-1", Some("act-2"), intent());
    append(&journal, 5, "run-2", None, run_started());
    append(&journal, 6, "manual-1", Some("act-2"), outcome());

    // A cut-off before the first entry prunes nothing and journals nothing.
    let mut sink = Vec::new();
    let none = journal
        .prune(at(0), at(10), &mut sink, None)
        .expect("prune");
    assert_eq!(
        (none.pruned, none.entry.is_none(), sink.len()),
        (0, true, 0)
    );

    let mut export = Vec::new();
    let report = journal
        .prune(at(5), at(10), &mut export, None)
        .expect("prune");
    assert_eq!(
        report.pruned, 4,
        "through run-1's end, not into act-2's intent: {report:?}"
    );
    assert!(
        report
            .kept_because
            .as_deref()
            .is_some_and(|w| w.contains("act-2")),
        "{report:?}"
    );
    let anchor = report.anchor.clone().expect("an anchor");
    assert_eq!(anchor.id.seq(), 4);
    assert_eq!(String::from_utf8(export).expect("utf-8").lines().count(), 4);
    let verified = journal.verify().expect("verify");
    assert!(verified.is_ok(), "{verified:?}");
    assert_eq!(verified.anchor, Some(anchor.clone()));
    assert_eq!(
        verified.entries_checked, 4,
        "act-2's intent, run-2, act-2's outcome, the record"
    );

    // Later: run-2 is still open, so the cut stops before it.
    let report = journal
        .prune(at(100), at(101), &mut std::io::sink(), None)
        .expect("prune");
    assert_eq!(report.pruned, 0, "{report:?}");
    assert!(
        report
            .kept_because
            .as_deref()
            .is_some_and(|w| w.contains("run-2")),
        "{report:?}"
    );
    drop(journal);

    // An entry deleted after the anchor is a gap verify names.
    let db = sled::open(dir.path()).expect("raw open");
    let tree = db.open_tree("entries").expect("entries");
    let second = tree.iter().keys().nth(1).expect("an entry").expect("key");
    tree.remove(second).expect("remove");
    db.flush().expect("flush");
    drop((tree, db));
    let journal = SledJournal::open(dir.path()).expect("reopen");
    let report = journal.verify().expect("verify");
    assert!(
        matches!(report.first_break, Some(ChainBreak::Missing { .. })),
        "{report:?}"
    );
    assert!(
        journal
            .prune(at(100), at(101), &mut std::io::sink(), None)
            .is_err(),
        "a broken chain is not pruned"
    );
}
