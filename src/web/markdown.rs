//! The simple formatting the office may use in a program's 其他说明: Markdown rendered on the
//! server to HTML and cleaned by an allow-list, so that the page can show it as it is.
//!
//! What survives: paragraphs, line breaks, lists, bold, italics and links to `http`, `https`
//! and `mailto` addresses (opened with `rel="noopener noreferrer nofollow"`). Everything else
//! is dropped or shown as text: raw HTML written in the source is escaped before the cleaner
//! even sees it, headings and quotes keep only their text, images disappear, and no
//! attribute but a link's `href` is kept — no `style`, no event handler, no script. A single
//! line break stays a line break, so the plain text written before formatting existed reads
//! as it always did.

use std::collections::HashSet;
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Event, Options, Parser, html};

/// The tags the cleaned HTML may hold.
const TAGS: [&str; 8] = ["p", "br", "ul", "ol", "li", "strong", "em", "a"];

/// The link schemes a link may use; relative and other addresses lose their `href`.
const SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// The cleaner, built once: the allow-list above and nothing else.
static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::empty();
    b.tags(HashSet::from(TAGS))
        .add_tag_attributes("a", ["href"])
        .url_schemes(HashSet::from(SCHEMES))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean_content_tags(HashSet::from(["script", "style"]))
        .strip_comments(true);
    b
});

/// The HTML of `source` (the office's Markdown), safe to insert into a page as it is.
pub fn to_safe_html(source: &str) -> String {
    let parser = Parser::new_ext(source, Options::empty()).map(|event| match event {
        // Text the office typed as HTML is shown as text, never interpreted.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // Plain text written line by line keeps its lines.
        Event::SoftBreak => Event::HardBreak,
        other => other,
    });
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, parser);
    CLEANER.clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn paragraphs_lists_bold_and_links_are_formatted() {
        let html = to_safe_html(
            "第一段，**重点**与*说明*。\n\n- 甲\n- 乙\n\n1. 一\n2. 二\n\n详见[官网](https://example.edu/x)或[邮件](mailto:gjc@example.edu)。",
        );
        assert!(
            html.contains("<p>第一段，<strong>重点</strong>与<em>说明</em>。</p>"),
            "{html}"
        );
        assert!(
            html.contains("<ul>\n<li>甲</li>\n<li>乙</li>\n</ul>"),
            "{html}"
        );
        assert!(
            html.contains("<ol>\n<li>一</li>\n<li>二</li>\n</ol>"),
            "{html}"
        );
        assert!(
            html.contains(
                r#"<a href="https://example.edu/x" rel="noopener noreferrer nofollow">官网</a>"#
            ),
            "{html}"
        );
        assert!(html.contains(r#"href="mailto:gjc@example.edu""#), "{html}");
    }

    #[test]
    fn plain_text_keeps_its_line_breaks() {
        assert_eq!(
            to_safe_html("项目简介：甲\n费用说明：乙"),
            "<p>项目简介：甲<br>\n费用说明：乙</p>\n"
        );
        assert_eq!(to_safe_html(""), "");
    }

    #[test]
    fn scripts_event_handlers_and_raw_html_are_neutralised() {
        let html = to_safe_html(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n\
             文字<b onclick=\"alert(3)\">粗</b><span style=\"color:red\">红</span>",
        );
        // Raw HTML is text now: no tag of it survives, only its escaped spelling.
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(!html.contains("<span"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn only_http_https_and_mailto_links_keep_their_address() {
        for bad in [
            "[点我](javascript:alert(1))",
            "[点我](JaVaScRiPt:alert(1))",
            "[点我](data:text/html;base64,PHNjcmlwdD4=)",
            "[点我](/staff/users)",
            "[点我](vbscript:msgbox)",
        ] {
            let html = to_safe_html(bad);
            assert!(!html.contains("href"), "{bad}: {html}");
        }
        let html = to_safe_html("![图](https://example.edu/a.png)");
        assert!(!html.contains("<img"), "{html}");
    }

    /// Every element and attribute of `html` keeps to the allow-list.
    fn assert_allowed(source: &str, html: &str) {
        let doc = scraper::Html::parse_fragment(html);
        for node in doc.root_element().descendants() {
            let Some(el) = node.value().as_element() else {
                continue;
            };
            let name = el.name();
            if name == "html" {
                continue;
            }
            assert!(
                super::TAGS.contains(&name),
                "{source:?} gave <{name}>: {html}"
            );
            for (attr, value) in el.attrs() {
                let ok = match (name, attr) {
                    ("a", "rel") => value == "noopener noreferrer nofollow",
                    ("a", "href") => {
                        let lower = value.to_ascii_lowercase();
                        super::SCHEMES
                            .iter()
                            .any(|s| lower.starts_with(&format!("{s}:")))
                    }
                    _ => false,
                };
                assert!(ok, "{source:?} gave {name} {attr}={value:?}: {html}");
            }
        }
    }

    #[test]
    fn hostile_sources_never_leave_a_tag_or_attribute_outside_the_allow_list() {
        for source in [
            "<script>xq7()</script>",
            "<SCRIPT SRC=//evil.example/xq7.js></SCRIPT>",
            "\"><script>xq7()</script>",
            "<img src=x onerror=xq7()>",
            "<svg onload=xq7()>",
            "<iframe src=\"javascript:xq7()\"></iframe>",
            "<a href=\"javascript:xq7()\">x</a>",
            "[x](javascript:xq7())",
            "[x](&#106;avascript:xq7())",
            "[x](java\tscript:xq7())",
            "[x]( javascript:xq7())",
            "<javascript:xq7()>",
            "[x](https://ok.example \"t\" onclick=xq7())",
            "**<b onmouseover=xq7()>x</b>**",
            "- <style>*{color:red}</style>\n- <form action=/x><input></form>",
            "<details open ontoggle=xq7()>",
            "<!-- <script>xq7()</script> -->",
            "`<script>xq7()</script>`",
            "    <script>xq7()</script>",
            "[x]: javascript:xq7()\n\n[y][x]",
        ] {
            let html = to_safe_html(source);
            assert_allowed(source, &html);
            // Raw HTML comes back as text (quotes and all); never as a tag.
            assert!(
                !html.to_ascii_lowercase().contains("<a href=\"javascript"),
                "{html}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_source_keeps_to_the_allow_list(source in "[-<>/=\"' a-z*_\\[\\]():#!\n&;]{0,80}") {
            let html = to_safe_html(&source);
            assert_allowed(&source, &html);
        }
    }

    #[test]
    fn headings_quotes_and_code_keep_only_their_text() {
        let html = to_safe_html("# 标题\n\n> 引用\n\n`代码`\n\n---");
        for tag in ["<h1", "<blockquote", "<code", "<hr", "<pre"] {
            assert!(!html.contains(tag), "{tag}: {html}");
        }
        assert!(html.contains("标题") && html.contains("引用") && html.contains("代码"));
    }
}
