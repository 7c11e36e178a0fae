//! Runs `decode` and `encode` for whichever dialect the command line names.

use clap::ValueEnum;
use lockproto::dialect::{
    bcc_8a80::Bcc8a80, kerong_cu12::KerongCu12, kerong_cu16::KerongCu16, modbus_relay::ModbusRelay, winnsen::Winnsen,
    wkly::Wkly,
};
use lockproto::native::Native;
use lockproto::{Dialect, Direction, Event, Message, StreamDecoder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{hex, json};

/// The dialects `lockctl` speaks, by the names used on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum DialectName {
    /// Kerong KR-CU12 (vendor document V1.1).
    KerongCu12,
    /// Kerong KR-CU16 / KU16.
    KerongCu16,
    /// Generic 8A/80 BCC lock board.
    #[value(name = "bcc-8a80")]
    Bcc8a80,
    /// "WKLY" framed XOR board.
    Wkly,
    /// Winnsen 0x90 board (no checksum).
    Winnsen,
    /// Modbus-RTU relay boards (Waveshare Relay (D) flash pulses).
    ModbusRelay,
    /// This workspace's native protocol (lockproto/PROTOCOL.md).
    Native,
}

/// A dialect whose messages have a JSON form.
pub trait JsonDialect: Dialect<Request: Serialize + DeserializeOwned, Reply: Serialize + DeserializeOwned> {}
impl<D: Dialect<Request: Serialize + DeserializeOwned, Reply: Serialize + DeserializeOwned>> JsonDialect for D {}

/// Decodes the capture; `Ok(false)` when some bytes were rejected.
pub fn decode(name: DialectName, dir: Direction, reply_to: Option<&str>, hex_args: &[String]) -> Result<bool, String> {
    match name {
        DialectName::KerongCu12 => decode_with(KerongCu12::default(), dir, reply_to, hex_args),
        DialectName::KerongCu16 => decode_with(KerongCu16::default(), dir, reply_to, hex_args),
        DialectName::Bcc8a80 => decode_with(Bcc8a80::default(), dir, reply_to, hex_args),
        DialectName::Wkly => decode_with(Wkly::default(), dir, reply_to, hex_args),
        DialectName::Winnsen => decode_with(Winnsen::default(), dir, reply_to, hex_args),
        DialectName::ModbusRelay => decode_with(ModbusRelay::default(), dir, reply_to, hex_args),
        DialectName::Native => decode_with(Native::default(), dir, reply_to, hex_args),
    }
}

/// Encodes one JSON message and prints its frame.
pub fn encode(name: DialectName, dir: Direction, json: &str) -> Result<bool, String> {
    match name {
        DialectName::KerongCu12 => encode_with(KerongCu12::default(), dir, json),
        DialectName::KerongCu16 => encode_with(KerongCu16::default(), dir, json),
        DialectName::Bcc8a80 => encode_with(Bcc8a80::default(), dir, json),
        DialectName::Wkly => encode_with(Wkly::default(), dir, json),
        DialectName::Winnsen => encode_with(Winnsen::default(), dir, json),
        DialectName::ModbusRelay => encode_with(ModbusRelay::default(), dir, json),
        DialectName::Native => encode_with(Native::default(), dir, json),
    }
}

pub fn dir_name(dir: Direction) -> &'static str {
    match dir {
        Direction::Request => "request",
        Direction::Reply => "reply",
    }
}

fn decode_with<D: JsonDialect>(
    dialect: D,
    dir: Direction,
    reply_to: Option<&str>,
    hex_args: &[String],
) -> Result<bool, String> {
    let pending = match reply_to {
        Some(text) => {
            let bytes = hex::parse(text)?;
            let decoded = dialect.decode_request(&bytes).map_err(|e| format!("--reply-to {text:?}: {e}"))?;
            if decoded.len != bytes.len() {
                return Err(format!(
                    "--reply-to {text:?}: {} trailing byte(s) after the request",
                    bytes.len() - decoded.len
                ));
            }
            Some(decoded.message)
        }
        None => None,
    };
    let chunks = hex_args.iter().map(|text| hex::parse(text)).collect::<Result<Vec<_>, _>>()?;
    let capture: Vec<u8> = chunks.concat();

    let mut decoder = StreamDecoder::<D, 256>::new(dialect, dir);
    decoder.set_pending(pending);
    // Feed argument by argument: a capture arrives in chunks, and frames may span them.
    let mut events = Vec::new();
    for chunk in &chunks {
        events.extend(decoder.feed(chunk));
    }
    events.extend(decoder.finish());

    let mut clean = true;
    for event in events {
        match event {
            Event::Frame { offset, len, message } => {
                let start = usize::try_from(offset).map_err(|e| e.to_string())?;
                let bytes = capture.get(start..start + len).unwrap_or_default();
                println!("{}", frame_line(decoder.dialect(), dir, offset, bytes, &message)?);
            }
            Event::Rejected(rejection) => {
                clean = false;
                eprintln!("lockctl: {rejection}");
            }
        }
    }
    Ok(clean)
}

/// The JSON line `decode` (and `sniff`) print for one frame.
pub fn frame_line<D: JsonDialect>(
    dialect: &D,
    dir: Direction,
    offset: u64,
    bytes: &[u8],
    message: &Message<D::Request, D::Reply>,
) -> Result<Value, String> {
    Ok(json!({
        "dialect": D::NAME,
        "dir": dir_name(dir),
        "offset": offset,
        "bytes": hex::format(bytes),
        "message": wire_json::<D>(message)?,
        "neutral": neutral_json(dialect, message)?,
    }))
}

/// The kind-tagged JSON of a wire message.
pub fn wire_json<D: JsonDialect>(message: &Message<D::Request, D::Reply>) -> Result<Value, String> {
    let external = match message {
        Message::Request(request) => serde_json::to_value(request),
        Message::Reply(reply) => serde_json::to_value(reply),
    };
    Ok(json::to_kind_tagged(external.map_err(|e| e.to_string())?))
}

/// The dialect-neutral meaning of a message (`null` where it has none, e.g. an LED flash).
fn neutral_json<D: JsonDialect>(dialect: &D, message: &Message<D::Request, D::Reply>) -> Result<Value, String> {
    let (board, field, value) = match message {
        Message::Request(request) => match dialect.command(request) {
            Some((board, command)) => (board, "command", serde_json::to_value(command)),
            None => return Ok(Value::Null),
        },
        Message::Reply(reply) => match dialect.response(reply) {
            Some((board, response)) => (board, "response", serde_json::to_value(response)),
            None => return Ok(Value::Null),
        },
    };
    let value = json::to_kind_tagged(value.map_err(|e| e.to_string())?);
    Ok(json!({ "board": board, field: value }))
}

fn encode_with<D: JsonDialect>(dialect: D, dir: Direction, text: &str) -> Result<bool, String> {
    let mut value: Value = serde_json::from_str(text).map_err(|e| format!("message is not JSON: {e}"))?;
    if let Some(message) = value.get_mut("message") {
        value = message.take();
    }
    let external = json::from_kind_tagged(value)?;
    let mut frame = [0u8; 512];
    let len = match dir {
        Direction::Request => {
            let request: D::Request =
                serde_json::from_value(external).map_err(|e| format!("not a {} request: {e}", D::NAME))?;
            dialect.encode_request(&request, &mut frame)
        }
        Direction::Reply => {
            let reply: D::Reply =
                serde_json::from_value(external).map_err(|e| format!("not a {} reply: {e}", D::NAME))?;
            dialect.encode_reply(&reply, &mut frame)
        }
    }
    .map_err(|e| format!("cannot encode: {e}"))?;
    println!("{}", hex::format(frame.get(..len).unwrap_or_default()));
    Ok(true)
}

/// Runs `$body` with `$d` bound to the dialect value that `$name` ([`DialectName`]) names.
macro_rules! with_dialect {
    ($name:expr, |$d:ident| $body:expr) => {
        match $name {
            DialectName::KerongCu12 => {
                let $d = lockproto::dialect::kerong_cu12::KerongCu12::default();
                $body
            }
            DialectName::KerongCu16 => {
                let $d = lockproto::dialect::kerong_cu16::KerongCu16::default();
                $body
            }
            DialectName::Bcc8a80 => {
                let $d = lockproto::dialect::bcc_8a80::Bcc8a80::default();
                $body
            }
            DialectName::Wkly => {
                let $d = lockproto::dialect::wkly::Wkly::default();
                $body
            }
            DialectName::Winnsen => {
                let $d = lockproto::dialect::winnsen::Winnsen::default();
                $body
            }
            DialectName::ModbusRelay => {
                let $d = lockproto::dialect::modbus_relay::ModbusRelay::default();
                $body
            }
            DialectName::Native => {
                let $d = lockproto::native::Native::default();
                $body
            }
        }
    };
}
pub(crate) use with_dialect;

impl DialectName {
    /// Every dialect, in the order `scan --dialect auto` tries them.
    pub const ALL: [DialectName; 7] = [
        DialectName::Native,
        DialectName::KerongCu12,
        DialectName::KerongCu16,
        DialectName::Bcc8a80,
        DialectName::Wkly,
        DialectName::ModbusRelay,
        DialectName::Winnsen,
    ];

    /// The tool name (`kerong-cu12`, ...), as `Dialect::NAME`.
    pub const fn name(self) -> &'static str {
        match self {
            DialectName::KerongCu12 => KerongCu12::NAME,
            DialectName::KerongCu16 => KerongCu16::NAME,
            DialectName::Bcc8a80 => Bcc8a80::NAME,
            DialectName::Wkly => Wkly::NAME,
            DialectName::Winnsen => Winnsen::NAME,
            DialectName::ModbusRelay => ModbusRelay::NAME,
            DialectName::Native => Native::NAME,
        }
    }

    /// The factory baud rate (reference/lockboards.md §0 table, §3.1, §2.1, §1.1, §5.1, §6.1,
    /// §7; native: PROTOCOL.md), as lockproto's constants carry it.
    pub const fn factory_baud(self) -> u32 {
        use lockproto::dialect::{bcc_8a80, kerong_cu12, kerong_cu16, modbus_relay, winnsen, wkly};
        match self {
            DialectName::KerongCu12 => kerong_cu12::DEFAULT_BAUD,
            DialectName::KerongCu16 => kerong_cu16::DEFAULT_BAUD,
            DialectName::Bcc8a80 => bcc_8a80::BAUD_RATE,
            DialectName::Wkly => wkly::BAUD_RATE,
            DialectName::Winnsen => winnsen::BAUD_RATE,
            DialectName::ModbusRelay => modbus_relay::BAUD_RATE,
            DialectName::Native => lockproto::native::DEFAULT_BAUD,
        }
    }

    /// The board addresses the dialect allows: CU12 0-15 (reference/lockboards.md §3.1, at
    /// most 16 boards), CU16 0-14 (0x0F is the bus address), 8A/80 1-31 (§1.1, as Open-Locker
    /// validates it), WKLY 0-31 (§5.1), Winnsen stations 1-255 (§6.1, LocQar), Modbus 1-247,
    /// native 1-254 (PROTOCOL.md §2.3).
    pub const fn addresses(self) -> (u8, u8) {
        match self {
            DialectName::KerongCu12 => (0, lockproto::dialect::kerong_cu12::MAX_BOARD),
            DialectName::KerongCu16 => (0, lockproto::dialect::kerong_cu16::BUS_BOARD - 1),
            DialectName::Bcc8a80 => (1, 31),
            DialectName::Wkly => (0, 31),
            DialectName::Winnsen => (1, 255),
            DialectName::ModbusRelay => (1, 247),
            DialectName::Native => (1, 254),
        }
    }
}
