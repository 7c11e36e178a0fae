//! The sans-io Grow host driven by an arbitrary script of commands, received bytes and time:
//! no panic, one command in flight at a time, every command ends exactly once (a response or
//! a timeout after `retries` resends), scans are non-empty lines without their CR tail.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanner::grow::Command;
use scanner::grow_host::{GrowCommandError, GrowConfig, GrowEvent, GrowHost, GrowHostError};

fuzz_target!(|data: &[u8]| {
    let config = GrowConfig { response_timeout_ms: 50, retries: 2, dedup_window_ms: 20, ..GrowConfig::default() };
    let mut host = GrowHost::<64>::new(config);
    let mut now = 0u64;
    let mut rest = data;
    let mut resends = 0u8;
    let count = 1u8;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 4 {
            0 | 3 => {
                let was = host.in_flight();
                let r = if op % 4 == 0 {
                    host.command(&Command::read(u16::from(op), &count), now).map(|b| b.len())
                } else {
                    host.command(&Command::write(0x0002, &[0x01]), now).map(|b| b.len())
                };
                match r {
                    Ok(n) => {
                        assert!(!was && n > 0);
                        resends = 0;
                    }
                    Err(GrowHostError::Busy) => assert!(was),
                    Err(e) => panic!("{e}"),
                }
                assert!(host.in_flight());
            }
            1 => {
                let k = rest.first().map_or(0, |b| usize::from(*b % 32));
                let (mut chunk, after) = rest.get(1..).unwrap_or(&[]).split_at(k.min(rest.len().saturating_sub(1)));
                rest = after;
                loop {
                    let was = host.in_flight();
                    let Some(ev) = host.receive(&mut chunk, now) else { break };
                    match ev {
                        GrowEvent::Response(_) => assert!(was && !host.in_flight()),
                        GrowEvent::Scan(s) => assert!(!s.is_empty() && !s.contains(&b'\r')),
                        GrowEvent::Resend(_) => panic!("resend from receive"),
                    }
                }
            }
            _ => {
                now += u64::from(rest.first().copied().unwrap_or(0));
                rest = rest.get(1..).unwrap_or(&[]);
                let was = host.in_flight();
                let ev = host.poll(now).map(|ev| match ev {
                    GrowEvent::Resend(b) => (0u8, b.len(), None),
                    GrowEvent::Response(Err(GrowCommandError::Timeout { attempts })) => (1, 0, Some(attempts)),
                    GrowEvent::Response(other) => panic!("poll gave {other:?}"),
                    GrowEvent::Scan(s) => (2, s.len(), None),
                });
                match ev {
                    Some((0, n, _)) => {
                        assert!(was && host.in_flight() && n > 0);
                        resends += 1;
                        assert!(resends <= config.retries);
                    }
                    Some((1, _, attempts)) => {
                        assert!(was && !host.in_flight());
                        assert_eq!(attempts, Some(config.retries + 1));
                    }
                    Some((_, n, _)) => assert!(!was && n > 0),
                    None => {}
                }
            }
        }
    }
});
