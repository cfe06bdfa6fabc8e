//! `/account/manage/sessions`: the signed-in user's sign-in sessions (this browser's and the
//! others), each of the others endable, and "end every other session".

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use oidc_server::{SessionFilter, StoredSession, UserSession};

use super::html::{button, escape, form_start, hidden, page};
use super::{
    LOGIN_PATH, PageResult, Pages, Params, RETURN_URL, internal_error, refused, see_other, undecodable, with_param,
};

/// The page's path.
pub(super) const SESSIONS_PATH: &str = "/account/manage/sessions";
/// The field naming the session to end.
const SESSION_ID: &str = "sid";

/// The request's session, or the login page that comes back here.
async fn signed_in(pages: &Pages, headers: &HeaderMap) -> Result<UserSession, axum::response::Response> {
    match pages.session(headers).await?.session {
        Some(session) => Ok(session),
        None => Err(see_other(&with_param(LOGIN_PATH, RETURN_URL, SESSIONS_PATH))),
    }
}

/// The user's sessions, oldest sign-in first.
async fn sessions_of(pages: &Pages, session: &UserSession) -> Result<Vec<StoredSession>, axum::response::Response> {
    let filter = SessionFilter::subject(session.subject.subject_id.clone());
    pages.server().sessions(&filter).await.map_err(internal_error)
}

/// One session as a list item; the others get an "End" form.
fn item(stored: &StoredSession, current: &UserSession, csrf_token: &str) -> String {
    let clients = if stored.client_ids.is_empty() { "none yet".to_owned() } else { stored.client_ids.join(", ") };
    let facts = format!(
        "Signed in {}, last used {}, ends {}{}. Applications: {}.",
        stored.created.format("%Y-%m-%d %H:%M UTC"),
        stored.renewed.format("%Y-%m-%d %H:%M UTC"),
        stored.expires.format("%Y-%m-%d %H:%M UTC"),
        if stored.persistent { " (remembered)" } else { "" },
        clients
    );
    if stored.session_id == current.session_id {
        return format!("<li><strong>This browser.</strong> {}</li>\n", escape(&facts));
    }
    format!(
        "<li>{}\n{}{}{}</form></li>\n",
        escape(&facts),
        form_start(SESSIONS_PATH, csrf_token),
        hidden(SESSION_ID, &stored.session_id),
        button("end", "End this session"),
    )
}

/// `GET /account/manage/sessions`.
pub(super) async fn show(State(pages): State<Pages>, headers: HeaderMap) -> PageResult {
    let current = signed_in(&pages, &headers).await?;
    let sessions = sessions_of(&pages, &current).await?;
    let others = sessions.iter().filter(|stored| stored.session_id != current.session_id).count();
    Ok(pages.form_page(&headers, "Your sessions", |token| {
        let items: String = sessions.iter().map(|stored| item(stored, &current, token)).collect();
        let end_all = if others > 0 {
            format!("{}{}</form>\n", form_start(SESSIONS_PATH, token), button("end-others", "End every other session"))
        } else {
            String::new()
        };
        format!("<p>Where you are signed in:</p>\n<ul>\n{items}</ul>\n{end_all}<p><a href=\"/\">Home</a></p>")
    }))
}

/// `POST /account/manage/sessions`: ends one of the user's other sessions, or all of them.
pub(super) async fn submit(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = Params::parse(&body).ok_or_else(undecodable)?;
    pages.check_csrf(&headers, &form).map_err(refused)?;
    let current = signed_in(&pages, &headers).await?;
    let others: Vec<StoredSession> = sessions_of(&pages, &current)
        .await?
        .into_iter()
        .filter(|stored| stored.session_id != current.session_id)
        .collect();
    let chosen: Vec<&StoredSession> = match (form.get("button"), form.get(SESSION_ID)) {
        (Some("end-others"), _) => others.iter().collect(),
        // Only a session of this user, and not this browser's: a session id alone ends nothing else.
        (Some("end"), Some(session_id)) => others.iter().filter(|stored| stored.session_id == session_id).collect(),
        _ => return Ok(page(StatusCode::BAD_REQUEST, "Your sessions", "<p>Nothing to do.</p>")),
    };
    for stored in chosen {
        pages.server().end_session(&stored.session_id).await.map_err(internal_error)?;
        tracing::info!(subject_id = %current.subject.subject_id, "the user ended another session of theirs");
    }
    Ok(see_other(SESSIONS_PATH))
}
