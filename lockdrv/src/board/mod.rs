//! The board-side firmware core: one firmware that serves the native protocol or stands in for
//! a vendor board (any [`lockproto::Dialect`], through [`protocol::Vendor`]).
//!
//! Layers, each usable alone:
//!
//! * [`pulse::PulseScheduler`]: bounded lock pulses (maximum on-time, at most N at once, the
//!   rest queued; all off at boot).
//! * [`debounce::Debouncer`]: door and presence inputs, time passed in.
//! * [`hardware::Hardware`]: both, plus parameters and the neutral command executor.
//! * [`protocol::Protocol`]: how requests become replies ([`protocol::Vendor`] for the vendor
//!   dialects).
//! * [`native::NativeFirmware`]: the native protocol (reply cache, event log, boot id).
//! * [`core::BoardCore`]: the sans-io firmware: bytes in, bytes out, outputs, deadlines.
//! * [`pins::Board`]: the core on `embedded-hal` pins.

pub mod core;
pub mod debounce;
pub mod hardware;
pub mod native;
pub mod pins;
pub mod protocol;
pub mod pulse;

pub use self::core::BoardCore;
pub use hardware::{BoardConfig, Hardware};
pub use native::{NativeFirmware, NativeIdentity};
pub use pins::{Board, BoardPins, PinError};
pub use protocol::{Protocol, Vendor};
