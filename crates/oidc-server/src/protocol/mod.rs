//! Protocol plumbing shared by the endpoints: error responses, strict form parsing, client
//! authentication, bearer tokens and scope validation.

pub(crate) mod bearer;
pub(crate) mod client_auth;
pub(crate) mod error;
pub(crate) mod form;
pub(crate) mod response;
pub(crate) mod scopes;
