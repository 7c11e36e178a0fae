#![doc = include_str!("../README.md")]
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]

pub mod board;
pub mod compartment;
pub mod master;
#[cfg(feature = "sim")]
pub mod sim;
