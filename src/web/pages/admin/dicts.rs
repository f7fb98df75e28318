//! 数据字典: pick a kind (countries/regions, languages, exam types, funding sources …), list its
//! items, add, edit, move up or down, deactivate. A code is unique within its kind and never
//! changes once saved, because stored records (profiles, programs, applications) hold it.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::{flash, layout, pairs, summary, tabs, value_of, wants_active};
use crate::db::admin::{self as q, DictRow};
use crate::db::dicts::kind;
use crate::domain::FieldErrors;
use crate::services::ServiceError;
use crate::services::admin::{self, DICT_KINDS, DictItemForm, is_dict_kind};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{AdminCtx, ClientIp, Ctx, Form, Path, who};
use crate::web::forms::error_of;
use crate::web::layout::{FieldKind, FormField, Layout};
use crate::web::render::{html, html_status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/dictionaries", get(kinds))
        .route("/admin/dictionaries/{kind}", get(items))
        .route(
            "/admin/dictionaries/{kind}/new",
            get(new_item).post(create_item),
        )
        .route(
            "/admin/dictionaries/{kind}/{id}",
            get(edit_item).post(update_item),
        )
        .route("/admin/dictionaries/{kind}/{id}/move", post(move_item))
        .route("/admin/dictionaries/{kind}/{id}/active", post(item_active))
}

/// The catalogue key of a kind's name.
fn kind_key(k: &str) -> &'static str {
    match k {
        kind::COUNTRY => "admin.dict.kind.country",
        kind::LANGUAGE => "admin.dict.kind.language",
        kind::EXAM_TYPE => "admin.dict.kind.exam_type",
        kind::FUNDING_SOURCE => "admin.dict.kind.funding_source",
        kind::PROGRAM_TYPE => "admin.dict.kind.program_type",
        kind::PROGRAM_NATURE => "admin.dict.kind.program_nature",
        kind::SEMESTER => "admin.dict.kind.semester",
        kind::ETHNICITY => "admin.dict.kind.ethnicity",
        kind::POLITICAL_STATUS => "admin.dict.kind.political_status",
        kind::ID_TYPE => "admin.dict.kind.id_type",
        kind::ADMISSION_CATEGORY => "admin.dict.kind.admission_category",
        _ => "admin.dicts.title",
    }
}

/// A known kind from the path, else 404.
fn known(k: &str) -> AppResult<&'static str> {
    DICT_KINDS
        .iter()
        .copied()
        .find(|x| *x == k)
        .ok_or(AppError::NotFound)
}

/// (code, label) of every kind, for the picker.
fn kind_options(ctx: &Ctx) -> Vec<(String, String)> {
    DICT_KINDS
        .iter()
        .map(|k| ((*k).to_owned(), ctx.t(kind_key(k)).to_owned()))
        .collect()
}

struct KindView {
    code: &'static str,
    label: String,
    count: i64,
}

#[derive(Template)]
#[template(path = "admin/dicts.html")]
struct KindsPage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    kinds: Vec<KindView>,
    kind_options: Vec<(String, String)>,
    current: String,
}

/// The kinds with their item counts; `?kind=x` (the picker) goes to that kind's items.
async fn kinds(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let picked: Vec<(String, String)> = raw
        .and_then(|r| serde_urlencoded::from_str(&r).ok())
        .unwrap_or_default();
    let picked = value_of(&picked, "kind");
    if is_dict_kind(picked) {
        return Ok(Redirect::to(&format!("/admin/dictionaries/{picked}")).into_response());
    }
    let counts: HashMap<String, i64> = q::dict_counts(&state.db).await?.into_iter().collect();
    Ok(html(KindsPage {
        l: layout(&ctx, "admin.dicts.title"),
        tabs: tabs(&ctx, "dicts"),
        kinds: DICT_KINDS
            .iter()
            .map(|k| KindView {
                code: k,
                label: ctx.t(kind_key(k)).to_owned(),
                count: counts.get(*k).copied().unwrap_or(0),
            })
            .collect(),
        kind_options: kind_options(&ctx),
        current: String::new(),
    }))
}

#[derive(Template)]
#[template(path = "admin/dict_items.html")]
struct ItemsPage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    kind: &'static str,
    kind_options: Vec<(String, String)>,
    current: String,
    rows: Vec<DictRow>,
    new_href: String,
}

async fn items(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    Path(k): Path<String>,
) -> AppResult<Response> {
    let k = known(&k)?;
    let rows = q::dict_items(&state.db, k).await?;
    Ok(html(ItemsPage {
        l: ctx.layout_titled(
            "nav.admin",
            format!("{} · {}", ctx.t("admin.dicts.title"), ctx.t(kind_key(k))),
        ),
        tabs: tabs(&ctx, "dicts"),
        kind: k,
        kind_options: kind_options(&ctx),
        current: k.to_owned(),
        rows,
        new_href: format!("/admin/dictionaries/{k}/new"),
    }))
}

#[derive(Template)]
#[template(path = "admin/dict_item_form.html")]
struct FormPage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    fields: Vec<FormField>,
    summary: Vec<String>,
    action: String,
    back: String,
}

fn form_page(
    ctx: &Ctx,
    k: &'static str,
    id: Option<i64>,
    form: &DictItemForm,
    errors: &FieldErrors,
) -> FormPage {
    let field = |name: &str, key: &str, value: &str, required: bool| {
        FormField::new(name, ctx.t(key), FieldKind::Text)
            .value(value)
            .required(required)
            .error(error_of(errors, name, ctx.lang))
    };
    let code = field("code", "admin.code", &form.code, true)
        .readonly(id.is_some())
        .hint(ctx.t(if id.is_some() {
            "admin.dict.code_fixed"
        } else {
            "admin.dict.code_hint"
        }));
    let fields = vec![
        code,
        field("label_zh", "admin.name_zh", &form.label_zh, true),
        field("label_en", "admin.name_en", &form.label_en, true),
        field(
            "sort_order",
            "admin.dict.sort_order",
            &form.sort_order,
            false,
        )
        .hint(ctx.t("admin.dict.sort_hint")),
    ];
    let labels: Vec<(&str, String)> = fields
        .iter()
        .map(|f| (f.name.as_str(), f.label.clone()))
        .collect();
    let (title, action) = match id {
        None => ("admin.dict.new", format!("/admin/dictionaries/{k}/new")),
        Some(id) => ("admin.dict.edit", format!("/admin/dictionaries/{k}/{id}")),
    };
    FormPage {
        l: ctx.layout_titled(
            "nav.admin",
            format!("{} · {}", ctx.t(kind_key(k)), ctx.t(title)),
        ),
        tabs: tabs(ctx, "dicts"),
        summary: summary(errors, ctx.lang, &labels),
        fields,
        action,
        back: format!("/admin/dictionaries/{k}"),
    }
}

fn posted(form: Result<Form<DictItemForm>, AppError>) -> AppResult<DictItemForm> {
    form.map(|Form(f)| f)
        .map_err(|_| AppError::Refused("err.admin.bad_form"))
}

async fn new_item(AdminCtx(ctx): AdminCtx, Path(k): Path<String>) -> AppResult<Response> {
    let k = known(&k)?;
    let none = FieldErrors::new();
    Ok(html(form_page(
        &ctx,
        k,
        None,
        &DictItemForm::default(),
        &none,
    )))
}

async fn create_item(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(k): Path<String>,
    form: Result<Form<DictItemForm>, AppError>,
) -> AppResult<Response> {
    let k = known(&k)?;
    let form = posted(form)?;
    match admin::create_dict_item(&state.db, &who(&ctx, &ip.0), k, &form).await {
        Ok(_) => Ok(flash(
            &ctx,
            &format!("/admin/dictionaries/{k}"),
            "success",
            "admin.saved",
        )),
        Err(ServiceError::Invalid(errors)) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(&ctx, k, None, &form, &errors),
        )),
        Err(e) => Err(e.into()),
    }
}

async fn edit_item(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    Path((k, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let k = known(&k)?;
    let item = q::dict_item(&state.db, k, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = DictItemForm {
        code: item.code,
        label_zh: item.label_zh,
        label_en: item.label_en,
        sort_order: item.sort_order.to_string(),
    };
    let none = FieldErrors::new();
    Ok(html(form_page(&ctx, k, Some(id), &form, &none)))
}

async fn update_item(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path((k, id)): Path<(String, i64)>,
    form: Result<Form<DictItemForm>, AppError>,
) -> AppResult<Response> {
    let k = known(&k)?;
    let mut form = posted(form)?;
    match admin::update_dict_item(&state.db, &who(&ctx, &ip.0), k, id, &form).await {
        Ok(()) => Ok(flash(
            &ctx,
            &format!("/admin/dictionaries/{k}"),
            "success",
            "admin.saved",
        )),
        Err(ServiceError::Invalid(errors)) => {
            // The code is shown, not posted: show the stored one.
            let item = q::dict_item(&state.db, k, id)
                .await?
                .ok_or(AppError::NotFound)?;
            form.code = item.code;
            Ok(html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(&ctx, k, Some(id), &form, &errors),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn move_item(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path((k, id)): Path<(String, i64)>,
    body: Bytes,
) -> AppResult<Response> {
    let k = known(&k)?;
    let up = match value_of(&pairs(&body)?, "direction") {
        "up" => true,
        "down" => false,
        _ => return Err(AppError::Refused("err.admin.bad_form")),
    };
    admin::move_dict_item(&state.db, &who(&ctx, &ip.0), k, id, up).await?;
    Ok(Redirect::to(&format!("/admin/dictionaries/{k}#item-{id}")).into_response())
}

async fn item_active(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path((k, id)): Path<(String, i64)>,
    body: Bytes,
) -> AppResult<Response> {
    let k = known(&k)?;
    let active = wants_active(&pairs(&body)?)?;
    admin::set_dict_item_active(&state.db, &who(&ctx, &ip.0), k, id, active).await?;
    Ok(flash(
        &ctx,
        &format!("/admin/dictionaries/{k}"),
        "success",
        if active {
            "admin.reactivated"
        } else {
            "admin.deactivated"
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_editable_kind_has_a_name_in_both_languages() {
        for k in DICT_KINDS {
            let key = kind_key(k);
            assert_ne!(key, "admin.dicts.title", "{k}");
            assert!(crate::i18n::has_key(key), "{key}");
        }
        assert!(known("no_such_kind").is_err());
    }
}
