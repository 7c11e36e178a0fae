//! `board-sim`: simulated lock boards on a PTY, so that `lockctl` (or any master) can be tried
//! without hardware.
//!
//! ```text
//! cargo run --example board-sim -- --dialect kerong-cu12 --boards 3
//! board-sim: serving 3 kerong-cu12 boards on /dev/pts/7
//! ```
//!
//! Then, in another terminal: `lockctl --port /dev/pts/7 --dialect kerong-cu12 ...`.
//! Each board runs the lockdrv firmware core on a simulated cabinet: a pulsed lock's door opens
//! 150 ms later and is shut again 3 s after that (`--open-delay-ms`, `--open-for-ms`); a lock can
//! be jammed (`--jam`), a door opened by hand (`--open-by-hand`). Runs until killed, or for
//! `--for SECONDS`.

mod tap;

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use lockdrv::sim::{Bus, BusConfig, FaultConfig, PtyServer, SimDialect};
use lockproto::Lock;

/// Serve simulated lock boards on a pseudo-terminal.
#[derive(Parser, Debug)]
#[command(name = "board-sim", version)]
struct Args {
    /// Dialect: kerong-cu12, kerong-cu16, bcc-8a80, wkly, winnsen, modbus-relay, native.
    #[arg(long)]
    dialect: SimDialect,
    /// Number of boards (addresses as the dialect numbers them: CU12/CU16 from 0, others from 1).
    #[arg(long, default_value_t = 1)]
    boards: usize,
    /// Baud rate of the simulated wire (default: the dialect's factory rate).
    #[arg(long)]
    baud: Option<u32>,
    /// Seed of the fault injection and board identities.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Faults: `none`, or e.g. `drop=0.001,corrupt=0.001,garbage=0.01,slow=0.01,slow-ms=300,offline=0.001,reboot=0.001`.
    #[arg(long, default_value = "none")]
    faults: FaultConfig,
    /// Board reply latency in ms (default: the dialect's modelled latency).
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Jam a lock: `BOARD:LOCK` (board address as on the wire), repeatable. A jammed lock
    /// pulses, but its door stays shut.
    #[arg(long = "jam", value_parser = parse_jam)]
    jams: Vec<(u8, u8)>,
    /// Put a parcel in a compartment: `BOARD:LOCK`, repeatable (boards with presence sensors,
    /// native and kerong-cu16, report it).
    #[arg(long = "parcel", value_parser = parse_jam)]
    parcels: Vec<(u8, u8)>,
    /// Someone opens a door by hand (a service key): `BOARD:LOCK@MS`, MS after the master's
    /// first request arrives; the door stays open for `--open-for-ms`. Repeatable.
    #[arg(long = "open-by-hand", value_parser = parse_hand)]
    hand_openings: Vec<(u8, u8, u64)>,
    /// Also serve a second PTY that carries a copy of all bus traffic (requests and replies),
    /// for `lockctl sniff`; its path is printed on the third line.
    #[arg(long)]
    tap: bool,
    /// Time from the pulse to the door springing open, ms.
    #[arg(long, default_value_t = 150)]
    open_delay_ms: u64,
    /// How long an opened door stays open before it is shut again, ms.
    #[arg(long, default_value_t = 3_000)]
    open_for_ms: u64,
    /// Replies that overlap on the wire garble each other (default: boards wait for a free line).
    #[arg(long)]
    collisions: bool,
    /// Stop after this many seconds (default: run until killed).
    #[arg(long = "for")]
    run_for: Option<f64>,
}

/// Virtual time run before serving, so the boards' inputs are debounced (lockdrv board
/// default: 20 ms).
const SETTLE_US: u64 = 100_000;

fn main() -> ExitCode {
    let args = Args::parse();
    let dialect = args.dialect;
    if args.boards == 0 || args.boards > dialect.max_boards() {
        eprintln!("board-sim: --boards must be 1..={} for {dialect}", dialect.max_boards());
        return ExitCode::from(2);
    }
    let mut config = BusConfig::for_dialect(dialect);
    config.seed = args.seed;
    config.faults = args.faults;
    if let Some(baud) = args.baud {
        config.baud = baud;
    }
    if let Some(ms) = args.latency_ms {
        config.reply_latency_us = ms * 1_000;
    }
    config.collisions = args.collisions;
    config.physics.open_delay_us = args.open_delay_ms * 1_000;
    config.physics.open_for_us = args.open_for_ms * 1_000;
    let bus = Bus::with_boards(dialect, args.boards, config);
    for (what, list) in [("jam", &args.jams), ("parcel", &args.parcels)] {
        for &(board, lock) in list {
            let index = (0..args.boards).find(|&i| dialect.address(i) == board);
            let lock = Lock::new(lock).filter(|l| l.get() <= dialect.channels());
            let (Some(index), Some(lock)) = (index, lock) else {
                eprintln!("board-sim: --{what} {board}:{}: no such board or lock", lock.map_or(0, Lock::get));
                return ExitCode::from(2);
            };
            bus.with_board(index, |b| match what {
                "jam" => b.physics_mut().set_jammed(lock, true),
                _ => b.physics_mut().set_parcel(lock, true),
            });
        }
    }
    // Let the boards sample the parcels and jams set above and debounce them (20 ms), so the
    // very first status read reports them.
    let now = bus.now_us();
    for index in 0..args.boards {
        bus.with_board(index, |b| b.advance(now));
    }
    bus.advance(SETTLE_US);
    let mut hand_openings = Vec::new();
    for &(board, lock, after_ms) in &args.hand_openings {
        let index = (0..args.boards).find(|&i| dialect.address(i) == board);
        let Some((index, lock)) = index.zip(Lock::new(lock).filter(|l| l.get() <= dialect.channels())) else {
            eprintln!("board-sim: --open-by-hand {board}:{lock}@{after_ms}: no such board or lock");
            return ExitCode::from(2);
        };
        hand_openings.push((index, lock, after_ms));
    }
    if args.tap {
        return serve_tapped(&args, bus, config, &hand_openings);
    }
    let mut server = match PtyServer::new(bus) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("board-sim: cannot create a PTY: {e}");
            return ExitCode::FAILURE;
        }
    };
    announce(&args, server.path(), &config);
    let stop = AtomicBool::new(false);
    let served = if hand_openings.is_empty() {
        server.run(run_for(&args), &stop)
    } else {
        serve_with_hand_openings(&mut server, run_for(&args), &stop, &hand_openings, config.physics.open_for_us)
    };
    finish(served, server.bus())
}

/// `--tap`: serves on a PTY of its own with a copy of the wire on a second one.
fn serve_tapped(args: &Args, bus: Bus, config: BusConfig, hand_openings: &[(usize, Lock, u64)]) -> ExitCode {
    let (mut port, path, mut tap, tap_path) = match tap::pty().and_then(|(p, a)| tap::pty().map(|(t, b)| (p, a, t, b)))
    {
        Ok(ports) => ports,
        Err(e) => {
            eprintln!("board-sim: cannot create a PTY: {e}");
            return ExitCode::FAILURE;
        }
    };
    announce(args, &path, &config);
    say(format_args!("board-sim: tap (a copy of all bus traffic, for sniffing) on {tap_path}"));
    let stop = AtomicBool::new(false);
    let open_for_us = config.physics.open_for_us;
    let served = tap::serve(&bus, &mut port, &mut tap, run_for(args), &stop, |first_us| {
        schedule_hand_openings(&bus, hand_openings, first_us, open_for_us);
    });
    finish(served, &bus)
}

fn run_for(args: &Args) -> Option<Duration> {
    args.run_for.filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

/// The two lines a script reads: the path first.
fn announce(args: &Args, path: &str, config: &BusConfig) {
    let dialect = args.dialect;
    let first = dialect.address(0);
    let last = dialect.address(args.boards - 1);
    say(format_args!("board-sim: serving {} {dialect} boards on {path}", args.boards));
    say(format_args!(
        "board-sim: addresses {first}..={last}, {} channels each, {} baud, faults {}, seed {}",
        dialect.channels(),
        config.baud,
        config.faults,
        config.seed
    ));
}

fn finish(served: std::io::Result<()>, bus: &Bus) -> ExitCode {
    match served {
        Ok(()) => {
            let stats = bus.stats();
            say(format_args!(
                "board-sim: done: {} bytes in, {} bytes out, {} replies, faults {:?}",
                stats.bytes_to_boards, stats.bytes_to_master, stats.replies, stats.faults
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("board-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Each door opens by hand `after_ms` after the master's first request (bus time `first_us`).
fn schedule_hand_openings(bus: &Bus, openings: &[(usize, Lock, u64)], first_us: u64, open_for_us: u64) {
    for &(index, lock, after_ms) in openings {
        bus.with_board(index, |b| b.physics_mut().open_by_hand(lock, first_us + after_ms * 1_000, open_for_us));
    }
}

/// Prints a line and flushes it at once (a script waits for the path); a closed stdout (the
/// reader took the first line and left) must not stop the server.
fn say(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Serves in short slices until the master's first byte arrives, then schedules the hand
/// openings relative to it (so that a client started late still sees them), and serves on.
fn serve_with_hand_openings(
    server: &mut PtyServer,
    run_for: Option<Duration>,
    stop: &AtomicBool,
    openings: &[(usize, Lock, u64)],
    open_for_us: u64,
) -> std::io::Result<()> {
    const SLICE: Duration = Duration::from_millis(10);
    let start = Instant::now();
    while server.bus().stats().bytes_to_boards == 0 {
        let left = run_for.map(|d| d.saturating_sub(start.elapsed()));
        if left.is_some_and(|d| d.is_zero()) || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        server.run(Some(left.map_or(SLICE, |d| d.min(SLICE))), stop)?;
    }
    let first_us = server.bus().now_us();
    for &(index, lock, after_ms) in openings {
        server
            .bus()
            .with_board(index, |b| b.physics_mut().open_by_hand(lock, first_us + after_ms * 1_000, open_for_us));
    }
    server.run(run_for.map(|d| d.saturating_sub(start.elapsed())), stop)
}

/// `BOARD:LOCK@MS`, all decimal.
fn parse_hand(text: &str) -> Result<(u8, u8, u64), String> {
    let (place, ms) = text.split_once('@').ok_or("expected BOARD:LOCK@MS")?;
    let (board, lock) = parse_jam(place)?;
    let ms = ms.trim().parse().map_err(|_| format!("bad time {ms:?} (ms)"))?;
    Ok((board, lock, ms))
}

/// `BOARD:LOCK`, both decimal.
fn parse_jam(text: &str) -> Result<(u8, u8), String> {
    let (board, lock) = text.split_once(':').ok_or("expected BOARD:LOCK")?;
    let board = board.trim().parse().map_err(|_| format!("bad board {board:?}"))?;
    let lock = lock.trim().parse().map_err(|_| format!("bad lock {lock:?}"))?;
    Ok((board, lock))
}
