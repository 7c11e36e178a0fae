//! `locker-demo`: a whole locker's day on the simulator, through the real driver code paths.
//!
//! ```text
//! cargo run --example locker-demo                 # live grid on a terminal, plain lines otherwise
//! cargo run --example locker-demo -- --seed 42    # another day (same seed, same day)
//! cargo run --example locker-demo -- --json       # the event stream, one JSON object per line
//! ```
//!
//! An edge daemon built only from the workspace's public APIs: 3 native-protocol boards × 16
//! channels (48 compartments of mixed sizes) on a simulated RS-485 bus driven by lockdrv's
//! blocking `BusMaster`; lockdrv's compartment `Locker` decides, with credentials, journal and
//! snapshot; a simulated raw-mode scan engine read by scanner's `RawScanner` and pickup-code
//! extraction; cloud sync through `modem::uplink::Uplink` (a simulated Quectel, SIMCom or ESP-AT
//! module in front of an in-process recording broker, or an in-process sink).
//! Time is virtual: the 14-hour day runs in about a second (a few on a terminal, paced so it
//! can be watched).
//!
//! `--uplink cellular|simcom|esp-at|memory` picks the link by configuration only: the Quectel
//! client over the simulated Quectel modem (default), the SIMCom client over the simulated
//! SIMCom modem, the ESP-AT client over the simulated ESP32 (Wi-Fi), or an in-process sink; the
//! daemon's code is the same. `--dump-published FILE` writes the messages the simulated
//! module/broker recorded as delivered (JSON Lines: topic, payload, qos, retain; the broker's
//! will publications are not in it), the same for every link on the same seed.
//!
//! `--bus-port PATH --dialect native` drives real boards (or `board-sim` on a PTY) instead of
//! the simulated bus; scenes that need to act on the hardware (jam, forced door, cut cable)
//! are then skipped. `--scanner-port PATH` reads a real raw-mode scan engine (the demo asks
//! for each label on stderr). `--modem-port PATH --mqtt HOST:PORT` publishes through a real
//! Quectel module instead of the simulated one.

mod cabinet;
mod cell;
mod daemon;
mod day;
mod events;
mod publish;
mod ui;
mod wifi;
mod words;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use lockdrv::master::blocking::BusMaster;
use lockdrv::master::serial::{SerialPortIo, StdDelay};
use lockdrv::master::{BusDialect, StdClock};
use lockdrv::sim::{Bus, BusConfig, SimDialect};
use locker_examples::cloud::RecordingUplink;
use locker_examples::scan_engine::{NoDelay, scan_engine};
use lockproto::native::Native;
use scanner::driver::blocking::RawScanner;
use scanner::framer::{FramerConfig, Terminator};

use std::net::ToSocketAddrs;

use modem::sim::{RecordingBroker, TcpBroker};
use modem::uplink::Uplink;

use crate::cabinet::{BOARDS, CHANNELS, Cabinet, Wire};
use crate::cell::{CellLink, SerialLink};
use crate::daemon::{Daemon, ScanInput};
use crate::events::Ms;
use crate::publish::{Network, Publisher};
use crate::ui::{Mode, Output};
use crate::wifi::WifiLink;

/// A whole locker's day: 48 compartments, couriers, recipients, faults, power and network cuts.
#[derive(Parser, Debug)]
#[command(name = "locker-demo", version)]
struct Args {
    /// Seed of the day (same seed, same day, same report).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Write the event stream as JSON Lines instead of the grid and report.
    #[arg(long)]
    json: bool,
    /// Plain progress lines even on a terminal.
    #[arg(long)]
    plain: bool,
    /// Parcels in the day (default: 27 to 32, from the seed).
    #[arg(long)]
    parcels: Option<usize>,
    /// Drive real boards on this serial port instead of the simulated bus.
    #[arg(long, value_name = "PATH")]
    bus_port: Option<String>,
    /// The boards' protocol on --bus-port (only `native` is supported).
    #[arg(long, default_value = "native")]
    dialect: String,
    /// Read a real scan engine in raw mode (CR-terminated) on this serial port.
    #[arg(long, value_name = "PATH")]
    scanner_port: Option<String>,
    /// Baud rate of --scanner-port.
    #[arg(long, default_value_t = 9600)]
    scanner_baud: u32,
    /// Publish to a real MQTT broker (e.g. Mosquitto) at HOST:PORT: the simulated module's
    /// built-in MQTT client connects to it (`--uplink cellular`, `simcom` or `esp-at`).
    /// Default: an in-process recording broker.
    #[arg(long, value_name = "HOST:PORT")]
    mqtt: Option<String>,
    /// Use a real Quectel module on this serial port for the uplink (its MQTT client connects
    /// to the broker of --mqtt, which is then required; `--uplink cellular` only).
    #[arg(long, value_name = "PATH")]
    modem_port: Option<String>,
    /// Baud rate of --modem-port.
    #[arg(long, default_value_t = 115_200)]
    modem_baud: u32,
    /// The uplink: `cellular` (modem's Quectel MQTT client over the simulated Quectel modem),
    /// `simcom` (the SIMCom client over the simulated SIMCom modem; its will cannot be
    /// retained), `esp-at` (the ESP-AT client over a simulated ESP32 joined to a simulated
    /// Wi-Fi AP) or `memory` (an in-process sink implementing the same Uplink trait; not with
    /// --mqtt).
    #[arg(long, default_value = "cellular")]
    uplink: String,
    /// Write the messages the simulated module/broker recorded as delivered to FILE, one JSON
    /// object per line: {"topic","payload","qos","retain"} (the broker's wills are left out).
    #[arg(long, value_name = "FILE")]
    dump_published: Option<String>,
    /// Write the last will the far end was given to FILE as one JSON object:
    /// {"will": {"topic","payload","qos","retain"} or null, "published_by_broker": count, or null
    /// when the link does not report it (with --mqtt, the real broker keeps its own record)}.
    #[arg(long, value_name = "FILE")]
    dump_will: Option<String>,
    /// Locker id in the MQTT topics.
    #[arg(long, default_value = "demo-1")]
    locker_id: String,
}

/// Virtual time on the simulated bus: the bus clock is the day's clock.
struct SimWire {
    bus: Bus,
}

impl Wire for SimWire {
    fn now_ms(&mut self) -> Ms {
        self.bus.now_us() / 1000
    }

    fn advance_to(&mut self, t: Ms) {
        self.bus.run_until(t * 1000);
    }
}

/// Wall-clock time on a real port; quiet stretches longer than 2 s are skipped, not waited.
struct PortWire {
    start: Instant,
    skipped: Ms,
}

impl Wire for PortWire {
    fn now_ms(&mut self) -> Ms {
        self.start.elapsed().as_millis() as Ms + self.skipped
    }

    fn advance_to(&mut self, t: Ms) {
        let now = self.now_ms();
        let gap = t.saturating_sub(now);
        if gap <= 2_000 {
            std::thread::sleep(Duration::from_millis(gap));
        } else {
            self.skipped += gap;
        }
    }
}

fn scan_input(args: &Args) -> Result<ScanInput, String> {
    let framing = FramerConfig::new(Terminator::AnyNewline);
    match &args.scanner_port {
        None => {
            let (engine, uart) = scan_engine();
            Ok(ScanInput::Sim(engine, RawScanner::new(uart, NoDelay, framing, 0)))
        }
        Some(path) => {
            let port = SerialPortIo::open(path, args.scanner_baud).map_err(|e| format!("{path}: {e}"))?;
            Ok(ScanInput::Port(RawScanner::new(port, StdDelay, framing, 0)))
        }
    }
}

fn run(args: &Args) -> Result<u64, String> {
    let mode = if args.json {
        Mode::Json
    } else if !args.plain && std::io::stdout().is_terminal() {
        Mode::Live
    } else {
        Mode::Plain
    };
    let (host, port) = match &args.mqtt {
        Some(addr) => {
            let (host, port) = addr.rsplit_once(':').ok_or_else(|| format!("--mqtt {addr}: expected HOST:PORT"))?;
            let port = port.parse::<u16>().map_err(|e| format!("--mqtt {addr}: port: {e}"))?;
            (host.to_owned(), port)
        }
        None => ("broker.invalid".to_owned(), 1883),
    };
    if let Some(path) = &args.modem_port {
        if args.mqtt.is_none() {
            return Err("--modem-port needs --mqtt HOST:PORT (the broker the module connects to)".into());
        }
        if args.uplink != "cellular" {
            return Err(format!("--modem-port drives a Quectel module: not with --uplink {}", args.uplink));
        }
        let link = SerialLink::open(path, args.modem_baud)?;
        return run_with(args, mode, Publisher::new(link, &args.locker_id, &host, port, QUEUE));
    }
    let real_broker = || {
        (host.as_str(), port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .map(TcpBroker::redirect)
            .ok_or_else(|| format!("--mqtt {host}:{port}: cannot resolve"))
    };
    match (args.uplink.as_str(), &args.mqtt) {
        ("cellular", None) => {
            let broker = RecordingBroker::new();
            let link = CellLink::new(broker.clone())?.with_broker_record(broker);
            run_with(args, mode, Publisher::new(link, &args.locker_id, &host, port, QUEUE))
        }
        ("cellular", Some(_)) => {
            let link = CellLink::new(real_broker()?)?;
            run_with(args, mode, Publisher::new(link, &args.locker_id, &host, port, QUEUE))
        }
        // AT+CMQTTWILLMSG has no retain flag: the will goes unretained (see Publisher).
        ("simcom", None) => {
            let broker = RecordingBroker::new();
            let link = CellLink::simcom(broker.clone())?.with_broker_record(broker);
            run_with(args, mode, Publisher::new(link, &args.locker_id, &host, port, QUEUE).with_will_retain(false))
        }
        ("simcom", Some(_)) => {
            let link = CellLink::simcom(real_broker()?)?;
            run_with(args, mode, Publisher::new(link, &args.locker_id, &host, port, QUEUE).with_will_retain(false))
        }
        ("esp-at", None) => {
            let broker = RecordingBroker::new();
            let link = WifiLink::new(broker.clone())?.with_broker_record(broker);
            run_with(args, mode, Publisher::new(link, &args.locker_id, &host, port, QUEUE))
        }
        ("esp-at", Some(_)) => {
            let link = WifiLink::new(real_broker()?)?;
            run_with(args, mode, Publisher::new(link, &args.locker_id, &host, port, QUEUE))
        }
        ("memory", None) => {
            run_with(args, mode, Publisher::new(RecordingUplink::new(), &args.locker_id, &host, port, QUEUE))
        }
        ("memory", Some(_)) => Err("--uplink memory with --mqtt: the in-process sink has no broker".into()),
        (other, _) => Err(format!("--uplink {other}: expected `cellular`, `simcom`, `esp-at` or `memory`")),
    }
}

/// Writes the will the link was given to `path` (`--dump-will`), one JSON object.
fn dump_will<U: Network>(link: &mut U, path: &str) -> Result<(), String> {
    let (given, sent) = link.will().ok_or_else(|| format!("--dump-will {path}: this link records nothing"))?;
    let will = given.map(|m| {
        serde_json::json!({
            "topic": m.topic,
            "payload": String::from_utf8_lossy(&m.payload),
            "qos": m.qos,
            "retain": m.retain,
        })
    });
    let text = serde_json::json!({"will": will, "published_by_broker": sent}).to_string() + "\n";
    std::fs::write(path, text).map_err(|e| format!("--dump-will {path}: {e}"))
}

/// Writes what the link recorded as delivered to `path` (`--dump-published`), JSON Lines.
fn dump_published<U: Network>(link: &mut U, path: &str) -> Result<(), String> {
    let sent = link.published().ok_or_else(|| format!("--dump-published {path}: this link records nothing"))?;
    let mut text = String::new();
    for m in sent {
        let line = serde_json::json!({
            "topic": m.topic,
            "payload": String::from_utf8_lossy(&m.payload),
            "qos": m.qos,
            "retain": m.retain,
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| format!("--dump-published {path}: {e}"))
}

/// Messages kept while the network is down.
const QUEUE: usize = 64;

fn run_with<U: Uplink + Network>(args: &Args, mode: Mode, cloud: Publisher<U>) -> Result<u64, String> {
    let count = args.parcels.unwrap_or(27 + (args.seed % 6) as usize);
    let scan = scan_input(args)?;
    let out = Output::new(mode, args.seed);
    let addresses: [u8; BOARDS] = core::array::from_fn(|i| SimDialect::Native.address(i));
    let report = match &args.bus_port {
        None => {
            let mut config = BusConfig::for_dialect(SimDialect::Native);
            config.seed = args.seed;
            let bus = Bus::new(config);
            for address in addresses {
                let mut board = SimDialect::Native.board_config(address);
                board.channels = CHANNELS as u8;
                bus.add_configured_board(SimDialect::Native, board);
            }
            let dialect = Native::default();
            let mut master_config = dialect.default_config();
            // Look for input every ms rather than every 250 µs: completion is seen up to 1 ms
            // later, which changes nothing here and makes the simulated day 4x cheaper.
            master_config.poll_interval_us = 1_000;
            let master = BusMaster::new(dialect, bus.endpoint(), bus.delay(), bus.clock(), Some(master_config));
            let cab = Cabinet::boot(master, SimWire { bus: bus.clone() }, addresses);
            let mut daemon = Daemon::new(cab, cloud, scan, args.seed, out, daemon::IDLE_POLL_MS);
            day::play(&mut daemon, args.seed, count, Some(&bus));
            let report = daemon.finish();
            if let Some(path) = &args.dump_published {
                dump_published(daemon.cloud.link_mut(), path)?;
            }
            if let Some(path) = &args.dump_will {
                dump_will(daemon.cloud.link_mut(), path)?;
            }
            report
        }
        Some(path) => {
            if args.dialect != "native" {
                return Err(format!("--dialect {}: only `native` is supported", args.dialect));
            }
            let dialect = Native::default();
            let mut config = dialect.default_config();
            // A host port delivers bytes in bursts: a frame ends after 25 ms of silence there
            // (reference/lockboards.md §10 item 1), as lockctl does.
            config.inter_byte_gap_ms = config.inter_byte_gap_ms.max(25);
            let port = SerialPortIo::open(path, lockproto::native::DEFAULT_BAUD).map_err(|e| format!("{path}: {e}"))?;
            let master = BusMaster::new(dialect, port, StdDelay, StdClock::new(), Some(config));
            let wire = PortWire { start: Instant::now(), skipped: 0 };
            let cab = Cabinet::boot(master, wire, addresses);
            let mut daemon = Daemon::new(cab, cloud, scan, args.seed, out, daemon::IDLE_POLL_PORT_MS);
            day::play(&mut daemon, args.seed, count, None);
            let report = daemon.finish();
            if let Some(path) = &args.dump_published {
                dump_published(daemon.cloud.link_mut(), path)?;
            }
            if let Some(path) = &args.dump_will {
                dump_will(daemon.cloud.link_mut(), path)?;
            }
            report
        }
    };
    Ok(report.violations)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(violations) => {
            eprintln!("locker-demo: {violations} invariant violations");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("locker-demo: {e}");
            ExitCode::from(2)
        }
    }
}
