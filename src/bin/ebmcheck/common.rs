//! Shared pieces of the subcommands: exit codes, `--format`, `--set`, `--def`, JSON output,
//! standard output that ends quietly on a closed pipe, and `--color`.

use clap::ValueEnum;
use ebmcheck::expr::{Context, Diagnostic, Expr, Value, eval, parse, parse_definition};
use std::io::{IsTerminal, Write as _};
use std::sync::OnceLock;

/// Writes text to standard output. Every command prints through this (the binary denies
/// `clippy::print_stdout`): when the reader has closed the pipe (`ebmcheck check | head -2`) the
/// program ends quietly with exit 0, as ripgrep and cargo do; any other write error is exit 2.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Stderr may be gone too; nothing more to do about it.
        let _ = writeln!(
            std::io::stderr(),
            "error: cannot write to standard output: {e}"
        );
        std::process::exit(i32::from(EXIT_INVALID));
    }
}

/// `print!` through [`out`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::common::out(&format!($($arg)*)) };
}

/// `println!` through [`out`].
macro_rules! outln {
    () => { $crate::common::out("\n") };
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        $crate::common::out(&line)
    }};
}

/// When to colour the output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and `NO_COLOR` is not set (to a non-empty
    /// value), and `TERM` is not `dumb`.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

static COLOR: OnceLock<ColorChoice> = OnceLock::new();

/// Records the `--color` choice (once, at start-up).
pub fn set_color(choice: ColorChoice) {
    let _ = COLOR.set(choice);
}

/// Whether to colour standard output, by `--color` and, for `auto`, `NO_COLOR`, `TERM` and
/// whether standard output is a terminal.
pub fn use_color() -> bool {
    color_decision(
        COLOR.get().copied().unwrap_or_default(),
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
        std::io::stdout().is_terminal(),
    )
}

/// The decision of [`use_color`] from its inputs (<https://no-color.org>: a non-empty
/// `NO_COLOR` turns colour off).
fn color_decision(
    choice: ColorChoice,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
    terminal: bool,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            no_color.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb") && terminal
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn auto_colours_only_a_terminal_without_no_color() {
        let xterm = Some(OsStr::new("xterm"));
        assert!(color_decision(ColorChoice::Auto, None, xterm, true));
        assert!(!color_decision(ColorChoice::Auto, None, xterm, false));
        assert!(!color_decision(
            ColorChoice::Auto,
            Some(OsStr::new("1")),
            xterm,
            true
        ));
        assert!(color_decision(
            ColorChoice::Auto,
            Some(OsStr::new("")),
            xterm,
            true
        ));
        assert!(!color_decision(
            ColorChoice::Auto,
            None,
            Some(OsStr::new("dumb")),
            true
        ));
        assert!(color_decision(
            ColorChoice::Always,
            Some(OsStr::new("1")),
            None,
            false
        ));
        assert!(!color_decision(ColorChoice::Never, None, xterm, true));
    }
}

/// Whether progress may be drawn on standard error: a terminal, not CI, not `--quiet`.
pub fn progress_allowed(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// Exit code of invalid input or usage.
pub const EXIT_INVALID: u8 = 2;

/// An error to print on stderr with its exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The rendered message.
    pub message: String,
}

impl Failure {
    /// Invalid input, exit code 2.
    pub fn invalid(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_INVALID,
            message: message.into(),
        }
    }

    /// Invalid input located by a diagnostic in `source`.
    pub fn diagnostic(d: &Diagnostic, source: &str, origin: &str) -> Self {
        Failure::invalid(crate::hints::diagnostic(d).render(source, origin))
    }
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Plain text.
    Text,
    /// One JSON object, first field `"schema": 1`.
    Json,
}

/// Options shared by commands that evaluate expressions.
#[derive(Debug, clap::Args)]
pub struct ExprOptions {
    /// A definition the expression may call, e.g. `E(y, z) = (y - z)^2`, or a list `c = [0, 2]`.
    #[arg(long = "def", value_name = "DEFINITION", allow_hyphen_values = true)]
    pub defs: Vec<String>,
    /// A value: `NAME=VALUE`, VALUE a number, `inf`, a closed expression, or a list `[1, 2, 3]`.
    /// Names the expression does not use are ignored.
    #[arg(long = "set", value_name = "NAME=VALUE", allow_hyphen_values = true)]
    pub sets: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Builds the context: `--set` values first (definitions may use them), then `--def`s in order.
pub fn context(opts: &ExprOptions) -> Result<Context, Failure> {
    let mut ctx = Context::new();
    for set in &opts.sets {
        let Some((name, value)) = set.split_once('=') else {
            return Err(Failure::invalid(format!(
                "error: `--set {set}` is not of the form NAME=VALUE\n  = help: write `--set x=1.5`"
            )));
        };
        if value.trim().eq_ignore_ascii_case("nan") || value.trim().eq_ignore_ascii_case("-nan") {
            return Err(Failure::invalid(format!(
                "error: `--set {set}`: NaN (not a number) is not a value a variable can take\n  = help: give a finite number, `inf` or `-inf`"
            )));
        }
        let text = format!("{}={value}", name.trim());
        let def = parse_definition(&text).map_err(|d| Failure::diagnostic(&d, &text, "--set"))?;
        if !def.params.is_empty() {
            return Err(Failure::invalid(format!(
                "error: `--set {set}` sets a function\n  = help: use `--def` for definitions"
            )));
        }
        match &def.body.kind {
            ebmcheck::expr::ExprKind::List(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(closed_value(&ctx, item, &text)?);
                }
                ctx.set_list(&def.name, values);
            }
            _ => {
                let v = closed_value(&ctx, &def.body, &text)?;
                ctx.set_param(&def.name, v);
            }
        }
    }
    for text in &opts.defs {
        let def = parse_definition(text).map_err(|d| Failure::diagnostic(&d, text, "--def"))?;
        ctx.add_definition(def)
            .map_err(|d| Failure::diagnostic(&d, text, "--def"))?;
    }
    Ok(ctx)
}

fn closed_value(ctx: &Context, e: &Expr, text: &str) -> Result<f64, Failure> {
    let inlined = ctx
        .inline(e)
        .map_err(|d| Failure::diagnostic(&d, text, "--set"))?;
    eval(&inlined, &ctx.bindings()).map_err(|d| Failure::diagnostic(&d, text, "--set"))
}

/// Parses the main expression argument and inlines the context's definitions into it.
pub fn expression(ctx: &Context, src: &str) -> Result<(Expr, Expr), Failure> {
    let parsed = parse(src).map_err(|d| Failure::diagnostic(&d, src, ""))?;
    let inlined = ctx
        .inline(&parsed)
        .map_err(|d| Failure::diagnostic(&d, src, ""))?;
    Ok((parsed, inlined))
}

/// Checks that an evaluated value is a finite real number.
pub fn finite(v: f64, what: &Expr, src: &str) -> Result<f64, Failure> {
    if v.is_finite() {
        Ok(v)
    } else {
        let d = Diagnostic::new(
            ebmcheck::expr::ErrorKind::NoRealValue,
            what.span,
            format!("`{what}` overflows to {v}: not a finite real number"),
        )
        .with_help("check the point, or rewrite the expression to avoid overflow (e.g. `logsumexp`, `softplus`)");
        Err(Failure::diagnostic(&d, src, ""))
    }
}

/// A command's result as one line of JSON (`"schema": 1` first, the outer object's fields
/// spaced, nested values compact): [`ebmcheck::report::to_json_line`].
pub fn json_line<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    ebmcheck::report::to_json_line(value, ebmcheck::report::Spacing::Outer)
        .map_err(|e| Failure::invalid(format!("error: cannot write the JSON result: {e}")))
}

/// Whether every listed variable has a value in `ctx`.
pub fn all_set(ctx: &Context, vars: &[String]) -> bool {
    let b = ctx.bindings();
    vars.iter()
        .all(|v| matches!(b.get(v), Some(Value::Number(_) | Value::List(_))))
}

/// Splits `NAME=VALUE` (for `flag`), or says how to write it.
pub fn split_assignment<'a>(
    text: &'a str,
    flag: &str,
    example: &str,
) -> Result<(&'a str, &'a str), Failure> {
    text.split_once('=')
        .map(|(a, b)| (a.trim(), b.trim()))
        .filter(|(a, _)| !a.is_empty())
        .ok_or_else(|| {
            Failure::invalid(format!(
                "error: `{flag} {text}` is not of the form {example}\n  = help: write `{flag} {example}`"
            ))
        })
}

/// A number, `inf` or `-inf` (for the option `what`).
pub fn number(text: &str, what: &str) -> Result<f64, Failure> {
    match text.trim() {
        "inf" | "+inf" => Ok(f64::INFINITY),
        "-inf" => Ok(f64::NEG_INFINITY),
        t => t.parse::<f64>().ok().filter(|x| !x.is_nan()).ok_or_else(|| {
            Failure::invalid(format!(
                "error: {what}: `{t}` is not a number\n  = help: write a number, `inf` or `-inf`"
            ))
        }),
    }
}

/// `VAR=LO..HI` with LO < HI (for the option `flag`).
pub fn range(text: &str, flag: &str) -> Result<(String, f64, f64), Failure> {
    let (var, r) = split_assignment(text, flag, "z=LO..HI")?;
    let Some((lo, hi)) = r.split_once("..") else {
        return Err(Failure::invalid(format!(
            "error: `{flag} {text}`: `{r}` is not a range LO..HI\n  = help: write `{flag} {var}=-inf..inf` or `{flag} {var}=0..1`"
        )));
    };
    let (lo, hi) = (number(lo, flag)?, number(hi, flag)?);
    if lo >= hi {
        return Err(Failure::invalid(format!(
            "error: `{flag} {text}`: the range is empty (LO must be below HI)"
        )));
    }
    Ok((var.to_string(), lo, hi))
}

/// The free names of an inlined expression that are neither in `names` nor set in `bindings`.
pub fn unknown_names(
    inlined: &Expr,
    names: &[String],
    bindings: &ebmcheck::expr::Bindings,
) -> Vec<String> {
    ebmcheck::expr::free_variables(inlined)
        .into_iter()
        .filter(|v| {
            !names.contains(v)
                && !matches!(bindings.get(v), Some(Value::Number(_) | Value::List(_)))
        })
        .collect()
}

/// The error for names without a value, with how to give them one (`how` names the options).
pub fn unknown_names_failure(unknown: &[String], how: &str) -> Failure {
    Failure::invalid(format!(
        "error: the energy uses {} without a value\n  = help: {how}, or give it a value with `--set {}=VALUE`",
        unknown
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", "),
        unknown[0]
    ))
}

/// The files of a `--report DIR`: `index.html`, `report.md` with its SVG figures beside it, and
/// `report.json`.
pub struct ReportFiles {
    /// The self-contained HTML page.
    pub html: String,
    /// The Markdown report.
    pub markdown: String,
    /// `(file name, SVG)` of the figures the Markdown links.
    pub figures: Vec<(String, String)>,
    /// The same JSON as `--format json` (without timings).
    pub json: String,
}

impl ReportFiles {
    /// The files of a report page and the command's JSON output.
    pub fn from_page(page: &ebmcheck::report::page::Page, json: String) -> Self {
        let (markdown, figures) = page.to_markdown();
        ReportFiles {
            html: page.to_html(),
            markdown,
            figures,
            json,
        }
    }
}

/// Writes a report folder (created if missing), removes `figure-*.svg` files an earlier run left
/// there that this report does not link, and says on standard error where it wrote.
///
/// # Errors
/// A [`Failure`] (exit 2) naming the file that could not be written.
pub fn write_report_files(dir: &std::path::Path, files: &ReportFiles) -> Result<(), Failure> {
    let fail = |what: &str, e: std::io::Error| {
        Failure::invalid(format!(
            "error: cannot write {what} in {}: {e}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("the report folder", e))?;
    let mut stale = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_figure = name.starts_with("figure-") && name.ends_with(".svg");
            if is_figure && !files.figures.iter().any(|(n, _)| *n == name) {
                stale.push(entry.path());
            }
        }
    }
    for path in &stale {
        std::fs::remove_file(path).map_err(|e| fail("(removing a stale figure)", e))?;
    }
    std::fs::write(dir.join("index.html"), &files.html).map_err(|e| fail("index.html", e))?;
    std::fs::write(dir.join("report.md"), &files.markdown).map_err(|e| fail("report.md", e))?;
    for (name, svg) in &files.figures {
        std::fs::write(dir.join(name), svg).map_err(|e| fail(name, e))?;
    }
    std::fs::write(dir.join("report.json"), &files.json).map_err(|e| fail("report.json", e))?;
    let removed = if stale.is_empty() {
        String::new()
    } else {
        format!(
            "; removed {} stale figure file{} of an earlier report",
            stale.len(),
            if stale.len() == 1 { "" } else { "s" }
        )
    };
    eprintln!(
        "report: {} (also report.md with {} figure{}, report.json){removed}",
        dir.join("index.html").display(),
        files.figures.len(),
        if files.figures.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

/// Runs `work` while a spinner on standard error says what is being done and for how long
/// (`⠋ sampling 4000000 draws with hmc [00:00:07]`). It appears only after a second and only
/// when [`progress_allowed`]: never in pipes, files, CI or JSON consumers' stdout.
pub fn with_spinner<T>(enabled: bool, message: &str, work: impl FnOnce() -> T) -> T {
    if !enabled {
        return work();
    }
    let bar = indicatif::ProgressBar::hidden();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_string());
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let shower = {
        let (bar, done) = (bar.clone(), done.clone());
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if start.elapsed() > std::time::Duration::from_secs(1) {
                    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    bar.enable_steady_tick(std::time::Duration::from_millis(120));
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        })
    };
    let out = work();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = shower.join();
    bar.finish_and_clear();
    out
}

/// The arguments as one line, quoting those a shell would split.
pub fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_alphanumeric() || "-_=.,/:+".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The provenance of a report written now by this process: version, the commit the binary was
/// built from (when `build.rs` could ask git), the command line, the seed, the date, the cores.
pub fn provenance(seed: Option<u64>) -> ebmcheck::report::provenance::Provenance {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    ebmcheck::report::provenance::Provenance {
        version: env!("CARGO_PKG_VERSION").to_string(),
        git_hash: option_env!("EBMCHECK_GIT_HASH")
            .filter(|h| !h.is_empty())
            .map(str::to_string),
        command: format!("ebmcheck {}", shell_words(&args)),
        seed,
        date: ebmcheck::report::provenance::iso_date(now),
        cores: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    }
}

/// A JSON object's text with a `"provenance"` field added last (the fields before it, `"schema"`
/// first, keep their order).
pub fn with_provenance(json: &str, p: &ebmcheck::report::provenance::Provenance) -> String {
    let body = json.trim_end();
    match body.strip_suffix('}') {
        Some(head) => {
            let head = head.trim_end();
            let sep = if head.ends_with('{') { "" } else { "," };
            format!("{head}{sep}\n  \"provenance\": {}\n}}\n", p.to_json())
        }
        None => json.to_string(),
    }
}
