//! What every page shares: the header (person, role, unread messages, language switch), the
//! menu, flash messages, and the data-driven form pieces the templates render.

use crate::i18n::Lang;

/// The frame around every page. Each page template struct has a field `l: Layout`.
#[derive(Debug, Clone)]
pub struct Layout {
    pub lang: Lang,
    /// The signed-in person, or `None` on the sign-in page.
    pub user: Option<UserBadge>,
    /// The CSRF token every form posts back as `_csrf` (and scripts send as `X-CSRF-Token`).
    pub csrf: String,
    /// Path and query of this page, for the language switch to come back to.
    pub path: String,
    /// The menu entry to highlight (its catalogue key, e.g. `nav.programs`).
    pub nav: &'static str,
    pub flash: Option<Flash>,
    /// The page title, already translated.
    pub title: String,
    /// The office's configured name in this language (the footer's).
    pub office: String,
}

/// The person in the header.
#[derive(Debug, Clone)]
pub struct UserBadge {
    pub display_name: String,
    /// Catalogue key of the role shown next to the name (e.g. `role.student`).
    pub role_key: &'static str,
    pub unread: i64,
    pub is_student: bool,
    pub is_staff: bool,
    /// The international office or an admin: programs, admission, statistics.
    pub is_office: bool,
    pub is_admin: bool,
    /// 合作方: submits programs for the office's approval.
    pub is_partner: bool,
    pub must_change_password: bool,
}

/// A one-time message shown at the top of the next page.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Flash {
    /// `success`, `error` or `info`.
    pub kind: String,
    /// Already translated.
    pub text: String,
}

/// How a form field is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Date,
    Email,
    Tel,
    Number,
    Password,
    Textarea,
    Select,
    Radio,
}

impl FieldKind {
    /// The `type` attribute for `<input>` kinds.
    pub fn input_type(self) -> &'static str {
        match self {
            FieldKind::Date => "date",
            FieldKind::Email => "email",
            FieldKind::Tel => "tel",
            FieldKind::Number => "text",
            FieldKind::Password => "password",
            _ => "text",
        }
    }
    pub fn is_select(self) -> bool {
        self == FieldKind::Select
    }
    pub fn is_radio(self) -> bool {
        self == FieldKind::Radio
    }
    pub fn is_textarea(self) -> bool {
        self == FieldKind::Textarea
    }
}

/// One labelled field, with the user's value and its error kept.
#[derive(Debug, Clone)]
pub struct FormField {
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    pub value: String,
    /// The error beside the field, already translated.
    pub error: Option<String>,
    pub required: bool,
    pub hint: Option<String>,
    /// Shown as text, not editable (registry fields).
    pub readonly: bool,
    /// (value, label) pairs for selects and radios.
    pub options: Vec<(String, String)>,
    /// The label of the current value for read-only selects.
    pub display: String,
    /// A select whose choices depend on another field (达标方式 on 外语语种): the other
    /// field's name. Its options are then drawn in `groups`.
    pub narrowed_by: Option<String>,
    /// The options of a narrowed select, grouped by the other field's value.
    pub groups: Vec<OptionGroup>,
}

/// A group of a select's options that belongs to one value of another field. Without
/// JavaScript every group is shown under its heading; `static/app.js` keeps only the groups
/// of the value chosen.
#[derive(Debug, Clone)]
pub struct OptionGroup {
    /// The heading (the language's name).
    pub label: String,
    /// The other field's value this group belongs to; "" for every value.
    pub for_value: String,
    /// (value, label) pairs.
    pub options: Vec<(String, String)>,
}

impl FormField {
    pub fn new(name: impl Into<String>, label: impl Into<String>, kind: FieldKind) -> FormField {
        FormField {
            name: name.into(),
            label: label.into(),
            kind,
            value: String::new(),
            error: None,
            required: false,
            hint: None,
            readonly: false,
            options: Vec::new(),
            display: String::new(),
            narrowed_by: None,
            groups: Vec::new(),
        }
    }
    pub fn value(mut self, v: impl Into<String>) -> Self {
        self.value = v.into();
        self
    }
    pub fn required(mut self, yes: bool) -> Self {
        self.required = yes;
        self
    }
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }
    pub fn readonly(mut self, yes: bool) -> Self {
        self.readonly = yes;
        self
    }
    pub fn options(mut self, o: Vec<(String, String)>) -> Self {
        self.options = o;
        self
    }
    /// Makes a select narrowed by the field `by`, its options in `groups`.
    pub fn grouped_by(mut self, by: &str, groups: Vec<OptionGroup>) -> Self {
        self.options = groups.iter().flat_map(|g| g.options.clone()).collect();
        self.narrowed_by = Some(by.to_owned());
        self.groups = groups;
        self
    }
    pub fn error(mut self, e: Option<String>) -> Self {
        self.error = e;
        self
    }
    /// The text shown for a read-only field: the option label for selects and radios.
    pub fn shown_value(&self) -> &str {
        if !self.display.is_empty() {
            return &self.display;
        }
        self.options
            .iter()
            .find(|(v, _)| *v == self.value)
            .map(|(_, l)| l.as_str())
            .unwrap_or(&self.value)
    }
}

/// A titled group of fields.
#[derive(Debug, Clone)]
pub struct FormSection {
    pub title: String,
    pub note: Option<String>,
    pub fields: Vec<FormField>,
}
