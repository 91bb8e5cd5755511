//! Bounded waits on PostgreSQL: no command waits forever on a network that went silent,
//! and no session that lost its client keeps its locks.
//!
//! Invariants, for one bound ([`bound_duration`], 45 s; the hidden test variable
//! `COMPETENCY_TEST_PG_WAIT_MS` shortens it):
//! - connecting (TCP, TLS and the startup) ends within the bound;
//! - the client's socket has TCP keepalives (a peer that vanished is noticed while we wait
//!   idle) and a TCP user timeout (data that is never acknowledged);
//! - the server ends a session idle in a transaction for longer than the bound
//!   (`idle_in_transaction_session_timeout`) and probes its client with keepalives, so the
//!   locks of a command whose client vanished are released;
//! - a call that has waited the bound for its answer asks whether the server still answers
//!   at all (a new connection's one-byte TLS negotiation): if it does, it is working on our
//!   statement and the wait goes on; if not, the connection's socket is shut down and the
//!   call ends with an error naming the (redacted) database. A silent network thus ends a
//!   command within about the bound plus the probe's own bound.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::RawFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use postgres::config::Host;

/// The bound on every wait for the server (see the module).
pub fn bound_duration() -> Duration {
    crate::support::hooks::var("PG_WAIT_MS")
        .and_then(|v| v.to_str()?.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map_or(Duration::from_secs(45), Duration::from_millis)
}

/// The client's side of the bounds on a connection's settings: connect timeout, keepalives,
/// TCP user timeout.
pub fn bound(config: &mut postgres::Config) {
    let b = bound_duration();
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(b);
    }
    let idle = (b / 4).max(Duration::from_secs(1));
    config
        .keepalives(true)
        .keepalives_idle(idle)
        .keepalives_interval((idle / 3).max(Duration::from_secs(1)))
        .keepalives_retries(3)
        .tcp_user_timeout(b);
}

/// The server's side, sent once connected: sessions idle in a transaction end after the
/// bound, and the server probes a silent client.
pub fn server_settings() -> String {
    let b = bound_duration();
    let idle = (b.as_secs() / 4).max(1);
    format!(
        "SET idle_in_transaction_session_timeout = {}; SET tcp_keepalives_idle = {idle}; \
         SET tcp_keepalives_interval = {}; SET tcp_keepalives_count = 3",
        b.as_millis().max(1),
        (idle / 3).max(1)
    )
}

/// Connects with `connect` within the bound: the startup on a TCP connection that answers
/// nothing is not covered by the connect timeout. Returns the client and its watch.
pub fn connect(
    config: &postgres::Config,
    connect: impl FnOnce() -> Result<postgres::Client, postgres::Error> + Send + 'static,
) -> Result<(postgres::Client, Arc<Watch>), Failure> {
    let before = sockets();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(connect());
    });
    let b = bound_duration();
    let client = match rx.recv_timeout(b) {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(Failure::Refused(e)),
        // The connecting thread is left behind: it ends with the command.
        Err(_) => return Err(Failure::Silent(b)),
    };
    let mut ports: Vec<u16> = config.get_ports().to_vec();
    if ports.is_empty() {
        ports.push(5432);
    }
    let fd = sockets()
        .difference(&before)
        .copied()
        .filter(|&fd| ours(fd, &ports))
        .max();
    let watch = Arc::new(Watch {
        state: Mutex::new(State {
            since: None,
            cut: false,
            closed: false,
        }),
        wake: Condvar::new(),
        fd,
        target: config
            .get_hosts()
            .first()
            .cloned()
            .map(|h| (h, ports[0], config.get_hostaddrs().first().copied())),
        bound: b,
    });
    let w = watch.clone();
    std::thread::spawn(move || w.guard());
    Ok((client, watch))
}

/// Why a connection could not be made.
pub enum Failure {
    /// The server (or the network) answered with an error.
    Refused(postgres::Error),
    /// Nothing answered within the bound.
    Silent(Duration),
}

/// One connection's watchdog (see the module).
pub struct Watch {
    state: Mutex<State>,
    wake: Condvar,
    /// The connection's socket, shut down when the server stopped answering.
    fd: Option<RawFd>,
    /// Where to ask whether the server answers: host, port, address.
    target: Option<(Host, u16, Option<std::net::IpAddr>)>,
    bound: Duration,
}

struct State {
    /// Since when a call waits for the server.
    since: Option<Instant>,
    /// The socket was shut down: the server stopped answering.
    cut: bool,
    /// The connection is gone: the watchdog ends.
    closed: bool,
}

impl Watch {
    /// A call to the server begins.
    pub fn arm(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.since = Some(Instant::now());
        self.wake.notify_all();
    }

    /// The call ended.
    pub fn disarm(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).since = None;
    }

    /// The connection is dropped: the watchdog ends.
    pub fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.wake.notify_all();
    }

    /// Whether the watchdog cut the connection (the server stopped answering), and after
    /// how long a wait.
    pub fn cut(&self) -> Option<Duration> {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.cut.then_some(self.bound)
    }

    fn guard(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if s.closed || s.cut {
                return;
            }
            let Some(since) = s.since else {
                s = self.wake.wait(s).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            let waited = since.elapsed();
            if waited < self.bound {
                s = self
                    .wake
                    .wait_timeout(s, self.bound - waited)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                continue;
            }
            drop(s);
            let alive = self.server_answers();
            s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.since != Some(since) {
                continue;
            }
            if alive {
                // The server is working on our statement: wait another bound.
                s.since = Some(Instant::now());
            } else if let Some(fd) = self.fd {
                s.cut = true;
                // SAFETY: shutdown on the connection's own socket, still open (the call
                // waiting on it holds the connection); it only ends the stream.
                unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
                return;
            } else {
                return;
            }
        }
    }

    /// Whether the server answers a new connection's TLS negotiation request within the
    /// probe's bound (a quarter of the bound, 1 to 10 s).
    fn server_answers(&self) -> bool {
        let Some((host, port, addr)) = self.target.clone() else {
            return true;
        };
        let t = (self.bound / 4).clamp(Duration::from_secs(1), Duration::from_secs(10));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(probe(&host, port, addr, t));
        });
        rx.recv_timeout(t * 2).unwrap_or(false)
    }
}

/// PostgreSQL's SSLRequest: any live server answers it with one byte.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 4, 210, 22, 47];

fn probe(host: &Host, port: u16, addr: Option<std::net::IpAddr>, t: Duration) -> bool {
    fn ask(mut s: impl Read + Write) -> bool {
        let mut b = [0u8; 1];
        s.write_all(&SSL_REQUEST).is_ok() && s.read_exact(&mut b).is_ok()
    }
    match host {
        Host::Tcp(name) => {
            let addrs: Vec<std::net::SocketAddr> = match addr {
                Some(a) => vec![(a, port).into()],
                None => (name.as_str(), port)
                    .to_socket_addrs()
                    .map(Iterator::collect)
                    .unwrap_or_default(),
            };
            addrs.iter().any(|a| {
                TcpStream::connect_timeout(a, t).is_ok_and(|s| {
                    s.set_read_timeout(Some(t)).is_ok()
                        && s.set_write_timeout(Some(t)).is_ok()
                        && ask(s)
                })
            })
        }
        Host::Unix(dir) => {
            UnixStream::connect(dir.join(format!(".s.PGSQL.{port}"))).is_ok_and(|s| {
                s.set_read_timeout(Some(t)).is_ok()
                    && s.set_write_timeout(Some(t)).is_ok()
                    && ask(s)
            })
        }
    }
}

/// The process's open sockets.
fn sockets() -> HashSet<RawFd> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return HashSet::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<RawFd>().ok())
        .filter(|&fd| {
            // SAFETY: fstat on a descriptor number into a zeroed struct; a closed one fails.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            unsafe {
                libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
            }
        })
        .collect()
}

/// Whether `fd` is a connected socket to one of `ports` (TCP) or a Unix socket: the
/// connection just made (the sockets opened meanwhile are only those).
fn ours(fd: RawFd, ports: &[u16]) -> bool {
    // SAFETY: getpeername into a zeroed sockaddr_storage of the size given.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    if unsafe { libc::getpeername(fd, (&raw mut ss).cast(), &mut len) } != 0 {
        return false;
    }
    let port = match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let a: &libc::sockaddr_in = unsafe { &*(&raw const ss).cast() };
            u16::from_be(a.sin_port)
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let a: &libc::sockaddr_in6 = unsafe { &*(&raw const ss).cast() };
            u16::from_be(a.sin6_port)
        }
        libc::AF_UNIX => return true,
        _ => return false,
    };
    ports.contains(&port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn the_probe_tells_a_server_that_answers_from_a_silent_one() {
        let answering = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = answering.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in answering.incoming() {
                let mut s = s.unwrap();
                let mut b = [0u8; 8];
                if s.read_exact(&mut b).is_ok() && b == SSL_REQUEST {
                    let _ = s.write_all(b"N");
                }
            }
        });
        let host = Host::Tcp("127.0.0.1".into());
        assert!(probe(&host, port, None, Duration::from_secs(30)));
        // Accepted by the kernel, never answered: a silent network or server.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        assert!(!probe(&host, port, None, Duration::from_millis(200)));
    }
}
