//! okta-sim: serves an Okta-compatible simulated org from a scenario file (or a generated one).

use clap::Parser;
use okta_sim::{generate, generate_push_org, GenerateSpec, PushOrgSpec, Scenario, Sim};

/// An Okta-compatible simulated org over HTTP.
#[derive(Debug, Parser)]
#[command(name = "okta-sim", version)]
struct Args {
    /// Scenario file (TOML, or JSON by its .json extension). Required unless --generate is given.
    #[arg(long, required_unless_present_any = ["generate", "push_org"])]
    scenario: Option<std::path::PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8089")]
    listen: String,
    /// Serve a generated org instead of a scenario file.
    #[arg(long)]
    generate: bool,
    /// Serve the Group Push benchmark's generated org: --apps apps (a realistic mix of
    /// integrations), --orphaned of them with provisioning disabled and an ACTIVE mapping.
    #[arg(long, conflicts_with = "generate")]
    push_org: bool,
    /// Orphaned apps of --push-org (at most one per 20 apps).
    #[arg(long, default_value_t = 3)]
    orphaned: usize,
    /// Generated users.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Generated apps.
    #[arg(long, default_value_t = 20)]
    apps: usize,
    /// Generated assignments.
    #[arg(long, default_value_t = 2000)]
    assignments: usize,
    /// Share of generated assignments in ERROR.
    #[arg(long, default_value_t = 0.01)]
    error_ratio: f64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Enforce no rate limit (the headers still come, always with the bucket full).
    #[arg(long)]
    no_rate_limits: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Every request served is logged at info (target okta_sim::request); RUST_LOG overrides.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let scenario = match (&args.scenario, args.generate) {
        _ if args.push_org => generate_push_org(PushOrgSpec {
            apps: args.apps,
            orphaned: args.orphaned,
        }),
        (_, true) => generate(GenerateSpec {
            users: args.users,
            apps: args.apps,
            assignments: args.assignments,
            error_ratio: args.error_ratio,
            seed: args.seed,
        }),
        (Some(path), false) => Scenario::from_file(path)?,
        (None, false) => anyhow::bail!("--scenario FILE or --generate is required"),
    };
    let mut scenario = scenario;
    if args.no_rate_limits {
        scenario.rate_limits.enabled = false;
    }
    let handle = Sim::start(scenario, &args.listen).await?;
    println!("okta-sim listening on {}", handle.base_url());
    tokio::signal::ctrl_c().await?;
    handle.shutdown().await;
    Ok(())
}
