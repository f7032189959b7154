//! The client's side of connecting: SSL negotiation (TLS when the listener has a
//! certificate), cancel requests, the startup message and the password, which is the
//! agent's holdpoint token.

use crate::wire::{self, Reader, invalid, put_cstr, put_frame};
use bytes::{BufMut, BytesMut};
use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A client connection, plain or TLS.
pub trait ClientIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ClientIo for T {}
pub type Stream = Pin<Box<dyn ClientIo>>;

const SSL_REQUEST: i32 = 80_877_103;
const GSSENC_REQUEST: i32 = 80_877_104;
const CANCEL_REQUEST: i32 = 80_877_102;
const PROTOCOL_3: i32 = 3 << 16;
/// Startup packets are small; a client that claims more is refused.
const MAX_STARTUP: usize = 10_000;

/// What a new connection asks for.
pub enum Hello {
    /// A session: the startup parameters (keys lowercased), over `stream`.
    Startup {
        stream: Stream,
        params: BTreeMap<String, String>,
        tls: bool,
    },
    /// Cancel what the session with this key is doing.
    Cancel { pid: i32, secret: i32 },
}

/// Reads what the client wants, upgrading to TLS if it asks and `tls` is configured.
pub async fn hello(
    mut stream: Stream,
    tls: Option<&tokio_rustls::TlsAcceptor>,
) -> io::Result<Hello> {
    let mut upgraded = false;
    loop {
        let len = usize::try_from(stream.read_i32().await?)
            .ok()
            .filter(|l| (8..=MAX_STARTUP).contains(l))
            .ok_or_else(|| invalid("a startup packet of impossible length"))?;
        let code = stream.read_i32().await?;
        let mut body = vec![0u8; len - 8];
        stream.read_exact(&mut body).await?;
        match code {
            SSL_REQUEST if !upgraded => match tls {
                Some(acceptor) => {
                    stream.write_all(b"S").await?;
                    stream = Box::pin(acceptor.accept(stream).await?);
                    upgraded = true;
                }
                None => stream.write_all(b"N").await?,
            },
            GSSENC_REQUEST => stream.write_all(b"N").await?,
            CANCEL_REQUEST => {
                let mut r = Reader::new(&body);
                return Ok(Hello::Cancel {
                    pid: r.i32()?,
                    secret: r.i32()?,
                });
            }
            code if code >> 16 == 3 => {
                let params = parameters(&body)?;
                if code != PROTOCOL_3 {
                    negotiate(&mut stream, &params).await?;
                }
                return Ok(Hello::Startup {
                    stream,
                    params,
                    tls: upgraded,
                });
            }
            other => {
                return Err(invalid(format!(
                    "unsupported protocol {}.{}",
                    other >> 16,
                    other & 0xffff
                )));
            }
        }
    }
}

fn parameters(body: &[u8]) -> io::Result<BTreeMap<String, String>> {
    let mut r = Reader::new(body);
    let mut params = BTreeMap::new();
    loop {
        let key = r.cstr()?;
        if key.is_empty() {
            return Ok(params);
        }
        params.insert(key.to_ascii_lowercase(), r.cstr()?.to_string());
    }
}

/// A client asking for protocol 3.x (x > 0) or protocol options is told 3.0, without them.
async fn negotiate(stream: &mut Stream, params: &BTreeMap<String, String>) -> io::Result<()> {
    let options: Vec<&String> = params.keys().filter(|k| k.starts_with("_pq_.")).collect();
    let mut body = BytesMut::new();
    body.put_i32(PROTOCOL_3);
    body.put_i32(i32::try_from(options.len()).unwrap_or(0));
    for option in options {
        put_cstr(&mut body, option);
    }
    let mut out = BytesMut::new();
    put_frame(&mut out, b'v', &body);
    stream.write_all(&out).await
}

/// Asks for the password in clear text and reads it.
pub async fn password(stream: &mut Stream) -> io::Result<String> {
    let mut out = BytesMut::new();
    put_frame(&mut out, b'R', &3i32.to_be_bytes());
    stream.write_all(&out).await?;
    let mut buf = BytesMut::new();
    loop {
        if let Some(frame) = wire::take_frame(&mut buf, MAX_STARTUP)? {
            if frame.tag != b'p' {
                return Err(invalid("expected a password message"));
            }
            return Ok(Reader::new(&frame.body).cstr()?.to_string());
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// Refuses the connection with a FATAL error, then closes it.
pub async fn refuse(stream: &mut Stream, code: &str, message: &str) {
    let mut out = BytesMut::new();
    wire::error_response(&mut out, "FATAL", code, message);
    let _ = stream.write_all(&out).await;
    let _ = stream.shutdown().await;
}
