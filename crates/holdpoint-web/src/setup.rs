//! From [`WebSettings`](crate::config::WebSettings) to the inbox's routes, once the
//! address browsers reach the gateway at is known.

use crate::config::WebSettings;
use holdpoint_gate::Gate;
use std::sync::Arc;

impl WebSettings {
    /// The pages of an inbox reached at `public_url`, to merge into the gateway's router.
    pub fn router(self, gate: Arc<Gate>, public_url: &str) -> Result<axum::Router, String> {
        let issuer = self.oidc.as_ref().map(|o| o.issuer.clone());
        let state = crate::WebState::new(gate, self.at(public_url))?;
        match issuer {
            Some(issuer) => {
                tracing::info!(%issuer, "web inbox at {public_url}/inbox, sign-in with OIDC or a user token")
            }
            None => tracing::info!("web inbox at {public_url}/inbox, sign-in with a user token"),
        }
        Ok(crate::router(state))
    }
}
