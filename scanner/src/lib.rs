#![doc = include_str!("../README.md")]
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]

pub mod aim;
pub mod driver;
pub mod framer;
pub mod grow;
pub mod grow_host;
pub mod gs1;
pub mod hidpos;
pub mod host;
pub mod m3y;
pub mod menu;
pub mod menu_host;
pub mod payload;
pub mod pickup;
pub mod ssi;
pub mod ssi_variant;
pub mod stream;
