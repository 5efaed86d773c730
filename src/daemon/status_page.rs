//! The status page at `/` on the daemon's listener: what `remediator status` says, as one
//! server-rendered HTML page for a person with a browser or a phone. "Needs you" first (open
//! findings nobody acknowledged, with their age; actions held, with why and until when; an open
//! circuit breaker; a last run that failed), then per org the last run and the next one. No
//! script, no external asset (the style is inline); everything that comes from an org or the
//! journal is HTML-escaped by `maud`. Like `GET /v1/status`, reading it needs no token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::api::{statuses, Api};
use crate::status::{FindingStatus, HeldAction, OrgStatus};

/// How often the page asks the browser to load it again, in seconds (a `<meta>` refresh: no
/// script).
pub const REFRESH_SECONDS: u32 = 60;

/// The page's style: system fonts, one column that fits a phone, wider tables on a desk.
const STYLE: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;padding:0 12px 24px;
  color:#1b1b1b;background:#fafafa;line-height:1.4;font-size:16px}
h1{font-size:1.3em;margin:12px 0 4px}h2{font-size:1.15em;margin:20px 0 6px}
h3{font-size:1em;margin:14px 0 4px}
.meta{color:#555;font-size:.9em}
section.needs{border-left:6px solid #c62828;background:#fff;padding:4px 12px 10px;margin:12px 0}
section.calm{border-left:6px solid #2e7d32;background:#fff;padding:4px 12px 10px;margin:12px 0}
section.org{background:#fff;padding:4px 12px 10px;margin:12px 0;border-left:6px solid #90a4ae}
ul{padding-left:1.1em;margin:4px 0}li{margin:6px 0;overflow-wrap:anywhere}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.tag{display:inline-block;font-size:.8em;padding:0 6px;border-radius:4px;background:#eceff1}
.bad{background:#ffcdd2}.ok{background:#c8e6c9}.warn{background:#ffe0b2}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0}
dt{color:#555}dd{margin:0;overflow-wrap:anywhere}
";

/// `GET /`: the page, for every org the daemon serves.
pub(super) async fn page(State(api): State<Arc<Api>>) -> Response {
    match statuses(&api).await {
        Ok(orgs) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            render(&orgs, Utc::now()).into_string(),
        )
            .into_response(),
        Err(response) => response,
    }
}

/// One thing a person should look at.
enum Need<'a> {
    Finding(&'a FindingStatus),
    Held(&'a HeldAction),
    Breaker(&'a OrgStatus),
    RunFailed(&'a OrgStatus),
}

/// What needs a person in `org`: the last run's failure and the breaker first, then held
/// actions, then unacknowledged findings (oldest first).
fn needs(org: &OrgStatus) -> Vec<Need<'_>> {
    let mut needs = Vec::new();
    if org
        .last_run
        .as_ref()
        .is_some_and(|run| run.outcome == "failed")
    {
        needs.push(Need::RunFailed(org));
    }
    if org.breaker.open {
        needs.push(Need::Breaker(org));
    }
    needs.extend(org.held.iter().map(Need::Held));
    needs.extend(
        org.open_findings
            .iter()
            .filter(|f| f.ack.is_none())
            .map(Need::Finding),
    );
    needs
}

/// The page for `orgs` at `now`.
pub fn render(orgs: &[OrgStatus], now: DateTime<Utc>) -> Markup {
    let all: Vec<(&OrgStatus, Vec<Need>)> = orgs.iter().map(|o| (o, needs(o))).collect();
    let count: usize = all.iter().map(|(_, n)| n.len()).sum();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content=(REFRESH_SECONDS);
                title { "remediator: " (count) " need(s) you" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "remediator status" }
                p.meta { "As of " (time(now)) "; this page reloads every " (REFRESH_SECONDS) " s." }
                @if count == 0 {
                    section.calm id="needs-you" {
                        h2 { "Needs you: 0" }
                        p { "Nothing needs a person now." }
                    }
                } @else {
                    section.needs id="needs-you" {
                        h2 { "Needs you: " (count) }
                        @for (org, needs) in &all {
                            @if !needs.is_empty() {
                                h3 { "org " (org.org) }
                                ul {
                                    @for need in needs { li { (need_item(need, now)) } }
                                }
                            }
                        }
                    }
                }
                @for org in orgs { (org_section(org, now)) }
            }
        }
    }
}

fn need_item(need: &Need, now: DateTime<Utc>) -> Markup {
    match need {
        Need::RunFailed(org) => {
            let run = org
                .last_run
                .as_ref()
                .expect("RunFailed is only made with a last run");
            html! {
                span.tag.bad { "last run failed" } " "
                (run.error.as_deref().unwrap_or("the org could not be read"))
                " (" (ago(now, run.finished_at)) " ago)"
            }
        }
        Need::Breaker(org) => html! {
            span.tag.bad { "circuit breaker open" } " "
            @match org.breaker.open_until {
                Some(until) => { "until " (time(until)) " (in " (ago(until, now)) ")" }
                None => { "until a person closes it" }
            }
            "; " (org.breaker.recent_failures) " of the last " (org.breaker.recent_outcomes)
            " outcomes failed"
        },
        Need::Held(held) => html! {
            span.tag.warn { "held: " (held.why) } " "
            @if let Some(kind) = held.action_kind { (kind.as_str()) " " }
            "on " code { (held.target) } " "
            @match held.until {
                Some(until) => { "until " (time(until)) " (in " (ago(until, now)) ")" }
                None => { "until a person acts" }
            }
            @if !held.detail.is_empty() { br; span.meta { (held.detail) } }
            @if let (Some(id), "awaiting-approval") = (&held.action_id, held.why.as_str()) {
                br; "decide: " code { "remediator approve " (id) } " or "
                code { "remediator reject " (id) }
            }
        },
        Need::Finding(finding) => html! {
            span.tag.bad { "open finding" } " "
            code { (finding.id) } " " (finding.kind.as_str())
            " on " code { (finding.target.key()) }
            ", open " (ago(now, finding.opened_at))
            br; (finding.reason)
        },
    }
}

fn org_section(org: &OrgStatus, now: DateTime<Utc>) -> Markup {
    html! {
        section.org {
            h2 { "org " (org.org) }
            h3 { "Last run" }
            @match &org.last_run {
                None => p { "None yet." }
                Some(run) => dl {
                    dt { "when" }
                    dd { (time(run.finished_at)) " (" (ago(now, run.finished_at)) " ago)" }
                    dt { "trigger" } dd { (run.trigger) @if run.observe_only { " (observe-only)" } }
                    dt { "outcome" } dd {
                        span.tag.(outcome_class(&run.outcome)) { (run.outcome) }
                        @if let Some(error) = &run.error { " " (error) }
                    }
                    dt { "counts" } dd {
                        (run.counts.taken) " taken, " (run.counts.verified) " verified, "
                        (run.counts.failed) " failed, " (run.counts.held) " held, "
                        (run.counts.skipped) " skipped, " (run.counts.compensated) " compensated, "
                        (run.counts.findings) " finding(s)"
                    }
                    @if !run.incomplete.is_empty() {
                        dt { "not read" } dd { (run.incomplete.join(", ")) }
                    }
                    dt { "run" } dd { code { (run.run_id) } }
                }
            }
            h3 { "Next run" }
            @match org.next_run {
                Some(next) => p {
                    (time(next)) " (in " (ago(next, now)) "); a System Log event may bring one sooner."
                }
                None => p { "Unknown (no policy)." }
            }
            h3 { "Open findings: " (org.open_findings.len()) }
            @if !org.open_findings.is_empty() {
                ul {
                    @for f in &org.open_findings {
                        li {
                            code { (f.id) } " " (f.kind.as_str()) " on " code { (f.target.key()) }
                            ", open " (ago(now, f.opened_at))
                            @if let Some(ack) = &f.ack {
                                " " span.tag.ok { "acknowledged" } " by " (ack.by) " until "
                                (time(ack.until)) ": " (ack.reason)
                            }
                            br; (f.reason)
                        }
                    }
                }
            }
            h3 { "Circuit breaker" }
            p {
                @if org.breaker.open { span.tag.bad { "open" } } @else { span.tag.ok { "closed" } }
                " " (org.breaker.recent_failures) " of the last " (org.breaker.recent_outcomes)
                " outcomes failed"
            }
        }
    }
}

fn outcome_class(outcome: &str) -> &'static str {
    match outcome {
        "ok" => "ok",
        "partial" => "warn",
        _ => "bad",
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `later - earlier` in its two largest units: `45s`, `12m 5s`, `5h 3m`, `3d 4h`.
fn ago(later: DateTime<Utc>, earlier: DateTime<Utc>) -> String {
    let secs = (later - earlier).num_seconds().max(0);
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{FindingAck, RunCounts};
    use crate::status::{Breaker, LastRun};
    use crate::vocab::{ActionKind, FindingId, FindingKind, RunId, Target};

    const HOSTILE: &str = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>&amp;";

    fn hostile_status(now: DateTime<Utc>) -> OrgStatus {
        OrgStatus {
            org: format!("org{HOSTILE}"),
            now,
            last_run: Some(LastRun {
                run_id: RunId::new("run-1"),
                started_at: None,
                finished_at: now - chrono::Duration::minutes(3),
                trigger: "timer".to_owned(),
                observe_only: false,
                outcome: "failed".to_owned(),
                counts: RunCounts::default(),
                error: Some(format!("listing apps: {HOSTILE}")),
                incomplete: vec![HOSTILE.to_owned()],
            }),
            next_run: Some(now + chrono::Duration::hours(1)),
            open_findings: vec![
                FindingStatus {
                    id: FindingId::new("fnd-1"),
                    kind: FindingKind::KpasswdBlocked,
                    target: Target::app_user("0oa1", format!("00u{HOSTILE}").as_str()),
                    reason: format!("app label {HOSTILE} user login {HOSTILE}"),
                    opened_at: now - chrono::Duration::days(2),
                    changed_at: now,
                    age_seconds: 2 * 86_400,
                    ack: None,
                },
                FindingStatus {
                    id: FindingId::new("fnd-2"),
                    kind: FindingKind::KpasswdBlocked,
                    target: Target::app("0oa2"),
                    reason: "acked one".to_owned(),
                    opened_at: now,
                    changed_at: now,
                    age_seconds: 0,
                    ack: Some(FindingAck {
                        by: HOSTILE.to_owned(),
                        reason: HOSTILE.to_owned(),
                        at: now,
                        until: now + chrono::Duration::days(1),
                    }),
                },
            ],
            held: vec![HeldAction {
                why: format!("approval{HOSTILE}"),
                action_id: Some(crate::vocab::ActionId::new(format!("act{HOSTILE}"))),
                action_kind: Some(ActionKind::RetryProvisioning),
                target: format!("app={HOSTILE}"),
                until: None,
                detail: HOSTILE.to_owned(),
            }],
            breaker: Breaker {
                open: true,
                open_until: Some(now + chrono::Duration::minutes(30)),
                recent_failures: 3,
                recent_outcomes: 4,
            },
        }
    }

    #[test]
    fn everything_from_the_org_is_escaped() {
        let now = Utc::now();
        let page = render(&[hostile_status(now)], now).into_string();
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&quot;&gt;&lt;img src=x"), "{page}");
        assert!(page.contains("&lt;script&gt;alert("), "{page}");
        assert!(page.contains("&amp;amp;"), "escaped once more: {page}");
        // The only elements are the page's own.
        assert_eq!(page.matches("<style>").count(), 1);
    }

    #[test]
    fn needs_you_counts_failed_run_breaker_held_and_unacked_findings() {
        let now = Utc::now();
        let page = render(&[hostile_status(now)], now).into_string();
        // failed run + breaker + one held + one unacked finding (the acked one does not count).
        assert!(page.contains("Needs you: 4"), "{page}");
        assert!(page.contains("open 2d 0h"), "{page}");
        assert!(page.contains("until a person acts"), "{page}");
        assert!(page.contains("name=\"viewport\""), "{page}");
    }

    #[test]
    fn an_action_awaiting_approval_says_how_to_decide() {
        let now = Utc::now();
        let mut status = hostile_status(now);
        status.held[0].why = "awaiting-approval".to_owned();
        status.held[0].action_id = Some(crate::vocab::ActionId::new("act-0123456789abcdef"));
        let page = render(&[status], now).into_string();
        assert!(
            page.contains("remediator approve act-0123456789abcdef"),
            "{page}"
        );
        assert!(
            page.contains("remediator reject act-0123456789abcdef"),
            "{page}"
        );
    }

    #[test]
    fn a_calm_org_needs_no_one() {
        let now = Utc::now();
        let mut status = hostile_status(now);
        status.last_run = None;
        status.open_findings.clear();
        status.held.clear();
        status.breaker.open = false;
        let page = render(&[status], now).into_string();
        assert!(page.contains("Needs you: 0"), "{page}");
        assert!(page.contains("None yet."), "{page}");
    }
}
