//! A scriptable, deterministic modem simulator (feature `sim`, host only).
//!
//! [`Sim`] speaks Quectel-style replies to the commands of bring-up and registration
//! (reference §2.2-§2.5): `AT`, `ATE0`/`ATE1`, `AT+CMEE=<n>`, `AT+CPIN?`, `AT+CSQ`,
//! `AT+CREG?`/`AT+CEREG?` (and `=<n>`), `AT+COPS?`, `AT+CGSN`, `AT+QCCID`/`AT+CCID`. Anything
//! else is answered `ERROR`. It boots with `RDY`, `+CFUN: 1`, `+CPIN: READY`, `APP RDY`
//! (§2.2, BG9x order) and ignores commands written before `RDY`.
//!
//! Time is virtual ([`SimClock`], milliseconds); nothing depends on wall-clock speed. Awkward
//! behaviour is scripted: a URC before the next echo, between the lines of the next reply or right
//! after its `OK` (§1.6 cases 2-3), a reply delayed past its timeout or lost, a registration change
//! at a given time, and output split at every byte or into seeded pseudo-random chunks.
//!
//! It implements `embedded_io::{Read, Write, ReadReady}`. `read` never blocks on wall-clock time:
//! when nothing is due it advances the virtual clock to the next scheduled output (the way a
//! blocking UART read would wait), or fails with [`SimError::Idle`] when nothing will ever come.
//! A driver with its own timeouts should poll `read_ready` and advance the clock itself.

pub mod esp;

mod answer;
pub mod broker;
mod mqtt;
mod simcom;
mod sms;
mod socket;
pub mod tcp;
pub mod wire;

use answer::{Answer, DataInput, Sink};
pub use broker::{BrokerError, BrokerMessage, ConnectRequest, Published, RecordingBroker, SimBroker};
use std::boxed::Box;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::vec::Vec;
pub use tcp::TcpBroker;

mod asynch;
mod power;
pub use power::{PinRole, QPOWD_MS, SimPin, SimStatus};

/// A shared virtual clock in milliseconds. Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct SimClock(Rc<Cell<u64>>);

impl SimClock {
    /// A clock at 0 ms.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current virtual time in milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.0.get()
    }

    /// Moves the time forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.0.set(self.0.get().saturating_add(ms));
    }

    /// Moves the time to `ms` if that is later than now.
    pub fn advance_to(&self, ms: u64) {
        if ms > self.0.get() {
            self.0.set(ms);
        }
    }
}

/// How the simulator cuts its output into `read` results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// As much as the caller's buffer holds.
    Whole,
    /// One byte per `read`.
    EveryByte,
    /// Chunks of 1..=8 bytes from a xorshift generator with this seed (0 is replaced by 1).
    Seeded(u64),
}

/// What the SIM card answers to `AT+CPIN?` (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimCard {
    /// `+CPIN: READY`.
    Ready,
    /// `+CME ERROR: 14` (SIM busy) for this many more queries, then ready.
    Busy(u8),
    /// `+CME ERROR: 10` (SIM not inserted).
    Absent,
    /// `+CPIN: SIM PIN`.
    PinRequired,
}

/// Where a scripted URC goes relative to the next command's reply (§1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// After the command was received, before its echo.
    BeforeEcho,
    /// After the first line of the reply (before `OK` when the reply has one information line);
    /// for a command with a data prompt, between the echo and the `>`.
    BetweenLines,
    /// Right after the final result code.
    AfterFinal,
}

/// Errors of the simulator's UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimError {
    /// `read` was called with nothing due and nothing scheduled: it would block forever.
    Idle,
}

impl core::fmt::Display for SimError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Idle => f.write_str("the simulated modem has nothing to send and nothing scheduled"),
        }
    }
}

impl core::error::Error for SimError {}

impl embedded_io::Error for SimError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::TimedOut
    }
}

/// Which vendor's command set the simulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Quectel (EC2x/EG9x/BG9x): `QICSGP`/`QIACT`, `QMT*` (reference §2.6, §2.9).
    #[default]
    Quectel,
    /// SIMCom (SIM7600/A76xx): `CMQTT*` (§2.10), `*ATREADY: 1` banner (§2.2).
    Simcom,
}

/// What the UART input is being read as.
#[derive(Debug)]
enum Input {
    Line,
    Data { input: DataInput, sink: Sink, bytes: Vec<u8> },
}

#[derive(Debug, Clone)]
enum Action {
    Urc(Vec<u8>),
    Registration(u8),
    MqttLinkLost(u8),
}

/// The simulated module. See the module documentation.
#[derive(Debug)]
pub struct Sim {
    clock: SimClock,
    /// Output by (release time, sequence number).
    out: BTreeMap<(u64, u64), Vec<u8>>,
    seq: u64,
    actions: Vec<(u64, Action)>,
    input: Vec<u8>,
    booted_at: u64,
    split: Split,
    rng: u64,
    latency_ms: u64,
    // Scripted quirks for the next command.
    injected: Vec<(Moment, Vec<u8>)>,
    next_delay_ms: u64,
    lose_next: bool,
    // Module state.
    echo: bool,
    cmee: u8,
    sim: SimCard,
    creg_n: u8,
    cereg_n: u8,
    stat: u8,
    rssi: u8,
    operator: Vec<u8>,
    imei: Vec<u8>,
    iccid: Vec<u8>,
    commands: Vec<Vec<u8>>,
    dialect: Dialect,
    mode: Input,
    deferred: Vec<(Moment, Vec<u8>)>,
    mqtt: mqtt::Mqtt,
    sms: sms::Sms,
    sockets: socket::Sockets,
    power: power::Shared,
    boots: u32,
}

impl Sim {
    /// A module powered on at the clock's current time: `RDY` after 100 ms, `+CFUN: 1` and
    /// `+CPIN: READY` after 200 ms, `APP RDY` after 300 ms (§2.2). Registered on the home
    /// network, `+CSQ: 20,99`, echo on, `AT+CMEE=0`.
    pub fn new(clock: SimClock) -> Self {
        let now = clock.now_ms();
        let mut sim = Self {
            clock,
            out: BTreeMap::new(),
            seq: 0,
            actions: Vec::new(),
            input: Vec::new(),
            booted_at: now.saturating_add(100),
            split: Split::Whole,
            rng: 1,
            latency_ms: 20,
            injected: Vec::new(),
            next_delay_ms: 0,
            lose_next: false,
            echo: true,
            cmee: 0,
            sim: SimCard::Ready,
            creg_n: 0,
            cereg_n: 0,
            stat: 1,
            rssi: 20,
            operator: b"CHINA MOBILE".to_vec(),
            imei: b"867698041234567".to_vec(),
            iccid: b"89860025128306012474".to_vec(),
            commands: Vec::new(),
            dialect: Dialect::Quectel,
            mode: Input::Line,
            deferred: Vec::new(),
            mqtt: mqtt::Mqtt::default(),
            sms: sms::Sms::default(),
            sockets: socket::Sockets::default(),
            power: Rc::new(RefCell::new(power::PowerModel::new())),
            boots: 1,
        };
        sim.banner();
        sim
    }

    /// A SIMCom SIM7600/A76xx-style module (reference §2.2): `*ATREADY: 1` after 100 ms,
    /// `+CPIN: READY` after 200 ms, `SMS DONE` and `PB DONE` after 300 ms. Commands written
    /// before the banner are dropped.
    pub fn simcom(clock: SimClock) -> Self {
        let mut sim = Self::new(clock);
        sim.out.clear();
        sim.dialect = Dialect::Simcom;
        sim.banner();
        sim
    }

    /// A module of the given dialect ([`Sim::new`] or [`Sim::simcom`]).
    pub fn with_dialect(clock: SimClock, dialect: Dialect) -> Self {
        match dialect {
            Dialect::Quectel => Self::new(clock),
            Dialect::Simcom => Self::simcom(clock),
        }
    }

    /// The boot banner of the dialect, from now (reference §2.2).
    fn banner(&mut self) {
        let now = self.clock.now_ms();
        self.booted_at = now.saturating_add(100);
        let lines: [&[u8]; 3] = match self.dialect {
            Dialect::Quectel => [b"\r\nRDY\r\n", b"\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n", b"\r\nAPP RDY\r\n"],
            Dialect::Simcom => [b"\r\n*ATREADY: 1\r\n", b"\r\n+CPIN: READY\r\n", b"\r\nSMS DONE\r\n\r\nPB DONE\r\n"],
        };
        for (i, bytes) in (1u64..).zip(lines) {
            self.emit(now.saturating_add(100 * i), bytes);
        }
    }

    /// The module restarts now (brown-out, watchdog): output not yet read is lost, echo is on
    /// again, `AT+CMEE=0`, no PDP context, no MQTT session (the broker sees the link drop and
    /// publishes the will), and the boot banner follows (reference §2.2: a banner mid-session
    /// means the module restarted).
    pub fn restart(&mut self) {
        self.out.clear();
        self.input.clear();
        self.mode = Input::Line;
        self.deferred.clear();
        self.echo = true;
        self.cmee = 0;
        if self.mqtt.connected || self.mqtt.opened.is_some() {
            self.mqtt.broker.drop_link();
        }
        let broker = core::mem::replace(&mut self.mqtt.broker, Box::new(RecordingBroker::new()));
        self.mqtt = mqtt::Mqtt { broker, registered: matches!(self.stat, 1 | 5), ..mqtt::Mqtt::default() };
        self.sms.pending = None;
        self.sockets =
            socket::Sockets { echo: self.sockets.echo, simcom: self.sockets.simcom, ..socket::Sockets::default() };
        self.banner();
    }

    /// The network deactivates the PDP context now: Quectel `+QIURC: "pdpdeact",1`, SIMCom
    /// `+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY` (reference §2.6); an MQTT session on it is lost
    /// (`+QMTSTAT` / `+CMQTTCONNLOST`).
    pub fn pdp_lost(&mut self) {
        self.mqtt.pdp_active = false;
        for conn in self.sockets.conns.values_mut() {
            conn.connected = false;
        }
        let now = self.clock.now_ms();
        let line: &[u8] = match self.dialect {
            Dialect::Quectel => b"+QIURC: \"pdpdeact\",1",
            Dialect::Simcom => b"+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY",
        };
        self.emit_line(now, line);
        if self.mqtt.connected {
            // §2.9 item 7: 2 (PINGREQ failed) asks for a PDP reactivation; §2.10: 3 network closed.
            let code = if self.dialect == Dialect::Quectel { 2 } else { 3 };
            self.mqtt_link_lost(code);
        }
    }

    /// The dialect the simulator speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Replaces the broker behind the module's MQTT client (default: a fresh
    /// [`RecordingBroker`]). Give a [`RecordingBroker`] clone to inspect what was published, or
    /// a [`TcpBroker`] to reach a real broker.
    pub fn set_broker(&mut self, broker: Box<dyn SimBroker>) {
        self.mqtt.broker = broker;
    }

    /// At virtual time `at_ms`, the module loses its MQTT session as with
    /// [`Sim::mqtt_link_lost`].
    pub fn schedule_mqtt_link_lost(&mut self, at_ms: u64, code: u8) {
        self.actions.push((at_ms, Action::MqttLinkLost(code)));
    }

    /// Makes `AT+QIACT` / `AT+NETOPEN` fail (the network refuses the PDP context).
    pub fn refuse_pdp(&mut self, refuse: bool) {
        self.mqtt.refuse_pdp = refuse;
    }

    /// Whether the PDP context is active.
    pub fn pdp_active(&self) -> bool {
        self.mqtt.pdp_active
    }

    /// Whether the module's MQTT client is connected to its broker.
    pub fn mqtt_connected(&self) -> bool {
        self.mqtt.connected
    }

    /// Sets the time between `OK` and an MQTT command's result (`+QMTPUB: ...`, default 50 ms).
    pub fn set_mqtt_result_ms(&mut self, ms: u64) {
        self.mqtt.result_ms = ms;
    }

    /// The broker's acknowledgements of the next `n` QoS ≥ 1 publishes are lost: the module
    /// retransmits with DUP after its packet timeout, and reports failure after its retries.
    pub fn lose_mqtt_acks(&mut self, n: u8) {
        self.mqtt.lost_acks = n;
    }

    /// The module reports its MQTT session closed now (`+QMTSTAT: <idx>,<code>` or
    /// `+CMQTTCONNLOST: 0,<code>`, reference §2.9 item 7, §2.10); the broker sees the link drop
    /// without DISCONNECT and publishes the will.
    pub fn mqtt_link_lost(&mut self, code: u8) {
        let Some(idx) = self.mqtt.opened else { return };
        self.mqtt.broker.drop_link();
        self.mqtt.connected = false;
        self.mqtt.opened = None;
        let line = match self.dialect {
            Dialect::Quectel => format!("+QMTSTAT: {idx},{code}"),
            Dialect::Simcom => format!("+CMQTTCONNLOST: {idx},{code}"),
        };
        let now = self.clock.now_ms();
        self.emit_line(now, line.as_bytes());
    }

    /// Sets the network time `AT+CCLK?` reports (`yy/MM/dd,hh:mm:ss±zz`, reference §2.12).
    pub fn set_network_time(&mut self, cclk: &str) {
        self.sms.cclk = cclk.into();
    }

    /// The SMS the module sent (`AT+CMGS`): destination and text.
    pub fn sms_sent(&self) -> &[(std::string::String, Vec<u8>)] {
        &self.sms.sent
    }

    /// The next `AT+CMGS` fails with `+CMS ERROR: <code>` (reference §1.10, §2.11).
    pub fn fail_next_sms(&mut self, code: u16) {
        self.sms.fail_next = Some(code);
    }

    /// Whether the socket peers echo what they receive back to the module (default: silent).
    pub fn set_socket_echo(&mut self, echo: bool) {
        self.sockets.echo = echo;
    }

    /// Everything the peer of Quectel connection `id` received (`AT+QISEND` data), or `None`
    /// when the id is not open.
    pub fn socket_peer_received(&self, id: u8) -> Option<&[u8]> {
        self.sockets.conns.get(&id).map(|c| c.peer_received.as_slice())
    }

    /// The host and port connection `id` was opened to.
    pub fn socket_remote(&self, id: u8) -> Option<(&str, u16)> {
        self.sockets.conns.get(&id).map(|c| (c.host.as_str(), c.port))
    }

    /// The peer of connection `id` sends `data` now: it waits in the module, announced by
    /// `+QIURC: "recv",<id>` unless an earlier announcement was not read empty yet (§1.9).
    pub fn socket_push(&mut self, id: u8, data: &[u8]) {
        let now = self.clock.now_ms();
        for urc in self.sockets.peer_sends(id, data) {
            self.emit_line(now, &urc);
        }
    }

    /// The peer of connection `id` closes it now: `+QIURC: "closed",<id>` (§2.7).
    pub fn socket_peer_close(&mut self, id: u8) {
        let now = self.clock.now_ms();
        for urc in self.sockets.peer_close(id) {
            self.emit_line(now, &urc);
        }
    }

    /// The next `n` socket sends answer `SEND FAIL` (§2.7: the peer's buffer is full).
    pub fn fail_socket_sends(&mut self, n: u8) {
        self.sockets.fail_sends = n;
    }

    /// The next `AT+QIOPEN` reports `+QIOPEN: <id>,<err>` (§2.7: 565 DNS, 566 connect failed).
    pub fn refuse_next_socket(&mut self, err: u16) {
        self.sockets.refuse_next = Some(err);
    }

    /// Bytes the module holds for connection `id` that the host has not read.
    pub fn socket_unread(&self, id: u8) -> usize {
        self.sockets.conns.get(&id).map_or(0, |c| c.unread.len())
    }
    /// The clock this simulator runs on.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// Sets how output is cut into `read` results.
    pub fn set_split(&mut self, split: Split) {
        self.split = split;
        if let Split::Seeded(seed) = split {
            self.rng = seed.max(1);
        }
    }

    /// Sets the time between a command's echo and its reply (default 20 ms).
    pub fn set_latency_ms(&mut self, ms: u64) {
        self.latency_ms = ms;
    }

    /// Sets the SIM card state.
    pub fn set_sim(&mut self, sim: SimCard) {
        self.sim = sim;
    }

    /// Sets the `+CSQ` rssi (0..=31, 99 unknown; §2.4).
    pub fn set_rssi(&mut self, rssi: u8) {
        self.rssi = rssi;
    }

    /// Sets the registration `stat` silently (no URC), e.g. 2 (searching) before the test. An
    /// unregistered module loses its PDP context ([`Sim::pdp_lost`]).
    pub fn set_registration(&mut self, stat: u8) {
        self.stat = stat;
        self.registration_changed();
    }

    /// Losing the network takes the PDP context (and an MQTT session on it) with it; without
    /// registration `AT+QIACT` / `AT+NETOPEN` fail.
    fn registration_changed(&mut self) {
        self.mqtt.registered = matches!(self.stat, 1 | 5);
        if !self.mqtt.registered && self.mqtt.pdp_active {
            self.pdp_lost();
        }
    }

    /// At virtual time `at_ms`, changes the registration to `stat` and emits `+CREG:`/`+CEREG:`
    /// URCs for the ones enabled with `AT+CREG=<n>`/`AT+CEREG=<n>` (n ≥ 1, §2.5).
    pub fn schedule_registration(&mut self, at_ms: u64, stat: u8) {
        self.actions.push((at_ms, Action::Registration(stat)));
    }

    /// At virtual time `at_ms`, emits `line` as a URC (`\r\n` framed).
    pub fn schedule_urc(&mut self, at_ms: u64, line: &[u8]) {
        self.actions.push((at_ms, Action::Urc(line.to_vec())));
    }

    /// Emits `line` as a URC at `moment` of the next command's reply.
    pub fn inject_urc(&mut self, moment: Moment, line: &[u8]) {
        self.injected.push((moment, line.to_vec()));
    }

    /// Delays the next command's reply (not its echo) by `ms` more.
    pub fn delay_next_reply(&mut self, ms: u64) {
        self.next_delay_ms = ms;
    }

    /// The next command is echoed but never answered.
    pub fn lose_next_reply(&mut self) {
        self.lose_next = true;
    }

    /// The command lines received and processed so far, without the `\r`.
    pub fn commands(&self) -> &[Vec<u8>] {
        &self.commands
    }

    /// Whether echo is on (`ATE1`, the power-on default).
    pub fn echo(&self) -> bool {
        self.echo
    }

    /// The `AT+CMEE` mode.
    pub fn cmee(&self) -> u8 {
        self.cmee
    }

    /// Bytes scheduled but not yet read, whether due or not.
    pub fn pending_output(&self) -> usize {
        self.out.values().map(Vec::len).sum()
    }

    /// The release time of the next scheduled output or action, if any.
    pub fn next_event_ms(&self) -> Option<u64> {
        let out = self.out.keys().next().map(|k| k.0);
        let act = self.actions.iter().map(|a| a.0).min();
        [out, act, self.next_power_ms()].into_iter().flatten().min()
    }

    fn emit(&mut self, at: u64, bytes: &[u8]) {
        self.seq = self.seq.wrapping_add(1);
        self.out.insert((at, self.seq), bytes.to_vec());
    }

    fn emit_line(&mut self, at: u64, line: &[u8]) {
        let mut framed = Vec::with_capacity(line.len().saturating_add(4));
        framed.extend_from_slice(b"\r\n");
        framed.extend_from_slice(line);
        framed.extend_from_slice(b"\r\n");
        self.emit(at, &framed);
    }

    /// Runs the scheduled actions that are due.
    fn pump(&mut self) {
        self.pump_power();
        let now = self.clock.now_ms();
        let mut due: Vec<(u64, Action)> = Vec::new();
        self.actions.retain(|(at, a)| {
            if *at <= now {
                due.push((*at, a.clone()));
                false
            } else {
                true
            }
        });
        due.sort_by_key(|d| d.0);
        // Messages from the broker are sent when the module has nothing else to send (after a
        // command's result, not inside its reply).
        let idle = self.out.is_empty() && matches!(self.mode, Input::Line);
        let urcs = match self.dialect {
            _ if !idle => Vec::new(),
            Dialect::Quectel => self.mqtt.poll_quectel(),
            Dialect::Simcom => self.mqtt.poll_simcom(),
        };
        for urc in urcs {
            self.emit_line(now, &urc);
        }
        for (at, action) in due {
            match action {
                Action::Urc(line) => self.emit_line(at, &line),
                Action::MqttLinkLost(code) => self.mqtt_link_lost(code),
                Action::Registration(stat) => {
                    self.stat = stat;
                    self.registration_changed();
                    if self.creg_n >= 1 {
                        let line = self.reg_line(b"+CREG", self.creg_n, true);
                        self.emit_line(at, &line);
                    }
                    if self.cereg_n >= 1 {
                        let line = self.reg_line(b"+CEREG", self.cereg_n, true);
                        self.emit_line(at, &line);
                    }
                }
            }
        }
    }

    /// `+CREG: [n,]stat[,"lac","ci",act]`; URCs leave out `n` (27.007 §7.2, §2.5).
    fn reg_line(&self, prefix: &[u8], n: u8, urc: bool) -> Vec<u8> {
        let mut line = prefix.to_vec();
        line.extend_from_slice(b": ");
        if !urc {
            line.extend_from_slice(format!("{n},").as_bytes());
        }
        line.extend_from_slice(self.stat.to_string().as_bytes());
        if n >= 2 && matches!(self.stat, 1 | 5) {
            line.extend_from_slice(b",\"1F00\",\"0079D903\",7");
        }
        line
    }

    fn error(&self, code: u16) -> Vec<u8> {
        match self.cmee {
            0 => b"ERROR".to_vec(),
            1 => format!("+CME ERROR: {code}").into_bytes(),
            // Texts of 27.007 §9.2 (reference §1.10).
            _ => {
                let text = match code {
                    10 => "SIM not inserted",
                    14 => "SIM busy",
                    _ => "operation not supported",
                };
                format!("+CME ERROR: {text}").into_bytes()
            }
        }
    }

    /// The reply lines (information lines then the final result) to one command line.
    fn answer(&mut self, cmd: &[u8]) -> Vec<Vec<u8>> {
        let upper = cmd.to_ascii_uppercase();
        let ok = || b"OK".to_vec();
        let set_n = |rest: &[u8]| -> Option<u8> {
            core::str::from_utf8(rest).ok()?.trim().parse::<u8>().ok().filter(|n| *n <= 2)
        };
        if let Some(reply) = self.power_answer(&upper) {
            return reply;
        }
        match upper.as_slice() {
            b"AT" => vec![ok()],
            b"ATE0" => {
                self.echo = false;
                vec![ok()]
            }
            b"ATE1" | b"ATE" => {
                self.echo = true;
                vec![ok()]
            }
            b"AT+CPIN?" => match self.sim {
                SimCard::Ready => vec![b"+CPIN: READY".to_vec(), ok()],
                SimCard::PinRequired => vec![b"+CPIN: SIM PIN".to_vec(), ok()],
                SimCard::Absent => vec![self.error(10)],
                SimCard::Busy(n) => {
                    self.sim = if n <= 1 { SimCard::Ready } else { SimCard::Busy(n - 1) };
                    vec![self.error(14)]
                }
            },
            b"AT+CSQ" => vec![format!("+CSQ: {},99", self.rssi).into_bytes(), ok()],
            b"AT+CREG?" => vec![self.reg_line(b"+CREG", self.creg_n, false), ok()],
            b"AT+CEREG?" => vec![self.reg_line(b"+CEREG", self.cereg_n, false), ok()],
            b"AT+COPS?" => {
                if matches!(self.stat, 1 | 5) {
                    let mut line = b"+COPS: 0,0,\"".to_vec();
                    line.extend_from_slice(&self.operator);
                    line.extend_from_slice(b"\",7");
                    vec![line, ok()]
                } else {
                    vec![b"+COPS: 0".to_vec(), ok()]
                }
            }
            b"AT+CGSN" | b"AT+GSN" => vec![self.imei.clone(), ok()],
            b"AT+CGSN=1" => {
                let mut line = b"+CGSN: \"".to_vec();
                line.extend_from_slice(&self.imei);
                line.push(b'"');
                vec![line, ok()]
            }
            b"AT+QCCID" | b"AT+CCID" => {
                let mut line = if upper == b"AT+QCCID" { b"+QCCID: ".to_vec() } else { b"+CCID: ".to_vec() };
                line.extend_from_slice(&self.iccid);
                vec![line, ok()]
            }
            _ => {
                for (head, which) in [(&b"AT+CMEE="[..], 0), (b"AT+CREG=", 1), (b"AT+CEREG=", 2)] {
                    let Some(n) = upper.strip_prefix(head).and_then(set_n) else { continue };
                    match which {
                        0 => self.cmee = n,
                        1 => self.creg_n = n,
                        _ => self.cereg_n = n,
                    }
                    return vec![ok()];
                }
                vec![self.error(4)]
            }
        }
    }

    /// The answer of the dialect's data-path handlers, else of the common commands.
    fn dispatch(&mut self, line: &[u8]) -> Answer {
        let upper = line.to_ascii_uppercase();
        let handled = match self.dialect {
            Dialect::Quectel => {
                let pdp = self.mqtt.pdp_active;
                self.sockets.quectel(&upper, line, pdp).or_else(|| self.mqtt.quectel(&upper, line))
            }
            Dialect::Simcom => {
                let pdp = self.mqtt.pdp_active;
                self.sockets.simcom(&upper, line, pdp).or_else(|| self.mqtt.simcom(&upper, line))
            }
        };
        if let Some(answer) = handled.or_else(|| self.sms.handle(&upper, line, self.cmee)) {
            return answer;
        }
        Answer::lines(self.answer(line))
    }

    fn command(&mut self, line: Vec<u8>) {
        let now = self.clock.now_ms();
        if !self.accepts_commands(now) {
            return; // off, hung or not booted: dropped silently (§2.2)
        }
        let mut injected = core::mem::take(&mut self.injected);
        injected.retain(|(moment, urc)| {
            if *moment == Moment::BeforeEcho {
                self.emit_line(now, urc);
                false
            } else {
                true
            }
        });
        if self.echo {
            let mut echo = line.clone();
            echo.push(b'\r');
            self.emit(now, &echo);
        }
        let answer = self.dispatch(&line);
        self.commands.push(line);
        let at = now.saturating_add(self.latency_ms).saturating_add(core::mem::take(&mut self.next_delay_ms));
        if core::mem::take(&mut self.lose_next) {
            return;
        }
        if let Some((input, sink)) = answer.prompt {
            // A URC "between the lines" of a prompting command comes between the echo and the
            // prompt (§1.6 case 2); the ones after the final wait for the data's reply.
            injected.retain(|(moment, urc)| {
                if *moment == Moment::BetweenLines {
                    self.emit_line(at, urc);
                    false
                } else {
                    true
                }
            });
            // reference §1.8: CR LF, '>', space, no line end; the reply follows the data.
            self.emit(at, b"\r\n> ");
            self.mode = Input::Data { input, sink, bytes: Vec::new() };
            self.deferred = injected;
            if input == DataInput::Counted(0) {
                self.data_done(sink, Some(Vec::new()));
            }
            return;
        }
        self.emit_answer(at, answer, &injected);
    }

    fn emit_answer(&mut self, at: u64, answer: Answer, injected: &[(Moment, Vec<u8>)]) {
        let urcs = |m: Moment| injected.iter().filter(move |i| i.0 == m).map(|i| i.1.clone());
        for (i, part) in answer.lines.iter().enumerate() {
            self.emit_line(at, part);
            if i == 0 {
                for urc in urcs(Moment::BetweenLines) {
                    self.emit_line(at, &urc);
                }
            }
        }
        for urc in urcs(Moment::AfterFinal) {
            self.emit_line(at, &urc);
        }
        for (delay, line) in answer.results {
            self.emit_line(at.saturating_add(delay), &line);
        }
    }

    /// The data after a prompt is complete (or aborted with ESC: `data` is `None`).
    fn data_done(&mut self, sink: Sink, data: Option<Vec<u8>>) {
        self.mode = Input::Line;
        let mut echoed = Vec::new();
        let answer = match (sink, data) {
            (_, None) => {
                self.mqtt.pending = None;
                self.sms.pending = None;
                self.sockets.sending = None;
                Answer::ok()
            }
            (Sink::Mqtt, Some(data)) => self.mqtt.data(data),
            (Sink::Sms, Some(data)) => self.sms.data(data, self.cmee),
            (Sink::Socket, Some(data)) => {
                let (answer, urcs) = self.sockets.data(data);
                echoed = urcs;
                answer
            }
        };
        let at = self.clock.now_ms().saturating_add(self.latency_ms);
        let injected = core::mem::take(&mut self.deferred);
        self.emit_answer(at, answer, &injected);
        for urc in echoed {
            self.emit_line(at, &urc);
        }
    }

    fn next_chunk_len(&mut self, max: usize) -> usize {
        let n = match self.split {
            Split::Whole => max,
            Split::EveryByte => 1,
            Split::Seeded(_) => {
                let mut x = self.rng;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                self.rng = x;
                usize::try_from(x % 8).unwrap_or(0).saturating_add(1)
            }
        };
        n.min(max)
    }

    fn take_due(&mut self, buf: &mut [u8]) -> usize {
        let now = self.clock.now_ms();
        let want = self.next_chunk_len(buf.len());
        let mut n = 0;
        while n < want {
            let Some(mut entry) = self.out.first_entry() else { break };
            if entry.key().0 > now {
                break;
            }
            let bytes = entry.get_mut();
            let take = (want - n).min(bytes.len());
            for (dst, src) in buf.iter_mut().skip(n).zip(bytes.drain(..take)) {
                *dst = src;
            }
            n += take;
            if bytes.is_empty() {
                entry.remove();
            }
        }
        n
    }
}

impl embedded_io::ErrorType for Sim {
    type Error = SimError;
}

impl embedded_io::ReadReady for Sim {
    fn read_ready(&mut self) -> Result<bool, SimError> {
        self.pump();
        let now = self.clock.now_ms();
        Ok(self.out.keys().next().is_some_and(|k| k.0 <= now))
    }
}

impl embedded_io::Read for Sim {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, SimError> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            self.pump();
            let n = self.take_due(buf);
            if n > 0 {
                return Ok(n);
            }
            match self.next_event_ms() {
                Some(at) => self.clock.advance_to(at),
                None => return Err(SimError::Idle),
            }
        }
    }
}

impl embedded_io::Write for Sim {
    fn write(&mut self, buf: &[u8]) -> Result<usize, SimError> {
        self.pump();
        for &b in buf {
            match &mut self.mode {
                Input::Line if b == b'\r' => {
                    let line = core::mem::take(&mut self.input);
                    let trimmed: Vec<u8> = line.into_iter().filter(|c| *c != b'\n').collect();
                    if !trimmed.is_empty() {
                        self.command(trimmed);
                    }
                }
                // A stray ESC or Ctrl-Z outside input mode is discarded.
                Input::Line if b == 0x1b || b == 0x1a => {}
                Input::Line => self.input.push(b),
                Input::Data { input: DataInput::Counted(n), sink, bytes } => {
                    bytes.push(b);
                    if bytes.len() >= *n {
                        let (sink, data) = (*sink, core::mem::take(bytes));
                        self.data_done(sink, Some(data));
                    }
                }
                Input::Data { input: DataInput::CtrlZ, sink, bytes } => match b {
                    0x1a => {
                        let (sink, data) = (*sink, core::mem::take(bytes));
                        self.data_done(sink, Some(data));
                    }
                    0x1b => {
                        let sink = *sink;
                        self.data_done(sink, None);
                    }
                    _ => bytes.push(b),
                },
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), SimError> {
        Ok(())
    }
}

impl crate::blocking::Clock for SimClock {
    fn now_ms(&mut self) -> u64 {
        self.0.get()
    }
}

impl embedded_hal::delay::DelayNs for SimClock {
    fn delay_ns(&mut self, ns: u32) {
        self.advance(u64::from(ns).div_ceil(1_000_000));
    }
}
