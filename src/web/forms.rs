//! Small helpers shared by form pages: translated field errors and building fields.

use crate::domain::FieldErrors;
use crate::i18n::Lang;

/// The translated error of field `name`, if any.
pub fn error_of(errors: &FieldErrors, name: &str, lang: Lang) -> Option<String> {
    errors.get(name).map(|code| lang.t(code).to_owned())
}

/// A list of every error, translated, with the field's label: the summary above a form.
pub fn summary(errors: &FieldErrors, lang: Lang) -> Vec<String> {
    errors
        .0
        .iter()
        .map(|e| {
            let label_key = format!("field.{}", e.field);
            let label = lang.t(&label_key);
            if label == label_key {
                lang.t(e.code).to_owned()
            } else {
                format!("{label}：{}", lang.t(e.code))
            }
        })
        .collect()
}

/// Is `back` a safe place to send the person back to (a local path, not `//host`)?
pub fn safe_back(back: &str) -> Option<&str> {
    (back.starts_with('/') && !back.starts_with("//") && !back.starts_with("/\\")).then_some(back)
}

#[cfg(test)]
mod tests {
    use super::safe_back;

    #[test]
    fn only_local_paths_are_followed_back() {
        assert_eq!(safe_back("/programs?x=1"), Some("/programs?x=1"));
        assert_eq!(safe_back("//evil.example/"), None);
        assert_eq!(safe_back("https://evil.example/"), None);
        assert_eq!(safe_back("/\\evil.example"), None);
    }
}
