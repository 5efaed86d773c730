//! Generated large orgs (for benchmarks): many users, apps and assignments, a share in error.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{json, Map, Value};

use super::scenario::{
    AppSpec, AppUserSpec, CapabilitiesSpec, GroupPushSpec, ProvisioningSpec, Scenario, TokenState,
    UserSpec,
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

/// What to generate for the Group Push benchmark: an org of `apps` apps, `orphaned` of them
/// with provisioning disabled and an ACTIVE mapping.
#[derive(Debug, Clone, Copy)]
pub struct PushOrgSpec {
    pub apps: usize,
    /// Apps with provisioning disabled and ACTIVE mappings (at most one per 20 apps).
    pub orphaned: usize,
}

/// One slot of the 20 a push org cycles through: integration name, sign-on mode, provisioning
/// status (`None`: the integration has none) and the status of its one mapping, if any.
type PushSlot = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// The mix of a push org, after the recorded orgs' integration names: about two thirds without
/// provisioning (so without mappings), all custom OpenID Connect apps here (the recorded orgs
/// add bookmarks and password templates, whose `settings` okta-sim does not generate and the
/// official SDKs' typed models require), and a third of provisioning-capable apps in every
/// state. Slot [`ORPHAN_SLOT`] becomes orphaned.
const PUSH_SLOTS: [PushSlot; 20] = [
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    ("slack", Some("SAML_2_0"), Some("ENABLED"), Some("ACTIVE")),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    ("okta_org2org", Some("SAML_2_0"), Some("ENABLED"), None),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    ("zoomus", Some("SAML_2_0"), Some("DISABLED"), None),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    (
        "acme_scim_4",
        Some("SAML_2_0"),
        Some("ENABLED"),
        Some("ACTIVE"),
    ),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    (
        "acme_scim_1",
        Some("SAML_2_0"),
        Some("ENABLED"),
        Some("ACTIVE"),
    ),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    (
        "acme_scim_3",
        Some("SAML_2_0"),
        Some("DISABLED"),
        Some("INACTIVE"),
    ),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    ("oidc_client", Some("OPENID_CONNECT"), None, None),
    ("acme_scim_2", Some("SAML_2_0"), Some("DISABLED"), None),
];

/// The slot (provisioning disabled, no mapping) that gets an ACTIVE mapping in orphaned cycles.
const ORPHAN_SLOT: usize = 7;

/// The id of a push org's `i`-th app.
pub fn push_org_app_id(i: usize) -> String {
    format!("0oapush{i:013}")
}

/// The ids of the orphaned apps of a push org: one per 20 apps, spread over the org.
pub fn push_org_orphaned(spec: PushOrgSpec) -> Vec<String> {
    let cycles = spec.apps / PUSH_SLOTS.len();
    let orphaned = spec.orphaned.min(cycles);
    (0..orphaned)
        .map(|k| push_org_app_id((k * cycles / orphaned.max(1)) * PUSH_SLOTS.len() + ORPHAN_SLOT))
        .collect()
}

/// Builds the Group Push benchmark's org (deterministic).
pub fn generate_push_org(spec: PushOrgSpec) -> Scenario {
    let orphaned = push_org_orphaned(spec);
    let apps = (0..spec.apps)
        .map(|i| {
            let (name, sign_on_mode, provisioning, mapping) = PUSH_SLOTS[i % PUSH_SLOTS.len()];
            let id = push_org_app_id(i);
            let mapping = if orphaned.contains(&id) {
                Some("ACTIVE")
            } else {
                mapping
            };
            AppSpec {
                id,
                name: name.into(),
                label: format!("{name} {i}"),
                sign_on_mode: sign_on_mode.map(Into::into),
                provisioning: provisioning.map(|status| ProvisioningSpec {
                    status: status.into(),
                    auth_scheme: "TOKEN".into(),
                    token: if status == "ENABLED" {
                        TokenState::Valid
                    } else {
                        TokenState::Stale
                    },
                    valid_tokens: Vec::new(),
                    base_url: None,
                }),
                group_push: mapping
                    .map(|status| GroupPushSpec {
                        id: format!("gPmpush{i:013}"),
                        source_group_id: format!("00gpush{:013}", i % 7),
                        target_group_id: format!("00gtarget{i:011}"),
                        status: status.into(),
                        error_summary: None,
                        last_updated: Some("-30d".into()),
                        last_push: None,
                    })
                    .into_iter()
                    .collect(),
                ..generated_app(i)
            }
        })
        .collect();
    let mut scenario = Scenario {
        apps,
        ..Scenario::default()
    };
    scenario.org.api_tokens.push(GENERATED_API_TOKEN.into());
    scenario
}
