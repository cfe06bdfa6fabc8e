//! Throttling of the pages that guess or send: per client address, login submissions (so that
//! password spraying across many accounts stalls; each account's own guesses are bounded by its
//! lockout), two-factor codes, and submissions that send e-mail; per account, messages to one
//! address (so that nobody can bomb an inbox through the forgot-password page).
//!
//! Counts are kept in fixed windows (`[throttling] window`, 15 minutes by default) in this
//! process's memory: several instances each apply the limits. The client address is the TCP
//! peer's, or behind a trusted proxy the client its forwarding header names (see
//! [`crate::proxy`]). The table holds at most [`MAX_KEYS`] counters; when it is full of live windows, new
//! keys are refused until windows end, which fails closed under a flood from many addresses.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};

use super::html::message;
use crate::config::ThrottlingConfig;

/// The most counters kept at once.
const MAX_KEYS: usize = 100_000;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Action {
    /// A login form submission, per client address.
    SignIn,
    /// A two-factor or recovery code, per client address.
    Code,
    /// A submission that may send e-mail, per client address.
    EmailRequest,
    /// A message to one e-mail address, per address.
    EmailToAccount,
}

/// The client's address, when the connection has one (the tests' in-process routers do not).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub(crate) Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())))
    }
}

/// A count in its window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: DateTime<Utc>,
    count: u32,
}

/// The counters.
#[derive(Debug)]
pub(crate) struct Throttle {
    settings: ThrottlingConfig,
    window: TimeDelta,
    counters: Mutex<HashMap<(Action, String), Window>>,
}

impl Throttle {
    /// Counters with the limits of `settings`.
    pub(crate) fn new(settings: ThrottlingConfig) -> Self {
        let window = TimeDelta::from_std(settings.window.0).unwrap_or(TimeDelta::MAX);
        Self { settings, window, counters: Mutex::new(HashMap::new()) }
    }

    fn limit(&self, action: Action) -> u32 {
        match action {
            Action::SignIn => self.settings.sign_in_per_address,
            Action::Code => self.settings.codes_per_address,
            Action::EmailRequest => self.settings.emails_per_address,
            Action::EmailToAccount => self.settings.emails_per_account,
        }
    }

    /// Counts one `action` by `key` at `now`; whether it is within the limit.
    pub(crate) fn allow(&self, action: Action, key: &str, now: DateTime<Utc>) -> bool {
        let mut counters = self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let live = |window: &Window| now < window.started + self.window;
        let entry = (action, key.to_owned());
        if !counters.contains_key(&entry) && counters.len() >= MAX_KEYS {
            counters.retain(|_, window| live(window));
            if counters.len() >= MAX_KEYS {
                tracing::warn!("the throttling table is full of live windows: a request was refused");
                return false;
            }
        }
        let window = counters.entry(entry).or_insert(Window { started: now, count: 0 });
        if !live(window) {
            *window = Window { started: now, count: 0 };
        }
        window.count = window.count.saturating_add(1);
        window.count <= self.limit(action)
    }

    /// Counts one `action` by the client at `address`: the 429 page when it is over the limit.
    /// A request without an address is not counted.
    pub(crate) fn refusal(&self, action: Action, address: ClientAddress, now: DateTime<Utc>) -> Option<Response> {
        let address = address.0?;
        if self.allow(action, &address.to_string(), now) {
            return None;
        }
        tracing::warn!(?action, %address, "throttled: too many requests from one address");
        Some(too_many(self.window))
    }
}

/// The 429 page, with `Retry-After` of one window.
fn too_many(window: TimeDelta) -> Response {
    let mut page = message(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        "Too many attempts from your network. Try again later.",
    );
    if let Ok(seconds) = HeaderValue::from_str(&window.num_seconds().to_string()) {
        page.headers_mut().insert(header::RETRY_AFTER, seconds);
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigDuration;

    #[test]
    fn counts_hold_per_action_and_key_until_the_window_ends() {
        let settings = ThrottlingConfig {
            window: ConfigDuration(std::time::Duration::from_secs(60)),
            sign_in_per_address: 2,
            ..ThrottlingConfig::default()
        };
        let throttle = Throttle::new(settings);
        let start = test_support::clock::start();
        assert!(throttle.allow(Action::SignIn, "10.0.0.1", start));
        assert!(throttle.allow(Action::SignIn, "10.0.0.1", start));
        assert!(!throttle.allow(Action::SignIn, "10.0.0.1", start + TimeDelta::seconds(59)));
        assert!(throttle.allow(Action::SignIn, "10.0.0.2", start), "another address has its own count");
        assert!(throttle.allow(Action::Code, "10.0.0.1", start), "another action has its own count");
        assert!(throttle.allow(Action::SignIn, "10.0.0.1", start + TimeDelta::seconds(60)), "a new window");
        let address = ClientAddress(Some([10, 0, 0, 2].into()));
        assert!(throttle.refusal(Action::SignIn, address, start).is_none());
        let refused = throttle.refusal(Action::SignIn, address, start).expect("over the limit");
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()[header::RETRY_AFTER], "60");
        assert!(throttle.refusal(Action::SignIn, ClientAddress(None), start).is_none(), "no address, no count");
    }
}
