//! `modemctl parse` run as a user runs it, as a separate process, on responses quoted in
//! ../shared/reference/modem.md (sources cited per case) and on shapes from the vectors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::process::Command;

use serde_json::{Value, json};

fn parse(command: Option<&str>, text: &str) -> Value {
    let mut args = vec!["parse"];
    if let Some(c) = command {
        args.extend(["--command", c]);
    }
    args.push(text);
    let out = Command::new(example_binary("modemctl")).args(&args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn creg_read_with_urc_before_the_reply() {
    // §1.7: while AT+CREG? is pending, `+CREG: 5` (one field) is a URC, the two-plus-field line
    // is the reply. Echo present (§1.4).
    let v = parse(Some("AT+CREG?"), r#"AT+CREG?\r\r\n+CREG: 5\r\n\r\n+CREG: 2,1,"8BE3","00002BAF"\r\n\r\nOK\r\n"#);
    assert_eq!(v["final"], "ok");
    assert_eq!(v["prompt"], false);
    assert_eq!(v["lines"], json!([{"kind": "+CREG", "n": 2, "stat": 1, "lac": 0x8BE3, "ci": 0x2BAF, "act": null}]));
    assert_eq!(v["urcs"], json!([{"kind": "+CREG", "n": null, "stat": 5, "lac": null, "ci": null, "act": null}]));
}

#[test]
fn creg_urc_after_cfun_ok() {
    // §1.6 item 2: ubx-rs documentation/at_logs/startup.md, `+CREG: 5,"9E9A","0196BDB0",2` right
    // after AT+CFUN=1's OK.
    let v = parse(Some("AT+CFUN=1"), r#"\r\nOK\r\n\r\n+CREG: 5,"9E9A","0196BDB0",2\r\n"#);
    assert_eq!(v["final"], "ok");
    assert_eq!(v["lines"], json!([]));
    assert_eq!(v["urcs"], json!([{"kind": "+CREG", "n": null, "stat": 5, "lac": 0x9E9A, "ci": 0x0196_BDB0, "act": 2}]));
}

#[test]
fn cgreg_urc_with_rac() {
    // §1.7: `+CGREG: 5,"9E9A","0196BDB0",2,"02"` (ubx-rs startup log) is stat,lac,ci,act,rac.
    let v = parse(None, r#"\r\n+CGREG: 5,"9E9A","0196BDB0",2,"02"\r\n"#);
    assert_eq!(v["final"], Value::Null);
    assert_eq!(
        v["urcs"],
        json!([{"kind": "+CGREG", "n": null, "stat": 5, "lac": 0x9E9A, "ci": 0x0196_BDB0, "act": 2, "rac": 2}])
    );
}

#[test]
fn cereg_read_uses_tac() {
    let v = parse(Some("AT+CEREG?"), r#"\r\n+CEREG: 2,5,"00C3","0A2B3C4D",7\r\n\r\nOK\r\n"#);
    assert_eq!(v["lines"], json!([{"kind": "+CEREG", "n": 2, "stat": 5, "tac": 0xC3, "ci": 0x0A2B_3C4D, "act": 7}]));
}

#[test]
fn csq_with_space_after_comma() {
    // §1.2: `+CSQ: 28, 99` (Q-AT §6.3 example).
    let v = parse(Some("AT+CSQ"), r"\r\n+CSQ: 28, 99\r\n\r\nOK\r\n");
    assert_eq!(v["lines"], json!([{"kind": "+CSQ", "rssi": 28, "ber": 99}]));
}

#[test]
fn cops_read_and_list() {
    // §2.5: `+COPS: 0,0,"CHINA MOBILE",7` (Q-AT §6.1).
    let v = parse(Some("AT+COPS?"), r#"\r\n+COPS: 0,0,"CHINA MOBILE",7\r\n\r\nOK\r\n"#);
    assert_eq!(v["lines"], json!([{"kind": "+COPS", "mode": 0, "format": 0, "oper": "CHINA MOBILE", "act": 7}]));
    // §2.5: `(1,"","","45005",7)` entries with empty names, range lists at the end.
    let v = parse(
        Some("AT+COPS=?"),
        r#"\r\n+COPS: (2,"Op A","A","00101",7),(1,"","","45005",7),,(0-4),(0-2)\r\n\r\nOK\r\n"#,
    );
    assert_eq!(
        v["lines"][0]["operators"],
        json!([
            {"stat": 2, "long": "Op A", "short": "A", "numeric": "00101", "act": 7},
            {"stat": 1, "long": null, "short": null, "numeric": "45005", "act": 7}
        ])
    );
}

#[test]
fn cops_list_in_ucs2() {
    // §1.5 / §2.5: under AT+CSCS="UCS2" names are hex UTF-16 (ModemManager
    // test-charset.c: `0054002D004D006F00620069006C0065` is `T-Mobile`).
    let v = parse(
        Some("AT+COPS=?"),
        r#"\r\n+COPS: (2,"0054002D004D006F00620069006C0065","0054004D004F","00330031003000320036",7),(1,"AT&T","AT&T","310410",0)\r\n\r\nOK\r\n"#,
    );
    assert_eq!(
        v["lines"][0]["operators"],
        json!([
            {"stat": 2, "long": "T-Mobile", "short": "TMO", "numeric": "31026", "act": 7},
            {"stat": 1, "long": "AT&T", "short": "AT&T", "numeric": "310410", "act": 0}
        ])
    );
}

#[test]
fn error_results() {
    // §1.3: S-AT §4.18 verbose and numeric +CME ERROR; §2.11 +CMS ERROR 330.
    let v = parse(Some(r#"AT+CPIN="1234""#), r"\r\n+CME ERROR: incorrect password\r\n");
    assert_eq!(
        (v["final"].clone(), v["code"].clone(), v["text"].clone()),
        (json!("cme_error"), json!(16), json!("incorrect password"))
    );
    // A vendor text has no standard number.
    let v = parse(Some("AT+QIACT=1"), r"\r\n+CME ERROR: PDP activation rejected by vendor\r\n");
    assert_eq!((v["code"].clone(), v["text"].clone()), (Value::Null, json!("PDP activation rejected by vendor")));
    let v = parse(Some(r#"AT+CPIN="1234""#), r"\r\n+CME ERROR: 16\r\n");
    assert_eq!((v["final"].clone(), v["code"].clone()), (json!("cme_error"), json!(16)));
    let v = parse(Some(r#"AT+CMGS="+100""#), r"\r\n+CMS ERROR: 330\r\n");
    assert_eq!((v["final"].clone(), v["code"].clone()), (json!("cms_error"), json!(330)));
    let v = parse(Some("ATD*99#"), r"\r\nNO CARRIER\r\n");
    assert_eq!(v["final"], "no_carrier");
    let v = parse(Some("ATD*99***1#"), r"\r\nCONNECT 150000000\r\n");
    assert_eq!(v["final"], "connect");
}

#[test]
fn incomplete_response_has_null_final() {
    let v = parse(Some("AT+CSQ"), r"\r\n+CSQ: 19,99\r\n");
    assert_eq!(v["final"], Value::Null);
    assert_eq!(v["lines"][0]["rssi"], 19);
}

#[test]
fn prompt_and_sms_reference() {
    // §1.8: `\r\n> ` with no line end.
    let v = parse(Some(r#"AT+CMGS="+8613800000000""#), r#"AT+CMGS="+8613800000000"\r\r\n> "#);
    assert_eq!(v["prompt"], true);
    assert_eq!(v["final"], Value::Null);
}

#[test]
fn quectel_urcs_and_identity() {
    // §2.7 / §2.9: +QIURC events, +QMTSTAT, boot banner (§2.2).
    let v = parse(None, r#"\r\nRDY\r\n\r\n+QIURC: "closed",1\r\n\r\n+QIURC: "pdpdeact",1\r\n\r\n+QMTSTAT: 0,2\r\n"#);
    assert_eq!(
        v["urcs"],
        json!([
            {"kind": "RDY"},
            {"kind": "+QIURC", "event": "closed", "connect_id": 1, "data_len": null},
            {"kind": "+QIURC", "event": "pdpdeact", "connect_id": null, "data_len": null, "context_id": 1},
            {"kind": "+QMTSTAT", "client_idx": 0, "err_code": 2}
        ])
    );
    // §2.3: Quectel `+QCCID: 89860025128306012474`, SIMCom `+ICCID: 898600700907A6019125`.
    let v = parse(Some("AT+QCCID"), r"\r\n+QCCID: 89860025128306012474\r\n\r\nOK\r\n");
    assert_eq!(v["lines"], json!([{"kind": "+QCCID", "iccid": "89860025128306012474"}]));
    let v = parse(Some("AT+CICCID"), r"\r\n+ICCID: 898600700907A6019125\r\n\r\nOK\r\n");
    assert_eq!(v["lines"], json!([{"kind": "+ICCID", "iccid": "898600700907A6019125"}]));
    // §2.12: `+CCLK: "08/11/26,10:15:02+32"` (S-AT §4.17).
    let v = parse(Some("AT+CCLK?"), r#"\r\n+CCLK: "08/11/26,10:15:02+32"\r\n\r\nOK\r\n"#);
    assert_eq!(
        v["lines"],
        json!([{"kind": "+CCLK", "year": 2008, "month": 11, "day": 26, "hour": 10, "minute": 15, "second": 2, "tz_quarter_hours": 32}])
    );
}

#[test]
fn async_result_after_ok_is_a_line_of_the_command() {
    // §1.6 item 6: `+QIOPEN: 0,0` after OK belongs to AT+QIOPEN; a URC in between stays a URC.
    let v = parse(
        Some(r#"AT+QIOPEN=1,0,"TCP","example.com",1883,0,0"#),
        r#"\r\nOK\r\n\r\n+CEREG: 1\r\n\r\n+QIOPEN: 0,0\r\n"#,
    );
    assert_eq!(v["final"], "ok");
    assert_eq!(v["lines"][0]["kind"], "+QIOPEN");
    assert_eq!(v["urcs"][0]["kind"], "+CEREG");
}

#[test]
fn bad_escape_is_an_error() {
    let out = Command::new(example_binary("modemctl")).args(["parse", r"\q"]).output().unwrap();
    assert!(!out.status.success());
}

/// The command text of a vector's `command` field, `None` for `(URC)` and the like.
fn vector_command(field: &str) -> Option<String> {
    if !field.starts_with("AT") {
        return None;
    }
    let end = [" (", " /"].iter().filter_map(|s| field.find(s)).min().unwrap_or(field.len());
    Some(field[..end].to_owned())
}

/// Escapes raw bytes the way a user types them for `modemctl parse`.
fn escape(raw: &str) -> String {
    raw.replace('\\', r"\\").replace('\r', r"\r").replace('\n', r"\n").replace('\0', r"\0")
}

#[test]
fn every_registration_and_operator_vector() {
    // modem/tests/data/modem.json, a copy of ../shared/vectors/modem.json (ids kept).
    let vectors: Vec<Value> = serde_json::from_str(include_str!("../../modem/tests/data/modem.json")).unwrap();
    let mut checked = 0;
    for v in vectors.iter().filter(|v| v["category"] == "reg" || v["category"] == "cops") {
        let id = v["id"].as_str().unwrap();
        let e = &v["expected"];
        if e.get("malformed").is_some() || e.get("info_lines").is_some() {
            continue;
        }
        let command = vector_command(v["command"].as_str().unwrap());
        let out = parse(command.as_deref(), &escape(v["raw"].as_str().unwrap()));
        if let Some(ops) = e.get("operators") {
            let got = out["lines"].get(0).map_or(json!([]), |l| l["operators"].clone());
            let got = got.as_array().unwrap();
            assert_eq!(got.len(), ops.as_array().unwrap().len(), "{id}: {out}");
            for (g, w) in got.iter().zip(ops.as_array().unwrap()) {
                for k in ["stat", "long", "short", "numeric"] {
                    assert_eq!(g[k], w[k], "{id} {k}");
                }
            }
        } else if e.get("mode").is_some() {
            for k in ["mode", "format", "oper", "act"] {
                assert_eq!(out["lines"][0][k], e[k], "{id} {k}");
            }
        } else {
            let objs = if e["kind"] == "urc" || e.get("urcs").is_some() { &out["urcs"] } else { &out["lines"] };
            let wants: Vec<&Value> = match e.get("urcs") {
                Some(list) => list.as_array().unwrap().iter().collect(),
                None => vec![e],
            };
            assert_eq!(objs.as_array().unwrap().len(), wants.len(), "{id}: {out}");
            for (o, w) in objs.as_array().unwrap().iter().zip(wants) {
                assert_eq!(o["kind"], w["prefix"], "{id}");
                for k in ["n", "stat", "lac", "tac", "ci", "act"] {
                    if w.get(k).is_some() {
                        assert_eq!(o[k], w[k], "{id} {k}: {out}");
                    }
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 40);
}

/// `modemctl parse --dialect esp-at`.
fn parse_esp(command: Option<&str>, text: &str) -> Value {
    let mut args = vec!["parse", "--dialect", "esp-at"];
    if let Some(c) = command {
        args.extend(["--command", c]);
    }
    args.push(text);
    let out = Command::new(example_binary("modemctl")).args(&args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap()
}

#[test]
fn esp_join_success_and_failure() {
    // ESP-AT Wi-Fi AT Commands, AT+CWJAP set; TCP-IP AT Examples step 2 (modem/ESP-AT.md §3).
    let v = parse_esp(
        Some(r#"AT+CWJAP="espressif","1234567890""#),
        r#"AT+CWJAP="espressif","1234567890"\r\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"#,
    );
    assert_eq!(v["final"], "ok");
    assert_eq!(v["lines"], json!([]));
    assert_eq!(v["urcs"], json!([{"kind": "WIFI CONNECTED"}, {"kind": "WIFI GOT IP"}]));
    for word in ["ERROR", "FAIL"] {
        let v = parse_esp(Some(r#"AT+CWJAP="x","y""#), &format!(r"\r\nWIFI DISCONNECT\r\n+CWJAP:2\r\n\r\n{word}\r\n"));
        assert_eq!(v["final"], "error");
        assert_eq!(v["lines"], json!([{"kind": "+CWJAP", "error_code": 2, "reason": "wrong_password"}]));
        assert_eq!(v["urcs"], json!([{"kind": "WIFI DISCONNECT"}]));
    }
}

#[test]
fn esp_cwjap_query_cipsta_gmr_sntp() {
    // Wi-Fi AT Commands, AT+CWJAP query (9 parameters); TCP-IP AT Examples step 3; Basic AT
    // Commands, AT+GMR; TCP/IP AT Commands, AT+CIPSNTPTIME (modem/ESP-AT.md §2, §3, §5).
    let v = parse_esp(Some("AT+CWJAP?"), r#"+CWJAP:"espressif","1a:2b:3c:4d:5e:6f",6,-50,0,1,3,0,1\r\n\r\nOK\r\n"#);
    assert_eq!(
        v["lines"],
        json!([{"kind": "+CWJAP", "ssid": "espressif", "bssid": "1a:2b:3c:4d:5e:6f", "channel": 6, "rssi": -50,
                "pci_en": 0, "reconn_interval": 1, "listen_interval": 3, "scan_mode": 0, "pmf": 1}])
    );
    let v = parse_esp(Some("AT+CWJAP?"), r"No AP\r\n\r\nOK\r\n");
    assert_eq!(v["lines"], json!([{"kind": "No AP"}]));
    let v = parse_esp(
        Some("AT+CIPSTA?"),
        r#"+CIPSTA:ip:"192.168.3.112"\r\n+CIPSTA:gateway:"192.168.3.1"\r\n+CIPSTA:netmask:"255.255.255.0"\r\n\r\nOK\r\n"#,
    );
    assert_eq!(v["lines"][0], json!({"kind": "+CIPSTA", "key": "ip", "address": "192.168.3.112"}));
    assert_eq!(v["lines"][2], json!({"kind": "+CIPSTA", "key": "netmask", "address": "255.255.255.0"}));
    let v = parse_esp(
        Some("AT+GMR"),
        r"AT version:2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)\r\nSDK version:v4.2.2-76-gefa6eca\r\ncompile time(3a696ba):Jul  2 2021 11:54:43\r\nBin version:2.2.0(WROOM-32)\r\n\r\nOK\r\n",
    );
    assert_eq!(v["lines"].as_array().unwrap().len(), 4);
    assert_eq!(v["lines"][3], json!({"kind": "version", "key": "Bin version", "value": "2.2.0(WROOM-32)"}));
    let v = parse_esp(Some("AT+CIPSNTPTIME?"), r"+CIPSNTPTIME:Mon Dec 12 02:33:32 2016\r\nOK\r\n");
    assert_eq!(
        v["lines"],
        json!([{"kind": "+CIPSNTPTIME", "year": 2016, "month": 12, "day": 12, "hour": 2, "minute": 33, "second": 32, "weekday": 0}])
    );
}

#[test]
fn esp_ipd_payload_with_ok_and_crlf_is_delivered_intact() {
    // TCP/IP AT Commands, +IPD (modem/ESP-AT.md §4): the payload may hold OK, CRLF, NUL.
    let v = parse_esp(None, r"\r\n+IPD,12:OK\r\nERROR\r\n\0\r\nWIFI DISCONNECT\r\n");
    assert_eq!(
        v["urcs"],
        json!([{"kind": "+IPD", "link_id": null, "len": 12, "remote_ip": null, "remote_port": null, "data": "OK\r\nERROR\r\n\u{0}"},
               {"kind": "WIFI DISCONNECT"}])
    );
    let v = parse_esp(Some("AT+CWJAP?"), r#"+IPD,1,4,"192.168.3.102",8080:OK\r\n\r\nNo AP\r\n\r\nOK\r\n"#);
    assert_eq!(v["final"], "ok");
    assert_eq!(v["lines"], json!([{"kind": "No AP"}]));
    assert_eq!(
        v["urcs"],
        json!([{"kind": "+IPD", "link_id": 1, "len": 4, "remote_ip": "192.168.3.102", "remote_port": 8080, "data": "OK\r\n"}])
    );
}

#[test]
fn esp_tcp_and_mqtt() {
    // TCP-IP AT Examples steps 5-6; MQTT AT Commands (modem/ESP-AT.md §4, §6).
    let v = parse_esp(Some(r#"AT+CIPSTART="TCP","192.168.3.102",8080"#), r"CONNECT\r\n\r\nOK\r\n");
    assert_eq!((v["final"].clone(), v["lines"].clone()), (json!("ok"), json!([{"kind": "CONNECT", "link_id": null}])));
    let v = parse_esp(Some("AT+CIPSEND=4"), r"OK\r\n\r\n>Recv 4 bytes\r\n\r\nSEND OK\r\n");
    assert_eq!((v["final"].clone(), v["prompt"].clone()), (json!("ok"), json!(true)));
    assert_eq!(v["lines"], json!([{"kind": "SEND OK"}]));
    let v = parse_esp(
        Some(r#"AT+MQTTCONN=0,"192.168.10.234",1883,1"#),
        r#"+MQTTCONNECTED:0,1,"192.168.10.234","1883","",1\r\nOK\r\n"#,
    );
    assert_eq!(v["final"], "ok");
    assert_eq!(
        v["urcs"],
        json!([{"kind": "+MQTTCONNECTED", "link_id": 0, "scheme": 1, "host": "192.168.10.234", "port": 1883, "path": "", "reconnect": 1}])
    );
    // AT Messages `ERR CODE:<0x%08x>`; MQTT Error Codes 0x6004 AT_MQTT_ALREADY_CONNECTED.
    let v = parse_esp(Some(r#"AT+MQTTCONN=0,"h",1883,1"#), r"ERR CODE:0x00006004\r\nERROR\r\n");
    assert_eq!(
        (v["final"].clone(), v["lines"].clone()),
        (json!("error"), json!([{"kind": "ERR CODE", "code": 0x6004}]))
    );
    let v = parse_esp(Some(r#"AT+MQTTPUBRAW=0,"t",5,1,0"#), r"OK\r\n> +MQTTPUB:OK\r\n");
    assert_eq!((v["prompt"].clone(), v["lines"].clone()), (json!(true), json!([{"kind": "+MQTTPUB", "result": "ok"}])));
    let v = parse_esp(None, r#"+MQTTSUBRECV:0,"lockers/7",9,a,"b"\r\nOK\r\n+MQTTDISCONNECTED:0\r\n"#);
    assert_eq!(
        v["urcs"],
        json!([{"kind": "+MQTTSUBRECV", "link_id": 0, "topic": "lockers/7", "data_length": 9, "data": "a,\"b\"\r\nOK"},
               {"kind": "+MQTTDISCONNECTED", "link_id": 0}])
    );
}
