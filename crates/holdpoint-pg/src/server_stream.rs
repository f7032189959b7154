//! The connection to the server: TCP, or a Unix-domain socket when the upstream URL
//! names a socket directory (`?host=/var/run/postgresql`, as libpq does). A proxy beside
//! its database relays every message twice; over a Unix socket the server's leg costs
//! the kernel far less than loopback TCP.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream, tcp, unix};

/// Where the server listens, as connected to (cancel requests go to the same place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAddr {
    Tcp(std::net::SocketAddr),
    /// The socket file itself: `{directory}/.s.PGSQL.{port}`.
    Unix(PathBuf),
}

/// The socket file of a server listening in `directory` on `port`.
pub fn socket_path(directory: &str, port: u16) -> PathBuf {
    PathBuf::from(directory).join(format!(".s.PGSQL.{port}"))
}

impl ServerAddr {
    /// Connects, with Nagle off on TCP: every message is sent whole, at once.
    pub async fn connect(&self) -> io::Result<ServerStream> {
        match self {
            ServerAddr::Tcp(addr) => {
                let stream = TcpStream::connect(addr).await?;
                let _ = stream.set_nodelay(true);
                Ok(ServerStream::Tcp(stream))
            }
            ServerAddr::Unix(path) => Ok(ServerStream::Unix(UnixStream::connect(path).await?)),
        }
    }
}

pub enum ServerStream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl ServerStream {
    /// The two halves, each owned, for one task to read and write at once.
    pub fn into_split(self) -> (ServerRead, ServerWrite) {
        match self {
            ServerStream::Tcp(s) => {
                let (r, w) = s.into_split();
                (ServerRead::Tcp(r), ServerWrite::Tcp(w))
            }
            ServerStream::Unix(s) => {
                let (r, w) = s.into_split();
                (ServerRead::Unix(r), ServerWrite::Unix(w))
            }
        }
    }
}

pub enum ServerRead {
    Tcp(tcp::OwnedReadHalf),
    Unix(unix::OwnedReadHalf),
}

pub enum ServerWrite {
    Tcp(tcp::OwnedWriteHalf),
    Unix(unix::OwnedWriteHalf),
}

/// `AsyncRead` for an enum of readers: each arm is the inner reader's own.
macro_rules! read_by_arm {
    ($ty:ty) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
                    Self::Unix(s) => Pin::new(s).poll_read(cx, buf),
                }
            }
        }
    };
}

/// `AsyncWrite` for an enum of writers: each arm is the inner writer's own.
macro_rules! write_by_arm {
    ($ty:ty) => {
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                match self.get_mut() {
                    Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
                    Self::Unix(s) => Pin::new(s).poll_write(cx, buf),
                }
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    Self::Tcp(s) => Pin::new(s).poll_flush(cx),
                    Self::Unix(s) => Pin::new(s).poll_flush(cx),
                }
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
                    Self::Unix(s) => Pin::new(s).poll_shutdown(cx),
                }
            }
        }
    };
}

read_by_arm!(ServerStream);
read_by_arm!(ServerRead);
write_by_arm!(ServerStream);
write_by_arm!(ServerWrite);
