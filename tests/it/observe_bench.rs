//! Benchmark (ignored by default; prints figures, asserts no timings): observe and plan the
//! generated large org (100k users, 2k apps, 200k assignments, 1% in error) served by okta-sim.
//!
//! `cargo test --release --test it observe_bench -- --ignored --nocapture`
//! Set `BENCH_SIM_URL=http://127.0.0.1:PORT` to observe an okta-sim running in another process
//! (`okta-sim --generate --users 100000 --apps 2000 --assignments 200000 --error-ratio 0.01
//! --seed 1 --no-rate-limits --listen 127.0.0.1:PORT`): the peak RSS printed is then the
//! observer's own.
//! Set `BENCH_RATE_LIMITS=default` to keep okta-sim's default (Okta Workforce) rate limits: the
//! observation then takes as long as the `/api/v1/apps*` bucket allows (about 40 minutes at 50%
//! headroom); by default every bucket allows 1,000,000 requests a minute, so the run measures requests and CPU.

use std::time::Instant;

use crate::support::sim::{client, client_at, peak_rss_mb, serve};
use chrono::Utc;
use okta_sim::{generate, GenerateSpec, GENERATED_API_TOKEN};
use remediator::journal::JournalView;
use remediator::observe::{observe, LogStart};
use remediator::okta::ClientTuning;
use remediator::plan::plan;
use remediator::policy::Policy;

/// Pages a full observation cannot do without: every page of apps, of each active app's users
/// and of the System Log window.
fn minimum_pages(scenario: &okta_sim::Scenario) -> u64 {
    let ceil = |n: usize, page: usize| n.div_ceil(page).max(1) as u64;
    let apps = ceil(scenario.apps.len(), 200);
    let app_users: u64 = scenario.apps.iter().map(|a| ceil(a.users.len(), 500)).sum();
    let events = ceil(
        scenario.events.len() + scenario.apps.iter().map(|a| a.users.len()).sum::<usize>() / 100,
        1000,
    );
    apps + app_users + events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn observe_and_plan_the_generated_large_org() {
    let started = Instant::now();
    let mut scenario = generate(GenerateSpec {
        users: 100_000,
        apps: 2_000,
        assignments: 200_000,
        error_ratio: 0.01,
        seed: 1,
    });
    let default_limits = std::env::var("BENCH_RATE_LIMITS").as_deref() == Ok("default");
    if !default_limits {
        // Raise every bucket, so the run measures requests and CPU rather than the limits.
        scenario.rate_limits.set_every_bucket(1_000_000);
    }
    let minimum = minimum_pages(&scenario);
    println!("generated in {:.1?}", started.elapsed());
    let sim = serve(scenario).await;
    println!(
        "peak RSS after start (simulator in this process): {:.0} MB",
        peak_rss_mb()
    );

    let api = client(&sim, GENERATED_API_TOKEN, ClientTuning::default());
    let policy = Policy::default_embedded();
    let now = Utc::now();
    let started = Instant::now();
    let observation = observe(
        &api,
        sim.base_url(),
        &policy,
        LogStart::Since(now - chrono::Duration::days(1)),
        now,
    )
    .await
    .expect("the org is readable");
    let observe_wall = started.elapsed();
    let stats = sim.stats();
    let snapshot = &observation.snapshot;
    println!(
        "observe: {observe_wall:.1?} wall, {} requests served ({} by the client's count), minimum pages {minimum}, ratio {:.3}",
        stats.total,
        observation.requests,
        stats.total as f64 / minimum as f64
    );
    for (endpoint, counts) in &stats.endpoints {
        println!("  {endpoint}: {}", counts.count);
    }
    println!(
        "  429s: {}; peak use of one window per bucket: {:?}",
        stats.rate_limited, stats.peak_window_use
    );
    println!(
        "snapshot: {} apps, {} failed assignments, {} events, complete: {}",
        snapshot.apps.value.len(),
        snapshot.failed_assignments.value.len(),
        snapshot.events.value.len(),
        snapshot.is_complete()
    );
    let view = JournalView::empty(now);
    let cpu_started = cpu_time();
    let started = Instant::now();
    let plan = plan(&policy, snapshot, &view, now);
    println!(
        "plan: {:.1?} wall, {:.3} s CPU, {} actions, {} findings, {} skipped",
        started.elapsed(),
        cpu_time() - cpu_started,
        plan.actions.len(),
        plan.findings.len(),
        plan.skipped.len()
    );
    println!(
        "peak RSS (simulator and observer in one process): {:.0} MB",
        peak_rss_mb()
    );
    assert!(!snapshot.failed_assignments.value.is_empty());
}

/// CPU seconds this process has used (user + system), from /proc/self/stat.
fn cpu_time() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command name: state is field 0, utime is 11, stime is 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// Observes an okta-sim serving the generated org in another process (`BENCH_SIM_URL`), so the
/// peak RSS printed is the observer's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: needs BENCH_SIM_URL; run with --ignored --nocapture"]
async fn observe_a_generated_org_in_another_process() {
    let Ok(base) = std::env::var("BENCH_SIM_URL") else {
        panic!("set BENCH_SIM_URL to the okta-sim serving the generated org");
    };
    let api = client_at(&base, GENERATED_API_TOKEN, ClientTuning::default());
    let http = reqwest::Client::new();
    let reset = http.post(format!("{base}/__sim/stats/reset")).send().await;
    assert!(
        reset.is_ok_and(|r| r.status().is_success()),
        "okta-sim control routes"
    );
    let policy = Policy::default_embedded();
    let now = Utc::now();
    let started = Instant::now();
    let observation = observe(
        &api,
        &base,
        &policy,
        LogStart::Since(now - chrono::Duration::days(1)),
        now,
    )
    .await
    .expect("the org is readable");
    let wall = started.elapsed();
    let stats: okta_sim::StatsSnapshot = http
        .get(format!("{base}/__sim/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON");
    println!(
        "observe: {wall:.1?} wall, {} requests served, {} failed assignments, complete: {}",
        stats.total,
        observation.snapshot.failed_assignments.value.len(),
        observation.snapshot.is_complete()
    );
    println!("peak RSS of the observing process: {:.0} MB", peak_rss_mb());
}
