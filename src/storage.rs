//! Attachment bytes. Files are stored under generated keys, never the user's file name.
//!
//! A put writes a temporary file, fsyncs it, renames it into place and fsyncs the folder, so
//! that once [`Storage::put`] returns the bytes survive a crash; the caller then commits the
//! database row, and removes the file again if that commit fails ([`Storage::delete`]). Local
//! disk is the only backend today; the enum leaves room for an S3 one.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no stored file under that key")]
    NotFound,
    #[error("malformed storage key")]
    BadKey,
}

/// What a put returns: the key to store in the row, plus the content's size and hash.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

/// Where attachment bytes live.
#[derive(Debug, Clone)]
pub enum Storage {
    Local { root: PathBuf },
}

impl Storage {
    /// Local-disk storage under `root` (created when missing).
    pub fn local(root: impl Into<PathBuf>) -> Result<Storage, StorageError> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp")).map_err(|source| StorageError::Io {
            path: root.display().to_string(),
            source,
        })?;
        Ok(Storage::Local { root })
    }

    fn path_of(root: &Path, key: &str) -> Result<PathBuf, StorageError> {
        // Keys are ours (32 hex digits); anything else never reaches the file system.
        if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StorageError::BadKey);
        }
        Ok(root.join(&key[..2]).join(key))
    }

    /// Stores the bytes durably under a new key.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<StoredFile, StorageError> {
        let Storage::Local { root } = self;
        let root = root.clone();
        tokio::task::spawn_blocking(move || {
            let mut raw = [0u8; 16];
            rand::thread_rng().fill_bytes(&mut raw);
            let key = hex::encode(raw);
            let path = Self::path_of(&root, &key)?;
            let dir = path.parent().unwrap_or(&root).to_path_buf();
            let io = |p: &Path| {
                let p = p.display().to_string();
                move |source| StorageError::Io { path: p, source }
            };
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let tmp = root.join("tmp").join(&key);
            let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
            file.write_all(&bytes).map_err(io(&tmp))?;
            file.sync_all().map_err(io(&tmp))?;
            drop(file);
            std::fs::rename(&tmp, &path).map_err(io(&path))?;
            std::fs::File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(io(&dir))?;
            Ok(StoredFile {
                key,
                size: bytes.len() as u64,
                sha256: hex::encode(Sha256::digest(&bytes)),
            })
        })
        .await
        .map_err(|e| StorageError::Io {
            path: "put".into(),
            source: std::io::Error::other(e),
        })?
    }

    /// Reads a stored file.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let Storage::Local { root } = self;
        let path = Self::path_of(root, key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StorageError::NotFound),
            Err(source) => Err(StorageError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Removes a stored file; a missing file is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let Storage::Local { root } = self;
        let path = Self::path_of(root, key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StorageError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Every key currently stored (orphan checks, backup verification).
    pub fn keys(&self) -> Result<Vec<String>, StorageError> {
        let Storage::Local { root } = self;
        let mut keys = Vec::new();
        let io = |source| StorageError::Io {
            path: root.display().to_string(),
            source,
        };
        for shard in std::fs::read_dir(root).map_err(io)? {
            let shard = shard.map_err(io)?;
            if shard.file_name() == "tmp" || !shard.path().is_dir() {
                continue;
            }
            for file in std::fs::read_dir(shard.path()).map_err(io)? {
                keys.push(file.map_err(io)?.file_name().to_string_lossy().into_owned());
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Removes temporary files left by a crash in the middle of a put.
    pub fn clean_temporaries(&self) -> Result<usize, StorageError> {
        let Storage::Local { root } = self;
        let tmp = root.join("tmp");
        let io = |source| StorageError::Io {
            path: tmp.display().to_string(),
            source,
        };
        let mut removed = 0;
        for entry in std::fs::read_dir(&tmp).map_err(io)? {
            std::fs::remove_file(entry.map_err(io)?.path()).map_err(io)?;
            removed += 1;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root() -> PathBuf {
        std::env::temp_dir().join(format!("outbound-storage-{}", rand::random::<u64>()))
    }

    #[tokio::test]
    async fn a_put_file_reads_back_byte_identical_and_deletes() {
        let root = temp_root();
        let storage = Storage::local(&root).unwrap();
        let stored = storage.put("张三护照".as_bytes().to_vec()).await.unwrap();
        assert_eq!(
            storage.get(&stored.key).await.unwrap(),
            "张三护照".as_bytes()
        );
        assert_eq!(storage.keys().unwrap(), vec![stored.key.clone()]);
        storage.delete(&stored.key).await.unwrap();
        assert!(matches!(
            storage.get(&stored.key).await,
            Err(StorageError::NotFound)
        ));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn a_key_that_is_not_ours_never_reaches_the_file_system() {
        let root = temp_root();
        let storage = Storage::local(&root).unwrap();
        assert!(matches!(
            storage.get("../../etc/passwd").await,
            Err(StorageError::BadKey)
        ));
        std::fs::remove_dir_all(root).unwrap();
    }
}
