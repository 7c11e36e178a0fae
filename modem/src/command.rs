//! What the router needs to know about a command: its response prefix, its form, whether it
//! opens a data prompt, which result arrives after `OK`, and its default timeout.
//!
//! The defaults come from the maximum response times of the vendor manuals (reference §2.13)
//! and the command descriptions of §1.6, §1.8, §2.7–§2.11. Every default can be overridden by
//! setting the public fields.

/// The four forms of an extended command (V.250 §5.4, reference §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// `AT+X=?`
    Test,
    /// `AT+X?`
    Read,
    /// `AT+X=<...>`
    Write,
    /// `AT+X` (and basic commands such as `ATE0`).
    Execute,
}

/// A command line as the router sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command<'a> {
    /// The command text as sent, without the terminating `\r` (used to recognise the echo).
    pub text: &'a [u8],
    /// The data prompt the command opens (`b'>'`, or `b'@'` for u-blox `+USOWR`).
    pub prompt: Option<u8>,
    /// A result that arrives after `OK` (or instead of it, `SEND OK`) and completes the command:
    /// the router waits for a line starting with these bytes (reference §1.6 item 6).
    pub awaits: Option<&'static [u8]>,
    /// How long to wait for the whole exchange, in milliseconds.
    pub timeout_ms: u32,
}

/// Default for simple queries: the manuals give 300 ms; reference §2.13 advises 1–5 s.
pub const SIMPLE_TIMEOUT_MS: u32 = 5_000;

/// Per-command maximum response times (reference §2.13), `(name, form, ms)`; `None` matches any
/// form. The first matching row wins.
pub const TIMEOUTS: &[(&str, Option<Form>, u32)] = &[
    ("+CPIN", Some(Form::Write), 5_000),
    ("+CFUN", Some(Form::Write), 15_000),
    ("+COPS", Some(Form::Test), 180_000),
    ("+COPS", Some(Form::Write), 180_000),
    ("+QIACT", Some(Form::Write), 150_000),
    ("+QIOPEN", Some(Form::Write), 150_000),
    ("+QMTOPEN", Some(Form::Write), 75_000),
    ("+CMGS", Some(Form::Write), 120_000),
    ("+NETOPEN", Some(Form::Execute), 75_000),
    ("+CIPOPEN", Some(Form::Write), 75_000),
    ("+QPOWD", None, 65_000),
    ("+QIDEACT", Some(Form::Write), 40_000),
    ("+QICLOSE", Some(Form::Write), 10_000),
    ("+CGATT", Some(Form::Write), 140_000),
];

/// Results that arrive after `OK` (reference §1.3 "vendor final-like", §1.6 item 6, §2.6–§2.10).
const AWAITS: &[(&str, Option<Form>, &[u8])] = &[
    ("+QIOPEN", Some(Form::Write), b"+QIOPEN:"),
    ("+QMTOPEN", Some(Form::Write), b"+QMTOPEN:"),
    ("+QMTCONN", Some(Form::Write), b"+QMTCONN:"),
    ("+QMTSUB", Some(Form::Write), b"+QMTSUB:"),
    ("+QMTUNS", Some(Form::Write), b"+QMTUNS:"),
    ("+QMTPUBEX", Some(Form::Write), b"+QMTPUB:"),
    ("+QMTPUB", Some(Form::Write), b"+QMTPUB:"),
    ("+QMTDISC", Some(Form::Write), b"+QMTDISC:"),
    ("+QMTCLOSE", Some(Form::Write), b"+QMTCLOSE:"),
    ("+NETOPEN", Some(Form::Execute), b"+NETOPEN:"),
    ("+NETCLOSE", Some(Form::Execute), b"+NETCLOSE:"),
    ("+CIPOPEN", Some(Form::Write), b"+CIPOPEN:"),
    ("+CIPCLOSE", Some(Form::Write), b"+CIPCLOSE:"),
    ("+CIPSEND", Some(Form::Write), b"+CIPSEND:"),
    ("+CMQTTSTART", Some(Form::Execute), b"+CMQTTSTART:"),
    ("+CMQTTSTOP", Some(Form::Execute), b"+CMQTTSTOP:"),
    ("+CMQTTCONNECT", Some(Form::Write), b"+CMQTTCONNECT:"),
    ("+CMQTTPUB", Some(Form::Write), b"+CMQTTPUB:"),
    ("+CMQTTSUB", Some(Form::Write), b"+CMQTTSUB:"),
    ("+CMQTTDISC", Some(Form::Write), b"+CMQTTDISC:"),
    ("+QPOWD", None, b"POWERED DOWN"),
    ("+CPOWD", Some(Form::Write), b"NORMAL POWER DOWN"),
    ("+QISEND", Some(Form::Write), b"SEND "),
];

/// Commands whose information responses carry another prefix than the command name
/// (SIMCom `AT+CICCID` → `+ICCID:`, reference §2.3).
const RESPONSE_PREFIXES: &[(&str, &str)] = &[("+CICCID", "+ICCID")];

/// Commands that open a `>` data prompt (reference §1.8).
const PROMPTS: &[&str] = &[
    "+CMGS",
    "+CMGW",
    "+QISEND",
    "+CIPSEND",
    "+CASEND",
    "+QMTPUBEX",
    "+QMTPUB",
    "+CMQTTTOPIC",
    "+CMQTTPAYLOAD",
    "+CMQTTSUBTOPIC",
    "+CMQTTWILLTOPIC",
    "+CMQTTWILLMSG",
];

impl<'a> Command<'a> {
    /// Describes `text` with the defaults of the tables above.
    ///
    /// ```
    /// use modem::command::{Command, Form};
    /// let c = Command::new(b"AT+QIOPEN=1,0,\"TCP\",\"example.com\",1883,0,0");
    /// assert_eq!((c.name(), c.form(), c.timeout_ms), (Some(&b"+QIOPEN"[..]), Form::Write, 150_000));
    /// assert_eq!(c.awaits, Some(&b"+QIOPEN:"[..]));
    /// assert_eq!(Command::new(b"AT+CMGS=\"+100\"").prompt, Some(b'>'));
    /// assert_eq!(Command::new(b"AT+CREG?").timeout_ms, modem::command::SIMPLE_TIMEOUT_MS);
    /// ```
    pub fn new(text: &'a [u8]) -> Self {
        let mut command = Command { text, prompt: None, awaits: None, timeout_ms: SIMPLE_TIMEOUT_MS };
        let (Some(name), form) = (command.name(), command.form()) else {
            return command;
        };
        let matches = |row: &str, row_form: Option<Form>| {
            name.eq_ignore_ascii_case(row.as_bytes()) && row_form.is_none_or(|f| f == form)
        };
        if let Some(&(_, _, ms)) = TIMEOUTS.iter().find(|(n, f, _)| matches(n, *f)) {
            command.timeout_ms = ms;
        }
        let params = command.params();
        // `AT+QISEND=<id>,0` and `AT+CIPSEND=<id>,0`-style queries carry no data.
        let query = params.ends_with(b",0") && (matches("+QISEND", Some(Form::Write)));
        // `AT+QMTPUB=<idx>,<msgid>,<qos>,<retain>,"<topic>","<payload>"` carries its payload inline.
        let inline_publish =
            matches("+QMTPUB", Some(Form::Write)) && crate::params::Fields::new(params, 0).count() >= 6;
        if !query {
            command.awaits = AWAITS.iter().find(|(n, f, _)| matches(n, *f)).map(|&(_, _, a)| a);
        }
        if form == Form::Write
            && !query
            && !inline_publish
            && PROMPTS.iter().any(|p| name.eq_ignore_ascii_case(p.as_bytes()))
        {
            command.prompt = Some(b'>');
        }
        if matches("+USOWR", Some(Form::Write)) {
            command.prompt = Some(b'@');
        }
        command
    }

    /// The extended command name (`+CREG`), which is also the prefix of its information
    /// responses; `None` for basic commands (`ATE0`, `ATI`) and text that does not start with `AT`.
    pub fn name(&self) -> Option<&'a [u8]> {
        let rest = self.after_at()?;
        match rest.first() {
            Some(b'+' | b'*' | b'^' | b'$' | b'#') => {}
            _ => return None,
        }
        let end = rest.iter().position(|&b| matches!(b, b'=' | b'?' | b';')).unwrap_or(rest.len());
        rest.get(..end)
    }

    /// The prefix of the command's information responses: its name, except where the vendor
    /// answers under another one (`AT+CICCID` → `+ICCID`).
    pub fn response_prefix(&self) -> Option<&'a [u8]> {
        let name = self.name()?;
        Some(
            RESPONSE_PREFIXES
                .iter()
                .find(|(n, _)| name.eq_ignore_ascii_case(n.as_bytes()))
                .map_or(name, |(_, r)| r.as_bytes()),
        )
    }

    /// The form of the command.
    pub fn form(&self) -> Form {
        let Some(rest) = self.after_at() else {
            return Form::Execute;
        };
        let end = rest.iter().position(|&b| matches!(b, b'=' | b'?')).map(|p| (p, rest.get(p..).unwrap_or(&[])));
        match end {
            Some((_, tail)) if tail.starts_with(b"=?") => Form::Test,
            Some((_, tail)) if tail.starts_with(b"?") => Form::Read,
            Some(_) => Form::Write,
            None => Form::Execute,
        }
    }

    fn params(&self) -> &'a [u8] {
        let text = self.text;
        text.iter().position(|&b| b == b'=').and_then(|p| text.get(p + 1..)).unwrap_or(&[])
    }

    fn after_at(&self) -> Option<&'a [u8]> {
        let text = crate::params::trim(self.text);
        match text {
            [a, t, rest @ ..] if a.eq_ignore_ascii_case(&b'A') && t.eq_ignore_ascii_case(&b'T') => Some(rest),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_tables() {
        assert_eq!(Command::new(b"AT+COPS=?").form(), Form::Test);
        assert_eq!(Command::new(b"AT+COPS=?").timeout_ms, 180_000);
        assert_eq!(Command::new(b"AT+COPS?").timeout_ms, SIMPLE_TIMEOUT_MS);
        assert_eq!(Command::new(b"at+cfun=1").timeout_ms, 15_000);
        assert_eq!(Command::new(b"AT+QPOWD=1").awaits, Some(&b"POWERED DOWN"[..]));
        assert_eq!(Command::new(b"AT+QPOWD").timeout_ms, 65_000);
        assert_eq!(Command::new(b"AT+QISEND=0,10").awaits, Some(&b"SEND "[..]));
        assert_eq!(Command::new(b"AT+QISEND=0,10").prompt, Some(b'>'));
        assert_eq!(Command::new(b"AT+QISEND=0,0").awaits, None);
        assert_eq!(Command::new(b"AT+QISEND=0,0").prompt, None);
        assert_eq!(Command::new(b"AT+QMTPUB=0,0,0,0,\"t\"").prompt, Some(b'>'));
        assert_eq!(Command::new(b"AT+QMTPUB=0,0,0,0,\"t\",\"x\"").prompt, None);
        assert_eq!(Command::new(b"AT+USOWR=3,16").prompt, Some(b'@'));
        assert_eq!(Command::new(b"ATE0").name(), None);
        assert_eq!(Command::new(b"AT+QIOPEN?").awaits, None);
        assert_eq!(Command::new(b"AT+CICCID").response_prefix(), Some(&b"+ICCID"[..]));
        assert_eq!(Command::new(b"AT+QCCID").response_prefix(), Some(&b"+QCCID"[..]));
    }
}
