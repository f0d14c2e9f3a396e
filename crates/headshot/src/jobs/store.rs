//! Where photos and outputs live for workers: an `object_store`. A local folder is built in
//! (what `serve` uses today, and what tests use); a URL of another scheme is refused with the
//! reason, since the cloud stores (S3, GCS, Azure) are features this build leaves out.

use std::sync::Arc;

use futures_util::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::JobError;

/// An object store, addressed by `/`-separated paths.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
}

impl Store {
    /// Opens `url`: `file:///abs/dir`, or a plain folder path (created if missing).
    pub fn open(url: &str) -> Result<Store, JobError> {
        let dir = match url.split_once("://") {
            Some(("file", path)) => path.to_string(),
            Some((scheme, _)) => {
                return Err(JobError::StoreUrl {
                    url: url.into(),
                    reason: format!("{scheme}:// stores are not built in; use a folder or file:///folder"),
                });
            }
            None => url.to_string(),
        };
        std::fs::create_dir_all(&dir).map_err(|source| JobError::Io { path: dir.clone(), source })?;
        let fs = LocalFileSystem::new_with_prefix(&dir)?;
        Ok(Store { inner: Arc::new(fs) })
    }

    /// Writes `bytes` at `path`. The local store writes a temporary and renames it, so a
    /// reader never sees half an object.
    pub async fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), JobError> {
        self.inner.put(&ObjectPath::from(path), PutPayload::from(bytes)).await?;
        Ok(())
    }

    pub async fn get(&self, path: &str) -> Result<Vec<u8>, JobError> {
        Ok(self.inner.get(&ObjectPath::from(path)).await?.bytes().await?.to_vec())
    }

    pub async fn exists(&self, path: &str) -> Result<bool, JobError> {
        match self.inner.head(&ObjectPath::from(path)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object under `prefix`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, JobError> {
        let items: Vec<_> = self.inner.list(Some(&ObjectPath::from(prefix))).try_collect().await?;
        let mut names: Vec<String> = items.into_iter().map(|m| m.location.to_string()).collect();
        names.sort();
        Ok(names)
    }

    /// Removes every object under `prefix`.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), JobError> {
        for name in self.list(prefix).await? {
            self.inner.delete(&ObjectPath::from(name.as_str())).await?;
        }
        Ok(())
    }
}
