//! Every key of the configuration file's sections from the environment:
//! `IDENTITY_<SECTION>__<KEY>` sets `key` of `[section]` over the file's value (or the demo
//! configuration's), as `IDENTITY_LIMITS__MAX_CONNECTIONS=512` sets `[limits]
//! max_connections`.
//!
//! A value is read as TOML when it is one (`true`, `512`, `["RS256", "ES256"]`), else as text
//! (`90s`, `/srv/static`); a key whose default is a list also takes comma-separated text
//! (`RS256,ES256`). A variable naming no section of the file is an error, as an unknown key in
//! the file is, so that a typo never goes unnoticed. The secrets and the top-level keys have
//! their own variables (see `crate::settings`), and the clients and resources come from the file
//! or from `identity-server clients …`.

use crate::error::{Failure, Result};

/// The prefix of the variables.
const PREFIX: &str = "IDENTITY_";

/// Variables with a section's prefix that are not keys of the file: read where they are used,
/// never written in a file.
const NOT_FILE_KEYS: &[&str] =
    &["IDENTITY_EMAIL__SMTP_USER", "IDENTITY_EMAIL__SMTP_PASSWORD", "IDENTITY_EMAIL__SMTP_PASSWORD_FILE"];

/// Sections that are lists of entries, which variables do not reach.
const LIST_SECTIONS: &[&str] = &["clients", "identity_resources", "api_scopes", "api_resources"];

/// Sets the keys that `variables` name on `table`, a parsed configuration; `defaults` is the
/// default configuration as a table, which tells the sections and which keys are lists. Returns
/// the names of the variables applied.
pub(crate) fn overlay(
    table: &mut toml::Table,
    defaults: &toml::Table,
    variables: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<String>> {
    let mut applied = Vec::new();
    let mut variables: Vec<(String, String)> = variables
        .into_iter()
        .filter(|(name, value)| {
            name.starts_with(PREFIX)
                && name.contains("__")
                && !value.is_empty()
                && !NOT_FILE_KEYS.iter().any(|key| key.eq_ignore_ascii_case(name))
        })
        .collect();
    // The same order whatever the environment's, so that errors are reproducible.
    variables.sort();
    for (name, value) in variables {
        let (section, key) = name[PREFIX.len()..].split_once("__").unwrap_or_default();
        let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        if LIST_SECTIONS.contains(&section.as_str()) {
            return Err(Failure::new(format!(
                "{name}: [[{section}]] entries come from the configuration file (or `identity-server clients …`), not from variables"
            )));
        }
        let Some(toml::Value::Table(section_defaults)) = defaults.get(&section) else {
            return Err(Failure::new(format!("{name}: the configuration has no section [{section}]")));
        };
        let is_list = matches!(section_defaults.get(&key), Some(toml::Value::Array(_)));
        let entry = table.entry(section.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(section_table) = entry else {
            return Err(Failure::new(format!("{name}: `{section}` in the configuration file is not a section")));
        };
        section_table.insert(key, value_of(&value, is_list));
        applied.push(name);
    }
    Ok(applied)
}

/// A variable's value: TOML when it parses as a value, else text; comma-separated text for a
/// list.
fn value_of(text: &str, is_list: bool) -> toml::Value {
    let parsed = format!("value = {text}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut table| table.remove("value"))
        .filter(|value| !is_list || value.is_array());
    parsed.unwrap_or_else(|| {
        if is_list {
            toml::Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| toml::Value::String(item.to_owned()))
                    .collect(),
            )
        } else {
            toml::Value::String(text.to_owned())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> toml::Table {
        "[limits]\nmax_connections = 1024\n[keys]\nalgorithms = [\"RS256\"]\n[ui]\n[account]\nallow_registration = false"
            .parse()
            .expect("TOML")
    }

    fn overlaid(file: &str, variables: &[(&str, &str)]) -> Result<toml::Table> {
        let mut table: toml::Table = file.parse().expect("TOML");
        let variables = variables.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned()));
        overlay(&mut table, &defaults(), variables)?;
        Ok(table)
    }

    #[test]
    fn variables_set_keys_of_sections_over_the_file() {
        let table = overlaid(
            "[limits]\nmax_connections = 7\nrequest_timeout = \"1m\"",
            &[
                ("IDENTITY_LIMITS__MAX_CONNECTIONS", "512"),
                ("IDENTITY_KEYS__ALGORITHMS", "ES256, RS256"),
                ("IDENTITY_UI__STATIC_DIR", "/srv/static"),
                ("IDENTITY_ACCOUNT__ALLOW_REGISTRATION", "true"),
                ("IDENTITY_LIMITS__HEADER_READ_TIMEOUT", "90s"),
                ("IDENTITY_EMAIL__SMTP_PASSWORD", "not a key"),
                ("IDENTITY_email__smtp_user", "not a key either"),
                ("IDENTITY_DATABASE_URL", "not a section key"),
                ("OTHER__THING", "ignored"),
            ],
        )
        .expect("applied");
        let expected: toml::Table = "[limits]\nmax_connections = 512\nrequest_timeout = \"1m\"\n\
             header_read_timeout = \"90s\"\n[keys]\nalgorithms = [\"ES256\", \"RS256\"]\n\
             [ui]\nstatic_dir = \"/srv/static\"\n[account]\nallow_registration = true"
            .parse()
            .expect("TOML");
        assert_eq!(table, expected);
        let as_toml = overlaid("", &[("IDENTITY_KEYS__ALGORITHMS", "[\"EdDSA\"]")]).expect("applied");
        assert_eq!(as_toml["keys"]["algorithms"], toml::Value::Array(vec!["EdDSA".into()]));
    }

    #[test]
    fn unknown_sections_and_list_sections_are_errors_naming_the_variable() {
        let error = overlaid("", &[("IDENTITY_LIMTS__MAX_CONNECTIONS", "5")]).expect_err("typo");
        assert!(
            error.to_string().contains("IDENTITY_LIMTS__MAX_CONNECTIONS: the configuration has no section [limts]")
        );
        let error = overlaid("", &[("IDENTITY_CLIENTS__SECRET", "x")]).expect_err("a list section");
        assert!(error.to_string().contains("[[clients]] entries come from the configuration file"), "{error}");
        let error = overlaid("limits = 3", &[("IDENTITY_LIMITS__MAX_CONNECTIONS", "5")]).expect_err("not a table");
        assert!(error.to_string().contains("is not a section"), "{error}");
    }
}
