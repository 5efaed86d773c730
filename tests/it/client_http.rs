//! The Okta client over real HTTP on loopback against a scripted test server.

use crate::support::client as client_support;

use client_support::*;
use remediator::okta::*;
use std::time::Duration;

const TOKEN: &str = "SSWS-SECRET-00abcdefTOKENvalue";

#[tokio::test]
async fn follows_link_next_verbatim_across_many_pages() {
    const PAGES: usize = 7;
    let server = TestServer::start(|req, i| {
        let page = i;
        let items: Vec<String> = (0..3)
            .map(|k| app_json(&format!("0oa{page}x{k}")))
            .collect();
        let mut reply = json(200, format!("[{}]", items.join(",")));
        let base = req
            .header("host")
            .map(|h| format!("http://{h}"))
            .unwrap_or_default();
        let self_link = format!("<{base}{}>; rel=\"self\"", req.target);
        if page + 1 < PAGES {
            // An opaque cursor with characters a client must not re-encode, and extra params.
            let next =
                format!("<{base}/api/v1/apps?after=c%2F{page}%3D%3D&limit=200&x=y>; rel=\"next\"");
            if page % 2 == 0 {
                reply = reply.header("Link", format!("{self_link}, {next}"));
            } else {
                reply = reply.header("Link", self_link).header("Link", next);
            }
        } else {
            reply = reply.header("Link", self_link);
        }
        reply
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let mut page = PageRequest::First;
    let mut ids = Vec::new();
    loop {
        let p = client.list_apps(page).await.expect("page reads");
        ids.extend(p.items.iter().map(|a| a.id.to_string()));
        let Some(next) = p.next else { break };
        page = PageRequest::Next(next);
    }
    assert_eq!(ids.len(), PAGES * 3);
    assert_eq!(ids[4], "0oa1x1");
    let reqs = server.requests();
    assert_eq!(reqs.len(), PAGES);
    assert_eq!(reqs[0].target, "/api/v1/apps?limit=200");
    for (i, r) in reqs.iter().enumerate().skip(1) {
        assert_eq!(
            r.target,
            format!("/api/v1/apps?after=c%2F{}%3D%3D&limit=200&x=y", i - 1)
        );
        assert_eq!(
            r.header("authorization"),
            Some(format!("SSWS {TOKEN}").as_str())
        );
    }
}

#[tokio::test]
async fn largest_page_sizes_and_filters() {
    let server = TestServer::start(|_, _| json(200, "[]")).await;
    let client = server.ssws_client(TOKEN);
    let app = AppId::new("0oaA");
    client
        .list_app_users(&app, PageRequest::First)
        .await
        .expect("ok");
    client
        .list_push_mappings(
            &app,
            Some(GroupPushMappingStatus::Inactive),
            PageRequest::First,
        )
        .await
        .expect("ok");
    let since = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
        .expect("valid")
        .with_timezone(&chrono::Utc);
    client
        .list_logs(LogsRequest::Since {
            since,
            filter: Some("eventType eq \"application.provision.user.sync\"".into()),
        })
        .await
        .expect("ok");
    let t: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(t[0], "/api/v1/apps/0oaA/users?limit=500");
    assert_eq!(
        t[1],
        "/api/v1/apps/0oaA/group-push/mappings?limit=1000&status=INACTIVE"
    );
    assert_eq!(
        t[2],
        "/api/v1/logs?since=2024-05-01T10%3A00%3A00.000Z&limit=1000&filter=eventType+eq+%22application.provision.user.sync%22"
    );
}

#[tokio::test]
async fn next_page_on_another_host_is_refused() {
    let server = TestServer::start(|_, _| json(200, "[]")).await;
    let client = server.ssws_client(TOKEN);
    let foreign = NextPage::from_url(
        url::Url::parse("https://evil.example.com/api/v1/apps?after=x").expect("url"),
    );
    let err = client
        .list_apps(PageRequest::Next(foreign))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err.listing_problem(),
            Some(ListingProblem::ForeignNext { origin }) if origin == "https://evil.example.com"
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ApiErrorKind::ListingIncomplete);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn rate_limited_429_waits_for_reset_and_retries_with_retry_headers() {
    let server = TestServer::start(|_, i| {
        let now = epoch_now();
        let limits = |r: Reply, remaining: u32| {
            r.header("X-Rate-Limit-Limit", "100")
                .header("X-Rate-Limit-Remaining", remaining.to_string())
                .header("X-Rate-Limit-Reset", (now + 1).to_string())
                .header("Date", http_date(now))
                .header("X-Okta-Request-Id", format!("req-{i}"))
        };
        match i {
            0 => limits(
                okta_error(
                    429,
                    "E0000047",
                    "API call exceeded rate limit due to too many requests.",
                ),
                0,
            ),
            _ => limits(json(200, app_json("0oa1")), 99),
        }
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let app = client
        .get_app(&AppId::new("0oa1"))
        .await
        .expect("succeeds after the reset");
    assert_eq!(app.label, "App 0oa1");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("x-okta-retry-count"), None);
    assert_eq!(reqs[1].header("x-okta-retry-for"), Some("req-0"));
    assert_eq!(reqs[1].header("x-okta-retry-count"), Some("1"));
    assert_eq!(client.governor_stats().rate_limited_waits(), 1);
}

fn headroom_server() -> impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static {
    |_, i| {
        let now = epoch_now();
        json(200, app_json("0oa1"))
            .header("X-Rate-Limit-Limit", "10")
            .header("X-Rate-Limit-Remaining", (9 - i.min(9)).to_string())
            .header("X-Rate-Limit-Reset", (now + 1).to_string())
            .header("Date", http_date(now))
    }
}

#[tokio::test]
async fn headroom_share_of_the_bucket_is_kept_free() {
    let server = TestServer::start(headroom_server()).await;
    let client = server.ssws_client(TOKEN); // default headroom 0.5
    for _ in 0..6 {
        client.get_app(&AppId::new("0oa1")).await.expect("ok");
    }
    // After the 5th response (5 of 10 used) the governor must wait before the 6th request,
    // until the reset that response announced (its server time + 1 s).
    assert!(client.governor_stats().headroom_waits() >= 1);
    let reqs = server.requests();
    assert!(
        reqs[5].received_epoch > reqs[4].received_epoch,
        "6th request sent in the same window as the 5th"
    );
    assert_eq!(client.governor_stats().rate_limited_waits(), 0);

    let server = TestServer::start(headroom_server()).await;
    let mut config = server.config(AuthConfig::Ssws {
        token: TOKEN.to_owned().into(),
    });
    config.tuning.rate_limit_headroom = 0.0;
    let client = OktaClient::new(config).expect("valid");
    for _ in 0..6 {
        client.get_app(&AppId::new("0oa1")).await.expect("ok");
    }
    assert_eq!(client.governor_stats().headroom_waits(), 0);
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = TestServer::start(|_, i| match i {
        0 => okta_error(503, "E0000009", "Internal Server Error").header("X-Okta-Request-Id", "r0"),
        1 => json(502, "<html>bad gateway</html>").header("X-Okta-Request-Id", "r1"),
        _ => json(
            200,
            r#"{"id":"00u1","status":"ACTIVE","profile":{"login":"a@example.com"}}"#,
        ),
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let user = client
        .get_user(&UserId::new("00u1"))
        .await
        .expect("third attempt succeeds");
    assert_eq!(user.status, Some(UserStatus::Active));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].header("x-okta-retry-for"), Some("r1"));
    assert_eq!(reqs[2].header("x-okta-retry-count"), Some("2"));
}

#[tokio::test]
async fn server_errors_exhausted_keep_okta_error() {
    let server =
        TestServer::start(|_, _| okta_error(503, "E0000009", "Internal Server Error")).await;
    let mut config = server.config(AuthConfig::Ssws {
        token: TOKEN.to_owned().into(),
    });
    config.tuning.max_retries = 2;
    let client = OktaClient::new(config).expect("valid");
    let err = client
        .get_app(&AppId::new("0oa1"))
        .await
        .expect_err("gives up");
    assert!(
        matches!(err, ApiError::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(err.error_code(), Some("E0000009"));
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.requests().len(), 3);
    // The chain names the call and its last failure once each (the message of the retry
    // layer says only what it adds: the attempts).
    let text = remediator::error_chain::error_chain(&err);
    assert_eq!(
        text,
        "gave up after 3 attempts: GET /api/v1/apps/0oa1: HTTP 503: E0000009: Internal Server \
         Error (errorId oae-503); causes: cause of E0000009"
    );
}

#[tokio::test]
async fn non_idempotent_post_not_retried_on_5xx_but_on_429() {
    let server = TestServer::start(|_, _| okta_error(503, "E0000009", "down")).await;
    let mut config = server.config(AuthConfig::Ssws {
        token: TOKEN.to_owned().into(),
    });
    config.admin = AdminPaths::documented_defaults();
    let client = OktaClient::new(config.clone()).expect("valid");
    let err = client
        .force_sync_directory(&AppId::new("0oaD"))
        .await
        .expect_err("503");
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        server.requests()[0].target,
        "/api/v1/internal/directories/0oaD/force-sync"
    );

    let server = TestServer::start(|_, i| match i {
        0 => okta_error(429, "E0000047", "rate")
            .header("X-Rate-Limit-Reset", epoch_now().to_string()),
        _ => Reply::Http {
            status: 204,
            headers: vec![],
            body: String::new(),
        },
    })
    .await;
    config.org_url = url::Url::parse(&server.base).expect("url");
    let client = OktaClient::new(config).expect("valid");
    let users = [UserId::new("00u1"), UserId::new("00u2")];
    client
        .retry_failed_tasks(&AppId::new("0oaD"), &users)
        .await
        .expect("retried after 429");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].target, "/api/v1/internal/apps/0oaD/tasks/retry");
    let body: serde_json::Value = serde_json::from_slice(&reqs[1].body).expect("json body");
    assert_eq!(body, serde_json::json!({"userIds": ["00u1", "00u2"]}));
}

#[tokio::test]
async fn admin_calls_refuse_without_template() {
    let server = TestServer::start(|_, _| json(200, "{}")).await;
    let client = server.ssws_client(TOKEN);
    let err = client
        .force_sync_directory(&AppId::new("0oaD"))
        .await
        .expect_err("not configured");
    assert!(
        matches!(err, ApiError::AdminCallNotConfigured { .. }),
        "{err:?}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let server = TestServer::start(|_, _| Reply::Hang).await;
    let mut config = server.config(AuthConfig::Ssws {
        token: TOKEN.to_owned().into(),
    });
    config.tuning.request_timeout = Duration::from_millis(200);
    config.tuning.max_retries = 1;
    let client = OktaClient::new(config).expect("valid");
    let err = client
        .get_app(&AppId::new("0oa1"))
        .await
        .expect_err("times out");
    assert!(matches!(err.root(), ApiError::Timeout { .. }), "{err:?}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn malformed_json_is_an_error_with_position() {
    let server = TestServer::start(|_, _| json(200, r#"[{"id":"0oa1",,}]"#)).await;
    let client = server.ssws_client(TOKEN);
    let err = client
        .list_apps(PageRequest::First)
        .await
        .expect_err("malformed");
    let ApiError::MalformedBody {
        line,
        column,
        snippet,
        ..
    } = &err
    else {
        panic!("expected MalformedBody, got {err:?}");
    };
    assert_eq!((*line, *column), (1, 15), "the second comma");
    assert!(snippet.starts_with("[{\"id\""));
    assert_eq!(
        server.requests().len(),
        1,
        "malformed bodies are not retried"
    );
}

#[tokio::test]
async fn truncated_body_is_retried_then_reported() {
    let server = TestServer::start(|_, _| Reply::Truncated {
        announced: 4000,
        body: r#"[{"id":"0oa1","label":"#.into(),
    })
    .await;
    let mut config = server.config(AuthConfig::Ssws {
        token: TOKEN.to_owned().into(),
    });
    config.tuning.max_retries = 1;
    let client = OktaClient::new(config).expect("valid");
    let err = client
        .list_apps(PageRequest::First)
        .await
        .expect_err("truncated");
    assert!(
        matches!(err.root(), ApiError::TruncatedBody { .. }),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn json_cut_short_with_right_length_is_truncated_not_empty() {
    let server = TestServer::start(|_, i| match i {
        0 => json(200, r#"[{"id":"0oa1""#),
        _ => json(200, format!("[{}]", app_json("0oa1"))),
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let page = client
        .list_apps(PageRequest::First)
        .await
        .expect("retry succeeds");
    assert_eq!(page.items.len(), 1);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn dropped_connection_is_retried_for_get() {
    let server = TestServer::start(|_, i| match i {
        0 => Reply::Drop,
        _ => json(200, format!("[{}]", app_json("0oa1"))),
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let page = client
        .list_apps(PageRequest::First)
        .await
        .expect("retry succeeds");
    assert_eq!(page.items[0].id, AppId::new("0oa1"));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn invalid_token_401_is_mapped_and_not_retried() {
    let server =
        TestServer::start(|_, _| okta_error(401, "E0000011", "Invalid token provided")).await;
    let client = server.ssws_client(TOKEN);
    let err = client.get_app(&AppId::new("0oa1")).await.expect_err("401");
    assert!(err.is_unauthorized());
    assert_eq!(err.error_code(), Some("E0000011"));
    assert!(!err.is_not_found());
    let ApiError::Auth { error, .. } = &err else {
        panic!("expected an authentication error: {err:?}")
    };
    assert_eq!(error.id.as_deref(), Some("oae-401"));
    assert_eq!(error.causes, ["cause of E0000011"]);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn features_400_e0000001_means_provisioning_off() {
    let server = TestServer::start(|req, _| {
        if req.path().ends_with("/features") {
            okta_error(
                400,
                "E0000001",
                "Api validation failed: Provisioning is not enabled",
            )
        } else {
            okta_error(
                404,
                "E0000007",
                "Not found: Resource not found: 0oaX (AppInstance)",
            )
        }
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let out = client
        .get_app_features(&AppId::new("0oa1"))
        .await
        .expect("typed outcome");
    assert_eq!(out, FeaturesOutcome::ProvisioningNotEnabled);
    let err = client.get_app(&AppId::new("0oaX")).await.expect_err("404");
    assert!(err.is_not_found());
}

#[tokio::test]
async fn writes_use_spec_methods_paths_and_bodies() {
    let server = TestServer::start(|req, _| match req.method.as_str() {
        "DELETE" => Reply::Http { status: 204, headers: vec![], body: String::new() },
        "PATCH" => json(200, r#"{"id":"gPm1","status":"INACTIVE","sourceGroupId":"00g1","targetGroupId":"t1"}"#),
        "PUT" => json(200, r#"{"name":"USER_PROVISIONING","status":"ENABLED","capabilities":{"create":{"lifecycleCreate":{"status":"ENABLED"}},"update":{"lifecycleDeactivate":{"status":"DISABLED"},"profile":{"status":"ENABLED"},"password":{"status":"DISABLED","seed":"RANDOM","change":"CHANGE"}}}}"#),
        _ => json(200, r#"{"status":"ENABLED","authScheme":"TOKEN","profile":{"authScheme":"TOKEN"}}"#),
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let app = AppId::new("0oa1");
    let m = client
        .update_push_mapping_status(&app, &MappingId::new("gPm1"), PushMappingTarget::Inactive)
        .await
        .expect("patch");
    assert_eq!(m.status, Some(GroupPushMappingStatus::Inactive));
    client
        .delete_push_mapping(&app, &MappingId::new("gPm1"), false)
        .await
        .expect("delete");
    let caps = CapabilitiesObject {
        create: Some(CapabilitiesCreateObject {
            lifecycle_create: Some(StatusHolder {
                status: EnabledStatus::Enabled,
            }),
        }),
        update: None,
    };
    let f = client
        .update_user_provisioning_feature(&app, &caps)
        .await
        .expect("put");
    assert_eq!(f.status, Some(EnabledStatus::Enabled));
    let secret: secrecy::SecretString = "downstream-app-token".to_owned().into();
    let c = client
        .set_provisioning_connection_token(
            &app,
            &secret,
            Some("https://partner.example.com"),
            false,
        )
        .await
        .expect("post");
    assert_eq!(c.status, ProvisioningConnectionStatus::Enabled);
    client
        .deactivate_provisioning_connection(&app)
        .await
        .expect("deactivate");

    let r = server.requests();
    assert_eq!(
        (r[0].method.as_str(), r[0].target.as_str()),
        ("PATCH", "/api/v1/apps/0oa1/group-push/mappings/gPm1")
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&r[0].body).expect("json"),
        serde_json::json!({"status": "INACTIVE"})
    );
    assert_eq!(
        (r[1].method.as_str(), r[1].target.as_str()),
        (
            "DELETE",
            "/api/v1/apps/0oa1/group-push/mappings/gPm1?deleteTargetGroup=false"
        )
    );
    assert_eq!(
        (r[2].method.as_str(), r[2].target.as_str()),
        ("PUT", "/api/v1/apps/0oa1/features/USER_PROVISIONING")
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&r[2].body).expect("json"),
        serde_json::json!({"create": {"lifecycleCreate": {"status": "ENABLED"}}})
    );
    assert_eq!(
        (r[3].method.as_str(), r[3].target.as_str()),
        ("POST", "/api/v1/apps/0oa1/connections/default")
    );
    // The recorded form: no `activate`, the connection's baseUrl with the token.
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&r[3].body).expect("json"),
        serde_json::json!({"baseUrl": "https://partner.example.com",
                           "profile": {"authScheme": "TOKEN", "token": "downstream-app-token"}})
    );
    assert_eq!(
        r[4].target,
        "/api/v1/apps/0oa1/connections/default/lifecycle/deactivate"
    );
}

#[tokio::test]
async fn unknown_enum_values_and_fields_are_tolerated() {
    let server = TestServer::start(|_, _| {
        json(200, r#"[{"id":"00u1","status":"BRAND_NEW","syncState":"ERROR","newField":{"x":1},"profile":{},"_embedded":{"error":"x"}}]"#)
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let page = client
        .list_app_users(&AppId::new("0oa1"), PageRequest::First)
        .await
        .expect("ok");
    assert_eq!(
        page.items[0].status,
        Some(AppUserStatus::Unknown("BRAND_NEW".into()))
    );
    assert_eq!(page.items[0].sync_state, Some(AppUserSyncState::Error));
    assert_eq!(page.next, None);
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let server = TestServer::start(|_, _| {
        Reply::Delayed(
            Duration::from_millis(50),
            Box::new(json(200, app_json("0oa1"))),
        )
    })
    .await;
    let mut config = server.config(AuthConfig::Ssws {
        token: TOKEN.to_owned().into(),
    });
    config.tuning.max_concurrency = 2;
    let client = OktaClient::new(config).expect("valid");
    let app = AppId::new("0oa1");
    let calls = (0..8).map(|_| client.get_app(&app));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.requests().len(), 8);
    let (now, max) = *server.in_flight.lock().expect("lock");
    assert_eq!(now, 0);
    assert!(max <= 2, "at most 2 in flight, saw {max}");
}

#[tokio::test]
async fn reads_parse_spec_shaped_bodies() {
    let server = TestServer::start(|req, _| match req.path() {
        "/api/v1/agentPools" => json(200, r#"[{"id":"0oaPool","name":"corp.example.com","type":"AD","operationalStatus":"DISRUPTED","disruptedAgents":1,"inactiveAgents":0,"agents":[{"id":"a53","name":"DC1","type":"AD","operationalStatus":"DISRUPTED","lastConnection":1700000000000,"poolId":"0oaPool","version":"3.16.0","isHidden":false}]}]"#),
        "/api/v1/logs" => json(200, r#"[{"uuid":"e1","published":"2024-05-01T10:00:01.123Z","eventType":"application.provision.user.sync","version":"0","severity":"ERROR","displayMessage":"Sync user in external application","actor":{"id":"0oa1","type":"PublicClientApp","alternateId":"x","displayName":"AD"},"outcome":{"result":"FAILURE","reason":null},"target":[{"id":"00u1","type":"User","alternateId":"a@example.com","displayName":"A"}],"transaction":{"id":"t"},"debugContext":{"debugData":{"requestId":"r"}}}]"#)
            .header("Link", format!("<http://{}/api/v1/logs?limit=1000&after=1700000001123_1>; rel=\"next\"", req.header("host").unwrap_or_default())),
        "/api/v1/apps/0oa1/connections/default" => json(200, r#"{"authScheme":"TOKEN","status":"DISABLED","profile":{"authScheme":"TOKEN"},"_links":{}}"#),
        "/api/v1/apps/0oa1/features/USER_PROVISIONING" => json(200, r#"{"name":"USER_PROVISIONING","status":"ENABLED","description":"User provisioning settings","capabilities":{"create":{"lifecycleCreate":{"status":"DISABLED"}},"update":{"lifecycleDeactivate":{"status":"DISABLED"},"profile":{"status":"ENABLED"}}},"_links":{}}"#),
        _ => json(200, r#"{"id":"00u1","externalId":"x","scope":"USER","status":"PROVISIONED","syncState":"ERROR","lastSync":"2024-05-01T10:00:00.000Z","profile":{"email":"a@example.com"},"credentials":{"userName":"a"}}"#),
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let pools = client.list_agent_pools("AD").await.expect("pools");
    assert_eq!(
        pools[0].agents[0].operational_status,
        Some(OperationalStatus::Disrupted)
    );
    assert_eq!(pools[0].agents[0].last_connection, Some(1_700_000_000_000));
    let since = chrono::Utc::now();
    let logs = client
        .list_logs(LogsRequest::Since {
            since,
            filter: None,
        })
        .await
        .expect("logs");
    let ev = &logs.items[0];
    assert_eq!(ev.event_type, "application.provision.user.sync");
    assert_eq!(ev.outcome.as_ref().and_then(|o| o.reason.clone()), None);
    let next = logs.next.expect("polling always has a next link");
    assert_eq!(next.url().query(), Some("limit=1000&after=1700000001123_1"));
    let app = AppId::new("0oa1");
    let conn = client
        .get_provisioning_connection(&app)
        .await
        .expect("conn");
    assert_eq!(conn.status, ProvisioningConnectionStatus::Disabled);
    let f = client
        .get_user_provisioning_feature(&app)
        .await
        .expect("feature");
    let create = f
        .capabilities
        .and_then(|c| c.create)
        .and_then(|c| c.lifecycle_create);
    assert_eq!(create.map(|s| s.status), Some(EnabledStatus::Disabled));
    let au = client
        .get_app_user(&app, &UserId::new("00u1"))
        .await
        .expect("app user");
    assert_eq!(au.sync_state, Some(AppUserSyncState::Error));
    let mut profile = serde_json::Map::new();
    profile.insert("email".into(), "b@example.com".into());
    client
        .update_app_user_profile(
            &app,
            &UserId::new("00u1"),
            &AppUserUpdateRequest { profile },
        )
        .await
        .expect("update");
    client
        .activate_provisioning_connection(&app)
        .await
        .expect("activate");
    let r = server.requests();
    assert_eq!(r[0].target, "/api/v1/agentPools?poolType=AD");
    let last = &r[r.len() - 2];
    assert_eq!(
        (last.method.as_str(), last.target.as_str()),
        ("POST", "/api/v1/apps/0oa1/users/00u1")
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&last.body).expect("json"),
        serde_json::json!({"profile": {"email": "b@example.com"}})
    );
}

#[tokio::test]
async fn rate_limit_give_up_is_reported_as_such() {
    let server = TestServer::start(|_, _| {
        okta_error(
            429,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        )
        .header("X-Rate-Limit-Limit", "100")
        .header("X-Rate-Limit-Remaining", "0")
        .header("X-Rate-Limit-Reset", epoch_now().to_string())
    })
    .await;
    let mut config = server.config(AuthConfig::Ssws {
        token: TOKEN.to_owned().into(),
    });
    config.tuning.max_retries = 1;
    let client = OktaClient::new(config).expect("valid");
    let err = client
        .list_apps(PageRequest::First)
        .await
        .expect_err("gives up");
    assert!(err.is_rate_limited(), "{err:?}");
    assert!(
        matches!(err, ApiError::RetriesExhausted { attempts: 2, .. }),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 2);
    assert_eq!(client.governor_stats().rate_limited_waits(), 2);
}

#[tokio::test]
async fn one_link_header_per_rel_with_after_the_last_id_as_okta_sends_them() {
    let server = TestServer::start(|req, i| {
        let base = format!("http://{}", req.header("host").unwrap_or_default());
        let path = "/api/v1/apps/0oa1/group-push/mappings";
        match i {
            0 => json(
                200,
                r#"[{"created":"2026-03-25T13:45:47Z","id":"gPm1","lastUpdated":"2026-03-25T13:46:14Z","sourceGroupId":"00g1","status":"INACTIVE","targetGroupId":"00gT1"}]"#,
            )
            .header("Link", format!("<{base}{path}?after=&limit=1000>; rel=\"self\""))
            .header("Link", format!("<{base}{path}?after=gPm1&limit=1000>; rel=\"next\"")),
            _ => json(
                200,
                r#"[{"created":"2026-03-25T13:45:48.000Z","id":"gPm2","lastUpdated":"2026-03-25T13:46:14.000Z","sourceGroupId":"00g2","status":"ACTIVE","targetGroupId":"00gT2"}]"#,
            )
            .header("Link", format!("<{base}{path}?after=gPm1&limit=1000>; rel=\"self\"")),
        }
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let app = AppId::new("0oa1");
    let first = client
        .list_push_mappings(&app, None, PageRequest::First)
        .await
        .expect("first page");
    // Whole seconds and milliseconds both read.
    assert!(first.items[0].last_updated.is_some());
    let next = first.next.expect("a next link");
    let second = client
        .list_push_mappings(&app, None, PageRequest::Next(next))
        .await
        .expect("second page");
    assert_eq!(second.items[0].id, MappingId::new("gPm2"));
    assert!(second.items[0].created.is_some());
    assert_eq!(second.next, None);
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            "/api/v1/apps/0oa1/group-push/mappings?limit=1000",
            "/api/v1/apps/0oa1/group-push/mappings?after=gPm1&limit=1000"
        ]
    );
}

#[tokio::test]
async fn null_names_labels_features_and_profiles_do_not_drop_a_page() {
    let server = TestServer::start(|req, _| {
        if req.path().ends_with("/users") {
            json(
                200,
                r#"[{"id":"00u1","externalId":null,"scope":"USER","status":"PROVISIONED","syncState":"ERROR","passwordChanged":null,"profile":null,"credentials":null},{"id":"00u2","status":"ACTIVE","syncState":"SYNCHRONIZED","profile":{"email":null,"title":"x"}}]"#,
            )
        } else {
            json(
                200,
                format!(
                    r#"[{},{{"id":"0oa2","name":null,"label":null,"status":"ACTIVE","features":null,"signOnMode":null,"universalLogout":null}}]"#,
                    app_json("0oa1")
                ),
            )
        }
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let apps = client
        .list_apps(PageRequest::First)
        .await
        .expect("the page reads");
    assert_eq!(apps.items.len(), 2);
    let nulls = &apps.items[1];
    assert_eq!((nulls.name.as_str(), nulls.label.as_str()), ("", ""));
    assert!(nulls.features.is_empty() && nulls.sign_on_mode.is_none());
    let users = client
        .list_app_users(&AppId::new("0oa1"), PageRequest::First)
        .await
        .expect("the page reads");
    assert_eq!(users.items.len(), 2);
    assert!(users.items[0].profile.is_empty());
    assert_eq!(users.items[0].sync_state, Some(AppUserSyncState::Error));
    assert_eq!(users.items[1].profile["email"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_403_names_the_scope_its_challenge_asks_for() {
    let server = TestServer::start(|_, _| {
        okta_error(403, "E0000006", "You do not have permission to perform the requested action")
            .header(
                "WWW-Authenticate",
                "Bearer authorization_uri=\"http://x/oauth2/v1/authorize\", realm=\"http://x\", scope=\"okta.apps.read\", error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", resource=\"/api/v1/apps\"",
            )
    })
    .await;
    let client = server.ssws_client(TOKEN);
    let err = client.list_apps(PageRequest::First).await.expect_err("403");
    assert_eq!(err.kind(), ApiErrorKind::Authorization);
    assert_eq!(err.required_scope(), Some("okta.apps.read"));
    assert!(
        err.to_string().contains("lacks scope okta.apps.read"),
        "{err}"
    );
}

#[tokio::test]
async fn every_failure_has_its_kind() {
    let cases: Vec<(Reply, ApiErrorKind)> = vec![
        (
            okta_error(401, "E0000011", "Invalid token provided"),
            ApiErrorKind::Authentication,
        ),
        (
            okta_error(
                401,
                "E0000015",
                "You do not have permission to access the feature you are requesting",
            ),
            ApiErrorKind::Authorization,
        ),
        (
            okta_error(403, "E0000006", "no"),
            ApiErrorKind::Authorization,
        ),
        (
            okta_error(
                404,
                "E0000007",
                "Not found: Resource not found: 0oa1 (AppInstance)",
            ),
            ApiErrorKind::NotFound,
        ),
        (
            okta_error(400, "E0000001", "Api validation failed"),
            ApiErrorKind::Rejected,
        ),
        (
            okta_error(429, "E0000047", "rate").header("X-Rate-Limit-Reset", "0"),
            ApiErrorKind::RateLimited,
        ),
        (
            okta_error(500, "E0000009", "Internal Server Error"),
            ApiErrorKind::ServerError,
        ),
        (json(200, "[{\"id\": nope}]"), ApiErrorKind::MalformedBody),
        (Reply::Drop, ApiErrorKind::Unreachable),
    ];
    for (reply, kind) in cases {
        let reply = std::sync::Mutex::new(Some(reply));
        let server = TestServer::start(move |_, _| {
            reply.lock().expect("lock").take().unwrap_or(Reply::Drop)
        })
        .await;
        let mut config = server.config(AuthConfig::Ssws {
            token: TOKEN.to_owned().into(),
        });
        config.tuning.max_retries = 0;
        let client = OktaClient::new(config).expect("valid");
        let err = client
            .list_apps(PageRequest::First)
            .await
            .expect_err("fails");
        assert_eq!(err.kind(), kind, "{err:?}");
        let chain = remediator::error_chain::error_chain(&err);
        assert!(
            chain.contains("GET /api/v1/apps"),
            "names the request: {chain}"
        );
        assert_eq!(
            err.endpoint().map(Endpoint::template),
            Some("GET /api/v1/apps".into())
        );
        assert!(!format!("{err} {err:?}").contains(TOKEN));
    }
}
