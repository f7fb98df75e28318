//! Redaction: how each kind of personal data is shown to a person who may not see it whole.
//!
//! One function per kind of data, used by every place that shows it masked: the 申请查看 tabs
//! (student and staff), the API, the exports, the profile's stored masked copy and the
//! snapshot taken at submission. Each keeps enough characters for a person to recognise their
//! own value and always hides at least one (see [`mask_middle`]).

use super::values::{IdType, mask_middle};

/// A resident ID card number (居民身份证): the first 3 and last 4 characters,
/// `110***********1234`.
pub fn id_card(number: &str) -> String {
    mask_middle(number.trim(), 3, 4)
}

/// A passport (or other travel document) number: the first and last 2 characters,
/// `E1*****78`.
pub fn passport(number: &str) -> String {
    mask_middle(number.trim(), 2, 2)
}

/// 证件号码 of any document type: an ID card as [`id_card`], anything else as [`passport`].
pub fn id_document(id_type: &str, number: &str) -> String {
    match IdType::from_code(id_type) {
        Some(IdType::ResidentIdCard) => id_card(number),
        _ => passport(number),
    }
}

/// A mobile number: the first 3 and last 4 digits, `138****5678`.
pub fn mobile(number: &str) -> String {
    mask_middle(number.trim(), 3, 4)
}

/// Any other telephone number: the first 3 and last 2 characters.
pub fn phone(number: &str) -> String {
    mask_middle(number.trim(), 3, 2)
}

/// 健康状况: free text about a person's health is never shown to anyone but its owner and
/// the office; others see that something was written, not what.
pub fn health(text: &str) -> String {
    if text.trim().is_empty() {
        String::new()
    } else {
        "***".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_card_keeps_its_first_three_and_last_four_characters() {
        assert_eq!(id_card("11010520040506002X"), "110***********002X");
    }

    #[test]
    fn a_passport_keeps_its_first_two_and_last_two_characters() {
        assert_eq!(passport("E12345678"), "E1*****78");
    }

    #[test]
    fn an_id_document_is_masked_by_its_type() {
        assert_eq!(
            id_document("resident_id", "11010520040506002X"),
            "110***********002X"
        );
        assert_eq!(id_document("passport", "E12345678"), "E1*****78");
    }

    #[test]
    fn a_mobile_keeps_its_first_three_and_last_four_digits() {
        assert_eq!(mobile(" 13812345678 "), "138****5678");
        assert_eq!(mobile(""), "");
    }

    #[test]
    fn a_phone_keeps_its_first_three_and_last_two_characters() {
        assert_eq!(phone("010-62751234"), "010*******34");
    }

    #[test]
    fn health_text_is_hidden_whole() {
        assert_eq!(health("良好"), "***");
        assert_eq!(health("  "), "");
    }
}
