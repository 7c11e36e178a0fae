#![doc = include_str!("../README.md")]
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]

#[cfg(feature = "async")]
pub mod asynch;
pub mod blocking;
pub mod command;
pub mod engine;
pub mod error;
pub mod esp;
pub mod framer;
pub mod mqtt;
pub mod params;
pub mod power;
pub mod response;
pub mod result;
pub mod router;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sms;
pub mod socket;
pub mod uplink;

pub use command::{Command, Form};
pub use error::{ParseError, RouterError};
pub use framer::{Event, Framer};
pub use result::{ErrorCode, FinalResult};
pub use router::{Routed, Router, Urc};
pub use uplink::{LinkState, Message, QoS, Session, Uplink, Will};
