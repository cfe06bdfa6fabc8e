//! The floors that `cargo xtask bench` compares the server with, measured on the same machine in
//! the same run:
//!
//! - `bench_floor serve`: an axum server on an ephemeral loopback port (it prints
//!   `listening on http://…`) with `GET /plain`, a handler that answers a constant, and
//!   `POST /sign/RS256` and `POST /sign/ES256`, handlers that only sign a typical RFC 9068 access
//!   token with the token server's own signer (`oidc_server::JwsSigner`, the key parsed once)
//!   and answer it as a token response: what a token costs without clients, grants or stores.
//! - `bench_floor argon2 --seconds N`: Argon2id verifications per second on every core, with the
//!   server's hasher and its default parameters; prints `argon2id_per_second=…`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use identity_core::{IdentityPasswordHasher, PasswordHasher as _, PasswordHasherOptions, PasswordVerificationResult};
use oidc_server::{Clock as _, JwsSigner, SigningAlgorithm, SystemClock};

/// The password every verification checks.
const PASSWORD: &str = "Bench123$pass";

/// The signers, each built once.
struct Signers {
    rs256: JwsSigner,
    es256: JwsSigner,
    issued: AtomicU64,
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["serve"] => serve(),
        ["argon2", "--seconds", seconds] => {
            let seconds: f64 = seconds.parse().map_err(|_| format!("not a number of seconds: {seconds}"))?;
            let rate = argon2_verifications_per_second(Duration::from_secs_f64(seconds))?;
            println!("argon2id_per_second={rate:.1}");
            Ok(())
        }
        _ => Err("usage: bench_floor serve | bench_floor argon2 --seconds N".to_owned()),
    }
}

fn serve() -> Result<(), String> {
    let signers = Arc::new(Signers {
        rs256: JwsSigner::generate(SigningAlgorithm::Rs256).map_err(|e| e.to_string())?,
        es256: JwsSigner::generate(SigningAlgorithm::Es256).map_err(|e| e.to_string())?,
        issued: AtomicU64::new(0),
    });
    let app = Router::new().route("/plain", get(plain)).route("/sign/{algorithm}", post(sign)).with_state(signers);
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        println!("listening on http://{address}");
        axum::serve(listener, app).await.map_err(|e| e.to_string())
    })
}

async fn plain() -> &'static str {
    "ok"
}

async fn sign(State(signers): State<Arc<Signers>>, Path(algorithm): Path<String>) -> Response {
    let signer = match algorithm.as_str() {
        "RS256" => &signers.rs256,
        "ES256" => &signers.es256,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let now = SystemClock.now().timestamp();
    let serial = signers.issued.fetch_add(1, Ordering::Relaxed);
    let claims = serde_json::json!({
        "iss": "http://127.0.0.1",
        "sub": "bench.m2m",
        "aud": "bench-api",
        "client_id": "bench.m2m",
        "scope": "bench.api",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": format!("{serial:032X}"),
    });
    match signer.sign("floor-key", "at+jwt", &claims) {
        Ok(token) => {
            let body = serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": "bench.api"});
            ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body.to_string())
                .into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn argon2_verifications_per_second(duration: Duration) -> Result<f64, String> {
    let hasher = IdentityPasswordHasher::new(PasswordHasherOptions::default()).map_err(|e| e.to_string())?;
    let hash = hasher.hash_password(PASSWORD).map_err(|e| e.to_string())?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let started = Instant::now();
    let verified = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut count = 0_u64;
                    while started.elapsed() < duration {
                        if hasher.verify_hashed_password(&hash, PASSWORD) == PasswordVerificationResult::Success {
                            count += 1;
                        }
                    }
                    count
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().unwrap_or(0)).sum::<u64>()
    });
    Ok(verified as f64 / started.elapsed().as_secs_f64())
}
