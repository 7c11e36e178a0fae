//! One uplink API for every link a locker may have: a cellular module's built-in MQTT client
//! (Quectel `QMT*`, SIMCom `CMQTT*`, reference §2.9-§2.10) or a Wi-Fi module running ESP-AT.
//!
//! An edge daemon publishes compartment states through [`Uplink`] and never learns which module
//! is fitted: switching links is configuration. [`Uplink`] is blocking; each method runs the AT
//! commands it needs to completion (or to its typed error). With feature `async`,
//! `uplink::asynch::Uplink` has the same methods as `async fn`s.

/// MQTT quality of service (MQTT 3.1.1 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QoS {
    /// QoS 0: fire and forget.
    AtMostOnce = 0,
    /// QoS 1: acknowledged, may arrive twice (the receiver de-duplicates).
    AtLeastOnce = 1,
    /// QoS 2: exactly once.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS number as the AT commands write it.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The QoS for a number 0..=2.
    pub fn from_number(n: u8) -> Option<Self> {
        match n {
            0 => Some(Self::AtMostOnce),
            1 => Some(Self::AtLeastOnce),
            2 => Some(Self::ExactlyOnce),
            _ => None,
        }
    }
}

/// A last-will message the broker publishes when the link drops without a DISCONNECT
/// (MQTT 3.1.1 §3.1.2.5): the locker's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Will<'a> {
    /// Topic of the will.
    pub topic: &'a str,
    /// Payload of the will.
    pub payload: &'a [u8],
    /// Its QoS.
    pub qos: QoS,
    /// Whether the broker retains it.
    pub retain: bool,
}

/// What [`Uplink::connect`] needs to open an MQTT session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session<'a> {
    /// Broker host name or address.
    pub host: &'a str,
    /// Broker TCP port (1883 plain).
    pub port: u16,
    /// MQTT client identifier (unique per locker).
    pub client_id: &'a str,
    /// Keep-alive interval in seconds.
    pub keepalive_s: u16,
    /// Clean session flag.
    pub clean_session: bool,
    /// User name and password, when the broker wants them.
    pub credentials: Option<(&'a str, &'a str)>,
    /// The last will, if any.
    pub will: Option<Will<'a>>,
}

/// The state of the link as far as the module knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkState {
    /// No network (not registered, Wi-Fi not joined, module off).
    Down,
    /// Registered / joined, but no data bearer yet (no PDP context, no IP).
    Attached,
    /// A data bearer is up (PDP active, IP obtained), no MQTT session.
    Online,
    /// The MQTT session is connected.
    Connected,
}

/// A message received on a subscribed topic, borrowed from the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'b> {
    /// The topic it was published on.
    pub topic: &'b str,
    /// Its payload (may contain anything: quotes, CR LF, NUL).
    pub payload: &'b [u8],
}

/// A link to an MQTT broker through a module's built-in client.
pub trait Uplink {
    /// The error of this link (UART, command, protocol).
    type Error: core::fmt::Debug;

    /// Opens the MQTT session (network attach first when the link needs it).
    ///
    /// # Errors
    ///
    /// The link's error when the module, the network or the broker refuses.
    fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error>;

    /// Publishes `payload` on `topic`. With QoS 1 or 2 it returns once the module reports the
    /// broker's acknowledgement.
    ///
    /// # Errors
    ///
    /// The link's error when the session is down or the publish fails.
    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), Self::Error>;

    /// Subscribes to `filter` (MQTT wildcards allowed).
    ///
    /// # Errors
    ///
    /// The link's error when the broker refuses or the session is down.
    fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error>;

    /// The next received message, copied into `buf` (topic first, then payload), or `None` when
    /// nothing has arrived. Reads what the UART has ready without waiting for more.
    ///
    /// # Errors
    ///
    /// The link's error, e.g. when the message does not fit into `buf`.
    fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Self::Error>;

    /// The link's state, from what the module reported last (URCs) and, where needed, a query.
    ///
    /// # Errors
    ///
    /// The link's error when the query fails.
    fn link_state(&mut self) -> Result<LinkState, Self::Error>;

    /// Received signal strength in dBm, `None` when unknown (`AT+CSQ` 99, Wi-Fi not joined).
    ///
    /// # Errors
    ///
    /// The link's error when the query fails.
    fn signal_dbm(&mut self) -> Result<Option<i16>, Self::Error>;

    /// Closes the MQTT session cleanly (the broker does not publish the will).
    ///
    /// # Errors
    ///
    /// The link's error when the module does not answer.
    fn disconnect(&mut self) -> Result<(), Self::Error>;
}

/// The async twin of [`Uplink`] (feature `async`): the same methods as `async fn`s, for clients
/// over [`crate::asynch::Modem`].
#[cfg(feature = "async")]
pub mod asynch {
    use super::{LinkState, Message, QoS, Session};

    /// A link to an MQTT broker through a module's built-in client, driven from an async
    /// executor. Same contract, method for method, as the blocking [`super::Uplink`].
    // `async fn` in a public trait does not promise `Send` futures; the drivers run on
    // single-threaded embedded executors, where that is what is wanted.
    #[allow(async_fn_in_trait)]
    pub trait Uplink {
        /// The error of this link (UART, command, protocol).
        type Error: core::fmt::Debug;

        /// Opens the MQTT session (network attach first when the link needs it).
        ///
        /// # Errors
        ///
        /// The link's error when the module, the network or the broker refuses.
        async fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error>;

        /// Publishes `payload` on `topic`; with QoS 1 or 2 it returns once the module reports
        /// the broker's acknowledgement.
        ///
        /// # Errors
        ///
        /// The link's error when the session is down or the publish fails.
        async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), Self::Error>;

        /// Subscribes to `filter` (MQTT wildcards allowed).
        ///
        /// # Errors
        ///
        /// The link's error when the broker refuses or the session is down.
        async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error>;

        /// The next received message, copied into `buf` (topic first, then payload), or `None`
        /// when nothing has arrived. Reads what the UART has ready without waiting for more.
        ///
        /// # Errors
        ///
        /// The link's error, e.g. when the message does not fit into `buf`.
        async fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Self::Error>;

        /// The link's state, from what the module reported last (URCs) and, where needed, a
        /// query.
        ///
        /// # Errors
        ///
        /// The link's error when the query fails.
        async fn link_state(&mut self) -> Result<LinkState, Self::Error>;

        /// Received signal strength in dBm, `None` when unknown.
        ///
        /// # Errors
        ///
        /// The link's error when the query fails.
        async fn signal_dbm(&mut self) -> Result<Option<i16>, Self::Error>;

        /// Closes the MQTT session cleanly (the broker does not publish the will).
        ///
        /// # Errors
        ///
        /// The link's error when the module does not answer.
        async fn disconnect(&mut self) -> Result<(), Self::Error>;
    }
}

#[cfg(test)]
mod tests {
    use super::QoS;

    #[test]
    fn qos_numbers_round_trip() {
        for n in 0..=2 {
            let qos = QoS::from_number(n);
            assert_eq!(qos.map(QoS::number), Some(n));
        }
        assert_eq!(QoS::from_number(3), None);
    }
}
