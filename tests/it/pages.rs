//! The site's own pages where a person used to meet something else: the review tabs, malformed
//! addresses, the audit log's words, the home counts and the embedded static files.

use axum::http::StatusCode;

use crate::both;
use crate::support::TestApp;

const STAFF_PASSWORD: &str = "Staff@2026";

both!(
    each_review_tab_links_its_status_once_and_opens,
    with_demo,
    |app| {
        let mut c = app.signed_in("gjc_officer", STAFF_PASSWORD).await;
        // From a page already filtered by a status, as a reviewer arrives after a first click.
        let page = c.get("/staff/reviews?status=under_review&q=").await;
        assert_eq!(page.status, StatusCode::OK);
        let sel = scraper::Selector::parse(".status-tabs a").unwrap();
        let tabs: Vec<String> = page
            .html()
            .select(&sel)
            .filter_map(|a| a.value().attr("href").map(str::to_owned))
            .collect();
        assert!(tabs.len() > 1, "{tabs:?}");
        for href in tabs {
            assert_eq!(href.matches("status=").count(), 1, "{href}");
            let tab = c.get(&href).await;
            assert_eq!(tab.status, StatusCode::OK, "{href}: {}", tab.text());
        }
    }
);
