//! cohort's web faces (REST, SCIM, the console), the sign-in room they share, and the room that
//! composes them (`app`); the use cases they call are `cohort-service`'s.

pub mod app;
mod console;
mod cursor;
mod html;
mod local_time;
pub mod problem;
pub mod rest;
pub mod scim;
pub mod shared;
mod sign_in;
mod text;
pub mod view;
