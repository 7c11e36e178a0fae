//! The ESP-AT dialect on the shared framer and router: documented response texts (ESP-AT.md
//! cites the Espressif pages), each fed whole, split at every byte and with message reports
//! injected between lines; the `+IPD` and `+MQTTSUBRECV` payloads delivered intact whatever
//! they contain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::{Item, own};
use modem::esp::{self, response::*};
use modem::router::Router;

type R = Router<512, 16>;
/// Routed items and the queued URCs (line, data).
type Outcome = (Vec<Item>, Vec<(Vec<u8>, Vec<u8>)>);

fn merge(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    for item in items {
        match (out.last_mut(), item) {
            (Some(Item::Data(a)), Item::Data(b)) => a.extend(b),
            (Some(Item::UrcData(a)), Item::UrcData(b)) => a.extend(b),
            (_, item) => out.push(item),
        }
    }
    out
}

/// Routes `bytes` with `command` pending (ESP-AT table), in the given chunks.
fn run(command: Option<&str>, chunks: &[&[u8]]) -> Outcome {
    let mut router = R::new();
    if let Some(c) = command {
        router.begin(&esp::command(c.as_bytes())).unwrap();
    }
    let mut items = Vec::new();
    for chunk in chunks {
        router.feed(chunk, |r| items.push(own(r)));
    }
    if let Some(r) = router.flush() {
        items.push(own(r));
    }
    let mut queued = Vec::new();
    while let Some(u) = router.pop_urc() {
        queued.push((u.line.to_vec(), u.data.to_vec()));
    }
    (merge(items), queued)
}

fn every_byte(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.chunks(1).collect()
}

/// The outcome must not depend on how the bytes were cut: whole, every byte, every split point.
fn check_splits(command: Option<&str>, bytes: &[u8]) -> Outcome {
    let whole = run(command, &[bytes]);
    assert_eq!(run(command, &every_byte(bytes)), whole, "every-byte split of {:?}", String::from_utf8_lossy(bytes));
    for cut in 1..bytes.len() {
        let (a, b) = bytes.split_at(cut);
        assert_eq!(run(command, &[a, b]), whole, "split at {cut}");
    }
    whole
}

fn infos(items: &[Item]) -> Vec<Vec<u8>> {
    common::infos(items)
}

fn final_name(items: &[Item]) -> Option<&'static str> {
    items.iter().rev().find_map(|i| if let Item::Final { name, complete: true, .. } = i { Some(*name) } else { None })
}

fn lines(q: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
    q.iter().map(|(l, _)| l.clone()).collect()
}

#[test]
fn join_success_reports_are_urcs() {
    // TCP-IP AT Examples §"ESP device as a TCP client", step 2; Wi-Fi AT Commands, AT+CWJAP set.
    let text = b"AT+CWJAP=\"espressif\",\"1234567890\"\r\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n";
    let (items, queued) = check_splits(Some(r#"AT+CWJAP="espressif","1234567890""#), text);
    assert_eq!(items.first(), Some(&Item::Echo));
    assert_eq!(final_name(&items), Some("ok"));
    assert!(infos(&items).is_empty());
    assert_eq!(lines(&queued), vec![b"WIFI CONNECTED".to_vec(), b"WIFI GOT IP".to_vec()]);
}

#[test]
fn join_failure_reason_then_error_or_fail() {
    // Wi-Fi AT Commands, AT+CWJAP: `+CWJAP:<error code>` then `ERROR` (2.x) or `FAIL` (1.x).
    for (code, failure) in [
        (1, JoinFailure::Timeout),
        (2, JoinFailure::WrongPassword),
        (3, JoinFailure::ApNotFound),
        (4, JoinFailure::ConnectFailed),
    ] {
        for word in ["ERROR", "FAIL"] {
            let text = format!("\r\nWIFI DISCONNECT\r\n+CWJAP:{code}\r\n\r\n{word}\r\n");
            let (items, queued) = check_splits(Some(r#"AT+CWJAP="x","y""#), text.as_bytes());
            assert_eq!(final_name(&items), Some("error"), "{text:?}");
            let info = infos(&items);
            assert_eq!(info.len(), 1);
            assert_eq!(parse_cwjap_error(&info[0]), Ok(failure));
            assert_eq!(lines(&queued), vec![b"WIFI DISCONNECT".to_vec()]);
        }
    }
    assert_eq!(JoinFailure::from_code(7), JoinFailure::Unknown(7));
    assert_eq!(JoinFailure::Unknown(7).code(), 7);
}

#[test]
fn cwjap_query_both_generations_and_no_ap() {
    // Wi-Fi AT Commands, AT+CWJAP query: nine parameters (2.x); the 1.x manual has four.
    let text = b"+CWJAP:\"espressif\",\"1a:2b:3c:4d:5e:6f\",6,-50,0,1,3,0,1\r\n\r\nOK\r\n";
    let (items, _) = check_splits(Some("AT+CWJAP?"), text);
    let info = infos(&items);
    let ap = parse_cwjap_query(&info[0]).unwrap().unwrap();
    assert_eq!((ap.ssid, ap.bssid, ap.channel, ap.rssi), ("espressif", "1a:2b:3c:4d:5e:6f", 6, -50));
    assert_eq!(
        (ap.pci_en, ap.reconn_interval, ap.listen_interval, ap.scan_mode, ap.pmf),
        (Some(0), Some(1), Some(3), Some(0), Some(1))
    );
    let old = parse_cwjap_query(b"+CWJAP:\"abc\",\"ca:d7:19:d8:a6:44\",11,-72").unwrap().unwrap();
    assert_eq!((old.channel, old.rssi, old.pmf), (11, -72, None));
    let (items, _) = check_splits(Some("AT+CWJAP?"), b"No AP\r\n\r\nOK\r\n");
    assert_eq!(parse_cwjap_query(&infos(&items)[0]), Ok(None));
    assert!(parse_cwjap_query(b"+CWJAP:\"a\",\"b\",6").is_err());
    assert!(parse_cwjap_query(b"+CWJAP:\"a\",\"b\",6,x50").is_err());
}

#[test]
fn gmr_cwmode_cipsta() {
    // Basic AT Commands, AT+GMR example.
    let text = b"AT+GMR\r\r\nAT version:2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)\r\nSDK version:v4.2.2-76-gefa6eca\r\ncompile time(3a696ba):Jul  2 2021 11:54:43\r\nBin version:2.2.0(WROOM-32)\r\n\r\nOK\r\n";
    let (items, _) = check_splits(Some("AT+GMR"), text);
    let info = infos(&items);
    assert_eq!(info.len(), 4);
    let v = parse_gmr_line(&info[0]).unwrap();
    assert_eq!((v.key, v.value), ("AT version", "2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)"));
    assert_eq!(parse_gmr_line(&info[3]).unwrap().value, "2.2.0(WROOM-32)");
    // Wi-Fi AT Commands, AT+CWMODE query.
    let (items, _) = check_splits(Some("AT+CWMODE?"), b"+CWMODE:1\r\nOK\r\n");
    assert_eq!(parse_cwmode(&infos(&items)[0]), Ok(1));
    // TCP-IP AT Examples step 3: AT+CIPSTA?.
    let text = b"+CIPSTA:ip:\"192.168.3.112\"\r\n+CIPSTA:gateway:\"192.168.3.1\"\r\n+CIPSTA:netmask:\"255.255.255.0\"\r\n\r\nOK\r\n";
    let (items, _) = check_splits(Some("AT+CIPSTA?"), text);
    let parsed: Vec<(String, String)> =
        infos(&items).iter().map(|l| parse_cipsta(l).map(|a| (a.key.into(), a.address.into())).unwrap()).collect();
    assert_eq!(
        parsed,
        [("ip", "192.168.3.112"), ("gateway", "192.168.3.1"), ("netmask", "255.255.255.0")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

#[test]
fn cipstart_connect_is_a_line_and_ok_ends_it() {
    // TCP-IP AT Examples step 5 (2.x): `CONNECT` then `OK`. A late `OK` must not end the next
    // command, so `CONNECT` is an information line here.
    let (items, queued) = check_splits(Some(r#"AT+CIPSTART="TCP","192.168.3.102",8080"#), b"CONNECT\r\n\r\nOK\r\n");
    assert_eq!(infos(&items), vec![b"CONNECT".to_vec()]);
    assert_eq!(final_name(&items), Some("ok"));
    assert!(queued.is_empty());
    // Multiple connections: `0,CONNECT` / `0,CLOSED` reports outside a command are URCs.
    let (_, queued) = check_splits(None, b"\r\n0,CONNECT\r\n\r\n1,CLOSED\r\n\r\nCLOSED\r\n");
    assert_eq!(lines(&queued), vec![b"0,CONNECT".to_vec(), b"1,CLOSED".to_vec(), b"CLOSED".to_vec()]);
    assert_eq!(classify(b"0,CONNECT"), EspEvent::LinkConnect(Some(0)));
    assert_eq!(classify(b"CLOSED"), EspEvent::LinkClosed(None));
}

#[test]
fn cipsend_prompt_after_ok_recv_then_send_ok() {
    // TCP-IP AT Examples step 6: `OK`, `>`, then `Recv 4 bytes` and `SEND OK`.
    let text = b"AT+CIPSEND=4\r\r\nOK\r\n\r\n>Recv 4 bytes\r\n\r\nSEND OK\r\n";
    let (items, _) = check_splits(Some("AT+CIPSEND=4"), text);
    assert!(items.contains(&Item::Prompt(b'>')));
    assert_eq!(items.last(), Some(&Item::Result { line: b"SEND OK".to_vec(), complete: true }));
    let (items, _) = check_splits(Some("AT+CIPSEND=4"), b"OK\r\n\r\n>\r\nRecv 4 bytes\r\n\r\nSEND FAIL\r\n");
    assert_eq!(items.last(), Some(&Item::Result { line: b"SEND FAIL".to_vec(), complete: true }));
}

#[test]
fn wifi_disconnect_in_the_middle_of_a_send_is_a_urc() {
    let text = b"OK\r\n\r\n>\r\nWIFI DISCONNECT\r\n\r\nCLOSED\r\n\r\nRecv 4 bytes\r\n\r\nSEND FAIL\r\n";
    let (items, queued) = check_splits(Some("AT+CIPSEND=4"), text);
    assert_eq!(items.last(), Some(&Item::Result { line: b"SEND FAIL".to_vec(), complete: true }));
    assert_eq!(lines(&queued), vec![b"WIFI DISCONNECT".to_vec(), b"CLOSED".to_vec()]);
}

#[test]
fn ipd_payload_with_ok_crlf_nul_and_colon_is_intact() {
    // TCP-IP AT Commands, +IPD: `+IPD,<len>:<data>` (single) and `+IPD,<link>,<len>:<data>`.
    let payload: &[u8] = b"OK\r\nERROR\r\n\0+IPD,9:x\r\n>:";
    let mut single = b"\r\n+IPD,".to_vec();
    single.extend_from_slice(format!("{}:", payload.len()).as_bytes());
    single.extend_from_slice(payload);
    single.extend_from_slice(b"\r\nWIFI DISCONNECT\r\n");
    let (_, queued) = check_splits(None, &single);
    assert_eq!(queued.len(), 2);
    assert_eq!(queued[0].1, payload);
    assert_eq!(queued[1].0, b"WIFI DISCONNECT");
    let ipd = parse_ipd(&queued[0].0).unwrap();
    assert_eq!((ipd.link, usize::from(ipd.len), ipd.has_data), (None, payload.len(), true));

    let mut multi = format!("\r\n+IPD,3,{}:", payload.len()).into_bytes();
    multi.extend_from_slice(payload);
    let (_, queued) = check_splits(None, &multi);
    assert_eq!(queued[0].1, payload);
    assert_eq!(parse_ipd(&queued[0].0).unwrap().link, Some(3));

    // With AT+CIPDINFO=1, IPv6 remote address: its colons are inside the quotes.
    let (_, queued) = check_splits(None, b"+IPD,0,4,\"fe80::1\",8080:ab\r\n\r\nOK");
    assert_eq!(queued[0].1, b"ab\r\n");
    let ipd = parse_ipd(&queued[0].0).unwrap();
    assert_eq!(ipd.remote, Some(("fe80::1", 8080)));
    // Passive mode notice: no colon, no data.
    let ipd = parse_ipd(b"+IPD,0,120").unwrap();
    assert_eq!((ipd.link, ipd.len, ipd.has_data), (Some(0), 120, false));
}

#[test]
fn ipd_during_a_command_goes_to_the_urc_queue() {
    let text = b"AT+CWJAP?\r\r\n+IPD,0,6:OK\r\n\r\n+CWJAP:\"a\",\"b\",1,-40,0,1,3,0,1\r\n\r\nOK\r\n";
    let (items, queued) = check_splits(Some("AT+CWJAP?"), text);
    assert_eq!(final_name(&items), Some("ok"));
    assert_eq!(infos(&items).len(), 1);
    assert_eq!(queued, vec![(b"+IPD,0,6:".to_vec(), b"OK\r\n\r\n".to_vec())]);
}

#[test]
fn mqtt_connect_publish_raw_subscribe_receive() {
    // MQTT AT Commands: AT+MQTTCONN set → OK; `+MQTTCONNECTED:...` report (MQTT Notes).
    let text = b"+MQTTCONNECTED:0,1,\"192.168.10.234\",\"1883\",\"\",1\r\nOK\r\n";
    let (items, queued) = check_splits(Some(r#"AT+MQTTCONN=0,"192.168.10.234",1883,1"#), text);
    assert_eq!(final_name(&items), Some("ok"));
    let c = parse_mqtt_connected(&queued[0].0).unwrap();
    assert_eq!((c.link, c.scheme, c.host, c.port, c.path, c.reconnect), (0, 1, "192.168.10.234", 1883, "", 1));
    // AT+MQTTPUBRAW: `OK`, `> `, data, `+MQTTPUB:OK` / `+MQTTPUB:FAIL`.
    let (items, _) = check_splits(Some(r#"AT+MQTTPUBRAW=0,"topic",5,1,0"#), b"OK\r\n> +MQTTPUB:OK\r\n");
    assert!(items.contains(&Item::Prompt(b'>')));
    assert_eq!(items.last(), Some(&Item::Result { line: b"+MQTTPUB:OK".to_vec(), complete: true }));
    assert_eq!(parse_mqttpub_result(b"+MQTTPUB:FAIL"), Ok(false));
    // AT+MQTTSUB: `ALREADY SUBSCRIBE` is a line of the command.
    let (items, _) = check_splits(Some(r#"AT+MQTTSUB=0,"topic",1"#), b"ALREADY SUBSCRIBE\r\nOK\r\n");
    assert_eq!(infos(&items), vec![b"ALREADY SUBSCRIBE".to_vec()]);
    // `+MQTTSUBRECV:<LinkID>,"<topic>",<data_length>,data`: counted, so data with CRLF, OK, NUL,
    // quotes and commas arrives whole; `+MQTTDISCONNECTED:<LinkID>`.
    let payload: &[u8] = b"{\"a\":1,\r\nOK\r\n\0}";
    let mut text = format!("\r\n+MQTTSUBRECV:0,\"lockers/1,x\",{},", payload.len()).into_bytes();
    text.extend_from_slice(payload);
    text.extend_from_slice(b"\r\n+MQTTDISCONNECTED:0\r\n");
    let (_, queued) = check_splits(None, &text);
    assert_eq!(queued.len(), 2);
    let m = parse_subrecv(&queued[0].0).unwrap();
    assert_eq!((m.link, m.topic, usize::from(m.len)), (0, "lockers/1,x", payload.len()));
    assert_eq!(queued[0].1, payload);
    assert_eq!(parse_mqtt_disconnected(&queued[1].0), Ok(0));
    assert_eq!(classify(&queued[1].0), EspEvent::MqttDisconnected(0));
    // AT+MQTTCONN? query.
    let q = parse_mqttconn(b"+MQTTCONN:0,4,1,\"192.168.10.234\",\"1883\",\"\",1").unwrap();
    assert!(q.is_connected());
    assert_eq!(q.port, Some(1883));
}

#[test]
fn err_code_before_error() {
    // AT Messages: `ERR CODE:<0x%08x>`; MQTT Error Codes: 0x6004 AT_MQTT_ALREADY_CONNECTED.
    let (items, _) = check_splits(
        Some(r#"AT+MQTTCONN=0,"h",1883,1"#),
        b"ERR CODE:0x00006004
ERROR
",
    );
    assert_eq!(final_name(&items), Some("error"));
    let info = infos(&items);
    assert_eq!(parse_err_code(&info[0]), Ok(0x6004));
    assert!(parse_err_code(b"ERR CODE:6004").is_err());
    assert!(parse_err_code(b"ERR CODE:0x1234567890").is_err());
    assert!(parse_err_code(b"ERR CODE:0xZZ").is_err());
}

#[test]
fn sntp_time() {
    // TCP-IP AT Commands, AT+CIPSNTPTIME example.
    let (items, _) = check_splits(Some("AT+CIPSNTPTIME?"), b"+CIPSNTPTIME:Mon Dec 12 02:33:32 2016\r\nOK\r\n");
    let info = infos(&items);
    let t = parse_sntp_time(&info[0]).unwrap();
    assert_eq!((t.weekday, t.year, t.month, t.day, t.hour, t.minute, t.second), (0, 2016, 12, 12, 2, 33, 32));
    assert!(t.is_synchronised());
    // asctime pads a one-digit day with a space.
    let t = parse_sntp_time(b"+CIPSNTPTIME:Thu Aug  4 14:48:05 2021").unwrap();
    assert_eq!((t.weekday, t.month, t.day), (3, 8, 4));
    assert!(!parse_sntp_time(b"+CIPSNTPTIME:Thu Jan 01 00:00:00 1970").unwrap().is_synchronised());
    assert!(parse_sntp_time(b"+CIPSNTPTIME:Xyz Jan 01 00:00:00 1970").is_err());
    assert!(parse_sntp_time(b"+CIPSNTPTIME:Mon Dec 12 25:33:32 2016").is_err());
}

#[test]
fn boot_banner_and_reports_injected_between_lines() {
    // Basic AT Commands / AT Messages: `ready` after boot; ROM garbage before is discarded.
    let (_, queued) = check_splits(None, b"\0\xf0ets Jun  8 2016\r\n\r\nready\r\n");
    assert_eq!(lines(&queued), vec![b"ready".to_vec()]);
    // A report injected at every line boundary of a reply changes nothing in the reply.
    let reports: [&[u8]; 4] =
        [b"WIFI DISCONNECT", b"+MQTTDISCONNECTED:0", b"+IPD,0,4:OK\r\n", b"+MQTTSUBRECV:0,\"t\",2,\r\n"];
    let reply: [&[u8]; 3] = [b"AT+CWJAP?\r\r\n", b"+CWJAP:\"a\",\"b\",1,-40,0,1,3,0,1\r\n", b"\r\nOK\r\n"];
    let (base, _) = run(Some("AT+CWJAP?"), &[&reply.concat()]);
    for report in reports {
        for at in 0..=reply.len() {
            let mut parts: Vec<Vec<u8>> = reply.iter().map(|p| p.to_vec()).collect();
            let mut urc = b"\r\n".to_vec();
            urc.extend_from_slice(report);
            if !report.ends_with(b"\r\n") {
                urc.extend_from_slice(b"\r\n");
            }
            parts.insert(at, urc);
            let bytes = parts.concat();
            let (items, queued) = check_splits(Some("AT+CWJAP?"), &bytes);
            let strip = |v: &[Item]| -> Vec<Item> {
                v.iter().filter(|i| !matches!(i, Item::Urc(_) | Item::UrcData(_))).cloned().collect()
            };
            assert_eq!(strip(&items), strip(&base), "report {:?} at {at}", String::from_utf8_lossy(report));
            assert_eq!(queued.len(), 1, "report {:?} at {at}", String::from_utf8_lossy(report));
        }
    }
}

#[test]
fn ipd_header_edge_cases_in_the_framer() {
    use modem::framer::esp_header;
    assert_eq!(esp_header(b"+IPD,5:", b':'), Some(5));
    assert_eq!(esp_header(b"+IPD,1,5:", b':'), Some(5));
    assert_eq!(esp_header(b"+IPD,5,\"10.0.0.1\",80:", b':'), Some(5));
    assert_eq!(esp_header(b"+IPD,1,5,\"10.0.0.1\",80:", b':'), Some(5));
    assert_eq!(esp_header(b"+IPD,1,5,\"fe80:", b':'), None);
    assert_eq!(esp_header(b"+IPD,x:", b':'), None);
    assert_eq!(esp_header(b"+IPD,99999:", b':'), None, "over MAX_PAYLOAD");
    assert_eq!(esp_header(b"+MQTTSUBRECV:0,\"t\",", b','), None);
    assert_eq!(esp_header(b"+MQTTSUBRECV:0,\"t\",3,", b','), Some(3));
    assert_eq!(esp_header(b"+MQTTSUBRECV:0,t,3,", b','), None);
    assert_eq!(esp_header(b"+IPD,26", b':'), None, "the line must end with the trigger byte");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any payload (OK, CRLF, NUL, quotes, commas, `>`) in `+IPD` and `+MQTTSUBRECV`, cut at
        /// any two points, is delivered intact after the right header (ESP-AT.md §4, §6).
        #[test]
        fn esp_payloads_survive_any_split(
            payload in proptest::collection::vec(any::<u8>(), 1..200),
            link in proptest::option::of(0u8..5),
            a in 0usize..400,
            b in 0usize..400,
            mqtt in any::<bool>(),
        ) {
            let mut text = if mqtt {
                format!("\r\n+MQTTSUBRECV:0,\"lockers/1\",{},", payload.len()).into_bytes()
            } else {
                let link = link.map(|l| format!("{l},")).unwrap_or_default();
                format!("\r\n+IPD,{link}{}:", payload.len()).into_bytes()
            };
            text.extend_from_slice(&payload);
            text.extend_from_slice(b"\r\nWIFI GOT IP\r\n");
            let (a, b) = (a.min(text.len()), b.min(text.len()));
            let (lo, hi) = (a.min(b), a.max(b));
            let (_, queued) = run(None, &[&text[..lo], &text[lo..hi], &text[hi..]]);
            prop_assert_eq!(queued.len(), 2);
            prop_assert_eq!(&queued[0].1, &payload);
            prop_assert_eq!(queued[1].0.as_slice(), b"WIFI GOT IP");
            if mqtt {
                prop_assert_eq!(usize::from(parse_subrecv(&queued[0].0).unwrap().len), payload.len());
            } else {
                let ipd = parse_ipd(&queued[0].0).unwrap();
                prop_assert_eq!((ipd.link, usize::from(ipd.len)), (link, payload.len()));
            }
        }
    }
}
