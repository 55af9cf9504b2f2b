//! Runs the README demo (`cargo run -p examples --bin demo`) as part of `cargo test`, so CI
//! checks the multi-party call end to end: the binary asserts every outcome itself and exits
//! non-zero on any surprise; this test also checks the summary it prints.

use std::process::Command;

#[test]
fn demo_call_runs_and_prints_its_summary() {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .output()
        .expect("the demo binary starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "epoch 2: dave joins mid-call",
        "epoch 3: carol is removed",
        "carol received 9 frames after her removal and decrypted none",
        "frames protected     36",
        r#"failures by reason   {"replay": 1, "unknown_key_id": 10}"#,
        "all checks passed",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}
