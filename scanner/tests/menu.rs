//! Honeywell and Newland menu commands and replies: vectors honeywell-*, newland-* (§3, §4).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{raw, vectors};
use scanner::menu::{
    HONEYWELL_TRIGGER_ON, Status, Storage, honeywell_command, newland_command, newland_reply_body,
    parse_newland_legacy, parse_reply, reply_ok,
};

#[test]
fn honeywell_vectors() {
    for v in vectors("honeywell") {
        let id = v["id"].as_str().unwrap();
        let bytes = raw(&v);
        match id {
            "honeywell-02" => assert_eq!(bytes, HONEYWELL_TRIGGER_ON),
            "honeywell-05" => {
                let mut out = [0u8; 32];
                let n = honeywell_command(b"cbrena^", Storage::Flash, &mut out).unwrap();
                assert_eq!(&out[..n], &bytes[..]);
                let reply = v["expected"]["expected_response"].as_str().unwrap().as_bytes();
                assert_eq!(parse_reply(reply).collect::<Vec<_>>(), [(&b"CBRENA1"[..], Status::Ack)]);
                assert!(reply_ok(reply));
            }
            other => panic!("unhandled {other}"),
        }
    }
}

#[test]
fn honeywell_reply_forms() {
    // §3: manual form (status before each punctuation) and the Voyager 1602g form.
    let r = b"CBRENA1\x06,SSX0\x06,CK20\x15;DLK\x05.";
    let got: Vec<_> = parse_reply(r).collect();
    assert_eq!(
        got,
        [
            (&b"CBRENA1"[..], Status::Ack),
            (&b"SSX0"[..], Status::Ack),
            (&b"CK20"[..], Status::Nak),
            (&b"DLK"[..], Status::Enq)
        ]
    );
    assert!(!reply_ok(r));
    assert!(reply_ok(b"REVINF\x06."));
    assert!(!reply_ok(b"REVINF."), "no status byte: not a reply");
    let mut out = [0u8; 4];
    assert!(honeywell_command(b"232BAD9", Storage::Ram, &mut out).is_err());
}

#[test]
fn newland_vectors() {
    for v in vectors("newland") {
        let id = v["id"].as_str().unwrap();
        let bytes = raw(&v);
        let e = &v["expected"];
        if e["response"] == true {
            let body = newland_reply_body(&bytes).unwrap();
            let entries: Vec<_> = parse_reply(body).collect();
            let echo = e["echo"].as_str().unwrap().as_bytes();
            assert_eq!(entries, [(&echo[4..], Status::Ack)], "{id}");
            // The command that produced it (§4 example): same body with ~ SOH 0000 ... ; ETX.
            let mut out = [0u8; 64];
            let n = newland_command(&echo[5..], true, &mut out).unwrap();
            assert_eq!(&out[..n], b"~\x010000@DFMADD069990020010F141;\x03", "{id}");
        } else {
            let cmd = parse_newland_legacy(&bytes).unwrap();
            assert_eq!(cmd.code, e["command_code"].as_str().unwrap().as_bytes(), "{id}");
            assert_eq!(cmd.parameter, Some(e["parameter"].as_str().unwrap().as_bytes()), "{id}");
        }
    }
    assert_eq!(parse_newland_legacy(b"NLS0006010").unwrap().parameter, None);
    assert!(parse_newland_legacy(b"NLS000601").is_none());
    assert!(parse_newland_legacy(b"NLS0006010=").is_none());
}
