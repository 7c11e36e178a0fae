//! Sans-io SSI host: commands with ACK/NAK and retries, decode data acknowledged, assembled
//! and de-duplicated (reference/scanner.md §2.3).
//!
//! The host never does I/O: give it received bytes and `now_ms`, send what it returns, and call
//! [`SsiHost::poll`] at [`SsiHost::deadline`]. One command is in flight at a time. A command
//! that gets no ACK within `ack_timeout_ms`, or gets NAK RESEND, is sent again with the
//! retransmit bit (up to `retries` times); any other NAK ends it with that cause. Every
//! packeted message from the engine is ACKed except ACK, NAK and REPLY_REVISION (never ACK an
//! ACK or NAK, §2.2). DECODE_DATA resent by the engine because our ACK was late (retransmit bit,
//! same data) is ACKed again but not reported twice, and [`Dedup`] also hides an identical
//! scan within `dedup_window_ms` (continuous-mode re-reads, §11 item 6).
//!
//! ```
//! use scanner::host::{HostConfig, HostEvent, SsiHost};
//! use scanner::ssi::Opcode;
//!
//! let mut host = SsiHost::<256>::new(HostConfig::default());
//! let sent = host.command(Opcode::StartSession, &[], 0).unwrap().to_vec();
//! assert_eq!(sent, [0x04, 0xE4, 0x04, 0x00, 0xFF, 0x14]);
//! // The engine ACKs, then sends a decode (Code 128 "US", vector ssi-06).
//! let mut rx: &[u8] = &[0x04, 0xD0, 0x00, 0x00, 0xFF, 0x2C, 0x07, 0xF3, 0x00, 0x00, 0x03, 0x55, 0x53, 0xFE, 0x5B];
//! let out = host.receive(&mut rx, 5).unwrap();
//! assert_eq!(out.event, Some(HostEvent::CommandDone(Ok(()))));
//! let out = host.receive(&mut rx, 6).unwrap();
//! assert_eq!(out.send, Some(&[0x04, 0xD0, 0x04, 0x00, 0xFF, 0x28][..])); // our ACK
//! let Some(HostEvent::Scan(scan)) = out.event else { panic!() };
//! assert_eq!((scan.code_type, scan.data), (0x03, &b"US"[..]));
//! ```

use crate::ssi::{self, DecodeAssembler, NakCause, Opcode, Packet, STATUS_RETRANSMIT, Source, SsiDecoder};
use crate::stream::Event;

/// Timing and retry configuration (defaults from §2.1/§2.3 and common driver practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostConfig {
    /// Wait this long for ACK/NAK before resending a command.
    pub ack_timeout_ms: u64,
    /// Resends after the first attempt.
    pub retries: u8,
    /// Prefix each command with the WAKEUP byte (low-power engines, §2.1); the caller then waits
    /// `wake_delay_ms` between the byte and the packet (see [`SsiHost::wake_delay_ms`]).
    pub wakeup: bool,
    /// Delay after WAKEUP (the guide: at least 10 ms, under 1 s).
    pub wake_delay_ms: u64,
    /// Hide a scan identical to the previous one seen less than this long ago (0: only engine
    /// retransmissions are hidden).
    pub dedup_window_ms: u64,
    /// After this long without a byte, a partial packet is taken as garbage (see
    /// [`SsiHost::idle`]); the shells apply it.
    pub idle_flush_ms: u64,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            ack_timeout_ms: 500,
            retries: 2,
            wakeup: false,
            wake_delay_ms: 20,
            dedup_window_ms: 0,
            idle_flush_ms: 50,
        }
    }
}

/// Why a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The engine refused it.
    #[error("engine NAK: {0:?}")]
    Nak(NakCause),
    /// No ACK after all retries (the engine may be asleep, in another host mode or unpowered).
    #[error("no ACK after {attempts} attempt(s)")]
    Timeout {
        /// Attempts made.
        attempts: u8,
    },
}

/// Another command is still in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// Wait for [`HostEvent::CommandDone`] first.
    #[error("a command is in flight")]
    Busy,
    /// The payload does not fit one packet.
    #[error("payload too long for one SSI packet")]
    PayloadTooLong,
}

/// One decoded scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsiScan<'a> {
    /// SSI bar code type (engine-specific table, §2.4).
    pub code_type: u8,
    /// The decoded data (AIM identifier first if the engine sends it).
    pub data: &'a [u8],
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostEvent<'a> {
    /// The command in flight ended.
    CommandDone(Result<(), CommandError>),
    /// A new scan (duplicates are not reported).
    Scan(SsiScan<'a>),
    /// A packet that is neither an answer nor decode data (EVENT, REPLY_REVISION, PARAM_SEND
    /// from the engine, unknown opcodes).
    Packet(Packet<'a>),
    /// Bytes that formed no packet were skipped.
    Garbage {
        /// Stream offset of the first skipped byte.
        offset: u64,
    },
    /// A multipacket decode was longer than the buffer, or had no bar code type.
    DecodeDropped,
}

/// What to do after a call: send bytes (first) and/or handle an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output<'a> {
    /// Bytes to write to the engine.
    pub send: Option<&'a [u8]>,
    /// The event.
    pub event: Option<HostEvent<'a>>,
}

/// Remembers the last scan (hash and length) to hide repeats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dedup {
    last: Option<(u64, usize, u64)>,
}

impl Dedup {
    fn hash(data: &[u8]) -> u64 {
        // FNV-1a: a repeat check, not security.
        data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    }

    /// Records `data` seen at `now_ms`; true if it repeats the previous scan within `window_ms`.
    /// Each sighting restarts the window, so a code left in front of a continuous-mode engine
    /// stays hidden.
    pub fn is_repeat(&mut self, data: &[u8], now_ms: u64, window_ms: u64) -> bool {
        let key = (Self::hash(data), data.len());
        let repeat = matches!(self.last, Some((h, l, at)) if (h, l) == key && now_ms.saturating_sub(at) < window_ms);
        self.last = Some((key.0, key.1, now_ms));
        repeat
    }

    /// Whether `data` equals the previous scan (regardless of time).
    pub fn same_as_last(&self, data: &[u8]) -> bool {
        matches!(self.last, Some((h, l, _)) if (h, l) == (Self::hash(data), data.len()))
    }
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    opcode: Opcode,
    attempts: u8,
    deadline: u64,
}

/// The sans-io SSI host with an `N`-byte decode buffer.
#[derive(Debug, Clone)]
pub struct SsiHost<const N: usize = 1024> {
    config: HostConfig,
    decoder: SsiDecoder,
    assembler: DecodeAssembler<N>,
    dedup: Dedup,
    /// Last command sent (WAKEUP prefix included if configured), for resends.
    command: [u8; ssi::MAX_PACKET + 1],
    command_len: usize,
    ack: [u8; 6],
    /// Copy of the last other packet, returned as [`HostEvent::Packet`].
    packet: [u8; ssi::MAX_PACKET],
    pending: Option<Pending>,
}

impl<const N: usize> SsiHost<N> {
    /// A host with nothing in flight.
    pub fn new(config: HostConfig) -> Self {
        let mut ack = [0u8; 6];
        let _ = ssi::encode(&Packet::host(Opcode::CmdAck, &[]), &mut ack);
        Self {
            config,
            decoder: SsiDecoder::new(),
            assembler: DecodeAssembler::new(),
            dedup: Dedup::default(),
            command: [0; ssi::MAX_PACKET + 1],
            command_len: 0,
            ack,
            packet: [0; ssi::MAX_PACKET],
            pending: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// With [`HostConfig::wakeup`], the bytes returned by [`Self::command`] start with WAKEUP:
    /// write that byte, wait this long, then write the rest.
    pub fn wake_delay_ms(&self) -> Option<u64> {
        self.config.wakeup.then_some(self.config.wake_delay_ms)
    }

    /// Bytes received but not yet part of a packet.
    pub fn pending_bytes(&self) -> usize {
        self.decoder.pending()
    }

    /// The line has been quiet: a partial packet will never complete. The next
    /// [`Self::receive`] (also with empty input) skips past it and finds the packets behind it.
    pub fn idle(&mut self) {
        self.decoder.idle();
    }

    /// The opcode of the command in flight, if any.
    pub fn in_flight(&self) -> Option<Opcode> {
        self.pending.map(|p| p.opcode)
    }

    /// Starts a command; returns the bytes to send.
    ///
    /// # Errors
    /// [`HostError::Busy`] while another command is in flight; [`HostError::PayloadTooLong`].
    pub fn command(&mut self, opcode: Opcode, payload: &[u8], now_ms: u64) -> Result<&[u8], HostError> {
        self.command_with_status(opcode, 0, payload, now_ms)
    }

    /// As [`Self::command`] with status bits (e.g. [`ssi::STATUS_PERMANENT`] for PARAM_SEND).
    ///
    /// # Errors
    /// As [`Self::command`].
    pub fn command_with_status(
        &mut self,
        opcode: Opcode,
        status: u8,
        payload: &[u8],
        now_ms: u64,
    ) -> Result<&[u8], HostError> {
        if self.pending.is_some() {
            return Err(HostError::Busy);
        }
        let start = usize::from(self.config.wakeup);
        let packet = Packet { opcode, source: Source::Host, status, payload };
        let n = ssi::encode(&packet, self.command.get_mut(start..).unwrap_or(&mut []))
            .map_err(|_| HostError::PayloadTooLong)?;
        if let Some(first) = self.command.first_mut().filter(|_| start == 1) {
            *first = ssi::WAKEUP;
        }
        self.command_len = start + n;
        self.pending =
            Some(Pending { opcode, attempts: 1, deadline: now_ms.saturating_add(self.config.ack_timeout_ms) });
        Ok(self.command.get(..self.command_len).unwrap_or(&[]))
    }

    /// When [`Self::poll`] must be called (the ACK deadline of the command in flight).
    pub fn deadline(&self) -> Option<u64> {
        self.pending.map(|p| p.deadline)
    }

    /// Marks the command for resending with the retransmit bit; returns the bytes.
    fn resend(&mut self, now_ms: u64) -> Option<&[u8]> {
        let start = usize::from(self.config.wakeup);
        let pending = self.pending.as_mut()?;
        pending.attempts += 1;
        pending.deadline = now_ms.saturating_add(self.config.ack_timeout_ms);
        // Set the retransmit bit and fix the checksum.
        let body_len = usize::from(*self.command.get(start)?);
        if let Some(status) = self.command.get_mut(start + 3) {
            *status |= STATUS_RETRANSMIT;
        }
        let ck = ssi::checksum(self.command.get(start..start + body_len)?);
        self.command.get_mut(start + body_len..start + body_len + 2)?.copy_from_slice(&ck.to_be_bytes());
        self.command.get(..self.command_len)
    }

    /// Handles the ACK deadline at `now_ms`: resend, or give up.
    pub fn poll(&mut self, now_ms: u64) -> Option<Output<'_>> {
        let pending = self.pending?;
        if now_ms < pending.deadline {
            return None;
        }
        if pending.attempts > self.config.retries {
            self.pending = None;
            let event = HostEvent::CommandDone(Err(CommandError::Timeout { attempts: pending.attempts }));
            return Some(Output { send: None, event: Some(event) });
        }
        let send = self.resend(now_ms);
        Some(Output { send, event: None })
    }

    /// Consumes received bytes until something happens; `None` when `input` is used up.
    pub fn receive<'s>(&'s mut self, input: &mut &[u8], now_ms: u64) -> Option<Output<'s>> {
        loop {
            // Decide with owned values first, so that no borrow of the decoder outlives the
            // decision (what is returned is copied into `packet` or kept by the assembler).
            let step = match self.decoder.feed(input)? {
                Event::Rejected { offset, .. } => Step::Garbage(offset),
                Event::Frame { frame: packet, .. } => match packet.opcode {
                    Opcode::CmdAck | Opcode::CmdNak => Step::Answer(packet.nak_cause()),
                    Opcode::DecodeData => Step::Decode {
                        result: self.assembler.push(&packet).map(|d| d.map(|d| d.code_type)),
                        retransmit: packet.is_retransmit(),
                        last: !packet.is_continued(),
                    },
                    opcode => {
                        let len = ssi::encode(&packet, &mut self.packet).unwrap_or(0);
                        Step::Packet { len, ack: opcode != Opcode::ReplyRevision }
                    }
                },
            };
            match step {
                Step::Garbage(offset) => {
                    return Some(Output { send: None, event: Some(HostEvent::Garbage { offset }) });
                }
                Step::Answer(nak) => {
                    let Some(pending) = self.pending else { continue };
                    match nak {
                        None => {
                            self.pending = None;
                            return Some(Output { send: None, event: Some(HostEvent::CommandDone(Ok(()))) });
                        }
                        Some(NakCause::Resend) if pending.attempts <= self.config.retries => {
                            let send = self.resend(now_ms);
                            return Some(Output { send, event: None });
                        }
                        Some(cause) => {
                            self.pending = None;
                            let event = HostEvent::CommandDone(Err(CommandError::Nak(cause)));
                            return Some(Output { send: None, event: Some(event) });
                        }
                    }
                }
                Step::Decode { result, retransmit, last } => {
                    // Decide with owned values; borrow only on the returning path.
                    let report = match result {
                        Ok(Some(code_type)) => {
                            let data = self.assembler.completed();
                            let repeat = if retransmit && self.dedup.same_as_last(data) {
                                // Our ACK was late: the engine resent the same decode (§2.3).
                                let _ = self.dedup.is_repeat(data, now_ms, u64::MAX);
                                true
                            } else {
                                self.dedup.is_repeat(data, now_ms, self.config.dedup_window_ms)
                            };
                            (!repeat).then_some(Some(code_type))
                        }
                        Ok(None) => None,
                        Err(_) => Some(None),
                    };
                    if !last && report.is_none() {
                        continue;
                    }
                    // ACK the last packet of a message (guide option 2): the engine waits for
                    // it and resends the decode without it (§2.3).
                    let send = last.then_some(&self.ack[..]);
                    let event = report.map(|r| match r {
                        Some(code_type) => HostEvent::Scan(SsiScan { code_type, data: self.assembler.completed() }),
                        None => HostEvent::DecodeDropped,
                    });
                    return Some(Output { send, event });
                }
                Step::Packet { len, ack } => {
                    let event =
                        self.packet.get(..len).and_then(|b| ssi::parse(b).ok()).map(|(p, _)| HostEvent::Packet(p));
                    // Never ACK REPLY_REVISION (§2.2 table: reply has no ACK).
                    return Some(Output { send: ack.then_some(&self.ack[..]), event });
                }
            }
        }
    }
}

enum Step {
    Garbage(u64),
    Answer(Option<NakCause>),
    Decode { result: Result<Option<u8>, ssi::AssembleError>, retransmit: bool, last: bool },
    Packet { len: usize, ack: bool },
}
