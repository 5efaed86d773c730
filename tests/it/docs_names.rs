//! The docs list exactly the names the code defines: the tables of docs/executor.md's `Names`
//! section and the outcomes docs/daemon.md gives for the action metric.

use remediator::journal::{EntryKindTag, Outcome};
use remediator::plan::{ActionKind, FindingKind, SkipReason};
use remediator::vocab::Named;

fn executor_doc() -> String {
    std::fs::read_to_string("docs/executor.md").expect("docs/executor.md")
}

/// The backticked names in the first column of the table whose header row starts with
/// `| {header} |`, in order.
fn table_names(doc: &str, header: &str) -> Vec<String> {
    let start = doc
        .find(&format!("\n| {header} |"))
        .unwrap_or_else(|| panic!("a table headed `{header}`"));
    doc[start + 1..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cell = line.split('|').nth(1).expect("a first column").trim();
            cell.trim_matches('`').to_owned()
        })
        .collect()
}

fn names<K: Named>() -> Vec<String> {
    K::names().into_iter().map(str::to_owned).collect()
}

#[test]
fn the_executor_doc_tables_list_every_name_and_no_other() {
    let doc = executor_doc();
    assert_eq!(table_names(&doc, "kind"), names::<ActionKind>());
    let findings_at = doc.find("Finding kinds").expect("a finding kinds table");
    assert_eq!(
        table_names(&doc[findings_at..], "kind"),
        names::<FindingKind>()
    );
    assert_eq!(table_names(&doc, "why"), names::<SkipReason>());
    assert_eq!(table_names(&doc, "type"), names::<EntryKindTag>());
    assert_eq!(table_names(&doc, "outcome"), names::<Outcome>());
}

#[test]
fn the_daemon_doc_lists_every_outcome_of_the_action_metric() {
    let doc = std::fs::read_to_string("docs/daemon.md").expect("docs/daemon.md");
    let line = doc
        .lines()
        .find(|l| l.starts_with("| `remediator_actions_total`"))
        .expect("the action metric's row");
    let listed: Vec<String> = line
        .split("outcome (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("an outcome list")
        .split(',')
        .map(|o| o.trim().trim_matches('`').to_owned())
        .collect();
    assert_eq!(listed, names::<Outcome>());
}
