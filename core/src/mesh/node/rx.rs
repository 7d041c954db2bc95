//! The I/O thread's receive side: batches of datagrams from one UDP socket.
//!
//! On Linux one `recvmmsg` call with `MSG_WAITFORONE` blocks (up to the socket's read
//! timeout) for the first datagram and then takes up to [`RX_BATCH`]` - 1` more that are
//! already waiting, without blocking: a wake-up costs one system call however many datagrams
//! it brings. The buffers and the `mmsghdr` array are allocated once per thread. Elsewhere
//! one `recv_from` per call.
//!
//! Promises: every reported `(buffer, length, sender)` refers to bytes the kernel wrote into
//! that buffer by this call; a timeout, `EAGAIN` or an error (Linux reports ICMP errors on UDP
//! sockets this way) yields an empty batch, never a panic. Not promised: datagrams larger than
//! [`MAX_DATAGRAM`] arrive whole (the kernel truncates them and the endpoint rejects them).

use std::net::{SocketAddr, UdpSocket};

/// Largest datagram the node reads.
pub(super) const MAX_DATAGRAM: usize = 65_536;
/// Most datagrams taken per call.
pub(super) const RX_BATCH: usize = 32;

/// Receive buffers and what the last call put in them.
pub(super) struct Receiver {
    bufs: Vec<Vec<u8>>,
    /// `(buffer index, length, sender)` of each datagram of the last call.
    got: Vec<(usize, usize, SocketAddr)>,
    #[cfg(target_os = "linux")]
    scratch: MmsgScratch,
}

/// The arrays `recvmmsg` reads its instructions from and writes senders into; their pointers
/// are set right before each call.
#[cfg(target_os = "linux")]
struct MmsgScratch {
    addrs: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    msgs: Vec<libc::mmsghdr>,
}

impl Receiver {
    /// Buffers for [`RX_BATCH`] datagrams of up to [`MAX_DATAGRAM`] bytes.
    pub(super) fn new() -> Self {
        Receiver {
            bufs: (0..RX_BATCH).map(|_| vec![0u8; MAX_DATAGRAM]).collect(),
            got: Vec::with_capacity(RX_BATCH),
            #[cfg(target_os = "linux")]
            scratch: MmsgScratch {
                // SAFETY: `sockaddr_storage` is a plain C struct; all-zero bytes are valid.
                addrs: (0..RX_BATCH)
                    .map(|_| unsafe { std::mem::zeroed() })
                    .collect(),
                iovs: Vec::with_capacity(RX_BATCH),
                msgs: Vec::with_capacity(RX_BATCH),
            },
        }
    }

    /// Waits up to the socket's read timeout for a datagram, then takes the others already
    /// waiting. Returns how many datagrams the batch holds (see [`Receiver::for_each`]).
    pub(super) fn wait(&mut self, socket: &UdpSocket) -> usize {
        self.receive(socket)
    }

    /// Calls `f` with each datagram of the last call, in arrival order, as (bytes, sender);
    /// the bytes are mutable (the endpoint decrypts in place).
    pub(super) fn for_each(&mut self, mut f: impl FnMut(&mut [u8], SocketAddr)) {
        for &(i, n, from) in &self.got {
            if let Some(buf) = self.bufs.get_mut(i) {
                let n = n.min(buf.len());
                f(&mut buf[..n], from);
            }
        }
    }

    #[cfg(target_os = "linux")]
    fn receive(&mut self, socket: &UdpSocket) -> usize {
        use std::os::fd::AsRawFd;
        self.got.clear();
        let MmsgScratch { addrs, iovs, msgs } = &mut self.scratch;
        iovs.clear();
        iovs.extend(self.bufs.iter_mut().map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        }));
        msgs.clear();
        for (addr, iov) in addrs.iter_mut().zip(iovs.iter_mut()) {
            // SAFETY: `mmsghdr` is a plain C struct; all-zero bytes are a valid value of it.
            let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
            m.msg_hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
            m.msg_hdr.msg_namelen =
                std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            m.msg_hdr.msg_iov = iov;
            m.msg_hdr.msg_iovlen = 1;
            msgs.push(m);
        }
        // SAFETY: `msgs` holds `msgs.len()` initialised `mmsghdr`s whose name and iovec
        // pointers refer to `addrs`, `iovs` and the buffers of `self.bufs`, all alive and not
        // moved until this call returns; the kernel writes at most each iovec's length and
        // each name's length. A null timeout is allowed (the socket's read timeout applies).
        let r = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                msgs.as_mut_ptr(),
                u32::try_from(msgs.len()).unwrap_or(u32::MAX),
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        let Ok(r) = usize::try_from(r) else {
            return 0;
        };
        for (i, m) in msgs.iter().enumerate().take(r) {
            if let Some(from) = std_addr(&addrs[i], m.msg_hdr.msg_namelen) {
                self.got.push((i, m.msg_len as usize, from));
            }
        }
        self.got.len()
    }

    #[cfg(not(target_os = "linux"))]
    fn receive(&mut self, socket: &UdpSocket) -> usize {
        self.got.clear();
        if let Ok((n, from)) = socket.recv_from(&mut self.bufs[0]) {
            self.got.push((0, n, from));
        }
        self.got.len()
    }
}

/// The sender address the kernel wrote, if it is IPv4 or IPv6.
#[cfg(target_os = "linux")]
fn std_addr(ss: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    let len = len as usize;
    match i32::from(ss.ss_family) {
        libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family is AF_INET and the kernel wrote a whole `sockaddr_in`;
            // `sockaddr_storage` is large enough and aligned for it.
            let sin =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: the family is AF_INET6 and the kernel wrote a whole `sockaddr_in6`;
            // `sockaddr_storage` is large enough and aligned for it.
            let sin6 =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Datagrams sent before a call come back in one batch, in order, with their sender;
    /// an empty socket gives an empty batch after the read timeout.
    #[test]
    fn batches_what_is_waiting_and_times_out_empty() {
        let rx = UdpSocket::bind("127.0.0.1:0").expect("bind rx");
        rx.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        let tx = UdpSocket::bind("127.0.0.1:0").expect("bind tx");
        let to = rx.local_addr().expect("addr");
        let mut r = Receiver::new();
        let start = std::time::Instant::now();
        assert_eq!(r.wait(&rx), 0);
        assert!(start.elapsed() >= Duration::from_millis(15));
        for i in 0..5u8 {
            tx.send_to(&[i; 3], to).expect("send");
        }
        // Loopback delivers synchronously; allow the kernel a moment anyway.
        let mut got = Vec::new();
        for _ in 0..50 {
            r.wait(&rx);
            r.for_each(|b, from| got.push((b.to_vec(), from)));
            if got.len() >= 5 {
                break;
            }
        }
        let from = tx.local_addr().expect("tx addr");
        let expected: Vec<(Vec<u8>, SocketAddr)> = (0..5u8).map(|i| (vec![i; 3], from)).collect();
        assert_eq!(got, expected);
    }
}
