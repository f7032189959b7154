//! [`EndingSessions`]: rmcp's in-memory session manager, with one change: a session
//! whose transport ends (it idled out, or was closed) fires its end token in
//! [`SessionEnds`] the moment rmcp's service sees the end, not after rmcp has drained
//! its handlers (up to 5 s later), so a call held in an idled-out session is withdrawn
//! before an approval could still run it.

use crate::sessions::SessionEnds;
use futures::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::{RoleServer, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::common::server_side_http::{ServerSseMessage, SessionId};
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use std::sync::Arc;

type Inner = LocalSessionManager;
type InnerTransport = <Inner as SessionManager>::Transport;

pub struct EndingSessions {
    inner: Inner,
    ends: Arc<SessionEnds>,
}

impl EndingSessions {
    pub fn new(inner: Inner, ends: Arc<SessionEnds>) -> Self {
        EndingSessions { inner, ends }
    }
}

/// A session's transport that tells [`SessionEnds`] when no more messages will come.
pub struct EndingTransport {
    inner: InnerTransport,
    id: SessionId,
    ends: Arc<SessionEnds>,
}

impl Transport<RoleServer> for EndingTransport {
    type Error = <InnerTransport as Transport<RoleServer>>::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        let message = self.inner.receive().await;
        if message.is_none() {
            self.ends.end(&self.id);
        }
        message
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}

impl SessionManager for EndingSessions {
    type Error = <Inner as SessionManager>::Error;
    type Transport = EndingTransport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let (id, inner) = self.inner.create_session().await?;
        let transport = EndingTransport {
            inner,
            id: id.clone(),
            ends: self.ends.clone(),
        };
        Ok((id, transport))
    }

    fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<ServerJsonRpcMessage, Self::Error>> + Send {
        self.inner.initialize_session(id, message)
    }

    fn has_session(
        &self,
        id: &SessionId,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        self.inner.has_session(id)
    }

    fn close_session(
        &self,
        id: &SessionId,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close_session(id)
    }

    fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> impl Future<
        Output = Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>,
    > + Send {
        self.inner.create_stream(id, message)
    }

    fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.accept_message(id, message)
    }

    fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> impl Future<
        Output = Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>,
    > + Send {
        self.inner.create_standalone_stream(id)
    }

    fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> impl Future<
        Output = Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>,
    > + Send {
        self.inner.resume(id, last_event_id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio_util::sync::CancellationToken;

    #[tokio::test]
    async fn a_session_whose_transport_ends_fires_its_end_token_at_once() {
        let stop = CancellationToken::new();
        let ends = SessionEnds::new(&stop);
        let sessions = EndingSessions::new(LocalSessionManager::default(), ends.clone());
        let (id, mut transport) = sessions.create_session().await.unwrap();
        let token = ends.token();
        ends.register(&id, &token);
        assert!(!token.is_cancelled());
        // The session ends (here closed; an idle-out ends its worker the same way): the
        // service's next receive sees the end, and the token fires then, before rmcp
        // drains the session's handlers.
        sessions.close_session(&id).await.unwrap();
        assert!(transport.receive().await.is_none());
        assert!(token.is_cancelled());
    }
}
