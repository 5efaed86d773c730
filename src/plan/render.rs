//! The plan as a terminal table: the parts of the org not read with what each withholds,
//! actions with their steps, findings with their manual steps, and skipped candidates with why.

use super::approval::{ActionApproval, ApprovalStatus};
use std::collections::BTreeMap;

use super::model::{ActionMode, Plan, Step};
use crate::vocab::Target;

/// Column separator of the tables.
const SEPARATOR: &str = "  ";
/// Indentation of the steps under a row.
const INDENT: &str = "    ";
/// What the table says of a `preview` action.
const PREVIEW_NOTE: &str = "dry-run: previewed only, not carried out";

/// The narrowest a column of a fitted table gets, whatever the width.
const MIN_COLUMN: usize = 12;

/// Renders the plan for a terminal, every line whole.
pub fn render_table(plan: &Plan) -> String {
    render_table_fitted(plan, None)
}

/// Renders the plan for a terminal `width` columns wide: the widest columns are narrowed and
/// their cells wrapped within them (at spaces, or after `,` `;` `-`), step lines are cut with
/// `…`; `None` keeps lines whole.
pub fn render_table_fitted(plan: &Plan, width: Option<usize>) -> String {
    let mut out = format!(
        "Plan for {} at {}{}\n",
        plan.org,
        plan.generated_at.to_rfc3339(),
        banner(plan)
    );
    out.push_str(&incomplete_section(plan, width));
    out.push_str(&warnings(plan, width));
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
            vec![
                a.id.to_string(),
                a.kind.to_string(),
                target_text(&a.target, &plan.labels),
                reason,
            ],
            details,
        );
    }
    out.push_str(&table.render(width));
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
        table.row(
            vec![kind, target_text(&f.target, &plan.labels), f.reason.clone()],
            details,
        );
    }
    out.push_str(&table.render(width));
    out.push_str(&format!("\nSKIPPED ({})\n", plan.skipped.len()));
    let mut table = Table::new(&["KIND", "TARGET", "WHY", "DETAIL"]);
    for s in &plan.skipped {
        table.row(
            vec![
                s.kind.to_string(),
                target_text(&s.target, &plan.labels),
                s.why.to_string(),
                s.detail.clone(),
            ],
            Vec::new(),
        );
    }
    out.push_str(&table.render(width));
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
fn incomplete_section(plan: &Plan, width: Option<usize>) -> String {
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
    out.push_str(&table.render(width));
    out
}

/// The policy selectors that matched no app or several, when there are any.
fn warnings(plan: &Plan, width: Option<usize>) -> String {
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
        table.render(width)
    )
}

/// The target's key with the labels and logins the plan knows for its ids beside it:
/// `app=0oa1;user=00u2 (Salesforce, alice@example.com)`.
fn target_text(target: &Target, labels: &BTreeMap<String, String>) -> String {
    let ids = [
        target.app_id.as_ref().map(|a| a.as_str()),
        target.user_id.as_ref().map(|u| u.as_str()),
        target.directory_id.as_ref().map(|d| d.as_str()),
    ];
    let names: Vec<&str> = ids
        .into_iter()
        .flatten()
        .filter_map(|id| labels.get(id).map(String::as_str))
        .collect();
    if names.is_empty() {
        target.key()
    } else {
        format!("{} ({})", target.key(), names.join(", "))
    }
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

    fn render(&self, fit: Option<usize>) -> String {
        if self.rows.is_empty() {
            return "  (none)\n".to_string();
        }
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for (cells, _) in &self.rows {
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(c.chars().count());
            }
        }
        let widths = fitted(widths, fit);
        let mut out = line(&self.header, &widths, fit.is_some());
        for (cells, details) in &self.rows {
            out.push_str(&line(cells, &widths, fit.is_some()));
            for d in details {
                out.push_str(&cut(&format!("{INDENT}{d}"), fit));
                out.push('\n');
            }
        }
        out
    }
}

/// Column widths that fit in `fit` (with the separators): the widest column is narrowed
/// first, none below [`MIN_COLUMN`]; unchanged without `fit`.
fn fitted(mut widths: Vec<usize>, fit: Option<usize>) -> Vec<usize> {
    let Some(fit) = fit else { return widths };
    let gaps = SEPARATOR.len() * widths.len().saturating_sub(1);
    loop {
        let total: usize = widths.iter().sum::<usize>() + gaps;
        if total <= fit {
            return widths;
        }
        // The first column (an id, a kind) is kept whole.
        let Some((widest, &width)) = widths
            .iter()
            .enumerate()
            .skip(1)
            .max_by_key(|(i, w)| (**w, *i))
        else {
            return widths;
        };
        if width <= MIN_COLUMN {
            return widths;
        }
        // Down to the next widest at most, so that the wide columns share the narrowing.
        let next = widths
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(i, _)| *i != widest)
            .map(|(_, w)| *w)
            .max()
            .unwrap_or(0);
        let narrowed = width.saturating_sub(total - fit).max(next).max(MIN_COLUMN);
        widths[widest] = if narrowed < width {
            narrowed
        } else {
            width - 1
        };
    }
}

/// One table row: each cell wrapped within its column when `wrapping`, the row as many lines
/// as its tallest cell; the last column is not padded.
fn line(cells: &[String], widths: &[usize], wrapping: bool) -> String {
    let pieces: Vec<Vec<String>> = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| wrap(cell, wrapping.then_some(*width)))
        .collect();
    let height = pieces.iter().map(Vec::len).max().unwrap_or(1);
    let last = cells.len().saturating_sub(1);
    let mut text = String::new();
    for k in 0..height {
        let mut row = String::new();
        for (i, (cell, width)) in pieces.iter().zip(widths).enumerate() {
            let piece = cell.get(k).map_or("", String::as_str);
            row.push_str(piece);
            if i != last {
                row.push_str(&" ".repeat(width.saturating_sub(piece.chars().count())));
                row.push_str(SEPARATOR);
            }
        }
        text.push_str(row.trim_end());
        text.push('\n');
    }
    text
}

/// `text` in lines of at most `room` characters, broken at spaces or after `,` `;` `-` (a
/// longer piece is split); one line when `room` is `None`.
pub fn wrap(text: &str, room: Option<usize>) -> Vec<String> {
    let Some(room) = room.filter(|r| text.chars().count() > *r && *r > 0) else {
        return vec![text.to_owned()];
    };
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in pieces(text) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = current.chars().count();
            let spaced = used > 0 && word.first() == Some(&' ');
            if used + word.len() <= room {
                current.extend(word.iter());
                break;
            }
            if spaced {
                word.remove(0);
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current).trim_end().to_owned());
                continue;
            }
            // A piece longer than a whole line: split it.
            let rest = word.split_off(room.min(word.len()));
            lines.push(word.iter().collect());
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current.trim_end().to_owned());
    }
    lines
}

/// `text` in pieces: a space starts one, and `,` `;` `-` end one.
fn pieces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c == ' ' && !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
        }
        current.push(c);
        if matches!(c, ',' | ';' | '-') {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// `text` cut to `fit` characters, ending in `…` when it was cut.
fn cut(text: &str, fit: Option<usize>) -> String {
    match fit {
        Some(fit) if text.chars().count() > fit => {
            let kept: String = text.chars().take(fit.saturating_sub(1)).collect();
            format!("{kept}…")
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{fitted, wrap};

    #[test]
    fn wrap_breaks_at_spaces_and_separators_and_splits_only_overlong_pieces() {
        assert_eq!(wrap("a bc def", None), ["a bc def"]);
        assert_eq!(wrap("a bc def", Some(4)), ["a bc", "def"]);
        assert_eq!(wrap("abcdefghij k", Some(4)), ["abcd", "efgh", "ij k"]);
        assert_eq!(wrap("app=1;user=2", Some(7)), ["app=1;", "user=2"]);
        for line in wrap(&"word ".repeat(50), Some(24)) {
            assert!(line.chars().count() <= 24, "{line:?}");
        }
    }

    #[test]
    fn fitted_narrows_the_widest_first_and_never_below_the_minimum() {
        assert_eq!(fitted(vec![20, 26, 60, 90], None), [20, 26, 60, 90]);
        let widths = fitted(vec![20, 26, 60, 90], Some(80));
        assert_eq!(widths.iter().sum::<usize>() + 6, 80, "{widths:?}");
        assert_eq!(widths[0], 20, "the first column is kept: {widths:?}");
        assert!(widths.iter().all(|w| *w >= 17), "shared: {widths:?}");
        assert_eq!(fitted(vec![30, 30], Some(10)), [30, 12]);
    }
}
