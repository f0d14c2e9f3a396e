//! The page, its style and script, the icon and the OpenAPI description, compiled into the
//! binary: the app works with no network and fetches nothing from anywhere else.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::ApiError;

const PAGE: &str = include_str!("assets/index.html");
const STYLE: &str = include_str!("assets/app.css");
const SCRIPT: &str = include_str!("assets/app.js");
const ICON: &str = include_str!("assets/icon.svg");
/// The API's description (OpenAPI 3.1); kept beside the handlers it describes.
pub const OPENAPI: &str = include_str!("assets/openapi.json");

fn with_type(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub async fn page() -> Response {
    with_type(PAGE, "text/html; charset=utf-8")
}

pub async fn openapi() -> Response {
    with_type(OPENAPI, "application/json")
}

pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    Ok(match name.as_str() {
        "app.css" => with_type(STYLE, "text/css; charset=utf-8"),
        "app.js" => with_type(SCRIPT, "text/javascript; charset=utf-8"),
        "icon.svg" => with_type(ICON, "image/svg+xml"),
        _ => return Err(ApiError::NotFound),
    })
}
