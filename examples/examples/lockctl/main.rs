//! `lockctl`: a protocol analyser, encoder and bus tool for RS-485 lock boards.
//!
//! ```text
//! cargo run --example lockctl -- decode --dialect kerong-cu12 --dir reply "02 00 00 80 10 02 03 99 02 00"
//! cargo run --example lockctl -- encode --dialect kerong-cu12 --dir request '{"kind":"get_status","board":0}'
//! cargo run --example lockctl -- --port /dev/ttyUSB0 --dialect auto scan
//! cargo run --example lockctl -- --port /dev/ttyUSB0 --dialect kerong-cu12 status 0 1
//! cargo run --example lockctl -- --port /dev/ttyUSB0 --dialect kerong-cu12 unlock 1 3
//! cargo run --example lockctl -- --port /dev/ttyUSB0 --dialect kerong-cu12 watch 0 1 --for 60
//! cargo run --example lockctl -- --port /dev/ttyUSB1 --dialect kerong-cu12 sniff
//! ```
//!
//! `decode` prints one JSON object per frame (JSON Lines) and exits non-zero, with one line per
//! rejected run of bytes on stderr, when any byte did not belong to a valid frame. `encode` prints
//! the frame of a message as hex; the `message` that `decode` prints encodes back to the same bytes.
//!
//! The bus commands open `--port` (8N1, at `--baud` or the dialect's factory rate) and talk to
//! the boards through lockdrv's blocking bus master: `scan` (status query per address; `--dialect
//! auto` tries every dialect), `status` (a boards x channels table), `unlock` (the outcome:
//! confirmed, refused, unknown or sent, then whether the door was seen open), `watch` (changes as
//! they happen). `sniff` only listens and decodes both directions of the wire. `--json` makes each
//! print JSON Lines for scripts. The bus options may come before or after the command name.
//!
//! Exit status: 0 success; 1 something reported failed (rejected bytes, an offline board, no
//! board found, an unlock refused); 2 usage or port errors; `unlock`: 3 when the door was not
//! seen open.

mod bus;
mod commands;
mod dialects;
mod hex;
mod json;
mod port;
mod report;
mod sniff;

use std::process::ExitCode;

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use lockproto::{Direction, FeedbackPolarity};

use crate::dialects::DialectName;

#[derive(Parser)]
#[command(name = "lockctl", about = "Decode, encode, sniff and drive RS-485 lock-board buses")]
struct Cli {
    #[command(flatten)]
    bus: BusArgs,
    #[command(subcommand)]
    command: Cmd,
}

/// The options of the commands that use a port; accepted before or after the command name.
#[derive(Args, Clone, Default)]
struct BusArgs {
    /// The serial port (`/dev/ttyUSB0`, `COM3`, a PTY path printed by `board-sim`).
    #[arg(long, value_name = "PATH")]
    port: Option<String>,
    /// Baud rate (default: the dialect's factory rate).
    #[arg(long, value_name = "N")]
    baud: Option<u32>,
    /// The board protocol: kerong-cu12, kerong-cu16, bcc-8a80, wkly, winnsen, modbus-relay,
    /// native; `scan` also takes `auto` (try each dialect at its factory baud rate).
    #[arg(long, value_name = "DIALECT", value_parser = parse_bus_dialect)]
    dialect: Option<BusDialect>,
    /// Print JSON Lines instead of text.
    #[arg(long)]
    json: bool,
    /// Response timeout in ms (default: the dialect's, from its vendor documents; `scan`: 200).
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u32>,
    /// How the lock feedback contacts are wired (installation configuration).
    #[arg(long, value_enum)]
    polarity: Option<Polarity>,
}

/// Lock feedback polarity (lockproto's `FeedbackPolarity`).
#[derive(Clone, Copy, ValueEnum)]
enum Polarity {
    /// An active input means locked (the Kerong CU12 document's convention; the default).
    ActiveWhenLocked,
    /// An active input means unlocked.
    ActiveWhenUnlocked,
}

impl From<Polarity> for FeedbackPolarity {
    fn from(polarity: Polarity) -> FeedbackPolarity {
        match polarity {
            Polarity::ActiveWhenLocked => FeedbackPolarity::ActiveWhenLocked,
            Polarity::ActiveWhenUnlocked => FeedbackPolarity::ActiveWhenUnlocked,
        }
    }
}

impl BusArgs {
    /// These options, with the ones given after the command name taking precedence.
    fn merged(self, later: BusArgs) -> BusArgs {
        BusArgs {
            port: later.port.or(self.port),
            baud: later.baud.or(self.baud),
            dialect: later.dialect.or(self.dialect),
            json: later.json || self.json,
            timeout_ms: later.timeout_ms.or(self.timeout_ms),
            polarity: later.polarity.or(self.polarity),
        }
    }

    fn port(&self) -> Result<&str, String> {
        self.port.as_deref().ok_or_else(|| "--port PATH is required".to_string())
    }

    /// The one dialect named (`auto` is for `scan` only).
    fn dialect(&self) -> Result<DialectName, String> {
        match self.dialect {
            Some(BusDialect::Named(name)) => Ok(name),
            Some(BusDialect::Auto) => Err("--dialect auto works with `scan` only".into()),
            None => Err("--dialect DIALECT is required".into()),
        }
    }
}

/// `--dialect` of the bus commands.
#[derive(Clone, Copy)]
enum BusDialect {
    Auto,
    Named(DialectName),
}

fn parse_bus_dialect(text: &str) -> Result<BusDialect, String> {
    if text == "auto" {
        return Ok(BusDialect::Auto);
    }
    DialectName::from_str(text, false).map(BusDialect::Named).map_err(|_| {
        let names: Vec<&str> = DialectName::ALL.iter().map(|d| d.name()).collect();
        format!("unknown dialect {text:?}; one of: auto, {}", names.join(", "))
    })
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
    /// Find the boards on a bus (a status query to each address); with `--dialect auto`, try
    /// each dialect at its factory baud rate and tell which answers.
    Scan {
        #[command(flatten)]
        bus: BusArgs,
        /// First address (default: the dialect's lowest).
        #[arg(long)]
        from: Option<u8>,
        /// Last address (default: 16 addresses from the lowest; with `auto`, 4).
        #[arg(long)]
        to: Option<u8>,
    },
    /// A table of boards x channels: lock, door, parcel presence. Exits 1 when a board is
    /// offline (the others are still shown).
    Status {
        #[command(flatten)]
        bus: BusArgs,
        /// Board addresses (default: the boards a scan finds).
        boards: Vec<u8>,
        /// Without boards: first address to scan.
        #[arg(long)]
        from: Option<u8>,
        /// Without boards: last address to scan.
        #[arg(long)]
        to: Option<u8>,
    },
    /// Pulse one lock, report the outcome (confirmed, refused, unknown, sent) and whether the
    /// door was then seen open. Exits 0 door seen open, 1 refused, 3 door not seen open.
    Unlock {
        #[command(flatten)]
        bus: BusArgs,
        /// Board address.
        board: u8,
        /// Lock number (from 1).
        lock: u8,
        /// How long to look for the door opening after the outcome, ms.
        #[arg(long, value_name = "MS", default_value_t = 3_000)]
        wait_ms: u64,
        /// The longest unlock pulse, ms: on boards without door sensors a released lock counts
        /// as the door open only after it (default: the Kerong CU12 factory pulse, 550 ms).
        #[arg(long, value_name = "MS", default_value_t = 550)]
        pulse_ms: u64,
    },
    /// Poll boards and print lock, door, presence and online changes as they happen.
    Watch {
        #[command(flatten)]
        bus: BusArgs,
        /// Board addresses (default: the boards a scan finds).
        boards: Vec<u8>,
        /// Without boards: first address to scan.
        #[arg(long)]
        from: Option<u8>,
        /// Without boards: last address to scan.
        #[arg(long)]
        to: Option<u8>,
        /// Stop after this many seconds.
        #[arg(long = "for", value_name = "SECONDS")]
        run_for: Option<f64>,
        /// Stop after this many changes.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// Time between two polls of the same board, ms.
        #[arg(long, value_name = "MS", default_value_t = 200)]
        interval_ms: u64,
    },
    /// Decode the traffic on a port without sending: requests and replies as the wire carries
    /// them, one line per frame (`--json`: the same JSON as `decode`).
    Sniff {
        #[command(flatten)]
        bus: BusArgs,
        /// Stop after this many seconds (default: run until interrupted).
        #[arg(long = "for", value_name = "SECONDS")]
        run_for: Option<f64>,
        /// Stop after this many frames.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// Decode only this direction (default: both, told apart by the order of the traffic).
        #[arg(long, value_enum)]
        dir: Option<Dir>,
        /// An idle line for this long ends a frame (reference/lockboards.md §10: about 25 ms).
        #[arg(long, value_name = "MS", default_value_t = 25)]
        gap_ms: u64,
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

/// How a command ended.
enum Outcome {
    /// Everything as asked.
    Done,
    /// The command ran, but something it reports failed (a rejected byte, an offline board).
    Failed,
    /// Exit with this code (documented by the command).
    Code(u8),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = cli.bus;
    let result = match cli.command {
        Cmd::Decode { dialect, dir, reply_to, hex } => {
            dialects::decode(dialect, dir.into(), reply_to.as_deref(), &hex).map(done_if)
        }
        Cmd::Encode { dialect, dir, json } => dialects::encode(dialect, dir.into(), &json).map(done_if),
        Cmd::Scan { bus, from, to } => commands::scan(&global.merged(bus), from, to),
        Cmd::Status { bus, boards, from, to } => commands::status(&global.merged(bus), &boards, from, to),
        Cmd::Unlock { bus, board, lock, wait_ms, pulse_ms } => {
            let watch = bus::DoorWatch {
                wait: Duration::from_millis(wait_ms),
                interval: Duration::from_millis(100),
                pulse: Duration::from_millis(pulse_ms),
            };
            commands::unlock(&global.merged(bus), board, lock, watch)
        }
        Cmd::Watch { bus, boards, from, to, run_for, count, interval_ms } => {
            let bus = global.merged(bus);
            seconds(run_for).and_then(|run_for| {
                if run_for.is_none() && count.is_none() {
                    eprintln!("lockctl: watching until interrupted (--for SECONDS or --count N to stop)");
                }
                let until = commands::Until { run_for, count };
                commands::watch(&bus, &boards, from, to, Duration::from_millis(interval_ms), until)
            })
        }
        Cmd::Sniff { bus, run_for, count, dir, gap_ms } => {
            let bus = global.merged(bus);
            seconds(run_for).and_then(|run_for| {
                let gap = Duration::from_millis(gap_ms);
                commands::sniff(&bus, commands::Until { run_for, count }, dir.map(Direction::from), gap)
            })
        }
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::FAILURE,
        Ok(Outcome::Code(code)) => ExitCode::from(code),
        Err(message) => {
            eprintln!("lockctl: {message}");
            ExitCode::from(2)
        }
    }
}

fn done_if(clean: bool) -> Outcome {
    if clean { Outcome::Done } else { Outcome::Failed }
}

/// `--for SECONDS`.
fn seconds(value: Option<f64>) -> Result<Option<Duration>, String> {
    value
        .map(|s| Duration::try_from_secs_f64(s).map_err(|_| format!("--for {s}: not a duration in seconds")))
        .transpose()
}
