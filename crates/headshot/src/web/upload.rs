//! Reading an upload: photos streamed to a staging folder with their sizes counted as they
//! arrive, each recognised by its first bytes (never by the name the browser sent), and the
//! options sent beside them. Any failure removes the staging folder: a refused upload leaves
//! nothing behind.

use std::collections::HashSet;
use std::path::Path;

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use tokio::io::AsyncWriteExt;

use super::ApiError;
use super::store::{RenderOptions, Upload};
use crate::studio::safe_stem;

/// What the page or a client may send.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub max_photos: usize,
    pub max_photo_bytes: u64,
}

/// A photo's format, recognised by its signature (the same test the decoder makes).
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    headshot_core::photo::sniff_extension(head)
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::UploadTooLarge
    } else {
        ApiError::BadUpload(e.body_text())
    }
}

/// Reads every part into `staging`: photos (any part with a file name) and option fields
/// (`background`, `format`, `uses`, `team`, `smaller_if_needed`). On error the caller removes `staging`.
pub async fn read(
    mut form: Multipart,
    staging: &Path,
    limits: UploadLimits,
) -> Result<(Vec<Upload>, RenderOptions), ApiError> {
    tokio::fs::create_dir_all(staging).await.map_err(ApiError::io)?;
    let mut photos: Vec<Upload> = Vec::new();
    let mut taken = HashSet::new();
    let mut options = RenderOptions::default();
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        let Some(original) = field.file_name().map(str::to_string) else {
            let name = field.name().unwrap_or_default().to_string();
            let value = field.text().await.map_err(multipart_error)?;
            set_option(&mut options, &name, value.trim())?;
            continue;
        };
        if photos.len() == limits.max_photos {
            return Err(ApiError::TooManyPhotos { max: limits.max_photos });
        }
        // The first chunk decides the format; the rest is streamed to disk behind it.
        let mut head: Vec<u8> = Vec::new();
        while head.len() < 32 {
            match field.chunk().await.map_err(multipart_error)? {
                Some(c) => head.extend_from_slice(&c),
                None => break,
            }
        }
        let ext = sniff(&head).ok_or_else(|| ApiError::NotAPhoto { file: original.clone() })?;
        let stem = safe_stem(Path::new(&original));
        let mut name = format!("{stem}.{ext}");
        let mut n = 2;
        while !taken.insert(name.to_ascii_lowercase()) {
            name = format!("{stem}-{n}.{ext}");
            n += 1;
        }
        let mut file = tokio::fs::File::create(staging.join(&name)).await.map_err(ApiError::io)?;
        let mut bytes = head.len() as u64;
        let too_big = || ApiError::PhotoTooLarge { file: original.clone(), max: limits.max_photo_bytes };
        if bytes > limits.max_photo_bytes {
            return Err(too_big());
        }
        file.write_all(&head).await.map_err(ApiError::io)?;
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            bytes += chunk.len() as u64;
            if bytes > limits.max_photo_bytes {
                return Err(too_big());
            }
            file.write_all(&chunk).await.map_err(ApiError::io)?;
        }
        file.sync_all().await.map_err(ApiError::io)?;
        photos.push(Upload { name, original, bytes });
    }
    if photos.is_empty() {
        return Err(ApiError::NoPhotos);
    }
    Ok((photos, options))
}

/// One option field of the upload form.
fn set_option(o: &mut RenderOptions, name: &str, value: &str) -> Result<(), ApiError> {
    let some = |v: &str| (!v.is_empty()).then(|| v.to_string());
    match name {
        "background" => o.background = some(value),
        "format" => o.format = some(value).filter(|f| f != "auto"),
        "uses" => o.uses = value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
        "team" => o.team = matches!(value, "true" | "on" | "1" | "yes"),
        "smaller_if_needed" => o.smaller_if_needed = matches!(value, "true" | "on" | "1" | "yes"),
        "sheet" => o.sheet = some(value),
        other => return Err(ApiError::BadOption(format!("unknown field {other:?}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_recognised_by_their_first_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("jpg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("png"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Some("tif"));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"), Some("heic"));
        assert_eq!(sniff(b"\0\0\0\x18ftypavif\0\0\0\0avifmif1"), Some("avif"));
        // An MP4 video is not a photo.
        assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0isomiso2"), None);
        assert_eq!(sniff(b"<svg xmlns="), None);
        assert_eq!(sniff(b""), None);
    }
}
