//! Static files: the stylesheet compiled into the binary (`/css/site.css`), or, with
//! `[ui] static_dir`, the files of that folder under `/css/…` and `/img/…` (a deployment's own
//! stylesheet, logo and images; the compiled-in stylesheet still answers when the folder has no
//! `css/site.css`). Only plain names are served: each path segment of letters, digits, `.`, `-`
//! and `_`, not starting with a dot, so nothing outside the folder can be reached.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use super::Pages;

/// The stylesheet shipped with the binary.
const SITE_CSS: &str = include_str!("../../static/css/site.css");
/// How long browsers may keep a static file without asking again.
const CACHE_CONTROL: &str = "public, max-age=3600";

/// The content type of a static file, by extension; `None` for anything not served.
fn content_type(path: &str) -> Option<&'static str> {
    let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

/// Whether every segment of `path` is a plain name (see the module documentation).
fn is_plain(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        })
}

/// A static file response.
fn file(content_type: &'static str, body: impl axum::response::IntoResponse) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    response
}

/// The file `folder/relative` of the static folder, if it is there.
async fn from_folder(static_dir: &Path, folder: &str, relative: &str) -> Option<Vec<u8>> {
    let path: PathBuf = static_dir.join(folder).join(relative);
    tokio::fs::read(&path).await.ok()
}

/// Serves `folder/relative`: from the static folder when one is configured and holds it, the
/// compiled-in stylesheet for `css/site.css`, 404 otherwise.
async fn serve(pages: &Pages, folder: &str, relative: &str) -> Response {
    let Some(content_type) = content_type(relative).filter(|_| is_plain(relative)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(static_dir) = &pages.inner.static_dir
        && let Some(bytes) = from_folder(static_dir, folder, relative).await
    {
        return file(content_type, bytes);
    }
    if folder == "css" && relative == "site.css" {
        return file(content_type, SITE_CSS);
    }
    StatusCode::NOT_FOUND.into_response()
}

/// `GET /css/{*path}`.
pub(super) async fn css(State(pages): State<Pages>, UrlPath(path): UrlPath<String>) -> Response {
    serve(&pages, "css", &path).await
}

/// `GET /img/{*path}`.
pub(super) async fn img(State(pages): State<Pages>, UrlPath(path): UrlPath<String>) -> Response {
    serve(&pages, "img", &path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_of_known_types_are_served() {
        for plain in ["site.css", "logo.svg", "brand/logo-2_x.png"] {
            assert!(is_plain(plain) && content_type(plain).is_some(), "{plain}");
        }
        for refused in ["../secret.css", ".hidden.css", "a//b.css", "a/../b.css", "a\\b.css", "", "x.css/"] {
            assert!(!is_plain(refused), "{refused:?}");
        }
        assert_eq!(content_type("identity.db"), None);
        assert_eq!(content_type("site.CSS"), Some("text/css; charset=utf-8"));
    }
}
