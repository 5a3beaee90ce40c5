//! Evaluation (helper B fills this in).
