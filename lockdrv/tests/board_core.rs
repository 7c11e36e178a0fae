//! Board firmware core on test pins: pulse bound, power budget, outputs off at boot, debouncing,
//! the native event log and reply cache.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::rc::Rc;

use embedded_hal::digital::{ErrorType, InputPin, OutputPin};
use lockdrv::board::pulse::PulseConfig;
use lockdrv::board::{Board, BoardConfig, BoardPins, NativeFirmware, NativeIdentity, Vendor};
use lockproto::dialect::kerong_cu12::{self, Cu12Reply, Cu12Request, KerongCu12};
use lockproto::native::messages::{EventKind, NativeReply, NativeRequest};
use lockproto::native::{Native, ResetCause};
use lockproto::{Dialect, Lock, LockSet};

#[derive(Default)]
struct OutLog {
    high: bool,
    rising: u32,
}

#[derive(Clone, Default)]
struct TestOut(Rc<RefCell<OutLog>>);

impl ErrorType for TestOut {
    type Error = Infallible;
}

impl OutputPin for TestOut {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.borrow_mut().high = false;
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        let mut log = self.0.borrow_mut();
        if !log.high {
            log.rising += 1;
        }
        log.high = true;
        Ok(())
    }
}

#[derive(Clone, Default)]
struct TestIn(Rc<Cell<bool>>);

impl ErrorType for TestIn {
    type Error = Infallible;
}

impl InputPin for TestIn {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.0.get())
    }
    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(!self.0.get())
    }
}

const CH: usize = 12;

struct Rig {
    outs: Vec<TestOut>,
    doors: Vec<TestIn>,
}

impl Rig {
    fn new(outputs_start_high: bool) -> (Self, BoardPins<TestOut, TestIn, CH>) {
        let outs: Vec<TestOut> = (0..CH).map(|_| TestOut::default()).collect();
        for out in &outs {
            out.0.borrow_mut().high = outputs_start_high;
        }
        let doors: Vec<TestIn> = (0..CH).map(|_| TestIn::default()).collect();
        let pins = BoardPins {
            locks: std::array::from_fn(|i| outs[i].clone()),
            doors: std::array::from_fn(|i| doors[i].clone()),
            presence: None,
            active_low: false,
        };
        (Rig { outs, doors }, pins)
    }

    fn on(&self) -> Vec<usize> {
        (0..CH).filter(|&i| self.outs[i].0.borrow().high).collect()
    }

    fn rising(&self, i: usize) -> u32 {
        self.outs[i].0.borrow().rising
    }
}

fn lock(n: u8) -> Lock {
    Lock::new(n).unwrap()
}

fn cu12_frame(request: &Cu12Request) -> Vec<u8> {
    let mut out = [0u8; 64];
    let len = KerongCu12::new().encode_request(request, &mut out).unwrap();
    out[..len].to_vec()
}

fn cu12_board(config: BoardConfig) -> (Rig, Board<Vendor<KerongCu12>, TestOut, TestIn, CH>) {
    let (rig, pins) = Rig::new(true);
    let board = Board::new(Vendor::new(KerongCu12::new(), Some(kerong_cu12::BROADCAST)), config, pins).unwrap();
    (rig, board)
}

#[test]
fn outputs_are_off_at_boot() {
    let (rig, _board) = cu12_board(BoardConfig::new(0, 12));
    assert!(rig.on().is_empty(), "outputs left on after boot: {:?}", rig.on());
}

#[test]
fn a_pulse_never_exceeds_the_maximum_on_time() {
    let mut config = BoardConfig::new(0, 12);
    config.pulse = PulseConfig { max_on_ms: 800, max_simultaneous: 2 };
    let (rig, mut board) = cu12_board(config);
    board.poll(0).unwrap();
    // The master asks for 60 s of unlock time (the CU12 maximum), then an unlock.
    board.receive(&cu12_frame(&Cu12Request::SetUnlockTime { board: 0, time_10ms: 6_000 }), 10);
    board.core_mut().consume_tx(usize::MAX);
    board.receive(&cu12_frame(&Cu12Request::Unlock { board: 0, lock: lock(3) }), 20);
    let reply = board.core().transmit().to_vec();
    let decoded = KerongCu12::new().decode_reply(&reply, None).unwrap().message;
    assert!(matches!(decoded, Cu12Reply::Unlock { board: 0, .. }), "{decoded:?}");
    assert_eq!(board.poll(20).unwrap(), Some(820));
    assert_eq!(rig.on(), vec![2]);
    assert_eq!(board.poll(819).unwrap(), Some(820));
    assert_eq!(rig.on(), vec![2]);
    assert_eq!(board.poll(820).unwrap(), None);
    assert!(rig.on().is_empty());
}

#[test]
fn at_most_n_pulses_at_once_and_every_lock_gets_its_pulse() {
    let mut config = BoardConfig::new(0, 12);
    config.pulse = PulseConfig { max_on_ms: 2_000, max_simultaneous: 2 };
    config.unlock_ms = 300;
    let (rig, mut board) = cu12_board(config);
    board.poll(0).unwrap();
    board.receive(&cu12_frame(&Cu12Request::UnlockAll { board: 0 }), 0);
    let mut now = 0;
    let mut max_on = 0;
    while let Some(deadline) = board.poll(now).unwrap() {
        max_on = max_on.max(rig.on().len());
        now = deadline;
    }
    assert_eq!(max_on, 2);
    assert_eq!(now, 6 * 300, "12 locks, 2 at a time, 300 ms each");
    for i in 0..CH {
        assert_eq!(rig.rising(i), 1, "lock {} pulsed {} times", i + 1, rig.rising(i));
    }
    assert!(rig.on().is_empty());
}

#[test]
fn requests_for_other_boards_are_ignored_and_broadcasts_answered_from_our_address() {
    let (rig, mut board) = cu12_board(BoardConfig::new(5, 12));
    board.poll(0).unwrap();
    board.receive(&cu12_frame(&Cu12Request::Unlock { board: 4, lock: lock(1) }), 0);
    board.poll(0).unwrap();
    assert!(rig.on().is_empty());
    assert!(board.core().transmit().is_empty());
    board.receive(&cu12_frame(&Cu12Request::QueryStatus { board: kerong_cu12::BROADCAST }), 1);
    let reply = KerongCu12::new().decode_reply(board.core().transmit(), None).unwrap().message;
    assert_eq!(reply.board(), 5);
}

#[test]
fn a_bouncing_door_is_reported_once_it_settles() {
    let mut config = BoardConfig::new(0, 12);
    config.debounce_ms = 20;
    let (rig, mut board) = cu12_board(config);
    board.poll(0).unwrap();
    let status = |board: &mut Board<Vendor<KerongCu12>, TestOut, TestIn, CH>, now| {
        board.core_mut().consume_tx(usize::MAX);
        board.receive(&cu12_frame(&Cu12Request::QueryStatus { board: 0 }), now);
        match KerongCu12::new().decode_reply(board.core().transmit(), None).unwrap().message {
            Cu12Reply::Status { hooks, .. } => hooks,
            other => panic!("{other:?}"),
        }
    };
    // CU12 convention: hook bit 1 = locked. Door 4 closed: locked.
    assert!(status(&mut board, 1).contains(lock(4)));
    for (t, level) in [(10, true), (13, false), (15, true), (18, false), (20, true)] {
        rig.doors[3].0.set(level);
        board.poll(t).unwrap();
    }
    assert!(status(&mut board, 21).contains(lock(4)), "a bounce must not count yet");
    let deadline = board.poll(30).unwrap();
    assert_eq!(deadline, Some(40));
    board.poll(40).unwrap();
    assert!(!status(&mut board, 41).contains(lock(4)), "open door reads unlocked once stable");
}

fn native_board(boot: u16) -> (Rig, Board<NativeFirmware, TestOut, TestIn, CH>) {
    let (rig, pins) = Rig::new(false);
    let mut config = BoardConfig::new(1, 12);
    config.debounce_ms = 10;
    let firmware = NativeFirmware::new(NativeIdentity { uid: 0xABCD, boot, cause: ResetCause::PowerOn }, 0);
    (rig, Board::new(firmware, config, pins).unwrap())
}

fn native_frame(request: &NativeRequest) -> Vec<u8> {
    let mut out = [0u8; 300];
    let len = Native::default().encode_request(request, &mut out).unwrap();
    out[..len].to_vec()
}

fn native_reply(
    board: &mut Board<NativeFirmware, TestOut, TestIn, CH>,
    request: &NativeRequest,
    now: u64,
) -> (Vec<u8>, NativeReply) {
    board.core_mut().consume_tx(usize::MAX);
    board.receive(&native_frame(request), now);
    let bytes = board.core().transmit().to_vec();
    let reply = Native::default().decode_reply(&bytes, Some(request)).unwrap().message;
    (bytes, reply)
}

#[test]
fn the_reply_cache_answers_a_retried_native_unlock_without_a_second_pulse() {
    let (rig, mut board) = native_board(7);
    board.poll(0).unwrap();
    let unlock = NativeRequest::Unlock { board: 1, seq: 42, boot: 7, lock: lock(2), pulse_ms: 200 };
    let (first, reply) = native_reply(&mut board, &unlock, 5);
    assert!(matches!(reply, NativeReply::Unlocked { applied_ms: 200, seq: 42, .. }), "{reply:?}");
    board.poll(5).unwrap();
    board.poll(205).unwrap();
    assert!(rig.on().is_empty());
    // The master lost the reply and retries the identical frame, after the pulse ended.
    let (second, _) = native_reply(&mut board, &unlock, 400);
    board.poll(400).unwrap();
    assert_eq!(first, second, "a retry gets the cached bytes");
    assert!(rig.on().is_empty());
    assert_eq!(rig.rising(1), 1);
    assert_eq!(board.core().hardware().pulse_count(), 1);
    // A new request (new SEQ) does pulse again.
    let again = NativeRequest::Unlock { board: 1, seq: 43, boot: 7, lock: lock(2), pulse_ms: 200 };
    native_reply(&mut board, &again, 500);
    board.poll(500).unwrap();
    assert_eq!(rig.rising(1), 2);
}

#[test]
fn an_unlock_naming_another_boot_is_refused() {
    let (rig, mut board) = native_board(8);
    board.poll(0).unwrap();
    let unlock = NativeRequest::Unlock { board: 1, seq: 1, boot: 7, lock: lock(2), pulse_ms: 200 };
    let (_, reply) = native_reply(&mut board, &unlock, 5);
    assert!(
        matches!(reply, NativeReply::Error { code: lockproto::native::ErrorCode::BootMismatch, boot: 8, .. }),
        "{reply:?}"
    );
    board.poll(5).unwrap();
    assert_eq!(rig.rising(1), 0);
}

#[test]
fn the_event_log_keeps_a_door_opened_and_closed_between_two_polls() {
    let (rig, mut board) = native_board(3);
    board.poll(0).unwrap();
    let read = |cursor| NativeRequest::ReadEvents { board: 1, seq: cursor as u8, cursor, max: 0 };
    let (_, first) = native_reply(&mut board, &read(0), 1);
    let NativeReply::Events { events, .. } = first else { panic!("{first:?}") };
    assert!(matches!(events.as_slice()[0].kind, EventKind::Boot { .. }));
    // Between two master polls (1 and 1000) the door opens and shuts within 100 ms.
    let mut now = 100;
    rig.doors[6].0.set(true);
    while now < 160 {
        board.poll(now).unwrap();
        now += 5;
    }
    rig.doors[6].0.set(false);
    while now < 400 {
        board.poll(now).unwrap();
        now += 5;
    }
    let (_, second) = native_reply(&mut board, &read(1), 1_000);
    let NativeReply::Events { events, lost, first, .. } = second else { panic!("{second:?}") };
    assert!(!lost);
    assert_eq!(first, 1);
    let kinds: Vec<EventKind> = events.as_slice().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EventKind::DoorOpened { lock: lock(7) }, EventKind::DoorClosed { lock: lock(7) }]);
    let status = NativeRequest::GetStatus { board: 1, seq: 9 };
    let (_, reply) = native_reply(&mut board, &status, 1_001);
    let NativeReply::Status { door_open, .. } = reply else { panic!("{reply:?}") };
    assert_eq!(door_open, LockSet::EMPTY);
}

#[test]
fn native_pulses_are_clamped_to_pulse_max() {
    let (rig, mut board) = native_board(3);
    board.poll(0).unwrap();
    let unlock = NativeRequest::Unlock { board: 1, seq: 1, boot: 0, lock: lock(1), pulse_ms: 60_000 };
    let (_, reply) = native_reply(&mut board, &unlock, 0);
    let NativeReply::Unlocked { applied_ms, .. } = reply else { panic!("{reply:?}") };
    assert_eq!(u32::from(applied_ms), lockdrv::board::pulse::DEFAULT_MAX_ON_MS);
    assert_eq!(board.poll(0).unwrap(), Some(u64::from(applied_ms)));
    assert_eq!(rig.on(), vec![0]);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Broken;

impl embedded_hal::digital::Error for Broken {
    fn kind(&self) -> embedded_hal::digital::ErrorKind {
        embedded_hal::digital::ErrorKind::Other
    }
}

/// An output that fails on demand, recording its last good level.
struct FlakyOut {
    fail: bool,
    high: Rc<Cell<bool>>,
}

impl ErrorType for FlakyOut {
    type Error = Broken;
}

impl OutputPin for FlakyOut {
    fn set_low(&mut self) -> Result<(), Broken> {
        if self.fail {
            return Err(Broken);
        }
        self.high.set(false);
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Broken> {
        if self.fail {
            return Err(Broken);
        }
        self.high.set(true);
        Ok(())
    }
}

#[test]
fn a_failing_output_is_reported_and_the_others_are_still_switched_off() {
    let levels: Vec<Rc<Cell<bool>>> = (0..CH).map(|_| Rc::new(Cell::new(true))).collect();
    let pins: BoardPins<FlakyOut, TestIn, CH> = BoardPins {
        locks: std::array::from_fn(|i| FlakyOut { fail: i == 0, high: levels[i].clone() }),
        doors: std::array::from_fn(|_| TestIn::default()),
        presence: None,
        active_low: false,
    };
    let result = Board::new(Vendor::new(KerongCu12::new(), None), BoardConfig::new(0, 12), pins);
    let Err(lockdrv::board::PinError::Output { lock: 1, error: Broken }) = result else {
        panic!("expected the failure of output 1")
    };
    assert!(levels[1..].iter().all(|level| !level.get()), "every other output is off");
}
