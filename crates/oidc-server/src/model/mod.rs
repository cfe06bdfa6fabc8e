//! The configuration model: clients and the resources (scopes) they may request.

pub(crate) mod client;
pub(crate) mod resources;
