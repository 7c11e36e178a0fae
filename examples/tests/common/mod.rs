//! What the examples' integration tests share: the example binaries they run as a user would.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// The path of example `name`, built first in the profile of the running test
/// (`target/<profile>/deps/<test>`), once per test process and name.
///
/// Always through cargo, which finds the binary up to date when nothing changed: with
/// `cargo test --test X` the examples are not rebuilt, and a binary that merely exists may be
/// stale and test old code. The lock also keeps two tests of one process from running cargo at
/// the same time.
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf();
    let mut built = BUILT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !built.contains(name) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let release = profile_dir.file_name().is_some_and(|dir| dir == "release");
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "locker-examples", "--example", name])
            .args(release.then_some("--release"))
            .status()
            .unwrap();
        assert!(status.success(), "building example {name} failed");
        built.insert(name.to_owned());
    }
    profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}
