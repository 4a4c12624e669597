//! The key format of docs/src/key-format.md: minting, parsing, checksum, masking and hashing.
//! Pure functions, no I/O.

use std::fmt;

use rand::{CryptoRng, Rng};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The base62 alphabet, in the order the checksum encoding relies on.
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const DEFAULT_PREFIX: &str = "ks";
pub const ID_LEN: usize = 12;
pub const SECRET_LEN: usize = 32;
pub const CHECK_LEN: usize = 6;
pub const MAX_PREFIX_LEN: usize = 16;
/// What stands for the secret in the masked form of a key.
pub const MASK: &str = "********";

/// SHA-256 of the full key string: all the store ever keeps of a key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    pub fn of(full_key: &str) -> Self {
        KeyHash(Sha256::digest(full_key.as_bytes()).into())
    }

    /// Constant-time, so a timing side channel cannot reveal how much of a digest matched.
    pub fn matches(&self, other: &KeyHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(..)")
    }
}

/// A full key. Zeroized on drop; no `Display`, a redacted `Debug`, no `Serialize`,
/// so it reaches output only through an explicit `expose()`.
pub struct SecretKey(Zeroizing<String>);

impl SecretKey {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

/// A freshly minted key: the secret to show once, and its public parts.
#[derive(Debug)]
pub struct MintedKey {
    pub secret: SecretKey,
    pub id: String,
    pub prefix: String,
    pub hash: KeyHash,
}

/// The public parts of a well-formed key string (shape and checksum correct).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKey {
    pub prefix: String,
    pub id: String,
    pub hash: KeyHash,
}

impl ParsedKey {
    pub fn masked(&self) -> String {
        masked(&self.prefix, &self.id)
    }
}

/// `<prefix>_<id>_********`: the only form of a key shown after creation.
pub fn masked(prefix: &str, id: &str) -> String {
    format!("{prefix}_{id}_{MASK}")
}

pub fn is_valid_prefix(prefix: &str) -> bool {
    let bytes = prefix.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_PREFIX_LEN
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether `s` has the shape of a key id (not whether one exists).
pub fn is_id_shaped(s: &str) -> bool {
    s.len() == ID_LEN && is_base62(s)
}

/// CRC32 (IEEE) of `body`, in base62, left-padded with `0` to six characters.
pub fn checksum(body: &str) -> [u8; CHECK_LEN] {
    let mut value = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out
}

/// Fills `out` with random base62 characters, each equally likely: random
/// bytes below 248 (4 x 62) taken modulo 62, the others drawn again. A byte
/// at a time instead of one `random_range` call per character: bulk
/// creation draws 44 characters a key, twice.
fn fill_base62<R: Rng + ?Sized>(rng: &mut R, out: &mut [u8]) {
    let mut pool = Zeroizing::new([0u8; SECRET_LEN]);
    let mut filled = 0;
    while filled < out.len() {
        let want = (out.len() - filled).min(pool.len());
        rng.fill_bytes(&mut pool[..want]);
        for &byte in pool[..want].iter().filter(|&&b| b < 248) {
            out[filled] = BASE62[usize::from(byte % 62)];
            filled += 1;
        }
    }
}

pub fn random_id() -> String {
    // ThreadRng is a CSPRNG (ChaCha, reseeded from the OS).
    let mut id = [0u8; ID_LEN];
    fill_base62(&mut rand::rng(), &mut id);
    id.iter().map(|&b| b as char).collect()
}

/// The secret part of a key, zeroized on drop.
pub type SecretChars = Zeroizing<[u8; SECRET_LEN]>;

/// Draws a secret from `rng`, which must be a CSPRNG. Bulk creation passes a
/// seeded one so that it can draw the same secrets again after its commit.
pub fn random_secret<R: CryptoRng + ?Sized>(rng: &mut R) -> SecretChars {
    let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
    fill_base62(rng, &mut secret[..]);
    secret
}

/// The secret drawn for `id` from `seed`, a secret random seed: the same
/// seed and id always give the same secret, and without the seed nothing
/// about it can be told. Bulk creation shows keys only after its commit
/// without holding them all: it draws each again, by its id, for the rows
/// it reads back (in whatever order the store returns them).
pub fn derived_secret(seed: &[u8; 32], id: &str) -> SecretChars {
    use rand::SeedableRng;
    let mut material = Sha256::new();
    material.update(seed);
    material.update(id.as_bytes());
    let derived = Zeroizing::new(<[u8; 32]>::from(material.finalize()));
    random_secret(&mut rand::rngs::StdRng::from_seed(*derived))
}

/// Mints a key with a fresh random id and secret. `prefix` must be valid.
pub fn mint(prefix: &str) -> MintedKey {
    mint_with_id(prefix, random_id())
}

/// Mints a key for a chosen id (the caller retries with a new id on a collision).
pub fn mint_with_id(prefix: &str, id: String) -> MintedKey {
    assemble(prefix, id, &random_secret(&mut rand::rng()))
}

/// Puts a key together from its parts and computes its checksum and hash.
pub fn assemble(prefix: &str, id: String, secret: &[u8; SECRET_LEN]) -> MintedKey {
    debug_assert!(is_valid_prefix(prefix) && is_id_shaped(&id));
    let mut full = Zeroizing::new(String::with_capacity(
        prefix.len() + 2 + ID_LEN + SECRET_LEN + CHECK_LEN,
    ));
    full.push_str(prefix);
    full.push('_');
    full.push_str(&id);
    full.push('_');
    full.extend(secret.iter().map(|&b| b as char));
    let check = checksum(&full);
    full.extend(check.iter().map(|&b| b as char));
    let hash = KeyHash::of(&full);
    MintedKey {
        secret: SecretKey(full),
        id,
        prefix: prefix.to_owned(),
        hash,
    }
}

/// Splits a key-shaped string into prefix, id and the 38-character tail, checking
/// only the shape. Shared by `parse` and by the masking of untrusted input.
fn split_shape(s: &str) -> Option<(&str, &str, &str)> {
    let (prefix, rest) = s.split_once('_')?;
    if !is_valid_prefix(prefix) || rest.len() != ID_LEN + 1 + SECRET_LEN + CHECK_LEN {
        return None;
    }
    let (id, rest) = rest.split_at_checked(ID_LEN)?;
    let tail = rest.strip_prefix('_')?;
    (is_base62(id) && is_base62(tail)).then_some((prefix, id, tail))
}

/// The id in a masked key as listings show it (`ks_<id>_********`), or in
/// `ks_<id>` (docs/src/conventions.md): the prefix and the id, with or without the mask.
pub fn masked_id(s: &str) -> Option<&str> {
    let (prefix, rest) = s.split_once('_')?;
    let id = rest.strip_suffix("_********").unwrap_or(rest);
    (is_valid_prefix(prefix) && is_id_shaped(id)).then_some(id)
}

/// Why `s` is MALFORMED, in words for a person: nothing of `s` itself, which
/// may be most of a real key.
pub fn what_is_wrong(s: &str) -> &'static str {
    let full = ID_LEN + 1 + SECRET_LEN + CHECK_LEN;
    let Some((prefix, rest)) = s.split_once('_') else {
        return if s.is_empty() {
            "no key was given (an empty line)"
        } else {
            "this is not a keysmith key: one looks like ks_<id>_<secret>"
        };
    };
    if !is_valid_prefix(prefix) {
        return "the prefix before the first '_' is not a keysmith prefix (lowercase letters and digits)";
    }
    if rest.len() < full {
        return "the key is too short: it was cut off when copied (truncated)";
    }
    if rest.len() > full {
        return "the key is too long: something was copied with it";
    }
    match split_shape(s) {
        None => "the key holds a character a keysmith key never has, or a misplaced '_'",
        Some(_) => "the checksum does not match: the key was mistyped or changed",
    }
}

/// Parses a full key: `None` when its shape or checksum is wrong (MALFORMED).
pub fn parse(s: &str) -> Option<ParsedKey> {
    let (prefix, id, tail) = split_shape(s)?;
    let body_len = s.len() - CHECK_LEN;
    if checksum(&s[..body_len]) != tail.as_bytes()[SECRET_LEN..] {
        return None;
    }
    Some(ParsedKey {
        prefix: prefix.to_owned(),
        id: id.to_owned(),
        hash: KeyHash::of(s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_wrong_with_a_malformed_key_says_why_without_it() {
        let key = mint("ks").secret.expose().to_owned();
        assert!(what_is_wrong("").contains("empty"));
        assert!(what_is_wrong("hello").contains("not a keysmith key"));
        assert!(what_is_wrong(&key[..key.len() - 3]).contains("truncated"));
        assert!(what_is_wrong(&format!("{key}x")).contains("too long"));
        assert!(what_is_wrong(&format!("KS{}", &key[2..])).contains("prefix"));
        let mut typo = key.clone().into_bytes();
        let at = typo.len() - 10;
        typo[at] = if typo[at] == b'a' { b'b' } else { b'a' };
        assert!(what_is_wrong(std::str::from_utf8(&typo).unwrap()).contains("checksum"));
        let bad = format!("{}-{}", &key[..20], &key[21..]);
        assert!(what_is_wrong(&bad).contains("character"));
    }

    #[test]
    fn a_masked_key_or_prefix_and_id_names_the_id() {
        assert_eq!(masked_id("ks_4fQ8xW2mLp0Z_********"), Some("4fQ8xW2mLp0Z"));
        assert_eq!(masked_id("ks_4fQ8xW2mLp0Z"), Some("4fQ8xW2mLp0Z"));
        assert_eq!(
            masked_id("acme_4fQ8xW2mLp0Z_********"),
            Some("4fQ8xW2mLp0Z")
        );
        for not in [
            "4fQ8xW2mLp0Z",
            "ks_4fQ8xW2mLp0",
            "ks_4fQ8xW2mLp0Z_***",
            "KS_4fQ8xW2mLp0Z",
            "ks_4fQ8xW2mLp0Z_",
        ] {
            assert_eq!(masked_id(not), None, "{not}");
        }
    }
    use proptest::prelude::*;

    const DOCS_EXAMPLE: &str = "ks_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6";

    #[test]
    fn spec_example_is_valid() {
        let body = &DOCS_EXAMPLE[..DOCS_EXAMPLE.len() - CHECK_LEN];
        assert_eq!(crc32fast::hash(body.as_bytes()), 0xa485fc3c);
        assert_eq!(&checksum(body), b"30nhd6");
        let parsed = parse(DOCS_EXAMPLE).expect("spec example parses");
        assert_eq!(parsed.prefix, "ks");
        assert_eq!(parsed.id, "4fQ8xW2mLp0Z");
        assert_eq!(parsed.masked(), "ks_4fQ8xW2mLp0Z_********");
    }

    #[test]
    fn rejects_bad_shapes() {
        for bad in [
            "",
            "ks",
            "ks_",
            "KS_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6",
            "ks-4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6",
            &DOCS_EXAMPLE[..DOCS_EXAMPLE.len() - 1],
            &format!("{DOCS_EXAMPLE}0"),
            &format!(" {DOCS_EXAMPLE}"),
            "ks_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhé",
        ] {
            assert!(parse(bad).is_none(), "{bad:?} parsed");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let minted = mint("ks");
        let shown = format!("{minted:?}");
        assert!(!shown.contains(&minted.secret.expose()[16..]));
    }

    #[test]
    fn base62_characters_are_equally_likely() {
        let mut rng = rand::rng();
        let mut counts = [0u32; 62];
        let mut chars = [0u8; 62 * 1000];
        fill_base62(&mut rng, &mut chars);
        for c in chars {
            counts[BASE62.iter().position(|&b| b == c).expect("base62")] += 1;
        }
        // 1000 expected each, with a standard deviation of about 31: a
        // count more than 6 of those away is a bias, not bad luck.
        for (i, count) in counts.iter().enumerate() {
            assert!(
                (810..=1190).contains(count),
                "{} drawn {count} times",
                BASE62[i] as char
            );
        }
    }

    fn prefix_strategy() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9]{0,15}"
    }

    proptest! {
        #[test]
        fn minted_keys_round_trip(prefix in prefix_strategy()) {
            let minted = mint(&prefix);
            let parsed = parse(minted.secret.expose()).expect("a minted key parses");
            prop_assert_eq!(&parsed.prefix, &prefix);
            prop_assert_eq!(&parsed.id, &minted.id);
            prop_assert!(parsed.hash.matches(&minted.hash));
        }

        #[test]
        fn any_substitution_fails(prefix in prefix_strategy(), pos in any::<prop::sample::Index>(), pick in 0usize..62) {
            let minted = mint(&prefix);
            let key = minted.secret.expose();
            let i = pos.index(key.len());
            let mut bytes = key.as_bytes().to_vec();
            let replacement = if bytes[i] == b'_' { b'A' } else { BASE62[pick] };
            prop_assume!(replacement != bytes[i]);
            bytes[i] = replacement;
            prop_assert!(parse(std::str::from_utf8(&bytes).unwrap()).is_none());
        }

        #[test]
        fn any_transposition_fails(prefix in prefix_strategy(), pos in any::<prop::sample::Index>()) {
            let minted = mint(&prefix);
            let key = minted.secret.expose();
            let i = pos.index(key.len() - 1);
            let mut bytes = key.as_bytes().to_vec();
            prop_assume!(bytes[i] != bytes[i + 1]);
            bytes.swap(i, i + 1);
            prop_assert!(parse(std::str::from_utf8(&bytes).unwrap()).is_none());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s);
        }
    }
}
