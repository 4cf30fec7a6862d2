//! Issue 12: the review screen (`mamori serve`) over HTTP, against the real
//! binary on 127.0.0.1 with a free port and a store seeded by
//! `mamori run --once` over a small share: role boundaries, root
//! restriction, CSRF, login lockout, escaping, traversal, session expiry,
//! set decisions with their count confirmed, audit events, exports, TLS.
//! And a real browser (Debian's chromium and chromedriver, driven through
//! WebDriver by fantoccini): log in, filter, mark a false positive, see the
//! dashboard's count change; screenshots of the pages.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::root;

pub(crate) const PASSWORD: &str = "correct horse battery";

/// Every full identifier in the seeded files: none may reach a page, a
/// URL or an export.
fn identifiers() -> Vec<String> {
    let mut all = Vec::new();
    for f in [
        "tests/fixtures/identifiers.json",
        "tests/fixtures/mail/identifiers.json",
    ] {
        let v: Vec<String> =
            serde_json::from_str(&std::fs::read_to_string(root().join(f)).unwrap()).unwrap();
        all.extend(v);
    }
    all.push("258231856428".into());
    all
}

/// The seeded share, configuration and users.
struct Seed {
    dir: tempfile::TempDir,
    cfg: PathBuf,
}

/// A share of two roots (市民課, 税務課) with personal data, a file whose
/// name is markup (a folder `<script>alert(1)<` holding `script>.xlsx`
/// reads `<script>alert(1)</script>.xlsx`), an encrypted and a scanned PDF, an outbound
/// mail, and an expired folder (平成30年度) under a one-year rule; scanned
/// once; four users.
fn seed(web: &str) -> Seed {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shimin = d.join("share/市民課");
    let zeimu = d.join("share/税務課");
    for p in [
        shimin.join("平成30年度"),
        shimin.join("<script>alert(1)<"),
        zeimu.clone(),
        d.join("reports/2026-W10"),
    ] {
        std::fs::create_dir_all(p).unwrap();
    }
    let copy = |from: &str, to: PathBuf| {
        std::fs::copy(root().join(from), to).unwrap();
    };
    copy("examples/住民名簿.csv", shimin.join("名簿.csv"));
    copy(
        "examples/本人確認メモ.txt",
        shimin.join("平成30年度/本人確認メモ.txt"),
    );
    copy(
        "tests/fixtures/docs/meibo.xlsx",
        shimin.join("<script>alert(1)<").join("script>.xlsx"),
    );
    copy(
        "tests/realworld/pdf/pdfjs_issue6010_1.pdf",
        shimin.join("暗号化.pdf"),
    );
    copy("tests/fixtures/docs/scan.pdf", shimin.join("スキャン.pdf"));
    std::fs::write(
        shimin.join("<img src=x onerror=alert(1)>.txt"),
        "個人番号 258231856428\n",
    )
    .unwrap();
    std::fs::write(zeimu.join("メモ.txt"), "個人番号 258231856428\n").unwrap();
    copy(
        "tests/fixtures/mail/leak_iso2022jp.eml",
        zeimu.join("送信控え.eml"),
    );
    std::fs::write(
        d.join("reports/2026-W10/report.html"),
        "<html><body><h1>週次レポート 2026-W10</h1></body></html>",
    )
    .unwrap();
    std::fs::write(d.join("outside-secret.txt"), "SECRET OUTSIDE THE REPORTS").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        d.join("outside-secret.txt"),
        d.join("reports/2026-W10/leak.txt"),
    )
    .unwrap();
    let cfg = d.join("mamori.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"[store]
database = "{db}"
[scan]
internal_domains = ["city.example.lg.jp"]
[[root]]
path = "{shimin}"
label = "市民課"
[[root]]
path = "{zeimu}"
label = "税務課"
[[retention]]
path = "**/平成30年度/**"
class = "本人確認記録"
years = 1
action = "廃棄"
[report]
directory = "{reports}"
[web]
{web}
"#,
            db = d.join("state/mamori.db").display(),
            shimin = shimin.display(),
            zeimu = zeimu.display(),
            reports = d.join("reports").display(),
        ),
    )
    .unwrap();
    let out = mamori(&["run", "--once", "--config", cfg.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, role, roots) in [
        ("admin", "admin", vec![]),
        ("reviewer", "reviewer", vec![]),
        ("viewer", "viewer", vec![]),
        ("zeimu", "reviewer", vec!["税務課"]),
    ] {
        let mut args = vec![
            "user",
            "add",
            name,
            "--role",
            role,
            "--config",
            cfg.to_str().unwrap(),
        ];
        for r in &roots {
            args.extend(["--root", r]);
        }
        let out = mamori(&args, Some(&format!("{PASSWORD}\n")));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Seed { dir, cfg }
}

/// Runs mamori with `stdin`, in the test's isolated environment.
fn mamori(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let state = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(args)
        .env("MAMORI_STATE_DIR", state.path())
        .env("MAMORI_OCR", "off")
        .env_remove("MAMORI_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// A running `mamori serve`, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(seed: &Seed, extra: &[&str]) -> Server {
    let mut args = vec![
        "serve",
        "--config",
        seed.cfg.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(&args)
        .env("MAMORI_OCR", "off")
        .env("MAMORI_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("mamori serve: listening on ")
        .unwrap_or_else(|| panic!("no address from mamori serve: {line:?}"))
        .trim_end_matches('/')
        .to_string();
    Server { child, base }
}

/// An HTTP response, read whole.
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    headers: Vec<(String, String)>,
    bytes: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A browser-like client: keeps cookies, follows no redirects.
pub(crate) struct Client {
    base: String,
    agent: ureq::Agent,
    cookies: BTreeMap<String, String>,
}

impl Client {
    fn new(base: &str) -> Client {
        Client::with_agent(base, ureq::Agent::config_builder())
    }

    fn with_agent(
        base: &str,
        b: ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
    ) -> Client {
        Client {
            base: base.to_string(),
            agent: b
                .http_status_as_error(false)
                .max_redirects(0)
                .max_redirects_will_error(false)
                .build()
                .into(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, r: ureq::http::Response<ureq::Body>) -> Resp {
        let status = r.status().as_u16();
        let headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() || v.contains("Max-Age=0") {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.to_string(), value.to_string());
                    }
                }
            }
        }
        let bytes = r
            .into_body()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap();
        Resp {
            status,
            headers,
            bytes,
        }
    }

    pub fn get(&mut self, path: &str) -> Resp {
        let r = self
            .agent
            .get(&format!("{}{path}", self.base))
            .header("Cookie", &self.cookie_header())
            .call()
            .unwrap();
        self.keep(r)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let r = self
            .agent
            .post(&format!("{}{path}", self.base))
            .header("Cookie", &self.cookie_header())
            .send_form(form.iter().copied())
            .unwrap();
        self.keep(r)
    }

    /// Logs in; the response of the login form's post.
    fn login(&mut self, name: &str, password: &str) -> Resp {
        let page = self.get("/login").text();
        let token = field(&page, "login_token");
        self.post(
            "/login",
            &[
                ("name", name),
                ("password", password),
                ("login_token", &token),
                ("next", "/"),
            ],
        )
    }

    pub fn logged_in(base: &str, name: &str) -> Client {
        let mut c = Client::new(base);
        let r = c.login(name, PASSWORD);
        assert_eq!(r.status, 303, "login of {name}: {}", r.text());
        c
    }

    /// The CSRF token of the forms of `path`.
    pub fn csrf(&mut self, path: &str) -> String {
        field(&self.get(path).text(), "csrf")
    }
}

/// The value of the hidden input `name` in a page.
fn field(page: &str, name: &str) -> String {
    let re = regex::Regex::new(&format!(r#"name="{name}" value="([^"]*)""#)).unwrap();
    re.captures(page)
        .unwrap_or_else(|| panic!("no {name} in the page: {page}"))[1]
        .to_string()
}

/// Findings as `mamori review list` sees them: (id, path, kind, state).
fn findings(seed: &Seed, extra: &[&str]) -> Vec<(i64, String, String, String)> {
    let mut args = vec![
        "review",
        "list",
        "--config",
        seed.cfg.to_str().unwrap(),
        "--format",
        "jsonl",
        "--limit",
        "0",
    ];
    args.extend_from_slice(extra);
    let out = mamori(&args, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    crate::util::jsonl(&String::from_utf8(out.stdout).unwrap())
        .iter()
        .map(|l| {
            (
                l["id"].as_i64().unwrap(),
                l["path"].as_str().unwrap().to_string(),
                l["kind"].as_str().unwrap().to_string(),
                l["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn first_in(seed: &Seed, root_label_dir: &str, kind: &str) -> (i64, String) {
    findings(seed, &["--kind", kind])
        .into_iter()
        .find(|f| f.1.contains(root_label_dir))
        .map(|f| (f.0, f.1))
        .unwrap_or_else(|| panic!("no {kind} under {root_label_dir}"))
}

/// The file id of a finding, from its file page link in the list.
fn file_id_of(c: &mut Client, finding: i64) -> i64 {
    let page = c.get(&format!("/findings?after={}", finding - 1)).text();
    let re = regex::Regex::new(r#"<td class="n">(\d+)</td><td class="path"><a href="/file/(\d+)""#)
        .unwrap();
    let found = re
        .captures_iter(&page)
        .find(|m| m[1].parse::<i64>().unwrap() == finding)
        .map(|m| m[2].parse().unwrap());
    found.unwrap_or_else(|| panic!("finding {finding} not in the list"))
}

/// Events of the review screen: (kind, actor, detail).
fn events(seed: &Seed) -> Vec<(String, Option<String>, String)> {
    let db = rusqlite::Connection::open_with_flags(
        seed.dir.path().join("state/mamori.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut st = db
        .prepare("SELECT kind, actor, coalesce(detail, '') FROM events WHERE kind LIKE 'web%' ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn assert_no_identifier(what: &str, text: &str) {
    for id in identifiers() {
        assert!(!text.contains(&id), "{what} shows a full identifier {id:?}");
    }
}

#[test]
fn roles_and_root_restriction_are_enforced() {
    let seed = seed("");
    let server = serve(&seed, &[]);
    let (in_zeimu, _) = first_in(&seed, "税務課", "my_number");
    let (in_shimin, _) = first_in(&seed, "市民課", "my_number");

    // A viewer reads everything but decides nothing (403, state unchanged).
    let mut viewer = Client::logged_in(&server.base, "viewer");
    assert_eq!(viewer.get("/").status, 200);
    let file = file_id_of(&mut viewer, in_shimin);
    let page = viewer.get(&format!("/file/{file}"));
    assert_eq!(page.status, 200);
    assert!(
        !page.text().contains("/decide"),
        "a viewer sees no decision forms"
    );
    let csrf = viewer.csrf("/");
    let r = viewer.post(
        &format!("/finding/{in_shimin}/decide"),
        &[
            ("csrf", &csrf),
            ("decision", "false_positive"),
            ("note", ""),
        ],
    );
    assert_eq!(r.status, 403);
    let r = viewer.post(
        "/findings/decide",
        &[
            ("csrf", &csrf),
            ("kind", "my_number"),
            ("decision", "confirmed"),
            ("confirm", "1"),
        ],
    );
    assert_eq!(r.status, 403);
    assert_eq!(viewer.get("/users").status, 403, "users are for admins");
    assert_eq!(
        viewer
            .post(
                "/users",
                &[
                    ("csrf", &csrf),
                    ("name", "x"),
                    ("role", "admin"),
                    ("password", PASSWORD)
                ]
            )
            .status,
        403
    );
    assert!(findings(&seed, &["--status", "false_positive"]).is_empty());

    // A reviewer restricted to 税務課 sees its files only.
    let mut zeimu = Client::logged_in(&server.base, "zeimu");
    let list = zeimu.get("/findings").text();
    assert!(list.contains("税務課"), "{list}");
    assert!(
        !list.contains("/share/市民課/"),
        "another root's files are listed: {list}"
    );
    assert_eq!(zeimu.get(&format!("/file/{file}")).status, 404);
    assert_eq!(
        zeimu
            .get("/findings?root=%E5%B8%82%E6%B0%91%E8%AA%B2")
            .status,
        403,
        "filtering by another root"
    );
    let csrf = zeimu.csrf("/");
    let r = zeimu.post(
        &format!("/finding/{in_shimin}/decide"),
        &[
            ("csrf", &csrf),
            ("decision", "false_positive"),
            ("note", ""),
        ],
    );
    assert_eq!(r.status, 404, "deciding on another root's finding");
    let dash = zeimu.get("/").text();
    assert!(!dash.contains("市民課</a>"), "{dash}");
    assert!(!zeimu.get("/unreadable").text().contains("暗号化.pdf"));
    assert!(!zeimu.get("/retention").text().contains("平成30年度"));
    assert_eq!(zeimu.get("/reports/2026-W10/report.html").status, 403);
    // …and decides on them.
    let r = zeimu.post(
        &format!("/finding/{in_zeimu}/decide"),
        &[
            ("csrf", &csrf),
            ("decision", "confirmed"),
            ("note", "課内で確認"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let confirmed = findings(&seed, &["--status", "confirmed"]);
    assert_eq!(confirmed.len(), 1, "{confirmed:?}");
    assert!(confirmed[0].1.contains("税務課"));

    // An admin manages users; a reviewer may not.
    let mut admin = Client::logged_in(&server.base, "admin");
    assert_eq!(admin.get("/users").status, 200);
    let mut reviewer = Client::logged_in(&server.base, "reviewer");
    assert_eq!(reviewer.get("/users").status, 403);
    let csrf = admin.csrf("/users");
    let r = admin.post(
        "/users",
        &[
            ("csrf", &csrf),
            ("name", "tanaka"),
            ("role", "viewer"),
            ("root", "税務課"),
            ("password", "another long password"),
        ],
    );
    assert_eq!(r.status, 303);
    assert!(admin.get("/users").text().contains("tanaka"));
    let mut tanaka = Client::new(&server.base);
    assert_eq!(tanaka.login("tanaka", "another long password").status, 303);
    assert!(!tanaka.get("/findings").text().contains("/share/市民課/"));
}

#[test]
fn state_changes_need_the_sessions_csrf_token() {
    let seed = seed("");
    let server = serve(&seed, &[]);
    let (id, _) = first_in(&seed, "市民課", "my_number");
    let mut reviewer = Client::logged_in(&server.base, "reviewer");
    let mut other = Client::logged_in(&server.base, "admin");
    let others = other.csrf("/");
    let path = format!("/finding/{id}/decide");
    for form in [
        vec![("decision", "false_positive"), ("note", "")],
        vec![("csrf", ""), ("decision", "false_positive")],
        vec![("csrf", "00112233"), ("decision", "false_positive")],
        vec![("csrf", others.as_str()), ("decision", "false_positive")],
    ] {
        let r = reviewer.post(&path, &form);
        assert_eq!(r.status, 403, "{form:?}");
    }
    let r = reviewer.post("/logout", &[]);
    assert_eq!(r.status, 403, "logout needs the token too");
    assert!(findings(&seed, &["--status", "false_positive"]).is_empty());
    // The right token works.
    let csrf = reviewer.csrf("/");
    let r = reviewer.post(
        &path,
        &[
            ("csrf", &csrf),
            ("decision", "false_positive"),
            ("note", ""),
        ],
    );
    assert_eq!(r.status, 303);
    assert_eq!(findings(&seed, &["--status", "false_positive"]).len(), 1);
    // The login form has its own token, paired with a cookie.
    let mut fresh = Client::new(&server.base);
    let r = fresh.post(
        "/login",
        &[
            ("name", "reviewer"),
            ("password", PASSWORD),
            ("login_token", "forged"),
            ("next", "/"),
        ],
    );
    assert_eq!(r.status, 403);
    // A form posted without a session is refused, not redirected.
    let r = fresh.post(&path, &[("csrf", &csrf), ("decision", "confirmed")]);
    assert_eq!(r.status, 403);
}

#[test]
fn repeated_failures_lock_the_account_and_the_address() {
    let seed =
        seed("login_max_failures = 3\nlogin_lockout_secs = 4\nlogin_address_max_failures = 8\n");
    let server = serve(&seed, &[]);
    let mut c = Client::new(&server.base);
    assert_eq!(c.login("reviewer", "wrong password 1").status, 401);
    assert_eq!(c.login("reviewer", "wrong password 2").status, 401);
    let third = c.login("reviewer", "wrong password 3");
    assert_eq!(third.status, 403, "locked at the third failure");
    assert!(third.text().contains("ロック"), "{}", third.text());
    // Locked: the right password is refused too; other accounts are not.
    assert_eq!(c.login("reviewer", PASSWORD).status, 403);
    assert_eq!(
        Client::new(&server.base).login("viewer", PASSWORD).status,
        303
    );
    // Unlocked after the lockout time. Attempts are kept in whole seconds
    // and a failure counts while `at >= now - lockout`: the lock ends 4 to
    // 5 seconds after the first of the three failures (4.2 s was flaky).
    std::thread::sleep(Duration::from_millis(5200));
    assert_eq!(c.login("reviewer", PASSWORD).status, 303);
    let ev = events(&seed);
    let failures = ev
        .iter()
        .filter(|e| {
            e.0 == "web_login" && e.1.as_deref() == Some("reviewer") && e.2.starts_with("failure")
        })
        .count();
    assert_eq!(failures, 3, "{ev:?}");
    assert!(ev
        .iter()
        .any(|e| e.2.starts_with("refused: account locked")));
    assert!(ev
        .iter()
        .any(|e| e.1.as_deref() == Some("reviewer") && e.2.starts_with("success")));

    // Unknown names count against the address (and are never recorded).
    let mut guesser = Client::new(&server.base);
    for i in 0..8 {
        let r = guesser.login(&format!("guess{i}"), "whatever password");
        assert_eq!(r.status, 401, "attempt {i}");
    }
    assert_eq!(
        guesser.login("admin", PASSWORD).status,
        429,
        "the address is refused"
    );
    assert!(!events(&seed).iter().any(|e| e.2.contains("guess")));
}

#[test]
fn names_are_escaped_and_no_full_identifier_is_shown() {
    let seed = seed("");
    let server = serve(&seed, &[]);
    let mut c = Client::logged_in(&server.base, "admin");
    let list = c.get("/findings");
    let text = list.text();
    assert!(
        text.contains("&lt;script&gt;alert(1)&lt;/script&gt;.xlsx"),
        "{text}"
    );
    assert!(
        text.contains("&lt;img src=x onerror=alert(1)&gt;.txt"),
        "{text}"
    );
    assert!(
        !text.contains("<script>alert"),
        "markup from a file name reached the page"
    );
    assert!(!text.contains("<img src=x"));
    // A site's store knows one site: no page of values on several sites.
    assert!(!text.contains("/shared"));
    assert_eq!(c.get("/shared").status, 404);
    assert!(list
        .header("content-security-policy")
        .is_some_and(|v| v.contains("default-src 'none'")));
    let id = findings(&seed, &[])
        .into_iter()
        .find(|f| f.1.ends_with("script>.xlsx"))
        .unwrap()
        .0;
    let file = file_id_of(&mut c, id);
    let page = c.get(&format!("/file/{file}")).text();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;.xlsx"));
    assert!(!page.contains("<script>alert"));
    // No full identifier in any page or export.
    let mut pages = vec![list.text(), page];
    for p in [
        "/",
        "/findings?kind=my_number",
        "/retention",
        "/mail",
        "/unreadable",
        "/users",
        "/reports",
    ] {
        let r = c.get(p);
        assert_eq!(r.status, 200, "{p}");
        pages.push(r.text());
    }
    for (i, f) in findings(&seed, &[]).iter().enumerate().take(40) {
        if i % 3 == 0 {
            let file = file_id_of(&mut c, f.0);
            pages.push(c.get(&format!("/file/{file}")).text());
        }
    }
    let csv = c.get("/retention/export.csv");
    assert_eq!(csv.status, 200);
    pages.push(csv.text());
    for (i, p) in pages.iter().enumerate() {
        assert_no_identifier(&format!("page {i}"), p);
    }
}

#[test]
fn the_file_page_says_what_its_flags_mean_and_who_did_what() {
    let seed = seed("");
    let server = serve(&seed, &[]);
    let mut c = Client::logged_in(&server.base, "admin");
    let id = findings(&seed, &["--kind", "my_number"])
        .into_iter()
        .find(|f| f.1.ends_with("script>.xlsx"))
        .unwrap()
        .0;
    let file = file_id_of(&mut c, id);
    // A view is recorded after the page is read: the second shows the first.
    assert_eq!(c.get(&format!("/file/{file}")).status, 200);
    let page = c.get(&format!("/file/{file}")).text();
    // Its flags (no retention rule matches it; My Number outside an area),
    // each with what it means and what to do, above the rules' reasons.
    let guide = page
        .split(r#"<ul class="guide" id="guide">"#)
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .unwrap_or_else(|| panic!("no guide in {page}"));
    assert!(guide.contains("保存期間不明"), "{guide}");
    assert!(guide.contains("保存期間が分かりません"), "{guide}");
    assert!(guide.contains("個人番号の保管場所外"), "{guide}");
    assert!(guide.contains("保管場所へ移すか"), "{guide}");
    assert!(!guide.contains("廃棄候補"), "{guide}");
    assert!(page.find(r#"id="guide""#) < page.find(r#"id="reasons""#));
    // The trail: the scan's line is the service's, the view is admin's.
    let trail = page.split(r#"<table class="trail">"#).nth(1).unwrap();
    let added = trail
        .split("<tr>")
        .find(|row| row.contains("ファイル追加"))
        .unwrap_or_else(|| panic!("no file_added line in {trail}"));
    assert!(added.contains("mamori（自動）"), "{added}");
    let viewed = trail
        .split("<tr>")
        .find(|row| row.contains("閲覧"))
        .unwrap_or_else(|| panic!("no view line in {trail}"));
    assert!(viewed.contains("<td>admin</td>"), "{viewed}");
    // The administrator's list of activity names events in words.
    let users = c.get("/users").text();
    assert!(
        users.contains(r#"<td class="nowrap">ログイン</td>"#),
        "{users}"
    );
    assert!(users.contains(r#"<td class="nowrap">閲覧</td>"#), "{users}");
    assert!(!users.contains("<td>web_view_file</td>"));
    assert!(!users.contains(">web_login<"));
}

#[test]
fn report_downloads_stay_in_the_reports_directory() {
    let seed = seed("");
    let server = serve(&seed, &[]);
    let mut c = Client::logged_in(&server.base, "admin");
    let archive = c.get("/reports").text();
    assert!(
        archive.contains("/reports/2026-W10/report.html"),
        "{archive}"
    );
    assert!(!archive.contains("leak.txt"), "a link out is not listed");
    let r = c.get("/reports/2026-W10/report.html");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("2026-W10"));
    assert!(r
        .header("content-security-policy")
        .is_some_and(|v| v.starts_with("sandbox")));
    for bad in [
        "/reports/..%2F..%2Foutside-secret.txt/x",
        "/reports/2026-W10/..%2F..%2Foutside-secret.txt",
        "/reports/2026-W10/%2E%2E",
        "/reports/..%2F/outside-secret.txt",
        "/reports/2026-W10/..%5C..%5Cmamori.toml",
        "/reports/2026-W10/leak.txt",
        "/reports/2026-W10/missing.html",
    ] {
        let r = c.get(bad);
        assert!(matches!(r.status, 400 | 404), "{bad}: {}", r.status);
        assert!(!r.text().contains("SECRET OUTSIDE"), "{bad}");
    }
}

#[test]
fn sessions_end_when_idle_and_after_their_lifetime() {
    let seed = seed("session_idle_secs = 2\nsession_absolute_secs = 4\n");
    let server = serve(&seed, &[]);
    // Active every second: the absolute limit still ends it.
    let mut c = Client::logged_in(&server.base, "reviewer");
    let start = Instant::now();
    let mut ended = None;
    while start.elapsed() < Duration::from_secs(8) {
        let r = c.get("/");
        if r.status != 200 {
            ended = Some((start.elapsed(), r));
            break;
        }
        std::thread::sleep(Duration::from_millis(700));
    }
    let (after, r) = ended.expect("the session never ended");
    assert!(
        after >= Duration::from_millis(3500),
        "ended early: {after:?}"
    );
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().contains("expired=1"));
    // Idle: two seconds without a request.
    let mut c = Client::logged_in(&server.base, "reviewer");
    assert_eq!(c.get("/").status, 200);
    std::thread::sleep(Duration::from_millis(2500));
    let r = c.get("/findings?kind=my_number");
    assert_eq!(r.status, 303);
    let loc = r.header("location").unwrap().to_string();
    assert!(
        loc.starts_with("/login?next=%2Ffindings%3Fkind%3Dmy_number"),
        "{loc}"
    );
    let ev = events(&seed);
    assert!(
        ev.iter()
            .any(|e| e.0 == "web_session_expired" && e.2 == "idle timeout"),
        "{ev:?}"
    );
    assert!(ev
        .iter()
        .any(|e| e.0 == "web_session_expired" && e.2 == "absolute timeout"));
}

#[test]
fn a_set_decision_shows_its_count_first_and_everything_is_recorded() {
    let seed = seed("");
    let server = serve(&seed, &[]);
    let mut c = Client::logged_in(&server.base, "reviewer");
    let total_before = findings(&seed, &[]).len();
    let names = findings(&seed, &["--kind", "person_name"]).len();
    assert!(names >= 2, "seed has names");
    let csrf = c.csrf("/findings?kind=person_name");
    let form = |confirm: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("kind", "person_name".to_string()),
            ("decision", "false_positive".to_string()),
            ("note", "氏名欄の見出し".to_string()),
            ("confirm", confirm.to_string()),
        ]
    };
    let post = |c: &mut Client, f: Vec<(&'static str, String)>| {
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        c.post("/findings/decide", &f)
    };
    // First: the count, nothing decided.
    let r = post(&mut c, form(""));
    assert_eq!(r.status, 200);
    let shown = regex::Regex::new(r#"id="confirm-count">([0-9,]+)<"#)
        .unwrap()
        .captures(&r.text())
        .unwrap()[1]
        .replace(',', "");
    assert_eq!(shown, names.to_string());
    assert!(findings(&seed, &["--status", "false_positive"]).is_empty());
    // A different number confirmed: shown again, not decided.
    let r = post(&mut c, form(&(names - 1).to_string()));
    assert_eq!(r.status, 200);
    assert!(findings(&seed, &["--status", "false_positive"]).is_empty());
    // The number shown: decided.
    let r = post(&mut c, form(&names.to_string()));
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        findings(&seed, &["--status", "false_positive"]).len(),
        names
    );
    assert_eq!(findings(&seed, &[]).len(), total_before - names);
    // retained needs a note.
    let (id, _) = first_in(&seed, "税務課", "my_number");
    let r = c.post(
        &format!("/finding/{id}/decide"),
        &[("csrf", &csrf), ("decision", "retained"), ("note", " ")],
    );
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().contains("error=note"));
    assert!(findings(&seed, &["--status", "retained"]).is_empty());
    // A file page view is an event with the user, and so are decisions.
    let file = file_id_of(&mut c, id);
    assert_eq!(c.get(&format!("/file/{file}")).status, 200);
    let ev = events(&seed);
    assert!(
        ev.iter()
            .any(|e| e.0 == "web_view_file" && e.1.as_deref() == Some("reviewer")),
        "{ev:?}"
    );
    assert!(ev.iter().any(|e| e.0 == "web_decision"
        && e.1.as_deref() == Some("reviewer")
        && e.2
            .starts_with(&format!("false_positive on {names} finding(s)"))));
    assert!(ev
        .iter()
        .any(|e| e.0 == "web_login" && e.2.starts_with("success")));
    // The file's trail shows who viewed it.
    let page = c.get(&format!("/file/{file}")).text();
    assert!(page.contains("閲覧") && page.contains("reviewer"), "{page}");
    // The decision is in the CLI's trail too, by the user's name.
    let out = mamori(
        &[
            "review",
            "history",
            "--config",
            seed.cfg.to_str().unwrap(),
            &findings(&seed, &["--status", "false_positive"])[0].1,
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("reviewer"));
}

#[test]
fn retention_queue_exports_xlsx_and_csv() {
    let seed = seed("");
    let server = serve(&seed, &[]);
    let mut c = Client::logged_in(&server.base, "viewer");
    let page = c.get("/retention").text();
    assert!(page.contains("本人確認メモ.txt"), "{page}");
    assert!(page.contains("廃棄候補"));
    // Paged (500 a page): a start past the end lists nothing but keeps the
    // count and a way back; a start that is no number is the first page.
    let past = c.get("/retention?from=99999").text();
    assert!(
        !past.contains("本人確認メモ.txt") && past.contains("rel=\"prev\""),
        "{past}"
    );
    assert!(past.contains("id=\"retention-count\""));
    assert!(c
        .get("/retention?from=x")
        .text()
        .contains("本人確認メモ.txt"));
    let csv = c.get("/retention/export.csv?queue=dispose");
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = csv.text();
    assert!(
        text.contains("本人確認記録")
            && text.contains("本人確認メモ.txt")
            && text.contains("2020-03-31"),
        "{text}"
    );
    let xlsx = c.get("/retention/export.xlsx");
    assert_eq!(xlsx.status, 200);
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(xlsx.bytes)).unwrap();
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut z.by_name("xl/sharedStrings.xml").unwrap(),
        &mut strings,
    )
    .unwrap();
    assert!(
        strings.contains("本人確認メモ.txt") && strings.contains("廃棄候補"),
        "{strings}"
    );
    assert_eq!(
        events(&seed)
            .iter()
            .filter(|e| e.0 == "web_export" && e.1.as_deref() == Some("viewer"))
            .count(),
        2
    );
    // The other pages of lists.
    let mail = c.get("/mail").text();
    assert!(
        mail.contains("送信控え.eml") && mail.contains("example.co.jp"),
        "{mail}"
    );
    let unreadable = c.get("/unreadable?reason=encrypted").text();
    assert!(unreadable.contains("暗号化.pdf"), "{unreadable}");
    assert_eq!(c.get("/unreadable?reason=nonsense").status, 400);
    assert_eq!(c.get("/findings?kind=nonsense").status, 400);
}

#[test]
fn other_addresses_need_tls_or_an_explicit_insecure_flag() {
    let seed = seed("");
    let out = mamori(
        &[
            "serve",
            "--config",
            seed.cfg.to_str().unwrap(),
            "--listen",
            "0.0.0.0:0",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--insecure-http"));

    // With a certificate: HTTPS, and Secure cookies.
    let fixtures = root().join("tests/fixtures/web");
    let text = std::fs::read_to_string(&seed.cfg).unwrap().replace(
        "[web]\n",
        &format!(
            "[web]\ntls_certificate = \"{}\"\ntls_key = \"{}\"\n",
            fixtures.join("test-cert.pem").display(),
            fixtures.join("test-key.pem").display()
        ),
    );
    std::fs::write(&seed.cfg, text).unwrap();
    let server = serve(&seed, &[]);
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );
    let ca = std::fs::read(fixtures.join("test-ca.pem")).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![
            ureq::tls::Certificate::from_pem(&ca).unwrap(),
        ])))
        .build();
    let mut c = Client::with_agent(&server.base, ureq::Agent::config_builder().tls_config(tls));
    let r = c.get("/login");
    assert_eq!(r.status, 200);
    assert!(r.header("set-cookie").unwrap().contains("; Secure"));
    let r = c.login("admin", PASSWORD);
    assert_eq!(r.status, 303);
    assert!(r.headers.iter().any(|(k, v)| k == "set-cookie"
        && v.starts_with("mamori_session=")
        && v.contains("; Secure")
        && v.contains("HttpOnly")
        && v.contains("SameSite=Strict")));
    assert_eq!(c.get("/").status, 200);
}

/// The seeded share's path for screenshots.
fn screens_dir() -> PathBuf {
    std::env::var_os("MAMORI_WEB_SCREENS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-screens"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The page's URL once `done` holds, or after 15 s: a click on a submit
/// button returns before the browser has followed the form on a loaded
/// machine.
#[cfg(unix)]
async fn settled_url(b: &fantoccini::Client, done: impl Fn(&url::Url) -> bool) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = b.current_url().await.unwrap();
        if done(&url) || Instant::now() > deadline {
            return url;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(unix)]
#[test]
fn a_records_officer_reviews_in_chromium() {
    let (chromium, driver) = (
        Path::new("/usr/bin/chromium"),
        Path::new("/usr/bin/chromedriver"),
    );
    if !chromium.exists() || !driver.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs chromium and chromium-driver (.ci/run)"
        );
        eprintln!("skipping the browser test: chromium or chromedriver is not installed");
        return;
    }
    let seed = seed("");
    let server = serve(&seed, &[]);
    let port = free_port();
    let _driver = Driver(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let profile = tempfile::tempdir().unwrap();
    let screens = screens_dir();
    std::fs::create_dir_all(&screens).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(browse(
        &server.base,
        port,
        chromium,
        profile.path(),
        &screens,
        &seed,
    ));
}

#[cfg(unix)]
async fn browse(
    base: &str,
    port: u16,
    chromium: &Path,
    profile: &Path,
    screens: &Path,
    seed: &Seed,
) {
    use fantoccini::{ClientBuilder, Locator};
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1400,1700", "--lang=ja",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    }))
    .unwrap();
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let b = client.expect("chromedriver started a session");
    let shot = |name: &'static str| {
        let b = b.clone();
        async move {
            let png = b.screenshot().await.unwrap();
            std::fs::write(screens.join(name), png).unwrap();
        }
    };
    let count = |b: fantoccini::Client| async move {
        let t = b
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css("#total-open .big"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        t.replace(',', "").parse::<i64>().unwrap()
    };

    // Log in.
    b.goto(&format!("{base}/")).await.unwrap();
    assert!(b.current_url().await.unwrap().path().starts_with("/login"));
    b.find(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys("reviewer")
        .await
        .unwrap();
    b.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    b.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let url = settled_url(&b, |u| u.path() == "/").await;
    assert_eq!(url.path(), "/", "{url}");
    let before = count(b.clone()).await;
    assert_eq!(before as usize, findings(seed, &[]).len());
    shot("dashboard.png").await;

    // Filter the list to My Number.
    b.goto(&format!("{base}/findings")).await.unwrap();
    b.find(Locator::Css("select[name=kind]"))
        .await
        .unwrap()
        .select_by_value("my_number")
        .await
        .unwrap();
    b.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let url = settled_url(&b, |u| u.query().unwrap_or("").contains("kind=my_number")).await;
    assert!(
        url.query().unwrap_or("").contains("kind=my_number"),
        "{url}"
    );
    let rows = b
        .find_all(Locator::Css("table.findings tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), findings(seed, &["--kind", "my_number"]).len());
    shot("findings.png").await;

    // Open the first file and mark its first finding as a false positive.
    b.find(Locator::Css("table.findings td.path a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let url = settled_url(&b, |u| u.path().starts_with("/file/")).await;
    assert!(url.path().starts_with("/file/"), "{url}");
    shot("file.png").await;
    let form = b
        .find(Locator::Css("table.findings form.decide"))
        .await
        .unwrap();
    form.find(Locator::Css("select[name=decision]"))
        .await
        .unwrap()
        .select_by_value("false_positive")
        .await
        .unwrap();
    form.find(Locator::Css("input[name=note]"))
        .await
        .unwrap()
        .send_keys("見本の番号")
        .await
        .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The click returns before the form's navigation has loaded the answer: wait for it.
    let notice = b
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("p.notice.ok"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(notice.contains("誤検出"), "{notice}");
    shot("file-decided.png").await;

    // The dashboard counts one finding fewer.
    b.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(count(b.clone()).await, before - 1);
    assert_eq!(findings(seed, &["--status", "false_positive"]).len(), 1);
    // And in English.
    b.goto(&format!("{base}/?lang=en")).await.unwrap();
    let h1 = b
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "Overview");
    shot("dashboard-en.png").await;
    b.goto(&format!("{base}/retention?lang=ja")).await.unwrap();
    shot("retention.png").await;
    b.close().await.unwrap();
}
