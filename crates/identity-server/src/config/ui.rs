//! `[ui]`: how the pages look.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[ui]`: a folder whose `css/` and `img/` files replace or add to the compiled-in ones.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct UiConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) static_dir: Option<PathBuf>,
}
