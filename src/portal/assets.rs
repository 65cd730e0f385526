//! The portal's static files, embedded in the binary. Each is served under
//! a name carrying a hash of its bytes (`/static/portal-1a2b3c4d5e6f7a8b.css`),
//! so it may be cached for a year: a new build with other bytes has
//! another name. An `ETag` (the same hash) answers revalidations with 304.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use super::error::PortalError;

/// One embedded file.
pub struct Asset {
    /// The name it is served under, with its hash.
    pub path: String,
    etag: String,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// The stylesheet and the scripts.
pub struct Assets {
    pub stylesheet: Asset,
    /// Reloads the alert inbox while it is open and visible.
    pub refresh: Asset,
    /// Signs canonical messages with a key file the person picks.
    pub sign: Asset,
    /// Checks ledger entries' inclusion proofs in the browser.
    pub ledger: Asset,
}

impl Asset {
    fn new(stem: &str, extension: &str, content_type: &'static str, bytes: &'static [u8]) -> Self {
        let hash = hex::encode(&Sha256::digest(bytes)[..8]);
        Self {
            path: format!("/static/{stem}-{hash}.{extension}"),
            etag: format!("\"{hash}\""),
            content_type,
            bytes,
        }
    }
}

pub fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| Assets {
        stylesheet: Asset::new(
            "portal",
            "css",
            "text/css; charset=utf-8",
            include_bytes!("../../static/portal.css"),
        ),
        refresh: Asset::new(
            "refresh",
            "js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../static/refresh.js"),
        ),
        sign: Asset::new(
            "sign",
            "js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../static/sign.js"),
        ),
        ledger: Asset::new(
            "ledger",
            "js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../static/ledger.js"),
        ),
    })
}

/// `GET /static/{name}`.
pub async fn serve(request: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, PortalError> {
    let assets = assets();
    let path = format!("/static/{}", name.into_inner());
    let asset = [&assets.stylesheet, &assets.refresh, &assets.sign, &assets.ledger]
        .into_iter()
        .find(|asset| asset.path == path)
        .ok_or(PortalError::NotFound)?;
    let not_modified = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == asset.etag || tag.trim() == "*"));
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, asset.etag.as_str()));
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .body(asset.bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_hash_of_the_bytes() {
        let assets = assets();
        assert!(assets.stylesheet.path.starts_with("/static/portal-"));
        assert!(assets.stylesheet.path.ends_with(".css"));
        assert_eq!(assets.stylesheet.path.len(), "/static/portal-.css".len() + 16);
        assert!(assets.refresh.path.ends_with(".js"));
        assert!(assets.ledger.path.starts_with("/static/ledger-"));
        assert_eq!(
            Asset::new("a", "css", "text/css", b"x").path,
            Asset::new("a", "css", "text/css", b"x").path
        );
        assert_ne!(
            Asset::new("a", "css", "text/css", b"x").path,
            Asset::new("a", "css", "text/css", b"y").path
        );
    }
}
