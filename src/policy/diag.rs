//! Policy diagnostics (helper A fills this in).
