//! A minimal executor for the async shells over the simulator.

use core::future::Future;
use core::task::{Context, Poll};

/// Polls `future` to completion with a no-op waker: every simulator future completes without
/// real waiting (its delays advance the virtual clock), so a future still pending after 1,000
/// polls is a hang, and the test fails.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("future never completed");
}
