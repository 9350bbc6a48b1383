//! The Bitrix24 emulator (placeholder).
