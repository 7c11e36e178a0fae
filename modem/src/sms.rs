//! SMS in text mode (reference §2.11) and network time (§2.12) on the blocking driver.
//!
//! ```text
//! AT+CMGF=1 → OK;  AT+CSCS="IRA" → OK
//! AT+CMGS="<number>" → \r\n> → <text> Ctrl-Z → +CMGS: <mr> / OK   (or +CMS ERROR: <n>)
//! AT+CCLK? → +CCLK: "yy/MM/dd,hh:mm:ss±zz" / OK   (years < 2020: not synchronised)
//! ```
//!
//! Texts are limited to what one GSM 7-bit SMS carries without an extension table or
//! concatenation (reference §2.11, §6.2: pickup codes ≤ 160 GSM-7 characters, validated). The
//! character set is `"IRA"` so that ASCII goes over the UART as ASCII (§1.5: in `"GSM"` the
//! host would have to send `@` as 0x00).

use crate::blocking::{Clock, Error, Modem};
use crate::error::ParseError;
use crate::response::{Cclk, parse_cclk};
use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};

/// The longest text [`Modem::send_sms`] sends: one GSM 7-bit SMS (reference §2.11).
pub const SMS_MAX: usize = 160;

/// Ctrl-Z (0x1A): submits the SMS text (reference §1.8).
pub const CTRL_Z: u8 = 0x1a;

/// Whether `byte` is an ASCII character of the GSM 03.38 default alphabet (basic table, no
/// escape to the extension table): letters, digits, space, CR, LF and
/// `@ £ $ _ ! " # % & ' ( ) * + , - . / : ; < = > ?` (of those, the ASCII ones).
pub fn is_gsm7_ascii(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b' ' | b'\r' | b'\n') || b"@$_!\"#%&'()*+,-./:;<=>?".contains(&byte)
}

/// The cause of a `+CMS ERROR: <n>` (27.005 §3.2.5, reference §1.10), for logs.
pub fn cms_cause(code: u16) -> Option<&'static str> {
    Some(match code {
        300 => "ME failure",
        301 => "SMS service of ME reserved",
        302 => "operation not allowed",
        303 => "operation not supported",
        304 => "invalid PDU mode parameter",
        305 => "invalid text mode parameter",
        310 => "SIM not inserted",
        311 => "SIM PIN required",
        312 => "PH-SIM PIN required",
        313 => "SIM failure",
        314 => "SIM busy",
        315 => "SIM wrong",
        316 => "SIM PUK required",
        317 => "SIM PIN2 required",
        318 => "SIM PUK2 required",
        320 => "memory failure",
        321 => "invalid memory index",
        322 => "memory full",
        330 => "SMSC address unknown",
        331 => "no network service",
        332 => "network timeout",
        340 => "no +CNMA acknowledgement expected",
        500 => "unknown error",
        _ => return None,
    })
}

/// Checks an SMS destination: an optional `+` and 1..=20 digits.
fn valid_number(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    (1..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The `AT+CMGS="<number>"` line for `text`, after checking both (shared by the blocking and
/// async shells).
fn cmgs_line<E>(number: &str, text: &str) -> Result<heapless::Vec<u8, 40>, Error<E>> {
    if !valid_number(number) {
        return Err(Error::Invalid { field: "number" });
    }
    if text.len() > SMS_MAX {
        return Err(Error::TooLong);
    }
    if !text.bytes().all(is_gsm7_ascii) {
        return Err(Error::Invalid { field: "text" });
    }
    let mut line: heapless::Vec<u8, 40> = heapless::Vec::new();
    let parts: [&[u8]; 3] = [b"AT+CMGS=\"", number.as_bytes(), b"\""];
    for part in parts {
        line.extend_from_slice(part).map_err(|_| Error::TooLong)?;
    }
    Ok(line)
}

/// The message reference of a `+CMGS: <mr>` reply line.
fn message_reference(line: &[u8]) -> Result<u8, ParseError> {
    let start = crate::params::after_prefix(line, b"+CMGS").ok_or(ParseError::Prefix { expected: "+CMGS" })?;
    let field = crate::params::Fields::new(line, start)
        .next()
        .ok_or(ParseError::Missing { field: "mr", offset: line.len() })??;
    let mr = field.dec("mr")?;
    u8::try_from(mr).map_err(|_| ParseError::Invalid { field: "mr", offset: field.offset() })
}

/// The synchronised network time of a `+CCLK:` reply line, `None` before 2020.
fn synchronised_time(line: &[u8]) -> Result<Option<Cclk>, ParseError> {
    let time = parse_cclk(line)?;
    Ok(time.is_synchronised().then_some(time))
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> Modem<U, D, C> {
    /// Sends `text` to `number` as one text-mode SMS (reference §2.11): `AT+CMGF=1`,
    /// `AT+CSCS="IRA"`, `AT+CMGS="<number>"`, the text at the `>` prompt ended by Ctrl-Z; returns
    /// the message reference `<mr>` of `+CMGS: <mr>`. The deadline is 120 s (§2.13).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] (`number`, `text`) before anything is sent when the number is not a
    /// phone number or the text has a character outside the GSM 7-bit basic table,
    /// [`Error::TooLong`] for more than [`SMS_MAX`] characters, [`Error::Command`] with
    /// [`crate::engine::CommandError::Cms`] when the module or network refuses (see
    /// [`cms_cause`]), other errors as [`Modem::command`].
    pub fn send_sms(&mut self, number: &str, text: &str) -> Result<u8, Error<U::Error>> {
        let line = cmgs_line(number, text)?;
        self.command(b"AT+CMGF=1")?;
        self.command(b"AT+CSCS=\"IRA\"")?;
        let reply = self.command_with_data(&line, text.as_bytes(), Some(CTRL_Z))?;
        Ok(message_reference(&reply.line)?)
    }

    /// The module's clock (`AT+CCLK?`, reference §2.12): `None` while it was never set from the
    /// network (a year before 2020 is the module's default epoch).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`], or [`Error::Parse`].
    pub fn network_time(&mut self) -> Result<Option<Cclk>, Error<U::Error>> {
        let reply = self.command(b"AT+CCLK?")?;
        Ok(synchronised_time(&reply.line)?)
    }
}

#[cfg(feature = "async")]
impl<U, D, C> crate::asynch::Modem<U, D, C>
where
    U: embedded_io_async::Read + embedded_io_async::Write + embedded_io_async::ReadReady,
    D: embedded_hal_async::delay::DelayNs,
    C: Clock,
{
    /// As the blocking [`Modem::send_sms`].
    ///
    /// # Errors
    ///
    /// As the blocking [`Modem::send_sms`].
    pub async fn send_sms(&mut self, number: &str, text: &str) -> Result<u8, Error<U::Error>> {
        let line = cmgs_line(number, text)?;
        self.command(b"AT+CMGF=1").await?;
        self.command(b"AT+CSCS=\"IRA\"").await?;
        let reply = self.command_with_data(&line, text.as_bytes(), Some(CTRL_Z)).await?;
        Ok(message_reference(&reply.line)?)
    }

    /// As the blocking [`Modem::network_time`].
    ///
    /// # Errors
    ///
    /// As the blocking [`Modem::network_time`].
    pub async fn network_time(&mut self) -> Result<Option<Cclk>, Error<U::Error>> {
        let reply = self.command(b"AT+CCLK?").await?;
        Ok(synchronised_time(&reply.line)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_and_numbers() {
        assert!(b"Code 4711: locker 12 @ Main St. (open until 18:00)!".iter().all(|&b| is_gsm7_ascii(b)));
        for b in [b'[', b']', b'{', b'}', b'\\', b'^', b'~', b'|', b'`', 0x1a, 0x1b, 0x00, 0x80] {
            assert!(!is_gsm7_ascii(b), "{b:#x}");
        }
        assert!(valid_number("+8613800000000") && valid_number("112"));
        assert!(!valid_number("+") && !valid_number("12a") && !valid_number("1\"2") && !valid_number(""));
        assert_eq!(cms_cause(331), Some("no network service"));
        assert_eq!(cms_cause(999), None);
    }
}
