//! The integrity checks the dialects use.
//!
//! Vendor dialects use 1-byte XOR (BCC) or 8-bit sums; Modbus uses CRC-16/MODBUS; the native
//! protocol uses CRC-16/IBM-3740 (also called CRC-16/CCITT-FALSE). Both CRCs come from the `crc`
//! crate's catalogue, whose check values are tested there and again below.
//!
//! With the `small-crc` feature, CRC-16/IBM-3740 is computed bit by bit instead of through a
//! 512-byte table: the same values in 0.5 KiB less flash, for a board firmware on a small MCU.

use crc::{CRC_16_IBM_3740, CRC_16_MODBUS, Crc};

const MODBUS: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);
#[cfg(not(feature = "small-crc"))]
const IBM_3740: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);
#[cfg(feature = "small-crc")]
const IBM_3740: Crc<u16, crc::NoTable> = Crc::<u16, crc::NoTable>::new(&CRC_16_IBM_3740);

/// XOR of all bytes (the "BCC" of the 8A/80 and WKLY boards).
pub fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Low byte of the sum of all bytes (Kerong CU12/CU16).
pub fn sum8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

/// CRC-16/MODBUS (poly 0x8005 reflected, init 0xFFFF). On the wire it is sent low byte first.
pub fn crc16_modbus(bytes: &[u8]) -> u16 {
    MODBUS.checksum(bytes)
}

/// CRC-16/IBM-3740 (CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected). The native protocol
/// sends it high byte first.
pub fn crc16_ibm_3740(bytes: &[u8]) -> u16 {
    IBM_3740.checksum(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_check_values() {
        // The CRC catalogue check value is the CRC of ASCII "123456789".
        assert_eq!(crc16_modbus(b"123456789"), 0x4B37);
        assert_eq!(crc16_ibm_3740(b"123456789"), 0x29B1);
    }

    #[test]
    fn modbus_byte_order_matches_vendor_frame() {
        // vector v150 (huynguyen2310/IO-Box README): 01 05 00 00 FF 00 | 8C 3A, CRC low byte first.
        let crc = crc16_modbus(&[0x01, 0x05, 0x00, 0x00, 0xFF, 0x00]);
        assert_eq!(crc.to_le_bytes(), [0x8C, 0x3A]);
    }

    /// The bitwise CRC of `small-crc` against the crate's table version, on any bytes.
    #[cfg(feature = "small-crc")]
    mod small_crc {
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn bitwise_crc_equals_table_crc(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                let table = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);
                prop_assert_eq!(super::crc16_ibm_3740(&bytes), table.checksum(&bytes));
            }
        }
    }

    #[test]
    fn small_checks() {
        // vector v003: 8A 01 01 11 -> BCC 9B
        assert_eq!(xor(&[0x8A, 0x01, 0x01, 0x11]), 0x9B);
        // vector v030: 02 00 31 03 -> SUM 36
        assert_eq!(sum8(&[0x02, 0x00, 0x31, 0x03]), 0x36);
    }
}
