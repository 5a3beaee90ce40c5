//! Policy loading (helper A fills this in).
