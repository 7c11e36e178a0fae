//! The menu-command host against scripted Honeywell and Newland engines
//! (reference/scanner.md §3 Honeywell, §4 Newland).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use scanner::aim::{self, Gs1Form};
use scanner::menu::{self, Storage};
use scanner::menu_host::{
    Engine, MenuCommandError, MenuConfig, MenuEvent, MenuHost, MenuHostError, NEWLAND_LEGACY_PROFILE,
    NEWLAND_UCS_PROFILE,
};

/// An event as owned data: `Ok(reply result)` or `Err(scan line)`.
type Owned = Result<Result<Vec<u8>, MenuCommandError>, Vec<u8>>;

/// Feeds `rx` and collects every event as owned data.
fn drain(host: &mut MenuHost<128>, mut rx: &[u8], now: u64) -> Vec<Owned> {
    let mut out = Vec::new();
    while let Some(ev) = host.receive(&mut rx, now) {
        out.push(match ev {
            MenuEvent::Reply(r) => Ok(r.map(<[u8]>::to_vec)),
            MenuEvent::Scan(s) => Err(s.to_vec()),
        });
    }
    out
}

/// A scripted Newland UCS engine: echoes `@`/`#` + body with one status per entry (§4 item 2).
fn ucs_reply(sent: &[u8], status: u8) -> Vec<u8> {
    let body = sent.strip_prefix(menu::NEWLAND_COMMAND_HEAD).unwrap().strip_suffix(menu::NEWLAND_TRAILER).unwrap();
    let mut r = menu::NEWLAND_REPLY_HEAD.to_vec();
    r.extend_from_slice(body);
    r.push(status);
    r.extend_from_slice(b";\x03");
    r
}

#[test]
fn ucs_profile_sends_exactly_its_commands_and_checks_each_ack() {
    let mut host = MenuHost::<128>::new(MenuConfig::new(Engine::NewlandUcs));
    let mut seen = Vec::new();
    for (i, body) in NEWLAND_UCS_PROFILE.iter().enumerate() {
        let sent = host.command(body, i as u64 * 10).unwrap().to_vec();
        seen.push(sent.clone());
        assert_eq!(drain(&mut host, &ucs_reply(&sent, 0x06), 1), [Ok(Ok(ucs_reply(&sent, 0x06)))]);
    }
    // §4 item 2: `~ SOH 0000 @SCNMOD0 ; ETX`, `@RRDDUR<ms>`.
    assert_eq!(seen, [b"~\x010000@SCNMOD0;\x03".to_vec(), b"~\x010000@RRDDUR1000;\x03".to_vec()]);
}

#[test]
fn ucs_manual_example_reply_is_accepted() {
    // §4 item 2 example: `@DFMADD069990020010F141`.
    let mut host = MenuHost::<128>::new(MenuConfig::new(Engine::NewlandUcs));
    let sent = host.command(b"DFMADD069990020010F141", 0).unwrap().to_vec();
    assert_eq!(sent, b"~\x010000@DFMADD069990020010F141;\x03");
    let reply = b"\x02\x010000@DFMADD069990020010F141\x06;\x03";
    assert_eq!(drain(&mut host, reply, 1), [Ok(Ok(reply.to_vec()))]);
}

#[test]
fn nak_and_enq_give_typed_errors() {
    let mut host = MenuHost::<128>::new(MenuConfig::new(Engine::NewlandUcs));
    let sent = host.command(b"RRDDUR999999", 0).unwrap().to_vec();
    assert_eq!(drain(&mut host, &ucs_reply(&sent, 0x15), 1), [Ok(Err(MenuCommandError::Nak { entry: 0 }))]);
    let sent = host.command(b"XYZABC1", 0).unwrap().to_vec();
    assert_eq!(drain(&mut host, &ucs_reply(&sent, 0x05), 1), [Ok(Err(MenuCommandError::Enq { entry: 0 }))]);

    // Honeywell, two entries, the second out of range (§3: status before each punctuation).
    let mut hw = MenuHost::<128>::new(MenuConfig::new(Engine::Honeywell));
    hw.command(b"cbrena1,ssx9", 0).unwrap();
    assert_eq!(drain(&mut hw, b"CBRENA1\x06,SSX9\x15!", 1), [Ok(Err(MenuCommandError::Nak { entry: 1 }))]);
    assert!(!hw.in_flight());

    // Legacy: one NAK byte (§4 item 1).
    let mut lg = MenuHost::<128>::new(MenuConfig::new(Engine::NewlandLegacy));
    lg.command(b"NLS0312040=999", 0).unwrap();
    assert_eq!(drain(&mut lg, b"\x15", 1), [Ok(Err(MenuCommandError::Nak { entry: 0 }))]);
}

#[test]
fn honeywell_storage_is_configurable_and_reply_with_or_without_storage_char() {
    let mut cfg = MenuConfig::new(Engine::Honeywell);
    cfg.storage = Storage::Flash;
    let mut host = MenuHost::<128>::new(cfg);
    // §3 N3680 example: `SYN M CR 232BAD9.`
    assert_eq!(host.command(b"232BAD9", 0).unwrap(), b"\x16M\r232BAD9.");
    // Manual form without the storage char, then a scan.
    assert_eq!(drain(&mut host, b"232BAD9\x06", 1), [Ok(Ok(b"232BAD9\x06".to_vec()))]);
    host.command(b"revinf", 2).unwrap();
    // Voyager 1602g form `REVINF<ACK>.`: the `.` is not taken as scan data.
    assert_eq!(drain(&mut host, b"REVINF\x06.]C0ABC\r", 3), [Ok(Ok(b"REVINF\x06".to_vec())), Err(b"]C0ABC".to_vec())]);
}

#[test]
fn legacy_profile_wraps_setup() {
    let mut host = MenuHost::<128>::new(MenuConfig::new(Engine::NewlandLegacy));
    let mut sent = Vec::new();
    for body in NEWLAND_LEGACY_PROFILE {
        sent.push(host.command(body, 0).unwrap().to_vec());
        assert_eq!(drain(&mut host, b"\x06", 1), [Ok(Ok(b"\x06".to_vec()))]);
    }
    assert_eq!(sent, [b"NLS0006010".to_vec(), b"NLS0006000".to_vec()]);
    assert_eq!(host.trigger(true, 0), Err(MenuHostError::Unsupported));
}

#[test]
fn trigger_then_scan_with_aim_and_gs1() {
    // Honeywell: `SYN T CR`, no reply; the engine sends an AIM-prefixed GS1-128 scan (§3, §8).
    let mut host = MenuHost::<128>::new(MenuConfig::new(Engine::Honeywell));
    assert_eq!(host.trigger(true, 0).unwrap(), b"\x16T\r");
    assert!(!host.in_flight());
    let got = drain(&mut host, b"]C100012345678901231\r", 1);
    let Err(line) = &got[0] else { panic!("{got:?}") };
    let (id, data) = aim::split(line).unwrap();
    assert_eq!(id.gs1_form(), Some(Gs1Form::ElementString));
    assert_eq!(data, b"00012345678901231");
    assert_eq!(host.trigger(false, 2).unwrap(), b"\x16U\r");

    // Newland UCS: `#SCNTRG1` is a temporary command with a reply.
    let mut nl = MenuHost::<128>::new(MenuConfig::new(Engine::NewlandUcs));
    let sent = nl.trigger(true, 0).unwrap().to_vec();
    assert_eq!(sent, b"~\x010000#SCNTRG1;\x03");
    let mut rx = ucs_reply(&sent, 0x06);
    rx.extend_from_slice(b"]Q1hello\r");
    assert_eq!(drain(&mut nl, &rx, 1), [Ok(Ok(ucs_reply(&sent, 0x06))), Err(b"]Q1hello".to_vec())]);
    assert_eq!(nl.trigger(false, 2).unwrap(), b"~\x010000#SCNTRG0;\x03");
}

#[test]
fn scan_arriving_while_command_in_flight_is_not_lost() {
    let mut nl = MenuHost::<128>::new(MenuConfig::new(Engine::NewlandUcs));
    let sent = nl.command(b"SCNMOD0", 0).unwrap().to_vec();
    let mut rx = b"]E05901234123457\r".to_vec();
    rx.extend_from_slice(&ucs_reply(&sent, 0x06));
    assert_eq!(drain(&mut nl, &rx, 1), [Err(b"]E05901234123457".to_vec()), Ok(Ok(ucs_reply(&sent, 0x06)))]);

    let mut hw = MenuHost::<128>::new(MenuConfig::new(Engine::Honeywell));
    hw.command(b"cbrena1", 0).unwrap();
    assert_eq!(
        drain(&mut hw, b"]C0PARCEL42\rCBRENA1\x06!", 1),
        [Err(b"]C0PARCEL42".to_vec()), Ok(Ok(b"CBRENA1\x06".to_vec()))]
    );

    let mut lg = MenuHost::<128>::new(MenuConfig::new(Engine::NewlandLegacy));
    lg.command(b"NLS0006010", 0).unwrap();
    assert_eq!(drain(&mut lg, b"AB\r\x06", 1), [Err(b"AB".to_vec()), Ok(Ok(b"\x06".to_vec()))]);
}

#[test]
fn silent_engine_times_out_at_configured_deadline() {
    let mut cfg = MenuConfig::new(Engine::Honeywell);
    cfg.response_timeout_ms = 250;
    let mut host = MenuHost::<128>::new(cfg);
    host.command(b"cbrena1", 100).unwrap();
    assert_eq!(host.deadline(), Some(350));
    assert_eq!(host.command(b"cbrena0", 101), Err(MenuHostError::Busy));
    assert_eq!(host.poll(349), None);
    assert_eq!(host.poll(350), Some(MenuEvent::Reply(Err(MenuCommandError::Timeout))));
    assert!(!host.in_flight());
    // The host is free again.
    assert!(host.command(b"cbrena0", 351).is_ok());
}
