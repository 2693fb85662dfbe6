//! Test support: a fresh, empty database on the backend named by `COHORT_TEST_BACKEND`
//! (`sqlite`, the default, or `postgres`, which needs `COHORT_TEST_PG_URL` and fails
//! without it: a missing PostgreSQL is a failure, never a skip).

use crate::StoreError;
use std::path::PathBuf;

/// A database made for one test; a SQLite folder is removed on drop.
pub struct TestDatabase {
    /// The URL to connect to.
    pub url: String,
    dir: Option<PathBuf>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The backend tests run on.
pub fn backend() -> String {
    std::env::var("COHORT_TEST_BACKEND").unwrap_or_else(|_| "sqlite".to_owned())
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("cohort_test_{}_{}_{}", std::process::id(), nanos % 1_000_000_000, NEXT.fetch_add(1, Ordering::SeqCst))
}

/// Makes a fresh, empty database on the test backend.
pub async fn fresh_database() -> Result<TestDatabase, StoreError> {
    fresh_database_on(&backend()).await
}

/// Makes a fresh, empty database on `backend` (`sqlite` or `postgres`).
pub async fn fresh_database_on(backend: &str) -> Result<TestDatabase, StoreError> {
    let name = unique_name();
    match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join(&name);
            Ok(TestDatabase { url: format!("sqlite://{}/cohort.db", dir.display()), dir: Some(dir) })
        }
        "postgres" => {
            let admin = std::env::var("COHORT_TEST_PG_URL").map_err(|_| {
                StoreError::Unavailable("COHORT_TEST_BACKEND=postgres needs COHORT_TEST_PG_URL".to_owned())
            })?;
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await?;
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_owned())
                .ok_or_else(|| StoreError::Unavailable("COHORT_TEST_PG_URL has no database path".to_owned()))?;
            Ok(TestDatabase { url: format!("{base}/{name}"), dir: None })
        }
        other => Err(StoreError::Unavailable(format!("unknown COHORT_TEST_BACKEND `{other}`: use sqlite or postgres"))),
    }
}
