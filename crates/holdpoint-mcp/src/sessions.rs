//! [`Sessions`]: how many agent sessions each principal holds open on one upstream. Each
//! gateway-hosted session starts its own upstream (for a command, its own process), so
//! an agent that opens sessions without end would exhaust the gateway's host; past the
//! limit, `initialize` is refused until one of its sessions ends or idles out.

use holdpoint_core::Principal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Why no more sessions may open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionsError {
    #[error(
        "{principal} already has {limit} MCP sessions open on this server, the most allowed; \
         close one (or let it idle out) first"
    )]
    Full { principal: Principal, limit: usize },
}

#[derive(Debug)]
pub struct Sessions {
    limit: usize,
    open: Mutex<HashMap<Principal, usize>>,
}

/// One open session; dropping it (the session ended) frees its place.
#[derive(Debug)]
pub struct SessionSlot {
    sessions: Arc<Sessions>,
    principal: Principal,
}

impl Sessions {
    pub fn new(limit: usize) -> Arc<Sessions> {
        Arc::new(Sessions {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for one more session of `principal`, or why not.
    pub fn open(self: &Arc<Self>, principal: &Principal) -> Result<SessionSlot, SessionsError> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(principal.clone()).or_insert(0);
        if *count >= self.limit {
            return Err(SessionsError::Full {
                principal: principal.clone(),
                limit: self.limit,
            });
        }
        *count += 1;
        Ok(SessionSlot {
            sessions: self.clone(),
            principal: principal.clone(),
        })
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut open = self.sessions.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.principal) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.principal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use holdpoint_core::PrincipalKind;

    #[test]
    fn each_principal_has_its_own_limit_and_ended_sessions_free_their_place() {
        let sessions = Sessions::new(2);
        let bot = Principal::new(PrincipalKind::Agent, "bot");
        let other = Principal::new(PrincipalKind::Agent, "other");
        let a = sessions.open(&bot).unwrap();
        let _b = sessions.open(&bot).unwrap();
        assert_eq!(
            sessions.open(&bot).unwrap_err().to_string(),
            "agent:bot already has 2 MCP sessions open on this server, the most allowed; \
             close one (or let it idle out) first"
        );
        let _c = sessions.open(&other).unwrap();
        drop(a);
        assert!(sessions.open(&bot).is_ok());
    }
}
