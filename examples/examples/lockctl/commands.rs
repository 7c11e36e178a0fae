//! The bus commands: open the port, pick the dialect, run, print.

use std::io::Write as _;
use std::time::Duration;

use lockproto::Direction;

use crate::dialects::{self, DialectName, JsonDialect, with_dialect};

use crate::sniff::{self, Duplex, Found};
use crate::{BusArgs, Outcome, hex, port};

/// When a command that runs on ends (`--for SECONDS`, `--count N`); both absent: never.
#[derive(Clone, Copy, Default)]
pub struct Until {
    /// Wall-clock limit.
    pub run_for: Option<Duration>,
    /// Number of things printed (frames, changes).
    pub count: Option<u64>,
}

/// Opens the port the options name, at `--baud` or the dialect's factory rate.
fn open(bus: &BusArgs, name: DialectName) -> Result<port::SerialIo, String> {
    let path = bus.port()?;
    let baud = bus.baud.unwrap_or(name.factory_baud());
    let port = port::open(path, baud)?;
    eprintln!("lockctl: {path} open, {} at {baud} baud", name.name());
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
    port: &mut port::SerialIo,
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
