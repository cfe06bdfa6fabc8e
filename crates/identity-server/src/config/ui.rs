//! `[ui]`: how the pages look.

use serde::Deserialize;
use std::path::PathBuf;

/// `[ui]`: a folder whose `css/` and `img/` files replace or add to the compiled-in ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct UiConfig {
    pub(crate) static_dir: Option<PathBuf>,
}
