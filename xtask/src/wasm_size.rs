//! `cargo xtask wasm-size`: where the WebAssembly package's bytes go. Builds the module
//! as the package does (the `wasm` profile) but keeps its function names, then sums the
//! code section per crate and module (trait impls per trait) and prints the largest
//! groups and functions. The budget work on the package starts from this table.

use std::collections::HashMap;
use std::process::Command;

use super::{cargo, root, run};

/// Builds the named module and prints the table (`top` groups and functions), then every
/// function of the groups whose name contains `only`, when given.
pub(crate) fn wasm_size(top: usize, only: Option<&str>) -> Result<(), String> {
    let dir = root().join("target/wasm-size");
    run(
        "wasm build with names",
        cargo()
            .args([
                "build",
                "-p",
                "playhead-wasm",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .args(["--profile", "wasm"])
            .env("CARGO_PROFILE_WASM_STRIP", "false")
            .env("CARGO_TARGET_DIR", &dir),
    )?;
    let file = dir.join("wasm32-unknown-unknown/wasm/playhead_wasm.wasm");
    let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let module = Module::read(&bytes).ok_or_else(|| format!("{}: not a module", file.display()))?;
    let shipped: Vec<&Function> = module
        .functions
        .iter()
        .filter(|f| !removed_by_bindgen(&f.name))
        .collect();
    let code: usize = shipped.iter().map(|f| f.size).sum();
    let mut groups: HashMap<String, (usize, usize)> = HashMap::new();
    for f in &shipped {
        let g = groups.entry(group(&f.name)).or_default();
        g.0 += f.size;
        g.1 += 1;
    }
    let mut groups: Vec<(String, (usize, usize))> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    println!(
        "code {code} bytes in {} functions (wasm-bindgen's describe functions left out); data {} bytes",
        shipped.len(),
        module.data
    );
    if let Some(gz) = shipped_gzip() {
        println!("shipped module (wasm/dist, from `cargo xtask web`): {gz} bytes gzip");
    }
    println!("\n{:>9} {:>6} {:>6}  group", "bytes", "%", "fns");
    for (name, (size, n)) in groups.iter().take(top) {
        let share = *size as f64 * 100.0 / code.max(1) as f64;
        println!("{size:>9} {share:>6.1} {n:>6}  {name}");
    }
    let mut largest = shipped;
    largest.sort_by_key(|f| std::cmp::Reverse(f.size));
    println!("\n{:>9}  largest functions", "bytes");
    for f in largest.iter().take(top) {
        println!("{:>9}  {}", f.size, readable(&f.name));
    }
    if let Some(only) = only {
        println!(
            "\n{:>9}  functions of the groups matching {only:?}",
            "bytes"
        );
        for f in largest.iter().filter(|f| group(&f.name).contains(only)) {
            println!("{:>9}  {}", f.size, readable(&f.name));
        }
    }
    Ok(())
}

/// The gzip size of the module `cargo xtask web` built, if there is one.
fn shipped_gzip() -> Option<usize> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(root().join("wasm/dist/playhead_wasm_bg.wasm"))
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout.len())
}

/// wasm-bindgen runs these to learn the types, then drops them from the module.
fn removed_by_bindgen(name: &str) -> bool {
    name.starts_with("__wbindgen_describe") || name.contains("WasmDescribe")
}

struct Function {
    name: String,
    size: usize,
}

struct Module {
    functions: Vec<Function>,
    data: usize,
}

impl Module {
    /// The function bodies with their names (the `name` section) and the data size.
    fn read(b: &[u8]) -> Option<Module> {
        if b.get(..4)? != b"\0asm" {
            return None;
        }
        let mut at = 8;
        let (mut imported, mut sizes, mut names, mut data) =
            (0usize, Vec::new(), HashMap::new(), 0);
        while at < b.len() {
            let id = *b.get(at)?;
            let (len, body) = leb(b, at + 1)?;
            let end = body.checked_add(len)?;
            let section = b.get(body..end)?;
            match id {
                2 => imported = function_imports(section)?,
                10 => sizes = bodies(section)?,
                11 => data = len,
                0 => {
                    let (n, rest) = leb(section, 0)?;
                    if section.get(rest..rest + n)? == b"name" {
                        names = function_names(&section[rest + n..])?;
                    }
                }
                _ => {}
            }
            at = end;
        }
        let functions = sizes
            .into_iter()
            .enumerate()
            .map(|(i, size)| Function {
                name: names
                    .remove(&(imported + i))
                    .unwrap_or_else(|| format!("function {}", imported + i)),
                size,
            })
            .collect();
        Some(Module { functions, data })
    }
}

/// An unsigned LEB128 at `at`: the value and where the next field starts.
fn leb(b: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let (mut v, mut shift) = (0usize, 0u32);
    loop {
        let x = *b.get(at)?;
        at += 1;
        v |= usize::from(x & 0x7f).checked_shl(shift)?;
        if x < 0x80 {
            return Some((v, at));
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// How many functions the import section imports (they come first in the index space).
fn function_imports(s: &[u8]) -> Option<usize> {
    let (n, mut at) = leb(s, 0)?;
    let mut functions = 0;
    for _ in 0..n {
        for _ in 0..2 {
            let (len, next) = leb(s, at)?;
            at = next + len;
        }
        let kind = *s.get(at)?;
        at += 1;
        match kind {
            0 => {
                functions += 1;
                at = leb(s, at)?.1;
            }
            1 => {
                let (flags, next) = leb(s, at + 1)?;
                at = leb(s, next)?.1;
                if flags & 1 == 1 {
                    at = leb(s, at)?.1;
                }
            }
            2 => {
                let (flags, next) = leb(s, at)?;
                at = leb(s, next)?.1;
                if flags & 1 == 1 {
                    at = leb(s, at)?.1;
                }
            }
            3 => at += 2,
            _ => return None,
        }
    }
    Some(functions)
}

/// The size of each function body in the code section.
fn bodies(s: &[u8]) -> Option<Vec<usize>> {
    let (n, mut at) = leb(s, 0)?;
    let mut out = Vec::with_capacity(n.min(s.len()));
    for _ in 0..n {
        let (len, body) = leb(s, at)?;
        out.push(len);
        at = body.checked_add(len)?;
    }
    Some(out)
}

/// The function names subsection of a `name` section.
fn function_names(s: &[u8]) -> Option<HashMap<usize, String>> {
    let mut at = 0;
    while at < s.len() {
        let id = s[at];
        let (len, body) = leb(s, at + 1)?;
        if id == 1 {
            let (n, mut p) = leb(s, body)?;
            let mut names = HashMap::with_capacity(n.min(s.len()));
            for _ in 0..n {
                let (index, next) = leb(s, p)?;
                let (l, text) = leb(s, next)?;
                let name = String::from_utf8_lossy(s.get(text..text + l)?).into_owned();
                names.insert(index, name);
                p = text + l;
            }
            return Some(names);
        }
        at = body + len;
    }
    Some(HashMap::new())
}

/// The path segments of a legacy-mangled Rust symbol (`_ZN` + length-prefixed parts),
/// without the trailing hash.
fn segments(name: &str) -> Option<Vec<String>> {
    let mut rest = name.strip_prefix("_ZN")?;
    let mut out = Vec::new();
    while let Some(digits) = rest.find(|c: char| !c.is_ascii_digit()).filter(|&d| d > 0) {
        let n: usize = rest[..digits].parse().ok()?;
        let part = rest.get(digits..digits + n)?;
        out.push(part.to_owned());
        rest = &rest[digits + n..];
    }
    if out
        .last()
        .is_some_and(|h| h.len() == 17 && h.starts_with('h'))
    {
        out.pop();
    }
    Some(out)
}

/// The symbol with the common escapes of legacy mangling undone.
fn readable(name: &str) -> String {
    let Some(parts) = segments(name) else {
        return name.to_owned();
    };
    parts
        .join("::")
        .replace("$LT$", "<")
        .replace("$GT$", ">")
        .replace("$u20$", " ")
        .replace("$RF$", "&")
        .replace("$C$", ",")
        .replace("..", "::")
}

/// What a function counts under: `crate::module` for free functions and inherent
/// methods, `impl crate::Trait` for trait impls, `std (v0 symbols)` for the precompiled
/// standard library.
fn group(name: &str) -> String {
    if name.starts_with("_R") {
        return "std and compiler builtins (v0 symbols)".into();
    }
    let Some(parts) = segments(name) else {
        return "other".into();
    };
    let text = readable(name);
    if let Some(i) = text.find(" as ") {
        let tr: Vec<&str> = text[i + 4..].split("::").take(2).collect();
        return format!("impl {}", tr.join("::").trim_end_matches('>'));
    }
    if parts.first().is_some_and(|p| p.starts_with("_$LT$")) {
        let inner = readable(name);
        let path: Vec<&str> = inner.trim_start_matches("_<").split("::").take(2).collect();
        return path.join("::");
    }
    parts.iter().take(2).cloned().collect::<Vec<_>>().join("::")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_group_by_crate_module_or_trait() {
        assert_eq!(
            group("_ZN8playhead3hls5media11parse_media17h0ee4b13e3d5fc5e2E"),
            "playhead::hls"
        );
        assert_eq!(
            group(
                "_ZN67_$LT$alloc..vec..Vec$LT$T$C$A$GT$$u20$as$u20$core..clone..Clone$GT$5clone17h6cd6be8478fdd645E"
            ),
            "impl core::clone"
        );
        assert_eq!(
            group(
                "_RNvMs0_NtCsjqx8TIyZbP9_8dlmalloc8dlmallocINtB5_8DlmallocNtNtB7_3sys6SystemE6malloc"
            ),
            "std and compiler builtins (v0 symbols)"
        );
        assert_eq!(
            readable("_ZN8playhead3hls5media11parse_media17h0ee4b13e3d5fc5e2E"),
            "playhead::hls::media::parse_media"
        );
    }

    #[test]
    fn a_small_module_reads_back() {
        // One imported function, two bodies (2 and 3 bytes), a name for the second.
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([2, 7, 1, 1, b'e', 1, b'f', 0, 0]);
        m.extend([10, 8, 2, 2, 0, 0x0b, 3, 0, 1, 0x0b]);
        let names = [1u8, 5, 1, 2, 2, b'f', b'n'];
        let mut custom = vec![4, b'n', b'a', b'm', b'e'];
        custom.extend(names);
        m.push(0);
        m.push(custom.len() as u8);
        m.extend(custom);
        let module = Module::read(&m).unwrap();
        let got: Vec<(&str, usize)> = module
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f.size))
            .collect();
        assert_eq!(got, vec![("function 1", 2), ("fn", 3)]);
        assert!(Module::read(b"\0asm\x01\0\0\0\x0a\xff").is_none());
    }
}
