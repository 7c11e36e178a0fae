//! The blocking `MenuScanner` against scripted Honeywell and Newland UCS engines on a serial
//! port (reference/scanner.md §3, §4: echo + status per entry, trigger commands).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::VecDeque;

use scanner::driver::{Error, blocking::MenuScanner};
use scanner::menu::{self, Storage};
use scanner::menu_host::{Engine, HONEYWELL_PROFILE, MenuCommandError, MenuConfig, NEWLAND_UCS_PROFILE};

/// A scripted engine: every write is one command; it answers with `reply(command)` (after
/// `before`, e.g. a scan that was already on the wire), or stays silent when `reply` gives None.
struct Scripted {
    to_host: VecDeque<u8>,
    written: Vec<Vec<u8>>,
    reply: fn(&[u8]) -> Option<Vec<u8>>,
    before: Vec<u8>,
    after_trigger: Vec<u8>,
}

impl Scripted {
    fn new(reply: fn(&[u8]) -> Option<Vec<u8>>) -> Self {
        Self { to_host: VecDeque::new(), written: Vec::new(), reply, before: Vec::new(), after_trigger: Vec::new() }
    }
}

impl embedded_io::ErrorType for Scripted {
    type Error = std::convert::Infallible;
}

impl embedded_io::Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        // Three bytes at a time: replies and scans are split across reads.
        let n = buf.len().min(self.to_host.len()).min(3);
        for b in buf.iter_mut().take(n) {
            *b = self.to_host.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for Scripted {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.to_host.is_empty())
    }
}

impl embedded_io::Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.written.push(buf.to_vec());
        self.to_host.extend(std::mem::take(&mut self.before));
        if let Some(r) = (self.reply)(buf) {
            self.to_host.extend(r);
        }
        if buf == menu::HONEYWELL_TRIGGER_ON || buf.ends_with(b"#SCNTRG1;\x03") {
            self.to_host.extend(std::mem::take(&mut self.after_trigger));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Counts waits; never sleeps.
struct CountingDelay;

impl embedded_hal::delay::DelayNs for CountingDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

/// Newland UCS (§4 item 2): `STX SOH 0000` + echo + ACK (NAK for `RRDDUR` values above 9999) + `; ETX`.
fn ucs(cmd: &[u8]) -> Option<Vec<u8>> {
    let body = cmd.strip_prefix(menu::NEWLAND_COMMAND_HEAD)?.strip_suffix(menu::NEWLAND_TRAILER)?;
    let status = if body.starts_with(b"@RRDDUR") && body.len() > 11 { 0x15 } else { 0x06 };
    let mut r = menu::NEWLAND_REPLY_HEAD.to_vec();
    r.extend_from_slice(body);
    r.push(status);
    r.extend_from_slice(b";\x03");
    Some(r)
}

/// Honeywell (§3): upper-cased echo, ACK before the storage char; unknown tag `XXX` gets ENQ.
/// Trigger commands get no reply.
fn honeywell(cmd: &[u8]) -> Option<Vec<u8>> {
    let body = cmd.strip_prefix(b"\x16M\r")?;
    let (data, storage) = body.split_at(body.len() - 1);
    let mut r = data.to_ascii_uppercase();
    r.push(if data.starts_with(b"xxx") { 0x05 } else { 0x06 });
    r.extend_from_slice(storage);
    Some(r)
}

#[test]
fn ucs_provision_sends_exactly_the_profile_then_trigger_scan_stop() {
    let mut port = Scripted::new(ucs);
    port.after_trigger = b"]C100001234560000000018\r".to_vec();
    let mut s = MenuScanner::<_, _, 128>::new(port, CountingDelay, MenuConfig::new(Engine::NewlandUcs));
    s.provision(NEWLAND_UCS_PROFILE).unwrap();
    s.trigger().unwrap();
    let scan = s.next_scan(1000).unwrap().unwrap();
    assert_eq!(scan.symbology.map(|id| id.code()), Some(b'C'));
    assert_eq!(scan.gs1, Some(&b"00001234560000000018"[..]));
    s.stop().unwrap();
    let (port, _) = s.release();
    assert_eq!(
        port.written,
        [
            b"~\x010000@SCNMOD0;\x03".to_vec(),
            b"~\x010000@RRDDUR1000;\x03".to_vec(),
            b"~\x010000#SCNTRG1;\x03".to_vec(),
            b"~\x010000#SCNTRG0;\x03".to_vec(),
        ]
    );
}

#[test]
fn nak_stops_provisioning_with_a_typed_error() {
    let port = Scripted::new(ucs);
    let mut s = MenuScanner::<_, _, 128>::new(port, CountingDelay, MenuConfig::new(Engine::NewlandUcs));
    let profile: &[&[u8]] = &[b"SCNMOD0", b"RRDDUR100000", b"SCNMOD2"];
    assert_eq!(s.provision(profile), Err(Error::Menu(MenuCommandError::Nak { entry: 0 })));
    let (port, _) = s.release();
    assert_eq!(port.written.len(), 2, "stops at the first refused command");
}

#[test]
fn honeywell_enq_flash_storage_and_scan_during_command() {
    let mut port = Scripted::new(honeywell);
    port.before = b"]E05901234123457\r".to_vec();
    let mut cfg = MenuConfig::new(Engine::Honeywell);
    cfg.storage = Storage::Flash;
    let mut s = MenuScanner::<_, _, 128>::new(port, CountingDelay, cfg);
    assert!(HONEYWELL_PROFILE.is_empty());
    s.provision(&[b"232bad9"]).unwrap();
    // The scan on the wire before the reply was kept.
    let scan = s.next_scan(10).unwrap().unwrap();
    assert_eq!(scan.data, b"5901234123457");
    assert_eq!(s.command(b"xxxyyy1"), Err(Error::Menu(MenuCommandError::Enq { entry: 0 })));
    s.trigger().unwrap();
    s.stop().unwrap();
    let (port, _) = s.release();
    assert_eq!(
        port.written,
        [b"\x16M\r232bad9.".to_vec(), b"\x16M\rxxxyyy1.".to_vec(), b"\x16T\r".to_vec(), b"\x16U\r".to_vec()]
    );
}

#[test]
fn silent_engine_times_out() {
    let port = Scripted::new(|_| None);
    let mut cfg = MenuConfig::new(Engine::NewlandUcs);
    cfg.response_timeout_ms = 40;
    let mut s = MenuScanner::<_, _, 128>::new(port, CountingDelay, cfg);
    assert_eq!(s.command(b"SCNMOD0"), Err(Error::Menu(MenuCommandError::Timeout)));
    assert_eq!(s.now_ms(), 40);
    assert_eq!(s.next_scan(5).unwrap(), None);
}
