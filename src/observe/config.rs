//! config.toml parsing (helper B fills this in).
