//! A panic caught inside nethttp prints nothing on the host's stderr, even
//! with RUST_BACKTRACE=1, while panics elsewhere still reach the host's hook.
//! Each case runs in a child process (this test binary again, selecting the
//! case by an environment variable) so its stderr can be checked whole.

use std::process::{Command, Output};

const CASE: &str = "NETHTTP_QUIET_PANIC_CASE";

/// Runs `child_entry` of this binary in a child with `case` selected.
fn run_child(case: &str) -> Output {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CASE, case)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the child test process runs")
}

fn panic_in_guard() {
    let value = nethttp::ffi::guard(7, || -> Result<i32, nethttp::Error> {
        panic!("nethttp-internal-panic")
    });
    assert_eq!(value, 7);
    assert_eq!(
        nethttp::ffi::nethttp_last_error_code(),
        nethttp::nethttp_result::Internal
    );
}

fn panic_outside_nethttp() {
    let caught = std::panic::catch_unwind(|| panic!("host-panic-marker"));
    assert!(caught.is_err());
}

/// Does nothing in a normal run; in a child, the selected case.
#[test]
fn child_entry() {
    match std::env::var(CASE).as_deref() {
        Ok("guard") => {
            panic_in_guard();
            // On another thread, whose first nethttp entry installs nothing new.
            std::thread::spawn(panic_in_guard).join().unwrap();
            panic_in_guard();
        }
        Ok("guard-then-host") => {
            panic_in_guard();
            panic_outside_nethttp();
        }
        Ok("host-only") => panic_outside_nethttp(),
        Ok(other) => panic!("unknown case {other}"),
        Err(_) => {}
    }
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_panic_caught_by_guard_prints_nothing() {
    let output = run_child("guard");
    assert!(
        output.status.success(),
        "child failed: {}",
        stderr_of(&output)
    );
    assert_eq!(stderr_of(&output), "", "stderr must stay empty");
}

#[test]
fn panics_outside_nethttp_reach_the_previous_hook() {
    // The control: without nethttp the default hook prints the panic...
    let output = run_child("host-only");
    assert!(
        output.status.success(),
        "child failed: {}",
        stderr_of(&output)
    );
    assert!(stderr_of(&output).contains("host-panic-marker"));
    // ...and it still does once nethttp's hook is installed.
    let output = run_child("guard-then-host");
    assert!(
        output.status.success(),
        "child failed: {}",
        stderr_of(&output)
    );
    let stderr = stderr_of(&output);
    assert!(stderr.contains("host-panic-marker"), "{stderr}");
    assert!(!stderr.contains("nethttp-internal-panic"), "{stderr}");
}
