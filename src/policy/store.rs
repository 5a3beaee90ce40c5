//! Last good policy persistence.
