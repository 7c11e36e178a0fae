//! Both MQTT clients (Quectel `QMT*`, SIMCom `CMQTT*`) on a module whose answers are arbitrary
//! bytes, one answer per command line or data write: no panic, and every call returns (each
//! command ends at its deadline on the virtual clock).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use modem::blocking::{Clock, Modem};
use modem::mqtt::quectel::{QuectelConfig, QuectelMqtt};
use modem::mqtt::simcom::{SimcomConfig, SimcomMqtt};
use modem::{QoS, Session, Uplink, Will};
use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

#[derive(Clone, Default)]
struct Time(Rc<Cell<u64>>);

impl Clock for Time {
    fn now_ms(&mut self) -> u64 {
        self.0.get()
    }
}

impl embedded_hal::delay::DelayNs for Time {
    fn delay_ns(&mut self, ns: u32) {
        self.0.set(self.0.get() + u64::from(ns).div_ceil(1_000_000));
    }
}

struct Uart<'a> {
    answers: VecDeque<&'a [u8]>,
    rx: VecDeque<u8>,
}

impl embedded_io::ErrorType for Uart<'_> {
    type Error = core::convert::Infallible;
}

impl embedded_io::ReadReady for Uart<'_> {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.rx.is_empty())
    }
}

impl embedded_io::Read for Uart<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.rx.len());
        for b in buf.iter_mut().take(n) {
            *b = self.rx.pop_front().unwrap_or(0);
        }
        Ok(n)
    }
}

impl embedded_io::Write for Uart<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        // The command's `\r` and a data write each get the next answer.
        if !buf.is_empty() && !buf.starts_with(b"AT") {
            if let Some(answer) = self.answers.pop_front() {
                self.rx.extend(answer.iter().copied());
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    simcom: bool,
    answers: Vec<&'a [u8]>,
}

fn exercise<L: Uplink>(link: &mut L) {
    let will = Will { topic: "w", payload: b"0", qos: QoS::AtLeastOnce, retain: false };
    let session = Session {
        host: "h",
        port: 1883,
        client_id: "c",
        keepalive_s: 30,
        clean_session: true,
        credentials: None,
        will: Some(will),
    };
    let _ = link.connect(&session);
    let _ = link.subscribe("t/#", QoS::AtLeastOnce);
    let _ = link.publish("t/1", b"x", QoS::AtLeastOnce, true);
    let mut buf = [0u8; 64];
    for _ in 0..3 {
        let _ = link.receive(&mut buf);
    }
    let _ = link.link_state();
    let _ = link.disconnect();
}

fuzz_target!(|input: Input<'_>| {
    let time = Time::default();
    let uart = Uart { answers: input.answers.into_iter().take(40).collect(), rx: VecDeque::new() };
    let modem = Modem::new(uart, time.clone(), time.clone());
    if input.simcom {
        exercise(&mut SimcomMqtt::new(modem, SimcomConfig::default()));
    } else {
        exercise(&mut QuectelMqtt::new(modem, QuectelConfig::default()));
    }
});
