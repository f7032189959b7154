//! Framing of PostgreSQL protocol messages (v3): a type byte, a length that counts
//! itself, and the body. The proxy decodes only the messages it must judge; everything
//! else is relayed as the bytes it came as.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::io;

/// The largest message the proxy accepts from a client (a query text, a bind, a COPY
/// chunk). PostgreSQL's own limit is 1 GB; an agent has no need of that.
pub const MAX_CLIENT_MESSAGE: usize = 64 << 20;
/// The largest message accepted from the server (a wide DataRow).
pub const MAX_SERVER_MESSAGE: usize = 1 << 30;

/// One message: its type byte and its body (without the length).
#[derive(Debug, Clone)]
pub struct Frame {
    pub tag: u8,
    pub body: Bytes,
}

/// Takes one whole message off the front of `buf`, if it is all there.
pub fn take_frame(buf: &mut BytesMut, max: usize) -> io::Result<Option<Frame>> {
    let Some(&[tag, a, b, c, d]) = buf.get(..5) else {
        return Ok(None);
    };
    let len = i32::from_be_bytes([a, b, c, d]);
    let len = usize::try_from(len)
        .ok()
        .filter(|l| (4..=max).contains(l))
        .ok_or_else(|| {
            invalid(format!(
                "a message of length {len} (type {:?})",
                tag as char
            ))
        })?;
    if buf.len() < 1 + len {
        buf.reserve(1 + len - buf.len());
        return Ok(None);
    }
    let mut whole = buf.split_to(1 + len);
    whole.advance(5);
    Ok(Some(Frame {
        tag,
        body: whole.freeze(),
    }))
}

/// Appends a message.
pub fn put_frame(out: &mut BytesMut, tag: u8, body: &[u8]) {
    out.reserve(5 + body.len());
    out.put_u8(tag);
    out.put_i32(i32::try_from(body.len() + 4).unwrap_or(i32::MAX));
    out.put_slice(body);
}

pub fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// A reader over a message body.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        Reader { rest: body }
    }

    /// A NUL-terminated string, as UTF-8.
    pub fn cstr(&mut self) -> io::Result<&'a str> {
        let end = self
            .rest
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| invalid("a string without its terminator"))?;
        let (text, rest) = self.rest.split_at(end);
        self.rest = rest.get(1..).unwrap_or_default();
        std::str::from_utf8(text).map_err(|_| invalid("a string that is not UTF-8"))
    }

    pub fn u8(&mut self) -> io::Result<u8> {
        let (first, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| invalid("a message cut short"))?;
        self.rest = rest;
        Ok(*first)
    }

    pub fn i16(&mut self) -> io::Result<i16> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Exactly `N` bytes, as an array.
    pub fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        self.bytes(N)?
            .try_into()
            .map_err(|_| invalid("a message cut short"))
    }

    /// Exactly `n` bytes.
    pub fn bytes(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(invalid("a message cut short"));
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    /// A count (Int16 on the wire), read as PostgreSQL reads it: unsigned, so a Bind
    /// may carry up to 65,535 values (`pq_getmsgint(msg, 2)`).
    pub fn count(&mut self) -> io::Result<usize> {
        let raw = self.i16()?;
        Ok(usize::from(u16::from_be_bytes(raw.to_be_bytes())))
    }

    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

/// ErrorResponse (or NoticeResponse with `tag` b'N').
pub fn error_response(out: &mut BytesMut, severity: &str, code: &str, message: &str) {
    let mut body = BytesMut::new();
    for (field, value) in [
        (b'S', severity),
        (b'V', severity),
        (b'C', code),
        (b'M', message),
    ] {
        body.put_u8(field);
        put_cstr(&mut body, value);
    }
    body.put_u8(0);
    put_frame(out, b'E', &body);
}

/// A string without NUL bytes (which would end it early), NUL-terminated.
pub fn put_cstr(out: &mut BytesMut, text: &str) {
    out.extend(text.bytes().filter(|b| *b != 0));
    out.put_u8(0);
}

/// The `M` (message) and `C` (code) fields of an ErrorResponse body.
pub fn error_fields(body: &[u8]) -> (String, String) {
    let (mut code, mut message) = (String::new(), String::new());
    let mut fields = body.split(|b| *b == 0);
    for field in &mut fields {
        match field.split_first() {
            Some((b'C', v)) => code = String::from_utf8_lossy(v).into_owned(),
            Some((b'M', v)) => message = String::from_utf8_lossy(v).into_owned(),
            _ => {}
        }
    }
    (code, message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn frames_split_only_when_whole() {
        let mut buf = BytesMut::new();
        put_frame(&mut buf, b'Q', b"SELECT 1\0");
        let whole = buf.clone();
        let mut part = BytesMut::from(&whole[..6]);
        assert!(take_frame(&mut part, 100).expect("ok").is_none());
        let frame = take_frame(&mut buf, 100).expect("ok").expect("frame");
        assert_eq!(frame.tag, b'Q');
        assert_eq!(&frame.body[..], b"SELECT 1\0");
        assert!(buf.is_empty());
    }

    #[test]
    fn lengths_out_of_bounds_are_refused() {
        for len in [-1i32, 0, 3, 1000] {
            let mut buf = BytesMut::new();
            buf.put_u8(b'Q');
            buf.put_i32(len);
            assert!(take_frame(&mut buf, 100).is_err(), "{len}");
        }
    }

    #[test]
    fn errors_read_back() {
        let mut out = BytesMut::new();
        error_response(&mut out, "ERROR", "42501", "no\0pe");
        let frame = take_frame(&mut out, 1000).expect("ok").expect("frame");
        assert_eq!(
            error_fields(&frame.body),
            ("42501".to_string(), "nope".to_string())
        );
    }
}
