//! Where photos and outputs live for workers: an `object_store`. A local folder is built in
//! (what tests use, and a shared mount gives many machines one store); S3 and S3-compatible
//! stores come with the `s3` feature. Any other scheme is refused with the reason.

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
    /// Opens `url`: `file:///abs/dir` or a plain folder path (created if missing), or, with the
    /// `s3` feature, `s3://bucket` or `s3://bucket/prefix`.
    pub fn open(url: &str) -> Result<Store, JobError> {
        let dir = match url.split_once("://") {
            Some(("file", path)) => path.to_string(),
            Some(("s3", rest)) => return open_s3(url, rest),
            Some((scheme, _)) => {
                return Err(JobError::StoreUrl {
                    url: url.into(),
                    reason: format!(
                        "{scheme}:// stores are not supported; use a folder, file:///folder or s3://bucket"
                    ),
                });
            }
            None => url.to_string(),
        };
        std::fs::create_dir_all(&dir).map_err(|source| JobError::Io { path: dir.clone(), source })?;
        let fs = LocalFileSystem::new_with_prefix(&dir)?;
        Ok(Store { inner: Arc::new(fs) })
    }

    /// Writes `bytes` at `path`. A reader never sees half an object: the local store writes a
    /// temporary and renames it, and an S3 object exists only once its upload is complete.
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

    /// Removes one object (nothing if it is already gone).
    pub async fn delete(&self, path: &str) -> Result<(), JobError> {
        match self.inner.delete(&ObjectPath::from(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes every object under `prefix`.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), JobError> {
        for name in self.list(prefix).await? {
            self.delete(&name).await?;
        }
        Ok(())
    }
}

/// An S3 bucket (`rest` is `bucket` or `bucket/prefix`), configured the way AWS's own tools are:
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, and `AWS_ENDPOINT` (with
/// `AWS_ALLOW_HTTP=true` for a plain-HTTP one) for an S3-compatible server. Requests that fail
/// for a passing reason (a dropped connection, a 5xx, throttling) are retried by the client
/// with backoff, up to object_store's defaults (10 tries within 3 minutes).
#[cfg(feature = "s3")]
fn open_s3(url: &str, rest: &str) -> Result<Store, JobError> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(JobError::StoreUrl { url: url.into(), reason: "no bucket named (s3://bucket/prefix)".into() });
    }
    let s3 = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket).build()?;
    let prefix = prefix.trim_matches('/');
    let inner: Arc<dyn ObjectStore> =
        if prefix.is_empty() { Arc::new(s3) } else { Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)) };
    Ok(Store { inner })
}

#[cfg(not(feature = "s3"))]
fn open_s3(url: &str, _rest: &str) -> Result<Store, JobError> {
    Err(JobError::StoreUrl {
        url: url.into(),
        reason: "this build has no S3 support; build headshot with `--features s3`".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(url: &str) -> String {
        match Store::open(url) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{url} was opened"),
        }
    }

    #[test]
    fn a_store_url_it_cannot_open_is_refused_with_the_reason() {
        assert!(refusal("gs://bucket").contains("gs:// stores are not supported"));
        assert!(refusal("s3://").contains("s3://"));
        #[cfg(not(feature = "s3"))]
        assert!(refusal("s3://bucket").contains("--features s3"));
        #[cfg(feature = "s3")]
        assert!(refusal("s3://").contains("no bucket"));
    }
}
