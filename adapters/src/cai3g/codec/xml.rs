//! A small namespace-resolved element tree built from quick-xml's `NsReader`, plus the
//! escaping writer helpers. A tree keeps the CAI3G decoders order-insensitive and lenient
//! about unknown elements; the caps keep it linear in the input size.

use super::error::CodecError;
use quick_xml::NsReader;
use quick_xml::events::attributes::{AttrError, Attribute};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

/// Largest message accepted. CAI3G messages are a few KiB; this leaves ample room.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// Deepest nesting accepted (a fault detail is 8 deep).
const MAX_DEPTH: usize = 64;
/// Most elements accepted in one message.
const MAX_ELEMENTS: usize = 10_000;
/// Attributes read per element; CAI3G uses at most two.
const MAX_ATTRIBUTES: usize = 16;
/// Namespace bindings in scope; bounds prefix-resolution cost.
const MAX_NS_BINDINGS: usize = 64;
/// How much of an unexpected element name an error may repeat.
const MAX_NAME_IN_ERROR: usize = 64;

/// One element: its resolved namespace (empty when unqualified), local name, unprefixed
/// attributes, child elements and directly contained text.
#[derive(Debug, Default)]
pub struct Element {
    pub ns: String,
    pub local: String,
    attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    raw_text: String,
}

impl Element {
    /// True if the element has this namespace and local name.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// The first child with exactly this namespace and local name.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// The first child with this local name in `ns` or unqualified: many schemas leave
    /// local elements unqualified, and peers differ.
    pub fn child_lax(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.local == local && (c.ns == ns || c.ns.is_empty()))
    }

    /// All children matching like [`Self::child_lax`].
    pub fn children_lax<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children
            .iter()
            .filter(move |c| c.local == local && (c.ns == ns || c.ns.is_empty()))
    }

    /// The first child element, whatever its name.
    pub fn first_child(&self) -> Option<&Element> {
        self.children.first()
    }

    /// The text content with surrounding XML whitespace removed.
    pub fn text(&self) -> &str {
        self.raw_text.trim_matches(is_xml_space)
    }

    /// The text content exactly as sent (for passwords, where spaces count).
    pub fn raw_text(&self) -> &str {
        &self.raw_text
    }

    /// An unprefixed attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The local name, truncated for inclusion in an error.
    pub fn name_for_error(&self) -> String {
        self.local.chars().take(MAX_NAME_IN_ERROR).collect()
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Parses a whole document into its root element.
pub fn parse(input: &[u8]) -> Result<Element, CodecError> {
    if input.len() > MAX_MESSAGE_BYTES {
        return Err(CodecError::TooLarge {
            limit: MAX_MESSAGE_BYTES,
            unit: "bytes",
        });
    }
    let text = std::str::from_utf8(input).map_err(|_| CodecError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = NsReader::from_str(text);
    reader
        .resolver_mut()
        .set_max_namespace_bindings(MAX_NS_BINDINGS);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| CodecError::Malformed {
            reason: reason(&e),
            offset: reader.error_position(),
        })?;
        let malformed = |reason| CodecError::Malformed {
            reason,
            offset: reader.buffer_position(),
        };
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() && stack.is_empty() => {
                return Err(malformed("content after the root element"));
            }
            Event::Start(start) => {
                count += 1;
                check_caps(count, stack.len() + 1)?;
                stack.push(open(&reader, &start).map_err(malformed)?);
            }
            Event::Empty(start) => {
                count += 1;
                check_caps(count, stack.len() + 1)?;
                let el = open(&reader, &start).map_err(malformed)?;
                attach(&mut stack, &mut root, el);
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| malformed("unmatched end tag"))?;
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.raw_text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.raw_text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                        .and_then(|s| s.chars().next()),
                    Err(_) => None,
                };
                let c = resolved
                    .ok_or_else(|| malformed("unknown entity or bad character reference"))?;
                if let Some(top) = stack.last_mut() {
                    top.raw_text.push(c);
                }
            }
            Event::DocType(_) => return Err(malformed("DTDs are not allowed in SOAP")),
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(CodecError::Malformed {
            reason: "unclosed element",
            offset: reader.buffer_position(),
        });
    }
    root.ok_or(CodecError::Malformed {
        reason: "no root element",
        offset: 0,
    })
}

fn check_caps(count: usize, depth: usize) -> Result<(), CodecError> {
    if count > MAX_ELEMENTS {
        return Err(CodecError::TooLarge {
            limit: MAX_ELEMENTS,
            unit: "elements",
        });
    }
    if depth > MAX_DEPTH {
        return Err(CodecError::TooDeep { limit: MAX_DEPTH });
    }
    Ok(())
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn open(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> Result<Element, &'static str> {
    let (ns, local) = reader.resolver().resolve_element(start.name());
    let ns = match ns {
        ResolveResult::Bound(ns) => ns.into_inner().to_owned(),
        ResolveResult::Unbound => String::new(),
        ResolveResult::Unknown(_) => return Err("undeclared namespace prefix"),
    };
    // Unchecked iteration: the duplicate check is quadratic in the attribute count.
    let attrs = read_attributes(start.attributes().with_checks(false))?;
    Ok(Element {
        ns,
        local: local.into_inner().to_owned(),
        attrs,
        children: Vec::new(),
        raw_text: String::new(),
    })
}

/// The unprefixed attributes among the first [`MAX_ATTRIBUTES`] of an element. Only that
/// many are pulled from `attrs`, so the work per element is bounded by the cap, not by how
/// many attributes a peer sends.
fn read_attributes<'a>(
    attrs: impl Iterator<Item = Result<Attribute<'a>, AttrError>>,
) -> Result<Vec<(String, String)>, &'static str> {
    let mut out = Vec::new();
    for attr in attrs.take(MAX_ATTRIBUTES) {
        let attr = attr.map_err(|_| "invalid attribute")?;
        let key = attr.key.into_inner();
        if key.contains(':') || key == "xmlns" {
            continue;
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|_| "invalid attribute value")?;
        out.push((key.to_owned(), value.into_owned()));
    }
    Ok(out)
}

/// A fixed description of a quick-xml error: its own messages can quote document content.
fn reason(e: &quick_xml::Error) -> &'static str {
    use quick_xml::Error as E;
    match e {
        E::Io(_) => "read error",
        E::Syntax(_) => "syntax error",
        E::IllFormed(_) => "ill-formed document (tags or declaration)",
        E::InvalidAttr(_) => "invalid attribute",
        E::Encoding(_) => "encoding error",
        E::Escape(_) => "invalid escape",
        E::Namespace(_) => "namespace error (undeclared prefix or too many bindings)",
    }
}

/// Appends `value` escaped for text or attribute content. Characters XML 1.0 cannot
/// carry at all become U+FFFD, so the output is always well-formed.
pub fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A literal CR would be normalised away by the reader.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Appends `<name>value</name>`.
pub fn leaf(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, value);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Appends `<name>`.
pub fn open_tag(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

/// Appends `</name>`.
pub fn close_tag(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Appends ` name="value"` (escaped).
pub fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_into(out, value);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Element, CodecError> {
        parse(s.as_bytes())
    }

    #[test]
    fn resolves_namespaces_not_prefixes() {
        let root = parse_str(r#"<a:x xmlns:a="urn:1" xmlns="urn:2"><b/><a:c/></a:x>"#).expect("ok");
        assert!(root.is("urn:1", "x"));
        assert!(root.child("urn:2", "b").is_some());
        assert!(root.child("urn:1", "c").is_some());
        assert!(root.child("urn:2", "c").is_none());
    }

    #[test]
    fn text_joins_entities_and_cdata() {
        let root = parse_str("<x> a&amp;b&#x41;&#66;<![CDATA[<c>]]> </x>").expect("ok");
        assert_eq!(root.text(), "a&bAB<c>");
        assert_eq!(root.raw_text(), " a&bAB<c> ");
    }

    #[test]
    fn escaping_round_trips_and_replaces_illegal_characters() {
        let mut out = String::from("<x a=\"");
        escape_into(&mut out, "<&>\"'\r\n\u{1}");
        out.push_str("\">");
        escape_into(&mut out, "<&>\"'\r\n\u{1}");
        out.push_str("</x>");
        let root = parse_str(&out).expect("ok");
        assert_eq!(root.raw_text(), "<&>\"'\r\n\u{FFFD}");
        // Attribute normalisation turns a literal newline into a space; `&#13;` survives.
        assert_eq!(root.attr("a"), Some("<&>\"'\r \u{FFFD}"));
    }

    #[test]
    fn rejects_dtds_unknown_entities_and_undeclared_prefixes() {
        for doc in [
            "<!DOCTYPE x [<!ENTITY e \"y\">]><x>&e;</x>",
            "<x>&nbsp;</x>",
            "<p:x/>",
        ] {
            assert!(
                matches!(parse_str(doc), Err(CodecError::Malformed { .. })),
                "{doc}"
            );
        }
    }

    #[test]
    fn rejects_unclosed_mismatched_and_multiple_roots() {
        for doc in ["<x><y></x>", "<x>", "<x/><y/>", "", "text only"] {
            assert!(
                matches!(parse_str(doc), Err(CodecError::Malformed { .. })),
                "{doc}"
            );
        }
    }

    #[test]
    fn caps_depth_count_and_size() {
        let deep = "<x>".repeat(MAX_DEPTH + 1);
        assert_eq!(
            parse_str(&deep).map(|_| ()),
            Err(CodecError::TooDeep { limit: MAX_DEPTH })
        );
        let wide = format!("<x>{}</x>", "<y/>".repeat(MAX_ELEMENTS));
        assert!(matches!(
            parse_str(&wide),
            Err(CodecError::TooLarge {
                unit: "elements",
                ..
            })
        ));
        let big = vec![b' '; MAX_MESSAGE_BYTES + 1];
        assert!(matches!(
            parse(&big),
            Err(CodecError::TooLarge { unit: "bytes", .. })
        ));
    }

    #[test]
    fn attribute_work_is_capped_whatever_the_count() {
        // 60k attributes: reading them all (and quick-xml's duplicate check, quadratic in
        // the count) would make one element cost as much as the whole message allows.
        let attrs: String = (0..60_000).map(|i| format!(" a{i}=\"1\"")).collect();
        let root = parse_str(&format!("<x{attrs}/>")).expect("parses");
        assert_eq!(root.attrs.len(), MAX_ATTRIBUTES);
        assert_eq!(root.attr("a0"), Some("1"));
        // The work is counted, not timed: only the capped number is ever pulled.
        let start = BytesStart::from_content(format!("x{attrs}"), 1);
        let pulled = std::cell::Cell::new(0usize);
        let mut unchecked = start.attributes();
        let counted = unchecked
            .with_checks(false)
            .inspect(|_| pulled.set(pulled.get() + 1));
        assert_eq!(
            read_attributes(counted).map(|a| a.len()),
            Ok(MAX_ATTRIBUTES)
        );
        assert_eq!(pulled.get(), MAX_ATTRIBUTES);
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        assert_eq!(parse(b"<x>\xff</x>").map(|_| ()), Err(CodecError::NotUtf8));
    }
}
