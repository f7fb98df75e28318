//! The integration suite: service, HTTP and browser tests against the real application on real
//! databases. Every database test runs twice, on SQLite and on PostgreSQL (see `support`).

mod support;

mod admin;
mod admission;
mod after_admission;
mod api;
mod application_view;
mod attacks;
mod bench_data;
mod browser;
mod crawl;
mod durability;
mod http;
mod journey;
mod manage;
mod office;
mod pages;
mod pdf;
mod permissions;
mod phone;
mod reports;
mod review;
mod staff_browser;
mod wizard;
