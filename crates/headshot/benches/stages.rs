//! Each stage of the data path on its own, on a 12 MP and a 24 MP photo made from the bundled
//! public-domain `examples/biden.jpg` (enlarged with a little grain by the bench itself:
//! `headshot::timings::synthetic_large`). One thread, so the figures are per core.
//!
//! `cargo bench -p headshot --bench stages` (add `-- detect` to run only matching benches).

use std::path::Path;
use std::sync::OnceLock;

use divan::Bencher;
use headshot::analysis::{Analysis, Analyzer};
use headshot::core::export;
use headshot::core::matte::guided_filter;
use headshot::core::plan::{self, Canvas, CropPlan};
use headshot::core::render::{self, Background, Corrections, STUDIO_GREY};
use headshot::core::resize::resize_rgb;
use headshot::core::uses::Catalogue;
use headshot::core::{Limits, Photo, background, measure};
use headshot::studio::head_of;
use headshot::vision::{DetectOptions, detect_faces, iris, mesh, segment};

fn main() {
    // One core: the figures are comparable across machines with different core counts.
    let _ = rayon::ThreadPoolBuilder::new().num_threads(1).build_global();
    divan::main();
}

struct Fixture {
    jpeg: Vec<u8>,
    analysis: Analysis,
    catalogue: Catalogue,
}

fn make(mp: f64) -> Fixture {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/biden.jpg");
    let src = image::open(&root).expect("examples/biden.jpg").to_rgb8();
    let big = headshot::timings::synthetic_large(&src, mp, 1);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92).encode_image(&big).expect("encode");
    let analyzer = Analyzer::default();
    let photo = Photo::decode(Path::new("bench.jpg"), &jpeg, &Limits::default()).expect("decode");
    let analysis = analyzer.analyze_photo(photo).expect("analysis");
    assert!(!analysis.scene.faces.is_empty(), "the bench photo has a face");
    Fixture { jpeg, analysis, catalogue: Catalogue::built_in() }
}

fn fixture(mp: u32) -> &'static Fixture {
    static F12: OnceLock<Fixture> = OnceLock::new();
    static F24: OnceLock<Fixture> = OnceLock::new();
    if mp == 12 { F12.get_or_init(|| make(12.0)) } else { F24.get_or_init(|| make(24.0)) }
}

fn plan_for(f: &Fixture, name: &str) -> CropPlan {
    let a = &f.analysis;
    let u = f.catalogue.get(name).expect("a built-in use");
    plan::plan(&head_of(a, &a.scene.faces[0]), u, a.photo.width(), a.photo.height(), Canvas::Extendable, None)
}

fn source(a: &Analysis) -> render::Source<'_> {
    render::Source {
        pixels: &a.photo.pixels,
        alpha: None,
        matte: &a.matte,
        matte_scale: a.photo.analysis_scale,
        face: a.scene.faces[0].bbox,
    }
}

const SIZES: [u32; 2] = [12, 24];

/// Reading the JPEG, orientation, colour, and the analysis copy.
#[divan::bench(args = SIZES, sample_count = 10)]
fn decode(b: Bencher, mp: u32) {
    let f = fixture(mp);
    b.bench(|| Photo::decode(Path::new("bench.jpg"), &f.jpeg, &Limits::default()));
}

/// The analysis copy alone (long side 1600 px).
#[divan::bench(args = SIZES, sample_count = 10)]
fn analysis_copy(b: Bencher, mp: u32) {
    let p = &fixture(mp).analysis.photo;
    let (w, h) = p.analysis.dimensions();
    b.bench(|| resize_rgb(&p.pixels, w, h));
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn detect(b: Bencher, mp: u32) {
    let p = &fixture(mp).analysis.photo;
    b.bench(|| detect_faces(&p.analysis, &DetectOptions::default()));
}

/// Face mesh and iris model on the primary face, and the details read from them.
#[divan::bench(args = SIZES, sample_count = 10)]
fn mesh(b: Bencher, mp: u32) {
    let a = &fixture(mp).analysis;
    let face = &a.scene.faces[0];
    let (pixels, small, s) = (&a.photo.pixels, &a.photo.analysis, a.photo.analysis_scale);
    b.bench(|| {
        let m = mesh::mesh_face(pixels, small, s, face).expect("mesh");
        let eyes = iris::read_eyes(pixels, small, s, &m).expect("iris");
        mesh::face_details(pixels, face, &m, Some(eyes))
    });
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn segment(b: Bencher, mp: u32) {
    let a = &fixture(mp).analysis;
    let s = a.photo.analysis_scale;
    let small = a.scene.faces[0].scaled(1.0 / s);
    let (w, h) = a.photo.analysis.dimensions();
    let region = segment::person_region(w, h, &[&small]);
    b.bench(|| segment::segment_person(&a.photo.analysis, region));
}

/// The matte refined on the photo's edges at the size of a 1200 px portrait output.
#[divan::bench(args = SIZES, sample_count = 10)]
fn refine(b: Bencher, mp: u32) {
    let a = &fixture(mp).analysis;
    let guide = resize_rgb(&a.photo.pixels, 1200, 1200 * a.photo.height() / a.photo.width());
    let coarse = headshot::core::matte::PersonMatte {
        width: guide.width(),
        height: guide.height(),
        alpha: resize_rgb(&a.photo.analysis, guide.width(), guide.height())
            .pixels()
            .map(|p| f32::from(p[0]) / 255.0)
            .collect(),
    };
    b.bench(|| guided_filter(&guide, &coarse, 8, 1e-3));
}

/// Framing, background and light measures on the analysis copy.
#[divan::bench(args = SIZES, sample_count = 10)]
fn measure(b: Bencher, mp: u32) {
    let a = &fixture(mp).analysis;
    let s = a.photo.analysis_scale;
    let small = a.scene.faces[0].scaled(1.0 / s);
    let (w, h) = a.photo.analysis.dimensions();
    b.bench(|| {
        (
            measure::framing(w, h, &small, &a.matte),
            background::measure(&a.photo.analysis, &a.matte, &[small.bbox], 0),
            measure::lighting(&a.photo.analysis, &small),
        )
    });
}

/// Crop plans for every use.
#[divan::bench(args = SIZES, sample_count = 10)]
fn plan_every_use(b: Bencher, mp: u32) {
    let f = fixture(mp);
    let a = &f.analysis;
    let head = head_of(a, &a.scene.faces[0]);
    b.bench(|| {
        f.catalogue
            .uses
            .iter()
            .map(|u| plan::plan(&head, u, a.photo.width(), a.photo.height(), Canvas::Extendable, None))
            .collect::<Vec<_>>()
    });
}

/// The LinkedIn output over the studio backdrop: resample, matte, foreground, backdrop.
#[divan::bench(args = SIZES, sample_count = 10)]
fn render_linkedin(b: Bencher, mp: u32) {
    let f = fixture(mp);
    let p = plan_for(f, "linkedin");
    let src = source(&f.analysis);
    b.bench(|| render::render(&src, &p, Background::Studio(STUDIO_GREY), Corrections::default()));
}

/// The largest output of the catalogue (editorial, 2400x3000) over the studio backdrop: the
/// same steps at 7.2 MP, where the per-pixel loops (resampling, the matte, the foreground's
/// colours at the edge, the backdrop) are most of a full studio run's pixel work.
#[divan::bench(args = SIZES, sample_count = 10)]
fn render_editorial(b: Bencher, mp: u32) {
    let f = fixture(mp);
    let p = plan_for(f, "editorial");
    let src = source(&f.analysis);
    b.bench(|| render::render(&src, &p, Background::Studio(STUDIO_GREY), Corrections::default()));
}

/// The LinkedIn output, JPEG under its byte limit.
#[divan::bench(args = SIZES, sample_count = 10)]
fn encode_linkedin(b: Bencher, mp: u32) {
    let f = fixture(mp);
    let img =
        render::render(&source(&f.analysis), &plan_for(f, "linkedin"), Background::Keep, Corrections::default()).image;
    let u = f.catalogue.get("linkedin").expect("linkedin");
    b.bench(|| export::encode(&img, u.format, u.max_bytes));
}
