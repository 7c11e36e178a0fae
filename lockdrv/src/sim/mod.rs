//! The board simulator (feature `sim`, host only): N boards of any dialect on one simulated
//! RS-485 bus, each running the firmware core ([`crate::board`]) on a physical model, with a
//! timing model of the wire and seeded fault injection.
//!
//! * In memory: [`bus::Bus`] with a virtual clock; [`bus::Endpoint`] is the master's serial
//!   port (embedded-io `Read`, `Write`, `ReadReady`) and [`bus::SimDelay`] its `DelayNs`, so a
//!   master runs deterministically and instantly.
//! * On a PTY: [`pty::PtyServer`] serves a bus on a kernel pseudo-terminal, so the same driver
//!   code path can be tested through a real serial device (`cargo run --example board-sim`).
//!
//! ```
//! use lockdrv::sim::{Bus, BusConfig, SimDialect};
//! use lockproto::dialect::kerong_cu12::{Cu12Reply, Cu12Request, KerongCu12};
//! use lockproto::Dialect;
//!
//! let dialect = SimDialect::KerongCu12;
//! let bus = Bus::with_boards(dialect, 2, BusConfig::for_dialect(dialect));
//! let request = Cu12Request::QueryStatus { board: 1 };
//! let mut frame = [0u8; 16];
//! let len = KerongCu12::new().encode_request(&request, &mut frame).unwrap();
//! bus.master_write(&frame[..len]);
//! let mut reply = [0u8; 16];
//! let mut got = 0;
//! while got < 10 {
//!     let at = bus.next_byte_us().expect("board 1 answers");
//!     bus.run_until(at);
//!     got += bus.master_read_now(&mut reply[got..]);
//! }
//! let decoded = KerongCu12::new().decode_reply(&reply[..got], Some(&request)).unwrap();
//! assert!(matches!(decoded.message, Cu12Reply::Status { board: 1, .. }));
//! ```

pub mod bus;
pub mod dialects;
pub mod faults;
pub mod node;
pub mod physics;
pub mod pty;
pub mod rng;
pub mod timing;

pub use bus::{Bus, BusConfig, BusStats, Endpoint, Silent, SimDelay};
pub use dialects::{SimDialect, UnknownDialect};
pub use faults::{FaultConfig, FaultStats};
pub use node::{SIM_CH, SimBoard, SimNode};
pub use physics::{Physics, PhysicsConfig};
pub use pty::PtyServer;
pub use rng::XorShift64;
