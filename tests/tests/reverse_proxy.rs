//! The README's Caddy and nginx examples, run as written (only the
//! addresses and the certificate changed) in front of a real huddle-signal
//! that trusts them: two bots hold a call through each (the WebSocket
//! upgrade passes), and limits count the client the proxy saw, whatever
//! `X-Forwarded-For` the client forged.

use huddle_bot::{self as bot, BotOptions};
use huddle_tests::certs::TestCa;
use huddle_tests::*;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Proxy {
    child: Child,
    url: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port`, or the proxy dies saying why.
fn wait_listening(child: &mut Child, port: u16, log: &Path) {
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            let said = std::fs::read_to_string(log).unwrap_or_default();
            panic!("the proxy exited ({status}):\n{said}");
        }
        assert!(
            Instant::now() < deadline,
            "the proxy never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start_nginx(upstream: SocketAddr, dir: &Path, cert: &Path, key: &Path) -> Proxy {
    let port = free_port();
    let site = readme_block("nginx")
        .replace("127.0.0.1:8080", &upstream.to_string())
        .replace("listen 443 ssl;", &format!("listen 127.0.0.1:{port} ssl;"))
        .replace(
            "/etc/letsencrypt/live/huddle.example.org/fullchain.pem",
            &cert.display().to_string(),
        )
        .replace(
            "/etc/letsencrypt/live/huddle.example.org/privkey.pem",
            &key.display().to_string(),
        );
    let d = dir.display();
    let conf = format!(
        "daemon off;\nuser root;\npid {d}/nginx.pid;\nerror_log {d}/nginx.log info;\nevents {{}}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n{site}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let mut child = Command::new("nginx")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx runs (scripts/setup.sh installs it)");
    wait_listening(&mut child, port, &dir.join("nginx.log"));
    Proxy {
        child,
        url: format!("https://127.0.0.1:{port}"),
    }
}

fn start_caddy(upstream: SocketAddr, dir: &Path, cert: &Path, key: &Path) -> Proxy {
    let port = free_port();
    let site = readme_block("caddy")
        .replace("127.0.0.1:8080", &upstream.to_string())
        .replace(
            "huddle.example.org {",
            &format!(
                "https://127.0.0.1:{port} {{\n    tls {} {}",
                cert.display(),
                key.display()
            ),
        );
    let global = format!(
        "{{\n    admin off\n    auto_https disable_redirects\n    http_port {}\n    storage file_system {}\n}}\n",
        free_port(),
        dir.join("caddy").display()
    );
    let path = dir.join("Caddyfile");
    std::fs::write(&path, global + &site).unwrap();
    let log = dir.join("caddy.log");
    let mut child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&path)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("caddy runs (scripts/setup.sh installs it)");
    wait_listening(&mut child, port, &log);
    Proxy {
        child,
        url: format!("https://127.0.0.1:{port}"),
    }
}

/// A wrong-password login through the proxy from `from`, claiming `forged`;
/// the HTTP status.
async fn login_from(proxy: &str, ca_pem: &str, from: IpAddr, forged: &str) -> u16 {
    let http = reqwest::Client::builder()
        .local_address(from)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    http.post(format!("{proxy}/api/login"))
        .header("X-Forwarded-For", forged)
        .json(&serde_json::json!({"email": STARTUP, "password": "wrong password"}))
        .send()
        .await
        .expect("the proxy answers")
        .status()
        .as_u16()
}

async fn check_proxy(proxy: &Proxy, ca: &TestCa, trust: &huddle_engine::Trust) {
    // One client (127.0.0.2) forging a new address each time is still one
    // client: its third attempt in the minute is refused.
    let client = IpAddr::from([127, 0, 0, 2]);
    let mut statuses = Vec::new();
    for i in 1..=3 {
        statuses.push(login_from(&proxy.url, &ca.pem, client, &format!("198.19.0.{i}")).await);
    }
    assert_eq!(statuses, [401, 401, 429], "through {}", proxy.url);
    // Another client behind the same proxy has its own allowance.
    let other = IpAddr::from([127, 0, 0, 3]);
    assert_eq!(
        login_from(&proxy.url, &ca.pem, other, "198.19.0.1").await,
        401
    );

    // Two bots call through the proxy: login, the WebSocket upgrade, signaling.
    let bot_options = |email: &str, colour| {
        let mut options = BotOptions::new(&proxy.url, email, PASSWORD, ALL_USERS);
        options.trust = trust.clone();
        options.duration = Duration::from_secs(4);
        (options.width, options.height, options.fps) = (320, 180, 15.0);
        options.colour = colour;
        options
    };
    let ann = tokio::spawn(bot::run(bot_options(STARTUP, (200, 40, 40))));
    let bob = tokio::spawn(bot::run(bot_options(CORPORATE, (40, 40, 200))));
    let (ann, bob) = (ann.await.unwrap().unwrap(), bob.await.unwrap().unwrap());
    for (report, other) in [(&ann, "Test Corporate"), (&bob, "Test Startup")] {
        let frames = report.peer(other).map_or(0, |p| p.video.frames_decoded);
        assert!(
            frames >= 15,
            "{} decoded {frames} frames through {}",
            report.name,
            proxy.url
        );
    }
}

async fn trusting_server() -> TestServer {
    TestServer::start_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.limits.logins_per_address_per_minute = 2;
        c.limits.logins_per_account_per_minute = 1000;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_nginx_example_proxies_calls_and_forwards_the_client_address() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Huddle proxy test CA");
    let (cert, key) = ca.issue(&["127.0.0.1"], "proxy").write(dir.path());
    let trust = huddle_engine::Trust::with_ca_file(&ca.write(dir.path())).unwrap();
    let server = trusting_server().await;
    let proxy = start_nginx(server.addr(), dir.path(), &cert, &key);
    check_proxy(&proxy, &ca, &trust).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_caddy_example_proxies_calls_and_forwards_the_client_address() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Huddle proxy test CA");
    let (cert, key) = ca.issue(&["127.0.0.1"], "proxy").write(dir.path());
    let trust = huddle_engine::Trust::with_ca_file(&ca.write(dir.path())).unwrap();
    let server = trusting_server().await;
    let proxy = start_caddy(server.addr(), dir.path(), &cert, &key);
    check_proxy(&proxy, &ca, &trust).await;
}

#[tokio::test]
async fn without_a_trusted_proxy_the_forwarded_headers_are_ignored() {
    let server = TestServer::start_with(|c| c.limits.logins_per_address_per_minute = 2).await;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 1..=3 {
        let response = http
            .post(format!("{}/api/login", server.url()))
            .header("X-Forwarded-For", format!("198.19.0.{i}"))
            .header("Forwarded", format!("for=198.19.1.{i}"))
            .json(&serde_json::json!({"email": STARTUP, "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 429]);
}
