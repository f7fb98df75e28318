//! The filled application / approval form (申请表 / 审批表) as a printable A4 PDF in Chinese,
//! with blanks for the signatures and stamps the paper route needs (本人签字, 学院意见（签字盖章）,
//! 国际处意见（签字盖章）).
//!
//! The layout is a typst template compiled into the binary (`templates/pdf/application_form.typ`).
//! Everything the student typed reaches it only as a virtual `data.json` that the template
//! reads with `json(..)`: values are strings placed as text, never parsed as markup, so `#`,
//! `*`, `$` or `<b>` print as themselves. Any typst warning (a missing font, say) is an error.
//!
//! The Simplified-Chinese font comes from the machine, found once through fontconfig's folders
//! (Noto Serif/Sans CJK SC, Source Han, WenQuanYi …) or from the file named by
//! `OUTBOUND_PDF_FONT`. Without one, rendering answers [`PdfError::NoFont`] and the page tells
//! the person so; a font installed later is picked up by the next download. The chosen faces
//! stay in memory (about 55 MB for Noto Serif CJK regular and bold, 5 MB for WenQuanYi).
//!
//! [`render_application_form`] is pure (plain data in, bytes out) and blocking: call it from
//! `spawn_blocking`. It trims typst's memo cache after every render, so a long-running server
//! does not grow.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, OnceLock};

use serde::Serialize;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

/// The environment variable naming a font file (.ttf, .otf or .ttc) to use instead of the
/// system's fonts.
pub const FONT_ENV: &str = "OUTBOUND_PDF_FONT";

/// The template, compiled in.
const TEMPLATE: &str = include_str!("../templates/pdf/application_form.typ");

/// Families tried first, best first: a 宋体-like serif for a printed form, then sans faces.
const PREFERRED_FAMILIES: [&str; 12] = [
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "Source Han Serif CN",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "Noto Serif SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "AR PL UMing CN",
    "Droid Sans Fallback",
];

/// Characters a usable face must have: the form's own words.
const MUST_COVER: &str = "申请表本人签字学院意见盖章国际处年月日";

/// How many renders a memoised typst result may go unused before it is dropped. Measured
/// (release, 200 forms with different data): 2 renders as fast as 10 or 100 (~20 ms each) and
/// keeps the process at ~90 MB instead of ~105 MB or ~265 MB.
const CACHE_AGE: usize = 2;

/// Why no PDF came out.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// No Simplified-Chinese font on this machine (or `OUTBOUND_PDF_FONT` names none).
    #[error("no Simplified-Chinese font found (install fonts-noto-cjk or set {FONT_ENV})")]
    NoFont,
    /// The template did not compile, or warned; a bug, never the student's input.
    #[error("the application form did not render: {0}")]
    Render(String),
}

/// One form's content, every value already a display string (dictionary codes turned into
/// their Chinese labels). Empty strings print as blanks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FormData {
    /// 申请编号.
    pub number: String,
    /// 申请状态, as the list shows it (申请中 …).
    pub status: String,
    /// 提交时间, China time (`YYYY-MM-DD HH:MM`).
    pub submitted_at: String,
    /// When this printout was made, China time.
    pub generated_at: String,
    /// Whether the application came in as 补录.
    pub is_late: bool,
    pub applicant: Applicant,
    pub program: ProgramInfo,
    /// 志愿学校 by name, first choice first.
    pub choices: Vec<String>,
    pub exchange: Exchange,
    /// 外语水平.
    pub languages: Vec<LanguageLine>,
    /// 费用来源, one line per cost item in the form's order.
    pub funding: Vec<FundingLine>,
}

/// 申请人基本信息.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Applicant {
    pub name: String,
    /// 姓名拼音 (姓 名, as in the passport).
    pub pinyin: String,
    pub gender: String,
    pub birth_date: String,
    pub nationality: String,
    pub ethnicity: String,
    pub id_type: String,
    /// 证件号码, in full: the form is its owner's printout.
    pub id_number: String,
    pub student_no: String,
    pub college: String,
    pub major: String,
    pub grade: String,
    /// 在读学位.
    pub level: String,
    pub political_status: String,
    pub marital_status: String,
    pub mobile: String,
    pub email: String,
    pub major_rank: String,
    pub health: String,
    pub rewards: String,
    /// 导师（辅导员）: name and phone.
    pub supervisor: String,
}

/// 交流项目.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProgramInfo {
    pub name: String,
    /// 项目编号.
    pub code: String,
    /// 项目年度.
    pub year: String,
    /// 项目类型.
    pub kind: String,
    /// 国家/地区.
    pub country: String,
}

/// 留学信息 of the application.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Exchange {
    pub from: String,
    pub to: String,
    pub duration: String,
    /// 出国(境)时间.
    pub depart_date: String,
    /// 回国(入境)时间.
    pub return_date: String,
    pub gpa: String,
    pub weighted_avg: String,
    /// 是否有"一中一台"、"两个中国"等问题: 有 / 无.
    pub one_china_issue: String,
    pub group_leader: String,
    /// 是否已办理护照: 是 / 否.
    pub has_passport: String,
    pub passport_no: String,
    pub passport_expiry: String,
    pub emergency_relation: String,
    pub emergency_name: String,
    pub emergency_phone: String,
}

/// One 外语水平 row.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LanguageLine {
    pub language: String,
    pub exam_type: String,
    /// Empty while the result is pending.
    pub score: String,
    pub exam_date: String,
}

/// One 费用来源 line: the cost item and where its money comes from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FundingLine {
    pub item: String,
    pub source: String,
}

/// Renders the application form as PDF bytes. Blocking: about 20 ms in a release build (40 ms
/// the first time), plus 0.1 s once to find and read the font.
pub fn render_application_form(data: &FormData) -> Result<Vec<u8>, PdfError> {
    let result = layout(data).and_then(|document| {
        typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
            .map_err(|errors| PdfError::Render(messages(&errors)))
    });
    typst::comemo::evict(CACHE_AGE);
    result
}

/// Lays the form out in pages (what [`render_application_form`] then exports).
fn layout(data: &FormData) -> Result<PagedDocument, PdfError> {
    let fonts = fonts()?;
    let input = serde_json::to_vec(&Input {
        font: &fonts.family,
        form: data,
    })
    .map_err(|e| PdfError::Render(e.to_string()))?;
    let world = FormWorld {
        fonts: &fonts,
        main: Source::new(*MAIN_ID, TEMPLATE.to_owned()),
        data: Bytes::new(input),
    };
    let warned = typst::compile::<PagedDocument>(&world);
    if !warned.warnings.is_empty() {
        return Err(PdfError::Render(messages(&warned.warnings)));
    }
    warned
        .output
        .map_err(|errors| PdfError::Render(messages(&errors)))
}

/// Whether a Simplified-Chinese font is available (looks for one if none was found yet).
pub fn font_available() -> bool {
    fonts().is_ok()
}

/// What the template reads from `data.json`.
#[derive(Serialize)]
struct Input<'a> {
    /// The typst family name of the Chinese face.
    font: &'a str,
    form: &'a FormData,
}

fn messages(diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

static MAIN_ID: LazyLock<FileId> = LazyLock::new(|| virtual_file("/main.typ"));
static DATA_ID: LazyLock<FileId> = LazyLock::new(|| virtual_file("/data.json"));

fn virtual_file(path: &str) -> FileId {
    // Both paths are constant and valid.
    let vpath = VirtualPath::new(path).unwrap_or_else(|_| unreachable!("a valid virtual path"));
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

static LIBRARY: LazyLock<LazyHash<Library>> =
    LazyLock::new(|| LazyHash::new(<Library as LibraryExt>::default()));

/// The one compilation: the template, its data and the fonts; nothing from disk.
struct FormWorld<'a> {
    fonts: &'a Fonts,
    main: Source,
    data: Bytes,
}

impl World for FormWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == *DATA_ID {
            Ok(self.data.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(PathBuf::from(format!("{:?}", id.vpath())))
}

// ---------------------------------------------------------------------------------------------
// Fonts

/// The faces every render uses: a regular Chinese face and, when the family has one, its bold.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    /// The regular face's family name, as typst knows it.
    family: String,
}

/// Found once; a failed search is not remembered, so installing a font needs no restart.
static FONTS: OnceLock<Arc<Fonts>> = OnceLock::new();

fn fonts() -> Result<Arc<Fonts>, PdfError> {
    if let Some(found) = FONTS.get() {
        return Ok(found.clone());
    }
    let found = Arc::new(find_fonts()?);
    Ok(FONTS.get_or_init(|| found).clone())
}

fn find_fonts() -> Result<Fonts, PdfError> {
    let mut db = fontdb::Database::new();
    match std::env::var_os(FONT_ENV).filter(|p| !p.is_empty()) {
        Some(path) => {
            if let Err(e) = db.load_font_file(&path) {
                tracing::warn!(error = %e, path = ?path, "{FONT_ENV} names no readable font");
                return Err(PdfError::NoFont);
            }
        }
        None => db.load_system_fonts(),
    }
    let mut files: HashMap<PathBuf, Bytes> = HashMap::new();
    let regular = candidates(&db)
        .into_iter()
        .find_map(|id| load_face(&db, id, &mut files).filter(covers_the_form))
        .ok_or(PdfError::NoFont)?;
    let family = regular.info().family.clone();
    let mut fonts = vec![regular];
    if let Some(bold) = bold_of(&db, &family, &mut files) {
        fonts.push(bold);
    }
    tracing::info!(family, faces = fonts.len(), "font for the application form");
    Ok(Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
        family,
    })
}

/// Regular faces worth trying, best first: the preferred families, then any face whose
/// family has a Chinese name.
fn candidates(db: &fontdb::Database) -> Vec<fontdb::ID> {
    let regular = |family: &str| {
        db.query(&fontdb::Query {
            families: &[fontdb::Family::Name(family)],
            weight: fontdb::Weight::NORMAL,
            stretch: fontdb::Stretch::Normal,
            style: fontdb::Style::Normal,
        })
    };
    let mut ids: Vec<fontdb::ID> = PREFERRED_FAMILIES
        .iter()
        .filter_map(|f| regular(f))
        .collect();
    let mut chinese: Vec<&fontdb::FaceInfo> = db
        .faces()
        .filter(|f| {
            f.style == fontdb::Style::Normal
                && f.families.iter().any(|(_, lang)| {
                    matches!(
                        lang,
                        fontdb::Language::Chinese_PeoplesRepublicOfChina
                            | fontdb::Language::Chinese_Singapore
                    )
                })
        })
        .collect();
    chinese.sort_by_key(|f| f.weight.0.abs_diff(fontdb::Weight::NORMAL.0));
    ids.extend(chinese.into_iter().map(|f| f.id));
    ids.dedup();
    ids
}

/// The bold face of `family`, when the machine has a real one.
fn bold_of(
    db: &fontdb::Database,
    family: &str,
    files: &mut HashMap<PathBuf, Bytes>,
) -> Option<Font> {
    let id = db.query(&fontdb::Query {
        families: &[fontdb::Family::Name(family)],
        weight: fontdb::Weight::BOLD,
        stretch: fontdb::Stretch::Normal,
        style: fontdb::Style::Normal,
    })?;
    if db.face(id)?.weight.0 < 600 {
        return None;
    }
    load_face(db, id, files).filter(|f| f.info().family.eq_ignore_ascii_case(family))
}

/// Reads the face's file (once per file) and parses the face for typst.
fn load_face(
    db: &fontdb::Database,
    id: fontdb::ID,
    files: &mut HashMap<PathBuf, Bytes>,
) -> Option<Font> {
    let face = db.face(id)?;
    let bytes = match &face.source {
        fontdb::Source::File(path) | fontdb::Source::SharedFile(path, _) => match files.get(path) {
            Some(b) => b.clone(),
            None => {
                let b = Bytes::new(std::fs::read(path).ok()?);
                files.insert(path.clone(), b.clone());
                b
            }
        },
        fontdb::Source::Binary(data) => Bytes::new(data.as_ref().as_ref().to_vec()),
    };
    Font::new(bytes, face.index)
}

fn covers_the_form(font: &Font) -> bool {
    MUST_COVER
        .chars()
        .all(|c| font.info().coverage.contains(u32::from(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An invented form whose every free-text value tries to be markup.
    pub(crate) fn sample() -> FormData {
        FormData {
            number: "SQ-000042".into(),
            status: "申请中".into(),
            submitted_at: "2026-11-20 09:30".into(),
            generated_at: "2026-11-22 10:00".into(),
            is_late: false,
            applicant: Applicant {
                name: "林*晓#雨".into(),
                pinyin: "LIN XIAOYU".into(),
                gender: "女".into(),
                birth_date: "2004-05-06".into(),
                nationality: "中国".into(),
                ethnicity: "汉族".into(),
                id_type: "居民身份证".into(),
                id_number: "11010520040506002X".into(),
                student_no: "2023010199".into(),
                college: "外国语学院".into(),
                major: "英语（本）".into(),
                grade: "2023".into(),
                level: "本科生".into(),
                political_status: "共青团员".into(),
                marital_status: "未婚".into(),
                mobile: "13800001234".into(),
                email: "lin_xy@example.edu.cn".into(),
                major_rank: "5/120".into(),
                health: "良好 $x^2$ \\textbf{no}".into(),
                rewards: "<b>国家奖学金</b> #set page(width: 1cm) *粗体* _斜体_ `code` @ref <lab> // 注释 /* x */ \\ ] [ }".into(),
                supervisor: "王老师 13900002222".into(),
            },
            program: ProgramInfo {
                name: "2027年春季学期#国际校际交换生项目 *".into(),
                code: "P-2027-001".into(),
                year: "2027".into(),
                kind: "学期制交换".into(),
                country: "日本".into(),
            },
            choices: vec!["北海道大学 $".into(), "东北大学 \\".into()],
            exchange: Exchange {
                from: "2027-02-15".into(),
                to: "2027-06-30".into(),
                duration: "一学期".into(),
                depart_date: "2027-02-10".into(),
                return_date: "2027-07-05".into(),
                gpa: "3.60".into(),
                weighted_avg: "88.5".into(),
                one_china_issue: "无".into(),
                group_leader: "#{panic()} 张三".into(),
                has_passport: "是".into(),
                passport_no: "E12345678".into(),
                passport_expiry: "2030-01-01".into(),
                emergency_relation: "母亲".into(),
                emergency_name: "王丽".into(),
                emergency_phone: "13700001111".into(),
            },
            languages: vec![
                LanguageLine {
                    language: "英语".into(),
                    exam_type: "IELTS".into(),
                    score: "7.0".into(),
                    exam_date: "2026-06-15".into(),
                },
                LanguageLine {
                    language: "日语".into(),
                    exam_type: "JLPT".into(),
                    score: String::new(),
                    exam_date: "2026-12-01".into(),
                },
            ],
            funding: [
                "往返旅费",
                "境外住宿",
                "境外伙食",
                "城间交通",
                "注册费",
                "学费",
            ]
            .iter()
            .map(|item| FundingLine {
                item: (*item).into(),
                source: "自费".into(),
            })
            .collect(),
        }
    }

    /// The PDF's text as `pdftotext` reads it, whitespace removed (it spaces CJK from Latin);
    /// `None` when poppler-utils is missing outside CI.
    fn text_of(pdf: &[u8]) -> Option<String> {
        let dir = std::env::temp_dir().join(format!("outbound-pdf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!(
            "form-{}.pdf",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::write(&path, pdf).expect("write the pdf");
        let out = std::process::Command::new("pdftotext")
            .args(["-layout".as_ref(), path.as_os_str(), "-".as_ref()])
            .output();
        std::fs::remove_file(&path).ok();
        match out {
            Ok(out) => {
                assert!(out.status.success(), "pdftotext failed");
                Some(
                    String::from_utf8_lossy(&out.stdout)
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect(),
                )
            }
            Err(_) if !in_ci() => {
                eprintln!("!!! pdftotext (poppler-utils) missing: PDF TEXT CHECK SKIPPED");
                None
            }
            Err(e) => panic!("pdftotext (poppler-utils) is needed in CI: {e}"),
        }
    }

    fn in_ci() -> bool {
        matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
    }

    /// Renders, or says loudly why this machine cannot (no Chinese font outside CI).
    fn render(data: &FormData) -> Option<Vec<u8>> {
        match render_application_form(data) {
            Ok(pdf) => Some(pdf),
            Err(PdfError::NoFont) if !in_ci() => {
                eprintln!("!!! no Simplified-Chinese font on this machine: PDF TEST SKIPPED");
                None
            }
            Err(e) => panic!("{e}"),
        }
    }

    fn squeeze(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn a_form_with_markup_like_input_renders_as_a_pdf_that_prints_the_input_as_typed() {
        let data = sample();
        let Some(pdf) = render(&data) else { return };
        assert!(pdf.starts_with(b"%PDF"), "not a PDF");
        let Some(text) = text_of(&pdf) else { return };
        for expected in [
            data.applicant.name.as_str(),
            data.program.name.as_str(),
            data.applicant.id_number.as_str(),
            "北海道大学$",
            "东北大学\\",
            "<b>国家奖学金</b>#setpage(width:1cm)*粗体*_斜体_`code`@ref<lab>//注释/*x*/\\][}",
            "良好$x^2$\\textbf{no}",
            "#{panic()}张三",
            "IELTS",
        ] {
            assert!(
                text.contains(&squeeze(expected)),
                "{expected:?} missing from:\n{text}"
            );
        }
        for blank in [
            "学生出国（境）交流申请表",
            "本人签字",
            "学院意见（签字盖章）",
            "国际处意见（签字盖章）",
            "年月日",
        ] {
            assert!(text.contains(blank), "{blank:?} missing from:\n{text}");
        }
    }

    #[test]
    fn an_almost_empty_form_still_renders_with_its_blanks() {
        let data = FormData::default();
        let Some(pdf) = render(&data) else { return };
        assert!(pdf.starts_with(b"%PDF"));
        let Some(text) = text_of(&pdf) else { return };
        assert!(text.contains("学院意见（签字盖章）"), "{text}");
    }

    #[test]
    fn a_form_fits_on_two_a4_pages_even_with_five_choices_and_many_languages() {
        let mut data = sample();
        data.choices = (1..=5).map(|i| format!("合作院校{i}")).collect();
        data.languages = (0..6).map(|_| data.languages[0].clone()).collect();
        let document = match layout(&data) {
            Ok(d) => d,
            Err(PdfError::NoFont) if !in_ci() => return,
            Err(e) => panic!("{e}"),
        };
        let pages = document.pages();
        assert!(
            !pages.is_empty() && pages.len() <= 2,
            "{} pages",
            pages.len()
        );
        for page in pages {
            let size = page.frame.size();
            // A4: 210 × 297 mm.
            assert!((size.x.to_mm() - 210.0).abs() < 0.5, "{size:?}");
            assert!((size.y.to_mm() - 297.0).abs() < 0.5, "{size:?}");
        }
    }
}
