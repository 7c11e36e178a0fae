//! [`BusDialect`] for every dialect of `lockproto`.

use lockproto::dialect::bcc_8a80::Bcc8a80;
use lockproto::dialect::kerong_cu12::KerongCu12;
use lockproto::dialect::kerong_cu16::KerongCu16;
use lockproto::dialect::modbus_relay::ModbusRelay;
use lockproto::dialect::winnsen::Winnsen;
use lockproto::dialect::wkly::Wkly;
use lockproto::native::{Native, NativeReply, NativeRequest};

use super::{BusDialect, MasterConfig};

impl BusDialect for KerongCu12 {
    fn default_config(&self) -> MasterConfig {
        MasterConfig::for_kerong_cu12()
    }

    fn status_broadcast(&self) -> Option<u8> {
        Some(lockproto::dialect::kerong_cu12::BROADCAST)
    }
}

impl BusDialect for KerongCu16 {
    fn default_config(&self) -> MasterConfig {
        MasterConfig::for_kerong_cu16()
    }

    fn status_broadcast(&self) -> Option<u8> {
        Some(lockproto::dialect::kerong_cu16::BUS_BOARD)
    }
}

impl BusDialect for Bcc8a80 {
    fn default_config(&self) -> MasterConfig {
        MasterConfig::for_bcc_8a80()
    }
}

impl BusDialect for Wkly {
    fn default_config(&self) -> MasterConfig {
        MasterConfig::for_wkly()
    }
}

impl BusDialect for Winnsen {
    fn default_config(&self) -> MasterConfig {
        MasterConfig::for_winnsen()
    }
}

impl BusDialect for ModbusRelay {
    fn default_config(&self) -> MasterConfig {
        MasterConfig::for_modbus_relay()
    }
}

/// Native requests carry SEQ (echoed) and unlocks the expected BOOT (PROTOCOL.md §2, §5.1).
impl BusDialect for Native {
    fn default_config(&self) -> MasterConfig {
        MasterConfig::for_native()
    }

    fn sequenced(&self) -> bool {
        true
    }

    fn stamp(&self, request: NativeRequest, seq: u8, boot: u16) -> NativeRequest {
        request.with_seq(seq).with_boot(boot)
    }

    fn reply_board(&self, reply: &NativeReply) -> Option<u8> {
        Some(reply.board())
    }

    fn reply_seq(&self, reply: &NativeReply) -> Option<u8> {
        Some(reply.seq())
    }

    fn reply_boot(&self, reply: &NativeReply) -> Option<u16> {
        Some(reply.boot())
    }
}
