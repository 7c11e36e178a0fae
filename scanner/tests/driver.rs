//! The blocking SSI driver against a simulated engine on a scripted serial port (§2.3: the
//! capture sequence PARAM_SEND -> ACK, START_SESSION -> ACK, DECODE_DATA -> host ACK).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::VecDeque;

use scanner::driver::{Error, Profile, blocking::SsiScanner};
use scanner::host::{CommandError, HostConfig};
use scanner::ssi::{self, Opcode, Packet, STATUS_RETRANSMIT, Source, SsiDecoder};
use scanner::stream::Event;

/// A simulated SSI engine behind a serial port: ACKs commands, answers START_SESSION with the
/// scans queued in `scans`, resends a decode once if `ack_late` (as if our ACK was lost).
struct Engine {
    decoder: SsiDecoder,
    to_host: VecDeque<u8>,
    scans: VecDeque<Vec<u8>>,
    ack_late: bool,
    nak_next: Option<u8>,
    received: Vec<(Opcode, u8, Vec<u8>)>,
    acks_from_host: usize,
    /// Most bytes one read returns.
    chunk: usize,
}

impl Engine {
    fn new() -> Self {
        Self {
            decoder: SsiDecoder::new(),
            to_host: VecDeque::new(),
            scans: VecDeque::new(),
            ack_late: false,
            nak_next: None,
            received: Vec::new(),
            acks_from_host: 0,
            chunk: 5,
        }
    }

    fn send(&mut self, opcode: Opcode, status: u8, payload: &[u8]) {
        let mut out = [0u8; ssi::MAX_PACKET];
        let n = ssi::encode(&Packet { opcode, source: Source::Decoder, status, payload }, &mut out).unwrap();
        self.to_host.extend(&out[..n]);
    }
}

impl embedded_io::ErrorType for Engine {
    type Error = std::convert::Infallible;
}

impl embedded_io::Read for Engine {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        // Deliver in small fragments, as UARTs do (§11 item 1).
        let n = buf.len().min(self.to_host.len()).min(self.chunk);
        for b in buf.iter_mut().take(n) {
            *b = self.to_host.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for Engine {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.to_host.is_empty())
    }
}

impl embedded_io::Write for Engine {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let mut input = buf;
        let mut packets = Vec::new();
        while let Some(ev) = self.decoder.feed(&mut input) {
            if let Event::Frame { frame, .. } = ev {
                packets.push((frame.opcode, frame.status, frame.payload.to_vec()));
            }
        }
        for (opcode, status, payload) in packets {
            self.received.push((opcode, status, payload.clone()));
            match opcode {
                Opcode::CmdAck => self.acks_from_host += 1,
                _ if self.nak_next.is_some() => {
                    let cause = self.nak_next.take().unwrap();
                    self.send(Opcode::CmdNak, 0, &[cause]);
                }
                Opcode::StartSession => {
                    self.send(Opcode::CmdAck, 0, &[]);
                    while let Some(scan) = self.scans.pop_front() {
                        let mut p = vec![0x0F]; // GS1-128 bar code type
                        p.extend(&scan);
                        self.send(Opcode::DecodeData, 0, &p);
                        if self.ack_late {
                            self.send(Opcode::DecodeData, STATUS_RETRANSMIT, &p);
                        }
                    }
                }
                _ => self.send(Opcode::CmdAck, 0, &[]),
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
fn provision_trigger_scan() {
    let mut engine = Engine::new();
    engine.scans.push_back(b"]C100123456789012345675\x1d10LOT".to_vec());
    engine.ack_late = true;
    let mut s: SsiScanner<_, _, 256> = SsiScanner::new(engine, CountingDelay(0), HostConfig::default());
    s.provision(&Profile::ZEBRA_SSI).unwrap();
    s.trigger().unwrap();
    let scan = s.next_scan(1000).unwrap().unwrap();
    assert_eq!(scan.symbology.unwrap().to_string(), "]C1");
    assert_eq!(scan.code_type, Some(0x0F));
    assert_eq!(scan.data, b"00123456789012345675\x1d10LOT");
    assert_eq!(scan.gs1, Some(&b"00123456789012345675\x1d10LOT"[..]));
    // The resent decode was ACKed but not reported again.
    assert_eq!(s.next_scan(50).unwrap(), None);
    s.stop().unwrap();
    let (engine, _) = s.release();
    assert_eq!(engine.acks_from_host, 2, "decode and its retransmission both ACKed");
    let ops: Vec<Opcode> = engine.received.iter().map(|r| r.0).collect();
    assert_eq!(ops, [Opcode::ParamSend, Opcode::StartSession, Opcode::CmdAck, Opcode::CmdAck, Opcode::StopSession]);
    // PARAM_SEND was permanent, no beep, then the profile's parameters (§2.5).
    assert_eq!(engine.received[0].1, ssi::STATUS_PERMANENT);
    assert_eq!(engine.received[0].2, [0xFF, 0xEE, 0x01, 0x9F, 0x01, 0x8A, 0x08]);
}

#[test]
fn nak_and_silence_are_command_errors() {
    let mut engine = Engine::new();
    engine.nak_next = Some(6);
    let mut s: SsiScanner<_, _, 64> = SsiScanner::new(engine, CountingDelay(0), HostConfig::default());
    assert_eq!(s.trigger(), Err(Error::Command(CommandError::Nak(ssi::NakCause::Denied))));

    /// An engine that never answers (asleep, or in another host mode: §11 item 3).
    struct Silent(usize);
    impl embedded_io::ErrorType for Silent {
        type Error = std::convert::Infallible;
    }
    impl embedded_io::Read for Silent {
        fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> {
            Ok(0)
        }
    }
    impl embedded_io::ReadReady for Silent {
        fn read_ready(&mut self) -> Result<bool, Self::Error> {
            Ok(false)
        }
    }
    impl embedded_io::Write for Silent {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            self.0 += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }
    let config = HostConfig { ack_timeout_ms: 100, retries: 2, ..HostConfig::default() };
    let mut s: SsiScanner<_, _, 64> = SsiScanner::new(Silent(0), CountingDelay(0), config);
    assert_eq!(s.trigger(), Err(Error::Command(CommandError::Timeout { attempts: 3 })));
    assert_eq!(s.now_ms(), 300);
    let (silent, delay) = s.release();
    assert_eq!(silent.0, 3, "first send and two resends");
    assert_eq!(delay.0, 300 * 1_000_000);
}

/// Noise that reads as the start of a long SSI packet arrives before the engine's ACK:
/// the shell's idle flush finds the ACK behind it instead of timing out.
#[test]
fn noise_before_ack_is_flushed_after_a_quiet_gap() {
    let mut engine = Engine::new();
    // 0x55 reads as a length of 85 and the ACK's own length byte 0x04 as a plausible source.
    engine.to_host.extend([0x55, 0x01]);
    let config = HostConfig { ack_timeout_ms: 500, retries: 0, idle_flush_ms: 20, ..HostConfig::default() };
    let mut s: SsiScanner<_, _, 64> = SsiScanner::new(engine, CountingDelay(0), config);
    s.trigger().unwrap();
    assert!(s.now_ms() >= 20 && s.now_ms() < 500, "{}", s.now_ms());
}

/// ACK and DECODE_DATA arrive in one read (§7 "ACK and DECODE_DATA also arrive in the same
/// read"): the decode behind the ACK is not lost.
#[test]
fn ack_and_decode_in_one_read() {
    let mut engine = Engine::new();
    engine.chunk = 64;
    engine.scans.push_back(b"]Q1LK1-12345670".to_vec());
    let mut s: SsiScanner<_, _, 256> = SsiScanner::new(engine, CountingDelay(0), HostConfig::default());
    s.trigger().unwrap();
    let scan = s.next_scan(10).unwrap().unwrap();
    assert_eq!((scan.data, scan.gs1), (&b"LK1-12345670"[..], None));
    assert_eq!(scan.symbology.unwrap().to_string(), "]Q1");
}

/// A port that only delivers scripted bytes (an engine in raw mode).
struct RawPort(VecDeque<u8>);

impl embedded_io::ErrorType for RawPort {
    type Error = std::convert::Infallible;
}

impl embedded_io::Read for RawPort {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.0.len()).min(4);
        for b in buf.iter_mut().take(n) {
            *b = self.0.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for RawPort {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.0.is_empty())
    }
}

#[test]
fn raw_mode_scans_dedup_overflow_and_idle_gap() {
    use scanner::driver::blocking::RawScanner;
    use scanner::framer::{FramerConfig, Terminator};

    // Continuous mode re-reads the same label (§11 item 6); a too-long line; a last scan with
    // no terminator (§7), ended by the idle gap.
    let mut bytes = b"]C100123456789012345675\r]C100123456789012345675\r".to_vec();
    bytes.extend(vec![b'X'; 40]);
    bytes.extend(b"\r]Q1PICKUP:AB12CD");
    let framing = FramerConfig::new(Terminator::Cr).with_idle_gap(50);
    let mut s: RawScanner<_, _, 32> = RawScanner::new(RawPort(bytes.into()), CountingDelay(0), framing, 1000);
    let scan = s.next_scan(10).unwrap().unwrap();
    assert_eq!(scan.gs1, Some(&b"00123456789012345675"[..]));
    assert_eq!(scan.code_type, None);
    let scan = s.next_scan(100).unwrap().unwrap();
    assert_eq!(scan.data, b"PICKUP:AB12CD");
    assert!(s.now_ms() >= 50, "ended by the idle gap, not a terminator");
    assert_eq!(s.next_scan(100).unwrap(), None);
    assert_eq!(s.framer_stats().overflows, 1);
}
