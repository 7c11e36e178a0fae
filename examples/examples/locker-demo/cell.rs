//! The cellular uplinks: modem's real Quectel MQTT client (`AT+QMT*`, the default) or SIMCom
//! MQTT client (`AT+CMQTT*`, `--uplink simcom`) over the simulated modem of that dialect, whose
//! built-in MQTT client talks to an in-process recording broker, or to a real broker with
//! `--mqtt HOST:PORT` (modem's `TcpBroker`, MQTT 3.1.1 over TCP).
//!
//! `--modem-port PATH` puts the same client on a real module's serial port instead
//! ([`SerialLink`]).
//!
//! A network outage is modelled where it happens: the module reports its MQTT link lost
//! (`+QMTSTAT`, so the broker sees no DISCONNECT and publishes the will), and until the network
//! is back every new connection attempt fails as an unreachable host ([`NetGate`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use lockdrv::master::serial::{SerialPortIo, StdDelay};
use modem::blocking::Modem;
use modem::mqtt::quectel::{QuectelConfig, QuectelMqtt};
use modem::mqtt::simcom::{SimcomConfig, SimcomMqtt};
use modem::sim::{BrokerError, BrokerMessage, ConnectRequest, RecordingBroker, Sim, SimBroker, SimClock};
use modem::uplink::{LinkState, Message, QoS, Session, Uplink};

use crate::publish::{Network, Sent};

/// A broker behind a network that can go away. It also logs every PUBLISH the module delivered
/// (`--dump-published`): the broker's own will publications are not PUBLISHes from the module,
/// and a DUP retransmission repeats a message already logged.
#[derive(Debug)]
pub struct NetGate<B> {
    inner: B,
    up: Rc<Cell<bool>>,
    log: SentLog,
}

impl<B: SimBroker> SimBroker for NetGate<B> {
    fn open(&mut self, host: &str, port: u16) -> Result<(), BrokerError> {
        if !self.up.get() {
            return Err(BrokerError::Unreachable("no network".into()));
        }
        self.inner.open(host, port)
    }

    fn connect(&mut self, request: &ConnectRequest) -> Result<u8, BrokerError> {
        if !self.up.get() {
            return Err(BrokerError::Closed);
        }
        self.inner.connect(request)
    }

    fn publish(&mut self, message: &BrokerMessage, dup: bool) -> Result<(), BrokerError> {
        if !self.up.get() {
            return Err(BrokerError::Closed);
        }
        self.inner.publish(message, dup)?;
        if !dup {
            self.log.borrow_mut().push(Sent {
                topic: message.topic.clone(),
                payload: message.payload.clone(),
                qos: message.qos,
                retain: message.retain,
            });
        }
        Ok(())
    }

    fn subscribe(&mut self, filter: &str, qos: u8) -> Result<u8, BrokerError> {
        if !self.up.get() {
            return Err(BrokerError::Closed);
        }
        self.inner.subscribe(filter, qos)
    }

    fn poll(&mut self) -> Vec<BrokerMessage> {
        self.inner.poll()
    }

    fn is_connected(&self) -> bool {
        self.up.get() && self.inner.is_connected()
    }

    fn disconnect(&mut self) {
        self.inner.disconnect();
    }

    fn drop_link(&mut self) {
        self.inner.drop_link();
    }
}

/// The Quectel client over the simulated modem.
pub type Client = QuectelMqtt<Sim, SimClock, SimClock>;

/// The SIMCom client over the simulated modem.
pub type SimcomClient = SimcomMqtt<Sim, SimClock, SimClock>;

/// A cellular MQTT client running on the simulated modem.
pub trait OnSim: Uplink {
    /// The simulated module under the client.
    fn sim_mut(&mut self) -> &mut Sim;
}

impl OnSim for Client {
    fn sim_mut(&mut self) -> &mut Sim {
        self.modem_mut().uart_mut()
    }
}

impl OnSim for SimcomClient {
    fn sim_mut(&mut self) -> &mut Sim {
        self.modem_mut().uart_mut()
    }
}

/// A cellular link: a client `M` over the simulated modem.
pub struct CellLink<M> {
    mqtt: M,
    up: Rc<Cell<bool>>,
    log: SentLog,
    broker: Option<RecordingBroker>,
}

/// The driver over the simulated modem.
type SimModem = Modem<Sim, SimClock, SimClock>;

/// What the broker received from the module, shared with the network gate.
type SentLog = Rc<RefCell<Vec<Sent>>>;

/// A simulated modem (SIMCom when `simcom`, else Quectel), brought up (boot banner,
/// registration), whose MQTT client uses `broker` behind a network gate.
fn sim_modem(simcom: bool, broker: impl SimBroker + 'static) -> Result<(SimModem, Rc<Cell<bool>>, SentLog), String> {
    let up = Rc::new(Cell::new(true));
    let log = Rc::new(RefCell::new(Vec::new()));
    let clock = SimClock::new();
    let mut sim = if simcom { Sim::simcom(clock.clone()) } else { Sim::new(clock.clone()) };
    sim.set_broker(Box::new(NetGate { inner: broker, up: up.clone(), log: log.clone() }));
    let mut modem = Modem::new(sim, clock.clone(), clock);
    modem.bring_up(10_000).map_err(|e| format!("modem bring-up: {e:?}"))?;
    Ok((modem, up, log))
}

impl CellLink<Client> {
    /// A simulated Quectel modem, brought up (`RDY`, registration), whose MQTT client uses
    /// `broker`.
    ///
    /// # Errors
    /// The modem did not come up.
    pub fn new(broker: impl SimBroker + 'static) -> Result<Self, String> {
        let (modem, up, log) = sim_modem(false, broker)?;
        Ok(CellLink { mqtt: QuectelMqtt::new(modem, QuectelConfig::default()), up, log, broker: None })
    }
}

impl CellLink<SimcomClient> {
    /// A simulated SIMCom modem (`*ATREADY`, registration) whose `CMQTT` client uses `broker`.
    ///
    /// # Errors
    /// The modem did not come up.
    pub fn simcom(broker: impl SimBroker + 'static) -> Result<Self, String> {
        let (modem, up, log) = sim_modem(true, broker)?;
        Ok(CellLink { mqtt: SimcomMqtt::new(modem, SimcomConfig::default()), up, log, broker: None })
    }
}

impl<M> CellLink<M> {
    /// Keeps a clone of the in-process broker the module talks to, for its record of the will.
    pub fn with_broker_record(mut self, broker: RecordingBroker) -> Self {
        self.broker = Some(broker);
        self
    }
}

impl<M: OnSim> Uplink for CellLink<M> {
    type Error = M::Error;

    fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error> {
        self.mqtt.connect(session)
    }

    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), Self::Error> {
        self.mqtt.publish(topic, payload, qos, retain)
    }

    fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error> {
        self.mqtt.subscribe(filter, qos)
    }

    fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Self::Error> {
        self.mqtt.receive(buf)
    }

    fn link_state(&mut self) -> Result<LinkState, Self::Error> {
        self.mqtt.link_state()
    }

    fn signal_dbm(&mut self) -> Result<Option<i16>, Self::Error> {
        self.mqtt.signal_dbm()
    }

    fn disconnect(&mut self) -> Result<(), Self::Error> {
        self.mqtt.disconnect()
    }
}

impl<M: OnSim> Network for CellLink<M> {
    fn set_network(&mut self, up: bool) {
        if !up {
            // The module loses its connection (`+QMTSTAT` / `+CMQTTCONNLOST`); the broker
            // publishes the will.
            self.mqtt.sim_mut().mqtt_link_lost(1);
        }
        self.up.set(up);
    }

    fn published(&mut self) -> Option<Vec<Sent>> {
        Some(self.log.borrow().clone())
    }

    fn will(&mut self) -> Option<(Option<Sent>, Option<usize>)> {
        let broker = self.broker.as_ref()?;
        let sent = |m: BrokerMessage| Sent { topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain };
        let given = broker.connects().into_iter().filter_map(|c| c.will).next_back().map(sent);
        Some((given, Some(broker.wills_sent().len())))
    }
}

/// Wall-clock milliseconds for the modem driver on a real port.
#[derive(Debug, Clone, Copy)]
pub struct WallClock(std::time::Instant);

impl modem::blocking::Clock for WallClock {
    fn now_ms(&mut self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
}

/// The Quectel client on a real module's serial port.
pub type SerialClient = QuectelMqtt<SerialPortIo, StdDelay, WallClock>;

/// A real Quectel module on a serial port (`--modem-port`). Its network cannot be taken
/// away by the demo: the outage scene then only narrates.
pub struct SerialLink {
    mqtt: SerialClient,
}

impl SerialLink {
    /// Opens `path` at `baud` and brings the module up.
    ///
    /// # Errors
    /// The port cannot be opened or the module does not answer.
    pub fn open(path: &str, baud: u32) -> Result<Self, String> {
        let port = SerialPortIo::open(path, baud).map_err(|e| format!("{path}: {e}"))?;
        let mut modem = Modem::new(port, StdDelay, WallClock(std::time::Instant::now()));
        modem.bring_up(10_000).map_err(|e| format!("{path}: modem bring-up: {e:?}"))?;
        Ok(SerialLink { mqtt: QuectelMqtt::new(modem, QuectelConfig::default()) })
    }
}

impl Uplink for SerialLink {
    type Error = <SerialClient as Uplink>::Error;

    fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error> {
        self.mqtt.connect(session)
    }

    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), Self::Error> {
        self.mqtt.publish(topic, payload, qos, retain)
    }

    fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error> {
        self.mqtt.subscribe(filter, qos)
    }

    fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Self::Error> {
        self.mqtt.receive(buf)
    }

    fn link_state(&mut self) -> Result<LinkState, Self::Error> {
        self.mqtt.link_state()
    }

    fn signal_dbm(&mut self) -> Result<Option<i16>, Self::Error> {
        self.mqtt.signal_dbm()
    }

    fn disconnect(&mut self) -> Result<(), Self::Error> {
        self.mqtt.disconnect()
    }
}

impl Network for SerialLink {
    fn set_network(&mut self, _up: bool) {}
}
