//! Generated large orgs (for benchmarks): many users, apps and assignments, a share in error.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{json, Map, Value};

use super::scenario::{
    AppSpec, AppUserSpec, CapabilitiesSpec, ProvisioningSpec, Scenario, TokenState, UserSpec,
};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateSpec {
    pub users: usize,
    pub apps: usize,
    /// App assignments in total, spread evenly over the apps.
    pub assignments: usize,
    /// Share of assignments in syncState ERROR (0.0 to 1.0).
    pub error_ratio: f64,
    /// Seed of the random choices (same seed, same org).
    pub seed: u64,
}

/// The API token every generated org accepts.
pub const GENERATED_API_TOKEN: &str = "generated-test-token";

/// Catalog names generated apps cycle through (the last is a custom SCIM app).
const APP_NAMES: &[&str] = &[
    "slack",
    "okta_org2org",
    "zoomus",
    "office365",
    "acme_scim_app",
];

/// Causes and texts given to generated failures.
const FAILURES: &[(&str, &str)] = &[
    ("transient", "Automatic provisioning of user {u} to app {a} failed: Error while creating user: connection timed out"),
    ("credentials-invalid", "Automatic provisioning of user {u} to app {a} failed: Invalid Credentials"),
    (
        "feature-disabled:PUSH_USER_DEACTIVATION",
        "Automatic provisioning of user {u} to app {a} failed: User account is inactive",
    ),
];

/// Builds a scenario of the requested size. 100k users, 2k apps, 200k assignments take a
/// few seconds at most.
pub fn generate(spec: GenerateSpec) -> Scenario {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let users: Vec<UserSpec> = (0..spec.users).map(generated_user).collect();
    let mut apps: Vec<AppSpec> = (0..spec.apps).map(generated_app).collect();
    if !apps.is_empty() && !users.is_empty() {
        for k in 0..spec.assignments {
            let a = k % apps.len();
            let nth = k / apps.len();
            if nth >= users.len() {
                break;
            }
            let u = (nth + a * 7919) % users.len();
            let mut assignment = AppUserSpec {
                id: users[u].id.clone(),
                status: "PROVISIONED".into(),
                sync_state: "SYNCHRONIZED".into(),
                profile: app_user_profile(&users[u]),
                last_sync: Some("-1h".into()),
                scope: "USER".into(),
                external_id: Some(format!("ext-{u}")),
                user_name: None,
                cause: None,
                error_text: None,
                error_event_type: None,
            };
            if rng.gen_bool(spec.error_ratio.clamp(0.0, 1.0)) {
                let (cause, text) = FAILURES[rng.gen_range(0..FAILURES.len())];
                let login = users[u]
                    .profile
                    .get("login")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                assignment.sync_state = "ERROR".into();
                assignment.cause = Some(cause.into());
                assignment.error_text =
                    Some(text.replace("{u}", login).replace("{a}", &apps[a].label));
            }
            apps[a].users.push(assignment);
        }
    }
    let mut scenario = Scenario {
        users,
        apps,
        ..Scenario::default()
    };
    scenario.org.api_tokens.push(GENERATED_API_TOKEN.into());
    scenario
}

fn generated_user(i: usize) -> UserSpec {
    let mut profile = Map::new();
    profile.insert("login".into(), json!(format!("user{i}@example.com")));
    profile.insert("email".into(), json!(format!("user{i}@example.com")));
    profile.insert("firstName".into(), json!("User"));
    profile.insert("lastName".into(), json!(format!("{i}")));
    UserSpec {
        id: format!("00u{i:017}"),
        status: "ACTIVE".into(),
        profile,
        created: None,
    }
}

/// A generated app user's profile: just the email, as most SCIM apps key on it.
fn app_user_profile(user: &UserSpec) -> Map<String, Value> {
    let mut profile = Map::new();
    if let Some(email) = user.profile.get("email") {
        profile.insert("email".into(), email.clone());
    }
    profile
}

fn generated_app(i: usize) -> AppSpec {
    let name = APP_NAMES[i % APP_NAMES.len()];
    AppSpec {
        id: format!("0oa{i:017}"),
        name: name.into(),
        label: format!("{name} {i}"),
        status: "ACTIVE".into(),
        sign_on_mode: Some("SAML_2_0".into()),
        features: Vec::new(),
        profile_schema: Vec::new(),
        provisioning: Some(ProvisioningSpec {
            status: "ENABLED".into(),
            auth_scheme: "TOKEN".into(),
            token: TokenState::Valid,
            valid_tokens: Vec::new(),
            base_url: None,
        }),
        capabilities: CapabilitiesSpec::default(),
        users: Vec::new(),
        group_push: Vec::new(),
        directory: None,
    }
}
