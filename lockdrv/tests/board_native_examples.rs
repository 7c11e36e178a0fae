//! The native firmware answers the worked examples of lockproto/PROTOCOL.md §7 byte for byte.
//! Board 1 of §7: uid 01 23 45 67 89 AB CD EF, boot id 3A7C, 24 channels, PulseMaxMs 1000,
//! MaxSimultaneous 2, firmware 1.2, hardware 1.0, 256 events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lockdrv::board::pulse::PulseConfig;
use lockdrv::board::{BoardConfig, BoardCore, NativeFirmware, NativeIdentity};
use lockproto::native::ResetCause;
use lockproto::{Lock, LockSet, Version};

type Board = BoardCore<NativeFirmware<256, 2>, 24>;

fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
}

fn board(address: u8, channels: u8, boot: u16, pulse_max: u32) -> Board {
    let mut config = BoardConfig::new(address, channels);
    config.pulse = PulseConfig { max_on_ms: pulse_max, max_simultaneous: 2 };
    config.firmware = Version { major: 1, minor: 2 };
    config.hardware = Version { major: 1, minor: 0 };
    let identity = NativeIdentity { uid: 0x0123_4567_89AB_CDEF, boot, cause: ResetCause::PowerOn };
    let mut core = BoardCore::new(NativeFirmware::new(identity, 0), config);
    core.poll(LockSet::EMPTY, None, 0);
    core
}

fn board1() -> Board {
    board(1, 24, 0x3A7C, 1_000)
}

/// Sends `request`, returns the reply bytes (and clears them).
fn ask(core: &mut Board, request: &str, now: u64) -> Vec<u8> {
    core.receive(&hex(request), now);
    let reply = core.transmit().to_vec();
    core.consume_tx(usize::MAX);
    reply
}

#[test]
fn example_7_1_info() {
    let mut core = board1();
    let reply = ask(&mut core, "F9 A6 01 03 01 10 01 8C BC", 1);
    assert_eq!(reply, hex("F9 A6 01 18 01 10 81 3A 7C 01 23 45 67 89 AB CD EF 00 01 02 01 00 18 02 03 E8 01 00 BD 37"));
}

#[test]
fn example_7_3_unlock_clamp_and_retry() {
    let mut core = board1();
    let request = "F9 A6 01 08 01 12 03 3A 7C 03 05 DC 13 53";
    let unlocked = hex("F9 A6 01 08 01 12 83 3A 7C 03 03 E8 1B 02");
    assert_eq!(ask(&mut core, request, 10), unlocked);
    let lock3 = Lock::new(3).unwrap();
    assert_eq!(core.outputs(), [lock3].into_iter().collect());
    assert_eq!(core.poll(LockSet::EMPTY, None, 10), Some(1_010), "clamped to 1000 ms");
    // The reply was lost; the master resends the same 14 bytes: same reply, no second pulse.
    assert_eq!(ask(&mut core, request, 300), unlocked);
    core.poll(LockSet::EMPTY, None, 1_010);
    assert!(core.outputs().is_empty());
    assert_eq!(core.hardware().pulse_count(), 1);
}

#[test]
fn example_7_3_retry_after_a_reboot_is_refused() {
    let mut core = board(1, 24, 0x9E01, 1_000);
    let reply = ask(&mut core, "F9 A6 01 08 01 12 03 3A 7C 03 05 DC 13 53", 10);
    assert_eq!(reply, hex("F9 A6 01 09 01 12 FF 9E 01 03 07 00 00 86 BB"));
    assert!(core.outputs().is_empty());
}

#[test]
fn example_7_4_unlock_many_and_all() {
    let mut core = board1();
    let reply = ask(&mut core, "F9 A6 01 0A 01 13 04 3A 7C 01 F4 02 07 02 DA 04", 0);
    assert_eq!(reply, hex("F9 A6 01 0B 01 13 84 3A 7C 01 F4 02 02 07 02 E6 B7"));
    assert_eq!(core.outputs().len(), 2, "2 at a time");
    let mut board2 = BoardCore::<NativeFirmware<256, 2>, 12>::new(
        NativeFirmware::new(NativeIdentity { uid: 2, boot: 1, cause: ResetCause::PowerOn }, 0),
        BoardConfig::new(2, 12),
    );
    board2.receive(&hex("F9 A6 01 07 02 07 05 00 01 02 58 1F 17"), 0);
    assert_eq!(board2.transmit(), hex("F9 A6 01 0B 02 07 85 00 01 02 58 02 02 FF 0F D1 6C"));
}

#[test]
fn example_7_6_parameters() {
    let mut core = board1();
    assert_eq!(
        ask(&mut core, "F9 A6 01 04 01 16 07 01 83 F7", 0),
        hex("F9 A6 01 0A 01 16 87 3A 7C 01 00 00 03 E8 33 40")
    );
    // Set the address to 5: the reply still comes from address 1, then the board answers at 5.
    assert_eq!(
        ask(&mut core, "F9 A6 01 08 01 17 08 04 00 00 00 05 9B A6", 1),
        hex("F9 A6 01 0A 01 17 88 3A 7C 04 00 00 00 05 5B 26")
    );
    assert_eq!(core.hardware().address(), 5);
    assert!(ask(&mut core, "F9 A6 01 03 01 10 01 8C BC", 2).is_empty(), "address 1 is no longer ours");
}

#[test]
fn example_7_7_discovery() {
    let mut core = board(0, 24, 0x3A7C, 1_000);
    assert!(ask(&mut core, "F9 A6 01 03 FF 20 10 73 6A", 0).is_empty(), "discovery reset has no reply");
    let discover = "F9 A6 01 16 FF 21 11 00 08 14 00 00 00 00 00 00 00 00 FF FF FF FF FF FF FF FF D7 CD";
    assert_eq!(ask(&mut core, discover, 1), hex("F9 A6 01 0D 00 21 91 3A 7C 01 23 45 67 89 AB CD EF 50 53"));
    assert_eq!(
        ask(&mut core, "F9 A6 01 0C FF 22 12 01 23 45 67 89 AB CD EF 01 44 D2", 2),
        hex("F9 A6 01 0D 01 22 92 3A 7C 01 23 45 67 89 AB CD EF 68 55")
    );
    assert!(ask(&mut core, discover, 3).is_empty(), "muted after its address was assigned");
}

#[test]
fn example_7_8_another_major_version_is_refused_in_version_1() {
    let mut core = board1();
    core.receive(&hex("F9 A6 02 03 01 30 01 64 88"), 0);
    // The frame is refused byte by byte; the refusal goes out once the line is idle.
    let deadline = core.poll(LockSet::EMPTY, None, 0).unwrap_or(25);
    core.poll(LockSet::EMPTY, None, deadline);
    assert_eq!(core.transmit(), hex("F9 A6 01 09 01 30 FF 3A 7C 01 04 00 01 0D 19"));
}
