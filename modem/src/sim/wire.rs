//! MQTT 3.1.1 packets the simulated module's client sends and receives (OASIS MQTT 3.1.1 §2-§3):
//! CONNECT (with will and credentials), CONNACK, PUBLISH (QoS 0/1/2), PUBACK, PUBREC, PUBREL,
//! PUBCOMP, SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT.

use super::broker::{BrokerMessage, ConnectRequest};
use std::string::String;
use std::vec::Vec;

/// A decoded packet from the broker (or, in tests, from the client).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Packet {
    /// CONNACK: session present, return code.
    Connack {
        /// Session present flag.
        session_present: bool,
        /// Return code (0 accepted).
        code: u8,
    },
    /// PUBLISH.
    Publish {
        /// The message.
        message: BrokerMessage,
        /// DUP flag.
        dup: bool,
        /// Packet identifier (QoS 1/2).
        id: Option<u16>,
    },
    /// PUBACK.
    Puback(u16),
    /// PUBREC.
    Pubrec(u16),
    /// PUBREL.
    Pubrel(u16),
    /// PUBCOMP.
    Pubcomp(u16),
    /// SUBACK: packet id and return codes.
    Suback(u16, Vec<u8>),
    /// PINGRESP.
    Pingresp,
    /// Any other packet type, by its first byte.
    Other(u8),
}

/// A packet that could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireError(pub &'static str);

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.get(..usize::from(len)).unwrap_or(s));
}

fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(first);
    // §2.2.3 remaining length: 7 bits per byte, continuation bit.
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// CONNECT (§3.1) for protocol level 4.
pub fn connect(request: &ConnectRequest) -> Vec<u8> {
    let mut body = Vec::new();
    put_str(&mut body, b"MQTT");
    body.push(4);
    let mut flags = 0u8;
    if request.clean_session {
        flags |= 0x02;
    }
    if let Some(will) = &request.will {
        flags |= 0x04 | (will.qos.min(2) << 3);
        if will.retain {
            flags |= 0x20;
        }
    }
    if request.credentials.is_some() {
        flags |= 0x80 | 0x40;
    }
    body.push(flags);
    body.extend_from_slice(&request.keepalive_s.to_be_bytes());
    put_str(&mut body, request.client_id.as_bytes());
    if let Some(will) = &request.will {
        put_str(&mut body, will.topic.as_bytes());
        put_str(&mut body, &will.payload);
    }
    if let Some((user, password)) = &request.credentials {
        put_str(&mut body, user.as_bytes());
        put_str(&mut body, password.as_bytes());
    }
    frame(0x10, &body)
}

/// PUBLISH (§3.3); `id` is required for QoS 1/2.
pub fn publish(message: &BrokerMessage, dup: bool, id: Option<u16>) -> Vec<u8> {
    let mut first = 0x30 | (message.qos.min(2) << 1);
    if dup {
        first |= 0x08;
    }
    if message.retain {
        first |= 0x01;
    }
    let mut body = Vec::new();
    put_str(&mut body, message.topic.as_bytes());
    if message.qos > 0 {
        body.extend_from_slice(&id.unwrap_or(1).to_be_bytes());
    }
    body.extend_from_slice(&message.payload);
    frame(first, &body)
}

/// An acknowledgement with a packet id: PUBACK 0x40, PUBREC 0x50, PUBREL 0x62, PUBCOMP 0x70.
pub fn ack(first: u8, id: u16) -> Vec<u8> {
    frame(first, &id.to_be_bytes())
}

/// SUBSCRIBE (§3.8) with one filter.
pub fn subscribe(id: u16, filter: &str, qos: u8) -> Vec<u8> {
    let mut body = id.to_be_bytes().to_vec();
    put_str(&mut body, filter.as_bytes());
    body.push(qos.min(2));
    frame(0x82, &body)
}

/// PINGREQ (§3.12).
pub fn pingreq() -> Vec<u8> {
    vec![0xC0, 0x00]
}

/// DISCONNECT (§3.14).
pub fn disconnect() -> Vec<u8> {
    vec![0xE0, 0x00]
}

fn id_of(body: &[u8]) -> Result<u16, WireError> {
    match body {
        [a, b, ..] => Ok(u16::from_be_bytes([*a, *b])),
        _ => Err(WireError("packet id missing")),
    }
}

/// Decodes one packet from the start of `buf`: `Ok(None)` when more bytes are needed, else the
/// packet and the bytes it used.
///
/// # Errors
/// [`WireError`] for a malformed length or body.
pub fn decode(buf: &[u8]) -> Result<Option<(Packet, usize)>, WireError> {
    let Some(&first) = buf.first() else { return Ok(None) };
    let mut len = 0usize;
    let mut at = 1;
    loop {
        let Some(&byte) = buf.get(at) else { return Ok(None) };
        if at > 4 {
            return Err(WireError("remaining length longer than 4 bytes"));
        }
        len |= usize::from(byte & 0x7f) << (7 * (at - 1));
        at += 1;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let Some(body) = buf.get(at..at + len) else { return Ok(None) };
    let packet = match first >> 4 {
        2 => match body {
            [sp, code] => Packet::Connack { session_present: sp & 1 == 1, code: *code },
            _ => return Err(WireError("CONNACK length")),
        },
        3 => {
            let qos = (first >> 1) & 3;
            let tlen = usize::from(id_of(body)?);
            let topic = body.get(2..2 + tlen).ok_or(WireError("PUBLISH topic"))?;
            let mut rest = body.get(2 + tlen..).unwrap_or(&[]);
            let id = if qos > 0 {
                let id = id_of(rest)?;
                rest = rest.get(2..).unwrap_or(&[]);
                Some(id)
            } else {
                None
            };
            let topic = String::from_utf8(topic.to_vec()).map_err(|_| WireError("PUBLISH topic not UTF-8"))?;
            Packet::Publish {
                message: BrokerMessage { topic, payload: rest.to_vec(), qos, retain: first & 1 == 1 },
                dup: first & 0x08 != 0,
                id,
            }
        }
        4 => Packet::Puback(id_of(body)?),
        5 => Packet::Pubrec(id_of(body)?),
        6 => Packet::Pubrel(id_of(body)?),
        7 => Packet::Pubcomp(id_of(body)?),
        9 => Packet::Suback(id_of(body)?, body.get(2..).unwrap_or(&[]).to_vec()),
        13 => Packet::Pingresp,
        _ => Packet::Other(first),
    };
    Ok(Some((packet, at + len)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn connect_with_will_and_credentials() {
        let request = ConnectRequest {
            client_id: "L1".into(),
            keepalive_s: 60,
            clean_session: true,
            credentials: Some(("u".into(), "p".into())),
            will: Some(BrokerMessage { topic: "w".into(), payload: b"off".to_vec(), qos: 1, retain: true }),
        };
        let bytes = connect(&request);
        // §3.1.2.3 flags: user, password, will retain, will QoS 1, will, clean.
        assert_eq!(bytes[9], 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02);
        // Remaining length: 10 (variable header) + 4 ("L1") + 3 ("w") + 5 ("off") + 3 + 3.
        assert_eq!(&bytes[..9], &[0x10, 28, 0, 4, b'M', b'Q', b'T', b'T', 4]);
        assert_eq!(&bytes[10..12], &[0, 60]);
        assert_eq!(&bytes[12..16], &[0, 2, b'L', b'1']);
        assert_eq!(bytes.len(), 30);
    }

    #[test]
    fn publish_round_trip_and_long_lengths() {
        for (qos, len) in [(0u8, 3usize), (1, 200), (2, 20_000)] {
            let message = BrokerMessage { topic: "a/b".into(), payload: vec![7; len], qos, retain: qos == 1 };
            let bytes = publish(&message, qos == 2, Some(9));
            let (packet, used) = decode(&bytes).unwrap().unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(packet, Packet::Publish { message, dup: qos == 2, id: (qos > 0).then_some(9) });
            // Any prefix is incomplete, never an error.
            assert_eq!(decode(&bytes[..bytes.len() - 1]).unwrap(), None);
        }
        assert_eq!(decode(&[0x90, 3, 0, 5, 1]).unwrap(), Some((Packet::Suback(5, vec![1]), 5)));
        assert_eq!(decode(&[0xD0, 0]).unwrap(), Some((Packet::Pingresp, 2)));
        assert!(decode(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01]).is_err());
    }
}
