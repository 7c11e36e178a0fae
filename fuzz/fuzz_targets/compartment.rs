//! The compartment state machine driven by arbitrary event sequences decoded from raw bytes:
//! no panic, and every invariant (I1-I8, state and step checks) holds after every step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockdrv::compartment::*;

const N: usize = 3;

fn parcel(b: u8) -> Parcel {
    let direction = if b & 0x80 == 0 { Direction::Inbound } else { Direction::Outbound };
    Parcel { id: ParcelId(u32::from(b & 3)), direction }
}

fn size(b: u8) -> Size {
    match b % 3 {
        0 => Size::S,
        1 => Size::M,
        _ => Size::L,
    }
}

fn role(b: u8) -> Role {
    match b % 3 {
        0 => Role::Courier,
        1 => Role::Customer,
        _ => Role::Operator,
    }
}

fn event(op: u8, b: u8) -> Event {
    match op % 20 {
        0 => Event::Door(Door::Open),
        1 => Event::Door(Door::Closed),
        2 => Event::Door(Door::Unknown),
        3 => Event::Presence(Presence::Occupied),
        4 => Event::Presence(Presence::Empty),
        5 => Event::Lock(if b & 1 == 0 { Lock::Locked } else { Lock::Unlocked }),
        6 => Event::PulseAcked(TxnId(u32::from(b) | if b & 0x80 != 0 { 0x8000_0000 } else { 0 })),
        7 => Event::SensorFault,
        8 => Event::DepositDeclared(b & 1 == 0),
        9 => Event::ReportMissing,
        10 => Event::ReportStillThere,
        11 => Event::BoardOffline,
        12 => Event::BoardOnline,
        13 => Event::MarkOutOfService(OosReason::Other(b)),
        14 => Event::Restore,
        15 => Event::OperatorClear { keep_parcel: b & 1 == 0 },
        16 => Event::ExtendDeadline(u64::from(b) * 60_000),
        17 => Event::CancelReservation,
        18 => Event::Tick,
        _ => Event::Presence(Presence::Unknown),
    }
}

fuzz_target!(|data: &[u8]| {
    let specs = [
        CompartmentSpec { size: Size::S, presence_sensor: true },
        CompartmentSpec { size: Size::M, presence_sensor: false },
        CompartmentSpec { size: Size::L, presence_sensor: true },
    ];
    let mut l: Locker<N> = Locker::new(Config::default(), specs);
    for chunk in data.chunks(4) {
        let [op, a, b, t] = [0, 1, 2, 3].map(|i| chunk.get(i).copied().unwrap_or(0));
        let before = l.clone();
        let now = l.now() + u64::from(t) * u64::from(t) * 1_000;
        let mut acts = Vec::new();
        let mut sink = |i: usize, x: Action| acts.push((i, x));
        let index = usize::from(a) % (N + 1); // sometimes out of range
        let mut ev = None;
        let _ = match op % 16 {
            0 => l.reserve(now, size(b), parcel(a), &mut sink).map(|_| ()),
            1 => l.deposit(now, parcel(a).id, role(b), &mut sink).map(|_| ()),
            2 => l.drop_off(now, size(b), parcel(a), &mut sink).map(|_| ()),
            3 => l.pickup(now, parcel(a).id, role(b), &mut sink).map(|_| ()),
            4 => l.retrieve(now, parcel(a).id, &mut sink).map(|_| ()),
            5 => l.reopen(now, parcel(a).id, &mut sink).map(|_| ()),
            6 => l.remote_open(now, RemoteTarget::One(index), TxnId(u32::from(b)), &mut sink).map(|_| ()),
            7 => l
                .remote_open(now, RemoteTarget::All { local_confirmation: b & 1 == 0 }, TxnId(u32::from(b)), &mut sink)
                .map(|_| ()),
            8 => {
                let t = l.next_deadline().unwrap_or(now).max(l.now());
                ev = Some(Event::Tick);
                l.tick(t, &mut sink);
                Ok(())
            }
            9 => {
                ev = Some(Event::Boot { down_since: l.now() });
                let down = l.now();
                l.boot(now, down, &mut sink);
                Ok(())
            }
            _ => {
                let e = event(b, a);
                ev = Some(e);
                l.handle(now, index, e, &mut sink)
            }
        };
        if let Err(v) = check_step(&before, &l, ev.as_ref(), &acts).and_then(|()| check_invariants(&l)) {
            panic!("{v}\nop {op} a {a} b {b} t {t}\nbefore {before:#?}\nafter {l:#?}\nactions {acts:?}");
        }
    }
});
