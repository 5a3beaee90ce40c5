//! Who and what is on the machine, as far as finding Codex homes goes: the user database (the
//! system's, or `--passwd-file`) and the process table ([`crate::platform::processes`]), and the
//! discovery of homes in a policy's scope over them ([`crate::platform::inventory`]).

use std::path::PathBuf;

use anyhow::Result;

use crate::core::policy::Scope;
use crate::platform::inventory;
use crate::platform::processes::{Processes, SystemProcesses};
use crate::platform::users::{PasswdFile, SystemUsers, UserDb};

pub struct Population {
    passwd_file: Option<PathBuf>,
    users: Box<dyn UserDb>,
    processes: Box<dyn Processes>,
}

impl Population {
    /// The machine's (or `passwd_file`'s) users and processes.
    pub fn new(passwd_file: Option<PathBuf>) -> Result<Population> {
        let users: Box<dyn UserDb> = match &passwd_file {
            Some(path) => Box::new(PasswdFile::load(path)?),
            None => Box::new(SystemUsers),
        };
        Ok(Population {
            passwd_file,
            users,
            processes: Box::new(SystemProcesses::default()),
        })
    }

    /// The user database (the system's, or `--passwd-file`).
    pub fn users(&self) -> &dyn UserDb {
        self.users.as_ref()
    }

    /// Read the user database again (`--passwd-file` is read once, at start; the system's is
    /// asked afresh on every walk, through the C library).
    pub fn reload_users(&mut self) -> Result<()> {
        if let Some(path) = &self.passwd_file {
            self.users = Box::new(PasswdFile::load(path)?);
        }
        Ok(())
    }

    /// The files whose change means accounts came or went: `--passwd-file`, or the system's
    /// passwd and group files.
    pub fn user_db_files(&self) -> Vec<PathBuf> {
        match &self.passwd_file {
            Some(path) => vec![path.clone()],
            None => crate::platform::users::SYSTEM_DB_FILES
                .iter()
                .map(PathBuf::from)
                .collect(),
        }
    }

    /// Every Codex home in `scope` now.
    pub fn discover(&self, scope: &Scope) -> inventory::Discovery {
        inventory::discover(scope, self.users.as_ref(), self.processes.as_ref())
    }

    /// Every Codex home in `scope` now, with the process table as last read (see
    /// [`inventory::rediscover`]): for the agent's rediscovery on a file event.
    pub fn rediscover(&self, scope: &Scope) -> inventory::Discovery {
        inventory::rediscover(scope, self.users.as_ref(), self.processes.as_ref())
    }

    /// Where the missing home directories of accounts in `scope` would appear (see
    /// [`inventory::missing_home_parents`]).
    pub fn missing_home_parents(&self, scope: &Scope) -> Vec<PathBuf> {
        inventory::missing_home_parents(scope, self.users.as_ref())
    }
}
