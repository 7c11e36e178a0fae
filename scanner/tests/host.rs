//! The sans-io SSI host against a scripted engine (reference/scanner.md §2.3): ACK/NAK,
//! retries with the retransmit bit, timeouts, decode ACK, multipacket, de-duplication.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::hex;
use scanner::host::{CommandError, HostConfig, HostEvent, SsiHost};
use scanner::ssi::{self, NakCause, Opcode, Packet, STATUS_CONTINUATION, Source};

fn engine(opcode: Opcode, status: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = [0u8; ssi::MAX_PACKET];
    let n = ssi::encode(&Packet { opcode, source: Source::Decoder, status, payload }, &mut out).unwrap();
    out[..n].to_vec()
}

/// Everything the host does with `bytes`: (bytes sent, event as text).
fn run(host: &mut SsiHost<64>, bytes: &[u8], now: u64) -> Vec<(Option<Vec<u8>>, String)> {
    let mut input = bytes;
    let mut out = Vec::new();
    while let Some(o) = host.receive(&mut input, now) {
        let event = match o.event {
            Some(HostEvent::Scan(s)) => format!("scan {:02X} {}", s.code_type, String::from_utf8_lossy(s.data)),
            Some(other) => format!("{other:?}"),
            None => String::new(),
        };
        out.push((o.send.map(<[u8]>::to_vec), event));
    }
    out
}

const ACK_HOST: &str = "04 D0 04 00 FF 28"; // vector ssi-07

#[test]
fn command_acked() {
    let mut host = SsiHost::<64>::new(HostConfig::default());
    assert_eq!(host.command(Opcode::ScanEnable, &[], 0).unwrap(), hex("04 E9 04 00 FF 0F")); // §2.6
    assert_eq!(host.command(Opcode::ScanDisable, &[], 0), Err(scanner::host::HostError::Busy));
    let got = run(&mut host, &hex("04 D0 00 00 FF 2C"), 10); // vector ssi-02
    assert_eq!(got, [(None, "CommandDone(Ok(()))".to_owned())]);
    assert_eq!(host.in_flight(), None);
}

#[test]
fn nak_resend_then_timeout() {
    let mut host = SsiHost::<64>::new(HostConfig { ack_timeout_ms: 100, retries: 2, ..HostConfig::default() });
    host.command(Opcode::StartSession, &[], 0).unwrap();
    // NAK RESEND: resent with the retransmit bit and a fixed checksum.
    let got = run(&mut host, &engine(Opcode::CmdNak, 0, &[1]), 10);
    let resent = got[0].0.clone().unwrap();
    assert_eq!(resent, hex("04 E4 04 01 FF 13"));
    assert_eq!(ssi::parse(&resent).unwrap().0.status, 1);
    // No answer: one more resend at the deadline, then give up.
    assert!(host.poll(109).is_none());
    assert_eq!(host.poll(110).unwrap().send.unwrap(), &hex("04 E4 04 01 FF 13")[..]);
    let done = host.poll(210).unwrap();
    assert_eq!(done.event, Some(HostEvent::CommandDone(Err(CommandError::Timeout { attempts: 3 }))));
    assert_eq!(host.deadline(), None);
}

#[test]
fn nak_denied_ends_the_command() {
    let mut host = SsiHost::<64>::new(HostConfig::default());
    host.command(Opcode::Beep, &[0], 0).unwrap();
    let got = run(&mut host, &engine(Opcode::CmdNak, 0, &[6]), 1);
    assert_eq!(got[0].1, format!("{:?}", HostEvent::CommandDone(Err(CommandError::Nak(NakCause::Denied)))));
}

#[test]
fn wakeup_prefix() {
    let mut host = SsiHost::<64>::new(HostConfig { wakeup: true, ..HostConfig::default() });
    assert_eq!(host.wake_delay_ms(), Some(20));
    assert_eq!(host.command(Opcode::StartSession, &[], 0).unwrap(), hex("00 04 E4 04 00 FF 14"));
}

#[test]
fn decode_acked_and_retransmission_hidden() {
    let mut host = SsiHost::<64>::new(HostConfig::default());
    let ack = Some(hex(ACK_HOST));
    let decode = hex("07 F3 00 00 03 55 53 FE 5B"); // vector ssi-06
    assert_eq!(run(&mut host, &decode, 0), [(ack.clone(), "scan 03 US".to_owned())]);
    // The engine resends it (our ACK was late): ACK again, no second scan.
    let again = engine(Opcode::DecodeData, 1, b"\x03US");
    assert_eq!(run(&mut host, &again, 5), [(ack.clone(), String::new())]);
    // A new read of the same code without the retransmit bit is a new scan (window 0).
    assert_eq!(run(&mut host, &decode, 6), [(ack, "scan 03 US".to_owned())]);
}

#[test]
fn dedup_window_hides_continuous_rereads() {
    let mut host = SsiHost::<64>::new(HostConfig { dedup_window_ms: 1000, ..HostConfig::default() });
    let decode = hex("07 F3 00 00 03 55 53 FE 5B");
    assert_eq!(run(&mut host, &decode, 0)[0].1, "scan 03 US");
    assert_eq!(run(&mut host, &decode, 900)[0].1, "");
    assert_eq!(run(&mut host, &decode, 1800)[0].1, "", "each sighting restarts the window");
    assert_eq!(run(&mut host, &decode, 2800)[0].1, "scan 03 US");
    let other = engine(Opcode::DecodeData, 0, b"\x03XY");
    assert_eq!(run(&mut host, &other, 2801)[0].1, "scan 03 XY");
}

#[test]
fn multipacket_and_overflow() {
    let mut host = SsiHost::<64>::new(HostConfig::default());
    let mut stream = engine(Opcode::DecodeData, STATUS_CONTINUATION, b"\x1cHELLO ");
    stream.extend(engine(Opcode::DecodeData, 0, b"\x1cWORLD"));
    // Only the last packet is ACKed (§2.3 option 2).
    assert_eq!(run(&mut host, &stream, 0), [(Some(hex(ACK_HOST)), "scan 1C HELLO WORLD".to_owned())]);
    let big = vec![b'A'; 100];
    let mut p = big.clone();
    p.insert(0, 0x1C);
    let got = run(&mut host, &engine(Opcode::DecodeData, 0, &p), 1);
    assert_eq!(got, [(Some(hex(ACK_HOST)), "DecodeDropped".to_owned())]);
}

#[test]
fn other_packets_acked_except_revision_and_acks() {
    let mut host = SsiHost::<64>::new(HostConfig::default());
    // EVENT decode (vector ssi-09) is ACKed; an unsolicited ACK is ignored; REPLY_REVISION is not ACKed.
    let mut stream = hex("05 F6 00 00 01 FF 04");
    stream.extend(hex("04 D0 00 00 FF 2C"));
    stream.extend(engine(Opcode::ReplyRevision, 0, b"NBRSUAAC"));
    let got = run(&mut host, &stream, 0);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, Some(hex(ACK_HOST)));
    assert!(got[0].1.contains("Event"));
    assert_eq!(got[1].0, None);
    assert!(got[1].1.contains("ReplyRevision"));
}
