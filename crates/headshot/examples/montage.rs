//! Lays images side by side into one PNG, each scaled to a common height, for looking at outputs
//! by hand: `cargo run --release --example montage -- OUT.png HEIGHT IMAGE...`.

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().context("usage: montage OUT.png HEIGHT IMAGE...")?;
    let height: u32 = args.next().context("HEIGHT")?.parse()?;
    let mut tiles = Vec::new();
    for p in args {
        let img = image::open(&p).with_context(|| p.clone())?.to_rgb8();
        let w = (img.width() as f32 * height as f32 / img.height() as f32).round().max(1.0) as u32;
        tiles.push(headshot::core::resize::resize_rgb(&img, w, height));
    }
    let total: u32 = tiles.iter().map(|t| t.width() + 8).sum();
    let mut sheet = image::RgbImage::from_pixel(total.max(1), height, image::Rgb([255, 0, 255]));
    let mut x = 0i64;
    for t in &tiles {
        image::imageops::replace(&mut sheet, t, x, 0);
        x += i64::from(t.width()) + 8;
    }
    sheet.save(&out)?;
    Ok(())
}
