//! The scripted day, 06:00 to 20:00, from a seed: who comes when, with which parcel, and what
//! goes wrong. Every scene only uses what a person or the environment could do: scan a label,
//! jam a lock, hold a door, cut a cable or the power, lose the network; the daemon reacts.

use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};
use lockdrv::compartment::{Event, ParcelId, Size, State};
use lockdrv::master::Clock;
use lockdrv::sim::{Bus, PhysicsConfig, XorShift64};
use locker_examples::scan_engine::{Label, sscc};
use lockproto::Lock;
use modem::uplink::Uplink;

use crate::cabinet::{CHANNELS, Wire};
use crate::daemon::Daemon;
use crate::events::Ms;
use crate::publish::Network;
use crate::ui::DAY_MS;

const MIN: Ms = 60_000;
const HOUR: Ms = 60 * MIN;

/// One parcel of the day.
#[derive(Debug, Clone)]
pub struct ParcelPlan {
    /// Its id.
    pub id: u32,
    /// Its SSCC.
    pub sscc: String,
    /// Its size.
    pub size: Size,
}

/// The day's parcels from the seed: `morning` in the first courier round, `afternoon` in the
/// second.
pub fn parcels(seed: u64, count: usize) -> Vec<ParcelPlan> {
    let mut rng = XorShift64::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    (0..count)
        .map(|k| {
            let id = 1000 + k as u32 * 7 + rng.below(7) as u32;
            let size = match rng.below(100) {
                0..=54 => Size::S,
                55..=84 => Size::M,
                _ => Size::L,
            };
            // Extension digit 3, GS1 company prefix 0614141 (the GS1 example prefix), serial.
            let code = sscc(&format!("30614141{:09}", u64::from(id) * 1009 + rng.below(1000))).unwrap_or_default();
            ParcelPlan { id, sscc: code, size }
        })
        .collect()
}

/// Plays the day. `sim` is the simulated bus (scenes that need to act on the hardware, such
/// as a jammed lock or a cut cable, are skipped on a real bus).
pub fn play<P, Dl, Ck, W, U>(d: &mut Daemon<P, Dl, Ck, W, U>, seed: u64, count: usize, sim: Option<&Bus>)
where
    P: Read + Write + ReadReady,
    Dl: DelayNs,
    Ck: Clock,
    W: Wire,
    U: Uplink + Network,
{
    let mut rng = XorShift64::new(seed ^ 0xDA7);
    let plan = parcels(seed, count);
    for p in &plan {
        d.manifest.insert(p.sscc.clone(), (ParcelId(p.id), p.size));
    }
    let morning = (count * 2).div_ceil(3).min(count);
    let (first, second) = plan.split_at(morning);
    let qr = |d: &Daemon<P, Dl, Ck, W, U>, id: u32| d.codes.get(&id).map(|c| Label::Qr(format!("PICKUP:{c}")));
    let place = |d: &Daemon<P, Dl, Ck, W, U>, id: u32| d.cab.locker().find(ParcelId(id));
    let skip = |d: &mut Daemon<P, Dl, Ck, W, U>, what: &str| d.scene(&format!("{what}: skipped (needs the simulator)"));

    d.scene("06:00 the locker boots: every board read, every compartment reported");
    d.run_until(30 * MIN);

    d.scene("06:30 morning courier round: SSCC labels scanned, best-fit compartments");
    for p in first {
        d.scan(&Label::Sscc(p.sscc.clone()));
        let t = d.now() + 2 * MIN + rng.below(2 * MIN);
        d.run_until(t);
    }

    // Roles in the day's story, from the morning parcels (the first one will expire).
    let pick = |k: usize| first.get(k).map(|p| p.id);
    let expired = pick(0);
    let wrong_code = pick(1);
    let brute = pick(2);
    let jammed = pick(3);
    let left_open = pick(4);
    let forced = pick(5);
    let cut = pick(6);
    let early: Vec<u32> = first.iter().skip(7).take(4).map(|p| p.id).collect();
    let during_outage: Vec<u32> = first.iter().skip(11).take(3).map(|p| p.id).collect();
    let evening: Vec<u32> = first.iter().skip(14).map(|p| p.id).chain(second.iter().map(|p| p.id)).collect();

    d.run_until(3 * HOUR + 30 * MIN);
    d.scene("09:30 morning pickups: recipients scan the QR codes they were sent");
    for id in &early {
        if let Some(label) = qr(d, *id) {
            d.scan(&label);
        }
        let t = d.now() + 5 * MIN;
        d.run_until(t);
    }
    if let Some(id) = wrong_code {
        d.scene("a recipient mistypes: a wrong code, then the right one");
        d.scan(&Label::Qr(format!("PICKUP:{id:04}WRONGCDE")));
        let t = d.now() + MIN;
        d.run_until(t);
        if let Some(label) = qr(d, id) {
            d.scan(&label);
        }
    }

    d.run_until(4 * HOUR + 30 * MIN);
    if let Some(id) = brute {
        d.scene("10:30 someone tries codes for a parcel: refused, then locked out");
        for _ in 0..5 {
            let guess: String = (0..8).map(|_| char::from(b'A' + rng.below(26) as u8)).collect();
            d.scan(&Label::Qr(format!("PICKUP:{id:04}{guess}")));
            let t = d.now() + 20_000;
            d.run_until(t);
        }
        d.run_until(5 * HOUR + 10 * MIN);
        d.scene("11:10 the lockout has passed: the real recipient picks up");
        if let Some(label) = qr(d, id) {
            d.scan(&label);
        }
    }

    d.run_until(5 * HOUR + 20 * MIN);
    if let Some(id) = jammed {
        match (sim, place(d, id)) {
            (Some(bus), Some(i)) => {
                d.scene("11:20 a lock is jammed: pulses acknowledged, the door stays shut");
                jam(bus, i, true);
                if let Some(label) = qr(d, id) {
                    d.scan(&label);
                }
                d.run_until(5 * HOUR + 45 * MIN);
                d.scene("11:45 the operator frees the lock, clears the fault, sends a new code");
                jam(bus, i, false);
                d.operator(i, Event::OperatorClear { keep_parcel: true });
                let now = d.now();
                d.issue_code(now, id);
                let t = d.now() + 10 * MIN;
                d.run_until(t);
                if let Some(label) = qr(d, id) {
                    d.scan(&label);
                }
            }
            _ => skip(d, "a jammed lock"),
        }
    }

    d.run_until(6 * HOUR + 30 * MIN);
    if let Some(id) = left_open {
        match (sim, place(d, id)) {
            (Some(bus), Some(i)) => {
                d.scene("12:30 a recipient leaves the door open for 3 minutes");
                hold_doors(bus, i, 3 * MIN);
                if let Some(label) = qr(d, id) {
                    d.scan(&label);
                }
                let t = d.now() + 4 * MIN;
                d.run_until(t);
                hold_doors(bus, i, 0);
            }
            _ => skip(d, "a door left open"),
        }
    }

    d.run_until(7 * HOUR);
    if let Some(id) = forced {
        match (sim, place(d, id)) {
            (Some(bus), Some(i)) => {
                d.scene("13:00 a door is forced open and the parcel taken");
                force_open(bus, i, 20_000);
                d.watch(MIN);
                let t = d.now() + MIN;
                d.run_until(t);
                d.run_until(7 * HOUR + 30 * MIN);
                d.scene("13:30 the operator inspects: the compartment is empty");
                d.operator(i, Event::OperatorClear { keep_parcel: false });
            }
            _ => skip(d, "a forced door"),
        }
    }

    d.run_until(8 * HOUR);
    match sim {
        Some(bus) => {
            d.scene("14:00 board 3's cable is cut for 20 minutes");
            let until = bus.now_us() + 20 * MIN * 1000;
            bus.set_offline_until(2, until);
            d.watch(MIN);
            d.run_until(8 * HOUR + 25 * MIN);
        }
        None => skip(d, "a board offline"),
    }

    d.run_until(9 * HOUR);
    d.scene("15:00 afternoon courier round");
    for p in second {
        d.scan(&Label::Sscc(p.sscc.clone()));
        let t = d.now() + 3 * MIN;
        d.run_until(t);
    }

    d.run_until(10 * HOUR);
    if let Some(id) = cut {
        d.scene("16:00 a recipient opens a door and the power fails");
        if let Some(label) = qr(d, id) {
            d.scan(&label);
        }
        let t = d.now() + 1_000;
        d.run_until(t);
        let i = place(d, id);
        d.power_cut();
        let t = d.now() + 10 * MIN;
        d.run_until(t);
        if let Some(bus) = sim {
            // The boards lost power too: outputs off, a new boot id each.
            let now = bus.now_us();
            for b in 0..bus.boards() {
                bus.with_board(b, |board| board.reboot(now));
            }
        }
        d.scene("16:10 power back: state restored from the snapshot and journal, no open replayed");
        d.power_back();
        d.run_until(10 * HOUR + 30 * MIN);
        if let Some(i) = i {
            d.scene("16:30 the operator inspects the interrupted compartment");
            let empty = d.cab.locker().compartment(i).is_some_and(|c| {
                c.observed().presence == lockdrv::compartment::Presence::Empty
                    && matches!(c.state(), State::NeedsInspection { .. })
            });
            if empty {
                d.operator(i, Event::OperatorClear { keep_parcel: false });
            }
        }
    }

    d.run_until(11 * HOUR);
    d.scene("17:00 the network is down for 45 minutes: cloud messages queue");
    d.network(false);
    for id in &during_outage {
        let t = d.now() + 10 * MIN;
        d.run_until(t);
        if let Some(label) = qr(d, *id) {
            d.scan(&label);
        }
    }
    d.run_until(11 * HOUR + 45 * MIN);
    d.network(true);

    d.run_until(12 * HOUR);
    d.scene("18:00 evening pickups (storage fees after 6 free hours)");
    for id in &evening {
        if let Some(label) = qr(d, *id) {
            d.scan(&label);
        }
        let t = d.now() + 3 * MIN;
        d.run_until(t);
    }

    d.run_until(13 * HOUR + 45 * MIN);
    if let Some(id) = expired
        && let Some(p) = plan.iter().find(|p| p.id == id)
    {
        d.scene("19:45 a courier takes back the parcel whose pickup window expired");
        d.scan(&Label::Sscc(p.sscc.clone()));
    }
    d.run_until(DAY_MS);
    d.scene("20:00 end of the day");
}

fn board_lock(i: usize) -> (usize, Option<Lock>) {
    (i / CHANNELS, Lock::from_index(i % CHANNELS))
}

fn jam(bus: &Bus, i: usize, jammed: bool) {
    let (b, lock) = board_lock(i);
    if let Some(lock) = lock {
        bus.with_board(b, |board| board.physics_mut().set_jammed(lock, jammed));
    }
}

/// Doors of compartment `i`'s board stay open `ms` (0: back to the default).
fn hold_doors(bus: &Bus, i: usize, ms: Ms) {
    let (b, _) = board_lock(i);
    let default = PhysicsConfig::default();
    let config = if ms == 0 { default } else { PhysicsConfig { open_for_us: ms * 1000, ..default } };
    bus.with_board(b, |board| board.physics_mut().set_config(config));
}

fn force_open(bus: &Bus, i: usize, ms: Ms) {
    let (b, lock) = board_lock(i);
    let now = bus.now_us();
    if let Some(lock) = lock {
        bus.with_board(b, |board| board.physics_mut().open_by_hand(lock, now, ms * 1000));
    }
}
