//! A TCP proxy between the binary and the test PostgreSQL server that injects one network
//! fault: it forwards the PostgreSQL protocol message by message (client to server) and,
//! once a client message contains a needle (say the SQL of the audit insert every write
//! command makes), either drops the connection right after forwarding that transaction's
//! COMMIT, or goes silent: nothing more is forwarded either way, on any connection, and
//! new connections are accepted but never answered, as a network that stopped carrying
//! packets. With [`Fault::None`] it only forwards, counting the statements clients run
//! ([`Proxy::statements`]). std::net and threads only; every socket it holds ends when it
//! drops.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the proxy does once it has seen the needle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// Forwards the transaction's COMMIT (a simple-query or Parse message containing
    /// COMMIT), then closes both sides of that connection.
    DropAfterCommit,
    /// Forwards nothing more, in either direction, on any connection.
    Silent,
    /// No fault: forwards everything (to count statements).
    None,
}

struct Shared {
    needle: Vec<u8>,
    fault: Fault,
    /// The fault happened (the connection dropped, or the proxy went silent).
    tripped: AtomicBool,
    /// Every socket, shut down when the proxy drops.
    sockets: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
    /// The statements clients ran: `Bind` messages of the extended protocol and `Query`
    /// messages of the simple one (a COPY's data is not a statement).
    statements: AtomicU64,
}

/// A running proxy; stops (and cuts every connection) when dropped.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to the server of `url` (a
    /// `postgres://user@host:port/db` URL).
    pub fn start(url: &str, needle: &str, fault: Fault) -> Proxy {
        let upstream = server_of(url);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            needle: needle.as_bytes().to_vec(),
            fault,
            tripped: AtomicBool::new(false),
            sockets: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            statements: AtomicU64::new(0),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                s.keep(&client);
                if s.silent() {
                    // Accepted, never answered.
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                s.keep(&server);
                let (s1, s2) = (s.clone(), s.clone());
                let (c1, sv1) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                // Set before a COMMIT is forwarded: its answer never reaches the client.
                let cut = Arc::new(AtomicBool::new(false));
                let cut2 = cut.clone();
                std::thread::spawn(move || s1.client_to_server(c1, sv1, &cut));
                std::thread::spawn(move || s2.server_to_client(server, client, &cut2));
            }
        });
        Proxy { addr, shared }
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let (auth, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let user = auth.rsplit_once('@').map(|(u, _)| format!("{u}@"));
        format!("{scheme}://{}{}{tail}", user.unwrap_or_default(), self.addr)
    }

    /// The statements forwarded so far (see [`Fault::None`]).
    pub fn statements(&self) -> u64 {
        self.shared.statements.load(Ordering::SeqCst)
    }

    /// Whether the fault happened.
    pub fn tripped(&self) -> bool {
        self.shared.tripped.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for s in self.shared.sockets.lock().unwrap().iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Wakes the accept loop so it sees `stop`.
        let _ = TcpStream::connect(self.addr);
    }
}

impl Shared {
    fn keep(&self, s: &TcpStream) {
        if let Ok(c) = s.try_clone() {
            self.sockets.lock().unwrap().push(c);
        }
    }

    fn silent(&self) -> bool {
        self.fault == Fault::Silent && self.tripped.load(Ordering::SeqCst)
    }

    /// Forwards the client's messages: the untyped startup ones (an SSL or GSS request
    /// first, maybe), then typed ones; watches for the needle and the COMMIT.
    fn client_to_server(&self, mut client: TcpStream, mut server: TcpStream, cut: &AtomicBool) {
        let mut startup = true;
        let mut armed = false;
        loop {
            let Some(msg) = read_message(&mut client, startup) else {
                let _ = server.shutdown(Shutdown::Write);
                return;
            };
            if startup {
                let code = msg
                    .get(4..8)
                    .map(|c| u32::from_be_bytes(c.try_into().unwrap()));
                // SSLRequest and GSSENCRequest are followed by another untyped message.
                startup = matches!(code, Some(80877103 | 80877104));
            }
            if self.silent() {
                continue;
            }
            if !startup && matches!(msg[0], b'B' | b'Q') {
                self.statements.fetch_add(1, Ordering::SeqCst);
            }
            let body = &msg[..];
            if contains(body, &self.needle) {
                armed = true;
                if self.fault == Fault::Silent {
                    self.tripped.store(true, Ordering::SeqCst);
                    continue;
                }
            }
            let commit =
                !startup && matches!(msg[0], b'Q' | b'P') && contains(&upper(body), b"COMMIT");
            let drop_now = armed && commit && self.fault == Fault::DropAfterCommit;
            if drop_now {
                cut.store(true, Ordering::SeqCst);
            }
            if server.write_all(&msg).is_err() {
                return;
            }
            if drop_now {
                let _ = server.flush();
                self.tripped.store(true, Ordering::SeqCst);
                let _ = server.shutdown(Shutdown::Both);
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
        }
    }

    /// Forwards the server's bytes as they come, until silent or closed.
    fn server_to_client(&self, mut server: TcpStream, mut client: TcpStream, cut: &AtomicBool) {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match server.read(&mut buf) {
                Ok(0) | Err(_) => {
                    if !self.silent() {
                        let _ = client.shutdown(Shutdown::Write);
                    }
                    return;
                }
                Ok(n) => n,
            };
            if self.silent() || cut.load(Ordering::SeqCst) {
                continue;
            }
            if client.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    }
}

/// One protocol message: untyped (length first) during the startup, else a type byte then
/// the length. Returned whole, as read.
fn read_message(s: &mut TcpStream, untyped: bool) -> Option<Vec<u8>> {
    let head = if untyped { 4 } else { 5 };
    let mut msg = vec![0u8; head];
    s.read_exact(&mut msg).ok()?;
    let len = u32::from_be_bytes(msg[head - 4..head].try_into().unwrap()) as usize;
    if len < 4 {
        return None;
    }
    msg.resize(head + len - 4, 0);
    s.read_exact(&mut msg[head..]).ok()?;
    Some(msg)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn upper(b: &[u8]) -> Vec<u8> {
    b.to_ascii_uppercase()
}

/// The server's address in a `postgres://user@host:port/db` URL.
fn server_of(url: &str) -> SocketAddr {
    let rest = url.split_once("://").expect("a URL").1;
    let auth = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    host.to_socket_addrs()
        .expect("resolve the test server")
        .next()
        .expect("an address")
}
