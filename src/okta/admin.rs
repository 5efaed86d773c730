//! Admin calls that are NOT part of Okta's public Management API: Force Sync of a directory
//! integration and the retry of failed provisioning tasks.
//!
//! Source: these are the calls the Admin Console makes (Directory > Force Sync, Dashboard >
//! Tasks > Retry Selected); Okta documents no public endpoint for either (its published
//! Management API description has neither, and it says an app user in `syncState: ERROR` needs
//! its task resolved in the Admin Console before a re-push). Okta may change them at any time, so each path is a template from
//! configuration ([`AdminPaths`](super::AdminPaths)) and a call refuses to run when its
//! template is not configured. `{appId}` in a template is replaced by the app id.

use super::client::{Idempotency, OktaClient};
use super::error::ApiError;
use super::ids::{AppId, UserId};
use reqwest::Method;
use serde::de::IgnoredAny;
use serde::Serialize;
use std::future::Future;

/// Placeholder for the app id in a path template.
const APP_ID_PLACEHOLDER: &str = "{appId}";

/// The non-public admin calls (off unless configured).
pub trait AdminApi: Send + Sync {
    /// Triggers Force Sync of the directory integration `app`.
    fn force_sync_directory(
        &self,
        app: &AppId,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// Retries the failed provisioning tasks of `users` in `app`.
    fn retry_failed_tasks(
        &self,
        app: &AppId,
        users: &[UserId],
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RetryTasksBody<'a> {
    user_ids: &'a [UserId],
}

fn fill(template: &str, app: &AppId) -> String {
    let id: String = url::form_urlencoded::byte_serialize(app.as_str().as_bytes()).collect();
    template.replace(APP_ID_PLACEHOLDER, &id)
}

impl AdminApi for OktaClient {
    async fn force_sync_directory(&self, app: &AppId) -> Result<(), ApiError> {
        let Some(template) = self.admin_paths().force_sync.clone() else {
            return Err(ApiError::AdminCallNotConfigured {
                call: "force_sync_directory",
            });
        };
        let url = self.url(&fill(&template, app), &[])?;
        let call = super::client::Call {
            method: Method::POST,
            url,
            body: None,
            idempotency: Idempotency::NotIdempotent,
        };
        self.execute::<IgnoredAny>(call).await.map(drop)
    }

    async fn retry_failed_tasks(&self, app: &AppId, users: &[UserId]) -> Result<(), ApiError> {
        let Some(template) = self.admin_paths().retry_failed_tasks.clone() else {
            return Err(ApiError::AdminCallNotConfigured {
                call: "retry_failed_tasks",
            });
        };
        let url = self.url(&fill(&template, app), &[])?;
        let body = RetryTasksBody { user_ids: users };
        let call = super::client::Call {
            method: Method::POST,
            url,
            body: Some(&body),
            idempotency: Idempotency::NotIdempotent,
        };
        self.execute::<IgnoredAny>(call).await.map(drop)
    }
}
