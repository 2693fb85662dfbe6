//! cohort's web faces (REST, SCIM, the console) and the room that composes them (`app`); the
//! use cases they call are `cohort-service`'s.

pub mod app;
mod console;
mod cursor;
pub mod problem;
pub mod rest;
pub mod scim;
pub mod shared;
mod text;
pub mod view;
