//! The async `MenuScanner` against a scripted Newland UCS engine (reference/scanner.md §4 item 2):
//! the same methods as the blocking shell, polled with a no-op waker (the port is always ready).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg(feature = "async")]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use scanner::driver::asynch::MenuScanner;
use scanner::menu;
use scanner::menu_host::{Engine, MenuConfig, NEWLAND_UCS_PROFILE};

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Echoes each UCS command with ACK; a QR scan follows `#SCNTRG1`.
#[derive(Default)]
struct Ucs {
    to_host: VecDeque<u8>,
    written: Vec<Vec<u8>>,
}

impl embedded_io::ErrorType for Ucs {
    type Error = std::convert::Infallible;
}

impl embedded_io::ReadReady for Ucs {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.to_host.is_empty())
    }
}

impl embedded_io_async::Read for Ucs {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.to_host.len());
        for b in buf.iter_mut().take(n) {
            *b = self.to_host.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io_async::Write for Ucs {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.written.push(buf.to_vec());
        let body = buf.strip_prefix(menu::NEWLAND_COMMAND_HEAD).unwrap().strip_suffix(menu::NEWLAND_TRAILER).unwrap();
        self.to_host.extend(menu::NEWLAND_REPLY_HEAD);
        self.to_host.extend(body);
        self.to_host.extend(b"\x06;\x03");
        if body == b"#SCNTRG1" {
            self.to_host.extend(b"]Q1PICKUP-1234\r");
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
fn async_provision_trigger_scan_stop() {
    let mut s = MenuScanner::<_, _, 128>::new(Ucs::default(), NoDelay, MenuConfig::new(Engine::NewlandUcs));
    block_on(async {
        s.provision(NEWLAND_UCS_PROFILE).await.unwrap();
        s.trigger().await.unwrap();
        let scan = s.next_scan(100).await.unwrap().unwrap();
        assert_eq!(scan.symbology.map(|id| id.code()), Some(b'Q'));
        assert_eq!(scan.data, b"PICKUP-1234");
        s.stop().await.unwrap();
    });
    let (port, _) = s.release();
    assert_eq!(port.written.len(), 4);
    assert_eq!(port.written[3], b"~\x010000#SCNTRG0;\x03");
}
