//! The host's record of what happens: one audit line per event (target `audit`, level `info`:
//! what, who by id, which client; never a password, secret, code or token) and, with `[metrics]
//! enabled`, counters for `/metrics`. The token server reports its token requests through
//! [`EventSink`]; the sign-in pages report each sign-in step's outcome.

use identity_core::SignInResult;
use oidc_server::{EventSink, ServerEvent};

use crate::metrics::Metrics;

/// A step of signing in on the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignInStep {
    /// The user name and password.
    Password,
    /// An authenticator or e-mailed code.
    TwoFactor,
    /// A recovery code.
    RecoveryCode,
}

impl SignInStep {
    fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::TwoFactor => "two_factor",
            Self::RecoveryCode => "recovery_code",
        }
    }
}

/// How a sign-in step ended, as a label: `success`, `failure`, `locked_out`,
/// `two_factor_required` or `not_allowed`.
fn outcome(result: SignInResult) -> &'static str {
    match result {
        SignInResult::Success => "success",
        SignInResult::LockedOut => "locked_out",
        SignInResult::TwoFactorRequired => "two_factor_required",
        SignInResult::NotAllowed => "not_allowed",
        _ => "failure",
    }
}

/// Where the host's events go. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Events {
    metrics: Option<Metrics>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").field("counted", &self.metrics.is_some()).finish()
    }
}

impl Events {
    /// Events that are logged, and counted in `metrics` when given.
    pub(crate) fn new(metrics: Option<Metrics>) -> Self {
        Self { metrics }
    }

    /// A sign-in step ended with `result`; `user_id` when the user is known.
    pub(crate) fn sign_in(&self, step: SignInStep, result: SignInResult, user_id: Option<&str>) {
        let (step, outcome) = (step.as_str(), outcome(result));
        tracing::info!(target: "audit", event = "sign_in", step, outcome, user_id);
        if let Some(metrics) = &self.metrics {
            metrics.count_sign_in(step, outcome);
        }
    }
}

impl EventSink for Events {
    fn record(&self, event: &ServerEvent<'_>) {
        match *event {
            ServerEvent::TokensIssued { grant_type, client_id, subject_id } => {
                let grant_type = grant_type.as_str();
                tracing::info!(target: "audit", event = "tokens_issued", grant_type, client_id, user_id = subject_id);
                if let Some(metrics) = &self.metrics {
                    metrics.count_tokens_issued(grant_type, client_id);
                }
            }
            ServerEvent::TokenRequestRefused { grant_type, client_id, error } => {
                // The grant type as sent is the client's text: only known ones become labels.
                let grant_type = grant_type.map_or("other", |grant_type| grant_type.as_str());
                let error = error.as_str();
                tracing::info!(target: "audit", event = "token_request_refused", grant_type, client_id, error);
                if let Some(metrics) = &self.metrics {
                    metrics.count_token_refusal(grant_type, error);
                }
            }
            _ => {}
        }
    }
}
