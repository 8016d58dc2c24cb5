//! The field readers the check kinds use (`check/kinds/*`): required and foreign fields, the kind
//! itself, variable names, ranges, counts within their budgets and limit points, each reporting
//! its error at the field's span.

use super::*;

impl Loader<'_> {
    pub(crate) fn required(
        &mut self,
        field: Option<&Spanned<String>>,
        key: &str,
        kind: &str,
        span: &Range<usize>,
    ) -> Option<SourceExpr> {
        match field {
            Some(s) => self.expression(s),
            None => self.missing(kind, key, span),
        }
    }

    /// Reports that a `kind` check lacks the field `key` (at the check's table); `None`.
    pub(super) fn missing<T>(&mut self, kind: &str, key: &str, span: &Range<usize>) -> Option<T> {
        self.invalid(
            span.clone(),
            format!("a `{kind}` check needs `{key}`"),
            None,
        );
        None
    }

    pub(crate) fn variable_name(
        &mut self,
        field: Option<&Spanned<String>>,
        key: &str,
        kind: &str,
        span: &Range<usize>,
    ) -> Option<String> {
        match field {
            Some(s) if is_identifier(s.get_ref()) => Some(s.get_ref().clone()),
            Some(s) => {
                self.invalid(s.span(), format!("`{key}` must be a variable name"), None);
                None
            }
            None => self.missing(kind, key, span),
        }
    }

    pub(crate) fn range_field(
        &mut self,
        field: Option<&Spanned<String>>,
        kind: &str,
        span: &Range<usize>,
    ) -> Option<(f64, f64)> {
        let Some(r) = field else {
            self.invalid(
                span.clone(),
                format!("a `{kind}` check needs `range` (\"lo..hi\")"),
                None,
            );
            return None;
        };
        match parse_domain(r.get_ref()) {
            Ok(VarDomain::Continuous { lo, hi }) if lo.is_finite() && hi.is_finite() => {
                Some((lo, hi))
            }
            _ => {
                self.invalid(
                    r.span(),
                    "range must be a finite interval \"lo..hi\" with lo < hi".into(),
                    None,
                );
                None
            }
        }
    }

    /// Reports fields present in `c` that the kind does not use (in the order of
    /// [`CHECK_FIELDS`](crate::check::raw::CHECK_FIELDS)); the fields every kind shares always apply.
    pub(crate) fn reject_foreign(&mut self, c: &RawCheck, kind: &str, allowed: &[&str]) {
        for (key, field) in c.present() {
            if COMMON_FIELDS.contains(&key) || allowed.contains(&key) {
                continue;
            }
            if let Some(span) = field.span() {
                self.invalid(
                    span,
                    format!("`{key}` does not apply to a `{kind}` check"),
                    Some("docs/derivations.md lists the fields of each kind"),
                );
            }
        }
    }

    pub(super) fn kind(
        &mut self,
        kind_name: &Spanned<String>,
        c: &RawCheck,
        span: &Range<usize>,
    ) -> Option<CheckKind> {
        let kind = kind_name.get_ref().as_str();
        let tolerance = c.number("tolerance").map(|t| *t.get_ref());
        if let Some(t) = c.number("tolerance") {
            if !(t.get_ref().is_finite() && *t.get_ref() >= 0.0) {
                self.invalid(
                    t.span(),
                    "tolerance must be a non-negative number".into(),
                    None,
                );
            }
        }
        match kind {
            "equal" => kinds::compare::equal(self, c, span, tolerance),
            "bound" => kinds::compare::bound(self, c, span, tolerance),
            "limit" => kinds::limit::validate(self, c, span, tolerance),
            "monotone" => kinds::shape::monotone(self, c, span),
            "convex" => kinds::shape::convex(self, c, span),
            "gradient" => kinds::gradient::validate(self, c, span),
            "chain" => kinds::chain::validate(self, c, span),
            "estimator" => kinds::estimator::validate(self, c, span),
            other => {
                let help = expr::suggest(other, kinds::KINDS.map(|(name, _)| name))
                    .map(|k| format!("did you mean `{k}`?"));
                self.err(
                    kind_name.span(),
                    SpecErrorKind::Invalid,
                    format!("unknown check kind `{other}`"),
                    help.or_else(|| {
                        Some(
                            "kinds: equal, bound, limit, monotone, convex, gradient, chain, estimator"
                                .into(),
                        )
                    }),
                );
                None
            }
        }
    }

    /// A positive integer field of at least `min`, or an error at its span.
    /// `n` when it fits the budget `b`, else an error at `span` naming the budget.
    pub(crate) fn within(
        &mut self,
        b: Budget,
        n: usize,
        span: Range<usize>,
        what: &str,
    ) -> Option<usize> {
        match budgets::check(b, n as u128, what) {
            Ok(()) => Some(n),
            Err(e) => {
                self.err(span, SpecErrorKind::Invalid, e.message(), Some(e.help()));
                None
            }
        }
    }

    pub(crate) fn count_field(
        &mut self,
        field: &Spanned<i64>,
        key: &str,
        min: i64,
    ) -> Option<usize> {
        let v = *field.get_ref();
        if v >= min {
            usize::try_from(v).ok()
        } else {
            self.invalid(
                field.span(),
                format!("`{key}` must be a whole number of at least {min}, not {v}"),
                None,
            );
            None
        }
    }

    pub(crate) fn limit_point(&mut self, t: &Spanned<toml::Value>) -> Option<LimitPoint> {
        match t.get_ref() {
            toml::Value::Float(x) if x.is_finite() => Some(LimitPoint::Value(*x)),
            #[allow(clippy::cast_precision_loss)]
            toml::Value::Integer(i) => Some(LimitPoint::Value(*i as f64)),
            toml::Value::String(s) => match s.trim() {
                "inf" | "+inf" | "∞" => Some(LimitPoint::PosInf),
                "-inf" | "-∞" => Some(LimitPoint::NegInf),
                other => match other.parse::<f64>() {
                    Ok(x) if x.is_finite() => Some(LimitPoint::Value(x)),
                    _ => {
                        self.invalid(
                            t.span(),
                            format!("`to` must be \"inf\", \"-inf\" or a number, not `{other}`"),
                            None,
                        );
                        None
                    }
                },
            },
            _ => {
                self.invalid(
                    t.span(),
                    "`to` must be \"inf\", \"-inf\" or a number".into(),
                    None,
                );
                None
            }
        }
    }
}
