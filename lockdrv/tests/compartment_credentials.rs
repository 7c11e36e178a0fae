//! Credentials (issue 4 item 4, invariant I7): hashed, scoped, single use, expiring, with
//! growing lockouts per terminal and per parcel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod compartment_common;

use compartment_common::*;
use lockdrv::compartment::*;

const SALT: [u8; 16] = [7; 16];

fn store() -> Credentials<8, 8> {
    let mut c = Credentials::new(AttemptPolicy::default());
    c.issue(0, Credential::new(P1.id, Role::Customer, Purpose::Pickup, b"123456", SALT, 1_000_000)).unwrap();
    c
}

fn occupied() -> Locker<2> {
    let mut l = ready2();
    run(
        &mut l,
        &[
            Step::DropOff(Size::S, P1),
            Step::Ev(0, Event::Door(Door::Open)),
            Step::Ev(0, Event::Presence(Presence::Occupied)),
            Step::Ev(0, Event::Door(Door::Closed)),
        ],
    );
    l
}

#[test]
fn code_is_stored_only_as_a_salted_digest() {
    let c = Credential::new(P1.id, Role::Customer, Purpose::Pickup, b"123456", SALT, 10);
    let dump = format!("{c:?}");
    assert!(!dump.contains("123456"), "{dump}");
    let other_salt = Credential::new(P1.id, Role::Customer, Purpose::Pickup, b"123456", [8; 16], 10);
    assert_ne!(format!("{other_salt:?}"), dump, "the salt changes the digest");
}

#[test]
fn code_opens_once_and_never_again() {
    let (mut c, mut l) = (store(), occupied());
    let mut sink = |_: usize, _: Action| {};
    let now = l.now();
    assert_eq!(pickup_with_code(&mut c, &mut l, now, 1, P1.id, Role::Customer, b"123456", &mut sink), Ok(0));
    assert_eq!(
        pickup_with_code(&mut c, &mut l, now, 1, P1.id, Role::Customer, b"123456", &mut sink),
        Err(CredentialError::AlreadyUsed)
    );
}

#[test]
fn code_is_not_burnt_by_a_refused_open() {
    let (mut c, mut l) = (store(), occupied());
    let mut sink = |_: usize, _: Action| {};
    l.handle(l.now(), 0, Event::BoardOffline, &mut sink).unwrap();
    let now = l.now();
    let r = pickup_with_code(&mut c, &mut l, now, 1, P1.id, Role::Customer, b"123456", &mut sink);
    assert!(matches!(r, Err(CredentialError::Locker(_))), "{r:?}");
    assert!(c.iter().all(|k| !k.is_used()));
}

#[test]
fn code_is_scoped_to_parcel_role_and_purpose_and_expires() {
    let mut c = store();
    assert_eq!(c.authorize(0, 1, P2.id, Role::Customer, Purpose::Pickup, b"123456"), Err(CredentialError::Wrong));
    assert_eq!(c.authorize(0, 2, P1.id, Role::Courier, Purpose::Pickup, b"123456"), Err(CredentialError::Wrong));
    assert_eq!(c.authorize(0, 3, P1.id, Role::Customer, Purpose::Reopen, b"123456"), Err(CredentialError::Wrong));
    assert_eq!(
        c.authorize(1_000_000, 4, P1.id, Role::Customer, Purpose::Pickup, b"123456"),
        Err(CredentialError::Expired)
    );
    assert!(c.authorize(999_999, 4, P1.id, Role::Customer, Purpose::Pickup, b"123456").is_ok());
}

#[test]
fn wrong_attempts_lock_the_terminal_out_for_growing_times() {
    let mut c = store();
    let policy = AttemptPolicy::default();
    let mut now = 0;
    // Different parcels, same terminal: the terminal's counter trips.
    let mut lockouts = Vec::new();
    for n in 0..6u32 {
        let parcel = ParcelId(100 + n);
        let r = c.authorize(now, 9, parcel, Role::Customer, Purpose::Pickup, b"000000");
        assert_eq!(r, Err(CredentialError::Wrong));
        if let Err(CredentialError::LockedOut { until }) =
            c.authorize(now, 9, P1.id, Role::Customer, Purpose::Pickup, b"123456")
        {
            lockouts.push(until - now);
            now = until;
        }
    }
    assert_eq!(lockouts[0], policy.base_lockout_ms, "after {} failures", policy.free_attempts);
    assert!(lockouts.windows(2).all(|w| w[1] == 2 * w[0]), "doubling: {lockouts:?}");
    // Another terminal is not affected.
    let fresh = Credential::new(P2.id, Role::Courier, Purpose::Pickup, b"4711", SALT, now + 1);
    c.issue(now, fresh).unwrap();
    let r = c.authorize(now, 10, P2.id, Role::Courier, Purpose::Pickup, b"4711");
    assert!(r.is_ok(), "{r:?} {lockouts:?}");
}

#[test]
fn wrong_attempts_lock_the_parcel_out_across_terminals() {
    let mut c = store();
    for t in 0..3u8 {
        assert_eq!(c.authorize(0, t, P1.id, Role::Customer, Purpose::Pickup, b"999999"), Err(CredentialError::Wrong));
    }
    // The right code from a fresh terminal is still refused while the parcel is locked.
    assert!(matches!(
        c.authorize(1, 50, P1.id, Role::Customer, Purpose::Pickup, b"123456"),
        Err(CredentialError::LockedOut { .. })
    ));
}

#[test]
fn constant_time_compare_is_plain_equality() {
    let a = [3u8; 32];
    let mut b = a;
    assert!(lockdrv::compartment::credentials::ct_eq(&a, &b));
    b[31] ^= 1;
    assert!(!lockdrv::compartment::credentials::ct_eq(&a, &b));
}
