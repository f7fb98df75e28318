//! Encryption at rest of the personal data the spec names (证件号码, 护照号, 健康状况).
//!
//! Values are sealed with AES-256-GCM under one data key and a fresh random nonce; lookups by
//! number go through an HMAC-SHA256 keyed hash, so a copy of the database reveals neither the
//! numbers nor a way to test guesses against them. The key lives in `data_dir/data.key`
//! (generated on first start) unless `OUTBOUND_DATA_KEY` gives it.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the data key must be 32 bytes in base64")]
    BadKey,
    #[error("cannot read or write the data key file {path}: {source}")]
    KeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("a stored value cannot be decrypted with this data key")]
    Undecryptable,
}

/// The personal-data key: seals, opens and hashes.
#[derive(Clone)]
pub struct DataKey {
    cipher: Aes256Gcm,
    hash_key: [u8; 32],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// Builds the key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> DataKey {
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes));
        // A separate key for the keyed hash, derived so the two uses never share a key.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(bytes).expect("HMAC takes any key length");
        mac.update(b"outbound lookup hash v1");
        let hash_key: [u8; 32] = mac.finalize().into_bytes().into();
        DataKey { cipher, hash_key }
    }

    /// Parses a base64 key (as given in `OUTBOUND_DATA_KEY`).
    pub fn from_base64(text: &str) -> Result<DataKey, CryptoError> {
        let bytes = B64.decode(text.trim()).map_err(|_| CryptoError::BadKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(DataKey::from_bytes(&bytes))
    }

    /// A fresh random key (tests).
    pub fn generate() -> DataKey {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        DataKey::from_bytes(&bytes)
    }

    /// Loads `dir/data.key`, creating it (mode 0600) with a random key on first start.
    pub fn load_or_create(dir: &Path) -> Result<DataKey, CryptoError> {
        let path = dir.join("data.key");
        let io_err = |source| CryptoError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => DataKey::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                OsRng.fill_bytes(&mut bytes);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&path).map_err(io_err)?;
                file.write_all(B64.encode(bytes).as_bytes())
                    .map_err(io_err)?;
                file.sync_all().map_err(io_err)?;
                Ok(DataKey::from_bytes(&bytes))
            }
            Err(e) => Err(io_err(e)),
        }
    }

    /// Seals a value; the empty string stays empty so "not given" needs no ciphertext.
    pub fn seal(&self, plain: &str) -> String {
        if plain.is_empty() {
            return String::new();
        }
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", B64.encode(out))
    }

    /// Opens a value sealed by [`DataKey::seal`].
    pub fn open(&self, sealed: &str) -> Result<String, CryptoError> {
        if sealed.is_empty() {
            return Ok(String::new());
        }
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| B64.decode(b).ok())
            .filter(|raw| raw.len() > NONCE_LEN)
            .ok_or(CryptoError::Undecryptable)?;
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Undecryptable)
    }

    /// The keyed hash used to look a number up without storing it in clear.
    pub fn lookup_hash(&self, value: &str) -> String {
        if value.is_empty() {
            return String::new();
        }
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.hash_key).expect("any key length");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_to_the_same_text_and_does_not_contain_it() {
        let key = DataKey::generate();
        let sealed = key.seal("11010519491231002X");
        assert!(!sealed.contains("11010519491231002X"));
        assert_eq!(key.open(&sealed).unwrap(), "11010519491231002X");
    }

    #[test]
    fn the_same_value_seals_differently_each_time_but_hashes_the_same() {
        let key = DataKey::generate();
        assert_ne!(key.seal("E12345678"), key.seal("E12345678"));
        assert_eq!(key.lookup_hash("E12345678"), key.lookup_hash("E12345678"));
    }

    #[test]
    fn another_key_cannot_open_a_value() {
        let sealed = DataKey::generate().seal("良好");
        assert!(DataKey::generate().open(&sealed).is_err());
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("outbound-key-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = DataKey::load_or_create(&dir).unwrap();
        let second = DataKey::load_or_create(&dir).unwrap();
        assert_eq!(second.open(&first.seal("x")).unwrap(), "x");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
