//! SMS in text mode (reference §2.11) and network time (§2.12) through the blocking driver on
//! the simulator, both dialects, output whole and split at every byte.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use modem::blocking::{Error, Modem};
use modem::engine::CommandError;
use modem::sim::{Moment, Sim, SimClock, Split};

type Driver = Modem<Sim, SimClock, SimClock>;

fn drivers() -> Vec<(String, Driver)> {
    let mut out = Vec::new();
    for split in [Split::Whole, Split::EveryByte, Split::Seeded(9)] {
        for simcom in [false, true] {
            let clock = SimClock::new();
            let mut sim = if simcom { Sim::simcom(clock.clone()) } else { Sim::new(clock.clone()) };
            sim.set_split(split);
            let mut m = Modem::new(sim, clock.clone(), clock.clone());
            m.bring_up(10_000).unwrap();
            out.push((format!("{split:?} simcom={simcom}"), m));
        }
    }
    out
}

#[test]
fn sms_is_sent_with_prompt_and_ctrl_z() {
    for (name, mut m) in drivers() {
        // Q-AT §8.8 example: `+CMGS: 247`.
        let text = "Parcel in locker 12. Code: 4711-0815 (valid 72 h) \"Main St.\"";
        assert_eq!(m.send_sms("+8613800000000", text).unwrap(), 247, "{name}");
        assert_eq!(m.send_sms("112", "second\r\nline").unwrap(), 248, "{name}");
        let sim = m.uart_mut();
        let sent: Vec<(String, Vec<u8>)> = sim.sms_sent().to_vec();
        assert_eq!(
            sent,
            [("+8613800000000".to_string(), text.as_bytes().to_vec()), ("112".to_string(), b"second\r\nline".to_vec())],
            "{name}"
        );
        let cmgs: Vec<&Vec<u8>> = sim.commands().iter().filter(|c| c.starts_with(b"AT+CMG")).collect();
        assert_eq!(cmgs[..2], [&b"AT+CMGF=1".to_vec(), &b"AT+CMGS=\"+8613800000000\"".to_vec()]);
    }
}

#[test]
fn cms_errors_are_typed_and_bad_texts_never_sent() {
    for (name, mut m) in drivers() {
        m.uart_mut().fail_next_sms(331);
        assert_eq!(m.send_sms("+100", "x"), Err(Error::Command(CommandError::Cms(Some(331)))), "{name}");
        assert_eq!(modem::sms::cms_cause(331), Some("no network service"));
        let before = m.uart_mut().commands().len();
        assert_eq!(m.send_sms("+100", "curly {braces}"), Err(Error::Invalid { field: "text" }));
        assert_eq!(m.send_sms("+1\"00", "x"), Err(Error::Invalid { field: "number" }));
        assert_eq!(m.send_sms("+100", &"x".repeat(161)), Err(Error::TooLong));
        assert_eq!(m.uart_mut().commands().len(), before, "{name}: nothing sent");
        // The next one goes through (the failed one left no input mode behind).
        assert_eq!(m.send_sms("+100", &"y".repeat(160)).unwrap(), 247, "{name}");
    }
}

#[test]
fn urcs_around_an_sms_are_delivered_once() {
    for (name, mut m) in drivers() {
        m.uart_mut().clock().advance(1_000);
        m.poll().unwrap();
        while m.pop_urc().is_some() {}
        let sim = m.uart_mut();
        sim.inject_urc(Moment::BeforeEcho, b"+CEREG: 5");
        sim.inject_urc(Moment::BetweenLines, b"+CMTI: \"ME\",1");
        sim.inject_urc(Moment::AfterFinal, b"+CEREG: 1");
        // The three land on AT+CMGF=1, the first command of the send.
        assert_eq!(m.send_sms("+100", "OK\r\n> OK").unwrap(), 247, "{name}");
        m.poll().unwrap();
        let urcs: Vec<Vec<u8>> = std::iter::from_fn(|| m.pop_urc()).map(|u| u.line.to_vec()).collect();
        assert_eq!(urcs, [b"+CEREG: 5".to_vec(), b"+CMTI: \"ME\",1".to_vec(), b"+CEREG: 1".to_vec()], "{name}");
        assert_eq!(m.uart_mut().sms_sent()[0].1, b"OK\r\n> OK");
    }
}

#[test]
fn network_time_unsynchronised_then_set() {
    for (name, mut m) in drivers() {
        // reference §2.12: the default epoch (year < 2020) means "never synchronised".
        assert_eq!(m.network_time().unwrap(), None, "{name}");
        // Q-AT §10.2 example.
        m.uart_mut().set_network_time("19/01/31,07:39:06+32");
        assert_eq!(m.network_time().unwrap(), None, "{name}: 2019 is still before 2020");
        m.uart_mut().set_network_time("24/05/06,12:30:59-08");
        let t = m.network_time().unwrap().unwrap();
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second, t.tz_offset_minutes()),
            (2024, 5, 6, 12, 30, 59, Some(-120)),
            "{name}"
        );
    }
}
