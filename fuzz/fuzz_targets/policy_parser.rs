//! Fuzz target `policy_parser`: the policy parser and validator on any input. Each input is
//! read twice: as policy text itself (split into up to four files at NUL bytes), and as the
//! choices of a generator that writes policy-shaped TOML (known sections, keys and hostile
//! values), which reaches validation far more often than random text does. For each, loading
//! must not panic; a valid policy must keep every documented bound; an invalid one must give
//! located, bounded error lines that no input can break into extra lines.
//!
//! Built by `cargo +nightly fuzz run policy_parser` (cfg `fuzzing`); without it, the same
//! `check` is a plain function that `cargo test` calls over the corpus, the regressions and a
//! bounded run of seeded random inputs (tests/it/policy_fuzz.rs).
#![cfg_attr(fuzzing, no_main)]

use arbitrary::Unstructured;
use remediator::config::{check_org_path, MAX_FIELD_CHARS, MAX_PROBLEM_CHARS, MAX_SHOWN};
use remediator::policy::{defaults, Policy, PolicyErrors, Selector};

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    check(data);
});

/// Most files one input is split into.
const MAX_FILES: usize = 4;
/// Deepest array or inline table the generator writes.
const MAX_DEPTH: u32 = 3;

/// The apps selectors are resolved against: two share a label.
const APPS: [(&str, &str); 3] = [("0oa1", "Slack"), ("0oa2", "slack"), ("0oa3", "Acme SCIM")];

/// Runs one input both ways; panics when a property does not hold. Returns how many of the
/// two readings were valid policies (how deep the input reached).
pub fn check(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    let mut valid = usize::from(check_files(&split(&text)));
    if let Ok(generated) = generate(&mut Unstructured::new(data)) {
        valid += usize::from(check_files(&split(&generated)));
    }
    valid
}

/// The input as policy files `0.toml`, `1.toml`, ... split at NUL bytes.
fn split(text: &str) -> Vec<(String, String)> {
    text.splitn(MAX_FILES, '\0')
        .enumerate()
        .map(|(i, t)| (format!("{i}.toml"), t.to_owned()))
        .collect()
}

/// Whether the files made a valid policy, after checking its properties.
fn check_files(files: &[(String, String)]) -> bool {
    match Policy::load_sources(files) {
        Ok(policy) => {
            check_policy(&policy);
            true
        }
        Err(errors) => {
            check_errors(files, &errors);
            false
        }
    }
}

/// Every bound docs/policy.md promises of a valid policy.
fn check_policy(p: &Policy) {
    let s = &p.safety;
    assert!(s.max_actions_per_run <= defaults::MAX_ACTIONS_LIMIT);
    assert!(s.max_actions_per_hour <= defaults::MAX_ACTIONS_LIMIT);
    for (kind, n) in &s.max_actions_per_kind_per_run {
        assert!(*n <= s.max_actions_per_run, "{kind}: {n}");
    }
    let b = &s.circuit_breaker;
    assert!(b.min_actions >= 1 && b.min_actions <= b.window);
    assert!(b.failure_ratio > 0.0 && b.failure_ratio <= 1.0);
    let r = &p.retry_provisioning;
    assert!((1..=defaults::MAX_ATTEMPTS_LIMIT).contains(&r.max_attempts));
    assert!(r.backoff.initial <= r.backoff.max);
    assert!((1.0..=defaults::MAX_BACKOFF_MULTIPLIER).contains(&r.backoff.multiplier));
    assert!(p.force_sync.verify_poll_interval <= p.force_sync.verify_timeout);
    assert!(p.kpasswd.window <= p.kpasswd.max_gap);
    assert!(p.kpasswd.domain_controllers.iter().all(|d| d.port != 0));
    assert!(
        p.schedule
            .full_reconcile
            .upcoming(chrono::Utc)
            .next()
            .is_some(),
        "a schedule that never fires: {}",
        p.schedule.full_reconcile_expr
    );
    for path in [&p.admin.force_sync_path, &p.admin.task_retry_path]
        .into_iter()
        .flatten()
    {
        assert_eq!(check_org_path(path.as_str()), Ok(()), "{path:?}");
        assert!(path.as_str().contains("{appId}"));
    }
    for selector in [
        &p.safety.apps.allow,
        &p.safety.directories.allow,
        &p.retry_provisioning.apps,
        &p.force_sync.directories,
        &p.kpasswd.directories,
        &p.provisioning_credentials.apps,
    ] {
        if let Selector::Only(entries) = selector {
            assert!(entries.iter().all(|e| !e.trim().is_empty() && e != "*"));
        }
    }
    for key in p.remove_push_mappings.apps.iter().map(|a| &a.app) {
        assert!(key != "*" && !key.trim().is_empty(), "{key:?}");
    }
    for note in &p.notes {
        assert!(!note.contains(['\n', '\r']), "{note:?}");
    }
    let resolved = p.resolve_selectors(APPS, true);
    for w in &resolved.warnings {
        assert!(
            w.matched.len() != 1 || w.message.contains("same app"),
            "{w:?}"
        );
        assert!(w.applied.iter().all(|id| w.matched.contains(id)), "{w:?}");
    }
}

/// Errors name one of the files, sit inside it, and show as one bounded line each (at most
/// [`MAX_SHOWN`] of them, then one counting the rest).
fn check_errors(files: &[(String, String)], errors: &PolicyErrors) {
    assert!(!errors.errors().is_empty());
    for e in errors.errors() {
        let file = files
            .iter()
            .find(|(name, _)| std::path::Path::new(name) == e.file)
            .unwrap_or_else(|| panic!("an error names no input file: {e:?}"));
        if let Some(at) = e.position {
            assert!(at.line >= 1 && at.column >= 1, "{e:?}");
            assert!(at.line <= file.1.split('\n').count(), "{e:?}");
        }
    }
    let shown = errors.to_string();
    let lines: Vec<&str> = shown.split('\n').collect();
    // One line per error shown, one more counting the rest: nothing from the file adds lines.
    let count = errors.errors().len();
    let expected = count.min(MAX_SHOWN) + usize::from(count > MAX_SHOWN);
    assert_eq!(lines.len(), expected, "{shown}");
    // A control character escapes to at most 10 characters (`\u{10ffff}`-like).
    let longest = "9.toml:999999:999999: ".len() + 10 * (MAX_FIELD_CHARS + MAX_PROBLEM_CHARS) + 8;
    for line in lines {
        assert!(
            line.chars().count() <= longest,
            "{} chars",
            line.chars().count()
        );
        assert!(!line.contains('\r'), "a carriage return in {line:?}");
    }
}

/// What a key holds, so that the generator writes values of the right shape most of the time
/// (and of any other shape sometimes).
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Number,
    Bool,
    Duration,
    Cron,
    Mode,
    Path,
    Selector,
    Patterns,
    Strategy,
    Action,
    Hosts,
    Credential,
    Attributes,
    Expected,
}

use Kind::*;

/// The sections the generator writes, each with its keys.
const SECTIONS: &[(&str, &[(&str, Kind)])] = &[
    ("global", &[("default_mode", Mode)]),
    (
        "global.modes",
        &[
            ("retry_provisioning", Mode),
            ("force_sync", Mode),
            ("remove_push_mappings", Mode),
            ("provisioning_features", Mode),
            ("kpasswd", Mode),
            ("provisioning_credentials", Mode),
            ("retry", Mode),
        ],
    ),
    (
        "safety",
        &[
            ("max_actions_per_run", Int),
            ("max_actions_per_hour", Int),
            ("cooldown", Duration),
        ],
    ),
    (
        "safety.max_actions_per_kind_per_run",
        &[
            ("retry_provisioning", Int),
            ("force_sync", Int),
            ("remove_push_mappings", Int),
            ("kpasswd", Int),
        ],
    ),
    (
        "safety.circuit_breaker",
        &[
            ("window", Int),
            ("failure_ratio", Number),
            ("min_actions", Int),
            ("open_for", Duration),
        ],
    ),
    ("safety.apps", &[("allow", Selector), ("deny", Selector)]),
    (
        "safety.directories",
        &[("allow", Selector), ("deny", Selector)],
    ),
    (
        "schedule",
        &[
            ("full_reconcile", Cron),
            ("log_poll_interval", Duration),
            ("log_lookback", Duration),
        ],
    ),
    (
        "okta.admin",
        &[("force_sync_path", Path), ("task_retry_path", Path)],
    ),
    (
        "retry_provisioning",
        &[
            ("apps", Selector),
            ("max_attempts", Int),
            ("min_error_age", Duration),
            ("never_retry_errors", Patterns),
            ("strategy", Strategy),
            ("retry_unknown_errors", Bool),
        ],
    ),
    (
        "retry_provisioning.backoff",
        &[
            ("initial", Duration),
            ("multiplier", Number),
            ("max", Duration),
        ],
    ),
    (
        "force_sync",
        &[
            ("directories", Selector),
            ("attributes", Attributes),
            ("verify_timeout", Duration),
            ("verify_poll_interval", Duration),
            ("use_admin_path", Bool),
            ("expected", Expected),
        ],
    ),
    (
        "remove_push_mappings.apps.Slack",
        &[("credential", Credential), ("delete_target_groups", Bool)],
    ),
    (
        "remove_push_mappings.apps.\"0oa3\"",
        &[("credential", Credential), ("delete_target_groups", Bool)],
    ),
    (
        "remove_push_mappings.apps.\"*\"",
        &[("credential", Credential)],
    ),
    ("provisioning_features", &[("action", Action)]),
    (
        "provisioning_features.apps.slack",
        &[
            ("create_users", Bool),
            ("update_attributes", Bool),
            ("deactivate_users", Bool),
            ("action", Action),
        ],
    ),
    (
        "provisioning_features.apps.\"Acme SCIM\"",
        &[("create_users", Bool), ("action", Action)],
    ),
    (
        "kpasswd",
        &[
            ("directories", Selector),
            ("window", Duration),
            ("max_gap", Duration),
            ("domain_controllers", Hosts),
            ("probe_timeout", Duration),
            ("retry_after_probe_passes", Bool),
        ],
    ),
    (
        "provisioning_credentials",
        &[("apps", Selector), ("error_patterns", Patterns)],
    ),
];

/// Strings of each kind: valid ones and the hostile ones policy must refuse.
fn strings(kind: Kind) -> &'static [&'static str] {
    match kind {
        Duration => &[
            "30s",
            "0s",
            "1s",
            "10s",
            "15m",
            "1h",
            "24h",
            "7d",
            "8d",
            "90d",
            "91d",
            "1h 30m",
            "-1s",
            "100ms",
            "99999999999999999999d",
            "soon",
        ],
        Cron => &[
            "0 0 */6 * * *",
            "*/5 * * * *",
            "0 0 0 30 2 *",
            "0 0 0 1 1 * 2020",
            "0 0 0 1 1 * 2099",
            "* * * *",
            "0 0 25 * * *",
            "0 30 2 * * Mon-Fri 2027-2099",
        ],
        Mode => &["report", "dry-run", "enforce", "Enforce", ""],
        Path => &[
            "/api/v1/internal/apps/{appId}/tasks/retry",
            "/a/{appId}/{userId}",
            "//127.0.0.1:27199/{appId}",
            "https://evil/x",
            "/api/../../x",
            "/{appId}/@evil",
            "/\\evil/{appId}",
            "/%2e%2e/{appId}",
            "/{appId}/{other}",
            "/no/placeholder",
            "/{appId}#frag",
            "/{appId} x",
        ],
        Selector => &[
            "*",
            "Slack",
            "slack",
            "Acme SCIM",
            "0oa1",
            "0oa9",
            "Slakc",
            "",
            " ",
        ],
        Patterns => &["seat limit", "Invalid Credentials", "", "401"],
        Strategy => &["repush", "admin-task-retry", "retry"],
        Action => &["fix", "report", "both"],
        Hosts => &[
            "dc1.corp.example.com",
            "dc1:464",
            "[::1]:464",
            "dc1:0",
            "a b",
            "h:1:2",
        ],
        _ => &[
            "x",
            "line\nbreak",
            "bell\u{7}",
            "carriage\rreturn",
            "VAR",
            "1VAR",
            "/run/secrets/t",
        ],
    }
}

/// Policy files (joined by NUL, as [`split`] reads them) chosen by `u`: sections with their
/// own keys and values of the right kind, with a mistake now and then.
fn generate(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    let mut out = String::new();
    let files = u.int_in_range(1..=3)?;
    for file in 0..files {
        if file > 0 {
            out.push('\0');
        }
        let mut used = Vec::new();
        for _ in 0..u.int_in_range(0..=6)? {
            let index = u.choose_index(SECTIONS.len())?;
            if used.contains(&index) && !u.ratio(1, 20)? {
                continue;
            }
            used.push(index);
            section(u, &mut out, SECTIONS[index])?;
        }
    }
    Ok(out)
}

fn section(
    u: &mut Unstructured<'_>,
    out: &mut String,
    (name, keys): (&str, &[(&str, Kind)]),
) -> arbitrary::Result<()> {
    out.push_str(&format!("[{name}]"));
    end_line(u, out)?;
    let mut used = Vec::new();
    for _ in 0..u.int_in_range(0..=keys.len() as u32)? {
        let index = u.choose_index(keys.len())?;
        if used.contains(&index) {
            continue;
        }
        used.push(index);
        let (key, kind) = keys[index];
        match u.int_in_range(0..=99)? {
            0 => out.push_str(u.arbitrary::<&str>()?),
            1 => out.push_str(&format!("colour = {}", kind_value(u, kind)?)),
            2..=6 => {
                out.push_str(key);
                out.push_str(" = ");
                any_value(u, out, 0)?;
            }
            _ => out.push_str(&format!("{key} = {}", kind_value(u, kind)?)),
        }
        end_line(u, out)?;
    }
    Ok(())
}

fn end_line(u: &mut Unstructured<'_>, out: &mut String) -> arbitrary::Result<()> {
    out.push_str(match u.int_in_range(0..=199)? {
        0 => "\r",
        1..=4 => "\r\n",
        _ => "\n",
    });
    Ok(())
}

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn pick(u: &mut Unstructured<'_>, kind: Kind) -> arbitrary::Result<String> {
    Ok(quoted(u.choose(strings(kind))?))
}

fn list(u: &mut Unstructured<'_>, kind: Kind) -> arbitrary::Result<String> {
    let mut items = Vec::new();
    for _ in 0..u.int_in_range(0..=4)? {
        items.push(pick(u, kind)?);
    }
    Ok(format!("[{}]", items.join(", ")))
}

/// A value of the shape `kind` wants, from the pools.
fn kind_value(u: &mut Unstructured<'_>, kind: Kind) -> arbitrary::Result<String> {
    const INTS: [i64; 12] = [0, 1, 2, 5, 20, 25, 100, 1_000, 10_000, 10_001, -1, i64::MAX];
    const NUMBERS: [&str; 10] = [
        "0.0", "0.001", "0.5", "1.0", "1.5", "2.0", "10.0", "11.0", "nan", "inf",
    ];
    Ok(match kind {
        Int => u.choose(&INTS)?.to_string(),
        Number => u.choose(&NUMBERS)?.to_string(),
        Bool => u.choose(&["true", "false"])?.to_string(),
        Selector | Patterns | Hosts => list(u, kind)?,
        Credential => match u.int_in_range(0..=5)? {
            0 => format!("{{ env = {} }}", pick(u, Credential)?),
            1 => format!("{{ file = {} }}", pick(u, Credential)?),
            2 => pick(u, Credential)?,
            3 => "{}".to_owned(),
            4 => "{ env = \"A\", file = \"/b\" }".to_owned(),
            _ => "{ env = \"PARTNER_ORG_TOKEN\" }".to_owned(),
        },
        Attributes => u
            .choose(&[
                "[\"title\", \"department\"]",
                "[{ app_user = \"telephoneNumber\", okta = \"primaryPhone\" }]",
                "[3]",
                "[\"\"]",
                "[{ app_user = \"a\" }]",
            ])?
            .to_string(),
        Expected => u
            .choose(&[
                "[{ user = \"bob@example.com\", attribute = \"title\", value = \"Staff\" }]",
                "[{ user = \"u\", attribute = \"a\", value = 3 }]",
                "[{ user = \"u\", attribute = \"a\", value = [1] }]",
                "[{ user = \"\" }]",
            ])?
            .to_string(),
        _ => pick(u, kind)?,
    })
}

/// A value of any shape chosen by `u`, written to `out`.
fn any_value(u: &mut Unstructured<'_>, out: &mut String, depth: u32) -> arbitrary::Result<()> {
    let nested = depth < MAX_DEPTH;
    match u.int_in_range(0..=7)? {
        0 => out.push_str(&u.arbitrary::<i64>()?.to_string()),
        1 => out.push_str(&u.arbitrary::<f64>()?.to_string()),
        2 => out.push_str(u.choose(&["true", "1979-05-27T07:32:00Z", "1979-05-27", "07:32:00"])?),
        3 => out.push_str(&quoted(u.arbitrary::<&str>()?)),
        4 if nested => {
            out.push('[');
            for i in 0..u.int_in_range(0..=4)? {
                if i > 0 {
                    out.push_str(", ");
                }
                any_value(u, out, depth + 1)?;
            }
            out.push(']');
        }
        5 if nested => {
            out.push('{');
            for i in 0..u.int_in_range(0..=3)? {
                if i > 0 {
                    out.push_str(", ");
                }
                let key = *u.choose(&[
                    "env",
                    "file",
                    "user",
                    "attribute",
                    "value",
                    "app_user",
                    "okta",
                ])?;
                out.push_str(&format!("{key}{i} = "));
                any_value(u, out, depth + 1)?;
            }
            out.push('}');
        }
        _ => out.push_str(&pick(u, Kind::Selector)?),
    }
    Ok(())
}

/// Without libFuzzer: checks each file named on the command line (a crash to reproduce).
#[cfg(not(any(fuzzing, test)))]
fn main() {
    for path in std::env::args_os().skip(1) {
        let data = std::fs::read(&path).expect("readable input");
        let valid = check(&data);
        println!(
            "{}: ok ({valid} valid)",
            std::path::Path::new(&path).display()
        );
    }
}
