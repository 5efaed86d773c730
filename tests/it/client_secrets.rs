//! Secrets kept out of errors, Debug output and logs (its own test binary: tracing caches
//! callsite interest per process, so a capturing subscriber must not race other tests).

use crate::support::client as client_support;

use client_support::*;
use remediator::okta::*;
use std::io::Write;
use std::sync::{Arc, Mutex};

const PRIVATE_KEY: &str = include_str!("../fixtures/client/TEST-ONLY-rsa-private.pem");
const CLIENT_ID: &str = "0oaServiceApp123";
const TOKEN: &str = "SSWS-SECRET-00zzTOKENvalue987";

fn oauth_config(server: &TestServer) -> OktaConfig {
    server.config(AuthConfig::PrivateKey {
        client_id: CLIENT_ID.into(),
        scopes: vec!["okta.apps.read".into()],
        private_key: PRIVATE_KEY.to_owned().into(),
        key_id: None,
    })
}

/// A tracing writer into a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

fn assert_absent(haystack: &str, secrets: &[&str], what: &str) {
    for s in secrets {
        assert!(
            !haystack.contains(s),
            "{what} contains a secret: {haystack}"
        );
    }
}

#[tokio::test]
async fn tokens_never_reach_errors_debug_or_logs() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests of this binary hit the client's callsites on other threads without a
    // subscriber; make sure this thread's subscriber is asked again.
    tracing::callsite::rebuild_interest_cache();

    let server = TestServer::start(|req, i| {
        if req.path() == "/oauth2/v1/token" {
            return json(
                200,
                r#"{"token_type":"Bearer","expires_in":3600,"access_token":"ACCESS-SECRET-at-42"}"#,
            );
        }
        match i % 4 {
            0 => okta_error(401, "E0000011", "Invalid token provided"),
            1 => json(200, r#"[{"id": nope}]"#),
            2 => Reply::Drop,
            _ => okta_error(503, "E0000009", "Internal Server Error"),
        }
    })
    .await;
    let mut config = server.config(AuthConfig::Ssws {
        token: TOKEN.to_owned().into(),
    });
    config.tuning.max_retries = 0;
    let ssws = OktaClient::new(config).expect("valid");
    let oauth = OktaClient::new({
        let mut c = oauth_config(&server);
        c.tuning.max_retries = 0;
        c
    })
    .expect("valid");
    let secrets = [
        TOKEN,
        "ACCESS-SECRET-at-42",
        "MIIE",
        "PRIVATE KEY-----\nMII",
    ];
    let mut errors = Vec::new();
    for _ in 0..4 {
        errors.push(
            ssws.list_apps(PageRequest::First)
                .await
                .expect_err("every reply fails"),
        );
    }
    for _ in 0..3 {
        if let Err(e) = oauth.list_apps(PageRequest::First).await {
            errors.push(e);
        }
    }
    assert!(errors.len() >= 6);
    for e in &errors {
        assert_absent(&format!("{e} {e:?}"), &secrets, "error");
    }
    assert_absent(&format!("{ssws:?} {oauth:?}"), &secrets, "client Debug");
    assert!(format!("{ssws:?}").contains("REDACTED"));
    let cfg = oauth_config(&server);
    assert_absent(&format!("{cfg:?}"), &secrets, "config Debug");
    let logs = String::from_utf8(capture.0.lock().expect("lock").clone()).expect("utf8 logs");
    assert!(logs.contains("okta request"), "capture works: {logs}");
    assert!(logs.contains("/api/v1/apps"));
    assert_absent(&logs, &secrets, "logs");
    // The request did carry the token on the wire.
    assert!(server
        .requests()
        .iter()
        .any(|r| r.header("authorization") == Some(&format!("SSWS {TOKEN}"))));
}
