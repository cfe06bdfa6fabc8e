//! Keeps `for_each_case!` and the case functions in step, so no case can be written and then
//! silently left out of the generated tests.

use std::collections::BTreeSet;
use std::path::Path;

fn case_functions() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cases");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("cases directory is readable") {
        let path = entry.expect("directory entry").path();
        if path.file_name().is_some_and(|n| n == "mod.rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("case file is readable");
        for line in source.lines() {
            if let Some(rest) = line.strip_prefix("pub async fn ") {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                names.insert(name);
            }
        }
    }
    names
}

fn listed_cases() -> BTreeSet<String> {
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cases/mod.rs"))
        .expect("cases/mod.rs is readable");
    // The last occurrence: the doc comment of `for_each_case!` quotes the same call.
    let start = source.rfind("$callback!($args;").expect("the case list") + "$callback!($args;".len();
    let end = start + source[start..].find(");").expect("end of the case list");
    source[start..end].split_whitespace().map(str::to_owned).collect()
}

#[test]
fn every_case_is_listed() {
    let functions = case_functions();
    let listed = listed_cases();
    let unlisted: Vec<_> = functions.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&functions).collect();
    assert!(unlisted.is_empty(), "cases missing from for_each_case!: {unlisted:?}");
    assert!(missing.is_empty(), "for_each_case! names unknown cases: {missing:?}");
}

#[test]
fn the_suite_has_at_least_one_hundred_cases() {
    assert!(listed_cases().len() >= 100, "only {} cases", listed_cases().len());
}
