//! Pickup and deposit codes (invariant I7; reference/domain.md §2.4, F12).
//!
//! * Codes are stored only as salted SHA-256 digests that bind the code to its parcel (hence its
//!   compartment), role and purpose: a code is useless for any other scope.
//! * Comparison is constant time; every stored credential of the scope is compared.
//! * Single use: a consumed code never opens again; an expired one never opens.
//! * Wrong attempts are counted per terminal and per parcel (compartment); after
//!   `free_attempts` failures each further failure locks the key out for a time that doubles
//!   (eform: 15 min after 3 failures), capped.
//!
//! Verification and consumption are two steps ([`Credentials::authorize`], then
//! [`Credentials::consume`] once the locker accepted the open), so a code is not burnt by an open
//! the locker refused; [`pickup_with_code`] does both around [`Locker::pickup`].

use sha2::{Digest, Sha256};

use super::action::ActionSink;
use super::locker::Locker;
use super::refusal::Refusal;
use super::state::Purpose;
use super::types::{Ms, ParcelId, Role};

/// Salt length in bytes (from the caller's random source).
pub const SALT_LEN: usize = 16;

/// Attempt-limit policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AttemptPolicy {
    /// Failures allowed before the first lockout (eform: 3).
    pub free_attempts: u8,
    /// First lockout (eform: 15 min); doubles with each further failure.
    pub base_lockout_ms: Ms,
    /// Longest lockout.
    pub max_lockout_ms: Ms,
}

impl Default for AttemptPolicy {
    fn default() -> Self {
        Self { free_attempts: 3, base_lockout_ms: 15 * 60_000, max_lockout_ms: 24 * 3_600_000 }
    }
}

/// A stored credential: the digest, never the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Credential {
    /// The parcel (and so the compartment) it opens.
    pub parcel: ParcelId,
    /// Who may use it.
    pub role: Role,
    /// For what.
    pub purpose: Purpose,
    /// Not valid at or after this time.
    pub not_after: Ms,
    salt: [u8; SALT_LEN],
    digest: [u8; 32],
    used: bool,
}

fn role_byte(role: Role) -> u8 {
    match role {
        Role::Courier => 1,
        Role::Customer => 2,
        Role::Operator => 3,
    }
}

fn purpose_byte(purpose: Purpose) -> u8 {
    match purpose {
        Purpose::Deposit => 1,
        Purpose::Pickup => 2,
        Purpose::Retrieval => 3,
        Purpose::Reopen => 4,
        Purpose::Operator => 5,
    }
}

fn digest(salt: &[u8; SALT_LEN], parcel: ParcelId, role: Role, purpose: Purpose, code: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"lockdrv-credential-v1");
    h.update(salt);
    h.update(parcel.0.to_le_bytes());
    h.update([role_byte(role), purpose_byte(purpose)]);
    h.update(code);
    h.finalize().into()
}

/// Constant-time equality of two digests (no early exit on the first differing byte).
#[must_use]
pub fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

impl Credential {
    /// A credential for `code`, scoped to parcel, role and purpose, salted with `salt` (fresh
    /// random bytes from the caller), valid until `not_after`.
    #[must_use]
    pub fn new(
        parcel: ParcelId,
        role: Role,
        purpose: Purpose,
        code: &[u8],
        salt: [u8; SALT_LEN],
        not_after: Ms,
    ) -> Self {
        let digest = digest(&salt, parcel, role, purpose, code);
        Self { parcel, role, purpose, not_after, salt, digest, used: false }
    }

    /// True once consumed.
    #[must_use]
    pub const fn is_used(&self) -> bool {
        self.used
    }

    fn matches(&self, parcel: ParcelId, role: Role, purpose: Purpose, code: &[u8]) -> bool {
        ct_eq(&digest(&self.salt, parcel, role, purpose, code), &self.digest)
    }
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// Wrong code (or a code for another parcel, role or purpose).
    #[error("wrong code")]
    Wrong,
    /// The code was right but has expired.
    #[error("code expired")]
    Expired,
    /// The code was right but was already used.
    #[error("code already used")]
    AlreadyUsed,
    /// Too many wrong attempts from this terminal or for this parcel.
    #[error("locked out until {until} ms")]
    LockedOut {
        /// When attempts are accepted again.
        until: Ms,
    },
    /// No room to store another credential or attempt counter.
    #[error("credential store full")]
    Full,
    /// The locker refused the open.
    #[error("locker refused: {0}")]
    Locker(Refusal),
}

/// Whom failures are counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum Key {
    Terminal(u8),
    Parcel(ParcelId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Strikes {
    key: Key,
    failures: u8,
    locked_until: Ms,
}

/// A granted, not yet consumed credential (from [`Credentials::authorize`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    slot: usize,
    /// The parcel it opens.
    pub parcel: ParcelId,
}

/// Up to `K` credentials and `T` attempt counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials<const K: usize, const T: usize> {
    policy: AttemptPolicy,
    slots: [Option<Credential>; K],
    strikes: [Option<Strikes>; T],
}

impl<const K: usize, const T: usize> Credentials<K, T> {
    /// An empty store.
    #[must_use]
    pub const fn new(policy: AttemptPolicy) -> Self {
        Self { policy, slots: [None; K], strikes: [None; T] }
    }

    /// Stores a credential, reusing the slot of a used or expired one if needed.
    ///
    /// # Errors
    ///
    /// [`CredentialError::Full`] if every slot holds a live credential.
    pub fn issue(&mut self, now: Ms, credential: Credential) -> Result<(), CredentialError> {
        let slot = self
            .slots
            .iter_mut()
            .find(|s| s.is_none_or(|c| c.used || c.not_after <= now))
            .ok_or(CredentialError::Full)?;
        *slot = Some(credential);
        Ok(())
    }

    /// When `key` may try again, if it is locked out at `now`.
    fn locked(&self, key: Key, now: Ms) -> Option<Ms> {
        self.strikes.iter().flatten().find(|s| s.key == key && s.locked_until > now).map(|s| s.locked_until)
    }

    fn strike(&mut self, key: Key, now: Ms) -> Result<(), CredentialError> {
        let policy = self.policy;
        let entry = match self.strikes.iter().position(|s| s.is_some_and(|s| s.key == key)) {
            Some(i) => self.strikes.get_mut(i),
            None => {
                // A free slot, or the one that has been quiet longest and is not locked.
                let i = self
                    .strikes
                    .iter()
                    .position(Option::is_none)
                    .or_else(|| {
                        self.strikes
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| s.is_some_and(|s| s.locked_until <= now))
                            .min_by_key(|(_, s)| s.map_or(0, |s| s.locked_until))
                            .map(|(i, _)| i)
                    })
                    .ok_or(CredentialError::Full)?;
                let slot = self.strikes.get_mut(i);
                if let Some(s) = slot {
                    *s = Some(Strikes { key, failures: 0, locked_until: 0 });
                }
                self.strikes.get_mut(i)
            }
        };
        if let Some(Some(s)) = entry {
            s.failures = s.failures.saturating_add(1);
            if s.failures >= policy.free_attempts {
                let doublings = u32::from(s.failures - policy.free_attempts).min(32);
                let lockout =
                    policy.base_lockout_ms.saturating_mul(1u64 << doublings.min(63)).min(policy.max_lockout_ms);
                s.locked_until = now.saturating_add(lockout);
            }
        }
        Ok(())
    }

    /// Checks `code` for (`parcel`, `role`, `purpose`) entered at `terminal`. A wrong code
    /// counts against the terminal and the parcel. The credential stays unused until
    /// [`Credentials::consume`].
    ///
    /// # Errors
    ///
    /// [`CredentialError::LockedOut`], [`CredentialError::Wrong`], [`CredentialError::Expired`],
    /// [`CredentialError::AlreadyUsed`], or [`CredentialError::Full`] if a failure cannot be
    /// counted (then it is refused as if locked).
    pub fn authorize(
        &mut self,
        now: Ms,
        terminal: u8,
        parcel: ParcelId,
        role: Role,
        purpose: Purpose,
        code: &[u8],
    ) -> Result<Grant, CredentialError> {
        for key in [Key::Terminal(terminal), Key::Parcel(parcel)] {
            if let Some(until) = self.locked(key, now) {
                return Err(CredentialError::LockedOut { until });
            }
        }
        // Compare against every credential of the scope, without stopping at the first match.
        let mut found: Option<(usize, Credential)> = None;
        for (i, slot) in self.slots.iter().enumerate() {
            if let Some(c) = slot
                && c.parcel == parcel
                && c.role == role
                && c.purpose == purpose
                && c.matches(parcel, role, purpose, code)
                && found.is_none_or(|(_, f)| f.used && !c.used)
            {
                found = Some((i, *c));
            }
        }
        match found {
            Some((_, c)) if c.used => Err(CredentialError::AlreadyUsed),
            Some((_, c)) if c.not_after <= now => Err(CredentialError::Expired),
            Some((slot, _)) => Ok(Grant { slot, parcel }),
            None => {
                self.strike(Key::Terminal(terminal), now)?;
                self.strike(Key::Parcel(parcel), now)?;
                Err(CredentialError::Wrong)
            }
        }
    }

    /// Marks a granted credential used: it never opens again.
    pub fn consume(&mut self, grant: Grant) {
        if let Some(Some(c)) = self.slots.get_mut(grant.slot)
            && c.parcel == grant.parcel
        {
            c.used = true;
        }
    }

    /// The stored credentials.
    pub fn iter(&self) -> impl Iterator<Item = &Credential> {
        self.slots.iter().flatten()
    }
}

/// A recipient (or collecting courier) at `terminal` enters `code` for `parcel`: checks it,
/// opens through [`Locker::pickup`], and consumes the code only if the locker sent the pulse.
/// Returns the compartment index.
///
/// # Errors
///
/// A [`CredentialError`]; [`CredentialError::Locker`] when the locker refused (the code is then
/// still valid).
#[allow(clippy::too_many_arguments)]
pub fn pickup_with_code<const N: usize, const K: usize, const T: usize>(
    credentials: &mut Credentials<K, T>,
    locker: &mut Locker<N>,
    now: Ms,
    terminal: u8,
    parcel: ParcelId,
    role: Role,
    code: &[u8],
    sink: &mut impl ActionSink,
) -> Result<usize, CredentialError> {
    let grant = credentials.authorize(now, terminal, parcel, role, Purpose::Pickup, code)?;
    let index = locker.pickup(now, parcel, role, sink).map_err(CredentialError::Locker)?;
    credentials.consume(grant);
    Ok(index)
}
