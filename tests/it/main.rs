//! The integration tests: one binary, a module per area (its name says which: `act_`, `cli_`,
//! `client_`, `config_`, `daemon_`, `docs_`, `journal_`, `observe_`, `plan_`, `policy_`), shared
//! set-up in `support`.
//! Benchmarks are `#[ignore]`d tests that print figures (BENCHMARKS.md).

mod support;

mod act_sim;
mod cli_apply;
mod cli_config;
mod cli_demo;
mod cli_exit;
mod cli_findings;
mod cli_help;
mod cli_identity;
mod cli_incomplete;
mod cli_journal;
mod cli_output;
mod cli_policy;
mod cli_policy_hostile;
mod cli_push_sweep;
mod cli_selectors;
mod cli_unreadable;
mod cli_untrusted;
mod client_auth;
mod client_config;
mod client_corpus;
mod client_fuzz_corpus;
mod client_hostile;
mod client_http;
mod client_secrets;
mod client_sim;
mod client_urls;
mod config_shared;
mod daemon_api;
mod daemon_cli;
mod daemon_config;
mod daemon_hooks;
mod daemon_incremental;
mod daemon_incremental_bench;
mod daemon_leader_check;
mod daemon_observer;
mod daemon_recovery;
mod daemon_syslog;
mod docs_names;
mod journal_bench;
mod journal_crash;
mod journal_store;
mod observe_app_kinds;
mod observe_bench;
mod observe_profiles;
mod observe_sim;
mod plan_bench;
mod plan_directory;
mod plan_features;
mod plan_golden;
mod plan_incomplete;
mod plan_props;
mod plan_push_mappings;
mod plan_render;
mod plan_retry;
mod plan_safety;
mod plan_selectors;
mod policy_defaults;
mod policy_fuzz;
mod policy_invalid;
mod policy_props;
mod policy_shipped;
