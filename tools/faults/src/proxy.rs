//! [`BlackholeProxy`]: a TCP proxy in front of the broker that can stop
//! forwarding without closing anything, as a network that silently drops
//! packets does.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Listens on `127.0.0.1:<port>` and forwards every connection to an
/// upstream address, both ways. [`blackhole`](Self::blackhole) stops
/// moving bytes in both directions while every socket stays open (the
/// bytes wait in the kernel's buffers, as they would in retransmissions);
/// new connections are accepted but get nothing through either.
/// [`restore`](Self::restore) moves them again. Dropping the proxy closes
/// every socket.
#[derive(Debug)]
pub struct BlackholeProxy {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    blackholed: AtomicBool,
    stopping: AtomicBool,
    accepted: AtomicU64,
    sockets: Mutex<Vec<TcpStream>>,
}

impl BlackholeProxy {
    /// Starts forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> BlackholeProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let port = listener.local_addr().expect("the proxy's address").port();
        let shared = Arc::new(Shared::default());
        let accepting = Arc::clone(&shared);
        let acceptor = std::thread::spawn(move || accept(&listener, upstream, &accepting));
        BlackholeProxy {
            port,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The port to connect to instead of the upstream's.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops forwarding, keeping every socket open.
    pub fn blackhole(&self) {
        self.shared.blackholed.store(true, Ordering::SeqCst);
    }

    /// Forwards again.
    pub fn restore(&self) {
        self.shared.blackholed.store(false, Ordering::SeqCst);
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for BlackholeProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        for socket in self
            .shared
            .sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = socket.shutdown(Shutdown::Both);
        }
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept(listener: &TcpListener, upstream: SocketAddr, shared: &Arc<Shared>) {
    while !shared.stopping.load(Ordering::SeqCst) {
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            Err(_) => break,
        };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        let Ok(server) = TcpStream::connect(upstream) else {
            continue;
        };
        let _ = client.set_nonblocking(false);
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
            continue;
        };
        if let (Ok(a), Ok(b)) = (client.try_clone(), server.try_clone()) {
            let mut sockets = shared.sockets.lock().unwrap_or_else(|e| e.into_inner());
            sockets.push(a);
            sockets.push(b);
        }
        for (from, to) in [(client, server2), (server, client2)] {
            let shared = Arc::clone(shared);
            std::thread::spawn(move || forward(from, to, &shared));
        }
    }
}

/// Moves bytes from `from` to `to` until either side ends; while
/// blackholed, neither reads nor writes.
fn forward(mut from: TcpStream, mut to: TcpStream, shared: &Shared) {
    let _ = from.set_read_timeout(Some(Duration::from_millis(20)));
    let mut buffer = vec![0u8; 64 * 1024];
    let held = |shared: &Shared| {
        shared.blackholed.load(Ordering::SeqCst) && !shared.stopping.load(Ordering::SeqCst)
    };
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        if held(shared) {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let n = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => break,
        };
        // Bytes read just as the link went down wait for it to come back.
        while held(shared) {
            std::thread::sleep(Duration::from_millis(10));
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
