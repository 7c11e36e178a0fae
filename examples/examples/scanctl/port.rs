//! `scanctl --port PATH`: a real engine on a serial port (lockdrv's `SerialPortIo`, the
//! `embedded-io` adapter over serialport), driven by the scanner crate's blocking shells.

use std::time::{Duration, Instant};

use lockdrv::master::serial::{SerialPortIo, StdDelay};
use scanner::driver::blocking::{GrowScanner, RawScanner, SsiScanner};
use scanner::driver::{GrowProfile, Profile, Scan};
use scanner::framer::{FramerConfig, Terminator};
use scanner::grow_host::GrowConfig;
use scanner::host::HostConfig;
use serde_json::{Value, json};

/// The engine's protocol.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Engine {
    /// Raw "serial keyboard" mode, lines ended by CR (listen only).
    Raw,
    /// Zebra SSI.
    Ssi,
    /// Grow 7E-00 (GM65/GM66), command-triggered mode.
    Grow,
}

/// What to do on the port.
pub enum Action {
    /// Print scans until `for_s` seconds passed or `count` scans were printed.
    Listen { for_s: Option<f64>, count: Option<u64> },
    /// Trigger one read and print its scan.
    Trigger { timeout_s: f64 },
    /// Store the engine's provisioning profile.
    Provision,
}

/// One scan as a JSON object.
pub fn scan_json(scan: &Scan<'_>) -> Value {
    json!({
        "aim": scan.symbology.map(|id| id.to_string()),
        "symbology": scan.symbology.map(|id| id.symbology().to_string()),
        "code_type": scan.code_type,
        "data": String::from_utf8_lossy(scan.data),
        "gs1": scan.gs1.is_some(),
    })
}

enum Driver {
    Raw(Box<RawScanner<SerialPortIo, StdDelay, 1024>>),
    Ssi(Box<SsiScanner<SerialPortIo, StdDelay, 1024>>),
    Grow(Box<GrowScanner<SerialPortIo, StdDelay, 1024>>),
}

impl Driver {
    fn next(&mut self, timeout_ms: u64) -> Result<Option<Value>, String> {
        match self {
            Self::Raw(s) => s.next_scan(timeout_ms).map(|o| o.as_ref().map(scan_json)).map_err(|e| e.to_string()),
            Self::Ssi(s) => s.next_scan(timeout_ms).map(|o| o.as_ref().map(scan_json)).map_err(|e| e.to_string()),
            Self::Grow(s) => s.next_scan(timeout_ms).map(|o| o.as_ref().map(scan_json)).map_err(|e| e.to_string()),
        }
    }
}

/// Runs `action`; prints JSON Lines on stdout. Returns whether it succeeded.
///
/// # Errors
/// A message for stderr: the port cannot be opened, the engine did not answer, or the action
/// does not apply to the engine (raw mode has no commands).
pub fn run(path: &str, baud: u32, engine: Engine, action: Action) -> Result<(), String> {
    let io = SerialPortIo::open(path, baud).map_err(|e| format!("cannot open {path} at {baud} baud: {e}"))?;
    let mut driver = match engine {
        Engine::Raw => Driver::Raw(Box::new(RawScanner::new(io, StdDelay, FramerConfig::new(Terminator::Cr), 0))),
        Engine::Ssi => Driver::Ssi(Box::new(SsiScanner::new(io, StdDelay, HostConfig::default()))),
        Engine::Grow => Driver::Grow(Box::new(GrowScanner::new(io, StdDelay, GrowConfig::default()))),
    };
    match action {
        Action::Provision => {
            match &mut driver {
                Driver::Raw(_) => return Err("raw mode has no commands: provision with setup barcodes".into()),
                Driver::Ssi(s) => s.provision(&Profile::ZEBRA_SSI).map_err(|e| e.to_string())?,
                Driver::Grow(s) => s.provision(&GrowProfile::GM65).map_err(|e| e.to_string())?,
            }
            let profile = match engine {
                Engine::Ssi => Profile::ZEBRA_SSI.name,
                _ => GrowProfile::GM65.name,
            };
            println!("{}", json!({ "provisioned": profile }));
            Ok(())
        }
        Action::Trigger { timeout_s } => {
            match &mut driver {
                Driver::Raw(_) => return Err("raw mode has no trigger command: use listen".into()),
                Driver::Ssi(s) => s.trigger().map_err(|e| e.to_string())?,
                Driver::Grow(s) => s.trigger().map_err(|e| e.to_string())?,
            }
            let until = Instant::now() + Duration::from_secs_f64(timeout_s);
            while Instant::now() < until {
                if let Some(v) = driver.next(100)? {
                    println!("{v}");
                    return Ok(());
                }
            }
            Err(format!("no scan within {timeout_s} s"))
        }
        Action::Listen { for_s, count } => {
            let until = for_s.map(|s| Instant::now() + Duration::from_secs_f64(s));
            let mut n = 0u64;
            while until.is_none_or(|u| Instant::now() < u) && count.is_none_or(|c| n < c) {
                if let Some(v) = driver.next(100)? {
                    println!("{v}");
                    n += 1;
                }
            }
            Ok(())
        }
    }
}
