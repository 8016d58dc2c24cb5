//! Loading a derivation file: serde reads the raw tables with spans (`raw`), then [`load_str`]
//! validates every field, parses every expression and maps any error inside an expression string
//! back to the line and column of the TOML file (`source`).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::claims::is_known_claim;
use super::kinds;
use super::raw::{COMMON_FIELDS, RawCheck, RawFile, toml_help};
use super::source::{Location, SourceMap, SpecError, SpecErrorKind};
use super::spec::{
    CheckKind, CheckSpec, DefinitionSpec, DerivationFile, LimitPoint, ParamValue, PointRange,
    PointSpec, SourceExpr, VarDomain,
};
use crate::budgets::{self, Budget};
use crate::domain::{IntRange, MAX_DOMAIN_VALUES};
use crate::expr::{self, Expr};

mod fields;
mod literals;

use literals::{constant_value, parse_point_range};
pub(crate) use literals::{is_identifier, parse_domain};

/// Loads a derivation file from its text; `path` is used in diagnostics only.
///
/// # Errors
/// Every problem found, each with file:line:column; the list is never empty on `Err`.
pub fn load_str(path: &str, text: &str) -> Result<DerivationFile, Vec<SpecError>> {
    let map = SourceMap::new(path, text);
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_string();
            let help = toml_help(&message);
            return Err(vec![map.error(span, SpecErrorKind::Toml, message, help)]);
        }
    };
    let mut loader = Loader {
        map: &map,
        errors: Vec::new(),
    };
    let file = loader.file(raw);
    if loader.errors.is_empty() {
        file.ok_or_else(Vec::new)
    } else {
        Err(loader.errors)
    }
}

/// The loader's state: the file's source map and the errors found so far (each kind's
/// validation in `kinds` reports through it).
pub(crate) struct Loader<'a> {
    map: &'a SourceMap<'a>,
    errors: Vec<SpecError>,
}

impl Loader<'_> {
    pub(crate) fn err(
        &mut self,
        span: Range<usize>,
        kind: SpecErrorKind,
        msg: String,
        help: Option<String>,
    ) {
        self.errors.push(self.map.error(span, kind, msg, help));
    }

    pub(crate) fn invalid(&mut self, span: Range<usize>, msg: String, help: Option<&str>) {
        self.err(span, SpecErrorKind::Invalid, msg, help.map(str::to_string));
    }

    fn location(&self, offset: usize) -> Location {
        let (line, column) = self.map.line_col(offset);
        Location {
            path: self.map.path.to_string(),
            line,
            column,
        }
    }

    /// Byte offset where the content of a TOML string value starts, and whether the content is
    /// the verbatim text of the file (so columns inside it map exactly).
    fn string_content_start(&self, span: &Range<usize>, value: &str) -> (usize, bool) {
        let raw = self.map.text.get(span.clone()).unwrap_or("");
        for quote in ["\"\"\"", "'''"] {
            if let Some(rest) = raw.strip_prefix(quote) {
                let skip = if rest.starts_with("\r\n") {
                    2
                } else {
                    usize::from(rest.starts_with('\n'))
                };
                let start = span.start + 3 + skip;
                let exact = self.map.text.get(start..start + value.len()) == Some(value);
                return (start, exact);
            }
        }
        let start = span.start + 1;
        let exact = self.map.text.get(start..start + value.len()) == Some(value);
        (start, exact)
    }

    pub(crate) fn expression(&mut self, s: &Spanned<String>) -> Option<SourceExpr> {
        let span = s.span();
        let text = s.get_ref();
        let (start, exact) = self.string_content_start(&span, text);
        match expr::parse(text) {
            Ok(e) => Some(SourceExpr {
                expr: e,
                text: text.clone(),
                location: self.location(start),
                verbatim: exact,
            }),
            Err(e) => {
                let inner = e.span;
                let (lo, hi) = if exact {
                    (start + inner.start, start + inner.end)
                } else {
                    (span.start, span.end)
                };
                self.err(lo..hi, SpecErrorKind::Parse, e.message, e.help);
                None
            }
        }
    }

    fn file(&mut self, raw: RawFile) -> Option<DerivationFile> {
        let parameters = self.parameters(&raw.parameters);
        let variables = self.variables(&raw.variables);
        let definitions = self.definitions(&raw.definitions);
        let seed = raw.seed.as_ref().and_then(|s| {
            if *s.get_ref() < 0 {
                self.invalid(s.span(), "seed must be a non-negative integer".into(), None);
                None
            } else {
                u64::try_from(*s.get_ref()).ok()
            }
        });
        let mut defaults = self.point_ranges(&raw.points);
        defaults.count = 5;
        if let Some(c) = &raw.count {
            if let Some(n) = self.point_count(c.span(), *c.get_ref()) {
                defaults.count = n;
            }
        }
        // `count = N` written under `[points]` (as docs/derivations.md shows) is the number of
        // points, never a variable called `count`.
        if let Some(n) = self.count_in_points(&raw.points) {
            defaults.count = n;
        }
        let certify = raw.certify.as_ref().map(|c| (*c.get_ref(), c.span()));
        let mut checks = Vec::new();
        for raw_check in &raw.checks {
            if let Some(c) = self.check(raw_check, &defaults, certify.clone()) {
                checks.push(c);
            }
        }
        let ctx = self.context(&parameters, &definitions);
        for check in &checks {
            for e in check.kind.expressions() {
                self.scope(e, &ctx);
            }
        }
        if raw.checks.is_empty() {
            self.invalid(
                0..0,
                "the file has no checks".into(),
                Some("add a [[check]] table with name, claim and kind"),
            );
        }
        Some(DerivationFile {
            path: self.map.path.to_string(),
            title: raw.title.into_inner(),
            source: raw.source.map(Spanned::into_inner),
            seed,
            parameters,
            variables,
            definitions,
            checks,
        })
    }

    /// A context with the file's parameters and definitions; definition errors (unknown
    /// functions, cycles, wrong arity) are reported at their place in the file.
    fn context(
        &mut self,
        parameters: &BTreeMap<String, ParamValue>,
        definitions: &[DefinitionSpec],
    ) -> expr::Context {
        let mut ctx = expr::Context::new();
        for (k, v) in parameters {
            match v {
                ParamValue::Number(x) => ctx.set_param(k, *x),
                ParamValue::List(xs) => ctx.set_list(k, xs.clone()),
            }
        }
        let defs: Vec<expr::Definition> = definitions
            .iter()
            .map(|d| expr::Definition {
                name: d.name.clone(),
                name_span: expr::Span::default(),
                params: d.params.clone(),
                body: d.body.expr.clone(),
            })
            .collect();
        if let Err(e) = ctx.add_definitions(defs) {
            if let Some(d) = definitions.get(e.index) {
                let start = d.body.location_offset(self.map);
                let span = e.diagnostic.span;
                self.err(
                    start + span.start..start + span.end,
                    SpecErrorKind::Invalid,
                    format!("in definition `{}`: {}", d.name, e.diagnostic.message),
                    e.diagnostic.help.clone(),
                );
            }
        }
        ctx
    }

    fn parameters(
        &mut self,
        raw: &BTreeMap<String, Spanned<toml::Value>>,
    ) -> BTreeMap<String, ParamValue> {
        let mut out = BTreeMap::new();
        for (name, value) in raw {
            let span = value.span();
            let parsed = match value.get_ref() {
                toml::Value::Float(x) => Some(ParamValue::Number(*x)),
                #[allow(clippy::cast_precision_loss)]
                toml::Value::Integer(i) => Some(ParamValue::Number(*i as f64)),
                toml::Value::Array(items) => {
                    let mut xs = Vec::new();
                    for item in items {
                        match item {
                            toml::Value::Float(x) => xs.push(*x),
                            #[allow(clippy::cast_precision_loss)]
                            toml::Value::Integer(i) => xs.push(*i as f64),
                            _ => {
                                self.invalid(
                                    span.clone(),
                                    format!("list parameter `{name}` must hold numbers only"),
                                    None,
                                );
                                break;
                            }
                        }
                    }
                    Some(ParamValue::List(xs))
                }
                toml::Value::String(s) => {
                    let spanned = Spanned::new(span.clone(), s.clone());
                    self.expression(&spanned)
                        .and_then(|e| match constant_value(&e.expr, &out) {
                            Ok(v) => Some(ParamValue::Number(v)),
                            Err(msg) => {
                                self.invalid(
                                    span.clone(),
                                    format!("parameter `{name}` is not a constant: {msg}"),
                                    Some("a parameter may use numbers, pi and earlier parameters"),
                                );
                                None
                            }
                        })
                }
                _ => {
                    self.invalid(
                        span.clone(),
                        format!("parameter `{name}` must be a number, a list of numbers or a constant expression"),
                        None,
                    );
                    None
                }
            };
            if let Some(p) = parsed {
                out.insert(name.clone(), p);
            }
        }
        out
    }

    fn variables(
        &mut self,
        raw: &BTreeMap<String, Spanned<String>>,
    ) -> BTreeMap<String, VarDomain> {
        let mut out = BTreeMap::new();
        for (name, value) in raw {
            match parse_domain(value.get_ref()) {
                Ok(d) => {
                    out.insert(name.clone(), d);
                }
                Err(msg) => self.invalid(
                    value.span(),
                    format!("variable `{name}`: {msg}"),
                    Some("write a domain as \"-inf..inf\", \"0..1\", or \"integer 0..2\""),
                ),
            }
        }
        out
    }

    fn definitions(&mut self, raw: &BTreeMap<String, Spanned<String>>) -> Vec<DefinitionSpec> {
        let mut defs = Vec::new();
        for (signature, body) in raw {
            let key_span = self.key_span(signature, body.span().start);
            // The same head rules as `--def` (one function): a definable name, distinct
            // parameters that are not reserved words.
            let (name, params) = match expr::parse_definition_head(signature) {
                Ok(h) => (h.name, h.params),
                Err(e) => {
                    let exact = self.map.text.get(key_span.clone()) == Some(signature.as_str());
                    let span = if exact {
                        key_span.start + e.span.start..key_span.start + e.span.end.max(e.span.start)
                    } else {
                        key_span
                    };
                    self.err(
                        span,
                        SpecErrorKind::Invalid,
                        format!(
                            "definition head `{}`: {}",
                            expr::visible(signature),
                            e.message
                        ),
                        e.help.or_else(|| {
                            Some(
                                "write the key as \"F(beta, y)\": a name and its parameters".into(),
                            )
                        }),
                    );
                    continue;
                }
            };
            if let Some(body) = self.expression(body) {
                defs.push(DefinitionSpec { name, params, body });
            }
        }
        defs
    }

    /// The span of a quoted key on the line of its value, for diagnostics about the key.
    fn key_span(&self, key: &str, value_start: usize) -> Range<usize> {
        let line_start = self.map.text[..value_start.min(self.map.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = &self.map.text[line_start..value_start.min(self.map.text.len())];
        match line.find(key) {
            Some(i) => line_start + i..line_start + i + key.len(),
            None => line_start..line_start + 1,
        }
    }

    /// A number of test points: a positive integer within the `points` budget.
    fn point_count(&mut self, span: Range<usize>, n: i64) -> Option<usize> {
        match usize::try_from(n) {
            Ok(k) if k >= 1 => self.within(Budget::Points, k, span, "`count`"),
            _ => {
                self.invalid(span, "count must be a positive integer".into(), None);
                None
            }
        }
    }

    /// `count` written inside a `points` table: the number of points.
    fn count_in_points(&mut self, raw: &BTreeMap<String, Spanned<toml::Value>>) -> Option<usize> {
        let value = raw.get("count")?;
        match value.get_ref() {
            toml::Value::Integer(n) => self.point_count(value.span(), *n),
            _ => {
                self.invalid(
                    value.span(),
                    "`count` in a points table is the number of test points, so it must be a positive integer".into(),
                    Some("a variable cannot be called `count`; rename it"),
                );
                None
            }
        }
    }

    fn point_ranges(&mut self, raw: &BTreeMap<String, Spanned<toml::Value>>) -> PointSpec {
        let mut spec = PointSpec::default();
        for (name, value) in raw {
            if name == "count" {
                continue;
            }
            let span = value.span();
            let range = match value.get_ref() {
                toml::Value::Float(x) => Ok(PointRange::Fixed(*x)),
                #[allow(clippy::cast_precision_loss)]
                toml::Value::Integer(i) => Ok(PointRange::Fixed(*i as f64)),
                toml::Value::String(s) => parse_point_range(s),
                toml::Value::Array(items) => items
                    .iter()
                    .map(|v| match v {
                        toml::Value::Float(x) => Ok(*x),
                        #[allow(clippy::cast_precision_loss)]
                        toml::Value::Integer(i) => Ok(*i as f64),
                        _ => Err("a list of test values must hold numbers".to_string()),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .and_then(|xs| {
                        if xs.is_empty() {
                            Err("a list of test values must not be empty".to_string())
                        } else {
                            Ok(PointRange::Values(xs))
                        }
                    }),
                _ => Err("expected a range string, a number or a list of numbers".into()),
            };
            match range {
                Ok(r) => {
                    spec.ranges.insert(name.clone(), r);
                }
                Err(msg) => self.invalid(
                    span,
                    format!("test points for `{name}`: {msg}"),
                    Some(
                        "write \"0.5..5\", \"0.1..100 log\", \"integer 0..3\", a number, or a list",
                    ),
                ),
            }
        }
        spec
    }

    /// Validates one `[[check]]` table; `certify` is the file's default (`certify = …` at the
    /// top level) with its span.
    fn check(
        &mut self,
        raw: &Spanned<RawCheck>,
        defaults: &PointSpec,
        certify: Option<(bool, Range<usize>)>,
    ) -> Option<CheckSpec> {
        let span = raw.span();
        let c = raw.get_ref();
        let location = self.location(span.start);
        let name = match c.text("name") {
            Some(n) => n.get_ref().clone(),
            None => {
                self.invalid(span.clone(), "a check needs a `name`".into(), None);
                return None;
            }
        };
        let claim = match c.text("claim") {
            Some(cl) if is_known_claim(cl.get_ref()) => cl.get_ref().clone(),
            Some(cl) => {
                self.err(
                    cl.span(),
                    SpecErrorKind::UnknownClaim(cl.get_ref().clone()),
                    format!("unknown claim id `{}`", cl.get_ref()),
                    Some("claim ids are C1 to C13, as listed in docs/derivations.md".into()),
                );
                return None;
            }
            None => {
                self.invalid(
                    span.clone(),
                    format!("check `{name}` needs a `claim` (an id such as \"C5\")"),
                    None,
                );
                return None;
            }
        };
        let Some(kind_name) = c.text("kind") else {
            self.invalid(
                span.clone(),
                format!("check `{name}` needs a `kind`"),
                Some("kinds: equal, bound, limit, monotone, convex, gradient, chain"),
            );
            return None;
        };
        let kind = self.kind(kind_name, c, &span)?;
        let certify = self.certify(c, &kind, &span, certify);
        let mut points = defaults.clone();
        if let Some(own) = c.points("points") {
            if let Some(n) = self.count_in_points(own) {
                points.count = n;
            }
            let own = self.point_ranges(own);
            points.ranges.extend(own.ranges);
        }
        if let Some(n) = c.integer("count") {
            if let Some(k) = self.point_count(n.span(), *n.get_ref()) {
                points.count = k;
            }
        }
        if let Some(at) = c.at("at") {
            points.listed = at
                .iter()
                .map(|p| p.iter().map(|(k, v)| (k.clone(), *v.get_ref())).collect())
                .collect();
        }
        Some(CheckSpec {
            name,
            claim,
            kind,
            points,
            location,
            certify,
        })
    }

    /// Whether a check asks for certified values: its own `certify`, else the file's. A
    /// statistical kind has nothing to certify, and a `gradient` check's finite differences
    /// have no certified error, so `certify = true` on one is refused, at its own key or, when
    /// the file's default asks for it, at the check's table (with the way out: `certify =
    /// false` on that check) — never run uncertified under a file that asked.
    fn certify(
        &mut self,
        c: &RawCheck,
        kind: &CheckKind,
        table: &Range<usize>,
        file: Option<(bool, Range<usize>)>,
    ) -> bool {
        let own = c.flag("certify").map(|f| (*f.get_ref(), f.span()));
        let (on, span, from_file) = match (own, file) {
            (Some((on, span)), _) => (on, span, false),
            (None, Some((on, _))) => (on, table.clone(), true),
            (None, None) => return false,
        };
        if on && matches!(kind, CheckKind::Estimator(_) | CheckKind::Gradient(_)) {
            let why = if matches!(kind, CheckKind::Estimator(_)) {
                "its verdict is statistical (Monte-Carlo replicates), not a computed value"
            } else {
                "its finite differences carry an extrapolated error, not a certified one"
            };
            let whence = if from_file {
                " (asked for by the file's `certify = true`)"
            } else {
                ""
            };
            self.invalid(
                span,
                format!(
                    "`certify = true`{whence} does not apply to a `{}` check: {why}",
                    kind.name()
                ),
                Some("set `certify = false` on this check"),
            );
            return false;
        }
        on
    }

    /// Reports calls of undefined functions (with the nearest known name) and wrong arities.
    fn scope(&mut self, e: &SourceExpr, ctx: &expr::Context) {
        if let Err(d) = ctx.check_calls(&e.expr) {
            let start = e.location_offset(self.map);
            let kind = if d.kind == expr::ErrorKind::UnknownFunction {
                SpecErrorKind::UndefinedSymbol(
                    e.text
                        .get(d.span.start..d.span.end)
                        .unwrap_or("")
                        .to_string(),
                )
            } else {
                SpecErrorKind::Invalid
            };
            self.err(
                start + d.span.start..start + d.span.end,
                kind,
                d.message,
                d.help,
            );
        }
    }
}

impl SourceExpr {
    fn location_offset(&self, map: &SourceMap<'_>) -> usize {
        map.offset_of(self.location.line, self.location.column)
    }
}

#[cfg(test)]
mod tests;
