//! Connecting to the server: TLS through rustls (`sslmode=require` encrypts without checking
//! the certificate against a root, as libpq; `verify-full` checks it against the web's
//! roots), within the bounds of [`super::wait`], the session set up for the store.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};

use super::Pg;
use super::url::{Tls, parse, shown};

/// `sslmode=require`, as libpq: encrypted, the server's certificate not checked against a
/// root (the signatures of the handshake still are).
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn connector(tls: Tls) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?;
    let config = if tls == Tls::VerifyFull {
        builder
            .with_root_certificates(rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth()
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Connects to the database at `url`, within the bound of [`super::wait`]; the session gets the
/// server's side of the bounds.
pub fn connect(url: &str) -> Result<Pg> {
    let (config, tls) = parse(url)?;
    let place = shown(url);
    let tls = connector(tls)?;
    let settings = config.clone();
    let (client, watch) =
        super::wait::connect(&config, move || settings.connect(tls)).map_err(|f| {
            let why = match f {
                super::wait::Failure::Silent(after) => format!(
                    "no answer within {} s (the network or the server is not answering)",
                    after.as_secs().max(1)
                ),
                super::wait::Failure::Refused(e) => match e.as_db_error() {
                    Some(db) if db.code().code() == "3D000" => format!(
                        "{}: create the database first (createdb), then run `competency init`",
                        db.message()
                    ),
                    Some(db) => db.message().to_owned(),
                    None => format!("{e}"),
                },
            };
            anyhow!("cannot connect to {place}: {why}")
        })?;
    let pg = Pg::new(client, watch, place.clone());
    pg.batch_raw(&super::wait::server_settings())
        .with_context(|| format!("cannot set up the session on {place}"))?;
    Ok(pg)
}
