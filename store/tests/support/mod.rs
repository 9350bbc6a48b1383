//! What the store tests share: temporary PostgreSQL and Redis servers started from the Debian
//! binaries (skipped with a message where they cannot start), and the token store contract.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use b24_runtime::store::{Claim, Replaced, TokenStore, CLAIM_TTL};
use b24_runtime::{Secret, Tokens};

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "b24-store-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(port: u16, child: &mut Child, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Polls `pg_isready` until the server accepts connections (exit 0); without `pg_isready`,
/// trusts the open port.
fn wait_until_accepting(bin: &Path, port: u16, child: &mut Child, within: Duration) -> bool {
    let probe = bin.join("pg_isready");
    if !probe.exists() {
        return true;
    }
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        let ready = Command::new(&probe)
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "b24",
            ])
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A PostgreSQL server in a temporary data directory, stopped on drop.
pub struct Postgres {
    child: Option<Child>,
    pub port: u16,
    bin: PathBuf,
    /// Run as this user (PostgreSQL refuses root).
    as_user: Option<&'static str>,
    dir: TempDir,
}

impl Postgres {
    /// The connection string for [`b24_store::PgStore::connect`].
    pub fn config(&self) -> String {
        format!("host=127.0.0.1 port={} user=b24 dbname=postgres", self.port)
    }

    /// Starts one, or prints why it cannot and gives `None` (the caller skips).
    pub fn start() -> Option<Postgres> {
        match Self::try_start() {
            Ok(pg) => Some(pg),
            Err(why) => {
                eprintln!("SKIPPED (PostgreSQL): {why}; install the `postgresql` package (see .ci/run) or set B24_PG_BIN");
                None
            }
        }
    }

    fn try_start() -> Result<Postgres, String> {
        let bin = pg_bin()
            .ok_or("no initdb/postgres found (B24_PG_BIN, PATH, /usr/lib/postgresql/*/bin)")?;
        let dir = TempDir::new("pg");
        let data = dir.0.join("data");
        // PostgreSQL refuses to run as root: run it as the `postgres` user then.
        let as_user = is_root().then_some("postgres");
        if let Some(user) = as_user {
            let uid = Command::new("id")
                .args(["-u", user])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .and_then(|s| s.trim().parse::<u32>().ok())
                .ok_or("running as root and there is no `postgres` user")?;
            std::os::unix::fs::chown(&dir.0, Some(uid), None).map_err(|e| format!("chown: {e}"))?;
        }
        let out = pg_command(as_user, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "b24",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .output()
            .map_err(|e| format!("initdb did not run: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let mut pg = Postgres {
            child: None,
            port: free_port(),
            bin,
            as_user,
            dir,
        };
        pg.start_again()?;
        Ok(pg)
    }

    /// Starts the server (again) on the same port and data directory.
    pub fn start_again(&mut self) -> Result<(), String> {
        let mut child = pg_command(self.as_user, &self.bin.join("postgres"))
            .arg("-D")
            .arg(self.dir.0.join("data"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-k"])
            .arg(&self.dir.0)
            .args(["-F", "-c", "max_connections=50"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("postgres did not start: {e}"))?;
        let listening = wait_for_port(self.port, &mut child, Duration::from_secs(30));
        self.child = Some(child);
        if !listening {
            self.stop_with("immediate");
            return Err("postgres did not listen within 30 s".into());
        }
        // A listening server may still answer "the database system is starting up".
        let child = self.child.as_mut().expect("just started");
        if !wait_until_accepting(&self.bin, self.port, child, Duration::from_secs(30)) {
            self.stop_with("immediate");
            return Err("postgres did not accept connections within 30 s".into());
        }
        Ok(())
    }

    /// Stops the server (a fast shutdown: every connection is closed), keeping its data.
    pub fn stop(&mut self) {
        self.stop_with("fast");
    }

    /// Stops the server and starts it again on the same port and data directory.
    pub fn restart(&mut self) {
        self.stop();
        self.start_again().expect("postgres starts again");
    }

    fn stop_with(&mut self, mode: &str) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // `pg_ctl` stops the server itself (the child may be `runuser`, which would outlive
        // a kill and leave the server running).
        let _ = pg_command(self.as_user, &self.bin.join("pg_ctl"))
            .arg("stop")
            .arg("-D")
            .arg(self.dir.0.join("data"))
            .args(["-m", mode, "-w", "-t", "30"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// `program` as `user` (through `runuser`) when given, with no stdin.
fn pg_command(user: Option<&str>, program: &Path) -> Command {
    let mut c = match user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    c.stdin(Stdio::null());
    c
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // The data directory is thrown away: no need for a clean shutdown.
        self.stop_with("immediate");
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Where `initdb` and `postgres` are.
fn pg_bin() -> Option<PathBuf> {
    let ok = |d: &Path| d.join("initdb").exists() && d.join("postgres").exists();
    if let Some(d) = std::env::var_os("B24_PG_BIN").map(PathBuf::from) {
        return ok(&d).then_some(d);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    for d in on_path {
        let exe = d.join("postgres");
        if exe.exists() {
            let real = std::fs::canonicalize(&exe).ok()?;
            let dir = real.parent()?.to_path_buf();
            if ok(&dir) {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| ok(d))
        .collect();
    versions.sort();
    versions.pop()
}

/// A Redis server on a free port with a temporary directory and no persistence, stopped on drop.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    dir: TempDir,
}

impl Redis {
    /// The URL for the redis crate.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts one, or prints why it cannot and gives `None` (the caller skips).
    pub fn start() -> Option<Redis> {
        let mut redis = Redis {
            child: None,
            port: free_port(),
            dir: TempDir::new("redis"),
        };
        match redis.start_again() {
            Ok(()) => Some(redis),
            Err(why) => {
                eprintln!("SKIPPED (Redis): {why}; `apt-get install -y redis-server` (see .ci/run) or set B24_REDIS_SERVER");
                None
            }
        }
    }

    /// Starts the server (again) on the same port (empty: nothing is persisted).
    pub fn start_again(&mut self) -> Result<(), String> {
        let mut child = Command::new(
            std::env::var_os("B24_REDIS_SERVER").unwrap_or_else(|| "redis-server".into()),
        )
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &self.port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
        ])
        .arg(&self.dir.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("redis-server did not start ({e})"))?;
        let listening = wait_for_port(self.port, &mut child, Duration::from_secs(20));
        self.child = Some(child);
        if !listening {
            self.stop();
            return Err("redis-server did not listen within 20 s".into());
        }
        Ok(())
    }

    /// Stops the server (every connection is closed).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server and starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.start_again().expect("redis starts again");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn pair(member: &str, access: &str, refresh: &str) -> Tokens {
    let mut t = Tokens::new(access, Some(Secret::new(refresh)));
    t.member_id = Some(member.to_owned());
    t
}

fn refresh_of(t: &Option<Tokens>) -> Option<String> {
    t.as_ref()
        .and_then(|t| t.refresh_token.as_ref())
        .map(|s| s.expose().to_owned())
}

/// The contract every [`TokenStore`] keeps. `other` is a second handle on the same data (a
/// second connection, another "process"), or the same store where there is no such thing.
pub async fn contract(store: &dyn TokenStore, other: &dyn TokenStore) {
    // Unique portal ids: the suite may run twice against one database.
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    let m = format!("member-{}-{run}", std::process::id());
    let m2 = format!("{m}-b");

    assert!(store.load(&m).await.expect("load").is_none(), "empty");
    let mut first = pair(&m, "a0", "r0");
    first.application_token = Some(Secret::new("app0"));
    first.client_endpoint = Some("https://p.example/rest/".into());
    first.expires = Some(1_800_000_000);
    store.save(&first).await.expect("save");
    store
        .save(&pair(&m2, "b0", "s0"))
        .await
        .expect("save another portal");
    let loaded = other.load(&m).await.expect("load").expect("saved");
    assert_eq!(loaded.access_token.expose(), "a0");
    assert_eq!(loaded.application_token, first.application_token);
    assert_eq!(loaded.client_endpoint, first.client_endpoint);
    assert_eq!(loaded.expires, Some(1_800_000_000));

    // Compare-and-set: the first replace on r0 wins, the second sees the winner's pair.
    let won = other
        .replace(&Secret::new("r0"), &pair(&m, "a1", "r1"))
        .await
        .expect("cas");
    assert!(matches!(won, Replaced::Stored), "{won:?}");
    match store
        .replace(&Secret::new("r0"), &pair(&m, "a2", "r2"))
        .await
        .expect("cas")
    {
        Replaced::Changed(Some(now)) => assert_eq!(now.access_token.expose(), "a1"),
        other => panic!("a stale replace must not write: {other:?}"),
    }
    assert_eq!(
        refresh_of(&store.load(&m).await.expect("load")).as_deref(),
        Some("r1")
    );
    // Nothing stored: Changed(None), and nothing written.
    let ghost = format!("{m}-ghost");
    assert!(matches!(
        store
            .replace(&Secret::new("x"), &pair(&ghost, "g", "g1"))
            .await
            .expect("cas"),
        Replaced::Changed(None)
    ));
    assert!(store.load(&ghost).await.expect("load").is_none());
    // The other portal is untouched.
    assert_eq!(
        refresh_of(&store.load(&m2).await.expect("load")).as_deref(),
        Some("s0")
    );

    // Claims: one holder at a time, across handles; released; expired; per refresh token.
    let r1 = Secret::new("r1");
    assert_eq!(
        store.claim(&m, &r1, CLAIM_TTL).await.expect("claim"),
        Claim::Granted
    );
    assert_eq!(
        other.claim(&m, &r1, CLAIM_TTL).await.expect("claim"),
        Claim::Held
    );
    assert_eq!(
        store
            .claim(&m2, &Secret::new("s0"), CLAIM_TTL)
            .await
            .expect("claim"),
        Claim::Granted,
        "claims are per portal"
    );
    other
        .release(&m, &Secret::new("not-the-claimed-one"))
        .await
        .expect("release");
    assert_eq!(
        other.claim(&m, &r1, CLAIM_TTL).await.expect("claim"),
        Claim::Held,
        "a release of another token frees nothing"
    );
    store.release(&m, &r1).await.expect("release");
    assert_eq!(
        other
            .claim(&m, &r1, Duration::from_millis(1))
            .await
            .expect("claim"),
        Claim::Granted
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        store.claim(&m, &r1, CLAIM_TTL).await.expect("claim"),
        Claim::Granted,
        "an expired claim is no claim"
    );
    // A claim on a newer refresh token is not held by the old one's.
    assert_eq!(
        store
            .claim(&m, &Secret::new("r9"), CLAIM_TTL)
            .await
            .expect("claim"),
        Claim::Granted
    );

    // A save replaces whatever is stored, and drops the portal's claim.
    store.save(&pair(&m, "a3", "r3")).await.expect("save");
    assert_eq!(
        other
            .claim(&m, &Secret::new("r3"), CLAIM_TTL)
            .await
            .expect("claim"),
        Claim::Granted
    );
    assert_eq!(
        refresh_of(&other.load(&m).await.expect("load")).as_deref(),
        Some("r3")
    );

    // A pair without a refresh token is stored, and a replace expecting one does not match it.
    store.save(&pair(&m2, "b1", "s1")).await.expect("save");
    let mut bare = Tokens::new("b2", None);
    bare.member_id = Some(m2.clone());
    store.save(&bare).await.expect("save without refresh token");
    assert!(matches!(
        store
            .replace(&Secret::new("s1"), &pair(&m2, "b3", "s3"))
            .await
            .expect("cas"),
        Replaced::Changed(Some(_))
    ));

    // No member_id: an error, and the error shows no token.
    let orphan = Tokens::new("secret-access", Some(Secret::new("secret-refresh")));
    let e = store.save(&orphan).await.expect_err("no member_id");
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("secret-access") && !shown.contains("secret-refresh"),
        "{shown}"
    );
    let e = store
        .replace(&Secret::new("r3"), &orphan)
        .await
        .expect_err("no member_id");
    assert!(!format!("{e} {e:?}").contains("secret-"));
}
