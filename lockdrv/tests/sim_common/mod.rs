//! A hand-written master for simulator tests: encode a request with lockproto, send it on the
//! simulated bus, collect and decode replies until the timeout.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::Duration;

use lockdrv::sim::{Bus, BusConfig, PtyServer, SimDialect};
use lockproto::stream::{Direction, Event, Message, StreamDecoder};
use lockproto::{Command, Dialect, ReplyExpectation, Response};

/// Sends `request` and returns the replies that arrived within `timeout_us` after its last
/// byte (stops at the first one when one is expected).
pub fn transact<D: Dialect + Clone>(bus: &Bus, dialect: &D, request: &D::Request, timeout_us: u64) -> Vec<D::Reply> {
    let mut buf = [0u8; 512];
    // Stale input must never be taken for this reply.
    while bus.master_read_now(&mut buf) > 0 {}
    let len = dialect.encode_request(request, &mut buf).unwrap();
    bus.master_write(&buf[..len]);
    let mut decoder = StreamDecoder::<D, 512>::new(dialect.clone(), Direction::Reply);
    decoder.set_pending(Some(request.clone()));
    let deadline = bus.master_tx_done_us() + timeout_us;
    let mut endpoint = bus.endpoint();
    let expectation = dialect.reply_expectation(request);
    let mut replies = Vec::new();
    loop {
        let n = endpoint.read_until(&mut buf, deadline);
        if n == 0 {
            break;
        }
        for event in decoder.feed(&buf[..n]) {
            if let Event::Frame { message: Message::Reply(reply), .. } = event {
                replies.push(reply);
            }
        }
        if expectation == ReplyExpectation::One && !replies.is_empty() {
            break;
        }
    }
    replies
}

/// A neutral command to board `board`: the neutral responses.
pub fn ask<D: Dialect + Clone>(bus: &Bus, dialect: &D, board: u8, command: Command, timeout_us: u64) -> Vec<Response> {
    let request = dialect.request(board, &command).unwrap();
    transact(bus, dialect, &request, timeout_us).iter().filter_map(|r| dialect.response(r)).map(|(_, r)| r).collect()
}

/// Serves `count` boards of `dialect` on a kernel PTY in a thread for at most a minute; returns
/// the slave path, the stop flag and the thread.
pub fn serve(dialect: SimDialect, count: usize) -> (String, Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let bus = Bus::with_boards(dialect, count, BusConfig::for_dialect(dialect));
        let mut server = PtyServer::new(bus).unwrap();
        tx.send(server.path().to_string()).unwrap();
        server.run(Some(Duration::from_secs(60)), &flag).unwrap();
    });
    (rx.recv().unwrap(), stop, handle)
}
