//! The server's side: holdpoint connects and logs in with the credentials of the
//! listener's upstream URL (cleartext, MD5 or SCRAM-SHA-256), so the agent never sees
//! them, and keeps what the server announced (parameters, its cancel key). The server
//! is reached over TCP, or over its Unix-domain socket when the URL names a directory.

use crate::server_stream::{ServerAddr, ServerStream, socket_path};
use crate::wire::{self, MAX_SERVER_MESSAGE, Reader, invalid};
use bytes::BytesMut;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::frontend;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where and as whom holdpoint logs in upstream.
#[derive(Clone)]
pub struct UpstreamTarget {
    /// A host name or address; or, starting with `/`, the directory of the server's
    /// Unix-domain socket.
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
    #[error("the port `{0}` is not a number from 1 to 65535")]
    Port(String),
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
        // libpq's forms for a socket directory: `?host=/dir` (over the URL's host), or
        // the host `%2Fdir`.
        let query = |key: &str| {
            url.query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        let host = match query("host") {
            Some(host) => host,
            None => decode(url.host_str().unwrap_or_default()),
        };
        let port = match query("port") {
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or(UpstreamUrlError::Port(port))?,
            None => url.port().unwrap_or(5432),
        };
        Ok(UpstreamTarget {
            host: if host.is_empty() {
                "127.0.0.1".to_string()
            } else {
                host
            },
            port,
            password: url.password().map(decode).unwrap_or_default(),
            database: url.path().trim_start_matches('/').to_string(),
            user,
        })
    }
}

/// A logged-in server connection.
pub struct Upstream {
    pub stream: ServerStream,
    /// ParameterStatus messages, as received, for the client.
    pub announced: BytesMut,
    /// The server's own cancel key.
    pub key: (i32, i32),
    pub addr: ServerAddr,
}

impl UpstreamTarget {
    /// Where the server is: its socket file, or the first address its host resolves to.
    pub async fn addr(&self) -> io::Result<ServerAddr> {
        if self.host.starts_with('/') {
            return Ok(ServerAddr::Unix(socket_path(&self.host, self.port)));
        }
        tokio::net::lookup_host((self.host.as_str(), self.port))
            .await?
            .next()
            .map(ServerAddr::Tcp)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the host has no address"))
    }
}

/// Connects and logs in; `params` are the client's startup parameters that may pass.
pub async fn connect(
    target: &UpstreamTarget,
    params: &[(String, String)],
) -> Result<Upstream, UpstreamError> {
    let unreachable = |e: io::Error| UpstreamError::Unreachable(e.to_string());
    let addr = target.addr().await.map_err(unreachable)?;
    let stream = addr.connect().await.map_err(unreachable)?;
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
    mut stream: ServerStream,
    addr: ServerAddr,
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
pub async fn cancel(addr: &ServerAddr, key: (i32, i32)) -> io::Result<()> {
    let mut stream = addr.connect().await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_a_tcp_host_or_a_socket_directory() {
        let tcp = UpstreamTarget::from_url("postgres://app:pw@db.internal:6543/shop").unwrap();
        assert_eq!((tcp.host.as_str(), tcp.port), ("db.internal", 6543));
        assert_eq!((tcp.user.as_str(), tcp.password.as_str()), ("app", "pw"));

        let query =
            UpstreamTarget::from_url("postgres://app@localhost/shop?host=/var/run/postgresql")
                .unwrap();
        assert_eq!(
            (query.host.as_str(), query.port),
            ("/var/run/postgresql", 5432)
        );
        assert_eq!(query.database, "shop");

        let encoded = UpstreamTarget::from_url("postgres://app@%2Ftmp%2Fpg:5433/shop").unwrap();
        assert_eq!((encoded.host.as_str(), encoded.port), ("/tmp/pg", 5433));

        let port =
            UpstreamTarget::from_url("postgres://app@localhost/shop?host=/tmp&port=6000").unwrap();
        assert_eq!(port.port, 6000);
        assert_eq!(
            UpstreamTarget::from_url("postgres://app@localhost/shop?host=/tmp&port=0").unwrap_err(),
            UpstreamUrlError::Port("0".into())
        );
        // The URL parser wants a host after `user@`: `?host=` or `%2F…` name the socket.
        assert!(UpstreamTarget::from_url("postgres://app@/shop?host=/tmp").is_err());
    }

    #[tokio::test]
    async fn a_socket_directory_is_its_socket_file() {
        let target =
            UpstreamTarget::from_url("postgres://app@localhost/shop?host=/tmp/pg&port=5433")
                .unwrap();
        assert_eq!(
            target.addr().await.unwrap(),
            ServerAddr::Unix("/tmp/pg/.s.PGSQL.5433".into())
        );
    }
}
