//! `/account/manage/grants` (the Duende template's `Grants` page): the applications the
//! signed-in user has given access to (a remembered consent or a refresh token), each with what
//! it may access and a "Revoke access" button that ends its consent, refresh tokens and pending
//! codes; the application asks for consent again next time.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use oidc_server::UserGrant;

use super::html::{display_time, message};
use super::{PageResult, Pages, internal_error, see_other};

/// The page's path.
pub(super) const GRANTS_PATH: &str = "/account/manage/grants";

/// One application as the page lists it.
struct GrantItem {
    client_id: String,
    name: String,
    logo_uri: Option<String>,
    scopes: String,
    created: String,
    expires: Option<String>,
}

impl From<UserGrant> for GrantItem {
    fn from(grant: UserGrant) -> Self {
        let scopes: Vec<&str> = grant.scopes.iter().map(|scope| scope.display_name.as_str()).collect();
        Self {
            name: grant.client_name.clone().unwrap_or_else(|| grant.client_id.clone()),
            scopes: scopes.join(", "),
            created: display_time(grant.created),
            expires: grant.expires.map(display_time),
            logo_uri: grant.logo_uri,
            client_id: grant.client_id,
        }
    }
}

/// The user's applications, each with a revoke form.
#[derive(Template)]
#[template(path = "grants.html")]
struct GrantsPage {
    title: &'static str,
    csrf: String,
    grants: Vec<GrantItem>,
}

/// `GET /account/manage/grants`.
pub(super) async fn show(State(pages): State<Pages>, headers: HeaderMap) -> PageResult {
    let session = pages.signed_in(&headers, GRANTS_PATH).await?;
    let grants = pages.server().user_grants(&session.subject.subject_id).await.map_err(internal_error)?;
    let grants = grants.into_iter().map(GrantItem::from).collect();
    Ok(pages.form_page(&headers, |csrf| GrantsPage { title: "Applications", csrf, grants }))
}

/// `POST /account/manage/grants`: revokes what the user gave one client (only the user's own
/// grants: the subject comes from the session, never from the form).
pub(super) async fn submit(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = pages.posted_form(&headers, &body, None).await?;
    let session = pages.signed_in(&headers, GRANTS_PATH).await?;
    let (Some("revoke"), Some(client_id)) = (form.get("button"), form.get("clientId")) else {
        return Ok(message(StatusCode::BAD_REQUEST, "Applications", "Nothing to do."));
    };
    pages.server().revoke_user_grants(&session.subject.subject_id, client_id).await.map_err(internal_error)?;
    Ok(see_other(GRANTS_PATH))
}
