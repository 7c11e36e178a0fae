#![doc = include_str!("../README.md")]
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]

pub mod checksum;
pub mod dialect;
pub mod error;
pub mod model;
pub mod native;
pub mod stream;
mod wire;

pub use dialect::{Decoded, Dialect, ReplyExpectation};
pub use error::{EncodeError, FrameError};
pub use model::{
    BoardInfo, BoardStatus, ChannelBits, Command, DeviceError, DeviceErrorKind, FeedbackPolarity, Lock, LockSet,
    LockState, Parameter, ParameterId, Response, Version,
};
pub use stream::{Direction, Event, Message, Rejection, Stats, StreamDecoder};
