//! Paths, photo helpers and an analyzer shared by every test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use headshot::analysis::{Analysis, Analyzer};
use headshot::core::{Limits, Photo};
use image::RgbImage;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A bundled public-domain example photo, or else the photo of that file name in
/// `../shared/photos` (for photos that may be used in tests but not bundled).
pub fn example(name: &str) -> PathBuf {
    let bundled = repo().join("examples").join(name);
    if bundled.exists() || name.is_empty() {
        return bundled;
    }
    let shared = repo().join("../shared/photos");
    std::fs::read_dir(&shared)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(name))
        .find(|p| p.exists())
        .unwrap_or(bundled)
}

/// A photo of `../shared/photos` (test use only, see its SOURCES.md).
pub fn shared(name: &str) -> PathBuf {
    repo().join("../shared/photos").join(name)
}

pub fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(Analyzer::default)
}

pub fn analyze(path: &Path) -> Analysis {
    match analyzer().analyze_path(path) {
        Ok(a) => a,
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

/// Analyses pixels already in memory, as if they were a file named `name`.
pub fn analyze_image(name: &str, img: &RgbImage) -> Analysis {
    let photo = photo_from(name, img);
    match analyzer().analyze_photo(photo) {
        Ok(a) => a,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// Encodes `img` as PNG and decodes it through the one way photos enter the program.
pub fn photo_from(name: &str, img: &RgbImage) -> Photo {
    let mut bytes = Vec::new();
    let enc = image::codecs::png::PngEncoder::new(&mut bytes);
    image::ImageEncoder::write_image(enc, img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .expect("png encode");
    Photo::decode(Path::new(name), &bytes, &Limits::default()).expect("decode")
}

/// The oriented, sRGB pixels of a photo file.
pub fn pixels(path: &Path) -> RgbImage {
    match Photo::open(path, &Limits::default()) {
        Ok(p) => p.pixels,
        Err(e) => panic!("{e}"),
    }
}

/// Mean absolute difference per channel value, 0..255.
pub fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.as_raw().len() as f64
}

/// A fresh, empty directory for one test, in this run's folder (`headshot-tests/PID` in the
/// system's temporary folder).
///
/// A run's folders are kept after it ends, to look into when a test fails, until the next run
/// starts: the first call removes the folders of runs whose process is gone (a run leaves
/// 100 MB or more, and runs add up on a disk shared with the build). Where there is no /proc
/// to tell which processes are alive, nothing is removed: a run going on beside this one
/// would lose its folders.
pub fn scratch(name: &str) -> PathBuf {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    let run = RUN.get_or_init(|| {
        let root = std::env::temp_dir().join("headshot-tests");
        let ended = |pid: u32| pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists();
        if Path::new("/proc/self").exists() {
            for old in std::fs::read_dir(&root).into_iter().flatten().filter_map(|e| e.ok()) {
                if old.file_name().to_string_lossy().parse::<u32>().is_ok_and(ended) {
                    let _ = std::fs::remove_dir_all(old.path());
                }
            }
        }
        root.join(std::process::id().to_string())
    });
    let dir = run.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Gaussian blur with sigma in pixels (the image crate's, a separable true Gaussian).
pub fn blur(img: &RgbImage, sigma: f32) -> RgbImage {
    image::imageops::blur(img, sigma)
}

/// `img` turned by `deg` clockwise about its centre (bilinear; corners filled with edge colour).
pub fn rotated(img: &RgbImage, deg: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (sin, cos) = deg.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        // Inverse turn: where this output pixel came from.
        let sx = (cx + dx * cos + dy * sin - 0.5).clamp(0.0, w as f32 - 1.0);
        let sy = (cy - dx * sin + dy * cos - 0.5).clamp(0.0, h as f32 - 1.0);
        headshot::core::warp::bilinear(img, sx, sy)
    })
}

/// Every file under `dir`, recursively (hidden ones included).
pub fn files_recursively(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    files
}

/// `img` with the eyes of `face` (read by the iris model) painted shut: skin from the cheek over
/// each eye opening, and a dark line of lashes a little below its middle.
pub fn paint_eyes_shut(img: &RgbImage, face: &headshot::core::face::Face) -> RgbImage {
    let e = face.details.as_ref().and_then(|d| d.eyes).expect("eyes");
    let mouth_y = face.landmarks.mouth_mid().y;
    let mut shut = img.clone();
    for eye in [e.right, e.left] {
        let c = eye.viewer_left.midpoint(eye.viewer_right);
        let half_w = 0.6 * eye.viewer_left.distance(eye.viewer_right);
        let half_h = 1.2 * eye.upper_lid.distance(eye.lower_lid).max(eye.iris_radius * 2.0) / 2.0;
        // The cheek, a third of the way down to the mouth.
        let skin = *img.get_pixel(c.x as u32, (c.y + (mouth_y - c.y) / 3.0) as u32);
        for y in (c.y - half_h) as u32..=(c.y + half_h) as u32 {
            for x in (c.x - half_w) as u32..=(c.x + half_w) as u32 {
                let (dx, dy) = ((x as f32 - c.x) / half_w, (y as f32 - c.y) / half_h);
                if dx * dx + dy * dy <= 1.0 {
                    let lash = (y as f32 - (c.y + 0.3 * half_h)).abs() < 1.0 && dx.abs() < 0.85;
                    shut.put_pixel(x, y, if lash { image::Rgb([40, 30, 28]) } else { skin });
                }
            }
        }
    }
    shut
}
