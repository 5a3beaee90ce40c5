//! auth.json parsing (helper B fills this in).
