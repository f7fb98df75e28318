//! CSRF protection: a signed double-submit token plus an Origin check.
//!
//! Every visitor gets a `csrf` cookie holding `nonce.signature` (HMAC-SHA256 with the server's
//! secret); every state-changing request must echo the same token as the `_csrf` form field,
//! the `X-CSRF-Token` header or (multipart forms only) the `_csrf` query parameter, and must not
//! come from another origin. The token is replaced at sign-in and sign-out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

pub const COOKIE: &str = "outbound_csrf";
pub const HEADER: &str = "x-csrf-token";
pub const FIELD: &str = "_csrf";

/// Signs and checks CSRF tokens.
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

impl CsrfKey {
    pub fn new(secret: [u8; 32]) -> CsrfKey {
        CsrfKey(secret)
    }

    pub fn random() -> CsrfKey {
        let mut k = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        CsrfKey(k)
    }

    fn sign(&self, nonce: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(nonce.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }

    /// A fresh token.
    pub fn issue(&self) -> String {
        let mut raw = [0u8; 18];
        rand::thread_rng().fill_bytes(&mut raw);
        let nonce = B64.encode(raw);
        let sig = self.sign(&nonce);
        format!("{nonce}.{sig}")
    }

    /// True when the token was signed by this key.
    pub fn is_genuine(&self, token: &str) -> bool {
        let Some((nonce, sig)) = token.split_once('.') else {
            return false;
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(nonce.as_bytes());
        match B64.decode(sig) {
            Ok(sig) => mac.verify_slice(&sig).is_ok(),
            Err(_) => false,
        }
    }

    /// The request's token matches the cookie's, and both are ours.
    pub fn check(&self, cookie: Option<&str>, sent: Option<&str>) -> bool {
        match (cookie, sent) {
            (Some(c), Some(s)) => {
                c.len() == s.len()
                    && constant_time_eq(c.as_bytes(), s.as_bytes())
                    && self.is_genuine(c)
            }
            _ => false,
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_checks_only_against_itself() {
        let key = CsrfKey::random();
        let t = key.issue();
        assert!(key.check(Some(&t), Some(&t)));
        assert!(!key.check(Some(&t), Some(&key.issue())));
        assert!(!key.check(Some(&t), None));
        assert!(!key.check(None, Some(&t)));
    }

    #[test]
    fn a_token_signed_by_another_key_is_refused_even_when_cookie_and_field_agree() {
        let forged = CsrfKey::random().issue();
        assert!(!CsrfKey::random().check(Some(&forged), Some(&forged)));
    }
}
