//! The staff side in real headless Chromium, one person after another in the same window:
//! the international office publishes a program; two students' applications wait on the
//! college (one new, made through the student's HTTP steps that the student journeys already
//! drive in the browser); the college reviewer approves both in one batch; the office returns
//! one for revision; the student fixes and resubmits it; the office approves both and records
//! the admission results in batch; the student sees every step in 进度跟踪 and in the message
//! centre.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, Locator};
use sea_query::{Expr, ExprTrait, Query};

use crate::browser::{Browser, click, find, type_into, url_of, wait_for_text, wait_for_url};
use crate::journey::{fill, open_program, start, submit};
use crate::support::{Backend, TestApp};

const STAFF: &str = "Staff@2026";
const STUDENT: &str = "2023010101";
const STUDENT_PASSWORD: &str = "Demo@2026";

async fn sign_in(c: &Client, base: &str, user: &str, password: &str) -> anyhow::Result<()> {
    c.delete_all_cookies().await?;
    c.goto(&format!("{base}/login")).await?;
    type_into(c, "#f-username", user).await?;
    type_into(c, "#f-password", password).await?;
    click(c, "form.login-card button[type=submit]").await?;
    let deadline = Instant::now() + crate::browser::WAIT;
    while url_of(c).await.contains("/login") {
        if Instant::now() > deadline {
            bail!("{user} could not sign in");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Accepts the confirm() dialog a button or form asks for.
async fn confirm(c: &Client) -> anyhow::Result<()> {
    let deadline = Instant::now() + crate::browser::WAIT;
    loop {
        match c.get_alert_text().await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => bail!("no confirm dialog: {e}"),
        }
    }
    c.accept_alert().await?;
    Ok(())
}

async fn status_of(app: &TestApp, id: i64) -> String {
    outbound::db::applications::by_id(&app.state.db, id)
        .await
        .unwrap()
        .unwrap()
        .status
}

async fn staff_journey(app: &TestApp, c: &Client, base: &str) -> anyhow::Result<()> {
    let db = &app.state.db;
    // 1. The office publishes the draft program (瑞典隆德大学).
    let draft: Vec<(i64,)> = db
        .all(
            &Query::select()
                .column("id")
                .from("programs")
                .and_where(Expr::col("status").eq("draft"))
                .to_owned(),
        )
        .await?;
    let draft = draft.first().context("the demo has a draft program")?.0;
    sign_in(c, base, "gjc_officer", STAFF).await?;
    c.goto(&format!("{base}/staff/programs/{draft}")).await?;
    click(c, "form[action$='/publish'] button").await?;
    confirm(c).await?;
    wait_for_text(c, ".flash", "").await?;
    let status: Option<String> = db
        .scalar(
            &Query::select()
                .column("status")
                .from("programs")
                .and_where(Expr::col("id").eq(draft))
                .to_owned(),
        )
        .await?;
    if status.as_deref() != Some("published") {
        bail!("the program is {status:?} after 发布");
    }

    // 2. A student of 外国语学院 applies (HTTP steps); the demo's 2024010207 is waiting too.
    let mut http = app.signed_in(STUDENT, STUDENT_PASSWORD).await;
    let program = open_program(app).await;
    let mine = start(&mut http, program).await;
    fill(&mut http, mine, "7.0", usize::MAX).await;
    submit(&mut http, mine).await;
    // The newly published program is in the student's catalogue.
    sign_in(c, base, STUDENT, STUDENT_PASSWORD).await?;
    c.goto(&format!("{base}/programs?keyword=隆德")).await?;
    wait_for_text(c, "main", "隆德大学").await?;

    // 3. The college reviewer approves both in one batch.
    sign_in(c, base, "wxy_reviewer", STAFF).await?;
    c.goto(&format!("{base}/staff/reviews")).await?;
    let boxes = c.find_all(Locator::Css("input[name=ids]")).await?;
    if boxes.len() != 2 {
        bail!("the college queue has {} rows, not 2", boxes.len());
    }
    for b in boxes {
        b.click().await?;
    }
    click(c, "input[name=decision][value=approve]").await?;
    type_into(c, "#batch-opinion", "同意推荐").await?;
    click(c, "#batch-submit").await?;
    wait_for_text(c, "#batch-report", "已处理").await?;
    if c.find_all(Locator::Css("#batch-report li.ok")).await?.len() != 2 {
        bail!("the batch did not decide both");
    }

    // 4. The office returns the new one for revision.
    sign_in(c, base, "gjc_officer", STAFF).await?;
    c.goto(&format!("{base}/staff/reviews")).await?;
    click(c, &format!("#queue a[href='/staff/applications/{mine}']")).await?;
    wait_for_url(c, &format!("/staff/applications/{mine}")).await?;
    click(c, "#decision-return_for_revision").await?;
    type_into(c, "#f-opinion", "请补充交流期间的学习计划").await?;
    click(c, "#decide-submit").await?;
    wait_for_text(c, ".flash", "审核结果已保存").await?;
    if status_of(app, mine).await != "returned" {
        bail!("not returned");
    }

    // 5. The student sees why, fixes the form and resubmits.
    sign_in(c, base, STUDENT, STUDENT_PASSWORD).await?;
    c.goto(&format!("{base}/applications/{mine}?tab=progress"))
        .await?;
    wait_for_text(c, "#progress", "请补充交流期间的学习计划").await?;
    c.goto(&format!("{base}/applications/{mine}/step/info"))
        .await?;
    type_into(c, "#f-exchange_duration", "一学期（含学习计划）").await?;
    click(c, "button[name=action][value=save]").await?;
    wait_for_text(c, ".flash", "").await?;
    c.goto(&format!("{base}/applications/{mine}/submit"))
        .await?;
    click(c, "#submit-button").await?;
    confirm(c).await?;
    let deadline = Instant::now() + crate::browser::WAIT;
    while status_of(app, mine).await != "under_review" {
        if Instant::now() > deadline {
            bail!("the resubmission did not land");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 6. The office approves it; it waits for the partner school's answer.
    sign_in(c, base, "gjc_officer", STAFF).await?;
    c.goto(&format!("{base}/staff/reviews")).await?;
    click(c, &format!("input[name=ids][value^='{mine}:']")).await?;
    click(c, "input[name=decision][value=approve]").await?;
    click(c, "#batch-submit").await?;
    wait_for_text(c, "#batch-report", "已处理").await?;
    if status_of(app, mine).await != "nominated" {
        bail!("the office's approval did not nominate the application");
    }

    // 7. The office records 第一志愿被录取 in batch.
    c.goto(&format!("{base}/staff/admissions")).await?;
    click(c, &format!("input[name=pick][value^='{mine}:']")).await?;
    find(c, "#batch-result")
        .await?
        .select_by_value("first_choice")
        .await?;
    click(c, "#batch-submit").await?;
    confirm(c).await?;
    let deadline = Instant::now() + crate::browser::WAIT;
    while status_of(app, mine).await != "admitted_first_choice" {
        if Instant::now() > deadline {
            bail!("the admission result was not recorded");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 8. The student sees every step in 进度跟踪 and in the message centre.
    sign_in(c, base, STUDENT, STUDENT_PASSWORD).await?;
    c.goto(&format!("{base}/applications/{mine}?tab=history"))
        .await?;
    for step in [
        "学院审核",
        "同意推荐",
        "退回修改",
        "国际交流部审核",
        "第一志愿被录取",
    ] {
        wait_for_text(c, "#history", step).await?;
    }
    c.goto(&format!("{base}/messages")).await?;
    for text in ["审核结果", "退回修改", "录取"] {
        wait_for_text(c, "main", text).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_publishes_reviewers_decide_in_batch_a_return_is_fixed_and_admission_is_recorded()
 {
    let Some(browser) = Browser::start("staff-1280x900", 1280, 900).await else {
        return;
    };
    let Some(app) = TestApp::with_demo(Backend::Sqlite).await else {
        return;
    };
    let addr = app.serve().await;
    let base = format!("http://{addr}");
    let outcome = Box::pin(staff_journey(&app, &browser.client, &base)).await;
    if let Err(e) = outcome {
        let shot = browser.screenshot("-failure").await;
        let text = browser
            .client
            .execute(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await
            .unwrap_or_default();
        let url = url_of(&browser.client).await;
        browser.quit().await;
        app.finish().await;
        panic!(
            "the staff journey failed: {e:#}\nat {url}\nscreenshot: {}\npage:\n{}",
            shot.display(),
            text.as_str()
                .unwrap_or_default()
                .chars()
                .take(3000)
                .collect::<String>()
        );
    }
    browser.quit().await;
    app.finish().await;
}
