//! Cuts a region out of an image and enlarges it, for looking at edges by hand:
//! `cargo run --release --example crop -- IN OUT.png X Y W H SCALE`.

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(a.len() == 7, "usage: crop IN OUT.png X Y W H SCALE");
    let img = image::open(&a[0]).with_context(|| a[0].clone())?.to_rgb8();
    let n: Vec<u32> = a[2..].iter().map(|v| v.parse()).collect::<Result<_, _>>()?;
    let part = image::imageops::crop_imm(&img, n[0], n[1], n[2], n[3]).to_image();
    let big = image::imageops::resize(&part, n[2] * n[4], n[3] * n[4], image::imageops::FilterType::Nearest);
    big.save(&a[1])?;
    Ok(())
}
