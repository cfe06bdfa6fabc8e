//! Protocol plumbing shared by the endpoints: error responses, strict form parsing, client
//! authentication, bearer tokens, scope validation, authorization requests, PKCE and the
//! responses sent to browsers.

pub(crate) mod authorize_request;
pub(crate) mod bearer;
pub(crate) mod browser;
pub(crate) mod client_auth;
pub(crate) mod error;
pub(crate) mod form;
pub(crate) mod paths;
pub(crate) mod pkce;
pub(crate) mod response;
pub(crate) mod scopes;
