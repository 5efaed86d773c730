//! Every broken fixture under tests/fixtures/policy/invalid gives its precise error: the file,
//! the line and column, the dotted field, and what was expected.

use remediator::policy::{Policy, PolicyError};

fn fixture_dir(case: &str) -> String {
    format!(
        "{}/tests/fixtures/policy/invalid/{case}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn errors_of(case: &str) -> Vec<PolicyError> {
    match Policy::load_dir(fixture_dir(case)) {
        Ok(_) => panic!("{case}: expected validation errors, got a policy"),
        Err(e) => e.errors().to_vec(),
    }
}

/// Asserts the only error of `case` is in `file` at `line` on `field`, and its message (with the
/// fixture directory removed) is `message`.
fn assert_single(case: &str, file: &str, line: usize, field: &str, message: &str) {
    let errors = errors_of(case);
    assert_eq!(errors.len(), 1, "{case}: {errors:#?}");
    let e = &errors[0];
    assert_eq!(
        e.file.file_name().and_then(|n| n.to_str()),
        Some(file),
        "{case}"
    );
    assert_eq!(e.position.map(|p| p.line), Some(line), "{case}");
    assert_eq!(e.field, field, "{case}");
    let prefix = format!("{}/", fixture_dir(case));
    assert_eq!(e.to_string().replace(&prefix, ""), message, "{case}");
}

#[test]
fn toml_syntax_error() {
    assert_single(
        "syntax",
        "retry.toml",
        3,
        "retry_provisioning.max_attempts",
        "retry.toml:3:1: retry_provisioning.max_attempts: invalid array; expected `]`",
    );
}

#[test]
fn unknown_key() {
    assert_single(
        "unknown-key",
        "retry.toml",
        4,
        "retry_provisioning.max_attempt",
        "retry.toml:4:1: retry_provisioning.max_attempt: unknown field `max_attempt`, expected one of \
         `apps`, `max_attempts`, `backoff`, `min_error_age`, `never_retry_errors`, `strategy`, \
         `retry_unknown_errors`, `approval`",
    );
}

#[test]
fn unknown_section() {
    let errors = errors_of("unknown-section");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    assert_eq!(e.position.map(|p| p.line), Some(2));
    assert_eq!(e.field, "retry");
    assert!(
        e.problem
            .starts_with("unknown field `retry`, expected one of `global`"),
        "{e}"
    );
    assert!(e.problem.contains("`retry_provisioning`"), "{e}");
}

#[test]
fn wrong_type() {
    assert_single(
        "wrong-type",
        "safety.toml",
        2,
        "safety.max_actions_per_run",
        "safety.toml:2:23: safety.max_actions_per_run: invalid type: string \"ten\", expected an integer",
    );
}

#[test]
fn out_of_range_value() {
    assert_single(
        "out-of-range",
        "retry.toml",
        4,
        "retry_provisioning.max_attempts",
        "retry.toml:4:16: retry_provisioning.max_attempts: expected an integer from 1 to 100, found 0",
    );
}

#[test]
fn cron_with_too_few_fields_is_refused() {
    assert_single(
        "bad-cron",
        "schedule.toml",
        2,
        "schedule.full_reconcile",
        "schedule.toml:2:18: schedule.full_reconcile: expected a cron expression with 6 or 7 fields \
         (sec min hour day-of-month month day-of-week [year]) or the classic 5 (min hour \
         day-of-month month day-of-week), found 4 fields in \"*/5 * * *\"",
    );
}

#[test]
fn cron_field_out_of_range() {
    assert_single(
        "bad-cron-value",
        "schedule.toml",
        2,
        "schedule.full_reconcile",
        "schedule.toml:2:18: schedule.full_reconcile: expected a valid cron expression, found \
         \"0 0 25 * * *\": Hours must be less than 23. ('25' specified.)",
    );
}

#[test]
fn bad_duration() {
    assert_single(
        "bad-duration",
        "kpasswd.toml",
        2,
        "kpasswd.window",
        "kpasswd.toml:2:10: kpasswd.window: expected a duration like \"30s\", \"15m\" or \"24h\", \
         found \"30 seconds please\"",
    );
}

#[test]
fn inline_secret_is_refused_without_echoing_it() {
    assert_single(
        "inline-secret",
        "push.toml",
        2,
        "remove_push_mappings.apps.Acme SCIM.credential",
        "push.toml:2:14: remove_push_mappings.apps.Acme SCIM.credential: expected { env = \"VAR\" } \
         or { file = \"/path\" }, found an inline value (credentials must never be written in \
         policy files; value not shown)",
    );
    let all = format!("{:?}", errors_of("inline-secret"));
    assert!(!all.contains("SECRET"), "{all}");
}

#[test]
fn secret_written_as_env_name_is_refused_without_echoing_it() {
    assert_single(
        "secret-as-env",
        "push.toml",
        2,
        "remove_push_mappings.apps.Acme SCIM.credential.env",
        "push.toml:2:14: remove_push_mappings.apps.Acme SCIM.credential.env: expected an environment \
         variable name (letters, digits, _), found something else (value not shown: it may be a secret)",
    );
    assert!(!format!("{:?}", errors_of("secret-as-env")).contains("SECRET"));
}

#[test]
fn unknown_credential_key_is_refused_without_echoing_its_value() {
    assert_single(
        "credential-unknown-key",
        "push.toml",
        3,
        "remove_push_mappings.apps.Slack.credential",
        "push.toml:3:14: remove_push_mappings.apps.Slack.credential: expected { env = \"VAR\" } or \
         { file = \"/path\" } (exactly one key), found keys [\"token\"] (values not shown)",
    );
    assert!(!format!("{:?}", errors_of("credential-unknown-key")).contains("SECRET"));
}

#[test]
fn section_defined_in_two_files_names_both() {
    assert_single(
        "duplicate-section",
        "b-more.toml",
        3,
        "retry_provisioning",
        "b-more.toml:3:1: retry_provisioning: expected each section in one file only, found \
         [retry_provisioning] also defined in a-retry.toml:1",
    );
}

#[test]
fn allow_and_deny_of_the_same_app_conflict() {
    assert_single(
        "allow-deny-conflict",
        "safety.toml",
        3,
        "safety.apps.deny",
        "safety.toml:3:9: safety.apps.deny: expected each entry in allow or deny, not both, found \
         \"acme scim\" in both",
    );
}

#[test]
fn unknown_mode() {
    assert_single(
        "unknown-mode",
        "safety.toml",
        5,
        "global.modes.force_sync",
        "safety.toml:5:14: global.modes.force_sync: expected one of report, dry-run, enforce, found \
         \"enforced\"",
    );
}

#[test]
fn admin_task_retry_needs_its_path() {
    assert_single(
        "admin-retry-without-path",
        "retry.toml",
        2,
        "retry_provisioning.strategy",
        "retry.toml:2:12: retry_provisioning.strategy: expected okta.admin.task_retry_path to be set \
         for \"admin-task-retry\" (the non-public call must be enabled explicitly), found it unset",
    );
}

#[test]
fn badly_shaped_attribute_is_located_at_its_element() {
    assert_single(
        "attribute-shape",
        "force-sync.toml",
        5,
        "force_sync.attributes",
        "force-sync.toml:5:3: force_sync.attributes: expected an attribute name or { app_user = \"...\", \
         okta = \"...\" } (non-empty strings), found a table with keys [\"app_user\", \"phone\"]",
    );
}

#[test]
fn badly_shaped_expected_value_is_located_at_its_element() {
    assert_single(
        "expected-shape",
        "force-sync.toml",
        4,
        "force_sync.expected",
        "force-sync.toml:4:3: force_sync.expected: expected { user = \"login or id\", attribute = \"...\", \
         value = <string, number or bool> }, found a table with keys [\"attribute\", \"user\"]",
    );
}

#[test]
fn wrong_type_inside_a_multiline_array_names_the_array() {
    assert_single(
        "wrong-type-in-array",
        "kpasswd.toml",
        4,
        "kpasswd.domain_controllers",
        "kpasswd.toml:4:3: kpasswd.domain_controllers: invalid type: integer `464`, expected a string",
    );
}

#[test]
fn push_mapping_app_without_credential() {
    assert_single(
        "missing-credential",
        "push.toml",
        3,
        "remove_push_mappings.apps.Acme SCIM.credential",
        "push.toml:3:1: remove_push_mappings.apps.Acme SCIM.credential: expected { env = \"VAR\" } \
         or { file = \"/path\" }, found no credential",
    );
}

#[test]
fn app_named_twice_by_label_case() {
    assert_single(
        "app-named-twice",
        "features.toml",
        4,
        "provisioning_features.apps.slack",
        "features.toml:4:1: provisioning_features.apps.slack: expected each app once, found \"slack\" \
         also named as \"Slack\"",
    );
}

#[test]
fn kpasswd_max_gap_below_window() {
    assert_single(
        "max-gap-below-window",
        "kpasswd.toml",
        3,
        "kpasswd.max_gap",
        "kpasswd.toml:3:11: kpasswd.max_gap: expected a duration from 40s to 10m, found \"35s\"",
    );
}

#[test]
fn errors_are_collected_across_files() {
    let prefix = format!("{}/", fixture_dir("many-errors"));
    let got: Vec<String> = errors_of("many-errors")
        .iter()
        .map(|e| e.to_string().replace(&prefix, ""))
        .collect();
    assert_eq!(
        got,
        [
            "safety.toml:2:24: safety.max_actions_per_hour: expected an integer from 0 to 10000, found -1",
            "safety.toml:5:17: safety.circuit_breaker.failure_ratio: expected a number greater than 0 \
             and at most 1, found 1.5",
            "schedule.toml:2:16: schedule.log_lookback: expected a duration from 1m to 90d, found \"91d\"",
        ]
    );
}

#[test]
fn every_fixture_is_covered_by_a_test() {
    let covered = [
        "syntax",
        "unknown-key",
        "wrong-type",
        "out-of-range",
        "bad-cron",
        "bad-duration",
        "inline-secret",
        "secret-as-env",
        "credential-unknown-key",
        "duplicate-section",
        "allow-deny-conflict",
        "unknown-mode",
        "admin-retry-without-path",
        "many-errors",
        "attribute-shape",
        "expected-shape",
        "wrong-type-in-array",
        "missing-credential",
        "app-named-twice",
        "bad-cron-value",
        "max-gap-below-window",
        "unknown-section",
    ];
    let dir = format!(
        "{}/tests/fixtures/policy/invalid",
        env!("CARGO_MANIFEST_DIR")
    );
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            covered.contains(&name.as_str()),
            "fixture {name} has no test"
        );
    }
}

#[test]
fn missing_or_empty_directory_is_an_error() {
    let empty = tempfile::tempdir().unwrap();
    let err = Policy::load_dir(empty.path()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("expected at least one *.toml policy file, found none"),
        "{err}"
    );
    let err = Policy::load_dir(empty.path().join("nope")).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected a readable policy directory"),
        "{err}"
    );
}
