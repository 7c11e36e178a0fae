//! A simulated scan engine in raw mode: labels presented to it come out of its UART as an AIM
//! symbology identifier, the data and a CR (reference/scanner.md: raw mode, AIM ids §7, GS1
//! element strings §9), exactly as an engine left in its factory "serial keyboard" mode sends
//! them. The UART side implements embedded-io `Read` and `ReadReady`, so `scanner`'s real
//! `RawScanner` reads it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::rc::Rc;

/// A label in front of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// A GS1-128 parcel label carrying an SSCC (AI 00): 18 digits, check digit included.
    Sscc(String),
    /// A QR code with this text (a pickup code, or anything a person holds up).
    Qr(String),
}

impl Label {
    /// What the engine sends for this label: AIM identifier, data, CR. `]C1` is GS1-128 (the
    /// FNC1 in first position makes it GS1), `]Q1` a QR code (model 2, no ECI), scanner.md §7.
    #[must_use]
    pub fn wire_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Label::Sscc(digits) => {
                out.extend_from_slice(b"]C1");
                out.extend_from_slice(b"00");
                out.extend_from_slice(digits.as_bytes());
            }
            Label::Qr(text) => {
                out.extend_from_slice(b"]Q1");
                out.extend_from_slice(text.as_bytes());
            }
        }
        out.push(b'\r');
        out
    }
}

/// An SSCC from its first 17 digits (extension digit, company prefix, serial): appends the GS1
/// mod-10 check digit (GS1 General Specifications §7.9, as `scanner::gs1::check_digit`).
/// `None` unless `first17` is 17 ASCII digits.
#[must_use]
pub fn sscc(first17: &str) -> Option<String> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let check = scanner::gs1::check_digit(first17.as_bytes())?;
    Some(format!("{first17}{}", char::from(b'0' + check)))
}

/// The engine's UART, as the host sees it.
#[derive(Debug, Clone, Default)]
pub struct ScanEngineUart {
    rx: Rc<RefCell<VecDeque<u8>>>,
}

/// The other side: where labels are presented.
#[derive(Debug, Clone, Default)]
pub struct ScanEngine {
    rx: Rc<RefCell<VecDeque<u8>>>,
    scans: u64,
}

/// A connected engine and its UART.
#[must_use]
pub fn scan_engine() -> (ScanEngine, ScanEngineUart) {
    let rx = Rc::new(RefCell::new(VecDeque::new()));
    (ScanEngine { rx: rx.clone(), scans: 0 }, ScanEngineUart { rx })
}

impl ScanEngine {
    /// The engine decodes `label` and sends it.
    pub fn present(&mut self, label: &Label) {
        self.rx.borrow_mut().extend(label.wire_bytes());
        self.scans += 1;
    }

    /// Labels decoded so far.
    #[must_use]
    pub fn scans(&self) -> u64 {
        self.scans
    }
}

impl embedded_io::ErrorType for ScanEngineUart {
    type Error = Infallible;
}

impl embedded_io::Read for ScanEngineUart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let mut rx = self.rx.borrow_mut();
        let n = buf.len().min(rx.len());
        for (slot, byte) in buf.iter_mut().zip(rx.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for ScanEngineUart {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(!self.rx.borrow().is_empty())
    }
}

/// The scan as the engine sent it (AIM identifier again in front of the data), for
/// `scanner::pickup::extract`, which needs the identifier to know GS1 data from text.
#[must_use]
pub fn with_identifier(scan: &scanner::driver::Scan<'_>) -> Vec<u8> {
    let mut line = Vec::with_capacity(scan.data.len() + 4);
    if let Some(id) = scan.symbology {
        line.push(b']');
        line.push(id.code());
        line.extend_from_slice(id.modifiers());
    }
    line.extend_from_slice(scan.data);
    line
}

/// A `DelayNs` that returns at once: the demo's time is virtual, and the engine's bytes are
/// already there when the driver looks.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDelay;

impl embedded_hal::delay::DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use scanner::driver::blocking::RawScanner;
    use scanner::framer::{FramerConfig, Terminator};
    use scanner::pickup::{Credential, PickupPolicy, extract};

    use super::*;

    #[test]
    fn sscc_check_digit_is_the_gs1_one() {
        // GS1 General Specifications §7.9 example SSCC 0 0614141 123456789 check digit 0.
        assert_eq!(sscc("00614141123456789").as_deref(), Some("006141411234567890"));
        assert_eq!(sscc("1234"), None);
    }

    #[test]
    fn raw_scanner_reads_sscc_and_qr_labels() {
        let (mut engine, uart) = scan_engine();
        let mut scanner: RawScanner<_, _, 256> = RawScanner::new(uart, NoDelay, FramerConfig::new(Terminator::Cr), 0);
        let code = sscc("00614141123456789").unwrap();
        engine.present(&Label::Sscc(code.clone()));
        engine.present(&Label::Qr("PICKUP:0042ABCDEFGH".into()));
        let policy = PickupPolicy::default();
        let scan = scanner.next_scan(10).unwrap().unwrap();
        assert!(scan.gs1.is_some());
        let line = with_identifier(&scan);
        assert_eq!(extract(&policy, &line).unwrap(), Credential::Sscc(code.as_bytes()));
        let scan = scanner.next_scan(10).unwrap().unwrap();
        let line = with_identifier(&scan);
        assert_eq!(extract(&policy, &line).unwrap(), Credential::PickupCode(b"0042ABCDEFGH"));
        assert!(scanner.next_scan(10).unwrap().is_none());
        assert_eq!(engine.scans(), 2);
    }
}
