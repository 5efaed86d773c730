//! The plan as a terminal table: the parts of the org not read with what each withholds,
//! actions with their steps, findings with their manual steps, and skipped candidates with why.

use super::approval::{ActionApproval, ApprovalStatus};
use super::model::{ActionMode, Plan, Step};

/// Column separator of the tables.
const SEPARATOR: &str = "  ";
/// Indentation of the steps under a row.
const INDENT: &str = "    ";
/// What the table says of a `preview` action.
const PREVIEW_NOTE: &str = "dry-run: previewed only, not carried out";

/// Renders the plan for a terminal.
pub fn render_table(plan: &Plan) -> String {
    let mut out = format!(
        "Plan for {} at {}{}\n",
        plan.org,
        plan.generated_at.to_rfc3339(),
        banner(plan)
    );
    out.push_str(&incomplete_section(plan));
    out.push_str(&warnings(plan));
    out.push_str(&format!("\nACTIONS ({})\n", plan.actions.len()));
    let mut table = Table::new(&["ID", "KIND", "TARGET", "REASON"]);
    for a in &plan.actions {
        let mut details: Vec<String> = a
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {}", i + 1, describe(s)))
            .collect();
        let reason = match (a.mode, &a.approval) {
            (ActionMode::Enforce, None) => a.reason.clone(),
            (ActionMode::Enforce, Some(approval)) => {
                details.push(format!("plan hash {}", approval.plan_hash));
                format!("{} ({})", a.reason, approval_note(&a.id, approval))
            }
            (ActionMode::Preview, _) => format!("{} ({PREVIEW_NOTE})", a.reason),
        };
        table.row(
            vec![a.id.to_string(), a.kind.to_string(), a.target.key(), reason],
            details,
        );
    }
    out.push_str(&table.render());
    out.push_str(&format!("\nFINDINGS ({})\n", plan.findings.len()));
    let mut table = Table::new(&["KIND", "TARGET", "REASON"]);
    for f in &plan.findings {
        let kind = f.kind.to_string();
        let details = f
            .manual_steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("manual {}. {s}", i + 1))
            .collect();
        table.row(vec![kind, f.target.key(), f.reason.clone()], details);
    }
    out.push_str(&table.render());
    out.push_str(&format!("\nSKIPPED ({})\n", plan.skipped.len()));
    let mut table = Table::new(&["KIND", "TARGET", "WHY", "DETAIL"]);
    for s in &plan.skipped {
        table.row(
            vec![
                s.kind.to_string(),
                s.target.key(),
                s.why.to_string(),
                s.detail.clone(),
            ],
            Vec::new(),
        );
    }
    out.push_str(&table.render());
    out
}

/// What the table says of an approval-required action.
fn approval_note(id: &super::model::ActionId, approval: &ActionApproval) -> String {
    let until = approval.expires_at.map_or(String::new(), |at| {
        format!(
            " until {}",
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    });
    let by = approval.by.as_deref().unwrap_or("?");
    match approval.status {
        ApprovalStatus::Approved => format!("approved by {by}{until}: carried out"),
        ApprovalStatus::Awaiting => {
            format!("AWAITING APPROVAL{until}, not carried out: remediator approve {id}")
        }
        ApprovalStatus::Expired => {
            format!("AWAITING APPROVAL: the request expired, asked again: remediator approve {id}")
        }
        ApprovalStatus::Changed => format!(
            "AWAITING APPROVAL: it changed since approval was asked, asked again: remediator \
             approve {id}"
        ),
        ApprovalStatus::Rejected => {
            format!("REJECTED by {by}: not carried out until its plan changes")
        }
    }
}

/// The title's note on an incomplete read: which parts were not read.
fn banner(plan: &Plan) -> String {
    if !plan.incomplete.is_empty() {
        let parts: Vec<String> = plan.incomplete.iter().map(|i| i.part.to_string()).collect();
        return format!(
            " (INCOMPLETE read: {} not read; what depends on it is withheld)",
            parts.join(", ")
        );
    }
    if plan.complete {
        String::new()
    } else {
        // A plan saved before its parts were named.
        " (INCOMPLETE read: some parts were not read)".to_owned()
    }
}

/// Each part not read, with the failing request and why, and the actions (or the findings in
/// their place) it withholds.
fn incomplete_section(plan: &Plan) -> String {
    if plan.incomplete.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\nINCOMPLETE READ ({}): actions and findings that depend on a part not read are \
         withheld\n",
        plan.incomplete.len()
    );
    let mut table = Table::new(&["PART", "REQUEST", "WHY"]);
    for unread in &plan.incomplete {
        let part = if unread.optional {
            format!("{} (optional)", unread.part)
        } else {
            unread.part.to_string()
        };
        let withheld: Vec<String> = plan
            .withheld_by(&unread.part)
            .map(|s| format!("withheld: {} {}", s.kind, s.target.key()))
            .collect();
        let details = if withheld.is_empty() {
            vec!["withheld: nothing that was found depends on it".to_owned()]
        } else {
            withheld
        };
        table.row(
            vec![
                part,
                unread.failure.request.clone(),
                unread.failure.reason.clone(),
            ],
            details,
        );
    }
    out.push_str(&table.render());
    out
}

/// The policy selectors that matched no app or several, when there are any.
fn warnings(plan: &Plan) -> String {
    if plan.warnings.is_empty() {
        return String::new();
    }
    let mut table = Table::new(&["SELECTOR", "WHERE", "MESSAGE"]);
    for w in &plan.warnings {
        table.row(
            vec![
                format!("{:?}", w.selector),
                w.location.clone(),
                w.message.clone(),
            ],
            Vec::new(),
        );
    }
    format!(
        "\nWARNINGS ({}): policy selectors that matched no app or several\n{}",
        plan.warnings.len(),
        table.render()
    )
}

/// One step in words.
fn describe(step: &Step) -> String {
    match step {
        Step::RepushAppUser { app_id, user_id } => format!("re-push app user {app_id}/{user_id}"),
        Step::RetryTasks { app_id, user_ids } => {
            let users: Vec<&str> = user_ids.iter().map(|u| u.as_str()).collect();
            format!("retry tasks of {app_id} for {}", users.join(", "))
        }
        Step::ForceSyncDirectory { directory_id } => format!("Force Sync directory {directory_id}"),
        Step::EnableProvisioning { app_id, credential } => {
            format!("enable provisioning of {app_id} with the credential from {credential}")
        }
        Step::DeactivatePushMapping { app_id, mapping_id } => {
            format!("deactivate push mapping {mapping_id} of {app_id}")
        }
        Step::DeletePushMapping {
            app_id,
            mapping_id,
            delete_target_group,
        } => format!(
            "delete push mapping {mapping_id} of {app_id} ({} the target group)",
            if *delete_target_group {
                "deleting"
            } else {
                "keeping"
            }
        ),
        Step::DisableProvisioning { app_id } => format!("disable provisioning of {app_id}"),
        Step::UpdateProvisioningFeatures {
            app_id,
            create_users,
            update_attributes,
            deactivate_users,
        } => {
            let changes: Vec<String> = [
                ("create_users", create_users),
                ("update_attributes", update_attributes),
                ("deactivate_users", deactivate_users),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| format!("{name}={v}")))
            .collect();
            format!(
                "set provisioning features of {app_id}: {}",
                changes.join(", ")
            )
        }
        Step::Verify { what } => format!("verify: {what}"),
    }
}

/// A plain-text table with aligned columns and indented detail lines under each row.
struct Table {
    header: Vec<String>,
    rows: Vec<(Vec<String>, Vec<String>)>,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>, details: Vec<String>) {
        self.rows.push((cells, details));
    }

    fn render(&self) -> String {
        if self.rows.is_empty() {
            return "  (none)\n".to_string();
        }
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for (cells, _) in &self.rows {
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = line(&self.header, &widths);
        for (cells, details) in &self.rows {
            out.push_str(&line(cells, &widths));
            for d in details {
                out.push_str(&format!("{INDENT}{d}\n"));
            }
        }
        out
    }
}

/// One table line; the last column is not padded.
fn line(cells: &[String], widths: &[usize]) -> String {
    let last = cells.len().saturating_sub(1);
    let mut text = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if i == last {
            text.push_str(cell);
        } else {
            let pad = width.saturating_sub(cell.chars().count());
            text.push_str(cell);
            text.push_str(&" ".repeat(pad));
            text.push_str(SEPARATOR);
        }
    }
    text.push('\n');
    text
}
