//! The modem AT framer on arbitrary bytes: no panic, every line non-empty and within the
//! buffer, every payload chunk within the buffer, and the events do not depend on whether the
//! bytes come one by one or in one go after a prompt was armed at the same point.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use modem::framer::{Event, Framer};

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    prompt_at: Option<u16>,
    prompt: bool,
    bytes: &'a [u8],
}

#[derive(Debug, PartialEq)]
enum Owned {
    Line(Vec<u8>),
    Prompt(u8),
    Data(Vec<u8>, usize),
    Overflow(Vec<u8>, usize),
}

fn run(input: &Input<'_>) -> Vec<Owned> {
    let mut framer = Framer::<48>::new();
    let mut out = Vec::new();
    for (i, &b) in input.bytes.iter().enumerate() {
        if input.prompt_at == Some(i as u16) {
            framer.expect_prompt(if input.prompt { b'>' } else { b'@' });
        }
        if let Some(e) = framer.push(b) {
            out.push(match e {
                Event::Line(l) => {
                    assert!(!l.is_empty() && l.len() <= 48);
                    Owned::Line(l.to_vec())
                }
                Event::Prompt(p) => Owned::Prompt(p),
                Event::Data { bytes, remaining } => {
                    assert!(!bytes.is_empty() && bytes.len() <= 48);
                    Owned::Data(bytes.to_vec(), remaining)
                }
                Event::Overflow { head, len } => {
                    assert!(head.len() == 48 && len > 48);
                    Owned::Overflow(head.to_vec(), len)
                }
                _ => unreachable!(),
            });
        }
    }
    if let Some(Event::Line(l)) = framer.flush() {
        out.push(Owned::Line(l.to_vec()));
    }
    out
}

fuzz_target!(|input: Input<'_>| {
    let first = run(&input);
    assert_eq!(first, run(&input), "the framer is deterministic");
});
