//! The blocking Grow driver against a simulated GM65 on a scripted serial port
//! (reference/scanner.md §5: 7E 00 commands, 02 00 responses, silence as the only NAK).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::VecDeque;

use scanner::driver::{Error, GrowProfile, ZoneBits, blocking::GrowScanner};
use scanner::grow::{self, CommandDecoder, CommandType, CrcMode, Response};
use scanner::grow_host::{GrowCommandError, GrowConfig};
use scanner::stream::Event;

/// A simulated module: zone bits in memory, a response per command (§5.1), scans printed as
/// `[data][CR]` after a trigger in command mode (§5.2 0x0000 b1-0, 0x0002, 0x0060).
struct Module {
    decoder: CommandDecoder,
    zones: [u8; 0x100],
    saved: Option<[u8; 0x100]>,
    to_host: VecDeque<u8>,
    scans: VecDeque<Vec<u8>>,
    /// Ignore this many commands (as a module does with a bad one).
    drop_next: usize,
    /// Answer the next command with this status.
    status_next: Option<u8>,
    /// Bytes sent before the next response (line noise).
    noise_next: Vec<u8>,
    commands: Vec<(CommandType, u16, Vec<u8>, CrcMode)>,
    chunk: usize,
}

impl Module {
    fn new() -> Self {
        let mut zones = [0u8; 0x100];
        zones[0x0000] = 0xC2; // LED, sound, continuous mode
        zones[0x0060] = 0x05; // CodeID and tail on
        Self {
            decoder: CommandDecoder::new(),
            zones,
            saved: None,
            to_host: VecDeque::new(),
            scans: VecDeque::new(),
            drop_next: 0,
            status_next: None,
            noise_next: Vec::new(),
            commands: Vec::new(),
            chunk: 3,
        }
    }

    fn respond(&mut self, status: u8, data: &[u8]) {
        self.to_host.extend(self.noise_next.drain(..));
        let mut out = [0u8; grow::MAX_RESPONSE];
        let n = grow::encode_response(&Response { status, data }, &mut out).unwrap();
        self.to_host.extend(&out[..n]);
    }
}

impl embedded_io::ErrorType for Module {
    type Error = std::convert::Infallible;
}

impl embedded_io::Read for Module {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.to_host.len()).min(self.chunk);
        for b in buf.iter_mut().take(n) {
            *b = self.to_host.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for Module {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.to_host.is_empty())
    }
}

impl embedded_io::Write for Module {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let mut input = buf;
        let mut cmds = Vec::new();
        while let Some(ev) = self.decoder.feed(&mut input) {
            if let Event::Frame { frame, .. } = ev {
                cmds.push((frame.command.kind, frame.command.address, frame.command.data.to_vec(), frame.crc));
            }
        }
        for (kind, addr, data, crc) in cmds {
            self.commands.push((kind, addr, data.clone(), crc));
            if self.drop_next > 0 {
                self.drop_next -= 1;
                continue;
            }
            if let Some(s) = self.status_next.take() {
                self.respond(s, &[]);
                continue;
            }
            let a = usize::from(addr);
            match kind {
                CommandType::Read => {
                    let count = usize::from(data[0]);
                    let v = self.zones[a..a + count].to_vec();
                    self.respond(0, &v);
                }
                CommandType::Write => {
                    self.zones[a..a + data.len()].copy_from_slice(&data);
                    self.respond(0, &[0x00]);
                    if addr == 0x0002
                        && data == [0x01]
                        && self.zones[0] & 0x03 == 0x01
                        && let Some(scan) = self.scans.pop_front()
                    {
                        self.to_host.extend(&scan);
                        self.to_host.push_back(b'\r');
                    }
                }
                CommandType::Save => {
                    self.saved = Some(self.zones);
                    self.respond(0, &[0x00]);
                }
                _ => {}
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Counts waits; never sleeps (tests never depend on wall-clock speed).
struct CountingDelay(u64);

impl embedded_hal::delay::DelayNs for CountingDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.0 += u64::from(ns);
    }
}

#[test]
fn provision_sets_only_the_profile_bits_and_saves() {
    let mut m = Module::new();
    m.zones[0x0003] = 0x41; // other bits of 0x0003 must survive
    let mut s: GrowScanner<_, _, 256> = GrowScanner::new(m, CountingDelay(0), GrowConfig::default());
    s.provision(&GrowProfile::GM65).unwrap();
    let (m, _) = s.release();
    let saved = m.saved.expect("profile saved to EEPROM (type 09)");
    assert_eq!(saved[0x0000], 0xC1, "command mode, LED/sound bits kept (§5.2)");
    assert_eq!(saved[0x0003], 0x43, "setup codes off, other bits kept");
    assert_eq!(saved[0x000D], 0x3C, "UTF-8 in/out, serial");
    assert_eq!(saved[0x0060], 0x01, "tail CR only, CodeID off");
    // Read-modify-write: four reads, four writes (all differed), one save; all with a real CRC.
    let kinds: Vec<CommandType> = m.commands.iter().map(|c| c.0).collect();
    use CommandType::{Read as R, Save as S, Write as W};
    assert_eq!(kinds, [R, W, R, W, R, W, R, W, S]);
    assert!(m.commands.iter().all(|c| c.3 == CrcMode::Crc));
}

#[test]
fn provision_skips_writes_that_change_nothing() {
    let mut m = Module::new();
    m.zones[0x0000] = 0xC1;
    let profile = GrowProfile { name: "t", zones: &[ZoneBits::COMMAND_MODE], save: false };
    let mut s: GrowScanner<_, _, 64> = GrowScanner::new(m, CountingDelay(0), GrowConfig::default());
    s.provision(&profile).unwrap();
    let (m, _) = s.release();
    assert_eq!(m.commands.len(), 1, "only the read");
    assert!(m.saved.is_none());
}

#[test]
fn trigger_then_scan_with_aim_and_gs1() {
    let mut m = Module::new();
    m.scans.push_back(b"]C100123456789012345675\x1d10LOT".to_vec());
    let mut s: GrowScanner<_, _, 256> = GrowScanner::new(m, CountingDelay(0), GrowConfig::default());
    s.provision(&GrowProfile::GM65).unwrap();
    s.trigger().unwrap();
    let scan = s.next_scan(1000).unwrap().unwrap();
    assert_eq!(scan.symbology.unwrap().to_string(), "]C1");
    assert_eq!(scan.code_type, None);
    assert_eq!(scan.gs1, Some(&b"00123456789012345675\x1d10LOT"[..]));
    assert_eq!(s.next_scan(20).unwrap(), None);
    let (m, _) = s.release();
    // The trigger is the manual's command: write 0x01 to 0x0002 (§5.2).
    let last = m.commands.last().unwrap();
    assert_eq!((last.0, last.1, last.2.as_slice()), (CommandType::Write, 0x0002, &[0x01][..]));
}

#[test]
fn no_trigger_in_continuous_mode_means_no_scan() {
    // Without provisioning the module stays in continuous mode and our simulated module ignores
    // the trigger: next_scan times out instead of inventing data.
    let mut m = Module::new();
    m.scans.push_back(b"X".to_vec());
    let mut s: GrowScanner<_, _, 64> = GrowScanner::new(m, CountingDelay(0), GrowConfig::default());
    s.trigger().unwrap();
    assert_eq!(s.next_scan(30).unwrap(), None);
}

#[test]
fn silence_is_resent_then_a_timeout() {
    let mut m = Module::new();
    m.drop_next = 1;
    let config = GrowConfig { response_timeout_ms: 100, retries: 2, ..GrowConfig::default() };
    let mut s: GrowScanner<_, _, 64> = GrowScanner::new(m, CountingDelay(0), config);
    assert_eq!(s.read_register(0x0000).unwrap(), 0xC2, "answered on the resend");
    let (mut m, d) = s.release();
    assert_eq!(m.commands.len(), 2);
    m.drop_next = 3;
    let mut s: GrowScanner<_, _, 64> = GrowScanner::new(m, d, config);
    assert_eq!(s.trigger(), Err(Error::Grow(GrowCommandError::Timeout { attempts: 3 })));
    assert_eq!(s.now_ms(), 300);
    let (m, _) = s.release();
    assert_eq!(m.commands.len(), 5, "first send and two resends");
}

#[test]
fn error_status_is_reported() {
    let mut m = Module::new();
    m.status_next = Some(0x01);
    let mut s: GrowScanner<_, _, 64> = GrowScanner::new(m, CountingDelay(0), GrowConfig::default());
    assert_eq!(s.write_register(0x0013, &[0x85]), Err(Error::Grow(GrowCommandError::Status(0x01))));
}

#[test]
fn noise_and_a_corrupted_response_before_the_real_one_are_skipped() {
    let mut m = Module::new();
    // Garbage, then the manual's read reply with its CRC broken (§5.1), then the real reply.
    m.noise_next = vec![0xFF, 0x02, 0x13, 0x02, 0x00, 0x00, 0x01, 0x3E, 0xE4, 0xAD];
    m.chunk = 4;
    let mut s: GrowScanner<_, _, 64> = GrowScanner::new(m, CountingDelay(0), GrowConfig::default());
    assert_eq!(s.read_register(0x0000).unwrap(), 0xC2);
}

#[test]
fn no_check_crc_mode_sends_ab_cd() {
    let m = Module::new();
    let config = GrowConfig { crc: CrcMode::NoCheck, ..GrowConfig::default() };
    let mut s: GrowScanner<_, _, 64> = GrowScanner::new(m, CountingDelay(0), config);
    s.trigger().unwrap();
    let (m, _) = s.release();
    assert_eq!(m.commands[0].3, CrcMode::NoCheck);
}

#[test]
fn repeated_scans_within_the_window_are_reported_once() {
    let mut m = Module::new();
    m.zones[0x0000] = 0x01;
    m.scans.extend([b"]Q1ABC".to_vec(), b"]Q1ABC".to_vec(), b"]Q1DEF".to_vec()]);
    let config = GrowConfig { dedup_window_ms: 1000, ..GrowConfig::default() };
    let mut s: GrowScanner<_, _, 64> = GrowScanner::new(m, CountingDelay(0), config);
    for _ in 0..3 {
        s.trigger().unwrap();
    }
    assert_eq!(s.next_scan(50).unwrap().unwrap().data, b"ABC");
    assert_eq!(s.next_scan(50).unwrap().unwrap().data, b"DEF");
    assert_eq!(s.next_scan(50).unwrap(), None);
}

/// The sans-io host alone: a second command while one is in flight is refused, and the module's
/// OK reply (§5.1 `02 00 00 01 00 33 31`) frees it again.
#[test]
fn host_keeps_one_command_in_flight() {
    use scanner::grow::Command;
    use scanner::grow_host::{GrowEvent, GrowHost, GrowHostError};
    let mut host = GrowHost::<64>::new(GrowConfig::default());
    host.command(&Command::save(), 0).unwrap();
    assert_eq!(host.command(&Command::save(), 1).err(), Some(GrowHostError::Busy));
    let mut rx: &[u8] = &[0x02, 0x00, 0x00, 0x01, 0x00, 0x33, 0x31];
    assert_eq!(host.receive(&mut rx, 2), Some(GrowEvent::Response(Ok(&[0x00][..]))));
    assert!(!host.in_flight());
    assert!(host.command(&Command::save(), 3).is_ok());
}
