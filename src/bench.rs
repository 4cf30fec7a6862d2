//! `mamori bench`: detection throughput on generated Japanese text, in MB/s
//! per core (one thread) and on all cores. Two corpora: administrative prose
//! with no identifiers, and resident-list records dense with identifiers.
//! Figures are printed, not asserted: targets live in the README and the
//! issue notes.

use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::detect::Engine;
use crate::finding::Finding;
use crate::text::TextUnit;

/// Sentences of the kind a city office writes; they contain dates, article
/// numbers and amounts but no personal identifiers.
const PROSE: &[&str] = &[
    "本市では、令和6年度の予算編成にあたり、市民サービスの向上と財政の健全化を両立させることを基本方針としています。",
    "公文書の管理に関する条例第5条の規定により、各課は文書の保存期間を定め、適切に管理しなければなりません。",
    "市政情報公開請求書を受け付けた場合は、受付日から起算して14日以内に開示決定等を行うものとします。",
    "防災訓練は毎年9月に実施しており、今年度は約1,200名の市民が参加しました。",
    "ごみの分別方法が変更になりましたので、各家庭に配布したパンフレットをご確認ください。",
    "子育て支援センターでは、乳幼児を持つ保護者を対象とした相談事業を行っています。",
    "道路の補修工事に伴い、第2週の平日は午前9時から午後5時まで片側交互通行となります。",
    "会議録は、議事の経過及び結果を記録し、委員長の確認を経て公開するものとする。",
    "図書館の開館時間は、火曜日から日曜日までの午前10時から午後7時までです。",
    "本事業の実施により、地域経済の活性化と雇用の創出が期待されます。",
    "委託契約の締結に際しては、地方自治法施行令第167条の2の規定に基づき随意契約とした。",
    "高齢者の見守り活動について、民生委員と地域包括支援センターが連携して取り組んでいます。",
    "庁内の情報セキュリティ研修を全職員対象に実施し、受講率は98パーセントとなった。",
    "公共施設の長寿命化計画に基づき、今後10年間で計画的な改修を進めます。",
    "特定個人情報の取扱いに関する基本方針を改定し、事務取扱担当者の範囲を明確にした。",
];

const SURNAMES: &[&str] = &[
    "山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村",
];
const GIVEN: &[&str] = &[
    "太郎",
    "花子",
    "一郎",
    "美咲",
    "翔太",
    "さくら",
    "健",
    "由美",
];
const PLACES: &[&str] = &[
    "東京都千代田区霞が関三丁目1番1号",
    "大阪府大阪市北区中之島1-3-20",
    "神奈川県横浜市中区本町6-50-10",
    "愛知県名古屋市中区三の丸三丁目1番1号",
];

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() as usize) % v.len()]
    }
}

/// A valid My Number from 11 digits (for generated test data only).
pub fn my_number_from(base11: u64) -> String {
    let s = format!("{:011}", base11 % 100_000_000_000);
    const W: [u32; 11] = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = s.bytes().zip(W).map(|(b, w)| (b - b'0') as u32 * w).sum();
    let r = sum % 11;
    format!("{s}{}", if r <= 1 { 0 } else { 11 - r })
}

/// Administrative prose without identifiers, about `bytes` long.
pub fn prose_corpus(bytes: usize) -> String {
    let mut rng = Lcg(20240401);
    let mut s = String::with_capacity(bytes + 512);
    while s.len() < bytes {
        s.push_str(rng.pick(PROSE));
        if rng.next() % 4 == 0 {
            s.push('\n');
        }
    }
    s
}

/// Resident-list records, each with a name, birth date, address, phone and
/// My Number, about `bytes` long.
pub fn dense_corpus(bytes: usize) -> String {
    let mut rng = Lcg(7);
    let mut s = String::with_capacity(bytes + 512);
    while s.len() < bytes {
        let mn = my_number_from(rng.next() * 1_000 + rng.next());
        s.push_str(&format!(
            "氏名：{} {}　生年月日：昭和{}年{}月{}日　住所：{}　電話：090-{:04}-{:04}　個人番号：{} {} {}\n",
            rng.pick(SURNAMES),
            rng.pick(GIVEN),
            30 + rng.next() % 30,
            1 + rng.next() % 12,
            1 + rng.next() % 28,
            rng.pick(PLACES),
            rng.next() % 10_000,
            rng.next() % 10_000,
            &mn[..4],
            &mn[4..8],
            &mn[8..],
        ));
    }
    s
}

/// Splits text into units of about `unit_bytes` at line ends (as an
/// extractor would produce pages or paragraphs).
fn units(text: &str, unit_bytes: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + unit_bytes).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if let Some(nl) = text[end..].find('\n') {
            end += nl + 1;
        } else {
            end = text.len();
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

/// CPU time of the calling thread: on a shared machine the wall clock
/// measures the neighbours too, the thread's CPU time only this scan.
pub fn thread_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec we own.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc == 0 {
            return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
        }
    }
    None
}

/// One measured corpus.
#[derive(Debug, Clone)]
pub struct BenchResult {
    pub name: &'static str,
    pub bytes: usize,
    pub one_thread: Duration,
    /// CPU time of the one-thread run (None where the platform has no thread clock).
    pub one_thread_cpu: Option<Duration>,
    pub all_threads: Duration,
    pub threads: usize,
    pub findings: usize,
}

impl BenchResult {
    pub fn mb_per_s_one(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.one_thread.as_secs_f64()
    }
    /// MB per second of the thread's CPU time (one thread).
    pub fn mb_per_cpu_s(&self) -> Option<f64> {
        self.one_thread_cpu
            .map(|c| self.bytes as f64 / 1e6 / c.as_secs_f64().max(1e-9))
    }
    pub fn mb_per_s_all(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.all_threads.as_secs_f64()
    }
}

fn scan_all(engine: &Engine, parts: &[&str]) -> usize {
    let mut buf: Vec<Finding> = Vec::new();
    let mut n = 0;
    for p in parts {
        buf.clear();
        engine.scan_unit(&TextUnit::lines(*p), &mut buf);
        n += buf.len();
    }
    n
}

/// Measures both corpora; the best of `iterations` runs is kept.
pub fn run(
    engine: &Engine,
    size_mb: usize,
    iterations: usize,
    only: Option<&str>,
) -> Vec<BenchResult> {
    let bytes = size_mb * 1_000_000;
    let mut corpora: Vec<(&'static str, String)> = Vec::new();
    if only != Some("dense") {
        corpora.push(("prose, no identifiers", prose_corpus(bytes)));
    }
    if only != Some("prose") {
        corpora.push(("dense identifiers", dense_corpus(bytes)));
    }
    let threads = rayon::current_num_threads();
    corpora
        .iter()
        .map(|(name, text)| {
            let parts = units(text, 4096);
            let mut one = Duration::MAX;
            let mut cpu: Option<Duration> = None;
            let mut all = Duration::MAX;
            let mut findings = 0;
            for _ in 0..iterations.max(1) {
                let t = Instant::now();
                let c0 = thread_cpu_time();
                findings = scan_all(engine, &parts);
                one = one.min(t.elapsed());
                if let (Some(a), Some(b)) = (c0, thread_cpu_time()) {
                    let d = b.saturating_sub(a);
                    cpu = Some(cpu.map_or(d, |c| c.min(d)));
                }
                let t = Instant::now();
                let chunks: Vec<&[&str]> = parts
                    .chunks(parts.len().div_ceil(threads * 4).max(1))
                    .collect();
                let n: usize = chunks.par_iter().map(|c| scan_all(engine, c)).sum();
                all = all.min(t.elapsed());
                assert_eq!(n, findings, "parallel and serial scans agree");
            }
            BenchResult {
                name,
                bytes: text.len(),
                one_thread: one,
                one_thread_cpu: cpu,
                all_threads: all,
                threads,
                findings,
            }
        })
        .collect()
}

/// The cost of one pattern: one pass over each corpus (ms of CPU per MB)
/// and its matches in the dense corpus.
#[derive(Debug, Clone)]
pub struct PatternCost {
    pub detector: String,
    pub pattern: String,
    pub dense_ms_per_mb: f64,
    pub prose_ms_per_mb: f64,
    pub dense_matches: usize,
}

fn cpu_or_wall<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let (c0, t0) = (thread_cpu_time(), Instant::now());
    let v = f();
    let d = match (c0, thread_cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => t0.elapsed(),
    };
    (v, d)
}

/// Time of one pass of each pattern's regex over both corpora, most
/// expensive on the dense corpus first: shows detector authors what a
/// pattern costs (the engine runs a pattern only where its detector was
/// triggered and the multi-pattern pass says it can match).
pub fn pattern_costs(engine: &Engine, size_mb: usize) -> Vec<PatternCost> {
    let dense = dense_corpus(size_mb * 1_000_000);
    let prose = prose_corpus(size_mb * 1_000_000);
    let (dense_parts, prose_parts) = (units(&dense, 4096), units(&prose, 4096));
    let mut out = Vec::new();
    for d in engine.detectors() {
        for (name, re) in d.pattern_regexes() {
            let (n, dt) = cpu_or_wall(|| {
                dense_parts
                    .iter()
                    .map(|p| re.find_iter(p).count())
                    .sum::<usize>()
            });
            let (_, pt) = cpu_or_wall(|| {
                prose_parts
                    .iter()
                    .map(|p| re.find_iter(p).count())
                    .sum::<usize>()
            });
            out.push(PatternCost {
                detector: d.id.clone(),
                pattern: name.to_string(),
                dense_ms_per_mb: dt.as_secs_f64() * 1e3 / (dense.len() as f64 / 1e6),
                prose_ms_per_mb: pt.as_secs_f64() * 1e3 / (prose.len() as f64 / 1e6),
                dense_matches: n,
            });
        }
    }
    out.sort_by(|a, b| b.dense_ms_per_mb.total_cmp(&a.dense_ms_per_mb));
    out
}

/// The share of 4 KB units that trigger each detector, in prose and in
/// dense text.
pub fn trigger_shares(engine: &Engine, size_mb: usize) -> Vec<(String, f64, f64)> {
    let dense = dense_corpus(size_mb * 1_000_000);
    let prose = prose_corpus(size_mb * 1_000_000);
    let share = |parts: &[&str], id: &str| {
        let n = parts
            .iter()
            .filter(|p| engine.triggered(&TextUnit::lines(**p)).contains(&id))
            .count();
        n as f64 / parts.len().max(1) as f64
    };
    let (dp, pp) = (units(&dense, 4096), units(&prose, 4096));
    engine
        .detectors()
        .iter()
        .map(|d| (d.id.clone(), share(&pp, &d.id), share(&dp, &d.id)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::validators::{my_number_check_digit, Validation};

    #[test]
    fn generated_my_numbers_are_valid() {
        for i in 1..100 {
            assert_eq!(
                my_number_check_digit(&my_number_from(i * 7919)),
                Validation::Valid
            );
        }
    }

    #[test]
    fn units_cover_the_text() {
        let t = dense_corpus(20_000);
        let u = units(&t, 1000);
        assert_eq!(u.concat(), t);
    }
}

/// Results of `mamori bench --corpus DIR`.
#[derive(Debug, Default)]
pub struct CorpusBench {
    /// (format, files, bytes, seconds on one thread, in-process).
    pub per_format: Vec<(String, usize, u64, f64)>,
    pub files: usize,
    pub bytes: u64,
    /// Whole scan on all cores, with worker processes.
    pub whole_isolated: f64,
    /// Whole scan on all cores, in-process.
    pub whole_in_process: f64,
    /// `pdftotext FILE -` over the PDFs and `unzip -p` over the zip-based
    /// files (docx, xlsx, pptx, ods, zip), on all cores: (files, bytes, seconds).
    pub pdftotext: Option<(usize, u64, f64)>,
    pub unzip: Option<(usize, u64, f64)>,
    pub external_both: Option<f64>,
    pub threads: usize,
}

struct NullSink;
impl crate::output::OutcomeSink for NullSink {
    fn accept(&mut self, _: &crate::pipeline::FileOutcome) -> std::io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &crate::output::ScanStats) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs external commands over files on `threads` threads; the wall time.
fn run_external(jobs: &[(String, Vec<String>)], threads: usize) -> f64 {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((cmd, args)) = jobs.get(i) else {
                    break;
                };
                let _ = std::process::Command::new(cmd)
                    .args(args)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
            });
        }
    });
    t.elapsed().as_secs_f64()
}

fn have(cmd: &str) -> bool {
    std::process::Command::new(cmd)
        .arg("-v")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// Measures extraction + detection on a corpus of real documents.
pub fn corpus(
    engine: &Engine,
    dir: &std::path::Path,
    workers: &crate::isolate::WorkerPool,
) -> std::io::Result<CorpusBench> {
    use crate::extract::{Dispatcher, Format, Limits};
    let limits = Limits::default();
    let dispatcher = Dispatcher::default();
    let mut files: Vec<(std::path::PathBuf, u64, Format)> = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.map_err(std::io::Error::other)?;
        if e.file_type().is_file() {
            let head: Vec<u8> = std::fs::read(e.path())?.into_iter().take(8192).collect();
            let name = e.file_name().to_string_lossy().into_owned();
            files.push((
                e.path().to_path_buf(),
                e.metadata()?.len(),
                Format::sniff(&name, &head),
            ));
        }
    }
    let mut out = CorpusBench {
        files: files.len(),
        bytes: files.iter().map(|f| f.1).sum(),
        threads: rayon::current_num_threads(),
        ..CorpusBench::default()
    };
    let mut by: std::collections::BTreeMap<&'static str, Vec<&(std::path::PathBuf, u64, Format)>> =
        Default::default();
    for f in &files {
        by.entry(f.2.name()).or_default().push(f);
    }
    for (name, group) in by {
        let t = Instant::now();
        for (p, size, _) in &group {
            crate::pipeline::scan_file(p, *size, engine, &dispatcher, &limits);
        }
        out.per_format.push((
            name.to_string(),
            group.len(),
            group.iter().map(|f| f.1).sum(),
            t.elapsed().as_secs_f64(),
        ));
    }
    let roots = vec![dir.to_path_buf()];
    let walk = crate::walk::WalkOptions::new(&[], &[], true).map_err(std::io::Error::other)?;
    for isolated in [false, true] {
        let job = crate::scan::ScanJob {
            roots: &roots,
            walk: &walk,
            engine,
            dispatcher: &dispatcher,
            limits: &limits,
            min_confidence: crate::finding::Confidence::Low,
            threads: 0,
            workers: isolated.then_some(workers),
            internal_domains: &[],
            unchanged: None,
        };
        let t = Instant::now();
        crate::scan::run(&job, &mut NullSink, &|_| {})?;
        let secs = t.elapsed().as_secs_f64();
        if isolated {
            out.whole_isolated = secs;
        } else {
            out.whole_in_process = secs;
        }
    }
    let threads = out.threads;
    let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let pdfs: Vec<_> = files.iter().filter(|f| f.2 == Format::Pdf).collect();
    let zips: Vec<_> = files
        .iter()
        .filter(|f| {
            matches!(
                f.2,
                Format::Docx | Format::Xlsx | Format::Pptx | Format::Ods | Format::Zip
            )
        })
        .collect();
    let mut jobs = Vec::new();
    if have("pdftotext") && !pdfs.is_empty() {
        let j: Vec<_> = pdfs
            .iter()
            .map(|f| {
                (
                    "pdftotext".to_string(),
                    vec!["-q".into(), path(&f.0), "-".into()],
                )
            })
            .collect();
        out.pdftotext = Some((
            pdfs.len(),
            pdfs.iter().map(|f| f.1).sum(),
            run_external(&j, threads),
        ));
        jobs.extend(j);
    }
    if have("unzip") && !zips.is_empty() {
        let j: Vec<_> = zips
            .iter()
            .map(|f| ("unzip".to_string(), vec!["-p".into(), path(&f.0)]))
            .collect();
        out.unzip = Some((
            zips.len(),
            zips.iter().map(|f| f.1).sum(),
            run_external(&j, threads),
        ));
        jobs.extend(j);
    }
    if !jobs.is_empty() {
        out.external_both = Some(run_external(&jobs, threads));
    }
    Ok(out)
}

/// Figures of `mamori bench --service N`.
#[derive(Debug, Default)]
pub struct ServiceBench {
    pub files: usize,
    pub first_scan: f64,
    pub no_change_rescan: f64,
    /// Seconds from a file written into a watched folder to its findings stored.
    pub latencies: Vec<f64>,
    /// Peak RSS of this process and of its largest worker, in KB.
    pub rss_self_kb: i64,
    pub rss_worker_kb: i64,
}

fn maxrss_kb(who: i32) -> i64 {
    // SAFETY: getrusage with a valid out-pointer.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut u);
        u.ru_maxrss
    }
}

/// Measures the store and the service on `n` generated files.
pub fn service(
    engine: &Engine,
    n: usize,
    latency_files: usize,
    exe: &std::path::Path,
    key: [u8; 32],
) -> anyhow::Result<ServiceBench> {
    use std::time::Duration;
    let dir = tempfile_dir()?;
    let share = dir.join("share");
    std::fs::create_dir_all(&share)?;
    for i in 0..n {
        let sub = share.join(format!("{:03}", i % 500));
        if i < 500 {
            std::fs::create_dir_all(&sub)?;
        }
        let text = if i % 10 == 0 {
            format!(
                "請求者氏名 山田 太郎\n個人番号 {}\n",
                my_number_from(i as u64 + 1)
            )
        } else {
            format!("会議録 第{i}号\n{}\n", PROSE[i % PROSE.len()])
        };
        std::fs::write(sub.join(format!("doc{i:06}.txt")), text)?;
    }
    let db = dir.join("state/mamori.db");
    let roots = vec![share.clone()];
    let limits = crate::extract::Limits::default();
    let dispatcher = crate::extract::Dispatcher::default();
    let walk = crate::walk::WalkOptions::new(&[], &[], true)?;
    let pool = crate::isolate::WorkerPool::new(crate::isolate::WorkerConfig {
        exe: exe.to_path_buf(),
        detectors: None,
        limits: limits.clone(),
        memory_bytes: 2 << 30,
        key,
        internal_domains: Vec::new(),
    });
    let mut out = ServiceBench {
        files: n,
        ..ServiceBench::default()
    };
    for pass in 0..2 {
        let store = crate::store::Store::open(&db)?;
        let mut sink =
            crate::store::StoreSink::new(store, &roots, engine.set_version(), Box::new(NullSink))?;
        let reader = std::sync::Mutex::new(crate::store::Store::open_read_only(&db)?);
        let set = engine.set_version().to_string();
        let unchanged = |p: &std::path::Path, size: u64, mtime: i64| {
            crate::store::stored_state(&reader.lock().expect("lock"), p, size, mtime, &set).0
        };
        let job = crate::scan::ScanJob {
            roots: &roots,
            walk: &walk,
            engine,
            dispatcher: &dispatcher,
            limits: &limits,
            min_confidence: crate::finding::Confidence::Low,
            threads: 0,
            workers: Some(&pool),
            internal_domains: &[],
            unchanged: if pass == 1 { Some(&unchanged) } else { None },
        };
        let t = Instant::now();
        crate::scan::run(&job, &mut sink, &|_| {})?;
        let secs = t.elapsed().as_secs_f64();
        if pass == 0 {
            out.first_scan = secs;
        } else {
            out.no_change_rescan = secs;
        }
    }
    drop(pool);
    out.rss_self_kb = maxrss_kb(libc::RUSAGE_SELF);
    out.rss_worker_kb = maxrss_kb(libc::RUSAGE_CHILDREN);

    // Latency: the real service on a small watched folder.
    let live = dir.join("live");
    std::fs::create_dir_all(&live)?;
    let cfg = dir.join("mamori.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\ndatabase = \"{}\"\n[[root]]\npath = \"{}\"\nlabel = \"bench\"\n",
            dir.join("live-state/mamori.db").display(),
            live.display()
        ),
    )?;
    let live_db = dir.join("live-state/mamori.db");
    let mut child = std::process::Command::new(exe)
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let ready = Instant::now();
    loop {
        let n: i64 = crate::store::Store::open_read_only(&live_db)
            .ok()
            .and_then(|c| {
                c.query_row(
                    "SELECT count(*) FROM scan_runs WHERE status = 'finished'",
                    [],
                    |r| r.get(0),
                )
                .ok()
            })
            .unwrap_or(0);
        if n > 0 || ready.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let conn = crate::store::Store::open_read_only(&live_db)?;
    for i in 0..latency_files {
        let p = live.join(format!("dropped{i:03}.txt"));
        let t = Instant::now();
        std::fs::write(
            &p,
            format!("個人番号 {}\n", my_number_from(7000 + i as u64)),
        )?;
        loop {
            let stored: i64 = conn
                .query_row(
                    "SELECT count(*) FROM findings f JOIN files x ON x.id = f.file_id WHERE x.path = ?1",
                    [p.to_string_lossy()],
                    |r| r.get(0),
                )
                .unwrap_or(0);
            if stored > 0 || t.elapsed() > Duration::from_secs(30) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        out.latencies.push(t.elapsed().as_secs_f64());
    }
    // SAFETY: SIGTERM to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    out.latencies.sort_by(f64::total_cmp);
    Ok(out)
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    let d = std::env::temp_dir().join(format!("mamori-bench-{}", hex::encode(b)));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
