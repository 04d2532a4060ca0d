//! HTTP on eddy, with [hyper](https://hyper.rs) 1.x (feature `hyper`).
//!
//! hyper is runtime-agnostic: it asks for an I/O type, an executor and a
//! timer, and this module gives it eddy's:
//!
//! - [`Io`] wraps any `futures_io` stream (a [`TcpStream`](crate::net::TcpStream),
//!   a TLS stream) as hyper's `Read` and `Write`;
//! - [`Executor`] spawns hyper's background futures (HTTP/2 streams) with
//!   [`eddy::spawn`](crate::spawn): they need not be `Send`;
//! - [`Timer`] gives hyper sleeps on eddy's timer wheel;
//! - [`serve`] is the server a program calls: HTTP/1.1 on a
//!   [`TcpListener`](crate::net::TcpListener), one task per connection,
//!   keep-alive, a header read timeout, back-off on `EMFILE`, and a
//!   graceful shutdown.
//!
//! A service is hyper's [`Service`](hyper::service::Service) (for instance
//! `hyper::service::service_fn`); a tower service (an axum `Router`) becomes
//! one through hyper-util's `TowerToHyperService`. Since everything runs on
//! one thread, services and their state need not be `Send`.
//!
//! What it costs: hyper's own work, plus eddy's task per connection. `serve`
//! reads straight into hyper's buffer (no zeroing, no copy) and writes a
//! response's head and body with one `writev`.

mod io;
mod rt;
mod serve;

pub use self::io::Io;
pub use self::rt::{Executor, Timer};
pub use self::serve::{Serve, serve};
