//! The translation catalogue: every label the interface shows, in Chinese and English.
//!
//! Catalogue files are tab-separated `key<TAB>中文<TAB>English` lines, one file per area, all
//! compiled into the binary. Chinese is the default language; a cookie switches to English.
//! Tests make sure every key has both texts, no key is defined twice, and every key a template
//! asks for exists.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The catalogue files, compiled in.
const SOURCES: &[(&str, &str)] = &[
    (
        "src/domain/messages.tsv",
        include_str!("domain/messages.tsv"),
    ),
    ("i18n/common.tsv", include_str!("../i18n/common.tsv")),
    ("i18n/auth.tsv", include_str!("../i18n/auth.tsv")),
    ("i18n/profile.tsv", include_str!("../i18n/profile.tsv")),
    ("i18n/programs.tsv", include_str!("../i18n/programs.tsv")),
    (
        "i18n/applications.tsv",
        include_str!("../i18n/applications.tsv"),
    ),
    ("i18n/staff.tsv", include_str!("../i18n/staff.tsv")),
    ("i18n/manage.tsv", include_str!("../i18n/manage.tsv")),
    ("i18n/admission.tsv", include_str!("../i18n/admission.tsv")),
    ("i18n/admin.tsv", include_str!("../i18n/admin.tsv")),
    ("i18n/reports.tsv", include_str!("../i18n/reports.tsv")),
    ("i18n/api.tsv", include_str!("../i18n/api.tsv")),
    ("i18n/pdf.tsv", include_str!("../i18n/pdf.tsv")),
    ("i18n/journey.tsv", include_str!("../i18n/journey.tsv")),
    (
        "i18n/journey_forms.tsv",
        include_str!("../i18n/journey_forms.tsv"),
    ),
    (
        "i18n/journey_staff.tsv",
        include_str!("../i18n/journey_staff.tsv"),
    ),
    (
        "i18n/journey_settings.tsv",
        include_str!("../i18n/journey_settings.tsv"),
    ),
    (
        "i18n/self_arranged.tsv",
        include_str!("../i18n/self_arranged.tsv"),
    ),
];

/// One catalogue entry: (Chinese, English).
type Entry = (&'static str, &'static str);

fn parse(sources: &[(&'static str, &'static str)]) -> (HashMap<&'static str, Entry>, Vec<String>) {
    let mut map = HashMap::new();
    let mut problems = Vec::new();
    for (file, text) in sources {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split('\t');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(key), Some(zh), Some(en), None)
                    if !key.trim().is_empty() && !zh.trim().is_empty() && !en.trim().is_empty() =>
                {
                    if map.insert(key.trim(), (zh, en)).is_some() {
                        problems.push(format!("{file}:{}: key {key} defined twice", n + 1));
                    }
                }
                _ => problems.push(format!("{file}:{}: not `key<TAB>中文<TAB>English`", n + 1)),
            }
        }
    }
    (map, problems)
}

static CATALOGUE: LazyLock<HashMap<&'static str, Entry>> = LazyLock::new(|| parse(SOURCES).0);

/// The interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The `lang` attribute of the page.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language (the switch in the header).
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The text of `key` in this language; an unknown key shows as itself (and fails a test).
    pub fn t(self, key: &str) -> &str {
        match CATALOGUE.get(key) {
            Some((zh, en)) => match self {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => key,
        }
    }

    /// Picks between a Chinese and an English value of a record (a program's name …); falls
    /// back to the Chinese one when the English one is empty.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::En if !en.trim().is_empty() => en,
            _ => zh,
        }
    }

    /// The text of `key` with `{}` replaced by `arg`.
    pub fn tf(self, key: &str, arg: &str) -> String {
        self.t(key).replacen("{}", arg, 1)
    }
}

/// A text in both interface languages; a page picks one with [`Text::get`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    /// The same text in both languages (a name, a number, what a person typed).
    pub fn plain(s: &str) -> Text {
        Text {
            zh: s.to_owned(),
            en: s.to_owned(),
        }
    }

    /// A catalogue entry in both languages.
    pub fn key(key: &str) -> Text {
        Text {
            zh: Lang::Zh.t(key).to_owned(),
            en: Lang::En.t(key).to_owned(),
        }
    }

    /// A name held in both languages; an empty English name falls back to the Chinese one.
    pub fn names(zh: &str, en: &str) -> Text {
        Text {
            zh: zh.to_owned(),
            en: Lang::En.pick(zh, en).to_owned(),
        }
    }

    /// A catalogue entry with its `{}` filled by `args`, each in the same language.
    pub fn fill(key: &str, args: &[&Text]) -> Text {
        let with = |lang: Lang| {
            let parts: Vec<&str> = args.iter().map(|a| a.get(lang)).collect();
            fill(lang.t(key), &parts)
        };
        Text {
            zh: with(Lang::Zh),
            en: with(Lang::En),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// The stored form of a text written in both languages at once (see [`Phrase::read`]).
    pub fn store(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.zh.is_empty() && self.en.is_empty()
    }
}

/// A text the system writes for people to read later (a history opinion, a message): a
/// catalogue key and its parameters, each in both languages, stored as JSON so that each
/// reader sees it in their own language, and so that a corrected catalogue text shows at once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Phrase {
    pub key: String,
    #[serde(default)]
    pub args: Vec<Text>,
}

impl Phrase {
    pub fn new(key: &str, args: Vec<Text>) -> Phrase {
        Phrase {
            key: key.to_owned(),
            args,
        }
    }

    /// The stored form.
    pub fn store(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The phrase in both languages.
    pub fn text(&self) -> Text {
        let args: Vec<&Text> = self.args.iter().collect();
        Text::fill(&self.key, &args)
    }

    /// What a stored text reads as: a stored phrase or text in both languages; anything else
    /// (what a person typed, rows written before phrases) as it is.
    pub fn read(stored: &str) -> Text {
        if let Some(p) = Phrase::parse(stored) {
            return p.text();
        }
        if stored.starts_with("{\"zh\"")
            && let Ok(t) = serde_json::from_str::<Text>(stored)
        {
            return t;
        }
        Text::plain(stored)
    }

    /// The phrase in a stored text, if it is one of a known key.
    pub fn parse(stored: &str) -> Option<Phrase> {
        if !stored.starts_with("{\"key\"") {
            return None;
        }
        serde_json::from_str::<Phrase>(stored)
            .ok()
            .filter(|p| has_key(&p.key))
    }
}

/// Fills the `{}` of a catalogue text with `args`, in order.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    let mut args = args.iter();
    while let Some(at) = rest.find("{}") {
        out.push_str(&rest[..at]);
        out.push_str(args.next().copied().unwrap_or_default());
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

/// Whether the catalogue has `key` (tests, and callers that fall back to a raw value).
pub fn has_key(key: &str) -> bool {
    CATALOGUE.contains_key(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_line_is_well_formed_and_every_key_is_unique() {
        let (_, problems) = parse(SOURCES);
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn every_key_a_template_or_source_file_asks_for_exists() {
        let mut missing = Vec::new();
        for dir in ["templates", "src"] {
            visit(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(dir)
                    .as_path(),
                &mut |path, text| {
                    for key in keys_used(text) {
                        if !has_key(&key) {
                            missing.push(format!("{}: {key}", path.display()));
                        }
                    }
                },
            );
        }
        assert!(
            missing.is_empty(),
            "keys missing from the catalogue: {missing:#?}"
        );
    }

    /// Keys written as `.t("key")` or `.tf("key"` in source and templates.
    fn keys_used(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for marker in [".t(\"", ".tf(\""] {
            let mut rest = text;
            while let Some(at) = rest.find(marker) {
                rest = &rest[at + marker.len()..];
                if let Some(end) = rest.find('"') {
                    let key = &rest[..end];
                    if !key.is_empty() && !key.contains(['{', ' ']) {
                        keys.push(key.to_owned());
                    }
                }
            }
        }
        keys
    }

    fn visit(dir: &std::path::Path, f: &mut dyn FnMut(&std::path::Path, &str)) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                visit(&path, f);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "html")
                && !path.ends_with("src/i18n.rs")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                f(&path, &text);
            }
        }
    }

    #[test]
    fn an_english_value_falls_back_to_chinese_when_empty() {
        assert_eq!(Lang::En.pick("交流项目", ""), "交流项目");
        assert_eq!(Lang::En.pick("交流项目", "Exchange"), "Exchange");
        assert_eq!(Lang::Zh.pick("交流项目", "Exchange"), "交流项目");
    }
}
