//! Outbound: the student outbound-exchange system of a university international office.
//!
//! Layers, from the inside out (see README "Architecture"):
//! - [`domain`]: pure rules and parsed value types — no HTTP, no SQL;
//! - [`db`]: the one data-access path for SQLite and PostgreSQL, with migrations;
//! - [`services`]: the only writers, one transaction and one history/audit row per change;
//! - [`web`]: routers, extractors, forms and pages (HTML and the JSON API);
//! - [`auth`], [`crypto`], [`storage`], [`i18n`]: sessions and passwords, personal-data
//!   encryption, attachment bytes, the translation catalogue.

pub mod auth;
pub mod backup;
pub mod charts;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod export;
pub mod generate;
pub mod i18n;
pub mod pdf;
pub mod services;
pub mod storage;
pub mod web;

pub use config::Config;
