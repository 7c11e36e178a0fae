//! Errors of framing, routing and parsing.
//!
//! Every parse error says *what* (the field being read) and *where* (the byte offset inside
//! the line handed to the parser), like the errors of `lockproto`.

use core::fmt;

/// Why a response or URC line could not be parsed into its typed form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The line does not start with the prefix this parser reads (`+CREG:`, `+CSQ:`, ...).
    Prefix {
        /// The prefix expected.
        expected: &'static str,
    },
    /// A field is missing (the line ended before it).
    Missing {
        /// Name of the field (3GPP TS 27.007 or vendor manual parameter name).
        field: &'static str,
        /// Offset of the end of the line.
        offset: usize,
    },
    /// A field is present but its text is not a valid value.
    Invalid {
        /// Name of the field.
        field: &'static str,
        /// Offset of the first byte of the field.
        offset: usize,
    },
    /// A quoted string is not terminated (V.250 §5.4.2.2 string constants).
    Unterminated {
        /// Offset of the opening quote.
        offset: usize,
    },
    /// The line has more or fewer fields than any form of this response.
    Arity {
        /// The number of fields found.
        found: usize,
    },
}

impl ParseError {
    /// The byte offset inside the line the error points at, where it names one.
    pub fn offset(&self) -> Option<usize> {
        match *self {
            ParseError::Missing { offset, .. }
            | ParseError::Invalid { offset, .. }
            | ParseError::Unterminated { offset } => Some(offset),
            ParseError::Prefix { .. } => Some(0),
            ParseError::Arity { .. } => None,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Prefix { expected } => write!(f, "line does not start with {expected}"),
            ParseError::Missing { field, offset } => write!(f, "offset {offset}: field <{field}> missing"),
            ParseError::Invalid { field, offset } => write!(f, "offset {offset}: field <{field}> invalid"),
            ParseError::Unterminated { offset } => write!(f, "offset {offset}: unterminated quoted string"),
            ParseError::Arity { found } => write!(f, "{found} field(s): no form of this response has that many"),
        }
    }
}

impl core::error::Error for ParseError {}

/// Why the router refused a request from the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouterError {
    /// A command is still pending: finish or cancel it first.
    Busy,
    /// The previous command was cancelled or timed out and its late reply may still arrive:
    /// wait for a quiet period, then call [`crate::router::Router::drained`].
    Draining,
}

impl fmt::Display for RouterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouterError::Busy => f.write_str("a command is already pending"),
            RouterError::Draining => f.write_str("draining the reply of a cancelled command"),
        }
    }
}

impl core::error::Error for RouterError {}
