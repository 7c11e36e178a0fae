//! The state machine's notices, reports and alarms in words, for the terminal. The event
//! stream keeps their names (`what`, `alarm`), which scripts and the cloud match on.

use lockdrv::compartment::{Alarm, FaultReason, Notice, Report};

/// A notice for a person, as a sentence.
pub fn notice(notice: &Notice) -> String {
    match notice {
        Notice::ReadyForPickup(p) => format!("parcel {} ready for pickup", p.0),
        Notice::PickupExpired(p) => format!("pickup window of parcel {} expired: a courier takes it back", p.0),
        Notice::ReservationLost(p) => format!("reservation for parcel {} lost", p.0),
        Notice::PickedUp(p) => format!("parcel {} picked up", p.0),
        Notice::CloseTheDoor => "door open too long: \"please close the door\"".into(),
        // The enum may grow; its name still says what it is.
        other => format!("{other:?}"),
    }
}

/// A fact for the audit trail, as a sentence.
pub fn report(report: &Report) -> String {
    match report {
        Report::Opened(_) => "door seen open (sensor)".into(),
        Report::OpenOutcomeUnknown(_) => {
            "pulse not acknowledged, door not seen open: outcome unknown, not resent".into()
        }
        Report::OpenInterrupted(_) => "open interrupted by a boot or a board loss: not replayed".into(),
        Report::DuplicateRefused(_) => "duplicate or stale transaction refused".into(),
        Report::NeedsInspection => "needs an operator's inspection".into(),
        Report::Fault(reason) => format!("fault: {}", fault(*reason)),
        Report::Deposited(p) => format!("parcel {} deposited", p.0),
        Report::DepositCancelled(p) => format!("deposit of parcel {} cancelled: compartment empty", p.0),
        Report::Retrieved(p) => format!("parcel {} retrieved by courier", p.0),
        Report::ReportedMissing(p) => format!("parcel {} reported missing", p.0),
        Report::ReportedStillThere(p) => format!("parcel {} reported still there after pickup", p.0),
        Report::AssignmentDropped(p) => format!("operator cleared the compartment: parcel {} unassigned", p.0),
        other => format!("{other:?}"),
    }
}

/// Why a compartment is faulted.
pub fn fault(reason: FaultReason) -> String {
    match reason {
        FaultReason::Jammed => "lock jammed (pulses acknowledged, door never opened)".into(),
        FaultReason::SensorFault => "implausible sensor reading".into(),
        FaultReason::DoorAjar => "door left open".into(),
        FaultReason::Tamper => "door forced open".into(),
        FaultReason::BoardOffline => "board offline".into(),
        other => format!("{other:?}"),
    }
}

/// An alarm, by the name the event stream gives it (`Alarm`'s variant name).
pub fn alarm(name: &str) -> &str {
    match name {
        n if n == alarm_name(Alarm::DoorAjar) => "door left open",
        n if n == alarm_name(Alarm::Tamper) => "door forced open",
        n if n == alarm_name(Alarm::Jammed) => "lock jammed",
        n if n == alarm_name(Alarm::SensorFault) => "sensor fault",
        n if n == alarm_name(Alarm::BoardOffline) => "board offline",
        other => other,
    }
}

/// The name of an alarm in the event stream and on the cloud topics.
pub fn alarm_name(alarm: Alarm) -> &'static str {
    match alarm {
        Alarm::DoorAjar => "DoorAjar",
        Alarm::Tamper => "Tamper",
        Alarm::Jammed => "Jammed",
        Alarm::SensorFault => "SensorFault",
        Alarm::BoardOffline => "BoardOffline",
    }
}
