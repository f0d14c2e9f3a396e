//! The embedded models' NNEF files, read quickly.
//!
//! tract reads the text of an NNEF graph with a parser that reads every nested value twice at
//! each level of nesting (its rule for a subscript, `x[i]`, reads a whole value, finds no `[`,
//! and starts over), so a convolution's `padding = [(0, 1), (0, 1)]` is read sixteen times
//! over. Reading the text was about half of loading a decluttered model on one core (the iris
//! model: about 60 of 100 ms), and loading the models most of the start-up of a one-photo run.
//!
//! The graphs tract writes use a small part of the language: assignments of invocations,
//! identifiers, literals, arrays and tuples. `proto_model` reads that part in one pass, into
//! tract's own syntax tree, and leaves the short header (version, extensions, the properties
//! fragment) to tract's parser. Anything outside that part (an operator, a subscript, a file
//! other than the graph and its tensors) is `Unsupported`, and the caller reads the file the
//! long way. A test checks that both ways give the same tree for every embedded file.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::sync::Arc;

use tract_nnef::ast::{Argument, Assignment, Document, Identifier, Invocation, LValue, Literal, RValue, TypeName};
use tract_nnef::ast::{ProtoModel, parse::parse_document};
use tract_onnx::prelude::{Tensor, TractError};

/// Why the quick reader left a file to tract's own: what it met, and where.
#[derive(Debug, thiserror::Error)]
pub enum Unsupported {
    #[error("{0:#}")]
    Tract(TractError),
    #[error("the archive could not be read: {0}")]
    Archive(#[from] std::io::Error),
    #[error("{what} at byte {at} of the graph")]
    Syntax { what: &'static str, at: usize },
    #[error("{0}: not a graph or a tensor")]
    OtherFile(String),
}

impl From<TractError> for Unsupported {
    fn from(e: TractError) -> Self {
        Unsupported::Tract(e)
    }
}

/// An NNEF archive (a tar of `graph.nnef` and `.dat` tensors, as tract writes it) as tract's
/// `ProtoModel`, ready for `Nnef::model_for_proto_model`.
pub fn proto_model(nnef_tar: &[u8]) -> Result<ProtoModel, Unsupported> {
    let (text, tensors) = read_archive(nnef_tar)?;
    let proto = ProtoModel { doc: document(&text)?, tensors, quantization: None, resources: HashMap::new() };
    proto.validate()?;
    Ok(proto)
}

/// The graph's text and the tensors, by name, of an NNEF archive.
type Archive = (String, HashMap<Identifier, Arc<Tensor>>);

fn read_archive(nnef_tar: &[u8]) -> Result<Archive, Unsupported> {
    let mut text = None;
    let mut tensors = HashMap::new();
    for entry in tar::Archive::new(Cursor::new(nnef_tar)).entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        if path.as_os_str() == "graph.nnef" {
            let mut s = String::new();
            entry.read_to_string(&mut s)?;
            text = Some(s);
        } else if path.extension().is_some_and(|e| e == "dat") {
            // As tract names a tensor: its path without the extension.
            let id = tract_nnef::resource::resource_path_to_id(&path)?;
            let tensor: Tensor = tract_nnef::tensors::read_tensor(&mut entry)?;
            tensors.insert(Identifier(id), Arc::new(tensor));
        } else {
            return Err(Unsupported::OtherFile(path.display().to_string()));
        }
    }
    Ok((text.ok_or(Unsupported::OtherFile("no graph.nnef".into()))?, tensors))
}

/// The syntax tree of a graph's text: the header and the graph's declaration by tract's parser
/// (given the declaration with an empty body), the body by `Body`.
pub fn document(text: &str) -> Result<Document, Unsupported> {
    let syntax = |what| Unsupported::Syntax { what, at: 0 };
    let graph = text.find("\ngraph ").ok_or(syntax("no graph declaration"))?;
    let open = graph + text[graph..].find('{').ok_or(syntax("no graph body"))?;
    let close = text.rfind('}').filter(|&c| c > open).ok_or(syntax("an unclosed graph body"))?;
    if !text[close + 1..].trim().is_empty() {
        return Err(Unsupported::Syntax { what: "text after the graph", at: close + 1 });
    }
    let mut doc = parse_document(&format!("{}}}", &text[..=open]))?;
    let mut body = Body { text: &text[..close], at: open + 1 };
    doc.graph_def.body = body.assignments()?;
    Ok(doc)
}

/// A reader of a graph's body, one pass, no backtracking past a token.
struct Body<'s> {
    text: &'s str,
    at: usize,
}

impl<'s> Body<'s> {
    fn fail<T>(&self, what: &'static str) -> Result<T, Unsupported> {
        Err(Unsupported::Syntax { what, at: self.at })
    }

    /// The next byte after spaces and `#` comments, not consumed.
    fn peek(&mut self) -> Option<u8> {
        let b = self.text.as_bytes();
        loop {
            match b.get(self.at) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.at += 1,
                Some(b'#') => {
                    while b.get(self.at).is_some_and(|&c| c != b'\n' && c != b'\r') {
                        self.at += 1;
                    }
                }
                other => return other.copied(),
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), Unsupported> {
        if self.eat(c) { Ok(()) } else { self.fail(what) }
    }

    /// An identifier's characters (ASCII letters, digits and `_`, not starting with a digit).
    fn word(&mut self) -> Option<&'s str> {
        if !self.peek().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') {
            return None;
        }
        let b = self.text.as_bytes();
        let from = self.at;
        while b.get(self.at).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_') {
            self.at += 1;
        }
        Some(&self.text[from..self.at])
    }

    fn assignments(&mut self) -> Result<Vec<Assignment>, Unsupported> {
        let mut out = Vec::new();
        while self.peek().is_some() {
            let left = self.lvalue()?;
            self.expect(b'=', "an assignment without `=`")?;
            let right = self.rvalue()?;
            self.expect(b';', "an assignment without `;`")?;
            out.push(Assignment { left, right });
        }
        Ok(out)
    }

    /// `a`, `(a, b)`, `[a, b]`, or `a, b` (a tuple without parentheses), as tract reads them.
    fn lvalue(&mut self) -> Result<LValue, Unsupported> {
        let mut items = vec![self.inner_lvalue()?];
        while self.eat(b',') {
            items.push(self.inner_lvalue()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { LValue::Tuple(items) })
    }

    fn inner_lvalue(&mut self) -> Result<LValue, Unsupported> {
        if self.eat(b'[') {
            return Ok(LValue::Array(self.list(b']', Self::inner_lvalue)?));
        }
        if self.eat(b'(') {
            return Ok(LValue::Tuple(self.list(b')', Self::inner_lvalue)?));
        }
        match self.word() {
            Some(w) => Ok(LValue::Identifier(Identifier(w.to_string()))),
            None => self.fail("an assignment to something other than names"),
        }
    }

    /// A value that ends where a list or a statement does: anything that could continue an
    /// expression (an operator, a subscript, `if`) is beyond this reader.
    fn rvalue(&mut self) -> Result<RValue, Unsupported> {
        let v = self.atom()?;
        match self.peek() {
            Some(b',' | b')' | b']' | b';') => Ok(v),
            _ => self.fail("an expression"),
        }
    }

    /// Items read by `item`, separated by commas, up to and past `close` (an opening bracket
    /// already read): lists of values, of names, of an invocation's arguments.
    fn list<T>(&mut self, close: u8, item: fn(&mut Self) -> Result<T, Unsupported>) -> Result<Vec<T>, Unsupported> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat(close) {
                return Ok(items);
            }
            self.expect(b',', "a list without `,`")?;
        }
    }

    fn atom(&mut self) -> Result<RValue, Unsupported> {
        match self.peek() {
            Some(b'[') => {
                self.at += 1;
                Ok(RValue::Array(self.list(b']', Self::rvalue)?))
            }
            Some(b'(') => {
                self.at += 1;
                let mut items = self.list(b')', Self::rvalue)?;
                // As tract reads it: parentheses around one value are only parentheses.
                Ok(if items.len() == 1 { items.remove(0) } else { RValue::Tuple(items) })
            }
            Some(q @ (b'"' | b'\'')) => Ok(RValue::Literal(Literal::String(self.string(q)?))),
            Some(c) if c == b'-' || c.is_ascii_digit() => Ok(RValue::Literal(Literal::Numeric(self.number()?))),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => self.named(),
            _ => self.fail("a value"),
        }
    }

    /// An invocation, a logical literal, `inf`, or an identifier.
    fn named(&mut self) -> Result<RValue, Unsupported> {
        let Some(w) = self.word() else { return self.fail("a name") };
        if w == "i" && matches!(self.text.as_bytes().get(self.at), Some(b'"' | b'\'')) {
            return self.fail("an escaped identifier");
        }
        match self.peek() {
            Some(b'<' | b'(') => {
                let generic_type_name = if self.eat(b'<') {
                    let t = self.type_name()?;
                    self.expect(b'>', "a type without `>`")?;
                    Some(t)
                } else {
                    None
                };
                self.expect(b'(', "an invocation without `(`")?;
                let arguments = self.list(b')', Self::argument)?;
                Ok(RValue::Invocation(Invocation { id: Identifier(w.to_string()), generic_type_name, arguments }))
            }
            _ => Ok(match w {
                "true" => RValue::Literal(Literal::Logical(true)),
                "false" => RValue::Literal(Literal::Logical(false)),
                "inf" => RValue::Literal(Literal::Numeric(w.to_string())),
                _ => RValue::Identifier(Identifier(w.to_string())),
            }),
        }
    }

    fn type_name(&mut self) -> Result<TypeName, Unsupported> {
        if self.eat(b'?') {
            return Ok(TypeName::Any);
        }
        match self.word() {
            Some("integer") => Ok(TypeName::Integer),
            Some("scalar") => Ok(TypeName::Scalar),
            Some("logical") => Ok(TypeName::Logical),
            Some("string") => Ok(TypeName::String),
            _ => self.fail("a type name"),
        }
    }

    /// An invocation's argument: `value` or `name = value`.
    fn argument(&mut self) -> Result<Argument, Unsupported> {
        let start = self.at;
        let id = match self.word() {
            Some(w) if self.peek() == Some(b'=') && self.text.as_bytes().get(self.at + 1) != Some(&b'=') => {
                self.at += 1;
                Some(Identifier(w.to_string()))
            }
            _ => {
                self.at = start;
                None
            }
        };
        Ok(Argument { id, rvalue: self.rvalue()? })
    }

    /// A numeric literal's text, as tract keeps it: `-`? (digits | `inf`) (`.` digits*)?
    /// ([eE] [+-]? digits)?.
    fn number(&mut self) -> Result<String, Unsupported> {
        let b = self.text.as_bytes();
        let start = self.at;
        let digits = |at: &mut usize| {
            let from = *at;
            while b.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at - from
        };
        let mut at = self.at;
        if b.get(at) == Some(&b'-') {
            at += 1;
        }
        if self.text[at..].starts_with("inf") {
            at += 3;
        } else if digits(&mut at) == 0 {
            self.at = at;
            return self.fail("a number");
        }
        if b.get(at) == Some(&b'.') {
            at += 1;
            digits(&mut at);
        }
        if matches!(b.get(at), Some(b'e' | b'E')) {
            let mut e = at + 1;
            if matches!(b.get(e), Some(b'+' | b'-')) {
                e += 1;
            }
            if digits(&mut e) > 0 {
                at = e;
            }
        }
        self.at = at;
        Ok(self.text[start..at].to_string())
    }

    /// A string literal's characters, `\x` read as `x`. tract's strings hold neither kind of
    /// quote unescaped.
    fn string(&mut self, quote: u8) -> Result<String, Unsupported> {
        self.at += 1;
        let mut out = String::new();
        let mut chars = self.text[self.at..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, escaped)) => out.push(escaped),
                    None => break,
                },
                '"' | '\'' if c as u32 == u32::from(quote) => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '"' | '\'' => break,
                c => out.push(c),
            }
        }
        self.fail("an unclosed string")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick reader's tree is tract's own, for every embedded file.
    #[test]
    fn every_embedded_graph_reads_as_tracts_parser_reads_it() {
        for (i, (name, _, _)) in crate::models::DECLUTTERED.iter().enumerate() {
            let (text, _) = read_archive(crate::models::DECLUTTERED_FILES[i]).unwrap_or_else(|e| panic!("{name}: {e}"));
            let quick = document(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let tracts = parse_document(&text).expect("tract reads it");
            assert!(quick == tracts, "{name}: the trees differ");
            assert!(!quick.graph_def.body.is_empty(), "{name}: an empty body");
            // And the whole archive reads the quick way, so loading never falls back to tract's.
            let proto = proto_model(crate::models::DECLUTTERED_FILES[i]).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!proto.tensors.is_empty(), "{name}: no tensors");
        }
    }

    /// Every form the reader knows, beside tract's reading of the same text; and what it does
    /// not know is left to tract, never read differently.
    #[test]
    fn small_graphs_read_as_tracts_parser_reads_them() {
        let header = "version 1.0;\nextension tract_registry tract_core;\n\ngraph g(x) -> (y, z) {\n";
        let known = [
            "  y = conv(x, w, dilation = [1, 1], padding = [(0, 1), (0, 1)], border = \"constant\");",
            "  w = variable<scalar>(label = 'a.b\\'c', shape = [64, 3, 3, 3]);",
            "  k = [[[[0.0]]]]; m = -inf; n = 1.5e-05; o = 2.; p = -3E+2; q = true; r = (x);",
            "  (s, t) = split(x, axis = 1); u, v = f(); [a, b] = g(());",
            "  z = tract_core_cast(7, to = \"i64\") # a comment\n;",
            "  i = external<integer>(shape = []); j = f(a=1, b = false);",
        ];
        for body in known {
            let text = format!("{header}{body}\n}}\n");
            let tracts = parse_document(&text).expect("tract reads it");
            let quick = document(&text).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert!(quick == tracts, "{body}: {:?}\n{:?}", quick.graph_def.body, tracts.graph_def.body);
        }
        // A graph cut short anywhere is an error (or a shorter graph), never a panic or a hang.
        let text = format!("{header}{}\n}}\n", known.join("\n"));
        for cut in 0..text.len() {
            if text.is_char_boundary(cut) {
                let _ = document(&text[..cut]);
            }
        }
        for beyond in ["  y = x + 1;", "  y = x[0];", "  y = x if c else z;", "  y = i\"odd name\";", "  y = -x;"] {
            let text = format!("{header}{beyond}\n}}\n");
            assert!(matches!(document(&text), Err(Unsupported::Syntax { .. })), "{beyond}");
        }
    }
}
