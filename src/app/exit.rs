//! Exit codes shared by the commands (`check`, `policy validate`, `audit verify`, …).

pub const OK: u8 = 0;
pub const FINDINGS: u8 = 1;
pub const ERROR: u8 = 2;
