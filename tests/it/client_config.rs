//! Client configuration: environment over ./.okta/okta.yaml over ~/.okta/okta.yaml, with
//! errors naming their source.

use remediator::okta::{AuthConfig, ConfigError, ConfigSources, OktaConfig};
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::path::Path;

const PRIVATE_KEY: &str = include_str!("../fixtures/client/TEST-ONLY-rsa-private.pem");

fn write_yaml(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir.join(".okta")).expect("mkdir");
    std::fs::write(dir.join(".okta").join("okta.yaml"), text).expect("write okta.yaml");
}

fn sources(home: &Path, cwd: &Path, env: &[(&str, &str)]) -> ConfigSources {
    ConfigSources {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        home_dir: Some(home.to_owned()),
        working_dir: Some(cwd.to_owned()),
    }
}

fn ssws_token(c: &OktaConfig) -> String {
    match &c.auth {
        AuthConfig::Ssws { token } => token.expose_secret().to_owned(),
        other => panic!("expected SSWS, got {other:?}"),
    }
}

#[test]
fn precedence_env_over_cwd_over_home() {
    let home = tempfile::tempdir().expect("tempdir");
    let cwd = tempfile::tempdir().expect("tempdir");
    write_yaml(
        home.path(),
        "okta:\n  client:\n    orgUrl: https://home.okta.com\n    token: home-token\n",
    );
    write_yaml(cwd.path(), "okta:\n  client:\n    token: cwd-token\n");

    let c = OktaConfig::load(&sources(home.path(), cwd.path(), &[])).expect("valid");
    assert_eq!(c.org_url.as_str(), "https://home.okta.com/");
    assert_eq!(ssws_token(&c), "cwd-token");

    let env = [
        ("OKTA_CLIENT_TOKEN", "env-token"),
        ("OKTA_CLIENT_ORGURL", "https://env.okta.com"),
    ];
    let c = OktaConfig::load(&sources(home.path(), cwd.path(), &env)).expect("valid");
    assert_eq!(c.org_url.as_str(), "https://env.okta.com/");
    assert_eq!(ssws_token(&c), "env-token");
}

#[test]
fn private_key_mode_from_yaml_with_key_path_and_env_scopes() {
    let home = tempfile::tempdir().expect("tempdir");
    let cwd = tempfile::tempdir().expect("tempdir");
    let key_path = cwd.path().join("key.pem");
    std::fs::write(&key_path, PRIVATE_KEY).expect("write key");
    write_yaml(
        cwd.path(),
        &format!(
            "okta:\n  client:\n    orgUrl: https://x.okta.com\n    authorizationMode: PrivateKey\n    clientId: 0oaSvc\n    scopes:\n      - okta.apps.read\n    privateKey: {}\n",
            key_path.display()
        ),
    );
    let c = OktaConfig::load(&sources(home.path(), cwd.path(), &[])).expect("valid");
    let AuthConfig::PrivateKey {
        client_id,
        scopes,
        private_key,
        ..
    } = &c.auth
    else {
        panic!("expected PrivateKey");
    };
    assert_eq!(client_id, "0oaSvc");
    assert_eq!(scopes, &["okta.apps.read"]);
    assert!(private_key
        .expose_secret()
        .contains("BEGIN RSA PRIVATE KEY"));

    let env = [(
        "OKTA_CLIENT_SCOPES",
        "okta.apps.read,okta.apps.manage okta.logs.read",
    )];
    let c = OktaConfig::load(&sources(home.path(), cwd.path(), &env)).expect("valid");
    let AuthConfig::PrivateKey { scopes, .. } = &c.auth else {
        panic!("expected PrivateKey")
    };
    assert_eq!(
        scopes,
        &["okta.apps.read", "okta.apps.manage", "okta.logs.read"]
    );
    assert!(
        !format!("{c:?}").contains("BEGIN RSA"),
        "Debug redacts the key"
    );
}

#[test]
fn http_org_url_refused_except_loopback_naming_the_source() {
    let home = tempfile::tempdir().expect("tempdir");
    let cwd = tempfile::tempdir().expect("tempdir");
    let env = [
        ("OKTA_CLIENT_ORGURL", "http://example.okta.com"),
        ("OKTA_CLIENT_TOKEN", "t"),
    ];
    let err = OktaConfig::load(&sources(home.path(), cwd.path(), &env)).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("OKTA_CLIENT_ORGURL") && text.contains("http://"),
        "{text}"
    );

    write_yaml(
        cwd.path(),
        "okta:\n  client:\n    orgUrl: http://example.okta.com\n    token: t\n",
    );
    let err = OktaConfig::load(&sources(home.path(), cwd.path(), &[])).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("okta.yaml field okta.client.orgUrl"),
        "{text}"
    );

    let env = [
        ("OKTA_CLIENT_ORGURL", "http://127.0.0.1:8080"),
        ("OKTA_CLIENT_TOKEN", "t"),
    ];
    assert!(OktaConfig::load(&sources(home.path(), cwd.path(), &env)).is_ok());
    let env = [
        ("OKTA_CLIENT_ORGURL", "http://[::1]:8080"),
        ("OKTA_CLIENT_TOKEN", "t"),
    ];
    assert!(OktaConfig::load(&sources(home.path(), cwd.path(), &env)).is_ok());
}

#[test]
fn missing_and_invalid_settings_are_named() {
    let home = tempfile::tempdir().expect("tempdir");
    let cwd = tempfile::tempdir().expect("tempdir");
    let env = [("OKTA_CLIENT_ORGURL", "https://x.okta.com")];
    let err = OktaConfig::load(&sources(home.path(), cwd.path(), &env)).expect_err("no token");
    assert!(
        matches!(
            err,
            ConfigError::Missing {
                env: "OKTA_CLIENT_TOKEN",
                ..
            }
        ),
        "{err:?}"
    );

    let env = [
        ("OKTA_CLIENT_ORGURL", "https://x.okta.com"),
        ("OKTA_CLIENT_AUTHORIZATIONMODE", "Basic"),
    ];
    let err = OktaConfig::load(&sources(home.path(), cwd.path(), &env)).expect_err("bad mode");
    assert!(
        err.to_string().contains("OKTA_CLIENT_AUTHORIZATIONMODE"),
        "{err}"
    );

    write_yaml(home.path(), "okta: [not, a, map\n");
    let err = OktaConfig::load(&sources(home.path(), cwd.path(), &[])).expect_err("bad yaml");
    assert!(matches!(err, ConfigError::Yaml { .. }), "{err:?}");
    assert!(err.to_string().contains("okta.yaml"), "{err}");
}

#[test]
fn tuning_bounds_are_enforced() {
    let mut t = remediator::okta::ClientTuning::default();
    assert_eq!(t.rate_limit_headroom, 0.5);
    assert_eq!(t.max_concurrency, 8);
    t.max_concurrency = 76;
    assert!(t.validate().is_err());
    t.max_concurrency = 75;
    assert!(t.validate().is_ok());
    t.rate_limit_headroom = 1.0;
    assert!(t.validate().is_err());
}
