//! Partner schools (院校, the 志愿 choices, each with its 推荐名额) and attachment types (§6)
//! of a program. Each change bumps the program's version, so a form drawn before it is stale.

use sea_query::{Expr, ExprTrait, Query};

use super::form::{checked, json_list, optional_choice, optional_text, required_text};
use super::{Manager, ProgramAction, bump, find, load_in, require};
use crate::db::Db;
use crate::db::dicts::{self, DictItem, kind};
use crate::db::programs::{
    self as db, AttachmentType, ManagedProgram, PartnerSchool, program_target,
};
use crate::domain::FieldErrors;
use crate::domain::files::FileFormat;
use crate::domain::values::ValueError;
use crate::services::audit::{self, Who};
use crate::services::{ServiceError, ServiceResult};

/// The largest attachment a program may accept: the request-body limit of every upload
/// (`web::MAX_BODY`), 25 MB.
pub const MAX_ATTACHMENT_BYTES: i64 = 25 * 1024 * 1024;

const MIB: i64 = 1024 * 1024;

/// One partner school as posted.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct SchoolForm {
    pub name_zh: String,
    pub name_en: String,
    pub country: String,
    /// 推荐名额.
    pub quota: String,
}

impl SchoolForm {
    pub fn from_row(s: &PartnerSchool) -> SchoolForm {
        SchoolForm {
            name_zh: s.name_zh.clone(),
            name_en: s.name_en.clone(),
            country: s.country.clone(),
            quota: s.quota.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchoolInput {
    pub name_zh: String,
    pub name_en: String,
    pub country: String,
    pub quota: i64,
}

pub fn parse_school(f: &SchoolForm, countries: &[DictItem]) -> Result<SchoolInput, FieldErrors> {
    let mut e = FieldErrors::new();
    let name_zh = required_text(&mut e, "name_zh", &f.name_zh, 200);
    let name_en = optional_text(&mut e, "name_en", &f.name_en, 200);
    let country = optional_choice(
        &mut e,
        "country",
        &f.country,
        countries.iter().map(|d| d.code.as_str()),
    );
    let quota = match f.quota.trim() {
        "" => {
            e.add("quota", ValueError::Empty.code());
            0
        }
        s => match s.parse::<i64>() {
            Ok(n) if (0..=9999).contains(&n) => n,
            _ => {
                e.add("quota", "manage.err.quota");
                0
            }
        },
    };
    e.into_result(SchoolInput {
        name_zh,
        name_en,
        country,
        quota,
    })
}

/// Adds a partner school at the end of the list.
pub async fn add_school(
    db: &Db,
    who: &Who,
    m: Manager,
    program_id: i64,
    seen_version: i64,
    form: &SchoolForm,
) -> ServiceResult<()> {
    let countries = dicts::items(db, kind::COUNTRY).await?;
    let input = parse_school(form, &countries)?;
    let mut tx = db.begin().await?;
    let p = load_in(&mut tx, m, program_id).await?;
    require(m, &p, ProgramAction::Edit)?;
    bump(&mut tx, program_id, seen_version).await?;
    let next = db::partner_schools_in(&mut tx, program_id)
        .await?
        .iter()
        .map(|s| s.sort_order + 1)
        .max()
        .unwrap_or(0);
    tx.insert(
        Query::insert()
            .into_table("partner_schools")
            .columns([
                "program_id",
                "name_zh",
                "name_en",
                "country",
                "quota",
                "sort_order",
            ])
            .values_panic([
                program_id.into(),
                input.name_zh.clone().into(),
                input.name_en.into(),
                input.country.into(),
                input.quota.into(),
                next.into(),
            ]),
    )
    .await?;
    audit::record(
        &mut tx,
        who,
        "program.school.add",
        &program_target(program_id),
        &format!("{} quota {}", input.name_zh, input.quota),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The school `school_id` of the program, for the edit page.
pub async fn school(
    db: &Db,
    m: Manager,
    program_id: i64,
    school_id: i64,
) -> ServiceResult<(ManagedProgram, PartnerSchool)> {
    let p = find(db, m, program_id).await?;
    let s = db::partner_schools(db, program_id)
        .await?
        .into_iter()
        .find(|s| s.id == school_id)
        .ok_or(ServiceError::NotFound)?;
    Ok((p, s))
}

/// Changes a partner school (names, country, 推荐名额).
pub async fn update_school(
    db: &Db,
    who: &Who,
    m: Manager,
    program_id: i64,
    school_id: i64,
    seen_version: i64,
    form: &SchoolForm,
) -> ServiceResult<()> {
    let countries = dicts::items(db, kind::COUNTRY).await?;
    let input = parse_school(form, &countries)?;
    let mut tx = db.begin().await?;
    let p = load_in(&mut tx, m, program_id).await?;
    require(m, &p, ProgramAction::Edit)?;
    if !db::partner_schools_in(&mut tx, program_id)
        .await?
        .iter()
        .any(|s| s.id == school_id)
    {
        return Err(ServiceError::NotFound);
    }
    bump(&mut tx, program_id, seen_version).await?;
    tx.update(
        Query::update()
            .table("partner_schools")
            .value("name_zh", input.name_zh.clone())
            .value("name_en", input.name_en)
            .value("country", input.country)
            .value("quota", input.quota)
            .and_where(Expr::col("id").eq(school_id))
            .and_where(Expr::col("program_id").eq(program_id)),
    )
    .await?;
    audit::record(
        &mut tx,
        who,
        "program.school.update",
        &program_target(program_id),
        &format!(
            "school {school_id}: {} quota {}",
            input.name_zh, input.quota
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a partner school no application has chosen; one that was chosen stays (its
/// applications name it), and the refusal says how to close it instead (推荐名额 0).
pub async fn remove_school(
    db: &Db,
    who: &Who,
    m: Manager,
    program_id: i64,
    school_id: i64,
    seen_version: i64,
) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    let p = load_in(&mut tx, m, program_id).await?;
    require(m, &p, ProgramAction::Edit)?;
    let Some(school) = db::partner_schools_in(&mut tx, program_id)
        .await?
        .into_iter()
        .find(|s| s.id == school_id)
    else {
        return Err(ServiceError::NotFound);
    };
    if db::school_uses(&mut tx, program_id, school_id).await? > 0 {
        return Err(ServiceError::Refused("manage.err.school_chosen"));
    }
    bump(&mut tx, program_id, seen_version).await?;
    tx.delete(
        Query::delete()
            .from_table("partner_schools")
            .and_where(Expr::col("id").eq(school_id))
            .and_where(Expr::col("program_id").eq(program_id)),
    )
    .await?;
    audit::record(
        &mut tx,
        who,
        "program.school.remove",
        &program_target(program_id),
        &format!("school {school_id}: {}", school.name_zh),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One attachment type as posted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeForm {
    pub name_zh: String,
    pub name_en: String,
    pub required: bool,
    pub hint: String,
    /// Extensions ticked (`pdf`, `jpg` …).
    pub formats: Vec<String>,
    /// 大小上限 in MB, up to two decimals.
    pub max_mb: String,
}

impl TypeForm {
    /// A new type: every default format, 10 MB.
    pub fn blank() -> TypeForm {
        TypeForm {
            formats: FileFormat::DEFAULTS
                .iter()
                .map(|f| f.ext().to_owned())
                .collect(),
            max_mb: "10".into(),
            ..TypeForm::default()
        }
    }

    pub fn from_pairs(pairs: &[(String, String)]) -> TypeForm {
        let mut f = TypeForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "name_zh" => f.name_zh = value.clone(),
                "name_en" => f.name_en = value.clone(),
                "required" => f.required = checked(value),
                "hint" => f.hint = value.clone(),
                "formats" => f.formats.push(value.clone()),
                "max_mb" => f.max_mb = value.clone(),
                _ => {}
            }
        }
        f
    }

    pub fn from_row(t: &AttachmentType) -> TypeForm {
        TypeForm {
            name_zh: t.name_zh.clone(),
            name_en: t.name_en.clone(),
            required: t.required,
            hint: t.hint.clone(),
            formats: t.formats().iter().map(|f| f.ext().to_owned()).collect(),
            max_mb: mb_text(t.max_bytes),
        }
    }
}

/// A size in MB as the form shows it: `10`, `0.5`, `1.25`.
pub fn mb_text(bytes: i64) -> String {
    let hundredths = (bytes * 100 + MIB / 2) / MIB;
    let s = format!("{}.{:02}", hundredths / 100, hundredths % 100);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Reads `10`, `0.5`, `1.25` (MB) into bytes: more than 0, at most 25 MB.
pub fn parse_mb(raw: &str) -> Option<i64> {
    let s = raw.trim().trim_end_matches(['M', 'm', 'B', 'b']).trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 3
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = format!("{frac:0<2}");
    let hundredths: i64 = whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?;
    let bytes = hundredths * MIB / 100;
    (bytes > 0 && bytes <= MAX_ATTACHMENT_BYTES).then_some(bytes)
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeInput {
    pub name_zh: String,
    pub name_en: String,
    pub required: bool,
    pub hint: String,
    pub formats: Vec<FileFormat>,
    pub max_bytes: i64,
}

pub fn parse_type(f: &TypeForm) -> Result<TypeInput, FieldErrors> {
    let mut e = FieldErrors::new();
    let name_zh = required_text(&mut e, "name_zh", &f.name_zh, 100);
    let name_en = optional_text(&mut e, "name_en", &f.name_en, 100);
    let hint = optional_text(&mut e, "hint", &f.hint, 300);
    let mut formats: Vec<FileFormat> = Vec::new();
    for raw in f.formats.iter().filter(|s| !s.trim().is_empty()) {
        match FileFormat::from_ext(raw) {
            Some(ff) if FileFormat::ALL.contains(&ff) => {
                if !formats.contains(&ff) {
                    formats.push(ff);
                }
            }
            _ => {
                e.add("formats", ValueError::UnknownOption.code());
                break;
            }
        }
    }
    if formats.is_empty() && e.get("formats").is_none() {
        e.add("formats", "manage.err.formats_empty");
    }
    let max_bytes = parse_mb(&f.max_mb).unwrap_or_else(|| {
        e.add("max_mb", "manage.err.max_size");
        0
    });
    e.into_result(TypeInput {
        name_zh,
        name_en,
        required: f.required,
        hint,
        formats,
        max_bytes,
    })
}

fn formats_json(formats: &[FileFormat]) -> String {
    json_list(&formats.iter().map(|f| f.ext()).collect::<Vec<_>>())
}

/// Adds an attachment type at the end of the list.
pub async fn add_type(
    db: &Db,
    who: &Who,
    m: Manager,
    program_id: i64,
    seen_version: i64,
    form: &TypeForm,
) -> ServiceResult<()> {
    let input = parse_type(form)?;
    let mut tx = db.begin().await?;
    let p = load_in(&mut tx, m, program_id).await?;
    require(m, &p, ProgramAction::Edit)?;
    bump(&mut tx, program_id, seen_version).await?;
    let next = db::attachment_types_in(&mut tx, program_id)
        .await?
        .iter()
        .map(|t| t.sort_order + 1)
        .max()
        .unwrap_or(0);
    tx.insert(
        Query::insert()
            .into_table("attachment_types")
            .columns([
                "program_id",
                "name_zh",
                "name_en",
                "required",
                "hint",
                "formats",
                "max_bytes",
                "sort_order",
            ])
            .values_panic([
                program_id.into(),
                input.name_zh.clone().into(),
                input.name_en.into(),
                input.required.into(),
                input.hint.into(),
                formats_json(&input.formats).into(),
                input.max_bytes.into(),
                next.into(),
            ]),
    )
    .await?;
    audit::record(
        &mut tx,
        who,
        "program.attachment_type.add",
        &program_target(program_id),
        &input.name_zh,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The attachment type `type_id` of the program, for the edit page.
pub async fn attachment_type(
    db: &Db,
    m: Manager,
    program_id: i64,
    type_id: i64,
) -> ServiceResult<(ManagedProgram, AttachmentType)> {
    let p = find(db, m, program_id).await?;
    let t = db::attachment_types(db, program_id)
        .await?
        .into_iter()
        .find(|t| t.id == type_id)
        .ok_or(ServiceError::NotFound)?;
    Ok((p, t))
}

/// Changes an attachment type. Files already uploaded stay as they are.
pub async fn update_type(
    db: &Db,
    who: &Who,
    m: Manager,
    program_id: i64,
    type_id: i64,
    seen_version: i64,
    form: &TypeForm,
) -> ServiceResult<()> {
    let input = parse_type(form)?;
    let mut tx = db.begin().await?;
    let p = load_in(&mut tx, m, program_id).await?;
    require(m, &p, ProgramAction::Edit)?;
    if !db::attachment_types_in(&mut tx, program_id)
        .await?
        .iter()
        .any(|t| t.id == type_id)
    {
        return Err(ServiceError::NotFound);
    }
    bump(&mut tx, program_id, seen_version).await?;
    tx.update(
        Query::update()
            .table("attachment_types")
            .value("name_zh", input.name_zh.clone())
            .value("name_en", input.name_en)
            .value("required", input.required)
            .value("hint", input.hint)
            .value("formats", formats_json(&input.formats))
            .value("max_bytes", input.max_bytes)
            .and_where(Expr::col("id").eq(type_id))
            .and_where(Expr::col("program_id").eq(program_id)),
    )
    .await?;
    audit::record(
        &mut tx,
        who,
        "program.attachment_type.update",
        &program_target(program_id),
        &format!("type {type_id}: {}", input.name_zh),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes an attachment type no file has been uploaded for.
pub async fn remove_type(
    db: &Db,
    who: &Who,
    m: Manager,
    program_id: i64,
    type_id: i64,
    seen_version: i64,
) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    let p = load_in(&mut tx, m, program_id).await?;
    require(m, &p, ProgramAction::Edit)?;
    let Some(t) = db::attachment_types_in(&mut tx, program_id)
        .await?
        .into_iter()
        .find(|t| t.id == type_id)
    else {
        return Err(ServiceError::NotFound);
    };
    if db::attachment_type_uses(&mut tx, type_id).await? > 0 {
        return Err(ServiceError::Refused("manage.err.type_used"));
    }
    bump(&mut tx, program_id, seen_version).await?;
    tx.delete(
        Query::delete()
            .from_table("attachment_types")
            .and_where(Expr::col("id").eq(type_id))
            .and_where(Expr::col("program_id").eq(program_id)),
    )
    .await?;
    audit::record(
        &mut tx,
        who,
        "program.attachment_type.remove",
        &program_target(program_id),
        &format!("type {type_id}: {}", t.name_zh),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: &str) -> DictItem {
        DictItem {
            code: code.into(),
            label_zh: code.into(),
            label_en: code.into(),
        }
    }

    #[test]
    fn a_school_needs_a_name_and_a_quota_of_zero_or_more() {
        let countries = vec![item("GB")];
        let ok = parse_school(
            &SchoolForm {
                name_zh: "牛津大学".into(),
                quota: "0".into(),
                ..SchoolForm::default()
            },
            &countries,
        )
        .expect("valid");
        assert_eq!(ok.quota, 0);
        let e = parse_school(
            &SchoolForm {
                name_zh: String::new(),
                country: "ZZ".into(),
                quota: "-1".into(),
                ..SchoolForm::default()
            },
            &countries,
        )
        .expect_err("invalid");
        assert_eq!(e.get("name_zh"), Some("err.required"));
        assert_eq!(e.get("country"), Some("err.option.unknown"));
        assert_eq!(e.get("quota"), Some("manage.err.quota"));
        let e = parse_school(
            &SchoolForm {
                name_zh: "x".into(),
                quota: "2.5".into(),
                ..SchoolForm::default()
            },
            &countries,
        )
        .expect_err("not whole");
        assert_eq!(e.get("quota"), Some("manage.err.quota"));
    }

    #[test]
    fn an_attachment_size_is_more_than_zero_and_at_most_the_upload_limit() {
        assert_eq!(parse_mb("10"), Some(10 * MIB));
        assert_eq!(parse_mb("0.5"), Some(MIB / 2));
        assert_eq!(parse_mb("25"), Some(MAX_ATTACHMENT_BYTES));
        assert_eq!(parse_mb("1MB"), Some(MIB));
        for bad in ["0", "25.01", "26", "-1", "1.234", "", "abc", ".5"] {
            assert_eq!(parse_mb(bad), None, "{bad}");
        }
        assert_eq!(mb_text(10 * MIB), "10");
        assert_eq!(mb_text(MIB / 2), "0.5");
        assert_eq!(mb_text(1_048_576 + 262_144), "1.25");
        assert_eq!(MAX_ATTACHMENT_BYTES, crate::web::MAX_BODY as i64);
    }

    #[test]
    fn an_attachment_type_needs_a_name_and_known_formats() {
        let t = parse_type(&TypeForm {
            name_zh: "护照首页".into(),
            formats: vec!["PDF".into(), "jpeg".into(), "pdf".into()],
            ..TypeForm::blank()
        })
        .expect("valid");
        assert_eq!(t.formats, vec![FileFormat::Pdf, FileFormat::Jpg]);
        assert_eq!(t.max_bytes, 10 * MIB);
        let e = parse_type(&TypeForm {
            formats: Vec::new(),
            max_mb: "30".into(),
            ..TypeForm::default()
        })
        .expect_err("invalid");
        assert_eq!(e.get("name_zh"), Some("err.required"));
        assert_eq!(e.get("formats"), Some("manage.err.formats_empty"));
        assert_eq!(e.get("max_mb"), Some("manage.err.max_size"));
        let e = parse_type(&TypeForm {
            name_zh: "x".into(),
            formats: vec!["exe".into()],
            ..TypeForm::blank()
        })
        .expect_err("unknown format");
        assert_eq!(e.get("formats"), Some("err.option.unknown"));
    }
}
