//! The AT framer: bytes in, lines, prompts and counted payloads out (sans-io, no heap).
//!
//! The framer is a mode-aware state machine (reference §6.1), fed one byte at a time, so its
//! output cannot depend on how the UART delivered the bytes:
//!
//! - **Lines.** `\r`, `\n` or any mix of them (`\r\n`, `\r\r\n` after an echo, bare `\n` in the
//!   gammu dumps, bare `\r` after an echoed command) end a line; empty lines are skipped, so a
//!   missing leading CRLF does not matter (reference §1.2). NUL bytes outside payloads are dropped
//!   and counted (garbage at power-up).
//! - **Prompt.** After [`Framer::expect_prompt`], a `>` (or `@` for u-blox) at the start of a
//!   line is reported at once, without waiting for a line end that never comes; one following
//!   space is swallowed (reference §1.8). Outside that mode `>` is ordinary text, so payload
//!   bytes `> ` are never mistaken for a prompt (vector digest-010).
//! - **Counted payloads.** A header line that announces a length-prefixed payload switches the
//!   framer to counting (reference §1.9): `+QIRD: <n>`, `+QIURC: "recv",<id>,<n>`,
//!   `+CIPRXGET: 2,<link>,<n>,<rest>`, `+CMQTTRXTOPIC: <c>,<n>`, `+CMQTTRXPAYLOAD: <c>,<n>`,
//!   `+RECEIVE,<link>,<n>`. The next `n` bytes are delivered as [`Event::Data`] whatever they
//!   hold (`OK`, quotes, CR LF, `>`). Inline payloads on the line itself are counted too:
//!   `+QMTRECV: <idx>,<msgid>,"<topic>",<len>,"<payload>"` (vector qmt-001, payload with quotes)
//!   and `+CARECV: <len>,<data>`, which stay one [`Event::Line`].
//! - **Bounded.** A line longer than `N` bytes is reported as [`Event::Overflow`] with its first
//!   `N` bytes and its full length; the framer resynchronises at the next line end, so the
//!   following lines are intact. Payloads longer than `N` come out in chunks of at most `N`; a
//!   header announcing more than [`MAX_PAYLOAD`] bytes is treated as a plain line.

use crate::params::{Field, Fields, after_prefix, parse_dec};

/// What the framer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A complete, non-empty line without its terminator.
    Line(&'a [u8]),
    /// The data prompt (`>` or `@`) the pending command asked for.
    Prompt(u8),
    /// A chunk of a counted payload; `remaining` bytes of it are still to come (0 on the last).
    Data {
        /// The payload bytes of this chunk.
        bytes: &'a [u8],
        /// Bytes of the payload still to come.
        remaining: usize,
    },
    /// A line longer than the buffer: its first bytes and its full length. Nothing after it is
    /// lost.
    Overflow {
        /// The first `N` bytes of the line.
        head: &'a [u8],
        /// The length of the whole line.
        len: usize,
    },
}

/// Counters kept by the framer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FramerStats {
    /// Lines delivered.
    pub lines: u32,
    /// Lines too long for the buffer.
    pub overflows: u32,
    /// NUL bytes dropped outside payloads.
    pub nuls: u32,
    /// Payload bytes delivered.
    pub payload_bytes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting a line.
    Line,
    /// Inside a line, `remaining` raw bytes of an inline payload.
    Inline { remaining: usize },
    /// After a header line ended by `\r`: skip one `\n`, then count.
    SkipLf { remaining: usize },
    /// Counting payload bytes.
    Count { remaining: usize },
    /// Just after a prompt: one space is swallowed.
    AfterPrompt,
}

/// The AT framer with a buffer of `N` bytes (line length and payload chunk size).
///
/// ```
/// use modem::framer::{Event, Framer};
/// let mut framer = Framer::<64>::new();
/// let mut lines = Vec::new();
/// for &b in b"AT+CSQ\r\r\n+CSQ: 19,99\r\n\r\nOK\r\n" {
///     if let Some(Event::Line(line)) = framer.push(b) {
///         lines.push(String::from_utf8_lossy(line).into_owned());
///     }
/// }
/// assert_eq!(lines, ["AT+CSQ", "+CSQ: 19,99", "OK"]);
/// ```
#[derive(Debug, Clone)]
pub struct Framer<const N: usize> {
    buf: [u8; N],
    len: usize,
    total: usize,
    clear: bool,
    state: State,
    prompt: Option<u8>,
    stats: FramerStats,
}

impl<const N: usize> Default for Framer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Framer<N> {
    /// A framer in line mode with an empty buffer.
    pub const fn new() -> Self {
        Framer {
            buf: [0; N],
            len: 0,
            total: 0,
            clear: false,
            state: State::Line,
            prompt: None,
            stats: FramerStats { lines: 0, overflows: 0, nuls: 0, payload_bytes: 0 },
        }
    }

    /// Arms prompt detection: the next `prompt` byte at the start of a line is reported as
    /// [`Event::Prompt`] (`b'>'` for 27.005 and Quectel/SIMCom, `b'@'` for u-blox `+USOWR`).
    pub fn expect_prompt(&mut self, prompt: u8) {
        self.prompt = Some(prompt);
    }

    /// Disarms prompt detection (the command finished or was cancelled).
    pub fn cancel_prompt(&mut self) {
        self.prompt = None;
    }

    /// True while prompt detection is armed.
    pub fn prompt_armed(&self) -> bool {
        self.prompt.is_some()
    }

    /// True while the framer is counting payload bytes (inline or after a header).
    pub fn in_payload(&self) -> bool {
        matches!(self.state, State::Inline { .. } | State::SkipLf { .. } | State::Count { .. })
    }

    /// Counters since creation.
    pub fn stats(&self) -> FramerStats {
        self.stats
    }

    /// Forgets any partial line or payload (after a module reset or a resync).
    pub fn reset(&mut self) {
        self.len = 0;
        self.total = 0;
        self.clear = false;
        self.state = State::Line;
        self.prompt = None;
    }

    /// Ends the input: a pending line without terminator is delivered as a line (a capture with
    /// no line ending is one line), or as [`Event::Overflow`] if it was too long.
    pub fn flush(&mut self) -> Option<Event<'_>> {
        if self.clear {
            self.clear = false;
            self.len = 0;
            self.total = 0;
        }
        match self.state {
            State::Line | State::Inline { .. } if self.total > 0 => {
                self.state = State::Line;
                self.clear = true;
                Some(self.line_event())
            }
            _ => None,
        }
    }

    fn line_event(&mut self) -> Event<'_> {
        let head = self.buf.get(..self.len).unwrap_or(&[]);
        if self.total > self.len {
            self.stats.overflows += 1;
            Event::Overflow { head, len: self.total }
        } else {
            self.stats.lines += 1;
            Event::Line(head)
        }
    }

    fn store(&mut self, byte: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
        self.total += 1;
    }

    /// Feeds one byte; returns what it completed, if anything.
    pub fn push(&mut self, byte: u8) -> Option<Event<'_>> {
        if self.clear {
            self.clear = false;
            self.len = 0;
            self.total = 0;
        }
        let mut state = self.state;
        if let State::AfterPrompt = state {
            self.state = State::Line;
            if byte == b' ' {
                return None;
            }
            state = State::Line;
        }
        if let State::SkipLf { remaining } = state {
            self.state = State::Count { remaining };
            if byte == b'\n' {
                return None;
            }
            state = self.state;
        }
        match state {
            State::Count { remaining } => {
                self.store(byte);
                self.stats.payload_bytes += 1;
                let remaining = remaining.saturating_sub(1);
                self.state = if remaining == 0 { State::Line } else { State::Count { remaining } };
                if remaining == 0 || self.len >= N {
                    self.clear = true;
                    return Some(Event::Data { bytes: self.buf.get(..self.len).unwrap_or(&[]), remaining });
                }
                None
            }
            State::Inline { remaining } => {
                self.store(byte);
                self.stats.payload_bytes += 1;
                let remaining = remaining.saturating_sub(1);
                self.state = if remaining == 0 { State::Line } else { State::Inline { remaining } };
                None
            }
            _ => self.push_line(byte),
        }
    }

    fn push_line(&mut self, byte: u8) -> Option<Event<'_>> {
        match byte {
            0 => {
                self.stats.nuls += 1;
                None
            }
            b'\r' | b'\n' => {
                if self.total == 0 {
                    return None;
                }
                if self.total == self.len
                    && let Some(n) = counted_payload(self.buf.get(..self.len).unwrap_or(&[])).filter(|&n| n > 0)
                {
                    self.state =
                        if byte == b'\r' { State::SkipLf { remaining: n } } else { State::Count { remaining: n } };
                }
                self.clear = true;
                Some(self.line_event())
            }
            _ if self.total == 0 && self.prompt == Some(byte) => {
                self.prompt = None;
                self.state = State::AfterPrompt;
                Some(Event::Prompt(byte))
            }
            _ => {
                self.store(byte);
                // ESP-AT headers whose payload follows on the same line: `+IPD,...:<data>` and
                // `+MQTTSUBRECV:<link>,"<topic>",<len>,<data>` (ESP-AT.md §4, §6).
                if (byte == b':' || byte == b',')
                    && self.total == self.len
                    && let Some(n) = esp_header(self.buf.get(..self.len).unwrap_or(&[]), byte).filter(|&n| n > 0)
                {
                    self.state = State::Count { remaining: n };
                    self.clear = true;
                    return Some(self.line_event());
                }
                if (byte == b'"' || byte == b',')
                    && self.total == self.len
                    && let Some(n) = inline_payload(self.buf.get(..self.len).unwrap_or(&[]), byte).filter(|&n| n > 0)
                {
                    self.state = State::Inline { remaining: n };
                }
                None
            }
        }
    }
}

/// The longest payload a header may announce. A larger length is taken as corruption and the
/// header as an ordinary line, so one damaged digit cannot swallow kilobytes of replies
/// (reference §1.9: "reject/clip lengths above the buffer capacity"). Quectel `+QIRD` and
/// SIMCom `+CIPRXGET` read at most 1500 bytes; 10 KiB leaves room for on-module MQTT payloads
/// *(inference)*.
pub const MAX_PAYLOAD: usize = 10 * 1024;

/// The length of the payload that follows a header line (reference §1.9), if `line` is one and
/// the length is at most [`MAX_PAYLOAD`].
pub fn counted_payload(line: &[u8]) -> Option<usize> {
    header_payload(line).filter(|&n| n <= MAX_PAYLOAD)
}

fn header_payload(line: &[u8]) -> Option<usize> {
    let mut fields: [Option<u32>; 4] = [None; 4];
    let count_into = |start: usize, fields: &mut [Option<u32>; 4], quoted_first: Option<&[u8]>| -> Option<usize> {
        let mut n = 0;
        for (i, field) in Fields::new(line, start).enumerate() {
            let field = field.ok()?;
            if i == 0
                && let Some(word) = quoted_first
            {
                if !(field.is_quoted() && field.text() == word) {
                    return None;
                }
                n += 1;
                continue;
            }
            *fields.get_mut(i)? = Some(parse_dec(field.text())?);
            n += 1;
        }
        Some(n)
    };
    let value = |fields: &[Option<u32>; 4], i: usize| fields.get(i).copied().flatten().map(|v| v as usize);
    if let Some(start) = after_prefix(line, b"+QIRD") {
        // `+QIRD: <n>` carries data; `+QIRD: <total>,<read>,<unread>` (AT+QIRD=<id>,0) does not.
        return (count_into(start, &mut fields, None)? == 1).then(|| value(&fields, 0)).flatten();
    }
    if let Some(start) = after_prefix(line, b"+QIURC") {
        return (count_into(start, &mut fields, Some(b"recv"))? == 3).then(|| value(&fields, 2)).flatten();
    }
    if let Some(start) = after_prefix(line, b"+CIPRXGET") {
        let n = count_into(start, &mut fields, None)?;
        return (n >= 3 && value(&fields, 0) == Some(2)).then(|| value(&fields, 2)).flatten();
    }
    for prefix in [&b"+CMQTTRXTOPIC"[..], b"+CMQTTRXPAYLOAD"] {
        if let Some(start) = after_prefix(line, prefix) {
            return (count_into(start, &mut fields, None)? == 2).then(|| value(&fields, 1)).flatten();
        }
    }
    if line.starts_with(b"+RECEIVE,") {
        return (count_into(9, &mut fields, None)? == 2).then(|| value(&fields, 1)).flatten();
    }
    None
}

/// The length of the ESP-AT payload that follows `line` (whose last byte is `last`) on the same
/// line, at most [`MAX_PAYLOAD`]:
///
/// - `+IPD,<len>:`, `+IPD,<link>,<len>:`, and with `AT+CIPDINFO=1` `+IPD,<len>,"<ip>",<port>:`
///   or `+IPD,<link>,<len>,"<ip>",<port>:` (ESP-AT TCP/IP AT Commands, `+IPD`; ESP-AT.md §4). A
///   colon inside the quoted address (IPv6) is not the end of the header: the quote is still open.
/// - `+MQTTSUBRECV:<link>,"<topic>",<len>,` (MQTT AT Commands, `AT+MQTTSUB`; ESP-AT.md §6).
///
/// `line` must end with `last`. The passive-mode notice `+IPD,<link>,<len>` has no colon and stays
/// an ordinary line.
pub fn esp_header(line: &[u8], last: u8) -> Option<usize> {
    let (&end, head) = line.split_last()?;
    if end != last {
        return None;
    }
    let mut fields: [Option<Field<'_>>; 5] = [None; 5];
    let mut count = 0;
    fn collect<'a>(head: &'a [u8], start: usize, fields: &mut [Option<Field<'a>>; 5], count: &mut usize) -> Option<()> {
        for field in Fields::new(head, start) {
            *fields.get_mut(*count)? = Some(field.ok()?);
            *count += 1;
        }
        Some(())
    }
    let dec = |f: Option<Field<'_>>| f.filter(|f| !f.is_quoted()).and_then(|f| parse_dec(f.text()));
    let len = if last == b':' && head.starts_with(b"+IPD,") {
        collect(head, 5, &mut fields, &mut count)?;
        let [a, b, c, d, _] = fields;
        match count {
            1 => dec(a),
            2 => dec(a).and(dec(b)),
            3 => c.filter(|_| b.is_some_and(|b| b.is_quoted())).and(dec(c)).and(dec(a)),
            4 => d.filter(|_| c.is_some_and(|c| c.is_quoted())).and(dec(d)).and(dec(a)).and(dec(b)),
            _ => None,
        }
    } else if last == b',' {
        let start = after_prefix(head, b"+MQTTSUBRECV")?;
        collect(head, start, &mut fields, &mut count)?;
        let [a, b, c, _, _] = fields;
        (count == 3 && b.is_some_and(|b| b.is_quoted())).then_some(())?;
        dec(a).and(dec(c))
    } else {
        None
    }?;
    Some(len as usize).filter(|&n| n <= MAX_PAYLOAD)
}

/// The length of an inline payload that starts right after `line` (whose last byte is `last`):
/// `+QMTRECV: <idx>,<msgid>,"<topic>",<len>,"` or `+CARECV: <len>,`.
fn inline_payload(line: &[u8], last: u8) -> Option<usize> {
    if last == b'"' {
        let start = after_prefix(line, b"+QMTRECV")?;
        let head = line.get(..line.len().checked_sub(2)?)?;
        if line.get(line.len().checked_sub(2)?) != Some(&b',') {
            return None;
        }
        let mut fields = Fields::new(head, start);
        fields.next()?.ok()?.dec("client_idx").ok()?;
        fields.next()?.ok()?.dec("msg_id").ok()?;
        if !fields.next()?.ok()?.is_quoted() {
            return None;
        }
        let len = fields.next()?.ok()?.dec("payload_len").ok()?;
        return fields.next().is_none().then_some(len as usize).filter(|&n| n <= MAX_PAYLOAD);
    }
    let start = after_prefix(line, b"+CARECV")?;
    let head = line.get(..line.len().checked_sub(1)?)?;
    let mut fields = Fields::new(head, start);
    let len = fields.next()?.ok()?.dec("len").ok()?;
    fields.next().is_none().then_some(len as usize).filter(|&n| n <= MAX_PAYLOAD)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    enum Owned {
        Line(Vec<u8>),
        Prompt(u8),
        Data(Vec<u8>, usize),
        Overflow(Vec<u8>, usize),
    }

    fn run<const N: usize>(framer: &mut Framer<N>, input: &[u8]) -> Vec<Owned> {
        let mut out = Vec::new();
        for &b in input {
            if let Some(e) = framer.push(b) {
                out.push(match e {
                    Event::Line(l) => Owned::Line(l.to_vec()),
                    Event::Prompt(p) => Owned::Prompt(p),
                    Event::Data { bytes, remaining } => Owned::Data(bytes.to_vec(), remaining),
                    Event::Overflow { head, len } => Owned::Overflow(head.to_vec(), len),
                });
            }
        }
        out
    }

    fn line(s: &str) -> Owned {
        Owned::Line(s.as_bytes().to_vec())
    }

    #[test]
    fn payload_with_prompt_bytes_is_data() {
        // vector digest-010: the 2 payload bytes are "> ".
        let mut f = Framer::<64>::new();
        let out = run(&mut f, b"\r\n+CIPRXGET: 2,0,2,0\r\n> \r\nOK\r\n");
        assert_eq!(out, vec![line("+CIPRXGET: 2,0,2,0"), Owned::Data(b"> ".to_vec(), 0), line("OK")]);
        // Incomplete prefix: no prompt, no data yet.
        let mut f = Framer::<64>::new();
        f.expect_prompt(b'>');
        let out = run(&mut f, b"\r\n+CIPRXGET: 2,0,2,0\r\n>");
        assert_eq!(out, vec![line("+CIPRXGET: 2,0,2,0")]);
    }

    #[test]
    fn payload_containing_ok_and_crlf() {
        let mut f = Framer::<9>::new();
        let out = run(&mut f, b"+QIRD: 10\r\nab\r\nOK\r\nxy\r\n\r\nOK\r\n");
        assert_eq!(
            out,
            vec![
                line("+QIRD: 10"),
                Owned::Data(b"ab\r\nOK\r\nx".to_vec(), 1),
                Owned::Data(b"y".to_vec(), 0),
                line("OK")
            ]
        );
    }

    #[test]
    fn absurd_lengths_are_not_payloads() {
        let mut f = Framer::<64>::new();
        let out = run(&mut f, b"+QIRD: 99999\r\nOK\r\n+CARECV: 99999,x\r\n");
        assert_eq!(out, vec![line("+QIRD: 99999"), line("OK"), line("+CARECV: 99999,x")]);
        assert_eq!(counted_payload(b"+QIRD: 10240"), Some(MAX_PAYLOAD));
    }

    #[test]
    fn qird_status_form_has_no_payload() {
        let mut f = Framer::<64>::new();
        let out = run(&mut f, b"+QIRD: 10,5,5\r\nOK\r\n");
        assert_eq!(out, vec![line("+QIRD: 10,5,5"), line("OK")]);
    }

    #[test]
    fn inline_qmtrecv_payload_may_hold_quotes_and_crlf() {
        // vector qmt-001 (payload with quotes), plus a payload with CR LF.
        let mut f = Framer::<128>::new();
        let out = run(&mut f, b"+QMTRECV: 1,0,\"t\",6,\"a\"\r\nb\"\"\r\nOK\r\n");
        assert_eq!(out, vec![line("+QMTRECV: 1,0,\"t\",6,\"a\"\r\nb\"\""), line("OK")]);
    }

    #[test]
    fn prompt_only_when_armed_and_at_line_start() {
        let mut f = Framer::<64>::new();
        assert_eq!(run(&mut f, b"\r\n> "), vec![]);
        assert_eq!(f.flush(), Some(Event::Line(b"> ")));
        let mut f = Framer::<64>::new();
        f.expect_prompt(b'>');
        assert_eq!(run(&mut f, b"AT+CMGS=\"1\"\r\r\n> "), vec![line("AT+CMGS=\"1\""), Owned::Prompt(b'>')]);
        assert!(!f.prompt_armed());
        // vector digest-006: u-blox '@' prompt right after the echo's CR.
        let mut f = Framer::<64>::new();
        f.expect_prompt(b'@');
        assert_eq!(run(&mut f, b"AT+USOWR=3,16\r@"), vec![line("AT+USOWR=3,16"), Owned::Prompt(b'@')]);
    }

    #[test]
    fn overflow_keeps_following_lines() {
        let mut f = Framer::<4>::new();
        let out = run(&mut f, b"\r\n+CSQ: 19,99\r\nOK\r\n");
        assert_eq!(out, vec![Owned::Overflow(b"+CSQ".to_vec(), 11), line("OK")]);
        assert_eq!(f.stats().overflows, 1);
    }

    #[test]
    fn nuls_and_line_endings() {
        let mut f = Framer::<64>::new();
        let out = run(&mut f, b"\0\0\xff\r\nRDY\nOK\rX");
        assert_eq!(out, vec![Owned::Line(vec![0xff]), line("RDY"), line("OK")]);
        assert_eq!(f.stats().nuls, 2);
        assert_eq!(f.flush(), Some(Event::Line(b"X")));
        assert_eq!(f.flush(), None);
    }
}
