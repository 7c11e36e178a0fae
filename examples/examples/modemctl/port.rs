//! `modemctl --port PATH`: a real module on a serial port (lockdrv's `SerialPortIo`, the
//! `embedded-io` adapter over serialport), driven by the modem crate's blocking shell.

use std::time::Instant;

use lockdrv::master::serial::{SerialPortIo, StdDelay};
use modem::blocking::{Clock, Error, Modem};
use serde_json::{Value, json};

/// Milliseconds since the tool started.
struct StdMs(Instant);

impl Clock for StdMs {
    fn now_ms(&mut self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

type Driver = Modem<SerialPortIo, StdDelay, StdMs>;

fn open(path: &str, baud: u32) -> Result<Driver, String> {
    let io = SerialPortIo::open(path, baud).map_err(|e| format!("cannot open {path} at {baud} baud: {e}"))?;
    Ok(Modem::new(io, StdDelay, StdMs(Instant::now())))
}

fn value<T, E: core::fmt::Debug>(r: Result<T, Error<E>>, f: impl FnOnce(T) -> Value) -> Value {
    match r {
        Ok(v) => f(v),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

/// `info`: resynchronises (`AT`, `ATE0`, `AT+CMEE=1`, reference §4.6 item 2), then prints one
/// JSON object with `imei`, `iccid`, `operator`, `signal` and `registration` (EPS,
/// `AT+CEREG?`). A query the module refuses (no SIM: `+CME ERROR: 10`) gives `{"error": ...}`
/// in its place; the tool fails only when the module does not answer `AT`.
///
/// # Errors
/// A message for stderr: the port cannot be opened or the module does not answer.
pub fn info(path: &str, baud: u32) -> Result<Value, String> {
    let mut m = open(path, baud)?;
    m.resync().map_err(|e| format!("the module on {path} does not answer: {e}"))?;
    let imei = value(m.imei(), |s| json!(s.as_str()));
    let iccid = value(m.iccid(), |s| json!(s.as_str()));
    let operator = value(
        m.operator(),
        |o| json!({ "mode": o.mode, "format": o.format, "oper": (!o.name.is_empty()).then(|| o.name.to_string()), "act": o.act }),
    );
    let signal = value(m.signal(), |c| json!({ "rssi": c.rssi, "ber": c.ber, "dbm": c.rssi_dbm() }));
    let registration = value(m.registration(), |r| {
        let mut v = serde_json::Map::new();
        v.insert("kind".into(), json!(r.kind.prefix()));
        v.insert("n".into(), json!(r.n));
        v.insert("stat".into(), json!(r.stat));
        v.insert("registered".into(), json!(r.status().is_registered()));
        v.insert(if r.kind.uses_tac() { "tac" } else { "lac" }.into(), json!(r.area));
        v.insert("ci".into(), json!(r.ci));
        v.insert("act".into(), json!(r.act));
        Value::Object(v)
    });
    Ok(json!({ "imei": imei, "iccid": iccid, "operator": operator, "signal": signal, "registration": registration }))
}
