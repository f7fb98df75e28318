//! The student profile (个人中心 · 我的个人资料, SPEC §3) and its 学习经历 rows.
//!
//! A profile may be saved incomplete — students fill it over several visits — so parsing
//! accepts missing fields and refuses only wrong ones: every field of [`Profile`] is an
//! `Option`. What is still missing is a separate question, answered by [`missing_required`],
//! which the application's submit check (and the "complete your profile first" notice) uses.
//!
//! Registry fields (学号, 学院, 专业, 年级, 学历, 届别) are not here: they come from the
//! university's records and students cannot change them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::FieldErrors;
use super::values::{
    Email, Gender, Gpa, IdType, MaritalStatus, MobilePhone, PassportNumber, PhoneNumber,
    PinyinName, QqNumber, china_today, coded, parse_date, parse_id_number,
};

/// Longest name or dictionary code (姓名, 民族 …).
const SHORT: usize = 50;
/// Longest one-line text (家庭地址, 籍贯 …).
const LINE: usize = 200;
/// Longest free text (健康状况, 奖惩情况, 备注).
const LONG: usize = 2000;

/// The profile form as posted: every field a raw string, so that a refused form can be shown
/// again with exactly what the student typed.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct ProfileForm {
    /// 姓名(中文).
    pub name_zh: String,
    /// 姓名拼音 · 姓 (as in the passport).
    pub pinyin_surname: String,
    /// 姓名拼音 · 名.
    pub pinyin_given: String,
    /// 性别: a [`Gender`] code.
    pub gender: String,
    /// 国籍: a dictionary code.
    pub nationality: String,
    /// 民族: a dictionary code.
    pub ethnicity: String,
    /// 出生日期, YYYY-MM-DD.
    pub birth_date: String,
    /// 证件类型: an [`IdType`] code.
    pub id_type: String,
    /// 证件号码.
    pub id_number: String,
    /// 录取类别 (统招, 定向 …): a dictionary code.
    pub admission_category: String,
    /// 政治面貌: a dictionary code.
    pub political_status: String,
    /// 婚姻状况: a [`MaritalStatus`] code.
    pub marital_status: String,
    /// 户口所在地.
    pub hukou: String,
    /// 出生地.
    pub birthplace: String,
    /// 籍贯.
    pub native_place: String,
    /// 家庭地址.
    pub home_address: String,
    /// 家庭电话.
    pub home_phone: String,
    /// 手机号码.
    pub mobile: String,
    /// 电子邮箱 (not a QQ mailbox).
    pub email: String,
    /// QQ号.
    pub qq: String,
    /// 微信号.
    pub wechat: String,
    /// 平均绩点.
    pub gpa: String,
    /// 专业排名 (e.g. 5/120).
    pub major_rank: String,
    /// 健康状况.
    pub health: String,
    /// 奖惩情况.
    pub rewards: String,
    /// 备注.
    pub remarks: String,
    /// 护照号.
    pub passport_no: String,
    /// 护照有效期, YYYY-MM-DD.
    pub passport_expiry: String,
    /// 导师姓名 (an undergraduate without a supervisor gives the counsellor).
    pub supervisor_name: String,
    /// 导师电话.
    pub supervisor_phone: String,
    /// 紧急联系人 · 姓名.
    pub emergency_name: String,
    /// 紧急联系人 · 手机.
    pub emergency_mobile: String,
    /// 紧急联系人 · 与本人关系.
    pub emergency_relation: String,
}

impl ProfileForm {
    /// The fields a profile must have before its owner can submit an application.
    pub const REQUIRED: [&'static str; 16] = [
        "name_zh",
        "pinyin_surname",
        "pinyin_given",
        "gender",
        "nationality",
        "ethnicity",
        "birth_date",
        "id_type",
        "id_number",
        "political_status",
        "marital_status",
        "mobile",
        "email",
        "emergency_name",
        "emergency_mobile",
        "emergency_relation",
    ];

    /// Every field, in page order.
    pub const FIELDS: [&'static str; 33] = [
        "name_zh",
        "pinyin_surname",
        "pinyin_given",
        "gender",
        "nationality",
        "ethnicity",
        "birth_date",
        "id_type",
        "id_number",
        "admission_category",
        "political_status",
        "marital_status",
        "hukou",
        "birthplace",
        "native_place",
        "home_address",
        "home_phone",
        "mobile",
        "email",
        "qq",
        "wechat",
        "gpa",
        "major_rank",
        "health",
        "rewards",
        "remarks",
        "passport_no",
        "passport_expiry",
        "supervisor_name",
        "supervisor_phone",
        "emergency_name",
        "emergency_mobile",
        "emergency_relation",
    ];

    /// The raw value of the field called `name` (as in the form), `None` for an unknown name.
    pub fn field(&self, name: &str) -> Option<&str> {
        let value = match name {
            "name_zh" => &self.name_zh,
            "pinyin_surname" => &self.pinyin_surname,
            "pinyin_given" => &self.pinyin_given,
            "gender" => &self.gender,
            "nationality" => &self.nationality,
            "ethnicity" => &self.ethnicity,
            "birth_date" => &self.birth_date,
            "id_type" => &self.id_type,
            "id_number" => &self.id_number,
            "admission_category" => &self.admission_category,
            "political_status" => &self.political_status,
            "marital_status" => &self.marital_status,
            "hukou" => &self.hukou,
            "birthplace" => &self.birthplace,
            "native_place" => &self.native_place,
            "home_address" => &self.home_address,
            "home_phone" => &self.home_phone,
            "mobile" => &self.mobile,
            "email" => &self.email,
            "qq" => &self.qq,
            "wechat" => &self.wechat,
            "gpa" => &self.gpa,
            "major_rank" => &self.major_rank,
            "health" => &self.health,
            "rewards" => &self.rewards,
            "remarks" => &self.remarks,
            "passport_no" => &self.passport_no,
            "passport_expiry" => &self.passport_expiry,
            "supervisor_name" => &self.supervisor_name,
            "supervisor_phone" => &self.supervisor_phone,
            "emergency_name" => &self.emergency_name,
            "emergency_mobile" => &self.emergency_mobile,
            "emergency_relation" => &self.emergency_relation,
            _ => return None,
        };
        Some(value)
    }
}

/// The required fields (form names, in form order) that `form` leaves empty.
pub fn missing_required(form: &ProfileForm) -> Vec<&'static str> {
    ProfileForm::REQUIRED
        .into_iter()
        .filter(|name| form.field(name).is_none_or(|v| v.trim().is_empty()))
        .collect()
}

/// A parsed profile: every value present is valid; absent ones are `None`. The fields are
/// those of [`ProfileForm`], typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name_zh: Option<String>,
    pub pinyin_surname: Option<PinyinName>,
    pub pinyin_given: Option<PinyinName>,
    pub gender: Option<Gender>,
    pub nationality: Option<String>,
    pub ethnicity: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub id_type: Option<IdType>,
    /// Normalised by [`parse_id_number`] (a resident ID card is checked by its check digit).
    pub id_number: Option<String>,
    pub admission_category: Option<String>,
    pub political_status: Option<String>,
    pub marital_status: Option<MaritalStatus>,
    pub hukou: Option<String>,
    pub birthplace: Option<String>,
    pub native_place: Option<String>,
    pub home_address: Option<String>,
    pub home_phone: Option<PhoneNumber>,
    pub mobile: Option<MobilePhone>,
    pub email: Option<Email>,
    pub qq: Option<QqNumber>,
    pub wechat: Option<String>,
    pub gpa: Option<Gpa>,
    pub major_rank: Option<String>,
    pub health: Option<String>,
    pub rewards: Option<String>,
    pub remarks: Option<String>,
    pub passport_no: Option<PassportNumber>,
    pub passport_expiry: Option<NaiveDate>,
    pub supervisor_name: Option<String>,
    pub supervisor_phone: Option<PhoneNumber>,
    pub emergency_name: Option<String>,
    pub emergency_mobile: Option<MobilePhone>,
    pub emergency_relation: Option<String>,
}

impl Profile {
    /// Parses `form`, collecting every error at once (field names as in the form). Besides
    /// each field's own format:
    /// - the birth date lies after 1900-01-01 and before `today`;
    /// - with a resident ID card, the birth date matches the one in the number (the error is
    ///   reported on `id_number`, the field more likely mistyped);
    /// - 护照号 and 护照有效期 come together;
    /// - the emergency contact's mobile is not the student's own.
    pub fn parse(form: &ProfileForm, today: NaiveDate) -> Result<Profile, FieldErrors> {
        let mut e = FieldErrors::new();
        let f = form;

        let id_type = e.optional("id_type", &f.id_type, coded(IdType::from_code));
        let profile = Profile {
            name_zh: e.text("name_zh", &f.name_zh, SHORT),
            pinyin_surname: e.optional("pinyin_surname", &f.pinyin_surname, PinyinName::parse),
            pinyin_given: e.optional("pinyin_given", &f.pinyin_given, PinyinName::parse),
            gender: e.optional("gender", &f.gender, coded(Gender::from_code)),
            nationality: e.text("nationality", &f.nationality, SHORT),
            ethnicity: e.text("ethnicity", &f.ethnicity, SHORT),
            birth_date: e.optional("birth_date", &f.birth_date, parse_date),
            // Without a type, only the shape every document shares can be checked.
            id_number: e.optional("id_number", &f.id_number, |s| {
                parse_id_number(id_type.unwrap_or(IdType::Other), s)
            }),
            id_type,
            admission_category: e.text("admission_category", &f.admission_category, SHORT),
            political_status: e.text("political_status", &f.political_status, SHORT),
            marital_status: e.optional(
                "marital_status",
                &f.marital_status,
                coded(MaritalStatus::from_code),
            ),
            hukou: e.text("hukou", &f.hukou, LINE),
            birthplace: e.text("birthplace", &f.birthplace, LINE),
            native_place: e.text("native_place", &f.native_place, LINE),
            home_address: e.text("home_address", &f.home_address, LINE),
            home_phone: e.optional("home_phone", &f.home_phone, PhoneNumber::parse),
            mobile: e.optional("mobile", &f.mobile, MobilePhone::parse),
            email: e.optional("email", &f.email, Email::parse),
            qq: e.optional("qq", &f.qq, QqNumber::parse),
            wechat: e.text("wechat", &f.wechat, SHORT),
            gpa: e.optional("gpa", &f.gpa, Gpa::parse),
            major_rank: e.text("major_rank", &f.major_rank, SHORT),
            health: e.text("health", &f.health, LONG),
            rewards: e.text("rewards", &f.rewards, LONG),
            remarks: e.text("remarks", &f.remarks, LONG),
            passport_no: e.optional("passport_no", &f.passport_no, PassportNumber::parse),
            passport_expiry: e.optional("passport_expiry", &f.passport_expiry, parse_date),
            supervisor_name: e.text("supervisor_name", &f.supervisor_name, SHORT),
            supervisor_phone: e.optional(
                "supervisor_phone",
                &f.supervisor_phone,
                PhoneNumber::parse,
            ),
            emergency_name: e.text("emergency_name", &f.emergency_name, SHORT),
            emergency_mobile: e.optional(
                "emergency_mobile",
                &f.emergency_mobile,
                MobilePhone::parse,
            ),
            emergency_relation: e.text("emergency_relation", &f.emergency_relation, SHORT),
        };

        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        if let Some(born) = profile.birth_date
            && (born <= earliest || born >= today)
        {
            e.add("birth_date", "err.birth_date.range");
        }
        if let (Some(IdType::ResidentIdCard), Some(number), Some(born)) =
            (profile.id_type, &profile.id_number, profile.birth_date)
            && number.get(6..14) != Some(born.format("%Y%m%d").to_string().as_str())
        {
            e.add("id_number", "err.id_card.birth_date_mismatch");
        }
        // Only pair-check what was typed: a malformed half already has its own error.
        match (
            f.passport_no.trim().is_empty(),
            f.passport_expiry.trim().is_empty(),
        ) {
            (false, true) => e.add("passport_expiry", "err.passport.expiry_required"),
            (true, false) => e.add("passport_no", "err.passport.number_required"),
            _ => {}
        }
        if profile.mobile.is_some() && profile.emergency_mobile == profile.mobile {
            e.add("emergency_mobile", "err.emergency.same_as_mobile");
        }

        e.into_result(profile)
    }
}

impl TryFrom<ProfileForm> for Profile {
    type Error = FieldErrors;

    /// [`Profile::parse`] against today's date in China.
    fn try_from(form: ProfileForm) -> Result<Profile, FieldErrors> {
        Profile::parse(&form, china_today())
    }
}

/// One row of 学习经历 as posted.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct StudyRecordForm {
    /// 起始时间, YYYY-MM-DD.
    pub start: String,
    /// 结束时间, YYYY-MM-DD; empty for the current school (至今).
    pub end: String,
    /// 学校名称.
    pub school: String,
    /// 学校地址.
    pub address: String,
    /// 学历 (高中, 本科 …).
    pub degree: String,
}

/// One row of 学习经历.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StudyRecord {
    /// First day.
    pub start: NaiveDate,
    /// Last day; `None` while still studying there (至今).
    pub end: Option<NaiveDate>,
    /// 学校名称.
    pub school: String,
    /// 学校地址.
    pub address: Option<String>,
    /// 学历.
    pub degree: String,
}

impl TryFrom<StudyRecordForm> for StudyRecord {
    type Error = FieldErrors;

    /// Start, school and degree are required; an end, when given, is not before the start.
    fn try_from(form: StudyRecordForm) -> Result<StudyRecord, FieldErrors> {
        let mut e = FieldErrors::new();
        let start = e.check("start", parse_date(&form.start));
        let end = e.optional("end", &form.end, parse_date);
        let school = e.text("school", &form.school, LINE);
        let address = e.text("address", &form.address, LINE);
        let degree = e.text("degree", &form.degree, SHORT);
        if school.is_none() && form.school.trim().is_empty() {
            e.add("school", "err.required");
        }
        if degree.is_none() && form.degree.trim().is_empty() {
            e.add("degree", "err.required");
        }
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            e.add("end", "err.date.order");
        }
        match (start, school, degree) {
            (Some(start), Some(school), Some(degree)) if e.is_empty() => Ok(StudyRecord {
                start,
                end,
                school,
                address,
                degree,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::IdCardNumber;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
    }

    fn today() -> NaiveDate {
        date(2024, 9, 1)
    }

    /// A valid resident ID number of someone born on 2000-01-01.
    fn id_born_2000() -> String {
        let body = "62010220000101123";
        format!(
            "{body}{}",
            IdCardNumber::check_char(body).expect("17 digits")
        )
    }

    fn complete_form() -> ProfileForm {
        ProfileForm {
            name_zh: "张三".into(),
            pinyin_surname: "zhang".into(),
            pinyin_given: "san".into(),
            gender: "male".into(),
            nationality: "CN".into(),
            ethnicity: "汉族".into(),
            birth_date: "2000-01-01".into(),
            id_type: "resident_id".into(),
            id_number: id_born_2000(),
            political_status: "共青团员".into(),
            marital_status: "single".into(),
            mobile: "13812345678".into(),
            email: "zhangsan@lzu.edu.cn".into(),
            emergency_name: "张父".into(),
            emergency_mobile: "13912345678".into(),
            emergency_relation: "父子".into(),
            ..ProfileForm::default()
        }
    }

    #[test]
    fn an_empty_profile_can_be_saved_and_misses_every_required_field() {
        let form = ProfileForm::default();
        assert_eq!(Profile::parse(&form, today()), Ok(Profile::default()));
        assert_eq!(missing_required(&form), ProfileForm::REQUIRED.to_vec());
    }

    #[test]
    fn a_complete_profile_parses_into_typed_values() {
        let form = complete_form();
        assert!(missing_required(&form).is_empty());
        let p = Profile::parse(&form, today()).expect("valid");
        assert_eq!(p.pinyin_surname.map(String::from).as_deref(), Some("ZHANG"));
        assert_eq!(p.gender, Some(Gender::Male));
        assert_eq!(p.id_type, Some(IdType::ResidentIdCard));
        assert_eq!(p.birth_date, Some(date(2000, 1, 1)));
        assert_eq!(p.mobile.map(|m| m.masked()).as_deref(), Some("138****5678"));
    }

    #[test]
    fn blank_spaces_count_as_missing() {
        let form = ProfileForm {
            mobile: "   ".into(),
            ..complete_form()
        };
        assert_eq!(missing_required(&form), vec!["mobile"]);
    }

    #[test]
    fn every_wrong_field_is_reported_at_once() {
        let form = ProfileForm {
            pinyin_surname: "张".into(),
            gender: "男".into(),
            mobile: "12345".into(),
            email: "me@qq.com".into(),
            qq: "0123".into(),
            gpa: "6".into(),
            birth_date: "2000-13-01".into(),
            health: "好".repeat(2001),
            ..complete_form()
        };
        let errors = Profile::parse(&form, today()).expect_err("invalid");
        assert_eq!(
            errors.get("pinyin_surname"),
            Some("err.pinyin.letters_only")
        );
        assert_eq!(errors.get("gender"), Some("err.option.unknown"));
        assert_eq!(errors.get("mobile"), Some("err.mobile.format"));
        assert_eq!(errors.get("email"), Some("err.email.qq"));
        assert_eq!(errors.get("qq"), Some("err.qq.format"));
        assert_eq!(errors.get("gpa"), Some("err.gpa.range"));
        assert_eq!(errors.get("birth_date"), Some("err.date.format"));
        assert_eq!(errors.get("health"), Some("err.too_long"));
        assert_eq!(errors.len(), 8);
    }

    #[test]
    fn a_resident_id_number_must_pass_its_check_digit() {
        let mut number = id_born_2000();
        let last = if number.ends_with('1') { "2" } else { "1" };
        number.replace_range(17.., last);
        let form = ProfileForm {
            id_number: number,
            ..complete_form()
        };
        let errors = Profile::parse(&form, today()).expect_err("invalid");
        assert_eq!(errors.get("id_number"), Some("err.id_card.checksum"));
    }

    #[test]
    fn the_birth_date_must_match_the_one_in_the_resident_id_number() {
        let form = ProfileForm {
            birth_date: "2000-01-02".into(),
            ..complete_form()
        };
        let errors = Profile::parse(&form, today()).expect_err("mismatch");
        assert_eq!(
            errors.get("id_number"),
            Some("err.id_card.birth_date_mismatch")
        );
        assert_eq!(errors.get("birth_date"), None);
    }

    #[test]
    fn a_passport_number_is_not_checked_against_the_birth_date() {
        let form = ProfileForm {
            id_type: "passport".into(),
            id_number: "e12345678".into(),
            birth_date: "2000-01-02".into(),
            ..complete_form()
        };
        let p = Profile::parse(&form, today()).expect("valid");
        assert_eq!(p.id_number.as_deref(), Some("E12345678"));
    }

    #[test]
    fn the_birth_date_lies_between_1900_and_today() {
        for birth in ["1899-12-31", "2024-09-01", "2030-01-01"] {
            let form = ProfileForm {
                birth_date: birth.into(),
                id_type: String::new(),
                id_number: String::new(),
                ..complete_form()
            };
            let errors = Profile::parse(&form, today()).expect_err(birth);
            assert_eq!(
                errors.get("birth_date"),
                Some("err.birth_date.range"),
                "{birth}"
            );
        }
    }

    #[test]
    fn a_passport_number_and_its_expiry_come_together() {
        let only_number = ProfileForm {
            passport_no: "E12345678".into(),
            ..complete_form()
        };
        let errors = Profile::parse(&only_number, today()).expect_err("pair");
        assert_eq!(
            errors.get("passport_expiry"),
            Some("err.passport.expiry_required")
        );

        let only_expiry = ProfileForm {
            passport_expiry: "2030-01-01".into(),
            ..complete_form()
        };
        let errors = Profile::parse(&only_expiry, today()).expect_err("pair");
        assert_eq!(
            errors.get("passport_no"),
            Some("err.passport.number_required")
        );

        let both = ProfileForm {
            passport_no: "ea1234567".into(),
            passport_expiry: "2030-01-01".into(),
            ..complete_form()
        };
        let p = Profile::parse(&both, today()).expect("valid");
        assert_eq!(
            p.passport_no.map(String::from).as_deref(),
            Some("EA1234567")
        );
    }

    #[test]
    fn the_emergency_contact_cannot_be_the_student_themself() {
        let form = ProfileForm {
            emergency_mobile: "138 1234 5678".into(),
            ..complete_form()
        };
        let errors = Profile::parse(&form, today()).expect_err("same");
        assert_eq!(
            errors.get("emergency_mobile"),
            Some("err.emergency.same_as_mobile")
        );
    }

    #[test]
    fn try_from_uses_todays_date() {
        assert!(Profile::try_from(complete_form()).is_ok());
    }

    #[test]
    fn the_form_deserialises_with_missing_fields_as_empty() {
        let form: ProfileForm =
            serde_json::from_str(r#"{"name_zh":"李四"}"#).expect("partial form");
        assert_eq!(form.name_zh, "李四");
        assert_eq!(form.mobile, "");
        assert_eq!(form.field("name_zh"), Some("李四"));
        assert_eq!(form.field("nonsense"), None);
    }

    #[test]
    fn a_study_record_needs_a_start_a_school_and_a_degree() {
        let errors = StudyRecord::try_from(StudyRecordForm::default()).expect_err("empty");
        assert_eq!(errors.get("start"), Some("err.required"));
        assert_eq!(errors.get("school"), Some("err.required"));
        assert_eq!(errors.get("degree"), Some("err.required"));
        assert_eq!(errors.get("end"), None);
    }

    #[test]
    fn a_study_record_cannot_end_before_it_starts() {
        let form = StudyRecordForm {
            start: "2018-09-01".into(),
            end: "2015-07-01".into(),
            school: "兰州大学附属中学".into(),
            address: String::new(),
            degree: "高中".into(),
        };
        let errors = StudyRecord::try_from(form).expect_err("order");
        assert_eq!(errors.get("end"), Some("err.date.order"));
    }

    #[test]
    fn a_current_school_has_no_end_date() {
        let form = StudyRecordForm {
            start: "2019-09-01".into(),
            end: String::new(),
            school: "兰州大学".into(),
            address: "甘肃省兰州市".into(),
            degree: "本科".into(),
        };
        let record = StudyRecord::try_from(form).expect("valid");
        assert_eq!(record.end, None);
        assert_eq!(record.address.as_deref(), Some("甘肃省兰州市"));
    }

    mod generated_forms {
        use super::*;
        use proptest::prelude::*;

        fn raw_value() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                ".{0,12}",
                "[0-9]{1,18}X?",
                "(19|20|99)[0-9]{2}-[01][0-9]-[0-3][0-9]",
                "[a-z]{1,8}@[a-z]{1,5}\\.cn",
                "1[3-9][0-9]{9}",
                "[A-Z][a-z]{0,8}",
                ".{200,400}",
            ]
        }

        proptest! {
            #[test]
            fn any_profile_form_is_parsed_or_refused_field_by_field(
                values in proptest::collection::vec(raw_value(), 60),
            ) {
                let serde_json::Value::Object(mut fields) =
                    serde_json::to_value(ProfileForm::default()).expect("a form serializes")
                else {
                    panic!("a form is an object");
                };
                let names: Vec<String> = fields
                    .iter()
                    .filter(|(_, v)| v.is_string())
                    .map(|(k, _)| k.clone())
                    .collect();
                for (name, value) in names.iter().zip(values) {
                    fields.insert(name.clone(), serde_json::Value::String(value));
                }
                let form: ProfileForm = serde_json::from_value(serde_json::Value::Object(fields))
                    .expect("the form reads back");
                match Profile::parse(&form, today()) {
                    Ok(profile) => {
                        if let Some(born) = profile.birth_date {
                            prop_assert!(born < today());
                        }
                    }
                    Err(errors) => {
                        let on_fields = names.iter().filter(|n| errors.get(n).is_some()).count();
                        prop_assert_eq!(on_fields, errors.len(), "every error names a field of the form");
                    }
                }
            }
        }
    }
}
