//! HTTPS on eddy: hyper's server and client over futures-rustls streams,
//! through the same `eddy::hyper::Io` as plain TCP (API.md: "`Io<T>` ...
//! over any `futures_io::AsyncRead + AsyncWrite + Unpin` (eddy's streams,
//! a TLS stream from futures-rustls)"). The certificate is made here, self
//! signed for `localhost` (rcgen); ALPN picks HTTP/1.1 or HTTP/2 per
//! connection.
//!
//! Run: `cargo test -p eddy-tls-tests`.

#[path = "../common/mod.rs"]
mod common;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use common::{LIMIT, TempPath, watchdog};
use eddy::hyper::{Executor, Io, Timer};
use eddy::net::{TcpListener, TcpStream};
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use futures_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

/// A self-signed certificate for `localhost`: (certificate, key, PEM).
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    (made.cert.der().clone(), key, made.cert.pem())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> ServerConfig {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

fn client_config(trusted: Option<CertificateDer<'static>>, alpn: &[u8]) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    if let Some(cert) = trusted {
        roots.add(cert).unwrap();
    }
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    config
}

/// Answers with the protocol version it was asked over, and the body.
async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let version = req.version();
    let body = req.into_body().collect().await?.to_bytes();
    let text = format!("hello over TLS, {version:?}, {} bytes sent", body.len());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

/// An HTTPS server: TLS on each accepted connection, then HTTP/2 or
/// HTTP/1.1 as ALPN chose, both through `Io`.
async fn serve_https(listener: TcpListener, acceptor: TlsAcceptor) {
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let acceptor = acceptor.clone();
        eddy::spawn(async move {
            // A client that fails the handshake (an untrusted certificate)
            // ends its own connection only.
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            let service = hyper::service::service_fn(hello);
            let _ = if h2 {
                hyper::server::conn::http2::Builder::new(Executor)
                    .timer(Timer)
                    .serve_connection(Io::new(tls), service)
                    .await
            } else {
                hyper::server::conn::http1::Builder::new()
                    .timer(Timer)
                    .serve_connection(Io::new(tls), service)
                    .await
            };
        });
    }
}

/// Starts the server; returns its address, the certificate and its PEM.
fn start() -> (SocketAddr, CertificateDer<'static>, String) {
    let (cert, key, pem) = certificate();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(server_config(cert.clone(), key)));
    eddy::spawn(serve_https(listener, acceptor));
    (addr, cert, pem)
}

async fn tls_connect(
    addr: SocketAddr,
    config: ClientConfig,
) -> io::Result<futures_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}

#[test]
fn https_with_hyper_on_both_sides_http1_and_http2() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (addr, cert, _) = start();

            // HTTP/1.1 over TLS: two requests on one connection.
            let tls = tls_connect(addr, client_config(Some(cert.clone()), b"http/1.1"))
                .await
                .unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(tls))
                .await
                .unwrap();
            eddy::spawn(conn);
            for body in ["", "some bytes"] {
                sender.ready().await.unwrap();
                let req = Request::post("/")
                    .header(hyper::header::HOST, "localhost")
                    .body(Full::new(Bytes::from(body)))
                    .unwrap();
                let res = sender.send_request(req).await.unwrap();
                let got = res.into_body().collect().await.unwrap().to_bytes();
                let want = format!("hello over TLS, HTTP/1.1, {} bytes sent", body.len());
                assert_eq!(got, want.as_bytes());
            }

            // HTTP/2 over TLS (ALPN "h2"), its streams spawned by `Executor`.
            let tls = tls_connect(addr, client_config(Some(cert), b"h2"))
                .await
                .unwrap();
            assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
            let (mut sender, conn) = hyper::client::conn::http2::handshake(Executor, Io::new(tls))
                .await
                .unwrap();
            eddy::spawn(conn);
            let req = Request::post(format!("https://localhost:{}/", addr.port()))
                .body(Full::new(Bytes::from_static(b"12345")))
                .unwrap();
            let res = sender.send_request(req).await.unwrap();
            assert_eq!(res.version(), hyper::Version::HTTP_2);
            let got = res.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(got, "hello over TLS, HTTP/2.0, 5 bytes sent");
        })
    });
}

#[test]
fn an_untrusted_certificate_is_a_clear_error() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (addr, _, _) = start();
            let err = tls_connect(addr, client_config(None, b"http/1.1"))
                .await
                .expect_err("a self-signed certificate nobody trusts was accepted");
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
            assert!(err.to_string().contains("certificate"), "{err}");
        })
    });
}

#[test]
fn curl_over_https() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (addr, _, pem) = start();
            let ca = TempPath::new("ca.pem");
            std::fs::write(&ca.0, pem).unwrap();
            let resolve = format!("localhost:{}:127.0.0.1", addr.port());
            let url = format!("https://localhost:{}/", addr.port());
            let ca_path = ca.0.display().to_string();
            for (flag, version) in [("--http1.1", "HTTP/1.1"), ("--http2", "HTTP/2.0")] {
                let args = [
                    "-sS",
                    "--cacert",
                    &ca_path,
                    "--resolve",
                    &resolve,
                    flag,
                    "-d",
                    "abc",
                    &url,
                ]
                .map(String::from);
                let out = eddy::task::spawn_blocking(move || {
                    std::process::Command::new("curl").args(args).output()
                })
                .await
                .unwrap()
                .expect("could not run curl");
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(out.status.success(), "curl {flag}: {stderr}");
                let want = format!("hello over TLS, {version}, 3 bytes sent");
                assert_eq!(String::from_utf8_lossy(&out.stdout), want);
            }
        })
    });
}
