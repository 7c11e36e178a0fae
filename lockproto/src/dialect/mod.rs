//! The vendor dialects and the trait they share.
//!
//! A dialect is a value (it carries its configuration, e.g. which variant of a conflicting
//! vendor source to speak) implementing [`Dialect`]: both sides of the bus, master and board,
//! use the same codec. Messages are wire-exact per dialect, so every decoded frame encodes
//! back to the identical bytes; [`Dialect::request`] and [`Dialect::response`] map them to the
//! neutral [`crate::model`].

use core::fmt::Debug;

use crate::error::{EncodeError, FrameError};
use crate::model::{Command, Response};

/// A complete frame decoded from the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded<M> {
    /// The message.
    pub message: M,
    /// How many bytes the frame occupied.
    pub len: usize,
}

/// How many replies a request draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReplyExpectation {
    /// The board does not answer this request (e.g. Kerong CU16 unlock, Modbus broadcast writes).
    None,
    /// Exactly one reply, from the addressed board.
    One,
    /// One reply from every board on the bus (Kerong CU12 ADDR 0x10, CU16 0x32 to 0xF0).
    EveryBoard,
}

/// A lock-board frame protocol: both directions, both sides.
///
/// `decode_*` look at the start of `buf` only: they return the message and its length when a
/// complete valid frame starts there (bytes after it are left alone), [`FrameError::Incomplete`]
/// when `buf` is a valid prefix, and any other error when no frame can start at byte 0.
/// The streaming decoder builds resynchronisation on exactly this contract.
pub trait Dialect {
    /// Master → board messages.
    type Request: Clone + Debug + PartialEq;
    /// Board → master messages (including unsolicited ones).
    type Reply: Clone + Debug + PartialEq;
    /// The dialect's name as used by tools (`kerong-cu12`, ...).
    const NAME: &'static str;
    /// The longest frame in either direction, in bytes.
    const MAX_FRAME_LEN: usize;

    /// Decodes a request at the start of `buf`.
    ///
    /// # Errors
    /// [`FrameError::Incomplete`] for a valid prefix; any other [`FrameError`] when no request
    /// starts at byte 0.
    fn decode_request(&self, buf: &[u8]) -> Result<Decoded<Self::Request>, FrameError>;

    /// Decodes a reply at the start of `buf`. `pending` is the request the reply answers, where
    /// known: dialects whose replies are ambiguous without it (8A/80, Winnsen) use it to choose
    /// the layout and to check the echoed fields.
    ///
    /// # Errors
    /// As [`Dialect::decode_request`]; also [`FrameError::Mismatch`] when the reply does not
    /// echo `pending`.
    fn decode_reply(&self, buf: &[u8], pending: Option<&Self::Request>) -> Result<Decoded<Self::Reply>, FrameError>;

    /// Writes `request` as a frame into `out`, returning the frame length.
    ///
    /// # Errors
    /// [`EncodeError`] when a field cannot be represented or `out` is too short.
    fn encode_request(&self, request: &Self::Request, out: &mut [u8]) -> Result<usize, EncodeError>;

    /// Writes `reply` as a frame into `out`, returning the frame length.
    ///
    /// # Errors
    /// [`EncodeError`] when a field cannot be represented or `out` is too short.
    fn encode_reply(&self, reply: &Self::Reply, out: &mut [u8]) -> Result<usize, EncodeError>;

    /// How many replies `request` draws.
    fn reply_expectation(&self, request: &Self::Request) -> ReplyExpectation;

    /// Master side: the request for a neutral `command` to board `board` (wire address).
    ///
    /// # Errors
    /// [`EncodeError::Unsupported`] when the dialect has no such command,
    /// [`EncodeError::OutOfRange`] when the board or lock cannot be addressed.
    fn request(&self, board: u8, command: &Command) -> Result<Self::Request, EncodeError>;

    /// Board side: the board address and neutral command a request carries, or `None` for
    /// requests with no neutral meaning (LED flashing, raw register writes, ...).
    fn command(&self, request: &Self::Request) -> Option<(u8, Command)>;

    /// Board side: the reply board `board` sends to `request` with neutral content `response`.
    ///
    /// # Errors
    /// [`EncodeError::Unsupported`] when the dialect cannot express `response` as an answer to
    /// `request`.
    fn reply(&self, board: u8, request: &Self::Request, response: &Response) -> Result<Self::Reply, EncodeError>;

    /// Master side: the answering board and the neutral meaning of a reply.
    fn response(&self, reply: &Self::Reply) -> Option<(u8, Response)>;
}

pub mod bcc_8a80;
pub mod kerong_cu12;
pub mod kerong_cu16;
pub mod modbus_relay;
pub mod winnsen;
pub mod wkly;
