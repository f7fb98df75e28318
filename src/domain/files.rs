//! Attachments (附件, SPEC §6): which formats a program accepts, whether an upload's content
//! really is what its name says (magic bytes, not only the extension), and the file names we
//! keep and hand out ("姓名+内容": 张三护照.pdf).
//!
//! Pure functions over bytes and names: storing the bytes is `storage`'s job.

use std::fmt;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 120;
/// Longest extension kept apart when a long name is shortened.
const MAX_EXT_CHARS: usize = 16;

/// A file format an attachment type may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// PDF.
    Pdf,
    /// PNG image.
    Png,
    /// JPEG image.
    Jpg,
    /// TIFF image (scanners).
    Tiff,
    /// Word 97–2003 (an OLE2 compound file).
    Doc,
    /// Word 2007+ (a zip with `word/document.xml`).
    Docx,
}

impl FileFormat {
    /// The formats an attachment type accepts unless its publisher says otherwise
    /// (seed 001: pdf,png,jpg,tiff,doc,docx).
    pub const DEFAULTS: [FileFormat; 6] = [
        FileFormat::Pdf,
        FileFormat::Png,
        FileFormat::Jpg,
        FileFormat::Tiff,
        FileFormat::Doc,
        FileFormat::Docx,
    ];

    /// Every format the system knows. Today the same list as [`Self::DEFAULTS`]; kept apart
    /// so that a format added later need not become a default.
    pub const ALL: [FileFormat; 6] = FileFormat::DEFAULTS;

    /// The canonical extension, without the dot; also the code stored in configuration.
    pub const fn ext(self) -> &'static str {
        match self {
            FileFormat::Pdf => "pdf",
            FileFormat::Png => "png",
            FileFormat::Jpg => "jpg",
            FileFormat::Tiff => "tiff",
            FileFormat::Doc => "doc",
            FileFormat::Docx => "docx",
        }
    }

    /// The MIME type to serve the file with.
    pub const fn mime(self) -> &'static str {
        match self {
            FileFormat::Pdf => "application/pdf",
            FileFormat::Png => "image/png",
            FileFormat::Jpg => "image/jpeg",
            FileFormat::Tiff => "image/tiff",
            FileFormat::Doc => "application/msword",
            FileFormat::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
        }
    }

    /// The format of an extension, case-insensitive, with or without the dot; `jpeg` is
    /// [`FileFormat::Jpg`] and `tif` is [`FileFormat::Tiff`].
    pub fn from_ext(ext: &str) -> Option<FileFormat> {
        let ext = ext.trim().trim_start_matches('.').to_ascii_lowercase();
        match ext.as_str() {
            "pdf" => Some(FileFormat::Pdf),
            "png" => Some(FileFormat::Png),
            "jpg" | "jpeg" => Some(FileFormat::Jpg),
            "tif" | "tiff" => Some(FileFormat::Tiff),
            "doc" => Some(FileFormat::Doc),
            "docx" => Some(FileFormat::Docx),
            _ => None,
        }
    }

    /// Parses a configured list such as `pdf,png,jpg` (commas, spaces or 、 between items);
    /// `None` if any item is unknown. Duplicates are dropped, order kept.
    pub fn parse_list(list: &str) -> Option<Vec<FileFormat>> {
        let mut formats = Vec::new();
        for item in list
            .split(|c: char| c == ',' || c == '，' || c == '、' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            let format = FileFormat::from_ext(item)?;
            if !formats.contains(&format) {
                formats.push(format);
            }
        }
        Some(formats)
    }

    /// A browser can show it inline (查看) rather than download it.
    pub const fn is_previewable(self) -> bool {
        matches!(self, FileFormat::Pdf | FileFormat::Png | FileFormat::Jpg)
    }

    /// Whether `bytes` really are of this format.
    fn matches(self, bytes: &[u8]) -> bool {
        match self {
            FileFormat::Pdf => bytes.starts_with(b"%PDF-"),
            FileFormat::Png => infer::image::is_png(bytes),
            FileFormat::Jpg => infer::image::is_jpeg(bytes),
            FileFormat::Tiff => infer::image::is_tiff(bytes),
            FileFormat::Doc => bytes.starts_with(&OLE2_MAGIC),
            FileFormat::Docx => {
                bytes.starts_with(b"PK\x03\x04") && zip_lists(bytes, b"word/document.xml")
            }
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ext())
    }
}

/// The signature of an OLE2 compound file (Word 97–2003 .doc).
const OLE2_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Whether a zip archive's central directory lists an entry called `name`. Reads the headers
/// in place — nothing is decompressed, so a zip bomb costs one linear scan.
fn zip_lists(bytes: &[u8], name: &[u8]) -> bool {
    // A central-directory file header: signature, 42 bytes of fields (the name's length at
    // offset 28, little-endian), then the name at offset 46.
    const SIGNATURE: &[u8; 4] = b"PK\x01\x02";
    bytes.windows(4).enumerate().any(|(at, window)| {
        if window != SIGNATURE {
            return false;
        }
        let len_at = at + 28;
        let Some(&[lo, hi]) = bytes.get(len_at..len_at + 2) else {
            return false;
        };
        let len = usize::from(u16::from_le_bytes([lo, hi]));
        bytes.get(at + 46..at + 46 + len) == Some(name)
    })
}

/// Why an upload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// No bytes.
    #[error("the file is empty")]
    Empty,
    /// More than the attachment type's maximum size.
    #[error("the file is larger than {max_bytes} bytes")]
    TooLarge {
        /// The maximum, in bytes.
        max_bytes: u64,
    },
    /// The name's extension is missing, unknown, or not accepted for this attachment type.
    #[error("files of this type are not accepted here")]
    FormatNotAllowed,
    /// The content is not what the extension says.
    #[error("the content is not a {expected} file")]
    ContentMismatch {
        /// The format the name claims.
        expected: FileFormat,
    },
}

impl UploadError {
    /// Every code, for the catalogue test.
    pub const ALL_CODES: [&'static str; 4] = [
        "err.upload.empty",
        "err.upload.too_large",
        "err.upload.format_not_allowed",
        "err.upload.content_mismatch",
    ];

    /// The catalogue key of the message shown to the user.
    pub const fn code(&self) -> &'static str {
        match self {
            UploadError::Empty => "err.upload.empty",
            UploadError::TooLarge { .. } => "err.upload.too_large",
            UploadError::FormatNotAllowed => "err.upload.format_not_allowed",
            UploadError::ContentMismatch { .. } => "err.upload.content_mismatch",
        }
    }
}

/// Checks an upload for an attachment type accepting `allowed` formats up to `max_bytes`:
/// not empty, not too large, an accepted extension, and content that matches it (a `.pdf`
/// starts with `%PDF-`, a `.docx` is a zip holding `word/document.xml` …). Returns the format.
pub fn check_upload(
    file_name: &str,
    bytes: &[u8],
    allowed: &[FileFormat],
    max_bytes: u64,
) -> Result<FileFormat, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    if u64::try_from(bytes.len()).map_or(true, |len| len > max_bytes) {
        return Err(UploadError::TooLarge { max_bytes });
    }
    let name = clean_file_name(file_name);
    let format = name
        .rsplit_once('.')
        .and_then(|(_, ext)| FileFormat::from_ext(ext))
        .filter(|f| allowed.contains(f))
        .ok_or(UploadError::FormatNotAllowed)?;
    if format.matches(bytes) {
        Ok(format)
    } else {
        Err(UploadError::ContentMismatch { expected: format })
    }
}

/// Characters that change the display order of text: a name like `exe.pdf` written
/// right-to-left could pretend to be another file type.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Names Windows reserves for devices, whatever the extension.
fn is_windows_reserved(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or(name)
        .trim_end()
        .to_ascii_uppercase();
    match stem.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" => true,
        _ => ["COM", "LPT"].iter().any(|device| {
            stem.strip_prefix(device)
                .is_some_and(|n| n.len() == 1 && n.bytes().all(|b| (b'1'..=b'9').contains(&b)))
        }),
    }
}

/// A file name safe to keep, show and hand back in a download, from what a browser sent:
/// only the last path component (for `/` and `\`), NFC-normalised, without control
/// characters or bidi overrides, with `<>:"|?*` replaced by `_`, without leading dots or
/// trailing dots and spaces, Windows device names (CON, COM1 …) prefixed with `_`, at most 120
/// characters with the extension kept. Never empty: `file` when nothing is left.
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    // Filter before normalising: removing a character between a letter and its combining
    // accent must not leave a decomposed pair behind.
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .map(|c| if "<>:\"|?*".contains(c) { '_' } else { c })
        .nfc()
        .collect();
    let trimmed = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        return "file".to_owned();
    }
    let name = if is_windows_reserved(trimmed) {
        format!("_{trimmed}")
    } else {
        trimmed.to_owned()
    };
    let name = shorten(&name);
    // Shortening may leave a trailing dot or space; the start is unchanged.
    name.trim_end_matches(|c: char| c == '.' || c.is_whitespace())
        .to_owned()
}

/// Cuts `name` to [`MAX_NAME_CHARS`] characters, keeping a short extension.
fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= MAX_EXT_CHARS => {
            let keep = MAX_NAME_CHARS - ext.chars().count() - 1;
            let stem: String = stem.chars().take(keep).collect();
            format!("{stem}.{ext}")
        }
        _ => name.chars().take(MAX_NAME_CHARS).collect(),
    }
}

/// The name a downloaded attachment gets, "姓名+内容" as the offices ask: `张三护照.pdf`, and
/// `张三护照(2).pdf` for the second file of the same type. `index` is the file's 1-based
/// position (序号) among the files of its type; 0 and 1 both mean the first.
pub fn download_name(student_name: &str, type_name: &str, ext: &str, index: usize) -> String {
    // A separator inside a name would make `clean_file_name` drop what comes before it.
    let part = |s: &str| s.trim().replace(['/', '\\'], "_");
    let ext = ext.trim().trim_start_matches('.').to_lowercase();
    let suffix = if index >= 2 {
        format!("({index})")
    } else {
        String::new()
    };
    let stem = format!("{}{}{suffix}", part(student_name), part(type_name));
    if ext.is_empty() {
        clean_file_name(&stem)
    } else {
        clean_file_name(&format!("{stem}.{ext}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MB: u64 = 1024 * 1024;

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec()
    }

    fn png() -> Vec<u8> {
        let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        b.extend_from_slice(&[0; 24]);
        b
    }

    fn jpg() -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
        b.extend_from_slice(&[0; 24]);
        b
    }

    fn tiff() -> Vec<u8> {
        let mut b = vec![b'I', b'I', 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00];
        b.extend_from_slice(&[0; 24]);
        b
    }

    fn doc() -> Vec<u8> {
        let mut b = OLE2_MAGIC.to_vec();
        b.extend_from_slice(&[0; 504]);
        b
    }

    /// A minimal zip: one local header and one central-directory header naming `entry`.
    fn zip_with(entry: &str) -> Vec<u8> {
        let name = entry.as_bytes();
        let name_len = u16::try_from(name.len()).expect("short name").to_le_bytes();
        let mut b = b"PK\x03\x04".to_vec();
        b.extend_from_slice(&[0; 22]);
        b.extend_from_slice(&name_len);
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(name);
        b.extend_from_slice(b"PK\x01\x02");
        b.extend_from_slice(&[0; 24]);
        b.extend_from_slice(&name_len);
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(name);
        b.extend_from_slice(b"PK\x05\x06");
        b.extend_from_slice(&[0; 18]);
        b
    }

    #[test]
    fn each_default_format_is_accepted_when_its_content_matches() {
        let cases = [
            ("成绩单.pdf", pdf(), FileFormat::Pdf),
            ("photo.PNG", png(), FileFormat::Png),
            ("photo.jpeg", jpg(), FileFormat::Jpg),
            ("scan.tif", tiff(), FileFormat::Tiff),
            ("申请表.doc", doc(), FileFormat::Doc),
            (
                "申请表.docx",
                zip_with("word/document.xml"),
                FileFormat::Docx,
            ),
        ];
        for (name, bytes, format) in cases {
            assert_eq!(
                check_upload(name, &bytes, &FileFormat::DEFAULTS, MB),
                Ok(format),
                "{name}"
            );
        }
    }

    #[test]
    fn an_empty_file_is_refused() {
        assert_eq!(
            check_upload("a.pdf", &[], &FileFormat::DEFAULTS, MB),
            Err(UploadError::Empty)
        );
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused() {
        let mut big = pdf();
        big.resize(usize::try_from(MB).expect("fits") + 1, b' ');
        assert_eq!(
            check_upload("a.pdf", &big, &FileFormat::DEFAULTS, MB),
            Err(UploadError::TooLarge { max_bytes: MB })
        );
    }

    #[test]
    fn an_extension_the_attachment_type_does_not_accept_is_refused() {
        for name in ["a.exe", "a", "a.png"] {
            assert_eq!(
                check_upload(name, &png(), &[FileFormat::Pdf], MB),
                Err(UploadError::FormatNotAllowed),
                "{name}"
            );
        }
    }

    #[test]
    fn a_renamed_file_is_refused_by_its_content() {
        let cases = [
            ("fake.pdf", png(), FileFormat::Pdf),
            ("fake.png", jpg(), FileFormat::Png),
            ("fake.doc", zip_with("word/document.xml"), FileFormat::Doc),
            ("fake.docx", zip_with("xl/workbook.xml"), FileFormat::Docx),
            ("fake.docx", doc(), FileFormat::Docx),
            ("fake.pdf", b"<html>%PDF-".to_vec(), FileFormat::Pdf),
        ];
        for (name, bytes, expected) in cases {
            assert_eq!(
                check_upload(name, &bytes, &FileFormat::DEFAULTS, MB),
                Err(UploadError::ContentMismatch { expected }),
                "{name}"
            );
        }
        assert_eq!(
            UploadError::ContentMismatch {
                expected: FileFormat::Pdf
            }
            .code(),
            "err.upload.content_mismatch"
        );
    }

    #[test]
    fn extensions_have_aliases_and_formats_have_mime_types() {
        assert_eq!(FileFormat::from_ext("JPEG"), Some(FileFormat::Jpg));
        assert_eq!(FileFormat::from_ext(".tif"), Some(FileFormat::Tiff));
        assert_eq!(FileFormat::from_ext("exe"), None);
        assert_eq!(FileFormat::Jpg.mime(), "image/jpeg");
        assert_eq!(
            FileFormat::parse_list("pdf, png、jpg,pdf"),
            Some(vec![FileFormat::Pdf, FileFormat::Png, FileFormat::Jpg])
        );
        assert_eq!(FileFormat::parse_list("pdf,exe"), None);
        assert!(!FileFormat::Tiff.is_previewable());
    }

    #[test]
    fn a_file_name_keeps_only_its_last_path_component() {
        assert_eq!(
            clean_file_name("C:\\Users\\张三\\Desktop\\护照.pdf"),
            "护照.pdf"
        );
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a/b\\c.pdf"), "c.pdf");
    }

    #[test]
    fn a_file_name_loses_dangerous_characters() {
        assert_eq!(clean_file_name("..hidden.pdf"), "hidden.pdf");
        assert_eq!(clean_file_name("a\u{0}b\r\n.pdf"), "ab.pdf");
        assert_eq!(clean_file_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(clean_file_name("what?*.pdf"), "what__.pdf");
        assert_eq!(clean_file_name("trailing. . "), "trailing");
    }

    #[test]
    fn a_file_name_is_nfc_normalised() {
        // "é" typed as e + combining acute (as macOS sends it) becomes one character.
        assert_eq!(
            clean_file_name("re\u{301}sume\u{301}.pdf"),
            "r\u{e9}sum\u{e9}.pdf"
        );
    }

    #[test]
    fn windows_device_names_are_prefixed() {
        assert_eq!(clean_file_name("CON"), "_CON");
        assert_eq!(clean_file_name("com1.pdf"), "_com1.pdf");
        assert_eq!(clean_file_name("lpt9.txt"), "_lpt9.txt");
        assert_eq!(clean_file_name("COM10.pdf"), "COM10.pdf");
        assert_eq!(clean_file_name("console.pdf"), "console.pdf");
    }

    #[test]
    fn a_long_file_name_is_cut_keeping_its_extension() {
        let long = format!("{}.pdf", "长".repeat(300));
        let cleaned = clean_file_name(&long);
        assert_eq!(cleaned.chars().count(), 120);
        assert!(cleaned.ends_with("长.pdf"));
    }

    #[test]
    fn a_file_name_is_never_empty() {
        for raw in ["", "   ", "...", "dir/", "\u{202E}", "C:\\"] {
            assert_eq!(clean_file_name(raw), "file", "{raw:?}");
        }
    }

    #[test]
    fn a_download_is_named_after_the_student_and_the_content() {
        assert_eq!(download_name("张三", "护照", "pdf", 1), "张三护照.pdf");
        assert_eq!(download_name("张三", "护照", ".PDF", 0), "张三护照.pdf");
        assert_eq!(download_name("张三", "护照", "pdf", 2), "张三护照(2).pdf");
        assert_eq!(
            download_name("张三", "中/英文在读证明", "pdf", 1),
            "张三中_英文在读证明.pdf"
        );
        assert_eq!(download_name("张三", "其他", "", 1), "张三其他");
    }

    proptest! {
        #[test]
        fn a_cleaned_file_name_is_always_safe(raw in any::<String>()) {
            let name = clean_file_name(&raw);
            prop_assert!(!name.is_empty());
            prop_assert!(name.chars().count() <= MAX_NAME_CHARS);
            prop_assert!(!name.contains('/') && !name.contains('\\'));
            prop_assert!(!name.chars().any(|c| c.is_control() || is_bidi_control(c)));
            prop_assert!(!name.starts_with('.'));
            prop_assert!(!is_windows_reserved(&name));
        }

        #[test]
        fn cleaning_a_clean_file_name_changes_nothing(raw in any::<String>()) {
            let once = clean_file_name(&raw);
            prop_assert_eq!(clean_file_name(&once), once.clone());
        }

        #[test]
        fn cleaning_keeps_the_last_component_of_a_path(
            dirs in proptest::collection::vec("[a-z]{1,8}", 0..4),
            file in "[a-z]{1,8}\\.pdf",
        ) {
            let path = dirs.iter().map(|d| format!("{d}/")).collect::<String>() + &file;
            prop_assert_eq!(clean_file_name(&path), file);
        }
    }
}
