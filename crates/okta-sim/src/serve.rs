//! Serving the router over HTTP/1.1, one task per connection, so that a fault can close a
//! request's connection without any response.

use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Put in each request's extensions by [`serve`]: cancelling it closes that request's connection
/// without a response.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionKill(pub(crate) CancellationToken);

/// Serves `app` on `listener` until `shutdown` is cancelled. Unlike `axum::serve`, each request
/// can close its own connection without a response (the `drop` fault).
pub(crate) async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                tracing::warn!(target: "okta_sim", %error, "accept failed");
                // Accept errors (EMFILE and the like) are usually transient; do not spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let kill = CancellationToken::new();
        let per_connection = kill.clone();
        let service = tower::ServiceBuilder::new()
            .map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectionKill(per_connection.clone()));
                request
            })
            .service(app.clone());
        let service = hyper_util::service::TowerToHyperService::new(service);
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(target: "okta_sim", %error, "connection ended with an error");
                    }
                }
                () = kill.cancelled() => {
                    tracing::debug!(target: "okta_sim", "connection dropped by fault");
                }
                () = shutdown.cancelled() => {}
            }
        });
    }
}
