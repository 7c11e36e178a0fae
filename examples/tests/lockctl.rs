//! `lockctl decode` and `encode` run as a user runs them, as a separate process, on frames taken
//! from vendor documents and public captures (sources cited per case).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::process::{Command, Output};

use serde_json::Value;

fn lockctl(args: &[&str]) -> Output {
    Command::new(example_binary("lockctl")).args(args).output().unwrap()
}

fn stdout_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// Decodes one frame and checks kind, board and lock; then encodes the printed message back.
fn round_trip(dialect: &str, dir: &str, reply_to: Option<&str>, hex: &str, kind: &str, board: u64, lock: Option<u64>) {
    let mut args = vec!["decode", "--dialect", dialect, "--dir", dir];
    if let Some(request) = reply_to {
        args.extend(["--reply-to", request]);
    }
    args.push(hex);
    let output = lockctl(&args);
    assert!(
        output.status.success(),
        "{dialect} {hex}: exit {:?}, stderr {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 1, "{dialect} {hex}: {lines:?}");
    let line = &lines[0];
    assert_eq!(line["dialect"], dialect);
    assert_eq!(line["dir"], dir);
    let expected_hex: String = hex.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
    assert_eq!(line["bytes"], expected_hex.as_str());
    let message = &line["message"];
    assert_eq!(message["kind"], kind, "{dialect} {hex}: {message}");
    assert_eq!(message["board"], board, "{dialect} {hex}: {message}");
    if let Some(lock) = lock {
        assert_eq!(message["lock"], lock, "{dialect} {hex}: {message}");
    }

    let encoded = lockctl(&["encode", "--dialect", dialect, "--dir", dir, &message.to_string()]);
    assert!(encoded.status.success(), "encode {message}: {}", String::from_utf8_lossy(&encoded.stderr));
    assert_eq!(String::from_utf8_lossy(&encoded.stdout).trim(), expected_hex);
    // The whole decode line is accepted too.
    let encoded = lockctl(&["encode", "--dialect", dialect, "--dir", dir, &line.to_string()]);
    assert_eq!(String::from_utf8_lossy(&encoded.stdout).trim(), expected_hex);
}

#[test]
fn bcc_8a80_frames_from_vendor_texts() {
    // QWM README (qiwenming/QwmLockDemo): board 2 frames; CSDN1 lock 2 unlock.
    round_trip("bcc-8a80", "request", None, "8A 02 01 11 98", "unlock", 2, Some(1));
    round_trip("bcc-8a80", "request", None, "8A 01 02 11 98", "unlock", 1, Some(2));
    round_trip("bcc-8a80", "request", None, "80 02 01 33 B0", "query_lock", 2, Some(1));
    round_trip("bcc-8a80", "request", None, "80 02 00 33 B1", "query_all", 2, None);
    round_trip("bcc-8a80", "reply", Some("80 02 01 33 B0"), "80 02 01 11 92", "lock_status", 2, Some(1));
    // The unlock reply that is byte-identical to its request (reference/lockboards.md §1.3).
    round_trip("bcc-8a80", "reply", Some("8A 01 01 11 9B"), "8A 01 01 11 9B", "unlock_feedback", 1, Some(1));
    // Open-Locker hardware capture: an 8-channel board answers query-all with 3 status bytes.
    round_trip("bcc-8a80", "reply", Some("80 01 00 33 B2"), "80 01 00 00 00 33 B2", "status_report", 1, None);
}

#[test]
fn winnsen_frames_from_locqar_codec_tests() {
    // LocQar/winnsen-test WinnsenCodecTest: poll of station 2 with mask FF 0F; a failed open.
    round_trip("winnsen", "request", None, "90 07 02 02 FF 0F 03", "poll", 2, None);
    round_trip("winnsen", "reply", Some("90 06 05 01 05 03"), "90 07 85 01 05 00 03", "open_result", 1, Some(5));
}

#[test]
fn modbus_relay_waveshare_flash_frame() {
    // Waveshare Modbus RTU Relay wiki, quoted in public code: flash channel 1 (lock 2) for 800 ms.
    round_trip("modbus-relay", "request", None, "01 05 02 01 00 08 9C 74", "flash_on", 1, Some(2));
}

#[test]
fn kerong_cu12_frames_from_the_vendor_document() {
    // "CU12 Protocol and Introduction" V1.1 (KERONG), examples not in the shared vectors:
    // unlock lock 3 of board 0 and its reply, query unlock time (55 x 10 ms), set unlock time.
    round_trip("kerong-cu12", "request", None, "02 00 02 81 00 00 03 88", "unlock", 0, Some(3));
    round_trip(
        "kerong-cu12",
        "reply",
        Some("02 00 02 81 00 00 03 88"),
        "02 00 02 81 10 00 03 98",
        "unlock",
        0,
        Some(3),
    );
    round_trip(
        "kerong-cu12",
        "reply",
        Some("02 00 00 82 00 00 03 87"),
        "02 00 00 82 10 02 03 D0 00 37",
        "unlock_time",
        0,
        None,
    );
    round_trip("kerong-cu12", "request", None, "02 00 00 82 00 02 03 ED 00 64", "set_unlock_time", 0, None);
}

#[test]
fn kerong_cu16_frames_from_the_vendor_document() {
    // "KR-CU16 Communication Protocol Specification" V1.6 §5 (CU16.txt in mojisejr/smc-app):
    // status of board 0 and its reply; xaleel/locker table: unlock board 1 lock 3 (ADDR 0x12).
    round_trip("kerong-cu16", "request", None, "02 00 30 03 35", "query_status", 0, None);
    round_trip("kerong-cu16", "request", None, "02 12 31 03 48", "unlock", 1, Some(3));
}

#[test]
fn native_frames_from_protocol_md() {
    // lockproto/PROTOCOL.md, worked example "unlock" and its reply "unlocked".
    let unlock = "F9 A6 01 08 01 12 03 3A 7C 03 05 DC 13 53";
    round_trip("native", "request", None, unlock, "unlock", 1, Some(3));
    round_trip("native", "reply", Some(unlock), "F9 A6 01 08 01 12 83 3A 7C 03 03 E8 1B 02", "unlocked", 1, Some(3));
}

#[test]
fn corrupted_frame_is_rejected_with_offset_and_reason() {
    // v003 with its BCC changed from 9B to 9C.
    let output = lockctl(&["decode", "--dialect", "bcc-8a80", "--dir", "request", "8A 01 01 11 9C"]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("offset 4") && stderr.contains("checksum"), "{stderr}");
}

#[test]
fn good_frames_survive_garbage_and_the_exit_status_reports_it() {
    // Garbage, then two frames split across arguments as a capture arrives in chunks.
    let output =
        lockctl(&["decode", "--dialect", "bcc-8a80", "--dir", "request", "55 8A 01", "01 11 9B 80 01", "00 33 B2"]);
    assert!(!output.status.success());
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["offset"], 1);
    assert_eq!(lines[0]["message"]["kind"], "unlock");
    assert_eq!(lines[1]["message"]["kind"], "query_all");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("lockctl: offset 0:"), "{stderr}");
}

#[test]
fn clean_capture_exits_zero_with_one_line_per_frame() {
    // Kerong CU12 document §3.3: two boards answer a broadcast status query.
    let output = lockctl(&[
        "decode",
        "--dialect",
        "kerong-cu12",
        "--dir",
        "reply",
        "02 00 00 80 10 02 03 99 02 00",
        "02 01 00 80 10 02 03 9C 04 00",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["message"]["board"], 0);
    assert_eq!(lines[1]["message"]["board"], 1);
    assert_eq!(lines[1]["offset"], 10);
}

#[test]
fn bad_input_gets_a_clear_error() {
    let output = lockctl(&["decode", "--dialect", "wkly", "--dir", "request", "0G"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not hex"));
    let output = lockctl(&["encode", "--dialect", "wkly", "--dir", "request", r#"{"board":1}"#]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("kind"));
}
