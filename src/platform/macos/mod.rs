//! macOS: what the platform layer reads differently on a Mac, behind the same functions as on
//! Linux.
//!
//! - [`procargs`] and [`proc_fields`] parse what the kernel answers (`KERN_PROCARGS2` buffers,
//!   `proc_pidinfo` and `proc_pidpath` results), [`macho`] where a Mach-O executable keeps its
//!   strings, [`socket_info`] the descriptors and sockets libproc describes, [`mounts`] which
//!   file systems a user controls: pure, compiled and tested on every platform.
//! - [`notify`] tells a user on their desktop (Notification Center) that a session was stopped.
//! - [`procs`] is the process table [`crate::platform::sessions`] reads on macOS, [`read_as`]
//!   the per-thread user credentials and no-follow opens [`crate::platform::session_files`]
//!   reads a session's files with: thin, macOS only, their system calls in
//!   [`crate::platform::users::darwin`] (the one module allowed `unsafe`).

pub mod macho;
pub mod mounts;
pub mod notify;
pub mod proc_fields;
pub mod procargs;
#[cfg(target_os = "macos")]
pub mod procs;
#[cfg(target_os = "macos")]
pub mod read_as;
pub mod socket_info;
