//! The Wi-Fi uplink (`--uplink esp-at`): modem's real ESP-AT MQTT client (`EspUplink`:
//! `AT+CWJAP`, `AT+MQTTUSERCFG`, `AT+MQTTCONNCFG`, `AT+MQTTCONN`, `AT+MQTTPUB[RAW]`) over the
//! simulated ESP32 module (`EspSim`), with one access point configured in the simulator. The
//! module's built-in MQTT client talks to an in-process recording broker, or to a real broker
//! with `--mqtt HOST:PORT` (modem's `TcpBroker`, as on the cellular links).
//!
//! The network outage is the access point going away: the module reports `WIFI DISCONNECT`
//! and `+MQTTDISCONNECTED:0` (`EspSim::schedule_wifi_drop`), and until the network is back
//! every join fails with `+CWJAP:3` (target AP not found, `EspSim::fail_next_join`), so every
//! reconnection attempt goes through the real join path and fails there.
//!
//! The ESP-AT module takes the will with `AT+MQTTCONNCFG` (retained like on the Quectel link);
//! the Wi-Fi drop cuts the module's connection without DISCONNECT, so the broker publishes it.
//! `--dump-will` reports the will the in-process broker was given and how often it published
//! it, as on the cellular links (with a real broker, the will as the module received it).
//! `--dump-published` is the module's record of what its broker accepted (`EspSim::published`),
//! the same with either broker.

use modem::blocking::Modem;
use modem::esp::client::EspUplink;
use modem::sim::esp::EspSim;
use modem::sim::{BrokerMessage, RecordingBroker, SimBroker, SimClock};
use modem::uplink::{LinkState, Message, QoS, Session, Uplink};

use crate::publish::{Network, Sent};

/// The access point configured in the simulated module and joined by the client.
const SSID: &str = "locker-demo-ap";
/// Its WPA2 passphrase.
const PASSWORD: &str = "parcel-2026";
/// The RSSI the module reports for it, dBm.
const RSSI: i16 = -58;

/// The ESP-AT client over the simulated module.
pub type Client = EspUplink<EspSim, SimClock, SimClock>;

/// The Wi-Fi link.
pub struct WifiLink {
    mqtt: Client,
    up: bool,
    broker: Option<RecordingBroker>,
}

impl WifiLink {
    /// A simulated ESP-AT module with one access point whose MQTT client uses `broker`, brought
    /// up (`ready`, `ATE0`, station mode); the client joins on its first connection.
    ///
    /// # Errors
    /// The module did not come up.
    pub fn new(broker: impl SimBroker + 'static) -> Result<Self, String> {
        let clock = SimClock::new();
        let mut sim = EspSim::new(clock.clone());
        sim.add_ap(SSID, PASSWORD, RSSI);
        sim.set_broker(Box::new(broker));
        let modem = Modem::new(sim, clock.clone(), clock);
        let mut mqtt = EspUplink::new(modem, SSID, PASSWORD).map_err(|e| format!("esp-at: {e}"))?;
        mqtt.start(2_000).map_err(|e| format!("esp-at bring-up: {e}"))?;
        Ok(WifiLink { mqtt, up: true, broker: None })
    }

    /// Keeps a clone of the in-process broker the module talks to, for its record of the will.
    pub fn with_broker_record(mut self, broker: RecordingBroker) -> Self {
        self.broker = Some(broker);
        self
    }

    fn sim(&mut self) -> &mut EspSim {
        self.mqtt.modem_mut().uart_mut()
    }
}

impl Uplink for WifiLink {
    type Error = <Client as Uplink>::Error;

    fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error> {
        if !self.up {
            // The AP is still away: the join the client makes fails as "AP not found".
            self.sim().fail_next_join(3);
        }
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

impl Network for WifiLink {
    fn set_network(&mut self, up: bool) {
        if !up {
            // The AP goes away now: `WIFI DISCONNECT`, `+MQTTDISCONNECTED:0`; the broker sees
            // the connection drop and publishes the will.
            let sim = self.sim();
            let now = sim.clock().now_ms();
            sim.schedule_wifi_drop(now);
        }
        self.up = up;
    }

    fn published(&mut self) -> Option<Vec<Sent>> {
        let log = self.sim().published().iter();
        Some(
            log.map(|p| Sent { topic: p.topic.clone(), payload: p.payload.clone(), qos: p.qos, retain: p.retain })
                .collect(),
        )
    }

    fn will(&mut self) -> Option<(Option<Sent>, Option<usize>)> {
        if let Some(broker) = &self.broker {
            let sent = |m: BrokerMessage| Sent { topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain };
            let given = broker.connects().into_iter().filter_map(|c| c.will).next_back().map(sent);
            return Some((given, Some(broker.wills_sent().len())));
        }
        // A real broker: `AT+MQTTCONNCFG` as the module received it; how often the broker
        // published it is the broker's own record.
        let given = self.sim().mqtt_config().will.clone();
        let given =
            given.map(|(topic, payload, qos, retain)| Sent { topic, payload: payload.into_bytes(), qos, retain });
        Some((given, None))
    }
}
