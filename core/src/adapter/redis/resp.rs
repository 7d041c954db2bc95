//! A minimal blocking RESP2 client: one TCP connection, pipelined commands, bounded waits.
//!
//! Commands are encoded into an output buffer (several may be queued) and written in one
//! `write_all`; replies are read in order. Socket read and write timeouts bound every wait, so
//! a dead server yields an error, never a hang. Any I/O or protocol error poisons the
//! connection: the caller drops it and connects again.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::Bytes;

use crate::adapter::remote_config::RedisUrl;

/// One reply.
#[derive(Debug)]
pub(crate) enum Reply {
    /// `+OK` and friends.
    Status,
    /// `-ERR ...`: the command failed; the connection is still usable.
    Error(String),
    /// `:42`.
    Int(i64),
    /// `$n` (None for the null bulk string).
    Bulk(Option<Bytes>),
    /// `*n` (None for the null array).
    Array(Option<Vec<Reply>>),
}

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Connection-level: drop the connection and reconnect.
    Io(String),
    /// The server answered with an error or something unexpected; the connection is usable.
    Server(String),
}

impl Failure {
    pub(crate) fn message(&self) -> &str {
        match self {
            Failure::Io(m) | Failure::Server(m) => m,
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                format!("redis command timed out ({e})")
            }
            _ => format!("redis connection failed: {e}"),
        })
    }
}

/// A connection with a pending-command buffer.
pub(crate) struct Conn {
    reader: BufReader<TcpStream>,
    out: Vec<u8>,
    line: Vec<u8>,
}

impl Conn {
    /// Connects (each resolved address bounded by `connect_timeout`), then `AUTH` / `SELECT` as
    /// the URL asks.
    pub(crate) fn connect(
        url: &RedisUrl,
        connect_timeout: Duration,
        command_timeout: Duration,
    ) -> Result<Conn, Failure> {
        let target = format!("{}:{}", url.host, url.port);
        let addrs = (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map_err(|e| Failure::Io(format!("cannot resolve {target}: {e}")))?;
        let mut last = Failure::Io(format!("{target} resolved to no address"));
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, connect_timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(command_timeout))?;
                    stream.set_write_timeout(Some(command_timeout))?;
                    let mut conn = Conn {
                        reader: BufReader::with_capacity(64 * 1024, stream),
                        out: Vec::with_capacity(64 * 1024),
                        line: Vec::with_capacity(64),
                    };
                    conn.handshake(url)?;
                    return Ok(conn);
                }
                Err(e) => last = Failure::Io(format!("cannot connect to redis at {target}: {e}")),
            }
        }
        Err(last)
    }

    fn handshake(&mut self, url: &RedisUrl) -> Result<(), Failure> {
        if let Some(pass) = &url.password {
            match &url.username {
                Some(user) => self.queue(&[b"AUTH", user.as_bytes(), pass.as_bytes()]),
                None => self.queue(&[b"AUTH", pass.as_bytes()]),
            }
            self.expect_ok()?;
        }
        if url.db != 0 {
            let db = url.db.to_string();
            self.queue(&[b"SELECT", db.as_bytes()]);
            self.expect_ok()?;
        }
        Ok(())
    }

    fn expect_ok(&mut self) -> Result<(), Failure> {
        self.send()?;
        match self.read()? {
            Reply::Status => Ok(()),
            Reply::Error(e) => Err(Failure::Server(e)),
            other => Err(Failure::Io(format!("unexpected reply {other:?}"))),
        }
    }

    /// Queues one command made of `args`.
    pub(crate) fn queue(&mut self, args: &[&[u8]]) {
        self.array_header(args.len());
        for a in args {
            self.arg(a);
        }
    }

    /// Queues `*n\r\n` (the start of a command of `n` arguments).
    pub(crate) fn array_header(&mut self, n: usize) {
        self.out.push(b'*');
        push_uint(&mut self.out, n as u64);
        self.out.extend_from_slice(b"\r\n");
    }

    /// Queues one bulk-string argument.
    pub(crate) fn arg(&mut self, a: &[u8]) {
        self.out.push(b'$');
        push_uint(&mut self.out, a.len() as u64);
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(a);
        self.out.extend_from_slice(b"\r\n");
    }

    /// Queues an integer argument.
    pub(crate) fn arg_uint(&mut self, n: u64) {
        let mut tmp = [0u8; 20];
        let digits = format_uint(&mut tmp, n);
        self.arg(digits);
    }

    /// Queues already-encoded bytes (a pre-built run of arguments).
    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Writes every queued command.
    pub(crate) fn send(&mut self) -> Result<(), Failure> {
        let result = self.reader.get_mut().write_all(&self.out);
        self.out.clear();
        Ok(result?)
    }

    /// Reads one reply.
    pub(crate) fn read(&mut self) -> Result<Reply, Failure> {
        self.line.clear();
        let n = self.reader.read_until(b'\n', &mut self.line)?;
        if n < 3 || !self.line.ends_with(b"\r\n") {
            return Err(Failure::Io("redis closed the connection".to_owned()));
        }
        let body = &self.line[1..self.line.len() - 2];
        let text = || String::from_utf8_lossy(body).into_owned();
        let int = || -> Result<i64, Failure> {
            std::str::from_utf8(body)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| Failure::Io(format!("bad integer in reply: {}", text())))
        };
        Ok(match self.line[0] {
            b'+' => Reply::Status,
            b'-' => Reply::Error(text()),
            b':' => Reply::Int(int()?),
            b'$' => match int()? {
                -1 => Reply::Bulk(None),
                len if len >= 0 => {
                    let mut buf = vec![0u8; len as usize + 2];
                    self.reader.read_exact(&mut buf)?;
                    buf.truncate(len as usize);
                    Reply::Bulk(Some(Bytes::from(buf)))
                }
                _ => return Err(Failure::Io("bad bulk length".to_owned())),
            },
            b'*' => match int()? {
                -1 => Reply::Array(None),
                len if len >= 0 => {
                    let mut items = Vec::with_capacity((len as usize).min(4096));
                    for _ in 0..len {
                        items.push(self.read()?);
                    }
                    Reply::Array(Some(items))
                }
                _ => return Err(Failure::Io("bad array length".to_owned())),
            },
            other => {
                return Err(Failure::Io(format!(
                    "unexpected reply type byte {other:#x}"
                )));
            }
        })
    }

    /// Reads one reply expected to be a bulk string (an `XADD` id) without keeping it:
    /// `Ok(None)` for a bulk string, `Ok(Some(message))` for an error reply.
    pub(crate) fn skip_bulk(&mut self) -> Result<Option<String>, Failure> {
        self.line.clear();
        let n = self.reader.read_until(b'\n', &mut self.line)?;
        if n < 3 || !self.line.ends_with(b"\r\n") {
            return Err(Failure::Io("redis closed the connection".to_owned()));
        }
        let body = &self.line[1..self.line.len() - 2];
        match self.line[0] {
            b'$' => {
                let len: usize = std::str::from_utf8(body)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| Failure::Io("bad bulk length".to_owned()))?;
                let mut left = len + 2;
                while left > 0 {
                    let buf = self.reader.fill_buf()?;
                    if buf.is_empty() {
                        return Err(Failure::Io("redis closed the connection".to_owned()));
                    }
                    let take = buf.len().min(left);
                    self.reader.consume(take);
                    left -= take;
                }
                Ok(None)
            }
            b'-' => Ok(Some(String::from_utf8_lossy(body).into_owned())),
            other => Err(Failure::Io(format!(
                "unexpected reply type byte {other:#x} to XADD"
            ))),
        }
    }

    /// Sends one command and reads its reply; an error reply becomes `Failure::Server`.
    pub(crate) fn call(&mut self, args: &[&[u8]]) -> Result<Reply, Failure> {
        self.queue(args);
        self.send()?;
        match self.read()? {
            Reply::Error(e) => Err(Failure::Server(e)),
            r => Ok(r),
        }
    }
}

/// Appends the decimal digits of `n`.
pub(crate) fn push_uint(out: &mut Vec<u8>, n: u64) {
    let mut tmp = [0u8; 20];
    out.extend_from_slice(format_uint(&mut tmp, n));
}

/// The decimal digits of `n`, written at the end of `tmp`.
pub(crate) fn format_uint(tmp: &mut [u8; 20], mut n: u64) -> &[u8] {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &tmp[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_integers() {
        for n in [0u64, 7, 10, 12345, u64::MAX] {
            let mut v = Vec::new();
            push_uint(&mut v, n);
            assert_eq!(v, n.to_string().as_bytes());
        }
    }
}
