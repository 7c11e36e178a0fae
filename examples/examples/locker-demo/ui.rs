//! Output: the live grid on a terminal (ANSI redraw, throttled), plain progress lines
//! otherwise, or the JSON event stream (`--json`); and the final report.

use std::collections::VecDeque;
use std::io::Write as _;
use std::time::{Duration, Instant};

use lockdrv::compartment::{Alarm, Door, State};

use crate::cabinet::{BOARDS, CHANNELS, Cabinet, size_of};
use crate::events::{Ev, Ms, Report, clock, describe};

/// The length of the scripted day (06:00 to 20:00), ms.
pub const DAY_MS: Ms = 14 * 3_600_000;

/// How output is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One JSON object per line.
    Json,
    /// The live grid (stdout is a terminal).
    Live,
    /// Plain lines.
    Plain,
}

/// The output and the day's figures (counted from the events written).
pub struct Output {
    mode: Mode,
    seed: u64,
    /// The figures.
    pub report: Report,
    recent: VecDeque<String>,
    last_draw: Option<Instant>,
}

fn write_line(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not the daemon's problem.
    let _ = writeln!(out, "{line}");
}

impl Output {
    /// Output in `mode` for the day of `seed`.
    pub fn new(mode: Mode, seed: u64) -> Self {
        Output { mode, seed, report: Report::default(), recent: VecDeque::new(), last_draw: None }
    }

    /// Writes one event at `t`.
    pub fn emit(&mut self, t: Ms, ev: Ev) {
        self.report.count(&ev);
        match self.mode {
            Mode::Json => {
                let mut v = serde_json::to_value(&ev).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("t_ms".into(), serde_json::json!(t));
                }
                write_line(&v.to_string());
            }
            Mode::Plain => {
                if let Some(line) = describe(&ev) {
                    write_line(&format!("{} {line}", clock(t)));
                }
            }
            Mode::Live => {
                if let Some(line) = describe(&ev) {
                    self.recent.push_back(format!("{} {line}", clock(t)));
                    while self.recent.len() > 12 {
                        self.recent.pop_front();
                    }
                }
                if matches!(ev, Ev::Scan { .. } | Ev::Scene { .. }) {
                    // Paced so that a person can follow the day (about 5 s in all).
                    std::thread::sleep(Duration::from_millis(30));
                }
            }
        }
    }

    /// Sets the invariant check count.
    pub fn set_checks(&mut self, checks: u64) {
        self.report.invariant_checks = checks;
    }

    /// Redraws the grid (live mode only; at most every 40 ms).
    pub fn draw<P, Dl, Ck, W>(&mut self, now: Ms, cab: &Cabinet<P, Dl, Ck, W>, queued: usize) {
        if self.mode != Mode::Live || self.last_draw.is_some_and(|t| t.elapsed() < Duration::from_millis(40)) {
            return;
        }
        self.last_draw = Some(Instant::now());
        self.render(now, cab, queued);
    }

    fn render<P, Dl, Ck, W>(&mut self, now: Ms, cab: &Cabinet<P, Dl, Ck, W>, queued: usize) {
        let mut s = String::from("\x1b[H\x1b[2J");
        let progress = (now.min(DAY_MS) * 40 / DAY_MS) as usize;
        s += &format!(
            "locker-demo  seed {}  {}  [{}{}]  {}\n\n",
            self.seed,
            clock(now),
            "#".repeat(progress),
            " ".repeat(40 - progress),
            if cab.powered() { "power on" } else { "\x1b[41mPOWER CUT\x1b[0m" }
        );
        for b in 0..BOARDS {
            let online = cab.board_online(b);
            s += &format!("board {} {}  ", b + 1, if online { "online " } else { "\x1b[41mOFFLINE\x1b[0m" });
            for ch in 0..CHANNELS {
                let i = b * CHANNELS + ch;
                let Some(c) = cab.locker().compartment(i) else { continue };
                let (text, color) = match c.state() {
                    State::Vacant => ("  .  ", "2"),
                    State::Reserved { .. } => (" res ", "36"),
                    State::DepositOpen { .. } => (" IN> ", "1;32"),
                    State::Occupied { .. } => (" [P] ", "32"),
                    State::PickupOpen { .. } => (" <OUT", "1;34"),
                    State::Expired { .. } => (" EXP ", "33"),
                    State::RetrievalOpen { .. } => (" RET ", "1;33"),
                    State::NeedsInspection { .. } => (" ??? ", "35"),
                    State::Faulted { .. } => (" !!! ", "1;31"),
                    State::OutOfService { .. } => (" oos ", "2"),
                };
                let open = c.observed().door == Door::Open;
                let alarm = Alarm::ALL.iter().any(|a| c.alarm(*a));
                let bg = if alarm {
                    ";41"
                } else if open {
                    ";7"
                } else {
                    ""
                };
                s += &format!("\x1b[{color}{bg}m{text}\x1b[0m");
            }
            s += "\n          ";
            for ch in 0..CHANNELS {
                s += &format!("{:>3}{:?} ", b * CHANNELS + ch + 1, size_of(b * CHANNELS + ch));
            }
            s += "\n";
        }
        let r = &self.report;
        s += &format!(
            "\nin {}  picked up {}  retrieved {}  alarms {}  fees {}.{:02}  cloud sent {} (queued {})  invariant checks {}\n\n",
            r.parcels_in,
            r.picked_up,
            r.retrieved,
            r.alarms,
            r.fees / 100,
            r.fees % 100,
            r.delivered,
            queued,
            r.invariant_checks
        );
        for line in &self.recent {
            s += line;
            s += "\n";
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(s.as_bytes());
        let _ = out.flush();
    }

    /// The end: the report (as the last JSON line, or as text).
    pub fn finish<P, Dl, Ck, W>(
        &mut self,
        now: Ms,
        cab: &Cabinet<P, Dl, Ck, W>,
        transactions: u64,
        timeouts: u64,
    ) -> Report {
        if self.mode == Mode::Live {
            self.render(now, cab, 0);
        }
        let report = self.report.clone();
        match self.mode {
            Mode::Json => self.emit(now, Ev::Report(report.clone())),
            Mode::Live | Mode::Plain => {
                for line in report_text(&report, self.seed) {
                    write_line(&line);
                }
                write_line(&format!("  bus transactions       {transactions:>6} ({timeouts} without a reply)"));
            }
        }
        report
    }
}

/// The report as text.
pub fn report_text(r: &Report, seed: u64) -> Vec<String> {
    vec![
        String::new(),
        format!("The day in figures (06:00-20:00, seed {seed})"),
        format!("  parcels in             {:>6}", r.parcels_in),
        format!("  picked up              {:>6}", r.picked_up),
        format!("  retrieved by courier   {:>6}", r.retrieved),
        format!("  alarms raised          {:>6}", r.alarms),
        format!("  fees charged           {:>6}.{:02}", r.fees / 100, r.fees % 100),
        format!("  cloud messages sent    {:>6} ({} dropped while offline)", r.delivered, r.dropped),
        format!("  requests refused       {:>6}", r.refused),
        format!("  invariant checks       {:>6} run, {} violations", r.invariant_checks, r.violations),
    ]
}
