//! The one guard for a test that cannot run without something (a tool, root, a platform).
//!
//! On a workstation such a test is skipped with a printed reason; under `CI=true` (exactly, as
//! the shell scripts read it) it fails with that reason instead: a skip must never count as a
//! pass in CI. Shared by the integration tests (`support::require`) and, through a `#[path]`
//! module, by the library's unit tests, so both read `CI` the same way.

/// Whether the test may go on: `true` when `available`; otherwise panics with `reason` under
/// `CI=true`, and elsewhere prints `SKIP: reason` and returns `false` (the test returns early).
#[allow(dead_code, unreachable_pub)]
pub fn require(available: bool, reason: &str) -> bool {
    if available {
        return true;
    }
    assert!(
        !under_ci(),
        "{reason}; under CI=true this test fails rather than skip"
    );
    eprintln!("SKIP: {reason}");
    false
}

/// `CI=true`: a test that cannot run fails instead of being skipped.
fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}
