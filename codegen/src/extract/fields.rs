//! Fields and their types: table rows → [`Field`]s, type notations → [`Type`]s, structures found
//! through anchors, headings, dotted rows, nested tables and links to other pages; the result
//! type from the returned-data table and the response example; examples and error codes.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::diag::{DefectKind, Diagnostic};
use crate::model::{ErrorCode, Example, ExampleKind, Field, Required, Scalar, Source, Type};
use crate::names::{self, Scope};
use crate::page::{inlines, BlockKind, Inline, Page};
use crate::yfm;

use super::examples::{curl_commands, read_js_literal, read_json};
use super::table::{self, RawField, TableKind};
use super::types::{self, accepts, arrays, split_atoms, strip_array, union_of, word, Atom, Word};

/// What the extractor asks the loader about the rest of the docs.
pub trait Links {
    /// The structure that `target` (a link as written on `page`: `x.md`, `x.md#anchor`,
    /// `/path.html#anchor`) points at, as a shared type; `None` when the target is not a
    /// structure. A target that does not exist is reported as a dangling link at `at`.
    fn link(
        &mut self,
        page: &Page,
        target: &str,
        at: &Source,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Type>;
    /// A type named in the docs' dictionaries (`crm_status`, `catalog_product.id`, ...) or a
    /// shared structure of that name.
    fn named(&mut self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Type>;
    /// The fields of a shared type, to check examples against it.
    fn shared_fields(&self, key: &str) -> Option<Vec<Field>>;
    /// Types the untyped fields of a shared type from an example value of it; `at` is where
    /// the example is. (The loader applies these once every page is read, so that the shared
    /// type does not depend on the order pages are read in.)
    fn refine_shared(&mut self, key: &str, example: &Map<String, Value>, at: &Source);
    /// The structures that the method page `target` (a link written on `page`) documents: its
    /// result (an object, or the items of an array), then its one object parameter (the
    /// `fields` of an `add`). Empty when the target is not a method page or documents none.
    fn method_structures(
        &mut self,
        page: &Page,
        target: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<Type>;
}

/// [`Links`] for a page read alone: nothing outside the page is known.
pub struct NoLinks;

impl Links for NoLinks {
    fn link(&mut self, _: &Page, _: &str, _: &Source, _: &mut Vec<Diagnostic>) -> Option<Type> {
        None
    }
    fn named(&mut self, _: &str, _: &mut Vec<Diagnostic>) -> Option<Type> {
        None
    }
    fn shared_fields(&self, _: &str) -> Option<Vec<Field>> {
        None
    }
    fn refine_shared(&mut self, _: &str, _: &Map<String, Value>, _: &Source) {}
    fn method_structures(&mut self, _: &Page, _: &str, _: &mut Vec<Diagnostic>) -> Vec<Type> {
        Vec::new()
    }
}

/// Envelope keys of a response: never part of `result`.
const ENVELOPE: &[&str] = &["time", "total", "next", "error", "error_description"];

/// Builds fields and types for one page.
pub struct Builder<'a> {
    page: &'a Page,
    links: &'a mut dyn Links,
    diags: &'a mut Vec<Diagnostic>,
    sections: HashMap<usize, Option<Type>>,
    /// The request example being reconciled: what it gets wrong is reported at its line.
    request_example: Option<Source>,
    /// Where the example being reconciled is (request or response).
    example_at: Option<Source>,
    /// Scalar types the page's parameter tables give field names ([`Builder::learn_names`]).
    vocabulary: HashMap<String, Option<Scalar>>,
    visiting: Vec<usize>,
    /// The rows being typed alone ([`Builder::section_row`]), so that a row typed by itself ends.
    rows_visiting: Vec<(usize, String)>,
}

impl<'a> Builder<'a> {
    /// A builder for `page`.
    pub fn new(page: &'a Page, links: &'a mut dyn Links, diags: &'a mut Vec<Diagnostic>) -> Self {
        Builder {
            page,
            links,
            diags,
            sections: HashMap::new(),
            vocabulary: HashMap::new(),
            request_example: None,
            example_at: None,
            visiting: Vec::new(),
            rows_visiting: Vec::new(),
        }
    }

    fn source(&self, line: usize) -> Source {
        self.page.source(line)
    }

    fn defect(&mut self, line: usize, kind: DefectKind, message: String) {
        let source = self.source(line);
        self.diags.push(Diagnostic::defect(source, kind, message));
    }

    /// Learns the scalar types the page's tables give names (in `fields`, nested included),
    /// so that a key an example shows elsewhere on the page (a result item's `CONFIG_ID`,
    /// typed in the table of filterable fields) is read as the page types it, not as the
    /// example happens to write it. A name typed two ways is not learned.
    pub fn learn_names(&mut self, fields: &[Field]) {
        for f in fields {
            match &f.ty {
                Type::Scalar { scalar } if !f.doc_type.is_empty() => {
                    let known = self
                        .vocabulary
                        .entry(f.api_name.clone())
                        .or_insert(Some(*scalar));
                    if *known != Some(*scalar) {
                        *known = None;
                    }
                }
                Type::Object { fields } => self.learn_names(fields),
                Type::Array { item } => {
                    if let Type::Object { fields } = item.as_ref() {
                        self.learn_names(fields);
                    }
                }
                _ => {}
            }
        }
    }

    /// Gives a field read from an example (and the fields inside it) the scalar the page's
    /// tables give its name, where that accepts the example's value.
    fn name_scalars(&self, field: &mut Field, value: &Value, depth: usize) {
        if let (Type::Scalar { .. }, Some(Some(scalar))) =
            (&field.ty, self.vocabulary.get(&field.api_name))
        {
            if types::scalar_accepts(*scalar, value) {
                field.ty = Type::scalar(*scalar);
            }
        }
        self.type_scalars(&mut field.ty, value, depth + 1);
    }

    /// [`Builder::name_scalars`] for the fields inside a type read from an example.
    fn type_scalars(&self, ty: &mut Type, value: &Value, depth: usize) {
        if depth > 32 {
            return;
        }
        match (ty, value) {
            (Type::Object { fields }, Value::Object(map)) => {
                for f in fields.iter_mut() {
                    if let Some(v) = map.get(&f.api_name) {
                        self.name_scalars(f, v, depth);
                    }
                }
            }
            (Type::Array { item }, Value::Array(items)) => {
                // Typed after the first item, kept only if every item fits.
                if let Some(first) = items.first() {
                    let before = item.as_ref().clone();
                    self.type_scalars(item, first, depth + 1);
                    let no_refs = |_: &str| None;
                    if !items.iter().all(|v| accepts(item, v, &no_refs)) {
                        **item = before;
                    }
                }
            }
            (Type::Nullable { inner }, v) => self.type_scalars(inner, v, depth + 1),
            _ => {}
        }
    }

    /// The rows of table `ti` when it is a field table.
    pub fn rows_of(&mut self, ti: usize) -> Vec<RawField> {
        let table = &self.page.tables[ti];
        match table::classify(table) {
            (TableKind::Fields, Some(cols)) => table::field_rows(table, cols),
            _ => Vec::new(),
        }
    }

    /// Fields from table rows: dotted rows (`a.b`, `a[].b`) nest under their parent, names get
    /// unique Rust names, repeated names are reported. Response fields are never required.
    pub fn fields(&mut self, rows: Vec<RawField>, response: bool) -> Vec<Field> {
        let rows = merge_element_rows(rows);
        // Rows that can hold others: not those typed by a scalar (`edit` is a `boolean`, so
        // `edit.originator` is a key with a dot, not a field of `edit`).
        let parents: Vec<String> = rows
            .iter()
            .filter(|r| {
                !r.atoms.iter().any(|a| {
                    matches!(types::word(strip_array(&a.name).0), Word::Scalar(_))
                        && strip_array(&a.name).1 == 0
                })
            })
            .map(|r| r.name.clone())
            .collect();
        let parent_of = |name: &str| -> Option<String> {
            if !is_path(name) {
                return None;
            }
            let cut = name.rfind('.')?;
            let parent = name[..cut].trim_end_matches("[]");
            (!parent.is_empty() && parents.iter().any(|n| n.trim_end_matches("[]") == parent))
                .then(|| parent.to_owned())
        };
        let mut top: Vec<RawField> = Vec::new();
        let mut children: HashMap<String, Vec<RawField>> = HashMap::new();
        for row in rows {
            match parent_of(&row.name) {
                Some(parent) => children.entry(parent).or_default().push(row),
                None => top.push(row),
            }
        }
        self.build_fields(top, &mut children, response, "")
    }

    fn build_fields(
        &mut self,
        rows: Vec<RawField>,
        children: &mut HashMap<String, Vec<RawField>>,
        response: bool,
        prefix: &str,
    ) -> Vec<Field> {
        // Past the nesting bound the rows are still fields, typed as untyped.
        let level = crate::limits::Level::enter();
        if let (Err(max), Some(row)) = (&level, rows.first()) {
            let message = format!("structures nested deeper than {max} levels: typed as untyped");
            self.defect(row.line, DefectKind::Limit, message);
        }
        let mut scope = Scope::with_reserved(&["extra"]);
        let mut out: Vec<Field> = Vec::new();
        for row in rows {
            let full = row.name.trim_end_matches("[]").to_owned();
            let api_name = full
                .strip_prefix(prefix)
                .map(|s| s.trim_start_matches("[]").trim_start_matches('.'))
                .unwrap_or(&full)
                .to_owned();
            if api_name.is_empty() {
                // A row named only by punctuation (`.`, `[]`): nothing to name a field by.
                continue;
            }
            if out.iter().any(|f| f.api_name == api_name) {
                self.defect(
                    row.line,
                    DefectKind::DuplicateParameter,
                    format!("`{api_name}` is described twice in one table"),
                );
                continue;
            }
            let kids = children.remove(&full).unwrap_or_default();
            let array_prefix = format!("{full}[]");
            let array_children =
                row.name.ends_with("[]") || kids.iter().any(|k| k.name.starts_with(&array_prefix));
            let child_fields = if kids.is_empty() || level.is_err() {
                None
            } else {
                let kid_prefix = format!("{full}.");
                let kids = kids
                    .into_iter()
                    .map(|mut k| {
                        k.name = k
                            .name
                            .strip_prefix(&kid_prefix)
                            .or_else(|| k.name.strip_prefix(&format!("{full}[].")))
                            .unwrap_or(&k.name)
                            .to_owned();
                        k
                    })
                    .collect::<Vec<_>>();
                // Grandchildren are keyed by full paths; rekey them under the new names.
                let mut sub: HashMap<String, Vec<RawField>> = HashMap::new();
                let keys: Vec<String> = children
                    .keys()
                    .filter(|k| k.starts_with(&kid_prefix))
                    .cloned()
                    .collect();
                for k in keys {
                    if let Some(v) = children.remove(&k) {
                        let short = k[kid_prefix.len()..].to_owned();
                        sub.insert(
                            short.clone(),
                            v.into_iter()
                                .map(|mut r| {
                                    r.name = r
                                        .name
                                        .strip_prefix(&kid_prefix)
                                        .unwrap_or(&r.name)
                                        .to_owned();
                                    r
                                })
                                .collect(),
                        );
                    }
                }
                Some(self.build_fields(kids, &mut sub, response, ""))
            };
            let ty = match level {
                Ok(_) => self.field_type(&row, &api_name, child_fields, array_children),
                Err(max) => Type::untyped(format!("nested deeper than {max} levels")),
            };
            // `select` names the fields to return: the fields it lists are its values.
            let ty = if !response && api_name.eq_ignore_ascii_case("select") {
                match ty {
                    Type::Array { .. } => Type::array(Type::scalar(Scalar::String)),
                    other => other,
                }
            } else {
                ty
            };
            let doc_type = row
                .atoms
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("|");
            out.push(Field {
                rust_name: scope.claim(names::snake(&api_name)),
                api_name,
                doc_type,
                ty,
                required: if response { Required::No } else { row.required },
                description: super::clean_markdown(&row.description),
                source: self.source(row.line),
                deprecated: None,
            });
        }
        out
    }

    /// The type of a row: its notation, resolved against structures on this page and others.
    fn field_type(
        &mut self,
        row: &RawField,
        name: &str,
        children: Option<Vec<Field>>,
        array_children: bool,
    ) -> Type {
        let atoms = split_atoms(&row.atoms);
        let mut nullable = false;
        let mut variants = Vec::new();
        let mut children = children;
        for atom in &atoms {
            if atom.name.starts_with('{') {
                variants.push(open_map());
                continue;
            }
            if atom.name.contains([' ', '=', '"', '\'', '<', '/'])
                && !atom.name.starts_with("array<")
            {
                continue;
            }
            let (base, dims) = strip_array(&atom.name);
            if dims > crate::limits::Level::remaining() {
                let message =
                    "more array dimensions than the nesting bound leaves: typed as untyped";
                self.defect(row.line, DefectKind::Limit, message.to_owned());
                variants.push(Type::untyped("arrays nested deeper than the bound"));
                continue;
            }
            let t = match word(base) {
                Word::Null => {
                    nullable = true;
                    continue;
                }
                // The dictionary's `boolean` "most often takes `Y` or `N`": a description that
                // lists those values says which form this one is.
                Word::Scalar(Scalar::Boolean) if says_yes_no(&row.description) => {
                    Type::scalar(Scalar::YesNo)
                }
                // A `char` is "often a substitute for boolean, storing `Y` or `N`": one whose
                // description lists other values (`F` — checkboxes) or reads as free text
                // ("Commentary") is a one-character string.
                Word::Scalar(Scalar::YesNo) if !is_yes_no_char(name, &row.description) => {
                    Type::scalar(Scalar::String)
                }
                Word::Scalar(s) => Type::scalar(s),
                // "The key of the object is the user identifier, and the value is the object with
                // [user description](#user)": a map of those structures, whatever the notation.
                Word::Object | Word::Array if describes_keyed_map(&row.description) => {
                    let value = match children.take() {
                        Some(fields) => Type::Object { fields },
                        None => self
                            .linked_structure(row, name, atom.link.as_deref())
                            .unwrap_or_else(|| Type::scalar(Scalar::Any)),
                    };
                    // "The value is an array of objects, each describing an [event](#event)".
                    let d = crate::page::plain(&row.description).to_lowercase();
                    let value = if ["value is an array", "value is a list", "values are arrays"]
                        .iter()
                        .any(|p| d.contains(p))
                    {
                        Type::array(value)
                    } else {
                        value
                    };
                    Type::Map {
                        value: Box::new(value),
                    }
                }
                Word::Object => match children.take() {
                    Some(fields) => Type::Object { fields },
                    None => self.structure(row, name, atom.link.as_deref()),
                },
                Word::Array => {
                    let item = match children.take() {
                        Some(fields) => Type::Object { fields },
                        None => match self.linked_structure(row, name, atom.link.as_deref()) {
                            Some(t) => t,
                            // "List of user identifiers": ids.
                            None if lists_identifiers(&row.description) => {
                                Type::scalar(Scalar::Integer)
                            }
                            None => Type::untyped("array items not described"),
                        },
                    };
                    Type::array(item)
                }
                Word::Name(n) => {
                    let t = self.named_type(row, &n, atom);
                    // An identifier field typed by the structure it identifies carries that
                    // structure's id on the wire (`CURRENCY_ID` typed `crm_currency`).
                    if is_id_name(name) && dims == 0 {
                        self.id_of(t)
                    } else {
                        t
                    }
                }
            };
            variants.push(arrays(t, dims));
        }
        if variants.is_empty() && nullable {
            // Documented as `null` only.
            return Type::scalar(Scalar::Any);
        }
        if variants.is_empty() {
            if let Some(fields) = children.take() {
                let obj = Type::Object { fields };
                return if array_children {
                    Type::array(obj)
                } else {
                    obj
                };
            }
            if let Some(t) = self.linked_structure(row, name, None) {
                return t;
            }
            if let Some(t) = row.example.as_deref().and_then(example_literal) {
                return t;
            }
            if let Some(t) = described_by_example(&row.description) {
                return t;
            }
            if atoms.is_empty() {
                return Type::untyped("no type given");
            }
            return Type::untyped(format!(
                "type `{}` is not a type",
                atoms
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join("|")
            ));
        }
        if let Some(fields) = children {
            // Children described but the notation named no object: they still describe it.
            let obj = Type::Object { fields };
            variants = vec![if array_children {
                Type::array(obj)
            } else {
                obj
            }];
        }
        // "You can pass a string or an object with language-specific captions in
        // `{"de": "...", "en": "..."}` format": the other form the description shows.
        if let [Type::Scalar { .. }] = variants.as_slice() {
            let d = row.description.to_lowercase();
            if d.contains("or an object") || d.contains("or an array") {
                if let Some(other) = described_by_example(&row.description) {
                    variants.push(other);
                }
            }
        }
        union_of(variants, nullable)
    }

    /// The wire type of the id of a structure type (its `id` field, else a string code).
    fn id_of(&self, t: Type) -> Type {
        let fields = match &t {
            Type::Ref { key } => self.links.shared_fields(&key.0),
            Type::Object { fields } => Some(fields.clone()),
            _ => return t,
        };
        fields
            .and_then(|fs| {
                fs.into_iter()
                    .find(|f| f.api_name.eq_ignore_ascii_case("id"))
            })
            .map(|f| f.ty)
            .filter(|t| matches!(t, Type::Scalar { .. }))
            .unwrap_or_else(|| Type::scalar(Scalar::String))
    }

    /// A reference type name: a dictionary type, a structure of this page or another, or a
    /// `structure.field` reference.
    fn named_type(&mut self, row: &RawField, name: &str, atom: &Atom) -> Type {
        let dotted = name.contains('.');
        if dotted {
            // `structure.field`: a link points at the structure, the type is the field's.
            if let Some(t) = self.links.named(name, self.diags) {
                return t;
            }
        }
        if let Some(link) = atom.link.as_deref() {
            if link.contains('#') && !is_dictionary_link(link) {
                let structure = self.follow(row, link);
                if !dotted {
                    if let Some(t) = structure {
                        return t;
                    }
                } else if let Some(t) = self.linked_field(structure, link, name) {
                    return t;
                }
            }
        }
        if let Some(t) = self.links.named(name, self.diags) {
            return t;
        }
        if let Some(h) = self.heading_named(name, row.line) {
            if let Some(t) = self.section(h) {
                return t;
            }
        }
        if let Some((structure, field)) = name.rsplit_once('.') {
            let lower = field.to_ascii_lowercase();
            let _ = structure;
            return if lower == "id" || lower.ends_with("_id") || lower.ends_with("id") {
                Type::scalar(Scalar::Integer)
            } else {
                Type::scalar(Scalar::String)
            };
        }
        if let Some(link) = atom.link.as_deref() {
            if !is_dictionary_link(link) {
                if let Some(t) = self.follow(row, link) {
                    return t;
                }
            }
        }
        self.defect(
            row.line,
            DefectKind::UnknownType,
            format!("type `{name}` is not in the docs' dictionary"),
        );
        Type::untyped(format!("unknown type `{name}`"))
    }

    /// The type of the field a `structure.field` name names (`structure.a.b`: the segments
    /// after the first), in `structure`, what its link `link` points at.
    fn linked_field(&mut self, structure: Option<Type>, link: &str, name: &str) -> Option<Type> {
        if let Some(t) = structure.and_then(|s| self.field_at(s, name)) {
            return Some(t);
        }
        // A structure on this page still being read (it refers back to the one being read
        // here) has no fields yet: its row for the field says the type.
        let h = find_anchor(self.page, link.strip_prefix('#')?)?;
        self.section_row(h, name.split_once('.')?.1)
    }

    /// The type of the field `name` names in `structure`; `None` when it has no such field or
    /// is no structure.
    fn field_at(&self, structure: Type, name: &str) -> Option<Type> {
        let mut t = structure;
        for segment in name.split('.').skip(1) {
            let fields = match t {
                Type::Object { fields } => fields,
                Type::Ref { key } => self.links.shared_fields(&key.0)?,
                _ => return None,
            };
            t = fields
                .into_iter()
                .find(|f| f.api_name.eq_ignore_ascii_case(segment))?
                .ty;
        }
        Some(t)
    }

    /// The type of the row named `field` (no dots) of the structure under heading `h`, typed
    /// alone rather than with the whole structure.
    fn section_row(&mut self, h: usize, field: &str) -> Option<Type> {
        if field.contains('.')
            || self
                .rows_visiting
                .iter()
                .any(|(v, f)| *v == h && f == field)
        {
            return None;
        }
        let row = section_tables(self.page, h)
            .into_iter()
            .flat_map(|ti| self.rows_of(ti))
            .find(|r| r.name.eq_ignore_ascii_case(field))?;
        self.rows_visiting.push((h, field.to_owned()));
        let name = row.name.clone();
        let t = self.field_type(&row, &name, None, false);
        self.rows_visiting.pop();
        Some(t)
    }

    /// The structure of an `object` row: a linked section, a nested table, a heading named
    /// after it, or an open map when the docs show `{field_1: value_1, ...}`; with the keys its
    /// description names on top ([`Builder::named_keys`]).
    fn structure(&mut self, row: &RawField, name: &str, link: Option<&str>) -> Type {
        let ty = self.described_structure(row, name, link);
        self.named_keys(row, ty)
    }

    /// Adds to a described structure the keys its description names itself: a bullet list
    /// after a sentence saying they are required ("Required fields for creating a task:"
    /// followed by ``- `TITLE` ...``), marked required, and the keys of a code example in the
    /// description (`SE_PARAMETER: [{VALUE: 'Y', CODE: 3}]`). A shared structure becomes this
    /// row's own copy.
    fn named_keys(&mut self, row: &RawField, ty: Type) -> Type {
        let required = required_bullets(&row.description);
        let shown = match code_block(&row.description).and_then(read_js_literal) {
            // `fields: { xmlId: 'value' }` shows the row itself.
            Some(Value::Object(mut map)) if map.len() == 1 && map.contains_key(&row.name) => {
                map.remove(&row.name).unwrap_or_default()
            }
            Some(v) => v,
            None => Value::Null,
        };
        let shown = match types::infer(&shown) {
            Type::Object { fields } if shown.is_object() => fields,
            _ => Vec::new(),
        };
        if required.is_empty() && shown.is_empty() {
            return ty;
        }
        let mut fields = match &ty {
            Type::Object { fields } => fields.clone(),
            Type::Ref { key } => match self.links.shared_fields(&key.0) {
                Some(fields) => fields,
                None => return ty,
            },
            _ => return ty,
        };
        let source = self.source(row.line);
        let mut scope = Scope::with_reserved(&["extra"]);
        for f in &fields {
            scope.claim(f.rust_name.clone());
        }
        for (key, description) in required {
            match fields.iter_mut().find(|f| f.api_name == key) {
                Some(f) => f.required = Required::Yes,
                None => fields.push(Field {
                    rust_name: scope.claim(names::snake(&key)),
                    api_name: key,
                    doc_type: String::new(),
                    ty: Type::untyped("listed without a type"),
                    required: Required::Yes,
                    description,
                    source: source.clone(),
                    deprecated: None,
                }),
            }
        }
        for mut f in shown {
            if !fields.iter().any(|g| g.api_name == f.api_name) {
                f.rust_name = scope.claim(f.rust_name);
                f.description = format!("`{}`, as the description's example shows it.", f.api_name);
                f.source = source.clone();
                types::fill_sources_in(&mut f.ty, &source);
                fields.push(f);
            }
        }
        Type::Object { fields }
    }

    fn described_structure(&mut self, row: &RawField, name: &str, link: Option<&str>) -> Type {
        if let Some(t) = self.linked_structure(row, name, link) {
            return t;
        }
        if is_open_map(&row.description) {
            return open_map();
        }
        // An object whose description points at a section of another page
        // ("see the fields of the [Task object](./fields.md#taskdto)").
        // ... or at a page of fields ("Values of [task fields](./fields.md)"): a page that
        // describes a structure, not a method.
        for dest in description_links(&row.description) {
            if !dest.starts_with('#') && !is_dictionary_link(&dest) {
                if let Some(t) = self.follow(row, &dest) {
                    return t;
                }
            }
        }
        if let Some(t) = described_by_example(&row.description) {
            return t;
        }
        if let Some(fields) = bullet_fields(&row.description, &self.source(row.line)) {
            return Type::Object { fields };
        }
        Type::untyped_object("object without described fields")
    }

    /// A structure for a row from its type link, nested tables or links in its description, or
    /// a heading named after it.
    fn linked_structure(&mut self, row: &RawField, name: &str, link: Option<&str>) -> Option<Type> {
        if let Some(link) = link {
            if !is_dictionary_link(link) {
                if let Some(t) = self.follow(row, link) {
                    return Some(t);
                }
            }
        }
        if row.description.contains("#|") {
            let source = self.source(row.line);
            for t in yfm::tables_in(&row.description, &source) {
                if let (TableKind::Fields, Some(cols)) = table::classify(&t) {
                    let mut rows = table::field_rows(&t, cols);
                    for r in &mut rows {
                        r.line = row.line;
                    }
                    let fields = self.fields(rows, false);
                    if !fields.is_empty() {
                        return Some(Type::Object { fields });
                    }
                }
            }
        }
        for dest in description_links(&row.description) {
            if dest.starts_with('#') {
                if let Some(t) = self.follow(row, &dest) {
                    return Some(t);
                }
            }
        }
        if let Some(h) = self.heading_named(name, row.line) {
            if let Some(t) = self.section(h) {
                return Some(t);
            }
        }
        // A structure described by another method ("for the structure of a lead, see the
        // method `crm.lead.get`"): the sentence with the link says it describes the structure.
        for dest in description_links(&row.description) {
            if dest.starts_with('#')
                || dest.contains("://")
                || !names_structure(&row.description, &dest)
            {
                continue;
            }
            let structures = self.links.method_structures(self.page, &dest, self.diags);
            // "The description of the `settings` parameter is in the method ...": that
            // method's field of the same name, when it has one.
            if let Some(t) = structures.iter().find_map(|t| self.field_named(t, name, 0)) {
                return Some(t);
            }
            if let Some(t) = structures.into_iter().next() {
                return Some(t);
            }
        }
        None
    }

    /// The structured type of the field `name` of the structure `ty` (an object, or a shared
    /// structure).
    /// Searched two structures deep (`property.settings` in a result `{property: ...}`).
    fn field_named(&self, ty: &Type, name: &str, depth: usize) -> Option<Type> {
        let fields = match ty {
            Type::Object { fields } => fields.clone(),
            Type::Ref { key } => self.links.shared_fields(&key.0)?,
            _ => return None,
        };
        let structured = |t: &Type| {
            matches!(t, Type::Object { fields } if !fields.is_empty())
                || matches!(t, Type::Ref { .. })
        };
        let holds = |t: &Type| match t {
            Type::Array { item } => structured(item),
            Type::Map { value } => structured(value),
            t => structured(t),
        };
        if let Some(field) = fields.iter().find(|f| f.api_name == name && holds(&f.ty)) {
            return Some(field.ty.clone());
        }
        if depth >= 1 {
            return None;
        }
        fields
            .iter()
            .find_map(|f| self.field_named(&f.ty, name, depth + 1))
    }

    /// Follows a link to a structure: an in-page anchor (an inline object) or another page.
    fn follow(&mut self, row: &RawField, link: &str) -> Option<Type> {
        if let Some(anchor) = link.strip_prefix('#') {
            return match find_anchor(self.page, anchor) {
                Some(h) => self.section(h),
                None => {
                    self.defect(
                        row.line,
                        DefectKind::DanglingLink,
                        format!("no section `#{anchor}` on this page"),
                    );
                    None
                }
            };
        }
        if link.contains("://") || link.starts_with("mailto:") {
            return None;
        }
        let at = self.source(row.line);
        self.links.link(self.page, link, &at, self.diags)
    }

    /// The heading whose words include `name` (a section that describes the field).
    fn heading_named(&self, name: &str, line: usize) -> Option<usize> {
        if name.is_empty() {
            return None;
        }
        self.page
            .blocks
            .iter()
            .enumerate()
            .position(|(i, b)| match &b.kind {
                BlockKind::Heading { level, text, .. } if *level >= 2 => {
                    heading_words(text).any(|w| w == name) && !section_contains(self.page, i, line)
                }
                _ => false,
            })
    }
    /// The structure described in the section under heading block `h` (its field tables,
    /// merged), as an inline object.
    pub fn section(&mut self, h: usize) -> Option<Type> {
        if let Some(done) = self.sections.get(&h) {
            return done.clone();
        }
        if self.visiting.contains(&h) {
            return Some(Type::untyped("recursive structure"));
        }
        self.visiting.push(h);
        let tables = section_tables(self.page, h);
        let mut rows = Vec::new();
        for ti in tables {
            for r in self.rows_of(ti) {
                if !rows.iter().any(|x: &RawField| x.name == r.name) {
                    rows.push(r);
                }
            }
        }
        let result = if rows.is_empty() {
            None
        } else {
            Some(Type::Object {
                fields: self.fields(rows, false),
            })
        };
        self.visiting.pop();
        self.sections.insert(h, result.clone());
        result
    }

    /// The fields of the whole page's field tables, merged (a page that describes one structure).
    ///
    /// The structure is the page's first field tables, up to the next heading: later sections
    /// ("## Object checklist.item {#checklist-item}") describe the structures its rows link to.
    pub fn page_structure(&mut self) -> Option<Vec<Field>> {
        let mut rows: Vec<RawField> = Vec::new();
        for b in &self.page.blocks {
            match b.kind {
                BlockKind::Heading { .. } if !rows.is_empty() => break,
                BlockKind::Table(ti) if !self.page.is_included(self.page.tables[ti].line) => {
                    for r in self.rows_of(ti) {
                        if !rows.iter().any(|x| x.name == r.name) {
                            rows.push(r);
                        }
                    }
                }
                _ => {}
            }
        }
        (!rows.is_empty()).then(|| self.fields(rows, true))
    }

    /// Request examples from a cURL code block at line `line`.
    pub fn curl_examples(&mut self, text: &str, line: usize, out: &mut Vec<Example>) {
        match curl_commands(text) {
            Err(e) => {
                self.defect(
                    line + 1 + e.line,
                    DefectKind::InvalidShell,
                    format!(
                        "the cURL command cannot be read as shell words: {}",
                        e.message
                    ),
                );
            }
            Ok(cmds) => {
                for c in cmds {
                    let Some(body) = c.body else { continue };
                    let at = line + 1 + c.line;
                    let (json, repaired) = match read_json(&body) {
                        Some((mut v, repaired)) => {
                            if let Value::Object(m) = &mut v {
                                m.shift_remove("auth");
                            }
                            if repaired {
                                self.defect(
                                    at,
                                    DefectKind::RepairedExample,
                                    "request body needed a mechanical repair to be JSON".into(),
                                );
                            }
                            (Some(v), repaired)
                        }
                        None => {
                            if !body.trim_start().starts_with(['{', '[']) {
                                // A form-encoded body (`a=1&b=2`): not JSON by design.
                                continue;
                            }
                            if c.body_split {
                                self.defect(
                                    at,
                                    DefectKind::InvalidShell,
                                    "the quoting of the cURL body splits it into several shell \
                                     words"
                                        .into(),
                                );
                            } else {
                                self.defect(
                                    at,
                                    DefectKind::InvalidExample,
                                    "request body is not JSON".into(),
                                );
                            }
                            (None, false)
                        }
                    };
                    if out.iter().any(|e: &Example| {
                        e.kind == ExampleKind::Request && e.json.is_some() && e.json == json
                    }) {
                        continue;
                    }
                    out.push(super::example(
                        ExampleKind::Request,
                        &body,
                        json,
                        repaired,
                        self.source(at),
                    ));
                }
            }
        }
    }

    /// A JSON example block at line `line`.
    pub fn json_example(&mut self, kind: ExampleKind, text: &str, line: usize) -> Option<Example> {
        let at = line + 1;
        let (json, repaired) = match read_json(text) {
            Some((v, repaired)) => {
                if repaired {
                    self.defect(
                        at,
                        DefectKind::RepairedExample,
                        "example needed a mechanical repair to be JSON".into(),
                    );
                }
                (Some(v), repaired)
            }
            None => {
                if text.trim().len() <= 2 {
                    // An empty placeholder block (`{}` with its content removed upstream).
                    return None;
                }
                self.defect(at, DefectKind::InvalidExample, "example is not JSON".into());
                (None, false)
            }
        };
        Some(super::example(kind, text, json, repaired, self.source(at)))
    }

    /// Widens parameter types that a request example contradicts, reporting each contradiction.
    /// Also reports keys that name a parameter in another letter case and required parameters
    /// the example leaves out (the server reads names in any case; a typed request does not).
    pub fn reconcile_params(
        &mut self,
        params: &mut [Field],
        map: &Map<String, Value>,
        at: &Source,
    ) {
        self.request_example = Some(at.clone());
        self.example_at = Some(at.clone());
        for p in params.iter_mut() {
            if let Some(v) = map.get(&p.api_name) {
                self.reconcile_field(p, v, false);
            }
        }
        self.request_example = None;
        self.example_at = None;
        for key in map.keys() {
            if params.iter().any(|p| &p.api_name == key) {
                continue;
            }
            if let Some(p) = params.iter().find(|p| p.api_name.eq_ignore_ascii_case(key)) {
                self.diags.push(Diagnostic::defect(
                    at.clone(),
                    DefectKind::ExampleContradictsTable,
                    format!(
                        "the example sends `{key}` for the parameter `{}`",
                        p.api_name
                    ),
                ));
            }
        }
        for p in params.iter().filter(|p| p.required == Required::Yes) {
            let cased = map.keys().any(|k| k.eq_ignore_ascii_case(&p.api_name));
            if !cased {
                self.diags.push(Diagnostic::defect(
                    at.clone(),
                    DefectKind::ExampleContradictsTable,
                    format!(
                        "the example leaves out the required parameter `{}`",
                        p.api_name
                    ),
                ));
            }
        }
    }

    /// Makes `field.ty` accept `value`; reports where the documented type contradicts it.
    /// With `add`, object types gain the example's undocumented fields.
    fn reconcile_field(&mut self, field: &mut Field, value: &Value, add: bool) {
        let ty = std::mem::replace(&mut field.ty, Type::untyped(""));
        let at = field.source.clone();
        field.ty = self.reconcile(ty, value, add, &at, &field.api_name);
    }

    fn reconcile(&mut self, ty: Type, value: &Value, add: bool, at: &Source, name: &str) -> Type {
        match (ty, value) {
            (Type::Object { fields }, Value::Object(map))
                if describes_values_not_descriptors(&fields, map) =>
            {
                self.diags.push(Diagnostic::defect(
                    at.clone(),
                    DefectKind::ExampleContradictsTable,
                    format!(
                        "`{name}`: the table types the entity's fields but the example shows a \
                         description object for each field"
                    ),
                ));
                descriptor_map(map)
            }
            (Type::Object { mut fields }, Value::Object(map)) => {
                for f in fields.iter_mut() {
                    if let Some(v) = map.get(&f.api_name) {
                        self.reconcile_field(f, v, add);
                    }
                }
                // A structure a request sends demands its required fields.
                if let Some(example) = self.request_example.clone() {
                    for f in fields.iter().filter(|f| f.required == Required::Yes) {
                        if !map.keys().any(|k| k.eq_ignore_ascii_case(&f.api_name)) {
                            self.diags.push(Diagnostic::defect(
                                example.clone(),
                                DefectKind::ExampleContradictsTable,
                                format!(
                                    "the example leaves out `{name}.{}`, required at {}",
                                    f.api_name, f.source
                                ),
                            ));
                        }
                    }
                }
                if add {
                    let mut scope = Scope::with_reserved(&["extra"]);
                    for f in &fields {
                        scope.claim(f.rust_name.clone());
                    }
                    for (k, v) in map {
                        if types::is_new_field(&fields, k) {
                            let mut field = types::inferred_field(k, v, &mut scope);
                            self.name_scalars(&mut field, v, 0);
                            fields.push(field);
                        }
                    }
                }
                Type::Object { fields }
            }
            (Type::Array { item }, Value::Array(items)) => {
                let mut item = *item;
                for v in items {
                    item = self.reconcile(item, v, add, at, name);
                }
                Type::array(item)
            }
            (Type::Nullable { inner }, v) if !v.is_null() => {
                types::nullable_of(self.reconcile(*inner, v, add, at, name))
            }
            // A union: the form whose shape the example has is reconciled with it (so a
            // request's form reports what it lacks).
            (Type::Union { mut variants }, v) if !v.is_null() => {
                let form = variants.iter().position(|t| {
                    matches!(
                        (t, v),
                        (Type::Object { .. } | Type::Ref { .. }, Value::Object(_))
                            | (Type::Array { .. }, Value::Array(_))
                    )
                });
                match form {
                    Some(i) => {
                        let t = variants.remove(i);
                        variants.insert(i, self.reconcile(t, v, add, at, name));
                        Type::Union { variants }
                    }
                    None => self.reconcile_plain(Type::Union { variants }, v, add, at, name),
                }
            }
            // An "array" of fields that the example writes as an object holding them: PHP's
            // associative array, an object on the wire.
            (Type::Array { item }, Value::Object(map)) if matches!(item.as_ref(), Type::Object { fields } if holds_fields(fields, map)) => {
                self.reconcile(*item, value, add, at, name)
            }
            // A map whose values the docs leave open (`lang_n: value_n`): the values a response
            // example shows. (What a request may send stays open.)
            (Type::Map { value }, Value::Object(map))
                if add
                    && !map.is_empty()
                    && matches!(
                        value.as_ref(),
                        Type::Untyped { .. }
                            | Type::Scalar {
                                scalar: Scalar::Any
                            }
                    ) =>
            {
                let values: Vec<Value> = map.values().cloned().collect();
                match types::infer(&Value::Array(values)) {
                    Type::Array { item } => Type::Map { value: item },
                    _ => Type::Map { value },
                }
            }
            // What the table leaves untyped, the example shows (typed as the page's tables
            // type its names).
            (Type::Untyped { .. }, v) if !v.is_null() => {
                let mut ty = types::infer(v);
                self.type_scalars(&mut ty, v, 0);
                ty
            }
            // A `boolean` the example writes as `"Y"`/`"N"` is that kind of flag.
            (
                Type::Scalar {
                    scalar: Scalar::Boolean,
                },
                Value::String(s),
            ) if matches!(s.as_str(), "Y" | "N") => Type::scalar(Scalar::YesNo),
            (Type::Ref { key }, v @ Value::Object(_)) => {
                let accepted = {
                    let links = &*self.links;
                    let lookup = |k: &str| links.shared_fields(k);
                    accepts(&Type::Ref { key: key.clone() }, v, &lookup)
                };
                match self.links.shared_fields(&key.0) {
                    // A use that the shared structure does not fit gets its own copy, widened.
                    Some(fields) if !accepted => {
                        self.reconcile(Type::Object { fields }, v, add, at, name)
                    }
                    _ => {
                        if let Value::Object(map) = v {
                            let example = self.example_at.as_ref().unwrap_or(at);
                            self.links.refine_shared(&key.0, map, example);
                        }
                        Type::Ref { key }
                    }
                }
            }
            (ty, v) => self.reconcile_plain(ty, v, add, at, name),
        }
    }

    /// [`Builder::reconcile`] for a value the type has no structure in common with: accepted
    /// as it is, or reported and widened (responses) or kept (a request's scalars).
    fn reconcile_plain(&mut self, ty: Type, v: &Value, add: bool, at: &Source, name: &str) -> Type {
        let accepted = {
            let links = &*self.links;
            let lookup = |k: &str| links.shared_fields(k);
            accepts(&ty, v, &lookup)
        };
        if accepted {
            return match ty {
                Type::Map { .. } => types::widen(ty, v).0,
                ty => ty,
            };
        }
        if at.line == 0 {
            // A type read from the example itself: widened silently.
            return types::widen(ty, v).0;
        }
        let shown = short_json(v);
        // A request example is reported where it is written (the table is named).
        let (place, table) = match &self.request_example {
            Some(example) => (example.clone(), format!(" (table: {at})")),
            None => (at.clone(), String::new()),
        };
        self.diags.push(Diagnostic::defect(
            place,
            DefectKind::ExampleContradictsTable,
            format!(
                "`{name}` is documented as {} but the example shows {shown}{table}",
                describe(&ty)
            ),
        ));
        // What a server sends is read in every form its examples show. What a request sends
        // keeps the table's scalar (`325` for a `string`: the caller writes what the table
        // says); a request example of another shape (an array for an object) may show what
        // the server needs, so the request accepts both.
        let scalars = matches!(ty, Type::Scalar { .. }) && !v.is_object() && !v.is_array();
        if add || !scalars {
            types::widen(ty, v).0
        } else {
            ty
        }
    }

    /// The type of `result`: the returned-data rows nested by the example's structure, typed
    /// by the table where it names a field and by the example elsewhere. `example` is the
    /// response example's `result` and where the example is.
    pub fn result(
        &mut self,
        rows: Vec<RawField>,
        example: Option<(&Value, &Source)>,
        h1_line: usize,
    ) -> Type {
        self.example_at = example.map(|(_, at)| at.clone());
        let example = example.map(|(v, _)| v);
        let ty = self.result_of(rows, example, h1_line);
        self.example_at = None;
        ty
    }

    fn result_of(&mut self, rows: Vec<RawField>, example: Option<&Value>, h1_line: usize) -> Type {
        let mut result_row: Option<RawField> = None;
        let mut others: Vec<RawField> = Vec::new();
        let mut result_children: Vec<RawField> = Vec::new();
        for r in rows {
            if r.name == "result" && result_row.is_none() {
                result_row = Some(r);
            } else if let Some(rest) = r
                .name
                .strip_prefix("result.")
                .or_else(|| r.name.strip_prefix("result[]."))
            {
                let mut r = r.clone();
                r.name = rest.to_owned();
                result_children.push(r);
            } else if ENVELOPE.contains(&r.name.as_str()) {
                continue;
            } else {
                others.push(r);
            }
        }
        result_children.extend(others);
        let at_line = result_row.as_ref().map(|r| r.line).unwrap_or(h1_line);
        let at = self.source(at_line);
        // Nest the flat rows where the example shows them.
        let placed = match example {
            Some(v) if !result_children.is_empty() => nest_by_example(result_children, v),
            _ => result_children,
        };
        let declared = match (&result_row, placed.is_empty()) {
            (Some(row), true) => Some(self.field_type(row, "result", None, false)),
            (Some(row), false) => {
                let fields = self.fields(placed, true);
                let shape = self.field_type(row, "result", None, false);
                Some(wrap_like(shape, fields, example))
            }
            (None, false) => {
                let fields = self.fields(placed, true);
                Some(wrap_like(Type::untyped(""), fields, example))
            }
            (None, true) => None,
        };
        if let (Some(Type::Object { fields }), Some(Value::Object(map))) = (&declared, example) {
            if describes_values_not_descriptors(fields, map) {
                self.diags.push(Diagnostic::defect(
                    at,
                    DefectKind::ExampleContradictsTable,
                    "the table types the entity's fields but the example shows a description \
                     object for each field",
                ));
                return descriptor_map(map);
            }
        }
        match (declared, example) {
            (Some(t), Some(v)) => self.reconcile(t, v, true, &at, "result"),
            (Some(t), None) => t,
            (None, Some(v)) => {
                let mut ty = types::infer(v);
                self.type_scalars(&mut ty, v, 0);
                ty
            }
            (None, None) => Type::untyped("the page describes no result"),
        }
    }

    /// Widens `ty` (a result already reconciled with one example) to accept another example;
    /// `example_at` is where the example is, `line` where contradictions are reported.
    pub fn fit_example(
        &mut self,
        ty: Type,
        example: &Value,
        example_at: &Source,
        line: usize,
    ) -> Type {
        let at = self.source(line);
        self.example_at = Some(example_at.clone());
        let ty = self.reconcile(ty, example, true, &at, "result");
        self.example_at = None;
        ty
    }

    /// Error codes from the error tables `(table, code written before it)`.
    pub fn errors(&mut self, tables: &[(usize, Option<String>)]) -> Vec<ErrorCode> {
        let mut out = Vec::new();
        for (ti, code) in tables {
            let page = self.page;
            out.extend(super::errors::error_rows(
                &page.tables[*ti],
                code.as_deref(),
                &|i| page.source(i),
            ));
        }
        out
    }
}

/// The keys a description lists as bullets after a sentence that says they are required
/// ("Required fields for creating a task:"), with their bullet text.
fn required_bullets(description: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut open = false;
    for line in description.lines() {
        let item = line.trim_start();
        match item.strip_prefix("- ").or_else(|| item.strip_prefix("* ")) {
            Some(rest) if open => {
                let Some(code) = rest.strip_prefix('`') else {
                    continue;
                };
                let Some(end) = code.find('`') else { continue };
                let key = &code[..end];
                let text = code[end + 1..]
                    .trim_start_matches([' ', '—', '-', '–', ':'])
                    .trim();
                if types::is_name_key(key) && !out.iter().any(|(k, _)| k == key) {
                    out.push((key.to_owned(), text.to_owned()));
                }
            }
            Some(_) => {}
            None => {
                let lower = item.to_lowercase();
                open = lower.contains("required") && lower.trim_end().ends_with(':');
            }
        }
    }
    out
}

/// The text of the first fenced code block in a Markdown text.
fn code_block(markdown: &str) -> Option<&str> {
    let start = markdown.find("```")?;
    let rest = &markdown[start + 3..];
    let body_start = rest.find('\n')? + 1;
    let end = rest[body_start..].find("```")? + body_start;
    Some(rest[body_start..end].trim())
}

/// The keys of an object listed as bullets in its description (``- `INCLUDE` — rules``): at
/// least two items, each starting with a code span that is a name. The list gives no types:
/// the fields stay untyped unless an example shows them.
fn bullet_fields(description: &str, source: &Source) -> Option<Vec<Field>> {
    let mut scope = Scope::with_reserved(&["extra"]);
    let mut fields: Vec<Field> = Vec::new();
    for line in description.lines() {
        let item = line.trim_start();
        let Some(rest) = item.strip_prefix("- ").or_else(|| item.strip_prefix("* ")) else {
            continue;
        };
        let Some(code) = rest.strip_prefix('`') else {
            continue;
        };
        let Some(end) = code.find('`') else {
            continue;
        };
        let key = &code[..end];
        let text = code[end + 1..]
            .trim_start_matches([' ', '—', '-', '–', ':'])
            .trim();
        if !types::is_name_key(key) || fields.iter().any(|f| f.api_name == key) {
            continue;
        }
        fields.push(Field {
            api_name: key.to_owned(),
            rust_name: scope.claim(names::snake(key)),
            doc_type: String::new(),
            ty: Type::untyped("listed without a type"),
            required: Required::No,
            description: text.to_owned(),
            source: source.clone(),
            deprecated: None,
        });
    }
    (fields.len() >= 2).then_some(fields)
}

/// Reports every field left untyped in `fields` (nested ones included), with its reason, at
/// the line that describes it.
pub fn report_untyped(fields: &[Field], diags: &mut Vec<Diagnostic>) {
    for f in fields {
        match untyped_reason(&f.ty) {
            // Already reported as an unknown type where the name was read.
            Some(reason) if reason.starts_with("unknown type") => {}
            Some(reason) => diags.push(Diagnostic::defect(
                f.source.clone(),
                DefectKind::Untyped,
                format!("`{}` cannot be typed: {reason}", f.api_name),
            )),
            None => report_untyped_in(&f.ty, diags),
        }
    }
}

/// Reports the untyped fields nested in `ty`.
pub fn report_untyped_in(ty: &Type, diags: &mut Vec<Diagnostic>) {
    match ty {
        Type::Object { fields } => report_untyped(fields, diags),
        Type::Array { item } => report_untyped_in(item, diags),
        Type::Nullable { inner } => report_untyped_in(inner, diags),
        Type::Map { value } => report_untyped_in(value, diags),
        Type::Union { variants } => {
            for v in variants {
                report_untyped_in(v, diags);
            }
        }
        _ => {}
    }
}

/// Why a field's type is untyped (under arrays and `null`), if it is.
pub fn untyped_reason(ty: &Type) -> Option<&str> {
    match ty {
        Type::Untyped { reason, .. } => Some(reason),
        Type::Array { item } => untyped_reason(item),
        Type::Nullable { inner } => untyped_reason(inner),
        _ => None,
    }
}

/// A map from field names to the example's field description objects.
fn descriptor_map(map: &Map<String, Value>) -> Type {
    let values: Vec<Value> = map.values().cloned().collect();
    let item = match types::infer(&Value::Array(values)) {
        Type::Array { item } => *item,
        other => other,
    };
    Type::Map {
        value: Box::new(item),
    }
}

/// A description that says an object's keys are ids or names and what its values are ("Key —
/// item identifier, value — object with ...", "The key of the object is the user identifier").
fn describes_keyed_map(description: &str) -> bool {
    let d = crate::page::plain(description).to_lowercase();
    let keyed = [
        "key —",
        "key -",
        "key – ",
        "key of the object is",
        "keys of the object are",
        "keyed by",
        "keys are",
    ]
    .iter()
    .any(|p| d.contains(p));
    keyed && d.contains("value")
}

/// An array description that says its items are identifiers ("List of user identifiers",
/// "array of task IDs").
fn lists_identifiers(description: &str) -> bool {
    let d = crate::page::plain(description).to_lowercase();
    let first = d.split(['.', '\n']).next().unwrap_or_default();
    ["list of", "array of", "identifiers of", "ids of"]
        .iter()
        .any(|p| first.starts_with(p))
        && (first.contains("identifiers") || first.contains("ids "))
        // Identifiers "with prefixes" (`C_5`) are codes, not numbers.
        && !d.contains("prefix")
}

/// Whether a `char` field is a Y/N flag: its description lists `Y` and `N`, or lists no
/// values and it reads as a flag (`IS_`/`HAS_` names, "Indicator ...", "Whether ...").
fn is_yes_no_char(name: &str, description: &str) -> bool {
    if says_yes_no(description) {
        return true;
    }
    let listed = inlines(description).into_iter().any(|i| {
        matches!(i, Inline::Code(c) if {
            let c = c.trim();
            !c.is_empty() && c.len() <= 3 && c != "Y" && c != "N"
        })
    });
    if listed {
        return false;
    }
    let lower = name.to_lowercase();
    let d = crate::page::plain(description).to_lowercase();
    ["is", "has", "can", "use", "allow"]
        .iter()
        .any(|p| lower.starts_with(p))
        || ["is ", "does ", "has ", "can "]
            .iter()
            .any(|w| d.starts_with(w))
        || ["indicator", "flag", "whether", "enabled", "active"]
            .iter()
            .any(|w| d.contains(w))
}

/// A description that gives a flag's values as `Y` and `N` (code spans, quoted, or `Y/N`).
fn says_yes_no(description: &str) -> bool {
    let spans: Vec<String> = inlines(description)
        .into_iter()
        .filter_map(|i| match i {
            Inline::Code(c) => Some(c.trim().trim_matches(['\'', '"']).to_owned()),
            _ => None,
        })
        .collect();
    let has = |v: &str| spans.iter().any(|s| s == v);
    (has("Y") && has("N"))
        || ["Y/N", "'Y'", "\"Y\"", "Y or N", "`Y`/`N`"]
            .iter()
            .any(|p| description.contains(p))
}

/// Names of identifier fields: `id`, `ID`, `CURRENCY_ID`, `ownerId`.
fn is_id_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("id")
        || name.ends_with("_ID")
        || name.ends_with("_id")
        || name.ends_with("Id")
        || (name.ends_with("ID") && name.len() > 2)
}

/// True when line `line` is inside the section of heading block `h`.
fn section_contains(page: &Page, h: usize, line: usize) -> bool {
    let BlockKind::Heading { level, .. } = page.blocks[h].kind else {
        return false;
    };
    if page.blocks[h].line > line {
        return false;
    }
    !page.blocks[h + 1..].iter().any(|b| {
        b.line <= line && matches!(b.kind, BlockKind::Heading { level: l, .. } if l <= level)
    })
}

/// The type of a literal in an `Example` column (`62`, `'echo'`, `"Y"`).
fn example_literal(text: &str) -> Option<Type> {
    let t = crate::page::plain(text);
    let t = t.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return Some(types::infer(&v)).filter(|t| {
            !matches!(
                t,
                Type::Scalar {
                    scalar: Scalar::Any
                }
            )
        });
    }
    let quoted = (t.starts_with('\'') && t.ends_with('\'') && t.len() >= 2)
        || t.chars().all(|c| c.is_alphanumeric() || c == '_');
    quoted.then(|| Type::scalar(Scalar::String))
}

/// A structure shown by a JSON code block in a description (an object with its keys, or an
/// array of such objects).
fn described_by_example(description: &str) -> Option<Type> {
    // An inline example: ``an object with a `url` field, e.g. `{"url":"https://…"}` ``.
    for item in inlines(description) {
        if let Inline::Code(code) = item {
            let code = code.trim();
            if code.starts_with('{') && code.ends_with('}') {
                if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(code) {
                    if v.as_object()
                        .is_some_and(|m| !m.is_empty() && m.keys().all(|k| types::is_name_key(k)))
                        && !is_open_map(code)
                    {
                        return Some(types::infer(&v));
                    }
                }
            }
        }
    }
    let code = code_block(description)?.trim_end_matches(',');
    let (v, _) = read_json(code)?;
    match &v {
        Value::Object(m) if !m.is_empty() && m.keys().all(|k| types::is_name_key(k)) => {
            Some(types::infer(&v))
        }
        Value::Array(items) if items.iter().any(Value::is_object) => Some(types::infer(&v)),
        _ => None,
    }
}

/// True when most documented scalar fields show up in the example as objects: the table
/// documents an entity's fields while the method returns a description of each field.
fn describes_values_not_descriptors(fields: &[Field], map: &Map<String, Value>) -> bool {
    let present: Vec<(&Field, &Value)> = fields
        .iter()
        .filter(|f| f.source.line != 0)
        .filter_map(|f| map.get(&f.api_name).map(|v| (f, v)))
        .collect();
    let objects = present
        .iter()
        .filter(|(f, v)| matches!(f.ty, Type::Scalar { .. }) && v.is_object())
        .count();
    objects >= 3 && objects * 2 >= present.len()
}

/// `{field_1: value_1, ...}`-style descriptions: an object with open keys.
fn is_open_map(description: &str) -> bool {
    let d = description.to_lowercase();
    d.contains("field_1")
        || d.contains("field_n")
        || d.contains("key_1")
        || d.contains("lang_1")
        || d.contains("value_1")
        || d.contains("\"field\": \"value\"")
}

fn open_map() -> Type {
    Type::Map {
        value: Box::new(Type::scalar(Scalar::Any)),
    }
}

/// The words of a heading, without code marks and punctuation: "Parameter `fields`" gives
/// `Parameter`, `fields`.
pub(crate) fn heading_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '`' | ':' | ',' | '(' | ')' | '"'))
        .filter(|w| !w.is_empty())
}

/// Links to the type dictionary itself (`data-types.md` without an anchor): they say "this is
/// a type of the dictionary", not where a structure is.
fn is_dictionary_link(link: &str) -> bool {
    let (path, anchor) = link.split_once('#').unwrap_or((link, ""));
    let file = path.rsplit('/').next().unwrap_or(path);
    (file.starts_with("data-types.") || file.is_empty() && path.is_empty() && anchor.is_empty())
        && (anchor.is_empty() || anchor == "standart-types" || anchor == "compound-types")
}

/// True when the sentence of `markdown` that links to `dest` says the link describes a
/// structure ("the structure of a lead", "descriptions of the fields", "similar to the
/// response of"), rather than where a value comes from ("can be obtained using ...").
fn names_structure(markdown: &str, dest: &str) -> bool {
    let Some(at) = markdown.find(&format!("]({dest}")) else {
        return false;
    };
    // Back to the end of the previous sentence (a period and a space: names have periods).
    let start = markdown[..at]
        .rfind(". ")
        .max(markdown[..at].rfind('\n'))
        .map_or(0, |i| i + 1);
    let end = markdown[at..]
        .find(['\n'])
        .map_or(markdown.len(), |i| at + i);
    let sentence = markdown[start..end].to_lowercase();
    [
        "structure",
        "field",
        "similar",
        "same as",
        "described",
        "format of",
        "description of",
    ]
    .iter()
    .any(|k| sentence.contains(k))
}

/// Link destinations in a Markdown text.
fn description_links(markdown: &str) -> Vec<String> {
    if !markdown.contains("](") {
        return Vec::new();
    }
    inlines(markdown)
        .into_iter()
        .filter_map(|i| match i {
            Inline::LinkStart(d) => Some(d),
            _ => None,
        })
        .collect()
}

/// The heading block of `anchor` on `page`: an explicit `{#anchor}` or the heading's slug.
pub fn find_anchor(page: &Page, anchor: &str) -> Option<usize> {
    let anchor = anchor.trim();
    page.blocks
        .iter()
        .position(|b| matches!(&b.kind, BlockKind::Heading { anchor: Some(a), .. } if a == anchor))
        .or_else(|| {
            page.blocks.iter().position(|b| match &b.kind {
                BlockKind::Heading { text, .. } => slug(text) == anchor.to_lowercase(),
                _ => false,
            })
        })
}

/// The anchor the upstream renderer makes from a heading's text.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The field tables of the section under heading block `h` (up to the next heading of the
/// same or a higher level; tables under sub-headings excluded).
pub fn section_tables(page: &Page, h: usize) -> Vec<usize> {
    let level = match &page.blocks[h].kind {
        BlockKind::Heading { level, .. } => *level,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for b in &page.blocks[h + 1..] {
        match &b.kind {
            BlockKind::Heading { level: l, .. } => {
                if *l <= level || !out.is_empty() {
                    break;
                }
                // A sub-heading before any table: the structure may be under it (e.g. tabs).
                break;
            }
            BlockKind::Table(ti) => {
                if matches!(table::classify(&page.tables[*ti]).0, TableKind::Fields) {
                    out.push(*ti);
                }
            }
            _ => {}
        }
    }
    out
}

/// Places flat rows at the paths where the example shows their keys (`items` under `result`,
/// the items' fields under `items[]`), as dotted names; parents that a path names but no row
/// describes are added as rows without a type (their children type them).
fn nest_by_example(rows: Vec<RawField>, result: &Value) -> Vec<RawField> {
    let mut out = Vec::with_capacity(rows.len());
    for mut r in rows {
        if !is_path(&r.name) {
            if let Some(path) = find_key(result, &r.name, 4) {
                if !path.is_empty() {
                    r.name = format!("{}.{}", path.join("."), r.name);
                }
            }
        }
        out.push(r);
    }
    let mut known: std::collections::HashSet<String> = out
        .iter()
        .map(|r| r.name.trim_end_matches("[]").to_owned())
        .collect();
    let mut parents = Vec::new();
    for r in &out {
        if !is_path(&r.name) {
            continue;
        }
        let segments: Vec<&str> = r.name.split('.').collect();
        let mut prefix = String::new();
        for seg in &segments[..segments.len() - 1] {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(seg);
            let base = prefix.trim_end_matches("[]").to_owned();
            if known.insert(base.clone()) {
                parents.push(RawField {
                    name: base,
                    required: Required::No,
                    atoms: Vec::new(),
                    description: String::new(),
                    line: r.line,
                    example: None,
                });
            }
        }
    }
    parents.extend(out);
    parents
}

/// Folds an `items[]` row (the element of the array `items`) into the `items` row: the
/// array's type becomes an array of the element's type.
fn merge_element_rows(mut rows: Vec<RawField>) -> Vec<RawField> {
    let mut k = 0;
    while k < rows.len() {
        let Some(base) = rows[k].name.strip_suffix("[]").map(str::to_owned) else {
            k += 1;
            continue;
        };
        let Some(parent) = rows[..k].iter().position(|r| r.name == base) else {
            k += 1;
            continue;
        };
        let element = rows.remove(k);
        let p = &mut rows[parent];
        if !element.atoms.is_empty() {
            p.atoms = element
                .atoms
                .into_iter()
                .map(|a| Atom {
                    name: format!("{}[]", a.name),
                    link: a.link,
                })
                .collect();
        }
        if !element.description.is_empty() {
            p.description = format!("{}\n\n{}", p.description, element.description);
        }
    }
    rows
}

/// A dotted path (`a.b`, `a[].b`), not a placeholder such as `UF_...`.
fn is_path(name: &str) -> bool {
    name.contains('.') && !name.contains("..")
}

/// The shallowest path of object keys (array levels written as `name[]`) to a key in `value`.
fn find_key(value: &Value, key: &str, max_depth: usize) -> Option<Vec<String>> {
    let mut frontier: Vec<(Vec<String>, &Value)> = vec![(Vec::new(), value)];
    for _ in 0..=max_depth {
        let mut next = Vec::new();
        for (path, v) in frontier {
            match v {
                Value::Object(map) => {
                    if map.contains_key(key) {
                        return Some(path);
                    }
                    for (k, child) in map {
                        let mut p = path.clone();
                        p.push(k.clone());
                        next.push((p, child));
                    }
                }
                Value::Array(items) => {
                    for item in items.iter().take(3) {
                        match item {
                            Value::Object(map) if map.contains_key(key) => {
                                let mut p = path.clone();
                                if let Some(last) = p.last_mut() {
                                    last.push_str("[]");
                                }
                                return Some(p);
                            }
                            _ => next.push((path.clone(), item)),
                        }
                    }
                }
                _ => {}
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    None
}

/// Fields listed for `result`, at the level where the example shows their keys: an object
/// when the example's `result` is an object holding them (whatever the table calls it), an
/// array of objects when it is an array or when the table says so and the example does not
/// contradict it.
fn wrap_like(shape: Type, fields: Vec<Field>, example: Option<&Value>) -> Type {
    let is_array = match example {
        Some(Value::Array(_)) => true,
        Some(Value::Object(map)) if holds_fields(&fields, map) => false,
        _ => matches!(shape, Type::Array { .. }),
    };
    let obj = Type::Object { fields };
    if is_array {
        Type::array(obj)
    } else {
        obj
    }
}

/// True when an example object holds the documented fields (at least half of the smaller
/// of the two key sets, and one at least).
fn holds_fields(fields: &[Field], map: &Map<String, Value>) -> bool {
    let present = fields
        .iter()
        .filter(|f| map.contains_key(&f.api_name))
        .count();
    present > 0 && present * 2 >= fields.len().min(map.len())
}

fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        let cut = s
            .char_indices()
            .map(|(i, _)| i)
            .take_while(|&i| i <= 37)
            .last()
            .unwrap_or(0);
        format!("`{}...`", &s[..cut])
    } else {
        format!("`{s}`")
    }
}

fn describe(ty: &Type) -> String {
    match ty {
        Type::Scalar { scalar } => format!("`{}`", format!("{scalar:?}").to_lowercase()),
        Type::Array { .. } => "an array".into(),
        Type::Object { .. } | Type::Ref { .. } => "an object".into(),
        Type::Map { .. } => "a map".into(),
        Type::Union { .. } => "a union".into(),
        Type::Nullable { inner } => describe(inner),
        Type::Untyped { .. } => "untyped".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slugs_follow_the_renderer() {
        assert_eq!(slug("type.relations"), "typerelations");
        assert_eq!(slug("Parameter fields"), "parameter-fields");
        assert_eq!(slug("crm_multifield"), "crm_multifield");
    }

    #[test]
    fn keys_are_found_where_the_example_has_them() {
        let v = json!({"items": [{"id": 1, "title": "x"}], "count": 1});
        assert_eq!(find_key(&v, "items", 4), Some(vec![]));
        assert_eq!(find_key(&v, "id", 4), Some(vec!["items[]".to_owned()]));
        assert_eq!(find_key(&v, "nope", 4), None);
    }

    #[test]
    fn structures_from_descriptions() {
        let src = Source::new("p.md", 3);
        let fields = bullet_fields(
            "Rules.\n\nMay contain keys:\n- `INCLUDE` — rules to show\n- `EXCLUDE`: rules to hide",
            &src,
        )
        .unwrap();
        let keys: Vec<&str> = fields.iter().map(|f| f.api_name.as_str()).collect();
        assert_eq!(keys, ["INCLUDE", "EXCLUDE"]);
        assert_eq!(fields[1].description, "rules to hide");
        assert!(bullet_fields("- `Y` — yes", &src).is_none());
        let t = described_by_example(
            "Structure:\n\n```\n{\n    \"type\" : \"int\",\n    \"name\": \"NAME\"\n},\n```\n",
        )
        .unwrap();
        assert!(matches!(t, Type::Object { ref fields } if fields.len() == 2));
        assert_eq!(example_literal("`62`"), Some(Type::scalar(Scalar::Integer)));
        assert_eq!(
            example_literal("`'echo'`"),
            Some(Type::scalar(Scalar::String))
        );
        assert!(is_open_map("Format: `{\"field_1\": \"value_1\", ...}`"));
    }

    #[test]
    fn element_rows_fold_into_arrays() {
        let row = |name: &str, atom: &str| RawField {
            name: name.into(),
            required: Required::No,
            atoms: vec![Atom {
                name: atom.into(),
                link: None,
            }],
            description: String::new(),
            line: 0,
            example: None,
        };
        let rows = merge_element_rows(vec![row("items", "array"), row("items[]", "object")]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].atoms[0].name, "object[]");
    }

    #[test]
    fn dictionary_links() {
        assert!(is_dictionary_link("../../data-types.md"));
        assert!(is_dictionary_link("/api-reference/data-types.html"));
        assert!(!is_dictionary_link("../data-types.md#crm_multifield"));
        assert!(!is_dictionary_link("./object-fields.md"));
    }
}
