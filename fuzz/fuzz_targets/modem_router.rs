//! The modem router on arbitrary bytes interleaved with arbitrary begin/cancel/drained calls:
//! no panic, the URC queue never exceeds its capacity, and a command never completes while the
//! router is draining.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use modem::router::{Routed, Router};
use modem::Command;

#[derive(Debug, Arbitrary)]
enum Op<'a> {
    Begin(u8),
    Cancel,
    Drained,
    Pop,
    Feed(&'a [u8]),
}

const COMMANDS: [&[u8]; 8] = [
    b"AT+CREG?",
    b"AT+COPS=?",
    b"AT+QIOPEN=1,0,\"TCP\",\"h\",1,0,0",
    b"AT+QISEND=0,4",
    b"AT+CMGS=\"+1\"",
    b"AT+CGSN",
    b"AT+QMTRECV=0,1",
    b"AT+USOWR=0,2",
];

fuzz_target!(|ops: Vec<Op<'_>>| {
    let mut router = Router::<40, 3>::new();
    for op in ops {
        match op {
            Op::Begin(i) => {
                let _ = router.begin(&Command::new(COMMANDS[usize::from(i) % COMMANDS.len()]));
            }
            Op::Cancel => router.cancel(),
            Op::Drained => router.drained(),
            Op::Pop => {
                let _ = router.pop_urc();
            }
            Op::Feed(bytes) => {
                let draining = router.is_draining();
                router.feed(bytes, |r| {
                    if draining {
                        assert!(!matches!(r, Routed::Final { .. } | Routed::Info(_) | Routed::Echo));
                    }
                });
            }
        }
        assert!(router.queued_urcs() <= 3);
    }
    let _ = router.flush();
});
