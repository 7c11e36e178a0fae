//! Shared harness: run bytes through a [`Router`] and record everything it routed, in order.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod executor;

use modem::command::Command;
use modem::result::FinalResult;
use modem::router::{Routed, Router};
use serde_json::Value;

/// One routed item, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Echo,
    Info(Vec<u8>),
    Data(Vec<u8>),
    Prompt(u8),
    Final { name: &'static str, code: Option<u16>, text: Option<String>, complete: bool },
    Result { line: Vec<u8>, complete: bool },
    TooLong(usize),
    Urc(Vec<u8>),
    UrcData(Vec<u8>),
    UrcLost,
    Discarded(Vec<u8>),
}

pub fn own(r: Routed<'_>) -> Item {
    match r {
        Routed::Echo => Item::Echo,
        Routed::Info(l) => Item::Info(l.to_vec()),
        Routed::Data { bytes, .. } => Item::Data(bytes.to_vec()),
        Routed::Prompt(p) => Item::Prompt(p),
        Routed::Final { result, complete } => {
            let (code, text) = match result {
                FinalResult::CmeError(e) | FinalResult::CmsError(e) => (e.code, e.text.map(str::to_owned)),
                _ => (None, None),
            };
            Item::Final { name: result.name(), code, text, complete }
        }
        Routed::Result { line, complete } => Item::Result { line: line.to_vec(), complete },
        Routed::TooLong { len, .. } => Item::TooLong(len),
        Routed::Urc(l) => Item::Urc(l.to_vec()),
        Routed::UrcData { bytes, .. } => Item::UrcData(bytes.to_vec()),
        Routed::UrcLost(_) => Item::UrcLost,
        Routed::Discarded(b) => Item::Discarded(b.to_vec()),
        _ => panic!("unknown routed item"),
    }
}

/// Merges consecutive data chunks so outcomes do not depend on chunk sizes.
fn merge(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    for item in items {
        match (out.last_mut(), item) {
            (Some(Item::Data(a)), Item::Data(b)) => a.extend(b),
            (Some(Item::UrcData(a)), Item::UrcData(b)) => a.extend(b),
            (_, item) => out.push(item),
        }
    }
    out
}

pub type TestRouter = Router<512, 16>;

/// The command text of a vector's `command` field (`AT+CPIN="1234","1234" (AT+CMEE=0)` ->
/// `AT+CPIN="1234","1234"`); `None` for `(URC)`, `(any)` and the like.
pub fn command_of(field: &str) -> Option<String> {
    if !field.starts_with("AT") {
        return None;
    }
    let end = [" (", " /"].iter().filter_map(|s| field.find(s)).min().unwrap_or(field.len());
    Some(field[..end].to_owned())
}

/// Runs `chunks` through a fresh router with `command` pending (if any), then flushes.
pub fn run(command: Option<&str>, chunks: &[&[u8]]) -> Vec<Item> {
    let mut router = TestRouter::new();
    if let Some(c) = command {
        router.begin(&Command::new(c.as_bytes())).unwrap();
    }
    let mut items = Vec::new();
    for chunk in chunks {
        router.feed(chunk, |r| items.push(own(r)));
    }
    if let Some(r) = router.flush() {
        items.push(own(r));
    }
    merge(items)
}

pub fn vectors() -> Vec<Value> {
    serde_json::from_str(include_str!("../data/modem.json")).unwrap()
}

pub fn infos(items: &[Item]) -> Vec<Vec<u8>> {
    items.iter().filter_map(|i| if let Item::Info(l) = i { Some(l.clone()) } else { None }).collect()
}

pub fn urcs(items: &[Item]) -> Vec<Vec<u8>> {
    items.iter().filter_map(|i| if let Item::Urc(l) = i { Some(l.clone()) } else { None }).collect()
}

pub fn results(items: &[Item]) -> Vec<Vec<u8>> {
    items.iter().filter_map(|i| if let Item::Result { line, .. } = i { Some(line.clone()) } else { None }).collect()
}

pub fn finals(items: &[Item]) -> Vec<&Item> {
    items.iter().filter(|i| matches!(i, Item::Final { .. })).collect()
}

pub fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
