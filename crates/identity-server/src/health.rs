//! Health endpoints for orchestrators, as Keycloak names them: `GET /health/live` answers while
//! the process serves requests; `GET /health/ready` answers 200 only when the database answers
//! (within `[database] operation_timeout`) and can be written (`"database": "read_only"` for a
//! SQLite database whose files are read-only: nobody could sign in) and a signing key is
//! loaded, else 503, so a load
//! balancer stops sending traffic to an instance that cannot serve it. Both are JSON, never
//! cached, and carry no detail beyond which check failed (the cause goes to the log).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use identity_diesel::{Database, DatabaseError};
use oidc_server::OidcServer;
use serde::Serialize;

/// What the readiness check looks at.
#[derive(Clone)]
struct Probes {
    db: Database,
    server: OidcServer,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Check {
    Ok,
    Unavailable,
    /// The database answers but cannot be written.
    ReadOnly,
}

/// The body of `/health/ready`.
#[derive(Debug, Serialize)]
struct Readiness {
    status: &'static str,
    database: Check,
    signing_key: Check,
}

impl Readiness {
    fn of(database: Check, signing_key: Check) -> Self {
        let ready = database == Check::Ok && signing_key == Check::Ok;
        Self { status: if ready { "ready" } else { "unavailable" }, database, signing_key }
    }

    fn status_code(&self) -> StatusCode {
        if self.status == "ready" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }
    }
}

/// The health routes, to merge into the application.
pub(crate) fn router(db: Database, server: OidcServer) -> Router {
    Router::new().route("/health/live", get(live)).route("/health/ready", get(ready)).with_state(Probes { db, server })
}

/// A JSON answer that no cache keeps.
fn json(status: StatusCode, body: &impl Serialize) -> Response {
    let body = serde_json::to_vec(body).unwrap_or_default();
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (status, headers, body).into_response()
}

/// `GET /health/live`.
async fn live() -> Response {
    json(StatusCode::OK, &serde_json::json!({ "status": "live" }))
}

/// `GET /health/ready`.
async fn ready(State(probes): State<Probes>) -> Response {
    let database = match probes.db.ping().await {
        Ok(()) => Check::Ok,
        Err(DatabaseError::ReadOnly) => {
            tracing::warn!("not ready: the database is read-only");
            Check::ReadOnly
        }
        Err(error) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            Check::Unavailable
        }
    };
    let signing_key = match probes.server.check_signing_key().await {
        Ok(()) => Check::Ok,
        Err(error) => {
            tracing::warn!(%error, "not ready: no usable signing key");
            Check::Unavailable
        }
    };
    let readiness = Readiness::of(database, signing_key);
    json(readiness.status_code(), &readiness)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_check_passes() {
        use Check::{Ok, ReadOnly, Unavailable};
        for (database, signing_key, status, code) in [
            (Ok, Ok, "ready", StatusCode::OK),
            (Unavailable, Ok, "unavailable", StatusCode::SERVICE_UNAVAILABLE),
            (ReadOnly, Ok, "unavailable", StatusCode::SERVICE_UNAVAILABLE),
            (Ok, Unavailable, "unavailable", StatusCode::SERVICE_UNAVAILABLE),
        ] {
            let readiness = Readiness::of(database, signing_key);
            assert_eq!((readiness.status, readiness.status_code()), (status, code));
        }
        let body = serde_json::to_value(Readiness::of(Unavailable, Ok)).expect("serialises");
        assert_eq!(body, serde_json::json!({"status": "unavailable", "database": "unavailable", "signing_key": "ok"}));
        let body = serde_json::to_value(Readiness::of(ReadOnly, Ok)).expect("serialises");
        assert_eq!(body, serde_json::json!({"status": "unavailable", "database": "read_only", "signing_key": "ok"}));
    }
}
