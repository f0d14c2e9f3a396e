//! Where photos and outputs live for workers: an `object_store`. A local folder is built in
//! (what tests use, and a shared mount gives many machines one store); S3 and S3-compatible
//! stores come with the `s3` feature, Google Cloud Storage with `gcs`, Azure Blob Storage with
//! `azure`. Any other scheme, or one this build lacks, is refused with the reason.

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
    /// Opens `url`: `file:///abs/dir` or a plain folder path (created if missing), or, in a build
    /// with the matching feature, `s3://bucket`, `gs://bucket` or `az://container`, each with an
    /// optional `/prefix`.
    pub fn open(url: &str) -> Result<Store, JobError> {
        let dir = match url.split_once("://") {
            Some(("file", path)) => path.to_string(),
            Some((scheme @ ("s3" | "gs" | "az"), rest)) => return open_cloud(url, scheme, rest),
            Some((scheme, _)) => {
                return Err(JobError::StoreUrl {
                    url: url.into(),
                    reason: format!(
                        "{scheme}:// stores are not supported; use a folder, file:///folder, s3://bucket, \
                         gs://bucket or az://container"
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

/// A bucket (an Azure container) of a cloud store, `rest` being `bucket` or `bucket/prefix`,
/// configured the way the cloud's own tools are (below). Requests that fail for a passing reason
/// (a dropped connection, a 5xx, throttling) are retried by the client with backoff, up to
/// object_store's defaults (10 tries within 3 minutes).
fn open_cloud(url: &str, scheme: &str, rest: &str) -> Result<Store, JobError> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        let reason = format!("no bucket named ({scheme}://bucket/prefix)");
        return Err(JobError::StoreUrl { url: url.into(), reason });
    }
    let store = bucket_store(url, scheme, bucket)?;
    let prefix = prefix.trim_matches('/');
    let inner: Arc<dyn ObjectStore> =
        if prefix.is_empty() { store } else { Arc::new(object_store::prefix::PrefixStore::new(store, prefix)) };
    Ok(Store { inner })
}

/// The client for one bucket:
/// - `s3`: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, and `AWS_ENDPOINT` (with
///   `AWS_ALLOW_HTTP=true` for a plain-HTTP one) for an S3-compatible server;
/// - `gs`: `GOOGLE_SERVICE_ACCOUNT` (a key file's path) or `GOOGLE_SERVICE_ACCOUNT_KEY` (its
///   JSON), else the machine's application default credentials;
/// - `az`: `AZURE_STORAGE_ACCOUNT_NAME` with `AZURE_STORAGE_ACCOUNT_KEY` (or a SAS token, or a
///   service principal's `AZURE_CLIENT_ID`...), and `AZURE_STORAGE_USE_EMULATOR=true` for Azurite.
fn bucket_store(url: &str, scheme: &str, bucket: &str) -> Result<Arc<dyn ObjectStore>, JobError> {
    match scheme {
        #[cfg(feature = "s3")]
        "s3" => Ok(Arc::new(object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket).build()?)),
        #[cfg(feature = "gcs")]
        "gs" => {
            Ok(Arc::new(object_store::gcp::GoogleCloudStorageBuilder::from_env().with_bucket_name(bucket).build()?))
        }
        #[cfg(feature = "azure")]
        "az" => {
            let azure = object_store::azure::MicrosoftAzureBuilder::from_env().with_container_name(bucket);
            Ok(Arc::new(azure.build()?))
        }
        _ => {
            let _ = bucket;
            let feature = match scheme {
                "gs" => "gcs",
                "az" => "azure",
                other => other,
            };
            Err(JobError::StoreUrl {
                url: url.into(),
                reason: format!("this build has no {scheme}:// support; build headshot with `--features {feature}`"),
            })
        }
    }
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
        assert!(refusal("ftp://host/dir").contains("ftp:// stores are not supported"));
        for (url, feature) in [("s3://bucket", "s3"), ("gs://bucket", "gcs"), ("az://container", "azure")] {
            let scheme = &url[..2];
            assert!(refusal(&format!("{scheme}://")).contains("no bucket named"), "{url}");
            let built = match feature {
                "s3" => cfg!(feature = "s3"),
                "gcs" => cfg!(feature = "gcs"),
                _ => cfg!(feature = "azure"),
            };
            if !built {
                assert!(refusal(url).contains(&format!("--features {feature}")), "{url}");
            }
        }
    }
}
