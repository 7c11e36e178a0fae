//! The board firmware (examples/firmware: lockdrv's board core on a Cortex-M3) running under
//! QEMU's `lm3s6965evb` machine, driven by `lockctl` through the PTY that QEMU connects to the
//! board's UART0: `scan` finds it, `status` reads its doors, locks and parcels, `unlock` of lock
//! 5 is confirmed and the door then seen open, `watch` sees the door shut again and the parcel
//! gone, and the jammed lock 24 is reported jammed by the board.
//!
//! The expected states are the firmware model's documented facts (examples/firmware/src/model.rs:
//! parcels in 2, 5 and 11 at boot, lock 24 jammed, a door open for 5 s after its unlock).
//!
//! Needs `qemu-system-arm` (without it the test fails when CI=true and is skipped otherwise) and
//! the `thumbv7m-none-eabi` target (`rustup target add thumbv7m-none-eabi`).
//!
//! Time is real (QEMU runs the firmware's SysTick from the host clock), but no assertion is
//! about speed: each step waits for what it expects with generous limits. The one window is the
//! 5 s a door stays open, between `unlock` returning and `watch` taking its baseline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The firmware's board address, channel count and model facts (examples/firmware/src).
const BOARD: &str = "1";
const CHANNELS: usize = 24;
const PARCELS_AT_BOOT: [u64; 3] = [2, 5, 11];
const JAMMED: &str = "24";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Whether `qemu-system-arm` runs; when it does not, the test is skipped (printing why) except
/// in CI, where it must be installed.
fn qemu_present() -> bool {
    let found = Command::new("qemu-system-arm").arg("--version").output().is_ok_and(|out| out.status.success());
    if !found {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "qemu-system-arm is missing (apt-get install -y qemu-system-arm)"
        );
        eprintln!("firmware_qemu: qemu-system-arm not found, test skipped (apt-get install -y qemu-system-arm)");
    }
    found
}

/// Builds the firmware (its own package and target dir, under the workspace's target/) and
/// returns the ELF.
fn build_firmware() -> PathBuf {
    let root = workspace_root();
    let target_dir = root.join("target").join("firmware");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // The firmware's .cargo/config.toml supplies the target and the linker script flag; flags
    // from the environment (CI's RUSTFLAGS, this test's cargo) would replace them. Not
    // `--locked`: when lockdrv or lockproto gain a dependency, the firmware's Cargo.lock gains
    // it too instead of failing the test.
    let output = Command::new(cargo)
        .current_dir(root.join("examples").join("firmware"))
        .args(["build", "--release", "--target-dir"])
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(
        output.status.success(),
        "building the firmware failed (is the target installed? rustup target add thumbv7m-none-eabi):\n{stderr}"
    );
    target_dir.join("thumbv7m-none-eabi").join("release").join("locker-firmware")
}

/// QEMU running the firmware, killed when the test ends (also by a failed assertion), and the
/// board's serial line.
struct Qemu {
    child: Child,
    pty: String,
    /// The test keeps the PTY's terminal end open: QEMU stops reading and writing the line
    /// while no process has it open, and notices an opener only about once a second, which
    /// would cost each short-lived `lockctl` its first request.
    _hold: File,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_qemu(elf: &Path) -> Qemu {
    let mut child = Command::new("qemu-system-arm")
        .args(["-cpu", "cortex-m3", "-M", "lm3s6965evb", "-nographic", "-monitor", "none", "-serial", "pty"])
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // QEMU says where the PTY is on stdout or stderr (versions differ): read both.
    let (tx, rx) = mpsc::channel::<String>();
    let out: Box<dyn Read + Send> = Box::new(child.stdout.take().unwrap());
    let err: Box<dyn Read + Send> = Box::new(child.stderr.take().unwrap());
    for stream in [out, err] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let mut qemu = Qemu { child, pty: String::new(), _hold: File::open("/dev/null").unwrap() };
    let mut seen = Vec::new();
    while qemu.pty.is_empty() {
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("no PTY from QEMU: {seen:?}"));
        // "char device redirected to /dev/pts/N (label serial0)"
        if let Some(rest) = line.split("redirected to ").nth(1) {
            qemu.pty = rest.split_whitespace().next().unwrap().to_string();
        }
        seen.push(line);
    }
    qemu._hold = File::options().read(true).write(true).open(&qemu.pty).unwrap();
    qemu
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"))).collect()
}

struct Lockctl {
    exe: PathBuf,
    pty: String,
}

impl Lockctl {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.exe)
            .args(["--port", &self.pty, "--dialect", "native", "--json"])
            .args(args)
            .output()
            .unwrap()
    }

    fn start(&self, args: &[&str]) -> (Child, BufReader<ChildStderr>) {
        let mut child = Command::new(&self.exe)
            .args(["--port", &self.pty, "--dialect", "native", "--json"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        assert!(line.contains(" open, "), "lockctl did not open its port: {line:?}");
        (child, stderr)
    }
}

/// The channels of a `status --json` line of board 1, checked for shape.
fn channels(line: &Value) -> &Vec<Value> {
    assert_eq!(line["board"], 1, "{line}");
    assert_eq!(line["online"], true, "{line}");
    let channels = line["channels"].as_array().unwrap();
    assert_eq!(channels.len(), CHANNELS, "{line}");
    for (i, channel) in channels.iter().enumerate() {
        assert_eq!(channel["lock"], i + 1, "{line}");
    }
    channels
}

#[test]
fn firmware_under_qemu_serves_lockctl() {
    if !qemu_present() {
        return;
    }
    let elf = build_firmware();
    let exe = example_binary("lockctl");
    let qemu = start_qemu(&elf);
    let lockctl = Lockctl { exe, pty: qemu.pty.clone() };

    // scan: the one board, 24 channels; addresses 2 and 3 stay silent. QEMU starts serving the
    // line within about a second of the test opening it: until then a scan finds nothing, so
    // it is repeated (a scan only reads).
    let started = Instant::now();
    let boards = loop {
        let output = lockctl.run(&["scan", "--to", "3"]);
        assert!(output.status.code().is_some_and(|c| c <= 1), "scan: {}", text(&output.stderr));
        let lines = json_lines(&text(&output.stdout));
        assert_eq!(lines.len(), 1, "{lines:?}");
        let boards = lines[0]["boards"].as_array().unwrap().clone();
        if !boards.is_empty() || started.elapsed() > Duration::from_secs(60) {
            break boards;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(boards.len(), 1, "{boards:?}");
    assert_eq!(boards[0]["board"], 1);
    assert_eq!(boards[0]["channels"], CHANNELS);

    // status: every lock locked, every door shut, parcels where the model put them. Right
    // after boot the board reports its presence sensors unknown until their readings have been
    // stable for the debounce time (domain rule: state is Unknown until read): wait for that.
    let started = Instant::now();
    let lines = loop {
        let output = lockctl.run(&["status", BOARD]);
        assert!(output.status.success(), "status: {}", text(&output.stderr));
        let lines = json_lines(&text(&output.stdout));
        assert_eq!(lines.len(), 1, "{lines:?}");
        let known = channels(&lines[0]).iter().all(|c| !c["parcel"].is_null());
        if known || started.elapsed() > Duration::from_secs(30) {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for channel in channels(&lines[0]) {
        assert_eq!(channel["lock_state"], "locked", "{channel}");
        assert_eq!(channel["door"], "closed", "{channel}");
        let lock = channel["lock"].as_u64().unwrap();
        assert_eq!(channel["parcel"], PARCELS_AT_BOOT.contains(&lock), "{channel}");
    }

    // unlock 5: confirmed by the board, once, and the door then seen open (by the door switch
    // in a status, or the board's event log); the parcel is still inside.
    let output = lockctl.run(&["unlock", BOARD, "5"]);
    let lines = json_lines(&text(&output.stdout));
    assert_eq!(lines.len(), 1, "{lines:?} {}", text(&output.stderr));
    let report = &lines[0];
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(report["outcome"], "confirmed", "{report}");
    assert_eq!(report["attempts"], 1, "{report}");
    assert_eq!(report["door_seen_open"], true, "{report}");
    assert_eq!(report["jam_reported"], false, "{report}");
    let evidence = report["evidence"].as_str().unwrap();
    assert!(["door_sensor", "door_event"].contains(&evidence), "{report}");
    let after = report["channels_after"].as_array().unwrap();
    assert_eq!(after[4]["door"], "open", "{report}");
    assert_eq!(after[4]["parcel"], true, "{report}");
    assert!(after.iter().filter(|c| c["lock"] != 5).all(|c| c["door"] == "closed"), "{report}");

    // watch: from the board's event log, the door shut again and the parcel gone (collected).
    let (mut watch, mut watch_err) =
        lockctl.start(&["watch", BOARD, "--interval-ms", "200", "--count", "2", "--for", "30"]);
    let mut out = String::new();
    watch.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let mut err = String::new();
    watch_err.read_to_string(&mut err).unwrap();
    assert!(watch.wait().unwrap().success(), "watch: {err}");
    let seen: Vec<(String, u64, String)> = json_lines(&out)
        .iter()
        .map(|l| {
            assert_eq!(l["board"], 1, "{l}");
            (l["input"].as_str().unwrap().into(), l["lock"].as_u64().unwrap(), l["state"].as_str().unwrap().into())
        })
        .collect();
    let expected = [("door".to_string(), 5, "closed".to_string()), ("parcel".to_string(), 5, "absent".to_string())];
    assert_eq!(seen, expected, "{out}");

    // status again: door 5 shut, compartment 5 empty, the others as at boot.
    let output = lockctl.run(&["status", BOARD]);
    assert!(output.status.success(), "status: {}", text(&output.stderr));
    let lines = json_lines(&text(&output.stdout));
    for channel in channels(&lines[0]) {
        assert_eq!(channel["door"], "closed", "{channel}");
        let lock = channel["lock"].as_u64().unwrap();
        assert_eq!(channel["parcel"], lock != 5 && PARCELS_AT_BOOT.contains(&lock), "{channel}");
    }

    // unlock 24, the jammed lock: confirmed, but the door never opens and the board reports the
    // jam (exit status 3: door not seen open).
    let output = lockctl.run(&["unlock", BOARD, JAMMED]);
    let lines = json_lines(&text(&output.stdout));
    assert_eq!(lines.len(), 1, "{lines:?} {}", text(&output.stderr));
    assert_eq!(output.status.code(), Some(3), "{}", lines[0]);
    assert_eq!(lines[0]["outcome"], "confirmed", "{}", lines[0]);
    assert_eq!(lines[0]["door_seen_open"], false, "{}", lines[0]);
    assert_eq!(lines[0]["jam_reported"], true, "{}", lines[0]);

    drop(qemu);
}
