//! The weekly reports archive: the report folders `mamori report` writes
//! (`<directory>/<YYYY-Www>/report.html`, `report.xlsx` …), listed newest
//! first, and their files served. A download names a week and a file by
//! patterns that cannot hold a path separator or `..`, and the file's
//! real path (symbolic links resolved) must lie inside the reports
//! directory: anything else is refused. Reports cover every root, so a
//! user restricted to some roots does not see the archive.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::app::{Shared, WebError};
use super::auth::Ctx;
use super::layout::{self, Nav, Tr};
use crate::store::web as db;

/// Weeks listed.
const MAX_WEEKS: usize = 156;
/// The largest file served.
const MAX_BYTES: u64 = 64 << 20;

/// `2026-W48`.
fn is_week(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && &b[4..6] == b"-W"
        && b[6..].iter().all(u8::is_ascii_digit)
}

/// A plain file name: letters, digits, `.`, `_`, `-`; not starting with a dot.
fn is_file_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A week's folder: its name and its files with their sizes.
type WeekFolder = (String, Vec<(String, u64)>);

/// The week folders and their files, newest first (plain entries only:
/// symbolic links are not listed).
fn archive(dir: &Path) -> std::io::Result<Vec<WeekFolder>> {
    let mut weeks = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        // No report written yet: the folder comes with the first one.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(weeks),
        r => r?,
    };
    for e in entries {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !is_week(&name) || !e.file_type()?.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        for f in std::fs::read_dir(e.path())? {
            let f = f?;
            let fname = f.file_name().to_string_lossy().into_owned();
            if is_file_name(&fname) && f.file_type()?.is_file() {
                files.push((fname, f.metadata()?.len()));
            }
        }
        files.sort();
        weeks.push((name, files));
    }
    weeks.sort_by(|a, b| b.0.cmp(&a.0));
    weeks.truncate(MAX_WEEKS);
    Ok(weeks)
}

pub(crate) async fn page(State(app): State<Shared>, ctx: Ctx) -> Result<Response, WebError> {
    let l = ctx.lang;
    let body = if !ctx.scope.is_empty() {
        html! { (layout::notice("info", l.t(
            "週次レポートは全庁分のため、表示範囲が限られたアカウントでは閲覧できません。",
            "Weekly reports cover every root: accounts restricted to some roots do not see them."
        ))) }
    } else {
        let dir = app.reports_directory.clone();
        let listed = tokio::task::spawn_blocking(move || archive(&dir))
            .await
            .map_err(|_| WebError::Internal("listing reports".into()))?;
        match listed {
            Err(e) => {
                tracing::warn!("reports directory: {e}");
                html! { (layout::notice("warn", l.t("レポートのフォルダを読めません（設定とアクセス権を確認してください）。", "The reports directory cannot be read (check the setting and permissions)."))) }
            }
            Ok(weeks) => html! {
                @if weeks.is_empty() {
                    p.muted { (l.t("まだレポートがありません（mamori report で作成されます）。", "No reports yet (mamori report writes them).")) }
                } @else {
                    table {
                        thead { tr { th { (l.t("週", "Week")) } th { (l.t("ファイル", "Files")) } } }
                        tbody {
                            @for (week, files) in &weeks {
                                tr {
                                    td { (week) }
                                    td {
                                        @for (f, size) in files {
                                            a href=(format!("/reports/{week}/{f}")) { (f) }
                                            span.muted { " (" (layout::num(*size as i64)) " B)" }
                                            " "
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        }
    };
    Ok(layout::page(
        &ctx,
        Nav::Reports,
        l.t("週次レポート", "Weekly reports"),
        body,
    ))
}

/// The real path of `week/name` under `dir`, if it is a file inside it.
fn resolve(dir: &Path, week: &str, name: &str) -> Result<PathBuf, WebError> {
    if !is_week(week) || !is_file_name(name) {
        return Err(WebError::BadRequest("not a report file name".into()));
    }
    let base = dir.canonicalize().map_err(|_| WebError::NotFound)?;
    let path = dir
        .join(week)
        .join(name)
        .canonicalize()
        .map_err(|_| WebError::NotFound)?;
    if !path.starts_with(&base) || !path.is_file() {
        tracing::warn!("refused a report download outside the reports directory");
        return Err(WebError::NotFound);
    }
    Ok(path)
}

pub(crate) async fn download(
    State(app): State<Shared>,
    ctx: Ctx,
    UrlPath((week, name)): UrlPath<(String, String)>,
) -> Result<Response, WebError> {
    if !ctx.scope.is_empty() {
        return Err(WebError::Forbidden);
    }
    let dir = app.reports_directory.clone();
    let path = resolve(&dir, &week, &name)?;
    let bytes = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let mut out = Vec::new();
        std::fs::File::open(path)?
            .take(MAX_BYTES)
            .read_to_end(&mut out)?;
        Ok(out)
    })
    .await
    .map_err(|_| WebError::Internal("reading a report".into()))?
    .map_err(|_| WebError::NotFound)?;
    {
        let (user, what) = (ctx.user.name.clone(), format!("{week}/{name}"));
        app.write(move |_, s| {
            Ok(db::audit(
                s.connection(),
                "web_report_download",
                Some(&user),
                None,
                &what,
            )?)
        })
        .await?;
    }
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    let mime = match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv" => "text/csv; charset=utf-8",
        "json" | "jsonl" => "application/json",
        "pdf" => "application/pdf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    let mut resp = ([(header::CONTENT_TYPE, mime)], bytes).into_response();
    let h = resp.headers_mut();
    if ext == "html" || ext == "htm" {
        // Shown in the browser, sandboxed: no scripts, its own inline styles.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ),
        );
    } else if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{week}-{name}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_the_directory() {
        assert!(is_week("2026-W48"));
        for bad in ["2026-W4", "..", "../2026-W48", "2026-W48/..", "2026_W48"] {
            assert!(!is_week(bad), "{bad}");
        }
        assert!(is_file_name("report.html"));
        for bad in ["..", ".hidden", "a/b", "a\\b", "", "%2e%2e"] {
            assert!(!is_file_name(bad), "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_directory_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let reports = d.path().join("reports");
        std::fs::create_dir_all(reports.join("2026-W48")).unwrap();
        std::fs::write(reports.join("2026-W48/report.html"), "<p>ok</p>").unwrap();
        std::fs::write(d.path().join("secret.txt"), "outside").unwrap();
        std::os::unix::fs::symlink(
            d.path().join("secret.txt"),
            reports.join("2026-W48/secret.txt"),
        )
        .unwrap();
        std::os::unix::fs::symlink(d.path(), reports.join("2026-W49")).unwrap();
        assert!(resolve(&reports, "2026-W48", "report.html").is_ok());
        assert!(resolve(&reports, "2026-W48", "secret.txt").is_err());
        assert!(resolve(&reports, "2026-W49", "secret.txt").is_err());
        assert!(resolve(&reports, "..", "secret.txt").is_err());
    }
}
