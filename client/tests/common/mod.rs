//! A real demo server on a free port, for the binaries' tests.

pub struct Server {
    pub server: Option<signal_server::RunningServer>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn url(&self) -> String {
        self.server.as_ref().expect("running").url()
    }
}

pub async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = signal_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: dir.path().join("h.db"),
        demo: true,
        ..signal_server::Config::default()
    };
    Server {
        server: Some(signal_server::start(config).await.unwrap()),
        _dir: dir,
    }
}
