//! What a command handler of the simulator answers: lines now, results later, or a data prompt.

use std::vec::Vec;

/// How the module reads the data after its `>` prompt (reference §1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataInput {
    /// Exactly this many bytes (`AT+QMTPUBEX`, `AT+CMQTTTOPIC`, ...).
    Counted(usize),
    /// Until Ctrl-Z (0x1A); ESC (0x1B) aborts (`AT+CMGS`, `AT+QMTPUB`).
    CtrlZ,
}

/// Which handler receives the data after a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sink {
    Mqtt,
    Sms,
    Socket,
}

/// A command's answer.
#[derive(Debug, Default)]
pub(crate) struct Answer {
    /// Information lines and the final result, sent after the reply latency.
    pub lines: Vec<Vec<u8>>,
    /// Lines sent this many ms after the final result (`+QMTPUB: 0,1,0`, §1.6 item 6).
    pub results: Vec<(u64, Vec<u8>)>,
    /// Instead of lines: the `>` prompt, then data read as given.
    pub prompt: Option<(DataInput, Sink)>,
}

impl Answer {
    pub(crate) fn lines(lines: Vec<Vec<u8>>) -> Self {
        Self { lines, ..Self::default() }
    }

    pub(crate) fn ok() -> Self {
        Self::lines(vec![b"OK".to_vec()])
    }

    pub(crate) fn error() -> Self {
        Self::lines(vec![b"ERROR".to_vec()])
    }

    /// `OK` now, `result` after `delay_ms`.
    pub(crate) fn ok_then(delay_ms: u64, result: Vec<u8>) -> Self {
        Self { lines: vec![b"OK".to_vec()], results: vec![(delay_ms, result)], prompt: None }
    }

    pub(crate) fn prompt(input: DataInput, sink: Sink) -> Self {
        Self { prompt: Some((input, sink)), ..Self::default() }
    }
}

/// The parameters after `=` of a command line, as text (quotes removed) per field.
pub(crate) fn params(line: &[u8]) -> Vec<Vec<u8>> {
    let Some(eq) = line.iter().position(|&b| b == b'=') else { return Vec::new() };
    crate::params::Fields::new(line, eq + 1).map(|f| f.map(|f| f.text().to_vec()).unwrap_or_default()).collect()
}

/// Field `i` as a number.
pub(crate) fn num(p: &[Vec<u8>], i: usize) -> Option<i64> {
    let text = core::str::from_utf8(p.get(i)?).ok()?;
    text.trim().parse().ok()
}

/// Field `i` as text.
pub(crate) fn text(p: &[Vec<u8>], i: usize) -> Option<std::string::String> {
    p.get(i).and_then(|t| std::string::String::from_utf8(t.clone()).ok())
}
