//! `okta`: the Okta Management API client and the `OrgApi` trait the rest of remediator uses.
//!
//! Submodules: `config` (SDK-style settings), `auth` (SSWS and OAuth 2.0 private_key_jwt),
//! `ratelimit` (per-bucket governor), `client` (transport, retries), `body` (bounded bodies),
//! `paging` (pages, `Link` headers, the bounded and loop-safe trail of a listing), `urls` (paths
//! on the org, nowhere else), `model` (wire types), `ids` (typed ids), `events` (System Log event
//! types), `error` (`ApiError` and its kinds), `admin` (non-public admin calls).

mod admin;
mod auth;
mod body;
mod client;
mod config;
mod error;
mod events;
#[doc(hidden)]
pub mod fuzzing;
mod ids;
mod model;
mod paging;
mod ratelimit;
mod urls;

pub use admin::AdminApi;
pub use body::{
    MAX_BODY_IDLE, MAX_ERROR_BODY_BYTES, MAX_OBJECT_BODY_BYTES, MAX_PAGE_BODY_BYTES,
    MAX_TOKEN_BODY_BYTES,
};
pub use client::{OktaClient, RequestObserver};
pub use config::{
    parse_org_url, AdminPaths, AuthConfig, ClientTuning, ConfigError, ConfigSources, OktaConfig,
    DEFAULT_FORCE_SYNC_PATH, DEFAULT_MAX_CONCURRENCY, DEFAULT_RATE_LIMIT_HEADROOM,
    DEFAULT_RETRY_TASKS_PATH, DEFAULT_SCOPES, MAX_CONCURRENCY_LIMIT,
};
pub use error::{
    ApiError, ApiErrorKind, Endpoint, OktaError, E_FEATURE_NOT_PERMITTED, E_FORBIDDEN,
    E_INVALID_TOKEN,
};
pub use events::{
    is_relevant, relevant_events_filter, EventFamily, EventType, Selector, RELEVANT_EVENTS,
};
pub(crate) use ids::string_id;
pub use ids::{AgentId, AgentPoolId, AppId, GroupId, MappingId, UserId};
pub use model::*;
pub use paging::{
    ListingProblem, NextPage, Page, PageRequest, MAX_APPS_PAGES, MAX_APP_USERS_PAGES,
    MAX_EMPTY_PAGES_IN_A_ROW, MAX_LOGS_PAGES, MAX_PUSH_MAPPINGS_PAGES,
};
pub use ratelimit::{classify, Bucket, GovernorStats};
pub use urls::{org_path_problem, PATH_PLACEHOLDERS};

use chrono::{DateTime, SecondsFormat, Utc};
use client::{Call, Idempotency};
use paging::Listed;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::IgnoredAny;
use std::future::Future;

/// Largest page of `GET /api/v1/apps`.
pub const APPS_PAGE_LIMIT: u32 = 200;
/// Largest page of `GET /api/v1/apps/{appId}/users`.
pub const APP_USERS_PAGE_LIMIT: u32 = 500;
/// Largest page of `GET /api/v1/apps/{appId}/group-push/mappings`.
pub const PUSH_MAPPINGS_PAGE_LIMIT: u32 = 1000;
/// Largest page of `GET /api/v1/logs`.
pub const LOGS_PAGE_LIMIT: u32 = 1000;
/// Largest page of `GET /api/v1/users`.
pub const USERS_PAGE_LIMIT: u32 = 200;
/// Okta's error code for a validation failure (features of an app without provisioning).
pub const E_VALIDATION: &str = "E0000001";

/// Where a System Log read starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogsRequest {
    /// The first page: events published at or after `since`, matching `filter` (Okta's SCIM
    /// filter syntax, e.g. `eventType eq "application.provision.user.sync"`).
    Since {
        /// Lower bound on `published`.
        since: DateTime<Utc>,
        /// Optional filter expression.
        filter: Option<String>,
    },
    /// Continue polling from a previous page's `next`.
    Next(NextPage),
}

/// The Okta operations remediator needs, at the boundary (implemented by [`OktaClient`];
/// tests may use a fake). Listings return one page at a time so callers can stream.
pub trait OrgApi: Send + Sync {
    /// `GET /api/v1/apps`.
    fn list_apps(
        &self,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Application>, ApiError>> + Send;
    /// `GET /api/v1/apps/{appId}`.
    fn get_app(&self, app: &AppId) -> impl Future<Output = Result<Application, ApiError>> + Send;
    /// `GET /api/v1/apps/{appId}/users`.
    fn list_app_users(
        &self,
        app: &AppId,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<AppUser>, ApiError>> + Send;
    /// `GET /api/v1/apps/{appId}/users?expand=user`: each app user with its Okta user embedded
    /// (`_embedded.user`), to compare directory attributes with Okta profiles in one listing.
    fn list_app_users_with_user(
        &self,
        app: &AppId,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<AppUser>, ApiError>> + Send;
    /// `GET /api/v1/apps/{appId}/users/{userId}`.
    fn get_app_user(
        &self,
        app: &AppId,
        user: &UserId,
    ) -> impl Future<Output = Result<AppUser, ApiError>> + Send;
    /// `POST /api/v1/apps/{appId}/users/{userId}` with `{"profile": ...}` (re-push).
    fn update_app_user_profile(
        &self,
        app: &AppId,
        user: &UserId,
        update: &AppUserUpdateRequest,
    ) -> impl Future<Output = Result<AppUser, ApiError>> + Send;
    /// `GET /api/v1/apps/{appId}/features`; 400 `E0000001` becomes
    /// [`FeaturesOutcome::ProvisioningNotEnabled`].
    fn get_app_features(
        &self,
        app: &AppId,
    ) -> impl Future<Output = Result<FeaturesOutcome, ApiError>> + Send;
    /// `GET /api/v1/apps/{appId}/features/USER_PROVISIONING`.
    fn get_user_provisioning_feature(
        &self,
        app: &AppId,
    ) -> impl Future<Output = Result<ApplicationFeature, ApiError>> + Send;
    /// `PUT /api/v1/apps/{appId}/features/USER_PROVISIONING` with a partial capabilities object.
    fn update_user_provisioning_feature(
        &self,
        app: &AppId,
        capabilities: &CapabilitiesObject,
    ) -> impl Future<Output = Result<ApplicationFeature, ApiError>> + Send;
    /// `GET /api/v1/apps/{appId}/connections/default`.
    fn get_provisioning_connection(
        &self,
        app: &AppId,
    ) -> impl Future<Output = Result<ProvisioningConnection, ApiError>> + Send;
    /// `POST /api/v1/apps/{appId}/connections/default` with a token connection (and the
    /// `baseUrl` an Org2Org connection carries). Without `activate` (the recorded form) Okta
    /// stores it and leaves the connection DISABLED; `activate` adds `?activate=true`.
    fn set_provisioning_connection_token(
        &self,
        app: &AppId,
        token: &SecretString,
        base_url: Option<&str>,
        activate: bool,
    ) -> impl Future<Output = Result<ProvisioningConnection, ApiError>> + Send;
    /// `POST .../connections/default/lifecycle/activate`.
    fn activate_provisioning_connection(
        &self,
        app: &AppId,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `POST .../connections/default/lifecycle/deactivate`.
    fn deactivate_provisioning_connection(
        &self,
        app: &AppId,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `GET /api/v1/apps/{appId}/group-push/mappings`, optionally filtered by status.
    fn list_push_mappings(
        &self,
        app: &AppId,
        status: Option<GroupPushMappingStatus>,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<GroupPushMapping>, ApiError>> + Send;
    /// `GET /api/v1/apps/{appId}/group-push/mappings?limit=1&status=...`: whether the app has
    /// at least one mapping in `status`, in one request.
    fn has_push_mapping(
        &self,
        app: &AppId,
        status: GroupPushMappingStatus,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;
    /// `PATCH /api/v1/apps/{appId}/group-push/mappings/{mappingId}`.
    fn update_push_mapping_status(
        &self,
        app: &AppId,
        mapping: &MappingId,
        status: PushMappingTarget,
    ) -> impl Future<Output = Result<GroupPushMapping, ApiError>> + Send;
    /// `DELETE /api/v1/apps/{appId}/group-push/mappings/{mappingId}?deleteTargetGroup=`.
    fn delete_push_mapping(
        &self,
        app: &AppId,
        mapping: &MappingId,
        delete_target_group: bool,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `GET /api/v1/users/{id}`.
    fn get_user(&self, user: &UserId) -> impl Future<Output = Result<User, ApiError>> + Send;
    /// `GET /api/v1/logs` (polling: keep following `next`).
    fn list_logs(
        &self,
        request: LogsRequest,
    ) -> impl Future<Output = Result<Page<LogEvent>, ApiError>> + Send;
    /// `GET /api/v1/agentPools?poolType=`.
    fn list_agent_pools(
        &self,
        pool_type: &str,
    ) -> impl Future<Output = Result<Vec<AgentPool>, ApiError>> + Send;
}

/// An id as a path segment (refused when it would name another path).
fn seg(id: &str) -> Result<String, ApiError> {
    urls::segment(id)
}

impl OktaClient {
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let url = self.url(path, query)?;
        self.send(Method::GET, url, None, Idempotency::Idempotent)
            .await
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&(dyn client::ErasedJson + Sync)>,
        idempotency: Idempotency,
    ) -> Result<T, ApiError> {
        let call = Call {
            method,
            url,
            body,
            idempotency,
            max_body_bytes: MAX_OBJECT_BODY_BYTES,
        };
        Ok(self.execute::<T>(call).await?.0)
    }

    /// One page of the listing at `path` (the first page's query pairs given), at most
    /// `max_pages` pages in all.
    async fn list<T: serde::de::DeserializeOwned + Listed>(
        &self,
        page: PageRequest,
        path: &str,
        query: &[(&str, &str)],
        max_pages: u32,
    ) -> Result<Page<T>, ApiError> {
        self.get_page(page, || self.url(path, query), max_pages)
            .await
    }
}

impl OrgApi for OktaClient {
    async fn list_apps(&self, page: PageRequest) -> Result<Page<Application>, ApiError> {
        let limit = APPS_PAGE_LIMIT.to_string();
        self.list(page, "/api/v1/apps", &[("limit", &limit)], MAX_APPS_PAGES)
            .await
    }

    async fn get_app(&self, app: &AppId) -> Result<Application, ApiError> {
        self.get_json(&format!("/api/v1/apps/{}", seg(app.as_str())?), &[])
            .await
    }

    async fn list_app_users(
        &self,
        app: &AppId,
        page: PageRequest,
    ) -> Result<Page<AppUser>, ApiError> {
        let limit = APP_USERS_PAGE_LIMIT.to_string();
        let path = format!("/api/v1/apps/{}/users", seg(app.as_str())?);
        self.list(page, &path, &[("limit", &limit)], MAX_APP_USERS_PAGES)
            .await
    }

    async fn list_app_users_with_user(
        &self,
        app: &AppId,
        page: PageRequest,
    ) -> Result<Page<AppUser>, ApiError> {
        let limit = APP_USERS_PAGE_LIMIT.to_string();
        let path = format!("/api/v1/apps/{}/users", seg(app.as_str())?);
        self.list(
            page,
            &path,
            &[("limit", &limit), ("expand", "user")],
            MAX_APP_USERS_PAGES,
        )
        .await
    }

    async fn get_app_user(&self, app: &AppId, user: &UserId) -> Result<AppUser, ApiError> {
        let path = format!(
            "/api/v1/apps/{}/users/{}",
            seg(app.as_str())?,
            seg(user.as_str())?
        );
        self.get_json(&path, &[]).await
    }

    async fn update_app_user_profile(
        &self,
        app: &AppId,
        user: &UserId,
        update: &AppUserUpdateRequest,
    ) -> Result<AppUser, ApiError> {
        let path = format!(
            "/api/v1/apps/{}/users/{}",
            seg(app.as_str())?,
            seg(user.as_str())?
        );
        let url = self.url(&path, &[])?;
        // Setting a profile to a given value twice has the effect of setting it once.
        self.send(Method::POST, url, Some(update), Idempotency::Idempotent)
            .await
    }

    async fn get_app_features(&self, app: &AppId) -> Result<FeaturesOutcome, ApiError> {
        let path = format!("/api/v1/apps/{}/features", seg(app.as_str())?);
        match self.get_json::<Vec<ApplicationFeature>>(&path, &[]).await {
            Ok(f) => Ok(FeaturesOutcome::Features(f)),
            Err(e) if e.status() == Some(400) && e.error_code() == Some(E_VALIDATION) => {
                Ok(FeaturesOutcome::ProvisioningNotEnabled)
            }
            Err(e) => Err(e),
        }
    }

    async fn get_user_provisioning_feature(
        &self,
        app: &AppId,
    ) -> Result<ApplicationFeature, ApiError> {
        let path = format!(
            "/api/v1/apps/{}/features/USER_PROVISIONING",
            seg(app.as_str())?
        );
        self.get_json(&path, &[]).await
    }

    async fn update_user_provisioning_feature(
        &self,
        app: &AppId,
        capabilities: &CapabilitiesObject,
    ) -> Result<ApplicationFeature, ApiError> {
        let path = format!(
            "/api/v1/apps/{}/features/USER_PROVISIONING",
            seg(app.as_str())?
        );
        let url = self.url(&path, &[])?;
        self.send(
            Method::PUT,
            url,
            Some(capabilities),
            Idempotency::Idempotent,
        )
        .await
    }

    async fn get_provisioning_connection(
        &self,
        app: &AppId,
    ) -> Result<ProvisioningConnection, ApiError> {
        let path = format!("/api/v1/apps/{}/connections/default", seg(app.as_str())?);
        self.get_json(&path, &[]).await
    }

    async fn set_provisioning_connection_token(
        &self,
        app: &AppId,
        token: &SecretString,
        base_url: Option<&str>,
        activate: bool,
    ) -> Result<ProvisioningConnection, ApiError> {
        let path = format!("/api/v1/apps/{}/connections/default", seg(app.as_str())?);
        let query: &[(&str, &str)] = if activate {
            &[("activate", "true")]
        } else {
            &[]
        };
        let url = self.url(&path, query)?;
        let mut body = serde_json::json!({
            "profile": { "authScheme": "TOKEN", "token": token.expose_secret() }
        });
        if let Some(base_url) = base_url {
            body["baseUrl"] = serde_json::Value::from(base_url);
        }
        self.send(Method::POST, url, Some(&body), Idempotency::Idempotent)
            .await
    }

    async fn activate_provisioning_connection(&self, app: &AppId) -> Result<(), ApiError> {
        let path = format!(
            "/api/v1/apps/{}/connections/default/lifecycle/activate",
            seg(app.as_str())?
        );
        let url = self.url(&path, &[])?;
        self.send::<IgnoredAny>(Method::POST, url, None, Idempotency::Idempotent)
            .await
            .map(drop)
    }

    async fn deactivate_provisioning_connection(&self, app: &AppId) -> Result<(), ApiError> {
        let path = format!(
            "/api/v1/apps/{}/connections/default/lifecycle/deactivate",
            seg(app.as_str())?
        );
        let url = self.url(&path, &[])?;
        self.send::<IgnoredAny>(Method::POST, url, None, Idempotency::Idempotent)
            .await
            .map(drop)
    }

    async fn list_push_mappings(
        &self,
        app: &AppId,
        status: Option<GroupPushMappingStatus>,
        page: PageRequest,
    ) -> Result<Page<GroupPushMapping>, ApiError> {
        let limit = PUSH_MAPPINGS_PAGE_LIMIT.to_string();
        let path = format!("/api/v1/apps/{}/group-push/mappings", seg(app.as_str())?);
        let mut query = vec![("limit", limit.as_str())];
        if let Some(s) = &status {
            query.push(("status", s.as_str()));
        }
        self.list(page, &path, &query, MAX_PUSH_MAPPINGS_PAGES)
            .await
    }

    async fn has_push_mapping(
        &self,
        app: &AppId,
        status: GroupPushMappingStatus,
    ) -> Result<bool, ApiError> {
        let path = format!("/api/v1/apps/{}/group-push/mappings", seg(app.as_str())?);
        let query = [("limit", "1"), ("status", status.as_str())];
        let page: Page<GroupPushMapping> = self.list(PageRequest::First, &path, &query, 1).await?;
        Ok(!page.items.is_empty())
    }

    async fn update_push_mapping_status(
        &self,
        app: &AppId,
        mapping: &MappingId,
        status: PushMappingTarget,
    ) -> Result<GroupPushMapping, ApiError> {
        let path = format!(
            "/api/v1/apps/{}/group-push/mappings/{}",
            seg(app.as_str())?,
            seg(mapping.as_str())?
        );
        let url = self.url(&path, &[])?;
        let body = serde_json::json!({ "status": status });
        self.send(Method::PATCH, url, Some(&body), Idempotency::Idempotent)
            .await
    }

    async fn delete_push_mapping(
        &self,
        app: &AppId,
        mapping: &MappingId,
        delete_target_group: bool,
    ) -> Result<(), ApiError> {
        let path = format!(
            "/api/v1/apps/{}/group-push/mappings/{}",
            seg(app.as_str())?,
            seg(mapping.as_str())?
        );
        let flag = if delete_target_group { "true" } else { "false" };
        let url = self.url(&path, &[("deleteTargetGroup", flag)])?;
        self.send::<IgnoredAny>(Method::DELETE, url, None, Idempotency::Idempotent)
            .await
            .map(drop)
    }

    async fn get_user(&self, user: &UserId) -> Result<User, ApiError> {
        self.get_json(&format!("/api/v1/users/{}", seg(user.as_str())?), &[])
            .await
    }

    async fn list_logs(&self, request: LogsRequest) -> Result<Page<LogEvent>, ApiError> {
        let limit = LOGS_PAGE_LIMIT.to_string();
        match request {
            LogsRequest::Next(next) => {
                self.list(PageRequest::Next(next), "/api/v1/logs", &[], MAX_LOGS_PAGES)
                    .await
            }
            LogsRequest::Since { since, filter } => {
                let since = since.to_rfc3339_opts(SecondsFormat::Millis, true);
                let mut query = vec![("since", since.as_str()), ("limit", limit.as_str())];
                if let Some(f) = &filter {
                    query.push(("filter", f.as_str()));
                }
                self.list(PageRequest::First, "/api/v1/logs", &query, MAX_LOGS_PAGES)
                    .await
            }
        }
    }

    async fn list_agent_pools(&self, pool_type: &str) -> Result<Vec<AgentPool>, ApiError> {
        self.get_json("/api/v1/agentPools", &[("poolType", pool_type)])
            .await
    }
}
