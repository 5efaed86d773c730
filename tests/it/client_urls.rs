//! The org's credentials go to the org and nowhere else, whichever way a URL is made: the first
//! page of a listing, a next page, a one-object path built from ids, an admin path template, a
//! redirect; and `policy validate` refuses an admin path that is not a path on the org.

use crate::support::client as client_support;

use client_support::*;
use remediator::okta::*;
use std::process::Command;

const TOKEN: &str = "SSWS-SECRET-00urlsTOKENvalue";

/// The org and a foreign server on another port that must never see a request.
async fn org_and_foreign(
    org: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
) -> (TestServer, TestServer) {
    let foreign = TestServer::start(|_, _| json(200, "[]")).await;
    let org = TestServer::start(org).await;
    (org, foreign)
}

fn port(server: &TestServer) -> String {
    server.base.rsplit(':').next().expect("a port").to_owned()
}

fn assert_untouched(foreign: &TestServer) {
    let seen = foreign.requests();
    assert!(
        seen.is_empty(),
        "the foreign server got {} request(s), the first with Authorization {:?}",
        seen.len(),
        seen.first().and_then(|r| r.header("authorization"))
    );
}

#[tokio::test]
async fn hostile_ids_never_make_a_path_off_the_org() {
    let (org, foreign) = org_and_foreign(|_, _| json(200, "[]")).await;
    let client = org.ssws_client(TOKEN);
    let p = port(&foreign);
    let hostile = [
        format!("//127.0.0.1:{p}/x"),
        format!("\\\\127.0.0.1:{p}"),
        format!("http://127.0.0.1:{p}/"),
        "..".to_owned(),
        ".".to_owned(),
        String::new(),
        "../../..".to_owned(),
        "%2e%2e".to_owned(),
        "a\tb".to_owned(),
    ];
    for id in &hostile {
        let app = AppId::new(id.as_str());
        let user = UserId::new(id.as_str());
        // One-object paths.
        let _ = client.get_app(&app).await;
        let _ = client.get_user(&user).await;
        let _ = client.get_app_user(&AppId::new("0oa1"), &user).await;
        let _ = client.get_provisioning_connection(&app).await;
        let _ = client
            .delete_push_mapping(&app, &MappingId::new(id.as_str()), false)
            .await;
        // First pages of listings.
        let _ = client.list_app_users(&app, PageRequest::First).await;
        let _ = client
            .list_push_mappings(&app, None, PageRequest::First)
            .await;
    }
    assert_untouched(&foreign);
    for request in org.requests() {
        let path = request.path();
        assert!(path.starts_with("/api/v1/"), "{path}");
        assert!(
            !path.split('/').any(|s| s == ".." || s == "."),
            "a dot segment reached the org: {path}"
        );
    }
    // A dot id is refused before anything is sent.
    let err = client
        .get_app(&AppId::new(".."))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ApiErrorKind::RefusedUrl, "{err}");
}

#[tokio::test]
async fn next_links_off_the_org_are_refused_in_every_spelling() {
    let foreign = TestServer::start(|_, _| json(200, "[]")).await;
    let p = port(&foreign);
    let spellings = [
        format!("http://127.0.0.1:{p}/api/v1/apps?after=x"),
        format!("//127.0.0.1:{p}/api/v1/apps?after=x"),
        format!("/\\127.0.0.1:{p}/api/v1/apps?after=x"),
        format!("http://localhost:{p}/api/v1/apps?after=x"),
    ];
    for spelling in spellings {
        let link = format!("<{spelling}>; rel=\"next\"");
        let org = TestServer::start(move |_, _| {
            json(200, format!("[{}]", app_json("0oa1"))).header("Link", link.clone())
        })
        .await;
        let client = org.ssws_client(TOKEN);
        let err = client
            .list_apps(PageRequest::First)
            .await
            .expect_err("a foreign next link");
        assert!(
            matches!(
                err.listing_problem(),
                Some(ListingProblem::ForeignNext { .. })
            ),
            "{spelling}: {err:?}"
        );
        assert_eq!(org.requests().len(), 1);
    }
    // A saved cursor on another origin is refused when followed.
    let org = TestServer::start(|_, _| json(200, "[]")).await;
    let client = org.ssws_client(TOKEN);
    let saved = url::Url::parse(&format!("{}/api/v1/logs?after=1", foreign.base)).expect("url");
    let err = client
        .list_logs(LogsRequest::Next(NextPage::from_url(saved)))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ApiErrorKind::ListingIncomplete, "{err}");
    assert!(org.requests().is_empty());
    assert_untouched(&foreign);
}

#[tokio::test]
async fn admin_path_templates_off_the_org_are_refused_before_sending() {
    let (org, foreign) = org_and_foreign(|_, _| json(202, "{}")).await;
    let p = port(&foreign);
    let templates = [
        format!("//127.0.0.1:{p}/{{appId}}"),
        format!("http://127.0.0.1:{p}/{{appId}}"),
        format!("/\\127.0.0.1:{p}/{{appId}}"),
        format!("/\t/127.0.0.1:{p}/{{appId}}"),
        "/api/v1/../../{appId}".to_owned(),
        "/api/v1/%2e%2e/{appId}".to_owned(),
        "/api/v1/internal/apps/{appId}/tasks/{userId}".to_owned(),
    ];
    for template in templates {
        let mut config = org.config(AuthConfig::Ssws {
            token: TOKEN.to_owned().into(),
        });
        config.admin = AdminPaths {
            force_sync: Some(template.clone()),
            retry_failed_tasks: Some(template.clone()),
        };
        let client = OktaClient::new(config).expect("valid config");
        let app = AppId::new("0oaD");
        let err = client
            .retry_failed_tasks(&app, &[UserId::new("00u1")])
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ApiErrorKind::RefusedUrl, "{template:?}: {err}");
        let err = client
            .force_sync_directory(&app)
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ApiErrorKind::RefusedUrl, "{template:?}: {err}");
        assert!(
            !err.to_string().contains(TOKEN),
            "the token leaked into {err}"
        );
    }
    assert!(org.requests().is_empty());
    assert_untouched(&foreign);
    // The documented templates still work.
    let mut config = org.config(AuthConfig::Ssws {
        token: TOKEN.to_owned().into(),
    });
    config.admin = AdminPaths::documented_defaults();
    let client = OktaClient::new(config).expect("valid config");
    client
        .force_sync_directory(&AppId::new("0oaD"))
        .await
        .expect("on the org");
    assert_eq!(
        org.requests()[0].path(),
        "/api/v1/internal/directories/0oaD/force-sync"
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed_with_the_token() {
    let foreign = TestServer::start(|_, _| json(200, app_json("0oa1"))).await;
    let location = format!("{}/api/v1/apps/0oa1", foreign.base);
    let org = TestServer::start(move |_, _| Reply::Http {
        status: 302,
        headers: vec![("Location".into(), location.clone())],
        body: String::new(),
    })
    .await;
    let client = org.ssws_client(TOKEN);
    let err = client
        .get_app(&AppId::new("0oa1"))
        .await
        .expect_err("a redirect is an answer, not followed");
    assert_eq!(err.status(), Some(302), "{err}");
    assert_untouched(&foreign);
}

/// `remediator policy validate` on a directory holding one policy file.
fn validate(retry_toml: &str) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("retry.toml"), retry_toml).expect("write policy");
    Command::new(env!("CARGO_BIN_EXE_remediator"))
        .args(["policy", "validate"])
        .arg(dir.path())
        .output()
        .expect("run remediator")
}

#[test]
fn policy_validate_refuses_an_admin_path_that_leaves_the_org() {
    for path in [
        "//127.0.0.1:27199/{appId}",
        "/\\\\127.0.0.1:27199/{appId}",
        "/api/v1/../../{appId}",
        "/api/v1/%2e%2e/{appId}",
    ] {
        let policy = format!(
            "[retry_provisioning]\nstrategy = \"admin-task-retry\"\n\n[okta.admin]\ntask_retry_path = \"{path}\"\n"
        );
        let out = validate(&policy);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{path}: {stderr}");
        assert!(
            stderr.contains("retry.toml:5:") && stderr.contains("okta.admin.task_retry_path"),
            "{path}: {stderr}"
        );
    }
    let good = "[retry_provisioning]\nstrategy = \"admin-task-retry\"\n\n[okta.admin]\ntask_retry_path = \"/api/v1/internal/apps/{appId}/tasks/retry\"\n";
    let out = validate(good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
