//! The modules of `src/` form layers: no module imports one that imports it
//! back, directly or through others. Reads `crate::name` paths in the
//! non-test part of each file; all of `src/ffi/` counts as one module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn module_imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in [src.clone(), src.join("ffi")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel == "lib.rs" {
            continue;
        }
        let module = if rel.starts_with("ffi") {
            "ffi".to_string()
        } else {
            rel.trim_end_matches(".rs").to_string()
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let deps = imports.entry(module.clone()).or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name = item.trim().split("::").next().unwrap_or("");
                    if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    {
                        deps.insert(name.to_string());
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    deps.insert(name);
                }
            }
        }
        deps.remove(&module);
    }
    imports
}

#[test]
fn src_has_no_import_cycles() {
    let imports = module_imports();
    assert!(imports.contains_key("client") && imports.contains_key("engine"));
    // A module is in a cycle when it can reach itself.
    for start in imports.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        while let Some((module, path)) = stack.pop() {
            for dep in imports.get(&module).into_iter().flatten() {
                if dep == start {
                    panic!("import cycle: {} -> {start}", path.join(" -> "));
                }
                if imports.contains_key(dep) && seen.insert(dep.clone()) {
                    let mut next = path.clone();
                    next.push(dep.clone());
                    stack.push((dep.clone(), next));
                }
            }
        }
    }
}

#[test]
fn the_engine_knows_nothing_of_requests_clients_or_c() {
    let imports = module_imports();
    let engine = &imports["engine"];
    for forbidden in [
        "client", "request", "handles", "dispatch", "ffi", "transfer",
    ] {
        assert!(!engine.contains(forbidden), "engine imports {forbidden}");
    }
}
