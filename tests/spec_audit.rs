//! The SPEC audit: every clause of SPEC.md is checked by at least one loom
//! model and one test, no test names a clause that does not exist, and each
//! clause's `Checked by:` paragraph is the one computed from the tests that
//! name it (`SPEC_AUDIT_WRITE=1 cargo test --test spec_audit` rewrites the
//! paragraphs in place). The conventions are in
//! SPEC.md's intro ("How to read and audit this file"). It also checks that
//! every atomic ordering site of `src/` has its rows in the ordering-mutation
//! table, `verification/orderings.md`. Plain std text parsing, no
//! dependencies.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One `#[test]` fn and the clause IDs it names.
#[derive(Debug)]
struct TestFn {
    name: String,
    /// `loom-tests/...`, `tests/...`, or a loom module's file under `src/`.
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
    let qualifiers_only = before.split_whitespace().all(|w| {
        matches!(w, "pub" | "async" | "unsafe" | "const")
            || w.starts_with("pub(") && w.ends_with(')')
    });
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

/// Every `.rs` file under `dir`, in its subdirectories too, sorted.
fn rust_files_deep(dir: &Path) -> Vec<PathBuf> {
    let mut files = rust_files(dir);
    let mut subdirs: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        files.extend(rust_files_deep(&sub));
    }
    files.sort();
    files
}

/// The files of the test modules of `src/` that are declared `mod name;`
/// under a `#[cfg(test)]`-style attribute (an inline `mod name { .. }` is
/// not a file: see [`test_module_lines`]), each with whether it holds loom
/// models, that is whether its attribute is `#[cfg(all(test, loom))]`.
/// A module given a `#[path]` is left out (a file of another directory,
/// such as the shared loom helpers).
fn test_module_files(src: &Path) -> Vec<(PathBuf, bool)> {
    let mut found = Vec::new();
    for path in rust_files_deep(src) {
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if !(line.starts_with("#[cfg(test") || line.starts_with("#[cfg(all(test")) {
                continue;
            }
            let loom = *line == "#[cfg(all(test, loom))]";
            let mut j = i + 1;
            let mut has_path = false;
            while j < lines.len() && lines[j].starts_with("#[") {
                has_path |= lines[j].starts_with("#[path");
                j += 1;
            }
            let Some(name) = lines
                .get(j)
                .and_then(|l| l.strip_prefix("mod "))
                .and_then(|l| l.strip_suffix(';'))
            else {
                continue;
            };
            if has_path {
                continue;
            }
            // `lib.rs` and `mod.rs` own their directory; `x.rs` owns `x/`.
            let stem = path.file_stem().unwrap();
            let dir = if stem == "lib" || stem == "mod" {
                path.parent().unwrap().to_path_buf()
            } else {
                path.with_extension("")
            };
            let file = [
                dir.join(format!("{name}.rs")),
                dir.join(name).join("mod.rs"),
            ]
            .into_iter()
            .find(|f| f.is_file())
            .unwrap_or_else(|| panic!("{}: no file for `mod {name};`", path.display()));
            found.push((file, loom));
        }
    }
    found
}

/// The `Checked by:` paragraph that `checking` (in file order: loom models,
/// then tests) makes: one line per file, names in source order.
fn checked_by_paragraph(checking: &[&TestFn]) -> Vec<String> {
    let mut files: Vec<(&str, Vec<&str>)> = Vec::new();
    for t in checking {
        match files.iter_mut().find(|(f, _)| *f == t.file) {
            Some((_, names)) => names.push(&t.name),
            None => files.push((&t.file, vec![&t.name])),
        }
    }
    files
        .iter()
        .enumerate()
        .map(|(i, (file, names))| {
            let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            let head = if i == 0 { "Checked by: in" } else { "in" };
            format!("{head} {file}: {}.", list.join(", "))
        })
        .collect()
}

/// `spec` with every clause's `Checked by:` paragraph replaced by
/// `paragraphs[id]` (a clause without one gets it at the end of its
/// section, after a blank line). Lines and their order are kept otherwise.
fn rewrite_checked_by(spec: &str, paragraphs: &BTreeMap<String, Vec<String>>) -> String {
    let lines: Vec<&str> = spec.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    let mut written = false;
    // Ends the current clause's section: adds its paragraph if it had none.
    let finish = |out: &mut Vec<String>, current: &Option<String>, written: bool| {
        if let (Some(id), false) = (current, written) {
            if let Some(para) = paragraphs.get(id) {
                while out.last().is_some_and(|l| l.trim().is_empty()) {
                    out.pop();
                }
                out.push(String::new());
                out.extend(para.iter().cloned());
                out.push(String::new());
            }
        }
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("## ") || line.starts_with("### ") {
            finish(&mut out, &current, written);
            written = false;
            current = line
                .strip_prefix("### ")
                .and_then(|rest| rest.split_whitespace().next())
                .filter(|id| is_clause_id(id))
                .map(str::to_string);
        } else if let (Some(id), true) = (&current, line.trim().starts_with("Checked by:")) {
            // Skip the old paragraph, up to the next blank or heading line.
            i += 1;
            while i < lines.len() && !lines[i].trim().is_empty() && !lines[i].starts_with('#') {
                i += 1;
            }
            out.extend(paragraphs.get(id).into_iter().flatten().cloned());
            written = true;
            continue;
        }
        out.push(line.to_string());
        i += 1;
    }
    finish(&mut out, &current, written);
    let mut text = out.join("\n");
    if spec.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// A diff-like account of the `Checked by:` paragraphs that differ.
fn checked_by_diff(
    old: &BTreeMap<String, Vec<String>>,
    new: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (id, para) in new {
        let was = old.get(id).cloned().unwrap_or_default();
        if &was != para {
            out.push(format!("@@ {id} Checked by:"));
            out.extend(was.iter().map(|l| format!("-{l}")));
            out.extend(para.iter().map(|l| format!("+{l}")));
        }
    }
    out
}

/// The `Checked by:` paragraph of each clause, as its lines stand.
fn checked_by_lines(spec: &str) -> BTreeMap<String, Vec<String>> {
    let mut paras: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_para = false;
    for line in spec.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            in_para = false;
        }
        if let Some(rest) = line.strip_prefix("### ") {
            let id = rest.split_whitespace().next().unwrap_or("");
            current = is_clause_id(id).then(|| id.to_string());
        } else if line.starts_with("## ") {
            current = None;
        } else if let Some(id) = &current {
            if line.trim().starts_with("Checked by:") {
                in_para = true;
            }
            if in_para {
                paras.entry(id.clone()).or_default().push(line.to_string());
            }
        }
    }
    paras
}

/// Clause IDs by letter, then by number (F2 before F10).
fn clause_order(id: &str) -> (u8, u32) {
    (id.as_bytes()[0], id[1..].parse::<u32>().unwrap_or(0))
}

#[test]
fn spec_clauses_are_all_checked_by_loom_and_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec_path = root.join("SPEC.md");
    let spec = fs::read_to_string(&spec_path).expect("SPEC.md");
    let clauses = spec_clauses(&spec);
    let mut tests = Vec::new();
    for (path, loom) in test_module_files(&root.join("src")) {
        if loom {
            let file = path.strip_prefix(root).unwrap().to_string_lossy();
            tests.extend(test_fns(&path, file.replace('\\', "/"), true));
        }
    }
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
    let mut ordered: Vec<&String> = clauses.keys().collect();
    ordered.sort_by_key(|id| clause_order(id));
    let mut paragraphs = BTreeMap::new();
    for id in ordered {
        let checking: Vec<&TestFn> = tests.iter().filter(|t| t.clauses.contains(id)).collect();
        let loom = checking.iter().filter(|t| t.loom).count();
        let plain = checking.len() - loom;
        println!("{id}: {loom} loom model(s), {plain} test(s)");
        for t in &checking {
            println!("    {} ({})", t.name, t.file);
        }
        if loom == 0 {
            problems.push(format!(
                "{id} is checked by no loom model (loom-tests/, or a \
                 `#[cfg(all(test, loom))]` module of src/)"
            ));
        }
        if plain == 0 {
            problems.push(format!("{id} is checked by no test under tests/"));
        }
        paragraphs.insert(id.clone(), checked_by_paragraph(&checking));
    }
    for t in &tests {
        for id in t.clauses.iter().filter(|id| !clauses.contains_key(*id)) {
            problems.push(format!(
                "{} ({}) names {id}, which SPEC.md does not define",
                t.name, t.file
            ));
        }
    }

    // The `Checked by:` paragraphs are generated from the tests' names.
    let generated = rewrite_checked_by(&spec, &paragraphs);
    if generated != spec {
        if std::env::var_os("SPEC_AUDIT_WRITE").is_some_and(|v| v == "1") {
            fs::write(&spec_path, &generated).expect("write SPEC.md");
            println!("SPEC.md: `Checked by:` paragraphs rewritten");
        } else {
            let diff = checked_by_diff(&checked_by_lines(&spec), &paragraphs);
            problems.push(format!(
                "SPEC.md's `Checked by:` paragraphs are not what the tests name; \
                 run SPEC_AUDIT_WRITE=1 cargo test --test spec_audit to rewrite them:\n{}",
                diff.join("\n")
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

/// The generated `Checked by:` paragraphs and their rewriting, on small
/// inputs (no clause is named here).
#[test]
fn checked_by_generation_rules() {
    let t = |name: &str, file: &str| TestFn {
        name: name.to_string(),
        file: file.to_string(),
        loom: file.starts_with("loom-tests/"),
        clauses: BTreeSet::new(),
    };
    let (a, b, c) = (
        t("a", "loom-tests/x.rs"),
        t("b", "tests/y.rs"),
        t("c", "loom-tests/x.rs"),
    );
    assert_eq!(
        checked_by_paragraph(&[&a, &c, &b]),
        [
            "Checked by: in loom-tests/x.rs: `a`, `c`.",
            "in tests/y.rs: `b`."
        ]
    );
    let paragraphs: BTreeMap<String, Vec<String>> = [
        (
            "F1".to_string(),
            vec!["Checked by: in t.rs: `new`.".to_string()],
        ),
        (
            "F2".to_string(),
            vec!["Checked by: in t.rs: `two`.".to_string()],
        ),
    ]
    .into_iter()
    .collect();
    let spec = "## F\n### F1 one\nText.\n\nChecked by: `old`,\n`older`.\n\nAfter.\n### F2 two\nText.\n\n## Q\n";
    let want = "## F\n### F1 one\nText.\n\nChecked by: in t.rs: `new`.\n\nAfter.\n### F2 two\nText.\n\nChecked by: in t.rs: `two`.\n\n## Q\n";
    assert_eq!(rewrite_checked_by(spec, &paragraphs), want);
    assert_eq!(rewrite_checked_by(want, &paragraphs), want, "a fixed point");
    let diff = checked_by_diff(&checked_by_lines(spec), &paragraphs);
    assert_eq!(
        diff,
        [
            "@@ F1 Checked by:",
            "-Checked by: `old`,",
            "-`older`.",
            "+Checked by: in t.rs: `new`.",
            "@@ F2 Checked by:",
            "+Checked by: in t.rs: `two`.",
        ]
    );
}

/// One atomic ordering site of `src/`, as `.ci/mutate-orderings` names it:
/// file, enclosing fn, operation (`load`, `fetch_or`, `fence`,
/// `compare_exchange_weak success`, ...), ordering.
type Site = (String, String, String, String);

/// `text` with comments and string literals blanked, same length, so that
/// byte offsets and line breaks are kept.
fn code_mask(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            let end = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let end = text[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(b.len());
            blank(&mut out, i + 1, end);
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// The (1-based) lines of `#[cfg(test)]`-style modules.
fn test_module_lines(lines: &[&str]) -> BTreeSet<usize> {
    let mut skip = BTreeSet::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        if t.starts_with("#[cfg(test") || t.starts_with("#[cfg(all(test") {
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim_start().starts_with("#[") {
                j += 1;
            }
            let opens_mod = j < lines.len() && {
                let l = lines[j].trim();
                l.ends_with('{') && l.split_whitespace().any(|w| w == "mod")
            };
            if opens_mod {
                let indent = lines[j].len() - lines[j].trim_start().len();
                let close = format!("{}}}", " ".repeat(indent));
                let mut k = j + 1;
                while k < lines.len() && lines[k].trim_end() != close {
                    k += 1;
                }
                skip.extend(i + 1..=k + 1);
                i = k + 1;
                continue;
            }
        }
        i += 1;
    }
    skip
}

/// Every ordering site of one file (path relative to the crate root).
fn ordering_sites(text: &str, file: &str) -> Vec<Site> {
    let masked = code_mask(text);
    let masked_text = String::from_utf8_lossy(&masked).into_owned();
    let masked_lines: Vec<&str> = masked_text.split('\n').collect();
    let lines: Vec<&str> = text.split('\n').collect();
    let skip = test_module_lines(&masked_lines);
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut sites = Vec::new();
    let needle = b"Ordering::";
    let mut at = 0;
    while let Some(p) = masked_text[at..].find("Ordering::").map(|p| at + p) {
        at = p + needle.len();
        if p > 0 && is_ident(masked[p - 1]) {
            continue;
        }
        let name_end = at + masked[at..].iter().take_while(|&&c| is_ident(c)).count();
        let ordering = &masked_text[at..name_end];
        let line = masked[..p].iter().filter(|&&c| c == b'\n').count() + 1;
        if skip.contains(&line) || ordering.is_empty() {
            continue;
        }
        // The call the ordering is an argument of: the nearest unmatched `(`.
        let (mut depth, mut commas, mut i) = (0, 0, p);
        let open = loop {
            if i == 0 {
                break None;
            }
            i -= 1;
            match masked[i] {
                b')' | b']' | b'}' => depth += 1,
                b'(' | b'[' | b'{' if depth == 0 => break Some(i),
                b'(' | b'[' | b'{' => depth -= 1,
                b',' if depth == 0 => commas += 1,
                _ => {}
            }
        };
        let Some(open) = open.filter(|&o| masked[o] == b'(') else {
            continue;
        };
        let before = masked_text[..open].trim_end();
        let method: String = before
            .chars()
            .rev()
            .take_while(|&c| c.is_ascii_alphanumeric() || c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if method.is_empty() {
            continue;
        }
        let op = match method.as_str() {
            "compare_exchange" | "compare_exchange_weak" if commas == 2 => {
                format!("{method} success")
            }
            "compare_exchange" | "compare_exchange_weak" => format!("{method} failure"),
            "fetch_update" if commas == 0 => format!("{method} success"),
            "fetch_update" => format!("{method} failure"),
            _ => method,
        };
        // The enclosing fn: the nearest `fn` line above, indented less.
        let indent = |l: &str| l.len() - l.trim_start().len();
        let fn_ = lines[..line - 1]
            .iter()
            .rev()
            .filter(|l| indent(l) < indent(lines[line - 1]))
            .find_map(|l| fn_name(l.trim()))
            .unwrap_or_else(|| "-".to_string());
        sites.push((file.to_string(), fn_, op, ordering.to_string()));
    }
    sites
}

/// Every ordering site of `src/` (but the `sync.rs` shim, which only
/// re-exports, and test modules) has its rows in `verification/orderings.md`, and every site
/// there still exists. Line numbers are not compared: regenerating the table
/// (`.ci/mutate-orderings --list --out verification/orderings.md`, no runs)
/// refreshes them and keeps each site's results and notes.
#[test]
fn every_ordering_site_is_in_the_mutation_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let test_files: BTreeSet<PathBuf> = test_module_files(&root.join("src"))
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    let mut in_src: BTreeMap<Site, usize> = BTreeMap::new();
    for path in rust_files_deep(&root.join("src")) {
        let rel = path.strip_prefix(root).unwrap().to_string_lossy();
        let rel = rel.replace('\\', "/");
        if rel == "src/sync.rs" || test_files.contains(&path) {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        for site in ordering_sites(&text, &rel) {
            *in_src.entry(site).or_default() += 1;
        }
    }

    let table = fs::read_to_string(root.join("verification/orderings.md"))
        .expect("verification/orderings.md (made by .ci/mutate-orderings --out)");
    let mut in_table: BTreeMap<Site, usize> = BTreeMap::new();
    let mut rows = BTreeSet::new();
    for line in table.lines().filter(|l| l.starts_with("| `src/")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [site, fn_, op, ordering, ..] = cells[..] else {
            panic!("short row: {line}");
        };
        let unquote = |s: &str| s.trim_matches('`').to_string();
        // The per-file summary rows name a file without a line.
        let Some((file, _line)) = unquote(site)
            .rsplit_once(':')
            .map(|(f, l)| (f.to_string(), l.to_string()))
        else {
            continue;
        };
        // One site has one row per mutant: count it once.
        if rows.insert((unquote(site), unquote(op))) {
            let key = (file, unquote(fn_), unquote(op), unquote(ordering));
            *in_table.entry(key).or_default() += 1;
        }
    }

    let mut problems = Vec::new();
    for (site, n) in &in_src {
        let listed = in_table.get(site).copied().unwrap_or(0);
        if listed < *n {
            problems.push(format!(
                "{site:?}: {n} site(s) in src/, {listed} in the table"
            ));
        }
    }
    for (site, n) in &in_table {
        if !in_src.contains_key(site) {
            problems.push(format!("{site:?}: {n} site(s) in the table, none in src/"));
        }
    }
    println!(
        "ordering audit: {} sites in src/",
        in_src.values().sum::<usize>()
    );
    assert!(
        problems.is_empty(),
        "verification/orderings.md is out of date (regenerate it: \
         .ci/mutate-orderings --list --out verification/orderings.md):\n{}",
        problems.join("\n")
    );
}

/// The site scanner on a small input.
#[test]
fn ordering_scanner_rules() {
    let src = "fn a() {\n    x.load(Ordering::Acquire); // Ordering::SeqCst\n    y.compare_exchange_weak(\n        1,\n        f(2, 3),\n        Ordering::AcqRel,\n        Ordering::Relaxed,\n    );\n    fence(Ordering::SeqCst);\n    let s = \"Ordering::Release\";\n}\n#[cfg(test)]\nmod tests {\n    fn t() { X.store(0, Ordering::SeqCst); }\n}\n";
    let sites = ordering_sites(src, "src/x.rs");
    let ops: Vec<(&str, &str, &str)> = sites
        .iter()
        .map(|(_, f, o, ord)| (f.as_str(), o.as_str(), ord.as_str()))
        .collect();
    assert_eq!(
        ops,
        [
            ("a", "load", "Acquire"),
            ("a", "compare_exchange_weak success", "AcqRel"),
            ("a", "compare_exchange_weak failure", "Relaxed"),
            ("a", "fence", "SeqCst"),
        ]
    );
}

/// The test-module file finder on a small tree: `lib.rs` owns its
/// directory, `x.rs` owns `x/`, a `#[path]` module is left out, and only
/// `#[cfg(all(test, loom))]` marks loom models.
#[test]
fn test_module_file_rules() {
    let src = std::env::temp_dir().join(format!("spec-audit-{}", std::process::id()));
    let _ = fs::remove_dir_all(&src);
    fs::create_dir_all(src.join("q/x")).unwrap();
    let write = |rel: &str, text: &str| fs::write(src.join(rel), text).unwrap();
    write(
        "lib.rs",
        "mod q;\n#[cfg(all(test, not(loom)))]\nmod unit;\n#[cfg(all(test, loom))]\n#[path = \"../elsewhere.rs\"]\nmod helpers;\n",
    );
    write("unit.rs", "");
    write("q/mod.rs", "mod x;\n");
    write("q/x.rs", "#[cfg(all(test, loom))]\nmod models;\n");
    write("q/x/models.rs", "");
    let found = test_module_files(&src);
    let rel: Vec<(String, bool)> = found
        .iter()
        .map(|(p, loom)| {
            (
                p.strip_prefix(&src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
                *loom,
            )
        })
        .collect();
    fs::remove_dir_all(&src).unwrap();
    assert_eq!(
        rel,
        [
            ("unit.rs".to_string(), false),
            ("q/x/models.rs".to_string(), true)
        ]
    );
}
