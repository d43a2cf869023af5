//! The code's shape, checked on every run: no source file over 500 lines,
//! no function over 80, and no import cycle between the modules of a crate
//! (a cycle means a type lives in the wrong file). The reading is by lines
//! and braces, not a parser: good enough for code that rustfmt has laid out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 500;
const MAX_FUNCTION_LINES: usize = 80;

/// The workspace's crates: every `src` folder with a `lib.rs` or `main.rs`.
fn crate_roots(root: &Path) -> Vec<PathBuf> {
    rust_files(root)
        .into_iter()
        .filter(|f| f.ends_with("src/lib.rs") || f.ends_with("src/main.rs"))
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() && !name.starts_with('.') && name != "target" {
            found.extend(rust_files(&path));
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn relative(path: &Path) -> String {
    let root = workspace().canonicalize().unwrap();
    let path = path.canonicalize().unwrap();
    path.strip_prefix(&root)
        .unwrap_or(&path)
        .display()
        .to_string()
}

#[test]
fn no_source_file_is_over_500_lines() {
    let long: Vec<String> = rust_files(&workspace())
        .iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file).ok()?.lines().count();
            (lines > MAX_FILE_LINES).then(|| format!("{} ({lines} lines)", relative(file)))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:#?}");
}

#[test]
fn no_function_is_over_80_lines() {
    let mut long = Vec::new();
    for file in rust_files(&workspace()) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (name, line, length) in functions(&text) {
            if length > MAX_FUNCTION_LINES {
                long.push(format!(
                    "{}:{line} {name} ({length} lines)",
                    relative(&file)
                ));
            }
        }
    }
    assert!(long.is_empty(), "split these functions: {long:#?}");
}

/// Every `fn` in `text`: its name, first line (from 1) and length in lines.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<String> = text.lines().map(code_only).collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = function_name(line) else {
            continue;
        };
        let mut depth = 0i32;
        let mut opened = false;
        for (offset, later) in lines[start..].iter().enumerate() {
            if !opened && later.contains(';') && !later.contains('{') {
                break; // A declaration without a body (a trait's).
            }
            for c in later.chars() {
                match c {
                    '{' => (depth, opened) = (depth + 1, true),
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth <= 0 {
                found.push((name.clone(), start + 1, offset + 1));
                break;
            }
        }
    }
    found
}

/// The name of the function a line starts, if it starts one.
fn function_name(line: &str) -> Option<String> {
    let mut words = line.split_whitespace().peekable();
    while let Some(word) = words.next() {
        match word {
            "fn" => {
                let name = words.next()?;
                let end = name.find(['(', '<']).unwrap_or(name.len());
                return Some(name[..end].to_string());
            }
            w if w.starts_with("pub") => {}
            "async" | "const" | "unsafe" | "extern" | "default" => {}
            _ => return None,
        }
    }
    None
}

/// A line without its comment, string and character literals (their braces
/// are not code).
fn code_only(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => break,
            '"' => {
                while let Some(s) = chars.next() {
                    match s {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            // A character literal ('{', '\n'), not a lifetime ('a).
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                let literal = rest.chars().nth(1) == Some('\'')
                    || (rest.starts_with('\\') && rest.chars().nth(2) == Some('\''));
                if literal {
                    let skip = if rest.starts_with('\\') { 3 } else { 2 };
                    for _ in 0..skip {
                        chars.next();
                    }
                }
                out.push('\'');
            }
            c => out.push(c),
        }
    }
    out
}

#[test]
fn no_crate_has_an_import_cycle() {
    let mut cycles = Vec::new();
    for root in crate_roots(&workspace()) {
        let graph = module_graph(&root);
        for cycle in strongly_connected(&graph) {
            let names: Vec<String> = cycle.iter().map(module_name).collect();
            cycles.push(format!("{}: {}", relative(&root), names.join(" ↔ ")));
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

type Module = Vec<String>;

fn module_name(module: &Module) -> String {
    match module.is_empty() {
        true => "<crate root>".into(),
        false => module.join("::"),
    }
}

/// Each module of the crate at `src` and the other modules it uses (not its
/// ancestors or descendants: a parent naming its children is no cycle).
fn module_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let modules: BTreeMap<Module, PathBuf> = rust_files(src)
        .into_iter()
        .filter_map(|file| Some((module_of(src, &file)?, file)))
        .collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        // A file's unit tests may reach anywhere.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let uses: BTreeSet<Module> = paths_used(text)
            .iter()
            .filter_map(|path| resolve(module, path, &modules))
            .filter(|target| !target.starts_with(module) && !module.starts_with(target))
            .collect();
        graph.insert(module.clone(), uses);
    }
    graph
}

/// `src/call/mod.rs` is `call`, `src/call/peer.rs` is `call::peer`;
/// binaries under `src/bin` are crates of their own.
fn module_of(src: &Path, file: &Path) -> Option<Module> {
    let relative = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    Some(parts)
}

/// Every path a file names from `crate::`, `super::` or `self::`, with
/// grouped imports (`use super::{a, b::C}`) spelled out.
fn paths_used(text: &str) -> Vec<String> {
    let code: String = text.lines().map(code_only).collect::<Vec<_>>().join(" ");
    let mut paths = Vec::new();
    for statement in code.split(';') {
        if let Some(tree) = statement.trim().strip_prefix("use ").or_else(|| {
            statement
                .trim()
                .strip_prefix("pub use ")
                .or_else(|| statement.trim().strip_prefix("pub(crate) use "))
        }) {
            paths.extend(expand(&tree.replace(' ', "")));
        }
    }
    // Paths written in place (`super::playout::play_out(…)`).
    for (at, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        let start = code[..at]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |i| i + 1);
        let end = code[at..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(code.len(), |i| at + i);
        paths.push(code[start..end].to_string());
    }
    paths
}

fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or(tree).to_string()];
    };
    let (prefix, inner) = (
        &tree[..open],
        &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())],
    );
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0, String::new());
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(p))
        .map(|p| format!("{prefix}{p}"))
        .collect()
}

/// The module of the crate a path leads into (the longest one it names).
fn resolve(from: &Module, path: &str, modules: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let mut base: Module;
    let mut rest = path;
    if let Some(tail) = rest.strip_prefix("crate::") {
        (base, rest) = (Vec::new(), tail);
    } else if rest.starts_with("super::") || rest.starts_with("self::") {
        base = from.clone();
        while let Some(tail) = rest.strip_prefix("super::") {
            base.pop();
            rest = tail;
        }
        rest = rest.strip_prefix("self::").unwrap_or(rest);
    } else {
        return None;
    }
    base.extend(
        rest.split("::")
            .filter(|p| !p.is_empty() && *p != "self")
            .map(str::to_string),
    );
    (0..=base.len())
        .rev()
        .map(|n| base[..n].to_vec())
        .find(|candidate| modules.contains_key(candidate))
}

/// The graph's cycles: its strongly connected parts of more than one module.
fn strongly_connected(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    // Two modules are in one cycle when each reaches the other.
    let reach = |from: &Module| -> BTreeSet<Module> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(module) = stack.pop() {
            for next in graph.get(&module).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&Module, BTreeSet<Module>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut placed = BTreeSet::new();
    let mut cycles = Vec::new();
    for module in graph.keys() {
        if placed.contains(module) || !reaches[module].contains(module) {
            continue;
        }
        let cycle: Vec<Module> = graph
            .keys()
            .filter(|other| reaches[module].contains(*other) && reaches[*other].contains(module))
            .cloned()
            .collect();
        placed.extend(cycle.iter().cloned());
        cycles.push(cycle);
    }
    cycles
}

#[test]
fn the_checks_see_what_they_look_for() {
    let text = "pub fn short() {\n    let s = \"}\";\n}\nasync fn long<'a>(x: &'a str) {\n    let c = '{';\n\n\n}\n";
    assert_eq!(
        functions(text),
        vec![("short".into(), 1, 3), ("long".into(), 4, 5)]
    );
    let from: Module = vec!["call".into(), "peer".into()];
    let modules: BTreeMap<Module, PathBuf> = [vec![], vec!["call".into()], from.clone()]
        .into_iter()
        .chain([vec!["call".to_string(), "senders".to_string()]])
        .map(|m| (m, PathBuf::new()))
        .collect();
    let used = paths_used(
        "use super::{senders::LocalSenders, Call};\nfn f() { crate::call::senders::go(); }",
    );
    let targets: BTreeSet<Module> = used
        .iter()
        .filter_map(|p| resolve(&from, p, &modules))
        .collect();
    assert!(
        targets.contains(&vec!["call".to_string(), "senders".to_string()]),
        "{used:?}"
    );
    let cycle: BTreeMap<Module, BTreeSet<Module>> = [
        (
            vec!["a".to_string()],
            BTreeSet::from([vec!["b".to_string()]]),
        ),
        (
            vec!["b".to_string()],
            BTreeSet::from([vec!["a".to_string()]]),
        ),
        (
            vec!["c".to_string()],
            BTreeSet::from([vec!["a".to_string()]]),
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(strongly_connected(&cycle).len(), 1);
}
