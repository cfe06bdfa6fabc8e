//! What the server reports as it works, for a host's metrics and audit log: the outcome of every
//! token request. A host that wants the reports gives the builder an [`EventSink`]
//! ([`ServerBuilder::event_sink`](crate::ServerBuilder::event_sink)); without one nothing is
//! reported. Events carry ids, never secrets, tokens or codes.

use crate::model::client::GrantType;
use crate::protocol::error::ErrorCode;

/// Something the server did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent<'a> {
    /// The token endpoint issued tokens.
    TokensIssued {
        /// The grant.
        grant_type: GrantType,
        /// The client they went to.
        client_id: &'a str,
        /// The user they are about, for grants with one.
        subject_id: Option<&'a str>,
    },
    /// The token endpoint refused a request.
    TokenRequestRefused {
        /// The grant asked for, when it is one the server knows.
        grant_type: Option<GrantType>,
        /// The client, once it has authenticated.
        client_id: Option<&'a str>,
        /// The error the client was given.
        error: ErrorCode,
    },
}

/// Receives the server's events. Called on the request's task, so it must be quick: count,
/// log, or hand the event to a channel.
pub trait EventSink: Send + Sync + std::fmt::Debug {
    /// Records one event.
    fn record(&self, event: &ServerEvent<'_>);
}
