//! The bound operators of the grammar (`int`, `sum`, `min`, `max`, `argmin`, `diff`, `lim`,
//! `expect`, `mc`): their bindings in brackets and their bodies, parsed by a second `impl` block
//! of the Pratt parser.

use super::*;

impl Parser<'_> {
    fn binding_var(&mut self) -> PResult<(String, Span)> {
        let (v, sp) = self.ident("a variable name")?;
        check_variable_name(&v, sp)?;
        if Builtin::from_name(&v).is_some() {
            return Err(Diagnostic::new(
                ErrorKind::ReservedWord,
                sp,
                format!("`{v}` is a function and cannot be a bound variable"),
            )
            .with_help(format!("choose another name, such as `{v}_`")));
        }
        Ok((v, sp))
    }

    fn bindings(&mut self) -> PResult<(Vec<Binding>, usize)> {
        let mut out: Vec<Binding> = Vec::new();
        let mut depth = 0;
        loop {
            let (var, span) = self.binding_var()?;
            if out.iter().any(|b| b.var == var) {
                return Err(Diagnostic::new(
                    ErrorKind::UnexpectedToken,
                    span,
                    format!("variable `{var}` is bound twice"),
                )
                .with_help("bind each variable once"));
            }
            let range = if self.peek() == &Tok::Eq {
                self.bump();
                let (lo, d1) = self.expr(0)?;
                self.expect(Tok::DotDot, "`..` between the limits, as in `0..inf`")?;
                let (hi, d2) = self.expr(0)?;
                depth = depth.max(d1).max(d2);
                for limit in [&lo, &hi] {
                    if mentions(limit, &var) {
                        return Err(Diagnostic::new(
                            ErrorKind::DependentRange,
                            limit.span,
                            format!("the limits of `{var}` depend on `{var}` itself"),
                        )
                        .with_help("limits must not mention their own variable"));
                    }
                }
                Some((lo, hi))
            } else {
                None
            };
            out.push(Binding { var, span, range });
            if self.peek() == &Tok::Comma {
                self.bump();
            } else {
                break;
            }
        }
        Ok((out, depth))
    }

    fn body(&mut self, keyword: &str) -> PResult<(Expr, usize, Span)> {
        if self.peek() != &Tok::LParen {
            return Err(self.unexpected(&format!("`(` and the body of `{keyword}[..]`")));
        }
        let open = self.bump().span;
        if self.peek() == &Tok::RParen {
            return Err(self.unexpected(&format!("the body of `{keyword}[..]`")));
        }
        let (e, d) = self.expr(0)?;
        let close = self.close(Tok::RParen, open)?;
        Ok((e, d, close))
    }

    pub(super) fn bound_operator(&mut self, keyword: &str, start: Span) -> PResult<(Expr, usize)> {
        let open = self.bump().span;
        let (kind_fn, depth): (MakeNode, usize) = match keyword {
            "int" | "sum" | "min" | "max" | "argmin" => {
                let (bindings, d) = self.bindings()?;
                if keyword == "argmin" && bindings.len() != 1 {
                    return Err(Diagnostic::new(
                        ErrorKind::UnexpectedToken,
                        open.to(self.span()),
                        "`argmin` takes exactly one variable",
                    )
                    .with_help("write one `argmin[z](..)` per variable"));
                }
                self.close(Tok::RBracket, open)?;
                let kw = keyword.to_string();
                (
                    Box::new(move |body| match kw.as_str() {
                        "int" => ExprKind::Integral { bindings, body },
                        "sum" => ExprKind::Sum { bindings, body },
                        "min" => ExprKind::Extremum {
                            kind: Extremum::Min,
                            bindings,
                            body,
                        },
                        "max" => ExprKind::Extremum {
                            kind: Extremum::Max,
                            bindings,
                            body,
                        },
                        _ => ExprKind::Extremum {
                            kind: Extremum::Argmin,
                            bindings,
                            body,
                        },
                    }),
                    d,
                )
            }
            "diff" => {
                let (var, var_span) = self.binding_var()?;
                if self.peek() == &Tok::Comma {
                    return Err(Diagnostic::new(
                        ErrorKind::UnexpectedToken,
                        self.span(),
                        "`diff` takes one variable",
                    )
                    .with_help("nest them for higher derivatives: `diff[x](diff[y](f))`"));
                }
                self.close(Tok::RBracket, open)?;
                (
                    Box::new(move |body| ExprKind::Derivative {
                        var,
                        var_span,
                        body,
                    }),
                    0,
                )
            }
            "lim" => {
                let (var, var_span) = self.binding_var()?;
                self.expect(
                    Tok::Arrow,
                    "`->` and the value the variable tends to, as in `lim[beta -> inf]`",
                )?;
                let (target, d) = self.expr(0)?;
                if mentions(&target, &var) {
                    return Err(Diagnostic::new(
                        ErrorKind::DependentRange,
                        target.span,
                        format!("the target of `{var}` depends on `{var}` itself"),
                    ));
                }
                self.close(Tok::RBracket, open)?;
                let target = Box::new(target);
                (
                    Box::new(move |body| ExprKind::Limit {
                        var,
                        var_span,
                        target,
                        body,
                    }),
                    d,
                )
            }
            "expect" | "mc" => {
                let (bindings, d1) = self.bindings()?;
                self.expect(
                    Tok::Tilde,
                    "`~` and a density, as in `expect[y ~ exp(-E(y))]`",
                )?;
                let (density, d2) = self.expr(0)?;
                let mut n = None;
                let mut d3 = 0;
                if keyword == "mc" && self.peek() == &Tok::Semi {
                    self.bump();
                    let (word, sp) = self.ident("`n`")?;
                    if word != "n" {
                        return Err(Diagnostic::new(
                            ErrorKind::UnexpectedToken,
                            sp,
                            format!("expected `n`, found `{word}`"),
                        )
                        .with_help("the number of draws is written `; n = 100`"));
                    }
                    self.expect(Tok::Eq, "`=`")?;
                    let (count, d) = self.expr(0)?;
                    d3 = d;
                    n = Some(Box::new(count));
                }
                self.close(Tok::RBracket, open)?;
                let density = Box::new(density);
                let mc = keyword == "mc";
                (
                    Box::new(move |body| {
                        if mc {
                            ExprKind::MonteCarlo {
                                bindings,
                                density,
                                n,
                                body,
                            }
                        } else {
                            ExprKind::Expect {
                                bindings,
                                density,
                                body,
                            }
                        }
                    }),
                    d1.max(d2).max(d3),
                )
            }
            _ => {
                return Err(Diagnostic::new(
                    ErrorKind::UnexpectedToken,
                    start,
                    format!("`{keyword}` is not a bound operator"),
                ));
            }
        };
        let (body, d, close) = self.body(keyword)?;
        let depth = depth.max(d) + 1;
        Ok((Expr::new(kind_fn(Box::new(body)), start.to(close)), depth))
    }
}
