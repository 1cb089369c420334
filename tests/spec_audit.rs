//! The SPEC audit: every clause of SPEC.md is checked by at least one loom
//! model and one test, no test names a clause that does not exist, and no
//! `Checked by:` line names a test that is gone. The conventions are in
//! SPEC.md's intro ("How to read and audit this file"). Plain std text
//! parsing, no dependencies.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One `#[test]` fn and the clause IDs it names.
#[derive(Debug)]
struct TestFn {
    name: String,
    /// `loom-tests/...` or `tests/...`.
    file: String,
    loom: bool,
    clauses: BTreeSet<String>,
}

/// Is `word` a clause ID: one ASCII capital letter, then one or more digits?
fn is_clause_id(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && word.len() > 1
        && chars.all(|c| c.is_ascii_digit())
}

/// The clauses of SPEC.md: `### <ID> <name>` headings, with the names that
/// their `Checked by:` paragraphs (up to the next blank or heading line) list in
/// backticks.
fn spec_clauses(spec: &str) -> BTreeMap<String, Vec<String>> {
    let mut clauses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_checked_by = false;
    for line in spec.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            in_checked_by = false;
        } else if in_checked_by {
            let id = current.as_ref().unwrap();
            let names = line.split('`').skip(1).step_by(2).map(str::to_string);
            clauses.get_mut(id).unwrap().extend(names);
            continue;
        }
        if let Some(rest) = line.strip_prefix("### ") {
            let id = rest.split_whitespace().next().unwrap_or("");
            current = is_clause_id(id).then(|| id.to_string());
            if let Some(id) = &current {
                assert!(
                    clauses.insert(id.clone(), Vec::new()).is_none(),
                    "SPEC.md defines {id} twice"
                );
            }
        } else if line.starts_with("## ") {
            current = None;
        } else if let (Some(id), Some(list)) = (&current, line.trim().strip_prefix("Checked by:")) {
            let names = list.split('`').skip(1).step_by(2).map(str::to_string);
            clauses.get_mut(id).unwrap().extend(names);
            in_checked_by = true;
        }
    }
    clauses
}

/// The clause IDs a test fn names: its name's leading `<id>_` parts
/// (lowercased IDs), and whole-word IDs in the `///` lines above it.
fn named_clauses(name: &str, docs: &[&str]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for part in name.split('_') {
        let upper = part.to_ascii_uppercase();
        if part.len() > 1
            && part.starts_with(|c: char| c.is_ascii_lowercase())
            && is_clause_id(&upper)
        {
            ids.insert(upper);
        } else {
            break;
        }
    }
    for doc in docs {
        for word in doc.split(|c: char| !c.is_ascii_alphanumeric()) {
            if is_clause_id(word) {
                ids.insert(word.to_string());
            }
        }
    }
    ids
}

/// Every `#[test]` fn of one source file.
fn test_fns(path: &Path, file: String, loom: bool) -> Vec<TestFn> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        // Walk up over the attributes and doc lines directly above the fn.
        let mut is_test = false;
        let mut docs = Vec::new();
        for above in lines[..i].iter().rev() {
            if above.starts_with("#[") {
                is_test |= above.trim_end_matches(']').ends_with("test");
            } else if let Some(doc) = above.strip_prefix("///") {
                docs.push(doc);
            } else {
                break;
            }
        }
        if is_test {
            found.push(TestFn {
                clauses: named_clauses(&name, &docs),
                name,
                file: file.clone(),
                loom,
            });
        }
    }
    found
}

/// `fn name(` (with any visibility or qualifiers before it) → `name`.
fn fn_name(line: &str) -> Option<String> {
    let at = line.find("fn ")?;
    let before = &line[..at];
    let qualifiers_only = before
        .split_whitespace()
        .all(|w| matches!(w, "pub" | "pub(crate)" | "async" | "unsafe" | "const"));
    if !qualifiers_only {
        return None;
    }
    let rest = &line[at + 3..];
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    (end > 0).then(|| rest[..end].to_string())
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

#[test]
fn spec_clauses_are_all_checked_by_loom_and_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = fs::read_to_string(root.join("SPEC.md")).expect("SPEC.md");
    let clauses = spec_clauses(&spec);
    let mut tests = Vec::new();
    for (dir, loom) in [("loom-tests", true), ("tests", false)] {
        for path in rust_files(&root.join(dir)) {
            let file = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            tests.extend(test_fns(&path, file, loom));
        }
    }

    let mut problems = Vec::new();
    println!(
        "SPEC audit: {} clauses, {} test fns",
        clauses.len(),
        tests.len()
    );
    // F2 before F10: by letter, then by number.
    let mut ordered: Vec<(&String, &Vec<String>)> = clauses.iter().collect();
    ordered.sort_by_key(|(id, _)| (id.as_bytes()[0], id[1..].parse::<u32>().unwrap_or(0)));
    for (id, listed) in ordered {
        let checking: Vec<&TestFn> = tests.iter().filter(|t| t.clauses.contains(id)).collect();
        let loom = checking.iter().filter(|t| t.loom).count();
        let plain = checking.len() - loom;
        println!("{id}: {loom} loom model(s), {plain} test(s)");
        for t in &checking {
            println!("    {} ({})", t.name, t.file);
        }
        if loom == 0 {
            problems.push(format!(
                "{id} is checked by no loom model under loom-tests/"
            ));
        }
        if plain == 0 {
            problems.push(format!("{id} is checked by no test under tests/"));
        }
        for t in &checking {
            if !listed.contains(&t.name) {
                problems.push(format!(
                    "{} ({}) names {id}, but {id}'s `Checked by:` does not list it",
                    t.name, t.file
                ));
            }
        }
        for name in listed {
            if !checking.iter().any(|t| &t.name == name) {
                problems.push(format!(
                    "{id}'s `Checked by:` lists `{name}`, which is no #[test] fn naming {id}"
                ));
            }
        }
    }
    for t in &tests {
        for id in t.clauses.iter().filter(|id| !clauses.contains_key(*id)) {
            problems.push(format!(
                "{} ({}) names {id}, which SPEC.md does not define",
                t.name, t.file
            ));
        }
    }
    for p in &problems {
        println!("PROBLEM: {p}");
    }
    assert!(
        problems.is_empty(),
        "SPEC audit failed:\n{}",
        problems.join("\n")
    );
}

/// The parsing rules themselves, on small inputs (no clause is named here).
#[test]
fn audit_parsing_rules() {
    let spec = "## F\n### F1 one\nChecked by: `a`, `b`\nin x.rs: `c`.\n### F12 two\nChecked by: `d`.\n\n`e`\n## Q\n(to be written)\n### not-a-clause\n";
    let clauses = spec_clauses(spec);
    assert_eq!(clauses.keys().collect::<Vec<_>>(), ["F1", "F12"]);
    assert_eq!(clauses["F1"], ["a", "b", "c"], "the paragraph runs on");
    assert_eq!(clauses["F12"], ["d"], "a blank line ends it");
    assert!(named_clauses("f1_f6_x", &[]).iter().eq(["F1", "F6"].iter()));
    assert!(
        named_clauses("fun_f1", &[]).is_empty(),
        "only a leading prefix counts"
    );
    assert!(named_clauses("x", &[" Q3, E1: x; F10."])
        .iter()
        .eq(["E1", "F10", "Q3"].iter()));
    assert!(
        named_clauses("x", &[" F1x Fa 1F"]).is_empty(),
        "whole words only"
    );
    assert_eq!(
        fn_name("pub async fn go_1(x: u8) {"),
        Some("go_1".to_string())
    );
    assert_eq!(fn_name("let f = |x| fn_like(x);"), None);
}
