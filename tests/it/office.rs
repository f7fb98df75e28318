//! The office's one configurable name (`OUTBOUND_OFFICE_NAME`, `OUTBOUND_OFFICE_NAME_EN`):
//! the footer of every page and the announcements say the configured name, in each language.

use axum::http::StatusCode;

use crate::both;
use crate::support::TEST_OFFICE;

const STUDENT: &str = "2023010101";
const STUDENT_PASSWORD: &str = "Demo@2026";

both!(
    a_configured_office_name_shows_in_the_footer_and_the_announcements,
    with_demo_office,
    |app| {
        let mut student = app.signed_in(STUDENT, STUDENT_PASSWORD).await;
        for (lang, name) in [("zh", &TEST_OFFICE.zh), ("en", &TEST_OFFICE.en)] {
            student.get(&format!("/lang/{lang}")).await;
            let home = student.get("/").await;
            assert_eq!(home.status, StatusCode::OK);
            let footer = home.select("footer").join("");
            assert!(footer.starts_with(name.as_str()), "{lang}: {footer}");
            let news = home.select(".announcement").join("\n");
            assert!(news.contains(name.as_str()), "{lang}: {news}");
            for page in [home.text(), student.get("/login").await.text()] {
                for other in ["国际交流合作处", "国际交流与合作处", "International Office"]
                {
                    assert!(!page.contains(other), "{lang}: {other} is not the name");
                }
            }
        }
        // The error pages carry the same frame.
        let missing = student.get("/no-such-page").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(
            missing
                .select("footer")
                .join("")
                .contains(TEST_OFFICE.en.as_str())
        );
    }
);
