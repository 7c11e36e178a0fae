//! The async Grow shell against a minimal simulated GM65 (reference/scanner.md §5): the same
//! methods as the blocking shell, polled with a no-op waker (the port is always ready).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg(feature = "async")]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use scanner::driver::GrowProfile;
use scanner::driver::asynch::GrowScanner;
use scanner::grow::{self, CommandDecoder, CommandType, Response};
use scanner::grow_host::GrowConfig;
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

/// Zone bits in memory; a trigger in command mode prints one QR scan with its AIM id.
struct Module {
    decoder: CommandDecoder,
    zones: [u8; 0x100],
    to_host: VecDeque<u8>,
    saves: usize,
}

impl embedded_io::ErrorType for Module {
    type Error = std::convert::Infallible;
}

impl embedded_io::ReadReady for Module {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.to_host.is_empty())
    }
}

impl embedded_io_async::Read for Module {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.to_host.len()).min(2);
        for b in buf.iter_mut().take(n) {
            *b = self.to_host.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io_async::Write for Module {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let mut input = buf;
        let mut cmds = Vec::new();
        while let Some(ev) = self.decoder.feed(&mut input) {
            if let Event::Frame { frame, .. } = ev {
                cmds.push((frame.command.kind, usize::from(frame.command.address), frame.command.data.to_vec()));
            }
        }
        for (kind, a, data) in cmds {
            let reply = match kind {
                CommandType::Read => self.zones[a..a + usize::from(data[0])].to_vec(),
                CommandType::Write => {
                    self.zones[a..a + data.len()].copy_from_slice(&data);
                    vec![0]
                }
                _ => {
                    self.saves += 1;
                    vec![0]
                }
            };
            let mut out = [0u8; grow::MAX_RESPONSE];
            let n = grow::encode_response(&Response { status: 0, data: &reply }, &mut out).unwrap();
            self.to_host.extend(&out[..n]);
            if kind == CommandType::Write && a == 0x0002 && self.zones[0] & 0x03 == 0x01 {
                self.to_host.extend(b"]Q1LK1-12345670\r");
            }
        }
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[derive(Default)]
struct NoDelay;

impl embedded_hal_async::delay::DelayNs for NoDelay {
    async fn delay_ns(&mut self, _ns: u32) {}
}

#[test]
fn async_provision_trigger_scan() {
    let m = Module { decoder: CommandDecoder::new(), zones: [0; 0x100], to_host: VecDeque::new(), saves: 0 };
    let mut s: GrowScanner<_, _, 128> = GrowScanner::new(m, NoDelay, GrowConfig::default());
    block_on(async {
        s.provision(&GrowProfile::GM65).await.unwrap();
        s.trigger().await.unwrap();
        let scan = s.next_scan(500).await.unwrap().unwrap();
        assert_eq!(scan.symbology.unwrap().to_string(), "]Q1");
        assert_eq!(scan.data, b"LK1-12345670");
    });
    let (m, _) = s.release();
    assert_eq!(m.saves, 1);
    assert_eq!(m.zones[0] & 0x03, 0x01);
}
