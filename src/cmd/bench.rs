//! `mamori bench`: detection throughput on generated Japanese text, in MB/s
//! per core (one thread) and on all cores. Two corpora: administrative prose
//! with no identifiers, and resident-list records dense with identifiers.
//! Figures are printed, not asserted: targets live in the README and the
//! issue notes.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use mamori::cli::BenchArgs;

use rayon::prelude::*;

use mamori::detect::Engine;
use mamori::finding::Finding;
use mamori::outcome::{FileRef, Outcome, OutcomeSink, ScanStats, SinkError};
use mamori::scanner::{Isolation, Scanner};
use mamori::settings::ScanSettings;
use mamori::text::TextUnit;

use mamori::sample_text::{dense_corpus, my_number_from, prose_corpus, PROSE};

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

fn bench_corpus(dir: &std::path::Path, key: [u8; 32]) -> Result<ExitCode> {
    let b = corpus(dir, key).with_context(|| format!("benchmarking {}", dir.display()))?;
    let mut out = std::io::stdout().lock();
    let mb = |bytes: u64| bytes as f64 / 1e6;
    writeln!(
        out,
        "mamori bench --corpus {}: {} files, {:.1} MB",
        dir.display(),
        b.files,
        mb(b.bytes)
    )?;
    writeln!(
        out,
        "{:<22} {:>6} {:>9} {:>9} {:>14}",
        "format", "files", "MB", "seconds", "MB/s 1 thread"
    )?;
    for (f, n, bytes, secs) in &b.per_format {
        writeln!(
            out,
            "{f:<22} {n:>6} {:>9.1} {secs:>9.2} {:>14.1}",
            mb(*bytes),
            mb(*bytes) / secs
        )?;
    }
    writeln!(
        out,
        "whole scan, {} threads, in-process:      {:>7.2} s  {:>7.1} MB/s",
        b.threads,
        b.whole_in_process,
        mb(b.bytes) / b.whole_in_process
    )?;
    writeln!(
        out,
        "whole scan, {} threads, worker processes: {:>7.2} s  {:>7.1} MB/s",
        b.threads,
        b.whole_isolated,
        mb(b.bytes) / b.whole_isolated
    )?;
    if let Some((n, bytes, secs)) = b.pdftotext {
        writeln!(
            out,
            "pdftotext alone on the {n} PDFs ({:.1} MB):       {secs:>7.2} s",
            mb(bytes)
        )?;
    }
    if let Some((n, bytes, secs)) = b.unzip {
        writeln!(
            out,
            "unzip -p alone on the {n} zip-based files ({:.1} MB): {secs:>7.2} s",
            mb(bytes)
        )?;
    }
    if let Some(secs) = b.external_both {
        writeln!(
            out,
            "pdftotext + unzip -p, {} threads: {secs:.2} s; mamori's whole scan takes {:.2}x that (target: within 2x)",
            b.threads,
            b.whole_isolated / secs
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `mamori bench`: prints figures (targets live in README.md, not in tests).
pub fn command(args: BenchArgs) -> Result<ExitCode> {
    if let (Some(n), Some(dir)) = (args.report_store, &args.report_dir) {
        std::fs::create_dir_all(dir)?;
        return super::bench_report::make(n, &std::fs::canonicalize(dir)?);
    }
    let key = super::random_key();
    let engine = Engine::load(
        args.detector_args.detectors.as_deref(),
        mamori::finding::Fingerprinter::new(key),
    )
    .context("loading detectors")?;
    if let Some(dir) = &args.corpus {
        return bench_corpus(dir, key);
    }
    if let Some(n) = args.service {
        let b = service(n, 40, &std::env::current_exe()?, key)?;
        let pct = |q: f64| {
            b.latencies
                .get(((b.latencies.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "mamori bench --service {n}")?;
        writeln!(
            out,
            "first scan into the store:        {:>8.2} s ({:.0} files/s)",
            b.first_scan,
            n as f64 / b.first_scan
        )?;
        writeln!(
            out,
            "no-change rescan (--incremental): {:>8.2} s (target <= 10 s for 100,000 files)",
            b.no_change_rescan
        )?;
        writeln!(
            out,
            "file dropped -> findings stored ({} files): p50 {:.2} s, p95 {:.2} s, max {:.2} s (target p95 <= 2 s)",
            b.latencies.len(),
            pct(0.5),
            pct(0.95),
            pct(1.0)
        )?;
        writeln!(
            out,
            "peak RSS: this process {} MB, largest worker {} MB",
            b.rss_self_kb / 1024,
            b.rss_worker_kb / 1024
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let results = run(&engine, args.size_mb, args.iterations, args.only.as_deref());
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "mamori bench: detection on generated Japanese text, 4 KB units, best of {} runs",
        args.iterations
    )?;
    writeln!(
        out,
        "{:<24} {:>8} {:>10} {:>14} {:>12} {:>16} {:>9}",
        "corpus", "MB", "findings", "MB/s 1 thread", "MB/CPU-s", "MB/s all cores", "threads"
    )?;
    for r in &results {
        writeln!(
            out,
            "{:<24} {:>8.1} {:>10} {:>14.1} {:>12} {:>16.1} {:>9}",
            r.name,
            r.bytes as f64 / 1e6,
            r.findings,
            r.mb_per_s_one(),
            r.mb_per_cpu_s()
                .map(|x| format!("{x:.1}"))
                .unwrap_or_else(|| "-".into()),
            r.mb_per_s_all(),
            r.threads
        )?;
    }
    writeln!(
        out,
        "targets: >= 100 MB/s per core without identifiers, >= 50 MB/s with dense identifiers"
    )?;
    if args.patterns {
        writeln!(
            out,
            "\nshare of units that trigger each detector\n{:>8} {:>8}  detector",
            "prose", "dense"
        )?;
        for (det, prose, dense) in trigger_shares(&engine, args.size_mb) {
            writeln!(out, "{prose:>8.2} {dense:>8.2}  {det}")?;
        }
        writeln!(
            out,
            "\none pass of each pattern alone (ms of CPU per MB, most expensive on dense text first)\n{:>8} {:>8} {:>8}  detector / pattern",
            "dense", "prose", "matches"
        )?;
        for c in pattern_costs(&engine, args.size_mb) {
            writeln!(
                out,
                "{:>8.2} {:>8.2} {:>8}  {:<24} {}",
                c.dense_ms_per_mb, c.prose_ms_per_mb, c.dense_matches, c.detector, c.pattern
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori::detect::validators::{my_number_check_digit, Validation};

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
impl OutcomeSink for NullSink {
    fn accept(&mut self, _: &Outcome) -> Result<(), SinkError> {
        Ok(())
    }
    fn finish(&mut self, _: &ScanStats) -> Result<(), SinkError> {
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
pub fn corpus(dir: &std::path::Path, key: [u8; 32]) -> anyhow::Result<CorpusBench> {
    use mamori::extract::Format;
    let in_process = Scanner::build(ScanSettings::default(), key, Isolation::InProcess)?;
    let isolated = Scanner::build(ScanSettings::default(), key, Isolation::Workers)?;
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
    let roots = vec![dir.to_path_buf()];
    for (name, group) in by {
        let t = Instant::now();
        for (p, size, _) in &group {
            in_process.scan_file(&roots, FileRef::new(p.clone(), *size, 0), None, &mut |_| {});
        }
        out.per_format.push((
            name.to_string(),
            group.len(),
            group.iter().map(|f| f.1).sum(),
            t.elapsed().as_secs_f64(),
        ));
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    for (scanner, isolated) in [(&in_process, false), (&isolated, true)] {
        let job = mamori::scan::ScanJob {
            roots: &roots,
            scanner,
            min_confidence: mamori::finding::Confidence::Low,
            unchanged: None,
            stop: &stop,
        };
        let t = Instant::now();
        mamori::scan::run(&job, &mut NullSink, &|_| {})?;
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
    pub first_scan: f64,
    pub no_change_rescan: f64,
    /// Seconds from a file written into a watched folder to its findings stored.
    pub latencies: Vec<f64>,
    /// Peak RSS of this process and of its largest worker, in KB.
    pub rss_self_kb: i64,
    pub rss_worker_kb: i64,
}

/// Peak resident memory in KB of this process (`children == false`) or of
/// its largest waited-for child; 0 where the platform does not say.
fn maxrss_kb(children: bool) -> i64 {
    #[cfg(unix)]
    {
        let who = if children {
            libc::RUSAGE_CHILDREN
        } else {
            libc::RUSAGE_SELF
        };
        // SAFETY: getrusage with a valid out-pointer.
        unsafe {
            let mut u: libc::rusage = std::mem::zeroed();
            libc::getrusage(who, &mut u);
            u.ru_maxrss
        }
    }
    #[cfg(not(unix))]
    {
        let _ = children;
        0
    }
}

/// Asks a child process to stop as the service manager would.
fn terminate(child: &mut std::process::Child) {
    #[cfg(unix)]
    // SAFETY: SIGTERM to our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    #[cfg(not(unix))]
    let _ = child.kill();
}

/// Measures the store and the service on `n` generated files.
pub fn service(
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
    let scanner = Scanner::build(ScanSettings::default(), key, Isolation::Workers)?;
    let mut out = ServiceBench::default();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for pass in 0..2 {
        let store = mamori::store::Store::open(&db, &scanner.keys)?;
        let mut sink = mamori::store::StoreSink::new(
            store,
            &roots,
            scanner.set_version(),
            Box::new(NullSink),
            stop.clone(),
        )?;
        let reader = std::sync::Mutex::new(mamori::store::Store::open_read_only(&db)?);
        let set = scanner.set_version().to_string();
        let unchanged = |p: &std::path::Path, size: u64, mtime: i64| {
            let conn = reader.lock().unwrap_or_else(|e| e.into_inner());
            mamori::store::stored_state(&conn, &scanner.keys, p, size, mtime, &set)
        };
        let job = mamori::scan::ScanJob {
            roots: &roots,
            scanner: &scanner,
            min_confidence: mamori::finding::Confidence::Low,
            unchanged: if pass == 1 { Some(&unchanged) } else { None },
            stop: &stop,
        };
        let t = Instant::now();
        mamori::scan::run(&job, &mut sink, &|_| {})?;
        let secs = t.elapsed().as_secs_f64();
        if pass == 0 {
            out.first_scan = secs;
        } else {
            out.no_change_rescan = secs;
        }
    }
    drop(scanner);
    out.rss_self_kb = maxrss_kb(false);
    out.rss_worker_kb = maxrss_kb(true);

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
        let n: i64 = mamori::store::Store::open_read_only(&live_db)
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
    let conn = mamori::store::Store::open_read_only(&live_db)?;
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
    terminate(&mut child);
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
