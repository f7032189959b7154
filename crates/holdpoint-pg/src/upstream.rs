//! The server's side: holdpoint connects and logs in with the credentials of the
//! listener's upstream URL (cleartext, MD5 or SCRAM-SHA-256), so the agent never sees
//! them, and keeps what the server announced (parameters, its cancel key).

use crate::wire::{self, MAX_SERVER_MESSAGE, Reader, invalid};
use bytes::BytesMut;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::frontend;
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where and as whom holdpoint logs in upstream.
#[derive(Clone)]
pub struct UpstreamTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
}

impl std::fmt::Debug for UpstreamTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "postgres://{}@{}:{}/{}",
            self.user, self.host, self.port, self.database
        )
    }
}

/// Why an upstream URL is refused. The URL itself is never repeated: it holds the
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamUrlError {
    #[error("not a URL: {0}")]
    NotAUrl(url::ParseError),
    #[error("the scheme must be postgres://, not {0}://")]
    Scheme(String),
    #[error("the URL names no user")]
    NoUser,
}

impl UpstreamTarget {
    /// From a `postgres://user:password@host:port/database` URL.
    pub fn from_url(text: &str) -> Result<UpstreamTarget, UpstreamUrlError> {
        let url = url::Url::parse(text).map_err(UpstreamUrlError::NotAUrl)?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(UpstreamUrlError::Scheme(url.scheme().to_string()));
        }
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let user = decode(url.username());
        if user.is_empty() {
            return Err(UpstreamUrlError::NoUser);
        }
        Ok(UpstreamTarget {
            host: url.host_str().unwrap_or("127.0.0.1").to_string(),
            port: url.port().unwrap_or(5432),
            password: url.password().map(decode).unwrap_or_default(),
            database: url.path().trim_start_matches('/').to_string(),
            user,
        })
    }
}

/// A logged-in server connection.
pub struct Upstream {
    pub stream: TcpStream,
    /// ParameterStatus messages, as received, for the client.
    pub announced: BytesMut,
    /// The server's own cancel key.
    pub key: (i32, i32),
    pub addr: SocketAddr,
}

/// Connects and logs in; `params` are the client's startup parameters that may pass.
pub async fn connect(
    target: &UpstreamTarget,
    params: &[(String, String)],
) -> Result<Upstream, UpstreamError> {
    let stream = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| UpstreamError::Unreachable(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    let addr = stream
        .peer_addr()
        .map_err(|e| UpstreamError::Unreachable(e.to_string()))?;
    login(stream, addr, target, params)
        .await
        .map_err(|e| match e {
            LoginError::Io(e) => UpstreamError::Unreachable(e.to_string()),
            LoginError::Refused(message) => UpstreamError::Refused(message),
        })
}

/// Why no upstream connection could be had.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the database cannot be reached: {0}")]
    Unreachable(String),
    #[error("the database refused holdpoint's login: {0}")]
    Refused(String),
}

enum LoginError {
    Io(io::Error),
    Refused(String),
}

impl From<io::Error> for LoginError {
    fn from(e: io::Error) -> Self {
        LoginError::Io(e)
    }
}

async fn login(
    mut stream: TcpStream,
    addr: SocketAddr,
    target: &UpstreamTarget,
    params: &[(String, String)],
) -> Result<Upstream, LoginError> {
    let mut out = BytesMut::new();
    let mut startup: Vec<(&str, &str)> = vec![
        ("user", target.user.as_str()),
        ("database", target.database.as_str()),
        ("client_encoding", "UTF8"),
    ];
    startup.extend(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    frontend::startup_message(startup, &mut out)?;
    stream.write_all(&out).await?;

    let mut buf = BytesMut::new();
    let mut announced = BytesMut::new();
    let mut key = (0, 0);
    let mut scram: Option<sasl::ScramSha256> = None;
    loop {
        let frame = loop {
            if let Some(frame) = wire::take_frame(&mut buf, MAX_SERVER_MESSAGE)? {
                break frame;
            }
            if stream.read_buf(&mut buf).await? == 0 {
                return Err(LoginError::Refused(
                    "the server closed the connection".into(),
                ));
            }
        };
        let mut r = Reader::new(&frame.body);
        out.clear();
        match frame.tag {
            b'R' => match r.i32()? {
                0 => {}
                3 => frontend::password_message(target.password.as_bytes(), &mut out)?,
                5 => {
                    let salt: [u8; 4] = r.array()?;
                    let hash = md5_hash(target.user.as_bytes(), target.password.as_bytes(), salt);
                    frontend::password_message(hash.as_bytes(), &mut out)?;
                }
                10 => {
                    let mut offered = Vec::new();
                    while let Ok(m) = r.cstr() {
                        if m.is_empty() {
                            break;
                        }
                        offered.push(m.to_string());
                    }
                    if !offered.iter().any(|m| m == sasl::SCRAM_SHA_256) {
                        return Err(LoginError::Refused(format!(
                            "the server offers only {offered:?}"
                        )));
                    }
                    let s = sasl::ScramSha256::new(
                        target.password.as_bytes(),
                        sasl::ChannelBinding::unsupported(),
                    );
                    frontend::sasl_initial_response(sasl::SCRAM_SHA_256, s.message(), &mut out)?;
                    scram = Some(s);
                }
                11 => {
                    let s = scram.as_mut().ok_or_else(|| invalid("SASL out of order"))?;
                    s.update(r.rest())?;
                    frontend::sasl_response(s.message(), &mut out)?;
                }
                12 => {
                    let s = scram.as_mut().ok_or_else(|| invalid("SASL out of order"))?;
                    s.finish(r.rest())
                        .map_err(|e| LoginError::Refused(format!("the server's proof: {e}")))?;
                }
                other => {
                    return Err(LoginError::Refused(format!(
                        "unsupported authentication method {other}"
                    )));
                }
            },
            b'S' => wire::put_frame(&mut announced, b'S', &frame.body),
            b'K' => key = (r.i32()?, r.i32()?),
            b'E' => {
                let (code, message) = wire::error_fields(&frame.body);
                return Err(LoginError::Refused(format!("{message} ({code})")));
            }
            b'Z' => {
                return Ok(Upstream {
                    stream,
                    announced,
                    key,
                    addr,
                });
            }
            // Notices and NegotiateProtocolVersion need no answer.
            _ => {}
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
        }
    }
}

/// Asks the server to cancel what the connection with `key` is running.
pub async fn cancel(addr: SocketAddr, key: (i32, i32)) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut out = BytesMut::new();
    frontend::cancel_request(key.0, key.1, &mut out);
    stream.write_all(&out).await?;
    let mut rest = Vec::new();
    // The server closes the connection when done; wait for that, briefly.
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut rest),
    )
    .await;
    Ok(())
}
