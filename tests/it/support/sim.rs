//! okta-sim on loopback and an Okta client pointed at it: the set-up the client, observe, daemon
//! and executor tests share, and the control calls they make (faults, a whole app listing).

use okta_sim::{FaultKind, FaultRule, Scenario, Sim, SimHandle};
use remediator::okta::{
    AdminPaths, ApiError, AuthConfig, ClientTuning, OktaClient, OktaConfig, OrgApi, PageRequest,
};
use secrecy::SecretString;

/// The shipped scenario `tests/scenarios/NAME.toml`.
pub fn scenario(name: &str) -> Scenario {
    let path = format!("tests/scenarios/{name}.toml");
    Scenario::from_toml_file(&path).expect("a shipped scenario loads")
}

/// `scenario` served on a free loopback port.
pub async fn serve(scenario: Scenario) -> SimHandle {
    Sim::start(scenario, "127.0.0.1:0")
        .await
        .expect("okta-sim starts on loopback")
}

/// The shipped scenario `NAME` served, and its first API token.
pub async fn serve_shipped(name: &str) -> (SimHandle, String) {
    let scenario = scenario(name);
    let token = scenario.org.api_tokens[0].clone();
    (serve(scenario).await, token)
}

/// The healthy scenario served; its first API token is `test-token-healthy`.
pub async fn healthy() -> SimHandle {
    serve(scenario("healthy")).await
}

pub fn ssws(token: &str) -> AuthConfig {
    AuthConfig::Ssws {
        token: SecretString::from(token.to_owned()),
    }
}

/// Settings for the org at `url` (no admin paths).
pub fn config_at(url: &str, auth: AuthConfig, tuning: ClientTuning) -> OktaConfig {
    OktaConfig {
        org_url: url::Url::parse(url).expect("the org URL is a URL"),
        auth,
        tuning,
        admin: AdminPaths::default(),
    }
}

/// Settings for the org `sim` serves.
pub fn config(sim: &SimHandle, auth: AuthConfig, tuning: ClientTuning) -> OktaConfig {
    config_at(sim.base_url(), auth, tuning)
}

/// A client of the org `sim` serves, with an API token.
pub fn client(sim: &SimHandle, token: &str, tuning: ClientTuning) -> OktaClient {
    OktaClient::new(config(sim, ssws(token), tuning)).expect("the client's settings are valid")
}

/// A client of the org at `url`, with an API token.
pub fn client_at(url: &str, token: &str, tuning: ClientTuning) -> OktaClient {
    OktaClient::new(config_at(url, ssws(token), tuning)).expect("the client's settings are valid")
}

/// Injects `kind` into the next `count` GETs under `path_prefix`, after `after` of them pass.
pub async fn fault(sim: &SimHandle, path_prefix: &str, kind: FaultKind, count: u64, after: u64) {
    let rule = FaultRule {
        path_prefix: Some(path_prefix.into()),
        method: Some("GET".into()),
        kind,
        count: Some(count),
        after,
    };
    add_fault(sim, &rule).await;
}

/// Adds `rule` through okta-sim's control route.
pub async fn add_fault(sim: &SimHandle, rule: &FaultRule) {
    let response = reqwest::Client::new()
        .post(format!("{}/__sim/faults", sim.base_url()))
        .json(rule)
        .send()
        .await
        .expect("control call");
    assert_eq!(response.status(), 201);
}

pub async fn clear_faults(sim: &SimHandle) {
    let response = reqwest::Client::new()
        .delete(format!("{}/__sim/faults", sim.base_url()))
        .send()
        .await
        .expect("control call");
    assert!(response.status().is_success());
}

/// Every app id, following the `next` links.
pub async fn all_app_ids<O: OrgApi>(api: &O) -> Result<Vec<String>, ApiError> {
    let mut ids = Vec::new();
    let mut page = PageRequest::First;
    loop {
        let result = api.list_apps(page).await?;
        ids.extend(result.items.iter().map(|a| a.id.as_str().to_owned()));
        let Some(next) = result.next else {
            return Ok(ids);
        };
        page = PageRequest::Next(next);
    }
}

/// This process's peak resident set size (`VmHWM`), in MB; 0 where /proc is not there. For the
/// benchmarks, which run the simulator and the client in one process.
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
