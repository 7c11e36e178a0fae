//! The edge daemon: cabinet, scanner, credentials, cloud sync and output, around one loop in
//! (virtual) time.

use std::collections::BTreeMap;

use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};
use lockdrv::compartment::{
    AttemptPolicy, Credential as StoredCredential, CredentialError, Credentials, Direction, Event, Intent, Parcel,
    ParcelId, Purpose, Role, Size, State,
};
use lockdrv::master::Clock;
use lockdrv::master::serial::{SerialPortIo, StdDelay};
use lockdrv::sim::XorShift64;
use locker_examples::scan_engine::{Label, NoDelay, ScanEngine, ScanEngineUart, with_identifier};
use modem::uplink::Uplink;
use scanner::driver::blocking::RawScanner;
use scanner::pickup::{Credential, PickupPolicy, extract};

use crate::cabinet::{Cabinet, Wire};
use crate::events::{Ev, Ms, Report, clock};
use crate::publish::{Network, Publisher};
use crate::ui::Output;

/// Poll period while something moves (an open, an open door), ms.
const FAST_POLL_MS: Ms = 250;
/// Poll period of every board when the cabinet is quiet on the simulated bus, ms.
pub const IDLE_POLL_MS: Ms = 60_000;
/// The same on a real port, where each read takes real time and long quiet stretches are
/// skipped rather than waited out, ms.
pub const IDLE_POLL_PORT_MS: Ms = 15 * 60_000;
/// Heartbeat period, ms.
const HEARTBEAT_MS: Ms = 15 * 60_000;
/// The terminal the scan engine is mounted in (credential attempts are counted per terminal).
const TERMINAL: u8 = 1;

/// Where scans come from: the simulated engine, or a real engine on a serial port; both read
/// by `scanner`'s real `RawScanner`.
pub enum ScanInput {
    /// The simulated engine (labels are presented by the script).
    Sim(ScanEngine, RawScanner<ScanEngineUart, NoDelay, 512>),
    /// A real engine in raw mode on a serial port (a person scans the label the script asks for).
    Port(RawScanner<SerialPortIo, StdDelay, 512>),
}

impl ScanInput {
    fn scan(&mut self, label: &Label) -> Result<Option<Vec<u8>>, String> {
        match self {
            ScanInput::Sim(engine, scanner) => {
                engine.present(label);
                scanner.next_scan(100).map(|s| s.map(|s| with_identifier(&s))).map_err(|e| format!("{e:?}"))
            }
            ScanInput::Port(scanner) => {
                eprintln!("locker-demo: scan now: {}", describe_label(label));
                scanner.next_scan(30_000).map(|s| s.map(|s| with_identifier(&s))).map_err(|e| e.to_string())
            }
        }
    }
}

/// A label as a person would read it.
pub fn describe_label(label: &Label) -> String {
    match label {
        Label::Sscc(s) => format!("SSCC {s}"),
        Label::Qr(t) => format!("QR {t}"),
    }
}

/// The daemon.
pub struct Daemon<P, Dl, Ck, W, U> {
    /// The cabinet.
    pub cab: Cabinet<P, Dl, Ck, W>,
    /// Cloud sync.
    pub cloud: Publisher<U>,
    scan: ScanInput,
    creds: Credentials<128, 16>,
    /// The couriers' pre-advice: SSCC → parcel and size.
    pub manifest: BTreeMap<String, (ParcelId, Size)>,
    /// Pickup codes sent to recipients (the SMS outbox), by parcel.
    pub codes: BTreeMap<u32, String>,
    rng: XorShift64,
    /// Output.
    pub out: Output,
    busy_until: Ms,
    next_heartbeat: Ms,
    next_full_poll: Ms,
    idle_poll_ms: Ms,
}

impl<P, Dl, Ck, W, U> Daemon<P, Dl, Ck, W, U>
where
    P: Read + Write + ReadReady,
    Dl: DelayNs,
    Ck: Clock,
    W: Wire,
    U: Uplink + Network,
{
    /// A daemon around a booted cabinet.
    pub fn new(
        cab: Cabinet<P, Dl, Ck, W>,
        cloud: Publisher<U>,
        scan: ScanInput,
        seed: u64,
        out: Output,
        idle_poll_ms: Ms,
    ) -> Self {
        let mut d = Daemon {
            cab,
            cloud,
            scan,
            creds: Credentials::new(AttemptPolicy::default()),
            manifest: BTreeMap::new(),
            codes: BTreeMap::new(),
            rng: XorShift64::new(seed ^ 0x5EED_C0DE),
            out,
            busy_until: 0,
            next_heartbeat: 0,
            next_full_poll: 0,
            idle_poll_ms,
        };
        d.settle();
        d
    }

    /// Now, ms since 06:00.
    pub fn now(&mut self) -> Ms {
        self.cab.wire.now_ms()
    }

    /// Handles what the cabinet produced, syncs the cloud, draws.
    fn settle(&mut self) {
        let now = self.cab.wire.now_ms();
        let events = std::mem::take(&mut self.cab.out);
        let mut cloud = Vec::new();
        for ev in events {
            match &ev {
                Ev::Deposited { parcel, .. } => self.issue_code(now, *parcel),
                Ev::State { compartment, state, parcel } => {
                    self.cloud.state(now, *compartment, state, *parcel, &mut cloud);
                }
                Ev::Alarm { compartment, alarm } => self.cloud.alarm(now, *compartment, alarm, true, &mut cloud),
                Ev::AlarmCleared { compartment, alarm } => {
                    self.cloud.alarm(now, *compartment, alarm, false, &mut cloud);
                }
                _ => {}
            }
            self.out.emit(now, ev);
        }
        if now >= self.next_heartbeat && self.cab.powered() {
            self.next_heartbeat = now + HEARTBEAT_MS;
            let occupied = self.cab.locker().compartments().iter().filter(|c| c.state().held().is_some()).count();
            self.cloud.heartbeat(now, occupied, &mut cloud);
        }
        if self.cab.powered() {
            self.cloud.flush(&mut cloud);
        }
        for ev in cloud {
            self.out.emit(now, ev);
        }
        self.out.set_checks(self.cab.checks);
        self.out.draw(now, &self.cab, self.cloud.queued());
    }

    /// Runs the cabinet until `t`: polls fast while something moves, slowly when quiet, and
    /// wakes for the locker's own deadlines.
    pub fn run_until(&mut self, t: Ms) {
        loop {
            let now = self.cab.wire.now_ms();
            if now >= t {
                break;
            }
            let busy = self.cab.busy_boards();
            let watching = now < self.busy_until;
            let fast = watching || busy.contains(&true);
            let mut next = (now + if fast { FAST_POLL_MS } else { self.idle_poll_ms }).min(t);
            if let Some(d) = self.cab.locker().next_deadline()
                && d > now
            {
                next = next.min(d);
            }
            self.cab.wire.advance_to(next);
            // Boards with something moving are read every 250 ms, every board once a minute
            // (and all of them while a scene watches the whole cabinet).
            if watching || next >= self.next_full_poll {
                self.next_full_poll = next + self.idle_poll_ms;
                self.cab.poll_boards();
            } else {
                self.cab.poll_some(busy);
            }
            self.settle();
        }
    }

    /// Keeps polling fast for `ms` (something physical is about to happen).
    pub fn watch(&mut self, ms: Ms) {
        let now = self.now();
        self.busy_until = self.busy_until.max(now + ms);
    }

    /// Narrates a scene.
    pub fn scene(&mut self, title: &str) {
        let now = self.now();
        self.out.emit(now, Ev::Scene { title: title.to_owned() });
    }

    fn refuse(&mut self, what: String, why: String) {
        let now = self.now();
        self.out.emit(now, Ev::Refused { what, why });
    }

    /// A label is scanned at the terminal; returns the compartment opened, if any.
    pub fn scan(&mut self, label: &Label) -> Option<usize> {
        let what = describe_label(label);
        if !self.cab.powered() {
            self.refuse(what, "the terminal has no power".into());
            return None;
        }
        let line = match self.scan.scan(label) {
            Ok(Some(line)) => line,
            Ok(None) => {
                self.refuse(what, "no scan".into());
                return None;
            }
            Err(e) => {
                self.refuse(what, format!("scanner: {e}"));
                return None;
            }
        };
        let policy = PickupPolicy::default();
        let opened = match extract(&policy, &line) {
            Ok(Credential::Sscc(sscc)) => {
                let sscc = String::from_utf8_lossy(sscc).into_owned();
                self.courier(&what, &sscc)
            }
            Ok(Credential::PickupCode(code)) => {
                let code = code.to_vec();
                self.pickup(&what, &code)
            }
            Ok(other) => {
                self.refuse(what, format!("not a parcel label or pickup code: {other:?}"));
                None
            }
            Err(e) => {
                self.refuse(what, e.to_string());
                None
            }
        };
        let now = self.now();
        let outcome = match opened {
            Some(i) => format!("opens #{:02}", i + 1),
            None => "refused".into(),
        };
        self.out.emit(now, Ev::Scan { label: describe_label(label), outcome });
        self.settle();
        opened
    }

    fn courier(&mut self, what: &str, sscc: &str) -> Option<usize> {
        let Some(&(parcel, size)) = self.manifest.get(sscc) else {
            self.refuse(what.to_owned(), "no pre-advice for this SSCC".into());
            return None;
        };
        let intent =
            match self.cab.locker().find(parcel).and_then(|i| self.cab.locker().compartment(i)).map(|c| c.state()) {
                Some(State::Expired { .. }) => Intent::Retrieve { parcel },
                Some(_) => {
                    self.refuse(what.to_owned(), "parcel already in the locker and not expired".into());
                    return None;
                }
                None => Intent::DropOff { size, parcel: Parcel { id: parcel, direction: Direction::Inbound } },
            };
        match self.cab.submit(intent) {
            Ok(()) => self.cab.locker().find(parcel),
            Err(e) => {
                self.refuse(what.to_owned(), e.to_string());
                None
            }
        }
    }

    fn pickup(&mut self, what: &str, code: &[u8]) -> Option<usize> {
        // The first four characters of a code are the parcel number (the rest is the secret).
        let parcel = code.get(..4).and_then(|p| std::str::from_utf8(p).ok()).and_then(|p| p.parse::<u32>().ok());
        let Some(parcel) = parcel.map(ParcelId) else {
            self.refuse(what.to_owned(), "malformed pickup code".into());
            return None;
        };
        let now = self.now();
        let grant = match self.creds.authorize(now, TERMINAL, parcel, Role::Customer, Purpose::Pickup, code) {
            Ok(g) => g,
            Err(CredentialError::LockedOut { until }) => {
                self.refuse(what.to_owned(), format!("locked out until {}", clock(until)));
                return None;
            }
            Err(e) => {
                self.refuse(what.to_owned(), e.to_string());
                return None;
            }
        };
        match self.cab.submit(Intent::Pickup { parcel, role: Role::Customer }) {
            Ok(()) => {
                // Consumed only once the locker sent the pulse (I7).
                self.creds.consume(grant);
                self.cab.locker().find(parcel)
            }
            Err(e) => {
                self.refuse(what.to_owned(), e.to_string());
                None
            }
        }
    }

    /// Issues a new pickup code for `parcel` (after a deposit, or again by the operator).
    pub fn issue_code(&mut self, now: Ms, parcel: u32) {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let secret: String = (0..8)
            .map(|_| char::from(ALPHABET.get(self.rng.below(ALPHABET.len() as u64) as usize).copied().unwrap_or(b'A')))
            .collect();
        let code = format!("{parcel:04}{secret}");
        let salt: [u8; 16] = core::array::from_fn(|_| self.rng.byte());
        let window = self.cab.locker().config().pickup_window_ms;
        // Valid a day past the pickup window: an expired parcel is the courier's, the code is
        // refused by the locker then, not by the store.
        let not_after = now + window + 24 * 3_600_000;
        let credential =
            StoredCredential::new(ParcelId(parcel), Role::Customer, Purpose::Pickup, code.as_bytes(), salt, not_after);
        if self.creds.issue(now, credential).is_ok() {
            self.codes.insert(parcel, code);
        }
    }

    /// An operator's action on compartment `index`.
    pub fn operator(&mut self, index: usize, event: Event) {
        if let Err(e) = self.cab.submit(Intent::Handle { index, event }) {
            self.refuse(format!("operator {event:?} on #{:02}", index + 1), e.to_string());
        }
        self.settle();
    }

    /// Power cut at the controller (and the boards): see [`Cabinet::power_cut`].
    pub fn power_cut(&mut self) {
        self.cab.power_cut();
        self.cloud.reboot();
        self.settle();
    }

    /// Power back: see [`Cabinet::power_back`].
    pub fn power_back(&mut self) {
        self.cab.power_back();
        self.settle();
    }

    /// The network goes away or comes back.
    pub fn network(&mut self, up: bool) {
        self.cloud.link_mut().set_network(up);
        let now = self.now();
        self.out.emit(now, if up { Ev::NetworkUp } else { Ev::NetworkDown });
        self.settle();
    }

    /// The end of the day: the cloud session is closed cleanly and the report emitted.
    pub fn finish(&mut self) -> Report {
        let mut cloud = Vec::new();
        self.cloud.close(&mut cloud);
        let now = self.now();
        for ev in cloud {
            self.out.emit(now, ev);
        }
        self.out.set_checks(self.cab.checks);
        if self.out.report.delivered == 0 {
            eprintln!("locker-demo: warning: no message reached the broker (is it running and reachable?)");
        }
        let stats = self.cab.master_stats();
        self.out.finish(now, &self.cab, stats.transactions, stats.timeouts)
    }
}
