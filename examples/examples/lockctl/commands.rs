//! The bus commands: open the port, pick the dialect, run, print.

use std::io::Write as _;
use std::time::Duration;

use lockproto::{Direction, Lock};

use crate::bus::{self, DoorWatch, Opts};
use crate::dialects::{self, DialectName, JsonDialect, with_dialect};
use crate::sniff::{self, Duplex, Found};
use crate::{BusArgs, BusDialect, Outcome, hex, port};

/// When a command that runs on ends (`--for SECONDS`, `--count N`); both absent: never.
#[derive(Clone, Copy, Default)]
pub struct Until {
    /// Wall-clock limit.
    pub run_for: Option<Duration>,
    /// Number of things printed (frames, changes).
    pub count: Option<u64>,
}

/// Opens the port the options name, at `--baud` or the dialect's factory rate, and says so on
/// stderr (scripts and tests wait for this line before they make traffic).
fn open(bus: &BusArgs, name: DialectName) -> Result<port::SerialPortIo, String> {
    let path = bus.port()?;
    let baud = bus.baud.unwrap_or(name.factory_baud());
    let port = port::open(path, baud)?;
    if matches!(bus.dialect, Some(BusDialect::Auto)) {
        eprintln!("lockctl: {path} open, trying each dialect at its factory baud rate");
    } else {
        eprintln!("lockctl: {path} open, {} at {baud} baud", name.name());
    }
    Ok(port)
}

/// `sniff`: prints every frame on the line; exits 1 when some bytes formed no frame.
pub fn sniff(bus: &BusArgs, until: Until, only: Option<Direction>, gap: Duration) -> Result<Outcome, String> {
    let name = bus.dialect()?;
    let mut port = open(bus, name)?;
    with_dialect!(name, |dialect| sniff_with(dialect, &mut port, bus.json, until, only, gap))
}

fn sniff_with<D: JsonDialect + Clone>(
    dialect: D,
    port: &mut port::SerialPortIo,
    json: bool,
    until: Until,
    only: Option<Direction>,
    gap: Duration,
) -> Result<Outcome, String> {
    let mut decoder = Duplex::new(dialect.clone(), only);
    let mut clean = true;
    let mut frames = 0u64;
    let mut stdout = std::io::stdout().lock();
    sniff::run(port, &mut decoder, until.run_for, gap, |t, found| {
        match found {
            Found::Frame { dir, offset, bytes, message } => {
                frames += 1;
                let mut line = dialects::frame_line(&dialect, dir, offset, &bytes, &message)?;
                let line = if json {
                    if let Some(map) = line.as_object_mut() {
                        map.insert("t_ms".into(), (t.as_millis() as u64).into());
                    }
                    line.to_string()
                } else {
                    format!(
                        "{:>9.3} {:<7} {:<30} {}",
                        t.as_secs_f64(),
                        dialects::dir_name(dir),
                        hex::format(&bytes),
                        line.get("message").map(ToString::to_string).unwrap_or_default()
                    )
                };
                writeln!(stdout, "{line}").and_then(|()| stdout.flush()).map_err(|e| e.to_string())?;
            }
            Found::Rejected(rejection) => {
                clean = false;
                eprintln!("lockctl: {rejection}");
            }
        }
        Ok(until.count.is_none_or(|count| frames < count))
    })?;
    Ok(if clean { Outcome::Done } else { Outcome::Failed })
}

/// How long `scan` waits for each address unless `--timeout-ms` says otherwise: boards answer a
/// status query within a few ms plus the reply's wire time, and every silent address costs
/// this much.
const SCAN_TIMEOUT_MS: u32 = 200;

/// How many addresses `scan` tries by default, from the dialect's lowest.
const SCAN_SPAN: u8 = 16;

/// How many addresses `scan --dialect auto` tries per dialect by default.
const AUTO_SPAN: u8 = 4;

/// The addresses to scan: `--from`/`--to` within the dialect's range, by default `span`
/// addresses from its lowest.
fn addresses(name: DialectName, from: Option<u8>, to: Option<u8>, span: u8) -> Result<(u8, u8), String> {
    let (lo, hi) = name.addresses();
    let from = from.unwrap_or(lo).clamp(lo, hi);
    let to = to.unwrap_or_else(|| lo.saturating_add(span - 1)).clamp(lo, hi);
    if to < from {
        return Err(format!("--from {from} --to {to}: an empty range ({} boards use {lo}..={hi})", name.name()));
    }
    Ok((from, to))
}

fn opts(bus: &BusArgs) -> Opts {
    Opts { json: bus.json, polarity: bus.polarity.map(Into::into).unwrap_or_default(), timeout_ms: bus.timeout_ms }
}

/// `scan`: the boards that answer a status query, for one dialect or (`auto`) for each.
/// Exit 1 when no board answered.
pub fn scan(bus: &BusArgs, from: Option<u8>, to: Option<u8>) -> Result<Outcome, String> {
    let opts = opts(bus);
    let timeout = bus.timeout_ms.unwrap_or(SCAN_TIMEOUT_MS);
    let (names, span) = match bus.dialect {
        Some(BusDialect::Auto) => (DialectName::ALL.to_vec(), AUTO_SPAN),
        _ => (vec![bus.dialect()?], SCAN_SPAN),
    };
    let first = names.first().copied().ok_or("no dialect")?;
    let mut port = open(bus, first)?;
    let mut answered = Vec::new();
    for name in names {
        let baud = bus.baud.unwrap_or(name.factory_baud());
        port::set_baud(&mut port, baud)?;
        let range = addresses(name, from, to, span)?;
        let found = with_dialect!(name, |dialect| bus::scan(dialect, &mut port, range, timeout))?;
        bus::print_scan(name.name(), baud, range, &found, opts)?;
        if !found.is_empty() {
            answered.push(name.name());
        }
    }
    if !bus.json && matches!(bus.dialect, Some(BusDialect::Auto)) {
        match answered.as_slice() {
            [] => eprintln!("lockctl: no dialect answered"),
            names => println!("dialect: {}", names.join(", ")),
        }
    }
    Ok(if answered.is_empty() { Outcome::Failed } else { Outcome::Done })
}

/// `status [BOARD...]`: without boards, the boards a scan finds. Exit 1 when a board named
/// did not answer (its line says offline; the others are still read).
pub fn status(bus: &BusArgs, boards: &[u8], from: Option<u8>, to: Option<u8>) -> Result<Outcome, String> {
    let name = bus.dialect()?;
    let opts = opts(bus);
    let mut port = open(bus, name)?;
    if boards.is_empty() {
        let range = addresses(name, from, to, SCAN_SPAN)?;
        let timeout = bus.timeout_ms.unwrap_or(SCAN_TIMEOUT_MS);
        let found = with_dialect!(name, |dialect| bus::scan(dialect, &mut port, range, timeout))?;
        if found.is_empty() {
            eprintln!("lockctl: no board answered at {}..={}", range.0, range.1);
            return Ok(Outcome::Failed);
        }
        for (board, found) in &found {
            match found {
                bus::Found::Status(status) => bus::print_status(name.name(), *board, status, opts)?,
                bus::Found::Answered(note) => eprintln!("lockctl: board {board} answers, but {note}"),
            }
        }
        if !opts.json {
            println!("{}", crate::report::legend(opts.polarity));
        }
        return Ok(Outcome::Done);
    }
    let all = with_dialect!(name, |dialect| bus::status(dialect, &mut port, boards, opts))?;
    Ok(if all { Outcome::Done } else { Outcome::Failed })
}

/// `unlock BOARD LOCK`: exit 0 door seen open, 1 refused, 3 door not seen open.
pub fn unlock(bus: &BusArgs, board: u8, lock: u8, watch: DoorWatch) -> Result<Outcome, String> {
    let name = bus.dialect()?;
    let lock = Lock::new(lock).ok_or_else(|| format!("lock {lock}: locks are numbered from 1"))?;
    let mut port = open(bus, name)?;
    let code = with_dialect!(name, |dialect| bus::unlock(dialect, &mut port, board, lock, watch, opts(bus)))?;
    Ok(Outcome::Code(code))
}

/// `watch [BOARD...]`: without boards, the boards a scan finds first.
pub fn watch(
    bus: &BusArgs,
    boards: &[u8],
    from: Option<u8>,
    to: Option<u8>,
    interval: Duration,
    until: Until,
) -> Result<Outcome, String> {
    let name = bus.dialect()?;
    let opts = opts(bus);
    let mut port = open(bus, name)?;
    let boards = if boards.is_empty() {
        let range = addresses(name, from, to, SCAN_SPAN)?;
        let timeout = bus.timeout_ms.unwrap_or(SCAN_TIMEOUT_MS);
        let found = with_dialect!(name, |dialect| bus::scan(dialect, &mut port, range, timeout))?;
        found.into_iter().map(|(board, _)| board).collect()
    } else {
        boards.to_vec()
    };
    if boards.is_empty() {
        return Err("no board to watch: none answered the scan".into());
    }
    let list: Vec<String> = boards.iter().map(ToString::to_string).collect();
    eprintln!("lockctl: watching board(s) {} every {} ms", list.join(", "), interval.as_millis());
    with_dialect!(name, |dialect| bus::watch(dialect, &mut port, &boards, interval, until, opts))?;
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_ranges_stay_inside_the_dialect_addresses() {
        // Defaults: 16 addresses from the lowest (all of CU12's 0-15), 4 for `auto`.
        assert_eq!(addresses(DialectName::KerongCu12, None, None, SCAN_SPAN), Ok((0, 15)));
        assert_eq!(addresses(DialectName::KerongCu16, None, None, SCAN_SPAN), Ok((0, 14)));
        assert_eq!(addresses(DialectName::Native, None, None, SCAN_SPAN), Ok((1, 16)));
        assert_eq!(addresses(DialectName::Bcc8a80, None, None, AUTO_SPAN), Ok((1, 4)));
        // Clamped: `--to 0` on a dialect numbered from 1 is its first address.
        assert_eq!(addresses(DialectName::Winnsen, None, Some(0), SCAN_SPAN), Ok((1, 1)));
        assert_eq!(addresses(DialectName::KerongCu12, Some(3), Some(200), SCAN_SPAN), Ok((3, 15)));
        assert!(addresses(DialectName::Wkly, Some(9), Some(4), SCAN_SPAN).is_err());
    }
}
