//! The client against okta-sim's hostile-network fault modes over loopback: paging that loops,
//! repeats items or points at another origin; bodies too large to hold or that stall; JSON cut
//! short or garbage on every endpoint the client reads. Each ends in a typed error (a listing
//! incomplete with its reason, a body refused at its bound), never a hang, never "complete".

use std::time::Duration;

use crate::support::sim::{all_app_ids, clear_faults, client, fault, healthy, peak_rss_mb, serve};
use chrono::Utc;
use okta_sim::{generate, FaultKind, GenerateSpec, SimHandle, GENERATED_API_TOKEN};
use remediator::observe::{observe, LogStart};
use remediator::okta::{
    ApiError, ApiErrorKind, AppId, ClientTuning, ListingProblem, LogsRequest, OktaClient, OrgApi,
    PageRequest, UserId, MAX_OBJECT_BODY_BYTES, MAX_PAGE_BODY_BYTES,
};
use remediator::policy::Policy;

const HEALTHY_TOKEN: &str = "test-token-healthy";

/// 450 apps: three pages of `GET /api/v1/apps`.
async fn three_pages_of_apps() -> SimHandle {
    let scenario = generate(GenerateSpec {
        users: 20,
        apps: 450,
        assignments: 40,
        error_ratio: 0.0,
        seed: 11,
    });
    serve(scenario).await
}

fn problem(err: &ApiError) -> &ListingProblem {
    assert_eq!(err.kind(), ApiErrorKind::ListingIncomplete, "{err:?}");
    err.listing_problem().expect("a listing problem")
}

#[tokio::test]
async fn a_next_link_back_to_the_first_page_is_a_loop_not_a_hang() {
    let sim = three_pages_of_apps().await;
    let api = client(&sim, GENERATED_API_TOKEN, ClientTuning::default());
    fault(&sim, "/api/v1/apps", FaultKind::NextLoop, 1, 1).await;
    let err = all_app_ids(&api).await.expect_err("a loop");
    assert_eq!(problem(&err), &ListingProblem::LinkLoop { page: 3 });
    assert!(err.to_string().contains("GET /api/v1/apps"), "{err}");
    assert_eq!(sim.stats().count("GET /api/v1/apps"), 2, "never the loop");
}

#[tokio::test]
async fn an_empty_page_whose_next_is_itself_is_a_loop_not_the_end() {
    let sim = three_pages_of_apps().await;
    let api = client(&sim, GENERATED_API_TOKEN, ClientTuning::default());
    fault(&sim, "/api/v1/apps", FaultKind::EmptyPageLoop, 1, 1).await;
    let err = all_app_ids(&api).await.expect_err("a loop");
    assert_eq!(problem(&err), &ListingProblem::LinkLoop { page: 3 });
    assert_eq!(sim.stats().count("GET /api/v1/apps"), 2);
}

#[tokio::test]
async fn items_repeated_across_pages_fail_the_listing() {
    let sim = three_pages_of_apps().await;
    let api = client(&sim, GENERATED_API_TOKEN, ClientTuning::default());
    fault(
        &sim,
        "/api/v1/apps",
        FaultKind::DuplicateItems { overlap: Some(1) },
        1,
        0,
    )
    .await;
    let err = all_app_ids(&api).await.expect_err("an item twice");
    let ListingProblem::RepeatedItem { id, page } = problem(&err) else {
        panic!("expected a repeated item: {err:?}");
    };
    assert_eq!(*page, 2);
    assert!(id.starts_with("0oa"), "{id}");
    // Without the fault the same org lists 450 distinct apps.
    clear_faults(&sim).await;
    assert_eq!(all_app_ids(&api).await.expect("clean").len(), 450);
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused_and_never_followed() {
    let sim = healthy().await;
    let api = client(&sim, HEALTHY_TOKEN, ClientTuning::default());
    fault(
        &sim,
        "/api/v1/apps",
        FaultKind::ForeignNext { origin: None },
        1,
        0,
    )
    .await;
    let err = all_app_ids(&api).await.expect_err("foreign");
    assert_eq!(
        problem(&err),
        &ListingProblem::ForeignNext {
            origin: "https://okta-sim-foreign.invalid:8443".into()
        }
    );
    assert_eq!(sim.stats().count("GET /api/v1/apps"), 1);
}

#[tokio::test]
async fn a_huge_body_is_refused_at_its_bound_and_not_retried() {
    let sim = healthy().await;
    let api = client(&sim, HEALTHY_TOKEN, ClientTuning::default());
    let past_page_bound = (MAX_PAGE_BODY_BYTES / (1024 * 1024)) as u64 + 8;
    fault(
        &sim,
        "/api/v1/apps",
        FaultKind::HugeBody {
            mebibytes: past_page_bound,
        },
        1,
        0,
    )
    .await;
    let err = api
        .list_apps(PageRequest::First)
        .await
        .expect_err("too large");
    assert_eq!(err.kind(), ApiErrorKind::BodyTooLarge, "{err:?}");
    assert!(
        matches!(err, ApiError::BodyTooLarge { limit_bytes, .. } if limit_bytes == MAX_PAGE_BODY_BYTES)
    );
    assert_eq!(sim.stats().count("GET /api/v1/apps"), 1, "never retried");

    // One object has a smaller bound.
    let past_object_bound = (MAX_OBJECT_BODY_BYTES / (1024 * 1024)) as u64 + 2;
    fault(
        &sim,
        "/api/v1/users/",
        FaultKind::HugeBody {
            mebibytes: past_object_bound,
        },
        1,
        0,
    )
    .await;
    let err = api
        .get_user(&UserId::new("00uhealthy0000000001"))
        .await
        .expect_err("too large");
    assert!(
        matches!(err, ApiError::BodyTooLarge { limit_bytes, .. } if limit_bytes == MAX_OBJECT_BODY_BYTES),
        "{err:?}"
    );
    // A padded body under the bound still reads.
    fault(
        &sim,
        "/api/v1/apps",
        FaultKind::HugeBody { mebibytes: 2 },
        1,
        0,
    )
    .await;
    let page = api
        .list_apps(PageRequest::First)
        .await
        .expect("2 MiB reads");
    assert!(!page.items.is_empty());
}

#[tokio::test]
async fn a_stalled_body_times_out_and_is_retried_when_safe() {
    let sim = healthy().await;
    // Bodies stall after half the request timeout (1 s) without a byte.
    let tuning = ClientTuning {
        request_timeout: Duration::from_secs(2),
        max_retries: 1,
        ..ClientTuning::default()
    };
    let api = client(&sim, HEALTHY_TOKEN, tuning);
    let stall = FaultKind::Stall {
        millis: 5_000,
        after_bytes: Some(10),
    };
    fault(&sim, "/api/v1/apps", stall.clone(), 1, 0).await;
    let page = api
        .list_apps(PageRequest::First)
        .await
        .expect("the retry reads the whole body");
    assert!(!page.items.is_empty());

    fault(&sim, "/api/v1/apps", stall, 2, 0).await;
    let err = api
        .list_apps(PageRequest::First)
        .await
        .expect_err("stalled twice");
    assert_eq!(err.kind(), ApiErrorKind::BodyStalled, "{err:?}");
    assert!(
        matches!(
            err.root(),
            ApiError::BodyStalled {
                received_bytes: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        err,
        ApiError::RetriesExhausted { attempts: 2, .. }
    ));
}

/// Every read the client makes, by the path prefix a fault rule matches.
async fn read(api: &OktaClient, endpoint: &str) -> Result<(), ApiError> {
    let app = AppId::new("0oahealthyslack00001");
    let user = UserId::new("00uhealthy0000000001");
    match endpoint {
        "apps" => api.list_apps(PageRequest::First).await.map(drop),
        "app" => api.get_app(&app).await.map(drop),
        "app users" => api.list_app_users(&app, PageRequest::First).await.map(drop),
        "app user" => api.get_app_user(&app, &user).await.map(drop),
        "features" => api.get_user_provisioning_feature(&app).await.map(drop),
        "connection" => api.get_provisioning_connection(&app).await.map(drop),
        "mappings" => api
            .list_push_mappings(&app, None, PageRequest::First)
            .await
            .map(drop),
        "user" => api.get_user(&user).await.map(drop),
        "logs" => api
            .list_logs(LogsRequest::Since {
                since: Utc::now() - chrono::Duration::days(1),
                filter: None,
            })
            .await
            .map(drop),
        "agent pools" => api.list_agent_pools("AD").await.map(drop),
        other => unreachable!("no read {other}"),
    }
}

const READS: &[(&str, &str)] = &[
    ("apps", "/api/v1/apps"),
    ("app", "/api/v1/apps/0oahealthyslack00001"),
    ("app users", "/api/v1/apps/0oahealthyslack00001/users"),
    (
        "app user",
        "/api/v1/apps/0oahealthyslack00001/users/00uhealthy",
    ),
    ("features", "/api/v1/apps/0oahealthyslack00001/features"),
    (
        "connection",
        "/api/v1/apps/0oahealthyslack00001/connections",
    ),
    ("mappings", "/api/v1/apps/0oahealthyslack00001/group-push"),
    ("user", "/api/v1/users/"),
    ("logs", "/api/v1/logs"),
    ("agent pools", "/api/v1/agentPools"),
];

#[tokio::test]
async fn garbage_json_on_every_endpoint_is_malformed_and_cut_json_is_retried() {
    let sim = healthy().await;
    let api = client(&sim, HEALTHY_TOKEN, ClientTuning::default());
    for (name, prefix) in READS {
        // The read works without a fault (so the fault, not the call, makes the error).
        if let Err(e) = read(&api, name).await {
            assert_ne!(e.kind(), ApiErrorKind::MalformedBody, "{name}: {e}");
        }
        fault(&sim, prefix, FaultKind::Malformed, 1, 0).await;
        let err = read(&api, name).await.expect_err("garbage");
        assert_eq!(err.kind(), ApiErrorKind::MalformedBody, "{name}: {err:?}");
        assert!(
            !matches!(err, ApiError::RetriesExhausted { .. }),
            "{name}: garbage is not retried"
        );
        fault(&sim, prefix, FaultKind::TruncatedJson, 1, 0).await;
        let again = read(&api, name).await;
        assert!(
            again
                .as_ref()
                .err()
                .is_none_or(|e| e.kind() != ApiErrorKind::MalformedBody),
            "{name}: JSON cut short is retried: {again:?}"
        );
    }
    let rules: Vec<serde_json::Value> = reqwest::Client::new()
        .get(format!("{}/__sim/faults", sim.base_url()))
        .send()
        .await
        .expect("control call")
        .json()
        .await
        .expect("fault list");
    for rule in rules {
        assert_eq!(rule["applied"], rule["count"], "{rule}");
    }
}

#[tokio::test]
async fn observe_calls_the_org_unreadable_for_each_paging_fault_of_the_app_list() {
    let sim = healthy().await;
    let api = client(&sim, HEALTHY_TOKEN, ClientTuning::default());
    let policy = Policy::default_embedded();
    for kind in [
        FaultKind::NextLoop,
        FaultKind::EmptyPageLoop,
        FaultKind::ForeignNext { origin: None },
        FaultKind::HugeBody {
            mebibytes: (MAX_PAGE_BODY_BYTES / (1024 * 1024)) as u64 + 1,
        },
    ] {
        clear_faults(&sim).await;
        fault(&sim, "/api/v1/apps", kind.clone(), 1, 0).await;
        let now = Utc::now();
        let since = LogStart::Since(now - chrono::Duration::days(1));
        // Every rule starts from the app list: without it the org is unreadable.
        let Err(unreadable) = observe(&api, sim.base_url(), &policy, since, now).await else {
            panic!("{kind:?}: an app list cut short was taken as the org");
        };
        let failure = &unreadable.failure;
        assert_eq!(failure.request, "GET /api/v1/apps", "{kind:?}");
        assert!(!failure.reason.is_empty(), "{kind:?}: no reason");
    }
}

/// The case: a 300 MB app-user listing and a 1 GB System Log page, streamed by the
/// simulator in this process (it never holds the padding). Prints the process's peak RSS and
/// the time to refuse each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn huge_bodies_are_refused_in_bounded_memory() {
    let sim = healthy().await;
    let api = client(&sim, HEALTHY_TOKEN, ClientTuning::default());
    let before = peak_rss_mb();
    for (prefix, mebibytes) in [
        ("/api/v1/apps/0oahealthyslack00001/users", 300),
        ("/api/v1/logs", 1024),
    ] {
        fault(&sim, prefix, FaultKind::HugeBody { mebibytes }, 1, 0).await;
        let started = std::time::Instant::now();
        let err = if prefix.ends_with("users") {
            api.list_app_users(&AppId::new("0oahealthyslack00001"), PageRequest::First)
                .await
                .map(drop)
                .expect_err("too large")
        } else {
            read(&api, "logs").await.expect_err("too large")
        };
        assert_eq!(err.kind(), ApiErrorKind::BodyTooLarge, "{err}");
        println!(
            "{prefix}: {mebibytes} MiB body refused in {:.2} s; peak RSS {:.0} MB (before: {before:.0} MB)",
            started.elapsed().as_secs_f64(),
            peak_rss_mb()
        );
    }
}
