//! The simulated module's SMS (text mode, reference §2.11) and network time (§2.12).

use super::answer::{Answer, DataInput, Sink, params, text};
use std::string::String;
use std::vec::Vec;

#[derive(Debug)]
pub(crate) struct Sms {
    pub text_mode: bool,
    pub cclk: String,
    pub sent: Vec<(String, Vec<u8>)>,
    pub pending: Option<String>,
    pub fail_next: Option<u16>,
    pub mr: u8,
}

impl Default for Sms {
    fn default() -> Self {
        Self {
            text_mode: false,
            // reference §2.12: a module's default epoch before NITZ.
            cclk: "80/01/06,00:00:00+00".into(),
            sent: Vec::new(),
            pending: None,
            fail_next: None,
            // Q-AT §8.8 example `+CMGS: 247`: the next reference is 247.
            mr: 246,
        }
    }
}

fn cms(cmee: u8, code: u16) -> Answer {
    if cmee == 0 { Answer::error() } else { Answer::lines(vec![format!("+CMS ERROR: {code}").into_bytes()]) }
}

impl Sms {
    pub(crate) fn handle(&mut self, upper: &[u8], line: &[u8], cmee: u8) -> Option<Answer> {
        Some(match upper {
            b"AT+CMGF=1" | b"AT+CMGF=0" => {
                self.text_mode = upper == b"AT+CMGF=1";
                Answer::ok()
            }
            b"AT+CMGF?" => {
                Answer::lines(vec![format!("+CMGF: {}", u8::from(self.text_mode)).into_bytes(), b"OK".to_vec()])
            }
            b"AT+CCLK?" => Answer::lines(vec![format!("+CCLK: \"{}\"", self.cclk).into_bytes(), b"OK".to_vec()]),
            _ if upper.starts_with(b"AT+CMGS=") => {
                // 27.005 §3.2.5: 302 operation not allowed (PDU mode is not simulated).
                if !self.text_mode {
                    return Some(cms(cmee, 302));
                }
                let Some(da) = text(&params(line), 0).filter(|d| !d.is_empty()) else {
                    return Some(cms(cmee, 305));
                };
                self.pending = Some(da);
                Answer::prompt(DataInput::CtrlZ, Sink::Sms)
            }
            _ => return None,
        })
    }

    pub(crate) fn data(&mut self, data: Vec<u8>, cmee: u8) -> Answer {
        let Some(da) = self.pending.take() else { return Answer::error() };
        if let Some(code) = self.fail_next.take() {
            return cms(cmee, code);
        }
        self.mr = self.mr.wrapping_add(1);
        self.sent.push((da, data));
        Answer::lines(vec![format!("+CMGS: {}", self.mr).into_bytes(), b"OK".to_vec()])
    }
}
