//! Every vector of `tests/data/modem.json` (a copy of ../shared/vectors/modem.json, ids and
//! sources kept), checked by id against its `expected` object; then each fed split at every byte
//! position, and with URCs injected at every line boundary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::*;
use modem::params::Fields;
use modem::response::*;
use serde_json::Value;

fn num(v: &Value) -> Option<i64> {
    v.as_i64()
}

fn fields(line: &[u8]) -> Vec<Vec<u8>> {
    let colon = line.iter().position(|&b| b == b':').unwrap();
    Fields::new(line, colon + 1).map(|f| f.unwrap().text().to_vec()).collect()
}

fn check_reg(id: &str, line: &[u8], e: &Value) {
    match parse_registration(line) {
        Ok(r) => {
            assert_eq!(r.kind.prefix(), e["prefix"].as_str().unwrap(), "{id}");
            assert_eq!(r.n.map(i64::from), num(&e["n"]), "{id} n");
            assert_eq!(Some(i64::from(r.stat)), num(&e["stat"]), "{id} stat");
            if e.get("malformed").is_some() {
                return;
            }
            let area = if r.kind.uses_tac() { &e["tac"] } else { &e["lac"] };
            if e.get(if r.kind.uses_tac() { "tac" } else { "lac" }).is_some() {
                assert_eq!(r.area.map(i64::from), num(area), "{id} area");
            }
            if e.get("ci").is_some() {
                assert_eq!(r.ci.map(|c| c as i64), num(&e["ci"]), "{id} ci");
            }
            if e.get("act").is_some() {
                assert_eq!(r.act.map(i64::from), num(&e["act"]), "{id} act");
            }
            if let Some(rac) = e.get("rac_raw").and_then(Value::as_str) {
                assert_eq!(r.rac.map(i64::from), i64::from_str_radix(rac, 16).ok(), "{id} rac");
            }
        }
        Err(err) => assert!(e.get("malformed").is_some(), "{id}: {err}"),
    }
}

fn check_operators(id: &str, lines: &[Vec<u8>], e: &Value) {
    let ops: Vec<_> = lines.iter().flat_map(|l| operators(l).filter_map(Result::ok).collect::<Vec<_>>()).collect();
    let want = e["operators"].as_array().unwrap();
    assert_eq!(ops.len(), want.len(), "{id}: {ops:?}");
    for (op, w) in ops.iter().zip(want) {
        assert_eq!(i64::from(op.stat), w["stat"].as_i64().unwrap(), "{id}");
        assert_eq!(op.long, w["long"].as_str(), "{id}");
        assert_eq!(op.short, w["short"].as_str(), "{id}");
        assert_eq!(op.numeric, w["numeric"].as_str(), "{id}");
        if w.get("act").is_some() {
            assert_eq!(op.act.map(i64::from), num(&w["act"]), "{id}");
        }
    }
}

fn final_of(items: &[Item]) -> Option<(&'static str, Option<u16>, Option<String>)> {
    finals(items).first().map(|f| match f {
        Item::Final { name, code, text, .. } => (*name, *code, text.clone()),
        _ => unreachable!(),
    })
}

/// Lines routed after the (first) final: URCs and discarded garbage, in order.
fn trailing(items: &[Item]) -> Vec<String> {
    let at = items.iter().position(|i| matches!(i, Item::Final { .. })).unwrap();
    items[at + 1..]
        .iter()
        .filter_map(|i| match i {
            Item::Urc(l) | Item::Discarded(l) => Some(s(l)),
            _ => None,
        })
        .collect()
}

fn check_vector(v: &Value) {
    let id = v["id"].as_str().unwrap();
    let raw = v["raw"].as_str().unwrap().as_bytes();
    let e = &v["expected"];
    let command = command_of(v["command"].as_str().unwrap());
    let cat = v["category"].as_str().unwrap();
    // The final-result fixtures of ModemManager ("(any)") are replies to some command.
    let command = if command.is_none() && cat == "final" { Some("AT".to_owned()) } else { command };
    let items = run(command.as_deref(), &[raw]);
    let info = infos(&items);
    let urc = urcs(&items);
    let first_line = || {
        info.first()
            .or(urc.first())
            .or(results(&items).first().map(|_| &info[0]))
            .cloned()
            .unwrap_or_else(|| panic!("{id}: no line in {items:?}"))
    };
    match cat {
        "reg" => {
            if let Some(list) = e.get("urcs") {
                let list = list.as_array().unwrap();
                assert_eq!(urc.len(), list.len(), "{id}");
                for (line, w) in urc.iter().zip(list) {
                    check_reg(id, line, w);
                }
            } else if e["kind"] == "urc" {
                assert!(info.is_empty(), "{id}");
                assert_eq!(urc.len(), 1, "{id}: {items:?}");
                check_reg(id, &urc[0], e);
            } else if e.get("info_lines").is_some() {
                assert_eq!(info.len(), 0, "{id}");
                assert_eq!(final_of(&items).unwrap().0, e["final"].as_str().unwrap());
            } else {
                assert_eq!(info.len(), 1, "{id}: {items:?}");
                assert!(urc.is_empty(), "{id}");
                check_reg(id, &info[0], e);
                if raw.ends_with(b"OK\n") {
                    // reg-083: the unterminated quote must not swallow the OK line.
                    assert_eq!(final_of(&items).unwrap().0, "ok", "{id}");
                }
            }
        }
        "cops" => {
            if e.get("operators").is_some() {
                check_operators(id, &info, e);
            } else {
                let c = parse_cops(&info[0]).unwrap();
                assert_eq!(i64::from(c.mode), e["mode"].as_i64().unwrap(), "{id}");
                assert_eq!(c.format.map(i64::from), num(&e["format"]), "{id}");
                assert_eq!(c.oper, e["oper"].as_str(), "{id}");
                assert_eq!(c.act.map(i64::from), num(&e["act"]), "{id}");
            }
        }
        "cclk" => {
            let t = parse_cclk(&info[0]).unwrap();
            assert_eq!(i64::from(t.year), e["year"].as_i64().unwrap(), "{id}");
            assert_eq!(i64::from(t.month), e["month"].as_i64().unwrap(), "{id}");
            assert_eq!(i64::from(t.day), e["day"].as_i64().unwrap(), "{id}");
            assert_eq!(i64::from(t.hour), e["hour"].as_i64().unwrap(), "{id}");
            assert_eq!(i64::from(t.minute), e["minute"].as_i64().unwrap(), "{id}");
            assert_eq!(i64::from(t.second), e["second"].as_i64().unwrap(), "{id}");
            assert_eq!(t.tz_quarter_hours.map(i64::from), num(&e["tz_quarter_hours"]), "{id}");
            assert_eq!(t.tz_offset_minutes().map(i64::from), num(&e["tz_offset_minutes"]), "{id}");
        }
        "cme" | "final" => {
            if e.get("complete").and_then(Value::as_bool) == Some(false) {
                assert!(final_of(&items).is_none(), "{id}: {items:?}");
                return;
            }
            let (name, code, text) = final_of(&items).unwrap_or_else(|| panic!("{id}: {items:?}"));
            assert_eq!(name, e["final"].as_str().unwrap(), "{id}");
            if e.get("code").is_some() {
                assert_eq!(code.map(i64::from), num(&e["code"]), "{id}");
            }
            if let Some(t) = e.get("text").and_then(Value::as_str) {
                assert_eq!(text.as_deref(), Some(t), "{id}");
            }
            if let Some(lines) = e.get("info_lines") {
                let want: Vec<String> =
                    lines.as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()).collect();
                assert_eq!(info.iter().map(|l| s(l)).collect::<Vec<_>>(), want, "{id}");
            }
            if e.get("echo").is_some() {
                assert_eq!(items.first(), Some(&Item::Echo), "{id}");
            }
            for key in ["trailing_lines", "trailing_urcs"] {
                if let Some(lines) = e.get(key) {
                    let want: Vec<String> =
                        lines.as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()).collect();
                    assert_eq!(trailing(&items), want, "{id}");
                }
            }
            if e.get("trailing_urcs").is_some() {
                assert_eq!(urc.len(), e["trailing_urcs"].as_array().unwrap().len(), "{id}: all after-OK URCs queued");
            }
        }
        "cpin" => {
            let line = first_line();
            assert_eq!(parse_cpin(&line).unwrap().code, e["code"].as_str().unwrap(), "{id}");
            if v["command"] == "(URC)" {
                assert_eq!(urc.len(), 1, "{id}");
            } else {
                assert_eq!(info.len(), 1, "{id}");
            }
        }
        "csq" => {
            let c = parse_csq(&info[0]).unwrap();
            assert_eq!(i64::from(c.rssi), e["rssi"].as_i64().unwrap(), "{id}");
            assert_eq!(i64::from(c.ber), e["ber"].as_i64().unwrap(), "{id}");
            if let Some(dbm) = e.get("rssi_dbm") {
                assert_eq!(c.rssi_dbm().map(i64::from), dbm.as_i64(), "{id}");
            }
            assert_eq!(final_of(&items).unwrap().0, "ok", "{id}");
        }
        "iccid" => match e.get("iccid") {
            Some(want) => assert_eq!(parse_iccid(raw).unwrap(), want.as_str().unwrap(), "{id}"),
            None => assert!(parse_iccid(raw).is_err(), "{id}"),
        },
        "echo" => {
            // The framer delivers every line of what is left after echo removal; whatever came
            // before the first line end and is not in it is discarded, never queued or answered.
            let want: Vec<String> = e["after_echo_removal"]
                .as_str()
                .unwrap()
                .split(['\r', '\n'])
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            let delivered: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    Item::Urc(l) | Item::Discarded(l) | Item::Info(l) => Some(s(l)),
                    _ => None,
                })
                .collect();
            assert!(delivered.ends_with(&want), "{id}: {delivered:?}");
            for removed in &delivered[..delivered.len() - want.len()] {
                assert!(items.contains(&Item::Discarded(removed.as_bytes().to_vec())), "{id}");
            }
            if want.iter().any(|l| l == "NO CARRIER") {
                assert_eq!(urc, vec![b"NO CARRIER".to_vec()], "{id}: call end outside a command is a URC");
            }
        }
        "digest" => {
            if let Some(events) = e.get("events") {
                for ev in events.as_array().unwrap() {
                    if let Some(u) = ev.get("urc") {
                        assert!(urc.contains(&u.as_str().unwrap().as_bytes().to_vec()), "{id}");
                    }
                    if let Some(r) = ev.get("response") {
                        assert!(info.contains(&r.as_str().unwrap().as_bytes().to_vec()), "{id}");
                    }
                    if let Some(f) = ev.get("final") {
                        assert_eq!(final_of(&items).unwrap().0, f.as_str().unwrap(), "{id}");
                    }
                }
            }
            if let Some(u) = e.get("urc") {
                assert_eq!(urc, vec![u.as_str().unwrap().as_bytes().to_vec()], "{id}");
            }
            if let Some(p) = e.get("prompt") {
                assert!(items.contains(&Item::Prompt(p.as_str().unwrap().as_bytes()[0])), "{id}: {items:?}");
            }
            if let Some(h) = e.get("response_header") {
                assert_eq!(info, vec![h.as_str().unwrap().as_bytes().to_vec()], "{id}");
                let data: Vec<u8> = (0..e["data_hex"].as_str().unwrap().len() / 2)
                    .map(|i| u8::from_str_radix(&e["data_hex"].as_str().unwrap()[2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                assert!(items.contains(&Item::Data(data)), "{id}: {items:?}");
                assert!(!items.iter().any(|i| matches!(i, Item::Prompt(_))), "{id}");
                assert_eq!(final_of(&items).unwrap().0, "ok", "{id}");
            }
        }
        "qi" | "simcom" => {
            if let Some(then) = e.get("then_urc") {
                // Results expected after OK are awaited as part of the command (reference §1.6).
                assert_eq!(final_of(&items).unwrap().0, e["final"].as_str().unwrap(), "{id}");
                let res = results(&items);
                assert_eq!(res.len(), 1, "{id}: {items:?}");
                assert!(res[0].starts_with(then["urc"].as_str().unwrap().as_bytes()), "{id}");
                assert!(matches!(items.last(), Some(Item::Result { complete: true, .. })), "{id}");
                let f = fields(&res[0]);
                let first = then.get("connect_id").or(then.get("link")).unwrap().as_i64().unwrap();
                assert_eq!(s(&f[0]).parse::<i64>().unwrap(), first, "{id}");
            } else if let Some(event) = e.get("event") {
                let q = parse_qiurc(&urc[0]).unwrap();
                assert_eq!(q.event, event.as_str().unwrap(), "{id}");
                assert_eq!(q.context_id.map(i64::from), num(&e["context_id"]), "{id}");
            } else if let Some(states) = e.get("link_states") {
                let f: Vec<i64> = fields(&info[0]).iter().map(|x| s(x).parse().unwrap()).collect();
                let want: Vec<i64> = states.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
                assert_eq!(f, want, "{id}");
            } else if let Some(u) = e.get("urc") {
                assert_eq!(urc, vec![u.as_str().unwrap().as_bytes().to_vec()], "{id}");
            } else if e.get("read_actual_length").is_some() {
                assert_eq!(info, vec![b"+QIRD: 0".to_vec()], "{id}");
                assert!(!items.iter().any(|i| matches!(i, Item::Data(_))), "{id}");
            } else {
                // qi-009: +QISTATE fields by position (Quectel TCP/IP AN).
                let f = fields(&info[0]);
                let keys = [
                    "connect_id",
                    "service_type",
                    "ip",
                    "remote_port",
                    "local_port",
                    "socket_state",
                    "context_id",
                    "server_id",
                    "access_mode",
                    "at_port",
                ];
                for (k, val) in keys.iter().zip(&f) {
                    let want = match &e[*k] {
                        Value::String(x) => x.clone(),
                        other => other.to_string(),
                    };
                    assert_eq!(s(val), want, "{id} {k}");
                }
            }
        }
        "qmt" => {
            if let Some(events) = e.get("events") {
                let stored = parse_qmtrecv(&urc[0]).unwrap();
                assert_eq!(stored, Qmtrecv::Stored { client_idx: 1, recv_id: 0 }, "{id}");
                let r = &events[1]["response"];
                match parse_qmtrecv(&info[0]).unwrap() {
                    Qmtrecv::Message { client_idx, msg_id, topic, payload_len, payload } => {
                        assert_eq!(i64::from(client_idx), r["client_idx"].as_i64().unwrap());
                        assert_eq!(i64::from(msg_id), r["msg_id"].as_i64().unwrap());
                        assert_eq!(topic, r["topic"].as_str().unwrap());
                        assert_eq!(payload_len.map(i64::from), r["payload_len"].as_i64());
                        assert_eq!(payload, r["payload"].as_str().unwrap().as_bytes());
                    }
                    other => panic!("{id}: {other:?}"),
                }
                assert_eq!(final_of(&items).unwrap().0, "ok", "{id}");
            } else {
                // qmt-006: with the QMTPUB command pending, `+QMTPUB:` is its awaited result.
                let res = results(&items);
                assert_eq!(res.len(), 1, "{id}: {items:?}");
                let f: Vec<i64> = fields(&res[0]).iter().map(|x| s(x).parse().unwrap()).collect();
                assert_eq!(
                    f,
                    vec![
                        e["client_idx"].as_i64().unwrap(),
                        e["msg_id"].as_i64().unwrap(),
                        e["result"].as_i64().unwrap()
                    ],
                    "{id}"
                );
            }
        }
        "ready" | "cmgs" => {
            if e.get("host_tx").is_some() {
                // cmgs-007 is what the host sends after the prompt; from the module it would be
                // garbage: discarded, nothing queued.
                let items = run(None, &[raw]);
                assert_eq!(items, vec![Item::Discarded(b"hello\x1a".to_vec())], "{id}");
                return;
            }
            let prefix = e["urc"].as_str().unwrap();
            assert_eq!(urc.len(), 1, "{id}: {items:?}");
            assert!(urc[0].starts_with(prefix.as_bytes()), "{id}");
            for key in ["enable", "inserted", "index"] {
                if let Some(want) = e.get(key) {
                    let pos = match key {
                        "inserted" | "index" => 1,
                        _ => 0,
                    };
                    assert_eq!(s(&fields(&urc[0])[pos]).parse::<i64>().unwrap(), want.as_i64().unwrap(), "{id} {key}");
                }
            }
        }
        other => panic!("{id}: no check for category {other}"),
    }
}

#[test]
fn every_vector_by_id() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 99);
    for v in &vectors {
        check_vector(v);
    }
}

#[test]
fn every_vector_split_at_every_byte_is_identical() {
    for v in vectors() {
        let id = v["id"].as_str().unwrap();
        let raw = v["raw"].as_str().unwrap().as_bytes();
        let command = command_of(v["command"].as_str().unwrap());
        let whole = run(command.as_deref(), &[raw]);
        for cut in 0..=raw.len() {
            assert_eq!(run(command.as_deref(), &[&raw[..cut], &raw[cut..]]), whole, "{id} cut at {cut}");
        }
        let bytes: Vec<&[u8]> = raw.chunks(1).collect();
        assert_eq!(run(command.as_deref(), &bytes), whole, "{id} byte by byte");
    }
}

#[test]
fn recorded_chunks_of_final_034() {
    // The mbed-os #10658 split URC case, fed as the recorded UART reads.
    let v = vectors().into_iter().find(|v| v["id"] == "final-034").unwrap();
    let chunks: Vec<String> = v["chunks"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    let chunks: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
    let items = run(Some("AT+COPS=2"), &chunks);
    assert_eq!(urcs(&items), vec![b"+CREG: 0".to_vec(), b"+CGREG: 0".to_vec(), b"+CGEV: NW DETACH".to_vec()]);
}

/// URCs injected at every line boundary leave the command's outcome unchanged and are each
/// delivered once (reference §6.3 interleaving test).
#[test]
fn every_vector_with_urcs_injected_between_lines() {
    let injected: [&[u8]; 3] = [b"+CMTI: \"SM\",3", b"RDY", b"+QIURC: \"pdpdeact\",1"];
    for v in vectors() {
        let id = v["id"].as_str().unwrap();
        let raw = v["raw"].as_str().unwrap().as_bytes();
        let command = command_of(v["command"].as_str().unwrap());
        let whole = run(command.as_deref(), &[raw]);
        // Line boundaries: after a '\n' that is not inside a counted payload, and the start.
        let mut boundaries = vec![0];
        let mut framer = modem::Framer::<512>::new();
        for (i, &b) in raw.iter().enumerate() {
            let _ = framer.push(b);
            if b == b'\n' && !framer.in_payload() {
                boundaries.push(i + 1);
            }
        }
        for &at in &boundaries {
            for urc in injected {
                let mut bytes = raw[..at].to_vec();
                bytes.extend_from_slice(b"\r\n");
                bytes.extend_from_slice(urc);
                bytes.extend_from_slice(b"\r\n");
                bytes.extend_from_slice(&raw[at..]);
                let mut items = run(command.as_deref(), &[&bytes]);
                let pos = items.iter().position(|i| *i == Item::Urc(urc.to_vec()));
                let pos = pos.unwrap_or_else(|| panic!("{id}: injected {} at {at} not delivered: {items:?}", s(urc)));
                items.remove(pos);
                assert_eq!(items, whole, "{id}: injected {} at {at}", s(urc));
            }
        }
    }
}
