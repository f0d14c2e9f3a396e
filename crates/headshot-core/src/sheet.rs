//! Print sheets: as many copies of a document photo as fit on a photo-lab or office paper size,
//! a gap between them, thin crop marks where to cut, and a caption line, at 300 dpi. The copies
//! are the document file's own pixels (its size is its print size at 300 dpi), so what is cut
//! out of the print is the photo that was checked.

use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

/// The sheet's resolution, pixels per inch: what photo labs and office printers print at.
pub const SHEET_DPI: u32 = 300;
/// The margin kept clear at every edge (printers do not print to the edge), millimetres.
const MARGIN_MM: f32 = 3.0;
/// Length of a crop mark, millimetres, and its width in pixels (a hairline at 300 dpi).
const MARK_MM: f32 = 2.0;
const MARK_PX: u32 = 2;
/// The caption's glyphs: 5 x 7 cells drawn this many pixels per cell (about 1.8 mm tall).
const CAPTION_SCALE: u32 = 3;

/// Paper sizes a sheet is laid out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Paper {
    /// 4 x 6 inches, the commonest photo-lab print.
    #[default]
    #[serde(rename = "4x6")]
    FourBySix,
    /// 10 x 15 cm, the metric photo print.
    #[serde(rename = "10x15")]
    TenByFifteen,
    /// 5 x 7 inches.
    #[serde(rename = "5x7")]
    FiveBySeven,
    A4,
    Letter,
}

impl Paper {
    /// Width and height in millimetres (portrait).
    pub fn mm(self) -> [f32; 2] {
        match self {
            Paper::FourBySix => [101.6, 152.4],
            Paper::TenByFifteen => [100.0, 150.0],
            Paper::FiveBySeven => [127.0, 177.8],
            Paper::A4 => [210.0, 297.0],
            Paper::Letter => [215.9, 279.4],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Paper::FourBySix => "4x6",
            Paper::TenByFifteen => "10x15",
            Paper::FiveBySeven => "5x7",
            Paper::A4 => "a4",
            Paper::Letter => "letter",
        }
    }
}

impl std::str::FromStr for Paper {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "4x6" | "4x6in" => Ok(Paper::FourBySix),
            "10x15" | "10x15cm" => Ok(Paper::TenByFifteen),
            "5x7" | "5x7in" => Ok(Paper::FiveBySeven),
            "a4" => Ok(Paper::A4),
            "letter" => Ok(Paper::Letter),
            other => Err(format!("unknown paper {other:?}: use 4x6, 10x15, 5x7, a4 or letter")),
        }
    }
}

/// How a sheet is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SheetOptions {
    pub paper: Paper,
    /// Space between copies, millimetres.
    pub gap_mm: f32,
}

impl Default for SheetOptions {
    fn default() -> Self {
        SheetOptions { paper: Paper::FourBySix, gap_mm: 2.0 }
    }
}

/// A laid-out sheet and where each copy's top-left corner is, pixels.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub image: RgbImage,
    pub copies: Vec<(u32, u32)>,
}

fn px(mm: f32) -> u32 {
    (mm / 25.4 * SHEET_DPI as f32).round().max(0.0) as u32
}

/// Lays out as many copies of `photo` (its pixels at `SHEET_DPI`) as fit on the paper, in the
/// paper's orientation that holds more, with crop marks and `caption` under them. `None` when
/// not one copy fits.
pub fn lay_out(photo: &RgbImage, opts: SheetOptions, caption: &str) -> Option<Sheet> {
    let [pw, ph] = opts.paper.mm();
    let (cw, ch) = photo.dimensions();
    let gap = px(opts.gap_mm.clamp(0.0, 50.0));
    let margin = px(MARGIN_MM);
    let mark = px(MARK_MM);
    // Room for the crop marks outside the grid and the caption under it.
    let caption_h = 7 * CAPTION_SCALE + 2 * CAPTION_SCALE;
    let fit = |w: u32, h: u32| {
        let free_w = w.saturating_sub(2 * (margin + mark));
        let free_h = h.saturating_sub(2 * (margin + mark) + caption_h);
        let n = |free: u32, c: u32| if free < c { 0 } else { (free - c) / (c + gap) + 1 };
        (n(free_w, cw), n(free_h, ch))
    };
    let portrait = (px(pw), px(ph));
    let landscape = (px(ph), px(pw));
    let (a, b) = (fit(portrait.0, portrait.1), fit(landscape.0, landscape.1));
    let ((w, h), (cols, rows)) = if b.0 * b.1 > a.0 * a.1 { (landscape, b) } else { (portrait, a) };
    if cols == 0 || rows == 0 {
        return None;
    }
    let mut image = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let grid_w = cols * cw + (cols - 1) * gap;
    let grid_h = rows * ch + (rows - 1) * gap;
    let x0 = (w - grid_w) / 2;
    let y0 = (h.saturating_sub(caption_h) - grid_h) / 2;
    let mut copies = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let (x, y) = (x0 + c * (cw + gap), y0 + r * (ch + gap));
            image::imageops::replace(&mut image, photo, i64::from(x), i64::from(y));
            copies.push((x, y));
        }
    }
    // Crop marks: outside the grid, in line with every cut.
    let ink = Rgb([40, 40, 40]);
    let mut cuts_x: Vec<u32> = (0..cols).flat_map(|c| [x0 + c * (cw + gap), x0 + c * (cw + gap) + cw]).collect();
    let mut cuts_y: Vec<u32> = (0..rows).flat_map(|r| [y0 + r * (ch + gap), y0 + r * (ch + gap) + ch]).collect();
    cuts_x.dedup();
    cuts_y.dedup();
    let space = mark / 3;
    for &x in &cuts_x {
        let x = x.saturating_sub(MARK_PX / 2);
        fill(&mut image, x, y0.saturating_sub(space + mark), MARK_PX, mark, ink);
        fill(&mut image, x, y0 + grid_h + space, MARK_PX, mark, ink);
    }
    for &y in &cuts_y {
        let y = y.saturating_sub(MARK_PX / 2);
        fill(&mut image, x0.saturating_sub(space + mark), y, mark, MARK_PX, ink);
        fill(&mut image, x0 + grid_w + space, y, mark, MARK_PX, ink);
    }
    let text_y = (y0 + grid_h + space + mark + CAPTION_SCALE).min(h.saturating_sub(7 * CAPTION_SCALE + 1));
    draw_text(&mut image, x0, text_y, caption, ink);
    Some(Sheet { image, copies })
}

fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, c: Rgb<u8>) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, c);
        }
    }
}

/// Draws `text` (upper-cased; letters, digits and a little punctuation) in the built-in 5 x 7
/// font, clipped to the image.
pub fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str, c: Rgb<u8>) {
    let s = CAPTION_SCALE;
    let mut at = x;
    for ch in text.chars() {
        let rows = glyph(ch.to_ascii_uppercase());
        for (ry, bits) in rows.iter().enumerate() {
            for rx in 0..5u32 {
                if bits & (0b10000 >> rx) != 0 {
                    fill(img, at + rx * s, y + ry as u32 * s, s, s, c);
                }
            }
        }
        at += 6 * s;
        if at >= img.width() {
            break;
        }
    }
}

/// Rows of a 5 x 7 glyph, the high bit on the left. Unknown characters are blank.
fn glyph(c: char) -> [u8; 7] {
    match c {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '/' => [0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        _ => [0; 7],
    }
}

/// Today's date as `YYYY-MM-DD` (UTC), for captions.
pub fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    civil_date((secs / 86_400) as i64)
}

/// Days since 1970-01-01 as a proleptic Gregorian `YYYY-MM-DD` (Howard Hinnant's algorithm).
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_the_calendar_s() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_723), "2024-01-01");
        assert_eq!(civil_date(20_419), "2025-11-27");
        assert_eq!(civil_date(11_016), "2000-02-29");
    }

    #[test]
    fn a_uk_photo_fits_six_times_on_4x6_and_copies_are_its_pixels() {
        let photo = RgbImage::from_fn(413, 531, |x, y| Rgb([(x % 251) as u8, (y % 241) as u8, 90]));
        let s = lay_out(&photo, SheetOptions::default(), "passport-uk 35 x 45 mm").expect("fits");
        // 2 x 3 copies of 35 x 45 mm on a portrait 4 x 6 inch sheet, as photo labs print them.
        assert_eq!(s.image.dimensions(), (1200, 1800));
        assert_eq!(s.copies.len(), 6, "{:?}", s.copies);
        for &(x, y) in &s.copies {
            let copy = image::imageops::crop_imm(&s.image, x, y, 413, 531).to_image();
            assert!(copy == photo, "copy at ({x}, {y}) differs");
        }
        // Copies keep the gap between them.
        let (a, b) = (s.copies[0], s.copies[1]);
        assert_eq!(b.0 - a.0, 413 + px(2.0));
    }

    #[test]
    fn too_large_a_photo_fits_nowhere() {
        let photo = RgbImage::new(2000, 2000);
        assert!(lay_out(&photo, SheetOptions::default(), "x").is_none());
    }
}
