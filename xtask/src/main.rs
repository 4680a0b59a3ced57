//! Project tasks: `cargo xtask ci` (the whole test suite, as CI runs it) and
//! `cargo xtask demo` (the main job a newcomer runs: `playhead demo`, the bundled origin
//! played live in five formats with a DVR seek, a CDN failure, decoded audio and a chart).
//! `cargo xtask manifests --out DIR` writes the parse benchmark's six reference manifests;
//! `cargo xtask parse-bench [--runs N] [--json PATH]` times Playhead's WebAssembly parser
//! against hls.js, dash.js and Shaka Player on them in headless Chromium;
//! `cargo xtask wasm-size` shows where the WebAssembly module's code goes.
//!
//! `ci` installs what it needs idempotently (rustup components and the wasm32 target),
//! then runs: rustfmt check, clippy with `-D warnings`, all tests (unit, conformance
//! vectors and snapshots, the corpus walk, differential oracles, CLI), rustdoc with
//! warnings as errors, and a `wasm32-unknown-unknown` build whose module must import
//! nothing from `env` (proof that the core needs no host I/O); then `web` (the npm package
//! in `wasm/`, with its toolchain installed by `scripts/setup-web.sh`) and the package's
//! tests in headless Chromium against the test origin (and the reference manifests); then
//! `bindings` (the UniFFI library, its Kotlin, Swift and Python bindings generated, and the
//! parity suites: pytest, Kotlin on the JVM, and the Swift module's C header in a gcc
//! program; toolchain by `scripts/setup-native.sh`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

// The parse benchmark's generator, shared with `core/benches/parse.rs`.
#[path = "../../core/benches/manifests.rs"]
mod manifests;
mod native;
mod wasm_size;

use native::native_bindings;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("demo") => demo(),
        Some("abr-eval") => abr_eval(&args[1..]),
        Some("web") => web().map(|_| ()),
        Some("manifests") => match args.get(1..) {
            Some([flag, dir]) if flag == "--out" => write_manifests(Path::new(dir)),
            _ => Err("usage: cargo xtask manifests --out DIR".into()),
        },
        Some("parse-bench") => parse_bench(&args[1..]),
        Some("bindings") => native_bindings().map(|_| ()),
        Some("wasm-size") => wasm_size::wasm_size(25, args.get(1).map(String::as_str)),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|demo|web|bindings|abr-eval [TRACES_DIR]|manifests --out DIR|\
                 parse-bench [--runs N] [--json PATH]|wasm-size [GROUP]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(name: &str, cmd: &mut Command) -> Result<(), String> {
    eprintln!("\n==> {name}: {cmd:?}");
    let start = Instant::now();
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("{name}: {e}"))?;
    eprintln!(
        "<== {name}: {status} in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn ci() -> Result<(), String> {
    let start = Instant::now();
    // Idempotent installs: present components and targets are left as they are.
    run(
        "rustup components",
        Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]),
    )?;
    run(
        "rustup wasm32 target",
        Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
    )?;
    run("rustfmt", cargo().args(["fmt", "--all", "--check"]))?;
    run(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    let (passed, failed, skipped) = run_tests()?;
    run(
        "rustdoc",
        cargo()
            .args(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    run(
        "wasm32 build",
        cargo().args([
            "build",
            "-p",
            "playhead-wasm",
            "--target",
            "wasm32-unknown-unknown",
            "--release",
        ]),
    )?;
    let wasm = root().join("target/wasm32-unknown-unknown/release/playhead_wasm.wasm");
    let bytes = std::fs::read(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let modules = wasm_import_modules(&bytes)?;
    eprintln!("wasm32: {} bytes, imports from {modules:?}", bytes.len());
    if modules.iter().any(|m| m == "env") {
        return Err("the core's wasm imports from \"env\": it reached for host I/O".into());
    }
    web()?;
    let (node_passed, node_failed) = binding_tests()?;
    let manifests = root().join("target/bench-manifests");
    write_manifests(&manifests)?;
    let (web_passed, web_failed) = browser_tests(&manifests)?;
    let (native_passed, native_failed) = native_bindings()?;
    let (passed, failed) = (
        passed + node_passed + web_passed + native_passed,
        failed + node_failed + web_failed + native_failed,
    );
    eprintln!(
        "\nci: all steps passed in {:.0}s",
        start.elapsed().as_secs_f64()
    );
    // The closing line: the total of every `cargo test` binary (unit, integration, doc).
    if skipped > 0 {
        eprintln!("ci: {skipped} test(s) SKIPPED (ignored): see the SKIPPED warnings above");
        println!("ci: {passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("ci: {passed} passed, {failed} failed");
    }
    Ok(())
}

/// The npm package in `wasm/`: the toolchain (`scripts/setup-web.sh`, idempotent), then
/// wasm-pack with the size-tuned `wasm` profile into `wasm/dist`. wasm-opt is not run: on
/// this output it shrinks the raw module but grows the gzip (-Os: 950 kB raw, 403 kB gzip;
/// none: 1053 kB, 385 kB). Prints the size of each shipped part.
fn web() -> Result<Vec<(String, u64, u64)>, String> {
    run(
        "web toolchain",
        Command::new("bash").arg("scripts/setup-web.sh"),
    )?;
    let pkg = root().join("wasm");
    let path = format!(
        "{}:{}",
        pkg.join("node_modules/.bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    run(
        "wasm-pack",
        Command::new("wasm-pack")
            .args([
                "build",
                "wasm",
                "--target",
                "web",
                "--out-dir",
                "dist",
                "--no-pack",
                "--no-opt",
                "--profile",
                "wasm",
            ])
            .env("PATH", &path),
    )?;
    // wasm-pack writes a catch-all .gitignore, which npm would read as "pack nothing".
    let _ = std::fs::remove_file(pkg.join("dist/.gitignore"));
    fallback(&path)?;
    let mut sizes = Vec::new();
    for part in [
        "dist/playhead_wasm_bg.wasm",
        "dist/playhead_wasm.js",
        "js/player.js",
        "dist/fallback/playhead_core.js",
        "js/fallback.js",
    ] {
        let file = pkg.join(part);
        let raw = std::fs::metadata(&file)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .len();
        let out = Command::new("gzip")
            .args(["-9", "-c"])
            .arg(&file)
            .output()
            .map_err(|e| format!("gzip: {e}"))?;
        let gz = out.stdout.len() as u64;
        eprintln!("web: {part}: {raw} bytes, {gz} gzip");
        sizes.push((part.to_owned(), raw, gz));
    }
    let wasm: u64 = sizes[..3].iter().map(|s| s.2).sum();
    let js: u64 = sizes[1..].iter().map(|s| s.2).sum();
    eprintln!("web: WebAssembly build {wasm} bytes gzip; no-WebAssembly build {js} bytes gzip");
    Ok(sizes)
}

/// The no-WebAssembly build: the core behind a C ABI (wasm/fallback), compiled without
/// the wasm features wasm2js cannot turn into JavaScript, the rest lowered by wasm-opt,
/// then wasm2js. `path` finds binaryen's tools.
fn fallback(path: &str) -> Result<(), String> {
    run(
        "fallback core",
        Command::new("cargo")
            .args(["build", "-p", "playhead-fallback", "--target"])
            .args(["wasm32-unknown-unknown", "--profile", "fallback"])
            .env(
                "RUSTFLAGS",
                "-C target-feature=-reference-types,-multivalue,-bulk-memory",
            ),
    )?;
    let built = root().join("target/wasm32-unknown-unknown/fallback");
    let lowered = built.join("playhead_fallback.lowered.wasm");
    // The precompiled std still uses bulk memory, saturating conversions and sign
    // extension: lower them to plain wasm.
    run(
        "wasm-opt lowering",
        Command::new("wasm-opt")
            .args(["--enable-bulk-memory", "--enable-nontrapping-float-to-int"])
            .args(["--enable-sign-ext", "--llvm-memory-copy-fill-lowering"])
            .args(["--llvm-nontrapping-fptoint-lowering", "--signext-lowering"])
            .arg(built.join("playhead_fallback.wasm"))
            .arg("-o")
            .arg(&lowered)
            .env("PATH", path),
    )?;
    let out = root().join("wasm/dist/fallback");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    run(
        "wasm2js",
        Command::new("wasm2js")
            .args(["-O2"])
            .arg(&lowered)
            .arg("-o")
            .arg(out.join("playhead_core.js"))
            .env("PATH", path),
    )
}

/// The binding's own tests in Node (`wasm-pack test --node wasm`), totalled like the
/// cargo tests.
fn binding_tests() -> Result<(u64, u64), String> {
    let path = format!(
        "{}:{}",
        root().join("wasm/node_modules/.bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    eprintln!("\n==> binding tests: wasm-pack test --node wasm");
    let out = Command::new("wasm-pack")
        .args(["test", "--node", "wasm"])
        .env("PATH", path)
        .current_dir(root())
        .output()
        .map_err(|e| format!("binding tests: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    let (mut passed, mut failed) = (0, 0);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("test result: ") {
            passed += count(rest, "passed");
            failed += count(rest, "failed");
        }
    }
    eprintln!(
        "<== binding tests: {} ({passed} passed, {failed} failed)",
        out.status
    );
    if !out.status.success() || failed > 0 || passed == 0 {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        return Err(format!(
            "binding tests failed: {passed} passed, {failed} failed"
        ));
    }
    Ok((passed, failed))
}

/// The package in headless Chromium against the test origin and the reference manifests in
/// `manifests` (`node --test`, TAP output).
fn browser_tests(manifests: &Path) -> Result<(u64, u64), String> {
    use std::io::{BufRead, BufReader};
    let mut cmd = Command::new("node");
    cmd.args([
        "--test",
        "--test-reporter=tap",
        "--test-concurrency=1",
        "wasm/tests/",
    ])
    .env(
        "PLAYHEAD_ORIGIN",
        root().join("target/debug/playhead-origin"),
    )
    .env("PLAYHEAD_MANIFESTS", manifests)
    .current_dir(root())
    .stdout(std::process::Stdio::piped());
    eprintln!("\n==> browser tests: {cmd:?}");
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("browser tests: {e}"))?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line.map_err(|e| format!("browser tests: {e}"))?;
            println!("{line}");
            if let Some(n) = line.strip_prefix("# pass ") {
                passed += n.trim().parse::<u64>().unwrap_or(0);
            }
            if let Some(n) = line.strip_prefix("# fail ") {
                failed += n.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    let status = child.wait().map_err(|e| format!("browser tests: {e}"))?;
    eprintln!(
        "<== browser tests: {status} in {:.1}s ({passed} passed, {failed} failed)",
        start.elapsed().as_secs_f64()
    );
    if !status.success() || failed > 0 || passed == 0 {
        return Err(format!(
            "browser tests failed ({status}): {passed} passed, {failed} failed"
        ));
    }
    Ok((passed, failed))
}

/// Writes the parse benchmark's six reference manifests into `out` as `a.m3u8` ... `f.mpd`,
/// with `index.tsv` (file, tab, one-line description) for the benchmark's table.
fn write_manifests(out: &Path) -> Result<(), String> {
    manifests::self_check();
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut index = String::new();
    for (name, text) in manifests::all() {
        let ext = if text.starts_with("#EXTM3U") {
            "m3u8"
        } else {
            "mpd"
        };
        let file = format!("{name}.{ext}");
        let path = out.join(&file);
        std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        let what = manifests::describe(name);
        index.push_str(&format!("{file}\t{what}\n"));
        eprintln!(
            "manifests: {} ({} bytes): {what}; {} segments expected",
            path.display(),
            text.len(),
            manifests::expected_segments(name)
        );
    }
    let path = out.join("index.tsv");
    std::fs::write(&path, index).map_err(|e| format!("{}: {e}", path.display()))
}

/// The manifest parse benchmark in headless Chromium: builds the package (`web`), writes
/// the manifests to `target/bench-manifests` and runs `wasm/bench/parse.mjs` on them with
/// `args` (`--runs N`, `--json PATH` relative to the workspace root). Its table goes to stdout.
fn parse_bench(args: &[String]) -> Result<(), String> {
    web()?;
    write_manifests(&root().join("target/bench-manifests"))?;
    run(
        "parse bench",
        Command::new("node")
            .args(["wasm/bench/parse.mjs", "--dir", "target/bench-manifests"])
            .args(args),
    )
}

/// Runs the whole test suite, echoing its output, and totals the `test result:` lines.
fn run_tests() -> Result<(u64, u64, u64), String> {
    use std::io::{BufRead, BufReader};
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--all-features"])
        .current_dir(root())
        .stdout(std::process::Stdio::piped());
    eprintln!("\n==> tests: {cmd:?}");
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("tests: {e}"))?;
    let (mut passed, mut failed, mut skipped) = (0u64, 0u64, 0u64);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line.map_err(|e| format!("tests: {e}"))?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count(rest, "passed");
                failed += count(rest, "failed");
                skipped += count(rest, "ignored");
            }
        }
    }
    let status = child.wait().map_err(|e| format!("tests: {e}"))?;
    eprintln!(
        "<== tests: {status} in {:.1}s ({passed} passed, {failed} failed)",
        start.elapsed().as_secs_f64()
    );
    if !status.success() || failed > 0 {
        return Err(format!(
            "tests failed ({status}): {passed} passed, {failed} failed"
        ));
    }
    Ok((passed, failed, skipped))
}

/// The number before `word` in a `test result:` line (`ok. 33 passed; 0 failed; ...`).
fn count(result: &str, word: &str) -> u64 {
    result
        .split(';')
        .find_map(|part| part.trim().strip_suffix(word))
        .and_then(|n| n.trim().rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

/// Module names of a wasm binary's import section.
fn wasm_import_modules(b: &[u8]) -> Result<Vec<String>, String> {
    fn leb(b: &[u8], at: &mut usize) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*at).ok_or("truncated wasm")?;
            *at += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("bad LEB128".into())
    }
    fn name(b: &[u8], at: &mut usize) -> Result<String, String> {
        let n = usize::try_from(leb(b, at)?).map_err(|e| e.to_string())?;
        let s = b.get(*at..*at + n).ok_or("truncated name")?;
        *at += n;
        Ok(String::from_utf8_lossy(s).into_owned())
    }
    if b.get(0..4) != Some(b"\0asm") {
        return Err("not a wasm module".into());
    }
    let mut at = 8;
    let mut modules = Vec::new();
    while at < b.len() {
        let id = b[at];
        at += 1;
        let size = usize::try_from(leb(b, &mut at)?).map_err(|e| e.to_string())?;
        let end = at + size;
        if id == 2 {
            let count = leb(b, &mut at)?;
            for _ in 0..count {
                let module = name(b, &mut at)?;
                let _field = name(b, &mut at)?;
                let kind = *b.get(at).ok_or("truncated import")?;
                at += 1;
                match kind {
                    0 => {
                        leb(b, &mut at)?;
                    }
                    1 => {
                        at += 1;
                        let flags = leb(b, &mut at)?;
                        leb(b, &mut at)?;
                        if flags & 1 != 0 {
                            leb(b, &mut at)?;
                        }
                    }
                    2 => {
                        let flags = leb(b, &mut at)?;
                        leb(b, &mut at)?;
                        if flags & 1 != 0 {
                            leb(b, &mut at)?;
                        }
                    }
                    3 => at += 2,
                    4 => {
                        at += 1;
                        leb(b, &mut at)?;
                    }
                    k => return Err(format!("unknown import kind {k}")),
                }
                if !modules.contains(&module) {
                    modules.push(module);
                }
            }
        }
        at = end;
    }
    Ok(modules)
}

/// The main job: the release CLI's `playhead demo`, chart in `target/playhead-demo.svg`.
fn demo() -> Result<(), String> {
    run(
        "build",
        cargo().args(["build", "--release", "-p", "playhead-cli"]),
    )?;
    let bin = root().join("target/release/playhead");
    run(
        "playhead demo",
        Command::new(&bin).args(["demo", "--chart", "target/playhead-demo.svg"]),
    )
}

/// The ABR evaluation on every trace folder of `shared/traces` (or `dir`): Pensieve's
/// traces and the Twitch patterns with Pensieve's video, the sabre FCC traces with sabre's
/// Big Buck Bunny ladder. Tables on stdout; CSV and charts under `target/abr-eval/`.
fn abr_eval(args: &[String]) -> Result<(), String> {
    let traces = match args.first() {
        Some(d) => PathBuf::from(d),
        None => root().join("../shared/traces"),
    };
    if !traces.is_dir() {
        return Err(format!("{}: no trace folder (pass one)", traces.display()));
    }
    run(
        "build",
        cargo().args(["build", "--release", "-p", "playhead-cli"]),
    )?;
    let bin = root().join("target/release/playhead");
    let pensieve = traces.join("pensieve_video/computed_from_pensieve_video_server");
    let bbb = traces.join("sabre_movies/bbb.json");
    // The foresight planners' horizon: levels^H sequences per decision (6 or 10 levels).
    for (folder, video, foresight) in [
        ("pensieve_cooked_traces", &pensieve, "5"),
        ("sabre_fcc_sd", &bbb, "3"),
        ("twitch_mmsys2020_patterns", &pensieve, "5"),
    ] {
        let dir = traces.join(folder);
        if !dir.is_dir() {
            eprintln!("(no {folder}: skipped)");
            continue;
        }
        let out = root().join("target/abr-eval").join(folder);
        run(
            folder,
            Command::new(&bin)
                .arg("abr-eval")
                .arg("--traces")
                .arg(&dir)
                .arg("--video")
                .arg(video)
                .args(["--foresight", foresight])
                .arg("--out")
                .arg(&out),
        )?;
    }
    Ok(())
}
