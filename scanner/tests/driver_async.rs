//! The async SSI driver shell: same methods as the blocking one, same simulated engine
//! behaviour, driven by a minimal executor (every mock future is ready at once).
#![cfg(feature = "async")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use scanner::driver::asynch::SsiScanner;
use scanner::host::HostConfig;
use scanner::ssi::{self, Opcode, Packet, Source, SsiDecoder};
use scanner::stream::Event;

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// ACKs every command and answers START_SESSION with one decode (Code 128 "US", vector ssi-06).
#[derive(Default)]
struct Engine {
    decoder: SsiDecoder,
    to_host: VecDeque<u8>,
    seen: Vec<Opcode>,
}

impl embedded_io::ErrorType for Engine {
    type Error = std::convert::Infallible;
}

impl embedded_io::ReadReady for Engine {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.to_host.is_empty())
    }
}

impl embedded_io_async::Read for Engine {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.to_host.len()).min(3);
        for b in buf.iter_mut().take(n) {
            *b = self.to_host.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io_async::Write for Engine {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let mut input = buf;
        let mut ops = Vec::new();
        while let Some(ev) = self.decoder.feed(&mut input) {
            if let Event::Frame { frame, .. } = ev {
                ops.push(frame.opcode);
            }
        }
        for op in ops {
            self.seen.push(op);
            if op == Opcode::CmdAck {
                continue;
            }
            let mut out = [0u8; ssi::MAX_PACKET];
            let n = ssi::encode(
                &Packet { opcode: Opcode::CmdAck, source: Source::Decoder, status: 0, payload: &[] },
                &mut out,
            )
            .unwrap();
            self.to_host.extend(&out[..n]);
            if op == Opcode::StartSession {
                self.to_host.extend([0x07, 0xF3, 0x00, 0x00, 0x03, 0x55, 0x53, 0xFE, 0x5B]);
            }
        }
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

struct NoDelay;

impl embedded_hal_async::delay::DelayNs for NoDelay {
    async fn delay_ns(&mut self, _ns: u32) {}
}

#[test]
fn async_trigger_scan_stop() {
    let mut s: SsiScanner<_, _, 64> = SsiScanner::new(Engine::default(), NoDelay, HostConfig::default());
    block_on(async {
        s.trigger().await.unwrap();
        let scan = s.next_scan(100).await.unwrap().unwrap();
        assert_eq!((scan.code_type, scan.data, scan.symbology), (Some(0x03), &b"US"[..], None));
        assert_eq!(s.next_scan(20).await.unwrap(), None);
        s.stop().await.unwrap();
    });
    let (engine, _) = s.release();
    assert_eq!(engine.seen, [Opcode::StartSession, Opcode::CmdAck, Opcode::StopSession]);
}
