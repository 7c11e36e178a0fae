//! The MQTT clients on the async shell (feature `async`): the same clients, with the same
//! method names, over [`crate::asynch::Modem`], implementing [`crate::uplink::asynch::Uplink`].
//!
//! Only the "send the command, await the reply" layer lives here. The command lines, the result
//! parsers, the URC sorting, the inbox and the session state are the sans-io core the blocking
//! [`super::quectel::QuectelMqtt`] and [`super::simcom::SimcomMqtt`] use too, so both shells send the same bytes and read the
//! module the same way.

use super::quectel::{Core, LinkStep, QuectelConfig};
use super::simcom::{Core as SimcomCore, SimcomConfig};
use super::{Cmd, Error, MqttStats};
use crate::asynch::Modem;
use crate::blocking::{Clock, LINE};
use crate::command::Command;
use crate::engine::Reply;
use crate::router::Urc;
use crate::uplink::asynch::Uplink;
use crate::uplink::{LinkState, Message, QoS, Session};
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::{Read, ReadReady, Write};

/// The Quectel MQTT client (reference §2.9) over an async [`Modem`] (brought up by the caller);
/// see [`super::quectel::QuectelMqtt`] for the commands.
#[derive(Debug)]
pub struct QuectelMqtt<U, D, C> {
    modem: Modem<U, D, C>,
    core: Core,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> QuectelMqtt<U, D, C> {
    /// A client over `modem`, which must have been brought up ([`Modem::bring_up`]).
    pub fn new(modem: Modem<U, D, C>, config: QuectelConfig) -> Self {
        Self { modem, core: Core::new(config) }
    }

    /// The driver, for other commands (SMS, time, signal) between MQTT operations.
    pub fn modem_mut(&mut self) -> &mut Modem<U, D, C> {
        &mut self.modem
    }

    /// The driver back.
    pub fn into_inner(self) -> Modem<U, D, C> {
        self.modem
    }

    /// Counters.
    pub fn stats(&self) -> MqttStats {
        self.core.stats
    }

    /// The last `+QMTSTAT <err_code>` (reference §2.9 item 7), if the module closed a session.
    pub fn last_status(&self) -> Option<u8> {
        self.core.status
    }

    /// Whether the client believes the session is connected (no `+QMTSTAT` since).
    pub fn is_connected(&self) -> bool {
        self.core.connected
    }

    /// The next URC that is not for the MQTT client (`+CEREG`, `+QIURC`, ...).
    pub fn pop_urc(&mut self) -> Option<Urc<LINE>> {
        self.core.other.pop_front()
    }

    /// The deadline of a command that waits for the broker (as the blocking client's).
    pub fn packet_deadline_ms(&self) -> u32 {
        self.core.packet_deadline_ms()
    }

    /// Reads what the UART has and sorts the queued URCs (as the blocking client's `poll`).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the UART fails.
    pub async fn poll(&mut self) -> Result<(), Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        // Back-pressure: read only while the inbox has room, one chunk at a time.
        while self.core.has_room() && self.modem.poll_chunk().await? {
            self.core.absorb(&mut self.modem);
        }
        Ok(())
    }

    async fn run(&mut self, cmd: &Cmd, data: Option<&[u8]>) -> Result<Reply<LINE>, crate::blocking::Error<U::Error>> {
        let mut command = Command::new(&cmd.text);
        if let Some(ms) = cmd.timeout_ms {
            command.timeout_ms = ms;
        }
        let result = self.modem.execute(&command, data.map(|d| (d, None))).await;
        self.core.absorb(&mut self.modem);
        result
    }

    /// Whether the PDP context is active (`AT+QIACT?`, reference §2.6).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the query fails.
    pub async fn pdp_active(&mut self) -> Result<bool, Error<U::Error>> {
        let reply = self.run(&Cmd::fixed(Core::PDP_QUERY), None).await?;
        self.core.pdp_reply(&reply)
    }

    /// Activates the PDP context unless it is active (`AT+QICSGP`, `AT+QIACT`, reference §2.6).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when a command fails, [`Error::Unsendable`] for an APN with a quote.
    pub async fn attach(&mut self) -> Result<(), Error<U::Error>> {
        if self.pdp_active().await? {
            return Ok(());
        }
        let (apn, act) = self.core.attach_commands()?;
        if let Some(apn) = apn {
            self.run(&apn, None).await?;
        }
        self.run(&act, None).await?;
        self.core.attached();
        Ok(())
    }

    /// `AT+QMTCONN?`: whether the module says the client is connected (reference §6.2).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the query fails.
    pub async fn session_alive(&mut self) -> Result<bool, Error<U::Error>> {
        let reply = self.run(&Cmd::fixed(Core::SESSION_QUERY), None).await?;
        self.core.session_reply(&reply)
    }

    async fn conn(&mut self, session: &Session<'_>) -> Result<(), Error<U::Error>> {
        let cmd = self.core.conn_command(session)?;
        let reply = self.run(&cmd, None).await?;
        self.core.conn_reply(&reply)
    }

    async fn require_session(&mut self) -> Result<(), Error<U::Error>> {
        self.poll().await?;
        self.core.require_session()
    }

    async fn close(&mut self) -> Result<(), Error<U::Error>> {
        let Some((cmd, prefix)) = self.core.close_command()? else {
            return Ok(());
        };
        let reply = self.run(&cmd, None).await;
        self.core.close_reply(reply, prefix)
    }
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> Uplink for QuectelMqtt<U, D, C> {
    type Error = Error<U::Error>;

    /// As the blocking client: attach, `AT+QMTCFG`, `AT+QMTOPEN`, `AT+QMTCONN`.
    async fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error> {
        self.poll().await?;
        if self.core.stale() {
            let _ = self.close().await;
        }
        self.attach().await?;
        for cmd in self.core.configure_commands(session)? {
            self.run(&cmd, None).await?;
        }
        let open = self.core.open_command(session.host, session.port)?;
        let reply = self.run(&open, None).await?;
        self.core.open_reply(&reply)?;
        if let Err(e) = self.conn(session).await {
            let _ = self.close().await;
            return Err(e);
        }
        Ok(())
    }

    /// `AT+QMTPUBEX` with the `>` prompt and exactly `payload.len()` bytes (§2.9 item 5).
    async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), Self::Error> {
        self.require_session().await?;
        let (cmd, msg_id) = self.core.publish_command(topic, payload, qos, retain)?;
        let reply = self.run(&cmd, Some(payload)).await?;
        self.core.publish_reply(&reply, msg_id)
    }

    /// `AT+QMTSUB` → `+QMTSUB: <idx>,<msgid>,<result>,<granted>`.
    async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error> {
        self.require_session().await?;
        let (cmd, msg_id) = self.core.subscribe_command(filter, qos)?;
        let reply = self.run(&cmd, None).await?;
        self.core.subscribe_reply(&reply, msg_id)
    }

    async fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Self::Error> {
        self.poll().await?;
        self.core.receive(buf)
    }

    /// As the blocking client: `Connected` while no `+QMTSTAT` has closed the session, else
    /// `AT+CEREG?` and `AT+QIACT?`.
    async fn link_state(&mut self) -> Result<LinkState, Self::Error> {
        self.poll().await?;
        match self.core.link_step() {
            LinkStep::Known(state) => return Ok(state),
            LinkStep::AskSession => {
                if self.session_alive().await? {
                    return Ok(LinkState::Connected);
                }
                self.core.session_closed(None);
            }
            LinkStep::AskNetwork => {}
        }
        if !self.modem.registration().await?.status().is_registered() {
            return Ok(LinkState::Down);
        }
        Ok(if self.pdp_active().await? { LinkState::Online } else { LinkState::Attached })
    }

    async fn signal_dbm(&mut self) -> Result<Option<i16>, Self::Error> {
        let csq = self.modem.signal().await;
        self.core.absorb(&mut self.modem);
        Ok(csq?.rssi_dbm())
    }

    /// `AT+QMTDISC`, or `AT+QMTCLOSE` when only the network connection was open.
    async fn disconnect(&mut self) -> Result<(), Self::Error> {
        self.poll().await?;
        self.close().await
    }
}

/// The SIMCom MQTT client (reference §2.10) over an async [`Modem`] (brought up by the caller);
/// see [`super::simcom::SimcomMqtt`] for the commands.
#[derive(Debug)]
pub struct SimcomMqtt<U, D, C> {
    modem: Modem<U, D, C>,
    core: SimcomCore,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> SimcomMqtt<U, D, C> {
    /// A client over `modem`, which must have been brought up ([`Modem::bring_up`]).
    pub fn new(modem: Modem<U, D, C>, config: SimcomConfig) -> Self {
        Self { modem, core: SimcomCore::new(config) }
    }

    /// The driver, for other commands between MQTT operations.
    pub fn modem_mut(&mut self) -> &mut Modem<U, D, C> {
        &mut self.modem
    }

    /// The driver back.
    pub fn into_inner(self) -> Modem<U, D, C> {
        self.modem
    }

    /// Counters.
    pub fn stats(&self) -> MqttStats {
        self.core.stats
    }

    /// The last `+CMQTTCONNLOST <cause>`, if the module lost a session.
    pub fn last_status(&self) -> Option<u8> {
        self.core.status
    }

    /// Whether the client believes the session is connected (no `+CMQTTCONNLOST` since).
    pub fn is_connected(&self) -> bool {
        self.core.connected
    }

    /// The next URC that is not for the MQTT client.
    pub fn pop_urc(&mut self) -> Option<Urc<LINE>> {
        self.core.other.pop_front()
    }

    /// The deadline of a command that waits for the broker (as the blocking client's).
    pub fn packet_deadline_ms(&self) -> u32 {
        self.core.packet_deadline_ms()
    }

    /// Reads what the UART has and sorts the queued URCs (as the blocking client's `poll`).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the UART fails.
    pub async fn poll(&mut self) -> Result<(), Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        while self.core.has_room() && self.modem.poll_chunk().await? {
            self.core.absorb(&mut self.modem);
        }
        Ok(())
    }

    async fn run(&mut self, cmd: &Cmd, data: Option<&[u8]>) -> Result<Reply<LINE>, crate::blocking::Error<U::Error>> {
        let mut command = Command::new(&cmd.text);
        if let Some(ms) = cmd.timeout_ms {
            command.timeout_ms = ms;
        }
        let result = self.modem.execute(&command, data.map(|d| (d, None))).await;
        self.core.absorb(&mut self.modem);
        result
    }

    /// Whether the network is open (`AT+NETOPEN?`, reference §2.6).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the query fails.
    pub async fn pdp_active(&mut self) -> Result<bool, Error<U::Error>> {
        let reply = self.run(&Cmd::fixed(SimcomCore::PDP_QUERY), None).await?;
        self.core.pdp_reply(&reply)
    }

    /// Opens the network unless it is open (`AT+CGDCONT`, `AT+NETOPEN`, reference §2.6).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when a command fails, [`Error::Command`] for `+NETOPEN: <err>` ≠ 0.
    pub async fn attach(&mut self) -> Result<(), Error<U::Error>> {
        if self.pdp_active().await? {
            return Ok(());
        }
        if let Some(apn) = self.core.apn_command()? {
            self.run(&apn, None).await?;
        }
        let reply = self.run(&Cmd::fixed(SimcomCore::NETOPEN), None).await?;
        self.core.netopen_reply(&reply)
    }

    async fn start(&mut self) -> Result<(), Error<U::Error>> {
        let Some(cmd) = self.core.start_command() else {
            return Ok(());
        };
        let reply = self.run(&cmd, None).await?;
        self.core.start_reply(&reply)
    }

    async fn acquire(&mut self, client_id: &str) -> Result<(), Error<U::Error>> {
        if let Some(rel) = self.core.release_command()? {
            self.run(&rel, None).await?;
            self.core.set_acquired(false);
        }
        let cmd = self.core.acquire_command(client_id)?;
        self.run(&cmd, None).await?;
        self.core.set_acquired(true);
        Ok(())
    }

    async fn require_session(&mut self) -> Result<(), Error<U::Error>> {
        self.poll().await?;
        self.core.require_session()
    }
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> Uplink for SimcomMqtt<U, D, C> {
    type Error = Error<U::Error>;

    /// As the blocking client: network open, `AT+CMQTTSTART`, `AT+CMQTTACCQ`, the will,
    /// `AT+CMQTTCONNECT`.
    async fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error> {
        self.poll().await?;
        if self.core.connected {
            let _ = self.disconnect().await;
        }
        SimcomCore::check_session(session)?;
        self.attach().await?;
        self.start().await?;
        self.acquire(session.client_id).await?;
        if let Some(will) = session.will {
            let (topic, msg) = self.core.will_commands(&will)?;
            self.run(&topic, Some(will.topic.as_bytes())).await?;
            self.run(&msg, Some(will.payload)).await?;
        }
        let cmd = self.core.connect_command(session)?;
        let reply = self.run(&cmd, None).await?;
        self.core.connect_reply(&reply)
    }

    /// Topic and payload through their prompts, then `AT+CMQTTPUB`.
    async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), Self::Error> {
        self.require_session().await?;
        let [t, p, publish] = self.core.publish_commands(topic, payload, qos, retain)?;
        self.run(&t, Some(topic.as_bytes())).await?;
        self.run(&p, Some(payload)).await?;
        let reply = self.run(&publish, None).await?;
        self.core.publish_reply(&reply)
    }

    /// The filter through `AT+CMQTTSUBTOPIC`'s prompt, then `AT+CMQTTSUB`.
    async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error> {
        self.require_session().await?;
        let (topic, sub) = self.core.subscribe_commands(filter, qos)?;
        self.run(&topic, Some(filter.as_bytes())).await?;
        let reply = self.run(&sub, None).await?;
        self.core.subscribe_reply(&reply)
    }

    async fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Self::Error> {
        self.poll().await?;
        self.core.receive(buf)
    }

    /// As the blocking client: `Connected` while no `+CMQTTCONNLOST` has closed the session,
    /// else `AT+CEREG?` and `AT+NETOPEN?`.
    async fn link_state(&mut self) -> Result<LinkState, Self::Error> {
        self.poll().await?;
        if self.core.connected {
            return Ok(LinkState::Connected);
        }
        let registered = self.modem.registration().await;
        self.core.absorb(&mut self.modem);
        if !registered?.status().is_registered() {
            return Ok(LinkState::Down);
        }
        Ok(if self.pdp_active().await? { LinkState::Online } else { LinkState::Attached })
    }

    async fn signal_dbm(&mut self) -> Result<Option<i16>, Self::Error> {
        let csq = self.modem.signal().await;
        self.core.absorb(&mut self.modem);
        Ok(csq?.rssi_dbm())
    }

    /// `AT+CMQTTDISC=<idx>,<timeout>`.
    async fn disconnect(&mut self) -> Result<(), Self::Error> {
        self.poll().await?;
        let Some(cmd) = self.core.disconnect_command()? else {
            return Ok(());
        };
        let reply = self.run(&cmd, None).await;
        self.core.disconnect_reply(reply)
    }
}
