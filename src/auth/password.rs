//! Password hashing with Argon2id (memory-hard), run off the async threads.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// The hasher: Argon2id with 19 MiB and 2 passes (OWASP's first recommended setting).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (salt included).
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("hashing an in-memory password cannot fail")
        .to_string()
}

/// Checks a password against a stored PHC string; a malformed hash never matches.
///
/// The 19 MiB of Argon2 memory comes from a small pool and goes back to it: allocated and
/// freed anew on each sign-in, on threads that take turns, the C allocator kept one such block
/// per thread it had served (40 simultaneous sign-ins left the server at 380 MB).
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut memory = take_blocks(params.block_count());
    let computed = Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    });
    give_back_blocks(memory);
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|c| c == expected)
}

/// Argon2 memory blocks kept between computations (at most one per hashing permit).
static BLOCKS: std::sync::Mutex<Vec<Vec<Block>>> = std::sync::Mutex::new(Vec::new());

/// A pooled block set of `count` blocks, or a new one.
fn take_blocks(count: usize) -> Vec<Block> {
    let pooled = BLOCKS.lock().ok().and_then(|mut pool| {
        pool.iter()
            .position(|b| b.len() == count)
            .map(|i| pool.swap_remove(i))
    });
    pooled.unwrap_or_else(|| vec![Block::default(); count])
}

/// Keeps `blocks` for the next computation when they are of the current parameters' size
/// (hashes of older parameters are rare and not worth holding memory for).
fn give_back_blocks(blocks: Vec<Block>) {
    if blocks.len() == hasher().params().block_count()
        && let Ok(mut pool) = BLOCKS.lock()
        && pool.len() < *HASHING_PERMITS
    {
        pool.push(blocks);
    }
}

/// At most one Argon2 computation per core at a time. Each takes 19 MiB: 200 students
/// signing in at once would otherwise ask for 3.8 GB, and they cannot finish sooner than the
/// cores allow anyway. The others wait their turn without holding memory.
static HASHING_PERMITS: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
});
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(*HASHING_PERMITS));

/// Runs `work` on the blocking pool once a hashing permit is free.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _permit = HASHING.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// [`hash`] on the blocking pool.
pub async fn hash_async(password: String) -> String {
    hashing(move || hash(&password))
        .await
        .expect("the hashing semaphore is never closed and hashing does not panic")
}

/// [`verify`] on the blocking pool.
pub async fn verify_async(password: String, phc: String) -> bool {
    hashing(move || verify(&password, &phc))
        .await
        .unwrap_or(false)
}

/// A hash that never verifies, checked against when an account does not exist, so that an
/// unknown user name takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash("outbound-dummy-password"));
    &DUMMY
}

/// The rules a new password must meet; returns a catalogue key when it does not.
pub fn check_new_password(new: &str, username: &str, old: &str) -> Result<(), &'static str> {
    let len = new.chars().count();
    if len < 8 {
        return Err("err.password.too_short");
    }
    if len > 128 {
        return Err("err.password.too_long");
    }
    if new == username || new == old {
        return Err("err.password.same_as_old");
    }
    let classes = [
        new.chars().any(|c| c.is_ascii_lowercase()),
        new.chars().any(|c| c.is_ascii_uppercase()),
        new.chars().any(|c| c.is_ascii_digit()),
        new.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|&&c| c).count() < 2 {
        return Err("err.password.too_simple");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let h = hash("Secret#2026");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Secret#2026", &h));
        assert!(!verify("secret#2026", &h));
        assert!(!verify("Secret#2026", "not a hash"));
    }

    #[test]
    fn hashes_of_other_parameters_and_versions_verify_through_the_memory_pool() {
        let salt = SaltString::generate(&mut OsRng);
        for (m, t, version) in [
            (8, 1, Version::V0x10),
            (64, 3, Version::V0x13),
            (19 * 1024, 2, Version::V0x13),
        ] {
            let params = Params::new(m, t, 1, None).unwrap();
            let phc = Argon2::new(Algorithm::Argon2id, version, params)
                .hash_password(b"Secret#2026", &salt)
                .unwrap()
                .to_string();
            for _ in 0..3 {
                assert!(verify("Secret#2026", &phc), "{phc}");
                assert!(!verify("Secret#2025", &phc), "{phc}");
            }
            // A cut-off hash or salt never matches.
            assert!(!verify("Secret#2026", &phc[..phc.len() - 4]));
        }
        assert!(BLOCKS.lock().unwrap().len() <= *HASHING_PERMITS);
    }

    #[test]
    fn a_new_password_must_be_long_varied_and_new() {
        assert_eq!(
            check_new_password("short1", "2023001", "x"),
            Err("err.password.too_short")
        );
        assert_eq!(
            check_new_password("abcdefghij", "2023001", "x"),
            Err("err.password.too_simple")
        );
        assert_eq!(
            check_new_password("20230011A", "20230011A", "x"),
            Err("err.password.same_as_old")
        );
        assert_eq!(check_new_password("Good-pass-1", "2023001", "x"), Ok(()));
    }
}
