//! A real broker behind the simulated module: MQTT 3.1.1 over a std `TcpStream`.
//!
//! The module's `AT+QMTOPEN` opens the TCP connection (to the host and port it names, or to a
//! fixed address given to [`TcpBroker::redirect`]), `AT+QMTCONN` sends CONNECT and waits for
//! CONNACK, a QoS 1 publish waits for PUBACK (QoS 2: PUBREC, PUBREL, PUBCOMP), a subscription for
//! SUBACK. Waiting reads with a timeout ([`TcpBroker::set_timeout`], 20 s by default: a real
//! broker on a loaded test machine can take seconds to answer, and the timeout only costs time
//! when something is wrong); incoming
//! PUBLISH packets that arrive meanwhile are kept for [`SimBroker::poll`] and acknowledged.
//! PINGREQ is sent when half the keep-alive has passed without a packet from the client.

use super::broker::{BrokerError, BrokerMessage, ConnectRequest, SimBroker};
use super::wire::{self, Packet};
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::vec::Vec;

/// A real MQTT broker over TCP. See the module documentation.
#[derive(Debug)]
pub struct TcpBroker {
    redirect: Option<SocketAddr>,
    stream: Option<TcpStream>,
    rx: Vec<u8>,
    incoming: VecDeque<BrokerMessage>,
    next_id: u16,
    timeout: Duration,
    keepalive: Duration,
    last_sent: Instant,
    connected: bool,
}

impl Default for TcpBroker {
    fn default() -> Self {
        Self::new()
    }
}

impl TcpBroker {
    /// A broker reached at the host and port the module opens.
    pub fn new() -> Self {
        Self {
            redirect: None,
            stream: None,
            rx: Vec::new(),
            incoming: VecDeque::new(),
            next_id: 0,
            timeout: Duration::from_secs(20),
            keepalive: Duration::from_secs(60),
            last_sent: Instant::now(),
            connected: false,
        }
    }

    /// A broker always reached at `addr`, whatever host the module opens (the demo's
    /// `--mqtt HOST:PORT`).
    pub fn redirect(addr: SocketAddr) -> Self {
        Self { redirect: Some(addr), ..Self::new() }
    }

    /// How long to wait for CONNACK, PUBACK, SUBACK.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), BrokerError> {
        let stream = self.stream.as_mut().ok_or(BrokerError::Closed)?;
        if stream.write_all(bytes).is_err() {
            self.lost();
            return Err(BrokerError::Closed);
        }
        self.last_sent = Instant::now();
        Ok(())
    }

    fn lost(&mut self) {
        self.connected = false;
        self.stream = None;
        self.rx.clear();
    }

    fn next_packet_id(&mut self) -> u16 {
        self.next_id = if self.next_id == u16::MAX { 1 } else { self.next_id + 1 };
        self.next_id
    }

    /// Reads what is there (`wait`: until one packet arrives or the timeout passes) and handles
    /// it: incoming PUBLISH is queued and acknowledged, other packets are returned.
    fn read_packets(&mut self, wait: bool) -> Result<Vec<Packet>, BrokerError> {
        let mut out = Vec::new();
        let deadline = Instant::now() + self.timeout;
        loop {
            while let Some((packet, used)) = wire::decode(&self.rx).map_err(|e| BrokerError::Protocol(e.0))? {
                self.rx.drain(..used);
                match packet {
                    Packet::Publish { message, id, .. } => {
                        match (message.qos, id) {
                            (1, Some(id)) => self.send(&wire::ack(0x40, id))?,
                            (2, Some(id)) => self.send(&wire::ack(0x50, id))?,
                            _ => {}
                        }
                        self.incoming.push_back(message);
                    }
                    Packet::Pubrel(id) => self.send(&wire::ack(0x70, id))?,
                    other => out.push(other),
                }
            }
            if wait && !out.is_empty() {
                return Ok(out);
            }
            let Some(stream) = self.stream.as_mut() else { return Err(BrokerError::Closed) };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if wait && remaining.is_zero() {
                return Err(BrokerError::Timeout);
            }
            let set = if wait { stream.set_read_timeout(Some(remaining)) } else { stream.set_nonblocking(true) };
            if set.is_err() {
                self.lost();
                return Err(BrokerError::Closed);
            }
            let mut buf = [0u8; 2048];
            let read = stream.read(&mut buf);
            if !wait {
                let _ = stream.set_nonblocking(false);
            }
            match read {
                Ok(0) => {
                    self.lost();
                    return if wait { Err(BrokerError::Closed) } else { Ok(out) };
                }
                Ok(n) => self.rx.extend_from_slice(buf.get(..n).unwrap_or(&[])),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if !wait {
                        return Ok(out);
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.lost();
                    return Err(BrokerError::Closed);
                }
            }
        }
    }

    /// Waits for a packet accepted by `want`, keeping others' effects.
    fn wait_for(&mut self, mut want: impl FnMut(&Packet) -> bool) -> Result<Packet, BrokerError> {
        loop {
            for packet in self.read_packets(true)? {
                if want(&packet) {
                    return Ok(packet);
                }
            }
        }
    }
}

impl SimBroker for TcpBroker {
    fn open(&mut self, host: &str, port: u16) -> Result<(), BrokerError> {
        let addrs: Vec<SocketAddr> = match self.redirect {
            Some(addr) => vec![addr],
            None => (host, port).to_socket_addrs().map_err(|e| BrokerError::Unreachable(e.to_string()))?.collect(),
        };
        let mut last = String::from("no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    self.stream = Some(stream);
                    self.rx.clear();
                    return Ok(());
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(BrokerError::Unreachable(last))
    }

    fn connect(&mut self, request: &ConnectRequest) -> Result<u8, BrokerError> {
        self.send(&wire::connect(request))?;
        self.keepalive = Duration::from_secs(u64::from(request.keepalive_s));
        match self.wait_for(|p| matches!(p, Packet::Connack { .. }))? {
            Packet::Connack { code, .. } => {
                self.connected = code == 0;
                Ok(code)
            }
            _ => Err(BrokerError::Protocol("expected CONNACK")),
        }
    }

    fn publish(&mut self, message: &BrokerMessage, dup: bool) -> Result<(), BrokerError> {
        let id = (message.qos > 0).then(|| self.next_packet_id());
        self.send(&wire::publish(message, dup, id))?;
        let Some(id) = id else { return Ok(()) };
        if message.qos == 1 {
            self.wait_for(|p| *p == Packet::Puback(id))?;
        } else {
            self.wait_for(|p| *p == Packet::Pubrec(id))?;
            self.send(&wire::ack(0x62, id))?;
            self.wait_for(|p| *p == Packet::Pubcomp(id))?;
        }
        Ok(())
    }

    fn subscribe(&mut self, filter: &str, qos: u8) -> Result<u8, BrokerError> {
        let id = self.next_packet_id();
        self.send(&wire::subscribe(id, filter, qos))?;
        match self.wait_for(|p| matches!(p, Packet::Suback(i, _) if *i == id))? {
            Packet::Suback(_, codes) => codes.first().copied().ok_or(BrokerError::Protocol("empty SUBACK")),
            _ => Err(BrokerError::Protocol("expected SUBACK")),
        }
    }

    fn poll(&mut self) -> Vec<BrokerMessage> {
        if self.stream.is_some() {
            let _ = self.read_packets(false);
            if self.connected && !self.keepalive.is_zero() && self.last_sent.elapsed() >= self.keepalive / 2 {
                let _ = self.send(&wire::pingreq());
            }
        }
        self.incoming.drain(..).collect()
    }

    fn is_connected(&self) -> bool {
        self.connected
    }

    fn disconnect(&mut self) {
        if self.stream.is_some() {
            let _ = self.send(&wire::disconnect());
        }
        if let Some(stream) = self.stream.take() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.connected = false;
        self.rx.clear();
    }

    fn drop_link(&mut self) {
        if let Some(stream) = self.stream.take() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.connected = false;
        self.rx.clear();
    }
}
