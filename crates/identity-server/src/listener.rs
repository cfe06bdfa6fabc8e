//! Serving the application on a TCP listener with the limits an exposed endpoint needs: a
//! header-read timeout (a client trickling its headers holds a connection otherwise: slowloris),
//! a whole-request timeout (a body announced and never sent), a cap on open connections, and an
//! immediate 413 for an announced body larger than any endpoint accepts. On shutdown it stops
//! accepting and lets each open connection finish the request it is serving.
//!
//! With a TLS configuration every connection is HTTPS: its handshake must finish within the
//! header-read timeout, and a failed handshake closes only that connection.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::Service as _;

use crate::access_log;

/// The limits of one listener.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// How long a connection may take to send a request's headers.
    pub(crate) header_read_timeout: Duration,
    /// How long a request may take from its headers to the response, body included.
    pub(crate) request_timeout: Duration,
    /// How many connections may be open at once; more are closed on arrival.
    pub(crate) max_connections: usize,
    /// The largest request body any endpoint accepts.
    pub(crate) max_body_bytes: usize,
}

/// Serves `app` on `listener` within `limits`, over TLS when `tls` is given, until `shutdown`
/// completes, then waits for the open connections to finish their requests.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut app = app.layer(middleware::from_fn_with_state(limits, guard));
    if tls.is_some() {
        app = app.layer(middleware::from_fn(crate::tls::strict_transport_security));
    }
    let app = app.layer(middleware::from_fn(access_log::log_request));
    let acceptor = tls.map(TlsAcceptor::from);
    // Each connection's requests carry its peer address (`ConnectInfo`), for throttling.
    let mut with_peer = app.into_make_service_with_connect_info::<SocketAddr>();
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: back off instead of spinning.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::warn!(
                max_connections = limits.max_connections,
                "connection limit reached; a connection was closed"
            );
            continue;
        };
        let Ok(service) = with_peer.call(peer).await;
        let service = TowerToHyperService::new(service);
        let stopping = stopping.clone();
        let acceptor = acceptor.clone();
        tasks.spawn(async move {
            let _permit = permit;
            match acceptor {
                None => serve_connection(stream, service, limits, stopping).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => serve_connection(stream, service, limits, stopping).await,
                        Ok(Err(error)) => tracing::debug!(%error, %peer, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Serves one connection's requests until it closes, or until `stopping` changes, when it
/// finishes the request in progress and closes.
async fn serve_connection<S, T>(stream: T, service: S, limits: Limits, mut stopping: watch::Receiver<bool>)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming> + Send,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let finished = tokio::select! {
        result = connection.as_mut() => result,
        _ = stopping.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = finished {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// Refuses an announced oversize body before reading it, and bounds each request's time.
async fn guard(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limits.max_body_bytes as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large").into_response();
    }
    match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::info!(timeout = ?limits.request_timeout, "request timed out");
            (StatusCode::REQUEST_TIMEOUT, "the request took too long").into_response()
        }
    }
}
