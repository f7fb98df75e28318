//! 下载申请表: the filled application form as a PDF, for its owner, once submitted.

use axum::http::StatusCode;
use sea_query::{Expr, ExprTrait, Query};

use crate::both;
use crate::journey::{attr, fill, open_program, start, submit};
use crate::support::{Resp, TestApp};

const STUDENT: &str = "2023010101";
const STUDENT_NAME: &str = "王晓明";
const OTHER_STUDENT: &str = "2024210201";
const PASSWORD: &str = "Demo@2026";

fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

/// The PDF's text as `pdftotext` reads it, whitespace removed (it spaces CJK from Latin);
/// `None` when poppler-utils is missing outside CI.
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let path = std::env::temp_dir().join(format!(
        "outbound-it-form-{}-{}.pdf",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
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
        Err(e) => {
            assert!(!in_ci(), "pdftotext (poppler-utils) is needed in CI: {e}");
            eprintln!("!!! pdftotext (poppler-utils) missing: PDF TEXT CHECK SKIPPED");
            None
        }
    }
}

fn header(r: &Resp, name: &str) -> String {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn program_name(app: &TestApp, id: i64) -> String {
    app.state
        .db
        .scalar::<String>(
            &Query::select()
                .column("name_zh")
                .from("programs")
                .and_where(Expr::col("id").eq(id))
                .to_owned(),
        )
        .await
        .unwrap()
        .unwrap()
}

both!(
    the_owner_downloads_the_filled_form_as_a_pdf_once_the_application_is_submitted,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        fill(&mut c, id, "560", usize::MAX).await;
        let path = format!("/applications/{id}/form.pdf");

        // A draft: a clear message, no PDF, and no link offered.
        let draft = c.get(&path).await;
        assert_eq!(draft.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(header(&draft, "content-type").starts_with("text/html"));
        assert!(
            draft.text().contains("申请提交后才能下载申请表"),
            "{}",
            draft.text()
        );
        let view = c.get(&format!("/applications/{id}")).await;
        assert!(view.select("#download-form").is_empty());

        submit(&mut c, id).await;
        let view = c.get(&format!("/applications/{id}")).await;
        assert_eq!(attr(&view, "#download-form", "href"), path);
        let list = c.get("/applications").await;
        assert!(
            list.select(&format!("a[href='{path}']"))
                .iter()
                .any(|t| t == "下载申请表")
        );

        let r = c.get(&path).await;
        if r.status == StatusCode::SERVICE_UNAVAILABLE && !in_ci() {
            assert!(r.text().contains("中文字体"), "{}", r.text());
            eprintln!("!!! no Simplified-Chinese font on this machine: PDF CHECKS SKIPPED");
            return;
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(header(&r, "content-type"), "application/pdf");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        let cd = header(&r, "content-disposition");
        assert!(cd.starts_with("attachment;"), "{cd}");
        let encoded = cd.split("filename*=UTF-8''").nth(1).unwrap_or_default();
        let name = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
        assert_eq!(
            name,
            format!("{STUDENT_NAME}出国（境）交流申请表.pdf"),
            "{cd}"
        );
        assert!(r.body.starts_with(b"%PDF"));
        if let Some(text) = pdf_text(&r.body) {
            let program: String = program_name(&app, program)
                .await
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            for expected in [
                STUDENT_NAME,
                program.as_str(),
                "学生出国（境）交流申请表",
                "本人签字",
                "学院意见（签字盖章）",
                "国际处意见（签字盖章）",
                "王丽",
                "一学期",
            ] {
                assert!(
                    text.contains(expected),
                    "{expected:?} missing from:\n{text}"
                );
            }
        }
    }
);

both!(
    another_student_gets_not_found_for_someone_elses_form,
    with_demo,
    |app| {
        let mut owner = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut owner, program).await;
        fill(&mut owner, id, "560", usize::MAX).await;
        submit(&mut owner, id).await;
        let mut other = app.signed_in(OTHER_STUDENT, PASSWORD).await;
        let r = other.get(&format!("/applications/{id}/form.pdf")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(!r.body.starts_with(b"%PDF"));
        let anonymous = app
            .client()
            .get(&format!("/applications/{id}/form.pdf"))
            .await;
        assert!(!anonymous.body.starts_with(b"%PDF"));
        assert_ne!(anonymous.status, StatusCode::OK);
    }
);
