//! System administration (SPEC §11): staff accounts and their roles, colleges and majors, the
//! dictionaries, each change in one transaction with its audit row.
//!
//! The first half is pure: the forms' parsing rules (all errors at once, as catalogue keys) and
//! the small rules of the area (an admin keeps their own admin role; a generated password meets
//! the password rules; how an item moves up or down). The second half writes. Every writer
//! checks again that the actor is an active system administrator, so that the rule does not
//! live only in the web extractor, and never writes a password into the audit log.

use chrono::Utc;
use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::json;
use unicode_normalization::UnicodeNormalization;

use super::audit::{self, Who};
use super::{ServiceError, ServiceResult};
use crate::auth::{Role, password, role_code, role_from_code};
use crate::db::admin::{self as q, CodeNames, References};
use crate::db::dicts::kind;
use crate::db::{Db, Tx};
use crate::domain::FieldErrors;

/// The roles an administrator hands out. 学生 is not among them: it comes with a student's
/// registry record (import), never by hand.
pub const ASSIGNABLE_ROLES: [Role; 6] = [
    Role::CollegeReviewer,
    Role::InternationalOffice,
    Role::AcademicAffairs,
    Role::ForeignAffairs,
    Role::Admin,
    Role::Partner,
];

/// The dictionary kinds an administrator edits, in menu order.
pub const DICT_KINDS: [&str; 11] = [
    kind::COUNTRY,
    kind::LANGUAGE,
    kind::EXAM_TYPE,
    kind::FUNDING_SOURCE,
    kind::PROGRAM_TYPE,
    kind::PROGRAM_NATURE,
    kind::SEMESTER,
    kind::ETHNICITY,
    kind::POLITICAL_STATUS,
    kind::ID_TYPE,
    kind::ADMISSION_CATEGORY,
];

/// Is `k` one of [`DICT_KINDS`]?
pub fn is_dict_kind(k: &str) -> bool {
    DICT_KINDS.contains(&k)
}

const MAX_USERNAME: usize = 32;
const MAX_DISPLAY_NAME: usize = 50;
const MAX_CODE: usize = 32;
const MAX_NAME: usize = 100;
const MAX_SORT_ORDER: i64 = 1_000_000;
/// Length of a generated initial password.
const GENERATED_LEN: usize = 12;

// ---------------------------------------------------------------------------------------------
// Pure parsing

/// NFKC and trim: full-width letters and digits typed with a Chinese input method become
/// ASCII, the ideographic space goes.
fn fold(raw: &str) -> String {
    raw.nfkc().collect::<String>().trim().to_owned()
}

/// A user name (staff number): 2–32 letters, digits, `_`, `.` or `-`.
pub fn parse_username(raw: &str) -> Result<String, &'static str> {
    let s = fold(raw);
    if s.is_empty() {
        return Err("err.required");
    }
    let n = s.chars().count();
    if !(2..=MAX_USERNAME).contains(&n)
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err("err.admin.username.format");
    }
    Ok(s)
}

/// A code of a college, major or dictionary item: 1–32 letters, digits, `_`, `.` or `-`.
pub fn parse_code(raw: &str) -> Result<String, &'static str> {
    let s = fold(raw);
    if s.is_empty() {
        return Err("err.required");
    }
    if s.chars().count() > MAX_CODE
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err("err.admin.code.format");
    }
    Ok(s)
}

/// A required text of at most `max` characters, trimmed.
fn required_text(raw: &str, max: usize) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        Err("err.required")
    } else if s.chars().count() > max {
        Err("err.too_long")
    } else {
        Ok(s.to_owned())
    }
}

/// Records `r`'s error against `field`, handing back the value when there is one.
fn take<T>(errors: &mut FieldErrors, field: &str, r: Result<T, &'static str>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(code) => {
            errors.add(field, code);
            None
        }
    }
}

/// The account form as posted: `roles` and `colleges` are checkbox lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserForm {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub colleges: Vec<String>,
    /// `generate` (the default) or `set`.
    pub password_mode: String,
    pub password: String,
}

impl UserForm {
    /// Reads the posted pairs (repeated keys for the checkbox lists); unknown keys are ignored.
    pub fn from_pairs(pairs: &[(String, String)]) -> UserForm {
        let mut f = UserForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "username" => f.username = value.clone(),
                "display_name" => f.display_name = value.clone(),
                "roles" => f.roles.push(value.clone()),
                "colleges" => f.colleges.push(value.clone()),
                "password_mode" => f.password_mode = value.clone(),
                "password" => f.password = value.clone(),
                _ => {}
            }
        }
        f
    }
}

/// How the initial (or reset) password is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChoice {
    /// The system makes one up and shows it once.
    Generate,
    /// The administrator typed it.
    Set(String),
}

/// Name, roles and reviewed colleges of an account, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountValues {
    pub display_name: String,
    /// Sorted by code, no duplicates, never [`Role::Student`].
    pub roles: Vec<Role>,
    /// Only for a 学院审核员; sorted, no duplicates.
    pub colleges: Vec<i64>,
}

/// A new account, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub username: String,
    pub values: AccountValues,
    pub password: PasswordChoice,
}

/// The chosen password: a typed one must meet the password rules.
pub fn parse_password_choice(
    mode: &str,
    typed: &str,
    username: &str,
) -> Result<PasswordChoice, &'static str> {
    match mode.trim() {
        "" | "generate" => Ok(PasswordChoice::Generate),
        "set" if typed.is_empty() => Err("err.required"),
        "set" => {
            password::check_new_password(typed, username, "")?;
            Ok(PasswordChoice::Set(typed.to_owned()))
        }
        _ => Err("err.option.unknown"),
    }
}

/// Name, roles and colleges. `has_student_role`: the account is a student's, so it may hold no
/// other role. `allowed_colleges`: the colleges that may be chosen (active ones, and those the
/// account already reviews).
pub fn parse_account(
    form: &UserForm,
    has_student_role: bool,
    allowed_colleges: &[i64],
) -> Result<AccountValues, FieldErrors> {
    let mut errors = FieldErrors::new();
    let display_name = take(
        &mut errors,
        "display_name",
        required_text(&form.display_name, MAX_DISPLAY_NAME),
    );
    let mut roles = Vec::new();
    for raw in &form.roles {
        match role_from_code(raw.trim()).filter(|r| ASSIGNABLE_ROLES.contains(r)) {
            Some(role) if !roles.contains(&role) => roles.push(role),
            Some(_) => {}
            None => {
                errors.add("roles", "err.option.unknown");
                break;
            }
        }
    }
    roles.sort_by_key(|r| role_code(*r));
    if roles.is_empty() && !has_student_role && errors.get("roles").is_none() {
        errors.add("roles", "err.admin.roles.required");
    }
    let mut colleges = Vec::new();
    if roles.contains(&Role::CollegeReviewer) {
        for raw in &form.colleges {
            match raw.trim().parse::<i64>() {
                Ok(id) if allowed_colleges.contains(&id) => colleges.push(id),
                _ => {
                    errors.add("colleges", "err.option.unknown");
                    break;
                }
            }
        }
        colleges.sort_unstable();
        colleges.dedup();
        if colleges.is_empty() && errors.get("colleges").is_none() {
            errors.add("colleges", "err.admin.colleges.required");
        }
    }
    match display_name {
        Some(display_name) if errors.is_empty() => Ok(AccountValues {
            display_name,
            roles,
            colleges,
        }),
        _ => Err(errors),
    }
}

/// The whole new-account form, every error at once.
pub fn parse_new_account(
    form: &UserForm,
    allowed_colleges: &[i64],
) -> Result<NewAccount, FieldErrors> {
    let mut errors = FieldErrors::new();
    let username = take(&mut errors, "username", parse_username(&form.username));
    let values = match parse_account(form, false, allowed_colleges) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.merge(e);
            None
        }
    };
    let password = take(
        &mut errors,
        "password",
        parse_password_choice(
            &form.password_mode,
            &form.password,
            username.as_deref().unwrap_or(&form.username),
        ),
    );
    match (username, values, password) {
        (Some(username), Some(values), Some(password)) if errors.is_empty() => Ok(NewAccount {
            username,
            values,
            password,
        }),
        _ => Err(errors),
    }
}

/// An administrator may not take the admin role from themselves (there would be nobody to
/// give it back).
pub fn check_own_roles(actor_id: i64, target_id: i64, roles: &[Role]) -> Result<(), &'static str> {
    if actor_id == target_id && !roles.contains(&Role::Admin) {
        Err("err.admin.self_admin")
    } else {
        Ok(())
    }
}

/// A random initial password that meets the password rules: 12 characters with an upper-case
/// letter, a lower-case letter, a digit and a symbol, without look-alikes (0/O, 1/l/I).
pub fn generate_password() -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"@#%+=-";
    let mut rng = rand::thread_rng();
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    let mut out: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS]
        .iter()
        .map(|set| set[rng.gen_range(0..set.len())])
        .collect();
    while out.len() < GENERATED_LEN {
        out.push(all[rng.gen_range(0..all.len())]);
    }
    out.shuffle(&mut rng);
    String::from_utf8(out).expect("ASCII only")
}

/// The code-and-names form of a college or a major.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct CodeNameForm {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

pub fn parse_code_names(form: &CodeNameForm) -> Result<CodeNames, FieldErrors> {
    let mut errors = FieldErrors::new();
    let code = take(&mut errors, "code", parse_code(&form.code));
    let name_zh = take(
        &mut errors,
        "name_zh",
        required_text(&form.name_zh, MAX_NAME),
    );
    let name_en = take(
        &mut errors,
        "name_en",
        required_text(&form.name_en, MAX_NAME),
    );
    match (code, name_zh, name_en) {
        (Some(code), Some(name_zh), Some(name_en)) => Ok(CodeNames {
            code,
            name_zh,
            name_en,
        }),
        _ => Err(errors),
    }
}

/// The form of a dictionary item. `code` is read only when the item is new.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct DictItemForm {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    /// Empty: after the last item.
    pub sort_order: String,
}

/// A dictionary item, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictValues {
    /// `None` when editing (the code never changes).
    pub code: Option<String>,
    pub label_zh: String,
    pub label_en: String,
    pub sort_order: Option<i64>,
}

pub fn parse_dict_item(form: &DictItemForm, is_new: bool) -> Result<DictValues, FieldErrors> {
    let mut errors = FieldErrors::new();
    let code = if is_new {
        take(&mut errors, "code", parse_code(&form.code)).map(Some)
    } else {
        Some(None)
    };
    let label_zh = take(
        &mut errors,
        "label_zh",
        required_text(&form.label_zh, MAX_NAME),
    );
    let label_en = take(
        &mut errors,
        "label_en",
        required_text(&form.label_en, MAX_NAME),
    );
    let raw_order = fold(&form.sort_order);
    let sort_order = if raw_order.is_empty() {
        Some(None)
    } else {
        take(
            &mut errors,
            "sort_order",
            raw_order
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=MAX_SORT_ORDER).contains(n))
                .map(Some)
                .ok_or("err.admin.sort_order"),
        )
    };
    match (code, label_zh, label_en, sort_order) {
        (Some(code), Some(label_zh), Some(label_en), Some(sort_order)) => Ok(DictValues {
            code,
            label_zh,
            label_en,
            sort_order,
        }),
        _ => Err(errors),
    }
}

/// The order of `ids` after moving `id` one place up or down; `None` when it is already at
/// that end (or not in the list).
pub fn moved(ids: &[i64], id: i64, up: bool) -> Option<Vec<i64>> {
    let at = ids.iter().position(|x| *x == id)?;
    let other = if up { at.checked_sub(1)? } else { at + 1 };
    if other >= ids.len() {
        return None;
    }
    let mut out = ids.to_vec();
    out.swap(at, other);
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Writers

/// The acting administrator's id; `Forbidden` unless they are an active system admin now.
async fn admin_id(tx: &mut Tx, who: &Who) -> ServiceResult<i64> {
    let id = who.id.ok_or(ServiceError::Forbidden)?;
    let active = q::user_tx(tx, id).await?.is_some_and(|u| u.active);
    let is_admin = q::role_codes_tx(tx, id)
        .await?
        .iter()
        .any(|r| r == role_code(Role::Admin));
    if active && is_admin {
        Ok(id)
    } else {
        Err(ServiceError::Forbidden)
    }
}

fn codes(roles: &[Role]) -> Vec<&'static str> {
    roles.iter().map(|r| role_code(*r)).collect()
}

fn invalid(field: &str, code: &'static str) -> ServiceError {
    let mut e = FieldErrors::new();
    e.add(field, code);
    ServiceError::Invalid(e)
}

/// A new account and, when the system made it up, its password (to show once).
#[derive(Debug)]
pub struct Created {
    pub user_id: i64,
    pub generated_password: Option<String>,
}

/// Creates a staff account that must change its password at first sign-in.
pub async fn create_user(db: &Db, who: &Who, form: &UserForm) -> ServiceResult<Created> {
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    let allowed = q::active_college_ids_tx(&mut tx).await?;
    let mut errors = FieldErrors::new();
    let parsed = match parse_new_account(form, &allowed) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.merge(e);
            None
        }
    };
    // A taken user name is said beside the field together with every other error.
    let username = parse_username(&form.username).ok();
    if let Some(u) = &username
        && q::username_taken_tx(&mut tx, u).await?
    {
        errors.add("username", "err.admin.username.taken");
    }
    let Some(account) = parsed.filter(|_| errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    // Hashing is slow: not inside the write transaction.
    drop(tx);
    let (plain, generated) = match &account.password {
        PasswordChoice::Generate => (generate_password(), true),
        PasswordChoice::Set(p) => (p.clone(), false),
    };
    let hash = password::hash_async(plain.clone()).await;

    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    let user_id = match q::insert_user_tx(
        &mut tx,
        &account.username,
        &account.values.display_name,
        &hash,
        Utc::now(),
    )
    .await
    {
        Ok(id) => id,
        Err(e) if e.is_unique_violation() => {
            return Err(invalid("username", "err.admin.username.taken"));
        }
        Err(e) => return Err(e.into()),
    };
    q::replace_roles_tx(&mut tx, user_id, &account.values.roles).await?;
    q::replace_reviewed_colleges_tx(&mut tx, user_id, &account.values.colleges).await?;
    let detail = json!({
        "username": account.username,
        "display_name": account.values.display_name,
        "roles": codes(&account.values.roles),
        "colleges": account.values.colleges,
        "password": if generated { "generated" } else { "set" },
    });
    audit::record(
        &mut tx,
        who,
        "admin.user.create",
        &format!("user:{user_id}"),
        &detail.to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(Created {
        user_id,
        generated_password: generated.then_some(plain),
    })
}

/// Changes name, roles and reviewed colleges. A change of roles or colleges ends the person's
/// sessions (unless it is the administrator's own account), so that it takes effect at once.
pub async fn update_user(db: &Db, who: &Who, user_id: i64, form: &UserForm) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    let actor = admin_id(&mut tx, who).await?;
    let user = q::user_tx(&mut tx, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let old_roles = q::role_codes_tx(&mut tx, user_id).await?;
    let old_colleges = q::reviewed_colleges_tx(&mut tx, user_id).await?;
    let has_student = old_roles.iter().any(|r| r == role_code(Role::Student));
    let mut allowed = q::active_college_ids_tx(&mut tx).await?;
    allowed.extend(&old_colleges);
    let mut values = parse_account(form, has_student, &allowed)?;
    check_own_roles(actor, user_id, &values.roles).map_err(|k| invalid("roles", k))?;
    if !values.roles.contains(&Role::CollegeReviewer) {
        values.colleges.clear();
    }
    let old_staff_roles: Vec<&str> = old_roles
        .iter()
        .map(String::as_str)
        .filter(|r| *r != role_code(Role::Student))
        .collect();
    let new_roles = codes(&values.roles);
    let mut detail = serde_json::Map::new();
    if user.display_name != values.display_name {
        q::set_display_name_tx(&mut tx, user_id, &values.display_name).await?;
        detail.insert(
            "display_name".into(),
            json!({ "from": user.display_name, "to": values.display_name }),
        );
    }
    let roles_changed = old_staff_roles != new_roles;
    if roles_changed {
        q::replace_roles_tx(&mut tx, user_id, &values.roles).await?;
        detail.insert(
            "roles".into(),
            json!({ "from": old_staff_roles, "to": new_roles }),
        );
    }
    let colleges_changed = old_colleges != values.colleges;
    if colleges_changed {
        q::replace_reviewed_colleges_tx(&mut tx, user_id, &values.colleges).await?;
        detail.insert(
            "colleges".into(),
            json!({ "from": old_colleges, "to": values.colleges }),
        );
    }
    if detail.is_empty() {
        return Ok(());
    }
    if (roles_changed || colleges_changed) && user_id != actor {
        q::end_sessions_tx(&mut tx, user_id).await?;
    }
    detail.insert("username".into(), json!(user.username));
    audit::record(
        &mut tx,
        who,
        "admin.user.update",
        &format!("user:{user_id}"),
        &serde_json::Value::Object(detail).to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deactivates (ending every session) or reactivates an account; never one's own.
pub async fn set_user_active(db: &Db, who: &Who, user_id: i64, active: bool) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    let actor = admin_id(&mut tx, who).await?;
    let user = q::user_tx(&mut tx, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if user_id == actor {
        return Err(ServiceError::Refused("err.admin.self_deactivate"));
    }
    if user.active == active {
        return Ok(());
    }
    q::set_user_active_tx(&mut tx, user_id, active).await?;
    if !active {
        q::end_sessions_tx(&mut tx, user_id).await?;
    }
    audit::record(
        &mut tx,
        who,
        if active {
            "admin.user.reactivate"
        } else {
            "admin.user.deactivate"
        },
        &format!("user:{user_id}"),
        &json!({ "username": user.username }).to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new password that must be changed at the next sign-in, lifts a lock and ends the
/// person's sessions; returns the password when the system made it up. Not for one's own
/// account (that is 修改密码).
pub async fn reset_password(
    db: &Db,
    who: &Who,
    user_id: i64,
    mode: &str,
    typed: &str,
) -> ServiceResult<Option<String>> {
    let user = {
        let mut tx = db.begin().await?;
        let actor = admin_id(&mut tx, who).await?;
        if user_id == actor {
            return Err(ServiceError::Refused("err.admin.self_reset"));
        }
        q::user_tx(&mut tx, user_id)
            .await?
            .ok_or(ServiceError::NotFound)?
    };
    let choice =
        parse_password_choice(mode, typed, &user.username).map_err(|k| invalid("password", k))?;
    let (plain, generated) = match choice {
        PasswordChoice::Generate => (generate_password(), true),
        PasswordChoice::Set(p) => (p, false),
    };
    let hash = password::hash_async(plain.clone()).await;
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    if q::reset_password_tx(&mut tx, user_id, &hash).await? == 0 {
        return Err(ServiceError::NotFound);
    }
    q::end_sessions_tx(&mut tx, user_id).await?;
    audit::record(
        &mut tx,
        who,
        "admin.user.password_reset",
        &format!("user:{user_id}"),
        &json!({
            "username": user.username,
            "password": if generated { "generated" } else { "set" },
        })
        .to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(generated.then_some(plain))
}

// ---------------------------------------------------------------------------------------------
// Colleges and majors

/// The outcome of a delete: done, or refused because records still point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    InUse(References),
}

/// Which table a code-and-names record lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Registry {
    College,
    Major,
}

impl Registry {
    fn table(self) -> &'static str {
        match self {
            Registry::College => "colleges",
            Registry::Major => "majors",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Registry::College => "college",
            Registry::Major => "major",
        }
    }
}

/// Parses the form and checks that the code is free; every error at once.
async fn checked_code_names(
    tx: &mut Tx,
    reg: Registry,
    form: &CodeNameForm,
    except: Option<i64>,
) -> ServiceResult<CodeNames> {
    let parsed = parse_code_names(form);
    let mut errors = parsed.clone().err().unwrap_or_default();
    if let Ok(code) = parse_code(&form.code)
        && q::code_taken_tx(tx, reg.table(), &code, except).await?
    {
        errors.add("code", "err.admin.code.taken");
    }
    match parsed {
        Ok(v) if errors.is_empty() => Ok(v),
        _ => Err(ServiceError::Invalid(errors)),
    }
}

fn code_taken_or(e: crate::db::DbError) -> ServiceError {
    if e.is_unique_violation() {
        invalid("code", "err.admin.code.taken")
    } else {
        e.into()
    }
}

fn changes(old: &CodeNames, new: &CodeNames) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (name, a, b) in [
        ("code", &old.code, &new.code),
        ("name_zh", &old.name_zh, &new.name_zh),
        ("name_en", &old.name_en, &new.name_en),
    ] {
        if a != b {
            m.insert(name.into(), json!({ "from": a, "to": b }));
        }
    }
    serde_json::Value::Object(m)
}

pub async fn create_college(db: &Db, who: &Who, form: &CodeNameForm) -> ServiceResult<i64> {
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    let v = checked_code_names(&mut tx, Registry::College, form, None).await?;
    let id = q::insert_college_tx(&mut tx, &v)
        .await
        .map_err(code_taken_or)?;
    let detail = json!({ "code": v.code, "name_zh": v.name_zh, "name_en": v.name_en });
    audit::record(
        &mut tx,
        who,
        "admin.college.create",
        &format!("college:{id}"),
        &detail.to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn create_major(
    db: &Db,
    who: &Who,
    college_id: i64,
    form: &CodeNameForm,
) -> ServiceResult<i64> {
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    q::college_tx(&mut tx, college_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let v = checked_code_names(&mut tx, Registry::Major, form, None).await?;
    let id = q::insert_major_tx(&mut tx, college_id, &v)
        .await
        .map_err(code_taken_or)?;
    let detail = json!({
        "college_id": college_id,
        "code": v.code,
        "name_zh": v.name_zh,
        "name_en": v.name_en,
    });
    audit::record(
        &mut tx,
        who,
        "admin.major.create",
        &format!("major:{id}"),
        &detail.to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The stored code and names of a college or major, with its `active` flag.
async fn load_registry(tx: &mut Tx, reg: Registry, id: i64) -> ServiceResult<(CodeNames, bool)> {
    let found = match reg {
        Registry::College => q::college_tx(tx, id).await?.map(|c| {
            (
                CodeNames {
                    code: c.code,
                    name_zh: c.name_zh,
                    name_en: c.name_en,
                },
                c.active,
            )
        }),
        Registry::Major => q::major_tx(tx, id).await?.map(|m| {
            (
                CodeNames {
                    code: m.code,
                    name_zh: m.name_zh,
                    name_en: m.name_en,
                },
                m.active,
            )
        }),
    };
    found.ok_or(ServiceError::NotFound)
}

async fn update_registry(
    db: &Db,
    who: &Who,
    reg: Registry,
    id: i64,
    form: &CodeNameForm,
) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    let (old, _) = load_registry(&mut tx, reg, id).await?;
    let v = checked_code_names(&mut tx, reg, form, Some(id)).await?;
    if v == old {
        return Ok(());
    }
    q::update_code_names_tx(&mut tx, reg.table(), id, &v)
        .await
        .map_err(code_taken_or)?;
    audit::record(
        &mut tx,
        who,
        &format!("admin.{}.update", reg.noun()),
        &format!("{}:{id}", reg.noun()),
        &changes(&old, &v).to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn set_registry_active(
    db: &Db,
    who: &Who,
    reg: Registry,
    id: i64,
    active: bool,
) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    let (old, was_active) = load_registry(&mut tx, reg, id).await?;
    if was_active == active {
        return Ok(());
    }
    q::set_active_tx(&mut tx, reg.table(), id, active).await?;
    let verb = if active { "reactivate" } else { "deactivate" };
    audit::record(
        &mut tx,
        who,
        &format!("admin.{}.{verb}", reg.noun()),
        &format!("{}:{id}", reg.noun()),
        &json!({ "code": old.code, "name_zh": old.name_zh }).to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a college or major that nothing points at; otherwise says what does (it can still
/// be deactivated).
async fn delete_registry(db: &Db, who: &Who, reg: Registry, id: i64) -> ServiceResult<Deletion> {
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    let (old, _) = load_registry(&mut tx, reg, id).await?;
    let refs = match reg {
        Registry::College => q::college_references_tx(&mut tx, id).await?,
        Registry::Major => q::major_references_tx(&mut tx, id).await?,
    };
    if !refs.is_empty() {
        return Ok(Deletion::InUse(refs));
    }
    match q::delete_row_tx(&mut tx, reg.table(), id).await {
        Ok(_) => {}
        // A table this module does not know about still points at it.
        Err(e) if q::is_foreign_key_violation(&e) => return Ok(Deletion::InUse(refs)),
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        who,
        &format!("admin.{}.delete", reg.noun()),
        &format!("{}:{id}", reg.noun()),
        &json!({ "code": old.code, "name_zh": old.name_zh, "name_en": old.name_en }).to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(Deletion::Deleted)
}

pub async fn update_college(db: &Db, who: &Who, id: i64, form: &CodeNameForm) -> ServiceResult<()> {
    update_registry(db, who, Registry::College, id, form).await
}

pub async fn update_major(db: &Db, who: &Who, id: i64, form: &CodeNameForm) -> ServiceResult<()> {
    update_registry(db, who, Registry::Major, id, form).await
}

pub async fn set_college_active(db: &Db, who: &Who, id: i64, active: bool) -> ServiceResult<()> {
    set_registry_active(db, who, Registry::College, id, active).await
}

pub async fn set_major_active(db: &Db, who: &Who, id: i64, active: bool) -> ServiceResult<()> {
    set_registry_active(db, who, Registry::Major, id, active).await
}

pub async fn delete_college(db: &Db, who: &Who, id: i64) -> ServiceResult<Deletion> {
    delete_registry(db, who, Registry::College, id).await
}

pub async fn delete_major(db: &Db, who: &Who, id: i64) -> ServiceResult<Deletion> {
    delete_registry(db, who, Registry::Major, id).await
}

// ---------------------------------------------------------------------------------------------
// Dictionaries

fn known_kind(k: &str) -> ServiceResult<()> {
    if is_dict_kind(k) {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// Adds an item to a dictionary; the code must be free within the kind.
pub async fn create_dict_item(
    db: &Db,
    who: &Who,
    kind_: &str,
    form: &DictItemForm,
) -> ServiceResult<i64> {
    known_kind(kind_)?;
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    let parsed = parse_dict_item(form, true);
    let mut errors = parsed.clone().err().unwrap_or_default();
    if let Ok(code) = parse_code(&form.code)
        && q::dict_code_taken_tx(&mut tx, kind_, &code).await?
    {
        errors.add("code", "err.admin.code.taken");
    }
    let v = match parsed {
        Ok(v) if errors.is_empty() => v,
        _ => return Err(ServiceError::Invalid(errors)),
    };
    let code = v.code.clone().unwrap_or_default();
    let sort_order = match v.sort_order {
        Some(n) => n,
        None => q::next_sort_order_tx(&mut tx, kind_).await?,
    };
    let id = q::insert_dict_item_tx(&mut tx, kind_, &code, &v.label_zh, &v.label_en, sort_order)
        .await
        .map_err(code_taken_or)?;
    let detail = json!({
        "code": code,
        "label_zh": v.label_zh,
        "label_en": v.label_en,
        "sort_order": sort_order,
    });
    audit::record(
        &mut tx,
        who,
        "admin.dict.create",
        &format!("dict:{kind_}:{code}"),
        &detail.to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes the labels and sort order of an item (never its code: records store the code).
pub async fn update_dict_item(
    db: &Db,
    who: &Who,
    kind_: &str,
    id: i64,
    form: &DictItemForm,
) -> ServiceResult<()> {
    known_kind(kind_)?;
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    let old = q::dict_item_tx(&mut tx, kind_, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let v = parse_dict_item(form, false)?;
    let sort_order = v.sort_order.unwrap_or(old.sort_order);
    let mut detail = serde_json::Map::new();
    for (name, a, b) in [
        ("label_zh", &old.label_zh, &v.label_zh),
        ("label_en", &old.label_en, &v.label_en),
    ] {
        if a != b {
            detail.insert(name.into(), json!({ "from": a, "to": b }));
        }
    }
    if old.sort_order != sort_order {
        detail.insert(
            "sort_order".into(),
            json!({ "from": old.sort_order, "to": sort_order }),
        );
    }
    if detail.is_empty() {
        return Ok(());
    }
    q::update_dict_item_tx(&mut tx, id, &v.label_zh, &v.label_en, sort_order).await?;
    audit::record(
        &mut tx,
        who,
        "admin.dict.update",
        &format!("dict:{kind_}:{}", old.code),
        &serde_json::Value::Object(detail).to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deactivates (no longer offered in forms; stored records keep their code) or reactivates.
pub async fn set_dict_item_active(
    db: &Db,
    who: &Who,
    kind_: &str,
    id: i64,
    active: bool,
) -> ServiceResult<()> {
    known_kind(kind_)?;
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    let old = q::dict_item_tx(&mut tx, kind_, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if old.active == active {
        return Ok(());
    }
    q::set_active_tx(&mut tx, "dictionary_items", id, active).await?;
    audit::record(
        &mut tx,
        who,
        if active {
            "admin.dict.reactivate"
        } else {
            "admin.dict.deactivate"
        },
        &format!("dict:{kind_}:{}", old.code),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves an item one place up or down; the kind is renumbered in steps of 10 so that items
/// sharing a sort order get distinct places. At either end nothing changes.
pub async fn move_dict_item(
    db: &Db,
    who: &Who,
    kind_: &str,
    id: i64,
    up: bool,
) -> ServiceResult<()> {
    known_kind(kind_)?;
    let mut tx = db.begin().await?;
    admin_id(&mut tx, who).await?;
    let items = q::dict_items_tx(&mut tx, kind_).await?;
    let Some(item) = items.iter().find(|i| i.id == id) else {
        return Err(ServiceError::NotFound);
    };
    let code = item.code.clone();
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let Some(order) = moved(&ids, id, up) else {
        return Ok(());
    };
    for (place, item_id) in order.iter().enumerate() {
        let wanted = (place as i64 + 1) * 10;
        let current = items
            .iter()
            .find(|i| i.id == *item_id)
            .map(|i| i.sort_order);
        if current != Some(wanted) {
            q::set_dict_sort_order_tx(&mut tx, *item_id, wanted).await?;
        }
    }
    audit::record(
        &mut tx,
        who,
        "admin.dict.move",
        &format!("dict:{kind_}:{code}"),
        &json!({ "direction": if up { "up" } else { "down" } }).to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(username: &str, name: &str, roles: &[&str], colleges: &[&str]) -> UserForm {
        UserForm {
            username: username.into(),
            display_name: name.into(),
            roles: roles.iter().map(|s| s.to_string()).collect(),
            colleges: colleges.iter().map(|s| s.to_string()).collect(),
            password_mode: "generate".into(),
            password: String::new(),
        }
    }

    #[test]
    fn a_user_name_is_a_short_ascii_staff_number_and_full_width_digits_are_folded() {
        assert_eq!(parse_username(" t2026001 "), Ok("t2026001".into()));
        assert_eq!(parse_username("ｔ２０２６"), Ok("t2026".into()));
        assert_eq!(parse_username("wxy_reviewer"), Ok("wxy_reviewer".into()));
        assert_eq!(parse_username(""), Err("err.required"));
        assert_eq!(parse_username("a"), Err("err.admin.username.format"));
        assert_eq!(parse_username("张三"), Err("err.admin.username.format"));
        assert_eq!(parse_username("a b"), Err("err.admin.username.format"));
        assert_eq!(
            parse_username(&"x".repeat(33)),
            Err("err.admin.username.format")
        );
    }

    #[test]
    fn a_college_reviewer_needs_at_least_one_allowed_college() {
        let ok = parse_account(
            &form("t1", "王老师", &["college_reviewer"], &["2", "1", "2"]),
            false,
            &[1, 2],
        )
        .expect("valid");
        assert_eq!(ok.roles, vec![Role::CollegeReviewer]);
        assert_eq!(ok.colleges, vec![1, 2]);

        let none = parse_account(
            &form("t1", "王老师", &["college_reviewer"], &[]),
            false,
            &[1],
        );
        assert_eq!(
            none.unwrap_err().get("colleges"),
            Some("err.admin.colleges.required")
        );
        let stranger = parse_account(
            &form("t1", "王老师", &["college_reviewer"], &["9"]),
            false,
            &[1],
        );
        assert_eq!(
            stranger.unwrap_err().get("colleges"),
            Some("err.option.unknown")
        );
    }

    #[test]
    fn colleges_are_ignored_without_the_reviewer_role() {
        let v = parse_account(
            &form("t1", "何老师", &["international_office"], &["1"]),
            false,
            &[1],
        )
        .expect("valid");
        assert!(v.colleges.is_empty());
    }

    #[test]
    fn several_roles_are_kept_sorted_once_and_the_student_role_cannot_be_handed_out() {
        let v = parse_account(
            &form(
                "t1",
                "杨帆",
                &["international_office", "admin", "admin"],
                &[],
            ),
            false,
            &[],
        )
        .expect("valid");
        assert_eq!(v.roles, vec![Role::Admin, Role::InternationalOffice]);
        let student = parse_account(&form("t1", "杨帆", &["student"], &[]), false, &[]);
        assert_eq!(
            student.unwrap_err().get("roles"),
            Some("err.option.unknown")
        );
    }

    #[test]
    fn a_staff_account_needs_a_role_but_a_students_account_may_hold_none_besides() {
        let staff = parse_account(&form("t1", "杨帆", &[], &[]), false, &[]);
        assert_eq!(
            staff.unwrap_err().get("roles"),
            Some("err.admin.roles.required")
        );
        assert!(parse_account(&form("t1", "杨帆", &[], &[]), true, &[]).is_ok());
    }

    #[test]
    fn every_error_of_a_new_account_is_reported_at_once() {
        let mut f = form("", "", &[], &[]);
        f.password_mode = "set".into();
        f.password = "short".into();
        let e = parse_new_account(&f, &[]).unwrap_err();
        assert_eq!(e.get("username"), Some("err.required"));
        assert_eq!(e.get("display_name"), Some("err.required"));
        assert_eq!(e.get("roles"), Some("err.admin.roles.required"));
        assert_eq!(e.get("password"), Some("err.password.too_short"));
    }

    #[test]
    fn a_typed_password_must_meet_the_rules_and_generate_is_the_default() {
        assert_eq!(
            parse_password_choice("", "", "t1"),
            Ok(PasswordChoice::Generate)
        );
        assert_eq!(parse_password_choice("set", "", "t1"), Err("err.required"));
        assert_eq!(
            parse_password_choice("set", "abcdefghij", "t1"),
            Err("err.password.too_simple")
        );
        assert_eq!(
            parse_password_choice("set", "Init-2026x", "t1"),
            Ok(PasswordChoice::Set("Init-2026x".into()))
        );
        assert_eq!(
            parse_password_choice("other", "", "t1"),
            Err("err.option.unknown")
        );
    }

    #[test]
    fn generated_passwords_meet_the_rules_and_differ() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.chars().count(), GENERATED_LEN);
        assert_ne!(a, b);
        for _ in 0..200 {
            let p = generate_password();
            assert_eq!(password::check_new_password(&p, "t1", ""), Ok(()), "{p}");
            assert!(!p.contains(['0', 'O', '1', 'l', 'I']), "{p}");
        }
    }

    #[test]
    fn an_admin_cannot_take_the_admin_role_from_themselves() {
        assert_eq!(
            check_own_roles(7, 7, &[Role::InternationalOffice]),
            Err("err.admin.self_admin")
        );
        assert_eq!(check_own_roles(7, 7, &[Role::Admin]), Ok(()));
        assert_eq!(check_own_roles(7, 8, &[]), Ok(()));
    }

    #[test]
    fn codes_and_both_names_are_required() {
        let e = parse_code_names(&CodeNameForm::default()).unwrap_err();
        assert_eq!(e.get("code"), Some("err.required"));
        assert_eq!(e.get("name_zh"), Some("err.required"));
        assert_eq!(e.get("name_en"), Some("err.required"));
        let bad = parse_code_names(&CodeNameForm {
            code: "外语".into(),
            name_zh: "外国语学院".into(),
            name_en: "x".repeat(101),
        })
        .unwrap_err();
        assert_eq!(bad.get("code"), Some("err.admin.code.format"));
        assert_eq!(bad.get("name_en"), Some("err.too_long"));
        let ok = parse_code_names(&CodeNameForm {
            code: " ０６ ".into(),
            name_zh: " 法学院 ".into(),
            name_en: "Law School".into(),
        })
        .expect("valid");
        assert_eq!(ok.code, "06");
        assert_eq!(ok.name_zh, "法学院");
    }

    #[test]
    fn a_dictionary_item_reads_its_code_only_when_new_and_an_order_must_be_a_number() {
        let f = DictItemForm {
            code: "xx".into(),
            label_zh: "测试".into(),
            label_en: "Test".into(),
            sort_order: String::new(),
        };
        assert_eq!(
            parse_dict_item(&f, true).expect("valid").code,
            Some("xx".into())
        );
        assert_eq!(parse_dict_item(&f, false).expect("valid").code, None);
        assert_eq!(parse_dict_item(&f, true).expect("valid").sort_order, None);
        let bad = DictItemForm {
            code: String::new(),
            label_zh: String::new(),
            label_en: "Test".into(),
            sort_order: "ten".into(),
        };
        let e = parse_dict_item(&bad, true).unwrap_err();
        assert_eq!(e.get("code"), Some("err.required"));
        assert_eq!(e.get("label_zh"), Some("err.required"));
        assert_eq!(e.get("sort_order"), Some("err.admin.sort_order"));
        let negative = DictItemForm {
            sort_order: "-1".into(),
            ..f
        };
        assert!(parse_dict_item(&negative, false).is_err());
    }

    #[test]
    fn an_item_moves_one_place_and_not_past_either_end() {
        assert_eq!(moved(&[1, 2, 3], 2, true), Some(vec![2, 1, 3]));
        assert_eq!(moved(&[1, 2, 3], 2, false), Some(vec![1, 3, 2]));
        assert_eq!(moved(&[1, 2, 3], 1, true), None);
        assert_eq!(moved(&[1, 2, 3], 3, false), None);
        assert_eq!(moved(&[1, 2, 3], 9, true), None);
    }

    #[test]
    fn the_posted_checkbox_lists_keep_every_value() {
        let pairs: Vec<(String, String)> = [
            ("username", "t1"),
            ("roles", "admin"),
            ("roles", "college_reviewer"),
            ("colleges", "1"),
            ("colleges", "2"),
            ("_csrf", "x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let f = UserForm::from_pairs(&pairs);
        assert_eq!(f.roles, vec!["admin", "college_reviewer"]);
        assert_eq!(f.colleges, vec!["1", "2"]);
    }

    #[test]
    fn every_dictionary_kind_the_system_uses_is_editable() {
        for k in [
            kind::COUNTRY,
            kind::EXAM_TYPE,
            kind::ID_TYPE,
            kind::ETHNICITY,
        ] {
            assert!(is_dict_kind(k));
        }
        assert!(!is_dict_kind("users"));
    }
}
