//! The configuration model: clients and the resources (scopes) they may request.

pub mod client;
pub mod resources;
