//! `lockctl`: a protocol analyser and encoder for RS-485 lock-board traffic.
//!
//! ```text
//! cargo run --example lockctl -- decode --dialect kerong-cu12 --dir reply "02 00 00 80 10 02 03 99 02 00"
//! cargo run --example lockctl -- encode --dialect kerong-cu12 --dir request '{"kind":"get_status","board":0}'
//! ```
//!
//! `decode` prints one JSON object per frame (JSON Lines) and exits non-zero, with one line per
//! rejected run of bytes on stderr, when any byte did not belong to a valid frame. `encode` prints
//! the frame of a message as hex; the `message` that `decode` prints encodes back to the same bytes.

mod dialects;
mod hex;
mod json;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use lockproto::Direction;

use crate::dialects::DialectName;

#[derive(Parser)]
#[command(name = "lockctl", about = "Decode and encode RS-485 lock-board frames")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Decode captured bytes into frames, one JSON object per line.
    Decode {
        /// The board protocol.
        #[arg(long, value_enum)]
        dialect: DialectName,
        /// Whether the bytes travel from the master (request) or from the boards (reply).
        #[arg(long, value_enum)]
        dir: Dir,
        /// The request the replies answer, as hex: needed where replies are ambiguous without it
        /// (bcc-8a80, winnsen) and used to check echoed fields.
        #[arg(long, value_name = "HEX")]
        reply_to: Option<String>,
        /// Captured bytes, e.g. "02 00 00 80 00 00 03 85" (spaces optional). Several arguments
        /// are one continuous capture.
        #[arg(required = true, value_name = "HEX")]
        hex: Vec<String>,
    },
    /// Encode one message (JSON, as `decode` prints it) into a frame, printed as hex.
    Encode {
        /// The board protocol.
        #[arg(long, value_enum)]
        dialect: DialectName,
        /// Whether the message is a request or a reply.
        #[arg(long, value_enum)]
        dir: Dir,
        /// The message: `{"kind":"unlock","board":1,"lock":1}`, or a whole line printed by `decode`.
        json: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Dir {
    Request,
    Reply,
}

impl From<Dir> for Direction {
    fn from(dir: Dir) -> Direction {
        match dir {
            Dir::Request => Direction::Request,
            Dir::Reply => Direction::Reply,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Decode { dialect, dir, reply_to, hex } => dialects::decode(dialect, dir.into(), reply_to.as_deref(), &hex),
        Cmd::Encode { dialect, dir, json } => dialects::encode(dialect, dir.into(), &json),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("lockctl: {message}");
            ExitCode::from(2)
        }
    }
}
