//! A real SMTP server for tests: aiosmtpd over TCP, storing every message
//! in a maildir. Used by the platform's alert tests and the witness's.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::SecretString;

/// A real SMTP server: aiosmtpd storing every message in a maildir.
pub struct SmtpSink {
    pub port: u16,
    maildir: PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// A sink that is not listening yet (an SMTP outage).
    pub fn down() -> Self {
        let dir = tempfile::tempdir().unwrap();
        SmtpSink {
            port: Self::free_port(),
            maildir: dir.path().join("mail"),
            child: None,
            _dir: dir,
        }
    }

    pub fn up() -> Self {
        let mut sink = Self::down();
        sink.start();
        sink
    }

    pub fn url(&self) -> SecretString {
        SecretString::from(format!("smtp://127.0.0.1:{}", self.port))
    }

    pub fn start(&mut self) {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd (pip install aiosmtpd)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every message received so far: (recipient, Message-ID, whole text).
    pub fn messages(&self) -> Vec<(String, String, String)> {
        let mut messages = Vec::new();
        for folder in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(folder)) else {
                continue;
            };
            for entry in entries {
                // Bodies are quoted-printable: join its soft line breaks, so
                // that ids split across lines are found whole.
                let text = std::fs::read_to_string(entry.unwrap().path())
                    .unwrap()
                    .replace("=\n", "")
                    .replace("=3D", "=");
                let header = |name: &str| {
                    text.lines()
                        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
                        .unwrap_or_default()
                        .trim()
                        .to_owned()
                };
                messages.push((header("To"), header("Message-ID"), text.clone()));
            }
        }
        messages.sort();
        messages
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn smtp_tests_run() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|status| status.success())
}
