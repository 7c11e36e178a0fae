//! The simulated module's TCP sockets, Quectel dialect (`QI*` in buffer access mode, reference
//! §2.7), with an in-process scriptable peer per connection.
//!
//! `AT+QIOPEN` answers `OK` then `+QIOPEN: <id>,<err>`; `AT+QISEND=<id>,<len>` reads exactly
//! `<len>` bytes after its `>` prompt and answers `SEND OK` (or a scripted `SEND FAIL`, or
//! `ERROR` when the connection is gone); data from the peer waits in the module and is announced
//! by one `+QIURC: "recv",<id>`, with no further URC until it was read empty (§1.9);
//! `AT+QIRD=<id>,<n>` answers `+QIRD: <m>` and the `m` raw bytes; a peer close gives
//! `+QIURC: "closed",<id>`; `AT+QICLOSE=<id>` frees the id.
//!
//! The SIMCom dialect (§2.8, manual receive) answers `AT+CIPRXGET=1`, `AT+CIPOPEN` (`OK`, then
//! `+CIPOPEN: <link>,<err>`, 2 when the network is not open), `AT+CIPSEND` (`OK`, then
//! `+CIPSEND: <link>,<len>,<len>`, or `<cnf>` −1 when the link is broken or a failure is
//! scripted), `+CIPRXGET: 1,<link>` then `AT+CIPRXGET=2,<link>,<n>`, `+IPCLOSE: <link>,1` and
//! `AT+CIPCLOSE` (`+CIPCLOSE: <link>,0`).
//!
//! The peer records what it received and either echoes it back or stays silent; the test pushes
//! data and closes through [`super::Sim`].

use super::answer::{Answer, DataInput, Sink, num, params, text};
use std::collections::BTreeMap;
use std::string::String;
use std::vec::Vec;

/// Delay of `+QIOPEN` after `OK` *(the real delay depends on the network; any value works)*.
const OPEN_RESULT_MS: u64 = 50;
/// Delay of the SIMCom results after `OK` (`+CIPSEND`, `+CIPCLOSE`).
const RESULT_MS: u64 = 10;
/// `<err>` for an id in use (reference §2.7: 563 socket identity has been used).
const ERR_ID_USED: i64 = 563;

/// One connection as the module sees it.
#[derive(Debug, Default)]
pub(crate) struct Conn {
    pub host: String,
    pub port: u16,
    /// The peer has not closed it.
    pub connected: bool,
    /// Received from the peer, not read yet.
    pub unread: Vec<u8>,
    /// A `recv` URC was sent and the buffer has not been read empty since.
    pub announced: bool,
    /// Everything the peer received.
    pub peer_received: Vec<u8>,
}

/// Module-side socket state.
#[derive(Debug, Default)]
pub(crate) struct Sockets {
    pub conns: BTreeMap<u8, Conn>,
    /// The peer sends back what it receives.
    pub echo: bool,
    /// `SEND FAIL` for this many next sends.
    pub fail_sends: u8,
    /// `<err>` of the next `+QIOPEN`.
    pub refuse_next: Option<u16>,
    /// The connection whose `AT+QISEND`/`AT+CIPSEND` data is being read.
    pub sending: Option<u8>,
    /// SIMCom URCs and send results instead of Quectel ones.
    pub simcom: bool,
}

impl Sockets {
    /// The Quectel socket commands; `None` for other commands. `pdp_active` tells whether a
    /// context is up (opening needs one).
    pub(crate) fn quectel(&mut self, upper: &[u8], line: &[u8], pdp_active: bool) -> Option<Answer> {
        self.simcom = false;
        let p = params(line);
        let id = num(&p, 0).and_then(|i| u8::try_from(i).ok()).unwrap_or(u8::MAX);
        if upper.starts_with(b"AT+QIOPEN=") {
            let cid = num(&p, 1).and_then(|i| u8::try_from(i).ok()).filter(|i| *i <= 11);
            let (Some(cid), Some(kind), Some(host), Some(port)) =
                (cid, text(&p, 2), text(&p, 3), num(&p, 4).and_then(|n| u16::try_from(n).ok()))
            else {
                return Some(Answer::error());
            };
            if !pdp_active || kind != "TCP" || num(&p, 6) != Some(0) {
                return Some(Answer::error());
            }
            let err = if self.conns.contains_key(&cid) {
                ERR_ID_USED
            } else if let Some(err) = self.refuse_next.take() {
                i64::from(err)
            } else {
                self.conns.insert(cid, Conn { host, port, connected: true, ..Conn::default() });
                0
            };
            return Some(Answer::ok_then(OPEN_RESULT_MS, format!("+QIOPEN: {cid},{err}").into_bytes()));
        }
        if upper.starts_with(b"AT+QISEND=") {
            let len = num(&p, 1).and_then(|n| usize::try_from(n).ok());
            let Some(conn) = self.conns.get(&id) else { return Some(Answer::error()) };
            return Some(match len {
                // `AT+QISEND=<id>,0`: +QISEND: <total_sent>,<acked>,<unacked> (§2.7).
                Some(0) => {
                    let n = conn.peer_received.len();
                    Answer::lines(vec![format!("+QISEND: {n},{n},0").into_bytes(), b"OK".to_vec()])
                }
                // reference §6.2: 1460 bytes per send at most.
                Some(n) if conn.connected && n <= 1460 => {
                    self.sending = Some(id);
                    Answer::prompt(DataInput::Counted(n), Sink::Socket)
                }
                _ => Answer::error(),
            });
        }
        if upper.starts_with(b"AT+QIRD=") {
            let want = num(&p, 1).and_then(|n| usize::try_from(n).ok());
            let Some(conn) = self.conns.get_mut(&id) else { return Some(Answer::error()) };
            return Some(match want {
                Some(0) | None => Answer::error(),
                Some(want) => {
                    let take = want.min(conn.unread.len()).min(1500);
                    let data: Vec<u8> = conn.unread.drain(..take).collect();
                    if conn.unread.is_empty() {
                        conn.announced = false;
                    }
                    // reference §1.9: `+QIRD: <m>` CR LF, then the m raw bytes, then CR LF.
                    let mut head = format!("+QIRD: {take}").into_bytes();
                    if take > 0 {
                        head.extend_from_slice(b"\r\n");
                        head.extend_from_slice(&data);
                    }
                    Answer::lines(vec![head, b"OK".to_vec()])
                }
            });
        }
        if upper.starts_with(b"AT+QICLOSE=") {
            return Some(if self.conns.remove(&id).is_some() { Answer::ok() } else { Answer::error() });
        }
        None
    }

    /// The data after a send prompt; returns the answer and the URC lines of an echo.
    pub(crate) fn data(&mut self, data: Vec<u8>) -> (Answer, Vec<Vec<u8>>) {
        let Some(id) = self.sending.take() else { return (Answer::error(), Vec::new()) };
        let len = data.len();
        let failed = if self.fail_sends > 0 {
            self.fail_sends -= 1;
            true
        } else {
            !self.conns.get(&id).is_some_and(|c| c.connected)
        };
        if failed {
            // §2.7 `SEND FAIL`; §2.8 `<cnfSendLength>` −1: link broken.
            return if self.simcom {
                (Answer::ok_then(RESULT_MS, format!("+CIPSEND: {id},{len},-1").into_bytes()), Vec::new())
            } else {
                (Answer::lines(vec![b"SEND FAIL".to_vec()]), Vec::new())
            };
        }
        let echo = self.echo;
        let Some(conn) = self.conns.get_mut(&id) else { return (Answer::error(), Vec::new()) };
        conn.peer_received.extend_from_slice(&data);
        let urcs = if echo { self.peer_sends(id, &data) } else { Vec::new() };
        if self.simcom {
            (Answer::ok_then(RESULT_MS, format!("+CIPSEND: {id},{len},{len}").into_bytes()), urcs)
        } else {
            (Answer::lines(vec![b"SEND OK".to_vec()]), urcs)
        }
    }

    /// The SIMCom socket commands (manual receive, §2.8); `None` for other commands.
    pub(crate) fn simcom(&mut self, upper: &[u8], line: &[u8], pdp_active: bool) -> Option<Answer> {
        self.simcom = true;
        let p = params(line);
        let first = num(&p, 0).and_then(|i| u8::try_from(i).ok()).unwrap_or(u8::MAX);
        if upper.starts_with(b"AT+CIPOPEN=") {
            let (Some(kind), Some(host), Some(port)) =
                (text(&p, 1), text(&p, 2), num(&p, 3).and_then(|n| u16::try_from(n).ok()))
            else {
                return Some(Answer::error());
            };
            if kind != "TCP" || first > 9 || self.conns.contains_key(&first) {
                return Some(Answer::error());
            }
            let err = if !pdp_active {
                2 // network not opened (§2.8)
            } else if let Some(err) = self.refuse_next.take() {
                err
            } else {
                self.conns.insert(first, Conn { host, port, connected: true, ..Conn::default() });
                0
            };
            return Some(Answer::ok_then(OPEN_RESULT_MS, format!("+CIPOPEN: {first},{err}").into_bytes()));
        }
        if upper.starts_with(b"AT+CIPSEND=") {
            let len = num(&p, 1).and_then(|n| usize::try_from(n).ok()).filter(|n| (1..=1460).contains(n));
            return Some(match (self.conns.contains_key(&first), len) {
                (true, Some(n)) => {
                    self.sending = Some(first);
                    Answer::prompt(DataInput::Counted(n), Sink::Socket)
                }
                _ => Answer::error(),
            });
        }
        if upper.starts_with(b"AT+CIPRXGET=") {
            let id = num(&p, 1).and_then(|i| u8::try_from(i).ok()).unwrap_or(u8::MAX);
            return Some(match first {
                1 => Answer::ok(),
                2 => {
                    let want = num(&p, 2).and_then(|n| usize::try_from(n).ok()).filter(|n| *n > 0);
                    let (Some(conn), Some(want)) = (self.conns.get_mut(&id), want) else {
                        return Some(Answer::error());
                    };
                    let take = want.min(conn.unread.len()).min(1500);
                    let data: Vec<u8> = conn.unread.drain(..take).collect();
                    let rest = conn.unread.len();
                    if rest == 0 {
                        conn.announced = false;
                    }
                    // §1.9: `+CIPRXGET: 2,<link>,<read>,<rest>` CR LF, then the raw bytes.
                    let mut head = format!("+CIPRXGET: 2,{id},{take},{rest}").into_bytes();
                    if take > 0 {
                        head.extend_from_slice(b"\r\n");
                        head.extend_from_slice(&data);
                    }
                    Answer::lines(vec![head, b"OK".to_vec()])
                }
                _ => Answer::error(),
            });
        }
        if upper.starts_with(b"AT+CIPCLOSE=") {
            return Some(if self.conns.remove(&first).is_some() {
                Answer::ok_then(RESULT_MS, format!("+CIPCLOSE: {first},0").into_bytes())
            } else {
                Answer::error()
            });
        }
        None
    }

    /// The peer sends `data` on connection `id`; returns the `recv` URC line when one is due.
    pub(crate) fn peer_sends(&mut self, id: u8, data: &[u8]) -> Vec<Vec<u8>> {
        let Some(conn) = self.conns.get_mut(&id).filter(|c| c.connected) else { return Vec::new() };
        conn.unread.extend_from_slice(data);
        if conn.announced || conn.unread.is_empty() {
            return Vec::new();
        }
        conn.announced = true;
        if self.simcom {
            vec![format!("+CIPRXGET: 1,{id}").into_bytes()]
        } else {
            vec![format!("+QIURC: \"recv\",{id}").into_bytes()]
        }
    }

    /// The peer closes connection `id`; returns the `closed` URC line.
    pub(crate) fn peer_close(&mut self, id: u8) -> Vec<Vec<u8>> {
        match self.conns.get_mut(&id) {
            Some(conn) if conn.connected => {
                conn.connected = false;
                if self.simcom {
                    // §2.8 `<reason>` 1: closed by the remote side.
                    vec![format!("+IPCLOSE: {id},1").into_bytes()]
                } else {
                    vec![format!("+QIURC: \"closed\",{id}").into_bytes()]
                }
            }
            _ => Vec::new(),
        }
    }
}
