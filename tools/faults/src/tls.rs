//! [`TestCa`]: a certificate authority and a `localhost` server certificate
//! made with the `openssl` command for one test run.

use std::path::PathBuf;
use std::process::Command;

use pulse_test_support::{have_program, require, TempDir};

/// A fresh CA and a server certificate it signed for `localhost` and
/// `127.0.0.1`, in a directory removed on drop.
#[derive(Debug)]
pub struct TestCa {
    dir: TempDir,
}

impl TestCa {
    /// Generates the CA and the server certificate; `None` (after a loud
    /// SKIP) without `openssl`, a failure under `CI=true`.
    pub fn generate(name: &str) -> Option<TestCa> {
        require(have_program("openssl"), "the openssl command").ok()?;
        let ca = TestCa {
            dir: TempDir::new("faults-ca"),
        };
        let path = |file: &str| ca.dir.join(file).display().to_string();
        std::fs::write(
            ca.dir.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n\
             basicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n",
        )
        .expect("writing server.ext");
        let subject = format!("/CN={name} test CA");
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &subject,
            "-keyout",
            &path("ca.key"),
            "-out",
            &path("ca.pem"),
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &path("server.key"),
            "-out",
            &path("server.csr"),
        ]);
        openssl(&[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            &path("server.csr"),
            "-CA",
            &path("ca.pem"),
            "-CAkey",
            &path("ca.key"),
            "-CAcreateserial",
            "-extfile",
            &path("server.ext"),
            "-out",
            &path("server.pem"),
        ]);
        Some(ca)
    }

    /// The CA certificate (PEM), for `ConnectionSettings::ca_file`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The server certificate (PEM).
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join("server.pem")
    }

    /// The server's private key (PEM).
    pub fn server_key(&self) -> PathBuf {
        self.dir.join("server.key")
    }
}

fn openssl(args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("running openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
