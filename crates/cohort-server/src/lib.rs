//! cohort's use cases, authorization and audit, its faces (REST, SCIM, the console) and the room that
//! composes them (`app`).

pub mod app;
mod console;
mod cursor;
pub mod error;
mod oidc;
pub mod rest;
pub mod runtime;
pub mod scim;
pub mod service;
pub mod shared;
mod text;
pub mod view;
pub mod worker;

pub use service::{Config, Services};
