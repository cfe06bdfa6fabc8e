//! `/account/manage/sessions`: the signed-in user's sign-in sessions (this browser's and the
//! others), each of the others endable, and "end every other session".

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use oidc_server::{SessionFilter, StoredSession, UserSession};

use super::html::{display_time, message};
use super::{PageResult, Pages, internal_error, see_other};

/// The page's path.
pub(super) const SESSIONS_PATH: &str = "/account/manage/sessions";
/// The field naming the session to end.
const SESSION_ID: &str = "sid";

/// The user's sessions, oldest sign-in first.
async fn sessions_of(pages: &Pages, session: &UserSession) -> Result<Vec<StoredSession>, axum::response::Response> {
    let filter = SessionFilter::subject(session.subject.subject_id.clone());
    pages.server().sessions(&filter).await.map_err(internal_error)
}

/// One session as the page lists it.
struct SessionItem {
    session_id: String,
    /// Whether it is this browser's (which gets no "End" form).
    current: bool,
    facts: String,
}

impl SessionItem {
    fn new(stored: &StoredSession, current: &UserSession) -> Self {
        let clients = if stored.client_ids.is_empty() { "none yet".to_owned() } else { stored.client_ids.join(", ") };
        let facts = format!(
            "Signed in {}, last used {}, ends {}{}. Applications: {}.",
            display_time(stored.created),
            display_time(stored.renewed),
            display_time(stored.expires),
            if stored.persistent { " (remembered)" } else { "" },
            clients
        );
        Self { session_id: stored.session_id.clone(), current: stored.session_id == current.session_id, facts }
    }
}

/// The user's sessions, the others each with an "End" form.
#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    title: &'static str,
    csrf: String,
    sessions: Vec<SessionItem>,
    /// How many sessions are not this browser's.
    others: usize,
}

/// `GET /account/manage/sessions`.
pub(super) async fn show(State(pages): State<Pages>, headers: HeaderMap) -> PageResult {
    let current = pages.signed_in(&headers, SESSIONS_PATH).await?;
    let sessions: Vec<SessionItem> =
        sessions_of(&pages, &current).await?.iter().map(|stored| SessionItem::new(stored, &current)).collect();
    let others = sessions.iter().filter(|item| !item.current).count();
    Ok(pages.form_page(&headers, |csrf| SessionsPage { title: "Your sessions", csrf, sessions, others }))
}

/// `POST /account/manage/sessions`: ends one of the user's other sessions, or all of them.
pub(super) async fn submit(State(pages): State<Pages>, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = pages.posted_form(&headers, &body, None).await?;
    let current = pages.signed_in(&headers, SESSIONS_PATH).await?;
    let others: Vec<StoredSession> = sessions_of(&pages, &current)
        .await?
        .into_iter()
        .filter(|stored| stored.session_id != current.session_id)
        .collect();
    let chosen: Vec<&StoredSession> = match (form.get("button"), form.get(SESSION_ID)) {
        (Some("end-others"), _) => others.iter().collect(),
        // Only a session of this user, and not this browser's: a session id alone ends nothing else.
        (Some("end"), Some(session_id)) => others.iter().filter(|stored| stored.session_id == session_id).collect(),
        _ => return Ok(message(StatusCode::BAD_REQUEST, "Your sessions", "Nothing to do.")),
    };
    for stored in chosen {
        pages.server().end_session(&stored.session_id).await.map_err(internal_error)?;
        tracing::info!(subject_id = %current.subject.subject_id, "the user ended another session of theirs");
    }
    Ok(see_other(SESSIONS_PATH))
}
