//! The tokio gateway against `sim::PtyServer` through a kernel PTY (tokio-serial): one task
//! owns the bus, cloned handles ask concurrently, a queued unlock goes before queued reads.
#![cfg(all(feature = "tokio", feature = "sim"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod sim_common;

use sim_common::serve;

use std::cell::RefCell;
use std::sync::atomic::Ordering;

use lockdrv::master::gateway::{self, GatewayError};
use lockdrv::master::{Error, UnlockOutcome};
use lockdrv::sim::SimDialect;
use lockproto::Lock;
use lockproto::dialect::kerong_cu12::KerongCu12;

#[tokio::test(flavor = "current_thread")]
async fn handles_share_one_bus_task_and_an_unlock_goes_first() {
    let (path, stop, server) = serve(SimDialect::KerongCu12, 3);
    let (bus, task) = gateway::open(&path, 19_200, KerongCu12::new(), None).unwrap();
    let order = RefCell::new(Vec::new());
    let (a, b, c) = (bus.clone(), bus.clone(), bus.clone());
    let note = |what: &'static str| order.borrow_mut().push(what);
    // All four are queued before the bus task runs; the unlock, sent last, is served first.
    let (s0, s1, s2, unlock) = tokio::join!(
        async {
            let r = a.status(0).await;
            note("status 0");
            r
        },
        async {
            let r = b.status(1).await;
            note("status 1");
            r
        },
        async {
            let r = c.status(2).await;
            note("status 2");
            r
        },
        async {
            let r = bus.unlock(1, Lock::new(4).unwrap()).await;
            note("unlock");
            r
        },
    );
    for status in [s0, s1, s2] {
        assert_eq!(status.unwrap().locks.reported.len(), 12);
    }
    assert_eq!(unlock.unwrap().outcome, UnlockOutcome::Confirmed);
    assert_eq!(*order.borrow(), vec!["unlock", "status 0", "status 1", "status 2"]);
    let answers = bus.broadcast_status().await.unwrap();
    assert_eq!(answers.len(), 3);
    let stats = bus.stats().await.unwrap();
    assert_eq!(stats.transactions, 5, "{stats:?}");
    assert_eq!(stats.timeouts, 0);
    // A board that is not there: a typed error through the handle.
    match bus.status(9).await {
        Err(GatewayError::Master(Error::Timeout { board: 9 })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(bus.health(9).await.unwrap().consecutive_failures, 1);
    drop((a, b, c, bus));
    task.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();
}
