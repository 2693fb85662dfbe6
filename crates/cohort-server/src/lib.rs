//! cohort's use cases, authorization, audit and its REST face.

pub mod error;
pub mod rest;
pub mod runtime;
pub mod scim;
pub mod service;
mod text;
pub mod view;

pub use service::{Config, Services};
