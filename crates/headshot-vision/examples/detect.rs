//! Prints the faces YuNet finds in each photo: `cargo run --example detect -- PHOTO...`
fn main() {
    let limits = headshot_core::Limits::default();
    for arg in std::env::args().skip(1) {
        let path = std::path::Path::new(&arg);
        match headshot_core::Photo::open(path, &limits) {
            Ok(photo) => {
                let t = std::time::Instant::now();
                let faces = headshot_vision::detect_faces(&photo.analysis, &Default::default());
                let s = photo.analysis_scale;
                match faces {
                    Ok(faces) => {
                        println!("{arg}: {} faces in {:?}", faces.len(), t.elapsed());
                        for f in faces {
                            println!(
                                "  {:?} score {:.3} eyes {:?} {:?}",
                                f.bbox.scaled(s),
                                f.score,
                                f.landmarks.right_eye.scaled(s),
                                f.landmarks.left_eye.scaled(s)
                            );
                        }
                    }
                    Err(e) => println!("{arg}: {e}"),
                }
            }
            Err(e) => println!("{e}"),
        }
    }
}
