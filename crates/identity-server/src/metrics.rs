//! `GET /metrics` in Prometheus' text format (when `[metrics] enabled = true`): requests per
//! route and status, their latency as a histogram, tokens issued per grant type and client,
//! token requests refused per grant type and error, sign-in steps per outcome, and the
//! password-hashing queue (free places and capacity). Requests are labelled by the route they
//! matched (its template, such as `/css/{*path}`; `other` when none matched), never by the path
//! as sent; a client id is a label only once the client has authenticated, and grant types only
//! when known. So no label holds a user name or a token, and the series stay few.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use identity_core::HashingPool;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The route label of a request: the route it matched, as the router knows it (so
/// `/css/{*path}` for every stylesheet), or `other` when it matched none.
fn route_label(request: &Request) -> String {
    request.extensions().get::<MatchedPath>().map_or_else(|| "other".to_owned(), |route| route.as_str().to_owned())
}

/// One route's latency histogram.
#[derive(Default)]
struct Histogram {
    /// Observations at or below each bucket's bound (cumulative, as Prometheus wants them).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, bucket) in BUCKETS.iter().zip(&mut self.buckets) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// The counters, shared by every request.
#[derive(Default)]
struct Counts {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    /// By grant type and client id.
    tokens_issued: BTreeMap<(&'static str, String), u64>,
    /// By grant type and error.
    token_refusals: BTreeMap<(&'static str, &'static str), u64>,
    /// By step and outcome.
    sign_ins: BTreeMap<(&'static str, &'static str), u64>,
}

/// What `/metrics` reports. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Metrics {
    counts: Arc<Mutex<Counts>>,
    hashing: HashingPool,
}

impl Metrics {
    /// Metrics of an application whose passwords `hashing` hashes.
    pub(crate) fn new(hashing: HashingPool) -> Self {
        Self { counts: Arc::default(), hashing }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // Every update leaves the counts consistent, so a panic elsewhere cannot corrupt them.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts tokens issued with `grant_type` to the authenticated client `client_id`.
    pub(crate) fn count_tokens_issued(&self, grant_type: &'static str, client_id: &str) {
        *self.counts().tokens_issued.entry((grant_type, client_id.to_owned())).or_default() += 1;
    }

    /// Counts a token request refused with `error`.
    pub(crate) fn count_token_refusal(&self, grant_type: &'static str, error: &'static str) {
        *self.counts().token_refusals.entry((grant_type, error)).or_default() += 1;
    }

    /// Counts a sign-in step's outcome.
    pub(crate) fn count_sign_in(&self, step: &'static str, outcome: &'static str) {
        *self.counts().sign_ins.entry((step, outcome)).or_default() += 1;
    }

    /// `app` with every request counted and the `/metrics` route added.
    pub(crate) fn instrument(self, app: Router) -> Router {
        let route = Router::new().route("/metrics", get(render)).with_state(self.clone());
        app.merge(route).layer(axum::middleware::from_fn_with_state(self, record))
    }

    /// The text exposition format (version 0.0.4).
    fn exposition(&self) -> String {
        let mut text = String::new();
        let counts = self.counts();
        text.push_str("# HELP identity_http_requests_total Requests answered, by route and status.\n");
        text.push_str("# TYPE identity_http_requests_total counter\n");
        for ((route, status), count) in &counts.requests {
            let _ = writeln!(text, "identity_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}");
        }
        text.push_str("# HELP identity_http_request_duration_seconds Time to answer, by route.\n");
        text.push_str("# TYPE identity_http_request_duration_seconds histogram\n");
        for (route, histogram) in &counts.latency {
            for (bound, bucket) in BUCKETS.iter().zip(histogram.buckets) {
                let _ = writeln!(
                    text,
                    "identity_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {bucket}"
                );
            }
            let count = histogram.count;
            let _ = writeln!(
                text,
                "identity_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(text, "identity_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", histogram.sum);
            let _ = writeln!(text, "identity_http_request_duration_seconds_count{{route=\"{route}\"}} {count}");
        }
        text.push_str("# HELP identity_tokens_issued_total Token responses, by grant type and client.\n");
        text.push_str("# TYPE identity_tokens_issued_total counter\n");
        for ((grant_type, client_id), count) in &counts.tokens_issued {
            let client_id = label_value(client_id);
            let _ = writeln!(
                text,
                "identity_tokens_issued_total{{grant_type=\"{grant_type}\",client_id=\"{client_id}\"}} {count}"
            );
        }
        text.push_str(
            "# HELP identity_token_requests_refused_total Token requests refused, by grant type and error.\n",
        );
        text.push_str("# TYPE identity_token_requests_refused_total counter\n");
        for ((grant_type, error), count) in &counts.token_refusals {
            let _ = writeln!(
                text,
                "identity_token_requests_refused_total{{grant_type=\"{grant_type}\",error=\"{error}\"}} {count}"
            );
        }
        text.push_str("# HELP identity_sign_ins_total Sign-in steps on the pages, by step and outcome.\n");
        text.push_str("# TYPE identity_sign_ins_total counter\n");
        for ((step, outcome), count) in &counts.sign_ins {
            let _ = writeln!(text, "identity_sign_ins_total{{step=\"{step}\",outcome=\"{outcome}\"}} {count}");
        }
        drop(counts);
        text.push_str("# HELP identity_password_hashing_free_places Password hashes that could start or wait now.\n");
        text.push_str("# TYPE identity_password_hashing_free_places gauge\n");
        let _ = writeln!(text, "identity_password_hashing_free_places {}", self.hashing.free_places());
        text.push_str("# HELP identity_password_hashing_capacity Password hashes running or waiting at most.\n");
        text.push_str("# TYPE identity_password_hashing_capacity gauge\n");
        let _ = writeln!(text, "identity_password_hashing_capacity {}", self.hashing.capacity());
        text
    }
}

/// A label value escaped as the text format wants it (a client id may hold any character).
fn label_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Counts a request once it is answered.
async fn record(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = route_label(&request);
    let started = Instant::now();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let mut counts = metrics.counts();
    *counts.requests.entry((route.clone(), response.status().as_u16())).or_default() += 1;
    counts.latency.entry(route).or_default().observe(seconds);
    drop(counts);
    response
}

/// `GET /metrics`.
async fn render(State(metrics): State<Metrics>) -> Response {
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], metrics.exposition()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative() {
        let mut histogram = Histogram::default();
        for seconds in [0.001, 0.02, 3.0, 60.0] {
            histogram.observe(seconds);
        }
        assert_eq!(histogram.buckets, [1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3]);
        assert_eq!(histogram.count, 4);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("plain.client"), "plain.client");
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
