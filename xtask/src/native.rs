//! `cargo xtask bindings`: the UniFFI bindings generated and their parity suites run.

use std::process::Command;

use crate::{cargo, root, run};

/// The UniFFI bindings: builds `playhead-ffi` and the in-repo generator, generates Kotlin,
/// Swift and Python into `target/bindings/<language>` from the built library, writes the
/// parity fixtures (`playhead-parity`: recordings and native transcripts) into
/// `target/parity`, then runs the Python suite (pytest), the Kotlin suite (kotlinc from npm,
/// the JVM with Debian's JNA) and the C program that drives the Swift module's header.
pub(crate) fn native_bindings() -> Result<(u64, u64), String> {
    run(
        "native toolchain",
        Command::new("bash").arg(root().join("scripts/setup-native.sh")),
    )?;
    run(
        "ffi library",
        cargo().args(["build", "-p", "playhead-ffi", "--lib"]),
    )?;
    run(
        "ffi tools",
        cargo().args([
            "build",
            "-p",
            "uniffi-bindgen",
            "-p",
            "playhead-conformance",
            "--bin",
            "playhead-parity",
            "--bin",
            "uniffi-bindgen",
        ]),
    )?;
    let target = root().join("target");
    let lib = target.join("debug/libplayhead_ffi.so");
    for language in ["kotlin", "swift", "python"] {
        let out = target.join("bindings").join(language);
        // Stale files of an older API must not linger.
        let _ = std::fs::remove_dir_all(&out);
        run(
            &format!("generate {language}"),
            Command::new(target.join("debug/uniffi-bindgen"))
                .arg("generate")
                .arg(&lib)
                .args(["--language", language, "--no-format", "--out-dir"])
                .arg(&out),
        )?;
    }
    let fixtures = target.join("parity");
    run(
        "parity fixtures",
        Command::new(target.join("debug/playhead-parity"))
            .arg("--out")
            .arg(&fixtures),
    )?;
    let python = target.join("bindings/python");
    std::fs::copy(&lib, python.join("libplayhead_ffi.so")).map_err(|e| format!("copy: {e}"))?;

    let mut totals = (0, 0);
    let mut tally = |name: &str, out: std::process::Output, passed: u64, failed: u64| {
        let text = String::from_utf8_lossy(&out.stdout);
        print!("{text}");
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        eprintln!(
            "<== {name}: {} ({passed} passed, {failed} failed)",
            out.status
        );
        totals.0 += passed;
        totals.1 += failed;
        if out.status.success() && failed == 0 && passed > 0 {
            Ok(())
        } else {
            Err(format!("{name} failed: {passed} passed, {failed} failed"))
        }
    };
    let capture = |name: &str, cmd: &mut Command| {
        eprintln!("\n==> {name}: {cmd:?}");
        cmd.current_dir(root())
            .output()
            .map_err(|e| format!("{name}: {e}"))
    };

    let out = capture(
        "python parity",
        Command::new(target.join("py/bin/python"))
            .args([
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "bindings/tests/python",
            ])
            .env("PLAYHEAD_PYTHON", &python)
            .env("PLAYHEAD_PARITY", &fixtures),
    )?;
    // pytest's last line: `16 passed in 1.22s`, `1 failed, 15 passed in 1.30s`.
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    let words: Vec<&str> = summary
        .lines()
        .last()
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|w| !w.is_empty())
        .collect();
    let before = |word: &str| {
        words
            .windows(2)
            .find(|w| w[1] == word)
            .and_then(|w| w[0].parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (p, f) = (
        before("passed"),
        before("failed") + before("error") + before("errors"),
    );
    tally("python parity", out, p, f)?;

    let kotlin = root().join("bindings/tests/kotlin/node_modules/kotlin-compiler");
    let jar = target.join("kotlin/parity.jar");
    run(
        "kotlinc",
        Command::new(kotlin.join("bin/kotlinc"))
            .args([
                "-jvm-target",
                "17",
                "-nowarn",
                "-cp",
                "/usr/share/java/jna.jar",
            ])
            .arg(target.join("bindings/kotlin/dev/playhead/playhead.kt"))
            .arg(root().join("bindings/tests/kotlin/Parity.kt"))
            .arg("-d")
            .arg(&jar),
    )?;
    let classpath = format!(
        "{}:/usr/share/java/jna.jar:{}",
        jar.display(),
        kotlin.join("lib/kotlin-stdlib.jar").display()
    );
    let out = capture(
        "kotlin parity",
        Command::new("java")
            .arg(format!(
                "-Djna.library.path={}",
                target.join("debug").display()
            ))
            .args(["-cp", &classpath, "ParityKt"])
            .arg(&fixtures),
    )?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (p, f) = (
        text.lines().filter(|l| l.starts_with("ok ")).count() as u64,
        text.lines().filter(|l| l.starts_with("not ok ")).count() as u64,
    );
    tally("kotlin parity", out, p, f)?;

    let exe = target.join("swift-header-check");
    run(
        "gcc (Swift module header)",
        Command::new("gcc")
            .args([
                "-std=c11",
                "-Wall",
                "-Werror",
                "-D_Nonnull=",
                "-D_Nullable=",
                "-I",
            ])
            .arg(target.join("bindings/swift"))
            .arg(root().join("bindings/tests/c/header.c"))
            .arg("-L")
            .arg(target.join("debug"))
            .args([
                "-lplayhead_ffi",
                &format!("-Wl,-rpath,{}", target.join("debug").display()),
            ])
            .arg("-o")
            .arg(&exe),
    )?;
    let out = capture("swift header", &mut Command::new(&exe))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (p, f) = (
        text.lines().filter(|l| l.starts_with("ok ")).count() as u64,
        text.lines().filter(|l| l.starts_with("not ok ")).count() as u64,
    );
    tally("swift header", out, p, f)?;
    Ok(totals)
}
